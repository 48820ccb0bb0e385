//! Diagnostic hooks: what the current task's pending poll waits on, and who holds what.
//!
//! This module is executor-agnostic, like [`coop`](crate::coop): magpie's runtime gives each
//! task a [`TaskRecord`] and makes it this thread's *current record* around every poll with
//! [`enter`]; the primitives of this crate then
//!
//! - record, when a poll of theirs returns `Pending`, what the task now waits on (the kind of
//!   primitive, its label, an opaque resource id and the holders seen at that moment) in the
//!   current record, under that record's short lock (the slow path only: a ready poll
//!   records nothing);
//! - record the holder of a `Mutex`, the holders of an `RwLock` and the permit-holding tasks
//!   of a semaphore in the primitive itself (`Holders`: a few atomics, one relaxed
//!   compare-and-swap per acquire and one per release).
//!
//! Under an executor that sets no record (a foreign one, or `futures::executor::block_on`),
//! nothing is recorded and every hook is a thread-local read.
//!
//! # Rules
//!
//! - DIAG-1: the thread-local current record is set only by [`enter`], whose guard borrows
//!   the record for as long as it is current and restores the previous one on drop; so the
//!   pointer read by [`record_wait`] always points to a live record.
//! - DIAG-2: a wait is valid only for the poll that recorded it: the record keeps the poll
//!   number beside the wait, and [`TaskRecord::wait`] returns it only if no poll has started
//!   since. So nothing needs clearing at the start of a poll (no lock per poll), and a task
//!   waiting on two things at once (`select`) shows what its last poll registered last.
//! - DIAG-3: holders are a best-effort snapshot: a permit or guard dropped in another task
//!   than the one that acquired it clears some other slot of the same primitive, and at
//!   most [`MAX_HOLDERS`] holders are recorded per primitive.
//!
//! # Examples
//!
//! ```
//! use magpie_sync::diag::{self, TaskRecord};
//!
//! let record = TaskRecord::new(7);
//! assert_eq!(diag::current_task(), None);
//! {
//!     let _entered = diag::enter(&record);
//!     assert_eq!(diag::current_task(), Some(7));
//! }
//! assert_eq!(diag::current_task(), None);
//! assert_eq!(record.polls(), 1);
//! assert!(record.wait().is_none());
//! ```

use core::fmt;
use core::ptr;

use crate::loom::atomic::{AtomicU64, Ordering};
use crate::loom::{thread_local_const, Cell, Mutex};

/// The most holders recorded per primitive (and per wait).
pub const MAX_HOLDERS: usize = 4;

thread_local_const! {
    /// The record of the task being polled on this thread, or null (rule DIAG-1).
    static CURRENT: Cell<*const TaskRecord> = Cell::new(ptr::null());
}

/// A task's diagnostic record, owned by the runtime (one per task).
///
/// # Examples
///
/// ```
/// let record = magpie_sync::diag::TaskRecord::new(1);
/// assert_eq!(record.id(), 1);
/// assert_eq!(record.polls(), 0);
/// ```
// `repr(C)`: the fields every poll touches before the wait record (dumps only).
#[repr(C)]
pub struct TaskRecord {
    id: u64,
    polls: AtomicU64,
    /// (the poll number that recorded it, the wait): rule DIAG-2.
    wait: Mutex<(u64, Option<WaitRecord>)>,
}

impl TaskRecord {
    /// A record for the task numbered `id` (non-zero: 0 means "no task" in a holder slot).
    ///
    /// # Panics
    ///
    /// If `id` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// let record = magpie_sync::diag::TaskRecord::new(3);
    /// assert_eq!(record.id(), 3);
    /// ```
    pub fn new(id: u64) -> Self {
        assert!(id != 0, "task ids recorded for diagnostics start at 1");
        TaskRecord {
            id,
            polls: AtomicU64::new(0),
            wait: Mutex::new((0, None)),
        }
    }

    /// The task's number.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(magpie_sync::diag::TaskRecord::new(9).id(), 9);
    /// ```
    pub fn id(&self) -> u64 {
        self.id
    }

    /// How many polls have started with this record current.
    ///
    /// # Examples
    ///
    /// ```
    /// let record = magpie_sync::diag::TaskRecord::new(1);
    /// drop(magpie_sync::diag::enter(&record));
    /// assert_eq!(record.polls(), 1);
    /// ```
    pub fn polls(&self) -> u64 {
        self.polls.load(Ordering::Relaxed)
    }

    /// What the latest poll recorded as waited on, if anything (rule DIAG-2). Takes the
    /// record's short lock for a copy.
    ///
    /// # Examples
    ///
    /// ```
    /// let record = magpie_sync::diag::TaskRecord::new(1);
    /// assert!(record.wait().is_none());
    /// ```
    pub fn wait(&self) -> Option<WaitRecord> {
        let polls = self.polls.load(Ordering::Acquire);
        let wait = self.wait.lock().unwrap_or_else(|e| e.into_inner());
        match *wait {
            (at, Some(w)) if at == polls => Some(w),
            _ => None,
        }
    }
}

