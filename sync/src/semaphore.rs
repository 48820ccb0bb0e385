//! asyncio's `Semaphore` and `BoundedSemaphore`, with permits as guards.
//!
//! Both are thin layers over [`crate::raw_semaphore`], which holds the fairness and
//! cancellation protocol. `BoundedSemaphore` adds a count of permits currently held, so a
//! `release()` without a matching acquisition is caught (asyncio raises `ValueError`).

use core::fmt;

use crate::raw_semaphore::{Acquire, RawSemaphore, TryAcquire, MAX_PERMITS};
use std::sync::Arc;

mod bounded;

pub use bounded::{BoundedSemaphore, BoundedSemaphorePermit, ReleaseError};

/// A counting semaphore: asyncio's `Semaphore`.
///
/// `acquire().await` waits until a permit is free and returns it as a guard; dropping the
/// guard gives the permit back. Waiters are served in arrival order, including those that
/// ask for several permits at once ([`acquire_many`](Self::acquire_many)): a large request
/// at the front is never overtaken by smaller later ones. The uncontended acquire and
/// release are one atomic compare-and-swap each.
///
/// # Cancellation
///
/// An `acquire` future dropped before any permit was assigned to it leaves no trace; one
/// dropped after permits were assigned (fully, or partly while it waited for more) gives
/// them to the next waiter or back to the semaphore.
///
/// # Examples
///
/// The asyncio example: at most two of five workers hold a permit at once.
///
/// ```
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use magpie_sync::Semaphore;
///
/// let sem = Arc::new(Semaphore::new(2));
/// let inside = Arc::new(AtomicUsize::new(0));
/// let workers: Vec<_> = (0..5)
///     .map(|_| {
///         let (sem, inside) = (sem.clone(), inside.clone());
///         std::thread::spawn(move || {
///             magpie_sync::__doc_block_on(async move {
///                 let _permit = sem.acquire().await.unwrap();
///                 assert!(inside.fetch_add(1, Ordering::SeqCst) < 2);
///                 inside.fetch_sub(1, Ordering::SeqCst);
///             })
///         })
///     })
///     .collect();
/// for w in workers {
///     w.join().unwrap();
/// }
/// assert_eq!(sem.available_permits(), 2);
/// ```
pub struct Semaphore {
    raw: RawSemaphore,
}

/// The semaphore was closed: returned by `acquire` and friends.
///
/// # Examples
///
/// ```
/// # magpie_sync::__doc_block_on(async {
/// let s = magpie_sync::Semaphore::new(1);
/// s.close();
/// let e: magpie_sync::AcquireError = s.acquire().await.unwrap_err();
/// assert_eq!(e.to_string(), "the semaphore is closed");
/// # });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AcquireError(());

impl fmt::Display for AcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the semaphore is closed")
    }
}

impl std::error::Error for AcquireError {}

/// Why a `try_acquire` failed.
///
/// # Examples
///
/// ```
/// use magpie_sync::{Semaphore, TryAcquireError};
/// let s = Semaphore::new(1);
/// let _permit = s.try_acquire().unwrap();
/// assert_eq!(s.try_acquire().unwrap_err(), TryAcquireError::NoPermits);
/// s.close();
/// assert_eq!(s.try_acquire().unwrap_err(), TryAcquireError::Closed);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TryAcquireError {
    /// The semaphore was closed.
    Closed,
    /// Not enough permits are free (or other tasks are queued for them).
    NoPermits,
}

impl fmt::Display for TryAcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryAcquireError::Closed => f.write_str("the semaphore is closed"),
            TryAcquireError::NoPermits => f.write_str("no permits available"),
        }
    }
}

impl std::error::Error for TryAcquireError {}

impl From<TryAcquire> for TryAcquireError {
    fn from(e: TryAcquire) -> Self {
        match e {
            TryAcquire::Closed => TryAcquireError::Closed,
            TryAcquire::NoPermits => TryAcquireError::NoPermits,
        }
    }
}

impl Semaphore {
    /// The largest number of permits a semaphore can hold.
    ///
    /// # Examples
    ///
    /// ```
    /// let s = magpie_sync::Semaphore::new(magpie_sync::Semaphore::MAX_PERMITS);
    /// assert_eq!(s.available_permits(), magpie_sync::Semaphore::MAX_PERMITS);
    /// ```
    pub const MAX_PERMITS: usize = MAX_PERMITS;

