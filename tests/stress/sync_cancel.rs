//! Cancellation storms on every sync primitive: 100,000 waiters per primitive at full scale
//! (`MAGPIE_STRESS_SCALE=1`), a quarter waiting plainly, a quarter under a `timeout` of a
//! random tiny duration, a quarter in a `select` against a random sleep, and a quarter
//! aborted at a random moment by another task (before or after their grant, sometimes while
//! holding it). At the end the permits are back to their initial count, every queued item
//! was delivered exactly once or is still in the queue, and no waiter hangs: each
//! primitive's storm runs under its own deadline, and a hang fails the test naming it.
//!
//! Longer than 600 lines on purpose: one storm harness (`storm`, the deadline, the random
//! cancellation) shared by a section per primitive; split per primitive, every file would
//! carry a copy of the harness or reach into a shared one for all but a few lines.
//!
//! The wake-up primitives (Notify, Condition) run a token protocol that exposes a lost
//! grant as a hang: one notification is outstanding at a time and the next is only sent
//! once a waiter consumed it, so a grant swallowed by a cancelled waiter stalls the run.
//!
//! Why this file is over 600 lines: it is one harness (`storm`, `cancellable`, the modes and
//! the report) and one storm per primitive that runs on it; a storm is short, and splitting
//! the file would either scatter the harness or make the storms import it from elsewhere,
//! with nothing gained for the reader who adds the next primitive's storm here.

use crate::stress;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex as StdMutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use magpie::sync::{
    oneshot, Barrier, BoundedSemaphore, Condition, Event, LifoQueue, Mutex, Notify, PriorityQueue,
    Queue, RwLock, Semaphore,
};
use magpie::Either;
use stress::{run_case, scaled, Count, Liveness, Rng};

/// How one waiter may be cancelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Plain,
    Timeout(Duration),
    Select(Duration),
    /// Waits plainly; another task aborts it after a random delay.
    Abort,
}

/// Runs `f` to completion, or gives up as `mode` says (`None`).
async fn cancellable<F: Future>(mode: Mode, f: F) -> Option<F::Output> {
    match mode {
        Mode::Plain | Mode::Abort => Some(f.await),
        Mode::Timeout(d) => magpie::time::timeout(d, f).await.ok(),
        Mode::Select(d) => match magpie::select(f, magpie::time::sleep(d)).await {
            Either::Left(v) => Some(v),
            Either::Right(()) => None,
        },
    }
}

async fn yields(n: u64) {
    for _ in 0..n {
        magpie::yield_now().await;
    }
}

/// What became of a storm's waiters.
#[derive(Debug, Default, Clone, Copy)]
struct Storm {
    waiters: usize,
    /// Got what they waited for.
    granted: usize,
    /// Gave up through their timeout or select.
    gave_up: usize,
    /// Aborted by another task.
    aborted: usize,
    /// Abort targets that had finished when the abort landed.
    abort_late: usize,
}

impl Storm {
    fn cancelled(&self) -> usize {
        self.gave_up + self.aborted
    }
}

/// Plain waiters: how many there are (known once all are spawned) and how many are done.
#[derive(Clone, Default)]
struct Plain {
    total: Count,
    done: Count,
    all_spawned: Arc<AtomicBool>,
}

impl Plain {
    fn all_done(&self) -> bool {
        self.all_spawned.load(Ordering::SeqCst) && self.done.get() == self.total.get()
    }
}

