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
