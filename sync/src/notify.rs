//! `Notify`: wake one waiting task, or all of them, without data.
//!
//! # State word
//!
//! `state` packs `generation << 2 | WAITING | NOTIFIED`:
//!
//! * `NOTIFIED`: one stored permit from a `notify_one` that found nobody waiting.
//! * `WAITING`: the wait list is not empty; changed only under the waiter lock, in the
//!   critical section that makes the list non-empty or empty (as in the semaphore).
//! * `generation`: how many times `notify_waiters` ran.
//!
//! # Protocol
//!
//! - **NOTIFY-1.** `notify_one` with `WAITING` clear sets `NOTIFIED` by CAS and takes no lock; with
//!   `WAITING` set it takes the lock and grants the front waiter. The CAS fails if a
//!   waiter queued in between, so the notification is never stored while someone waits.
//! - **NOTIFY-2.** A waiter first tries to consume `NOTIFIED` by CAS; otherwise, under the lock, it
//!   either consumes a `NOTIFIED` that arrived meanwhile or sets `WAITING` and queues
//!   (one CAS decides which).
//! - **NOTIFY-3.** `notify_waiters` bumps the generation and grants every queued waiter, under the lock.
//!   A `notified()` future remembers the generation it was created in, so it completes
//!   if `notify_waiters` ran after its creation even if it was not yet polled.
//! - **NOTIFY-4.** A waiter dropped after `notify_one` granted it hands the notification to the next
//!   waiter, or stores it as `NOTIFIED` if nobody waits: a `notify_one` is never lost.
//!   A grant from `notify_waiters` is a broadcast and is not handed on.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use crate::coop;
use crate::diag;
use crate::loom::atomic::{AtomicUsize, Ordering};
use crate::loom::{Mutex, MutexGuard};
use crate::wait_list::{Removed, StaleWakers, WaitList, Waiter, WakeList};

const NOTIFIED: usize = 0b01;
const WAITING: usize = 0b10;
const GEN_ONE: usize = 0b100;

/// What a waiter was granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Grant {
    /// Nothing yet (queued).
    #[default]
    None,
    /// One `notify_one` notification: passed on if the waiter is dropped.
    One,
    /// A `notify_waiters` broadcast.
    All,
}

/// Wakes tasks without passing data: one at a time (storing a permit if nobody waits) or
/// all waiting tasks at once.
///
/// [`notify_one`](Self::notify_one) wakes the longest-waiting task, or stores a single
/// permit that the next [`notified`](Self::notified) consumes at once (further calls do
/// not stack). [`notify_waiters`](Self::notify_waiters) wakes every task waiting now, and
/// every `notified()` future created before the call, and stores nothing.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// let notify = Arc::new(magpie_sync::Notify::new());
/// let n2 = notify.clone();
/// let waiter = std::thread::spawn(move || magpie_sync::__doc_block_on(n2.notified()));
/// notify.notify_one(); // wakes the waiter, or is stored until it waits
/// waiter.join().unwrap();
/// ```
pub struct Notify {
    state: AtomicUsize,
    waiters: Mutex<WaitList<Grant>>,
    /// The label shown in dumps (`with_label`); read only on the pending path.
    label: Option<&'static str>,
}

impl Notify {
    /// Creates a `Notify` with no stored permit.
    ///
    /// # Examples
    ///
    /// ```
    /// let _n = magpie_sync::Notify::new();
    /// ```
    pub fn new() -> Self {
        Self {
            state: AtomicUsize::new(0),
            waiters: Mutex::new(WaitList::new()),
            label: None,
        }
    }

    /// The same `Notify`, labelled `label` in task dumps (`magpie::diag`): a task waiting
    /// in [`notified`](Self::notified) shows as waiting on `Notify` with this label.
    ///
    /// # Examples
    ///
    /// ```
    /// let n = magpie_sync::Notify::new().with_label("work-ready");
    /// n.notify_one();
    /// ```
    pub fn with_label(mut self, label: &'static str) -> Self {
        self.label = Some(label);
        self
    }

    fn lock(&self) -> MutexGuard<'_, WaitList<Grant>> {
        self.waiters.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Clears `WAITING` once the list is empty (under the lock).
    fn sync_waiting(&self, list: &WaitList<Grant>) {
        if list.is_empty() {
            self.state.fetch_and(!WAITING, Ordering::AcqRel);
        }
    }

