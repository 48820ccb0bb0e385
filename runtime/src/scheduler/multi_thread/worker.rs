//! A worker thread: its queues, its run loop, its search and its parking.
//!
//! Run order each tick: every `global_queue_interval` ticks the injector first (so remote
//! work is never starved by a busy local queue); then the LIFO slot, at most
//! [`MAX_LIFO_POLLS`] times in a row (so two tasks waking each other cannot starve the
//! rest); then the local queue; then the injector; then a batch stolen from a random
//! victim; then park. Every `event_interval` ticks a busy worker also polls the I/O driver
//! without blocking (if nobody else holds it), so I/O and timers keep flowing under load.
//!
//! Parking, and who holds the driver meanwhile, is the policy of [`park`](super::park)
//! (rules PARK-1 to PARK-6); the sleeper counts are [`idle`](super::idle)'s.

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

/// How many times in a row a worker may run the task in its LIFO slot.
pub(crate) const MAX_LIFO_POLLS: u8 = 3;

thread_local_const! {
    /// The worker running on this thread, if any (null otherwise). Set for the whole run
    /// loop by `Worker::run` and cleared before the worker is dropped (rule WORKER-1).
    static CURRENT: Cell<*const Worker> = Cell::new(ptr::null());
}

/// A worker's own state. Lives on its thread's stack for the whole run loop.
///
/// Rule WORKER-1: `CURRENT` points at it exactly while `run` executes, and only this thread
/// reads `CURRENT`, so a non-null `CURRENT` is always a live `&Worker`. Everything in it
/// that changes is a `Cell` (or crossbeam's `&self` queue), because tasks polled by this
/// worker reach it again through `CURRENT` to schedule locally.
pub(crate) struct Worker {
    pub(super) shared: Arc<Shared>,
    pub(super) index: usize,
    pub(super) local: Local,
    /// Set while a task on this worker runs `block_in_place` (rule BIP-1).
    pub(super) in_block_in_place: Cell<bool>,
    pub(super) lifo: Cell<Option<Runnable>>,
    lifo_streak: Cell<u8>,
    tick: Cell<u32>,
    /// Ticks between looks at the injector first; tuned by `tune_global_queue_interval`.
    global_queue_interval: Cell<u32>,
    /// When the current batch of `event_interval` ticks began (for tuning).
    batch_start: Cell<Instant>,
    pub(super) is_searching: Cell<bool>,
    rng: Cell<u64>,
    pub(super) parker: Parker,
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
    // SAFETY: rule WORKER-1: non-null means a live worker on this very thread.
    let worker = unsafe { &*current };
    if !ptr::eq(Arc::as_ptr(&worker.shared), target) || worker.in_block_in_place.get() {
        // BIP-1: a worker inside block_in_place queues nothing of its own.
        return Err(task);
    }
    worker.schedule_local(task, is_yield);
    Ok(())
}

/// Calls `f` with the worker running on this thread, if any (rule WORKER-1).
pub(super) fn with_current<R>(f: impl FnOnce(Option<&Worker>) -> R) -> R {
    let current = CURRENT.with(|c| c.get());
    // SAFETY: rule WORKER-1: non-null means a live worker on this very thread, and `f`
    // cannot keep the reference past this call.
    f(unsafe { current.as_ref() })
}

/// The index of the worker running on this thread, if any (rule WORKER-1): the
/// `SlowPoll::worker` of a poll it runs.
pub(crate) fn current_index() -> Option<usize> {
    with_current(|w| w.map(|w| w.index))
}

/// Whether the calling thread is one of `shared`'s workers.
pub(crate) fn is_worker_of(shared: &Shared) -> bool {
    let current = CURRENT.with(|c| c.get());
    // SAFETY: rule WORKER-1: non-null means a live worker on this very thread.
    !current.is_null() && ptr::eq(Arc::as_ptr(unsafe { &(*current).shared }), shared)
}

impl Worker {
    pub(crate) fn new(shared: Arc<Shared>, index: usize, local: Local, parker: Parker) -> Self {
        Worker {
            index,
            local,
            in_block_in_place: Cell::new(false),
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

    pub(super) fn counters(&self) -> &WorkerCounters {
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
                let forced = self.run_task(task);
                if self.tick.get() % self.shared.services.config.event_interval == 0 {
                    self.shared.services.poll_driver_now();
                    self.tune_global_queue_interval();
                } else if forced {
                    // A task that used its whole budget ran long: look at I/O and timers
                    // before the next task, as the current-thread loop does (a task that
                    // keeps finding work must not hold them for `event_interval` budgets).
                    self.shared.services.poll_driver_now();
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

    /// Runs `task`; returns whether the budget forced it to yield.
    fn run_task(&self, task: Runnable) -> bool {
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
        forced
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
        // IDLE-8: the rest of the batch landed on our queue: stealable work, made visible
        // to the others by no push of theirs. A searcher wakes a worker when it stops
        // searching (IDLE-4, `run_task`); any other worker must do it here, fenced like a
        // push from outside: else a searcher that found the injector already empty and our
        // queue not yet filled could park for good while we run the batch's first task
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

    fn schedule_local(&self, task: Runnable, is_yield: bool) {
        if self.shared.is_closed() {
            crate::task::drop_closed(task); // rule TASK-3
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
                Some(task) => crate::task::drop_closed(task), // rule TASK-3
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
