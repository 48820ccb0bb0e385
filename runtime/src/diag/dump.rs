//! [`Dump`] and what it holds, with their `Display`s.

use std::fmt;
use std::panic::Location;
use std::time::Duration;

use magpie_sync::diag::WaitRecord;

use super::graph::{self, Deadlock};
use super::task::now_ns;
use crate::scheduler::Scheduler;
use crate::task::TaskId;

/// The snapshot behind `Handle::dump`: one copy per listed task, read without a worker.
pub(crate) fn snapshot(scheduler: &Scheduler) -> Dump {
    let now = now_ns();
    scheduler
        .services()
        .snapshots
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut tasks = Vec::new();
    scheduler.owned().for_each(|header| {
        tasks.push(header.diag.snapshot(header.id, header.name.as_deref(), now));
    });
    Dump { tasks }
}

/// A snapshot of every live task of a runtime, from
/// [`Handle::dump`](crate::Handle::dump).
///
/// Each task appears once; tasks spawned or finished while the snapshot is taken may or
/// may not appear. `Display` prints a table (one line per task) and a summary.
///
/// # Examples
///
/// ```
/// let rt = magpie_runtime::Runtime::new().unwrap();
/// let dump = rt.handle().dump();
/// assert!(dump.tasks().is_empty());
/// assert!(format!("{dump}").contains("0 tasks"));
/// ```
#[derive(Debug, Clone)]
pub struct Dump {
    pub(crate) tasks: Vec<TaskInfo>,
}

impl Dump {
    /// One entry per live task, in no particular order.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = magpie_runtime::Runtime::new().unwrap();
    /// assert_eq!(rt.handle().dump().tasks().len(), 0);
    /// ```
    pub fn tasks(&self) -> &[TaskInfo] {
        &self.tasks
    }

    /// Every cycle of the wait-for graph: a task waits on a resource held by the next
    /// task, ..., which waits on a resource held by the first. Each cycle is listed once,
    /// starting from its smallest task id.
    ///
    /// Holders are those seen by each waiter's last poll (`docs/diagnostics.md`), so a
    /// cycle in one dump may be resolving; the `Builder::detect_deadlocks` watchdog
    /// reports only cycles unchanged across two checks.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = magpie_runtime::Runtime::new().unwrap();
    /// assert!(rt.handle().dump().deadlocks().is_empty());
    /// ```
    pub fn deadlocks(&self) -> Vec<Deadlock> {
        graph::cycles(&self.tasks)
    }
}

impl fmt::Display for Dump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:>8}  {:<16} {:<9} {:>7} {:>10}  waiting on",
            "task", "name", "state", "polls", "idle"
        )?;
        for t in &self.tasks {
            writeln!(f, "{t}")?;
        }
        let count = |s: TaskState| self.tasks.iter().filter(|t| t.state == s).count();
        write!(
            f,
            "{} tasks: {} idle, {} scheduled, {} running",
            self.tasks.len(),
            count(TaskState::Idle),
            count(TaskState::Scheduled),
            count(TaskState::Running)
        )?;
        let mut kinds: Vec<(&str, usize)> = Vec::new();
        for w in self.tasks.iter().filter_map(|t| t.waiting_on.as_ref()) {
            match kinds.iter_mut().find(|(k, _)| *k == w.kind) {
                Some((_, n)) => *n += 1,
                None => kinds.push((w.kind, 1)),
            }
        }
        kinds.sort();
        for (i, (kind, n)) in kinds.iter().enumerate() {
            let sep = if i == 0 { "; waiting on " } else { ", " };
            write!(f, "{sep}{kind}: {n}")?;
        }
        Ok(())
    }
}

/// The state of a task when the dump was taken.
///
/// # Examples
///
/// ```
/// use magpie_runtime::diag::TaskState;
/// assert_ne!(TaskState::Idle, TaskState::Running);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TaskState {
    /// Parked: not queued, waiting for a wake.
    Idle,
    /// Queued to run (woken, or spawned and not yet polled).
    Scheduled,
    /// Being polled on some thread right now.
    Running,
}

impl fmt::Display for TaskState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            TaskState::Idle => "idle",
            TaskState::Scheduled => "scheduled",
            TaskState::Running => "running",
        })
    }
}

/// One task in a [`Dump`].
///
/// # Examples
///
/// ```
/// let rt = magpie_runtime::Runtime::new().unwrap();
/// let h = rt.spawn(std::future::pending::<()>());
/// let dump = rt.handle().dump();
/// let info = &dump.tasks()[0];
/// assert_eq!(info.id(), h.id());
/// assert_eq!(info.spawned_at().file(), file!());
/// ```
#[derive(Debug, Clone)]
pub struct TaskInfo {
    pub(crate) id: TaskId,
    pub(crate) name: Option<Box<str>>,
    pub(crate) spawned_at: &'static Location<'static>,
    pub(crate) state: TaskState,
    pub(crate) polls: u64,
    pub(crate) idle_for: Option<Duration>,
    pub(crate) waiting_on: Option<WaitTarget>,
}

impl TaskInfo {
    /// The task's id.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = magpie_runtime::Runtime::new().unwrap();
    /// let h = rt.spawn(std::future::pending::<()>());
    /// assert_eq!(rt.handle().dump().tasks()[0].id(), h.id());
    /// ```
    pub fn id(&self) -> TaskId {
        self.id
    }

