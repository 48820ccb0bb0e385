//! Unix signals: [`signal`] makes a [`Signal`] listener for a [`SignalKind`].

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::os::fd::OwnedFd;
use std::task::{Context, Poll};

use super::registry::{self, Globals};
use crate::io::Async;

/// A kind of Unix signal: a signal number with constructors for the usual ones.
///
/// # Examples
///
/// ```
/// use magpie_runtime::signal::unix::SignalKind;
///
/// assert_eq!(SignalKind::terminate().as_raw_value(), libc::SIGTERM);
/// assert_eq!(SignalKind::from_raw(libc::SIGUSR1), SignalKind::user_defined1());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SignalKind(libc::c_int);

impl SignalKind {
    /// Any signal by its number, e.g. `SignalKind::from_raw(libc::SIGWINCH)`. Whether it
    /// can be listened for is checked by [`signal`].
    pub const fn from_raw(signum: libc::c_int) -> SignalKind {
        SignalKind(signum)
    }

    /// The signal's number.
    pub const fn as_raw_value(&self) -> libc::c_int {
        self.0
    }

    /// `SIGINT`: the terminal's interrupt key (Ctrl-C).
    pub const fn interrupt() -> SignalKind {
        SignalKind(libc::SIGINT)
    }

    /// `SIGTERM`: the polite request to terminate (what `kill` and service managers send).
    pub const fn terminate() -> SignalKind {
        SignalKind(libc::SIGTERM)
    }

    /// `SIGHUP`: the terminal hung up; daemons often take it as "reload the configuration".
    pub const fn hangup() -> SignalKind {
        SignalKind(libc::SIGHUP)
    }

    /// `SIGUSR1`: for the application's own use.
    pub const fn user_defined1() -> SignalKind {
        SignalKind(libc::SIGUSR1)
    }

    /// `SIGUSR2`: for the application's own use.
    pub const fn user_defined2() -> SignalKind {
        SignalKind(libc::SIGUSR2)
    }

    /// `SIGCHLD`: a child process stopped or exited.
    pub const fn child() -> SignalKind {
        SignalKind(libc::SIGCHLD)
    }

    /// `SIGQUIT`: the terminal's quit key (Ctrl-\\).
    pub const fn quit() -> SignalKind {
        SignalKind(libc::SIGQUIT)
    }

    /// `SIGPIPE`: a write to a pipe or socket with no reader.
    pub const fn pipe() -> SignalKind {
        SignalKind(libc::SIGPIPE)
    }

    /// `SIGALRM`: a timer set with `alarm(2)` expired.
    pub const fn alarm() -> SignalKind {
        SignalKind(libc::SIGALRM)
    }

    /// `SIGWINCH`: the terminal's window size changed.
    pub const fn window_change() -> SignalKind {
        SignalKind(libc::SIGWINCH)
    }

    /// The signal's name (`"SIGTERM"`), when it is one of the standard ones.
    fn name(&self) -> Option<&'static str> {
        const NAMES: &[(libc::c_int, &str)] = &[
            (libc::SIGHUP, "SIGHUP"),
            (libc::SIGINT, "SIGINT"),
            (libc::SIGQUIT, "SIGQUIT"),
            (libc::SIGILL, "SIGILL"),
            (libc::SIGTRAP, "SIGTRAP"),
            (libc::SIGABRT, "SIGABRT"),
            (libc::SIGBUS, "SIGBUS"),
            (libc::SIGFPE, "SIGFPE"),
            (libc::SIGKILL, "SIGKILL"),
            (libc::SIGUSR1, "SIGUSR1"),
            (libc::SIGSEGV, "SIGSEGV"),
            (libc::SIGUSR2, "SIGUSR2"),
            (libc::SIGPIPE, "SIGPIPE"),
            (libc::SIGALRM, "SIGALRM"),
            (libc::SIGTERM, "SIGTERM"),
            (libc::SIGCHLD, "SIGCHLD"),
            (libc::SIGCONT, "SIGCONT"),
            (libc::SIGSTOP, "SIGSTOP"),
            (libc::SIGTSTP, "SIGTSTP"),
            (libc::SIGTTIN, "SIGTTIN"),
            (libc::SIGTTOU, "SIGTTOU"),
            (libc::SIGURG, "SIGURG"),
            (libc::SIGXCPU, "SIGXCPU"),
            (libc::SIGXFSZ, "SIGXFSZ"),
            (libc::SIGVTALRM, "SIGVTALRM"),
            (libc::SIGPROF, "SIGPROF"),
            (libc::SIGWINCH, "SIGWINCH"),
            (libc::SIGIO, "SIGIO"),
            (libc::SIGSYS, "SIGSYS"),
        ];
        NAMES.iter().find(|(n, _)| *n == self.0).map(|(_, s)| *s)
    }

    /// `Ok` if this signal may be listened for; otherwise the `InvalidInput` error.
    fn check(&self) -> io::Result<()> {
        let described = match self.name() {
            Some(name) => format!("{name} ({})", self.0),
            None => self.0.to_string(),
        };
        if signal_hook_registry::FORBIDDEN.contains(&self.0) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "signal {described} cannot be listened for: SIGKILL and SIGSTOP cannot be \
                     caught, and handling SIGILL, SIGFPE or SIGSEGV would resume the faulting \
                     code"
                ),
            ));
        }
        if self.0 < 1 || self.0 > registry::max_signal() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "signal {described} is not a signal number that can be listened for \
                     (1..={})",
                    registry::max_signal()
                ),
            ));
        }
        Ok(())
    }
}

