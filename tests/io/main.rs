//! I/O and time: TCP, UDP, Unix sockets, I/O errors, the cooperative budget of sockets and
//! timers, sleep, interval and timeout.
//!
//! One test binary per area (see `tests/README.md`): each module below was a test file
//! of its own.

#[path = "../support/mod.rs"]
mod support;

mod budget;
mod errors;
mod tcp;
mod time_interval;
mod time_sleep;
mod time_timeout;
mod udp;
#[cfg(unix)]
mod unix;
