//! The watchdog thread behind `Builder::detect_deadlocks` and `Builder::slow_poll_threshold`.
//!
//! One background thread per runtime that only reads: every tick it takes a
//! [`Dump`](super::Dump) (which needs no worker) and
//!
//! - WD-1 (slow polls): notes each task it sees `Running` with its poll count; a task seen
//!   running the same poll for at least the threshold is reported once, while the poll still
//!   runs. `elapsed` is measured from the first tick that saw the poll, so it is a lower
//!   bound, late by at most one tick (a quarter of the threshold);
//! - WD-2 (deadlocks): every period, lists the cycles of the wait-for graph with each
//!   member's poll count; a cycle is reported only if the previous check saw exactly the
//!   same cycle with the same poll counts (nothing in it moved for a whole period), and
//!   only once while it lasts. A cycle that resolves by itself is never reported.
//!
//! The thread stops when the runtime shuts down (before its tasks are dropped).

#[cfg(not(loom))]
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::panic::Location;
use std::sync::Arc as StdArc;
use std::time::Duration;
#[cfg(not(loom))]
use std::time::Instant;

use super::Deadlock;
#[cfg(not(loom))]
use super::TaskState;
#[cfg(not(loom))]
use crate::loom::{Arc, Condvar, Mutex};
#[cfg(not(loom))]
use crate::scheduler::Scheduler;
use crate::task::TaskId;

/// The deadlock reporter given to `Builder::on_deadlock`.
pub(crate) type OnDeadlock = StdArc<dyn Fn(&Deadlock) + Send + Sync + 'static>;
/// The slow-poll reporter given to `Builder::on_slow_poll`.
pub(crate) type OnSlowPoll = StdArc<dyn Fn(&SlowPoll) + Send + Sync + 'static>;

/// The watchdog settings of a `Builder`.
#[derive(Clone, Default)]
pub(crate) struct Settings {
    pub(crate) deadlock_period: Option<Duration>,
    pub(crate) on_deadlock: Option<OnDeadlock>,
    pub(crate) slow_poll_threshold: Option<Duration>,
    pub(crate) on_slow_poll: Option<OnSlowPoll>,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("deadlock_period", &self.deadlock_period)
            .field("slow_poll_threshold", &self.slow_poll_threshold)
            .finish_non_exhaustive()
    }
}

/// A poll that has been running longer than `Builder::slow_poll_threshold`, reported to
/// `Builder::on_slow_poll` while it still runs.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// let rt = magpie_runtime::Builder::new_multi_thread()
///     .slow_poll_threshold(Duration::from_millis(50))
///     .on_slow_poll(|p: &magpie_runtime::diag::SlowPoll| {
///         eprintln!("task {} has been polled for {:?}", p.task(), p.elapsed())
///     })
///     .build()
///     .unwrap();
/// rt.block_on(async {});
/// ```
#[derive(Debug, Clone)]
pub struct SlowPoll {
    task: TaskId,
    name: Option<Box<str>>,
    spawned_at: &'static Location<'static>,
    elapsed: Duration,
    worker: Option<usize>,
}

impl SlowPoll {
    /// The task whose poll is slow.
    ///
    /// # Examples
    ///
    /// ```
    /// fn report(p: &magpie_runtime::diag::SlowPoll) -> u64 { p.task().as_u64() }
    /// # let _ = report;
    /// ```
    pub fn task(&self) -> TaskId {
        self.task
    }

    /// The task's name, if it has one.
    ///
    /// # Examples
    ///
    /// ```
    /// fn report(p: &magpie_runtime::diag::SlowPoll) -> String {
    ///     p.name().unwrap_or("-").to_owned()
    /// }
    /// # let _ = report;
    /// ```
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Where the task was spawned.
    ///
    /// # Examples
    ///
    /// ```
    /// fn report(p: &magpie_runtime::diag::SlowPoll) -> u32 { p.spawned_at().line() }
    /// # let _ = report;
    /// ```
    pub fn spawned_at(&self) -> &'static Location<'static> {
        self.spawned_at
    }

    /// How long the poll has been running at least (see `docs/diagnostics.md`).
    ///
    /// # Examples
    ///
    /// ```
    /// fn report(p: &magpie_runtime::diag::SlowPoll) -> std::time::Duration { p.elapsed() }
    /// # let _ = report;
    /// ```
    pub fn elapsed(&self) -> Duration {
        self.elapsed
    }

    /// The index of the worker thread running the slow poll (`0..worker_threads`, as in
    /// the workers' names and `RuntimeMetrics`), or `None` on a current-thread runtime
    /// (its tasks are polled by the thread in `block_on`, not by a worker). A blocked
    /// worker delays the other tasks in its local queue until they are stolen.
    ///
    /// # Examples
    ///
    /// ```
    /// fn report(p: &magpie_runtime::diag::SlowPoll) -> String {
    ///     p.worker().map_or("-".to_owned(), |w| w.to_string())
    /// }
    /// # let _ = report;
    /// ```
    pub fn worker(&self) -> Option<usize> {
        self.worker
    }
}

