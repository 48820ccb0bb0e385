//! The errors of [`broadcast`](super).

use core::fmt;

/// There is no receiver: the value that was not sent is in field `0`.
///
/// # Examples
///
/// ```
/// let (tx, rx) = magpie_sync::broadcast::channel(1);
/// drop(rx);
/// assert_eq!(tx.send(5).unwrap_err().0, 5);
/// ```
#[derive(PartialEq, Eq, Clone, Copy)]
pub struct SendError<T>(pub T);

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendError").finish_non_exhaustive()
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("broadcast channel has no receiver")
    }
}

impl<T> std::error::Error for SendError<T> {}

/// Why [`Receiver::recv`](super::Receiver::recv) returned no value.
///
/// # Examples
///
/// ```
/// use magpie_sync::broadcast::error::RecvError;
/// assert_eq!(RecvError::Lagged(2).to_string(), "receiver lagged behind by 2 values");
/// ```
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum RecvError {
    /// Every sender is gone and every value was seen.
    Closed,
    /// This many values were overwritten before the receiver saw them; the next `recv`
    /// returns the oldest value still kept.
    Lagged(u64),
}

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Closed => f.write_str("broadcast channel closed"),
            Self::Lagged(n) => write!(f, "receiver lagged behind by {n} values"),
        }
    }
}

impl std::error::Error for RecvError {}

/// Why [`Receiver::try_recv`](super::Receiver::try_recv) returned no value.
///
/// # Examples
///
/// ```
/// use magpie_sync::broadcast::{self, error::TryRecvError};
/// let (_tx, mut rx) = broadcast::channel::<u8>(1);
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
/// ```
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum TryRecvError {
    /// No value now; senders remain.
    Empty,
    /// Every sender is gone and every value was seen.
    Closed,
    /// This many values were overwritten before the receiver saw them.
    Lagged(u64),
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("broadcast channel empty"),
            Self::Closed => f.write_str("broadcast channel closed"),
            Self::Lagged(n) => write!(f, "receiver lagged behind by {n} values"),
        }
    }
}

impl std::error::Error for TryRecvError {}
