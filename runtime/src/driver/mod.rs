//! The I/O and timer driver: one per runtime.
//!
//! The driver owns the OS poller ([`Poller`]: epoll used directly on Linux, the `polling`
//! crate elsewhere, a stand-in under loom and miri; sources edge-triggered), the slab of
//! registered [`Source`]s and the timer [`Wheel`]. It has no thread of its own: workers
//! *park in it*.
//!
//! # The hand-off protocol
//!
//! Rule DRV-1: only the thread that set the `polling` flag (a try-lock) polls, and
//! only it locks `core`. A worker with nothing to run tries the flag as it parks: the
//! winner blocks in `Poller::wait` with the next timer deadline as its timeout (none
//! without timers); the losers park on their own parkers. The holder releases the driver
//! before it runs any task, so no task ever keeps the driver from polling. Who parks
//! where, and who takes the driver over when its holder leaves it, is the schedulers'
//! policy (`scheduler/multi_thread/park.rs`, rules PARK-1 to PARK-6).
//!
//! Rule DRV-2: before it decides to block, the holder publishes who it is in `owner`
//! (a `SeqCst` store, then a `SeqCst` fence) and only then re-checks for work through the
//! caller's `may_block` (for a worker: is it still listed as a sleeper; for the
//! current-thread scheduler: is its main future woken or its injector non-empty).
//! Whoever makes work available does the mirror image: it makes the work visible, then
//! [`Driver::unpark`] fences and reads `owner`; if that names the thread it wants to wake,
//! it calls `Poller::notify()` (besides unparking the thread's parker). Either the
//! holder's re-check sees the work, or the waker sees the owner; and a notify that arrives
//! before `wait` is kept by the poller, so the wait returns at once. `owner` is cleared as
//! soon as `wait` returns; a separate `holder` hint names the thread holding the driver
//! until it releases it, so notifiers can prefer waking someone else.
//!
//! Rule DRV-3: a timer inserted with a deadline earlier than the one the holder is
//! sleeping until notifies the poller. Both sides read and write `sleeping_until` under the
//! timers' lock, and the holder records it before it waits.
//!
//! Rule DRV-4: a paused clock (rules CLOCK-1 to CLOCK-4 in `time::clock`) changes three
//! things only: a holder allowed to block polls with a zero timeout and, with no event,
//! moves the clock to the next timer (auto-advance); the wheel is advanced to the tick
//! containing now, rounded up; and due entries of the early list are woken with the
//! fired timers. Unpaused, each of these costs one load of the clock's `paused` flag.
//!
//! Rule DRV-5: `dispatch` wakes the ready sources' wakers first, then the fired timers',
//! the first `TIMER_WAKES_FIRST` of those with the thread-local `TIMER_FIRST` set, which
//! lets a current-thread runtime run them ahead of its queue (rule CT-2 in
//! `scheduler/current_thread.rs`); it is 0 at every other moment (a guard clears it).
//!
//! Wakers collected while polling (ready sources, fired timers) are woken on the polling
//! thread with the driver's locks released but before the driver is given up, so batches
//! of timers from successive holders never interleave; a worker's wakes go to its own
//! queue.

pub(crate) mod poller;
pub(crate) mod source;

use std::io;
use std::os::fd::RawFd;
use std::task::Waker;
use std::time::{Duration, Instant};

use slab::Slab;

use crate::loom::atomic::{fence, AtomicBool, AtomicUsize, Ordering::SeqCst};
use crate::loom::{thread_local_const, Arc, Mutex};
use crate::time::clock::Clock;
use crate::time::wheel::{self, Key, Wheel};

use poller::{Events, Poller};
pub(crate) use source::{Direction, Registration, Source};

/// `owner` when nobody is in `Poller::wait`.
pub(crate) const NO_OWNER: usize = usize::MAX;

/// The longest a holder sleeps towards a far timer (it then re-computes; far timers are
/// re-filed by the wheel anyway). With no timer at all it sleeps until woken.
const MAX_WAIT: Duration = Duration::from_secs(3600);

