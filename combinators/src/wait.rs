//! `wait`: asyncio's `asyncio.wait(tasks, timeout, return_when)`.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use magpie_runtime::time::{sleep, Sleep};
use magpie_runtime::JoinHandle;

/// When [`wait`] returns (asyncio's `FIRST_COMPLETED`, `FIRST_EXCEPTION`, `ALL_COMPLETED`).
///
/// # Examples
///
/// ```
/// use magpie_combinators::{wait, ReturnWhen};
///
/// magpie_runtime::block_on(async {
///     let quick = magpie_runtime::spawn(async {});
///     let stuck = magpie_runtime::spawn(std::future::pending::<()>());
///     let (done, pending) = wait(vec![quick, stuck], ReturnWhen::FirstCompleted, None).await;
///     assert_eq!((done.len(), pending.len()), (1, 1));
///     pending[0].abort();
/// });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReturnWhen {
    /// As soon as any task has finished (completed, panicked or been cancelled).
    FirstCompleted,
    /// As soon as any task has panicked, or else when all have finished. As in asyncio, a
    /// cancelled task is not an error here, and neither is a task whose output is an `Err`
    /// (the handles' output type is opaque to `wait`): use `try_gather` or a `TaskGroup`
    /// to stop at the first `Err`.
    FirstError,
    /// When every task has finished.
    AllCompleted,
}

/// Waits on running tasks without cancelling any: returns `(done, pending)`, each in input
/// order, when `return_when` is met or `timeout` expires, whichever comes first.
///
/// The handles in `done` have finished and awaiting them yields their outcome at once; those
/// in `pending` are still running, untouched (drop them to detach, or `abort()` them). An
/// empty input returns at once. Waiting does not take the outputs: it uses
/// [`JoinHandle::poll_finished`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use magpie_combinators::{wait, ReturnWhen};
///
/// magpie_runtime::block_on(async {
///     let fast = magpie_runtime::spawn(async { 1 });
///     let slow = magpie_runtime::spawn(async {
///         magpie_runtime::time::sleep(Duration::from_secs(60)).await;
///         2
///     });
///     let (done, pending) = wait(vec![fast, slow], ReturnWhen::FirstCompleted, None).await;
///     assert_eq!(done.len(), 1);
///     assert_eq!(pending.len(), 1);
///     for h in done {
///         assert_eq!(h.await.unwrap(), 1);
///     }
///     pending[0].abort();
/// });
/// ```
///
/// # Panics
///
/// With `Some(timeout)`, when polled outside a magpie runtime (the timer needs one).
pub fn wait<T>(
    handles: Vec<JoinHandle<T>>,
    return_when: ReturnWhen,
    timeout: Option<Duration>,
) -> Wait<T> {
    Wait {
        done: vec![false; handles.len()],
        handles: Some(handles),
        return_when,
        timeout,
        timer: None,
    }
}

/// The future returned by [`wait`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use magpie_combinators::{wait, ReturnWhen, Wait};
///
/// magpie_runtime::block_on(async {
///     let handles = vec![magpie_runtime::spawn(async { 1 }), magpie_runtime::spawn(async { 2 })];
///     let fut: Wait<i32> = wait(handles, ReturnWhen::AllCompleted, Some(Duration::from_secs(5)));
///     let (done, pending) = fut.await;
///     assert!(pending.is_empty());
///     let mut sum = 0;
///     for h in done {
///         sum += h.await.unwrap();
///     }
///     assert_eq!(sum, 3);
/// });
/// ```
pub struct Wait<T> {
    handles: Option<Vec<JoinHandle<T>>>,
    done: Vec<bool>,
    return_when: ReturnWhen,
    timeout: Option<Duration>,
    /// Created on first poll, so that the timeout runs from when the wait starts.
    timer: Option<Pin<Box<Sleep>>>,
}

impl<T> Unpin for Wait<T> {}

type Split<T> = (Vec<JoinHandle<T>>, Vec<JoinHandle<T>>);

impl<T> Future for Wait<T> {
    type Output = Split<T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Split<T>> {
        let this = &mut *self;
        let handles = this
            .handles
            .as_mut()
            .expect("Wait polled after it returned");
        let mut finished = 0;
        let mut panicked = false;
        for (h, done) in handles.iter_mut().zip(this.done.iter_mut()) {
            if !*done && h.poll_finished(cx).is_ready() {
                *done = true;
            }
            if *done {
                finished += 1;
                panicked |= h.finished_with_panic() == Some(true);
            }
        }
        let all = finished == handles.len();
        let met = all
            || match this.return_when {
                ReturnWhen::FirstCompleted => finished > 0,
                ReturnWhen::FirstError => panicked,
                ReturnWhen::AllCompleted => false,
            };
        if !met {
            if let Some(d) = this.timeout {
                let timer = this.timer.get_or_insert_with(|| Box::pin(sleep(d)));
                if timer.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
            } else {
                return Poll::Pending;
            }
        }
        let handles = this.handles.take().expect("checked above");
        let (mut done, mut pending) = (Vec::new(), Vec::new());
        for (h, d) in handles.into_iter().zip(this.done.iter()) {
            if *d {
                done.push(h);
            } else {
                pending.push(h);
            }
        }
        Poll::Ready((done, pending))
    }
}

impl<T> fmt::Debug for Wait<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wait")
            .field("tasks", &self.done.len())
            .field("finished", &self.done.iter().filter(|d| **d).count())
            .field("return_when", &self.return_when)
            .field("timeout", &self.timeout)
            .finish()
    }
}
