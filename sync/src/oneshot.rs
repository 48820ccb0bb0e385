//! A one-shot channel: asyncio's `Future`, split into the side that sets the result and
//! the side that awaits it.
//!
//! [`channel`] returns a [`Sender`] and a [`Receiver`]. The sender sets the value once
//! ([`Sender::set_result`], which consumes it); the receiver is a future that resolves to
//! the value, or to [`RecvError`] if the sender was dropped without setting one.
//!
//! # Protocol
//!
//! **ONESHOT-1.** The value, the receiver's waker and the two "dropped" flags live under one short lock
//! (the channel is used once, so the lock is uncontended but for the single hand-over).
//! `set_result` stores the value and takes the receiver's waker in one critical section;
//! the receiver checks for the value and stores its waker in one critical section: so the
//! receiver either sees the value or is woken after it arrives. Dropping the receiver drops
//! a value that arrived unread and makes later `set_result`s return the value back.
//!
//! **ONESHOT-2.** A `set_result` refused because the receiver was closed still consumes
//! the sender: it marks the sender gone and wakes the receiver in the same way as the
//! sender's drop, so nothing is left waiting for a sender that no longer exists.
//!
//! **ONESHOT-3.** After [`Receiver::close`], a value set before the close is still
//! delivered; without one, awaiting the receiver (or `try_recv`) fails at once with
//! [`RecvError`] ([`TryRecvError::Closed`]), even while the sender is alive (tokio's rule).
//!
//! # Examples
//!
//! The asyncio example: one task sets the result, another awaits it.
//!
//! ```
//! use magpie_sync::oneshot;
//!
//! let (tx, rx) = oneshot::channel();
//! std::thread::spawn(move || tx.set_result("Future resolved!").unwrap());
//! let result = magpie_sync::__doc_block_on(rx).unwrap();
//! assert_eq!(result, "Future resolved!");
//! ```

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};

use crate::coop;
use crate::loom::{Arc, Mutex, MutexGuard};

struct State<T> {
    value: Option<T>,
    rx_waker: Option<Waker>,
    sender_gone: bool,
    receiver_gone: bool,
}

struct Inner<T> {
    state: Mutex<State<T>>,
}

impl<T> Inner<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Creates a one-shot channel.
///
/// # Examples
///
/// ```
/// let (tx, rx) = magpie_sync::oneshot::channel::<u32>();
/// tx.set_result(1).unwrap();
/// assert_eq!(magpie_sync::__doc_block_on(rx), Ok(1));
/// ```
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let inner = Arc::new(Inner {
        state: Mutex::new(State {
            value: None,
            rx_waker: None,
            sender_gone: false,
            receiver_gone: false,
        }),
    });
    (
        Sender {
            inner: Some(inner.clone()),
        },
        Receiver { inner, done: false },
    )
}

/// Sets the channel's value, once.
///
/// Dropping it without setting a value makes the receiver fail with [`RecvError`].
///
/// # Examples
///
/// ```
/// let (tx, rx) = magpie_sync::oneshot::channel::<()>();
/// drop(tx);
/// assert!(magpie_sync::__doc_block_on(rx).is_err());
/// ```
pub struct Sender<T> {
    inner: Option<Arc<Inner<T>>>,
}

impl<T> Sender<T> {
    /// Sets the value and wakes the receiver: asyncio's `Future.set_result`.
    ///
    /// # Errors
    ///
    /// Returns the value back if the receiver was dropped or closed.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = magpie_sync::oneshot::channel();
    /// drop(rx);
    /// assert_eq!(tx.set_result(5), Err(5));
    /// ```
    pub fn set_result(mut self, value: T) -> Result<(), T> {
        let inner = self.inner.take().expect("the sender is used once");
        let mut state = inner.lock();
        // Either way the sender is consumed here, so its `Drop` has nothing left to do:
        // mark it gone and wake the receiver on the refused path too (ONESHOT-2).
        state.sender_gone = true;
        let waker = state.rx_waker.take();
        let result = if state.receiver_gone {
            Err(value)
        } else {
            state.value = Some(value);
            Ok(())
        };
        drop(state);
        if let Some(w) = waker {
            w.wake();
        }
        result
    }

    /// The same as [`set_result`](Self::set_result), under the name Rust channels use.
    ///
    /// # Errors
    ///
    /// Returns the value back if the receiver was dropped or closed.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = magpie_sync::oneshot::channel();
    /// tx.send(1).unwrap();
    /// # drop(rx);
    /// ```
    pub fn send(self, value: T) -> Result<(), T> {
        self.set_result(value)
    }

