//! asyncio's `Event`: a flag that tasks can wait on.
//!
//! # Protocol
//!
//! **EVT-1.** The flag is an atomic, so `is_set` and `wait` on a set event take no lock. A waiter
//! that finds the flag clear re-checks it under the waiter lock and queues in the same
//! critical section; `set` stores the flag *before* taking the lock and granting every
//! queued waiter. So a waiter either sees the flag or is queued before `set` looks at the
//! queue: no wake-up is lost. A waiter granted by `set` completes even if the event was
//! cleared again before it ran (as in asyncio). The grant is a broadcast, so a waiter
//! dropped after it was granted has nothing to pass on.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use crate::coop;
use crate::diag;
use crate::loom::atomic::{AtomicBool, Ordering};
use crate::loom::{Mutex, MutexGuard};
use crate::wait_list::{StaleWakers, WaitList, Waiter, WakeList};

/// A flag tasks can wait for: asyncio's `Event`.
///
/// [`wait`](Self::wait) completes at once while the event is set and otherwise waits for
/// [`set`](Self::set), which wakes every waiter. [`clear`](Self::clear) resets the flag.
///
/// # Examples
///
/// The asyncio example: three waiters proceed once a trigger sets the event.
///
/// ```
/// use std::sync::Arc;
/// use magpie_sync::Event;
///
/// let event = Arc::new(Event::new());
/// let waiters: Vec<_> = (0..3)
///     .map(|_| {
///         let event = event.clone();
///         std::thread::spawn(move || magpie_sync::__doc_block_on(event.wait()))
///     })
///     .collect();
/// event.set();
/// for w in waiters {
///     w.join().unwrap();
/// }
/// assert!(event.is_set());
/// ```
pub struct Event {
    flag: AtomicBool,
    waiters: Mutex<WaitList<()>>,
    /// The label shown in dumps (`with_label`); read only on the pending path.
    label: Option<&'static str>,
}

impl Event {
    /// Creates a clear event.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!magpie_sync::Event::new().is_set());
    /// ```
    pub fn new() -> Self {
        Self {
            flag: AtomicBool::new(false),
            waiters: Mutex::new(WaitList::new()),
            label: None,
        }
    }

    /// The same event, labelled `label` in task dumps (`magpie::diag`): a task waiting on
    /// it shows as waiting on `Event` with this label.
    ///
    /// # Examples
    ///
    /// ```
    /// let e = magpie_sync::Event::new().with_label("ready");
    /// assert!(!e.is_set());
    /// ```
    pub fn with_label(mut self, label: &'static str) -> Self {
        self.label = Some(label);
        self
    }

    fn lock(&self) -> MutexGuard<'_, WaitList<()>> {
        self.waiters.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether the event is set.
    ///
    /// # Examples
    ///
    /// ```
    /// let e = magpie_sync::Event::new();
    /// e.set();
    /// assert!(e.is_set());
    /// ```
    pub fn is_set(&self) -> bool {
        self.flag.load(Ordering::Acquire)
    }

    /// Sets the event and wakes every waiting task. Later `wait`s complete at once until
    /// [`clear`](Self::clear).
    ///
    /// # Examples
    ///
    /// ```
    /// # magpie_sync::__doc_block_on(async {
    /// let e = magpie_sync::Event::new();
    /// e.set();
    /// e.wait().await; // completes at once
    /// # });
    /// ```
    pub fn set(&self) {
        if self.flag.swap(true, Ordering::AcqRel) {
            return; // already set: nobody can be queued (they re-check under the lock)
        }
        let mut wakers = WakeList::new();
        let mut list = self.lock();
        while list.grant_front(&mut wakers) {}
        drop(list);
        wakers.wake_all();
    }

    /// Clears the event: later `wait`s block until the next [`set`](Self::set).
    ///
    /// # Examples
    ///
    /// ```
    /// let e = magpie_sync::Event::new();
    /// e.set();
    /// e.clear();
    /// assert!(!e.is_set());
    /// ```
    pub fn clear(&self) {
        self.flag.store(false, Ordering::Release);
    }

    /// Waits until the event is set.
    ///
    /// Completes at once if it is set (spending one unit of the task's cooperative
    /// budget). A waiter woken by `set` completes even if the event was cleared since.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// let e = Arc::new(magpie_sync::Event::new());
    /// let e2 = e.clone();
    /// let t = std::thread::spawn(move || e2.set());
    /// magpie_sync::__doc_block_on(e.wait());
    /// t.join().unwrap();
    /// ```
    pub fn wait(&self) -> impl Future<Output = ()> + Send + '_ {
        Wait {
            event: self,
            waiter: Waiter::new(),
        }
    }
}

