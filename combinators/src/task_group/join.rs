use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::state::Phase;
use super::{debug_state, GroupError, TaskGroup};

/// The future of [`TaskGroup::join`].
///
/// Dropping it before it resolves drops the group, which aborts every child.
///
/// # Examples
///
/// ```
/// magpie_runtime::block_on(async {
///     let tg = magpie_combinators::TaskGroup::<()>::new();
///     let join: magpie_combinators::GroupJoin<()> = tg.join();
///     assert!(join.await.is_ok());
/// });
/// ```
#[must_use = "futures do nothing unless awaited; dropping GroupJoin cancels the group's children"]
pub struct GroupJoin<E> {
    pub(super) group: Option<TaskGroup<E>>,
}

impl<E> Future for GroupJoin<E> {
    type Output = Result<(), GroupError<E>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let group = self
            .group
            .as_ref()
            .expect("GroupJoin polled after completion");
        let mut state = group.inner.lock();
        if state.live + state.holds > 0 {
            let displaced = match &mut state.joiner {
                Some(w) if w.will_wake(cx.waker()) => None,
                slot => slot.replace(cx.waker().clone()),
            };
            // The children, as holders of this wait in dumps (a few, cheaply known).
            let mut wait = magpie_sync::diag::WaitRecord::new(
                "TaskGroup.join",
                None,
                std::sync::Arc::as_ptr(&group.inner) as *const () as usize,
            );
            for h in state
                .children
                .values()
                .flatten()
                .take(magpie_sync::diag::MAX_HOLDERS)
            {
                wait = wait.with_holder(h.id().as_u64());
            }
            // Rule TG-4: the replaced waker is dropped after the lock is released.
            drop(state);
            drop(displaced);
            magpie_sync::diag::record_wait(wait);
            return Poll::Pending;
        }
        // Rule TG-3: every child (and nested group) has ended; close the group in the same
        // critical section.
        if state.phase == Phase::Open {
            state.phase = Phase::Closed;
        }
        let errors = std::mem::take(&mut state.errors);
        let mut panics = std::mem::take(&mut state.panics);
        // A scope's watcher (rule TG-6) is no longer needed: let it go, after the lock (TG-4).
        let watcher = state.watcher.take();
        drop(state);
        drop(watcher);
        self.group = None;
        if !panics.is_empty() {
            std::panic::resume_unwind(panics.swap_remove(0));
        }
        if errors.is_empty() {
            Poll::Ready(Ok(()))
        } else {
            Poll::Ready(Err(GroupError::new(errors)))
        }
    }
}

impl<E> fmt::Debug for GroupJoin<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.group {
            Some(group) => debug_state(&group.inner, f.debug_struct("GroupJoin")),
            None => f.debug_struct("GroupJoin").finish_non_exhaustive(),
        }
    }
}
