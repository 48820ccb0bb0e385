//! Diagnostic hooks: what the current task's pending poll waits on, and who holds what.
//!
//! This module is executor-agnostic, like [`coop`](crate::coop): magpie's runtime gives each
//! task a [`TaskRecord`] and makes it this thread's *current record* around every poll with
//! [`enter`]; the primitives of this crate then
//!
//! - record, when a poll of theirs returns `Pending`, what the task now waits on (the kind of
//!   primitive, its label, an opaque resource id and the holders seen at that moment) in the
//!   current record's seqlock (rule DIAG-6; the slow path only: a ready poll records
//!   nothing);
//! - record the holder of a `Mutex` (one relaxed store per acquire and one per release),
//!   the holders of an `RwLock` and the permit-holding tasks of a semaphore (one relaxed
//!   compare-and-swap per acquire, a store per release) in the primitive itself (`Holders`).
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
//!   than the one that acquired it clears some other slot of the same primitive (a
//!   `Mutex`, with its one slot, clears the right one), and at most [`MAX_HOLDERS`] holders
//!   are recorded per primitive.
//! - DIAG-6: a record's wait is a seqlock: its sequence number is odd while a write is in
//!   progress, and a writer makes it odd with an acquiring compare-and-swap from an even
//!   value (a second writer at the same moment skips its write: with the runtime there is
//!   never one, as only the thread polling a task records in its record; loom found that
//!   a relaxed one let two writers' fields mix), then a release fence,
//!   then relaxed stores of the fields, then an even number with release. A reader loads
//!   the number (acquire), the fields (relaxed), fences (acquire) and reloads the number:
//!   the copy is one write's fields, all of them, only if both loads read the same even
//!   number; else it retries a few times and then reports no wait. So a dump never waits
//!   for a task and a task never waits for a dump, and the `&'static str` pointers and
//!   lengths it rebuilds the kind and label from are always a pair that one write stored.
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

use crate::loom::atomic::{fence, AtomicPtr, AtomicU64, AtomicUsize, Ordering};
use crate::loom::{thread_local_const, Cell};

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
    /// The poll number that recorded it (rule DIAG-2) and the wait (rule DIAG-6).
    wait: WaitCell,
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
            wait: WaitCell::new(),
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

    /// What the latest poll recorded as waited on, if anything (rule DIAG-2). A lock-free
    /// copy (rule DIAG-6): `None` also if the task rewrote it during every one of a few
    /// attempts.
    ///
    /// # Examples
    ///
    /// ```
    /// let record = magpie_sync::diag::TaskRecord::new(1);
    /// assert!(record.wait().is_none());
    /// ```
    pub fn wait(&self) -> Option<WaitRecord> {
        let polls = self.polls.load(Ordering::Acquire);
        self.wait.read(polls)
    }

    /// Records a wait for the current poll (rule DIAG-2).
    #[inline]
    fn set_wait(&self, wait: &WaitRecord) {
        self.wait.write(self.polls.load(Ordering::Relaxed), wait);
    }
}

/// Rule DIAG-6: a wait record as a seqlock of atomic words.
struct WaitCell {
    seq: AtomicU64,
    /// The poll number that recorded the wait (rule DIAG-2).
    at: AtomicU64,
    /// The kind's pointer and length; null before the first wait.
    kind: (AtomicPtr<u8>, AtomicUsize),
    /// The label's pointer and length; null for no label.
    label: (AtomicPtr<u8>, AtomicUsize),
    resource: AtomicUsize,
    holders: [AtomicU64; MAX_HOLDERS],
}

/// How often a reader retries a copy that a write overlapped (rule DIAG-6).
#[cfg(not(loom))]
const READ_TRIES: usize = 16;
#[cfg(loom)]
const READ_TRIES: usize = 2;

impl WaitCell {
    fn new() -> Self {
        WaitCell {
            seq: AtomicU64::new(0),
            at: AtomicU64::new(0),
            kind: (AtomicPtr::new(ptr::null_mut()), AtomicUsize::new(0)),
            label: (AtomicPtr::new(ptr::null_mut()), AtomicUsize::new(0)),
            resource: AtomicUsize::new(0),
            holders: core::array::from_fn(|_| AtomicU64::new(0)),
        }
    }