    /// Under the lock: gives one notification to the front waiter or stores it.
    fn notify_one_locked(&self, list: &mut WaitList<Grant>, wakers: &mut WakeList) {
        if list.grant_front_with(Grant::One, wakers) {
            self.sync_waiting(list);
        } else {
            // WAITING is clear (list empty), so only NOTIFIED can change concurrently.
            self.state.fetch_or(NOTIFIED, Ordering::AcqRel);
        }
    }

    /// Wakes the longest-waiting task, or stores one permit if no task waits.
    ///
    /// # Examples
    ///
    /// ```
    /// # magpie_sync::__doc_block_on(async {
    /// let n = magpie_sync::Notify::new();
    /// n.notify_one();
    /// n.notify_one(); // permits do not stack
    /// n.notified().await; // consumes the stored permit at once
    /// # });
    /// ```
    pub fn notify_one(&self) {
        let mut s = self.state.load(Ordering::Acquire);
        loop {
            if s & WAITING != 0 {
                break;
            }
            match self.state.compare_exchange_weak(
                s,
                s | NOTIFIED,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return,
                Err(actual) => s = actual,
            }
        }
        let mut wakers = WakeList::new();
        let mut list = self.lock();
        self.notify_one_locked(&mut list, &mut wakers);
        drop(list);
        wakers.wake_all();
    }

    /// Wakes every task waiting now (and every `notified()` future created before this
    /// call). Stores no permit.
    ///
    /// # Examples
    ///
    /// ```
    /// # magpie_sync::__doc_block_on(async {
    /// let n = magpie_sync::Notify::new();
    /// let a = n.notified();
    /// let b = n.notified();
    /// n.notify_waiters();
    /// a.await;
    /// b.await;
    /// # });
    /// ```
    pub fn notify_waiters(&self) {
        let mut wakers = WakeList::new();
        let mut list = self.lock();
        self.state.fetch_add(GEN_ONE, Ordering::AcqRel);
        while list.grant_front_with(Grant::All, &mut wakers) {}
        self.sync_waiting(&list);
        drop(list);
        wakers.wake_all();
    }

    /// Waits for a notification.
    ///
    /// Completes at once if a permit is stored (consuming it, and spending one unit of the
    /// task's cooperative budget) or if `notify_waiters` ran since this call.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// let n = Arc::new(magpie_sync::Notify::new());
    /// let n2 = n.clone();
    /// let t = std::thread::spawn(move || n2.notify_one());
    /// magpie_sync::__doc_block_on(n.notified());
    /// t.join().unwrap();
    /// ```
    pub fn notified(&self) -> impl Future<Output = ()> + Send + '_ {
        Notified {
            notify: self,
            generation: self.state.load(Ordering::Acquire) & !(GEN_ONE - 1),
            waiter: Waiter::new(),
        }
    }
}

impl Default for Notify {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Notify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.state.load(Ordering::Relaxed);
        f.debug_struct("Notify")
            .field("permit_stored", &(s & NOTIFIED != 0))
            .field("waiting", &(s & WAITING != 0))
            .finish()
    }
}

struct Notified<'a> {
    notify: &'a Notify,
    generation: usize,
    /// Our node in the wait list; idle until the first pending poll.
    waiter: Waiter<Grant>,
}

impl Notified<'_> {
    /// NOTIFY-2 and NOTIFY-3 for a waiter not yet queued; `Ready` if it need not wait.
    fn try_complete(&self, s: &mut usize, waiting_too: bool) -> Poll<()> {
        let state = &self.notify.state;
        loop {
            if *s & !(GEN_ONE - 1) != self.generation {
                return Poll::Ready(());
            }
            let new = if *s & NOTIFIED != 0 {
                *s & !NOTIFIED
            } else if waiting_too {
                *s | WAITING
            } else {
                return Poll::Pending;
            };
            match state.compare_exchange_weak(*s, new, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) if *s & NOTIFIED != 0 => return Poll::Ready(()),
                Ok(_) => return Poll::Pending,
                Err(actual) => *s = actual,
            }
        }
    }
}

