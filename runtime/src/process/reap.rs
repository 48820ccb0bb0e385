//! Waiting for a child to exit without a polling loop, and reaping the ones nobody waits for.
//!
//! # Reaping rules
//!
//! Reap rule R1 (waiting): a child is waited for through a pidfd registered with the
//! driver where the OS has them (Linux 5.3+; the pidfd becomes readable when the child
//! exits), and otherwise through a `SIGCHLD` listener. Either way the exit is collected
//! with `waitpid(pid, WNOHANG)` (std's `try_wait`) *after* the wake-up source was armed,
//! and the wait parks only when that found the child still running, so an exit between
//! the two is never missed: a pidfd stays readable once the child exited, and a `SIGCHLD`
//! after the listener was made is counted for it (signal rule G3).
//!
//! Reap rule R2 (orphans): a `Child` dropped while its process runs is handed, with its
//! pidfd, to one process-wide reaper thread (`magpie-reaper`, started on first use), which
//! blocks in `poll(2)` on the pidfds of its orphans, a wake-up pipe for new orphans and,
//! for orphans without a pidfd, the signal pipe plus a waker on `SIGCHLD`'s slot; after
//! each wake-up it `try_wait`s every orphan and drops the reaped ones. Only the reaper
//! removes orphans, so every descriptor it polls stays open while it polls. No runtime
//! needs to outlive its children for them to be reaped.

use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::process::ExitStatus;
use std::sync::OnceLock;
use std::task::{Context, Poll, Wake, Waker};

use crate::io::Async;
use crate::loom::Mutex;
use crate::signal::unix::{signal, Signal, SignalKind};

/// What wakes a task waiting for a child's exit (rule R1).
pub(crate) enum ExitWake {
    Pidfd(Async<OwnedFd>),
    Sigchld(Signal),
}

impl ExitWake {
    /// The wake-up source for a child just spawned with this `pid`, on the current runtime.
    pub(crate) fn new(pid: u32) -> io::Result<ExitWake> {
        #[cfg(test)]
        if FORCE_SIGCHLD.with(|f| f.get()) {
            return Ok(ExitWake::Sigchld(signal(SignalKind::child())?));
        }
        match pidfd_open(pid) {
            Some(fd) => Ok(ExitWake::Pidfd(Async::new_nonblocking(fd)?)),
            None => Ok(ExitWake::Sigchld(signal(SignalKind::child())?)),
        }
    }

    /// Whether this waits through a pidfd.
    #[cfg(test)]
    pub(crate) fn is_pidfd(&self) -> bool {
        matches!(self, ExitWake::Pidfd(_))
    }

    /// Rule R1: polls `child` for its exit status.
    pub(crate) fn poll_exit(
        &mut self,
        child: &mut std::process::Child,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<ExitStatus>> {
        match self {
            ExitWake::Pidfd(fd) => fd.poll_read_with(cx, |_| match child.try_wait() {
                Ok(Some(status)) => Ok(status),
                Ok(None) => Err(io::ErrorKind::WouldBlock.into()),
                Err(e) => Err(e),
            }),
            ExitWake::Sigchld(sig) => loop {
                if let Some(status) = child.try_wait()? {
                    return Poll::Ready(Ok(status));
                }
                match sig.poll_recv(cx) {
                    Poll::Ready(Some(())) => continue,
                    Poll::Ready(None) => return Poll::Ready(Err(shut_down())),
                    Poll::Pending => return Poll::Pending,
                }
            },
        }
    }

    /// The pidfd, deregistered, for the orphan reaper.
    pub(crate) fn into_pidfd(self) -> Option<OwnedFd> {
        match self {
            ExitWake::Pidfd(fd) => fd.into_inner().ok(),
            ExitWake::Sigchld(_) => None,
        }
    }
}

fn shut_down() -> io::Error {
    io::Error::other("the runtime shut down while waiting for the child process")
}

#[cfg(test)]
thread_local! {
    /// Tests of the SIGCHLD path on Linux: children spawned on this thread skip the pidfd.
    pub(crate) static FORCE_SIGCHLD: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// A pidfd for `pid` (close-on-exec), or `None` where the OS has none.
#[cfg(target_os = "linux")]
fn pidfd_open(pid: u32) -> Option<OwnedFd> {
    use crate::loom::atomic::{AtomicBool, Ordering::Relaxed};
    use std::os::fd::FromRawFd;

    /// Set once the kernel (or a seccomp filter) refused `pidfd_open` as unsupported.
    static UNSUPPORTED: AtomicBool = AtomicBool::new(false);
    if UNSUPPORTED.load(Relaxed) {
        return None;
    }
    let pid = libc::pid_t::try_from(pid).ok()?;
    // SAFETY: pidfd_open(2) takes a pid and flags and returns a new descriptor or -1; it
    // touches no memory of ours. `pid` is our own unreaped child, so it cannot be reused.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        let err = io::Error::last_os_error();
        if matches!(err.raw_os_error(), Some(libc::ENOSYS | libc::EPERM)) {
            UNSUPPORTED.store(true, Relaxed);
        }
        // Otherwise (EMFILE, ...): this child falls back to SIGCHLD.
        return None;
    }
    // SAFETY: the syscall returned a new descriptor that nothing else owns.
    Some(unsafe { OwnedFd::from_raw_fd(fd as libc::c_int) })
}

#[cfg(not(target_os = "linux"))]
fn pidfd_open(_pid: u32) -> Option<OwnedFd> {
    None
}

/// A child nobody waits for any more.
struct Orphan {
    child: std::process::Child,
    pidfd: Option<OwnedFd>,
}

/// The reaper's state (rule R2).
struct Reaper {
    orphans: Mutex<Vec<Orphan>>,
    wake_tx: UnixStream,
    wake_rx: UnixStream,
}

fn reaper() -> io::Result<&'static Reaper> {
    static REAPER: OnceLock<Reaper> = OnceLock::new();
    static STARTED: OnceLock<io::Result<()>> = OnceLock::new();
    let (wake_tx, wake_rx) = match REAPER.get() {
        Some(_) => (None, None),
        None => {
            let (tx, rx) = UnixStream::pair()?;
            tx.set_nonblocking(true)?;
            rx.set_nonblocking(true)?;
            (Some(tx), Some(rx))
        }
    };
    let r = REAPER.get_or_init(|| Reaper {
        orphans: Mutex::new(Vec::new()),
        wake_tx: wake_tx.expect("made above when REAPER was unset"),
        wake_rx: wake_rx.expect("made above when REAPER was unset"),
    });
    let started = STARTED.get_or_init(|| {
        crate::loom::thread::Builder::new()
            .name("magpie-reaper".to_owned())
            .spawn(move || r.run())
            .map(drop)
    });
    match started {
        Ok(()) => Ok(r),
        Err(e) => Err(io::Error::new(e.kind(), e.to_string())),
    }
}