impl fmt::Debug for TaskRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskRecord")
            .field("id", &self.id)
            .field("polls", &self.polls())
            .field("wait", &self.wait())
            .finish()
    }
}

/// What a pending poll waits on, as recorded by a primitive.
///
/// # Examples
///
/// ```
/// let record = magpie_sync::diag::TaskRecord::new(1);
/// let wait: Option<magpie_sync::diag::WaitRecord> = record.wait();
/// assert!(wait.is_none());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WaitRecord {
    /// The primitive's kind ("Mutex", "Semaphore", "Queue.get", ...).
    pub kind: &'static str,
    /// The label given with `with_label`, if any.
    pub label: Option<&'static str>,
    /// An opaque id of the waited-on resource (its address when it was recorded; never
    /// dereferenced).
    pub resource: usize,
    holders: [u64; MAX_HOLDERS],
}

impl WaitRecord {
    /// A wait without holders.
    ///
    /// # Examples
    ///
    /// ```
    /// let w = magpie_sync::diag::WaitRecord::new("Sleep", None, 0);
    /// assert_eq!(w.holders().count(), 0);
    /// ```
    pub fn new(kind: &'static str, label: Option<&'static str>, resource: usize) -> Self {
        WaitRecord {
            kind,
            label,
            resource,
            holders: [0; MAX_HOLDERS],
        }
    }

    /// The same wait, with `task` (a task number, 0 for none) as one more holder (beyond
    /// [`MAX_HOLDERS`] it is left out).
    ///
    /// # Examples
    ///
    /// ```
    /// let w = magpie_sync::diag::WaitRecord::new("JoinHandle", None, 0).with_holder(5);
    /// assert_eq!(w.holders().collect::<Vec<_>>(), [5]);
    /// ```
    pub fn with_holder(mut self, task: u64) -> Self {
        if let Some(slot) = self.holders.iter_mut().find(|h| **h == 0) {
            *slot = task;
        }
        self
    }

    /// The task numbers recorded as holding the resource when the wait was recorded.
    ///
    /// # Examples
    ///
    /// ```
    /// let w = magpie_sync::diag::WaitRecord::new("Mutex", Some("a"), 1);
    /// assert!(w.holders().next().is_none());
    /// ```
    pub fn holders(&self) -> impl Iterator<Item = u64> + '_ {
        self.holders.iter().copied().filter(|h| *h != 0)
    }
}

/// This thread's current record while the guard lives: see [`enter`].
#[derive(Debug)]
#[must_use = "the record is current only while the guard lives"]
pub struct Entered<'a> {
    previous: *const TaskRecord,
    _record: &'a TaskRecord,
}

/// Makes `record` this thread's current record until the guard drops, and counts one more
/// poll in it. The runtime calls this around each task poll.
///
/// # Examples
///
/// ```
/// let record = magpie_sync::diag::TaskRecord::new(2);
/// let entered = magpie_sync::diag::enter(&record);
/// assert_eq!(magpie_sync::diag::current_task(), Some(2));
/// drop(entered);
/// ```
#[inline]
pub fn enter(record: &TaskRecord) -> Entered<'_> {
    // Release pairs with `wait`'s Acquire: a reader that sees the new count does not take
    // the previous poll's wait for this one's. A load and a store, not a read-modify-write:
    // only the thread polling the task (or dropping its future) enters its record, one at
    // a time (the executor's exclusive access to the task), so no increment is lost, and a
    // locked `fetch_add` on every poll was measurable.
    let polls = record.polls.load(Ordering::Relaxed);
    record.polls.store(polls.wrapping_add(1), Ordering::Release);
    let previous = CURRENT
        .try_with(|c| c.replace(record as *const TaskRecord))
        .unwrap_or(ptr::null());
    Entered {
        previous,
        _record: record,
    }
}

impl Drop for Entered<'_> {
    #[inline]
    fn drop(&mut self) {
        let previous = self.previous;
        let _ = CURRENT.try_with(|c| c.set(previous));
    }
}

fn with_current<R>(f: impl FnOnce(&TaskRecord) -> R) -> Option<R> {
    let p = CURRENT.try_with(|c| c.get()).ok()?;
    if p.is_null() {
        return None;
    }
    // SAFETY: rule DIAG-1: a non-null current pointer was set by `enter`, whose guard still
    // borrows the record (it resets the pointer when dropped).
    Some(f(unsafe { &*p }))
}

/// The number of the task whose poll is running on this thread, if a runtime set one.
///
/// # Examples
///
/// ```
/// assert_eq!(magpie_sync::diag::current_task(), None);
/// ```
pub fn current_task() -> Option<u64> {
    with_current(|r| r.id)
}

