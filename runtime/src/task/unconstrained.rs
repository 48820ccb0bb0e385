use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use magpie_sync::coop;

/// Runs `future` without the cooperative budget: the runtime's own futures (I/O, timers,
/// channels, join handles) inside it never return `Pending` just because the task has
/// done a lot of work in one poll. As tokio's `task::unconstrained`.
///
/// Use it sparingly: a task that always finds work ready then never yields, and starves
/// the other tasks of its worker (on a current-thread runtime, all of them). The budget of
/// the enclosing poll is left as it was.
///
/// # Examples
///
/// ```
/// magpie_runtime::block_on(async {
///     // 1,000 budget units in one poll: without `unconstrained`, the task would be made
///     // to yield after 128 of them.
///     magpie_runtime::spawn(magpie_runtime::task::unconstrained(async {
///         for _ in 0..1_000 {
///             magpie_runtime::task::consume_budget().await;
///         }
///     }))
///     .await
///     .unwrap();
/// });
/// ```
pub fn unconstrained<F: Future>(future: F) -> Unconstrained<F> {
    Unconstrained { future }
}

/// The future returned by [`unconstrained`].
///
/// # Examples
///
/// ```
/// let fut: magpie_runtime::task::Unconstrained<_> =
///     magpie_runtime::task::unconstrained(async { 5 });
/// assert_eq!(magpie_runtime::block_on(fut), 5);
/// ```
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct Unconstrained<F> {
    future: F,
}

impl<F: Future> Future for Unconstrained<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: structural pinning of `future`: it is never moved out of `self`, which has
        // no `Drop` impl and is `Unpin` only if `F` is (the auto trait).
        let future = unsafe { self.map_unchecked_mut(|this| &mut this.future) };
        coop::without_budget(|| future.poll(cx))
    }
}
