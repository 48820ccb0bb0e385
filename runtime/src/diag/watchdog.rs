//! The watchdog thread behind `Builder::detect_deadlocks` and `Builder::slow_poll_threshold`.
//!
//! One background thread per runtime that only reads. Every tick it reads the polls in
//! progress (one stamp per scheduler thread, `stamps.rs`), and when a deadlock or stall
//! check is due it takes a [`Dump`](super::Dump) (which needs no worker):
//!
//! - WD-1 (slow polls): notes each poll in progress (its thread's slot and poll number,
//!   rule STAMP-1); a poll seen in progress for at least the threshold is reported once,
//!   while it still runs. `elapsed` is measured from the first tick that saw the poll, so it
//!   is a lower bound, late by at most one tick (a quarter of the threshold). Only then is
//!   a dump taken, for the task's name and spawn location: a tick costs one read per
//!   worker, whatever the number of tasks (it was a dump of every task each tick, which on
//!   two cores slowed the lock-heavy rows and would have kept a core busy with 100,000
//!   tasks);
//! - WD-2 (deadlocks): every period, lists the cycles of the wait-for graph with each
//!   member's poll count; a cycle is reported only if the previous check saw exactly the
//!   same cycle with the same poll counts (nothing in it moved for a whole period), and
//!   only once while it lasts. A cycle that resolves by itself is never reported.
//!
//! - WD-3 (stalls): every period, checks whether every live task is idle and waiting on a
//!   magpie primitive ([`STALL_KINDS`], or a `JoinHandle` of another listed task), with no
//!   `block_on` running (its future is not a task and records nothing). A stall is
//!   reported only if the previous check saw the same tasks with the same poll counts
//!   (nothing polled for a whole period), and once until some task is polled again. A
//!   task on a timer, I/O readiness, a blocking task, an unknown kind or an unrecorded
//!   future means "not a stall", and so does a busy blocking pool (a queued or running
//!   `spawn_blocking` closure may wake any task).
//!
//! The thread stops when the runtime shuts down (before its tasks are dropped).

#[cfg(not(loom))]
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::panic::Location;
#[cfg(not(loom))]
use std::sync::atomic::Ordering as StdOrdering;
use std::sync::Arc as StdArc;
use std::time::Duration;
#[cfg(not(loom))]
use std::time::Instant;

#[cfg(not(loom))]
use super::stamps::Sighting;
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
/// The stall reporter given to `Builder::on_stall`.
pub(crate) type OnStall = StdArc<dyn Fn(&Stall) + Send + Sync + 'static>;
/// The slow-poll reporter given to `Builder::on_slow_poll`.
pub(crate) type OnSlowPoll = StdArc<dyn Fn(&SlowPoll) + Send + Sync + 'static>;

/// The watchdog settings of a `Builder`.
#[derive(Clone, Default)]
pub(crate) struct Settings {
    pub(crate) deadlock_period: Option<Duration>,
    pub(crate) on_deadlock: Option<OnDeadlock>,
    pub(crate) slow_poll_threshold: Option<Duration>,
    pub(crate) on_slow_poll: Option<OnSlowPoll>,
    pub(crate) stall_period: Option<Duration>,
    pub(crate) on_stall: Option<OnStall>,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("deadlock_period", &self.deadlock_period)
            .field("slow_poll_threshold", &self.slow_poll_threshold)
            .field("stall_period", &self.stall_period)
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

/// The wait kinds of magpie's own primitives: a task waiting on one of these can only be
/// woken by another task (or an outside thread, which the runtime cannot see). WD-3.
#[cfg(not(loom))]
pub(crate) const STALL_KINDS: &[&str] = &[
    "Mutex",
    "RwLock",
    "RwLock.read",
    "RwLock.write",
    "Semaphore",
    "BoundedSemaphore",
    "Barrier",
    "Queue.get",
    "Queue.put",
    "Queue.join",
    "LifoQueue.get",
    "LifoQueue.put",
    "LifoQueue.join",
    "PriorityQueue.get",
    "PriorityQueue.put",
    "PriorityQueue.join",
    "Event",
    "Notify",
    "Condition",
    "OnceCell.get_or_init",
    "CancellationToken.cancelled",
    "oneshot.recv",
    "mpsc.recv",
    "mpsc.send",
    "mpsc.reserve",
    "broadcast.recv",
    "watch.changed",
    "watch.wait_for",
    "TaskGroup.join",
];

/// Every task of a runtime asleep on magpie primitives with nothing polled for a whole
/// period (Go's "all goroutines are asleep"), reported to `Builder::on_stall`.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// let rt = magpie_runtime::Builder::new_multi_thread()
///     .detect_stalls(Duration::from_millis(500))
///     .on_stall(|s: &magpie_runtime::diag::Stall| eprintln!("{} tasks stuck", s.tasks().len()))
///     .build()
///     .unwrap();
/// rt.block_on(async {});
/// ```
#[derive(Debug, Clone)]
pub struct Stall {
    tasks: Vec<super::TaskInfo>,
}

impl Stall {
    /// Every live task, each waiting on a magpie primitive (its
    /// [`waiting_on`](super::TaskInfo::waiting_on) is set).
    ///
    /// # Examples
    ///
    /// ```
    /// fn report(s: &magpie_runtime::diag::Stall) -> usize { s.tasks().len() }
    /// # let _ = report;
    /// ```
    pub fn tasks(&self) -> &[super::TaskInfo] {
        &self.tasks
    }
}

impl fmt::Display for Stall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "all {} tasks are asleep on magpie primitives and none was polled for a whole \
             check period: a stall (nothing left in the runtime can wake them)",
            self.tasks.len()
        )?;
        for t in &self.tasks {
            writeln!(f, "  {t}")?;
        }
        Ok(())
    }
}

