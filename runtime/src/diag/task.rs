//! The diagnostic state each task keeps in its header, and the snapshot of one task.
//!
//! Written by the worker polling the task (a few relaxed stores and one clock read per
//! poll, see `docs/diagnostics.md`), read from any thread by `Handle::dump` and the
//! watchdog. Nothing here is read under a lock the task needs, except the wait record's
//! short lock (`magpie_sync::diag`), held for a copy.

use std::panic::Location;
use std::time::{Duration, Instant};

use magpie_sync::diag::{self as hooks, TaskRecord};

use super::{TaskInfo, TaskState, WaitTarget};
use crate::loom::atomic::{AtomicU64, AtomicU8, Ordering};
use crate::task::TaskId;

const IDLE: u8 = 0;
const SCHEDULED: u8 = 1;
const RUNNING: u8 = 2;

/// Per-task diagnostics, in `task::Header`.
pub(crate) struct TaskDiag {
    pub(crate) record: TaskRecord,
    pub(crate) spawned_at: &'static Location<'static>,
    state: AtomicU8,
    /// When the last poll ended (or the task was spawned), in nanoseconds since the
    /// runtime's epoch (`Services::epoch`).
    last_poll_end: AtomicU64,
    /// 1 + the index of the worker running the current (or last) poll; 0: not a worker
    /// (a current-thread runtime). One relaxed store per poll.
    worker: AtomicU64,
}

impl TaskDiag {
    pub(crate) fn new(id: TaskId, spawned_at: &'static Location<'static>, now: u64) -> Self {
        TaskDiag {
            record: TaskRecord::new(id.as_u64()),
            spawned_at,
            state: AtomicU8::new(SCHEDULED),
            last_poll_end: AtomicU64::new(now),
            worker: AtomicU64::new(0),
        }
    }

    /// The task was queued to run.
    pub(crate) fn scheduled(&self) {
        self.state.store(SCHEDULED, Ordering::Relaxed);
    }

    /// Around one poll: Running, the sync crate's current record, then Idle and the
    /// poll's end time (unless the task was woken meanwhile: it stays Scheduled).
    pub(crate) fn poll<R>(&self, epoch: Instant, f: impl FnOnce() -> R) -> R {
        struct End<'a>(&'a TaskDiag, Instant);
        impl Drop for End<'_> {
            fn drop(&mut self) {
                let d = self.0;
                d.last_poll_end
                    .store(nanos_since(self.1), Ordering::Relaxed);
                let _ =
                    d.state
                        .compare_exchange(RUNNING, IDLE, Ordering::Relaxed, Ordering::Relaxed);
            }
        }
        let worker =
            crate::scheduler::multi_thread::worker::current_index().map_or(0, |i| i as u64 + 1);
        self.worker.store(worker, Ordering::Relaxed);
        self.state.store(RUNNING, Ordering::Relaxed);
        let _end = End(self, epoch);
        let _entered = hooks::enter(&self.record);
        f()
    }

    /// A copy of what a dump shows of this task.
    pub(crate) fn snapshot(&self, id: TaskId, name: Option<&str>, now: u64) -> TaskInfo {
        let state = match self.state.load(Ordering::Relaxed) {
            RUNNING => TaskState::Running,
            SCHEDULED => TaskState::Scheduled,
            _ => TaskState::Idle,
        };
        let idle_for = match state {
            TaskState::Running => None,
            _ => Some(Duration::from_nanos(
                now.saturating_sub(self.last_poll_end.load(Ordering::Relaxed)),
            )),
        };
        let waiting_on = match state {
            TaskState::Running => None,
            _ => self.record.wait().map(WaitTarget::from_record),
        };
        TaskInfo {
            id,
            name: name.map(Box::from),
            spawned_at: self.spawned_at,
            state,
            polls: self.record.polls(),
            idle_for,
            waiting_on,
            worker: match self.worker.load(Ordering::Relaxed) {
                0 => None,
                w => Some((w - 1) as usize),
            },
        }
    }
}

/// Nanoseconds from `epoch` to now.
pub(crate) fn nanos_since(epoch: Instant) -> u64 {
    u64::try_from(epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
}
