//! Signals: [`ctrl_c`] and, for any Unix signal, [`unix::signal`].
//!
//! tokio's shapes and semantics: a listener receives every delivery that happens after it
//! was created, deliveries coalesce while it is not looking, and listeners on several
//! runtimes in one process all work. The process-wide handler is installed through
//! signal-hook-registry (as tokio's is), feeds a self-pipe, and each listener waits on a
//! duplicate of the pipe registered with its runtime's driver: no thread of its own, no
//! polling loop. The protocol is written up in `registry.rs` (rules G1 to G3).
//!
//! One difference from tokio: a signal that cannot be listened for (`SIGKILL`, `SIGSTOP`,
//! `SIGILL`, `SIGFPE`, `SIGSEGV`, a number out of range) gives an error of kind
//! `InvalidInput` naming the signal, where tokio says `Other`.
//!
//! asyncio's twin is `loop.add_signal_handler(sig, callback)`: in magpie a task awaits
//! `recv()` in a loop instead of registering a callback (see `docs/asyncio.md`).
//!
//! # Examples
//!
//! ```
//! use magpie_runtime::signal::unix::{signal, SignalKind};
//!
//! # if cfg!(miri) { return; } // miri has no epoll and no signals
//! magpie_runtime::block_on(async {
//!     let mut usr1 = signal(SignalKind::user_defined1()).unwrap();
//!     let waiter = magpie_runtime::spawn(async move { usr1.recv().await });
//!     magpie_runtime::time::sleep(std::time::Duration::from_millis(10)).await;
//!     // SAFETY: kill(2) and getpid(2) have no preconditions.
//!     unsafe { libc::kill(libc::getpid(), libc::SIGUSR1) };
//!     assert_eq!(waiter.await.unwrap(), Some(()));
//! });
//! ```

#[cfg(not(loom))]
mod registry;
#[cfg_attr(loom, allow(dead_code))] // only its models use it under loom
mod slot;
#[cfg(not(loom))]
pub mod unix;

#[cfg(not(loom))]
use std::io;

/// Waits for the next `SIGINT` (Ctrl-C in a terminal).
///
/// The listener is made when the future is first polled: a `SIGINT` before that is not
/// seen, and from then on `SIGINT` no longer terminates the process (the handler stays
/// installed for the life of the process, as in tokio). To wait for several, keep a
/// [`unix::Signal`] for [`unix::SignalKind::interrupt`] instead of calling this in a loop.
///
/// # Errors
///
/// Outside a magpie runtime, the OS's error installing the handler, or an error if the
/// runtime shuts down before the signal arrives.
///
/// # Examples
///
/// ```no_run
/// # magpie_runtime::block_on(async {
/// magpie_runtime::signal::ctrl_c().await.expect("listen for Ctrl-C");
/// println!("shutting down");
/// # });
/// ```
#[cfg(not(loom))]
pub async fn ctrl_c() -> io::Result<()> {
    let mut sigint = unix::signal(unix::SignalKind::interrupt())?;
    match sigint.recv().await {
        Some(()) => Ok(()),
        None => Err(io::Error::other(
            "the runtime shut down before SIGINT arrived",
        )),
    }
}

/// The process-wide signal state, for `process`'s SIGCHLD-driven reaping.
#[cfg(not(loom))]
pub(crate) use registry::{install as install_handler, next_id as next_listener_id, Globals};
