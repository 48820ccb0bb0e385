//! The thread-local "current runtime" context: which runtime's scheduler is entered on
//! this thread, and whether blocking the thread on a future is forbidden here.
//!
//! Every room below the facade (tasks, the schedulers' workers, the driver, the blocking
//! pool) finds "the current runtime" here, as a [`Scheduler`], so none of them needs the
//! facade's `Runtime` or `Handle`; `Handle::try_current` is a view of the same slot.
//!
//! Rule CTX-1: an entered context is restored exactly when its guard ([`RuntimeEntered`])
//! drops, guards drop in the reverse order of their entry (they live on the stack of the
//! code that entered), so the slot always names the innermost entered runtime.
//!
//! Rule CTX-2: `blocking` is set while a worker thread or a `block_on` runs: a `block_on`
//! there would stop the thread from running the tasks it waits for, so it panics instead.

use std::cell::{Cell, RefCell};
use std::fmt;

use crate::loom::thread_local_const;
use crate::scheduler::Scheduler;

struct ContextState {
    /// The runtime entered on this thread, if any.
    scheduler: RefCell<Option<Scheduler>>,
    /// Whether blocking the thread on a future is forbidden here (worker or block_on).
    blocking: Cell<bool>,
}

thread_local_const! {
    static CONTEXT: ContextState = ContextState {
            scheduler: RefCell::new(None),
            blocking: Cell::new(false),
        };
}

/// The scheduler of the runtime entered on this thread, if any.
pub(crate) fn current_scheduler() -> Option<Scheduler> {
    CONTEXT.with(|c| c.scheduler.borrow().clone())
}

/// Panics if blocking this thread on a future is forbidden here (rule CTX-2).
#[track_caller]
pub(crate) fn assert_may_block() {
    if CONTEXT.with(|c| c.blocking.get()) {
        blocking_panic();
    }
}

/// Whether this thread is a worker or inside `block_on` (rule CTX-2's flag).
pub(crate) fn is_blocking_forbidden() -> bool {
    CONTEXT.with(|c| c.blocking.get())
}

#[track_caller]
fn blocking_panic() -> ! {
    panic!(
        "block_on called from inside a magpie runtime (a task, a worker thread or another \
         block_on): it would stop this thread from running tasks. Use `.await` instead, or \
         spawn the work and await its JoinHandle"
    )
}

/// Sets this thread's current runtime until dropped (restoring the previous one, CTX-1).
pub(crate) struct RuntimeEntered {
    previous: Option<Scheduler>,
    previous_blocking: bool,
}

impl RuntimeEntered {
    /// Enters without forbidding `block_on` (`Handle::enter`, shutdown, blocking pool).
    pub(crate) fn enter(scheduler: Scheduler) -> RuntimeEntered {
        CONTEXT.with(|c| RuntimeEntered {
            previous: c.scheduler.replace(Some(scheduler)),
            previous_blocking: c.blocking.get(),
        })
    }

    /// Enters a worker or `block_on`: a nested `block_on` panics (CTX-2).
    #[track_caller]
    pub(crate) fn enter_blocking(scheduler: Scheduler) -> RuntimeEntered {
        assert_may_block();
        let entered = RuntimeEntered::enter(scheduler);
        CONTEXT.with(|c| c.blocking.set(true));
        entered
    }
}

impl Drop for RuntimeEntered {
    fn drop(&mut self) {
        let previous = self.previous.take();
        let blocking = self.previous_blocking;
        CONTEXT.with(|c| {
            let _ = c.scheduler.replace(previous);
            c.blocking.set(blocking);
        });
    }
}

impl fmt::Debug for RuntimeEntered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RuntimeEntered").finish_non_exhaustive()
    }
}
