use std::future::poll_fn;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::Instant;

use magpie_sync::coop;

use super::sleep::{far_future, sleep_until, Sleep};

/// What an [`Interval`] does when ticks were missed (the task was busy past one or more
/// tick times).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use magpie_runtime::time::{interval, MissedTickBehavior};
///
/// magpie_runtime::block_on(async {
///     let mut iv = interval(Duration::from_millis(5));
///     iv.set_missed_tick_behavior(MissedTickBehavior::Skip);
///     iv.tick().await;
/// });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MissedTickBehavior {
    /// Fire the missed ticks back to back until caught up, then keep the original
    /// schedule (the default).
    #[default]
    Burst,
    /// Fire once now, then one period after now: the schedule shifts.
    Delay,
    /// Fire once now, then at the next tick of the original schedule.
    Skip,
}

/// Ticks every `period`, the first tick at once.
///
/// # Panics
///
/// If `period` is zero.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
///
/// magpie_runtime::block_on(async {
///     let start = Instant::now();
///     let mut iv = magpie_runtime::time::interval(Duration::from_millis(10));
///     for _ in 0..3 {
///         iv.tick().await;
///     }
///     assert!(start.elapsed() >= Duration::from_millis(20));
/// });
/// ```
pub fn interval(period: Duration) -> Interval {
    interval_at(Instant::now(), period)
}

/// Ticks every `period`, the first tick at `start`.
///
/// # Panics
///
/// If `period` is zero.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
///
/// magpie_runtime::block_on(async {
///     let start = Instant::now() + Duration::from_millis(20);
///     let mut iv = magpie_runtime::time::interval_at(start, Duration::from_millis(10));
///     assert_eq!(iv.tick().await, start); // the first tick waits for `start`
///     assert_eq!(iv.tick().await, start + Duration::from_millis(10));
/// });
/// ```
pub fn interval_at(start: impl Into<Instant>, period: Duration) -> Interval {
    assert!(!period.is_zero(), "interval period must be non-zero");
    Interval {
        sleep: sleep_until(start),
        period,
        missed: MissedTickBehavior::Burst,
    }
}

/// A stream of ticks; see [`interval`]. Also a `futures_core::Stream` of the ticks'
/// scheduled instants (it never ends).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use magpie_runtime::time::{interval, MissedTickBehavior};
///
/// magpie_runtime::block_on(async {
///     let mut iv = interval(Duration::from_millis(5));
///     assert_eq!(iv.period(), Duration::from_millis(5));
///     assert_eq!(iv.missed_tick_behavior(), MissedTickBehavior::Burst);
///     iv.set_missed_tick_behavior(MissedTickBehavior::Delay);
///     let first = iv.tick().await; // the first tick is immediate
///     iv.reset(); // the next tick is one period from now
///     let second = iv.tick().await;
///     assert!(second >= first + Duration::from_millis(5));
///     // Also a `Stream`: `std::future::poll_fn` stands in for `StreamExt::next`.
///     let mut iv = std::pin::pin!(iv);
///     let third = std::future::poll_fn(|cx| futures_core::Stream::poll_next(iv.as_mut(), cx)).await;
///     assert!(third.is_some());
/// });
/// ```
#[derive(Debug)]
pub struct Interval {
    sleep: Sleep,
    period: Duration,
    missed: MissedTickBehavior,
}

impl Interval {
    /// Waits for the next tick and returns the instant it was scheduled for.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// magpie_runtime::block_on(async {
    ///     let mut iv = magpie_runtime::time::interval(Duration::from_millis(5));
    ///     let a = iv.tick().await;
    ///     let b = iv.tick().await;
    ///     assert_eq!(b - a, Duration::from_millis(5)); // scheduled instants, not wake-up times
    /// });
    /// ```
    pub async fn tick(&mut self) -> Instant {
        poll_fn(|cx| self.poll_tick(cx)).await
    }

    /// Polls for the next tick.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// magpie_runtime::block_on(async {
    ///     let mut iv = magpie_runtime::time::interval(Duration::from_millis(5));
    ///     let first = std::future::poll_fn(|cx| iv.poll_tick(cx)).await;
    ///     assert!(first <= std::time::Instant::now());
    /// });
    /// ```
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        let unit = std::task::ready!(coop::poll_proceed(cx));
        std::task::ready!(self.sleep.poll_elapsed(cx));
        unit.made_progress();
        let scheduled = self.sleep.deadline();
        let now = Instant::now();
        let next = match self.missed {
            MissedTickBehavior::Burst => scheduled.checked_add(self.period),
            MissedTickBehavior::Delay => now.checked_add(self.period),
            MissedTickBehavior::Skip => {
                let behind = now.saturating_duration_since(scheduled).as_nanos();
                let period = self.period.as_nanos();
                let periods = u32::try_from(behind / period + 1).unwrap_or(u32::MAX);
                self.period
                    .checked_mul(periods)
                    .and_then(|d| scheduled.checked_add(d))
            }
        };
        self.sleep.reset(next.unwrap_or_else(|| far_future(now)));
        Poll::Ready(scheduled)
    }

    /// Restarts the schedule: the next tick is one period from now.
    pub fn reset(&mut self) {
        let now = Instant::now();
        self.sleep.reset(
            now.checked_add(self.period)
                .unwrap_or_else(|| far_future(now)),
        );
    }

    /// The missed-tick policy in force.
    pub fn missed_tick_behavior(&self) -> MissedTickBehavior {
        self.missed
    }

    /// Sets the missed-tick policy.
    pub fn set_missed_tick_behavior(&mut self, behavior: MissedTickBehavior) {
        self.missed = behavior;
    }

    /// The period.
    pub fn period(&self) -> Duration {
        self.period
    }
}

impl futures_core::Stream for Interval {
    type Item = Instant;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Instant>> {
        self.get_mut().poll_tick(cx).map(Some)
    }
}