/// Spawns `n` waiters made by `make(index, mode, rng)` (each returns whether it got its
/// grant), aborts a quarter of them from other tasks, and collects the outcomes.
async fn storm<Fut>(
    n: usize,
    rng: &mut Rng,
    plain: &Plain,
    mut make: impl FnMut(usize, Mode, Rng) -> Fut,
) -> Storm
where
    Fut: Future<Output = bool> + Send + 'static,
{
    let mut handles = Vec::with_capacity(n);
    let mut aborters = Vec::new();
    for i in 0..n {
        let mode = match rng.below(4) {
            0 => Mode::Plain,
            1 => Mode::Timeout(rng.micros(400)),
            2 => Mode::Select(rng.micros(400)),
            _ => Mode::Abort,
        };
        let fut = make(i, mode, rng.fork());
        if mode == Mode::Plain {
            plain.total.inc();
            let done = plain.done.clone();
            handles.push((
                mode,
                magpie::spawn(async move {
                    let got = fut.await;
                    done.inc();
                    got
                }),
            ));
        } else if mode == Mode::Abort {
            let h = magpie::spawn(fut);
            let (delay, nap) = (rng.below(6), rng.micros(600));
            aborters.push(magpie::spawn(async move {
                if delay >= 4 {
                    magpie::time::sleep(nap).await;
                }
                yields(delay).await;
                h.abort();
                h.await
            }));
        } else {
            handles.push((mode, magpie::spawn(fut)));
        }
        if i % 128 == 127 {
            magpie::yield_now().await;
        }
    }
    plain.all_spawned.store(true, Ordering::SeqCst);
    let mut s = Storm {
        waiters: n,
        ..Storm::default()
    };
    for (mode, h) in handles {
        match h.await.expect("waiters do not fail") {
            true => s.granted += 1,
            false => {
                assert_ne!(
                    mode,
                    Mode::Plain,
                    "a plain waiter came back without its grant"
                );
                s.gave_up += 1;
            }
        }
    }
    for a in aborters {
        match a.await.expect("aborters do not fail") {
            Ok(true) => {
                s.granted += 1;
                s.abort_late += 1;
            }
            Ok(false) => unreachable!("an abort target waits plainly"),
            Err(e) => {
                assert!(e.is_cancelled());
                s.aborted += 1;
            }
        }
    }
    s
}

/// Sets a flag for as long as it lives: a critical section that is aborted still leaves.
struct Inside<'a>(&'a AtomicUsize);

impl<'a> Inside<'a> {
    fn enter(at: &'a AtomicUsize, max: usize, what: &str) -> Self {
        let now = at.fetch_add(1, Ordering::SeqCst) + 1;
        assert!(now <= max, "{what}: {now} holders at once (max {max})");
        Inside(at)
    }
}

impl Drop for Inside<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The runtime a storm runs on, picked by its seed: mostly two workers (one per core),
/// sometimes more workers than cores (more preemption between the steps of a grant), and
/// sometimes one thread.
fn flavor(seed: u64) -> (&'static str, Option<usize>) {
    match seed % 8 {
        0 => ("current_thread", None),
        1 => ("multi_thread(3)", Some(3)),
        2 => ("multi_thread(4)", Some(4)),
        _ => ("multi_thread(2)", Some(2)),
    }
}

fn runtime(seed: u64) -> magpie::Runtime {
    match flavor(seed).1 {
        Some(n) => magpie::Builder::new_multi_thread()
            .worker_threads(n)
            .build()
            .unwrap(),
        None => magpie::Builder::new_current_thread().build().unwrap(),
    }
}

fn waiters() -> usize {
    scaled(100_000, 400)
}

/// Runs one primitive's storm on its own runtime and thread, under a deadline that names it.
fn case(name: &'static str, body: impl FnOnce(u64, usize) -> String + Send + 'static) {
    let seed = stress::seed(name);
    let n = waiters();
    let line = run_case(name, stress::deadline_secs(90), move || {
        let start = Instant::now();
        let line = body(seed, n);
        format!(
            "{name} on {}: {line}; {:.2?}",
            flavor(seed).0,
            start.elapsed()
        )
    });
    println!("{line}");
}

fn report(s: &Storm, extra: &str) -> String {
    format!(
        "{} waiters: {} granted, {} cancelled ({} by timeout/select, {} aborted, {} aborts late){extra}",
        s.waiters,
        s.granted,
        s.cancelled(),
        s.gave_up,
        s.aborted,
        s.abort_late
    )
}

#[test]
fn mutex_storm() {
    case("Mutex", |seed, n| {
        let rt = runtime(seed);
        let m = Arc::new(Mutex::new(0u64));
        let (entered, inside) = (Count::default(), Arc::new(AtomicUsize::new(0)));
        let s = rt.block_on({
            let (m, entered, inside) = (m.clone(), entered.clone(), inside.clone());
            async move {
                storm(
                    n,
                    &mut Rng::new(seed),
                    &Plain::default(),
                    |_, mode, mut rng| {
                        let (m, entered, inside) = (m.clone(), entered.clone(), inside.clone());
                        async move {
                            let Some(mut g) = cancellable(mode, m.lock()).await else {
                                return false;
                            };
                            let _in = Inside::enter(&inside, 1, "Mutex");
                            *g += 1;
                            entered.inc();
                            yields(rng.below(3)).await;
                            true
                        }
                    },
                )
                .await
            }
        });
        drop(rt);
        let value = *m.try_lock().expect("the lock was left held");
        assert_eq!(value, entered.get() as u64);
        report(&s, &format!(", {value} critical sections"))
    });
}

