//! [`TaskGroup`]: structured concurrency across threads.
//!
//! One idea per file:
//!
//! - `state`: the group's state under its one lock, and the rules TG-1 to TG-5 that every
//!   change of it keeps (a child is live until its guard drops; leaving `Open` takes every
//!   handle; `join` closes in the critical section that sees nothing left; nothing is
//!   spawned, aborted, woken or dropped under the lock; aborting one child is no failure).
//! - `nesting`: a group created inside a child is nested in the child's group, which
//!   waits for it (rules TG-N1, TG-N2).
//! - `scope`: [`TaskGroup::scope`], the form whose body the group owns (and cancels).
//! - `join`: [`GroupJoin`], the future of [`TaskGroup::join`].
//! - `handle`: [`GroupHandle`] and [`ChildHandle`].
//! - `error`: [`GroupError`] and [`SpawnRefused`].

use std::fmt;
use std::future::Future;
use std::sync::Arc;

mod error;
mod handle;
mod join;
mod nesting;
mod scope;
mod state;

pub use error::{GroupError, SpawnRefused};
pub use handle::{ChildHandle, GroupHandle};
pub use join::GroupJoin;

use state::{wake_and_release, Inner, Phase};

/// Structured concurrency: a set of child tasks that live and die together, on any number
/// of threads. asyncio's `TaskGroup`, where the children run in parallel.
///
/// [`spawn`](TaskGroup::spawn) starts a child (a real task) that returns `Result<T, E>`;
/// [`join`](TaskGroup::join) waits for every child. The first failure, an `Err` or a panic,
/// aborts every sibling and makes later spawns refuse; `join` then reports every failure
/// together in a [`GroupError`] (asyncio's `ExceptionGroup`), or resumes a child's panic,
/// only after every child is gone. [`cancel`](TaskGroup::cancel) ends the group early
/// without an error. Children may spawn siblings through a [`GroupHandle`], and groups
/// nest: a child may run a group of its own.
///
/// **Two forms.** `new()`, `spawn` and `join` (below) leave the code between `new` and
/// `join` running when a child fails: the failure shows at `join`.
/// [`TaskGroup::scope`] is asyncio's `async with TaskGroup()`: the group owns the body, and
/// the first failure cancels the body as well as the siblings.
///
/// **No child outlives its group.** `join` returns only once every child's future has been
/// dropped. Dropping the group instead (or dropping the `join` future, which is what
/// cancelling the task awaiting `join` does) aborts every child and refuses every later
/// spawn; since `Drop` cannot wait, each child's future is dropped at its next scheduling
/// point: at once if it is idle, or as soon as the poll it is in returns, on whatever
/// worker is running it.
///
/// **Groups nest.** A group created while one of this group's children is being polled (in
/// that child's task) is nested in this group: this group's `join` also waits until the
/// nested group has been dropped or joined and every one of *its* children is gone. So when
/// a failure aborts a child that was running a group, the outer `join` returns only after
/// the grandchildren (aborted by the inner group's drop) are gone too. A nested group kept
/// alive forever, say in a `static`, therefore keeps the outer `join` waiting.
///
/// # Examples
///
/// ```
/// use magpie_combinators::TaskGroup;
///
/// magpie_runtime::block_on(async {
///     let tg = TaskGroup::<String>::new();
///     let a = tg.spawn(async { Ok(1) });
///     let b = tg.spawn(async { Ok(2) });
///     tg.join().await.unwrap();
///     assert_eq!(a.await, Some(1));
///     assert_eq!(b.await, Some(2));
///
///     let tg = TaskGroup::new();
///     tg.spawn(async { Err::<(), _>("item 3 failed") });
///     tg.spawn(std::future::pending::<Result<(), &str>>()); // aborted by the failure
///     let err = tg.join().await.unwrap_err();
///     assert_eq!(err.errors(), ["item 3 failed"]);
/// });
/// ```
pub struct TaskGroup<E> {
    inner: Arc<Inner<E>>,
}

