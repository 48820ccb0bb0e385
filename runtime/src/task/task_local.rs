//! Task-local storage: [`task_local!`](crate::task_local) and [`LocalKey`], with tokio's
//! names and semantics (asyncio's twin: `contextvars`, see `docs/asyncio.md`).
//!
//! A task-local value is stored *in the future* that [`LocalKey::scope`] returns, not in
//! the thread: each time that future is polled it moves the value into the key's
//! thread-local slot for the duration of the poll and takes it back afterwards (also when
//! the poll panics). So the value follows the future from worker to worker, two tasks on
//! the same worker never see each other's values, and nested scopes of the same key
//! shadow and then restore the outer value.
//!
//! The inner future is also dropped inside its scope, so code running in its destructors
//! still sees the value.
//!
//! # Examples
//!
//! ```
//! magpie_runtime::task_local! {
//!     static REQUEST_ID: u64;
//! }
//!
//! magpie_runtime::block_on(async {
//!     REQUEST_ID
//!         .scope(42, async {
//!             let h = magpie_runtime::task::spawn(async { REQUEST_ID.try_with(|v| *v).is_err() });
//!             assert!(h.await.unwrap(), "a spawned task does not inherit the scope");
//!             magpie_runtime::task::yield_now().await;
//!             assert_eq!(REQUEST_ID.get(), 42);
//!         })
//!         .await;
//!     assert!(REQUEST_ID.try_with(|_| ()).is_err());
//! });
//! ```

use core::cell::RefCell;
use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

/// Declares task-local keys: `static NAME: Type;` each (visibility and attributes allowed).
///
/// A key is a [`LocalKey`](crate::task::LocalKey); a value is given to it for the
/// duration of a future with [`scope`](crate::task::LocalKey::scope) or of a closure with
/// [`sync_scope`](crate::task::LocalKey::sync_scope).
///
/// # Examples
///
/// ```
/// magpie_runtime::task_local! {
///     pub static USER: String;
///     static DEPTH: u32;
/// }
///
/// let n = DEPTH.sync_scope(1, || DEPTH.get() + 1);
/// assert_eq!(n, 2);
/// ```
#[macro_export]
macro_rules! task_local {
    () => {};
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty; $($rest:tt)*) => {
        $crate::__task_local_inner!($(#[$attr])* $vis $name, $t);
        $crate::task_local!($($rest)*);
    };
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty) => {
        $crate::__task_local_inner!($(#[$attr])* $vis $name, $t);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __task_local_inner {
    ($(#[$attr:meta])* $vis:vis $name:ident, $t:ty) => {
        $(#[$attr])*
        $vis static $name: $crate::task::LocalKey<$t> = {
            ::std::thread_local! {
                static __MAGPIE_TASK_LOCAL: ::std::cell::RefCell<::std::option::Option<$t>> =
                    const { ::std::cell::RefCell::new(::std::option::Option::None) };
            }
            $crate::task::LocalKey { inner: &__MAGPIE_TASK_LOCAL }
        };
    };
}

/// A task-local key, declared with [`task_local!`](crate::task_local).
///
/// # Examples
///
/// ```
/// magpie_runtime::task_local! { static K: &'static str; }
/// assert_eq!(K.sync_scope("v", || K.with(|v| v.len())), 1);
/// ```
pub struct LocalKey<T: 'static> {
    #[doc(hidden)]
    pub inner: &'static std::thread::LocalKey<RefCell<Option<T>>>,
}

/// A task-local value was read outside every scope of its key (or while the thread is
/// being torn down).
///
/// # Examples
///
/// ```
/// magpie_runtime::task_local! { static K: u8; }
/// let err = K.try_with(|_| ()).unwrap_err();
/// assert!(err.to_string().contains("scope"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccessError {
    _private: (),
}

impl fmt::Display for AccessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "task-local value not set: access it inside `KEY.scope(value, future)` or `KEY.sync_scope(value, f)`",
        )
    }
}

impl std::error::Error for AccessError {}