#[test]
fn rwlock_storm() {
    case("RwLock", |seed, n| {
        let rt = runtime(seed);
        let l = Arc::new(RwLock::new(0u64));
        let readers = Arc::new(AtomicUsize::new(0));
        let writers = Arc::new(AtomicUsize::new(0));
        let written = Count::default();
        let s = rt.block_on({
            let (l, readers, writers, written) =
                (l.clone(), readers.clone(), writers.clone(), written.clone());
            async move {
                storm(
                    n,
                    &mut Rng::new(seed),
                    &Plain::default(),
                    |_, mode, mut rng| {
                        let (l, readers, writers, written) =
                            (l.clone(), readers.clone(), writers.clone(), written.clone());
                        async move {
                            if rng.chance(30) {
                                let Some(mut g) = cancellable(mode, l.write()).await else {
                                    return false;
                                };
                                let _w = Inside::enter(&writers, 1, "RwLock writers");
                                assert_eq!(
                                    readers.load(Ordering::SeqCst),
                                    0,
                                    "a reader beside a writer"
                                );
                                *g += 1;
                                written.inc();
                                yields(rng.below(3)).await;
                            } else {
                                let Some(_g) = cancellable(mode, l.read()).await else {
                                    return false;
                                };
                                let _r = Inside::enter(&readers, usize::MAX, "RwLock readers");
                                assert_eq!(
                                    writers.load(Ordering::SeqCst),
                                    0,
                                    "a writer beside a reader"
                                );
                                yields(rng.below(3)).await;
                            }
                            true
                        }
                    },
                )
                .await
            }
        });
        drop(rt);
        let value = *l.try_write().expect("the lock was left held");
        assert_eq!(value, written.get() as u64);
        report(&s, &format!(", {value} writes"))
    });
}

const PERMITS: usize = 4;

#[test]
fn semaphore_storm() {
    case("Semaphore", |seed, n| {
        let rt = runtime(seed);
        let sem = Arc::new(Semaphore::new(PERMITS));
        let inside = Arc::new(AtomicUsize::new(0));
        let s = rt.block_on({
            let (sem, inside) = (sem.clone(), inside.clone());
            async move {
                storm(
                    n,
                    &mut Rng::new(seed),
                    &Plain::default(),
                    |_, mode, mut rng| {
                        let (sem, inside) = (sem.clone(), inside.clone());
                        async move {
                            let Some(permit) = cancellable(mode, sem.acquire()).await else {
                                return false;
                            };
                            let _permit = permit.expect("never closed");
                            let _in = Inside::enter(&inside, PERMITS, "Semaphore");
                            yields(rng.below(3)).await;
                            true
                        }
                    },
                )
                .await
            }
        });
        drop(rt);
        assert_eq!(sem.available_permits(), PERMITS, "permits lost or leaked");
        let all = sem.try_acquire_many(PERMITS).expect("every permit is back");
        drop(all);
        report(&s, &format!(", permits back to {PERMITS}"))
    });
}

#[test]
fn bounded_semaphore_storm() {
    case("BoundedSemaphore", |seed, n| {
        let rt = runtime(seed);
        let sem = Arc::new(BoundedSemaphore::new(PERMITS));
        let inside = Arc::new(AtomicUsize::new(0));
        let s = rt.block_on({
            let (sem, inside) = (sem.clone(), inside.clone());
            async move {
                storm(
                    n,
                    &mut Rng::new(seed),
                    &Plain::default(),
                    |_, mode, mut rng| {
                        let (sem, inside) = (sem.clone(), inside.clone());
                        async move {
                            let Some(permit) = cancellable(mode, sem.acquire()).await else {
                                return false;
                            };
                            let _permit = permit.expect("never closed");
                            let _in = Inside::enter(&inside, PERMITS, "BoundedSemaphore");
                            yields(rng.below(3)).await;
                            true
                        }
                    },
                )
                .await
            }
        });
        drop(rt);
        assert_eq!(sem.available_permits(), PERMITS, "permits lost or leaked");
        assert!(
            sem.release().is_err(),
            "a permit beyond the bound was created"
        );
        report(&s, &format!(", permits back to {PERMITS}"))
    });
}

