//! [`as_completed`]: run futures as tasks, yield their outputs as they finish.

use std::fmt;
use std::future::{pending, Future, Pending};
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use futures_core::{FusedStream, Stream};
use magpie_runtime::time::{timeout_at, Elapsed, Instant, Timeout};
use magpie_sync::coop;

use crate::children::{resume_child_failure, Children, Event, Report};

/// Runs every future as its own task and yields their outputs in completion order:
/// asyncio's `as_completed`.
///
/// The result is a [`futures_core::Stream`]; it ends once every child's output has been
/// yielded. The children are spawned when and where [`gather`](crate::gather)'s are: at
/// once inside a runtime, else on the first poll. Dropping the
/// stream aborts every child that has not finished. If a child panics, the others are
/// aborted and the panic is resumed by the next poll of the stream.
///
/// Taking an output that is already there spends one unit of the task's cooperative
/// budget, so a consumer draining many ready outputs still gives its worker back.
///
/// # Panics
///
/// If polled outside a magpie runtime with its children not yet spawned. Polling the
/// stream resumes a child's panic, and panics if a child was cancelled by its runtime
/// shutting down.
///
/// # Examples
///
/// ```
/// magpie_runtime::block_on(async {
///     let mut outputs = magpie_combinators::as_completed((0..3u32).map(|i| async move { i * 10 }));
///     let mut seen = Vec::new();
///     while let Some(v) = outputs.next().await {
///         seen.push(v);
///     }
///     seen.sort();
///     assert_eq!(seen, [0, 10, 20]);
/// });
/// ```
pub fn as_completed<I>(futures: I) -> AsCompleted<<I::Item as Future>::Output>
where
    I: IntoIterator,
    I::Item: Future + Send + 'static,
    <I::Item as Future>::Output: Send + 'static,
{
    AsCompleted {
        children: Children::spawn("as_completed", futures, Report::EachCompletion, |_| false),
        finished: false,
    }
}

/// The stream of [`as_completed`]: outputs in the order the children finish.
///
/// Dropping it aborts every child that has not finished.
///
/// # Examples
///
/// ```
/// use std::future::poll_fn;
/// use std::pin::Pin;
/// use futures_core::Stream;
///
/// magpie_runtime::block_on(async {
///     let mut one: magpie_combinators::AsCompleted<&str> =
///         magpie_combinators::as_completed([async { "only" }]);
///     assert_eq!(poll_fn(|cx| Pin::new(&mut one).poll_next(cx)).await, Some("only"));
///     assert_eq!(poll_fn(|cx| Pin::new(&mut one).poll_next(cx)).await, None);
/// });
/// ```
#[must_use = "dropping an AsCompleted aborts its children; poll it for their outputs"]
pub struct AsCompleted<T> {
    children: Children<T>,
    finished: bool,
}

impl<T> AsCompleted<T> {
    /// How many children have not finished yet (outputs already finished but not yet
    /// yielded are not counted).
    ///
    /// # Examples
    ///
    /// ```
    /// magpie_runtime::block_on(async {
    ///     let s = magpie_combinators::as_completed([std::future::pending::<()>()]);
    ///     assert_eq!(s.running(), 1);
    /// });
    /// ```
    pub fn running(&self) -> usize {
        self.children.remaining()
    }

    /// The next output, in completion order, or `None` once every output has been yielded
    /// (the same as `StreamExt::next`, without needing a stream-extension crate).
    ///
    /// Dropping the returned future before it resolves loses nothing: an output is taken
    /// out of the stream only by the poll that returns it.
    ///
    /// # Panics
    ///
    /// As the stream's `poll_next`: resumes a child's panic.
    ///
    /// # Examples
    ///
    /// ```
    /// magpie_runtime::block_on(async {
    ///     let mut s = magpie_combinators::as_completed([async { 1 }]);
    ///     assert_eq!(s.next().await, Some(1));
    ///     assert_eq!(s.next().await, None);
    /// });
    /// ```
    // Named after `StreamExt::next`, which it mirrors (an async, not an iterator, `next`).
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> impl Future<Output = Option<T>> + '_ {
        std::future::poll_fn(move |cx| Pin::new(&mut *self).poll_next(cx))
    }

    /// Puts an overall deadline on the stream, `duration` from now: asyncio's
    /// `as_completed(aws, timeout=...)`.
    ///
    /// The returned stream yields `Ok(output)` in completion order. If the deadline passes
    /// while outputs are still missing, it yields one `Err(Elapsed)` (asyncio's
    /// `TimeoutError`), aborts every child that has not finished, and ends. Outputs that
    /// are already there are yielded before the deadline is looked at.
    ///
    /// # Panics
    ///
    /// Polling it outside a magpie runtime, as for [`time::sleep`](magpie_runtime::time::sleep).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use magpie_runtime::time::sleep;
    ///
    /// magpie_runtime::block_on(async {
    ///     let mut s = magpie_combinators::as_completed([1u64, 60_000].map(|ms| async move {
    ///         sleep(Duration::from_millis(ms)).await;
    ///         ms
    ///     }))
    ///     .timeout(Duration::from_millis(200));
    ///     assert_eq!(s.next().await, Some(Ok(1)));
    ///     assert!(s.next().await.unwrap().is_err()); // the 60 s child is aborted
    ///     assert_eq!(s.next().await, None);
    /// });
    /// ```
    pub fn timeout(self, duration: Duration) -> AsCompletedTimeout<T> {
        let now = Instant::now();
        // A duration too long to represent is as good as thirty years.
        let far = || now + Duration::from_secs(30 * 365 * 24 * 60 * 60);
        self.timeout_at(now.checked_add(duration).unwrap_or_else(far))
    }

    /// Puts an overall deadline on the stream; see [`timeout`](AsCompleted::timeout).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use magpie_runtime::time::Instant;
    ///
    /// magpie_runtime::block_on(async {
    ///     let deadline = Instant::now() + Duration::from_millis(5);
    ///     let mut s = magpie_combinators::as_completed([std::future::pending::<()>()])
    ///         .timeout_at(deadline);
    ///     assert!(s.next().await.unwrap().is_err());
    /// });
    /// ```
    pub fn timeout_at(self, deadline: impl Into<Instant>) -> AsCompletedTimeout<T> {
        AsCompletedTimeout {
            inner: self,
            // A deadline that yields the runtime's own `Elapsed` error when it passes.
            deadline: Box::pin(timeout_at(deadline, pending())),
        }
    }
}

