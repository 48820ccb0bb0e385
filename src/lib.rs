//! magpie: a multi-threaded, work-stealing async runtime with an asyncio-style
//! coordination API.
//!
//! This facade re-exports the workspace's crates: the runtime core (`magpie-runtime`), the
//! thread-safe coordination primitives ([`sync`], from `magpie-sync`) and, as they land,
//! the combinators.
//!
//! # Examples
//!
//! ```
//! let answer = magpie::block_on(async {
//!     let h = magpie::spawn(async { 6 * 7 });
//!     h.await.unwrap()
//! });
//! assert_eq!(answer, 42);
//! ```
#![doc(test(attr(deny(warnings))))]
#![warn(missing_docs, missing_debug_implementations)]

pub use magpie_runtime::{
    block_on, spawn, yield_now, Builder, EnterGuard, Handle, JoinError, JoinHandle, Runtime,
    RuntimeMetrics, TaskId, TryCurrentError, WorkerMetrics,
};

pub use magpie_combinators::{
    as_completed, gather, gather_outcomes, race, select, shield, try_gather, AsCompleted,
    ChildHandle, Either, Gather, GatherOutcomes, GroupError, GroupHandle, GroupJoin, Shield,
    SpawnRefused, TaskGroup, TryGather,
};

/// Tasks: spawning with options, ids, the cooperative budget.
pub mod task {
    pub use magpie_runtime::task::*;
}

/// Thread-safe, cancellation-safe coordination primitives (asyncio's Lock, Event,
/// Condition, Semaphore, Queue, ...) and the cooperative budget.
pub mod sync {
    pub use magpie_sync::*;
}

/// The README's examples, compiled and run as doc tests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
