//! [`MagpieTimer`]: hyper's `Timer` on `magpie::time`.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::time::Sleep;

/// A [`hyper::rt::Timer`] whose sleeps are [`magpie::time::Sleep`](crate::time::Sleep)s.
///
/// Give it to hyper's connection builders (`.timer(MagpieTimer::new())`) to enable
/// hyper's timeouts, such as `header_read_timeout` on an HTTP/1 server connection. The
/// sleeps hyper makes must be polled inside a magpie runtime (they are, when the
/// connection is served in a magpie task); hyper's `reset` moves the deadline of the
/// existing timer instead of making a new one.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
///
/// use hyper::rt::Timer;
/// use magpie::compat::hyper::MagpieTimer;
///
/// magpie::block_on(async {
///     let start = Instant::now();
///     MagpieTimer::new().sleep(Duration::from_millis(5)).await;
///     assert!(start.elapsed() >= Duration::from_millis(5));
/// });
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct MagpieTimer {
    _private: (),
}

impl MagpieTimer {
    /// A timer on the runtime that polls its sleeps.
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = hyper::server::conn::http1::Builder::new()
    ///     .timer(magpie::compat::hyper::MagpieTimer::new())
    ///     .header_read_timeout(std::time::Duration::from_secs(5))
    ///     .clone();
    /// # let _ = builder;
    /// ```
    pub fn new() -> MagpieTimer {
        MagpieTimer { _private: () }
    }
}

impl ::hyper::rt::Timer for MagpieTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn ::hyper::rt::Sleep>> {
        Box::pin(MagpieSleep(crate::time::sleep(duration)))
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn ::hyper::rt::Sleep>> {
        Box::pin(MagpieSleep(crate::time::sleep_until(deadline)))
    }

    fn reset(&self, sleep: &mut Pin<Box<dyn ::hyper::rt::Sleep>>, new_deadline: Instant) {
        match sleep.as_mut().downcast_mut_pin::<MagpieSleep>() {
            // Ours: move the timer already in the wheel.
            Some(mut ours) => ours.0.reset(new_deadline),
            // Someone else's sleep: replace it, as hyper's default `reset` does.
            None => *sleep = self.sleep_until(new_deadline),
        }
    }
}

/// A magpie `Sleep` as hyper's `Sleep` (a local type, for the orphan rule).
#[derive(Debug)]
struct MagpieSleep(Sleep);

impl Future for MagpieSleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.0).poll(cx)
    }
}

impl ::hyper::rt::Sleep for MagpieSleep {}
