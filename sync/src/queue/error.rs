//! The queues' error types: a failed `get`, `put`, `put_nowait`, `get_nowait` and an
//! unmatched `task_done`.

use core::fmt;

/// `get` on a queue that is closed and empty.
///
/// # Examples
///
/// ```
/// # magpie_sync::__doc_block_on(async {
/// let q = magpie_sync::Queue::<u8>::unbounded();
/// q.close();
/// let e: magpie_sync::queue::QueueClosed = q.get().await.unwrap_err();
/// assert_eq!(e.to_string(), "the queue is closed");
/// # });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueClosed(pub(super) ());

impl fmt::Display for QueueClosed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the queue is closed")
    }
}

impl std::error::Error for QueueClosed {}

/// `put` on a closed queue; holds the item that was not put.
///
/// # Examples
///
/// ```
/// # magpie_sync::__doc_block_on(async {
/// let q = magpie_sync::Queue::unbounded();
/// q.close();
/// let magpie_sync::queue::PutError(item) = q.put("job").await.unwrap_err();
/// assert_eq!(item, "job");
/// # });
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct PutError<T>(pub T);

impl<T> PutError<T> {
    /// The item that was not put.
    ///
    /// # Examples
    ///
    /// ```
    /// # magpie_sync::__doc_block_on(async {
    /// let q = magpie_sync::Queue::unbounded();
    /// q.close();
    /// assert_eq!(q.put(7).await.unwrap_err().into_inner(), 7);
    /// # });
    /// ```
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PutError").finish_non_exhaustive()
    }
}

impl<T> fmt::Display for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the queue is closed")
    }
}

impl<T> std::error::Error for PutError<T> {}

/// Why `put_nowait` failed; holds the item that was not put.
///
/// # Examples
///
/// ```
/// use magpie_sync::queue::TryPutError;
/// let q = magpie_sync::Queue::bounded(1);
/// q.put_nowait(1).unwrap();
/// assert!(matches!(q.put_nowait(2), Err(TryPutError::Full(2))));
/// q.close();
/// assert!(matches!(q.put_nowait(3), Err(TryPutError::Closed(3))));
/// ```
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TryPutError<T> {
    /// The queue is at capacity (asyncio's `QueueFull`).
    Full(T),
    /// The queue is closed (asyncio's `QueueShutDown`).
    Closed(T),
}

impl<T> TryPutError<T> {
    /// The item that was not put.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = magpie_sync::Queue::bounded(1);
    /// q.put_nowait(1).unwrap();
    /// assert_eq!(q.put_nowait(2).unwrap_err().into_inner(), 2);
    /// ```
    pub fn into_inner(self) -> T {
        match self {
            TryPutError::Full(v) | TryPutError::Closed(v) => v,
        }
    }

    /// Whether the queue was full.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = magpie_sync::Queue::bounded(1);
    /// q.put_nowait(1).unwrap();
    /// assert!(q.put_nowait(2).unwrap_err().is_full());
    /// ```
    pub fn is_full(&self) -> bool {
        matches!(self, TryPutError::Full(_))
    }

    /// Whether the queue was closed.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = magpie_sync::Queue::bounded(1);
    /// q.close();
    /// assert!(q.put_nowait(1).unwrap_err().is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        matches!(self, TryPutError::Closed(_))
    }
}

impl<T> fmt::Debug for TryPutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryPutError::Full(_) => f.write_str("Full(..)"),
            TryPutError::Closed(_) => f.write_str("Closed(..)"),
        }
    }
}

impl<T> fmt::Display for TryPutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryPutError::Full(_) => f.write_str("the queue is full"),
            TryPutError::Closed(_) => f.write_str("the queue is closed"),
        }
    }
}

impl<T> std::error::Error for TryPutError<T> {}

/// Why `get_nowait` failed.
///
/// # Examples
///
/// ```
/// use magpie_sync::queue::TryGetError;
/// let q = magpie_sync::Queue::<u8>::unbounded();
/// assert_eq!(q.get_nowait(), Err(TryGetError::Empty));
/// q.close();
/// assert_eq!(q.get_nowait(), Err(TryGetError::Closed));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TryGetError {
    /// No item is available (asyncio's `QueueEmpty`).
    Empty,
    /// The queue is closed and empty (asyncio's `QueueShutDown`).
    Closed,
}

impl fmt::Display for TryGetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryGetError::Empty => f.write_str("the queue is empty"),
            TryGetError::Closed => f.write_str("the queue is closed"),
        }
    }
}

impl std::error::Error for TryGetError {}

/// `task_done` was called more times than items were put.
///
/// # Examples
///
/// ```
/// let q = magpie_sync::Queue::<u8>::unbounded();
/// let e: magpie_sync::queue::TaskDoneError = q.try_task_done().unwrap_err();
/// assert_eq!(e.to_string(), "task_done() called too many times");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskDoneError(pub(super) ());

impl fmt::Display for TaskDoneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("task_done() called too many times")
    }
}

impl std::error::Error for TaskDoneError {}
