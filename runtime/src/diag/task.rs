//! The diagnostic state each task keeps in its header, and the snapshot of one task.
//!
//! Written by the worker polling the task (plain relaxed stores per poll, no clock read
//! (rule DIAG-5) and no read-modify-write: see `docs/diagnostics.md`), read from any thread by
//! `Handle::dump` and the watchdog. Nothing here is read under a lock: the wait record is
//! a seqlock (`magpie_sync::diag`, rule DIAG-6) that a dump copies without blocking the
//! task.
//!
//! Rule DIAG-4: the state is two flags, each with one kind of writer: `running`, set and
//! cleared only by the thread polling the task (around the poll), and `scheduled`, set by
//! whoever queues the task and cleared by the poller as the poll starts. A dump reads
//! Running if `running`, else Scheduled if `scheduled`, else Idle; a wake during a poll
//! leaves `scheduled` set, so the task reads Scheduled after it. (It was one state byte
//! with a compare-and-swap at the end of every poll, and a precise clock read per poll:
//! that doubled yield_many's time.)

use std::panic::Location;
use std::time::Duration;

use magpie_sync::diag::TaskRecord;

use super::stamps::PollStamps;
use super::{TaskInfo, TaskState, WaitTarget};
use crate::loom::atomic::{AtomicBool, AtomicU64, Ordering};
use crate::task::TaskId;

/// Per-task diagnostics, in `task::Header`: `repr(C)`, the fields every poll writes first.
#[repr(C)]
pub(crate) struct TaskDiag {
    /// Rule DIAG-4.
    running: AtomicBool,
    /// Rule DIAG-4.
    scheduled: AtomicBool,
    /// When the last poll ended (or the task was spawned), in [`now_ns`]'s coarse
    /// nanoseconds.
    last_poll_end: AtomicU64,
    /// Its poll count first; the wait record (read by dumps) after it.
    pub(crate) record: TaskRecord,
    pub(crate) spawned_at: &'static Location<'static>,
}

impl TaskDiag {
    pub(crate) fn new(id: TaskId, spawned_at: &'static Location<'static>, now: u64) -> Self {
        TaskDiag {
            record: TaskRecord::new(id.as_u64()),
            spawned_at,
            running: AtomicBool::new(false),
            scheduled: AtomicBool::new(true),
            last_poll_end: AtomicU64::new(now),
        }
    }

    /// The task was queued to run.
    #[inline]
    pub(crate) fn scheduled(&self) {
        self.scheduled.store(true, Ordering::Relaxed);
    }

    /// Around one poll: Running, then not running and the poll's end time (rule DIAG-4).
    /// The caller has entered the sync crate's record (`TaskFuture::poll`).
    #[inline(always)]
    pub(crate) fn poll<R>(
        &self,
        recent: &RecentTime,
        stamps: Option<&PollStamps>,
        f: impl FnOnce() -> R,
    ) -> R {
        struct End<'a>(&'a TaskDiag, &'a RecentTime);
        impl Drop for End<'_> {
            #[inline(always)]
            fn drop(&mut self) {
                let d = self.0;
                d.last_poll_end.store(self.1.get(), Ordering::Relaxed);
                d.running.store(false, Ordering::Relaxed);
            }
        }
        self.scheduled.store(false, Ordering::Relaxed);
        self.running.store(true, Ordering::Relaxed);
        let _end = End(self, recent);
        // Rule WD-1 reads the slot (`stamps.rs`): only with a slow-poll threshold. Slot 0
        // off a worker, worker + 1 on one.
        let _stamp = stamps.and_then(|s| {
            let slot = crate::scheduler::multi_thread::worker::current_index().map_or(0, |i| i + 1);
            s.begin(slot, self.record.id())
        });
        f()
    }

    /// A copy of what a dump shows of this task.
    pub(crate) fn snapshot(&self, id: TaskId, name: Option<&str>, now: u64) -> TaskInfo {
        let state = if self.running.load(Ordering::Relaxed) {
            TaskState::Running
        } else if self.scheduled.load(Ordering::Relaxed) {
            TaskState::Scheduled
        } else {
            TaskState::Idle
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
        }
    }
}

/// Now, in nanoseconds of a coarse monotonic clock: `CLOCK_MONOTONIC_COARSE` on Linux
/// (a few nanoseconds to read, a tick of resolution: 1-4 ms), which is all `idle_for`
/// needs; elsewhere, and under miri, `Instant` against a process-wide start.
#[inline]
pub(crate) fn now_ns() -> u64 {
    #[cfg(all(target_os = "linux", not(miri)))]
    {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `clock_gettime` writes the current time into the `timespec` it is given,
        // a valid, writable local; the coarse monotonic clock exists on every Linux since
        // 2.6.32, so the call cannot fail (a zero reading would only make `idle_for` large).
        unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC_COARSE, &mut ts) };
        (ts.tv_sec as u64)
            .saturating_mul(1_000_000_000)
            .saturating_add(ts.tv_nsec as u64)
    }
    #[cfg(not(all(target_os = "linux", not(miri))))]
    {
        static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
        let start = *START.get_or_init(std::time::Instant::now);
        u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }
}

/// Rule DIAG-5: the coarse clock as a runtime's scheduler threads last read it, which a
/// poll's end and a spawn store instead of reading the clock (one `Services` each).
///
/// Every scheduler thread refreshes it when it looks at the driver (a busy one every
/// `event_interval` ticks) and when it wakes from parking, so a poll's stored end time is
/// behind the true one by at most the time since its thread last did either: a few dozen
/// polls, or one poll that ran long (which the slow-poll watchdog times on its own).
/// `idle_for` in a dump can read that much too long, never too short by more than the
/// coarse clock's tick. A runtime's own `block_on` thread (not a scheduler thread) that
/// polls local tasks does not refresh it.
pub(crate) struct RecentTime(std::sync::atomic::AtomicU64);

impl RecentTime {
    pub(crate) fn new() -> Self {
        RecentTime(std::sync::atomic::AtomicU64::new(now_ns()))
    }

    /// Reads the coarse clock into it (one store, skipped when the tick is unchanged).
    #[inline]
    pub(crate) fn refresh(&self) {
        let now = now_ns();
        if self.0.load(std::sync::atomic::Ordering::Relaxed) != now {
            self.0.store(now, std::sync::atomic::Ordering::Relaxed);
        }
    }

    #[inline]
    pub(crate) fn get(&self) -> u64 {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Sets it (tests: an old value that a refresh must replace).
    #[cfg(all(test, not(loom)))]
    pub(crate) fn set(&self, ns: u64) {
        self.0.store(ns, std::sync::atomic::Ordering::Relaxed);
    }
}
