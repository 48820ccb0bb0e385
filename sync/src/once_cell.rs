//! [`OnceCell`]: a value initialised once, by an async initialiser, with tokio's names and
//! semantics.
//!
//! # Protocol
//!
//! The state (`EMPTY`, `INITIALIZING`, `READY`) is an atomic, so [`OnceCell::get`] on a
//! ready cell takes no lock. Starting an initialisation, waiting for one and finishing one
//! happen under a short lock that also holds the waiters' wakers:
//!
//! - the first caller to find the cell `EMPTY` moves it to `INITIALIZING` and runs its
//!   initialiser; later callers register their waker and wait;
//! - the initialiser's result is written, the state set to `READY` and every waiter woken
//!   (after unlocking) in one critical section;
//! - if the initialising future is dropped (cancelled) or its initialiser fails, a guard
//!   moves the cell back to `EMPTY` and wakes every waiter: the first to run takes over
//!   the initialisation. No waiter misses the hand-over, and exactly one initialiser ever
//!   completes.
//!
//! # Examples
//!
//! ```
//! use magpie_sync::OnceCell;
//!
//! static CONFIG: OnceCell<String> = OnceCell::const_new();
//! magpie_sync::__doc_block_on(async {
//!     let v = CONFIG.get_or_init(|| async { "loaded".to_string() }).await;
//!     assert_eq!(v, "loaded");
//!     // A second initialiser never runs.
//!     let v = CONFIG.get_or_init(|| async { unreachable!() }).await;
//!     assert_eq!(v, "loaded");
//! });
//! ```

use core::convert::Infallible;
use core::fmt;
use core::future::Future;
use core::mem::MaybeUninit;
use core::pin::Pin;
use core::task::{Context, Poll};

use crate::loom::atomic::{AtomicU64, AtomicU8, Ordering};
use crate::loom::{Mutex, MutexGuard, UnsafeCell};
use crate::mpsc::wakers::{wake_all, Wakers};

const EMPTY: u8 = 0;
const INITIALIZING: u8 = 1;
const READY: u8 = 2;

/// A cell initialised at most once, by an async initialiser (tokio's `OnceCell`).
///
/// Concurrent [`get_or_init`](OnceCell::get_or_init) callers wait for the one initialiser
/// that runs; if its future is dropped (cancelled) or a fallible initialiser fails, the
/// cell goes back to empty and every waiter is woken, the first to run taking over. So
/// exactly one initialiser ever completes. A ready cell is read without a lock.
///
/// # Invariant
///
/// `value` is initialised exactly when `state` is `READY`; `READY` is stored (with
/// `Release`) only after the value is written, and never left: so a reader that loads
/// `READY` with `Acquire` may read the value for as long as it holds `&self`.
pub struct OnceCell<T> {
    state: AtomicU8,
    waiters: Mutex<Wakers>,
    value: UnsafeCell<MaybeUninit<T>>,
    /// The task that took the right to initialise (0: none or not a task), written and
    /// read under `waiters`' lock; the holder of a waiter's dump entry (`crate::diag`).
    initialiser: AtomicU64,
    /// The label shown in dumps (`with_label`).
    label: Option<&'static str>,
}

// SAFETY: the cell hands out `&T` to every thread (so `T: Sync`) and a value set on one
// thread may be dropped or taken on another (so `T: Send`); the value is written once,
// before `READY` is published (the type's invariant), and only read after.
unsafe impl<T: Send + Sync> Sync for OnceCell<T> {}
// SAFETY: moving the cell moves the `T` it may hold.
unsafe impl<T: Send> Send for OnceCell<T> {}

/// Why [`OnceCell::set`] failed; each variant holds the value that was not stored.
///
/// # Examples
///
/// ```
/// use magpie_sync::{OnceCell, SetError};
/// let cell = OnceCell::new_with(Some(1));
/// assert_eq!(cell.set(2), Err(SetError::AlreadyInitializedError(2)));
/// ```
#[derive(PartialEq, Eq, Clone, Copy)]
pub enum SetError<T> {
    /// The cell already holds a value.
    AlreadyInitializedError(T),
    /// An initialiser is running; the cell may be full when it ends.
    InitializingError(T),
}

