//! [`MagpieExecutor`]: hyper's `Executor` spawning magpie tasks.

use std::future::Future;

use crate::Handle;

/// A [`hyper::rt::Executor`] that spawns each future as a magpie task.
///
/// hyper spawns through it the background work of a connection: HTTP/2 streams, and a
/// client's connection task when you hand it one. Built with [`MagpieExecutor::new`] it
/// spawns on the runtime of the calling thread ([`crate::spawn`]); built with
/// [`MagpieExecutor::with_handle`] it spawns on that runtime from any thread. The task is
/// detached: its `JoinHandle` is dropped, so it runs to completion on its own.
///
/// # Examples
///
/// ```
/// use hyper::rt::Executor;
/// use magpie::compat::hyper::MagpieExecutor;
///
/// let rt = magpie::Runtime::new().unwrap();
/// let exec = MagpieExecutor::with_handle(rt.handle().clone());
/// let (tx, rx) = std::sync::mpsc::channel();
/// // Outside the runtime: the stored handle says where to spawn.
/// exec.execute(async move { tx.send(42).unwrap() });
/// assert_eq!(rx.recv().unwrap(), 42);
/// ```
#[derive(Clone, Debug, Default)]
pub struct MagpieExecutor {
    handle: Option<Handle>,
}

impl MagpieExecutor {
    /// An executor that spawns on the runtime of the thread that calls `execute`.
    ///
    /// # Examples
    ///
    /// ```
    /// use hyper::rt::Executor;
    /// use magpie::compat::hyper::MagpieExecutor;
    ///
    /// let answer = magpie::block_on(async {
    ///     let (tx, rx) = magpie::sync::oneshot::channel();
    ///     MagpieExecutor::new().execute(async move { tx.send(6 * 7).unwrap() });
    ///     rx.await.unwrap()
    /// });
    /// assert_eq!(answer, 42);
    /// ```
    pub fn new() -> MagpieExecutor {
        MagpieExecutor { handle: None }
    }

    /// An executor that spawns on the runtime behind `handle`, whatever thread calls
    /// `execute`.
    ///
    /// # Examples
    ///
    /// ```
    /// use magpie::compat::hyper::MagpieExecutor;
    ///
    /// let rt = magpie::Runtime::new().unwrap();
    /// let exec = MagpieExecutor::with_handle(rt.handle().clone());
    /// # let _ = exec;
    /// ```
    pub fn with_handle(handle: Handle) -> MagpieExecutor {
        MagpieExecutor {
            handle: Some(handle),
        }
    }
}

impl<F> ::hyper::rt::Executor<F> for MagpieExecutor
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    /// Spawns `fut` as a detached magpie task.
    ///
    /// # Panics
    ///
    /// Built with [`MagpieExecutor::new`], when called outside a magpie runtime (as
    /// [`crate::spawn`] does).
    fn execute(&self, fut: F) {
        match &self.handle {
            Some(handle) => drop(handle.spawn(fut)),
            None => drop(crate::spawn(fut)),
        }
    }
}