/// Rule R2: hands a running child to the reaper. If the reaper cannot start, the child is
/// reaped here, blocking (it was killed or is expected to end; no zombie is left).
pub(crate) fn orphan(mut child: std::process::Child, pidfd: Option<OwnedFd>) {
    if let Ok(Some(_)) = child.try_wait() {
        return;
    }
    match reaper() {
        Ok(r) => {
            r.orphans.lock().unwrap().push(Orphan { child, pidfd });
            let _ = (&r.wake_tx).write(&[1]);
        }
        Err(_) => {
            let _ = child.wait();
        }
    }
}

/// Wakes the reaper from a `SIGCHLD` drain done elsewhere.
struct WakeReaper(&'static Reaper);

impl Wake for WakeReaper {
    fn wake(self: std::sync::Arc<Self>) {
        let _ = (&self.0.wake_tx).write(&[1]);
    }
}

impl Reaper {
    fn run(&'static self) {
        // std's `Arc`: `Wake` is defined on it (the waker is no protocol state).
        let waker = Waker::from(std::sync::Arc::new(WakeReaper(self)));
        let id = crate::signal::next_listener_id();
        let mut sigchld: Option<(&'static crate::signal::Globals, u64)> = None;
        loop {
            // Reap, and collect what to wait on.
            let (mut fds, need_sigchld) = {
                let mut orphans = self.orphans.lock().unwrap();
                orphans.retain_mut(|o| matches!(o.child.try_wait(), Ok(None)));
                let fds: Vec<libc::pollfd> = orphans
                    .iter()
                    .filter_map(|o| o.pidfd.as_ref())
                    .map(|fd| pollfd(fd.as_raw_fd()))
                    .collect();
                (fds, orphans.iter().any(|o| o.pidfd.is_none()))
            };
            fds.push(pollfd(self.wake_rx.as_raw_fd()));
            if need_sigchld {
                if sigchld.is_none() {
                    if let Ok(g) = crate::signal::install_handler(libc::SIGCHLD) {
                        sigchld = Some((g, g.generation(libc::SIGCHLD)));
                    }
                }
                if let Some((g, seen)) = sigchld.as_mut() {
                    if g.poll_changed(libc::SIGCHLD, seen, id, &waker) {
                        continue; // a SIGCHLD since the last look: reap again
                    }
                    fds.push(pollfd(g.receiver_raw()));
                }
            }
            // SAFETY: `fds` is a valid array of `fds.len()` pollfds; every descriptor in
            // it stays open during the call (rule R2: only this thread removes orphans,
            // and the wake-up and signal pipes live for the rest of the process).
            let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, -1) };
            if n < 0 {
                continue; // EINTR (a signal handler ran on this thread): look again
            }
            let mut buf = [0u8; 64];
            while matches!((&self.wake_rx).read(&mut buf), Ok(n) if n > 0) {}
            if let Some((g, _)) = sigchld {
                g.drain();
            }
        }
    }
}

fn pollfd(fd: libc::c_int) -> libc::pollfd {
    libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    }
}
