//! Thread-safe, cancellation-safe, executor-agnostic coordination primitives.
//!
//! `magpie-sync` holds asyncio's coordination primitives (Lock, Event, Condition,
//! Semaphore, BoundedSemaphore, Barrier, Queue, Future) made safe for a multi-threaded,
//! work-stealing runtime, plus what Rust users expect (`RwLock`, `oneshot`, `Notify`).
//! It depends on no runtime: only [`core::task::Waker`]. It is re-exported as
//! `magpie::sync`.
//!
//! It also holds the cooperative scheduling budget ([`coop`]) that magpie's runtime sets
//! before every task poll and that every resource here spends.
#![warn(
    missing_docs,
    missing_debug_implementations,
    clippy::undocumented_unsafe_blocks
)]

pub mod coop;
pub(crate) mod loom;
