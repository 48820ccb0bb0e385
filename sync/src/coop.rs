//! Cooperative scheduling budget.
//!
//! A task that always finds its resources ready (a queue that is never empty, a mutex that
//! is never contended) would never return `Pending` and so never give its worker back. To
//! prevent that, the runtime hands every task poll a *budget* of operations
//! ([`DEFAULT_BUDGET`], the same 128 tokio uses). Each of magpie's resources calls
//! [`poll_proceed`] before doing work that could complete immediately: while budget is left
//! it spends one unit; once the budget is spent it wakes the task and returns `Pending`, so
//! the task goes back to the run queue and the worker runs someone else.
//!
//! The budget is a thread-local that lives in this crate because the dependency points from
//! the runtime to `magpie-sync`, never back: the runtime calls [`with_budget`] around each
//! poll. Under an executor that never sets a budget (a foreign one, or plain
//! `futures::executor::block_on`), the budget is unlimited and nothing is ever forced to yield.
//!
//! # Examples
//!
//! ```
//! use magpie_sync::coop;
//!
//! // Outside any runtime the budget is unconstrained.
//! assert!(coop::has_budget_remaining());
//!
//! // The runtime runs each poll inside `with_budget`.
//! let ((), exhausted) = coop::with_budget(2, || {
//!     assert!(coop::has_budget_remaining());
//! });
//! assert!(!exhausted);
//! ```

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use crate::loom::{thread_local_const, Cell};

/// The number of operations a task may complete in one poll before it is made to yield.
///
/// # Examples
///
/// ```
/// use magpie_sync::coop;
/// let ((), _) = coop::with_budget(coop::DEFAULT_BUDGET, || assert!(coop::has_budget_remaining()));
/// ```
pub const DEFAULT_BUDGET: u8 = 128;

thread_local_const! {
    /// `None`: unconstrained (no runtime poll in progress on this thread).
    static BUDGET: Cell<Option<u8>> = Cell::new(None);
}
thread_local_const! {
    /// Set when an operation found the budget spent during the current `with_budget` call.
    static EXHAUSTED: Cell<bool> = Cell::new(false);
}

/// Runs `f` with a fresh budget of `budget` operations, then restores the previous budget.
///
/// Returns `f`'s output and whether some operation found the budget spent (so the task was
/// forced to yield). Runtimes call this around every task poll; nesting is allowed (the inner
/// call's budget applies until it returns).
///
/// # Examples
///
/// ```
/// use magpie_sync::coop;
/// let (answer, forced_yield) = coop::with_budget(8, || 42);
/// assert_eq!(answer, 42);
/// assert!(!forced_yield, "nothing spent the budget");
/// ```
pub fn with_budget<R>(budget: u8, f: impl FnOnce() -> R) -> (R, bool) {
    struct Restore {
        budget: Option<u8>,
        exhausted: bool,
    }
    impl Drop for Restore {
        fn drop(&mut self) {
            BUDGET.with(|b| b.set(self.budget));
            EXHAUSTED.with(|e| e.set(self.exhausted));
        }
    }
    let previous = Restore {
        budget: BUDGET.with(|b| b.replace(Some(budget))),
        exhausted: EXHAUSTED.with(|e| e.replace(false)),
    };
    let out = f();
    let exhausted = EXHAUSTED.with(|e| e.get());
    drop(previous);
    (out, exhausted)
}

/// Runs `f` with no budget at all (what [`poll_proceed`] sees outside a runtime), then
/// restores the enclosing one as it was: the runtime's `task::unconstrained`.
///
/// # Examples
///
/// ```
/// use std::task::{Context, Waker};
/// use magpie_sync::coop::{poll_proceed, with_budget, without_budget};
///
/// let mut cx = Context::from_waker(Waker::noop());
/// with_budget(1, || {
///     without_budget(|| {
///         for _ in 0..10 {
///             assert!(poll_proceed(&mut cx).is_ready()); // never runs out
///         }
///     });
///     assert!(poll_proceed(&mut cx).is_ready()); // the outer unit is still there
/// });
/// ```
pub fn without_budget<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(Option<u8>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let budget = self.0;
            BUDGET.with(|b| b.set(budget));
        }
    }
    let _previous = Restore(BUDGET.with(|b| b.replace(None)));
    f()
}

/// Whether the current task may still complete an operation without yielding.
///
/// Always `true` outside a budgeted poll.
///
/// # Examples
///
/// ```
/// use std::task::{Context, Waker};
/// use magpie_sync::coop;
/// assert!(coop::has_budget_remaining());
/// let mut cx = Context::from_waker(Waker::noop());
/// let ((), forced_yield) = coop::with_budget(1, || {
///     if let std::task::Poll::Ready(unit) = coop::poll_proceed(&mut cx) {
///         unit.made_progress();
///     }
///     assert!(!coop::has_budget_remaining());
///     let _ = coop::poll_proceed(&mut cx); // finds the budget spent
/// });
/// assert!(forced_yield);
/// ```
pub fn has_budget_remaining() -> bool {
    BUDGET.with(|b| b.get() != Some(0))
}

