//! A single-value channel that keeps only the latest value: [`channel`], with tokio's
//! names and semantics (for configuration, state and "latest reading" fan-out).
//!
//! Receivers [`borrow`](Receiver::borrow) the latest value or wait for a newer one with
//! [`changed`](Receiver::changed). A receiver never sees a torn value: the value is read
//! and written under a readers–writer lock.
//!
//! # Protocol
//!
//! A version counter beside the value counts sends. Each receiver remembers the version it
//! last saw. `changed` registers its waker under the waiters' lock and checks the version
//! in the same critical section; a send bumps the version (holding the value's write lock)
//! *before* it takes the waiters' lock to wake them. So a receiver either sees the new
//! version or is registered before the sender looks, and is woken: no lost wake-up. A
//! `changed` future dropped takes its registration with it and marks nothing seen.
//!
//! # Examples
//!
//! ```
//! use magpie_sync::watch;
//!
//! let (tx, mut rx) = watch::channel("v1");
//! std::thread::spawn(move || tx.send("v2").unwrap());
//! magpie_sync::__doc_block_on(async {
//!     rx.changed().await.unwrap();
//!     assert_eq!(*rx.borrow_and_update(), "v2");
//! });
//! ```

use core::fmt;
use core::future::Future;
use core::ops::Deref;
use core::pin::Pin;
use core::task::{Context, Poll};

use crate::loom::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use crate::loom::{Arc, Mutex, MutexGuard};
use crate::mpsc::wakers::{wake_all, Wakers};

// The value needs a readers–writer lock (receivers borrow concurrently); the crate's
// facade has none yet, so this module picks std's or loom's itself, the same way.
#[cfg(loom)]
use loom::sync::{RwLock, RwLockReadGuard};
#[cfg(not(loom))]
use std::sync::{RwLock, RwLockReadGuard};

pub mod error;

pub use error::{RecvError, SendError};

struct Waiters {
    rx: Wakers,
    tx: Wakers,
}

struct Shared<T> {
    value: RwLock<T>,
    /// Bumped (under the value's write lock) by every send.
    version: AtomicU64,
    /// Every sender is gone.
    closed: AtomicBool,
    receivers: AtomicUsize,
    waiters: Mutex<Waiters>,
}

impl<T> Shared<T> {
    fn waiters(&self) -> MutexGuard<'_, Waiters> {
        self.waiters.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn read(&self) -> RwLockReadGuard<'_, T> {
        self.value.read().unwrap_or_else(|e| e.into_inner())
    }

    fn wake_receivers(&self) {
        let woken = self.waiters().rx.take_all();
        wake_all(woken);
    }
}

/// Creates a watch channel holding `init`.
///
/// # Examples
///
/// ```
/// let (tx, rx) = magpie_sync::watch::channel(0);
/// tx.send(1).unwrap();
/// assert_eq!(*rx.borrow(), 1);
/// ```
pub fn channel<T>(init: T) -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared {
        value: RwLock::new(init),
        version: AtomicU64::new(0),
        closed: AtomicBool::new(false),
        receivers: AtomicUsize::new(1),
        waiters: Mutex::new(Waiters {
            rx: Wakers::new(),
            tx: Wakers::new(),
        }),
    });
    (
        Sender {
            shared: shared.clone(),
        },
        Receiver { shared, seen: 0 },
    )
}

/// A borrowed value of a watch channel: holds its read lock, so keep it short (do not
/// hold it across an `.await`; a sender waits for it).
///
/// # Examples
///
/// ```
/// let (_tx, rx) = magpie_sync::watch::channel(vec![1, 2]);
/// let v = rx.borrow();
/// assert_eq!(v.len(), 2);
/// assert!(!v.has_changed());
/// ```
pub struct Ref<'a, T> {
    guard: RwLockReadGuard<'a, T>,
    changed: bool,
}

impl<T> Ref<'_, T> {
    /// Whether this value was new to the receiver that borrowed it (unseen before the
    /// borrow).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = magpie_sync::watch::channel(1);
    /// tx.send(2).unwrap();
    /// assert!(rx.borrow_and_update().has_changed());
    /// ```
    pub fn has_changed(&self) -> bool {
        self.changed
    }
}

