use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll};

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
}

// SAFETY: the handle is the `FallibleTask` (Send when `T: Send`, and `Header: Send + Sync`)
// plus a shared pointer to the `Sync` header, only ever read through `&Header`.
unsafe impl<T: Send> Send for JoinHandle<T> {}
// SAFETY: as above: `&JoinHandle` only reads the `Sync` header and calls `&self` methods of
// `FallibleTask`, which is `Sync` for `T: Send`.
unsafe impl<T: Send> Sync for JoinHandle<T> {}

impl<T> JoinHandle<T> {
    pub(crate) fn new(task: async_task::Task<Result<T, JoinError>, Header>) -> Self {
        let header = NonNull::from(task.metadata());
        JoinHandle {
            task: Some(task.fallible()),
            header,
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
    pub fn is_finished(&self) -> bool {
        self.task.as_ref().is_some_and(|t| t.is_finished())
    }

    /// The task's id.
    pub fn id(&self) -> TaskId {
        self.header().id
    }

    /// The task's name, if it was spawned with one through [`Builder::name`](super::Builder::name).
    pub fn name(&self) -> Option<&str> {
        self.header().name.as_deref()
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let unit = std::task::ready!(coop::poll_proceed(cx));
        let id = self.header().id;
        let task = self
            .task
            .as_mut()
            .expect("the task is only taken out on drop");
        match Pin::new(task).poll(cx) {
            Poll::Ready(out) => {
                unit.made_progress();
                // `None`: async-task dropped the runnable (the runtime shut down first).
                Poll::Ready(out.unwrap_or_else(|| Err(JoinError::cancelled(id))))
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
