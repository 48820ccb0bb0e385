//! [`CancellationToken`]: a tree of cancellation signals, with tokio-util's names and
//! semantics.
//!
//! A token is a cheap handle (clones share one signal). [`cancel`](CancellationToken::cancel)
//! wakes every [`cancelled`](CancellationToken::cancelled) future and cancels every child
//! made by [`child_token`](CancellationToken::child_token); cancelling a child does not
//! touch its parent. The signal is one-way: a token never becomes uncancelled.
//!
//! # Protocol
//!
//! Each signal is a node holding an [`Event`] (the "cancelled" flag and its waiters, so
//! waiting is FIFO, cancellation-safe and allocation-free, as every wait in this crate)
//! and the list of its live children under a short lock. `cancel` marks the node under
//! that lock and takes the children out, then cancels them after unlocking; `child_token`
//! links a child under the same lock and cancels it at once if the parent is already
//! cancelled, so no child is missed. When the last handle of a child is dropped the child
//! unlinks itself from its parent, so a long-lived parent does not accumulate dead children.
//!
//! # asyncio
//!
//! asyncio cancels a task by injecting `CancelledError`; a token is the cooperative
//! alternative (closest twin: an `asyncio.Event` used as a stop flag). See `docs/asyncio.md`.
//!
//! # Examples
//!
//! ```
//! use magpie_sync::CancellationToken;
//!
//! let token = CancellationToken::new();
//! let child = token.child_token();
//! let worker = std::thread::spawn(move || magpie_sync::__doc_block_on(child.cancelled()));
//! token.cancel();
//! worker.join().unwrap();
//! ```

use core::fmt;
use core::future::Future;

use crate::loom::atomic::{AtomicUsize, Ordering};
use crate::loom::{Arc, Mutex};
use crate::Event;

struct Node {
    event: Event,
    /// Live token handles (clones) of this node; the last one unlinks it from its parent.
    handles: AtomicUsize,
    parent: Option<Arc<Node>>,
    /// `(cancelled, children)`: set and read together under this lock.
    tree: Mutex<(bool, Vec<Arc<Node>>)>,
}

impl Node {
    fn new(parent: Option<Arc<Node>>) -> Arc<Self> {
        Arc::new(Node {
            event: Event::new(),
            handles: AtomicUsize::new(1),
            parent,
            tree: Mutex::new((false, Vec::new())),
        })
    }

    fn lock(&self) -> crate::loom::MutexGuard<'_, (bool, Vec<Arc<Node>>)> {
        self.tree.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn cancel(&self) {
        let mut g = self.lock();
        if g.0 {
            return;
        }
        g.0 = true;
        let children = core::mem::take(&mut g.1);
        drop(g);
        self.event.set();
        for child in children {
            child.cancel();
        }
    }
}

/// A cancellation signal, with tokio-util's names and semantics; clones share it.
///
/// [`cancel`](CancellationToken::cancel) wakes every
/// [`cancelled`](CancellationToken::cancelled) future and cancels every child made by
/// [`child_token`](CancellationToken::child_token) (transitively); cancelling a child does
/// not touch its parent. The signal is one-way. Waiting is FIFO, allocation-free and
/// cancellation-safe (it is an [`Event`](crate::Event) wait). asyncio cancels by injecting
/// `CancelledError`; a token is the cooperative alternative (see `docs/asyncio.md`).
///
/// # Examples
///
/// ```
/// let token = magpie_sync::CancellationToken::new();
/// let clone = token.clone();
/// clone.cancel();
/// assert!(token.is_cancelled());
/// ```
pub struct CancellationToken {
    node: Arc<Node>,
}

impl CancellationToken {
    /// A new, uncancelled token with no parent.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!magpie_sync::CancellationToken::new().is_cancelled());
    /// ```
    pub fn new() -> Self {
        Self {
            node: Node::new(None),
        }
    }

    /// A new token cancelled when `self` is (or at once, if `self` already is);
    /// cancelling the child does not cancel `self`.
    ///
    /// # Examples
    ///
    /// ```
    /// let parent = magpie_sync::CancellationToken::new();
    /// let child = parent.child_token();
    /// child.cancel();
    /// assert!(!parent.is_cancelled());
    /// let child2 = parent.child_token();
    /// parent.cancel();
    /// assert!(child2.is_cancelled());
    /// ```
    pub fn child_token(&self) -> CancellationToken {
        let child = Node::new(Some(self.node.clone()));
        let mut g = self.node.lock();
        if g.0 {
            drop(g);
            child.cancel();
        } else {
            g.1.push(child.clone());
        }
        CancellationToken { node: child }
    }

