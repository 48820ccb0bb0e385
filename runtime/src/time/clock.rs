//! The runtime's clock, and the test clock built on it: [`pause`], [`resume`],
//! [`advance`] (tokio's `test-util`, always compiled in).
//!
//! Each runtime's driver owns a [`Clock`]. Unpaused, it is the OS's monotonic clock. Paused,
//! it stands still at the instant it was paused and moves only as the rules below say.
//!
//! Rule CLOCK-1 (the fast path): `ADJUSTED` counts the clocks of live runtimes that were
//! ever paused. While it is zero, [`now`] (behind `Instant::now`) is
//! `std::time::Instant::now()` after one relaxed load; so is a clock's own `now` while
//! its `adjusted` flag is unset. Only a paused-once clock takes its lock to read.
//!
//! Rule CLOCK-2 (what moves paused time): only [`advance`], and *auto-advance*: when the
//! current-thread scheduler parks in the driver because no task can make progress
//! (`may_block` said so, rule DRV-2), the driver polls I/O with a zero timeout instead of
//! sleeping and, if no event is ready, moves the clock straight to the next timer
//! (`Driver::try_park`). With no timer at all it blocks until woken (I/O or another
//! thread), as unpaused. Time never moves backwards, and never past a live timer's
//! deadline in one step.
//!
//! Rule CLOCK-3 (exactness): a sleep made at paused instant `t` with duration `d` completes
//! once the clock reads `t + d`, not a tick later, though the wheel counts whole
//! microseconds. While paused, the driver advances the wheel to the tick *containing* now
//! (rounded up), so every timer due by now fires; one whose deadline is still ahead
//! (later within that microsecond) is not trusted by its `Sleep`, which waits in the
//! driver's *early* list instead, keyed by its wheel key. The early list is drained as the
//! clock reaches each deadline, and auto-advance jumps to the earliest of the early list
//! and the wheel's next tick, so sleeps complete in deadline order, at their deadline.
//!
//! Rule CLOCK-4 (who may pause): only a current-thread runtime's clock can be paused
//! (every task then runs on the thread that moves the clock, so "no task can make
//! progress" is a fact the scheduler knows). Misuse panics with what to do instead:
//! pausing a multi-thread runtime, pausing twice, `advance` or `resume` while not paused,
//! any of them outside a runtime.

use std::sync::atomic::AtomicUsize as StdAtomicUsize;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use crate::loom::atomic::{AtomicBool, Ordering::SeqCst};
use crate::loom::Mutex;

/// Rule CLOCK-1: live clocks that were ever paused. A process-wide hint read by every
/// `Instant::now`, not part of any synchronisation protocol (and a `static`, which loom's
/// atomics cannot be), hence std's atomic.
static ADJUSTED: StdAtomicUsize = StdAtomicUsize::new(0);

/// The current instant of this thread's runtime clock (`std`'s clock outside a runtime).
pub(crate) fn now() -> std::time::Instant {
    // CLOCK-1: one load when no clock anywhere was ever paused.
    if ADJUSTED.load(Relaxed) == 0 {
        return std::time::Instant::now();
    }
    match crate::context::current_scheduler() {
        Some(scheduler) => scheduler.driver().clock().now(),
        None => std::time::Instant::now(),
    }
}

/// Why a clock operation was refused (the public functions turn it into a panic message).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Misuse {
    NotPausable,
    AlreadyPaused,
    NotPaused,
}

/// One runtime's clock.
pub(crate) struct Clock {
    /// CLOCK-4: whether this runtime is a current-thread one.
    pausable: bool,
    paused: AtomicBool,
    /// CLOCK-1: set (for good) at the first pause.
    adjusted: AtomicBool,
    state: Mutex<State>,
}

struct State {
    /// The clock's reading when `unfrozen` was taken (or now, while paused).
    base: std::time::Instant,
    /// When the clock last started running, or `None` while paused.
    unfrozen: Option<std::time::Instant>,
}

impl Clock {
    pub(crate) fn new(pausable: bool, start_paused: bool) -> Clock {
        let now = std::time::Instant::now();
        let clock = Clock {
            pausable,
            paused: AtomicBool::new(false),
            adjusted: AtomicBool::new(false),
            state: Mutex::new(State {
                base: now,
                unfrozen: Some(now),
            }),
        };
        if start_paused {
            clock
                .pause()
                .expect("Builder::build checks start_paused is for a current-thread runtime");
        }
        clock
    }

    /// The clock's reading (CLOCK-1: std's clock until the first pause).
    pub(crate) fn now(&self) -> std::time::Instant {
        if !self.adjusted.load(SeqCst) {
            return std::time::Instant::now();
        }
        let state = self.state.lock().unwrap();
        match state.unfrozen {
            None => state.base,
            Some(since) => state.base + since.elapsed(),
        }
    }

    pub(crate) fn is_paused(&self) -> bool {
        self.paused.load(SeqCst)
    }

    pub(crate) fn pause(&self) -> Result<(), Misuse> {
        if !self.pausable {
            return Err(Misuse::NotPausable);
        }
        let mut state = self.state.lock().unwrap();
        let Some(since) = state.unfrozen else {
            return Err(Misuse::AlreadyPaused);
        };
        state.base += since.elapsed();
        state.unfrozen = None;
        if !self.adjusted.swap(true, SeqCst) {
            ADJUSTED.fetch_add(1, Relaxed);
        }
        self.paused.store(true, SeqCst);
        Ok(())
    }

