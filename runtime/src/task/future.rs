use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

use super::{Header, JoinError};
use crate::loom::atomic::Ordering;

/// The future async-task actually runs: the user's future plus the task boundary.
///
/// It catches panics (the worker survives; the handle gets `JoinError::panic`), honours
/// `abort()`, and removes the task from its registry when dropped (ownership rule 2).
pub(crate) struct TaskFuture<'a, F> {
    /// Ownership rule 1: valid for as long as this future exists.
    header: &'a Header,
    /// `None` once the user's future has been dropped.
    future: Option<F>,
    /// Entered around each poll (the `tracing` feature; see `trace.rs`).
    #[cfg(feature = "tracing")]
    span: tracing::Span,
}

/// What [`TaskFuture::project`] gives of the task's span: the span itself with the `tracing`
/// feature, nothing without.
#[cfg(feature = "tracing")]
type SpanRef<'s> = &'s tracing::Span;
#[cfg(not(feature = "tracing"))]
type SpanRef<'s> = ();

impl<'a, F> TaskFuture<'a, F> {
    pub(crate) fn new(header: &'a Header, future: F) -> Self {
        TaskFuture {
            header,
            future: Some(future),
            #[cfg(feature = "tracing")]
            span: crate::trace::task_span(header),
        }
    }

    fn project(self: Pin<&mut Self>) -> (&'a Header, Pin<&mut Option<F>>, SpanRef<'_>) {
        // SAFETY: structural pinning of `future`: it is never moved out of `self` (it is only
        // polled in place and dropped in place with `Pin::set`), `TaskFuture` has no
        // `Unpin` impl of its own beyond the auto trait, and its `Drop` does not move it.
        unsafe {
            let this = self.get_unchecked_mut();
            #[cfg(feature = "tracing")]
            let span = &this.span;
            #[cfg(not(feature = "tracing"))]
            let span = ();
            (this.header, Pin::new_unchecked(&mut this.future), span)
        }
    }
}

impl<F: Future> Future for TaskFuture<'_, F> {
    type Output = Result<F::Output, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let (header, mut slot, _span) = self.project();
        #[cfg(feature = "tracing")]
        let _entered = _span.enter();
        // This task's record is current for the whole poll (and the drops it may do):
        // `task::id()` reads it, guards dropped with the future release as this task, and
        // the sync primitives record what the poll waits on (`crate::diag`).
        let _current = magpie_sync::diag::enter(&header.diag.record);
        if header.is_aborted() {
            // Drop the user's future here, inside the task boundary, so a panicking
            // destructor is caught rather than unwinding into the worker. A panic there is
            // the task's outcome (as in tokio): the handle reports it, not "cancelled".
            return Poll::Ready(Err(
                match catch_unwind(AssertUnwindSafe(|| slot.set(None))) {
                    Ok(()) => JoinError::cancelled(header.id),
                    Err(payload) => JoinError::panic(header.id, payload),
                },
            ));
        }
        let services = header.scheduler.services();
        let outcome = header
            .diag
            .poll(&services.recent, services.poll_stamps.as_ref(), || {
                catch_unwind(AssertUnwindSafe(|| {
                    let future = slot
                        .as_mut()
                        .as_pin_mut()
                        .expect("async-task never polls a task after it completed");
                    let poll = future.poll(cx);
                    if poll.is_ready() {
                        // Drop the future before the output is published, so whoever awaits the
                        // handle knows the future is gone.
                        slot.set(None);
                    }
                    poll
                }))
            });
        match outcome {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(value)) => Poll::Ready(Ok(value)),
            Err(payload) => {
                // The poll's panic is the outcome; a second one from the drop is dropped
                // (its payload with it) rather than unwinding into the worker.
                let _ = catch_unwind(AssertUnwindSafe(|| slot.set(None)));
                Poll::Ready(Err(JoinError::panic(header.id, payload)))
            }
        }
    }
}

impl<F> Drop for TaskFuture<'_, F> {
    fn drop(&mut self) {
        if self.future.is_some() {
            // Cancelled without being polled to the end (the runnable was dropped at
            // shutdown): a panicking destructor must not unwind into the runtime.
            let _current = magpie_sync::diag::enter(&self.header.diag.record);
            let future = &mut self.future;
            let _ = catch_unwind(AssertUnwindSafe(|| *future = None));
        }
        let header = self.header;
        header.scheduler.owned().remove(header);
        // The future is gone: what `AbortHandle::is_finished` reads.
        header.finished.store(true, Ordering::Release);
    }
}
