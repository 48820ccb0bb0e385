//! The OS poller behind a small type, so the driver's hand-off can be model-checked.
//!
//! In production this is `polling::Poller`, with every source registered edge-triggered. Under `cfg(loom)` loom cannot
//! see inside epoll, so [`Poller`] is a stand-in with the same waiting semantics, built from
//! loom's mutex and condition variable: `wait` blocks until `notify` (a notification that
//! comes first is kept, as polling keeps it) and never reports I/O events. That is enough to
//! check that a worker parked in `wait` is always woken for new work.
//!
//! Miri cannot run epoll either (polling needs `timerfd`), so miri gets the same stand-in
//! over std's types, with real timeouts: timers and the scheduler's parking still run
//! there, and registering an I/O source fails with `Unsupported`.

use std::io;
use std::os::fd::RawFd;
use std::time::Duration;

/// One readiness report: which registration, and which directions.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Event {
    pub(crate) key: usize,
    pub(crate) readable: bool,
    pub(crate) writable: bool,
}

#[cfg(not(any(loom, miri)))]
mod imp {
    use super::*;
    use std::os::fd::BorrowedFd;

    pub(crate) struct Poller {
        inner: polling::Poller,
    }

    pub(crate) struct Events {
        inner: polling::Events,
    }

    impl Events {
        pub(crate) fn new() -> Events {
            Events {
                inner: polling::Events::new(),
            }
        }

        pub(crate) fn iter(&self) -> impl Iterator<Item = Event> + '_ {
            self.inner.iter().map(|e| Event {
                key: e.key,
                readable: e.readable,
                writable: e.writable,
            })
        }

        pub(crate) fn clear(&mut self) {
            self.inner.clear();
        }
    }

    impl Poller {
        pub(crate) fn new() -> io::Result<Poller> {
            let inner = polling::Poller::new()?;
            if !inner.supports_edge() {
                return Err(io::Error::new(
                    io::ErrorKind::Unsupported,
                    "magpie's I/O driver needs edge-triggered polling (epoll or kqueue)",
                ));
            }
            Ok(Poller { inner })
        }

        /// Registers `fd` under `key`, edge-triggered, interested in both directions for
        /// as long as it stays registered (see `source.rs`).
        pub(crate) fn add(&self, fd: RawFd, key: usize) -> io::Result<()> {
            // SAFETY: source rule S1 (driver/source.rs): the registration is deleted before
            // the descriptor is closed, which is what `Poller::add_with_mode` requires.
            unsafe {
                self.inner
                    .add_with_mode(fd, polling::Event::all(key), polling::PollMode::Edge)
            }
        }

        pub(crate) fn delete(&self, fd: RawFd) -> io::Result<()> {
            // SAFETY: source rule S1: deletion happens before the descriptor is closed.
            let fd = unsafe { BorrowedFd::borrow_raw(fd) };
            self.inner.delete(fd)
        }

        pub(crate) fn wait(
            &self,
            events: &mut Events,
            timeout: Option<Duration>,
        ) -> io::Result<()> {
            self.inner.wait(&mut events.inner, timeout).map(drop)
        }

        pub(crate) fn notify(&self) {
            // It can only fail if the eventfd cannot be written, which would mean it is
            // full of notifications, that is, one is pending anyway.
            let _ = self.inner.notify();
        }
    }
}

#[cfg(any(loom, miri))]
mod imp {
    use super::*;
    use crate::loom::{Condvar, Mutex};

    pub(crate) struct Poller {
        notified: Mutex<bool>,
        cvar: Condvar,
    }

    pub(crate) struct Events;

    impl Events {
        pub(crate) fn new() -> Events {
            Events
        }
        pub(crate) fn iter(&self) -> impl Iterator<Item = Event> + '_ {
            std::iter::empty()
        }
        pub(crate) fn clear(&mut self) {}
    }

    impl Poller {
        pub(crate) fn new() -> io::Result<Poller> {
            Ok(Poller {
                notified: Mutex::new(false),
                cvar: Condvar::new(),
            })
        }
        pub(crate) fn add(&self, _fd: RawFd, _key: usize) -> io::Result<()> {
            Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "no I/O under loom or miri",
            ))
        }
        pub(crate) fn delete(&self, _fd: RawFd) -> io::Result<()> {
            Ok(())
        }
        /// Blocks until notified or, if given, the timeout passes. Under loom, which has no
        /// time, a timed wait returns at once, like a spurious wake-up.
        pub(crate) fn wait(
            &self,
            _events: &mut Events,
            timeout: Option<Duration>,
        ) -> io::Result<()> {
            let mut notified = self.notified.lock().unwrap();
            match timeout {
                None => {
                    while !*notified {
                        notified = self.cvar.wait(notified).unwrap();
                    }
                }
                #[cfg(not(loom))]
                Some(t) => {
                    if !*notified {
                        notified = self.cvar.wait_timeout(notified, t).unwrap().0;
                    }
                }
                #[cfg(loom)]
                Some(_) => {}
            }
            *notified = false;
            Ok(())
        }
        pub(crate) fn notify(&self) {
            *self.notified.lock().unwrap() = true;
            self.cvar.notify_one();
        }
    }
}

pub(crate) use imp::{Events, Poller};

impl std::fmt::Debug for Poller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Poller").finish_non_exhaustive()
    }
}
