use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use magpie_sync::coop;

use super::wheel::{self, Key};
use super::Instant;
use crate::driver::{self, Driver};
use crate::loom::Arc;

/// Waits until `duration` has elapsed.
///
/// The sleep completes no earlier than its deadline and, on an idle runtime, typically
/// within a few tens of microseconds after it (the wheel counts microseconds and the
/// driver sleeps to the nanosecond; tokio's 1 ms wheel makes a 1 ms sleep take about
/// 2 ms: `compare`'s `sleep_accuracy` row has the figures). A zero duration completes
/// at once. Dropping the `Sleep` removes its timer.
///
/// # Panics
///
/// When first polled outside a magpie runtime (unless its deadline has already passed).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use magpie_runtime::time::Instant;
///
/// magpie_runtime::block_on(async {
///     let start = Instant::now();
///     magpie_runtime::time::sleep(Duration::from_millis(10)).await;
///     assert!(start.elapsed() >= Duration::from_millis(10));
/// });
/// ```
pub fn sleep(duration: Duration) -> Sleep {
    let now = Instant::now();
    sleep_until(now.checked_add(duration).unwrap_or_else(|| far_future(now)))
}

/// Waits until `deadline`; a deadline in the past completes at once.
///
/// # Panics
///
/// When first polled outside a magpie runtime (unless `deadline` has already passed).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use magpie_runtime::time::Instant;
///
/// magpie_runtime::block_on(async {
///     let deadline = Instant::now() + Duration::from_millis(5);
///     magpie_runtime::time::sleep_until(deadline).await;
///     assert!(Instant::now() >= deadline);
/// });
/// ```
pub fn sleep_until(deadline: impl Into<Instant>) -> Sleep {
    Sleep {
        deadline: deadline.into(),
        entry: None,
    }
}

/// About 30 years from `now`: the stand-in for "never" when a duration overflows.
pub(crate) fn far_future(now: Instant) -> Instant {
    now + Duration::from_secs(86_400 * 365 * 30)
}

/// The future returned by [`sleep`] and [`sleep_until`].
///
/// The timer is registered with the runtime's driver on first poll and removed on drop.
/// If the runtime shuts down first, the sleep completes (nothing would ever fire it).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// magpie_runtime::block_on(async {
///     let sleep: magpie_runtime::time::Sleep = magpie_runtime::time::sleep(Duration::from_millis(5));
///     let deadline = sleep.deadline();
///     assert!(!sleep.is_elapsed());
///     sleep.await;
///     assert!(std::time::Instant::now() >= deadline);
/// });
/// ```
pub struct Sleep {
    deadline: Instant,
    /// The driver and wheel key, once registered.
    entry: Option<(Arc<Driver>, Key)>,
}

impl Sleep {
    /// The instant this sleep completes at.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Whether the deadline has passed.
    pub fn is_elapsed(&self) -> bool {
        Instant::now() >= self.deadline
    }

    /// Moves the deadline (earlier or later); the sleep can then be awaited again.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use magpie_runtime::time::Instant;
    ///
    /// magpie_runtime::block_on(async {
    ///     let mut s = magpie_runtime::time::sleep(Duration::from_secs(3600));
    ///     s.reset(Instant::now() + Duration::from_millis(1));
    ///     s.await;
    /// });
    /// ```
    pub fn reset(&mut self, deadline: impl Into<Instant>) {
        let deadline = deadline.into();
        self.deadline = deadline;
        if let Some((driver, key)) = &self.entry {
            driver.timer_reset(*key, deadline.into_std());
            wheel::drop_displaced();
        }
    }

    /// Polls without spending the task's budget (for `Timeout`, whose inner future may
    /// have spent it all).
    pub(crate) fn poll_elapsed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        // The clock check first: the wheel may lag a busy runtime by a little.
        if Instant::now() >= self.deadline {
            return Poll::Ready(());
        }
        let fired = match &self.entry {
            Some((driver, key)) => driver.timer_poll(*key, cx.waker()),
            None => {
                let driver = driver::current().unwrap_or_else(|_| {
                    panic!(
                        "magpie::time::sleep polled outside a magpie runtime: await it inside \
                         a task or Runtime::block_on"
                    )
                });
                let key = driver.timer_insert(self.deadline.into_std(), cx.waker());
                let fired = driver.timer_poll(key, cx.waker());
                self.entry = Some((driver, key));
                fired
            }
        };
        // The driver's lock is released: drop the waker this poll replaced, if any
        // (rule WHEEL-2).
        wheel::drop_displaced();
        if !fired {
            return Poll::Pending;
        }
        let (driver, key) = self.entry.as_ref().expect("registered above");
        if driver.clock().is_paused() {
            // Rule CLOCK-3: the paused wheel fires a whole tick at once; wait for the clock
            // to reach the deadline itself.
            let due = driver.timer_wait_early(*key, self.deadline.into_std(), cx.waker());
            wheel::drop_displaced();
            if !due {
                return Poll::Pending;
            }
        }
        Poll::Ready(())
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let unit = std::task::ready!(coop::poll_proceed(cx));
        let poll = self.poll_elapsed(cx);
        if poll.is_ready() {
            unit.made_progress();
        } else {
            crate::diag::record_sleep_wait();
        }
        poll
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let Some((driver, key)) = self.entry.take() {
            driver.timer_remove(key);
            // Outside the driver's lock: the entry's waker (rule WHEEL-2).
            wheel::drop_displaced();
        }
    }
}

impl std::fmt::Debug for Sleep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sleep")
            .field("deadline", &self.deadline)
            .field("registered", &self.entry.is_some())
            .finish()
    }
}