impl<T> SetError<T> {
    /// The value that was not stored.
    ///
    /// # Examples
    ///
    /// ```
    /// let e = magpie_sync::SetError::InitializingError(4);
    /// assert_eq!(e.into_inner(), 4);
    /// ```
    pub fn into_inner(self) -> T {
        match self {
            Self::AlreadyInitializedError(v) | Self::InitializingError(v) => v,
        }
    }
}

impl<T> fmt::Debug for SetError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AlreadyInitializedError(_) => f.write_str("AlreadyInitializedError(..)"),
            Self::InitializingError(_) => f.write_str("InitializingError(..)"),
        }
    }
}

impl<T> fmt::Display for SetError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AlreadyInitializedError(_) => f.write_str("the OnceCell is already full"),
            Self::InitializingError(_) => f.write_str("the OnceCell is being initialised"),
        }
    }
}

impl<T> std::error::Error for SetError<T> {}

impl<T> OnceCell<T> {
    /// An empty cell.
    ///
    /// # Examples
    ///
    /// ```
    /// let cell = magpie_sync::OnceCell::<u8>::new();
    /// assert!(cell.get().is_none());
    /// ```
    pub fn new() -> Self {
        Self {
            state: AtomicU8::new(EMPTY),
            waiters: Mutex::new(Wakers::new()),
            value: UnsafeCell::new(MaybeUninit::uninit()),
            initialiser: AtomicU64::new(0),
            label: None,
        }
    }

    /// An empty cell, in a `const` context (for a `static`).
    ///
    /// # Examples
    ///
    /// ```
    /// static CELL: magpie_sync::OnceCell<u32> = magpie_sync::OnceCell::const_new();
    /// assert!(CELL.set(1).is_ok());
    /// assert_eq!(CELL.get(), Some(&1));
    /// ```
    #[cfg(not(loom))]
    pub const fn const_new() -> Self {
        Self {
            state: AtomicU8::new(EMPTY),
            waiters: Mutex::new(Wakers::new()),
            value: UnsafeCell::new(MaybeUninit::uninit()),
            initialiser: AtomicU64::new(0),
            label: None,
        }
    }

    /// A cell holding `value` if it is `Some`, else empty.
    ///
    /// # Examples
    ///
    /// ```
    /// let cell = magpie_sync::OnceCell::new_with(Some(3));
    /// assert_eq!(cell.get(), Some(&3));
    /// ```
    pub fn new_with(value: Option<T>) -> Self {
        let cell = Self::new();
        if let Some(v) = value {
            cell.value.with_mut(|p| {
                // SAFETY: the cell is not shared yet; the state becomes READY just below
                // (the type's invariant).
                unsafe { (*p).write(v) };
            });
            cell.state.store(READY, Ordering::Release);
        }
        cell
    }

    /// The same cell, labelled `label` in task dumps (`magpie::diag`): a task waiting in
    /// `get_or_init` for another initialiser shows as waiting on `OnceCell.get_or_init`
    /// with this label, held by the initialising task.
    ///
    /// # Examples
    ///
    /// ```
    /// let cell = magpie_sync::OnceCell::<u8>::new().with_label("config");
    /// assert!(cell.get().is_none());
    /// ```
    pub fn with_label(mut self, label: &'static str) -> Self {
        self.label = Some(label);
        self
    }

