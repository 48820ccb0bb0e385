//! Local tasks: `!Send` futures that run only on the thread that owns their [`LocalSet`].
//!
//! A local task is an ordinary magpie task (a [`Header`] naming its runtime, listed in that
//! runtime's registry, counted in its metrics, abortable through [`JoinHandle::abort`] or an
//! [`AbortHandle`](super::AbortHandle) from any thread) whose schedule function does not
//! queue it on the runtime's scheduler but on its set's own queue. The set runs that queue
//! whenever it is polled on its thread: inside [`LocalSet::run_until`], when the set itself
//! is awaited, and, for the implicit set every current-thread runtime keeps per thread,
//! whenever that runtime's `block_on` polls its future.
//!
//! # Protocol (rules LOCAL-1 to LOCAL-5)
//!
//! - LOCAL-1, one thread: a local task's runnable is run, and its future dropped, only on
//!   its set's owner thread (the thread that created the set; [`LocalSet`] is `!Send`).
//!   Any other thread that holds the runnable (a wake from elsewhere, an abort, shutdown)
//!   only pushes it onto the set's queue. This is what makes `spawn_unchecked` sound for a
//!   `!Send` future (instead of rule TASK-4).
//! - LOCAL-2, no lost wake-up: the queue and the owner's waker live under one lock. The
//!   owner stores its waker, then pops; a pusher pushes, then takes a clone of the stored
//!   waker, under the same lock, and wakes it after unlocking. So a push the owner's last
//!   pop missed always finds the waker the owner stored before that pop.
//! - LOCAL-3, closed: once the set is dropped, or its runtime is shut down, a runnable
//!   reaching the owner thread is dropped, never run (as TASK-3, through `drop_closed`).
//! - LOCAL-4, every task dropped once, at home: the set lists the waker of each of its live
//!   tasks (removed by the drop of the task's future, whatever ended it). Dropping the set
//!   closes it, then, until the list is empty, wakes every listed task (the schedule
//!   function of a closed set only queues, so it needs no thread identity, which a
//!   thread-local destructor may no longer have) and drops what is queued, on this thread.
//!   A runnable a remote thread is pushing at that moment is in the queue a moment later,
//!   so the loop ends. Runtime shutdown on the owner thread drops local tasks at once
//!   (its SHUT-4 wakes reach LOCAL-3); from another thread it leaves them in their sets'
//!   queues, and each set drops them on its own thread when it next runs or is dropped.
//! - LOCAL-5, the runtime: a set binds to the runtime current when it is created, or when
//!   it is first run or spawned on; its tasks belong to that runtime.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use magpie_sync::coop;

#[cfg(loom)]
use loom::thread::ThreadId;
#[cfg(not(loom))]
use std::thread::ThreadId;

use super::{Header, JoinHandle, Runnable, TaskFuture, TaskId};
use crate::context::{self, RuntimeEntered};
use crate::loom::{thread, thread_local_const, Arc, Mutex};
use crate::scheduler::Scheduler;

/// How many local tasks one poll of a set runs before it yields back to its runtime.
const BATCH: usize = 61;

thread_local_const! {
    /// The set being polled on this thread (innermost first), if any: where `spawn_local`
    /// puts tasks.
    static CURRENT: RefCell<Option<Arc<Shared>>> = RefCell::new(None);
}

thread_local_const! {
    /// The implicit set of each current-thread runtime whose `block_on` ran on this thread.
    static IMPLICIT: RefCell<Vec<(Scheduler, LocalSet)>> = RefCell::new(Vec::new());
}

/// The queue and the owner's waker under one lock (LOCAL-2).
struct LocalQueue<T> {
    inner: Mutex<Queue<T>>,
}

struct Queue<T> {
    tasks: VecDeque<T>,
    waker: Option<Waker>,
}

impl<T> LocalQueue<T> {
    fn new() -> Self {
        LocalQueue {
            inner: Mutex::new(Queue {
                tasks: VecDeque::new(),
                waker: None,
            }),
        }
    }