    /// Whether the receiver was dropped or closed (a value sent now would be returned).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = magpie_sync::oneshot::channel::<()>();
    /// assert!(!tx.is_closed());
    /// drop(rx);
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.inner
            .as_ref()
            .is_none_or(|inner| inner.lock().receiver_gone)
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let Some(inner) = self.inner.take() else {
            return;
        };
        let mut state = inner.lock();
        state.sender_gone = true;
        let waker = state.rx_waker.take();
        drop(state);
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("closed", &self.is_closed())
            .finish()
    }
}

/// Awaits the channel's value. A future: `rx.await` gives the value, or [`RecvError`] if
/// the sender was dropped without setting one.
///
/// Awaiting spends one unit of the task's cooperative budget when the value is ready.
///
/// # Examples
///
/// ```
/// let (tx, rx) = magpie_sync::oneshot::channel();
/// std::thread::spawn(move || tx.set_result(2 + 2).unwrap());
/// assert_eq!(magpie_sync::__doc_block_on(rx), Ok(4));
/// ```
pub struct Receiver<T> {
    inner: Arc<Inner<T>>,
    done: bool,
}

/// The sender was dropped without setting a value.
///
/// # Examples
///
/// ```
/// # magpie_sync::__doc_block_on(async {
/// let (tx, rx) = magpie_sync::oneshot::channel::<u8>();
/// drop(tx);
/// let e: magpie_sync::oneshot::RecvError = rx.await.unwrap_err();
/// assert_eq!(e.to_string(), "the sender was dropped without setting a value");
/// # });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecvError(());

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the sender was dropped without setting a value")
    }
}

impl std::error::Error for RecvError {}

/// Why [`Receiver::try_recv`] returned no value.
///
/// # Examples
///
/// ```
/// use magpie_sync::oneshot::{channel, TryRecvError};
/// let (tx, mut rx) = channel::<u8>();
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
/// drop(tx);
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TryRecvError {
    /// No value yet; the sender is still alive.
    Empty,
    /// The sender was dropped without a value, or the value was already taken.
    Closed,
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("no value yet"),
            TryRecvError::Closed => f.write_str("the channel is closed"),
        }
    }
}

impl std::error::Error for TryRecvError {}