#[test]
fn event_storm() {
    case("Event", |seed, n| {
        let rt = runtime(seed);
        let ev = Arc::new(Event::new());
        let plain = Plain::default();
        let toggles = Count::default();
        let s = rt.block_on({
            let (ev, plain, toggles) = (ev.clone(), plain.clone(), toggles.clone());
            async move {
                // Sets and clears the event until every plain waiter got through.
                let toggler = magpie::spawn({
                    let (ev, plain) = (ev.clone(), plain.clone());
                    async move {
                        let mut rng = Rng::new(seed ^ 0xe);
                        while !plain.all_done() {
                            // Cleared first: waiters queue up (and time out) before a set.
                            magpie::time::sleep(rng.micros(1500)).await;
                            ev.set();
                            yields(rng.below(3)).await;
                            ev.clear();
                            toggles.inc();
                        }
                    }
                });
                let s = storm(n, &mut Rng::new(seed), &plain, |_, mode, _| {
                    let ev = ev.clone();
                    async move { cancellable(mode, ev.wait()).await.is_some() }
                })
                .await;
                toggler.await.unwrap();
                s
            }
        });
        drop(rt);
        report(&s, &format!(", {} set/clear rounds", toggles.get()))
    });
}

/// Polls `fut` once with a waker that does nothing.
fn poll_once<F: Future>(fut: F) -> Poll<F::Output> {
    struct Noop;
    impl Wake for Noop {
        fn wake(self: Arc<Self>) {}
    }
    let waker = Waker::from(Arc::new(Noop));
    let mut fut = std::pin::pin!(fut);
    fut.as_mut().poll(&mut Context::from_waker(&waker))
}

#[test]
fn notify_storm() {
    case("Notify", |seed, n| {
        let rt = runtime(seed);
        let notify = Arc::new(Notify::new());
        let plain = Plain::default();
        let (issued, consumed) = (Count::default(), Count::default());
        let s = rt.block_on({
            let (notify, plain, issued, consumed) = (
                notify.clone(),
                plain.clone(),
                issued.clone(),
                consumed.clone(),
            );
            async move {
                // One notification outstanding at a time: a grant lost in a cancelled
                // waiter stalls this loop (and the deadline names Notify).
                let notifier = magpie::spawn({
                    let (notify, plain, issued, consumed) = (
                        notify.clone(),
                        plain.clone(),
                        issued.clone(),
                        consumed.clone(),
                    );
                    async move {
                        // The last plain waiter may finish (on another worker) just
                        // after one more notification went out: that one stays stored.
                        while !plain.all_done() {
                            if consumed.get() == issued.get() {
                                issued.inc();
                                notify.notify_one();
                            }
                            magpie::yield_now().await;
                        }
                    }
                });
                let s = storm(n, &mut Rng::new(seed), &plain, |_, mode, _| {
                    let (notify, consumed) = (notify.clone(), consumed.clone());
                    async move {
                        let got = cancellable(mode, notify.notified()).await.is_some();
                        if got {
                            consumed.inc();
                        }
                        got
                    }
                })
                .await;
                notifier.await.unwrap();
                s
            }
        });
        drop(rt);
        let outstanding = issued.get() - consumed.get();
        assert!(
            outstanding <= 1,
            "{outstanding} notifications never consumed"
        );
        assert_eq!(s.granted, consumed.get());
        // The last notification, if unconsumed, is stored (not lost); nothing else is.
        let stored = poll_once(notify.notified()).is_ready();
        assert_eq!(
            stored,
            outstanding == 1,
            "stored permit vs. notifications outstanding"
        );
        report(
            &s,
            &format!(", {} notifications, each consumed once", issued.get()),
        )
    });
}

