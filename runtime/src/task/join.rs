use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll, Waker};

use magpie_sync::coop;

use super::{Header, JoinError, TaskId};

/// An owned permission to await a task's output, or to abort it.
///
/// Awaiting it gives `Ok(output)`, or a [`JoinError`] if the task panicked or was
/// cancelled. Dropping it *detaches* the task: it keeps running (as in tokio and asyncio).
/// [`abort`](JoinHandle::abort) cancels it, from any thread.
///
/// # Examples
///
/// ```
/// let rt = magpie_runtime::Runtime::new().unwrap();
/// let out = rt.block_on(async {
///     let h = magpie_runtime::spawn(async { 40 + 2 });
///     h.await.unwrap()
/// });
/// assert_eq!(out, 42);
/// ```
pub struct JoinHandle<T> {
    /// Always `Some` until drop, which detaches it.
    task: Option<async_task::FallibleTask<Result<T, JoinError>, Header>>,
    /// The task's header. `FallibleTask` does not expose the metadata, so the handle keeps
    /// a pointer to it. Rule JH1: the `FallibleTask` above is a counted reference to the
    /// task allocation, which async-task frees (and whose metadata it drops) only after
    /// every reference, this one included, is gone; so the header is valid for as long as
    /// `task` is `Some`, that is, for the handle's whole life.
    header: NonNull<Header>,
    /// The outcome, once [`poll_finished`](JoinHandle::poll_finished) has seen the task end
    /// (it takes the outcome out of the task to learn that); `poll` hands it over first.
    outcome: Option<Result<T, JoinError>>,
    /// Rule JH2: a clone of the waker last given to async-task. async-task replaces its
    /// stored awaiter inside its registration section (where a panic aborts the process);
    /// with this clone alive, the copy it drops there is never the last one, and the last
    /// drop of a replaced waker happens here, in [`poll_task`](JoinHandle::poll_task),
    /// after async-task has returned (a waker's drop may re-enter, or panic).
    waker: Option<Waker>,
}

// The handle never pins `T` (the outcome is only ever moved), so it is `Unpin` whatever `T`.
impl<T> Unpin for JoinHandle<T> {}

// SAFETY: the handle is the `FallibleTask` (Send when `T: Send`, and `Header: Send + Sync`),
// a shared pointer to the `Sync` header, only ever read through `&Header`, an owned
// `Option<Result<T, JoinError>>` (Send when `T: Send`) and a `Waker` (Send + Sync).
unsafe impl<T: Send> Send for JoinHandle<T> {}
// SAFETY: as above: `&JoinHandle` only reads the `Sync` header, calls `&self` methods of
// `FallibleTask` (`Sync` for `T: Send`), and reads the outcome's discriminant and its
// `JoinError` (which is `Sync`), never a `&T`; the `Waker` is only touched through `&mut`.
unsafe impl<T: Send> Sync for JoinHandle<T> {}

impl<T> JoinHandle<T> {
    pub(crate) fn new(task: async_task::Task<Result<T, JoinError>, Header>) -> Self {
        let header = NonNull::from(task.metadata());
        JoinHandle {
            task: Some(task.fallible()),
            header,
            outcome: None,
            waker: None,
        }
    }

    fn header(&self) -> &Header {
        // SAFETY: rule JH1.
        unsafe { self.header.as_ref() }
    }

