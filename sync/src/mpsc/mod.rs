//! Multi-producer, single-consumer channels: [`channel`] (bounded) and
//! [`unbounded_channel`], with tokio's names and semantics.
//!
//! The channel closes from either end. When every sender is dropped, the receiver drains
//! what is buffered and then [`Receiver::recv`] returns `None`. When the receiver is
//! dropped or [`close`](Receiver::close)d, sends fail and give the value back in
//! [`SendError`]; a receiver that closed may still drain what was sent before (and what
//! outstanding [`Permit`]s send).
//!
//! # Design (why it is fast)
//!
//! - **Slots are a semaphore.** A bounded channel of capacity `cap` owns a
//!   [`Semaphore`] of `cap` permits: a send first takes one permit (lock-free when one is
//!   free; FIFO-fair and cancellation-safe when it must wait, as every semaphore acquire
//!   here), and the receiver gives one back per value it takes out. So a `send` future
//!   dropped while waiting loses nothing, and a [`Permit`] dropped unused returns its slot.
//! - **One short lock, batched on the consumer side.** Values go into a `VecDeque` under
//!   a short lock, together with the receiver's waker. The receiver does not take that
//!   lock per value: when its own buffer runs dry it swaps its empty buffer for the shared
//!   one in one critical section and then pops values without any lock.
//! - **No wake-up per message.** A sender takes the receiver's waker only if the receiver
//!   parked (its waker is stored); a receiver that is busy draining costs senders nothing.
//!
//! # Cancellation safety
//!
//! `send().await` either completes (the value is in the channel) or, dropped, leaves the
//! value with the caller's future and no slot taken; `reserve().await` likewise.
//! `recv().await` dropped before it returned a value takes nothing out of the channel.
//!
//! # asyncio
//!
//! A bounded channel is asyncio's `Queue(maxsize)` split into its two ends, with closing:
//! see `docs/asyncio.md`. [`crate::Queue`] remains the multi-consumer queue with
//! `task_done`/`join`.
//!
//! # Examples
//!
//! ```
//! use magpie_sync::mpsc;
//!
//! magpie_sync::__doc_block_on(async {
//!     let (tx, mut rx) = mpsc::channel(16);
//!     for i in 0..3 {
//!         let tx = tx.clone();
//!         std::thread::spawn(move || magpie_sync::__doc_block_on(tx.send(i)).unwrap());
//!     }
//!     drop(tx);
//!     let mut got = Vec::new();
//!     while let Some(v) = rx.recv().await {
//!         got.push(v);
//!     }
//!     got.sort();
//!     assert_eq!(got, [0, 1, 2]);
//! });
//! ```

use core::fmt;
use core::future::poll_fn;
use core::task::{Context, Poll, Waker};
use std::collections::VecDeque;

use crate::coop;
use crate::loom::atomic::{AtomicBool, AtomicUsize, Ordering};
use crate::loom::{Arc, Mutex, MutexGuard};
use crate::{Event, Semaphore};

pub mod error;
pub(crate) mod wakers;

pub use error::{SendError, TryRecvError, TrySendError};

struct Shared<T> {
    items: VecDeque<T>,
    rx_waker: Option<Waker>,
    rx_closed: bool,
    senders_gone: bool,
    /// Permits handed out by `reserve` and not yet used or dropped.
    permits_out: usize,
}

struct Chan<T> {
    shared: Mutex<Shared<T>>,
    senders: AtomicUsize,
    /// `None` for an unbounded channel.
    slots: Option<Semaphore>,
    bound: usize,
    rx_closed: AtomicBool,
    closed_event: Event,
}

