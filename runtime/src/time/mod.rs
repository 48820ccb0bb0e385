//! Time: sleeps, intervals and timeouts, driven by the runtime's timer wheel.
//!
//! Timers live in a hierarchical timing wheel owned by each runtime's driver (1 µs
//! ticks, O(1) insert and cancel; see `docs/architecture.md`). A worker with nothing
//! to do sleeps in the driver until the next timer is due. A timer never fires before its
//! deadline; dropping a [`Sleep`] removes its entry.
//!
//! [`Instant`] is magpie's own: it reads the runtime's clock, which a test on a
//! current-thread runtime can [`pause`] (then [`advance`], [`resume`]); while paused, a
//! runtime with nothing to do jumps straight to its next timer, so hour-long timeouts take
//! no real time (`time::clock`, rules CLOCK-1 to CLOCK-4). The deadline-taking functions
//! accept a `std::time::Instant` too (`impl Into<Instant>`), and the two types compare.
//!
//! [`timeout`] is asyncio's `wait_for`: on expiry the inner future is dropped and
//! `Err(Elapsed)` returned.
//!
//! # Examples
//!
//! ```
//! use std::time::Duration;
//! use magpie_runtime::time;
//!
//! magpie_runtime::block_on(async {
//!     time::sleep(Duration::from_millis(1)).await;
//!     let r = time::timeout(Duration::from_millis(1), std::future::pending::<()>()).await;
//!     assert!(r.is_err());
//! });
//! ```

pub(crate) mod clock;
mod instant;
mod interval;
mod sleep;
mod timeout;
pub(crate) mod wheel;

pub use clock::{advance, pause, resume};
pub use instant::Instant;
pub use interval::{interval, interval_at, Interval, MissedTickBehavior};
pub use sleep::{sleep, sleep_until, Sleep};
pub use std::time::Duration;
pub use timeout::{timeout, timeout_at, Elapsed, Timeout};
