//! What both schedulers share: the owned-task registry, the closed flag, the I/O and
//! timer driver, the blocking pool and the settings; and the one shutdown sequence.
//!
//! # Shutdown (rules SHUT-1 to SHUT-6)
//!
//! [`Services::shutdown`] runs the steps below in this order, for either scheduler; the
//! scheduler-specific parts are the three methods of [`Stop`]. The runtime facade enters
//! the runtime's context around it (futures dropped here may spawn or look up the current
//! runtime in their `Drop`) and makes sure it runs once.
//!
//! - SHUT-1, close: `closed = true` (`SeqCst`), the registry refuses further spawns (a
//!   refused spawn drops its future at once and its handle yields cancelled), then a
//!   `SeqCst` fence. From here a runnable is dropped, never run (rule TASK-3).
//! - SHUT-2, wake: every scheduler thread is unparked wherever it sleeps (its parker, and
//!   the driver through `Driver::notify`, whose notification is kept if nobody waits yet),
//!   so it sees `closed` at its next check.
//! - SHUT-3, stop: the scheduler's threads leave their loops, each dropping what is in its
//!   own queues on the way; the caller waits for them until the deadline (a thread stuck in
//!   a long poll is then detached and drops its own tasks when it returns; a runtime
//!   dropped from one of its own threads does not wait for that thread).
//! - SHUT-4, drop the rest: the shared queues are drained, then every task still listed
//!   in the registry (tasks parked forever) is woken; each wake finds the runtime closed
//!   and drops its runnable (TASK-3). Repeated while that makes progress.
//! - SHUT-5, the driver: sources still registered (held outside any task) fail from now
//!   on instead of waiting, and every timer fires.
//! - SHUT-6, the blocking pool: closures not yet started are cancelled, running ones are
//!   waited for with what is left of the deadline.
//!
//! Rule SHUT-7, a remote push racing shutdown ([`Services::push_remote`]): the pusher
//! re-checks `closed` after its push, with a `SeqCst` fence between that pairs with
//! SHUT-1's; if it lost the race it drains the queue itself, so no runnable is stranded in
//! a queue nobody drains. Every future is dropped exactly once: by its last poll, or by the
//! drop of its runnable, never both.

use std::io;
use std::time::{Duration, Instant};

use crossbeam_utils::CachePadded;

use crate::blocking::Pool;
use crate::config::Config;
use crate::driver::Driver;
use crate::loom::atomic::{fence, AtomicBool, Ordering};
use crate::loom::Arc;
use crate::task::{OwnedTasks, Runnable};

/// The parts of one runtime that do not depend on its scheduler.
pub(crate) struct Services {
    pub(crate) owned: OwnedTasks,
    closed: CachePadded<AtomicBool>,
    /// I/O and timers; idle scheduler threads park in it (`driver`'s DRV rules).
    pub(crate) driver: Arc<Driver>,
    pub(crate) blocking: Pool,
    pub(crate) config: Config,
    /// How many `block_on` calls are running on this runtime: their futures are not tasks
    /// and record no waits, so the stall watchdog never reports while one runs.
    pub(crate) block_ons: std::sync::atomic::AtomicUsize,
    /// The polls in progress, for the slow-poll watchdog (rule WD-1); only with a threshold.
    pub(crate) poll_stamps: Option<crate::diag::stamps::PollStamps>,
    /// The coarse time its scheduler threads last read (rule DIAG-5).
    pub(crate) recent: crate::diag::task::RecentTime,
    /// Dumps taken of this runtime (`Handle::dump` and the watchdog's), for tests.
    pub(crate) snapshots: std::sync::atomic::AtomicUsize,
}

/// The scheduler-specific steps of [`Services::shutdown`].
pub(crate) trait Stop {
    /// SHUT-2: unparks every scheduler thread from its own parker (the driver is notified
    /// by the caller).
    fn unpark_all(&self);
    /// SHUT-3: makes the scheduler's threads leave their loops, dropping their own queues,
    /// and waits for them until `deadline`.
    fn stop_threads(&self, deadline: Option<Instant>);
    /// SHUT-4: drops every runnable in the queues shared with other threads. Runnables are
    /// dropped outside any lock: a future's drop may wake other tasks.
    fn drain_queues(&self);
}

