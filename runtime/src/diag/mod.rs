//! Diagnostics: task dumps that say what each task waits on, deadlock and slow-poll
//! detection (re-exported as `magpie::diag`).
//!
//! [`Handle::dump`](crate::Handle::dump) takes a [`Dump`] from any thread, without a
//! worker: one [`TaskInfo`] per live task, with what its last pending poll waits on
//! ([`WaitTarget`]: the primitive's kind, its label, the tasks holding it). The holders
//! make a wait-for graph; [`Dump::deadlocks`] lists its cycles. The `Builder`'s watchdogs
//! (`detect_deadlocks`, `detect_stalls`, `slow_poll_threshold`) run these checks on a
//! background thread.
//! What is recorded and what it costs: `docs/diagnostics.md`.
//!
//! # Examples
//!
//! ```
//! let rt = magpie_runtime::Runtime::new().unwrap();
//! let lock = std::sync::Arc::new(magpie_sync::Mutex::new(0).with_label("accounts"));
//! let guard = lock.try_lock().unwrap();
//! let l = lock.clone();
//! let waiter = rt.spawn(async move { *l.lock().await += 1 });
//! // Wait until the waiter is parked on the lock.
//! let dump = loop {
//!     let dump = rt.handle().dump();
//!     if dump.tasks().iter().any(|t| t.waiting_on().is_some()) {
//!         break dump;
//!     }
//!     std::thread::yield_now();
//! };
//! let target = dump.tasks()[0].waiting_on().unwrap();
//! assert_eq!(target.kind(), "Mutex");
//! assert_eq!(target.label(), Some("accounts"));
//! assert!(dump.deadlocks().is_empty());
//! drop(guard);
//! rt.block_on(waiter).unwrap();
//! ```

pub(crate) mod dump;
mod graph;
pub(crate) mod stamps;
pub(crate) mod task;
#[cfg(all(test, not(loom)))]
mod tests;
pub(crate) mod watchdog;

pub use dump::{Dump, TaskInfo, TaskState, WaitTarget};

use magpie_sync::diag::{record_wait, WaitRecord};

use crate::task::TaskId;

/// A `JoinHandle`'s pending poll: the awaited task holds the wait.
pub(crate) fn record_join_wait(awaited: TaskId) {
    record_wait(WaitRecord::new("JoinHandle", None, 0).with_holder(awaited.as_u64()));
}

/// An I/O source's pending readiness poll (sockets, pipes, `AsyncFd`): kind `readable` or
/// `writable`, the source as the resource.
pub(crate) fn record_io_wait(dir: crate::driver::source::Direction, source: usize) {
    let kind = match dir {
        crate::driver::source::Direction::Read => IO_READABLE,
        crate::driver::source::Direction::Write => IO_WRITABLE,
    };
    record_wait(WaitRecord::new(kind, None, source));
}

/// The kinds of an I/O readiness wait (`record_io_wait`).
pub(crate) const IO_READABLE: &str = "readable";
pub(crate) const IO_WRITABLE: &str = "writable";

/// A `Sleep`'s pending poll (timeouts included: their sleep is polled last).
pub(crate) fn record_sleep_wait() {
    record_wait(WaitRecord::new("Sleep", None, 0));
}
pub use graph::Deadlock;
pub use watchdog::{SlowPoll, Stall};