impl Future for Notified<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // Only shared access is needed: the waiter's node changes under the lock.
        let this = self.into_ref().get_ref();
        let unit = match coop::poll_proceed(cx) {
            Poll::Ready(unit) => unit,
            Poll::Pending => return Poll::Pending,
        };
        let notify = this.notify;
        let waiter = &this.waiter;
        if waiter.is_idle() {
            let mut s = notify.state.load(Ordering::Acquire);
            if this.try_complete(&mut s, false).is_ready() {
                unit.made_progress();
                return Poll::Ready(());
            }
        }
        let mut stale = StaleWakers::new(); // dropped after `list` (WL-6)
        let mut list = notify.lock();
        let ready = if waiter.is_idle()
            && this
                .try_complete(&mut notify.state.load(Ordering::Acquire), true)
                .is_ready()
        {
            true
        } else {
            // SAFETY: `waiter` is a field of this pinned `!Unpin` future, used with this
            // list only, and `Drop` removes it (the contract of `poll_waiter`).
            unsafe { list.poll_waiter(waiter, cx.waker(), Grant::None, &mut stale) }.is_ready()
        };
        drop(list);
        if ready {
            unit.made_progress();
            Poll::Ready(())
        } else {
            let resource = notify as *const Notify as usize;
            diag::record_wait(diag::WaitRecord::new("Notify", notify.label, resource));
            Poll::Pending
        }
    }
}

impl Drop for Notified<'_> {
    fn drop(&mut self) {
        if self.waiter.is_idle() {
            return;
        }
        let notify = self.notify;
        let mut wakers = WakeList::new();
        let mut stale = StaleWakers::new(); // dropped after `list` (WL-6)
        let mut list = notify.lock();
        // SAFETY: ours, queued or granted in this list, under its lock (WL-1).
        match unsafe { list.remove(&self.waiter, &mut stale) } {
            Removed::Granted(Grant::One) => notify.notify_one_locked(&mut list, &mut wakers),
            Removed::Granted(_) => {}
            Removed::Queued(_) => notify.sync_waiting(&list),
        }
        drop(list);
        wakers.wake_all();
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::test_util::{now, Polled};

    #[test]
    fn is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Notify>();
    }

    #[test]
    fn stays_small() {
        // `Notified` within tokio's (64 bytes); waiting allocates nothing (the waiter node
        // lives in the future). `Notify` grew from tokio's 32 bytes to 48 for its dump
        // label (`with_label`, 16 bytes inline so that neither labelling nor waiting
        // allocates; docs/diagnostics.md).
        let n = Notify::new();
        assert!(core::mem::size_of::<Notify>() <= 48);
        assert!(core::mem::size_of_val(&n.notified()) <= 56);
    }

    #[test]
    fn notify_one_stores_one_permit() {
        let n = Notify::new();
        n.notify_one();
        n.notify_one();
        assert!(now(n.notified()).is_some());
        assert!(now(n.notified()).is_none());
    }

    #[test]
    fn notify_one_wakes_in_arrival_order() {
        let n = Notify::new();
        let mut a = Polled::new(n.notified());
        let mut b = Polled::new(n.notified());
        a.pending();
        b.pending();
        n.notify_one();
        assert_eq!((a.wakes(), b.wakes()), (1, 0));
        a.ready();
        n.notify_one();
        b.ready();
        assert!(now(n.notified()).is_none(), "no permit left over");
    }

    #[test]
    fn cancel_after_grant_passes_the_notification_on() {
        let n = Notify::new();
        let mut a = Polled::new(n.notified());
        let mut b = Polled::new(n.notified());
        a.pending();
        b.pending();
        n.notify_one();
        drop(a);
        assert_eq!(b.wakes(), 1);
        b.ready();
        // With nobody to pass to, it becomes the stored permit.
        let mut c = Polled::new(n.notified());
        c.pending();
        n.notify_one();
        drop(c);
        assert!(now(n.notified()).is_some());
    }

    #[test]
    fn cancel_before_grant_leaves_no_trace() {
        let n = Notify::new();
        let mut a = Polled::new(n.notified());
        a.pending();
        drop(a);
        n.notify_one(); // fast path again: stored, not lost to a ghost waiter
        assert!(now(n.notified()).is_some());
    }

    #[test]
    fn wake_from_another_thread() {
        use crate::test_util::{block_on, scaled};
        use std::sync::Arc;
        for _ in 0..scaled(500) {
            let n = Arc::new(Notify::new());
            let n2 = n.clone();
            let t = std::thread::spawn(move || block_on(n2.notified()));
            n.notify_one();
            t.join().unwrap();
        }
    }

    #[test]
    fn notify_waiters_wakes_all_and_created_futures() {
        let n = Notify::new();
        let mut a = Polled::new(n.notified());
        a.pending();
        let mut b = Polled::new(n.notified()); // created, never polled
        n.notify_waiters();
        assert_eq!(a.wakes(), 1);
        a.ready();
        b.ready();
        assert!(now(n.notified()).is_none(), "broadcasts store nothing");
        // A broadcast grant is not passed on.
        let mut c = Polled::new(n.notified());
        c.pending();
        n.notify_waiters();
        drop(c);
        assert!(now(n.notified()).is_none());
    }
}