    /// Creates a semaphore with `permits` free permits.
    ///
    /// # Panics
    ///
    /// If `permits` exceeds [`Semaphore::MAX_PERMITS`].
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = magpie_sync::Semaphore::new(3);
    /// assert_eq!(sem.available_permits(), 3);
    /// ```
    pub fn new(permits: usize) -> Self {
        Self {
            raw: RawSemaphore::new(permits),
        }
    }

    /// Names this semaphore in diagnostic dumps (`magpie::diag`): the label is shown beside
    /// its kind wherever a task waits on it.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = magpie_sync::Semaphore::new(2).with_label("db-pool");
    /// # let _ = sem;
    /// ```
    pub fn with_label(mut self, label: &'static str) -> Self {
        self.raw.set_label(label);
        self
    }

    /// Creates a semaphore in a `const` context (for `static`s).
    ///
    /// # Panics
    ///
    /// If `permits` exceeds [`Semaphore::MAX_PERMITS`] (at compile time).
    ///
    /// # Examples
    ///
    /// ```
    /// static LIMIT: magpie_sync::Semaphore = magpie_sync::Semaphore::const_new(4);
    /// assert_eq!(LIMIT.available_permits(), 4);
    /// ```
    #[cfg(not(loom))]
    pub const fn const_new(permits: usize) -> Self {
        Self {
            raw: RawSemaphore::const_new(permits),
        }
    }

    /// The number of permits free right now.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = magpie_sync::Semaphore::new(2);
    /// let p = sem.try_acquire().unwrap();
    /// assert_eq!(sem.available_permits(), 1);
    /// drop(p);
    /// assert_eq!(sem.available_permits(), 2);
    /// ```
    pub fn available_permits(&self) -> usize {
        self.raw.available_permits()
    }