    /// Cancels the task: its future is dropped at its next scheduling point (at once if it
    /// is idle), and awaiting this handle then yields a cancelled [`JoinError`].
    ///
    /// Aborting a task that has already finished changes nothing: its output stays.
    /// Callable from any thread; calling it twice is harmless.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = magpie_runtime::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let h = magpie_runtime::spawn(std::future::pending::<()>());
    ///     h.abort();
    ///     assert!(h.await.unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn abort(&self) {
        self.header().abort();
    }

    /// Whether the task has finished (completed, panicked or been cancelled).
    ///
    /// # Examples
    ///
    /// ```
    /// magpie_runtime::block_on(async {
    ///     let h = magpie_runtime::spawn(std::future::pending::<()>());
    ///     assert!(!h.is_finished());
    ///     h.abort();
    ///     while !h.is_finished() {
    ///         magpie_runtime::yield_now().await;
    ///     }
    /// });
    /// ```
    pub fn is_finished(&self) -> bool {
        self.outcome.is_some() || self.task.as_ref().is_some_and(|t| t.is_finished())
    }

    /// Waits for the task to finish *without* taking its output: once this returns
    /// `Ready`, the outcome is kept in the handle and awaiting the handle yields it at once.
    /// This is what `magpie::wait` uses to sort handles into done and pending. It spends no
    /// cooperative budget.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    /// magpie_runtime::block_on(async {
    ///     let mut h = magpie_runtime::spawn(async { 7 });
    ///     poll_fn(|cx| h.poll_finished(cx)).await;
    ///     assert!(h.is_finished());
    ///     assert_eq!(h.finished_with_panic(), Some(false));
    ///     assert_eq!(h.await.unwrap(), 7);
    /// });
    /// ```
    pub fn poll_finished(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if self.outcome.is_none() {
            let out = std::task::ready!(self.poll_task(cx));
            self.outcome = Some(out);
        }
        Poll::Ready(())
    }

    /// After [`poll_finished`](JoinHandle::poll_finished) returned `Ready`: whether the task
    /// panicked (`Some(true)`), or ended otherwise (`Some(false)`: completed or cancelled).
    /// `None` while the outcome has not been collected.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    /// magpie_runtime::block_on(async {
    ///     let mut h = magpie_runtime::spawn(async { panic!("collected, not resumed") });
    ///     assert_eq!(h.finished_with_panic(), None);
    ///     poll_fn(|cx| h.poll_finished(cx)).await;
    ///     assert_eq!(h.finished_with_panic(), Some(true));
    ///     assert!(h.await.unwrap_err().is_panic());
    /// });
    /// ```
    pub fn finished_with_panic(&self) -> Option<bool> {
        self.outcome
            .as_ref()
            .map(|o| matches!(o, Err(e) if e.is_panic()))
    }

    fn poll_task(&mut self, cx: &mut Context<'_>) -> Poll<Result<T, JoinError>> {
        let id = self.header().id;
        // Rule JH2: keep our own clone of the waker async-task is about to store.
        let displaced = match &self.waker {
            Some(w) if w.will_wake(cx.waker()) => None,
            _ => self.waker.replace(cx.waker().clone()),
        };
        let task = self
            .task
            .as_mut()
            .expect("the task is only taken out on drop");
        // `None`: async-task dropped the runnable (the runtime shut down first).
        let poll = Pin::new(task)
            .poll(cx)
            .map(|out| out.unwrap_or_else(|| Err(JoinError::cancelled(id))));
        drop(displaced);
        if poll.is_ready() {
            // Nothing is registered any more: our clone can go too.
            self.waker = None;
        } else {
            // What dumps show: the awaited task holds this wait (`crate::diag`).
            crate::diag::record_join_wait(id);
        }
        poll
    }

    /// A cloneable, `Send + Sync` handle that can abort the task (from any thread) and tell
    /// whether it has finished, without the right to await it.
    ///
    /// # Examples
    ///
    /// ```
    /// magpie_runtime::block_on(async {
    ///     let h = magpie_runtime::spawn(std::future::pending::<()>());
    ///     let abort = h.abort_handle();
    ///     assert!(!abort.is_finished());
    ///     abort.abort();
    ///     assert!(h.await.unwrap_err().is_cancelled());
    ///     assert!(abort.is_finished());
    /// });
    /// ```
    pub fn abort_handle(&self) -> super::AbortHandle {
        super::AbortHandle::new(self.header())
    }

    /// The task's id.
    ///
    /// # Examples
    ///
    /// ```
    /// magpie_runtime::block_on(async {
    ///     let h = magpie_runtime::spawn(async { panic!("failed") });
    ///     let id = h.id(); // stays known after the task is gone
    ///     assert_eq!(h.await.unwrap_err().id(), id);
    /// });
    /// ```
    pub fn id(&self) -> TaskId {
        self.header().id
    }

    /// The task's name, if it was spawned with one through [`Builder::name`](super::Builder::name).
    ///
    /// # Examples
    ///
    /// ```
    /// magpie_runtime::block_on(async {
    ///     let named = magpie_runtime::task::Builder::new().name("fetch").spawn(async {});
    ///     assert_eq!(named.name(), Some("fetch"));
    ///     assert_eq!(magpie_runtime::spawn(async {}).name(), None);
    /// });
    /// ```
    pub fn name(&self) -> Option<&str> {
        self.header().name.as_deref()
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let unit = std::task::ready!(coop::poll_proceed(cx));
        if let Some(out) = self.outcome.take() {
            unit.made_progress();
            return Poll::Ready(out);
        }
        match self.poll_task(cx) {
            Poll::Ready(out) => {
                unit.made_progress();
                Poll::Ready(out)
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.detach();
        }
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("id", &self.id())
            .field("name", &self.name())
            .field("finished", &self.is_finished())
            .finish()
    }
}
