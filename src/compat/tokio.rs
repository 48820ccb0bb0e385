//! Run tokio-only libraries inside magpie tasks (feature `tokio-compat`).
//!
//! Libraries that call tokio at run time — `tokio::time::sleep`, `tokio::spawn`, tower's
//! and tower-http's `TimeoutLayer`, clients built on tokio's sockets — panic on a thread
//! with no tokio runtime ("there is no reactor running"). This module keeps **one
//! background tokio runtime** (a current-thread runtime driven by a thread of its own,
//! `magpie-tokio-compat`, started on first use) and enters its context where magpie code
//! runs, the approach of smol's `async-compat`:
//!
//! - [`Compat::new(fut)`](Compat): enters it around every poll of one future;
//! - [`EnableTokioCompat::enable_tokio_compat`] on [`Builder`]: enters it on every worker
//!   thread of a runtime (through `on_thread_start`/`on_thread_stop`), so every task sees
//!   it. `block_on`'s own future runs on the calling thread: wrap it in [`Compat`] (or call
//!   [`enter_thread`] there) if it calls tokio itself.
//!
//! What runs where: magpie tasks still run on magpie's workers and magpie's I/O on
//! magpie's driver. Tokio timers and tokio sockets are driven by the background thread,
//! and `tokio::spawn`ed tasks run there (one thread: keep heavy work on magpie). Tokio's
//! features enabled are `rt`, `time` and `net` only; `tokio::fs`, `process`, `signal`
//! and `sync` are not enabled by this crate (a library that needs them enables them itself,
//! and they then work through the same context). See docs/ecosystem.md for what was tested.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll};

use crate::Builder;

/// The background runtime's handle, started on first use.
fn handle() -> &'static tokio::runtime::Handle {
    static HANDLE: OnceLock<tokio::runtime::Handle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("magpie::compat::tokio: building the background tokio runtime failed");
        let handle = rt.handle().clone();
        std::thread::Builder::new()
            .name("magpie-tokio-compat".into())
            .spawn(move || rt.block_on(std::future::pending::<()>()))
            .expect("magpie::compat::tokio: spawning the background tokio thread failed");
        handle
    })
}

/// A handle to the background tokio runtime (started on first call), e.g. to
/// `spawn_blocking` on it or to build a library's client with an explicit handle.
///
/// # Examples
///
/// ```
/// let h = magpie::compat::tokio::tokio_handle();
/// assert_eq!(h.block_on(async { 3 }), 3);
/// ```
pub fn tokio_handle() -> tokio::runtime::Handle {
    handle().clone()
}

pin_project_lite::pin_project! {
    /// A future run inside the background tokio runtime's context: tokio's
    /// `Handle::current()`, timers, sockets and `tokio::spawn` work while it is polled.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use magpie::compat::tokio::Compat;
    ///
    /// magpie::block_on(Compat::new(async {
    ///     tokio::time::sleep(Duration::from_millis(1)).await;
    ///     tokio::spawn(async { 7 }).await.unwrap()
    /// }));
    /// ```
    pub struct Compat<F> {
        #[pin]
        inner: F,
    }
}

impl<F> Compat<F> {
    /// Wraps `inner`.
    ///
    /// # Examples
    ///
    /// ```
    /// let fut = magpie::compat::tokio::Compat::new(async { 1 });
    /// assert_eq!(magpie::block_on(fut), 1);
    /// ```
    pub fn new(inner: F) -> Compat<F> {
        Compat { inner }
    }

    /// The wrapped future.
    ///
    /// # Examples
    ///
    /// ```
    /// let fut = magpie::compat::tokio::Compat::new(std::future::ready(2));
    /// assert_eq!(magpie::block_on(fut.into_inner()), 2);
    /// ```
    pub fn into_inner(self) -> F {
        self.inner
    }
}

impl<F> fmt::Debug for Compat<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Compat").finish_non_exhaustive()
    }
}

impl<F: Future> Future for Compat<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let _entered = handle().enter();
        self.project().inner.poll(cx)
    }
}

thread_local! {
    static ENTERED: RefCell<Option<tokio::runtime::EnterGuard<'static>>> =
        const { RefCell::new(None) };
}

/// Enters the background tokio runtime's context on this thread until [`exit_thread`]
/// (idempotent). [`enable_tokio_compat`](EnableTokioCompat::enable_tokio_compat) calls it
/// on each worker; call it yourself from your own `on_thread_start` to combine hooks.
///
/// # Panics
///
/// If this thread entered another tokio context after this one and has not left it when
/// [`exit_thread`] runs (tokio's rule: contexts are left in reverse order).
///
/// # Examples
///
/// ```
/// magpie::compat::tokio::enter_thread();
/// assert!(tokio::runtime::Handle::try_current().is_ok());
/// magpie::compat::tokio::exit_thread();
/// ```
pub fn enter_thread() {
    ENTERED.with(|slot| {
        let mut slot = slot.borrow_mut();
        if slot.is_none() {
            *slot = Some(handle().enter());
        }
    });
}

/// Leaves the context [`enter_thread`] entered on this thread (a no-op if none).
///
/// # Panics
///
/// As [`enter_thread`] says.
///
/// # Examples
///
/// ```
/// magpie::compat::tokio::exit_thread(); // nothing entered: no-op
/// ```
pub fn exit_thread() {
    let guard = ENTERED.with(|slot| slot.borrow_mut().take());
    drop(guard);
}

/// `Builder::enable_tokio_compat()`: an extension trait on [`Builder`] (import it, or
/// `use magpie::compat::tokio::EnableTokioCompat as _`). It lives here rather than on
/// the runtime crate's `Builder` so that only the facade depends on tokio.
pub trait EnableTokioCompat {
    /// Every worker thread of the runtime built enters the background tokio runtime's
    /// context when it starts and leaves it when it stops, so tokio-only code works in
    /// every task.
    ///
    /// This takes the builder's `on_thread_start`/`on_thread_stop` hooks: a later call
    /// of either replaces it — call [`enter_thread`]/[`exit_thread`] from yours instead.
    /// `block_on`'s future runs on the calling thread: wrap it in [`Compat`] if it calls
    /// tokio directly.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use magpie::compat::tokio::EnableTokioCompat;
    ///
    /// let rt = magpie::Builder::new_multi_thread()
    ///     .worker_threads(2)
    ///     .enable_tokio_compat()
    ///     .build()
    ///     .unwrap();
    /// let slept = rt.block_on(async {
    ///     magpie::spawn(async {
    ///         tokio::time::sleep(Duration::from_millis(1)).await;
    ///         "slept"
    ///     })
    ///     .await
    ///     .unwrap()
    /// });
    /// assert_eq!(slept, "slept");
    /// ```
    fn enable_tokio_compat(&mut self) -> &mut Self;
}

impl EnableTokioCompat for Builder {
    fn enable_tokio_compat(&mut self) -> &mut Builder {
        self.on_thread_start(enter_thread)
            .on_thread_stop(exit_thread)
    }
}