impl From<libc::c_int> for SignalKind {
    fn from(signum: libc::c_int) -> SignalKind {
        SignalKind::from_raw(signum)
    }
}

impl fmt::Debug for SignalKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "SignalKind({name})"),
            None => write!(f, "SignalKind({})", self.0),
        }
    }
}

/// Listens for `kind` on the current runtime.
///
/// The first listener of a signal installs a process-wide handler for it, which stays
/// installed for the rest of the process (so the signal's default action, e.g.
/// terminating on `SIGTERM`, no longer happens, even after every listener is dropped), as
/// in tokio. Every listener receives each delivery that happens after it was created;
/// deliveries that arrive while a listener is not looking coalesce into one.
///
/// # Errors
///
/// - `InvalidInput`, naming the signal, for one that cannot be listened for: `SIGKILL`,
///   `SIGSTOP`, `SIGILL`, `SIGFPE`, `SIGSEGV`, or a number out of range. (tokio gives
///   `ErrorKind::Other` here; magpie's kind says it is the caller's input that is wrong.)
/// - Outside a magpie runtime, or the OS's error installing the handler or duplicating the
///   wake-up pipe (e.g. `EMFILE`).
///
/// # Examples
///
/// ```
/// use magpie_runtime::signal::unix::{signal, SignalKind};
///
/// # if cfg!(miri) { return; } // miri has no epoll and no signals
/// magpie_runtime::block_on(async {
///     let mut hup = signal(SignalKind::hangup()).unwrap();
///     // SAFETY: raise(3) has no preconditions; it delivers SIGHUP to this thread before it returns.
///     unsafe { libc::raise(libc::SIGHUP) };
///     hup.recv().await.unwrap();
///
///     let err = signal(SignalKind::from_raw(libc::SIGKILL)).unwrap_err();
///     assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
///     assert!(err.to_string().contains("SIGKILL"));
/// });
/// ```
pub fn signal(kind: SignalKind) -> io::Result<Signal> {
    kind.check()?;
    let signum = kind.as_raw_value();
    let globals = registry::globals()?;
    // A duplicate of the pipe's receiving end (close-on-exec; it shares the original's
    // non-blocking mode), registered with this listener's runtime. First, so a call
    // outside a runtime fails before it replaces the signal's default action.
    let pipe = Async::new_nonblocking(globals.receiver().try_clone_to_owned()?)?;
    registry::install(signum)?;
    // Rule G3: count every completed delivery first, so none of them reaches us.
    globals.drain();
    Ok(Signal {
        kind,
        id: registry::next_id(),
        seen: globals.generation(signum),
        globals,
        pipe,
    })
}

/// A listener for one kind of signal, from [`signal`].
///
/// # Examples
///
/// ```
/// use magpie_runtime::signal::unix::{signal, SignalKind};
///
/// # if cfg!(miri) { return; } // miri has no epoll and no signals
/// magpie_runtime::block_on(async {
///     let mut a = signal(SignalKind::user_defined2()).unwrap();
///     let mut b = signal(SignalKind::user_defined2()).unwrap();
///     for _ in 0..3 {
///         // SAFETY: raise(3) has no preconditions; it delivers SIGUSR2 to this thread before it returns.
///         unsafe { libc::raise(libc::SIGUSR2) };
///     }
///     a.recv().await.unwrap(); // three deliveries coalesced into one for each listener
///     b.recv().await.unwrap();
/// });
/// ```
pub struct Signal {
    kind: SignalKind,
    /// The key of this listener's waker in the slot (never reused).
    id: u64,
    /// Rule G3: the generation this listener has seen.
    seen: u64,
    globals: &'static Globals,
    pipe: Async<OwnedFd>,
}

impl Signal {
    /// Waits for the next delivery of the signal after the last one this listener
    /// received (or after it was created).
    ///
    /// Cancel safe: dropping the future loses no delivery; the next `recv` reports it.
    /// Returns `None` once the runtime this listener was created on has shut down.
    pub async fn recv(&mut self) -> Option<()> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Polls for the next delivery; see [`recv`](Signal::recv).
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<()>> {
        let signum = self.kind.as_raw_value();
        let g = self.globals;
        loop {
            if g.poll_changed(signum, &mut self.seen, self.id, cx.waker()) {
                g.unpark(signum, self.id);
                return Poll::Ready(Some(()));
            }
            // Parked on the slot; now drain the pipe for everyone if it holds wake-ups.
            let drained = self.pipe.poll_read_with(cx, |_| {
                if g.drain() {
                    Ok(())
                } else {
                    Err(io::ErrorKind::WouldBlock.into())
                }
            });
            match drained {
                Poll::Ready(Ok(())) => continue,
                Poll::Ready(Err(_)) => {
                    g.unpark(signum, self.id);
                    return Poll::Ready(None);
                }
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    /// The kind of signal this listener receives.
    pub fn kind(&self) -> SignalKind {
        self.kind
    }
}

impl Drop for Signal {
    fn drop(&mut self) {
        self.globals.unpark(self.kind.as_raw_value(), self.id);
    }
}

impl fmt::Debug for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signal").field("kind", &self.kind).finish()
    }
}
