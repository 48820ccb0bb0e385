//! Fairness: `yield_now` goes to the back of the queue, and the cooperative budget forces
//! an always-ready task to yield.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

fn one_worker_runtimes() -> Vec<(&'static str, magpie::Runtime)> {
    vec![
        (
            "multi_thread(1)",
            magpie::Builder::new_multi_thread()
                .worker_threads(1)
                .build()
                .unwrap(),
        ),
        (
            "current_thread",
            magpie::Builder::new_current_thread().build().unwrap(),
        ),
    ]
}

#[test]
fn a_yield_loop_does_not_starve_100_tasks_on_one_worker() {
    for (name, rt) in one_worker_runtimes() {
        let stop = Arc::new(AtomicBool::new(false));
        let spins = Arc::new(AtomicUsize::new(0));
        let spins_when_done = rt.block_on({
            let stop = stop.clone();
            let spins = spins.clone();
            // Everything is spawned from a task, so it all sits on the one worker's queue.
            let root = async move {
                let hog = magpie::spawn({
                    let stop = stop.clone();
                    let spins = spins.clone();
                    async move {
                        while !stop.load(Ordering::SeqCst) {
                            spins.fetch_add(1, Ordering::SeqCst);
                            magpie::yield_now().await;
                        }
                    }
                });
                let others: Vec<_> = (0..100)
                    .map(|i| {
                        magpie::spawn(async move {
                            for _ in 0..3 {
                                magpie::yield_now().await;
                            }
                            i
                        })
                    })
                    .collect();
                let mut sum = 0;
                for h in others {
                    sum += h.await.unwrap();
                }
                let spins_when_done = spins.load(Ordering::SeqCst);
                stop.store(true, Ordering::SeqCst);
                hog.await.unwrap();
                assert_eq!(sum, 4950);
                spins_when_done
            };
            async move { magpie::spawn(root).await.unwrap() }
        });
        // Each of the 100 tasks yields 3 times; FIFO yields let the hog in about once per
        // round of the others, so it spins a handful of times, not thousands.
        assert!(
            spins_when_done < 100,
            "{name}: the hog ran {spins_when_done} times before the others finished"
        );
    }
}

#[test]
fn budget_forces_an_always_ready_task_to_yield() {
    for (name, rt) in one_worker_runtimes() {
        let flag = Arc::new(AtomicBool::new(false));
        let iterations = rt.block_on({
            let flag = flag.clone();
            async move {
                // This task never waits on anything that is not ready: only the budget can
                // make it give the worker back so the setter below gets to run.
                let spinner = magpie::spawn({
                    let flag = flag.clone();
                    async move {
                        let mut n = 0u64;
                        while !flag.load(Ordering::SeqCst) {
                            magpie::task::consume_budget().await;
                            n += 1;
                        }
                        n
                    }
                });
                let setter = magpie::spawn(async move { flag.store(true, Ordering::SeqCst) });
                setter.await.unwrap();
                spinner.await.unwrap()
            }
        });
        assert!(iterations >= 1, "{name}");
        let forced = rt.handle().metrics().total().forced_yields;
        assert!(forced >= 1, "{name}: the budget must have forced a yield");
    }
}

#[test]
fn awaiting_ready_handles_spends_budget() {
    // A task awaiting an endless supply of finished handles is always ready: the handle's
    // poll spends budget, so the worker is handed back.
    let rt = magpie::Builder::new_current_thread().build().unwrap();
    let flag = Arc::new(AtomicBool::new(false));
    rt.block_on({
        let flag = flag.clone();
        async move {
            let spinner = magpie::spawn({
                let flag = flag.clone();
                async move {
                    let done = magpie::spawn(async {});
                    let _ = done.await;
                    while !flag.load(Ordering::SeqCst) {
                        let h = magpie::spawn(async {});
                        // Wait until finished without yielding through the scheduler.
                        while !h.is_finished() {
                            magpie::task::consume_budget().await;
                        }
                        h.await.unwrap();
                    }
                }
            });
            magpie::spawn(async move { flag.store(true, Ordering::SeqCst) })
                .await
                .unwrap();
            spinner.await.unwrap();
        }
    });
}