/// The driver of one runtime.
pub(crate) struct Driver {
    poller: Poller,
    /// Rule DRV-1: whoever sets this (false to true) polls, and only it locks `core`. A flag
    /// rather than `Mutex::try_lock`, which loom models as a blocking point.
    polling: AtomicBool,
    core: Mutex<Core>,
    sources: Mutex<Slab<Arc<Source>>>,
    timers: Mutex<Timers>,
    /// Rule DRV-2: the id of the thread inside `Poller::wait`, or [`NO_OWNER`].
    owner: AtomicUsize,
    /// Who holds the driver (set by `try_park` until release), or [`NO_OWNER`]: a hint
    /// for choosing whom to wake, never for correctness.
    holder: AtomicUsize,
    shut_down: AtomicBool,
    /// Tick 0 of the wheel.
    start: Instant,
    /// The runtime's clock, pausable on a current-thread runtime (rule DRV-4).
    clock: Clock,
}

struct Core {
    events: Events,
    wake: Vec<Waker>,
    ready: Vec<(Arc<Source>, poller::Event)>,
}

struct Timers {
    wheel: Wheel,
    /// Rule DRV-3: the tick the holder sleeps until (`u64::MAX`: no timer), while it waits.
    sleeping_until: Option<u64>,
    /// Rule CLOCK-3: sleeps whose entry fired while paused before their deadline: the
    /// deadline, the wheel key, the waker. Empty unless the clock was paused.
    early: Vec<(Instant, Key, Waker)>,
}

/// The current runtime's driver.
///
/// # Errors
///
/// Outside a magpie runtime.
pub(crate) fn current() -> io::Result<Arc<Driver>> {
    match crate::context::current_scheduler() {
        Some(scheduler) => Ok(scheduler.driver().clone()),
        None => Err(io::Error::other(
            "no magpie runtime on this thread: create I/O objects inside a task or \
             Runtime::block_on (or after Handle::enter)",
        )),
    }
}

impl Driver {
    /// A driver whose clock cannot be paused.
    #[cfg(loom)]
    pub(crate) fn new() -> io::Result<Arc<Driver>> {
        Driver::with_clock(Clock::new(false, false))
    }

    pub(crate) fn with_clock(clock: Clock) -> io::Result<Arc<Driver>> {
        Ok(Arc::new(Driver {
            poller: Poller::new()?,
            polling: AtomicBool::new(false),
            core: Mutex::new(Core {
                events: Events::new(),
                wake: Vec::new(),
                ready: Vec::new(),
            }),
            sources: Mutex::new(Slab::new()),
            timers: Mutex::new(Timers {
                wheel: Wheel::new(),
                sleeping_until: None,
                early: Vec::new(),
            }),
            owner: AtomicUsize::new(NO_OWNER),
            holder: AtomicUsize::new(NO_OWNER),
            shut_down: AtomicBool::new(false),
            start: Instant::now(),
            clock,
        }))
    }

    pub(crate) fn is_shut_down(&self) -> bool {
        self.shut_down.load(SeqCst)
    }

    /// Parks the calling thread in the driver if nobody else is in it (rule DRV-1).
    ///
    /// `owner` identifies the caller for [`unpark`](Self::unpark); `may_block` is the
    /// caller's re-check for work, run after `owner` is published (rule DRV-2): when it says
    /// no, the driver is polled without blocking. Returns `None` if another thread holds
    /// the driver, otherwise the number of tasks woken.
    pub(crate) fn try_park(&self, owner: usize, may_block: impl FnOnce() -> bool) -> Option<usize> {
        let mut core = self.try_lock()?;
        self.holder.store(owner, SeqCst);
        self.owner.store(owner, SeqCst);
        // The store and the caller's re-check are the two halves of a Dekker pair with
        // `unpark`'s (work made visible, owner read): the fences make it one for loom too,
        // which models `SeqCst` accesses as acquire/release only.
        fence(SeqCst);
        let block = may_block() && !self.is_shut_down();
        let mut auto_advance = None;
        let timeout = if !block {
            Some(Duration::ZERO)
        } else if self.clock.is_paused() {
            // Rule CLOCK-2: nothing can make progress; look at I/O without waiting.
            auto_advance = self.paused_next_timer();
            match auto_advance {
                Some(_) => Some(Duration::ZERO),
                None => self.sleep_timeout(),
            }
        } else {
            self.sleep_timeout()
        };
        let waited = self.poller.wait(&mut core.events, timeout);
        self.owner.store(NO_OWNER, SeqCst);
        if block {
            self.timers.lock().unwrap().sleeping_until = None;
        }
        if waited.is_err() {
            // EINTR is retried by polling; anything else leaves no events to dispatch.
            core.events.clear();
        }
        if let Some(target) = auto_advance {
            if core.events.iter().next().is_none() {
                // No I/O is ready either: jump to the next timer (CLOCK-2).
                self.clock.advance_to(target);
            }
        }
        Some(self.dispatch(core))
    }