impl<E> TaskGroup<E> {
    /// An empty, open group.
    ///
    /// # Examples
    ///
    /// ```
    /// let tg = magpie_combinators::TaskGroup::<std::io::Error>::new();
    /// assert_eq!(tg.len(), 0);
    /// ```
    pub fn new() -> Self {
        TaskGroup {
            inner: Arc::new(Inner::new(nesting::enter_parent())),
        }
    }

    /// A cloneable handle that can spawn into this group and cancel it, from any task or
    /// thread: hand it to children so they can spawn siblings. It does not keep the group
    /// alive: once the group is dropped or joined, spawning through it is refused.
    ///
    /// # Examples
    ///
    /// ```
    /// use magpie_combinators::TaskGroup;
    ///
    /// magpie_runtime::block_on(async {
    ///     let tg = TaskGroup::<()>::new();
    ///     let handle = tg.handle();
    ///     let sibling = tg.spawn(async move {
    ///         let grandchild = handle.spawn(async { Ok(21) });
    ///         Ok(grandchild.await.unwrap() * 2)
    ///     });
    ///     tg.join().await.unwrap();
    ///     assert_eq!(sibling.await, Some(42));
    /// });
    /// ```
    pub fn handle(&self) -> GroupHandle<E> {
        GroupHandle {
            inner: self.inner.clone(),
        }
    }

    /// Ends the group early, without an error (asyncio 3.15's `TaskGroup.cancel`): every
    /// child is aborted and later spawns are refused. `join` still waits for every child's
    /// future to be dropped, and still reports failures that happened before.
    ///
    /// Does nothing if the group has already failed or finished.
    ///
    /// # Examples
    ///
    /// ```
    /// use magpie_combinators::TaskGroup;
    ///
    /// magpie_runtime::block_on(async {
    ///     let tg = TaskGroup::<()>::new();
    ///     let forever = tg.spawn(std::future::pending::<Result<(), ()>>());
    ///     tg.cancel();
    ///     assert!(tg.join().await.is_ok());
    ///     assert_eq!(forever.await, None);
    /// });
    /// ```
    pub fn cancel(&self) {
        self.inner.stop(Phase::Cancelled);
    }

    /// A [`CancellationToken`](magpie_sync::CancellationToken) that the group cancels
    /// when it stops early: on the first failure, on [`cancel`](TaskGroup::cancel), or
    /// when the group is dropped without being joined. A successful `join` leaves it
    /// uncancelled. Children that hold a clone can stop cooperatively (finish the record
    /// they are writing, say goodbye to a peer) instead of only being aborted at their next
    /// await; the abort still follows, so a child that ignores the token is stopped all the
    /// same. Every call returns a clone of one token; asked for after the group stopped, it
    /// is already cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// use magpie_combinators::TaskGroup;
    ///
    /// magpie_runtime::block_on(async {
    ///     let tg = TaskGroup::<&str>::new();
    ///     let token = tg.cancel_token();
    ///     let worker = tg.spawn({
    ///         let token = token.clone();
    ///         async move {
    ///             token.cancelled().await;
    ///             Ok("stopped cooperatively")
    ///         }
    ///     });
    ///     tg.spawn(async { Err::<(), _>("disk full") });
    ///     let err = tg.join().await.unwrap_err();
    ///     assert_eq!(err.errors(), ["disk full"]);
    ///     assert!(token.is_cancelled());
    ///     // Cancelled and aborted in the same stop: it may have finished or not.
    ///     let _ = worker.await;
    /// });
    /// ```
    pub fn cancel_token(&self) -> magpie_sync::CancellationToken {
        self.inner.cancel_token()
    }

    /// How many children have not ended yet (their futures not yet dropped).
    ///
    /// # Examples
    ///
    /// ```
    /// magpie_runtime::block_on(async {
    ///     let tg = magpie_combinators::TaskGroup::<()>::new();
    ///     tg.spawn(std::future::pending::<Result<(), ()>>());
    ///     assert_eq!(tg.len(), 1);
    /// });
    /// ```
    pub fn len(&self) -> usize {
        self.inner.lock().live
    }