#[test]
fn condition_storm() {
    case("Condition", |seed, n| {
        let rt = runtime(seed);
        let pair = Arc::new((Mutex::new(0u64), Condition::new()));
        let plain = Plain::default();
        let (issued, consumed) = (Count::default(), Count::default());
        let s = rt.block_on({
            let (pair, plain, issued, consumed) = (
                pair.clone(),
                plain.clone(),
                issued.clone(),
                consumed.clone(),
            );
            async move {
                let notifier = magpie::spawn({
                    let (pair, plain, issued) = (pair.clone(), plain.clone(), issued.clone());
                    async move {
                        // As for Notify: the last token may outlive the last plain waiter.
                        while !plain.all_done() {
                            {
                                let mut tokens = pair.0.lock().await;
                                if *tokens == 0 {
                                    *tokens += 1;
                                    issued.inc();
                                    pair.1.notify(1);
                                }
                            }
                            magpie::yield_now().await;
                        }
                    }
                });
                let s = storm(n, &mut Rng::new(seed), &plain, |_, mode, _| {
                    let (pair, consumed) = (pair.clone(), consumed.clone());
                    async move {
                        let take = async {
                            let (m, cond) = &*pair;
                            let mut tokens = m.lock().await;
                            while *tokens == 0 {
                                tokens = cond.wait(tokens).await;
                            }
                            *tokens -= 1;
                            consumed.inc();
                        };
                        cancellable(mode, take).await.is_some()
                    }
                })
                .await;
                notifier.await.unwrap();
                s
            }
        });
        drop(rt);
        let left = *pair.0.try_lock().expect("lock left held");
        assert!(left <= 1);
        assert_eq!(
            issued.get(),
            consumed.get() + left as usize,
            "tokens issued vs. consumed"
        );
        report(
            &s,
            &format!(", {} notify(1) tokens, each consumed once", issued.get()),
        )
    });
}

#[test]
fn barrier_storm() {
    const PARTIES: usize = 5;
    case("Barrier", |seed, n| {
        let rt = runtime(seed);
        let barrier = Arc::new(Barrier::new(PARTIES));
        let plain = Plain::default();
        let (passed, leaders) = (Count::default(), Count::default());
        let (s, fillers) = rt.block_on({
            let (barrier, plain, passed, leaders) = (
                barrier.clone(),
                plain.clone(),
                passed.clone(),
                leaders.clone(),
            );
            async move {
                let arrive = {
                    let (barrier, passed, leaders) =
                        (barrier.clone(), passed.clone(), leaders.clone());
                    move || {
                        let (barrier, passed, leaders) =
                            (barrier.clone(), passed.clone(), leaders.clone());
                        async move {
                            let r = barrier.wait().await;
                            if let Ok(r) = &r {
                                passed.inc();
                                if r.is_leader() {
                                    leaders.inc();
                                }
                            }
                            r.is_ok()
                        }
                    }
                };
                // Once the storm's other waiters are gone, extra arrivals complete the
                // rounds the plain waiters are stuck in.
                let filler = magpie::spawn({
                    let (plain, arrive) = (plain.clone(), arrive.clone());
                    async move {
                        let mut fillers = Vec::new();
                        while !plain.all_done() {
                            fillers.push(magpie::spawn(arrive()));
                            magpie::time::sleep(Duration::from_micros(200)).await;
                        }
                        fillers
                    }
                });
                let s = storm(n, &mut Rng::new(seed), &plain, |_, mode, _| {
                    let wait = arrive();
                    async move { cancellable(mode, wait).await == Some(true) }
                })
                .await;
                let fillers = filler.await.unwrap();
                // Leftover fillers wait for a round that will not come: once each is
                // queued (the barrier's count says so), break it.
                loop {
                    let unfinished = fillers.iter().filter(|f| !f.is_finished()).count();
                    if unfinished == barrier.n_waiting() {
                        break;
                    }
                    magpie::yield_now().await;
                }
                let stuck = barrier.n_waiting();
                barrier.abort();
                let mut broke = 0;
                for f in &mut fillers.into_iter() {
                    if !f.await.unwrap() {
                        broke += 1;
                    }
                }
                assert_eq!(broke, stuck, "waiting count vs. waiters actually queued");
                (s, broke)
            }
        });
        drop(rt);
        // A leader returns in the poll that completes its round, so every round is
        // counted; a waiter dropped after its round passed is not (it has nothing to hand
        // on), so up to `cancelled` passes may be missing.
        let rounds = leaders.get() * PARTIES;
        assert!(
            passed.get() <= rounds,
            "{} passes in {} rounds",
            passed.get(),
            leaders.get()
        );
        assert!(
            passed.get() + s.cancelled() >= rounds,
            "{} passes in {} rounds with {} cancellations",
            passed.get(),
            leaders.get(),
            s.cancelled()
        );
        report(
            &s,
            &format!(
                ", {} rounds of {PARTIES}, {fillers} filler arrivals broken at the end",
                leaders.get()
            ),
        )
    });
}

