use std::fmt;
use std::ptr::NonNull;
use std::task::Waker;

use super::{Header, TaskId};
use crate::loom::atomic::Ordering;

/// A cloneable permission to abort a task, without the right to await it: what
/// [`JoinHandle::abort_handle`](super::JoinHandle::abort_handle) gives (tokio's
/// `AbortHandle`). `Clone + Send + Sync`: hand copies to other threads.
///
/// Dropping it changes nothing; it keeps the task's allocation (not its future) alive
/// until it is dropped.
///
/// # Examples
///
/// ```
/// let rt = magpie_runtime::Runtime::new().unwrap();
/// rt.block_on(async {
///     let h = magpie_runtime::spawn(std::future::pending::<()>());
///     let abort: magpie_runtime::task::AbortHandle = h.abort_handle();
///     assert_eq!(abort.id(), h.id());
///     std::thread::spawn(move || abort.abort()).join().unwrap();
///     assert!(h.await.unwrap_err().is_cancelled());
/// });
/// ```
#[derive(Clone)]
pub struct AbortHandle {
    id: TaskId,
    /// `None` if the task's future was already gone when the handle was made: nothing is
    /// left to abort. Otherwise a clone of the task's registry waker and its header: the
    /// waker is a counted reference to the task allocation, so the header stays valid
    /// for as long as this handle (ownership rule 5 of `task/mod.rs`).
    task: Option<(Waker, NonNull<Header>)>,
}

// SAFETY: the waker is `Send + Sync`; the pointer is only read as `&Header`, and `Header` is
// `Sync` (atomics, an immutable name and id, the `Send + Sync` scheduler handle).
unsafe impl Send for AbortHandle {}
// SAFETY: as above: `&AbortHandle` only ever reads the header through `&Header`.
unsafe impl Sync for AbortHandle {}

impl AbortHandle {
    pub(crate) fn new(header: &Header) -> AbortHandle {
        let task = header
            .scheduler
            .owned()
            .waker_of(header)
            .map(|waker| (waker, NonNull::from(header)));
        AbortHandle {
            id: header.id,
            task,
        }
    }

    fn header(&self) -> Option<&Header> {
        // SAFETY: ownership rule 5: `self.task`'s waker keeps the allocation, and with it
        // the header, alive while `self` exists.
        self.task
            .as_ref()
            .map(|(_, header)| unsafe { header.as_ref() })
    }

    /// Cancels the task, as [`JoinHandle::abort`](super::JoinHandle::abort) does: its future
    /// is dropped at its next scheduling point, and its `JoinHandle` then yields a cancelled
    /// [`JoinError`](super::JoinError). Does nothing if the task has finished. Callable from
    /// any thread, any number of times.
    ///
    /// # Examples
    ///
    /// ```
    /// magpie_runtime::block_on(async {
    ///     let h = magpie_runtime::spawn(std::future::pending::<()>());
    ///     let a = h.abort_handle();
    ///     a.clone().abort();
    ///     a.abort(); // harmless
    ///     assert!(h.await.unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn abort(&self) {
        if let Some(header) = self.header() {
            header.abort();
        }
    }

    /// Whether the task has finished (completed, panicked or been cancelled): true once its
    /// future has been dropped. The outcome reaches the `JoinHandle` a moment after.
    ///
    /// # Examples
    ///
    /// ```
    /// magpie_runtime::block_on(async {
    ///     let h = magpie_runtime::spawn(async { 1 });
    ///     let a = h.abort_handle();
    ///     assert_eq!(h.await.unwrap(), 1);
    ///     assert!(a.is_finished());
    /// });
    /// ```
    pub fn is_finished(&self) -> bool {
        self.header()
            .is_none_or(|header| header.finished.load(Ordering::Acquire))
    }

    /// The task's id (the same as its `JoinHandle`'s).
    ///
    /// # Examples
    ///
    /// ```
    /// magpie_runtime::block_on(async {
    ///     let h = magpie_runtime::spawn(async {});
    ///     assert_eq!(h.abort_handle().id(), h.id());
    /// });
    /// ```
    pub fn id(&self) -> TaskId {
        self.id
    }
}

impl fmt::Debug for AbortHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AbortHandle")
            .field("id", &self.id)
            .field("finished", &self.is_finished())
            .finish()
    }
}