    /// Polls without blocking if nobody else is in the driver (a busy worker's periodic
    /// look at I/O and timers). Returns the number of tasks woken.
    pub(crate) fn try_poll_now(&self) -> usize {
        let Some(mut core) = self.try_lock() else {
            return 0;
        };
        if self
            .poller
            .wait(&mut core.events, Some(Duration::ZERO))
            .is_err()
        {
            core.events.clear();
        }
        self.dispatch(core)
    }

    /// Takes the driver (rule DRV-1), or `None` if another thread has it.
    fn try_lock(&self) -> Option<crate::loom::MutexGuard<'_, Core>> {
        if self.polling.load(SeqCst)
            || self
                .polling
                .compare_exchange(false, true, SeqCst, SeqCst)
                .is_err()
        {
            return None;
        }
        // Uncontended: only the thread that set `polling` locks `core`.
        Some(self.core.lock().unwrap())
    }

    /// Wakes `owner` if it is blocked in the driver (rule DRV-2: call it after the work that
    /// `owner` should see is visible).
    pub(crate) fn unpark(&self, owner: usize) {
        fence(SeqCst);
        if self.owner.load(SeqCst) == owner {
            self.poller.notify();
        }
    }

    /// Who holds the driver right now, waiting or dispatching ([`NO_OWNER`] if nobody):
    /// a hint for choosing whom to wake, never for correctness.
    pub(crate) fn holder(&self) -> usize {
        self.holder.load(SeqCst)
    }

    /// Whether a timer is due within `horizon` from now: a hint for the workers' hand-off
    /// policy (see `worker`), never for correctness.
    pub(crate) fn timer_due_within(&self, horizon: Duration) -> bool {
        let limit = self.tick_of(self.clock.now() + horizon);
        let timers = self.timers.lock().unwrap();
        timers
            .wheel
            .next_expiration()
            .is_some_and(|tick| tick <= limit)
    }

    /// Wakes whoever is in the driver, or makes the next wait return at once.
    pub(crate) fn notify(&self) {
        self.poller.notify();
    }

    /// The wait timeout up to the next timer, recording it (rule DRV-3).
    fn sleep_timeout(&self) -> Option<Duration> {
        let mut timers = self.timers.lock().unwrap();
        match timers.wheel.next_expiration() {
            None => {
                timers.sleeping_until = Some(u64::MAX);
                None
            }
            Some(tick) => {
                timers.sleeping_until = Some(tick);
                let at = self.start + tick_duration(tick);
                Some(at.saturating_duration_since(self.clock.now()).min(MAX_WAIT))
            }
        }
    }

    /// Dispatches the events in `core` and fires due timers; releases the driver, then
    /// wakes the tasks. Returns how many it woke.
    fn dispatch(&self, mut guard: crate::loom::MutexGuard<'_, Core>) -> usize {
        let core = &mut *guard;
        if core.events.iter().next().is_some() {
            let sources = self.sources.lock().unwrap();
            for ev in core.events.iter() {
                if let Some(source) = sources.get(ev.key) {
                    core.ready.push((source.clone(), ev));
                }
            }
            drop(sources);
            core.events.clear();
            for (source, ev) in core.ready.drain(..) {
                source.on_event(ev, &mut core.wake);
            }
        }
        let timers_from = core.wake.len();
        {
            let mut timers = self.timers.lock().unwrap();
            let now = self.now_tick();
            if timers.wheel.next_expiration().is_some_and(|t| t <= now) {
                timers.wheel.advance(now, &mut core.wake);
            }
            if !timers.early.is_empty() {
                self.take_due_early(&mut timers, &mut core.wake);
            }
        }
        // Wake with every lock released but before giving the driver up: a woken task may
        // register or drop a source or a timer at once, and the next holder cannot wake a
        // later batch of timers ahead of this one (timers fire in deadline order).
        let mut wake = std::mem::take(&mut core.wake);
        drop(guard);
        let n = wake.len();
        // Rule DRV-5: the timers' wakers come after the I/O ones.
        let first = TimerWakeFirst;
        for (i, waker) in wake.drain(..).enumerate() {
            if i == timers_from {
                first.start();
            }
            waker.wake();
        }
        drop(first);
        // Only the holder locks `core` (rule DRV-1): hand the buffer back for reuse.
        self.core.lock().unwrap().wake = wake;
        self.holder.store(NO_OWNER, SeqCst);
        self.polling.store(false, SeqCst);
        n
    }

    fn now_tick(&self) -> u64 {
        let now = self.clock.now();
        if self.clock.is_paused() {
            // Rule CLOCK-3: the tick containing now, so every timer due by now fires.
            self.tick_of(now)
        } else {
            now.saturating_duration_since(self.start).as_micros() as u64
        }
    }

    /// The runtime's clock.
    pub(crate) fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Rule CLOCK-2: where auto-advance moves a paused clock: the earliest deadline of the
    /// early list, or the first instant that falls in the wheel's next tick (never past a
    /// timer's deadline: an entry's tick is its deadline rounded up). `None` without timers.
    fn paused_next_timer(&self) -> Option<Instant> {
        let timers = self.timers.lock().unwrap();
        let early = timers.early.iter().map(|(d, _, _)| *d).min();
        let wheel = timers.wheel.next_expiration().map(|tick| match tick {
            0 => self.start,
            t => self.start + tick_duration(t - 1) + Duration::from_nanos(1),
        });
        early.into_iter().chain(wheel).min()
    }

    /// Rule CLOCK-3: moves the early entries whose deadline the clock has reached to `wake`.
    fn take_due_early(&self, timers: &mut Timers, wake: &mut Vec<Waker>) {
        let now = self.clock.now();
        let mut i = 0;
        while i < timers.early.len() {
            if timers.early[i].0 <= now {
                wake.push(timers.early.remove(i).2);
            } else {
                i += 1;
            }
        }
    }

    /// After `advance` moved the paused clock: fires every timer due by now and wakes the
    /// tasks, with the locks released (rule CLOCK-3).
    pub(crate) fn fire_due_paused(&self) {
        let mut wake = Vec::new();
        {
            let mut timers = self.timers.lock().unwrap();
            let now = self.now_tick();
            timers.wheel.advance(now, &mut wake);
            self.take_due_early(&mut timers, &mut wake);
        }
        wake.into_iter().for_each(Waker::wake);
    }

    /// After `resume`: the early list's sleeps go back into the wheel at their deadlines'
    /// ticks, where the running clock fires them (or are woken, if already due).
    pub(crate) fn clock_resumed(&self) {
        let mut wake = Vec::new();
        {
            let mut timers = self.timers.lock().unwrap();
            for (deadline, key, waker) in std::mem::take(&mut timers.early) {
                let tick = self.tick_of(deadline);
                timers.wheel.reset(key, tick);
                if timers.wheel.poll_fired(key, &waker) {
                    wake.push(waker);
                } else {
                    wheel::displace(waker);
                }
            }
        }
        wheel::drop_displaced();
        wake.into_iter().for_each(Waker::wake);
    }

    /// Rule CLOCK-3: a sleep whose entry fired while paused before `deadline` waits here
    /// for the clock to reach it. Returns `true` if it already has (nothing stored).
    pub(crate) fn timer_wait_early(&self, key: Key, deadline: Instant, waker: &Waker) -> bool {
        let mut timers = self.timers.lock().unwrap();
        if self.clock.now() >= deadline || self.is_shut_down() {
            return true;
        }
        match timers.early.iter_mut().find(|(_, k, _)| *k == key) {
            Some(entry) => {
                entry.0 = deadline;
                if !entry.2.will_wake(waker) {
                    wheel::displace(std::mem::replace(&mut entry.2, waker.clone()));
                }
            }
            None => timers.early.push((deadline, key, waker.clone())),
        }
        false
    }

    /// The wheel tick of `deadline`, rounded up so no timer fires early.
    fn tick_of(&self, deadline: Instant) -> u64 {
        let d = deadline.saturating_duration_since(self.start);
        let ticks = d.as_micros() as u64;
        if d > tick_duration(ticks) {
            ticks + 1
        } else {
            ticks
        }
    }

    // ---- I/O sources ----

    fn register(&self, fd: RawFd) -> io::Result<Arc<Source>> {
        if self.is_shut_down() {
            return Err(io::Error::other("the magpie runtime has shut down"));
        }
        let mut sources = self.sources.lock().unwrap();
        let entry = sources.vacant_entry();
        let source = Arc::new(Source::new(fd, entry.key()));
        self.poller.add(fd, entry.key())?;
        entry.insert(source.clone());
        Ok(source)
    }

    fn deregister(&self, source: &Arc<Source>) {
        let removed = {
            let mut sources = self.sources.lock().unwrap();
            match sources.get(source.key()) {
                Some(s) if Arc::ptr_eq(s, source) => Some(sources.remove(source.key())),
                _ => None,
            }
        };
        // Rule SRC-1: the owner closes the descriptor only after this returns.
        let _ = self.poller.delete(source.fd());
        let mut wake = Vec::new();
        source.close(&mut wake);
        drop(removed);
        wake.into_iter().for_each(Waker::wake);
    }

    /// Registered sources (for tests and metrics).
    pub(crate) fn source_count(&self) -> usize {
        self.sources.lock().unwrap().len()
    }

    // ---- timers ----

    /// Adds a timer; returns its key.
    pub(crate) fn timer_insert(&self, deadline: Instant, waker: &Waker) -> Key {
        let tick = self.tick_of(deadline);
        let mut timers = self.timers.lock().unwrap();
        if self.is_shut_down() {
            // Never fires: report it fired, so no sleep outlives its runtime (see `time`).
            return timers.wheel.insert(0, None);
        }
        let key = timers.wheel.insert(tick, Some(waker.clone()));
        if timers.sleeping_until.is_some_and(|s| tick < s) {
            timers.sleeping_until = Some(tick);
            self.poller.notify();
        }
        key
    }

    /// Whether the timer fired; if not, `waker` is stored to be woken when it does.
    pub(crate) fn timer_poll(&self, key: Key, waker: &Waker) -> bool {
        self.timers.lock().unwrap().wheel.poll_fired(key, waker)
    }

    /// Moves a timer to a new deadline.
    pub(crate) fn timer_reset(&self, key: Key, deadline: Instant) {
        let tick = self.tick_of(deadline);
        let mut timers = self.timers.lock().unwrap();
        if self.is_shut_down() {
            return;
        }
        timers.wheel.reset(key, tick);
        if let Some(i) = timers.early.iter().position(|(_, k, _)| *k == key) {
            // The sleep waits for its new deadline now (CLOCK-3, WHEEL-2).
            wheel::displace(timers.early.remove(i).2);
        }
        if timers.sleeping_until.is_some_and(|s| tick < s) {
            timers.sleeping_until = Some(tick);
            self.poller.notify();
        }
    }

    /// Removes a timer (fired or not).
    pub(crate) fn timer_remove(&self, key: Key) {
        let mut timers = self.timers.lock().unwrap();
        timers.wheel.remove(key);
        if let Some(i) = timers.early.iter().position(|(_, k, _)| *k == key) {
            // The key is free again: no early entry may outlive it (CLOCK-3, WHEEL-2).
            wheel::displace(timers.early.remove(i).2);
        }
    }

    /// Timers in the wheel, fired or not (for tests and metrics).
    pub(crate) fn timer_count(&self) -> usize {
        self.timers.lock().unwrap().wheel.len()
    }

    /// Shuts the driver down: every source is closed and its waiters woken with an error
    /// (rule SRC-2), every timer fires, and whoever is in the driver returns.
    pub(crate) fn shutdown(&self) {
        if self.shut_down.swap(true, SeqCst) {
            return;
        }
        let mut wake = Vec::new();
        let sources: Vec<Arc<Source>> = {
            let sources = self.sources.lock().unwrap();
            sources.iter().map(|(_, s)| s.clone()).collect()
        };
        for source in &sources {
            source.close(&mut wake);
        }
        {
            let mut timers = self.timers.lock().unwrap();
            timers.wheel.fire_all(&mut wake);
            wake.extend(timers.early.drain(..).map(|(_, _, w)| w));
        }
        self.poller.notify();
        wake.into_iter().for_each(Waker::wake);
    }
}

