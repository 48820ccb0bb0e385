//! [`Runtime`] and [`Handle`]: the facade over a started scheduler.
//!
//! The thread-local "current runtime" lives in `context.rs`, the settings in `config.rs`;
//! nothing below this module imports it.

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::pin;
use std::task::{Context, Poll};
use std::time::Duration;

use magpie_sync::coop;

use crate::builder::Builder;
use crate::config::{Config, Flavor};
use crate::context::{self, RuntimeEntered};
use crate::loom::Arc;
use crate::metrics::RuntimeMetrics;
use crate::park::ThreadWaker;
use crate::scheduler::{current_thread, multi_thread, Scheduler};
use crate::task::{self, spawn_with, JoinHandle};

enum Inner {
    MultiThread(multi_thread::Runtime),
    CurrentThread(Arc<current_thread::Shared>),
}

/// A magpie runtime: a scheduler and its worker threads.
///
/// Dropping it shuts it down: every task is cancelled (its future dropped exactly once,
/// including tasks parked forever), and every worker thread is joined.
///
/// # Examples
///
/// ```
/// let rt = magpie_runtime::Runtime::new().unwrap();
/// let sum = rt.block_on(async {
///     let handles: Vec<_> = (0..10u64).map(|i| magpie_runtime::spawn(async move { i * i })).collect();
///     let mut sum = 0;
///     for h in handles {
///         sum += h.await.unwrap();
///     }
///     sum
/// });
/// assert_eq!(sum, 285);
/// ```
pub struct Runtime {
    handle: Handle,
    inner: Inner,
    /// Set by the first shutdown, so `shutdown_timeout` followed by `Drop` shuts down once.
    is_shut_down: bool,
    /// `Builder::detect_deadlocks` / `slow_poll_threshold` (`crate::diag::watchdog`).
    #[cfg(not(loom))]
    watchdog: Option<crate::diag::watchdog::Watchdog>,
}

impl Runtime {
    /// A multi-thread runtime with one worker per CPU.
    ///
    /// # Errors
    ///
    /// The OS's error if a worker thread cannot be started.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = magpie_runtime::Runtime::new().unwrap();
    /// assert_eq!(rt.block_on(async { 2 + 2 }), 4);
    /// ```
    pub fn new() -> io::Result<Runtime> {
        Builder::new_multi_thread().build()
    }

    pub(crate) fn start(flavor: Flavor, config: Config) -> io::Result<Runtime> {
        #[cfg(not(loom))]
        let watchdog = config.watchdog.clone();
        let mut rt = Self::start_scheduler(flavor, config)?;
        #[cfg(not(loom))]
        {
            rt.watchdog =
                crate::diag::watchdog::Watchdog::start(&watchdog, rt.handle.scheduler.clone());
        }
        Ok(rt)
    }

    fn start_scheduler(flavor: Flavor, config: Config) -> io::Result<Runtime> {
        match flavor {
            Flavor::MultiThread => {
                let rt = multi_thread::Runtime::start(config)?;
                Ok(Runtime {
                    handle: Handle::from_scheduler(Scheduler::MultiThread(rt.shared.clone())),
                    inner: Inner::MultiThread(rt),
                    is_shut_down: false,
                    #[cfg(not(loom))]
                    watchdog: None,
                })
            }
            Flavor::CurrentThread => {
                let shared = current_thread::Shared::new(config)?;
                Ok(Runtime {
                    handle: Handle::from_scheduler(Scheduler::CurrentThread(shared.clone())),
                    inner: Inner::CurrentThread(shared),
                    is_shut_down: false,
                    #[cfg(not(loom))]
                    watchdog: None,
                })
            }
        }
    }