    /// The name given with `task::Builder::name`, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = magpie_runtime::Runtime::new().unwrap();
    /// let _h = magpie_runtime::task::Builder::new()
    ///     .name("indexer")
    ///     .spawn_on(std::future::pending::<()>(), rt.handle());
    /// assert_eq!(rt.handle().dump().tasks()[0].name(), Some("indexer"));
    /// ```
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Where the task was spawned (the caller of `spawn`).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = magpie_runtime::Runtime::new().unwrap();
    /// let line = line!() + 1;
    /// let _h = rt.spawn(std::future::pending::<()>());
    /// assert_eq!(rt.handle().dump().tasks()[0].spawned_at().line(), line);
    /// ```
    pub fn spawned_at(&self) -> &'static Location<'static> {
        self.spawned_at
    }

    /// Idle, scheduled or running when the dump was taken.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = magpie_runtime::Runtime::new().unwrap();
    /// let _h = rt.spawn(std::future::pending::<()>());
    /// let _state: magpie_runtime::diag::TaskState = rt.handle().dump().tasks()[0].state();
    /// ```
    pub fn state(&self) -> TaskState {
        self.state
    }

    /// How many times the task has been polled (counting a poll in progress).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = magpie_runtime::Runtime::new().unwrap();
    /// let _h = rt.spawn(std::future::pending::<()>());
    /// assert!(rt.handle().dump().tasks()[0].polls() <= 1);
    /// ```
    pub fn polls(&self) -> u64 {
        self.polls
    }

    /// Time since the task's last poll ended (since its spawn if it was never polled);
    /// `None` while it is running.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = magpie_runtime::Runtime::new().unwrap();
    /// let _h = rt.spawn(std::future::pending::<()>());
    /// let _ = rt.handle().dump().tasks()[0].idle_for();
    /// ```
    pub fn idle_for(&self) -> Option<std::time::Duration> {
        self.idle_for
    }

    /// What the task's last poll registered to wait on, if it was one of magpie's
    /// resources (and the task is not running).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = magpie_runtime::Runtime::new().unwrap();
    /// let _h = rt.spawn(std::future::pending::<()>());
    /// // `pending()` is not a magpie resource: nothing is recorded.
    /// assert!(rt.handle().dump().tasks()[0].waiting_on().is_none());
    /// ```
    pub fn waiting_on(&self) -> Option<&WaitTarget> {
        self.waiting_on.as_ref()
    }
}

impl fmt::Display for TaskInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let idle = match self.idle_for {
            Some(d) => format!("{:.1?}", d),
            None => "-".into(),
        };
        write!(
            f,
            "{:>8}  {:<16} {:<9} {:>7} {:>10}  ",
            self.id.as_u64(),
            self.name.as_deref().unwrap_or("-"),
            self.state,
            self.polls,
            idle
        )?;
        match &self.waiting_on {
            Some(w) => write!(f, "{w}"),
            None => f.write_str("-"),
        }
    }
}

/// What a task's pending poll waits on.
///
/// # Examples
///
/// ```
/// let rt = magpie_runtime::Runtime::new().unwrap();
/// let h = rt.spawn(std::future::pending::<()>());
/// let dump = rt.handle().dump();
/// assert!(dump.tasks().iter().all(|t| t.waiting_on().is_none()));
/// h.abort();
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitTarget {
    pub(crate) kind: &'static str,
    pub(crate) label: Option<&'static str>,
    pub(crate) resource: usize,
    pub(crate) holders: Vec<TaskId>,
}

impl WaitTarget {
    pub(crate) fn from_record(r: WaitRecord) -> Self {
        WaitTarget {
            kind: r.kind,
            label: r.label,
            resource: r.resource,
            holders: r.holders().filter_map(TaskId::from_u64).collect(),
        }
    }

    /// The kind of resource: contains the primitive's type name ("Mutex",
    /// "RwLock.write", "Semaphore", "JoinHandle", "Sleep", ...).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = magpie_runtime::Runtime::new().unwrap();
    /// for t in rt.handle().dump().tasks() {
    ///     if let Some(w) = t.waiting_on() {
    ///         println!("{}", w.kind());
    ///     }
    /// }
    /// ```
    pub fn kind(&self) -> &str {
        self.kind
    }

    /// The label given with the primitive's `with_label`, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = magpie_runtime::Runtime::new().unwrap();
    /// for t in rt.handle().dump().tasks() {
    ///     let _label = t.waiting_on().and_then(|w| w.label());
    /// }
    /// ```
    pub fn label(&self) -> Option<&str> {
        self.label
    }

    /// The tasks that held the resource when the waiter last polled it (for a
    /// `JoinHandle`, the awaited task). Empty for resources without holders.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = magpie_runtime::Runtime::new().unwrap();
    /// for t in rt.handle().dump().tasks() {
    ///     let _holders = t.waiting_on().map(|w| w.holders().len());
    /// }
    /// ```
    pub fn holders(&self) -> &[TaskId] {
        &self.holders
    }
}

impl fmt::Display for WaitTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind)?;
        if let Some(label) = self.label {
            write!(f, " \"{label}\"")?;
        }
        if !self.holders.is_empty() {
            f.write_str(" held by")?;
            for h in &self.holders {
                write!(f, " {h}")?;
            }
        }
        Ok(())
    }
}
