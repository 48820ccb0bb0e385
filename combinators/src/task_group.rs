//! [`TaskGroup`]: structured concurrency across threads.
//!
//! # Protocol
//!
//! The group's state lives under one lock: its [`Phase`], the live-child count, the
//! handles of the children (to abort them), the failures so far and the waker of `join`.
//!
//! - G1. A child is counted live from the moment `spawn` accepts it (under the lock, only
//!   in the `Open` phase) until its [`ChildGuard`] is dropped. The guard is dropped after
//!   the child's future in every case (completion, panic, abort, runtime shutdown: see
//!   [`Child`]'s field order and the body of [`Inner::spawn`]). So `live == 0` means every
//!   child's future has been dropped.
//! - G2. Leaving `Open` (a failure, `cancel()`, the group dropped, `join` finished) is one
//!   critical section that also takes every child handle out; the handles are aborted
//!   after the lock is released. No child is accepted after that, so no handle can be
//!   missed: a handle that `spawn` stores after it (spawning happens outside the lock)
//!   finds the phase changed and aborts its own child.
//! - G3. `join` resolves only when `live == 0`, and closes the group in the same critical
//!   section, so no child can be added after `join` returned.
//! - G4. No lock is held while a task is spawned, aborted or woken, nor while a handle or
//!   a waker is dropped: a runtime that has shut down drops a task's future on the spot,
//!   and that runs a guard, which takes the lock; a waker's drop may re-enter the group
//!   (spawn, cancel, look at it). `join`'s waker, when a re-poll replaces it, is taken out
//!   under the lock and dropped after it.
//! - G5. `ChildHandle::abort` takes that one child's handle out and aborts it; the child
//!   stays live until its guard runs (G1), and the group stays `Open`: a cancelled child
//!   is not a failure.
//!
//! # Nesting
//!
//! While a child's future is being polled, its group is this thread's *current group*
//! (a thread-local the child's wrapper moves its `Arc` into and back out of around the
//! poll, so it costs no reference counting). A `TaskGroup` created then is nested in it:
//!
//! - N1. Creating it takes a *hold* on the parent (`holds += 1`), and the parent's `join`
//!   waits for `live + holds == 0`, not just `live == 0`.
//! - N2. The nested group gives its hold back once its owner is gone (the `TaskGroup` was
//!   dropped, which `join` also does) *and* it has no live child nor hold of its own left.
//!
//! So when a child that ran a group of its own is aborted, the outer `join` still waits
//! for that inner group's children, which the inner group's drop aborted, to be dropped:
//! no descendant outlives the outermost `join`.

use std::any::Any;
use std::cell::Cell;
use std::collections::HashMap;
use std::fmt;
use std::future::{poll_fn, Future};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::{pin, Pin};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use magpie_runtime::JoinHandle;
use magpie_sync::oneshot;

use crate::children::current_runtime;

mod error;

pub use error::{GroupError, SpawnRefused};

/// Where a group is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Accepting children.
    Open,
    /// A child failed: the others were aborted; no more children.
    Failed,
    /// `cancel()` was called or the group was dropped: children aborted; no more children.
    Cancelled,
    /// `join` has returned: no more children.
    Closed,
}

struct State<E> {
    phase: Phase,
    /// Children not yet ended (rule G1).
    live: usize,
    /// Groups nested in this one that have not finished (rule N1).
    holds: usize,
    /// The group this one is nested in, until the hold on it is given back (rule N2).
    parent: Option<Arc<dyn Hold>>,
    /// Whether the `TaskGroup` itself has been dropped (or joined).
    owner_gone: bool,
    /// The handle of every live child, by key; `None` until `spawn` has stored it.
    children: HashMap<u64, Option<JoinHandle<()>>>,
    next_key: u64,
    errors: Vec<E>,
    panics: Vec<Box<dyn Any + Send + 'static>>,
    joiner: Option<Waker>,
}

struct Inner<E> {
    state: Mutex<State<E>>,
}

