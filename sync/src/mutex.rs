//! An async mutex: asyncio's `Lock` with the data inside, as Rust users expect.
//!
//! The lock is a [`RawSemaphore`] with one permit: holding the permit is holding the lock.
//! Waiters are served in arrival order, and a `lock()` future dropped after the lock was
//! handed to it passes the lock to the next waiter (see [`crate::raw_semaphore`]).
//!
//! # Exclusive access
//!
//! **MUTEX-1.** The single permit exists once (it is never added to, the semaphore is never closed), so
//! at most one `MutexGuard`/`OwnedMutexGuard` exists at a time, and only a guard reaches
//! the data. Every `unsafe` block below cites this rule as MUTEX-1.

use core::fmt;
use core::marker::PhantomData;
use core::ops::{Deref, DerefMut};

use std::sync::Arc;

use crate::loom::UnsafeCell;
use crate::raw_semaphore::{Acquire, RawSemaphore};

/// An async mutual-exclusion lock protecting a `T`: asyncio's `Lock`.
///
/// `lock().await` waits (without blocking the thread) until the lock is free and returns a
/// guard that gives access to the data and unlocks when dropped. Waiters acquire the lock
/// in the order they started waiting (FIFO), so no task starves. The uncontended lock and
/// unlock are one atomic compare-and-swap each.
///
/// A guard may be held across `.await` points and sent to another thread (when `T: Send`).
///
/// # Cancellation
///
/// Dropping a `lock()` future before it acquired the lock leaves no trace; dropping it
/// after the lock was handed to it (it was woken but not yet polled) unlocks again, waking
/// the next waiter.
///
/// # Examples
///
/// The asyncio example: three tasks each increment a shared counter under the lock.
///
/// ```
/// use std::sync::Arc;
/// use magpie_sync::Mutex;
///
/// # magpie_sync::__doc_block_on(async {
/// let counter = Arc::new(Mutex::new(0));
/// let mut tasks = Vec::new();
/// for _ in 0..3 {
///     let counter = counter.clone();
///     tasks.push(std::thread::spawn(move || {
///         magpie_sync::__doc_block_on(async move {
///             let mut n = counter.lock().await;
///             *n += 1;
///         })
///     }));
/// }
/// for t in tasks {
///     t.join().unwrap();
/// }
/// assert_eq!(*counter.lock().await, 3);
/// # });
/// ```
pub struct Mutex<T> {
    sem: RawSemaphore,
    data: UnsafeCell<T>,
}

// SAFETY: the mutex hands out access to `T` to one guard at a time (MUTEX-1, in the
// module docs), possibly on another thread, so it only needs `T: Send`, like
// `std::sync::Mutex`.
unsafe impl<T: Send> Send for Mutex<T> {}
// SAFETY: as above: shared references to the mutex only reach `T` through the one guard.
unsafe impl<T: Send> Sync for Mutex<T> {}

/// Returned by [`Mutex::try_lock`], [`RwLock::try_read`](crate::RwLock::try_read) and
/// [`RwLock::try_write`](crate::RwLock::try_write) when the lock is not free (or others
/// are queued for it).
///
/// # Examples
///
/// ```
/// let m = magpie_sync::Mutex::new(0);
/// let _held = m.try_lock().unwrap();
/// let e: magpie_sync::TryLockError = m.try_lock().unwrap_err();
/// println!("{e}");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TryLockError(());

impl TryLockError {
    pub(crate) fn new() -> Self {
        Self(())
    }
}

impl fmt::Display for TryLockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the lock is held by another task")
    }
}

impl std::error::Error for TryLockError {}

impl<T> Mutex<T> {
    /// Creates an unlocked mutex holding `value`.
    ///
    /// # Examples
    ///
    /// ```
    /// let m = magpie_sync::Mutex::new(5);
    /// assert_eq!(m.into_inner(), 5);
    /// ```
    pub fn new(value: T) -> Self {
        Self {
            sem: RawSemaphore::new(1).kind("Mutex").single_holder(),
            data: UnsafeCell::new(value),
        }
    }

    /// Names this mutex in diagnostic dumps (`magpie::diag`): the label is shown beside
    /// its kind wherever a task waits on it.
    ///
    /// # Examples
    ///
    /// ```
    /// let m = magpie_sync::Mutex::new(0).with_label("accounts");
    /// # let _ = m;
    /// ```
    pub fn with_label(mut self, label: &'static str) -> Self {
        self.sem.set_label(label);
        self
    }