impl std::fmt::Debug for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver")
            .field("shut_down", &self.is_shut_down())
            .finish_non_exhaustive()
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    //! The hand-off of rule DRV-2: a worker blocked in the driver is always woken for work
    //! made visible by another thread. The poller is the loom stand-in (`poller.rs`), whose
    //! untimed wait blocks until notified, so a lost wake-up shows as a loom deadlock.

    use super::*;
    use crate::loom::atomic::AtomicBool;
    use loom::thread;

    #[test]
    fn loom_driver_handoff_notify_wakes_the_owner() {
        loom::model(|| {
            let driver = Driver::new().unwrap();
            let work = Arc::new(AtomicBool::new(false));
            let (d, w) = (driver.clone(), work.clone());
            let waker = thread::spawn(move || {
                w.store(true, SeqCst); // the work becomes visible first...
                d.unpark(0); // ...then the owner is read (rule DRV-2)
            });
            let mut parks = 0;
            while !work.load(SeqCst) {
                // Worker 0 parks in the driver, re-checking for work after publishing itself.
                driver
                    .try_park(0, || !work.load(SeqCst))
                    .expect("nobody else holds the driver");
                parks += 1;
                assert!(parks <= 2, "woken without work more than once");
            }
            waker.join().unwrap();
            assert_eq!(driver.holder(), NO_OWNER);
            assert_eq!(driver.owner.load(SeqCst), NO_OWNER);
        });
    }

    #[test]
    fn loom_driver_two_parkers_one_waits_one_polls() {
        // Two threads reach the driver at once: at most one polls at a time, the other is
        // refused; shutdown's notify releases one blocked in the wait.
        loom::model(|| {
            let driver = Driver::new().unwrap();
            let d = driver.clone();
            let other = thread::spawn(move || d.try_park(1, || !d.is_shut_down()));
            let mine = driver.try_park(0, || false); // polls without blocking
            driver.shutdown(); // its notify releases `other` if it waits
            let theirs = other.join().unwrap();
            assert!(mine.is_some() || theirs.is_some());
        });
    }
}