impl<T> Chan<T> {
    fn new(bound: Option<usize>) -> Arc<Self> {
        Arc::new(Chan {
            shared: Mutex::new(Shared {
                items: VecDeque::new(),
                rx_waker: None,
                rx_closed: false,
                senders_gone: false,
                permits_out: 0,
            }),
            senders: AtomicUsize::new(1),
            slots: bound.map(Semaphore::new),
            bound: bound.unwrap_or(usize::MAX),
            rx_closed: AtomicBool::new(false),
            closed_event: Event::new(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Shared<T>> {
        self.shared.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn release(&self, n: usize) {
        if let Some(slots) = &self.slots {
            if n > 0 {
                slots.add_permits(n);
            }
        }
    }

    /// Enqueues `v` (whose slot, if bounded, is already taken). `from_permit`: the slot
    /// was reserved by a [`Permit`], which may send even after the receiver closed.
    fn push(&self, v: T, from_permit: bool) -> Result<(), T> {
        let mut g = self.lock();
        if from_permit {
            g.permits_out -= 1;
        } else if g.rx_closed {
            drop(g);
            self.release(1);
            return Err(v);
        }
        g.items.push_back(v);
        let waker = g.rx_waker.take();
        drop(g);
        if let Some(w) = waker {
            w.wake();
        }
        Ok(())
    }

    fn close_rx(&self) {
        let mut g = self.lock();
        g.rx_closed = true;
        drop(g);
        self.rx_closed.store(true, Ordering::Release);
        if let Some(slots) = &self.slots {
            slots.close();
        }
        self.closed_event.set();
    }

    fn add_sender(&self) {
        self.senders.fetch_add(1, Ordering::Relaxed);
    }

    fn drop_sender(&self) {
        if self.senders.fetch_sub(1, Ordering::AcqRel) == 1 {
            let mut g = self.lock();
            g.senders_gone = true;
            let waker = g.rx_waker.take();
            drop(g);
            if let Some(w) = waker {
                w.wake();
            }
        }
    }
}

/// Creates a bounded channel holding at most `capacity` values: [`Sender::send`] waits
/// while it is full.
///
/// # Panics
///
/// If `capacity` is 0 (a rendezvous channel is not supported: use
/// [`oneshot`](crate::oneshot) per hand-over, or a capacity of 1).
///
/// # Examples
///
/// ```
/// let (tx, mut rx) = magpie_sync::mpsc::channel(1);
/// magpie_sync::__doc_block_on(async move {
///     tx.send("hi").await.unwrap();
///     assert_eq!(rx.recv().await, Some("hi"));
/// });
/// ```
pub fn channel<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    assert!(
        capacity > 0,
        "mpsc::channel: capacity must be at least 1 (use unbounded_channel() for no bound)"
    );
    let chan = Chan::new(Some(capacity));
    (
        Sender { chan: chan.clone() },
        Receiver {
            chan,
            buf: VecDeque::new(),
        },
    )
}

/// Creates an unbounded channel: [`UnboundedSender::send`] never waits.
///
/// Its receiver is the same [`Receiver`] type as a bounded channel's
/// ([`UnboundedReceiver`] is an alias), a simplification over tokio's two receiver types.
///
/// # Examples
///
/// ```
/// let (tx, mut rx) = magpie_sync::mpsc::unbounded_channel();
/// tx.send(1).unwrap();
/// tx.send(2).unwrap();
/// assert_eq!(rx.try_recv(), Ok(1));
/// ```
pub fn unbounded_channel<T>() -> (UnboundedSender<T>, UnboundedReceiver<T>) {
    let chan = Chan::new(None);
    (
        UnboundedSender { chan: chan.clone() },
        Receiver {
            chan,
            buf: VecDeque::new(),
        },
    )
}

/// The sending half of a bounded channel; clone it for more producers.
///
/// The channel closes for the receiver when every `Sender` is dropped.
///
/// # Examples
///
/// ```
/// let (tx, mut rx) = magpie_sync::mpsc::channel(4);
/// let tx2 = tx.clone();
/// tx.try_send(1).unwrap();
/// tx2.try_send(2).unwrap();
/// assert_eq!(rx.try_recv(), Ok(1));
/// ```
pub struct Sender<T> {
    chan: Arc<Chan<T>>,
}

impl<T> Sender<T> {
    fn slots(&self) -> &Semaphore {
        self.chan
            .slots
            .as_ref()
            .expect("a bounded channel has slots")
    }

    /// Sends `value`, waiting for a free slot while the channel is full.
    ///
    /// Cancellation-safe: dropped before it completed, the value was not sent (it is
    /// dropped with the future) and no slot is taken.
    ///
    /// # Errors
    ///
    /// [`SendError`] holding `value` if the receiver is gone (dropped or closed).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = magpie_sync::mpsc::channel(1);
    /// magpie_sync::__doc_block_on(async move {
    ///     tx.send(1).await.unwrap();
    ///     drop(rx);
    ///     assert_eq!(tx.send(2).await.unwrap_err().0, 2);
    /// });
    /// ```
    pub async fn send(&self, value: T) -> Result<(), SendError<T>> {
        match self.slots().acquire_unheld("mpsc.send").await {
            Ok(()) => {}
            Err(_) => return Err(SendError(value)),
        }
        self.chan.push(value, false).map_err(SendError)
    }

    /// Sends `value` if a slot is free now.
    ///
    /// # Errors
    ///
    /// [`TrySendError::Full`] if the channel is full, [`TrySendError::Closed`] if the
    /// receiver is gone; both hold `value`.
    ///
    /// # Examples
    ///
    /// ```
    /// use magpie_sync::mpsc::{self, error::TrySendError};
    /// let (tx, rx) = mpsc::channel(1);
    /// assert_eq!(tx.try_send(1), Ok(()));
    /// assert_eq!(tx.try_send(2), Err(TrySendError::Full(2)));
    /// drop(rx);
    /// assert_eq!(tx.try_send(3), Err(TrySendError::Closed(3)));
    /// ```
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        match self.slots().try_acquire() {
            Ok(p) => p.forget(),
            Err(crate::TryAcquireError::Closed) => return Err(TrySendError::Closed(value)),
            Err(crate::TryAcquireError::NoPermits) => return Err(TrySendError::Full(value)),
        }
        self.chan.push(value, false).map_err(TrySendError::Closed)
    }

    /// Waits for a free slot and reserves it: [`Permit::send`] then sends without waiting.
    ///
    /// Cancellation-safe: dropped while waiting, no slot is taken. A `Permit` dropped
    /// unused gives its slot back.
    ///
    /// # Errors
    ///
    /// [`SendError(())`](SendError) if the receiver is gone.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = magpie_sync::mpsc::channel(1);
    /// magpie_sync::__doc_block_on(async move {
    ///     let permit = tx.reserve().await.unwrap();
    ///     assert_eq!(tx.capacity(), 0);
    ///     permit.send(5);
    ///     assert_eq!(rx.recv().await, Some(5));
    /// });
    /// ```
    pub async fn reserve(&self) -> Result<Permit<'_, T>, SendError<()>> {
        match self.slots().acquire_unheld("mpsc.reserve").await {
            Ok(()) => {}
            Err(_) => return Err(SendError(())),
        }
        self.permit_for_slot().ok_or(SendError(()))
    }

    /// [`reserve`](Sender::reserve) consuming a sender: the [`OwnedPermit`] is
    /// `'static` (move it into another task) and gives the sender back when used.
    ///
    /// # Errors
    ///
    /// [`SendError`] holding the sender if the receiver is gone.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = magpie_sync::mpsc::channel(1);
    /// magpie_sync::__doc_block_on(async move {
    ///     let permit = tx.reserve_owned().await.unwrap();
    ///     let tx = permit.send(1);
    ///     assert_eq!(rx.recv().await, Some(1));
    ///     drop(tx);
    /// });
    /// ```
    pub async fn reserve_owned(self) -> Result<OwnedPermit<T>, SendError<Self>> {
        let acquired = self.slots().acquire_unheld("mpsc.reserve").await.is_ok();
        if !acquired || self.permit_for_slot().map(core::mem::forget).is_none() {
            return Err(SendError(self));
        }
        Ok(OwnedPermit { tx: Some(self) })
    }

    /// Reserves a slot if one is free now.
    ///
    /// # Errors
    ///
    /// [`TrySendError::Full(())`](TrySendError::Full) or
    /// [`TrySendError::Closed(())`](TrySendError::Closed).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = magpie_sync::mpsc::channel::<u8>(1);
    /// let p = tx.try_reserve().unwrap();
    /// assert!(tx.try_reserve().is_err());
    /// drop(p); // the slot comes back
    /// assert!(tx.try_reserve().is_ok());
    /// ```
    pub fn try_reserve(&self) -> Result<Permit<'_, T>, TrySendError<()>> {
        match self.slots().try_acquire() {
            Ok(p) => p.forget(),
            Err(crate::TryAcquireError::Closed) => return Err(TrySendError::Closed(())),
            Err(crate::TryAcquireError::NoPermits) => return Err(TrySendError::Full(())),
        }
        self.permit_for_slot().ok_or(TrySendError::Closed(()))
    }

    /// Turns a taken slot into a `Permit`, unless the receiver closed meanwhile.
    fn permit_for_slot(&self) -> Option<Permit<'_, T>> {
        let mut g = self.chan.lock();
        if g.rx_closed {
            drop(g);
            self.chan.release(1);
            return None;
        }
        g.permits_out += 1;
        Some(Permit { chan: &self.chan })
    }

