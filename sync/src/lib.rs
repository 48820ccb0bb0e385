//! Thread-safe, cancellation-safe, executor-agnostic coordination primitives.
//!
//! `magpie-sync` holds asyncio's coordination primitives (Lock, Event, Condition,
//! Semaphore, BoundedSemaphore, Barrier, Queue, Future) made safe for a multi-threaded,
//! work-stealing runtime, plus what Rust users expect (`RwLock`, `oneshot`, `Notify`).
//! It depends on no runtime: only [`core::task::Waker`]. It is re-exported as
//! `magpie::sync`.
//!
//! | asyncio | magpie |
//! | --- | --- |
//! | `Lock` | [`Mutex<T>`] (the lock owns the data) |
//! | — | [`RwLock<T>`] (writer-preferring) |
//! | `Semaphore` | [`Semaphore`] (permits are guards, released on drop) |
//! | `BoundedSemaphore` | [`BoundedSemaphore`] |
//! | `Event` | [`Event`] |
//! | `Condition` | [`Condition`] (bound to a [`Mutex`]) |
//! | `Barrier` | [`Barrier`] |
//! | `Queue`, `LifoQueue`, `PriorityQueue` | [`Queue`], [`LifoQueue`], [`PriorityQueue`] |
//! | `Future` | [`oneshot`] |
//! | — | [`Notify`] |
//!
//! # Fairness and cancellation
//!
//! Every waiter waits in a FIFO queue (an intrusive list under a short lock, whose nodes
//! live in the waiting futures themselves, so waiting allocates nothing; see
//! `src/wait_list.rs`) and is served in arrival order. `Mutex`, `RwLock`, the semaphores,
//! `Event`, `Notify` and `Condition` keep an atomic beside it, so their uncontended paths
//! take no lock; the queues take their short lock once per operation. The waiting futures
//! are therefore `!Unpin`: pin them (`std::pin::pin!`, `Box::pin`) to poll them by hand.
//!
//! A waiting future dropped before it was granted leaves no trace; one dropped after it
//! was granted (woken with permits, a notification or a reserved item) hands the grant to
//! the next waiter or back to the primitive: nothing is lost, and no waiter is woken twice
//! for one grant. The protocols are written up in each module and model-checked with loom.
//!
//! # Cooperative budget
//!
//! It also holds the cooperative scheduling budget ([`coop`]) that magpie's runtime sets
//! before every task poll; every operation here that can complete without waiting spends
//! one unit of it, so a task that always finds its resources ready still yields.
#![doc(test(attr(deny(warnings))))]
#![warn(
    missing_docs,
    missing_debug_implementations,
    clippy::undocumented_unsafe_blocks
)]

pub mod coop;
pub mod diag;
pub(crate) mod loom;

mod barrier;
mod block_on;
mod condition;
mod event;
mod mutex;
mod notify;
pub mod oneshot;
pub mod queue;
mod raw_semaphore;
mod rwlock;
mod semaphore;
mod wait_list;

#[cfg(all(test, not(loom)))]
mod coop_tests;
#[cfg(all(test, loom))]
mod loom_models;
#[cfg(all(test, not(loom)))]
mod test_util;
#[cfg(all(test, not(loom)))]
mod waker_drop_tests;

pub use barrier::{Barrier, BarrierWaitResult, BrokenBarrierError};
pub use condition::Condition;
pub use event::Event;
pub use mutex::{Mutex, MutexGuard, OwnedMutexGuard, TryLockError};
pub use notify::Notify;
pub use queue::{LifoQueue, PriorityQueue, Queue};
pub use rwlock::{RwLock, RwLockReadGuard, RwLockWriteGuard};
pub use semaphore::{
    AcquireError, BoundedSemaphore, BoundedSemaphorePermit, OwnedSemaphorePermit, ReleaseError,
    Semaphore, SemaphorePermit, TryAcquireError,
};

#[doc(hidden)]
pub use block_on::block_on as __doc_block_on;

// Channels and cells (issue 17).
pub mod broadcast;
mod cancellation_token;
pub mod mpsc;
mod once_cell;
pub mod watch;
pub use cancellation_token::{CancellationToken, DropGuard};
pub use once_cell::{OnceCell, SetError};