/// How many tasks woken by expired timers in one driver poll a current-thread runtime runs
/// ahead of its queue (rules DRV-5, CT-2).
pub(crate) const TIMER_WAKES_FIRST: u32 = 32;

thread_local_const! {
    /// Rule DRV-5: while this thread wakes the tasks of expired timers, how many more of
    /// them may jump the current-thread queue; 0 at every other moment.
    static TIMER_FIRST: std::cell::Cell<u32> = std::cell::Cell::new(0);
}

/// Whether the task being scheduled right now was woken by an expired timer and may still
/// run ahead of the queue (rule CT-2); counts it if so. Read by the current-thread
/// scheduler's `schedule`.
pub(crate) fn timer_wake_first() -> bool {
    TIMER_FIRST.with(|left| {
        let n = left.get();
        if n > 0 {
            left.set(n - 1);
        }
        n > 0
    })
}

/// Rule DRV-5: `start` lets the next `TIMER_WAKES_FIRST` wakes jump the queue; the drop
/// clears it, also if a wake panics.
struct TimerWakeFirst;

impl TimerWakeFirst {
    fn start(&self) {
        TIMER_FIRST.with(|left| left.set(TIMER_WAKES_FIRST));
    }
}

impl Drop for TimerWakeFirst {
    fn drop(&mut self) {
        TIMER_FIRST.with(|left| left.set(0));
    }
}

/// The timer wheel's tick: one microsecond, counted from the driver's start. A timer
/// fires at its deadline rounded up to the microsecond, never early; the poller sleeps to
/// the nanosecond (rule POLL-2). (It was a millisecond: a 1 ms sleep took 1-2 ms.)
fn tick_duration(ticks: u64) -> Duration {
    Duration::from_micros(ticks)
}

#[cfg(all(test, not(loom)))]
mod tick_tests {
    use super::*;

    /// The wheel counts microseconds (a 1 ms tick made every 1 ms sleep take 1-2 ms), and
    /// a deadline inside a tick rounds up to its end: never early.
    #[test]
    fn ticks_are_microseconds_rounded_up() {
        let driver = Driver::with_clock(Clock::new(false, false)).unwrap();
        let start = driver.start;
        assert_eq!(driver.tick_of(start), 0);
        assert_eq!(driver.tick_of(start + Duration::from_micros(1)), 1);
        assert_eq!(driver.tick_of(start + Duration::from_nanos(1_500)), 2);
        assert_eq!(driver.tick_of(start + Duration::from_millis(1)), 1_000);
        assert_eq!(tick_duration(1_000), Duration::from_millis(1));
    }
}