    /// Pushes `task` and wakes the owner (LOCAL-2); the waker is woken and dropped after
    /// the lock is released.
    fn push(&self, task: T) {
        let waker = {
            let mut queue = self.inner.lock().unwrap();
            queue.tasks.push_back(task);
            queue.waker.clone()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// The owner's side of LOCAL-2: stores `waker` (call before popping); the one it
    /// replaces is dropped after unlocking.
    fn register(&self, waker: &Waker) {
        let old = {
            let mut queue = self.inner.lock().unwrap();
            match &queue.waker {
                Some(w) if w.will_wake(waker) => None,
                _ => queue.waker.replace(waker.clone()),
            }
        };
        drop(old);
    }

    fn pop(&self) -> Option<T> {
        self.inner.lock().unwrap().tasks.pop_front()
    }

    fn is_empty(&self) -> bool {
        self.inner.lock().unwrap().tasks.is_empty()
    }

    /// Takes the stored waker out (to drop it outside the lock).
    fn take_waker(&self) -> Option<Waker> {
        self.inner.lock().unwrap().waker.take()
    }
}

/// What the set's tasks and wakers share with the set.
pub(crate) struct Shared {
    owner: ThreadId,
    queue: LocalQueue<Runnable>,
    /// The waker of every live task of the set (LOCAL-4), by task id.
    tasks: Mutex<HashMap<TaskId, Waker>>,
    /// LOCAL-3: set when the set is dropped. Read and written only on the owner thread.
    closed: crate::loom::atomic::AtomicBool,
    /// LOCAL-5. Read and written only on the owner thread (under the lock for `Sync`).
    runtime: Mutex<Option<Scheduler>>,
}

impl Shared {
    fn new(owner: ThreadId) -> Shared {
        Shared {
            owner,
            queue: LocalQueue::new(),
            tasks: Mutex::new(HashMap::new()),
            closed: crate::loom::atomic::AtomicBool::new(false),
            runtime: Mutex::new(None),
        }
    }

    fn on_owner_thread(&self) -> bool {
        thread::current().id() == self.owner
    }

    fn is_closed(&self) -> bool {
        self.closed.load(crate::loom::atomic::Ordering::Relaxed)
    }

    fn push(&self, task: Runnable) {
        self.queue.push(task);
    }

    fn pop(&self) -> Option<Runnable> {
        self.queue.pop()
    }

    fn has_queued(&self) -> bool {
        !self.queue.is_empty()
    }

    fn live_tasks(&self) -> usize {
        self.tasks.lock().unwrap().len()
    }

    /// The runtime the set is bound to, binding it to the current one first (LOCAL-5).
    fn runtime(&self) -> Option<Scheduler> {
        let mut runtime = self.runtime.lock().unwrap();
        if runtime.is_none() {
            *runtime = context::current_scheduler();
        }
        runtime.clone()
    }

    /// Runs up to [`BATCH`] queued tasks on the owner thread; `true` if some are left.
    fn run_batch(&self) -> bool {
        for _ in 0..BATCH {
            let Some(task) = self.pop() else {
                return false;
            };
            if self.is_closed() || task.metadata().scheduler.services().is_closed() {
                super::drop_closed(task); // LOCAL-3
                continue;
            }
            // Each task gets a budget of its own, as on a worker.
            let _ = coop::with_budget(coop::DEFAULT_BUDGET, || task.run());
        }
        self.has_queued()
    }

    /// One poll of the set on its owner thread: registers `waker`, then runs a batch.
    /// Returns `true` if tasks are left queued (the caller yields and wakes itself).
    fn tick(this: &Arc<Self>, waker: &Waker) -> bool {
        this.queue.register(waker);
        let _entered = this.runtime().map(RuntimeEntered::enter);
        let _current = Entered::enter(this.clone());
        this.run_batch()
    }
}

/// async-task's schedule function for local tasks (LOCAL-1, LOCAL-3).
fn schedule(set: &Arc<Shared>, task: Runnable) {
    if set.is_closed() {
        // The set is being dropped (on its thread, maybe from a thread-local destructor
        // where `thread::current` is gone): its drop loop pops and drops this (LOCAL-4).
        set.push(task);
        return;
    }
    if set.on_owner_thread()
        && (set.is_closed() || task.metadata().scheduler.services().is_closed())
    {
        super::drop_closed(task);
        return;
    }
    set.push(task);
}

/// Makes a set the current one on this thread until dropped.
struct Entered(Option<Arc<Shared>>);

impl Entered {
    fn enter(set: Arc<Shared>) -> Entered {
        // `try_with`: a set may be dropped from a thread-local destructor (an implicit set).
        Entered(CURRENT.try_with(|c| c.replace(Some(set))).ok().flatten())
    }
}

impl Drop for Entered {
    fn drop(&mut self) {
        let previous = self.0.take();
        let _ = CURRENT.try_with(|c| c.replace(previous));
    }
}

/// Removes a task from its set's list when its future is dropped (LOCAL-4).
struct Unlist {
    set: Arc<Shared>,
    id: TaskId,
}

impl Drop for Unlist {
    fn drop(&mut self) {
        let waker = self.set.tasks.lock().unwrap().remove(&self.id);
        drop(waker);
    }
}

/// Spawns a local task onto `set` (on its owner thread).
#[track_caller]
fn spawn_on<F>(set: &Arc<Shared>, future: F, what: &str) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    debug_assert!(set.on_owner_thread());
    let Some(scheduler) = set.runtime() else {
        panic!(
            "{what} called on a LocalSet that belongs to no runtime: create the LocalSet, or \
             call {what}, inside a magpie runtime (Runtime::block_on, or after \
             rt.handle().enter()), or run the set first with LocalSet::block_on(&rt, fut)"
        )
    };
    let header = Header::new(
        TaskId::next(),
        None,
        scheduler,
        std::panic::Location::caller(),
    );
    let unlist = Unlist {
        set: set.clone(),
        id: header.id,
    };
    let wrapped = async move {
        let _unlist = unlist;
        future.await
    };
    let schedule_set = set.clone();
    // SAFETY: rule TASK-1 (`task/mod.rs`): the future borrows the header, which async-task
    // keeps alive until after the future is dropped. The future need not be `Send`: by
    // LOCAL-1 its runnable is run and dropped only on the set's owner thread, which is this
    // thread (the set is `!Send`); the schedule function only moves the runnable (`Send`)
    // and is `Send + Sync` (it holds an `Arc` of a `Sync` struct).
    let (runnable, task) = unsafe {
        async_task::Builder::new().metadata(header).spawn_unchecked(
            move |header: &Header| TaskFuture::new(header, wrapped),
            move |runnable| schedule(&schedule_set, runnable),
        )
    };
    set.tasks
        .lock()
        .unwrap()
        .insert(runnable.metadata().id, runnable.waker());
    if runnable.metadata().scheduler.owned().insert(&runnable) {
        set.push(runnable);
    } else {
        // The runtime is shut down: rule TASK-3 (on the owner thread).
        super::drop_closed(runnable);
    }
    JoinHandle::new(task)
}

/// Spawns a `!Send` future as a task on the current thread.
///
/// The task runs on this thread only: inside the [`LocalSet`] being run here, or, on a
/// current-thread runtime, as part of that runtime's `block_on` on this thread (each
/// thread that calls `block_on` on a current-thread runtime has an implicit set, run
/// whenever that `block_on` polls its future). As tokio's `spawn_local`.
///
/// # Panics
///
/// Outside both, with a message that says what to do (run the future inside a
/// [`LocalSet`], or use a current-thread runtime).
///
/// # Examples
///
/// ```
/// use std::rc::Rc;
///
/// let rt = magpie_runtime::Builder::new_current_thread().build().unwrap();
/// let v = rt.block_on(async {
///     let shared = Rc::new(5); // not Send
///     let h = magpie_runtime::task::spawn_local(async move { *shared + 1 });
///     h.await.unwrap()
/// });
/// assert_eq!(v, 6);
/// ```
#[track_caller]
pub fn spawn_local<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    if let Some(set) = CURRENT.with(|c| c.borrow().clone()) {
        return spawn_on(&set, future, "spawn_local");
    }
    if let Some(scheduler @ Scheduler::CurrentThread(_)) = context::current_scheduler() {
        if let Some(set) = implicit_set(&scheduler, false) {
            return spawn_on(&set, future, "spawn_local");
        }
    }
    panic!(
        "magpie::task::spawn_local called outside a local context: run the !Send future \
         inside a task::LocalSet (LocalSet::block_on(&rt, fut), or local.run_until(fut).await), \
         or call spawn_local from inside a current-thread runtime's block_on or its tasks"
    )
}

