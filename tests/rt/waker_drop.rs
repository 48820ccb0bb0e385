//! Wakers are dropped outside every lock (issue 13, bug 2, outside `magpie::sync`).
//!
//! Each test polls a future with waker A, then re-polls it with waker B (or drops it), so
//! that the runtime lets go of its clone of A, the last one. A's drop re-enters the very
//! structure that held it: it registers another timer, polls the same I/O source, looks at
//! the same task group, or waits for a child of the same `gather` to report. Dropped under
//! that structure's lock, A deadlocks its thread; each scenario runs under a watchdog that
//! fails the test instead of hanging it. The join handle's waker is kept by async-task
//! under no lock but inside a section that aborts the process on a panic: its test uses a
//! waker whose drop panics, in a child process.
use crate::support;

use std::future::Future;
use std::io::Read;
use std::os::unix::net::UnixStream;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::task::{Context, Wake, Waker};
use std::time::{Duration, Instant};

use support::{flavors, Signal};

/// A waker that runs `on_drop` when its last reference goes.
struct OnDrop {
    on_drop: Box<dyn Fn() + Send + Sync>,
    dropped: Arc<AtomicUsize>,
}

impl Wake for OnDrop {
    fn wake(self: Arc<Self>) {}
}

impl Drop for OnDrop {
    fn drop(&mut self) {
        (self.on_drop)();
        self.dropped.fetch_add(1, Ordering::SeqCst);
    }
}

fn reentering_waker(
    dropped: &Arc<AtomicUsize>,
    on_drop: impl Fn() + Send + Sync + 'static,
) -> Waker {
    Waker::from(Arc::new(OnDrop {
        on_drop: Box::new(on_drop),
        dropped: dropped.clone(),
    }))
}

/// A waker that records that it was woken.
struct Flag(AtomicBool);

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Runs `scenario` on its own thread; fails if it has not finished within 20 s (the lock
/// it re-entered is held by its own thread: a deadlock).
fn watchdog(what: &str, scenario: impl FnOnce() + Send + 'static) {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        scenario();
        let _ = tx.send(());
    });
    match rx.recv_timeout(Duration::from_secs(20)) {
        Ok(()) => {}
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("{what}: the scenario panicked"),
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("{what}: deadlocked (a waker was dropped under the lock it re-entered)")
        }
    }
}

/// Polls `sleep(1 h)` once with a fresh noop-ish waker and drops it: a timer registered
/// and cancelled on the current runtime (takes the driver's timer lock twice).
fn register_and_cancel_a_timer() {
    let mut sleep = pin!(magpie::time::sleep(Duration::from_secs(3600)));
    let waker = Waker::from(Arc::new(Flag(AtomicBool::new(false))));
    assert!(sleep
        .as_mut()
        .poll(&mut Context::from_waker(&waker))
        .is_pending());
}

#[test]
fn sleep_repolled_with_another_waker_drops_the_old_one_outside_the_timer_lock() {
    for (name, rt) in flavors() {
        watchdog(name, move || {
            rt.block_on(async {
                let dropped = Arc::new(AtomicUsize::new(0));
                let mut sleep = pin!(magpie::time::sleep(Duration::from_secs(3600)));
                let a = reentering_waker(&dropped, register_and_cancel_a_timer);
                assert!(sleep
                    .as_mut()
                    .poll(&mut Context::from_waker(&a))
                    .is_pending());
                drop(a); // the wheel's clone is now the last one
                let b = Waker::from(Arc::new(Flag(AtomicBool::new(false))));
                assert!(sleep
                    .as_mut()
                    .poll(&mut Context::from_waker(&b))
                    .is_pending());
                assert_eq!(
                    dropped.load(Ordering::SeqCst),
                    1,
                    "A was dropped on the re-poll"
                );
            });
        });
    }
}

#[test]
fn sleep_dropped_drops_its_waker_outside_the_timer_lock() {
    for (name, rt) in flavors() {
        watchdog(name, move || {
            let handle = rt.handle().clone();
            rt.block_on(async {
                let dropped = Arc::new(AtomicUsize::new(0));
                {
                    let mut sleep = pin!(magpie::time::sleep(Duration::from_secs(3600)));
                    let a = reentering_waker(&dropped, register_and_cancel_a_timer);
                    assert!(sleep
                        .as_mut()
                        .poll(&mut Context::from_waker(&a))
                        .is_pending());
                }
                // `a` and the sleep are gone: the wheel's clone was the last one.
                assert_eq!(dropped.load(Ordering::SeqCst), 1);
            });
            assert_eq!(handle.timer_count(), 0, "{name}: every timer removed");
        });
    }
}

#[test]
fn io_source_repolled_with_another_waker_drops_the_old_one_outside_the_source_lock() {
    for (name, rt) in flavors() {
        watchdog(name, move || {
            rt.block_on(async {
                let (a_end, _b_end) = UnixStream::pair().unwrap();
                let source = Arc::new(magpie::io::Async::new(a_end).unwrap());
                let dropped = Arc::new(AtomicUsize::new(0));
                let read_once = |source: &magpie::io::Async<UnixStream>, cx: &mut Context<'_>| {
                    let mut buf = [0u8; 8];
                    source.poll_read_with(cx, |s| (&*s).read(&mut buf))
                };
                let a = reentering_waker(&dropped, {
                    let source = source.clone();
                    move || {
                        // Polls the same source (its lock) from inside the drop.
                        let noop = Waker::from(Arc::new(Flag(AtomicBool::new(false))));
                        let polled = read_once(&source, &mut Context::from_waker(&noop));
                        assert!(polled.is_pending(), "nothing was written");
                    }
                });
                assert!(read_once(&source, &mut Context::from_waker(&a)).is_pending());
                drop(a);
                let b = Waker::from(Arc::new(Flag(AtomicBool::new(false))));
                assert!(read_once(&source, &mut Context::from_waker(&b)).is_pending());
                assert_eq!(
                    dropped.load(Ordering::SeqCst),
                    1,
                    "A was dropped on the re-poll"
                );
            });
        });
    }
}