/// What to do once the lock is released: wake the joiner, give back a parent hold.
type Settled = (Option<Waker>, Option<Arc<dyn Hold>>);

impl<E> State<E> {
    /// After `live`, `holds` or `owner_gone` changed: who to wake (the joiner, once nothing
    /// is left) and which parent hold to give back (rule N2). Act on it after unlocking.
    fn settle(&mut self) -> Settled {
        if self.live + self.holds > 0 {
            return (None, None);
        }
        let parent = if self.owner_gone {
            self.parent.take()
        } else {
            None
        };
        (self.joiner.take(), parent)
    }
}

/// Wakes and releases what [`State::settle`] returned, outside the lock (rule G4).
fn wake_and_release((joiner, parent): Settled) {
    if let Some(waker) = joiner {
        waker.wake();
    }
    if let Some(parent) = parent {
        parent.release();
    }
}

/// A group as the groups nested in it see it (rules N1, N2).
trait Hold: Send + Sync {
    fn acquire(&self);
    fn release(&self);
}

/// A group as its children's [`ChildHandle`]s see it: abort one child.
trait AbortChild: Send + Sync {
    fn abort_child(&self, key: u64);
}

impl<E: Send> AbortChild for Inner<E> {
    fn abort_child(&self, key: u64) {
        let handle = {
            let mut state = self.lock();
            match state.children.get(&key) {
                Some(Some(_)) => state.children.remove(&key).flatten(),
                // A `ChildHandle` is handed out only after its child's handle was stored,
                // so `Some(None)` cannot be seen here. `None`: the child has ended, or a
                // stop took every handle (and aborted them).
                Some(None) | None => None,
            }
        };
        // Outside the lock (rule G4). The child's guard still counts it live until its
        // future is dropped (rule G1); its entry is simply gone already (rule G5).
        if let Some(handle) = handle {
            handle.abort();
        }
    }
}

impl<E: Send> Hold for Inner<E> {
    fn acquire(&self) {
        self.lock().holds += 1;
    }

    fn release(&self) {
        let settled = {
            let mut state = self.lock();
            state.holds -= 1;
            state.settle()
        };
        wake_and_release(settled);
    }
}

thread_local! {
    /// The group whose child is being polled on this thread, if any (see "Nesting").
    static CURRENT_GROUP: Cell<Option<Arc<dyn Hold>>> = const { Cell::new(None) };
}

impl<E> Inner<E> {
    fn lock(&self) -> MutexGuard<'_, State<E>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Leaves `Open` for `to` (if still open) and aborts every child (rule G2).
    fn stop(&self, to: Phase) {
        let handles: Vec<JoinHandle<()>> = {
            let mut state = self.lock();
            if state.phase != Phase::Open {
                return;
            }
            state.phase = to;
            state.children.drain().filter_map(|(_, h)| h).collect()
        };
        for handle in &handles {
            handle.abort();
        }
    }

    /// Records a child's failure; the first one cancels every sibling.
    fn fail(&self, failure: Failure<E>) {
        {
            let mut state = self.lock();
            match failure {
                Failure::Error(e) => state.errors.push(e),
                Failure::Panic(p) => state.panics.push(p),
            }
        }
        self.stop(Phase::Failed);
    }
}