impl fmt::Display for SlowPoll {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "task {}", self.task)?;
        if let Some(name) = &self.name {
            write!(f, " \"{name}\"")?;
        }
        write!(f, " (spawned at {})", self.spawned_at)?;
        if let Some(w) = self.worker {
            write!(f, " on worker {w}")?;
        }
        write!(
            f,
            " has been in one poll for {:?}: a blocking call in async code?",
            self.elapsed
        )
    }
}

/// A running watchdog thread; [`Watchdog::stop`] ends it. Not built under loom (a plain
/// thread that only reads; the snapshot it takes is modelled on its own).
#[cfg(not(loom))]
pub(crate) struct Watchdog {
    stop: Arc<(Mutex<bool>, Condvar)>,
    thread: Option<std::thread::JoinHandle<()>>,
}

#[cfg(not(loom))]
impl Watchdog {
    /// Starts the thread if `settings` asks for any check.
    pub(crate) fn start(settings: &Settings, scheduler: Scheduler) -> Option<Watchdog> {
        if settings.deadlock_period.is_none() && settings.slow_poll_threshold.is_none() {
            return None;
        }
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let state = State::new(settings.clone());
        let s = stop.clone();
        let thread = std::thread::Builder::new()
            .name("magpie-watchdog".into())
            .spawn(move || state.run(&scheduler, &s))
            .ok()?;
        Some(Watchdog {
            stop,
            thread: Some(thread),
        })
    }

    /// Stops the thread and waits for it (it holds no lock a task needs, so this is short).
    pub(crate) fn stop(&mut self) {
        *self.stop.0.lock().unwrap() = true;
        self.stop.1.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(not(loom))]
impl fmt::Debug for Watchdog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Watchdog").finish_non_exhaustive()
    }
}

#[cfg(not(loom))]
struct State {
    settings: Settings,
    /// WD-1: (task, poll) first seen running at.
    running: HashMap<(TaskId, u64), Instant>,
    slow_reported: HashSet<(TaskId, u64)>,
    /// WD-2: the cycles of the previous check, and those already reported.
    previous: HashSet<Vec<(TaskId, u64)>>,
    reported: HashSet<Vec<(TaskId, u64)>>,
    next_deadlock_check: Option<Instant>,
}

#[cfg(not(loom))]
impl State {
    fn new(settings: Settings) -> Self {
        State {
            next_deadlock_check: settings.deadlock_period.map(|p| Instant::now() + p),
            settings,
            running: HashMap::new(),
            slow_reported: HashSet::new(),
            previous: HashSet::new(),
            reported: HashSet::new(),
        }
    }

    fn tick(&self) -> Duration {
        let slow = self.settings.slow_poll_threshold.map(|t| t / 4);
        let tick = match (slow, self.settings.deadlock_period) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => Duration::from_secs(1),
        };
        tick.max(Duration::from_millis(1))
    }

    fn run(mut self, scheduler: &Scheduler, stop: &(Mutex<bool>, Condvar)) {
        let tick = self.tick();
        loop {
            {
                let stopped = stop.0.lock().unwrap();
                let (stopped, _) = stop.1.wait_timeout_while(stopped, tick, |s| !*s).unwrap();
                if *stopped {
                    return;
                }
            }
            let dump = super::dump::snapshot(scheduler);
            let now = Instant::now();
            if let Some(threshold) = self.settings.slow_poll_threshold {
                self.check_slow(&dump, threshold, now);
            }
            if let Some(at) = self.next_deadlock_check {
                if now >= at {
                    self.check_deadlocks(&dump);
                    let period = self.settings.deadlock_period.unwrap_or(tick);
                    self.next_deadlock_check = Some(now + period);
                }
            }
        }
    }

    fn check_slow(&mut self, dump: &super::Dump, threshold: Duration, now: Instant) {
        let mut seen = HashMap::new();
        for t in dump
            .tasks()
            .iter()
            .filter(|t| t.state == TaskState::Running)
        {
            let key = (t.id, t.polls);
            let since = *self.running.get(&key).unwrap_or(&now);
            seen.insert(key, since);
            let elapsed = now - since;
            if elapsed >= threshold && self.slow_reported.insert(key) {
                let p = SlowPoll {
                    task: t.id,
                    name: t.name.clone(),
                    spawned_at: t.spawned_at,
                    elapsed,
                    worker: t.worker,
                };
                match &self.settings.on_slow_poll {
                    Some(f) => f(&p),
                    None => eprintln!("magpie: slow poll: {p}"),
                }
            }
        }
        self.slow_reported.retain(|k| seen.contains_key(k));
        self.running = seen;
    }

    fn check_deadlocks(&mut self, dump: &super::Dump) {
        let cycles = dump.deadlocks();
        let keys: HashSet<_> = cycles.iter().map(Deadlock::key).collect();
        for d in &cycles {
            let key = d.key();
            if self.previous.contains(&key) && self.reported.insert(key) {
                match &self.settings.on_deadlock {
                    Some(f) => f(d),
                    None => eprintln!("magpie: {d}"),
                }
            }
        }
        self.reported.retain(|k| keys.contains(k));
        self.previous = keys;
    }
}
