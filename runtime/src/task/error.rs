use std::any::Any;
use std::fmt;

use super::TaskId;

/// Why a task did not produce its output: it was cancelled, or it panicked.
///
/// # Examples
///
/// ```
/// let rt = magpie_runtime::Runtime::new().unwrap();
/// let err = rt.block_on(async {
///     magpie_runtime::spawn(async { panic!("boom") }).await.unwrap_err()
/// });
/// assert!(err.is_panic());
/// assert_eq!(*err.into_panic().downcast::<&str>().unwrap(), "boom");
/// ```
pub struct JoinError {
    id: TaskId,
    repr: Repr,
}

enum Repr {
    Cancelled,
    // The Mutex makes the error `Sync` (panic payloads are only `Send`); it is never
    // contended: the payload is only taken out by value.
    Panic(std::sync::Mutex<Box<dyn Any + Send + 'static>>),
}

impl JoinError {
    pub(crate) fn cancelled(id: TaskId) -> JoinError {
        JoinError {
            id,
            repr: Repr::Cancelled,
        }
    }

    pub(crate) fn panic(id: TaskId, payload: Box<dyn Any + Send + 'static>) -> JoinError {
        JoinError {
            id,
            repr: Repr::Panic(std::sync::Mutex::new(payload)),
        }
    }

    /// Whether the task was cancelled (aborted, or its runtime shut down first).
    ///
    /// # Examples
    ///
    /// ```
    /// magpie_runtime::block_on(async {
    ///     let h = magpie_runtime::spawn(std::future::pending::<()>());
    ///     h.abort();
    ///     let e = h.await.unwrap_err();
    ///     assert!(e.is_cancelled() && !e.is_panic());
    /// });
    /// ```
    pub fn is_cancelled(&self) -> bool {
        matches!(self.repr, Repr::Cancelled)
    }

    /// Whether the task panicked.
    ///
    /// # Examples
    ///
    /// ```
    /// magpie_runtime::block_on(async {
    ///     let h = magpie_runtime::spawn(async { panic!("boom") });
    ///     let id = h.id();
    ///     let e = h.await.unwrap_err();
    ///     assert!(e.is_panic());
    ///     assert_eq!(e.id(), id); // `id` names the task that failed
    /// });
    /// ```
    pub fn is_panic(&self) -> bool {
        matches!(self.repr, Repr::Panic(_))
    }

    /// The id of the task that failed.
    pub fn id(&self) -> TaskId {
        self.id
    }

    /// The panic payload, to resume the panic with [`std::panic::resume_unwind`].
    ///
    /// # Panics
    ///
    /// If the task was cancelled rather than panicking; use [`JoinError::try_into_panic`]
    /// to find out without panicking.
    ///
    /// # Examples
    ///
    /// ```
    /// magpie_runtime::block_on(async {
    ///     let e = magpie_runtime::spawn(async { std::panic::panic_any(7u8) }).await.unwrap_err();
    ///     let payload = e.into_panic(); // or std::panic::resume_unwind(payload)
    ///     assert_eq!(payload.downcast_ref::<u8>(), Some(&7));
    /// });
    /// ```
    pub fn into_panic(self) -> Box<dyn Any + Send + 'static> {
        self.try_into_panic()
            .expect("JoinError::into_panic called on a cancelled task; check is_panic() first or use try_into_panic()")
    }

    /// The panic payload, or the error back if the task was cancelled.
    ///
    /// # Errors
    ///
    /// Returns `Err(self)` when the task was cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// magpie_runtime::block_on(async {
    ///     let h = magpie_runtime::spawn(std::future::pending::<()>());
    ///     h.abort();
    ///     let e = h.await.unwrap_err();
    ///     assert!(e.try_into_panic().unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send + 'static>, JoinError> {
        match self.repr {
            Repr::Panic(p) => Ok(p.into_inner().unwrap_or_else(|e| e.into_inner())),
            Repr::Cancelled => Err(self),
        }
    }
}

fn panic_message(payload: &(dyn Any + Send)) -> Option<&str> {
    payload
        .downcast_ref::<&'static str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Cancelled => write!(f, "task {} was cancelled", self.id),
            Repr::Panic(p) => {
                let guard = p.lock().unwrap_or_else(|e| e.into_inner());
                match panic_message(&**guard) {
                    Some(msg) => write!(f, "task {} panicked with message {:?}", self.id, msg),
                    None => write!(f, "task {} panicked", self.id),
                }
            }
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Cancelled => write!(f, "JoinError::Cancelled({:?})", self.id),
            Repr::Panic(_) => write!(f, "JoinError::Panic({:?}, {})", self.id, self),
        }
    }
}

impl std::error::Error for JoinError {}

impl From<JoinError> for std::io::Error {
    fn from(e: JoinError) -> std::io::Error {
        std::io::Error::other(e.to_string())
    }
}