    /// Waits until the receiver is gone (dropped or closed). Cancellation-safe.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = magpie_sync::mpsc::channel::<u8>(1);
    /// std::thread::spawn(move || drop(rx));
    /// magpie_sync::__doc_block_on(tx.closed());
    /// assert!(tx.is_closed());
    /// ```
    pub async fn closed(&self) {
        self.chan.closed_event.wait().await;
    }

    /// Whether the receiver is gone: every send from now on fails.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = magpie_sync::mpsc::channel::<u8>(1);
    /// assert!(!tx.is_closed());
    /// rx.close();
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.chan.rx_closed.load(Ordering::Acquire)
    }

    /// The number of free slots now (`max_capacity()` minus values buffered and slots
    /// reserved).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = magpie_sync::mpsc::channel(3);
    /// tx.try_send(1).unwrap();
    /// assert_eq!(tx.capacity(), 2);
    /// assert_eq!(tx.max_capacity(), 3);
    /// ```
    pub fn capacity(&self) -> usize {
        if self.is_closed() {
            return 0;
        }
        self.slots().available_permits()
    }

    /// The capacity the channel was created with.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = magpie_sync::mpsc::channel::<u8>(8);
    /// assert_eq!(tx.max_capacity(), 8);
    /// ```
    pub fn max_capacity(&self) -> usize {
        self.chan.bound
    }

    /// Whether both senders belong to the same channel.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = magpie_sync::mpsc::channel::<u8>(1);
    /// assert!(tx.same_channel(&tx.clone()));
    /// ```
    pub fn same_channel(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.chan, &other.chan)
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.chan.add_sender();
        Self {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        self.chan.drop_sender();
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("max_capacity", &self.chan.bound)
            .field("is_closed", &self.is_closed())
            .finish()
    }
}