/// WD-3: whether `dump` is a stall (see the module docs), ignoring time.
#[cfg(not(loom))]
fn is_stalled(dump: &super::Dump, block_ons: usize) -> bool {
    let tasks = dump.tasks();
    if block_ons > 0 || tasks.is_empty() {
        return false;
    }
    let ids: HashSet<TaskId> = tasks.iter().map(|t| t.id).collect();
    tasks.iter().all(|t| {
        t.state == TaskState::Idle
            && t.waiting_on.as_ref().is_some_and(|w| {
                if w.kind() == "JoinHandle" {
                    // Awaiting a listed task; a blocking task or one gone is not listed.
                    !w.holders().is_empty() && w.holders().iter().all(|h| ids.contains(h))
                } else {
                    STALL_KINDS.contains(&w.kind())
                }
            })
    })
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
        if settings.deadlock_period.is_none()
            && settings.slow_poll_threshold.is_none()
            && settings.stall_period.is_none()
        {
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
    /// WD-1: polls in progress, first seen at.
    running: HashMap<Sighting, Instant>,
    slow_reported: HashSet<Sighting>,
    /// WD-2: the cycles of the previous check, and those already reported.
    previous: HashSet<Vec<(TaskId, u64)>>,
    reported: HashSet<Vec<(TaskId, u64)>>,
    next_deadlock_check: Option<Instant>,
    /// WD-3: the stalled tasks (with poll counts) of the previous check, and whether that
    /// stall was reported.
    stall_previous: Option<Vec<(TaskId, u64)>>,
    stall_reported: bool,
    next_stall_check: Option<Instant>,
}

#[cfg(not(loom))]
impl State {
    fn new(settings: Settings) -> Self {
        State {
            next_deadlock_check: settings.deadlock_period.map(|p| Instant::now() + p),
            next_stall_check: settings.stall_period.map(|p| Instant::now() + p),
            stall_previous: None,
            stall_reported: false,
            settings,
            running: HashMap::new(),
            slow_reported: HashSet::new(),
            previous: HashSet::new(),
            reported: HashSet::new(),
        }
    }

    fn tick(&self) -> Duration {
        let slow = self.settings.slow_poll_threshold.map(|t| t / 4);
        let tick = [
            slow,
            self.settings.deadlock_period,
            self.settings.stall_period,
        ]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(Duration::from_secs(1));
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
            let now = Instant::now();
            if let (Some(threshold), Some(stamps)) = (
                self.settings.slow_poll_threshold,
                scheduler.services().poll_stamps.as_ref(),
            ) {
                self.check_slow(stamps.sightings(), threshold, now, || {
                    super::dump::snapshot(scheduler)
                });
            }
            let due = |at: Option<Instant>| at.is_some_and(|at| now >= at);
            if !due(self.next_deadlock_check) && !due(self.next_stall_check) {
                continue;
            }
            let dump = super::dump::snapshot(scheduler);
            if let Some(at) = self.next_deadlock_check {
                if now >= at {
                    self.check_deadlocks(&dump);
                    let period = self.settings.deadlock_period.unwrap_or(tick);
                    self.next_deadlock_check = Some(now + period);
                }
            }
            if let Some(at) = self.next_stall_check {
                if now >= at {
                    let block_ons = scheduler.services().block_ons.load(StdOrdering::SeqCst);
                    self.check_stall(&dump, block_ons, || scheduler.services().blocking.is_busy());
                    let period = self.settings.stall_period.unwrap_or(tick);
                    self.next_stall_check = Some(now + period);
                }
            }
        }
    }

    fn check_stall(
        &mut self,
        dump: &super::Dump,
        block_ons: usize,
        blocking_busy: impl FnOnce() -> bool,
    ) {
        if !is_stalled(dump, block_ons) || blocking_busy() {
            self.stall_previous = None;
            self.stall_reported = false;
            return;
        }
        let mut key: Vec<(TaskId, u64)> = dump.tasks().iter().map(|t| (t.id, t.polls)).collect();
        key.sort_unstable();
        if self.stall_previous.as_ref() == Some(&key) {
            if !self.stall_reported {
                self.stall_reported = true;
                let stall = Stall {
                    tasks: dump.tasks().to_vec(),
                };
                match &self.settings.on_stall {
                    Some(f) => f(&stall),
                    None => eprint!("magpie: {stall}"),
                }
            }
        } else {
            self.stall_reported = false;
        }
        self.stall_previous = Some(key);
    }

    /// WD-1 over the polls in progress now; `dump` is called (once at most) only when a
    /// poll is to be reported, for the task's name and spawn location.
    fn check_slow(
        &mut self,
        sightings: Vec<Sighting>,
        threshold: Duration,
        now: Instant,
        mut dump: impl FnMut() -> super::Dump,
    ) {
        let mut taken: Option<super::Dump> = None;
        let mut seen = HashMap::new();
        for key in sightings {
            let since = *self.running.get(&key).unwrap_or(&now);
            seen.insert(key, since);
            let elapsed = now - since;
            if elapsed < threshold || !self.slow_reported.insert(key) {
                continue;
            }
            let Some(id) = TaskId::from_u64(key.task) else {
                continue;
            };
            // A task gone from the dump finished its poll meanwhile: nothing to report.
            let dump = taken.get_or_insert_with(&mut dump);
            let Some(t) = dump.tasks().iter().find(|t| t.id == id) else {
                continue;
            };
            let p = SlowPoll {
                task: id,
                name: t.name.clone(),
                spawned_at: t.spawned_at,
                elapsed,
                worker: key.slot.checked_sub(1),
            };
            match &self.settings.on_slow_poll {
                Some(f) => f(&p),
                None => eprintln!("magpie: slow poll: {p}"),
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
