//! An async reader-writer lock, writer-preferring.
//!
//! The lock is a [`RawSemaphore`] with [`MAX_READS`] permits: a reader takes one, a writer
//! takes all of them. Because the semaphore is FIFO and lets a queued request collect
//! permits as they are released (see [`crate::raw_semaphore`], SEM-2 and SEM-3), a writer
//! that queues behind active readers stops later readers from entering and receives the
//! readers' permits as they leave: writers never starve.
//!
//! # Access rule
//!
//! **RW-1.** A read guard holds one permit, a write guard all [`MAX_READS`]. Permits are never added
//! or removed otherwise, so while a write guard exists no other guard does, and while any
//! read guard exists no write guard does. The `unsafe` blocks below cite this rule as RW-1.

use core::fmt;
use core::marker::PhantomData;
use core::ops::{Deref, DerefMut};

use crate::loom::UnsafeCell;
use crate::mutex::TryLockError;
use crate::raw_semaphore::{Acquire, RawSemaphore};

/// How many readers may hold the lock at once.
pub(crate) const MAX_READS: usize = (u32::MAX >> 3) as usize;

/// An async reader-writer lock protecting a `T`.
///
/// Any number of readers or one writer hold the lock at a time. Requests are served in
/// arrival order, so a waiting writer is not overtaken by readers that come after it
/// (writer-preferring: writers do not starve), and readers queued behind a writer enter
/// together once it leaves.
///
/// # Cancellation
///
/// A `read()`/`write()` future dropped before the lock was granted leaves no trace; one
/// dropped after (or, for a writer, while it was collecting readers' permits) passes what
/// it had on to the next waiter.
///
/// # Examples
///
/// ```
/// # magpie_sync::__doc_block_on(async {
/// let lock = magpie_sync::RwLock::new(5);
/// {
///     let r1 = lock.read().await;
///     let r2 = lock.read().await;
///     assert_eq!(*r1 + *r2, 10);
/// }
/// *lock.write().await += 1;
/// assert_eq!(*lock.read().await, 6);
/// # });
/// ```
pub struct RwLock<T> {
    sem: RawSemaphore,
    data: UnsafeCell<T>,
}

// SAFETY: a write guard gives `&mut T` to one task at a time, possibly on another thread
// (`T: Send`); read guards share `&T` between threads (`T: Sync`). RW-1 above.
unsafe impl<T: Send> Send for RwLock<T> {}
// SAFETY: as above.
unsafe impl<T: Send + Sync> Sync for RwLock<T> {}

impl<T> RwLock<T> {
    /// Creates an unlocked lock holding `value`.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = magpie_sync::RwLock::new(1);
    /// assert_eq!(lock.into_inner(), 1);
    /// ```
    pub fn new(value: T) -> Self {
        Self {
            sem: RawSemaphore::new(MAX_READS).kind("RwLock"),
            data: UnsafeCell::new(value),
        }
    }

    /// Names this lock in diagnostic dumps (`magpie::diag`): the label is shown beside
    /// its kind wherever a task waits on it.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = magpie_sync::RwLock::new(0).with_label("config");
    /// # let _ = lock;
    /// ```
    pub fn with_label(mut self, label: &'static str) -> Self {
        self.sem.set_label(label);
        self
    }

    fn acquired(&self, r: Result<(), crate::raw_semaphore::Closed>) {
        if r.is_err() {
            unreachable!("an RwLock's semaphore is never closed");
        }
    }