    /// Runs `future` to completion on the calling thread and returns its output; tasks it
    /// spawns run on the workers (on this thread, for a current-thread runtime).
    ///
    /// # Panics
    ///
    /// When called from inside a runtime (a task, a worker thread, or another `block_on`),
    /// since that would stop the thread from running tasks: `.await` the future instead.
    /// Also resumes a panic of `future` itself.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = magpie_runtime::Runtime::new().unwrap();
    /// let out = rt.block_on(async {
    ///     let h = magpie_runtime::spawn(async { "from a worker" });
    ///     h.await.unwrap()
    /// });
    /// assert_eq!(out, "from a worker");
    /// ```
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.handle.block_on(future)
    }

    /// Spawns a task on this runtime (from any thread).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = magpie_runtime::Runtime::new().unwrap();
    /// let h = rt.spawn(async { 40 + 2 });
    /// assert_eq!(rt.block_on(h).unwrap(), 42);
    /// ```
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle.spawn(future)
    }

    /// A handle to this runtime, to spawn on it from elsewhere.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = magpie_runtime::Runtime::new().unwrap();
    /// let handle = rt.handle().clone();
    /// let h = std::thread::spawn(move || handle.spawn(async { 5 })).join().unwrap();
    /// assert_eq!(rt.block_on(h).unwrap(), 5);
    /// ```
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Shuts the runtime down, waiting at most `timeout` for worker threads to finish the
    /// task poll they are in and for running [`spawn_blocking`](crate::spawn_blocking)
    /// closures; threads still busy after that are detached (they exit once that poll or
    /// closure returns). Every task not running at that moment is dropped before this
    /// returns, blocking closures not yet started are cancelled, and I/O objects still
    /// registered fail from then on.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = magpie_runtime::Runtime::new().unwrap();
    /// let _never = rt.spawn(std::future::pending::<()>()); // dropped by the shutdown
    /// rt.shutdown_timeout(Duration::from_secs(5));
    /// ```
    pub fn shutdown_timeout(mut self, timeout: Duration) {
        self.shutdown(Some(timeout));
    }

    fn shutdown(&mut self, timeout: Option<Duration>) {
        if std::mem::replace(&mut self.is_shut_down, true) {
            return;
        }
        // The watchdog only reads, but it must not report on tasks being torn down.
        #[cfg(not(loom))]
        if let Some(mut w) = self.watchdog.take() {
            w.stop();
        }
        // Futures dropped here may spawn or look up the current runtime in their `Drop`.
        let _entered = RuntimeEntered::enter(self.handle.scheduler.clone());
        match &self.inner {
            Inner::MultiThread(rt) => rt.shutdown(timeout),
            Inner::CurrentThread(shared) => shared.shutdown(timeout),
        }
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.shutdown(None);
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("handle", &self.handle)
            .finish()
    }
}

/// A cheap, cloneable reference to a runtime, usable from any thread.
///
/// # Examples
///
/// ```
/// let rt = magpie_runtime::Runtime::new().unwrap();
/// let handle = rt.handle().clone();
/// let out = std::thread::spawn(move || handle.block_on(async { 5 })).join().unwrap();
/// assert_eq!(out, 5);
/// ```
#[derive(Clone)]
pub struct Handle {
    scheduler: Scheduler,
}

/// The error of [`Handle::try_current`]: no magpie runtime is entered on this thread.
///
/// # Examples
///
/// ```
/// let e: magpie_runtime::TryCurrentError = magpie_runtime::Handle::try_current().unwrap_err();
/// assert_eq!(e.to_string(), "no magpie runtime is running on this thread");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TryCurrentError(());

impl fmt::Display for TryCurrentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("no magpie runtime is running on this thread")
    }
}

impl std::error::Error for TryCurrentError {}

impl Handle {
    pub(crate) fn from_scheduler(scheduler: Scheduler) -> Handle {
        Handle { scheduler }
    }

    /// The runtime's shared services (registry, driver, pool, diagnostics' counters).
    #[cfg(all(test, not(loom)))]
    pub(crate) fn services(&self) -> &crate::scheduler::Services {
        self.scheduler.services()
    }

    /// The runtime running the current task, worker thread or `block_on`.
    ///
    /// # Panics
    ///
    /// Outside a runtime; see [`Handle::try_current`].
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = magpie_runtime::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let handle = magpie_runtime::Handle::current();
    ///     assert_eq!(handle.spawn(async { 1 }).await.unwrap(), 1);
    /// });
    /// ```
    #[track_caller]
    pub fn current() -> Handle {
        Handle::try_current().unwrap_or_else(|_| {
            panic!(
                "Handle::current called outside a magpie runtime: call it from a task or \
                 inside Runtime::block_on, or pass a Handle (Runtime::handle()) to this thread"
            )
        })
    }