    fn lock(&self) -> MutexGuard<'_, Wakers> {
        self.waiters.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The value, if the cell is initialised.
    ///
    /// # Examples
    ///
    /// ```
    /// let cell = magpie_sync::OnceCell::new();
    /// assert_eq!(cell.get(), None);
    /// cell.set(5).unwrap();
    /// assert_eq!(cell.get(), Some(&5));
    /// ```
    pub fn get(&self) -> Option<&T> {
        if self.state.load(Ordering::Acquire) == READY {
            // SAFETY: READY was loaded with Acquire, so the value is written and is never
            // written again while `&self` lives (the type's invariant).
            Some(self.value.with(|p| unsafe { (*p).assume_init_ref() }))
        } else {
            None
        }
    }

    /// Whether the cell holds a value.
    ///
    /// # Examples
    ///
    /// ```
    /// let cell = magpie_sync::OnceCell::new_with(Some(()));
    /// assert!(cell.initialized());
    /// ```
    pub fn initialized(&self) -> bool {
        self.get().is_some()
    }

    /// Stores `value` if the cell is empty and no initialiser runs.
    ///
    /// # Errors
    ///
    /// [`SetError::AlreadyInitializedError`] if the cell is full,
    /// [`SetError::InitializingError`] if an initialiser is running; both hold `value`.
    ///
    /// # Examples
    ///
    /// ```
    /// let cell = magpie_sync::OnceCell::new();
    /// assert!(cell.set(1).is_ok());
    /// assert_eq!(cell.set(2).unwrap_err().into_inner(), 2);
    /// ```
    pub fn set(&self, value: T) -> Result<(), SetError<T>> {
        let mut g = self.lock();
        match self.state.load(Ordering::Acquire) {
            READY => return Err(SetError::AlreadyInitializedError(value)),
            INITIALIZING => return Err(SetError::InitializingError(value)),
            _ => {}
        }
        let woken = self.publish(&mut g, value);
        drop(g);
        wake_all(woken);
        Ok(())
    }

    /// Writes the value and publishes `READY`; the caller holds the lock and the cell is
    /// not `READY` (only the lock holder leaves `EMPTY`/`INITIALIZING`).
    fn publish(&self, g: &mut Wakers, value: T) -> Vec<(u64, core::task::Waker)> {
        self.value.with_mut(|p| {
            // SAFETY: the state is not READY, so no reader reads the value, and the lock
            // holder is the only writer (see `publish`'s contract).
            unsafe { (*p).write(value) };
        });
        self.state.store(READY, Ordering::Release);
        g.take_all()
    }

    /// The value, initialising it with `init` first if the cell is empty. Concurrent
    /// callers wait for the one initialiser that runs.
    ///
    /// Cancellation-safe: if the future running `init` is dropped, the cell stays empty and
    /// the next waiting (or later) caller runs its own initialiser; exactly one initialiser
    /// ever completes.
    ///
    /// # Examples
    ///
    /// ```
    /// let cell = magpie_sync::OnceCell::new();
    /// let v = magpie_sync::__doc_block_on(cell.get_or_init(|| async { 2 + 2 }));
    /// assert_eq!(*v, 4);
    /// ```
    pub async fn get_or_init<F, Fut>(&self, init: F) -> &T
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = T>,
    {
        match self
            .get_or_try_init(|| async { Ok::<T, Infallible>(init().await) })
            .await
        {
            Ok(v) => v,
            Err(never) => match never {},
        }
    }