/// A reserved slot of a bounded channel, from [`Sender::reserve`]: [`send`](Permit::send)
/// sends without waiting; dropped unused, the slot goes back to the channel.
///
/// # Examples
///
/// ```
/// let (tx, _rx) = magpie_sync::mpsc::channel::<u8>(1);
/// let permit = tx.try_reserve().unwrap();
/// assert_eq!(tx.capacity(), 0);
/// drop(permit);
/// assert_eq!(tx.capacity(), 1);
/// ```
pub struct Permit<'a, T> {
    chan: &'a Chan<T>,
}

impl<T> Permit<'_, T> {
    /// Sends `value` into the reserved slot. It always succeeds: if the receiver is gone
    /// the value is dropped with the channel (as tokio's).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = magpie_sync::mpsc::channel(1);
    /// tx.try_reserve().unwrap().send('x');
    /// assert_eq!(rx.try_recv(), Ok('x'));
    /// ```
    pub fn send(self, value: T) {
        let chan = self.chan;
        core::mem::forget(self);
        // A permit may send after the receiver closed; the value is then drained by a
        // later `recv`, or dropped with the channel.
        let _ = chan.push(value, true);
    }
}

impl<T> Drop for Permit<'_, T> {
    fn drop(&mut self) {
        let mut g = self.chan.lock();
        g.permits_out -= 1;
        // A closed receiver waits for the last outstanding permit before returning `None`.
        let waker = if g.rx_closed && g.permits_out == 0 {
            g.rx_waker.take()
        } else {
            None
        };
        drop(g);
        self.chan.release(1);
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl<T> fmt::Debug for Permit<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit").finish_non_exhaustive()
    }
}