/// This thread's implicit set of the current-thread runtime `scheduler`, made if `create`.
fn implicit_set(scheduler: &Scheduler, create: bool) -> Option<Arc<Shared>> {
    let Scheduler::CurrentThread(rt) = scheduler else {
        return None;
    };
    IMPLICIT
        .try_with(|sets| {
            let mut sets = sets.borrow_mut();
            let found = sets.iter().find_map(|(s, set)| match s {
                Scheduler::CurrentThread(s) if Arc::ptr_eq(s, rt) => Some(set.shared.clone()),
                _ => None,
            });
            if found.is_some() || !create {
                return found;
            }
            let set = LocalSet::new();
            *set.shared.runtime.lock().unwrap() = Some(scheduler.clone());
            let shared = set.shared.clone();
            sets.push((scheduler.clone(), set));
            Some(shared)
        })
        .ok()
        .flatten()
}

/// Drops this thread's implicit set of a current-thread runtime that was shut down here,
/// and of any other that is closed (LOCAL-4). Called by the current-thread scheduler's
/// shutdown.
pub(crate) fn forget_implicit() {
    let closed: Vec<(Scheduler, LocalSet)> = IMPLICIT
        .try_with(|sets| {
            let mut sets = sets.borrow_mut();
            let (closed, open) = std::mem::take(&mut *sets)
                .into_iter()
                .partition(|(s, _)| s.services().is_closed());
            *sets = open;
            closed
        })
        .unwrap_or_default();
    // Dropped after the borrow: a task's drop may spawn_local (which looks at IMPLICIT).
    drop(closed);
}