/// The queue operations the storm needs, for all three queue kinds.
trait TestQueue: Send + Sync + 'static {
    fn put(&self, v: u64) -> Pin<Box<dyn Future<Output = bool> + Send + '_>>;
    fn get(&self) -> Pin<Box<dyn Future<Output = Option<u64>> + Send + '_>>;
    fn put_nowait(&self, v: u64) -> bool;
    fn get_nowait(&self) -> Option<u64>;
    fn close(&self);
    fn qsize(&self) -> usize;
}

macro_rules! test_queue {
    ($q:ident) => {
        impl TestQueue for $q<u64> {
            fn put(&self, v: u64) -> Pin<Box<dyn Future<Output = bool> + Send + '_>> {
                Box::pin(async move { $q::put(self, v).await.is_ok() })
            }
            fn get(&self) -> Pin<Box<dyn Future<Output = Option<u64>> + Send + '_>> {
                Box::pin(async move { $q::get(self).await.ok() })
            }
            fn put_nowait(&self, v: u64) -> bool {
                $q::put_nowait(self, v).is_ok()
            }
            fn get_nowait(&self) -> Option<u64> {
                $q::get_nowait(self).ok()
            }
            fn close(&self) {
                $q::close(self)
            }
            fn qsize(&self) -> usize {
                $q::qsize(self)
            }
        }
    };
}

test_queue!(Queue);
test_queue!(LifoQueue);
test_queue!(PriorityQueue);

/// Half the waiters put (distinct items), half get, on a queue of capacity 8 (putters
/// mostly spawned first, getters later). When one side
/// is all done, a helper keeps the other going (fills or drains without waiting), so
/// every plain waiter finishes. Then the queue is closed and drained: the items delivered
/// plus those left must be exactly the items whose `put` completed, each once.
fn queue_storm<Q: TestQueue>(q: Arc<Q>, seed: u64, n: usize) -> String {
    let rt = runtime(seed);
    let put_ok = Arc::new(StdMutex::new(Vec::<u64>::new()));
    let got = Arc::new(StdMutex::new(Vec::<u64>::new()));
    let (putters, getters) = (Liveness::new(), Liveness::new());
    let s = rt.block_on({
        let (q, put_ok, got) = (q.clone(), put_ok.clone(), got.clone());
        async move {
            let plain = Plain::default();
            let all_spawned = plain.all_spawned.clone();
            let helper = magpie::spawn({
                let (q, put_ok, got) = (q.clone(), put_ok.clone(), got.clone());
                let (putters, getters, all_spawned) =
                    (putters.clone(), getters.clone(), all_spawned.clone());
                async move {
                    let mut filler = 1u64 << 40;
                    loop {
                        let spawned = all_spawned.load(Ordering::SeqCst);
                        let (p, g) = (putters.alive(), getters.alive());
                        if spawned && p == 0 && g == 0 {
                            break;
                        }
                        if spawned && p == 0 && q.put_nowait(filler) {
                            put_ok.lock().unwrap().push(filler);
                            filler += 1;
                        } else if spawned && g == 0 {
                            if let Some(v) = q.get_nowait() {
                                got.lock().unwrap().push(v);
                            }
                        }
                        magpie::time::sleep(Duration::from_micros(100)).await;
                    }
                }
            });
            let s = storm(n, &mut Rng::new(seed), &plain, |i, mode, mut rng| {
                let (q, put_ok, got) = (q.clone(), put_ok.clone(), got.clone());
                // Mostly putters first, mostly getters later: both sides queue up.
                let put = rng.chance(if i < n / 2 { 80 } else { 20 });
                let delay = rng.below(3);
                if put {
                    let alive = putters.guard();
                    Box::pin(async move {
                        let _alive = alive;
                        yields(delay).await;
                        // Recorded in the poll that completed the put: an abort cannot
                        // come in between.
                        let done = cancellable(mode, q.put(i as u64)).await;
                        if done == Some(true) {
                            put_ok.lock().unwrap().push(i as u64);
                        }
                        assert_ne!(done, Some(false), "put failed on an open queue");
                        done.is_some()
                    }) as Pin<Box<dyn Future<Output = bool> + Send>>
                } else {
                    let alive = getters.guard();
                    Box::pin(async move {
                        let _alive = alive;
                        yields(delay).await;
                        let done = cancellable(mode, q.get()).await;
                        if let Some(v) = done {
                            got.lock()
                                .unwrap()
                                .push(v.expect("get failed on an open queue"));
                        }
                        done.is_some()
                    })
                }
            })
            .await;
            helper.await.unwrap();
            s
        }
    });
    drop(rt);
    q.close();
    let mut left = Vec::new();
    while let Some(v) = q.get_nowait() {
        left.push(v);
    }
    assert_eq!(q.qsize(), 0);
    let mut put = std::mem::take(&mut *put_ok.lock().unwrap());
    let mut delivered = std::mem::take(&mut *got.lock().unwrap());
    let n_delivered = delivered.len();
    delivered.extend(&left);
    put.sort_unstable();
    delivered.sort_unstable();
    assert_eq!(
        put.len(),
        delivered.len(),
        "items put vs. items delivered or left in the queue"
    );
    assert_eq!(put, delivered, "an item was lost or duplicated");
    report(
        &s,
        &format!(
            ", {} items put, {n_delivered} delivered, {} left in the queue",
            put.len(),
            left.len()
        ),
    )
}

