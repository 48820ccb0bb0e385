use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::Instant;

use super::sleep::{sleep, sleep_until, Sleep};

/// The error of [`timeout`]: the deadline passed before the future completed.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// magpie_runtime::block_on(async {
///     let late = magpie_runtime::time::timeout(Duration::from_millis(5), std::future::pending::<()>());
///     let e: magpie_runtime::time::Elapsed = late.await.unwrap_err();
///     assert_eq!(e.to_string(), "deadline has elapsed");
/// });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed(());

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl std::error::Error for Elapsed {}

impl From<Elapsed> for std::io::Error {
    fn from(e: Elapsed) -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::TimedOut, e)
    }
}

/// Runs `future` for at most `duration` (asyncio's `wait_for`).
///
/// If the future completes first, its output is returned. Otherwise, once `duration` has
/// passed, the future is dropped (cancelled) and `Err(Elapsed)` is returned. The future is
/// polled before the clock is checked, so a future that is ready at once wins even with a
/// zero duration.
///
/// # Errors
///
/// [`Elapsed`] when the deadline passes first.
///
/// # Panics
///
/// When polled outside a magpie runtime (and the future is not ready at once).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use magpie_runtime::time::{sleep, timeout};
///
/// magpie_runtime::block_on(async {
///     assert_eq!(timeout(Duration::from_secs(5), async { 7 }).await, Ok(7));
///     let slow = timeout(Duration::from_millis(5), sleep(Duration::from_secs(60)));
///     assert!(slow.await.is_err());
/// });
/// ```
pub fn timeout<F: Future>(duration: Duration, future: F) -> Timeout<F> {
    Timeout {
        future,
        sleep: sleep(duration),
    }
}

/// Runs `future` until `deadline` at most; see [`timeout`].
///
/// # Errors
///
/// [`Elapsed`] when the deadline passes first.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
/// use magpie_runtime::time::timeout_at;
///
/// magpie_runtime::block_on(async {
///     let deadline = Instant::now() + Duration::from_millis(5);
///     assert!(timeout_at(deadline, std::future::pending::<()>()).await.is_err());
/// });
/// ```
pub fn timeout_at<F: Future>(deadline: impl Into<Instant>, future: F) -> Timeout<F> {
    Timeout {
        future,
        sleep: sleep_until(deadline),
    }
}

/// The future returned by [`timeout`] and [`timeout_at`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// magpie_runtime::block_on(async {
///     let t = magpie_runtime::time::timeout(Duration::from_secs(5), std::future::ready(7));
///     assert_eq!(t.get_ref().clone().into_inner(), 7); // borrows the inner future
///     let inner = t.into_inner(); // drops the timer, keeps the future
///     assert_eq!(inner.await, 7);
/// });
/// ```
#[derive(Debug)]
pub struct Timeout<F> {
    future: F,
    sleep: Sleep,
}

impl<F> Timeout<F> {
    /// The wrapped future.
    pub fn get_ref(&self) -> &F {
        &self.future
    }

    /// Unwraps the future, dropping the timer.
    pub fn into_inner(self) -> F {
        self.future
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: structural pinning of `future` only: it is never moved out of a pinned
        // `Timeout` (`into_inner` takes `self` by value, which requires `Timeout: Unpin`,
        // hence `F: Unpin`), and `Timeout` has no `Drop` impl. `sleep` is `Unpin` and is
        // not pinned.
        let (future, sleep) = unsafe {
            let this = self.get_unchecked_mut();
            (Pin::new_unchecked(&mut this.future), &mut this.sleep)
        };
        if let Poll::Ready(out) = future.poll(cx) {
            return Poll::Ready(Ok(out));
        }
        // The inner future may have spent the whole budget: check the timer regardless,
        // or a future that is always ready-then-yielding could never time out.
        match sleep.poll_elapsed(cx) {
            Poll::Ready(()) => Poll::Ready(Err(Elapsed(()))),
            Poll::Pending => Poll::Pending,
        }
    }
}
