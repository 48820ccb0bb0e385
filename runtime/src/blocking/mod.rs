//! `spawn_blocking`: a separate, growable pool of threads for blocking calls.
//!
//! A blocking closure becomes a one-poll task (the same async-task allocation, header and
//! [`JoinHandle`] as any task, so panics become `JoinError`s and `abort()` works until the
//! closure starts). Its schedule function queues it on the pool of the runtime named in its
//! header, never on a worker.
//!
//! The pool (see [`pool`]) starts no thread up front: a closure queued while no pool thread
//! is idle starts a new one, up to `Builder::max_blocking_threads`; an idle thread exits
//! after `Builder::thread_keep_alive`. At shutdown, closures not yet started are cancelled
//! and running ones are waited for, up to the shutdown timeout.

mod pool;

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

pub(crate) use pool::Pool;

use crate::context;
use crate::scheduler::Scheduler;
use crate::task::{Header, JoinHandle, Runnable, TaskFuture, TaskId};

/// Runs `f` on the current runtime's blocking pool and returns a handle to its result.
///
/// Use it for work that blocks the thread (file system calls, blocking libraries, long
/// computations) so it does not stall a worker. The closure starts at once if a pool thread
/// is idle or the pool may grow; otherwise it waits for a free thread. A panic in `f`
/// becomes a [`JoinError`](crate::JoinError) (`is_panic()`); `abort()` cancels the closure
/// only if it has not started.
///
/// # Panics
///
/// Outside a magpie runtime (use [`Handle::spawn_blocking`](crate::Handle::spawn_blocking)
/// with a kept handle instead).
///
/// # Examples
///
/// ```
/// magpie_runtime::block_on(async {
///     let h = magpie_runtime::spawn_blocking(|| {
///         std::thread::sleep(std::time::Duration::from_millis(5));
///         6 * 7
///     });
///     assert_eq!(h.await.unwrap(), 42);
/// });
/// ```
#[track_caller]
pub fn spawn_blocking<F, R>(f: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    match context::current_scheduler() {
        Some(scheduler) => spawn_blocking_on(&scheduler, f),
        None => panic!(
            "magpie::spawn_blocking called outside a magpie runtime: call it from inside a \
             task or Runtime::block_on, or keep a Handle and call Handle::spawn_blocking"
        ),
    }
}

/// The one place blocking tasks are made.
#[track_caller]
pub(crate) fn spawn_blocking_on<F, R>(scheduler: &Scheduler, f: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let header = Header::new(
        TaskId::next(),
        None,
        scheduler.clone(),
        std::panic::Location::caller(),
    );
    // SAFETY: rules TASK-1 and TASK-4 (`task/mod.rs`): the future borrows the header,
    // which async-task keeps alive until after the future is dropped; `F` and `R` are
    // `Send + 'static`, so the task may run and be dropped on any thread; the schedule
    // function is a plain `fn`. The task is not listed in the registry (its `key` stays
    // `NOT_LISTED`), which `TaskFuture`'s drop and `Header::abort` both handle.
    let (runnable, task) = unsafe {
        async_task::Builder::new().metadata(header).spawn_unchecked(
            move |header: &Header| TaskFuture::new(header, BlockingFuture(Some(f))),
            schedule,
        )
    };
    schedule(runnable);
    JoinHandle::new(task)
}

/// The schedule function of blocking tasks: onto their runtime's pool.
fn schedule(runnable: Runnable) {
    let scheduler = runnable.metadata().scheduler.clone();
    scheduler.blocking().spawn(runnable, &scheduler);
}

/// A closure as a future that completes on its first poll.
struct BlockingFuture<F>(Option<F>);

impl<F> Unpin for BlockingFuture<F> {}

impl<F: FnOnce() -> R, R> Future for BlockingFuture<F> {
    type Output = R;

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<R> {
        let f = self
            .0
            .take()
            .expect("a blocking task is polled exactly once");
        Poll::Ready(f())
    }
}