impl Default for Event {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("is_set", &self.is_set())
            .finish()
    }
}

struct Wait<'a> {
    event: &'a Event,
    /// Our node in the event's wait list; idle until the first pending poll.
    waiter: Waiter<()>,
}

impl Future for Wait<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // Only shared access is needed: the waiter's node changes under the lock.
        let this = self.into_ref().get_ref();
        let unit = match coop::poll_proceed(cx) {
            Poll::Ready(unit) => unit,
            Poll::Pending => return Poll::Pending,
        };
        let waiter = &this.waiter;
        if waiter.is_idle() && this.event.is_set() {
            unit.made_progress();
            return Poll::Ready(());
        }
        let mut stale = StaleWakers::new(); // dropped after `list` (WL-6)
        let mut list = this.event.lock();
        if waiter.is_idle() && this.event.is_set() {
            unit.made_progress();
            return Poll::Ready(());
        }
        // SAFETY: `waiter` is a field of this pinned `!Unpin` future, used with this
        // event's list only, and `Drop` removes it (the contract of `poll_waiter`).
        let polled = unsafe { list.poll_waiter(waiter, cx.waker(), (), &mut stale) };
        drop(list);
        if polled.is_ready() {
            unit.made_progress();
        } else {
            let resource = this.event as *const Event as usize;
            diag::record_wait(diag::WaitRecord::new("Event", this.event.label, resource));
        }
        polled
    }
}

impl Drop for Wait<'_> {
    fn drop(&mut self) {
        if !self.waiter.is_idle() {
            // A broadcast grant has nothing to hand on: just leave the list.
            // Dropped after the lock, which the statement below releases (WL-6).
            let mut stale = StaleWakers::new();
            // SAFETY: ours, queued or granted in this list, under its lock (WL-1).
            unsafe { self.event.lock().remove(&self.waiter, &mut stale) };
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::test_util::{block_on, now, scaled, Polled};
    use std::sync::Arc;

    #[test]
    fn is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Event>();
    }

    #[test]
    fn stays_small() {
        // An idle task parked on its own event holds both: keep the future within tokio's
        // `Notified` (64 bytes). Waiting allocates nothing. The event itself grew from 32
        // to 48 bytes for its dump label (`with_label`, 16 bytes kept inline so that
        // neither labelling nor waiting allocates; docs/diagnostics.md).
        let e = Event::new();
        assert!(core::mem::size_of::<Event>() <= 48);
        assert!(core::mem::size_of_val(&e.wait()) <= 48);
    }

    #[test]
    fn set_wakes_every_waiter_once() {
        let e = Event::new();
        let mut waiters: Vec<_> = (0..40).map(|_| Polled::new(e.wait())).collect();
        for w in &mut waiters {
            w.pending();
        }
        e.set();
        e.set(); // no second wake-up
        for w in &mut waiters {
            assert_eq!(w.wakes(), 1);
            w.ready();
        }
        assert!(now(e.wait()).is_some());
    }

    #[test]
    fn cleared_after_set_still_releases_the_woken() {
        let e = Event::new();
        let mut w = Polled::new(e.wait());
        w.pending();
        e.set();
        e.clear();
        w.ready();
        assert!(now(e.wait()).is_none());
    }

    #[test]
    fn cancel_before_and_after_grant() {
        let e = Event::new();
        let mut before = Polled::new(e.wait());
        let mut after = Polled::new(e.wait());
        let mut other = Polled::new(e.wait());
        before.pending();
        after.pending();
        other.pending();
        drop(before);
        e.set();
        drop(after);
        assert_eq!(other.wakes(), 1);
        other.ready();
        assert!(e.lock().is_empty());
    }

    #[test]
    fn seed_waiters_all_proceed_after_set() {
        for _ in 0..scaled(50) {
            let e = Arc::new(Event::new());
            let ts: Vec<_> = (0..3)
                .map(|_| {
                    let e = e.clone();
                    std::thread::spawn(move || block_on(e.wait()))
                })
                .collect();
            e.set();
            for t in ts {
                t.join().unwrap();
            }
        }
    }
}