impl<T> Deref for Ref<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T: fmt::Debug> fmt::Debug for Ref<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// The sending half of a watch channel.
///
/// Dropping it closes the channel: [`Receiver::changed`] then fails once every value was
/// seen.
///
/// # Examples
///
/// ```
/// let (tx, rx) = magpie_sync::watch::channel(1);
/// tx.send_modify(|v| *v += 1);
/// assert_eq!(*rx.borrow(), 2);
/// ```
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

impl<T> Sender<T> {
    /// Replaces the value and notifies every receiver.
    ///
    /// # Errors
    ///
    /// [`SendError`] holding `value` if there are no receivers (the value is not stored;
    /// use [`send_replace`](Sender::send_replace) to store it anyway).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = magpie_sync::watch::channel(1);
    /// assert!(tx.send(2).is_ok());
    /// drop(rx);
    /// assert_eq!(tx.send(3).unwrap_err().0, 3);
    /// ```
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        if self.shared.receivers.load(Ordering::Acquire) == 0 {
            return Err(SendError(value));
        }
        drop(self.send_replace(value));
        Ok(())
    }

    /// Replaces the value (receivers or not), notifies every receiver and returns the old
    /// value.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = magpie_sync::watch::channel(1);
    /// assert_eq!(tx.send_replace(2), 1);
    /// ```
    pub fn send_replace(&self, value: T) -> T {
        let mut old = Some(value);
        self.send_modify(|v| old = Some(core::mem::replace(v, old.take().expect("once"))));
        old.expect("send_modify runs its closure once")
    }

    /// Modifies the value in place and notifies every receiver.
    ///
    /// # Panics
    ///
    /// If `modify` panics; the receivers are then not notified, and the value is what
    /// `modify` left.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = magpie_sync::watch::channel(vec![1]);
    /// tx.send_modify(|v| v.push(2));
    /// assert_eq!(*rx.borrow(), [1, 2]);
    /// ```
    pub fn send_modify(&self, modify: impl FnOnce(&mut T)) {
        self.send_if_modified(|v| {
            modify(v);
            true
        });
    }

    /// Modifies the value in place; notifies the receivers only if `modify` returns
    /// `true`, and returns that.
    ///
    /// # Panics
    ///
    /// If `modify` panics (the receivers are then not notified).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = magpie_sync::watch::channel(0);
    /// assert!(!tx.send_if_modified(|_| false));
    /// assert!(!rx.has_changed().unwrap());
    /// ```
    pub fn send_if_modified(&self, modify: impl FnOnce(&mut T) -> bool) -> bool {
        let mut guard = self.shared.value.write().unwrap_or_else(|e| e.into_inner());
        let modified = modify(&mut guard);
        if modified {
            self.shared.version.fetch_add(1, Ordering::Release);
        }
        drop(guard);
        if modified {
            self.shared.wake_receivers();
        }
        modified
    }

    /// Borrows the current value.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = magpie_sync::watch::channel(7);
    /// assert_eq!(*tx.borrow(), 7);
    /// ```
    pub fn borrow(&self) -> Ref<'_, T> {
        Ref {
            guard: self.shared.read(),
            changed: false,
        }
    }

    /// A new receiver, which has seen the current value.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = magpie_sync::watch::channel(1);
    /// drop(rx);
    /// let rx2 = tx.subscribe();
    /// assert!(tx.send(2).is_ok());
    /// assert!(rx2.has_changed().unwrap());
    /// ```
    pub fn subscribe(&self) -> Receiver<T> {
        self.shared.receivers.fetch_add(1, Ordering::AcqRel);
        let guard = self.shared.read();
        let seen = self.shared.version.load(Ordering::Acquire);
        drop(guard);
        Receiver {
            shared: self.shared.clone(),
            seen,
        }
    }

    /// The number of live receivers.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = magpie_sync::watch::channel(());
    /// let _rx2 = rx.clone();
    /// assert_eq!(tx.receiver_count(), 2);
    /// ```
    pub fn receiver_count(&self) -> usize {
        self.shared.receivers.load(Ordering::Acquire)
    }

    /// Whether every receiver is gone.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = magpie_sync::watch::channel(());
    /// drop(rx);
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.receiver_count() == 0
    }

    /// Waits until every receiver is gone. Cancellation-safe.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = magpie_sync::watch::channel(());
    /// std::thread::spawn(move || drop(rx));
    /// magpie_sync::__doc_block_on(tx.closed());
    /// ```
    pub async fn closed(&self) {
        WaitTx {
            shared: &self.shared,
            key: None,
        }
        .await;
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        self.shared.closed.store(true, Ordering::Release);
        self.shared.wake_receivers();
    }
}