/// Spends one unit of budget, or, if none is left, wakes the task and returns `Pending`.
///
/// Call this at the top of a `poll` that may complete without waiting. If the operation
/// then turns out not to be ready after all, call [`Consumed::restore`] (or just drop the
/// `Consumed` without calling [`Consumed::made_progress`]) to give the unit back: only
/// completed operations count.
///
/// # Examples
///
/// ```
/// use std::task::{Context, Poll, Waker};
/// use magpie_sync::coop;
///
/// let mut cx = Context::from_waker(Waker::noop());
/// let ((), _) = coop::with_budget(1, || {
///     let unit = coop::poll_proceed(&mut cx);
///     assert!(unit.is_ready());
///     if let Poll::Ready(unit) = unit {
///         unit.made_progress();
///     }
///     // The single unit is spent: the next operation must yield.
///     assert!(coop::poll_proceed(&mut cx).is_pending());
/// });
/// ```
pub fn poll_proceed(cx: &mut Context<'_>) -> Poll<Consumed> {
    BUDGET.with(|b| match b.get() {
        None => Poll::Ready(Consumed { spent: false }),
        Some(0) => {
            EXHAUSTED.with(|e| e.set(true));
            cx.waker().wake_by_ref();
            Poll::Pending
        }
        Some(n) => {
            b.set(Some(n - 1));
            Poll::Ready(Consumed { spent: true })
        }
    })
}

/// One unit of budget taken by [`poll_proceed`]; given back on drop unless
/// [`made_progress`](Consumed::made_progress) was called.
///
/// # Examples
///
/// ```
/// use std::task::{Context, Poll, Waker};
/// use magpie_sync::coop;
/// let mut cx = Context::from_waker(Waker::noop());
/// let ((), _) = coop::with_budget(1, || {
///     if let Poll::Ready(unit) = coop::poll_proceed(&mut cx) {
///         unit.restore(); // the operation was not ready after all: give the unit back
///     }
///     assert!(coop::has_budget_remaining());
/// });
/// ```
#[derive(Debug)]
#[must_use = "dropping this gives the budget unit back; call made_progress() once the operation completed"]
pub struct Consumed {
    spent: bool,
}

impl Consumed {
    /// The operation completed: keep the unit spent.
    pub fn made_progress(mut self) {
        self.spent = false;
    }

    /// The operation did not complete: give the unit back (the same as dropping `self`).
    pub fn restore(self) {}
}

impl Drop for Consumed {
    fn drop(&mut self) {
        if self.spent {
            BUDGET.with(|b| {
                if let Some(n) = b.get() {
                    b.set(Some(n.saturating_add(1)));
                }
            });
        }
    }
}

/// Spends one unit of budget, yielding to the scheduler first if the budget is spent.
///
/// Use it in loops that do a lot of work without touching any of magpie's resources, so they
/// still give their worker back now and then. Outside a runtime it completes at once.
///
/// # Examples
///
/// ```
/// # let _fut = async {
/// for _ in 0..1_000 {
///     magpie_sync::coop::consume_budget().await;
/// }
/// # };
/// ```
pub async fn consume_budget() {
    ConsumeBudget.await
}

struct ConsumeBudget;

impl Future for ConsumeBudget {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        match poll_proceed(cx) {
            Poll::Ready(unit) => {
                unit.made_progress();
                Poll::Ready(())
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::task::Waker;

    #[test]
    fn unconstrained_outside_a_runtime() {
        let mut cx = Context::from_waker(Waker::noop());
        for _ in 0..1000 {
            match poll_proceed(&mut cx) {
                Poll::Ready(u) => u.made_progress(),
                Poll::Pending => panic!("no budget is set"),
            }
        }
    }

    #[test]
    fn budget_runs_out_and_is_restored() {
        let mut cx = Context::from_waker(Waker::noop());
        let (count, exhausted) = with_budget(3, || {
            let mut count = 0;
            while let Poll::Ready(u) = poll_proceed(&mut cx) {
                u.made_progress();
                count += 1;
            }
            count
        });
        assert_eq!(count, 3);
        assert!(exhausted);
        assert!(
            has_budget_remaining(),
            "the outer (unlimited) budget is back"
        );
    }

    #[test]
    fn dropped_unit_is_given_back() {
        let mut cx = Context::from_waker(Waker::noop());
        let ((), exhausted) = with_budget(1, || {
            for _ in 0..10 {
                let unit = poll_proceed(&mut cx);
                assert!(unit.is_ready());
                // dropped without made_progress: restored
            }
        });
        assert!(!exhausted);
    }

    #[test]
    fn nested_budgets_restore_the_outer_one() {
        let mut cx = Context::from_waker(Waker::noop());
        with_budget(5, || {
            if let Poll::Ready(u) = poll_proceed(&mut cx) {
                u.made_progress();
            }
            let (_, inner_exhausted) = with_budget(0, || poll_proceed(&mut cx).is_pending());
            assert!(inner_exhausted);
            assert!(has_budget_remaining());
        });
    }
}