/// A reserved slot owning its [`Sender`], from [`Sender::reserve_owned`]; dropped unused,
/// the slot goes back to the channel.
///
/// # Examples
///
/// ```
/// let (tx, _rx) = magpie_sync::mpsc::channel::<u8>(1);
/// let permit = magpie_sync::__doc_block_on(tx.clone().reserve_owned()).unwrap();
/// assert_eq!(tx.capacity(), 0);
/// let _tx2 = permit.release();
/// assert_eq!(tx.capacity(), 1);
/// ```
pub struct OwnedPermit<T> {
    /// `Some` until used; the permit's slot is counted in `permits_out`.
    tx: Option<Sender<T>>,
}

impl<T> OwnedPermit<T> {
    /// Sends `value` into the reserved slot and gives the sender back. Always succeeds
    /// (as [`Permit::send`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = magpie_sync::mpsc::channel(1);
    /// let p = magpie_sync::__doc_block_on(tx.reserve_owned()).unwrap();
    /// let _tx = p.send(3);
    /// assert_eq!(rx.try_recv(), Ok(3));
    /// ```
    pub fn send(mut self, value: T) -> Sender<T> {
        let tx = self
            .tx
            .take()
            .expect("an OwnedPermit holds its sender until used");
        let _ = tx.chan.push(value, true);
        tx
    }

    /// Gives the slot back unused, and the sender.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = magpie_sync::mpsc::channel::<u8>(1);
    /// let p = magpie_sync::__doc_block_on(tx.reserve_owned()).unwrap();
    /// let tx = p.release();
    /// assert_eq!(tx.capacity(), 1);
    /// ```
    pub fn release(mut self) -> Sender<T> {
        let tx = self
            .tx
            .take()
            .expect("an OwnedPermit holds its sender until used");
        drop(Permit { chan: &tx.chan });
        tx
    }
}

impl<T> Drop for OwnedPermit<T> {
    fn drop(&mut self) {
        if let Some(tx) = self.tx.take() {
            drop(Permit { chan: &tx.chan });
        }
    }
}

impl<T> fmt::Debug for OwnedPermit<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedPermit").finish_non_exhaustive()
    }
}

/// The sending half of an unbounded channel; clone it for more producers.
///
/// # Examples
///
/// ```
/// let (tx, mut rx) = magpie_sync::mpsc::unbounded_channel();
/// tx.clone().send(1).unwrap();
/// assert_eq!(rx.try_recv(), Ok(1));
/// ```
pub struct UnboundedSender<T> {
    chan: Arc<Chan<T>>,
}