impl Services {
    /// The services of a new runtime: a driver, an idle blocking pool, a registry with at
    /// least `registry_shards` shards; poll stamps for `workers` workers if the slow-poll
    /// watchdog is on.
    ///
    /// # Errors
    ///
    /// The OS's error if the driver's poller cannot be created.
    pub(crate) fn new(
        config: Config,
        registry_shards: usize,
        workers: usize,
    ) -> io::Result<Services> {
        let clock = crate::time::clock::Clock::new(config.clock_pausable, config.start_paused);
        let driver = Driver::with_clock(clock)?;
        let blocking = Pool::new(
            config.max_blocking_threads,
            config.thread_keep_alive,
            format!("{}-blocking", config.thread_name),
            config.thread_stack_size,
        );
        let poll_stamps = config
            .watchdog
            .slow_poll_threshold
            .map(|_| crate::diag::stamps::PollStamps::new(workers));
        Ok(Services {
            poll_stamps,
            owned: OwnedTasks::new(registry_shards),
            closed: CachePadded::new(AtomicBool::new(false)),
            driver,
            blocking,
            config,
            block_ons: std::sync::atomic::AtomicUsize::new(0),
            snapshots: std::sync::atomic::AtomicUsize::new(0),
            recent: crate::diag::task::RecentTime::new(),
        })
    }

    /// A busy scheduler thread's look at I/O and timers: refreshes the recent time (rule
    /// DIAG-5), then polls the driver without blocking if nobody else is in it. Returns the
    /// number of tasks woken.
    #[inline]
    pub(crate) fn poll_driver_now(&self) -> usize {
        self.recent.refresh();
        self.driver.try_poll_now()
    }

    /// Whether shutdown has begun (SHUT-1).
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Queues `task` from outside the scheduler's own threads with `push`, racing shutdown
    /// by rule SHUT-7: returns `true` if the task was queued on an open runtime (the caller
    /// then wakes a thread), `false` if it was dropped (TASK-3) or drained by `drain`.
    pub(crate) fn push_remote(
        &self,
        task: Runnable,
        push: impl FnOnce(Runnable),
        drain: impl FnOnce(),
    ) -> bool {
        if self.is_closed() {
            crate::task::drop_closed(task); // rule TASK-3
            return false;
        }
        push(task);
        // SHUT-7: pairs with SHUT-1's fence, and with the parking re-checks (IDLE rules,
        // DRV-2) that a notify after this must not miss.
        fence(Ordering::SeqCst);
        if self.closed.load(Ordering::Relaxed) {
            // Shutdown may have drained the queue before our push landed.
            drain();
            return false;
        }
        true
    }

    /// Shuts the runtime down (SHUT-1 to SHUT-6, see the module docs), waiting at most
    /// `timeout` in all for the scheduler's threads and the blocking pool. Idempotent.
    pub(crate) fn shutdown(&self, timeout: Option<Duration>, stop: &impl Stop) {
        let deadline = timeout.map(|t| Instant::now() + t);
        // SHUT-1
        self.closed.store(true, Ordering::SeqCst);
        self.owned.close();
        fence(Ordering::SeqCst);
        // SHUT-2
        stop.unpark_all();
        self.driver.notify();
        // SHUT-3
        stop.stop_threads(deadline);
        // SHUT-4
        self.drop_remaining_tasks(|| stop.drain_queues());
        // SHUT-5
        self.driver.shutdown();
        // SHUT-6
        let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        self.blocking.shutdown(left);
    }

    /// SHUT-4: drops every task still listed after the scheduler's threads stopped: those
    /// in its queues (`drain` empties them), and those parked forever, woken through their
    /// registry waker; the wake finds the runtime closed and drops the runnable (TASK-3).
    fn drop_remaining_tasks(&self, drain: impl Fn()) {
        drain();
        let mut left = self.owned.len();
        while left > 0 {
            for waker in self.owned.take_all() {
                waker.wake();
            }
            drain();
            let now = self.owned.len();
            if now >= left {
                // No progress: what is left is running on a thread that outlived the
                // shutdown timeout, or is being queued by another thread right now; each is
                // dropped by that thread, which finds the runtime closed.
                break;
            }
            left = now;
        }
    }
}