impl<T> Stream for AsCompleted<T> {
    type Item = T;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        if self.finished {
            return Poll::Ready(None);
        }
        // Outputs may be ready many times in a row: spend budget for each one taken.
        let unit = ready!(coop::poll_proceed(cx));
        match ready!(self.children.poll_event(cx)) {
            Event::Completed(output) => {
                unit.made_progress();
                Poll::Ready(Some(output))
            }
            Event::Ended(_, error) => {
                self.finished = true;
                self.children.abort_all();
                resume_child_failure("as_completed", error);
            }
            Event::AllDone => {
                self.finished = true;
                Poll::Ready(None)
            }
            Event::FailedOutput(_) => {
                unreachable!("as_completed has no failing outputs")
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.finished {
            return (0, Some(0));
        }
        // Finished-but-unyielded outputs are not counted by `running`; this is a bound.
        (0, None)
    }
}

impl<T> FusedStream for AsCompleted<T> {
    fn is_terminated(&self) -> bool {
        self.finished
    }
}

impl<T> fmt::Debug for AsCompleted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsCompleted")
            .field("children", &self.children)
            .field("finished", &self.finished)
            .finish()
    }
}

/// The stream of [`AsCompleted::timeout`]: `Ok(output)` in completion order, or one
/// `Err(Elapsed)` if the deadline passes first, after which it ends.
///
/// Dropping it aborts every child that has not finished.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// magpie_runtime::block_on(async {
///     let mut s: magpie_combinators::AsCompletedTimeout<u8> =
///         magpie_combinators::as_completed([async { 7 }]).timeout(Duration::from_secs(5));
///     assert_eq!(s.next().await, Some(Ok(7)));
///     assert_eq!(s.next().await, None);
/// });
/// ```
#[must_use = "dropping an AsCompletedTimeout aborts its children; poll it for their outputs"]
pub struct AsCompletedTimeout<T> {
    inner: AsCompleted<T>,
    deadline: Pin<Box<Timeout<Pending<()>>>>,
}

impl<T> AsCompletedTimeout<T> {
    /// The next output (or the timeout), or `None` once the stream has ended; see
    /// [`AsCompleted::next`].
    ///
    /// # Panics
    ///
    /// As the stream's `poll_next`: resumes a child's panic.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// magpie_runtime::block_on(async {
    ///     let mut s = magpie_combinators::as_completed([async { 1 }]).timeout(Duration::from_secs(5));
    ///     assert_eq!(s.next().await, Some(Ok(1)));
    /// });
    /// ```
    // Named after `StreamExt::next`, which it mirrors.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> impl Future<Output = Option<Result<T, Elapsed>>> + '_ {
        std::future::poll_fn(move |cx| Pin::new(&mut *self).poll_next(cx))
    }

    /// How many children have not finished yet; see [`AsCompleted::running`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// magpie_runtime::block_on(async {
    ///     let s = magpie_combinators::as_completed([std::future::pending::<()>()])
    ///         .timeout(Duration::from_secs(5));
    ///     assert_eq!(s.running(), 1);
    /// });
    /// ```
    pub fn running(&self) -> usize {
        self.inner.running()
    }
}

impl<T> Stream for AsCompletedTimeout<T> {
    type Item = Result<T, Elapsed>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.inner.finished {
            return Poll::Ready(None);
        }
        // Out of budget: yield now, so a Pending from the inner stream below always means
        // "no output yet", never "no budget", and a ready output is never reported late.
        ready!(coop::poll_proceed(cx)).restore();
        if let Poll::Ready(item) = Pin::new(&mut this.inner).poll_next(cx) {
            return Poll::Ready(item.map(Ok));
        }
        match this.deadline.as_mut().poll(cx) {
            Poll::Ready(Err(elapsed)) => {
                this.inner.finished = true;
                this.inner.children.abort_all();
                Poll::Ready(Some(Err(elapsed)))
            }
            Poll::Ready(Ok(())) => unreachable!("the deadline's future never completes"),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T> FusedStream for AsCompletedTimeout<T> {
    fn is_terminated(&self) -> bool {
        self.inner.finished
    }
}

impl<T> fmt::Debug for AsCompletedTimeout<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsCompletedTimeout")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}
