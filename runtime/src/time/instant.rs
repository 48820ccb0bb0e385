//! [`Instant`]: magpie's own instant, read from the runtime's clock (which a test can
//! pause, see [`pause`](super::pause)).

use std::fmt;
use std::ops::{Add, AddAssign, Sub, SubAssign};
use std::time::Duration;

/// A measurement of a monotonic clock: `std::time::Instant`, except that
/// [`Instant::now`] reads the current runtime's clock, which stands still while it is
/// paused ([`pause`](super::pause), [`advance`](super::advance)).
///
/// Outside a runtime, and on every runtime whose clock was never paused, `now` is
/// `std::time::Instant::now()` (rule CLOCK-1: the only extra cost is one load of a
/// process-wide flag). Convert with [`from_std`](Instant::from_std) /
/// [`into_std`](Instant::into_std) or `From`; the time functions also accept a
/// `std::time::Instant` for a deadline, and the two types compare with each other.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use magpie_runtime::time::Instant;
///
/// let a = Instant::now();
/// let b = a + Duration::from_millis(5);
/// assert_eq!(b - a, Duration::from_millis(5));
/// assert_eq!(b.duration_since(a), Duration::from_millis(5));
/// assert_eq!(a.checked_duration_since(b), None);
/// assert_eq!(a.saturating_duration_since(b), Duration::ZERO);
/// assert!(a < b && b.checked_sub(Duration::from_millis(5)) == Some(a));
/// assert_eq!(Instant::from_std(a.into_std()), a);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant {
    std: std::time::Instant,
}

impl Instant {
    /// The current instant of the runtime's clock (see the type's docs).
    ///
    /// # Examples
    ///
    /// ```
    /// magpie_runtime::Builder::new_current_thread().start_paused(true).build().unwrap().block_on(async {
    ///     let t = magpie_runtime::time::Instant::now();
    ///     std::thread::sleep(std::time::Duration::from_millis(2));
    ///     assert_eq!(magpie_runtime::time::Instant::now(), t); // paused: time stands still
    /// });
    /// ```
    pub fn now() -> Instant {
        Instant {
            std: super::clock::now(),
        }
    }

    /// Wraps a `std::time::Instant`.
    pub fn from_std(std: std::time::Instant) -> Instant {
        Instant { std }
    }

    /// The `std::time::Instant` this is.
    pub fn into_std(self) -> std::time::Instant {
        self.std
    }

    /// The time from `earlier` to `self`; zero if `earlier` is later (as std's since 1.60).
    pub fn duration_since(&self, earlier: Instant) -> Duration {
        self.std.saturating_duration_since(earlier.std)
    }

    /// The time from `earlier` to `self`, or `None` if `earlier` is later.
    pub fn checked_duration_since(&self, earlier: Instant) -> Option<Duration> {
        self.std.checked_duration_since(earlier.std)
    }

    /// The time from `earlier` to `self`, or zero if `earlier` is later.
    pub fn saturating_duration_since(&self, earlier: Instant) -> Duration {
        self.std.saturating_duration_since(earlier.std)
    }

    /// The time since `self` on the runtime's clock ([`Instant::now`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// magpie_runtime::Builder::new_current_thread().start_paused(true).build().unwrap().block_on(async {
    ///     let t = magpie_runtime::time::Instant::now();
    ///     magpie_runtime::time::advance(Duration::from_secs(5)).await;
    ///     assert_eq!(t.elapsed(), Duration::from_secs(5));
    /// });
    /// ```
    pub fn elapsed(&self) -> Duration {
        Instant::now().saturating_duration_since(*self)
    }

    /// `self + duration`, or `None` if that cannot be represented.
    pub fn checked_add(&self, duration: Duration) -> Option<Instant> {
        self.std.checked_add(duration).map(Instant::from_std)
    }

    /// `self - duration`, or `None` if that cannot be represented.
    pub fn checked_sub(&self, duration: Duration) -> Option<Instant> {
        self.std.checked_sub(duration).map(Instant::from_std)
    }
}

impl From<std::time::Instant> for Instant {
    fn from(std: std::time::Instant) -> Instant {
        Instant::from_std(std)
    }
}

impl From<Instant> for std::time::Instant {
    fn from(instant: Instant) -> std::time::Instant {
        instant.std
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;

    /// # Panics
    ///
    /// If the result cannot be represented (use [`Instant::checked_add`]).
    fn add(self, rhs: Duration) -> Instant {
        Instant::from_std(self.std + rhs)
    }
}

impl AddAssign<Duration> for Instant {
    fn add_assign(&mut self, rhs: Duration) {
        *self = *self + rhs;
    }
}

impl Sub<Duration> for Instant {
    type Output = Instant;

    /// # Panics
    ///
    /// If the result cannot be represented (use [`Instant::checked_sub`]).
    fn sub(self, rhs: Duration) -> Instant {
        Instant::from_std(self.std - rhs)
    }
}

impl SubAssign<Duration> for Instant {
    fn sub_assign(&mut self, rhs: Duration) {
        *self = *self - rhs;
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;

    /// The time from `rhs` to `self`, zero if `rhs` is later.
    fn sub(self, rhs: Instant) -> Duration {
        self.duration_since(rhs)
    }
}

impl Sub<std::time::Instant> for Instant {
    type Output = Duration;

    fn sub(self, rhs: std::time::Instant) -> Duration {
        self.std.saturating_duration_since(rhs)
    }
}

impl Sub<Instant> for std::time::Instant {
    type Output = Duration;

    fn sub(self, rhs: Instant) -> Duration {
        self.saturating_duration_since(rhs.std)
    }
}

impl PartialEq<std::time::Instant> for Instant {
    fn eq(&self, other: &std::time::Instant) -> bool {
        self.std == *other
    }
}

impl PartialEq<Instant> for std::time::Instant {
    fn eq(&self, other: &Instant) -> bool {
        *self == other.std
    }
}

impl PartialOrd<std::time::Instant> for Instant {
    fn partial_cmp(&self, other: &std::time::Instant) -> Option<std::cmp::Ordering> {
        self.std.partial_cmp(other)
    }
}

impl PartialOrd<Instant> for std::time::Instant {
    fn partial_cmp(&self, other: &Instant) -> Option<std::cmp::Ordering> {
        self.partial_cmp(&other.std)
    }
}

impl fmt::Debug for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.std.fmt(f)
    }
}