    /// Whether every child has ended (or none was spawned).
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(magpie_combinators::TaskGroup::<()>::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the group still accepts children: no failure, no `cancel()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let tg = magpie_combinators::TaskGroup::<()>::new();
    /// assert!(tg.is_open());
    /// tg.cancel();
    /// assert!(!tg.is_open());
    /// ```
    pub fn is_open(&self) -> bool {
        self.inner.lock().phase == Phase::Open
    }

    /// Waits for every child, then reports how the group ended.
    ///
    /// Resolves once every child's future has been dropped (children may still spawn
    /// siblings through a [`GroupHandle`] while `join` waits). After it returns, the group
    /// refuses every spawn. Dropping the `join` future before it resolves drops the group,
    /// which aborts every child.
    ///
    /// # Errors
    ///
    /// A [`GroupError`] holding every `Err` the children returned, in the order they
    /// happened, if any did.
    ///
    /// # Panics
    ///
    /// If a child panicked, the (first) panic is resumed here, after every child is gone;
    /// the group's `Err`s, if any, are dropped with it.
    ///
    /// # Examples
    ///
    /// ```
    /// magpie_runtime::block_on(async {
    ///     let tg = magpie_combinators::TaskGroup::<&str>::new();
    ///     for i in 0..4 {
    ///         tg.spawn(async move { if i % 2 == 0 { Ok(()) } else { Err("odd") } });
    ///     }
    ///     let failures = tg.join().await.unwrap_err();
    ///     // The first failure cancelled the rest: one or two `Err`s, depending on timing.
    ///     assert!(!failures.errors().is_empty());
    /// });
    /// ```
    pub fn join(self) -> GroupJoin<E> {
        GroupJoin { group: Some(self) }
    }
}

impl<E: Send + 'static> TaskGroup<E> {
    /// Spawns `future` as a child of the group, on the current runtime.
    ///
    /// The child starts at once (in parallel with the caller on a multi-thread runtime).
    /// If it returns `Err` or panics, every sibling is aborted and the group refuses new
    /// children; [`join`](TaskGroup::join) reports the failure. The returned
    /// [`ChildHandle`] resolves to the child's `Ok` value; dropping it changes nothing.
    ///
    /// If the group no longer accepts children (it failed, was cancelled, dropped or
    /// joined), `future` is dropped without running and the handle resolves to `None`;
    /// [`try_spawn`](TaskGroup::try_spawn) says so and gives the future back instead.
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
    ///     let child = tg.spawn(async { Ok("done") });
    ///     tg.join().await.unwrap();
    ///     assert_eq!(child.await, Some("done"));
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

    /// Spawns `future` as a child of the group, or gives it back if the group no longer
    /// accepts children.
    ///
    /// # Errors
    ///
    /// [`SpawnRefused`] (holding `future`, unpolled) once the group has failed, been
    /// cancelled, dropped or joined.
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
    ///     tg.cancel();
    ///     let refused = tg.try_spawn(async { Ok(1) }).unwrap_err();
    ///     let _future_back = refused.into_future();
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

impl<E> Default for TaskGroup<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> Drop for TaskGroup<E> {
    /// Aborts every child still running and refuses later spawns. Does not wait: each
    /// child's future is dropped at its next scheduling point.
    fn drop(&mut self) {
        self.inner.stop(Phase::Cancelled);
        let settled = {
            let mut state = self.inner.lock();
            state.owner_gone = true;
            state.settle()
        };
        wake_and_release(settled);
    }
}

impl<E> fmt::Debug for TaskGroup<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        debug_state(&self.inner, f.debug_struct("TaskGroup"))
    }
}

fn debug_state<E>(inner: &Inner<E>, mut d: fmt::DebugStruct<'_, '_>) -> fmt::Result {
    let state = inner.lock();
    d.field("phase", &state.phase)
        .field("live", &state.live)
        .field("nested", &state.holds)
        .field("errors", &state.errors.len())
        .field("panics", &state.panics.len())
        .finish()
}
