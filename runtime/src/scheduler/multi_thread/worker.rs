//! A worker thread: its queues, its run loop, its search and its parking.
//!
//! Run order each tick: every `global_queue_interval` ticks the injector first (so remote
//! work is never starved by a busy local queue); then the LIFO slot, at most
//! [`MAX_LIFO_POLLS`] times in a row (so two tasks waking each other cannot starve the
//! rest); then the local queue; then the injector; then a batch stolen from a random
//! victim; then park. Every `event_interval` ticks a busy worker also polls the I/O driver
//! without blocking (if nobody else holds it), so I/O and timers keep flowing under load.
//!
//! Parking goes through the driver (`driver`'s hand-off protocol): the first parking
//! worker to get the driver waits in `Poller::wait` until the next timer, the others on
//! their own parkers. Tasks the driver wakes go to the polling worker's own queues; if it
//! finds some there when it returns, it takes itself off the sleepers and releases the
//! driver; if it holds more than one task or a timer is due soon, it also wakes one more
//! worker, which takes the driver over when it parks (`should_hand_off_driver`).

use std::cell::Cell;
use std::ptr;
use std::time::{Duration, Instant};

use magpie_sync::coop;

use super::queue::Local;
use super::Shared;
use crate::context::RuntimeEntered;
use crate::loom::{thread_local_const, Arc, Parker};
use crate::metrics::WorkerCounters;
use crate::scheduler::Scheduler;
use crate::task::Runnable;

/// How much polling time a worker aims to let pass between looks at the injector first.
const GLOBAL_QUEUE_TARGET: Duration = Duration::from_micros(50);

/// A worker leaving the driver with a single task to run hands the driver on only if a
/// timer is due within this horizon (see [`Worker::should_hand_off_driver`]).
const HANDOFF_TIMER_HORIZON: Duration = Duration::from_millis(20);

/// How many times in a row a worker may run the task in its LIFO slot.
pub(crate) const MAX_LIFO_POLLS: u8 = 3;

thread_local_const! {
    /// The worker running on this thread, if any (null otherwise). Set for the whole run
    /// loop by `Worker::run` and cleared before the worker is dropped (worker rule 1).
    static CURRENT: Cell<*const Worker> = Cell::new(ptr::null());
}

/// A worker's own state. Lives on its thread's stack for the whole run loop.
///
/// Worker rule 1: `CURRENT` points at it exactly while `run` executes, and only this thread
/// reads `CURRENT`, so a non-null `CURRENT` is always a live `&Worker`. Everything in it
/// that changes is a `Cell` (or crossbeam's `&self` queue), because tasks polled by this
/// worker reach it again through `CURRENT` to schedule locally.
pub(crate) struct Worker {
    shared: Arc<Shared>,
    index: usize,
    local: Local,
    lifo: Cell<Option<Runnable>>,
    lifo_streak: Cell<u8>,
    tick: Cell<u32>,
    /// Ticks between looks at the injector first; tuned by `tune_global_queue_interval`.
    global_queue_interval: Cell<u32>,
    /// When the current batch of `event_interval` ticks began (for tuning).
    batch_start: Cell<Instant>,
    is_searching: Cell<bool>,
    rng: Cell<u64>,
    parker: Parker,
}

/// Schedules `task` on the current thread's worker if that worker belongs to `target`;
/// gives the task back otherwise.
pub(crate) fn try_schedule_local(
    target: *const Shared,
    task: Runnable,
    is_yield: bool,
) -> Result<(), Runnable> {
    let current = CURRENT.with(|c| c.get());
    if current.is_null() {
        return Err(task);
    }
    // SAFETY: worker rule 1: non-null means a live worker on this very thread.
    let worker = unsafe { &*current };
    if !ptr::eq(Arc::as_ptr(&worker.shared), target) {
        return Err(task);
    }
    worker.schedule_local(task, is_yield);
    Ok(())
}