#[test]
fn remote_spawns_are_not_starved_by_long_polls() {
    // One worker busy with tasks whose polls each take 50 µs. With a fixed injector
    // interval of 61 ticks, a remote spawn could wait behind ~60 busy polls; the adaptive
    // interval (about 200 µs of polling between looks at the injector) takes it within a
    // handful, once the worker has measured its poll times.
    let rt = magpie::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let polls = Arc::new(AtomicUsize::new(0));
    let busy: Vec<_> = (0..2)
        .map(|_| {
            let (stop, polls) = (stop.clone(), polls.clone());
            rt.spawn(async move {
                while !stop.load(Ordering::SeqCst) {
                    let t = std::time::Instant::now();
                    while t.elapsed() < std::time::Duration::from_micros(50) {
                        std::hint::spin_loop();
                    }
                    polls.fetch_add(1, Ordering::SeqCst);
                    magpie::yield_now().await;
                }
            })
        })
        .collect();
    // Let the worker measure a few batches of busy polls.
    while polls.load(Ordering::SeqCst) < 400 {
        std::thread::yield_now();
    }
    let mut worst = 0;
    for _ in 0..20 {
        let at_spawn = polls.load(Ordering::SeqCst);
        let p = polls.clone();
        let h = rt.spawn(async move { p.load(Ordering::SeqCst) });
        let at_run = rt.block_on(h).unwrap();
        worst = worst.max(at_run - at_spawn);
    }
    stop.store(true, Ordering::SeqCst);
    for h in busy {
        rt.block_on(h).unwrap();
    }
    assert!(
        worst < 30,
        "a remote spawn waited behind {worst} busy polls (a fixed interval allows ~60)"
    );
}

/// Spins for `d` of wall time (a poll that does real work).
fn spin_for(d: std::time::Duration) {
    let start = std::time::Instant::now();
    while start.elapsed() < d {
        std::hint::spin_loop();
    }
}

/// Runs `work` on `rt` beside a 1 ms ticker and returns the most units of work `work`
/// finished between two ticks, counted through `done`.
fn most_work_between_ticks(
    rt: &magpie::Runtime,
    work: impl std::future::Future<Output = ()> + 'static,
    done: Arc<AtomicUsize>,
) -> usize {
    rt.block_on(async move {
        let finished = Arc::new(AtomicBool::new(false));
        let ticker = magpie::spawn({
            let done = done.clone();
            let finished = finished.clone();
            async move {
                let mut most = 0;
                let mut last = done.load(Ordering::SeqCst);
                while !finished.load(Ordering::SeqCst) {
                    magpie::time::sleep(std::time::Duration::from_millis(1)).await;
                    let now = done.load(Ordering::SeqCst);
                    most = most.max(now - last);
                    last = now;
                }
                most
            }
        });
        magpie::yield_now().await; // the ticker's first sleep is armed
        work.await;
        finished.store(true, Ordering::SeqCst);
        ticker.await.unwrap()
    })
}

/// Regression: the current-thread loop counted its `event_interval` afresh after every
/// poll of the main future, so a main future woken more often (awaiting 2,000 queued tasks
/// one by one) kept the driver, and with it every timer, waiting until the whole queue had
/// run; and a fired timer's task then queued behind the rest of the backlog (rule CT-2).
/// Counted in tasks, not in time: each task runs 20 µs, so the 1 ms timer is due every ~50
/// tasks; before the fix the ticker saw all 2,000 finish between two of its ticks.
#[test]
fn a_main_future_awaiting_many_tasks_does_not_hold_timers_behind_the_queue() {
    const TASKS: usize = 2_000;
    let done = Arc::new(AtomicUsize::new(0));
    let rt = magpie::Builder::new_current_thread().build().unwrap();
    let most = most_work_between_ticks(
        &rt,
        {
            let done = done.clone();
            async move {
                let tasks: Vec<_> = (0..TASKS)
                    .map(|_| {
                        let done = done.clone();
                        magpie::spawn(async move {
                            spin_for(std::time::Duration::from_micros(20));
                            done.fetch_add(1, Ordering::SeqCst);
                        })
                    })
                    .collect();
                for t in tasks {
                    t.await.unwrap();
                }
            }
        },
        done.clone(),
    );
    assert_eq!(done.load(Ordering::SeqCst), TASKS);
    assert!(
        most <= 400,
        "{most} of {TASKS} tasks ran between two ticks of a 1 ms timer"
    );
}

/// Regression: a task that used up its budget on every poll (an accept loop with a full
/// backlog) went back to the queue and was polled again at once; the driver was looked at
/// only every `event_interval` such polls, so timers waited for 61 × 128 units of work.
/// The same on a one-worker multi-thread runtime (no other worker to run the timer).
#[test]
fn a_budget_exhausting_task_does_not_hold_timers_for_many_budgets() {
    const UNITS: usize = 40_000;
    for (name, rt) in one_worker_runtimes() {
        let done = Arc::new(AtomicUsize::new(0));
        let most = most_work_between_ticks(
            &rt,
            {
                let done = done.clone();
                async move {
                    magpie::spawn(async move {
                        for _ in 0..UNITS {
                            magpie::task::consume_budget().await;
                            spin_for(std::time::Duration::from_micros(2));
                            done.fetch_add(1, Ordering::SeqCst);
                        }
                    })
                    .await
                    .unwrap();
                }
            },
            done.clone(),
        );
        assert!(
            // A tick is 1-2 ms of timer resolution, 4-8 budgets of this work; the driver used to
            // wait for 61 budgets (7,808 units).
            most <= 3_000,
            "{name}: {most} of {UNITS} units of work ran between two ticks of a 1 ms timer"
        );
    }
}