    /// Waits for shared access.
    ///
    /// Spends one unit of the task's cooperative budget.
    ///
    /// # Examples
    ///
    /// ```
    /// # magpie_sync::__doc_block_on(async {
    /// let lock = magpie_sync::RwLock::new("x");
    /// assert_eq!(*lock.read().await, "x");
    /// # });
    /// ```
    pub async fn read(&self) -> RwLockReadGuard<'_, T> {
        self.acquired(Acquire::new(&self.sem, 1).with_kind("RwLock.read").await);
        RwLockReadGuard {
            lock: self,
            _marker: PhantomData,
        }
    }

    /// Waits for exclusive access.
    ///
    /// Spends one unit of the task's cooperative budget.
    ///
    /// # Examples
    ///
    /// ```
    /// # magpie_sync::__doc_block_on(async {
    /// let lock = magpie_sync::RwLock::new(vec![1]);
    /// lock.write().await.push(2);
    /// assert_eq!(lock.read().await.len(), 2);
    /// # });
    /// ```
    pub async fn write(&self) -> RwLockWriteGuard<'_, T> {
        self.acquired(
            Acquire::new(&self.sem, MAX_READS)
                .with_kind("RwLock.write")
                .await,
        );
        RwLockWriteGuard {
            lock: self,
            _marker: PhantomData,
        }
    }

    /// Takes shared access if no writer holds or waits for the lock.
    ///
    /// # Errors
    ///
    /// [`TryLockError`] if a writer holds the lock or is queued for it.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = magpie_sync::RwLock::new(0);
    /// let _r = lock.try_read().unwrap();
    /// assert!(lock.try_read().is_ok());
    /// assert!(lock.try_write().is_err());
    /// ```
    pub fn try_read(&self) -> Result<RwLockReadGuard<'_, T>, TryLockError> {
        self.sem
            .try_acquire_held(1)
            .map_err(|_| TryLockError::new())?;
        Ok(RwLockReadGuard {
            lock: self,
            _marker: PhantomData,
        })
    }

    /// Takes exclusive access if the lock is free.
    ///
    /// # Errors
    ///
    /// [`TryLockError`] if anyone holds or waits for the lock.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = magpie_sync::RwLock::new(0);
    /// let _w = lock.try_write().unwrap();
    /// assert!(lock.try_read().is_err());
    /// ```
    pub fn try_write(&self) -> Result<RwLockWriteGuard<'_, T>, TryLockError> {
        self.sem
            .try_acquire_held(MAX_READS)
            .map_err(|_| TryLockError::new())?;
        Ok(RwLockWriteGuard {
            lock: self,
            _marker: PhantomData,
        })
    }

    /// Mutable access without locking: `&mut self` proves no guard exists.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut lock = magpie_sync::RwLock::new(1);
    /// *lock.get_mut() += 1;
    /// assert_eq!(lock.into_inner(), 2);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        // SAFETY: `&mut self` means no guard borrows the lock: we are the only accessor.
        self.data.with_mut(|p| unsafe { &mut *p })
    }

    /// Consumes the lock, returning the data.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(magpie_sync::RwLock::new(3).into_inner(), 3);
    /// ```
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: Default> Default for RwLock<T> {
    fn default() -> Self {
        Self::new(T::default())
    }
}

impl<T: fmt::Debug> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("RwLock");
        match self.try_read() {
            Ok(guard) => d.field("data", &&*guard),
            Err(_) => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}

/// Shared access to an [`RwLock`]'s data; released when dropped.
///
/// # Examples
///
/// ```
/// # magpie_sync::__doc_block_on(async {
/// let lock = magpie_sync::RwLock::new(1);
/// let r: magpie_sync::RwLockReadGuard<'_, i32> = lock.read().await;
/// assert_eq!(*r, 1);
/// # });
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct RwLockReadGuard<'a, T> {
    lock: &'a RwLock<T>,
    _marker: PhantomData<&'a T>,
}

impl<T> Deref for RwLockReadGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: a read permit is held, so no write guard exists (RW-1).
        self.lock.data.with(|p| unsafe { &*p })
    }
}

impl<T> Drop for RwLockReadGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.sem.release_held(1);
    }
}

impl<T: fmt::Debug> fmt::Debug for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// Exclusive access to an [`RwLock`]'s data; released when dropped.
///
/// # Examples
///
/// ```
/// # magpie_sync::__doc_block_on(async {
/// let lock = magpie_sync::RwLock::new(1);
/// let mut w: magpie_sync::RwLockWriteGuard<'_, i32> = lock.write().await;
/// *w = 2;
/// # });
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct RwLockWriteGuard<'a, T> {
    lock: &'a RwLock<T>,
    _marker: PhantomData<&'a mut T>,
}