/// Whether the calling thread is one of `shared`'s workers.
pub(crate) fn is_worker_of(shared: &Shared) -> bool {
    let current = CURRENT.with(|c| c.get());
    // SAFETY: worker rule 1: non-null means a live worker on this very thread.
    !current.is_null() && ptr::eq(Arc::as_ptr(unsafe { &(*current).shared }), shared)
}

impl Worker {
    pub(crate) fn new(shared: Arc<Shared>, index: usize, local: Local, parker: Parker) -> Self {
        Worker {
            index,
            local,
            lifo: Cell::new(None),
            lifo_streak: Cell::new(0),
            tick: Cell::new(0),
            global_queue_interval: Cell::new(shared.services.config.global_queue_interval),
            batch_start: Cell::new(Instant::now()),
            is_searching: Cell::new(false),
            // Any odd seed differing per worker: xorshift needs non-zero.
            rng: Cell::new(0x9E37_79B9_7F4A_7C15 ^ ((index as u64 + 1) << 1) | 1),
            parker,
            shared,
        }
    }

    fn counters(&self) -> &WorkerCounters {
        &self.shared.counters[self.index]
    }

    /// The worker thread's body.
    pub(crate) fn run(self) {
        let shared = self.shared.clone();
        if let Some(f) = &shared.services.config.on_thread_start {
            f();
        }
        {
            let _entered = RuntimeEntered::enter_blocking(Scheduler::MultiThread(shared.clone()));
            CURRENT.with(|c| c.set(&self));
            self.run_loop();
            self.drain_own_queues();
            CURRENT.with(|c| c.set(ptr::null()));
        }
        drop(self);
        if let Some(f) = &shared.services.config.on_thread_stop {
            f();
        }
        let mut alive = shared.alive.lock().unwrap();
        *alive -= 1;
        // Every exit, not just the last: a shutdown run from a worker waits for all but one.
        shared.all_exited.notify_all();
    }

    fn run_loop(&self) {
        while !self.shared.is_closed() {
            if let Some(task) = self.next_task() {
                self.run_task(task);
                if self.tick.get() % self.shared.services.config.event_interval == 0 {
                    self.shared.services.driver.try_poll_now();
                    self.tune_global_queue_interval();
                }
                continue;
            }
            if let Some(task) = self.search() {
                self.run_task(task);
                continue;
            }
            self.park();
            // Time asleep is not polling time.
            self.batch_start.set(Instant::now());
        }
    }

    fn run_task(&self, task: Runnable) {
        if self.is_searching.get() {
            self.is_searching.set(false);
            if self.shared.idle.transition_worker_from_searching() {
                // The last searcher found work: there may be more, wake one more worker.
                self.shared.notify_parked(true);
            }
        }
        let counters = self.counters();
        counters.polls.bump();
        let (_, forced) = coop::with_budget(coop::DEFAULT_BUDGET, || task.run());
        if forced {
            counters.forced_yields.bump();
        }
    }

    fn next_task(&self) -> Option<Runnable> {
        let tick = self.tick.get().wrapping_add(1);
        self.tick.set(tick);
        if tick % self.global_queue_interval.get() == 0 {
            if let Some(task) = self.pop_injector() {
                self.lifo_streak.set(0);
                return Some(task);
            }
        }
        if let Some(task) = self.lifo.take() {
            if self.lifo_streak.get() < MAX_LIFO_POLLS {
                self.lifo_streak.set(self.lifo_streak.get() + 1);
                self.counters().lifo_hits.bump();
                return Some(task);
            }
            // Capped: the slot's task waits its turn at the back of the queue.
            self.local.push(task);
        }
        self.lifo_streak.set(0);
        self.local.pop().or_else(|| self.pop_injector())
    }