impl<T: fmt::Debug> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("value", &*self.borrow())
            .finish()
    }
}

/// The receiving half of a watch channel; clone it for more receivers (a clone has seen
/// what the original has seen).
///
/// # Examples
///
/// ```
/// let (tx, mut rx) = magpie_sync::watch::channel(0);
/// tx.send(5).unwrap();
/// assert!(rx.has_changed().unwrap());
/// assert_eq!(*rx.borrow_and_update(), 5);
/// assert!(!rx.has_changed().unwrap());
/// ```
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
    seen: u64,
}

impl<T> Receiver<T> {
    /// Borrows the latest value without marking it seen.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = magpie_sync::watch::channel(1);
    /// tx.send(2).unwrap();
    /// assert_eq!(*rx.borrow(), 2);
    /// assert!(rx.has_changed().unwrap());
    /// ```
    pub fn borrow(&self) -> Ref<'_, T> {
        let guard = self.shared.read();
        let changed = self.shared.version.load(Ordering::Acquire) != self.seen;
        Ref { guard, changed }
    }

    /// Borrows the latest value and marks it seen.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = magpie_sync::watch::channel(1);
    /// tx.send(2).unwrap();
    /// assert_eq!(*rx.borrow_and_update(), 2);
    /// assert!(!rx.has_changed().unwrap());
    /// ```
    pub fn borrow_and_update(&mut self) -> Ref<'_, T> {
        borrow_and_update(&self.shared, &mut self.seen)
    }

    /// Whether a value this receiver has not seen was sent.
    ///
    /// # Errors
    ///
    /// [`RecvError`] if the sender is gone and no unseen value remains.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = magpie_sync::watch::channel(1);
    /// assert_eq!(rx.has_changed(), Ok(false));
    /// drop(tx);
    /// assert!(rx.has_changed().is_err());
    /// ```
    pub fn has_changed(&self) -> Result<bool, RecvError> {
        let changed = self.shared.version.load(Ordering::Acquire) != self.seen;
        if !changed && self.shared.closed.load(Ordering::Acquire) {
            return Err(RecvError(()));
        }
        Ok(changed)
    }

    /// Marks the current value seen.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = magpie_sync::watch::channel(1);
    /// tx.send(2).unwrap();
    /// rx.mark_unchanged();
    /// assert_eq!(rx.has_changed(), Ok(false));
    /// ```
    pub fn mark_unchanged(&mut self) {
        drop(self.borrow_and_update());
    }

    /// Waits for a value this receiver has not seen, and marks it seen (borrow it with
    /// [`borrow`](Receiver::borrow) afterwards). Ready at once if one was already sent.
    ///
    /// Cancellation-safe: dropped, it marks nothing seen, so a later `changed` still
    /// reports the value.
    ///
    /// # Errors
    ///
    /// [`RecvError`] once the sender is gone and every value was seen.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = magpie_sync::watch::channel(0);
    /// std::thread::spawn(move || tx.send(1).unwrap());
    /// magpie_sync::__doc_block_on(async {
    ///     rx.changed().await.unwrap();
    ///     assert_eq!(*rx.borrow(), 1);
    /// });
    /// ```
    pub async fn changed(&mut self) -> Result<(), RecvError> {
        changed(&self.shared, &mut self.seen, "watch.changed").await
    }

    /// Waits until the value satisfies `predicate` (checked on the current value first,
    /// then on every change) and returns it borrowed, marked seen.
    ///
    /// # Errors
    ///
    /// [`RecvError`] if the sender is gone before a matching value arrived.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = magpie_sync::watch::channel(0);
    /// std::thread::spawn(move || {
    ///     for i in 1..=5 {
    ///         tx.send(i).unwrap();
    ///     }
    /// });
    /// let v = magpie_sync::__doc_block_on(rx.wait_for(|v| *v == 5)).map(|r| *r);
    /// assert_eq!(v, Ok(5));
    /// ```
    pub async fn wait_for(
        &mut self,
        mut predicate: impl FnMut(&T) -> bool,
    ) -> Result<Ref<'_, T>, RecvError> {
        let Receiver { shared, seen } = self;
        loop {
            {
                // Scoped, so that the (non-`Send`) guard is not held across the await
                // below and the future is `Send` (as tokio's is).
                let r = borrow_and_update(shared, seen);
                if predicate(&r) {
                    return Ok(r);
                }
            }
            changed(shared, seen, "watch.wait_for").await?;
        }
    }

    /// Whether both receivers belong to the same channel.
    ///
    /// # Examples
    ///
    /// ```
    /// let (_tx, rx) = magpie_sync::watch::channel(());
    /// assert!(rx.same_channel(&rx.clone()));
    /// ```
    pub fn same_channel(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

fn borrow_and_update<'a, T>(shared: &'a Shared<T>, seen: &mut u64) -> Ref<'a, T> {
    let guard = shared.read();
    // Sends bump the version under the write lock: read under the read lock, it is the
    // version of the value we hold.
    let version = shared.version.load(Ordering::Acquire);
    let changed = version != *seen;
    *seen = version;
    Ref { guard, changed }
}