/// The future a current-thread runtime's `block_on` runs: `future`, with this thread's
/// implicit set of that runtime run at every poll.
pub(crate) fn with_implicit<F: Future>(
    scheduler: Scheduler,
    future: F,
) -> impl Future<Output = F::Output> {
    forget_implicit();
    let set = implicit_set(&scheduler, true);
    RunUntil {
        set,
        future: Box::pin(future),
        _not_send: PhantomData,
    }
}

/// A set of local tasks, all run on the thread that owns the set.
///
/// Spawn onto it with [`spawn_local`](LocalSet::spawn_local) (or the free
/// [`spawn_local`] from inside it), and run it with [`run_until`](LocalSet::run_until),
/// [`block_on`](LocalSet::block_on), or by awaiting the set itself, which runs until every
/// task of the set has finished. Dropping the set drops its unfinished tasks, on its thread.
/// As tokio's `LocalSet`, except that a set belongs to one runtime (the one current when
/// it is created, first run or first spawned on), so `spawn_local` before the set has a
/// runtime panics.
///
/// # Examples
///
/// ```
/// use std::rc::Rc;
/// use magpie_runtime::task::LocalSet;
///
/// let rt = magpie_runtime::Runtime::new().unwrap(); // multi-thread
/// let local = LocalSet::new();
/// let out = local.block_on(&rt, async {
///     let data = Rc::new(vec![1, 2, 3]);
///     let d = data.clone();
///     let h = magpie_runtime::task::spawn_local(async move { d.iter().sum::<i32>() });
///     h.await.unwrap() + data.len() as i32
/// });
/// assert_eq!(out, 9);
/// ```
pub struct LocalSet {
    shared: Arc<Shared>,
    _not_send: PhantomData<Rc<()>>,
}

impl LocalSet {
    /// An empty set owned by the calling thread.
    pub fn new() -> LocalSet {
        let set = LocalSet {
            shared: Arc::new(Shared::new(thread::current().id())),
            _not_send: PhantomData,
        };
        let _ = set.shared.runtime();
        set
    }

    /// Spawns a `!Send` future onto this set; it runs when the set is run.
    ///
    /// # Panics
    ///
    /// If the set belongs to no runtime yet (created outside one, never run): create it,
    /// or call this, inside a runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = magpie_runtime::Runtime::new().unwrap();
    /// let _guard = rt.handle().enter(); // the set belongs to `rt`
    /// let local = magpie_runtime::task::LocalSet::new();
    /// let h = local.spawn_local(async { std::rc::Rc::new(7) });
    /// let v = local.block_on(&rt, h).unwrap();
    /// assert_eq!(*v, 7);
    /// ```
    #[track_caller]
    pub fn spawn_local<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        spawn_on(&self.shared, future, "LocalSet::spawn_local")
    }

    /// Runs `future` on this thread, running the set's tasks meanwhile, until `future`
    /// completes (the set's other tasks stay, to run the next time the set runs).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = magpie_runtime::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let local = magpie_runtime::task::LocalSet::new();
    ///     let v = local
    ///         .run_until(async { magpie_runtime::task::spawn_local(async { 3 }).await.unwrap() })
    ///         .await;
    ///     assert_eq!(v, 3);
    /// });
    /// ```
    pub fn run_until<F: Future>(&self, future: F) -> impl Future<Output = F::Output> {
        RunUntil {
            set: Some(self.shared.clone()),
            future: Box::pin(future),
            _not_send: PhantomData,
        }
    }
}