    /// Adapts how often the injector is looked at first to how long tasks take: aim for
    /// about every [`GLOBAL_QUEUE_TARGET`] of polling, between 2 ticks and the configured
    /// interval. With long polls (the busy tasks of `spawn_many_remote_busy`: 10 µs each)
    /// a fixed 61 ticks would leave remote spawns waiting 600 µs per batch; with trivial
    /// polls the configured interval stands. Called every `event_interval` ticks.
    fn tune_global_queue_interval(&self) {
        let config = &self.shared.services.config;
        if !config.adaptive_global_queue_interval {
            return;
        }
        let now = Instant::now();
        let per_tick =
            now.saturating_duration_since(self.batch_start.replace(now)) / config.event_interval;
        let ticks = if per_tick.is_zero() {
            config.global_queue_interval
        } else {
            (GLOBAL_QUEUE_TARGET.as_nanos() / per_tick.as_nanos())
                .clamp(2, config.global_queue_interval as u128) as u32
        };
        self.global_queue_interval.set(ticks);
    }

    fn pop_injector(&self) -> Option<Runnable> {
        let task = self.shared.injector.steal_batch_and_pop(&self.local)?;
        self.counters().injector_pops.bump();
        // The rest of the batch landed on our queue: stealable work, made visible to the
        // others by no push of theirs. A searcher wakes a worker when it stops searching
        // (`run_task`); any other worker must do it here, fenced like a push from outside
        // (docs/architecture.md, "Injector batches"): else a searcher that found the
        // injector already empty and our queue not yet filled could park for good while
        // we run the batch's first task. With a task that holds its worker until another
        // task of the batch runs, that was a hang
        // (`regression_injector_batch_strands_tasks_behind_a_spinning_task`).
        if !self.is_searching.get() && !self.shared.remotes[self.index].stealer.is_empty() {
            self.shared.notify_parked(true);
        }
        Some(task)
    }

    /// Steals from a random victim, then from the injector. Only a searching worker steals,
    /// and at most about half the workers search (see `idle`).
    fn search(&self) -> Option<Runnable> {
        if !self.is_searching.get() {
            if !self.shared.idle.transition_worker_to_searching() {
                return None;
            }
            self.is_searching.set(true);
        }
        let remotes = &self.shared.remotes;
        let n = remotes.len();
        let start = self.next_random() as usize % n;
        for i in 0..n {
            let victim = (start + i) % n;
            if victim == self.index {
                continue;
            }
            if let Some(task) = remotes[victim].stealer.steal_batch_and_pop(&self.local) {
                self.counters().steals.bump();
                crate::trace::event!(target: "magpie::scheduler", worker = self.index, victim, "steal");
                return Some(task);
            }
        }
        self.pop_injector()
    }

    fn park(&self) {
        let shared = &*self.shared;
        let none_searching = shared
            .idle
            .transition_worker_to_parked(self.index, self.is_searching.get());
        self.is_searching.set(false);
        if none_searching && shared.has_pending_work() {
            // Work arrived while we searched (its pusher saw us searching), or a searcher
            // found work and left searching before it could see us parked: wake someone
            // (possibly ourselves: we are already listed as a sleeper).
            shared.notify_parked(false);
        }
        self.counters().parks.bump();
        crate::trace::event!(target: "magpie::scheduler", worker = self.index, "park");
        self.park_until_woken();
        crate::trace::event!(target: "magpie::scheduler", worker = self.index, "unpark");
    }

    /// The loop of [`park`](Self::park): returns once this worker may run tasks again (or
    /// the runtime is closing).
    fn park_until_woken(&self) {
        let shared = &*self.shared;
        loop {
            if shared.is_closed() {
                return;
            }
            // Driver rule D2: the re-check runs after we are published as the owner.
            let in_driver = shared.services.driver.try_park(self.index, || {
                shared.idle.is_parked(self.index) && !shared.is_closed()
            });
            if in_driver.is_none() {
                self.parker.park();
            }
            if shared.is_closed() {
                return;
            }
            if !shared.idle.is_parked(self.index) {
                // Notified: `worker_to_notify` counted us as unparked and searching.
                self.is_searching.set(true);
                if in_driver.is_some() {
                    self.hand_off_driver();
                }
                return;
            }
            if self.has_own_work() {
                // The driver queued woken tasks on our own queues while we are listed as a
                // sleeper: take ourselves off, and wake another worker, which takes the
                // driver over when it parks (no worker keeps the driver while running tasks).
                if shared.idle.unpark_self(self.index) {
                    if self.should_hand_off_driver() {
                        shared.notify_parked(true);
                    }
                } else {
                    // A notifier popped us meanwhile and counted us as searching.
                    self.is_searching.set(true);
                }
                return;
            }
            // A stale token, a timer that woke no task here, or a spurious wake-up: we are
            // still listed as a sleeper, so park again.
        }
    }