impl<E: Send + 'static> Inner<E> {
    #[track_caller]
    fn spawn<F, T>(self: &Arc<Self>, future: F) -> Result<ChildHandle<T>, SpawnRefused<F>>
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
    {
        let runtime = current_runtime("TaskGroup::spawn");
        let key = {
            let mut state = self.lock();
            if state.phase != Phase::Open {
                return Err(SpawnRefused::new(future));
            }
            let key = state.next_key;
            state.next_key += 1;
            state.children.insert(key, None);
            state.live += 1;
            key
        };
        let (tx, rx) = oneshot::channel();
        let child = Child {
            future,
            guard: ChildGuard {
                group: self.clone(),
                key,
            },
        };
        let mut current: Option<Arc<dyn Hold>> = Some(self.clone());
        let handle = runtime.spawn(async move {
            // Bound whole so the block captures `child` whole: dropped before its first
            // poll, `Child`'s field order drops the future before the guard. Once running,
            // the pinned future lives in the inner block, so it is dropped (completion,
            // panic or abort) before `child.guard` (rule G1).
            let child = child;
            let outcome = {
                let mut future = pin!(child.future);
                poll_fn(|cx| {
                    // This group is the thread's current group during the poll (Nesting).
                    let outer = CURRENT_GROUP.replace(current.take());
                    let poll = catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx)));
                    current = CURRENT_GROUP.replace(outer);
                    match poll {
                        Ok(Poll::Pending) => Poll::Pending,
                        Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
                        Err(payload) => Poll::Ready(Err(payload)),
                    }
                })
                .await
            };
            match outcome {
                Ok(Ok(value)) => {
                    // The ChildHandle may be gone: then nobody wants the value.
                    let _ = tx.set_result(value);
                }
                Ok(Err(error)) => child.guard.group.fail(Failure::Error(error)),
                Err(payload) => child.guard.group.fail(Failure::Panic(payload)),
            }
        });
        // Store the handle so a later stop can abort the child (rule G2).
        let abort: Arc<dyn AbortChild> = self.clone();
        let child_handle = ChildHandle {
            rx,
            abort: Some((abort, key)),
        };
        let mut state = self.lock();
        if state.phase != Phase::Open {
            drop(state);
            handle.abort();
        } else if let Some(slot) = state.children.get_mut(&key) {
            *slot = Some(handle);
        } else {
            // The child has already ended; its handle is no longer needed.
            drop(state);
            drop(handle);
        }
        Ok(child_handle)
    }
}

enum Failure<E> {
    Error(E),
    Panic(Box<dyn Any + Send + 'static>),
}

/// A child task's state. Field order is drop order: the future before the guard.
struct Child<F, E> {
    future: F,
    guard: ChildGuard<E>,
}

/// Counts a child live until dropped (rule G1).
struct ChildGuard<E> {
    group: Arc<Inner<E>>,
    key: u64,
}

impl<E> Drop for ChildGuard<E> {
    fn drop(&mut self) {
        let mut state = self.group.lock();
        let handle = state.children.remove(&self.key);
        state.live -= 1;
        let settled = state.settle();
        drop(state);
        drop(handle);
        wake_and_release(settled);
    }
}

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
        // Nested in the group whose child is being polled here, if any (rule N1).
        let parent = CURRENT_GROUP.with(|current| {
            let parent = current.take();
            let ours = parent.clone();
            current.set(parent);
            ours
        });
        if let Some(parent) = &parent {
            parent.acquire();
        }
        TaskGroup {
            inner: Arc::new(Inner {
                state: Mutex::new(State {
                    phase: Phase::Open,
                    live: 0,
                    holds: 0,
                    parent,
                    owner_gone: false,
                    children: HashMap::new(),
                    next_key: 0,
                    errors: Vec::new(),
                    panics: Vec::new(),
                    joiner: None,
                }),
            }),
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
    inner: Arc<Inner<E>>,
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
    group: Option<TaskGroup<E>>,
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
            // Rule G4: the replaced waker is dropped after the lock is released.
            drop(state);
            drop(displaced);
            return Poll::Pending;
        }
        // Rule G3: every child (and nested group) has ended; close the group in the same
        // critical section.
        if state.phase == Phase::Open {
            state.phase = Phase::Closed;
        }
        let errors = std::mem::take(&mut state.errors);
        let mut panics = std::mem::take(&mut state.panics);
        drop(state);
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
    rx: oneshot::Receiver<T>,
    /// The group and this child's key in it; `None` for a refused child.
    abort: Option<(Arc<dyn AbortChild>, u64)>,
}

impl<T> ChildHandle<T> {
    fn refused() -> Self {
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