impl<T> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: all permits are held, so this is the only guard (RW-1).
        self.lock.data.with(|p| unsafe { &*p })
    }
}

impl<T> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: all permits are held (RW-1); `&mut self` makes the borrow unique.
        self.lock.data.with_mut(|p| unsafe { &mut *p })
    }
}

impl<T> Drop for RwLockWriteGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.sem.release_held(MAX_READS);
    }
}

impl<T: fmt::Debug> fmt::Debug for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::test_util::{block_on, now, scaled, Polled};
    use std::sync::Arc;

    #[test]
    fn is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<RwLock<Vec<u8>>>();
        assert_send_sync::<RwLockReadGuard<'static, Vec<u8>>>();
        assert_send_sync::<RwLockWriteGuard<'static, Vec<u8>>>();
    }

    #[test]
    fn readers_share_writers_exclude() {
        let lock = RwLock::new(0);
        let r1 = lock.try_read().unwrap();
        let r2 = now(lock.read()).unwrap();
        assert!(lock.try_write().is_err());
        drop((r1, r2));
        let w = lock.try_write().unwrap();
        assert!(lock.try_read().is_err());
        assert_eq!(format!("{lock:?}"), "RwLock { data: <locked> }");
        drop(w);
    }

    #[test]
    fn queued_writer_blocks_later_readers_and_does_not_starve() {
        let lock = RwLock::new(0);
        let r1 = lock.try_read().unwrap();
        let mut w = Polled::new(async {
            *lock.write().await += 1;
        });
        w.pending();
        let mut r2 = Polled::new(lock.read());
        r2.pending();
        assert!(
            lock.try_read().is_err(),
            "a queued writer keeps new readers out"
        );
        drop(r1);
        assert_eq!((w.wakes(), r2.wakes()), (1, 0));
        w.ready();
        assert_eq!(r2.wakes(), 1);
        assert_eq!(*r2.ready(), 1);
    }

    #[test]
    fn writer_cancelled_while_collecting_lets_readers_in() {
        let lock = RwLock::new(0);
        let r1 = lock.try_read().unwrap();
        let r2 = lock.try_read().unwrap();
        let mut w = Polled::new(lock.write());
        w.pending();
        let mut r3 = Polled::new(lock.read());
        r3.pending();
        drop(r1); // the writer collects r1's permit
        assert_eq!(w.wakes(), 0);
        drop(w);
        assert_eq!(r3.wakes(), 1, "the collected permit went on to the reader");
        let r3 = r3.ready();
        drop((r2, r3));
        assert!(lock.try_write().is_ok());
    }

    #[test]
    fn cancel_after_grant_passes_the_write_lock_on() {
        let lock = RwLock::new(0);
        let w0 = lock.try_write().unwrap();
        let mut w1 = Polled::new(lock.write());
        let mut r = Polled::new(lock.read());
        w1.pending();
        r.pending();
        drop(w0);
        assert_eq!(w1.wakes(), 1);
        drop(w1);
        assert_eq!(r.wakes(), 1);
        drop(r.ready());
        assert!(lock.try_write().is_ok());
    }

    #[test]
    fn stress_writes_are_exact() {
        let threads = 8;
        let per_thread = scaled(20_000) / threads;
        let lock = Arc::new(RwLock::new(0usize));
        let handles: Vec<_> = (0..threads)
            .map(|i| {
                let lock = lock.clone();
                std::thread::spawn(move || {
                    block_on(async move {
                        for j in 0..per_thread {
                            if (i + j) % 2 == 0 {
                                let mut w = lock.write().await;
                                let v = *w;
                                *w = v + 1;
                            } else {
                                let r = lock.read().await;
                                assert!(*r <= threads * per_thread);
                            }
                        }
                    })
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        let writes: usize = (0..threads)
            .map(|i| (0..per_thread).filter(|j| (i + j) % 2 == 0).count())
            .sum();
        assert_eq!(*lock.try_read().unwrap(), writes);
    }
}