    /// We were the driver's holder and are leaving it to run tasks: nudge a worker parked on
    /// its own parker, so it parks again, this time in the driver. Otherwise, if the task
    /// we run blocks our thread, timers and I/O would wait for it (the other sleepers went
    /// to their parkers while we held the driver). The nudge changes no count: the woken
    /// worker finds itself still listed as a sleeper and re-parks (rule D1 lets it in now
    /// that we left).
    fn hand_off_driver(&self) {
        if !self
            .shared
            .services
            .driver
            .timer_due_within(HANDOFF_TIMER_HORIZON)
        {
            return;
        }
        if let Some(other) = self.shared.idle.another_sleeper(self.index) {
            self.shared.unpark_worker(other);
        }
    }

    /// Leaving the driver with tasks of our own: whether to wake another worker, which
    /// takes the driver over when it parks (driver hand-off policy, docs/architecture.md).
    ///
    /// Yes when we hold more than one task (the wake spreads them, as a push would), or
    /// when a timer is due within [`HANDOFF_TIMER_HORIZON`] (so a task of ours that blocks
    /// its thread does not hold those timers up). With a single task and no near timer we
    /// keep going alone, as tokio does: the common I/O case (one connection's task woken
    /// per event) then costs no futex wake and no context switch for a worker that would
    /// find nothing to do; measured on the RESP server, about 1 µs of server CPU per
    /// request (docs/benchmarks.md). I/O readiness and far timers then wait for this
    /// worker's next driver poll (every `event_interval` ticks, or when it parks).
    fn should_hand_off_driver(&self) -> bool {
        let lifo = self.lifo.take();
        let held = usize::from(lifo.is_some()) + self.shared.remotes[self.index].stealer.len();
        self.lifo.set(lifo);
        held > 1
            || self
                .shared
                .services
                .driver
                .timer_due_within(HANDOFF_TIMER_HORIZON)
    }

    /// Whether this worker's LIFO slot or queue holds a task.
    fn has_own_work(&self) -> bool {
        let lifo = self.lifo.take();
        let has = lifo.is_some();
        self.lifo.set(lifo);
        has || !self.shared.remotes[self.index].stealer.is_empty()
    }

    fn schedule_local(&self, task: Runnable, is_yield: bool) {
        if self.shared.is_closed() {
            crate::task::drop_closed(task); // ownership rule 3
            return;
        }
        let stealable = if is_yield {
            self.local.push(task);
            true
        } else {
            match self.lifo.replace(Some(task)) {
                Some(prev) => {
                    self.local.push(prev);
                    true
                }
                None => false,
            }
        };
        // Only a task others can steal is worth waking a worker for. No fence: we drain our
        // own queue ourselves, so a missed notify costs parallelism, never progress.
        if stealable && !self.is_searching.get() {
            self.shared.notify_parked(false);
        }
    }

    fn drain_own_queues(&self) {
        // Dropping a runnable drops its future, which may wake other tasks: those wakes
        // find the runtime closed and drop their runnables too.
        loop {
            let task = self.lifo.take().or_else(|| self.local.pop());
            match task {
                Some(task) => drop(task),
                None => break,
            }
        }
    }

    fn next_random(&self) -> u64 {
        // xorshift64
        let mut x = self.rng.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng.set(x);
        x
    }
}
