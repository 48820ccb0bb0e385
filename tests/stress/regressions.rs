//! Regression tests for bugs the stress tests found, each named after its failure and
//! small enough to run in every `cargo test`.

use crate::stress;

use std::sync::Arc;
use std::time::Duration;

use magpie::sync::{Mutex, Semaphore};
use stress::{run_case, Count, Liveness};

/// Found by `dropped_runtimes_leave_nothing_behind` at full scale in a debug build: a
/// runtime dropped while thousands of tasks wait on one semaphore overflowed a worker's
/// stack. Dropping the holder's future hands its permit to the first waiter and wakes it;
/// the wake found the runtime closed and dropped that waiter's future on the spot, which
/// handed the permit to the next waiter, and so on: one nested drop per waiter. The same
/// chain forms through a mutex's waiters. Small thread stacks make it fail fast.
#[test]
fn regression_runtime_drop_overflows_stack_on_chained_waiters() {
    let waiters = 20_000;
    run_case("chained waiters on drop", 120, move || {
        for flavor in ["multi_thread", "current_thread"] {
            let rt = match flavor {
                "multi_thread" => magpie::Builder::new_multi_thread()
                    .worker_threads(2)
                    .thread_stack_size(256 * 1024)
                    .build()
                    .unwrap(),
                _ => magpie::Builder::new_current_thread().build().unwrap(),
            };
            let live = Liveness::new();
            let sem = Arc::new(Semaphore::new(1));
            let lock = Arc::new(Mutex::new(()));
            let queued = Count::default();
            rt.block_on({
                let (live, sem, lock, queued) =
                    (live.clone(), sem.clone(), lock.clone(), queued.clone());
                async move {
                    let permit = sem.clone().acquire_owned().await.unwrap();
                    let guard = lock.clone().lock_owned().await;
                    let g = live.guard();
                    magpie::spawn(async move {
                        let _hold = (g, permit, guard);
                        std::future::pending::<()>().await;
                    });
                    for i in 0..waiters {
                        let (g, sem, lock) = (live.guard(), sem.clone(), lock.clone());
                        let queued = queued.clone();
                        magpie::spawn(async move {
                            let _g = g;
                            // Counted in the poll that queues it on the semaphore or lock.
                            queued.inc();
                            if i % 2 == 0 {
                                let _p = sem.acquire().await;
                            } else {
                                let _l = lock.lock().await;
                            }
                            std::future::pending::<()>().await;
                        });
                    }
                    while queued.get() < waiters {
                        magpie::time::sleep(Duration::from_millis(1)).await;
                    }
                }
            });
            // The current-thread flavour drops its tasks on this thread: run it on one
            // with a small stack too.
            std::thread::Builder::new()
                .stack_size(256 * 1024)
                .spawn(move || drop(rt))
                .unwrap()
                .join()
                .unwrap();
            assert_eq!(live.alive(), 0, "{flavor}: futures left undropped");
            assert_eq!(sem.available_permits(), 1, "{flavor}");
        }
    });
}

/// Found by `combinators_parallel`'s rendezvous test in CI: a task spawned from outside
/// the runtime beside one that holds its worker (spinning until the other has run) never
/// ran. Two holes in the park protocol could strand it on the spinning task's worker
/// queue, behind that task: an injector batch taken by a worker that was not searching
/// was announced to nobody, and a worker parking while not searching re-checked the
/// queues only if it had been the last searcher. Both need a narrow window (the loom
/// model `loom_injector_batch_taken_by_a_running_worker_is_announced` reproduces them
/// every time); this is the same scenario on real threads, many rounds over, with the
/// workers idle between rounds so that each spawn wakes them from parking.
#[test]
fn regression_injector_batch_strands_tasks_behind_a_spinning_task() {
    use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
    use std::time::Instant;
    let rounds = 2_000;
    let rt = magpie::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    for round in 0..rounds {
        let second_ran = Arc::new(AtomicBool::new(false));
        let gave_up = Arc::new(AtomicBool::new(false));
        let first = {
            let (second_ran, gave_up) = (second_ran.clone(), gave_up.clone());
            rt.spawn(async move {
                let give_up = Instant::now() + Duration::from_secs(10);
                while !second_ran.load(SeqCst) {
                    if Instant::now() > give_up {
                        gave_up.store(true, SeqCst);
                        return;
                    }
                    std::hint::spin_loop();
                }
            })
        };
        let second = {
            let second_ran = second_ran.clone();
            rt.spawn(async move { second_ran.store(true, SeqCst) })
        };
        let third = rt.spawn(async {});
        for h in [first, second, third] {
            rt.block_on(h).unwrap();
        }
        assert!(
            !gave_up.load(SeqCst),
            "round {round}: a task spawned beside a spinning one never ran"
        );
        // Let both workers go back to sleep before the next tasks are spawned.
        std::thread::sleep(Duration::from_micros(200));
    }
}
