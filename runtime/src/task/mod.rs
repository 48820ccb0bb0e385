//! Tasks: one allocation each, built on `async-task`.
//!
//! A magpie task is an `async_task` task whose metadata is a `Header` and whose future is
//! a `TaskFuture` wrapping the user's future. The wrapper catches
//! panics at the task boundary, honours `abort()`, and turns the outcome into
//! `Result<T, JoinError>`; [`JoinHandle`] awaits that.
//!
//! # Ownership rules
//!
//! These are the invariants the `unsafe` code in this module cites.
//!
//! 1. **The header outlives the future.** `async-task` stores the metadata beside the future
//!    in the task allocation and drops the future (on completion, or when a cancelled
//!    `Runnable` is dropped) before it drops the metadata and frees the allocation. So a
//!    `&Header` borrowed by the future stays valid for the future's whole life. This is what
//!    `Builder::spawn_unchecked`'s lifetime `'a` expresses, and why the wrapper may hold it.
//! 2. **The registry holds one waker per live task.** Between spawn and the drop of its
//!    future, every task has exactly one entry in its runtime's `OwnedTasks` (a `Waker`,
//!    which is a counted reference, so the allocation cannot be freed while listed). The
//!    entry's key is in `Header::key`; both change only under the shard's lock. The entry is
//!    removed by the future's drop, whatever ended it. That is how shutdown reaches tasks
//!    parked forever, and how `abort()` reaches a task that is not in any queue.
//! 3. **A runnable is dropped, never run, once its runtime is closed.** Dropping an
//!    `async_task::Runnable` drops the future in place (rule 1 still holds) and makes the
//!    `JoinHandle` yield a cancelled `JoinError`. The schedulers do it through
//!    `drop_closed`, which never nests: a future's drop may wake another task of the
//!    closed runtime (a semaphore permit handed on), whose drop would wake the next, one
//!    stack frame per waiter; nested drops are queued and the outermost call drops them
//!    one after another.
//! 4. **Futures are `Send + 'static`.** Every spawn path requires it, which is what makes
//!    `spawn_unchecked` sound here: a task may be polled and dropped on any worker.
//! 5. **A task waker keeps the header alive.** A `Waker` of an async-task task is a counted
//!    reference to its allocation, like a `Task` or a `Runnable`: the metadata is dropped
//!    and the allocation freed only once every reference is gone. So whoever holds a clone
//!    of a task's waker may read its `Header` through a pointer taken beside it
//!    ([`AbortHandle`] does).
//!
//! # Aborting
//!
//! `abort()` sets `Header::aborted` (Release) and then wakes the task through its registry
//! waker. The wrapper checks the flag (Acquire) at the top of every poll: if set, it drops
//! the user's future and completes with a cancelled `JoinError`, or, if that drop panics,
//! with a panic `JoinError` carrying the drop's payload (as tokio: the panic is the task's
//! outcome and is not lost). A runnable dropped unpolled because its runtime shut down
//! (ownership rule 3) has no output slot left to carry a payload: its handle reports
//! "cancelled" and the drop's panic is caught and discarded. A task that completed
//! before the flag was seen keeps its result; a task that was never polled sees the flag on
//! its first poll. Whatever the race, the handle yields exactly one outcome, and it yields
//! it only after the future has been dropped (async-task publishes the output after the
//! future is gone).
//!
//! # Examples
//!
//! ```
//! magpie_runtime::block_on(async {
//!     let h = magpie_runtime::task::spawn(async { 2 });
//!     let id: magpie_runtime::task::TaskId = h.id();
//!     assert!(id.as_u64() > 0);
//!     magpie_runtime::task::yield_now().await;
//!     assert_eq!(h.await.unwrap(), 2);
//! });
//! ```

mod abort;
mod block_in_place;
mod error;
mod future;
mod id;
mod join;
mod local;
pub(crate) mod registry;
mod spawn;
mod task_local;
#[cfg(all(test, not(loom)))]
mod tests;
mod unconstrained;
mod yield_now;

pub use abort::AbortHandle;
pub use block_in_place::block_in_place;
pub use error::JoinError;
pub use id::{id, try_id, TaskId};
pub use join::JoinHandle;
pub(crate) use local::{forget_implicit, with_implicit};
pub use local::{spawn_local, LocalSet};
pub use magpie_sync::coop::consume_budget;
pub(crate) use spawn::spawn_with;
pub use spawn::{spawn, Builder};
pub use task_local::{AccessError, LocalKey, TaskLocalFuture};
pub use unconstrained::{unconstrained, Unconstrained};
pub use yield_now::yield_now;

