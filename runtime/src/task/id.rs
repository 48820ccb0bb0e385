use std::fmt;
use std::num::NonZeroU64;

use crate::loom::atomic::{AtomicU64, Ordering};
use crate::loom::{thread_local_const, Cell};

/// A task's identifier, unique among all tasks of the process for its lifetime.
///
/// # Examples
///
/// ```
/// let rt = magpie_runtime::Runtime::new().unwrap();
/// let a = rt.spawn(async {});
/// let b = rt.spawn(async {});
/// assert_ne!(a.id(), b.id());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaskId(NonZeroU64);

/// Ids are handed out to each thread in blocks, so spawning does not contend on one
/// global counter.
const BLOCK: u64 = 1024;

#[cfg(not(loom))]
static NEXT_BLOCK: AtomicU64 = AtomicU64::new(1);

#[cfg(loom)]
loom::lazy_static! {
    static ref NEXT_BLOCK: AtomicU64 = AtomicU64::new(1);
}

thread_local_const! {
    /// (next id, end of this thread's block)
    static LOCAL: Cell<(u64, u64)> = Cell::new((0, 0));
}

/// The id of the task currently running on this thread.
///
/// Known while a task is being polled and while its future is being dropped (so a value
/// dropped with the future can still name its task), as tokio's `task::id`.
///
/// # Panics
///
/// Outside a task: on a thread that is not polling one, or in the future passed to
/// `block_on` (which is not a task). Use [`try_id`] where that can happen.
///
/// # Examples
///
/// ```
/// magpie_runtime::block_on(async {
///     let h = magpie_runtime::spawn(async { magpie_runtime::task::id() });
///     let id = h.id();
///     assert_eq!(h.await.unwrap(), id);
/// });
/// ```
#[track_caller]
pub fn id() -> TaskId {
    try_id().expect(
        "magpie::task::id() called outside a task (the future given to block_on is not one):          use task::try_id() where there may be no current task",
    )
}

/// The id of the task currently running on this thread, or `None` outside a task (see
/// [`id`]).
///
/// # Examples
///
/// ```
/// assert_eq!(magpie_runtime::task::try_id(), None);
/// magpie_runtime::block_on(async {
///     assert_eq!(magpie_runtime::task::try_id(), None); // block_on's future is no task
///     let h = magpie_runtime::spawn(async { magpie_runtime::task::try_id() });
///     let id = h.id();
///     assert_eq!(h.await.unwrap(), Some(id));
/// });
/// ```
pub fn try_id() -> Option<TaskId> {
    // The task being polled (or having its future dropped) on this thread is the one whose
    // diagnostic record the poll entered (`TaskFuture::poll`, rule DIAG-1): one
    // thread-local for both (a second one per poll was measurable in yield_many).
    magpie_sync::diag::current_task().and_then(TaskId::from_u64)
}

impl TaskId {
    pub(crate) fn next() -> TaskId {
        LOCAL.with(|local| {
            let (mut next, mut end) = local.get();
            if next == end {
                next = NEXT_BLOCK.fetch_add(BLOCK, Ordering::Relaxed);
                end = next + BLOCK;
            }
            local.set((next + 1, end));
            TaskId(NonZeroU64::new(next).expect("task ids start at 1 and 2^64 are never spent"))
        })
    }

    /// The id numbered `n`, if `n` is not 0 (diagnostic records carry ids as numbers).
    pub(crate) fn from_u64(n: u64) -> Option<TaskId> {
        NonZeroU64::new(n).map(TaskId)
    }

    /// The id as a number.
    ///
    /// # Examples
    ///
    /// ```
    /// magpie_runtime::block_on(async {
    ///     let a = magpie_runtime::spawn(async {});
    ///     let b = magpie_runtime::spawn(async {});
    ///     assert_ne!(a.id().as_u64(), b.id().as_u64()); // unique per task
    ///     assert!(a.id().as_u64() >= 1);
    /// });
    /// ```
    pub fn as_u64(self) -> u64 {
        self.0.get()
    }
}

impl fmt::Debug for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TaskId({})", self.0)
    }
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}