impl<T> UnboundedSender<T> {
    /// Sends `value` at once (an unbounded channel is never full).
    ///
    /// # Errors
    ///
    /// [`SendError`] holding `value` if the receiver is gone.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = magpie_sync::mpsc::unbounded_channel();
    /// assert!(tx.send(1).is_ok());
    /// drop(rx);
    /// assert_eq!(tx.send(2).unwrap_err().0, 2);
    /// ```
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        self.chan.push(value, false).map_err(SendError)
    }

    /// Waits until the receiver is gone. Cancellation-safe.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = magpie_sync::mpsc::unbounded_channel::<u8>();
    /// drop(rx);
    /// magpie_sync::__doc_block_on(tx.closed());
    /// ```
    pub async fn closed(&self) {
        self.chan.closed_event.wait().await;
    }

    /// Whether the receiver is gone.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = magpie_sync::mpsc::unbounded_channel::<u8>();
    /// drop(rx);
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.chan.rx_closed.load(Ordering::Acquire)
    }

    /// Whether both senders belong to the same channel.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = magpie_sync::mpsc::unbounded_channel::<u8>();
    /// assert!(tx.same_channel(&tx.clone()));
    /// ```
    pub fn same_channel(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.chan, &other.chan)
    }
}

impl<T> Clone for UnboundedSender<T> {
    fn clone(&self) -> Self {
        self.chan.add_sender();
        Self {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Drop for UnboundedSender<T> {
    fn drop(&mut self) {
        self.chan.drop_sender();
    }
}

impl<T> fmt::Debug for UnboundedSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnboundedSender")
            .field("is_closed", &self.is_closed())
            .finish()
    }
}

/// The receiver of an unbounded channel: the same type as a bounded channel's.
pub type UnboundedReceiver<T> = Receiver<T>;

/// The receiving half of a channel (bounded or unbounded).
///
/// Dropping it closes the channel and drops every value still buffered.
///
/// # Examples
///
/// ```
/// let (tx, mut rx) = magpie_sync::mpsc::channel(2);
/// tx.try_send(1).unwrap();
/// drop(tx);
/// magpie_sync::__doc_block_on(async move {
///     assert_eq!(rx.recv().await, Some(1));
///     assert_eq!(rx.recv().await, None);
/// });
/// ```
pub struct Receiver<T> {
    chan: Arc<Chan<T>>,
    /// Values moved out of the shared queue in one swap; popped without the lock.
    buf: VecDeque<T>,
}

enum Empty {
    Open,
    Done,
}

impl<T> Receiver<T> {
    /// Takes the next value, or refills the local buffer from the shared queue in one
    /// critical section; on an empty queue stores `waker` (if given) in that same section.
    fn take(&mut self, waker: Option<&Waker>) -> Result<T, Empty> {
        if let Some(v) = self.buf.pop_front() {
            self.chan.release(1);
            return Ok(v);
        }
        let mut g = self.chan.lock();
        if !g.items.is_empty() {
            core::mem::swap(&mut g.items, &mut self.buf);
            drop(g);
            let v = self.buf.pop_front().expect("swapped in a non-empty queue");
            self.chan.release(1);
            return Ok(v);
        }
        if g.senders_gone || (g.rx_closed && g.permits_out == 0) {
            return Err(Empty::Done);
        }
        let old = match waker {
            Some(w) => match &g.rx_waker {
                Some(cur) if cur.will_wake(w) => None,
                _ => g.rx_waker.replace(w.clone()),
            },
            None => None,
        };
        drop(g);
        drop(old);
        Err(Empty::Open)
    }

    /// Receives the next value; `None` once the channel is closed and drained.
    ///
    /// Cancellation-safe: a `recv` future dropped before it completed took no value.
    /// It spends one unit of the task's cooperative budget per value.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = magpie_sync::mpsc::unbounded_channel();
    /// std::thread::spawn(move || tx.send(9).unwrap());
    /// assert_eq!(magpie_sync::__doc_block_on(rx.recv()), Some(9));
    /// ```
    pub async fn recv(&mut self) -> Option<T> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Polls for the next value: the poll form of [`recv`](Receiver::recv).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::task::{Context, Poll, Waker};
    /// let (tx, mut rx) = magpie_sync::mpsc::unbounded_channel();
    /// let mut cx = Context::from_waker(Waker::noop());
    /// assert!(rx.poll_recv(&mut cx).is_pending());
    /// tx.send(1).unwrap();
    /// assert_eq!(rx.poll_recv(&mut cx), Poll::Ready(Some(1)));
    /// ```
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let unit = match coop::poll_proceed(cx) {
            Poll::Ready(u) => u,
            Poll::Pending => return Poll::Pending,
        };
        match self.take(Some(cx.waker())) {
            Ok(v) => {
                unit.made_progress();
                Poll::Ready(Some(v))
            }
            Err(Empty::Done) => {
                unit.made_progress();
                Poll::Ready(None)
            }
            Err(Empty::Open) => {
                unit.restore();
                let resource = Arc::as_ptr(&self.chan) as usize;
                crate::diag::record_wait(crate::diag::WaitRecord::new("mpsc.recv", None, resource));
                Poll::Pending
            }
        }
    }