#[test]
fn queue_storm_fifo() {
    case("Queue", |seed, n| {
        queue_storm(Arc::new(Queue::<u64>::bounded(8)), seed, n)
    });
}

#[test]
fn queue_storm_lifo() {
    case("LifoQueue", |seed, n| {
        queue_storm(Arc::new(LifoQueue::<u64>::bounded(8)), seed, n)
    });
}

#[test]
fn queue_storm_priority() {
    case("PriorityQueue", |seed, n| {
        queue_storm(Arc::new(PriorityQueue::<u64>::bounded(8)), seed, n)
    });
}

/// A value that counts its own drops, so a value dropped inside a channel is seen too.
struct Token {
    id: u64,
    drops: Count,
}

impl Drop for Token {
    fn drop(&mut self) {
        self.drops.inc();
    }
}

#[test]
fn oneshot_storm() {
    case("oneshot", |seed, n| {
        let rt = runtime(seed);
        let pairs = n / 2;
        let drops = Count::default();
        let (received, returned) = (Count::default(), Count::default());
        let s = rt.block_on({
            let (drops, received, returned) = (drops.clone(), received.clone(), returned.clone());
            async move {
                let mut rng = Rng::new(seed ^ 0x05);
                let mut senders = Vec::new();
                let mut rxs = Vec::new();
                for id in 0..pairs as u64 {
                    let (tx, rx) = oneshot::channel();
                    rxs.push(Some(rx));
                    let (drops, returned) = (drops.clone(), returned.clone());
                    let (delay, nap) = (rng.below(6), rng.micros(500));
                    senders.push(magpie::spawn(async move {
                        if delay >= 4 {
                            magpie::time::sleep(nap).await;
                        }
                        yields(delay).await;
                        if let Err(t) = tx.set_result(Token { id, drops }) {
                            assert_eq!(t.id, id);
                            returned.inc();
                        }
                    }));
                }
                let s = storm(
                    pairs,
                    &mut Rng::new(seed),
                    &Plain::default(),
                    |i, mode, _| {
                        let rx = rxs[i].take().unwrap();
                        let received = received.clone();
                        async move {
                            match cancellable(mode, rx).await {
                                Some(Ok(t)) => {
                                    assert_eq!(
                                        t.id, i as u64,
                                        "a value reached the wrong receiver"
                                    );
                                    received.inc();
                                    true
                                }
                                Some(Err(_)) => panic!("the sender never drops without a value"),
                                None => false,
                            }
                        }
                    },
                )
                .await;
                for h in senders {
                    h.await.unwrap();
                }
                s
            }
        });
        drop(rt);
        assert_eq!(drops.get(), pairs, "every value dropped exactly once");
        assert_eq!(s.granted, received.get());
        let in_channel = pairs - received.get() - returned.get();
        assert!(
            in_channel <= s.cancelled(),
            "{in_channel} values dropped unread but only {} receivers were cancelled",
            s.cancelled()
        );
        report(
            &s,
            &format!(
                ", {pairs} values: {} received, {} returned to the sender, {in_channel} dropped with a cancelled receiver",
                received.get(),
                returned.get()
            ),
        )
    });
}
