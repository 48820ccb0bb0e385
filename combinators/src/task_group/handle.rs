//! The handles a group hands out: [`GroupHandle`] (spawn into it, cancel it) and
//! [`ChildHandle`] (one child's value, abort that child).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use magpie_sync::oneshot;

use super::state::{AbortChild, Inner, Phase};
#[cfg(doc)]
use super::TaskGroup;
use super::{debug_state, SpawnRefused};

/// A cloneable handle to a [`TaskGroup`]: spawns children into it and cancels it, from any
/// task or thread. Give one to children so they can spawn siblings.
///
/// It does not keep the group open: once the group has been dropped, joined, cancelled or
/// has failed, spawning through the handle is refused.
///
/// # Examples
///
/// ```
/// magpie_runtime::block_on(async {
///     let tg = magpie_combinators::TaskGroup::<()>::new();
///     let h = tg.handle();
///     let child = h.spawn(async { Ok(5) });
///     tg.join().await.unwrap();
///     assert_eq!(child.await, Some(5));
///     // The group is gone: no child can outlive it.
///     assert!(h.try_spawn(async { Ok(6) }).is_err());
/// });
/// ```
pub struct GroupHandle<E> {
    pub(super) inner: Arc<Inner<E>>,
}

impl<E: Send + 'static> GroupHandle<E> {
    /// Spawns a child into the group; see [`TaskGroup::spawn`].
    ///
    /// # Panics
    ///
    /// Outside a magpie runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// magpie_runtime::block_on(async {
    ///     let tg = magpie_combinators::TaskGroup::<()>::new();
    ///     let child = tg.handle().spawn(async { Ok(1) });
    ///     tg.join().await.unwrap();
    ///     assert_eq!(child.await, Some(1));
    /// });
    /// ```
    #[track_caller]
    pub fn spawn<F, T>(&self, future: F) -> ChildHandle<T>
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
    {
        self.inner
            .spawn(future)
            .unwrap_or_else(|_| ChildHandle::refused())
    }

    /// Spawns a child into the group, or gives the future back; see
    /// [`TaskGroup::try_spawn`].
    ///
    /// # Errors
    ///
    /// [`SpawnRefused`] once the group no longer accepts children.
    ///
    /// # Panics
    ///
    /// Outside a magpie runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// magpie_runtime::block_on(async {
    ///     let tg = magpie_combinators::TaskGroup::<()>::new();
    ///     let h = tg.handle();
    ///     drop(tg);
    ///     assert!(h.try_spawn(async { Ok(()) }).is_err());
    /// });
    /// ```
    #[track_caller]
    pub fn try_spawn<F, T>(&self, future: F) -> Result<ChildHandle<T>, SpawnRefused<F>>
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
    {
        self.inner.spawn(future)
    }
}

impl<E> GroupHandle<E> {
    /// Cancels the group; see [`TaskGroup::cancel`].
    ///
    /// # Examples
    ///
    /// ```
    /// magpie_runtime::block_on(async {
    ///     let tg = magpie_combinators::TaskGroup::<()>::new();
    ///     let h = tg.handle();
    ///     tg.spawn(async move {
    ///         h.cancel(); // a child ends the whole group early, without an error
    ///         Ok(())
    ///     });
    ///     assert!(tg.join().await.is_ok());
    /// });
    /// ```
    pub fn cancel(&self) {
        self.inner.stop(Phase::Cancelled);
    }

    /// The group's cancellation token; see [`TaskGroup::cancel_token`]. The way a
    /// [`TaskGroup::scope`] body reaches it.
    ///
    /// # Examples
    ///
    /// ```
    /// magpie_runtime::block_on(async {
    ///     let result = magpie_combinators::TaskGroup::<&str>::scope(|group| async move {
    ///         let token = group.cancel_token();
    ///         group.spawn(async { Err::<(), _>("failed") });
    ///         token.cancelled().await; // the failure cancels it
    ///         Ok(())
    ///     })
    ///     .await;
    ///     assert_eq!(result.unwrap_err().errors(), ["failed"]);
    /// });
    /// ```
    pub fn cancel_token(&self) -> magpie_sync::CancellationToken {
        self.inner.cancel_token()
    }

    /// Whether the group still accepts children.
    ///
    /// # Examples
    ///
    /// ```
    /// let tg = magpie_combinators::TaskGroup::<()>::new();
    /// let h = tg.handle();
    /// drop(tg);
    /// assert!(!h.is_open());
    /// ```
    pub fn is_open(&self) -> bool {
        self.inner.lock().phase == Phase::Open
    }
}

impl<E> Clone for GroupHandle<E> {
    fn clone(&self) -> Self {
        GroupHandle {
            inner: self.inner.clone(),
        }
    }
}

impl<E> fmt::Debug for GroupHandle<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        debug_state(&self.inner, f.debug_struct("GroupHandle"))
    }
}

/// The `Ok` value of one [`TaskGroup`] child: a future resolving to `Some(value)`, or to
/// `None` if the child returned `Err` or panicked (the group reports those), was aborted,
/// or was refused. [`abort`](ChildHandle::abort) cancels this one child.
///
/// Dropping it changes nothing: the child still belongs to its group.
///
/// # Examples
///
/// ```
/// magpie_runtime::block_on(async {
///     let tg = magpie_combinators::TaskGroup::<&str>::new();
///     let ok: magpie_combinators::ChildHandle<u8> = tg.spawn(async { Ok(1) });
///     tg.join().await.unwrap();
///     assert_eq!(ok.await, Some(1));
/// });
/// ```
pub struct ChildHandle<T> {
    pub(super) rx: oneshot::Receiver<T>,
    /// The group and this child's key in it; `None` for a refused child.
    pub(super) abort: Option<(Arc<dyn AbortChild>, u64)>,
}

impl<T> ChildHandle<T> {
    pub(super) fn refused() -> Self {
        let (_, rx) = oneshot::channel();
        ChildHandle { rx, abort: None }
    }

    /// Cancels this child alone, as asyncio's `task.cancel()` on a task of a group: its
    /// future is dropped at its next scheduling point and this handle resolves to `None`.
    /// A cancelled child is not a failure: its siblings and the group carry on, and `join`
    /// still waits until its future has been dropped.
    ///
    /// Does nothing if the child has already finished, or was refused. Callable from any
    /// thread.
    ///
    /// # Examples
    ///
    /// ```
    /// magpie_runtime::block_on(async {
    ///     let tg = magpie_combinators::TaskGroup::<()>::new();
    ///     let slow = tg.spawn(std::future::pending::<Result<(), ()>>());
    ///     let quick = tg.spawn(async { Ok(1) });
    ///     slow.abort();
    ///     tg.join().await.unwrap(); // no error: a cancelled child is not a failure
    ///     assert_eq!(slow.await, None);
    ///     assert_eq!(quick.await, Some(1));
    /// });
    /// ```
    pub fn abort(&self) {
        if let Some((group, key)) = &self.abort {
            group.abort_child(*key);
        }
    }
}

impl<T> Future for ChildHandle<T> {
    type Output = Option<T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        Pin::new(&mut self.rx).poll(cx).map(Result::ok)
    }
}

impl<T> fmt::Debug for ChildHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildHandle").finish_non_exhaustive()
    }
}