    /// Receives up to `limit` values into `buffer` (appended), waiting for at least one;
    /// returns how many were added: 0 only when `limit` is 0 or the channel is closed
    /// and drained. Cancellation-safe.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = magpie_sync::mpsc::channel(8);
    /// for i in 0..5 {
    ///     tx.try_send(i).unwrap();
    /// }
    /// let mut out = Vec::new();
    /// let n = magpie_sync::__doc_block_on(rx.recv_many(&mut out, 3));
    /// assert_eq!((n, out), (3, vec![0, 1, 2]));
    /// ```
    pub async fn recv_many(&mut self, buffer: &mut Vec<T>, limit: usize) -> usize {
        if limit == 0 {
            return 0;
        }
        let Some(first) = self.recv().await else {
            return 0;
        };
        buffer.push(first);
        let mut n = 1;
        while n < limit {
            match self.take(None) {
                Ok(v) => {
                    buffer.push(v);
                    n += 1;
                }
                Err(_) => break,
            }
        }
        n
    }

    /// Receives a value if one is buffered now.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] if none is buffered but senders remain,
    /// [`TryRecvError::Disconnected`] if the channel is closed and drained.
    ///
    /// # Examples
    ///
    /// ```
    /// use magpie_sync::mpsc::{self, error::TryRecvError};
    /// let (tx, mut rx) = mpsc::unbounded_channel();
    /// tx.send(1).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        self.take(None).map_err(|e| match e {
            Empty::Open => TryRecvError::Empty,
            Empty::Done => TryRecvError::Disconnected,
        })
    }

    /// Closes the channel from the receiving side: sends and reserves fail from now on,
    /// [`Sender::closed`] completes, and the receiver can still drain what was sent
    /// (including what outstanding [`Permit`]s send).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = magpie_sync::mpsc::channel(2);
    /// tx.try_send(1).unwrap();
    /// rx.close();
    /// assert!(tx.try_send(2).is_err());
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// ```
    pub fn close(&mut self) {
        self.chan.close_rx();
    }

    /// Whether the channel is closed: every sender is gone or [`close`](Receiver::close)
    /// was called. Values may remain to be drained.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = magpie_sync::mpsc::channel::<u8>(1);
    /// drop(tx);
    /// assert!(rx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        let g = self.chan.lock();
        g.senders_gone || g.rx_closed
    }

    /// The number of values buffered now.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = magpie_sync::mpsc::channel(4);
    /// tx.try_send(1).unwrap();
    /// assert_eq!(rx.len(), 1);
    /// assert!(!rx.is_empty());
    /// ```
    pub fn len(&self) -> usize {
        self.buf.len() + self.chan.lock().items.len()
    }

    /// Whether no value is buffered now.
    ///
    /// # Examples
    ///
    /// ```
    /// let (_tx, rx) = magpie_sync::mpsc::channel::<u8>(4);
    /// assert!(rx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.chan.close_rx();
        let mut g = self.chan.lock();
        let items = core::mem::take(&mut g.items);
        let waker = g.rx_waker.take();
        drop(g);
        // Values and the waker are dropped outside the lock (their drops run user code).
        drop(items);
        drop(waker);
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}

#[cfg(all(test, loom))]
mod loom_tests;