fn changed<'a, T>(shared: &'a Shared<T>, seen: &'a mut u64, kind: &'static str) -> WaitRx<'a, T> {
    WaitRx {
        kind,
        shared,
        seen,
        key: None,
    }
}

/// The future of `changed`: registered under the waiters' lock, unregistered on drop.
struct WaitRx<'a, T> {
    /// The kind shown in dumps ("watch.changed", "watch.wait_for").
    kind: &'static str,
    shared: &'a Shared<T>,
    seen: &'a mut u64,
    key: Option<u64>,
}

impl<T> Future for WaitRx<'_, T> {
    type Output = Result<(), RecvError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let unit = match crate::coop::poll_proceed(cx) {
            Poll::Ready(u) => u,
            Poll::Pending => return Poll::Pending,
        };
        let this = &mut *self;
        let mut g = this.shared.waiters();
        let version = this.shared.version.load(Ordering::Acquire);
        let out = if version != *this.seen {
            *this.seen = version;
            Some(Ok(()))
        } else if this.shared.closed.load(Ordering::Acquire) {
            Some(Err(RecvError(())))
        } else {
            None
        };
        let old = match out {
            Some(_) => g.rx.remove(this.key.take()),
            None => g.rx.register(&mut this.key, cx.waker()),
        };
        drop(g);
        drop(old);
        match out {
            Some(r) => {
                unit.made_progress();
                Poll::Ready(r)
            }
            None => {
                unit.restore();
                let resource = this.shared as *const Shared<T> as usize;
                crate::diag::record_wait(crate::diag::WaitRecord::new(this.kind, None, resource));
                Poll::Pending
            }
        }
    }
}

impl<T> Drop for WaitRx<'_, T> {
    fn drop(&mut self) {
        if self.key.is_some() {
            let old = self.shared.waiters().rx.remove(self.key.take());
            drop(old);
        }
    }
}

/// The future of `Sender::closed`.
struct WaitTx<'a, T> {
    shared: &'a Shared<T>,
    key: Option<u64>,
}

impl<T> Future for WaitTx<'_, T> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        let mut g = this.shared.waiters();
        if this.shared.receivers.load(Ordering::Acquire) == 0 {
            let old = g.tx.remove(this.key.take());
            drop(g);
            drop(old);
            return Poll::Ready(());
        }
        let old = g.tx.register(&mut this.key, cx.waker());
        drop(g);
        drop(old);
        Poll::Pending
    }
}

impl<T> Drop for WaitTx<'_, T> {
    fn drop(&mut self) {
        if self.key.is_some() {
            let old = self.shared.waiters().tx.remove(self.key.take());
            drop(old);
        }
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        self.shared.receivers.fetch_add(1, Ordering::AcqRel);
        Self {
            shared: self.shared.clone(),
            seen: self.seen,
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        if self.shared.receivers.fetch_sub(1, Ordering::AcqRel) == 1 {
            let woken = self.shared.waiters().tx.take_all();
            wake_all(woken);
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("value", &*self.borrow())
            .field("seen", &self.seen)
            .finish()
    }
}