    /// Creates an unlocked mutex in a `const` context (for `static`s).
    ///
    /// # Examples
    ///
    /// ```
    /// static COUNT: magpie_sync::Mutex<u32> = magpie_sync::Mutex::const_new(0);
    /// # magpie_sync::__doc_block_on(async {
    /// *COUNT.lock().await += 1;
    /// assert_eq!(*COUNT.lock().await, 1);
    /// # });
    /// ```
    #[cfg(not(loom))]
    pub const fn const_new(value: T) -> Self {
        Self {
            sem: RawSemaphore::const_new(1).kind("Mutex").single_holder(),
            data: UnsafeCell::new(value),
        }
    }

    pub(crate) fn raw(&self) -> &RawSemaphore {
        &self.sem
    }

    /// Waits until the lock is free, then locks it.
    ///
    /// Waiters are served in arrival order. Spends one unit of the task's cooperative
    /// budget, so a task that always finds the lock free still yields now and then.
    ///
    /// # Examples
    ///
    /// ```
    /// # magpie_sync::__doc_block_on(async {
    /// let m = magpie_sync::Mutex::new(vec![1]);
    /// m.lock().await.push(2);
    /// assert_eq!(*m.lock().await, [1, 2]);
    /// # });
    /// ```
    pub async fn lock(&self) -> MutexGuard<'_, T> {
        match Acquire::new(&self.sem, 1).await {
            Ok(()) => MutexGuard::new(self),
            Err(_) => unreachable!("a mutex's semaphore is never closed"),
        }
    }

    /// Like [`lock`](Self::lock), for a mutex in an `Arc`: the guard owns a reference to
    /// the mutex, so it is `'static` and can move into a spawned task.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// # magpie_sync::__doc_block_on(async {
    /// let m = Arc::new(magpie_sync::Mutex::new(1));
    /// let mut guard = m.clone().lock_owned().await;
    /// *guard += 1;
    /// drop(guard);
    /// assert_eq!(*m.lock().await, 2);
    /// # });
    /// ```
    pub async fn lock_owned(self: Arc<Self>) -> OwnedMutexGuard<T> {
        match Acquire::new(&self.sem, 1).await {
            Ok(()) => {}
            Err(_) => unreachable!("a mutex's semaphore is never closed"),
        }
        OwnedMutexGuard {
            lock: self,
            _not_sync: PhantomData,
        }
    }

    /// Locks the mutex if it is free and nobody is queued for it.
    ///
    /// # Errors
    ///
    /// [`TryLockError`] if the lock is held or other tasks are waiting for it.
    ///
    /// # Examples
    ///
    /// ```
    /// let m = magpie_sync::Mutex::new(1);
    /// let guard = m.try_lock().unwrap();
    /// assert!(m.try_lock().is_err());
    /// drop(guard);
    /// assert!(m.try_lock().is_ok());
    /// ```
    pub fn try_lock(&self) -> Result<MutexGuard<'_, T>, TryLockError> {
        match self.sem.try_acquire_held(1) {
            Ok(()) => Ok(MutexGuard::new(self)),
            Err(_) => Err(TryLockError(())),
        }
    }

    /// Like [`try_lock`](Self::try_lock), returning an owned guard.
    ///
    /// # Errors
    ///
    /// [`TryLockError`] if the lock is held or other tasks are waiting for it.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// let m = Arc::new(magpie_sync::Mutex::new(1));
    /// let guard = m.clone().try_lock_owned().unwrap();
    /// assert_eq!(*guard, 1);
    /// ```
    pub fn try_lock_owned(self: Arc<Self>) -> Result<OwnedMutexGuard<T>, TryLockError> {
        match self.sem.try_acquire_held(1) {
            Ok(()) => Ok(OwnedMutexGuard {
                lock: self,
                _not_sync: PhantomData,
            }),
            Err(_) => Err(TryLockError(())),
        }
    }

    /// Whether the lock is currently held.
    ///
    /// # Examples
    ///
    /// ```
    /// let m = magpie_sync::Mutex::new(());
    /// let g = m.try_lock().unwrap();
    /// assert!(m.is_locked());
    /// drop(g);
    /// assert!(!m.is_locked());
    /// ```
    pub fn is_locked(&self) -> bool {
        self.sem.available_permits() == 0
    }

    /// Mutable access without locking: the `&mut self` proves no guard exists.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut m = magpie_sync::Mutex::new(1);
    /// *m.get_mut() = 2;
    /// assert_eq!(m.into_inner(), 2);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        // SAFETY: `&mut self` means no guard borrows the mutex, and an owned guard holds an
        // `Arc` that would make `&mut Mutex` impossible: we are the only accessor.
        self.data.with_mut(|p| unsafe { &mut *p })
    }

    /// Consumes the mutex, returning the data.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(magpie_sync::Mutex::new("x").into_inner(), "x");
    /// ```
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Self {
        Self::new(T::default())
    }
}

