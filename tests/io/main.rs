//! I/O and time: TCP, UDP, Unix sockets, I/O errors, the cooperative budget of sockets and
//! timers, sleep, interval and timeout.
//!
//! One test binary per area (see `tests/README.md`): each module below was a test file
//! of its own.

#[path = "../support/mod.rs"]
mod support;

mod budget;
mod errors;
mod fs;
mod net_lookup;
mod net_socket;
mod net_unix_datagram;
mod tcp;
#[cfg(unix)]
mod time_interval;
mod time_paused;
mod time_sleep;
mod time_timeout;
mod udp;
mod unix;