/// Records `wait` as what the current task's current poll waits on (nothing without a
/// current task). Called by a primitive whose poll returns `Pending`; other crates' resources
/// (the runtime's timers, join handles, sockets) call it too.
///
/// # Examples
///
/// ```
/// use magpie_sync::diag::{self, TaskRecord, WaitRecord};
///
/// let record = TaskRecord::new(4);
/// let entered = diag::enter(&record);
/// diag::record_wait(WaitRecord::new("Sleep", None, 0));
/// drop(entered);
/// assert_eq!(record.wait().unwrap().kind, "Sleep");
/// ```
pub fn record_wait(wait: WaitRecord) {
    with_current(|r| {
        let polls = r.polls.load(Ordering::Relaxed);
        *r.wait.lock().unwrap_or_else(|e| e.into_inner()) = (polls, Some(wait));
    });
}

/// The holders of a primitive and its identity in dumps (kind and label).
pub(crate) struct Holders {
    kind: &'static str,
    label: Option<&'static str>,
    slots: [AtomicU64; MAX_HOLDERS],
}

impl Holders {
    #[cfg(not(loom))]
    pub(crate) const fn new(kind: &'static str) -> Self {
        Holders {
            kind,
            label: None,
            slots: [
                AtomicU64::new(0),
                AtomicU64::new(0),
                AtomicU64::new(0),
                AtomicU64::new(0),
            ],
        }
    }

    #[cfg(loom)]
    pub(crate) fn new(kind: &'static str) -> Self {
        Holders {
            kind,
            label: None,
            slots: core::array::from_fn(|_| AtomicU64::new(0)),
        }
    }

    pub(crate) fn set_label(&mut self, label: &'static str) {
        self.label = Some(label);
    }

    pub(crate) const fn set_kind(&mut self, kind: &'static str) {
        self.kind = kind;
    }

    /// Records the current task (if any) as a holder: one relaxed CAS on a free slot.
    pub(crate) fn hold(&self) {
        let Some(id) = current_task() else { return };
        for slot in &self.slots {
            if slot
                .compare_exchange(0, id, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
            {
                return;
            }
        }
    }

    /// Forgets one holder: the current task's slot, else (a guard released by another
    /// task, rule DIAG-3) the first one in use.
    pub(crate) fn release(&self) {
        let id = current_task().unwrap_or(0);
        let mine = self
            .slots
            .iter()
            .find(|s| id != 0 && s.load(Ordering::Relaxed) == id);
        let slot = mine.or_else(|| self.slots.iter().find(|s| s.load(Ordering::Relaxed) != 0));
        if let Some(slot) = slot {
            slot.store(0, Ordering::Relaxed);
        }
    }

    /// Records, for the current task, that it waits on this primitive.
    pub(crate) fn record_wait(&self, kind: Option<&'static str>) {
        // One thread-local read: the holders are copied only when a task is current.
        with_current(|r| {
            let mut wait = WaitRecord::new(
                kind.unwrap_or(self.kind),
                self.label,
                self as *const Holders as usize,
            );
            for slot in &self.slots {
                wait = wait.with_holder(slot.load(Ordering::Relaxed));
            }
            let polls = r.polls.load(Ordering::Relaxed);
            *r.wait.lock().unwrap_or_else(|e| e.into_inner()) = (polls, Some(wait));
        });
    }

    /// Records a wait on this primitive's identity without holders (events, queues).
    pub(crate) fn record_wait_unheld(&self, kind: &'static str) {
        record_wait(WaitRecord::new(
            kind,
            self.label,
            self as *const Holders as usize,
        ));
    }
}

impl fmt::Debug for Holders {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Holders")
            .field("kind", &self.kind)
            .field("label", &self.label)
            .finish_non_exhaustive()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn holders_follow_the_current_task() {
        let h = Holders::new("Mutex");
        let a = TaskRecord::new(1);
        let b = TaskRecord::new(2);
        {
            let _e = enter(&a);
            h.hold();
        }
        {
            let _e = enter(&b);
            h.record_wait(None);
        }
        let w = b.wait().expect("b's last poll recorded a wait");
        assert_eq!(w.kind, "Mutex");
        assert_eq!(w.holders().collect::<Vec<_>>(), [1]);
        // A new poll of b invalidates the wait (DIAG-2).
        drop(enter(&b));
        assert!(b.wait().is_none());
        {
            let _e = enter(&a);
            h.release();
        }
        assert!(h.slots.iter().all(|s| s.load(Ordering::Relaxed) == 0));
    }

    #[test]
    fn nothing_is_recorded_without_a_task() {
        let h = Holders::new("Semaphore");
        h.hold();
        h.record_wait(None);
        assert!(h.slots.iter().all(|s| s.load(Ordering::Relaxed) == 0));
    }
}