    /// Waits for one permit.
    ///
    /// Spends one unit of the task's cooperative budget.
    ///
    /// # Errors
    ///
    /// [`AcquireError`] if the semaphore is, or gets, [closed](Self::close).
    ///
    /// # Examples
    ///
    /// ```
    /// # magpie_sync::__doc_block_on(async {
    /// let sem = magpie_sync::Semaphore::new(1);
    /// let permit = sem.acquire().await.unwrap();
    /// assert_eq!(sem.available_permits(), 0);
    /// drop(permit);
    /// assert_eq!(sem.available_permits(), 1);
    /// # });
    /// ```
    pub async fn acquire(&self) -> Result<SemaphorePermit<'_>, AcquireError> {
        self.acquire_many(1).await
    }

    /// Waits for `n` permits at once. The request keeps its place in the queue while
    /// permits trickle in, so it cannot be starved by single-permit requests.
    ///
    /// # Errors
    ///
    /// [`AcquireError`] if the semaphore is, or gets, [closed](Self::close).
    ///
    /// # Examples
    ///
    /// ```
    /// # magpie_sync::__doc_block_on(async {
    /// let sem = magpie_sync::Semaphore::new(5);
    /// let three = sem.acquire_many(3).await.unwrap();
    /// assert_eq!(three.num_permits(), 3);
    /// assert_eq!(sem.available_permits(), 2);
    /// # });
    /// ```
    pub async fn acquire_many(&self, n: usize) -> Result<SemaphorePermit<'_>, AcquireError> {
        match Acquire::new(&self.raw, n).await {
            Ok(()) => Ok(SemaphorePermit { sem: self, n }),
            Err(_) => Err(AcquireError(())),
        }
    }

    /// Takes one permit for good, shown as `kind` in dumps while it waits, and records no
    /// holder (the permit is consumed: a bounded channel's slot, `crate::diag`).
    pub(crate) async fn acquire_unheld(&self, kind: &'static str) -> Result<(), AcquireError> {
        match Acquire::new(&self.raw, 1).with_kind(kind).await {
            Ok(()) => {
                self.raw.diag.release();
                Ok(())
            }
            Err(_) => Err(AcquireError(())),
        }
    }

    /// Like [`acquire`](Self::acquire), for a semaphore in an `Arc`: the permit keeps the
    /// semaphore alive and is `'static`.
    ///
    /// # Errors
    ///
    /// [`AcquireError`] if the semaphore is, or gets, closed.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// # magpie_sync::__doc_block_on(async {
    /// let sem = Arc::new(magpie_sync::Semaphore::new(1));
    /// let permit = sem.clone().acquire_owned().await.unwrap();
    /// assert_eq!(sem.available_permits(), 0);
    /// drop(permit);
    /// # });
    /// ```
    pub async fn acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, AcquireError> {
        self.acquire_many_owned(1).await
    }

    /// Like [`acquire_many`](Self::acquire_many), returning an owned permit.
    ///
    /// # Errors
    ///
    /// [`AcquireError`] if the semaphore is, or gets, closed.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// # magpie_sync::__doc_block_on(async {
    /// let sem = Arc::new(magpie_sync::Semaphore::new(4));
    /// let permit = sem.clone().acquire_many_owned(4).await.unwrap();
    /// assert_eq!(permit.num_permits(), 4);
    /// # });
    /// ```
    pub async fn acquire_many_owned(
        self: Arc<Self>,
        n: usize,
    ) -> Result<OwnedSemaphorePermit, AcquireError> {
        match Acquire::new(&self.raw, n).await {
            Ok(()) => {}
            Err(_) => return Err(AcquireError(())),
        }
        Ok(OwnedSemaphorePermit { sem: self, n })
    }

    /// Takes one permit if one is free and nobody is queued for it.
    ///
    /// # Errors
    ///
    /// [`TryAcquireError::NoPermits`] if none is free, [`TryAcquireError::Closed`] if closed.
    ///
    /// # Examples
    ///
    /// ```
    /// use magpie_sync::{Semaphore, TryAcquireError};
    /// let sem = Semaphore::new(1);
    /// let _p = sem.try_acquire().unwrap();
    /// assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::NoPermits);
    /// ```
    pub fn try_acquire(&self) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.try_acquire_many(1)
    }

    /// Takes `n` permits if they are free and nobody is queued for them.
    ///
    /// # Errors
    ///
    /// [`TryAcquireError::NoPermits`] if too few are free, [`TryAcquireError::Closed`] if
    /// closed.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = magpie_sync::Semaphore::new(2);
    /// assert!(sem.try_acquire_many(3).is_err());
    /// assert!(sem.try_acquire_many(2).is_ok());
    /// ```
    pub fn try_acquire_many(&self, n: usize) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.raw.try_acquire_held(n)?;
        Ok(SemaphorePermit { sem: self, n })
    }

    /// Like [`try_acquire`](Self::try_acquire), returning an owned permit.
    ///
    /// # Errors
    ///
    /// As [`try_acquire`](Self::try_acquire).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// let sem = Arc::new(magpie_sync::Semaphore::new(1));
    /// let _p = sem.clone().try_acquire_owned().unwrap();
    /// assert!(sem.clone().try_acquire_owned().is_err());
    /// ```
    pub fn try_acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        self.raw.try_acquire_held(1)?;
        Ok(OwnedSemaphorePermit { sem: self, n: 1 })
    }

    /// Adds `n` permits, waking queued waiters in arrival order.
    ///
    /// # Panics
    ///
    /// If the total would exceed [`Semaphore::MAX_PERMITS`].
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = magpie_sync::Semaphore::new(0);
    /// sem.add_permits(2);
    /// assert_eq!(sem.available_permits(), 2);
    /// ```
    pub fn add_permits(&self, n: usize) {
        self.raw.release(n);
    }

    /// Adds one permit: asyncio's `Semaphore.release()`. Pair it with
    /// [`SemaphorePermit::forget`] to release a permit by hand.
    ///
    /// # Panics
    ///
    /// If the total would exceed [`Semaphore::MAX_PERMITS`].
    ///
    /// # Examples
    ///
    /// ```
    /// # magpie_sync::__doc_block_on(async {
    /// let sem = magpie_sync::Semaphore::new(1);
    /// sem.acquire().await.unwrap().forget(); // asyncio: await sem.acquire()
    /// assert_eq!(sem.available_permits(), 0);
    /// sem.release();                         // asyncio: sem.release()
    /// assert_eq!(sem.available_permits(), 1);
    /// # });
    /// ```
    pub fn release(&self) {
        self.raw.release_held(1);
    }

    /// Removes up to `n` free permits for good; returns how many were removed.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = magpie_sync::Semaphore::new(3);
    /// assert_eq!(sem.forget_permits(5), 3);
    /// assert_eq!(sem.available_permits(), 0);
    /// ```
    pub fn forget_permits(&self, n: usize) -> usize {
        self.raw.forget_permits(n)
    }

    /// Closes the semaphore: every waiting and future `acquire` fails with
    /// [`AcquireError`]. Permits already held stay valid and are still returned on drop.
    ///
    /// # Examples
    ///
    /// ```
    /// # magpie_sync::__doc_block_on(async {
    /// let sem = magpie_sync::Semaphore::new(1);
    /// sem.close();
    /// assert!(sem.is_closed());
    /// assert!(sem.acquire().await.is_err());
    /// # });
    /// ```
    pub fn close(&self) {
        self.raw.close();
    }

    /// Whether [`close`](Self::close) was called.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = magpie_sync::Semaphore::new(1);
    /// assert!(!sem.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.raw.is_closed()
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.raw, f)
    }
}

