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
    block_on, spawn, spawn_blocking, yield_now, Builder, EnterGuard, Handle, JoinError, JoinHandle,
    Runtime, RuntimeMetrics, TaskId, TryCurrentError, WorkerMetrics,
};

pub use magpie_combinators::{
    as_completed, gather, gather_outcomes, race, select, shield, try_gather, wait, AsCompleted,
    AsCompletedTimeout, ChildHandle, Either, Gather, GatherOutcomes, GroupError, GroupHandle,
    GroupJoin, ReturnWhen, Shield, SpawnRefused, TaskGroup, TryGather, Wait,
};

/// Tasks: spawning with options, ids, the cooperative budget.
pub mod task {
    pub use magpie_runtime::task::*;
}

/// Time: `sleep`, `sleep_until`, `interval`, `timeout` (asyncio's `wait_for`), `timeout_at`.
pub mod time {
    pub use magpie_runtime::time::*;
}

/// Networking: `TcpListener`, `TcpStream`, `UdpSocket`, and Unix-domain sockets.
pub mod net {
    pub use magpie_runtime::net::*;
}

/// Asynchronous I/O: the `futures-io` traits, `AsyncReadExt`/`AsyncWriteExt`, `copy`, and
/// `Async<T>` for any file descriptor.
pub mod io {
    pub use magpie_runtime::io::*;
}

/// Thread-safe, cancellation-safe coordination primitives (asyncio's Lock, Event,
/// Condition, Semaphore, Queue, ...) and the cooperative budget.
pub mod sync {
    pub use magpie_sync::*;
}

#[cfg(feature = "hyper")]
pub mod compat;

/// The README's examples, compiled and run as doc tests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