impl<T> Receiver<T> {
    /// Takes the value if it has been set, without waiting.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] while the sender may still set it,
    /// [`TryRecvError::Closed`] if it never will (or the value was already taken).
    ///
    /// # Examples
    ///
    /// ```
    /// use magpie_sync::oneshot::{channel, TryRecvError};
    /// let (tx, mut rx) = channel();
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// tx.set_result(1).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let mut state = self.inner.lock();
        match state.value.take() {
            Some(v) => {
                self.done = true;
                Ok(v)
            }
            // ONESHOT-3: after `close` no value can arrive any more.
            None if state.sender_gone || state.receiver_gone || self.done => {
                Err(TryRecvError::Closed)
            }
            None => Err(TryRecvError::Empty),
        }
    }

    /// Refuses the value: a later `set_result` returns it to the sender. A value already
    /// set before the close can still be received (by awaiting or with
    /// [`try_recv`](Self::try_recv)); without one, awaiting the receiver resolves at once
    /// to [`RecvError`], even while the sender is alive (tokio's rule, ONESHOT-3).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = magpie_sync::oneshot::channel();
    /// rx.close();
    /// assert_eq!(tx.set_result(1), Err(1));
    /// assert!(magpie_sync::__doc_block_on(rx).is_err());
    /// ```
    pub fn close(&mut self) {
        let mut state = self.inner.lock();
        state.receiver_gone = true;
        // No value can arrive now: the stored waker is not needed any more. Dropped
        // after the lock (WL-6).
        let waker = state.rx_waker.take();
        drop(state);
        drop(waker);
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let unit = match coop::poll_proceed(cx) {
            Poll::Ready(unit) => unit,
            Poll::Pending => return Poll::Pending,
        };
        // A waker replaced below is dropped after the lock, as it may re-enter (WL-6).
        let mut _stale: Option<Waker> = None;
        let mut state = this.inner.lock();
        let result = match state.value.take() {
            Some(v) => Ok(v),
            // ONESHOT-3: after `close` no value can arrive any more.
            None if state.sender_gone || state.receiver_gone || this.done => Err(RecvError(())),
            None => {
                match &mut state.rx_waker {
                    Some(w) if w.will_wake(cx.waker()) => {}
                    slot => _stale = slot.replace(cx.waker().clone()),
                }
                drop(state);
                let resource = Arc::as_ptr(&this.inner) as usize;
                crate::diag::record_wait(crate::diag::WaitRecord::new(
                    "oneshot.recv",
                    None,
                    resource,
                ));
                return Poll::Pending;
            }
        };
        this.done = true;
        drop(state);
        unit.made_progress();
        Poll::Ready(result)
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let mut state = self.inner.lock();
        state.receiver_gone = true;
        let waker = state.rx_waker.take();
        let unread = state.value.take();
        drop(state);
        // The waker's and the value's destructors run outside the lock (WL-6).
        drop(waker);
        drop(unread);
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.inner.lock();
        f.debug_struct("Receiver")
            .field("ready", &state.value.is_some())
            .field("sender_gone", &state.sender_gone)
            .finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::test_util::{block_on, Polled};

    #[test]
    fn is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Sender<Vec<u8>>>();
        assert_send_sync::<Receiver<Vec<u8>>>();
    }

    #[test]
    fn value_wakes_the_receiver_once() {
        let (tx, rx) = channel();
        let mut rx = Polled::new(rx);
        rx.pending();
        rx.pending(); // re-polling keeps one waker
        tx.set_result(3).unwrap();
        assert_eq!(rx.wakes(), 1);
        assert_eq!(rx.ready(), Ok(3));
    }

    /// Issue 13 bug 1: `rx.close(); tx.send(1)` was refused, then awaiting `rx` hung.
    #[test]
    fn refused_send_after_close_does_not_leave_the_receiver_pending() {
        let (tx, mut rx) = channel();
        rx.close();
        assert!(tx.is_closed());
        assert_eq!(tx.send(1), Err(1));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
        assert_eq!(block_on(rx), Err(RecvError(())));
    }

    /// ONESHOT-2: the refused path marks the sender gone and takes (wakes) the stored
    /// receiver waker, like the sender's drop.
    #[test]
    fn refused_send_marks_the_sender_gone_and_wakes() {
        let (tx, rx) = channel::<u8>();
        let mut rx = Polled::new(rx);
        rx.pending();
        // Close the channel from the sender's side of the state, as a racing close would.
        tx.inner.as_ref().unwrap().lock().receiver_gone = true;
        assert_eq!(tx.send(7), Err(7));
        assert_eq!(rx.wakes(), 1);
        assert_eq!(rx.ready(), Err(RecvError(())));
    }

    /// Issue 13 bug 5: after `close`, awaiting waited for the sender to be used or dropped.
    #[test]
    fn closed_receiver_fails_at_once_while_the_sender_lives() {
        let (tx, mut rx) = channel::<u8>();
        rx.close();
        assert_eq!(crate::test_util::now(&mut rx), Some(Err(RecvError(()))));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
        drop(tx);
    }

    /// ONESHOT-3: a value set before the close is still delivered.
    #[test]
    fn value_sent_before_close_is_still_received() {
        let (tx, mut rx) = channel();
        tx.send(5).unwrap();
        rx.close();
        assert_eq!(block_on(rx), Ok(5));
    }

    #[test]
    fn dropped_sender_is_an_error() {
        let (tx, rx) = channel::<u8>();
        let mut rx = Polled::new(rx);
        rx.pending();
        drop(tx);
        assert_eq!(rx.wakes(), 1);
        assert_eq!(rx.ready(), Err(RecvError(())));
    }

    #[test]
    fn dropped_receiver_returns_the_value_and_drops_unread_ones() {
        let (tx, rx) = channel();
        drop(rx);
        assert!(tx.is_closed());
        assert_eq!(tx.set_result(1), Err(1));

        let value = std::sync::Arc::new(());
        let (tx, rx) = channel();
        tx.set_result(value.clone()).unwrap();
        drop(rx);
        assert_eq!(std::sync::Arc::strong_count(&value), 1);
    }

    #[test]
    fn across_threads() {
        for _ in 0..crate::test_util::scaled(1_000) {
            let (tx, rx) = channel();
            let t = std::thread::spawn(move || tx.set_result(7).unwrap());
            assert_eq!(block_on(rx), Ok(7));
            t.join().unwrap();
        }
    }
}
