//! The process-wide half of signal handling: one OS handler per signal (through
//! signal-hook-registry), a self-pipe, and per-signal delivery counters that every
//! listener, on every runtime, compares against.
//!
//! # The delivery protocol
//!
//! Signal rule G1 (the handler): on a delivery of signal `n` the OS handler sets
//! `slots[n].pending` and then writes one byte to the self-pipe's sending end
//! (non-blocking: a full pipe already holds a wake-up). Both are async-signal-safe.
//!
//! Signal rule G2 (the drain): whoever reads the pipe ([`drain`]: a listener being polled,
//! a listener being created, the orphan reaper) first empties it and then, for each slot,
//! swaps `pending` to false and, if it was set, increments the slot's `generation` and
//! wakes every waker parked on the slot. A delivery whose byte was read before its
//! `pending` was swapped is counted now; one whose `pending` is set after the swap left a
//! byte in the pipe for the next drain (at worst one spurious wake-up, never a lost one).
//!
//! Signal rule G3 (the listener): a listener remembers the generation it has seen. It is
//! created after a drain, so deliveries completed before it existed are never reported to
//! it. `poll_changed` returns ready once the generation moved past the one it saw, and
//! otherwise parks its waker on the slot *before* re-reading the generation, so an
//! increment between the two reads is seen either by the re-read or by the wake-up. Several
//! deliveries between two looks coalesce into one (as tokio's).
//!
//! The counter and the parked wakers of one signal are `slot.rs`'s `Slot`, whose loom
//! models (`loom_signal_*`) check rules G2 and G3 against concurrent announces.
//!
//! Each listener also holds its own duplicate of the pipe's receiving end registered with
//! its runtime's driver (see `unix.rs`): any runtime whose driver sees the pipe readable
//! drains it for everyone, so listeners on several runtimes in one process all work.

use std::io::{self, Read, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;
// Not swapped under loom: this module is not built with `--cfg loom` (the OS handler and
// the pipe are outside what loom can model); `OnceLock` only publishes the globals once.
use std::sync::OnceLock;
use std::task::Waker;

use super::slot::Slot;
use crate::loom::atomic::{AtomicU64, Ordering::Relaxed};

/// Signal numbers `1..SLOTS` can be listened for (Linux's real-time signals end at 64).
const SLOTS: usize = 65;

/// The process-wide state, created on first use and never freed (the OS handlers it
/// feeds stay installed for the life of the process, as tokio's do).
pub(crate) struct Globals {
    sender: UnixStream,
    receiver: UnixStream,
    slots: Box<[Slot]>,
}

/// The process-wide state (the pipe and the slots), made on first use.
pub(crate) fn globals() -> io::Result<&'static Globals> {
    static GLOBALS: OnceLock<Globals> = OnceLock::new();
    if let Some(g) = GLOBALS.get() {
        return Ok(g);
    }
    // Both ends close on exec (std creates them with SOCK_CLOEXEC) and never block.
    let (sender, receiver) = UnixStream::pair()?;
    sender.set_nonblocking(true)?;
    receiver.set_nonblocking(true)?;
    let slots = (0..SLOTS).map(|_| Slot::new()).collect();
    // A racing initialiser's pair is dropped (closed) here; only the winner's is used.
    Ok(GLOBALS.get_or_init(|| Globals {
        sender,
        receiver,
        slots,
    }))
}

/// Installs the OS handler for `signum` (once) and returns the process-wide state.
/// The caller has checked that `signum` is in range and not forbidden.
pub(crate) fn install(signum: i32) -> io::Result<&'static Globals> {
    let g = globals()?;
    let slot = &g.slots[signum as usize];
    let mut installed = slot.installed.lock().unwrap();
    if !*installed {
        // SAFETY: signal-hook-registry requires the action to be async-signal-safe. It
        // only stores to an atomic and calls `write(2)` on a non-blocking socket that lives
        // for the rest of the process (`g` is `'static` and never dropped): both are on
        // POSIX's async-signal-safe list, and neither allocates or locks. errno is saved
        // and restored around actions by signal-hook-registry itself.
        let registered = unsafe {
            signal_hook_registry::register(signum, move || {
                g.slots[signum as usize].mark_pending();
                let _ = (&g.sender).write(&[1]);
            })
        };
        registered?;
        *installed = true;
    }
    Ok(g)
}

/// The number of slots: signal numbers below this can be listened for.
pub(crate) const fn max_signal() -> i32 {
    SLOTS as i32 - 1
}

impl Globals {
    /// The pipe's receiving end, to duplicate and register with a driver.
    pub(crate) fn receiver(&self) -> BorrowedFd<'_> {
        self.receiver.as_fd()
    }

    /// Rule G2: empties the pipe, then counts and announces every pending delivery.
    /// Whether the pipe held anything.
    pub(crate) fn drain(&self) -> bool {
        let mut buf = [0u8; 64];
        let mut read_any = false;
        loop {
            match (&self.receiver).read(&mut buf) {
                Ok(0) => break,
                Ok(_) => read_any = true,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => break, // WouldBlock: empty
            }
        }
        for slot in self.slots.iter() {
            slot.announce();
        }
        read_any
    }

    /// The deliveries of `signum` counted so far.
    pub(crate) fn generation(&self, signum: i32) -> u64 {
        self.slots[signum as usize].generation()
    }

    /// Rule G3 for `signum`: see [`Slot::poll_changed`].
    pub(crate) fn poll_changed(&self, signum: i32, seen: &mut u64, id: u64, waker: &Waker) -> bool {
        self.slots[signum as usize].poll_changed(seen, id, waker)
    }

    /// Forgets listener `id`'s parked waker on `signum`, if any.
    pub(crate) fn unpark(&self, signum: i32, id: u64) {
        self.slots[signum as usize].unpark(id);
    }
}

impl Globals {
    /// The pipe's raw receiving end, for `poll(2)` in the orphan reaper.
    pub(crate) fn receiver_raw(&self) -> i32 {
        use std::os::fd::AsRawFd;
        self.receiver.as_raw_fd()
    }
}

/// A new listener id: never reused.
pub(crate) fn next_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Relaxed)
}