#[test]
fn task_group_join_repolled_with_another_waker_drops_the_old_one_outside_the_group_lock() {
    for (name, rt) in flavors() {
        watchdog(name, move || {
            rt.block_on(async {
                let tg = magpie::TaskGroup::<()>::new();
                let release = Signal::new();
                tg.spawn({
                    let release = release.clone();
                    async move {
                        release.wait().await;
                        Ok(())
                    }
                });
                let group = tg.handle();
                let dropped = Arc::new(AtomicUsize::new(0));
                let a = reentering_waker(&dropped, move || {
                    // Looks at the same group (its lock) from inside the drop.
                    assert!(group.is_open());
                });
                let mut join = pin!(tg.join());
                assert!(join
                    .as_mut()
                    .poll(&mut Context::from_waker(&a))
                    .is_pending());
                drop(a);
                let b = Waker::from(Arc::new(Flag(AtomicBool::new(false))));
                assert!(join
                    .as_mut()
                    .poll(&mut Context::from_waker(&b))
                    .is_pending());
                assert_eq!(
                    dropped.load(Ordering::SeqCst),
                    1,
                    "A was dropped on the re-poll"
                );
                release.set();
                join.await.unwrap();
            });
        });
    }
}

#[test]
fn gather_repolled_with_another_waker_drops_the_old_one_outside_the_children_lock() {
    // The re-entry is a child on another worker that must take the set's lock to report
    // (and wake B) while A's drop waits for it: a multi-thread runtime only.
    let rt = magpie::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    watchdog("multi_thread(2)", move || {
        rt.block_on(async {
            let release = Signal::new();
            let mut gather = pin!(magpie::gather([{
                let release = release.clone();
                async move { release.wait().await }
            }]));
            let b_flag = Arc::new(Flag(AtomicBool::new(false)));
            let reported_while_a_dropped = Arc::new(AtomicBool::new(false));
            let dropped = Arc::new(AtomicUsize::new(0));
            let a = reentering_waker(&dropped, {
                let (b_flag, reported) = (b_flag.clone(), reported_while_a_dropped.clone());
                move || {
                    // The child finishes on a worker and reports: that needs the lock.
                    release.set();
                    let deadline = Instant::now() + Duration::from_secs(5);
                    while Instant::now() < deadline {
                        if b_flag.0.load(Ordering::SeqCst) {
                            reported.store(true, Ordering::SeqCst);
                            return;
                        }
                        std::thread::sleep(Duration::from_millis(1));
                    }
                }
            });
            assert!(gather
                .as_mut()
                .poll(&mut Context::from_waker(&a))
                .is_pending());
            drop(a);
            let b = Waker::from(b_flag.clone());
            let _ = gather.as_mut().poll(&mut Context::from_waker(&b));
            assert_eq!(
                dropped.load(Ordering::SeqCst),
                1,
                "A was dropped on the re-poll"
            );
            assert!(
                reported_while_a_dropped.load(Ordering::SeqCst),
                "the child could not report (and wake B) while A was being dropped: \
                 A was dropped under the set's lock"
            );
            assert_eq!(gather.await, vec![()]);
        });
    });
}

#[test]
fn watchdog_can_fail() {
    // The watchdog itself reports a scenario that panics.
    let r = std::panic::catch_unwind(|| watchdog("panics", || panic!("scenario failed")));
    assert!(r.is_err());
}

/// Set in the child process of the join-handle test.
const CHILD_ENV: &str = "MAGPIE_RT_WAKER_DROP_CHILD";

/// A waker whose last drop panics.
struct PanicsOnDrop;

impl Wake for PanicsOnDrop {
    fn wake(self: Arc<Self>) {}
}

impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            panic!("the replaced waker's drop");
        }
    }
}

#[test]
fn join_handle_repolled_with_another_waker_drops_the_old_one_outside_async_tasks_registration() {
    // async-task replaces a handle's stored waker inside its registration section, where a
    // panic aborts the process; the handle keeps its own clone so that the last drop
    // happens after async-task returned, where it unwinds like any panic of a poll. The
    // scenario runs in a child process, since the failure is an abort.
    if std::env::var_os(CHILD_ENV).is_some() {
        let rt = magpie::Builder::new_current_thread().build().unwrap();
        rt.block_on(async {
            let mut h = pin!(magpie::spawn(std::future::pending::<()>()));
            let a = Waker::from(Arc::new(PanicsOnDrop));
            assert!(h.as_mut().poll(&mut Context::from_waker(&a)).is_pending());
            drop(a); // the only clones left are the handle's
            let b = Waker::from(Arc::new(Flag(AtomicBool::new(false))));
            let repoll = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                h.as_mut().poll(&mut Context::from_waker(&b)).is_pending()
            }));
            let payload = repoll.expect_err("A's drop panicked during the re-poll");
            assert_eq!(
                payload.downcast_ref::<&str>(),
                Some(&"the replaced waker's drop")
            );
            h.abort();
            assert!(h.await.unwrap_err().is_cancelled());
        });
        return;
    }
    let test = "waker_drop::join_handle_repolled_with_another_waker_drops_the_old_one_outside_async_tasks_registration";
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", test, "--test-threads=1", "--nocapture"])
        .env(CHILD_ENV, "1")
        .output()
        .unwrap();
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).contains("1 passed"),
        "the child process failed ({}): a replaced waker was dropped inside async-task's \
         registration, which aborts on a panic\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}
