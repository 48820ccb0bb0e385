//! A small keyed set of wakers, for the channels and cells of this crate that wake many
//! waiters at once (`broadcast`, `watch`, `OnceCell`).
//!
//! It is deliberately independent of `wait_list.rs`: every waiter is a key into a short
//! vector kept under its owner's lock. Registering replaces the key's waker; waking takes
//! every waker out. Nothing here wakes or drops a waker: [`Wakers::register`] and
//! [`Wakers::remove`] return the replaced waker and [`Wakers::take_all`] the whole set, so
//! the caller drops or wakes them *after* releasing its lock (a waker's `drop` or `wake`
//! may run user code that re-enters the primitive).
//!
//! A waiter that was woken (its waker taken by `take_all`) is no longer in the set; when it
//! is polled again it registers afresh. A waiter dropped removes its key, so the set never
//! holds a waker of a finished future for longer than one wake-up.

use core::task::Waker;

/// The wakers of every waiter currently registered. See the module docs.
#[derive(Debug, Default)]
pub(crate) struct Wakers {
    next_key: u64,
    entries: Vec<(u64, Waker)>,
}

impl Wakers {
    pub(crate) const fn new() -> Self {
        Self {
            next_key: 0,
            entries: Vec::new(),
        }
    }

    /// Registers (or refreshes) the waker of the waiter whose key is in `key` (`None`: a
    /// new waiter, which gets a key). Returns a waker the caller must drop after unlocking.
    #[must_use = "the replaced waker must be dropped outside the lock"]
    pub(crate) fn register(&mut self, key: &mut Option<u64>, waker: &Waker) -> Option<Waker> {
        if let Some(k) = *key {
            if let Some(entry) = self.entries.iter_mut().find(|e| e.0 == k) {
                if entry.1.will_wake(waker) {
                    return None;
                }
                return Some(core::mem::replace(&mut entry.1, waker.clone()));
            }
        }
        let k = *key.get_or_insert_with(|| {
            self.next_key += 1;
            self.next_key
        });
        self.entries.push((k, waker.clone()));
        None
    }

    /// Forgets the waiter `key` (if it is still registered); returns its waker, to be
    /// dropped after unlocking.
    #[must_use = "the removed waker must be dropped outside the lock"]
    pub(crate) fn remove(&mut self, key: Option<u64>) -> Option<Waker> {
        let k = key?;
        let i = self.entries.iter().position(|e| e.0 == k)?;
        Some(self.entries.swap_remove(i).1)
    }

    /// Takes every registered waker, to be woken after unlocking (see [`wake_all`]).
    #[must_use = "the taken wakers must be woken outside the lock"]
    pub(crate) fn take_all(&mut self) -> Vec<(u64, Waker)> {
        core::mem::take(&mut self.entries)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Wakes what [`Wakers::take_all`] took; call it with no lock held.
pub(crate) fn wake_all(wakers: Vec<(u64, Waker)>) {
    for (_, w) in wakers {
        w.wake();
    }
}