impl<T: 'static> LocalKey<T> {
    /// Runs `future` with the key set to `value` (on every poll, on whichever worker, and
    /// while the future is dropped).
    ///
    /// # Examples
    ///
    /// ```
    /// magpie_runtime::task_local! { static K: u32; }
    /// let v = magpie_runtime::block_on(K.scope(7, async { K.get() }));
    /// assert_eq!(v, 7);
    /// ```
    pub fn scope<F: Future>(&'static self, value: T, future: F) -> TaskLocalFuture<T, F> {
        TaskLocalFuture {
            key: self,
            slot: Some(value),
            future: Some(future),
        }
    }

    /// Runs `f` with the key set to `value`, then restores what was set before.
    ///
    /// # Panics
    ///
    /// If called from inside [`with`](LocalKey::with) of the same key (the value is
    /// borrowed there; leave `with` first).
    ///
    /// # Examples
    ///
    /// ```
    /// magpie_runtime::task_local! { static K: u32; }
    /// K.sync_scope(1, || {
    ///     K.sync_scope(2, || assert_eq!(K.get(), 2));
    ///     assert_eq!(K.get(), 1);
    /// });
    /// ```
    pub fn sync_scope<F: FnOnce() -> R, R>(&'static self, value: T, f: F) -> R {
        let mut slot = Some(value);
        self.enter(&mut slot, f)
    }

    /// Swaps `slot` into the thread-local cell for the duration of `f`, and back (also on
    /// panic).
    fn enter<R>(&'static self, slot: &mut Option<T>, f: impl FnOnce() -> R) -> R {
        struct Restore<'a, T: 'static> {
            key: &'static LocalKey<T>,
            slot: &'a mut Option<T>,
        }
        impl<T: 'static> Drop for Restore<'_, T> {
            fn drop(&mut self) {
                self.key
                    .inner
                    .with(|cell| core::mem::swap(self.slot, &mut *cell.borrow_mut()));
            }
        }
        self.swap_in(slot);
        let _restore = Restore { key: self, slot };
        f()
    }

    fn swap_in(&'static self, slot: &mut Option<T>) {
        let entered = self.inner.try_with(|cell| match cell.try_borrow_mut() {
            Ok(mut cur) => {
                core::mem::swap(slot, &mut *cur);
                true
            }
            Err(_) => false,
        });
        match entered {
            Ok(true) => {}
            Ok(false) => panic!(
                "task-local scope entered inside `with` of the same key: leave `with` before entering a new scope"
            ),
            Err(_) => panic!(
                "task-local scope entered while the thread is being torn down (in a thread-local destructor)"
            ),
        }
    }

    /// Runs `f` with a reference to the current value.
    ///
    /// # Panics
    ///
    /// Outside every scope of this key (use [`try_with`](LocalKey::try_with) to get an
    /// error instead).
    ///
    /// # Examples
    ///
    /// ```
    /// magpie_runtime::task_local! { static NAME: String; }
    /// let n = NAME.sync_scope("abc".to_string(), || NAME.with(|s| s.len()));
    /// assert_eq!(n, 3);
    /// ```
    pub fn with<F: FnOnce(&T) -> R, R>(&'static self, f: F) -> R {
        match self.try_with(f) {
            Ok(r) => r,
            Err(e) => panic!("{e}"),
        }
    }

    /// Runs `f` with a reference to the current value, if there is one.
    ///
    /// # Errors
    ///
    /// [`AccessError`] outside every scope of this key.
    ///
    /// # Examples
    ///
    /// ```
    /// magpie_runtime::task_local! { static K: u8; }
    /// assert!(K.try_with(|v| *v).is_err());
    /// assert_eq!(K.sync_scope(3, || K.try_with(|v| *v)), Ok(3));
    /// ```
    pub fn try_with<F: FnOnce(&T) -> R, R>(&'static self, f: F) -> Result<R, AccessError> {
        let mut f = Some(f);
        let r = self.inner.try_with(|cell| {
            let cur = cell.borrow();
            cur.as_ref().map(|v| (f.take().expect("called once"))(v))
        });
        match r {
            Ok(Some(r)) => Ok(r),
            _ => Err(AccessError { _private: () }),
        }
    }
}

impl<T: Copy + 'static> LocalKey<T> {
    /// A copy of the current value.
    ///
    /// # Panics
    ///
    /// Outside every scope of this key (use [`try_with`](LocalKey::try_with) instead).
    ///
    /// # Examples
    ///
    /// ```
    /// magpie_runtime::task_local! { static ID: u64; }
    /// assert_eq!(ID.sync_scope(9, || ID.get()), 9);
    /// ```
    pub fn get(&'static self) -> T {
        self.with(|v| *v)
    }
}

impl<T: 'static> fmt::Debug for LocalKey<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalKey").finish_non_exhaustive()
    }
}

/// The future of [`LocalKey::scope`]: holds the value and sets it around every poll of
/// the inner future.
///
/// # Examples
///
/// ```
/// magpie_runtime::task_local! { static K: u8; }
/// let fut: magpie_runtime::task::TaskLocalFuture<u8, _> = K.scope(1, async { K.get() });
/// assert_eq!(magpie_runtime::block_on(fut), 1);
/// ```
pub struct TaskLocalFuture<T: 'static, F> {
    key: &'static LocalKey<T>,
    slot: Option<T>,
    /// Structurally pinned: never moved out; dropped in place (set to `None`).
    future: Option<F>,
}

impl<T: 'static, F: Future> Future for TaskLocalFuture<T, F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: `future` is structurally pinned (its field doc): it is only ever polled
        // through a `Pin` made here and dropped in place, never moved; `key` and `slot`
        // are not pinned and may be moved freely.
        let this = unsafe { self.get_unchecked_mut() };
        let key = this.key;
        let future = &mut this.future;
        key.enter(&mut this.slot, || {
            let fut = future
                .as_mut()
                .expect("TaskLocalFuture polled after it completed");
            // SAFETY: see above: the future lives pinned in `self.future`.
            let out = unsafe { Pin::new_unchecked(fut) }.poll(cx);
            if out.is_ready() {
                // Dropped in place, inside the scope.
                *future = None;
            }
            out
        })
    }
}

impl<T: 'static, F> Drop for TaskLocalFuture<T, F> {
    fn drop(&mut self) {
        if self.future.is_some() {
            let key = self.key;
            let future = &mut self.future;
            // Drop the inner future inside its scope (in place: it may be pinned), unless
            // the key cannot be entered now (thread teardown), then outside it.
            let can_enter = key
                .inner
                .try_with(|cell| cell.try_borrow_mut().is_ok())
                .unwrap_or(false);
            if can_enter {
                key.enter(&mut self.slot, || *future = None);
            } else {
                *future = None;
            }
        }
    }
}

impl<T: 'static + fmt::Debug, F> fmt::Debug for TaskLocalFuture<T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskLocalFuture")
            .field("value", &self.slot)
            .finish_non_exhaustive()
    }
}