/// Permits borrowed from a [`Semaphore`]; given back when dropped.
///
/// # Examples
///
/// ```
/// let sem = magpie_sync::Semaphore::new(2);
/// let p = sem.try_acquire_many(2).unwrap();
/// assert_eq!(p.num_permits(), 2);
/// drop(p);
/// assert_eq!(sem.available_permits(), 2);
/// ```
#[must_use = "the permits are released as soon as this is dropped"]
pub struct SemaphorePermit<'a> {
    sem: &'a Semaphore,
    n: usize,
}

impl SemaphorePermit<'_> {
    /// Keeps the permits out of the semaphore for good (until someone calls
    /// [`Semaphore::release`] or [`Semaphore::add_permits`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = magpie_sync::Semaphore::new(1);
    /// sem.try_acquire().unwrap().forget();
    /// assert_eq!(sem.available_permits(), 0);
    /// ```
    pub fn forget(mut self) {
        // A forgotten permit is held by nobody: forget its holder too (`crate::diag`).
        if self.n > 0 {
            self.sem.raw.diag.release();
        }
        self.n = 0;
    }

    /// How many permits this holds.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = magpie_sync::Semaphore::new(1);
    /// assert_eq!(sem.try_acquire().unwrap().num_permits(), 1);
    /// ```
    pub fn num_permits(&self) -> usize {
        self.n
    }
}

impl Drop for SemaphorePermit<'_> {
    fn drop(&mut self) {
        self.sem.raw.release_held(self.n);
    }
}

impl fmt::Debug for SemaphorePermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphorePermit")
            .field("permits", &self.n)
            .finish()
    }
}

/// Permits from a [`Semaphore`] in an `Arc`; given back when dropped.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// let sem = Arc::new(magpie_sync::Semaphore::new(1));
/// let p: magpie_sync::OwnedSemaphorePermit = sem.clone().try_acquire_owned().unwrap();
/// assert!(Arc::ptr_eq(p.semaphore(), &sem));
/// ```
#[must_use = "the permits are released as soon as this is dropped"]
pub struct OwnedSemaphorePermit {
    sem: Arc<Semaphore>,
    n: usize,
}

impl OwnedSemaphorePermit {
    /// Keeps the permits out of the semaphore for good.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// let sem = Arc::new(magpie_sync::Semaphore::new(1));
    /// sem.clone().try_acquire_owned().unwrap().forget();
    /// assert_eq!(sem.available_permits(), 0);
    /// ```
    pub fn forget(mut self) {
        // A forgotten permit is held by nobody: forget its holder too (`crate::diag`).
        if self.n > 0 {
            self.sem.raw.diag.release();
        }
        self.n = 0;
    }

    /// How many permits this holds.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// let sem = Arc::new(magpie_sync::Semaphore::new(1));
    /// assert_eq!(sem.try_acquire_owned().unwrap().num_permits(), 1);
    /// ```
    pub fn num_permits(&self) -> usize {
        self.n
    }

    /// The semaphore the permits came from.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// let sem = Arc::new(magpie_sync::Semaphore::new(1));
    /// let p = sem.clone().try_acquire_owned().unwrap();
    /// assert_eq!(p.semaphore().available_permits(), 0);
    /// ```
    pub fn semaphore(&self) -> &Arc<Semaphore> {
        &self.sem
    }
}

impl Drop for OwnedSemaphorePermit {
    fn drop(&mut self) {
        self.sem.raw.release_held(self.n);
    }
}

impl fmt::Debug for OwnedSemaphorePermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedSemaphorePermit")
            .field("permits", &self.n)
            .finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests;