    /// The current runtime's handle, or an error outside any runtime.
    ///
    /// # Errors
    ///
    /// [`TryCurrentError`] when no runtime is entered on this thread.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(magpie_runtime::Handle::try_current().is_err());
    /// let rt = magpie_runtime::Runtime::new().unwrap();
    /// rt.block_on(async { assert!(magpie_runtime::Handle::try_current().is_ok()) });
    /// ```
    pub fn try_current() -> Result<Handle, TryCurrentError> {
        context::current_scheduler()
            .map(Handle::from_scheduler)
            .ok_or(TryCurrentError(()))
    }

    /// Spawns a task on this runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = magpie_runtime::Runtime::new().unwrap();
    /// let h = rt.handle().spawn(async { 3 * 3 });
    /// assert_eq!(rt.block_on(h).unwrap(), 9);
    /// ```
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        spawn_with(self.scheduler.clone(), None, future)
    }

    /// Makes this the current runtime of the calling thread until the guard is dropped, so
    /// that `magpie::spawn` works there.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = magpie_runtime::Runtime::new().unwrap();
    /// let guard = rt.handle().enter();
    /// let h = magpie_runtime::spawn(async { 8 }); // no `block_on` needed to spawn
    /// drop(guard);
    /// assert_eq!(rt.block_on(h).unwrap(), 8);
    /// ```
    pub fn enter(&self) -> EnterGuard {
        EnterGuard {
            _entered: RuntimeEntered::enter(self.scheduler.clone()),
        }
    }

    /// Runs `future` to completion on the calling thread; see [`Runtime::block_on`].
    ///
    /// # Panics
    ///
    /// When called from inside a runtime; see [`Runtime::block_on`].
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = magpie_runtime::Runtime::new().unwrap();
    /// let handle = rt.handle().clone();
    /// let v = std::thread::spawn(move || handle.block_on(async { 6 })).join().unwrap();
    /// assert_eq!(v, 6);
    /// ```
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        let _entered = RuntimeEntered::enter_blocking(self.scheduler.clone());
        // The stall watchdog cannot see this future: it reports nothing while it runs.
        struct Counted<'a>(&'a std::sync::atomic::AtomicUsize);
        impl Drop for Counted<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
            }
        }
        let block_ons = &self.scheduler.services().block_ons;
        block_ons.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let _counted = Counted(block_ons);
        match &self.scheduler {
            // LOCAL: this thread's implicit set of local tasks runs with the future.
            Scheduler::CurrentThread(shared) => {
                shared.block_on(crate::task::with_implicit(self.scheduler.clone(), future))
            }
            Scheduler::MultiThread(_) => park_on(future),
        }
    }

    /// A snapshot of every live task of this runtime: its state, poll count, idle time and
    /// what it waits on (`magpie::diag`). Callable from any thread, including a plain thread
    /// while every worker is blocked: it needs no worker and holds each registry shard's lock
    /// only to clone that shard's entries. During or after shutdown it lists the tasks not
    /// yet dropped (none, once shutdown has returned).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = magpie_runtime::Runtime::new().unwrap();
    /// let h = rt.spawn(std::future::pending::<()>());
    /// let dump = rt.handle().dump();
    /// assert_eq!(dump.tasks().len(), 1);
    /// assert_eq!(dump.tasks()[0].id(), h.id());
    /// println!("{dump}");
    /// ```
    pub fn dump(&self) -> crate::diag::Dump {
        crate::diag::dump::snapshot(&self.scheduler)
    }

    /// Runs `f` on this runtime's blocking pool; see [`spawn_blocking`](crate::spawn_blocking).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = magpie_runtime::Runtime::new().unwrap();
    /// let h = rt.handle().spawn_blocking(|| 2 + 2);
    /// assert_eq!(rt.block_on(h).unwrap(), 4);
    /// ```
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        crate::blocking::spawn_blocking_on(&self.scheduler, f)
    }

    /// How many timers the runtime's timer wheel holds (each live, registered
    /// [`Sleep`](crate::time::Sleep), fired or not): 0 once every sleep is dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = magpie_runtime::Builder::new_current_thread().build().unwrap();
    /// rt.block_on(async {
    ///     let t = magpie_runtime::time::timeout(Duration::from_secs(60), async { 1 });
    ///     assert_eq!(t.await, Ok(1));
    /// });
    /// assert_eq!(rt.handle().timer_count(), 0);
    /// ```
    pub fn timer_count(&self) -> usize {
        self.scheduler.driver().timer_count()
    }

    /// How many I/O sources (sockets, [`Async`](crate::io::Async) objects) are registered
    /// with the runtime's driver.
    ///
    /// # Examples
    ///
    /// ```
    /// # if cfg!(miri) { return; } // miri has no sockets under isolation
    /// let rt = magpie_runtime::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let before = magpie_runtime::Handle::current().io_source_count();
    ///     let socket = magpie_runtime::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     assert_eq!(magpie_runtime::Handle::current().io_source_count(), before + 1);
    ///     drop(socket);
    /// });
    /// ```
    pub fn io_source_count(&self) -> usize {
        self.scheduler.driver().source_count()
    }

    /// A snapshot of the runtime's per-worker counters.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = magpie_runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
    /// rt.block_on(async { magpie_runtime::spawn(async {}).await.unwrap() });
    /// let m = rt.handle().metrics();
    /// assert_eq!(m.workers.len(), 2);
    /// ```
    pub fn metrics(&self) -> RuntimeMetrics {
        self.scheduler.metrics()
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.scheduler {
            Scheduler::MultiThread(s) => s.fmt(f),
            Scheduler::CurrentThread(s) => s.fmt(f),
        }
    }
}