impl Default for LocalSet {
    fn default() -> Self {
        LocalSet::new()
    }
}

/// Awaiting a set runs it until every one of its tasks has finished.
impl Future for LocalSet {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let more = Shared::tick(&self.shared, cx.waker());
        if self.shared.live_tasks() == 0 {
            Poll::Ready(())
        } else {
            if more {
                cx.waker().wake_by_ref();
            }
            Poll::Pending
        }
    }
}

impl Drop for LocalSet {
    fn drop(&mut self) {
        // LOCAL-4: close, then drop every task, on this (the owner) thread.
        self.shared
            .closed
            .store(true, crate::loom::atomic::Ordering::Relaxed);
        drop(self.shared.queue.take_waker());
        let _current = Entered::enter(self.shared.clone());
        loop {
            while let Some(task) = self.shared.pop() {
                super::drop_closed(task);
            }
            let wakers: Vec<Waker> = self
                .shared
                .tasks
                .lock()
                .unwrap()
                .values()
                .cloned()
                .collect();
            if wakers.is_empty() {
                break;
            }
            for waker in wakers {
                // Reaches `schedule`, which queues the runnable for the pop above (LOCAL-4),
                // unless it is queued already or a remote thread is pushing it (then it is
                // in the queue a moment later).
                waker.wake();
            }
            if self.shared.live_tasks() > 0 && !self.shared.has_queued() {
                yield_now();
            }
        }
        let old = self.shared.queue.take_waker();
        drop(old);
    }
}

impl fmt::Debug for LocalSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalSet")
            .field("live_tasks", &self.shared.live_tasks())
            .finish_non_exhaustive()
    }
}

#[cfg(not(loom))]
fn yield_now() {
    std::thread::yield_now();
}

#[cfg(loom)]
fn yield_now() {
    loom::thread::yield_now();
}

/// [`LocalSet::run_until`]'s future (and the implicit set's `block_on` wrapper).
struct RunUntil<F> {
    set: Option<Arc<Shared>>,
    future: Pin<Box<F>>,
    _not_send: PhantomData<Rc<()>>,
}

impl<F: Future> Future for RunUntil<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = &mut *self;
        let Some(set) = this.set.clone() else {
            return this.future.as_mut().poll(cx);
        };
        let _current = Entered::enter(set.clone());
        if let Poll::Ready(out) = this.future.as_mut().poll(cx) {
            return Poll::Ready(out);
        }
        if Shared::tick(&set, cx.waker()) {
            cx.waker().wake_by_ref();
        }
        Poll::Pending
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use std::future::poll_fn;
    use std::task::Poll;

    use super::LocalQueue;
    use crate::loom::Arc;

    /// The owner's poll: register, then pop (LOCAL-2); `Pending` if empty.
    fn next(queue: &LocalQueue<u32>) -> impl std::future::Future<Output = u32> + '_ {
        poll_fn(move |cx| {
            queue.register(cx.waker());
            match queue.pop() {
                Some(v) => Poll::Ready(v),
                None => Poll::Pending,
            }
        })
    }

    /// LOCAL-2: a push from another thread racing the owner's register-then-pop is seen
    /// by the pop or wakes the owner (loom reports a deadlock if the wake-up is lost).
    #[test]
    fn loom_local_remote_wake_reaches_the_owner() {
        loom::model(|| {
            let queue = Arc::new(LocalQueue::new());
            let remote = {
                let queue = queue.clone();
                loom::thread::spawn(move || queue.push(7))
            };
            assert_eq!(loom::future::block_on(next(&queue)), 7);
            remote.join().unwrap();
        });
    }

    /// Two remote wakers (an abort and a wake, say) and an owner that waits twice: both
    /// tasks reach it, each once.
    #[test]
    fn loom_local_two_remote_wakes_both_arrive() {
        loom::model(|| {
            let queue = Arc::new(LocalQueue::new());
            let pushers: Vec<_> = [1, 2]
                .into_iter()
                .map(|v| {
                    let queue = queue.clone();
                    loom::thread::spawn(move || queue.push(v))
                })
                .collect();
            let a = loom::future::block_on(next(&queue));
            let b = loom::future::block_on(next(&queue));
            assert_eq!(a + b, 3);
            for p in pushers {
                p.join().unwrap();
            }
            assert!(queue.pop().is_none());
            drop(queue.take_waker());
        });
    }
}
