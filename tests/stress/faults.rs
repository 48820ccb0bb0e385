//! Faults under load: a tenth of the tasks panic at a random step, another tenth are
//! aborted at random moments by other tasks or by plain std threads. The runtime must
//! finish, every other task's result must be right, and each panic and each cancellation
//! must be counted exactly once, both through `JoinError::{is_panic, is_cancelled}` and
//! through a guard inside each future that sees how it ended; the two tallies must agree.
//! 500,000 tasks at full scale (`MAGPIE_STRESS_SCALE=1`).

use crate::stress;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Once};
use std::time::Instant;

use magpie::{JoinError, JoinHandle};
use stress::{run_case, scaled, Count, Rng};

const PANIC_MSG: &str = "injected panic";

/// Injected panics are expected: keep them off stderr, report any other.
fn quiet_injected_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let injected = info
                .payload()
                .downcast_ref::<String>()
                .is_some_and(|s| s.starts_with(PANIC_MSG));
            if !injected {
                default(info);
            }
        }));
    });
}

fn mix(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Plan {
    Normal,
    PanicAt(u64),
    AbortByTask,
    AbortByThread,
}

/// How the futures ended, as seen from inside them.
#[derive(Clone, Default)]
struct Ends {
    completed: Count,
    panicked: Count,
    cancelled: Count,
}

/// Lives inside a task's future: its drop tells how the future ended.
struct EndGuard {
    ends: Ends,
    completed: bool,
}

impl Drop for EndGuard {
    fn drop(&mut self) {
        if self.completed {
            self.ends.completed.inc();
        } else if std::thread::panicking() {
            self.ends.panicked.inc();
        } else {
            self.ends.cancelled.inc();
        }
    }
}

/// `guard` is made at spawn time, so a task aborted before its first poll is seen too.
async fn work(id: u64, steps: u64, plan: Plan, mut rng: Rng, mut guard: EndGuard) -> u64 {
    for step in 0..steps {
        if plan == Plan::PanicAt(step) {
            panic!("{PANIC_MSG} in task {id} at step {step}");
        }
        match rng.below(20) {
            0 => magpie::time::sleep(rng.micros(1200)).await,
            1..=12 => magpie::yield_now().await,
            _ => std::hint::black_box(()),
        }
    }
    guard.completed = true;
    mix(id)
}

#[derive(Clone, Default)]
struct Tally {
    ok: Count,
    panics: Count,
    cancels: Count,
    panics_planned: Count,
    aborts_planned: Count,
    /// Abort targets that had finished before the abort landed (their result stands).
    aborts_too_late: Count,
    from_threads: Count,
}

fn check(id: u64, plan: Plan, result: Result<u64, JoinError>, tally: &Tally) {
    match result {
        Ok(v) => {
            assert_eq!(v, mix(id), "task {id} returned a wrong result");
            assert!(
                !matches!(plan, Plan::PanicAt(_)),
                "task {id} should have panicked"
            );
            if matches!(plan, Plan::AbortByTask | Plan::AbortByThread) {
                tally.aborts_too_late.inc();
            }
            tally.ok.inc();
        }
        Err(e) if e.is_panic() => {
            assert!(
                matches!(plan, Plan::PanicAt(_)),
                "task {id} ({plan:?}) panicked"
            );
            let msg = e.into_panic().downcast::<String>().unwrap();
            assert!(msg.starts_with(PANIC_MSG), "task {id}: {msg}");
            tally.panics.inc();
        }
        Err(e) => {
            assert!(e.is_cancelled());
            assert!(
                matches!(plan, Plan::AbortByTask | Plan::AbortByThread),
                "task {id} ({plan:?}) was cancelled"
            );
            tally.cancels.inc();
        }
    }
}

/// An abort request for a plain thread: the task, its plan, its handle, a spin count.
type AbortRequest = (u64, Plan, JoinHandle<u64>, u64);

/// Two plain threads that abort the handles sent to them after a short random delay,
/// then hand them back to be awaited.
struct ThreadAborters {
    senders: Vec<mpsc::Sender<AbortRequest>>,
    returned: mpsc::Receiver<(u64, Plan, JoinHandle<u64>)>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl ThreadAborters {
    fn start() -> Self {
        let (back_tx, returned) = mpsc::channel();
        let mut senders = Vec::new();
        let mut threads = Vec::new();
        for _ in 0..2 {
            let (tx, rx) = mpsc::channel::<AbortRequest>();
            let back = back_tx.clone();
            senders.push(tx);
            threads.push(std::thread::spawn(move || {
                for (id, plan, h, spins) in rx {
                    for _ in 0..spins {
                        std::hint::spin_loop();
                    }
                    if spins % 7 == 0 {
                        std::thread::yield_now();
                    }
                    h.abort();
                    back.send((id, plan, h)).unwrap();
                }
            }));
        }
        ThreadAborters {
            senders,
            returned,
            threads,
        }
    }
}

fn run(rt: &magpie::Runtime, first: u64, count: u64, seed: u64, tally: &Tally, ends: &Ends) {
    let aborters = ThreadAborters::start();
    let mut rng = Rng::new(seed);
    let wave = 20_000u64;
    let mut start = first;
    while start < first + count {
        let end = (start + wave).min(first + count);
        let mut sent = 0;
        let by_task = rt.block_on({
            let (tally, ends) = (tally.clone(), ends.clone());
            let mut rng = rng.fork();
            let senders = aborters.senders.clone();
            let sent = &mut sent;
            async move {
                let mut direct = Vec::new();
                let mut aborted_by_task = Vec::new();
                for id in start..end {
                    let steps = 1 + rng.below(8);
                    let plan = match rng.below(100) {
                        0..=9 => {
                            tally.panics_planned.inc();
                            Plan::PanicAt(rng.below(steps))
                        }
                        10..=14 => Plan::AbortByTask,
                        15..=19 => Plan::AbortByThread,
                        _ => Plan::Normal,
                    };
                    let guard = EndGuard {
                        ends: ends.clone(),
                        completed: false,
                    };
                    let h = magpie::spawn(work(id, steps, plan, rng.fork(), guard));
                    match plan {
                        Plan::AbortByTask => {
                            tally.aborts_planned.inc();
                            let delay = rng.below(4);
                            let nap = rng.micros(800);
                            aborted_by_task.push(magpie::spawn(async move {
                                if delay == 3 {
                                    magpie::time::sleep(nap).await;
                                }
                                for _ in 0..delay {
                                    magpie::yield_now().await;
                                }
                                h.abort();
                                (id, plan, h.await)
                            }));
                        }
                        Plan::AbortByThread => {
                            tally.aborts_planned.inc();
                            let spins = rng.below(5_000);
                            senders[(id % 2) as usize]
                                .send((id, plan, h, spins))
                                .unwrap();
                            *sent += 1;
                        }
                        _ => direct.push((id, plan, h)),
                    }
                }
                for (id, plan, h) in direct {
                    check(id, plan, h.await, &tally);
                }
                let mut out = Vec::new();
                for h in aborted_by_task {
                    out.push(h.await.expect("aborter tasks do not fail"));
                }
                out
            }
        });
        for (id, plan, result) in by_task {
            check(id, plan, result, tally);
        }
        for _ in 0..sent {
            let (id, plan, h) = aborters.returned.recv().unwrap();
            tally.from_threads.inc();
            check(id, plan, rt.block_on(h), tally);
        }
        start = end;
    }
    drop(aborters.senders);
    for t in aborters.threads {
        t.join().unwrap();
    }
}

#[test]
fn panics_and_aborts_are_each_counted_once() {
    quiet_injected_panics();
    let seed = stress::seed("panics_and_aborts_are_each_counted_once");
    let total = scaled(500_000, 2_000) as u64;
    let summary = run_case(
        "panics_and_aborts_are_each_counted_once",
        stress::deadline_secs(60),
        move || {
            let started = Instant::now();
            let (tally, ends) = (Tally::default(), Ends::default());
            let single = total / 10;
            let ct = magpie::Builder::new_current_thread().build().unwrap();
            run(&ct, 0, single, seed, &tally, &ends);
            drop(ct);
            let mt = magpie::Builder::new_multi_thread()
                .worker_threads(2)
                .build()
                .unwrap();
            run(&mt, single, total - single, seed ^ 1, &tally, &ends);
            drop(mt);

            let (ok, panics, cancels) = (tally.ok.get(), tally.panics.get(), tally.cancels.get());
            assert_eq!(
                ok + panics + cancels,
                total as usize,
                "every task accounted for"
            );
            assert_eq!(
                panics,
                tally.panics_planned.get(),
                "every injected panic surfaced once"
            );
            assert_eq!(
                cancels + tally.aborts_too_late.get(),
                tally.aborts_planned.get(),
                "every abort either cancelled its task or came after it finished"
            );
            // The futures' own view agrees with the join handles'.
            assert_eq!(
                ends.completed.get(),
                ok,
                "completions seen inside vs. joined"
            );
            assert_eq!(
                ends.panicked.get(),
                panics,
                "panics seen inside vs. JoinError"
            );
            assert_eq!(
                ends.cancelled.get(),
                cancels,
                "cancels seen inside vs. JoinError"
            );
            format!(
                "panics_and_aborts_are_each_counted_once: {total} tasks, {panics} panics \
                 injected and counted, {} aborts ({} from plain threads): {cancels} cancelled, \
                 {} landed after completion; {ok} results correct; in {:.2?}",
                tally.aborts_planned.get(),
                tally.from_threads.get(),
                tally.aborts_too_late.get(),
                started.elapsed()
            )
        },
    );
    println!("{summary}");
}

/// Aborts aimed at tasks that are running right now on the workers (busy loops that yield),
/// from several plain threads at once, while the tasks also panic: the worker threads
/// survive and go on running new tasks.
#[test]
fn aborts_from_threads_while_workers_run_them() {
    quiet_injected_panics();
    let seed = stress::seed("aborts_from_threads_while_workers_run_them");
    let n = scaled(100_000, 500) as u64;
    let summary = run_case(
        "aborts_from_threads_while_workers_run_them",
        stress::deadline_secs(60),
        move || {
            let started = Instant::now();
            let rt = magpie::Builder::new_multi_thread()
                .worker_threads(2)
                .build()
                .unwrap();
            let ends = Ends::default();
            let stop = Arc::new(AtomicBool::new(false));
            let mut rng = Rng::new(seed);
            let results = Arc::new(std::sync::Mutex::new(Vec::new()));
            // In batches, so each abort lands among a bounded number of spinning tasks.
            let batch = 5_000;
            for first in (0..n).step_by(batch) {
                let ids = first..(first + batch as u64).min(n);
                let handles: Vec<_> = ids
                    .clone()
                    .map(|id| {
                        let (ends, stop) = (ends.clone(), stop.clone());
                        let panics = rng.chance(10);
                        let guard = EndGuard {
                            ends,
                            completed: false,
                        };
                        rt.spawn(async move {
                            // A local (not an upvar) of the future: dropped while unwinding.
                            let mut guard = guard;
                            let mut i = 0u64;
                            while !stop.load(Ordering::Relaxed) {
                                i += 1;
                                if panics && i == 1 + id % 5 {
                                    panic!("{PANIC_MSG} in spinning task {id}");
                                }
                                magpie::yield_now().await;
                            }
                            guard.completed = true;
                            id
                        })
                    })
                    .collect();
                // Four threads abort interleaved quarters, in random order, with random
                // pauses, then join what they aborted.
                let handles = Arc::new(std::sync::Mutex::new(
                    handles.into_iter().map(Some).collect::<Vec<_>>(),
                ));
                let mut order: Vec<usize> = (0..ids.count()).collect();
                for i in (1..order.len()).rev() {
                    order.swap(i, rng.below(i as u64 + 1) as usize);
                }
                let order = Arc::new(order);
                let threads: Vec<_> = (0..4)
                    .map(|t| {
                        let (handles, order, results) =
                            (handles.clone(), order.clone(), results.clone());
                        let rt_handle = rt.handle().clone();
                        let mut rng = rng.fork();
                        std::thread::spawn(move || {
                            let mut mine = Vec::new();
                            for &i in order.iter().skip(t).step_by(4) {
                                let h = handles.lock().unwrap()[i].take().unwrap();
                                for _ in 0..rng.below(2_000) {
                                    std::hint::spin_loop();
                                }
                                h.abort();
                                mine.push(h);
                            }
                            for h in mine {
                                let r = rt_handle.block_on(h);
                                results.lock().unwrap().push(r);
                            }
                        })
                    })
                    .collect();
                for t in threads {
                    t.join().unwrap();
                }
            }
            stop.store(true, Ordering::Relaxed);
            // The workers are healthy: fresh work still runs.
            assert_eq!(rt.block_on(rt.spawn(async { 7 })).unwrap(), 7);
            drop(rt);
            let results = std::mem::take(&mut *results.lock().unwrap());
            assert_eq!(results.len(), n as usize);
            let panics = results
                .iter()
                .filter(|r| matches!(r, Err(e) if e.is_panic()))
                .count();
            let cancels = results
                .iter()
                .filter(|r| matches!(r, Err(e) if e.is_cancelled()))
                .count();
            // Nothing completes: `stop` is only set after every abort was joined.
            assert_eq!(panics + cancels, n as usize);
            assert_eq!(ends.panicked.get(), panics);
            assert_eq!(ends.cancelled.get(), cancels);
            assert_eq!(ends.completed.get(), 0);
            format!(
                "aborts_from_threads_while_workers_run_them: {n} spinning tasks aborted from 4 \
                 plain threads: {cancels} cancelled, {panics} panicked first; in {:.2?}",
                started.elapsed()
            )
        },
    );
    println!("{summary}");
}