/// `task::Builder::spawn_on` lives here rather than in `task/spawn.rs`: it names a
/// [`Handle`], and the task room does not import the facade.
impl task::Builder<'_> {
    /// Spawns the task on the runtime behind `handle`.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = magpie_runtime::Runtime::new().unwrap();
    /// // No runtime is entered on this thread: name the one to spawn on.
    /// let h = magpie_runtime::task::Builder::new()
    ///     .name("outside")
    ///     .spawn_on(async { 1 }, rt.handle());
    /// assert_eq!(rt.block_on(h).unwrap(), 1);
    /// ```
    #[track_caller]
    pub fn spawn_on<F>(self, future: F, handle: &Handle) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        spawn_with(handle.scheduler.clone(), self.name.map(Box::from), future)
    }
}

/// Returned by [`Handle::enter`]; leaves the runtime when dropped.
///
/// # Examples
///
/// ```
/// let rt = magpie_runtime::Runtime::new().unwrap();
/// {
///     let _guard: magpie_runtime::EnterGuard = rt.handle().enter();
///     assert!(magpie_runtime::Handle::try_current().is_ok());
/// }
/// assert!(magpie_runtime::Handle::try_current().is_err());
/// ```
#[derive(Debug)]
pub struct EnterGuard {
    _entered: RuntimeEntered,
}

/// Polls `future` on this thread, parking between wakes.
fn park_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let thread = ThreadWaker::current();
    let waker = thread.waker();
    let mut cx = Context::from_waker(&waker);
    loop {
        let (poll, _) = coop::with_budget(coop::DEFAULT_BUDGET, || future.as_mut().poll(&mut cx));
        if let Poll::Ready(out) = poll {
            return out;
        }
        thread.park();
    }
}

/// Runs `future` to completion on a new default multi-thread runtime, then shuts that
/// runtime down (asyncio's `asyncio.run`).
///
/// # Panics
///
/// Inside a runtime (use `.await`), or if the runtime cannot start.
///
/// # Examples
///
/// ```
/// let v = magpie_runtime::block_on(async { magpie_runtime::spawn(async { 3 }).await.unwrap() });
/// assert_eq!(v, 3);
/// ```
#[track_caller]
pub fn block_on<F: Future>(future: F) -> F::Output {
    context::assert_may_block();
    let rt = Runtime::new().unwrap_or_else(|e| panic!("could not start a magpie runtime: {e}"));
    rt.block_on(future)
}

/// `LocalSet::block_on` lives with the facade it takes, so `task/` never imports
/// `Runtime` (issue 14's import rule).
impl crate::task::LocalSet {
    /// Runs `future` and the set's tasks on this thread inside `rt`'s `block_on`:
    /// `rt.block_on(self.run_until(future))`.
    ///
    /// # Panics
    ///
    /// As [`Runtime::block_on`](crate::Runtime::block_on) (inside another runtime).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = magpie_runtime::Runtime::new().unwrap();
    /// let local = magpie_runtime::task::LocalSet::new();
    /// assert_eq!(local.block_on(&rt, async { 1 + 1 }), 2);
    /// ```
    #[track_caller]
    pub fn block_on<F: Future>(&self, rt: &Runtime, future: F) -> F::Output {
        rt.block_on(self.run_until(future))
    }
}