    #[inline]
    fn write(&self, at: u64, w: &WaitRecord) {
        let seq = self.seq.load(Ordering::Relaxed);
        if seq & 1 != 0
            || self
                .seq
                // Acquire: this write's stores come after the previous writer's (which
                // released this even number), also when that was another thread.
                .compare_exchange(
                    seq,
                    seq.wrapping_add(1),
                    Ordering::Acquire,
                    Ordering::Relaxed,
                )
                .is_err()
        {
            return; // another writer (never with the runtime: rule DIAG-6)
        }
        fence(Ordering::Release);
        self.at.store(at, Ordering::Relaxed);
        store_str(&self.kind, Some(w.kind));
        store_str(&self.label, w.label);
        self.resource.store(w.resource, Ordering::Relaxed);
        for (slot, h) in self.holders.iter().zip(w.holders) {
            slot.store(h, Ordering::Relaxed);
        }
        self.seq.store(seq.wrapping_add(2), Ordering::Release);
    }

    fn read(&self, polls: u64) -> Option<WaitRecord> {
        for _ in 0..READ_TRIES {
            let seq = self.seq.load(Ordering::Acquire);
            if seq & 1 != 0 {
                crate::loom::spin_hint();
                continue;
            }
            let at = self.at.load(Ordering::Relaxed);
            let kind = load_str(&self.kind);
            let label = load_str(&self.label);
            let resource = self.resource.load(Ordering::Relaxed);
            let holders: [u64; MAX_HOLDERS] =
                core::array::from_fn(|i| self.holders[i].load(Ordering::Relaxed));
            fence(Ordering::Acquire);
            if self.seq.load(Ordering::Relaxed) != seq {
                crate::loom::spin_hint();
                continue;
            }
            if kind.0.is_null() || at != polls {
                return None;
            }
            return Some(WaitRecord {
                // SAFETY: rule DIAG-6: the two loads of `seq` read the same even number, so
                // every field read is the one write's stored between them, and that write
                // stored the pointer and length of one `&'static str` (`store_str`).
                kind: unsafe { rebuild_str(kind) },
                label: if label.0.is_null() {
                    None
                } else {
                    // SAFETY: as for the kind (rule DIAG-6).
                    Some(unsafe { rebuild_str(label) })
                },
                resource,
                holders,
            });
        }
        None
    }
}

#[inline]
fn store_str(cell: &(AtomicPtr<u8>, AtomicUsize), s: Option<&'static str>) {
    let (p, len) = s.map_or((ptr::null_mut(), 0), |s| (s.as_ptr().cast_mut(), s.len()));
    cell.0.store(p, Ordering::Relaxed);
    cell.1.store(len, Ordering::Relaxed);
}

#[inline]
fn load_str(cell: &(AtomicPtr<u8>, AtomicUsize)) -> (*mut u8, usize) {
    (
        cell.0.load(Ordering::Relaxed),
        cell.1.load(Ordering::Relaxed),
    )
}

/// # Safety
///
/// `parts` are the pointer and length of one `&'static str` (rule DIAG-6).
unsafe fn rebuild_str(parts: (*mut u8, usize)) -> &'static str {
    // SAFETY: the caller's contract: the bytes are a `'static` string's, valid UTF-8 and
    // never freed or written.
    unsafe { core::str::from_utf8_unchecked(core::slice::from_raw_parts(parts.0, parts.1)) }
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
    with_current(|r| r.set_wait(&wait));
}

/// The holders of a primitive and its identity in dumps (kind and label).
pub(crate) struct Holders {
    kind: &'static str,
    label: Option<&'static str>,
    /// At most one holder at a time (a `Mutex`): slot 0 only, plain stores.
    single: bool,
    slots: [AtomicU64; MAX_HOLDERS],
}

impl Holders {
    #[cfg(not(loom))]
    pub(crate) const fn new(kind: &'static str) -> Self {
        Holders {
            kind,
            label: None,
            single: false,
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
            single: false,
            slots: core::array::from_fn(|_| AtomicU64::new(0)),
        }
    }

    pub(crate) fn set_label(&mut self, label: &'static str) {
        self.label = Some(label);
    }

