//! asyncio's `BoundedSemaphore`: a [`Semaphore`] that also counts the permits currently
//! held, so a `release()` without a matching acquisition is caught.

use core::fmt;

use super::{AcquireError, Semaphore, TryAcquireError};
use crate::loom::atomic::{AtomicUsize, Ordering};

/// A semaphore that refuses to be released past its initial value: asyncio's
/// `BoundedSemaphore`.
///
/// It works like [`Semaphore`], and also keeps count of the permits currently held, so
/// [`release`](Self::release) without a matching acquisition is reported as a
/// [`ReleaseError`] ("BoundedSemaphore released too many times") instead of silently
/// raising the limit.
///
/// # Examples
///
/// The asyncio example: after every permit came back, one more release is an error.
///
/// ```
/// # magpie_sync::__doc_block_on(async {
/// let sem = magpie_sync::BoundedSemaphore::new(2);
/// for _ in 0..4 {
///     let _permit = sem.acquire().await.unwrap();
/// }
/// let err = sem.release().unwrap_err();
/// assert_eq!(err.to_string(), "BoundedSemaphore released too many times");
/// # });
/// ```
pub struct BoundedSemaphore {
    sem: Semaphore,
    bound: usize,
    /// Permits acquired and not yet given back (by a guard's drop or `release`).
    held: AtomicUsize,
}

/// [`BoundedSemaphore::release`] was called with no permit held.
///
/// # Examples
///
/// ```
/// let s = magpie_sync::BoundedSemaphore::new(1);
/// let e: magpie_sync::ReleaseError = s.release().unwrap_err();
/// assert!(e.to_string().contains("released too many times"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReleaseError(());

impl fmt::Display for ReleaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BoundedSemaphore released too many times")
    }
}

impl std::error::Error for ReleaseError {}

impl BoundedSemaphore {
    /// Creates a semaphore with `bound` permits, which is also the most it can ever hold.
    ///
    /// # Panics
    ///
    /// If `bound` exceeds [`Semaphore::MAX_PERMITS`].
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = magpie_sync::BoundedSemaphore::new(2);
    /// assert_eq!(sem.bound(), 2);
    /// ```
    pub fn new(bound: usize) -> Self {
        Self {
            sem: Semaphore {
                raw: crate::raw_semaphore::RawSemaphore::new(bound).kind("BoundedSemaphore"),
            },
            bound,
            held: AtomicUsize::new(0),
        }
    }

    /// Names this semaphore in diagnostic dumps (`magpie::diag`): the label is shown beside
    /// its kind wherever a task waits on it.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = magpie_sync::BoundedSemaphore::new(2).with_label("slots");
    /// # let _ = sem;
    /// ```
    pub fn with_label(mut self, label: &'static str) -> Self {
        self.sem.raw.set_label(label);
        self
    }

    /// The initial (and largest) number of permits.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(magpie_sync::BoundedSemaphore::new(3).bound(), 3);
    /// ```
    pub fn bound(&self) -> usize {
        self.bound
    }

    /// The number of permits free right now.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = magpie_sync::BoundedSemaphore::new(2);
    /// let _p = sem.try_acquire().unwrap();
    /// assert_eq!(sem.available_permits(), 1);
    /// ```
    pub fn available_permits(&self) -> usize {
        self.sem.available_permits()
    }

    fn permit(&self) -> BoundedSemaphorePermit<'_> {
        self.held.fetch_add(1, Ordering::AcqRel);
        BoundedSemaphorePermit {
            sem: self,
            live: true,
        }
    }

    /// Waits for a permit.
    ///
    /// # Errors
    ///
    /// [`AcquireError`] if the semaphore is, or gets, [closed](Self::close).
    ///
    /// # Examples
    ///
    /// ```
    /// # magpie_sync::__doc_block_on(async {
    /// let sem = magpie_sync::BoundedSemaphore::new(1);
    /// let p = sem.acquire().await.unwrap();
    /// assert_eq!(sem.available_permits(), 0);
    /// # drop(p);
    /// # });
    /// ```
    pub async fn acquire(&self) -> Result<BoundedSemaphorePermit<'_>, AcquireError> {
        self.sem.acquire().await?.forget();
        Ok(self.permit())
    }

    /// Takes a permit if one is free and nobody is queued for it.
    ///
    /// # Errors
    ///
    /// As [`Semaphore::try_acquire`].
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = magpie_sync::BoundedSemaphore::new(1);
    /// let _p = sem.try_acquire().unwrap();
    /// assert!(sem.try_acquire().is_err());
    /// ```
    pub fn try_acquire(&self) -> Result<BoundedSemaphorePermit<'_>, TryAcquireError> {
        self.sem.try_acquire()?.forget();
        Ok(self.permit())
    }

    /// Gives back one permit that was acquired and [forgotten](BoundedSemaphorePermit::forget):
    /// asyncio's `release()`.
    ///
    /// # Errors
    ///
    /// [`ReleaseError`] if no permit is held, which would raise the count past the bound.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = magpie_sync::BoundedSemaphore::new(1);
    /// sem.try_acquire().unwrap().forget();
    /// assert!(sem.release().is_ok());
    /// assert!(sem.release().is_err());
    /// assert_eq!(sem.available_permits(), 1);
    /// ```
    pub fn release(&self) -> Result<(), ReleaseError> {
        let mut held = self.held.load(Ordering::Acquire);
        loop {
            if held == 0 {
                return Err(ReleaseError(()));
            }
            match self.held.compare_exchange_weak(
                held,
                held - 1,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => break,
                Err(actual) => held = actual,
            }
        }
        self.sem.release();
        Ok(())
    }

    /// Closes the semaphore, like [`Semaphore::close`].
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = magpie_sync::BoundedSemaphore::new(1);
    /// sem.close();
    /// assert!(sem.try_acquire().is_err());
    /// ```
    pub fn close(&self) {
        self.sem.close();
    }

    /// Whether [`close`](Self::close) was called.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!magpie_sync::BoundedSemaphore::new(1).is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.sem.is_closed()
    }
}

impl fmt::Debug for BoundedSemaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoundedSemaphore")
            .field("bound", &self.bound)
            .field("available", &self.available_permits())
            .finish()
    }
}

/// A permit from a [`BoundedSemaphore`]; given back when dropped.
///
/// # Examples
///
/// ```
/// let sem = magpie_sync::BoundedSemaphore::new(1);
/// let p: magpie_sync::BoundedSemaphorePermit<'_> = sem.try_acquire().unwrap();
/// drop(p);
/// assert_eq!(sem.available_permits(), 1);
/// ```
#[must_use = "the permit is released as soon as this is dropped"]
pub struct BoundedSemaphorePermit<'a> {
    sem: &'a BoundedSemaphore,
    live: bool,
}

impl BoundedSemaphorePermit<'_> {
    /// Keeps the permit held; give it back later with [`BoundedSemaphore::release`].
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = magpie_sync::BoundedSemaphore::new(1);
    /// sem.try_acquire().unwrap().forget();
    /// assert_eq!(sem.available_permits(), 0);
    /// sem.release().unwrap();
    /// ```
    pub fn forget(mut self) {
        self.live = false;
    }
}

impl Drop for BoundedSemaphorePermit<'_> {
    fn drop(&mut self) {
        if self.live {
            self.sem.held.fetch_sub(1, Ordering::AcqRel);
            self.sem.sem.release();
        }
    }
}

impl fmt::Debug for BoundedSemaphorePermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoundedSemaphorePermit")
            .finish_non_exhaustive()
    }
}
