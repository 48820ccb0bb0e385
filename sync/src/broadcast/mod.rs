//! A multi-producer, multi-consumer broadcast channel: [`channel`], with tokio's names and
//! semantics. Every receiver sees every value sent after it subscribed.
//!
//! The channel keeps the last `capacity` values in a ring. A receiver that falls more than
//! `capacity` values behind gets [`RecvError::Lagged(n)`](RecvError::Lagged) once (`n`
//! values it missed) and then continues from the oldest value still kept. Once every
//! sender is dropped, receivers drain what they have not seen and then get
//! [`RecvError::Closed`].
//!
//! # Protocol
//!
//! The ring, the write position and the waiting receivers' wakers sit under one short
//! lock. A receiver reads its position, the ring and (when it has caught up) registers its
//! waker in one critical section; a send writes the ring, advances the position and takes
//! every waker in one (waking them after unlocking). So no receiver misses a send, and a
//! `recv` future dropped before it returned takes nothing: the receiver's position only
//! moves when a value (or a `Lagged` error) is returned.
//!
//! To keep that lock short for many receivers, a receiver clones up to 32 values it has
//! not seen into its own buffer in one critical section and returns them one by one.
//!
//! Differences from tokio, named here: the capacity is exact (tokio rounds it up to a
//! power of two), values stay in the ring until overwritten (tokio drops one as soon as
//! every receiver saw it), and `T::clone` runs under the ring's lock.
//!
//! # Examples
//!
//! ```
//! use magpie_sync::broadcast;
//!
//! let (tx, mut rx1) = broadcast::channel(16);
//! let mut rx2 = tx.subscribe();
//! tx.send(10).unwrap();
//! magpie_sync::__doc_block_on(async {
//!     assert_eq!(rx1.recv().await, Ok(10));
//!     assert_eq!(rx2.recv().await, Ok(10));
//! });
//! ```

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::collections::VecDeque;

use crate::loom::{Arc, Mutex, MutexGuard};
use crate::mpsc::wakers::{wake_all, Wakers};

pub mod error;

pub use error::{RecvError, SendError, TryRecvError};

/// How many values a receiver copies out per critical section.
const BATCH: u64 = 32;

struct State<T> {
    ring: Vec<Option<T>>,
    /// The position the next send writes (the number of values ever sent).
    tail: u64,
    senders: usize,
    receivers: usize,
    wakers: Wakers,
}

struct Shared<T> {
    state: Mutex<State<T>>,
    capacity: usize,
}

impl<T> Shared<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Creates a broadcast channel keeping the last `capacity` values.
///
/// # Panics
///
/// If `capacity` is 0 (a receiver could never see a value: use a capacity of at least 1,
/// or a [`watch`](crate::watch) channel for "only the latest value").
///
/// # Examples
///
/// ```
/// let (tx, mut rx) = magpie_sync::broadcast::channel(2);
/// assert_eq!(tx.send("a"), Ok(1)); // one receiver
/// assert_eq!(rx.try_recv(), Ok("a"));
/// ```
pub fn channel<T: Clone>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    assert!(
        capacity > 0,
        "broadcast::channel: capacity must be at least 1 (use watch::channel for \"latest value only\")"
    );
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            ring: (0..capacity).map(|_| None).collect(),
            tail: 0,
            senders: 1,
            receivers: 1,
            wakers: Wakers::new(),
        }),
        capacity,
    });
    (
        Sender {
            shared: shared.clone(),
        },
        Receiver {
            shared,
            next: 0,
            buf: VecDeque::new(),
        },
    )
}

/// The sending half of a broadcast channel; clone it for more producers.
///
/// # Examples
///
/// ```
/// let (tx, _rx) = magpie_sync::broadcast::channel::<u8>(4);
/// let tx2 = tx.clone();
/// assert_eq!(tx2.receiver_count(), 1);
/// ```
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