    pub(crate) fn resume(&self) -> Result<(), Misuse> {
        let mut state = self.state.lock().unwrap();
        if state.unfrozen.is_some() {
            return Err(Misuse::NotPaused);
        }
        state.unfrozen = Some(std::time::Instant::now());
        self.paused.store(false, SeqCst);
        Ok(())
    }

    /// Moves a paused clock forward by `duration`; returns the new reading.
    pub(crate) fn advance(&self, duration: Duration) -> Result<std::time::Instant, Misuse> {
        let mut state = self.state.lock().unwrap();
        if state.unfrozen.is_some() {
            return Err(Misuse::NotPaused);
        }
        state.base = state.base.checked_add(duration).unwrap_or_else(|| {
            panic!("magpie::time::advance({duration:?}) overflows the clock: advance by less")
        });
        Ok(state.base)
    }

    /// Auto-advance (CLOCK-2): moves a paused clock forward to `target` (never backwards).
    pub(crate) fn advance_to(&self, target: std::time::Instant) {
        let mut state = self.state.lock().unwrap();
        if state.unfrozen.is_none() && target > state.base {
            state.base = target;
        }
    }
}

impl Drop for Clock {
    fn drop(&mut self) {
        if self.adjusted.load(SeqCst) {
            ADJUSTED.fetch_sub(1, Relaxed);
        }
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Clock")
            .field("paused", &self.is_paused())
            .finish_non_exhaustive()
    }
}

#[track_caller]
fn current_driver(what: &str) -> crate::loom::Arc<crate::driver::Driver> {
    crate::driver::current().unwrap_or_else(|_| {
        panic!(
            "magpie::time::{what} called outside a magpie runtime: call it inside a \
             current-thread runtime's block_on or one of its tasks (e.g. in a \
             #[magpie::test] function)"
        )
    })
}

#[track_caller]
fn misuse(what: &str, m: Misuse) -> ! {
    match m {
        Misuse::NotPausable => panic!(
            "magpie::time::{what}: time can only be paused on a current-thread runtime; build \
             one with Builder::new_current_thread() (or use #[magpie::test], whose default \
             flavor is current_thread)"
        ),
        Misuse::AlreadyPaused => panic!(
            "magpie::time::{what}: the clock is already paused; call magpie::time::resume() \
             before pausing it again"
        ),
        Misuse::NotPaused => panic!(
            "magpie::time::{what}: the clock is not paused; call magpie::time::pause() first \
             (or build the runtime with Builder::start_paused(true), or use \
             #[magpie::test(start_paused = true)])"
        ),
    }
}

/// Pauses the current runtime's clock (tokio's `time::pause`).
///
/// From now on [`Instant::now`](super::Instant::now) stands still; time moves only by
/// [`advance`], or, when no task can make progress and no I/O is ready, by jumping
/// straight to the next timer (auto-advance), so a test that sleeps for an hour returns
/// at once, with timers firing in deadline order. A sleep made at paused instant `t` for
/// `d` completes exactly when the clock reads `t + d`.
///
/// Auto-advance does not wait for `spawn_blocking` work or other threads: a timeout
/// around such work fires as soon as the runtime has nothing else to do.
///
/// # Panics
///
/// Outside a runtime; on a multi-thread runtime (use a current-thread one); if the clock
/// is already paused.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use magpie_runtime::time::{self, Instant};
///
/// magpie_runtime::Builder::new_current_thread().build().unwrap().block_on(async {
///     time::pause();
///     let start = Instant::now();
///     time::sleep(Duration::from_secs(3600)).await; // returns at once
///     assert_eq!(start.elapsed(), Duration::from_secs(3600));
///     time::resume();
/// });
/// ```
#[track_caller]
pub fn pause() {
    let driver = current_driver("pause");
    if let Err(m) = driver.clock().pause() {
        misuse("pause", m);
    }
}

/// Lets the current runtime's paused clock run again, from the instant it reads now
/// (tokio's `time::resume`).
///
/// # Panics
///
/// Outside a runtime, or if the clock is not paused.
///
/// # Examples
///
/// ```
/// magpie_runtime::Builder::new_current_thread().build().unwrap().block_on(async {
///     magpie_runtime::time::pause();
///     magpie_runtime::time::resume();
///     magpie_runtime::time::sleep(std::time::Duration::from_millis(1)).await; // real time
/// });
/// ```
#[track_caller]
pub fn resume() {
    let driver = current_driver("resume");
    if let Err(m) = driver.clock().resume() {
        misuse("resume", m);
    }
    driver.clock_resumed();
}

/// Moves the current runtime's paused clock forward by `duration`, fires every timer due
/// by then, and yields once so the woken tasks get to run (tokio's `time::advance`).
///
/// Every sleep whose deadline is at or before the new reading is completed: a sleep made
/// at paused instant `t` for `d` is complete after `advance(d)` (rule CLOCK-3).
///
/// # Panics
///
/// When polled outside a runtime, or while the clock is not paused (call [`pause`] first,
/// or build the runtime with `Builder::start_paused(true)`).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use magpie_runtime::time;
///
/// magpie_runtime::Builder::new_current_thread().start_paused(true).build().unwrap().block_on(async {
///     let sleep = time::sleep(Duration::from_millis(10));
///     time::advance(Duration::from_millis(9)).await;
///     assert!(!sleep.is_elapsed());
///     time::advance(Duration::from_millis(1)).await;
///     assert!(sleep.is_elapsed());
///     sleep.await; // ready
/// });
/// ```
pub async fn advance(duration: Duration) {
    let driver = current_driver("advance");
    match driver.clock().advance(duration) {
        Ok(_) => driver.fire_due_paused(),
        Err(m) => misuse("advance", m),
    }
    crate::task::yield_now().await;
}