    /// Cancels this token and every child made from it (transitively), waking every
    /// [`cancelled`](CancellationToken::cancelled) future. Idempotent.
    ///
    /// # Examples
    ///
    /// ```
    /// let t = magpie_sync::CancellationToken::new();
    /// t.cancel();
    /// t.cancel();
    /// assert!(t.is_cancelled());
    /// ```
    pub fn cancel(&self) {
        self.node.cancel();
    }

    /// Whether this token was cancelled (itself or through a parent).
    ///
    /// # Examples
    ///
    /// ```
    /// let t = magpie_sync::CancellationToken::new();
    /// assert!(!t.is_cancelled());
    /// ```
    pub fn is_cancelled(&self) -> bool {
        self.node.event.is_set()
    }

    /// Waits until the token is cancelled; ready at once if it already is.
    /// Cancellation-safe (dropping the future leaves nothing behind).
    ///
    /// # Examples
    ///
    /// ```
    /// let t = magpie_sync::CancellationToken::new();
    /// t.cancel();
    /// magpie_sync::__doc_block_on(t.cancelled());
    /// ```
    pub fn cancelled(&self) -> impl Future<Output = ()> + Send + '_ {
        let node = &*self.node;
        async move {
            let mut wait = core::pin::pin!(node.event.wait());
            core::future::poll_fn(|cx| {
                let polled = wait.as_mut().poll(cx);
                if polled.is_pending() {
                    // Shown as the token rather than its event (`crate::diag`, the last
                    // record of a poll wins).
                    let resource = node as *const Node as usize;
                    crate::diag::record_wait(crate::diag::WaitRecord::new(
                        "CancellationToken.cancelled",
                        None,
                        resource,
                    ));
                }
                polled
            })
            .await
        }
    }

    /// [`cancelled`](CancellationToken::cancelled) owning a handle of the token, for a
    /// `'static` future (to move into a spawned task).
    ///
    /// # Examples
    ///
    /// ```
    /// let t = magpie_sync::CancellationToken::new();
    /// let fut = t.clone().cancelled_owned();
    /// t.cancel();
    /// magpie_sync::__doc_block_on(fut);
    /// ```
    pub async fn cancelled_owned(self) {
        self.cancelled().await
    }

    /// A guard that cancels the token when dropped (unless
    /// [`disarm`](DropGuard::disarm)ed): "cancel everything when this scope ends".
    ///
    /// # Examples
    ///
    /// ```
    /// let t = magpie_sync::CancellationToken::new();
    /// {
    ///     let _guard = t.clone().drop_guard();
    /// }
    /// assert!(t.is_cancelled());
    /// ```
    pub fn drop_guard(self) -> DropGuard {
        DropGuard { token: Some(self) }
    }
}

impl Default for CancellationToken {
    fn default() -> Self {
        Self::new()
    }
}

impl Clone for CancellationToken {
    fn clone(&self) -> Self {
        self.node.handles.fetch_add(1, Ordering::Relaxed);
        Self {
            node: self.node.clone(),
        }
    }
}

impl Drop for CancellationToken {
    fn drop(&mut self) {
        if self.node.handles.fetch_sub(1, Ordering::AcqRel) != 1 {
            return;
        }
        // The last handle: unlink this node from its parent (the parent may live long).
        if let Some(parent) = &self.node.parent {
            let mut g = parent.lock();
            let removed =
                g.1.iter()
                    .position(|c| Arc::ptr_eq(c, &self.node))
                    .map(|i| g.1.swap_remove(i));
            drop(g);
            drop(removed);
        }
    }
}

impl fmt::Debug for CancellationToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancellationToken")
            .field("is_cancelled", &self.is_cancelled())
            .finish()
    }
}

/// Cancels its token when dropped; from [`CancellationToken::drop_guard`].
///
/// # Examples
///
/// ```
/// let t = magpie_sync::CancellationToken::new();
/// let guard = t.clone().drop_guard();
/// let back = guard.disarm();
/// assert!(!back.is_cancelled());
/// ```
pub struct DropGuard {
    token: Option<CancellationToken>,
}

impl DropGuard {
    /// Gives the token back without cancelling it.
    ///
    /// # Examples
    ///
    /// ```
    /// let t = magpie_sync::CancellationToken::new().drop_guard().disarm();
    /// assert!(!t.is_cancelled());
    /// ```
    pub fn disarm(mut self) -> CancellationToken {
        self.token
            .take()
            .expect("a DropGuard holds its token until dropped")
    }
}

impl Drop for DropGuard {
    fn drop(&mut self) {
        if let Some(t) = &self.token {
            t.cancel();
        }
    }
}

impl fmt::Debug for DropGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DropGuard")
            .field("token", &self.token)
            .finish()
    }
}