    /// [`get_or_init`](OnceCell::get_or_init) with a fallible initialiser.
    ///
    /// # Errors
    ///
    /// The initialiser's error; the cell then stays empty and the next caller initialises.
    ///
    /// # Examples
    ///
    /// ```
    /// let cell = magpie_sync::OnceCell::<u8>::new();
    /// let r = magpie_sync::__doc_block_on(cell.get_or_try_init(|| async { Err("no") }));
    /// assert_eq!(r, Err("no"));
    /// assert!(cell.get().is_none());
    /// ```
    pub async fn get_or_try_init<E, F, Fut>(&self, init: F) -> Result<&T, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        if let Some(v) = self.get() {
            return Ok(v);
        }
        let turn = Turn {
            cell: self,
            key: None,
        }
        .await;
        let Some(guard) = turn else {
            return Ok(self
                .get()
                .expect("Turn resolves to None only on a ready cell"));
        };
        let value = init().await?;
        let mut g = self.lock();
        let woken = self.publish(&mut g, value);
        drop(g);
        core::mem::forget(guard);
        wake_all(woken);
        Ok(self.get().expect("just published"))
    }

    /// The value, taking the cell.
    ///
    /// # Examples
    ///
    /// ```
    /// let cell = magpie_sync::OnceCell::new_with(Some(String::from("x")));
    /// assert_eq!(cell.into_inner().as_deref(), Some("x"));
    /// ```
    pub fn into_inner(mut self) -> Option<T> {
        self.take()
    }

    /// Takes the value out, leaving the cell empty (needs `&mut`, so no one else uses it).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut cell = magpie_sync::OnceCell::new_with(Some(1));
    /// assert_eq!(cell.take(), Some(1));
    /// assert!(cell.get().is_none());
    /// ```
    pub fn take(&mut self) -> Option<T> {
        if self.state.load(Ordering::Acquire) != READY {
            return None;
        }
        self.state.store(EMPTY, Ordering::Relaxed);
        // SAFETY: READY means the value is initialised; the state is EMPTY now, so it is
        // read out exactly once (and `&mut self` excludes every other access).
        Some(self.value.with_mut(|p| unsafe { (*p).assume_init_read() }))
    }
}

impl<T> Default for OnceCell<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Drop for OnceCell<T> {
    fn drop(&mut self) {
        drop(self.take());
    }
}

impl<T: fmt::Debug> fmt::Debug for OnceCell<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OnceCell")
            .field("value", &self.get())
            .finish()
    }
}

/// Resets an `INITIALIZING` cell to `EMPTY` and wakes every waiter if the initialiser
/// did not complete (its future was dropped, or it failed).
struct InitGuard<'a, T> {
    cell: &'a OnceCell<T>,
}

impl<T> Drop for InitGuard<'_, T> {
    fn drop(&mut self) {
        let mut g = self.cell.lock();
        self.cell.state.store(EMPTY, Ordering::Release);
        let woken = g.take_all();
        drop(g);
        wake_all(woken);
    }
}

/// Waits for the right to initialise (`Some(guard)`) or for the cell to become ready
/// (`None`).
struct Turn<'a, T> {
    cell: &'a OnceCell<T>,
    key: Option<u64>,
}

impl<'a, T> Future for Turn<'a, T> {
    type Output = Option<InitGuard<'a, T>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let cell = self.cell;
        let mut g = cell.lock();
        let (out, old) = match cell.state.load(Ordering::Acquire) {
            READY => (Poll::Ready(None), g.remove(self.key.take())),
            EMPTY => {
                cell.state.store(INITIALIZING, Ordering::Relaxed);
                let me = crate::diag::current_task().unwrap_or(0);
                cell.initialiser.store(me, Ordering::Relaxed);
                (
                    Poll::Ready(Some(InitGuard { cell })),
                    g.remove(self.key.take()),
                )
            }
            _ => (Poll::Pending, g.register(&mut self.key, cx.waker())),
        };
        let initialiser = cell.initialiser.load(Ordering::Relaxed);
        drop(g);
        drop(old);
        if out.is_pending() {
            let resource = cell as *const OnceCell<T> as usize;
            crate::diag::record_wait(
                crate::diag::WaitRecord::new("OnceCell.get_or_init", cell.label, resource)
                    .with_holder(initialiser),
            );
        }
        out
    }
}

impl<T> Drop for Turn<'_, T> {
    fn drop(&mut self) {
        if self.key.is_some() {
            let old = self.cell.lock().remove(self.key.take());
            drop(old);
        }
    }
}

impl<T> fmt::Debug for Turn<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Turn").field("key", &self.key).finish()
    }
}