impl<T> Sender<T> {
    /// Sends `value` to every current receiver and returns how many there are. Never waits:
    /// a slow receiver lags instead.
    ///
    /// # Errors
    ///
    /// [`SendError`] holding `value` if there is no receiver.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = magpie_sync::broadcast::channel(1);
    /// assert_eq!(tx.send(1), Ok(1));
    /// drop(rx);
    /// assert_eq!(tx.send(2).unwrap_err().0, 2);
    /// ```
    pub fn send(&self, value: T) -> Result<usize, SendError<T>> {
        let mut g = self.shared.lock();
        if g.receivers == 0 {
            return Err(SendError(value));
        }
        let slot = (g.tail % self.shared.capacity as u64) as usize;
        let old = g.ring[slot].replace(value);
        g.tail += 1;
        let n = g.receivers;
        let woken = if g.wakers.is_empty() {
            Vec::new()
        } else {
            g.wakers.take_all()
        };
        drop(g);
        drop(old);
        wake_all(woken);
        Ok(n)
    }

    /// A new receiver that sees every value sent from now on.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = magpie_sync::broadcast::channel(4);
    /// tx.send(1).unwrap();
    /// let mut late = tx.subscribe();
    /// tx.send(2).unwrap();
    /// assert_eq!(late.try_recv(), Ok(2));
    /// ```
    pub fn subscribe(&self) -> Receiver<T> {
        new_receiver(&self.shared)
    }

    /// The number of live receivers.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = magpie_sync::broadcast::channel::<u8>(4);
    /// let _rx2 = tx.subscribe();
    /// assert_eq!(tx.receiver_count(), 2);
    /// ```
    pub fn receiver_count(&self) -> usize {
        self.shared.lock().receivers
    }

    /// Whether both senders belong to the same channel.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = magpie_sync::broadcast::channel::<u8>(1);
    /// assert!(tx.same_channel(&tx.clone()));
    /// ```
    pub fn same_channel(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

fn new_receiver<T>(shared: &Arc<Shared<T>>) -> Receiver<T> {
    let mut g = shared.lock();
    g.receivers += 1;
    let next = g.tail;
    drop(g);
    Receiver {
        shared: shared.clone(),
        next,
        buf: VecDeque::new(),
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.shared.lock().senders += 1;
        Self {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let mut g = self.shared.lock();
        g.senders -= 1;
        let woken = if g.senders == 0 {
            g.wakers.take_all()
        } else {
            Vec::new()
        };
        drop(g);
        wake_all(woken);
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("capacity", &self.shared.capacity)
            .finish_non_exhaustive()
    }
}

/// The receiving half of a broadcast channel.
///
/// # Examples
///
/// ```
/// use magpie_sync::broadcast::{self, error::RecvError};
/// let (tx, mut rx) = broadcast::channel(2);
/// for i in 0..5 {
///     tx.send(i).unwrap();
/// }
/// // 5 sent, 2 kept: 3 were missed.
/// assert_eq!(rx.try_recv(), Err(broadcast::error::TryRecvError::Lagged(3)));
/// assert_eq!(rx.try_recv(), Ok(3));
/// drop(tx);
/// magpie_sync::__doc_block_on(async {
///     assert_eq!(rx.recv().await, Ok(4));
///     assert_eq!(rx.recv().await, Err(RecvError::Closed));
/// });
/// ```
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
    /// The position of the next value to copy out of the ring.
    next: u64,
    /// Values copied out and not yet returned (positions `next - buf.len() .. next`).
    buf: VecDeque<T>,
}

enum Poll2<T> {
    Value(T),
    Lagged(u64),
    Closed,
    Empty,
}

impl<T: Clone> Receiver<T> {
    fn take(&mut self, cx: Option<(&mut Option<u64>, &mut Context<'_>)>) -> Poll2<T> {
        if let Some(v) = self.buf.pop_front() {
            return Poll2::Value(v);
        }
        let cap = self.shared.capacity as u64;
        let mut g = self.shared.lock();
        let oldest = g.tail.saturating_sub(cap);
        if self.next < oldest {
            let missed = oldest - self.next;
            self.next = oldest;
            return Poll2::Lagged(missed);
        }
        if self.next < g.tail {
            let end = g.tail.min(self.next + BATCH);
            for pos in self.next..end {
                let v = g.ring[(pos % cap) as usize]
                    .clone()
                    .expect("every position between oldest and tail holds a value");
                self.buf.push_back(v);
            }
            self.next = end;
            drop(g);
            return Poll2::Value(self.buf.pop_front().expect("copied at least one"));
        }
        if g.senders == 0 {
            return Poll2::Closed;
        }
        if let Some((key, cx)) = cx {
            let old = g.wakers.register(key, cx.waker());
            drop(g);
            drop(old);
        }
        Poll2::Empty
    }

    /// Receives the next value.
    ///
    /// Cancellation-safe: a `recv` future dropped before it returned consumed nothing.
    /// It spends one unit of the task's cooperative budget per value.
    ///
    /// # Errors
    ///
    /// [`RecvError::Lagged(n)`](RecvError::Lagged) once if `n` values were overwritten
    /// before this receiver saw them (the next `recv` returns the oldest kept value);
    /// [`RecvError::Closed`] once every sender is gone and every value was seen.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = magpie_sync::broadcast::channel(1);
    /// std::thread::spawn(move || tx.send(3).unwrap());
    /// assert_eq!(magpie_sync::__doc_block_on(rx.recv()), Ok(3));
    /// ```
    pub fn recv(&mut self) -> impl Future<Output = Result<T, RecvError>> + '_ {
        Recv {
            rx: self,
            key: None,
        }
    }

    /// Receives a value if one is ready now.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`], [`TryRecvError::Lagged`] or [`TryRecvError::Closed`].
    ///
    /// # Examples
    ///
    /// ```
    /// use magpie_sync::broadcast::{self, error::TryRecvError};
    /// let (tx, mut rx) = broadcast::channel::<u8>(1);
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// drop(tx);
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        match self.take(None) {
            Poll2::Value(v) => Ok(v),
            Poll2::Lagged(n) => Err(TryRecvError::Lagged(n)),
            Poll2::Closed => Err(TryRecvError::Closed),
            Poll2::Empty => Err(TryRecvError::Empty),
        }
    }
}

impl<T> Receiver<T> {
    /// A new receiver on the same channel that sees every value sent from now on (not the
    /// ones this receiver has yet to see).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = magpie_sync::broadcast::channel(4);
    /// tx.send(1).unwrap();
    /// let mut rx2 = rx.resubscribe();
    /// tx.send(2).unwrap();
    /// assert_eq!(rx2.try_recv(), Ok(2));
    /// ```
    pub fn resubscribe(&self) -> Self {
        new_receiver(&self.shared)
    }

