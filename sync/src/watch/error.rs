//! The errors of [`watch`](super).

use core::fmt;

/// Every receiver is gone: the value that was not stored is in field `0`.
///
/// # Examples
///
/// ```
/// let (tx, rx) = magpie_sync::watch::channel(0);
/// drop(rx);
/// assert_eq!(tx.send(1).unwrap_err().0, 1);
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
        f.write_str("watch channel closed: every receiver is gone")
    }
}

impl<T> std::error::Error for SendError<T> {}

/// The sender is gone and every value was seen.
///
/// # Examples
///
/// ```
/// let (tx, mut rx) = magpie_sync::watch::channel(0);
/// drop(tx);
/// assert!(magpie_sync::__doc_block_on(rx.changed()).is_err());
/// ```
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub struct RecvError(pub(crate) ());

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("watch channel closed: the sender is gone")
    }
}

impl std::error::Error for RecvError {}