    pub(crate) const fn set_kind(&mut self, kind: &'static str) {
        self.kind = kind;
    }

    /// The primitive has at most one holder at a time (a `Mutex`): a hold and a release
    /// are one relaxed store each.
    pub(crate) const fn set_single(&mut self) {
        self.single = true;
    }

    /// Records the current task (if any) as a holder: one relaxed CAS on a slot that reads
    /// free, or a store with a single holder.
    #[inline]
    pub(crate) fn hold(&self) {
        let Some(id) = current_task() else { return };
        if self.single {
            // The one holder's release stored 0 before the permit went back (program
            // order, then the semaphore's release/acquire): this store comes after it.
            self.slots[0].store(id, Ordering::Relaxed);
            return;
        }
        // A load first: with every slot taken (more holders than slots, as with a
        // semaphore of many permits) a hold is four loads, not four failing locked CASes.
        for slot in &self.slots {
            if slot.load(Ordering::Relaxed) == 0
                && slot
                    .compare_exchange(0, id, Ordering::Relaxed, Ordering::Relaxed)
                    .is_ok()
            {
                return;
            }
        }
    }

    /// Forgets one holder: the current task's slot, else (a guard released by another
    /// task, rule DIAG-3) the first one in use.
    #[inline]
    pub(crate) fn release(&self) {
        if self.single {
            self.slots[0].store(0, Ordering::Relaxed);
            return;
        }
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
            r.set_wait(&WaitRecord {
                kind: kind.unwrap_or(self.kind),
                label: self.label,
                resource: self as *const Holders as usize,
                // Free slots read 0, which `holders()` skips.
                holders: core::array::from_fn(|i| self.slots[i].load(Ordering::Relaxed)),
            })
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
    fn a_single_holder_is_stored_and_cleared_by_whoever_releases() {
        let mut h = Holders::new("Mutex");
        h.set_single();
        let (a, b) = (TaskRecord::new(1), TaskRecord::new(2));
        {
            let _e = enter(&a);
            h.hold();
        }
        {
            let _e = enter(&b);
            h.record_wait(None);
            // The guard moved to b, which drops it.
            h.release();
        }
        assert_eq!(b.wait().unwrap().holders().collect::<Vec<_>>(), [1]);
        assert!(h.slots.iter().all(|s| s.load(Ordering::Relaxed) == 0));
    }

    #[test]
    fn a_full_holder_table_leaves_the_extra_holder_out() {
        let h = Holders::new("Semaphore");
        let records: Vec<_> = (1..=MAX_HOLDERS as u64 + 1).map(TaskRecord::new).collect();
        for r in &records {
            let _e = enter(r);
            h.hold();
        }
        let held: Vec<u64> = h.slots.iter().map(|s| s.load(Ordering::Relaxed)).collect();
        assert_eq!(held, (1..=MAX_HOLDERS as u64).collect::<Vec<_>>());
    }

    /// Rule DIAG-6 under real threads (and miri): every copy a reader takes while the task
    /// rewrites its wait is one whole write.
    #[test]
    fn a_dump_reads_whole_waits_while_the_task_rewrites_them() {
        let a = WaitRecord::new("Mutex", Some("accounts"), 1).with_holder(7);
        let b = WaitRecord::new("Queue.get", None, 2);
        let record = std::sync::Arc::new(TaskRecord::new(1));
        let rounds = if cfg!(miri) { 40 } else { 20_000 };
        let r = record.clone();
        let writer = std::thread::spawn(move || {
            for i in 0..rounds {
                let _e = enter(&r);
                record_wait(if i % 2 == 0 { a } else { b });
            }
        });
        while !writer.is_finished() {
            if let Some(w) = record.wait() {
                assert!(w == a || w == b, "a torn wait record: {w:?}");
            }
        }
        writer.join().unwrap();
        assert_eq!(record.wait(), Some(b), "the last poll recorded b");
    }

    #[test]
    fn nothing_is_recorded_without_a_task() {
        let h = Holders::new("Semaphore");
        h.hold();
        h.record_wait(None);
        assert!(h.slots.iter().all(|s| s.load(Ordering::Relaxed) == 0));
    }
}