    /// How many sent values this receiver has not returned yet (at most the capacity,
    /// plus what it already copied out).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = magpie_sync::broadcast::channel(4);
    /// tx.send(1).unwrap();
    /// assert_eq!(rx.len(), 1);
    /// assert!(!rx.is_empty());
    /// ```
    pub fn len(&self) -> usize {
        let tail = self.shared.lock().tail;
        let cap = self.shared.capacity as u64;
        let oldest = tail.saturating_sub(cap);
        (tail - self.next.max(oldest)) as usize + self.buf.len()
    }

    /// Whether [`len`](Receiver::len) is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// let (_tx, rx) = magpie_sync::broadcast::channel::<u8>(4);
    /// assert!(rx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.shared.lock().receivers -= 1;
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("next", &self.next)
            .finish_non_exhaustive()
    }
}

/// The future of [`Receiver::recv`]: registered under the ring's lock, unregistered on
/// drop.
struct Recv<'a, T> {
    rx: &'a mut Receiver<T>,
    key: Option<u64>,
}

impl<T: Clone> Future for Recv<'_, T> {
    type Output = Result<T, RecvError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let unit = match crate::coop::poll_proceed(cx) {
            Poll::Ready(u) => u,
            Poll::Pending => return Poll::Pending,
        };
        let this = &mut *self;
        let out = match this.rx.take(Some((&mut this.key, cx))) {
            Poll2::Value(v) => Ok(v),
            Poll2::Lagged(n) => Err(RecvError::Lagged(n)),
            Poll2::Closed => Err(RecvError::Closed),
            Poll2::Empty => {
                unit.restore();
                let resource = Arc::as_ptr(&this.rx.shared) as usize;
                crate::diag::record_wait(crate::diag::WaitRecord::new(
                    "broadcast.recv",
                    None,
                    resource,
                ));
                return Poll::Pending;
            }
        };
        unit.made_progress();
        Poll::Ready(out)
    }
}

impl<T> Drop for Recv<'_, T> {
    fn drop(&mut self) {
        if self.key.is_some() {
            let old = self.rx.shared.lock().wakers.remove(self.key.take());
            drop(old);
        }
    }
}

impl<T> fmt::Debug for Recv<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recv").field("key", &self.key).finish()
    }
}