pub(crate) use future::TaskFuture;
pub(crate) use registry::OwnedTasks;

use std::cell::RefCell;

use crate::loom::atomic::{AtomicBool, AtomicUsize, Ordering};
use crate::loom::thread_local_const;
use crate::scheduler::Scheduler;

/// A runnable magpie task, as the schedulers queue it.
pub(crate) type Runnable = async_task::Runnable<Header>;

thread_local_const! {
    /// `Some` while this thread is inside [`drop_closed`]: the runnables whose drop was
    /// asked for meanwhile (by wakes from the futures being dropped).
    static DEFERRED_DROPS: RefCell<Option<Vec<Runnable>>> = RefCell::new(None);
}

/// Drops a runnable whose runtime is closed (ownership rule 3) without nesting: called
/// from inside another such drop on this thread, it only queues `task`, and the outermost
/// call drops the queued ones in a loop. So a chain of waiters handing a permit on to each
/// other while their runtime shuts down takes constant stack, not a frame per waiter.
pub(crate) fn drop_closed(task: Runnable) {
    let outermost = DEFERRED_DROPS.try_with(|deferred| {
        let mut deferred = deferred.borrow_mut();
        match &mut *deferred {
            Some(queued) => {
                queued.push(task);
                None
            }
            None => {
                *deferred = Some(Vec::new());
                Some(task)
            }
        }
    });
    let mut task = match outermost {
        Ok(Some(task)) => task,
        Ok(None) => return,
        // This thread's locals are being destroyed: the closure, and `task` in it, was
        // dropped already.
        Err(_) => return,
    };
    loop {
        // No borrow is held across the drop, which may call back into this function.
        // async-task aborts rather than unwind out of a future's drop, so the loop always
        // reaches the reset below.
        drop(task);
        match DEFERRED_DROPS.with(|d| d.borrow_mut().as_mut().and_then(Vec::pop)) {
            Some(next) => task = next,
            None => break,
        }
    }
    DEFERRED_DROPS.with(|d| *d.borrow_mut() = None);
}

/// The metadata of every magpie task (the `M` of `async_task::Runnable<M>`).
// `repr(C)`, in this order: what every poll and schedule touches first (one cache line
// with async-task's own header), the dump-only parts (the wait record, the name) last.
#[repr(C)]
pub(crate) struct Header {
    /// Unique for the life of the process.
    pub(crate) id: TaskId,
    /// The scheduler this task belongs to; the schedule function reads it (so the schedule
    /// function itself is zero-sized and async-task needs no waker clone per schedule).
    pub(crate) scheduler: Scheduler,
    /// This task's key in its runtime's registry, or `registry::NOT_LISTED`.
    /// Written only under the registry shard's lock (ownership rule 2).
    pub(crate) key: AtomicUsize,
    /// Set by `abort()`; read at the top of every poll. See "Aborting" above.
    pub(crate) aborted: AtomicBool,
    /// Set (Release) once the task's future has been dropped, whatever ended it; read by
    /// [`AbortHandle::is_finished`].
    pub(crate) finished: AtomicBool,
    /// What dumps show of the task (`crate::diag`).
    pub(crate) diag: crate::diag::task::TaskDiag,
    /// The name given through [`Builder::name`], if any.
    pub(crate) name: Option<Box<str>>,
}

impl Header {
    pub(crate) fn new(
        id: TaskId,
        name: Option<Box<str>>,
        scheduler: Scheduler,
        spawned_at: &'static std::panic::Location<'static>,
    ) -> Self {
        let now = scheduler.services().recent.get();
        Header {
            diag: crate::diag::task::TaskDiag::new(id, spawned_at, now),
            id,
            name,
            scheduler,
            aborted: AtomicBool::new(false),
            key: AtomicUsize::new(registry::NOT_LISTED),
            finished: AtomicBool::new(false),
        }
    }

    /// Requests cancellation: the future is dropped at its next poll.
    pub(crate) fn abort(&self) {
        self.aborted.store(true, Ordering::Release);
        // Wake the task so that "next poll" comes even if it is parked forever. If it is
        // already scheduled or running, async-task coalesces the wake.
        if let Some(waker) = self.scheduler.owned().waker_of(self) {
            waker.wake();
        }
    }

    pub(crate) fn is_aborted(&self) -> bool {
        self.aborted.load(Ordering::Acquire)
    }
}

impl std::fmt::Debug for Header {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Header")
            .field("id", &self.id)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}