impl<T> From<T> for Mutex<T> {
    fn from(value: T) -> Self {
        Self::new(value)
    }
}

impl<T: fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Mutex");
        match self.try_lock() {
            Ok(guard) => d.field("data", &&*guard),
            Err(_) => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}

/// Access to a [`Mutex`]'s data; unlocks when dropped.
///
/// # Examples
///
/// ```
/// # magpie_sync::__doc_block_on(async {
/// let m = magpie_sync::Mutex::new(0);
/// {
///     let mut guard = m.lock().await;
///     *guard += 1;
/// } // unlocked here
/// assert_eq!(*m.lock().await, 1);
/// # });
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct MutexGuard<'a, T> {
    lock: &'a Mutex<T>,
    // `&mut T` makes the guard `Sync` only when `T: Sync`, like std's guard.
    _marker: PhantomData<&'a mut T>,
}

impl<'a, T> MutexGuard<'a, T> {
    pub(crate) fn new(lock: &'a Mutex<T>) -> Self {
        Self {
            lock,
            _marker: PhantomData,
        }
    }

    /// The mutex this guard locks (used by [`Condition`](crate::Condition) to re-lock it).
    ///
    /// # Examples
    ///
    /// ```
    /// # magpie_sync::__doc_block_on(async {
    /// let m = magpie_sync::Mutex::new(0);
    /// let g = m.lock().await;
    /// assert!(std::ptr::eq(magpie_sync::MutexGuard::mutex(&g), &m));
    /// # });
    /// ```
    pub fn mutex(this: &Self) -> &'a Mutex<T> {
        this.lock
    }
}

impl<T> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: this guard holds the mutex's only permit (MUTEX-1), so nobody else reaches the data while the borrow lives.
        self.lock.data.with(|p| unsafe { &*p })
    }
}

impl<T> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`; `&mut self` makes this the only borrow through the guard.
        self.lock.data.with_mut(|p| unsafe { &mut *p })
    }
}

impl<T> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.sem.release_held(1);
    }
}

impl<T: fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: fmt::Display> fmt::Display for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

/// A guard from [`Mutex::lock_owned`]: keeps the mutex alive through an `Arc`.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// # magpie_sync::__doc_block_on(async {
/// let m = Arc::new(magpie_sync::Mutex::new(String::new()));
/// let mut g: magpie_sync::OwnedMutexGuard<String> = m.clone().lock_owned().await;
/// g.push('a');
/// assert_eq!(g.mutex().try_lock().is_err(), true);
/// # });
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct OwnedMutexGuard<T> {
    lock: Arc<Mutex<T>>,
    // `T` makes the guard `Sync` only when `T: Sync`.
    _not_sync: PhantomData<T>,
}

impl<T> OwnedMutexGuard<T> {
    /// The mutex this guard locks.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// let m = Arc::new(magpie_sync::Mutex::new(0));
    /// let g = m.clone().try_lock_owned().unwrap();
    /// assert!(Arc::ptr_eq(g.mutex(), &m));
    /// ```
    pub fn mutex(&self) -> &Arc<Mutex<T>> {
        &self.lock
    }
}

impl<T> Deref for OwnedMutexGuard<T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: this guard holds the mutex's only permit (MUTEX-1).
        self.lock.data.with(|p| unsafe { &*p })
    }
}

impl<T> DerefMut for OwnedMutexGuard<T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`; `&mut self` makes this the only borrow through the guard.
        self.lock.data.with_mut(|p| unsafe { &mut *p })
    }
}

impl<T> Drop for OwnedMutexGuard<T> {
    fn drop(&mut self) {
        self.lock.sem.release_held(1);
    }
}

impl<T: fmt::Debug> fmt::Debug for OwnedMutexGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

#[cfg(all(test, not(loom)))]
mod tests;
