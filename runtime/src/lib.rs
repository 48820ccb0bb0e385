//! magpie's runtime core: tasks, the work-stealing and current-thread schedulers, and
//! `block_on`.
//!
//! Most users reach this crate through the `magpie` facade. The pieces:
//!
//! - [`Runtime`] / [`Builder`]: start a multi-thread (work-stealing) or current-thread
//!   runtime; [`Handle`] reaches it from anywhere.
//! - [`spawn`], [`JoinHandle`], [`JoinError`]: tasks, one allocation each (async-task), with
//!   panics caught at the task boundary and `abort()` from any thread.
//! - [`yield_now`] and [`task::consume_budget`]: cooperative scheduling. Every task poll has
//!   a budget that magpie's resources spend, so an always-ready task cannot hold a worker.
//! - [`RuntimeMetrics`]: per-worker counters.
//!
//! The scheduling and parking protocols are written up in `docs/architecture.md`, and next
//! to the code in `scheduler::multi_thread::{idle, park, worker}`, `scheduler::services`
//! (shutdown) and `driver` (parking in the driver); `docs/architecture.md` indexes them.
//!
//! # Examples
//!
//! ```
//! use magpie_runtime::Builder;
//!
//! let rt = Builder::new_multi_thread().worker_threads(2).build().unwrap();
//! let total = rt.block_on(async {
//!     let mut handles = Vec::new();
//!     for i in 0..100u64 {
//!         handles.push(magpie_runtime::spawn(async move { i }));
//!     }
//!     let mut total = 0;
//!     for h in handles {
//!         total += h.await.unwrap();
//!     }
//!     total
//! });
//! assert_eq!(total, 4950);
//! ```
#![doc(test(attr(deny(warnings))))]
#![warn(
    missing_docs,
    missing_debug_implementations,
    clippy::undocumented_unsafe_blocks
)]

mod blocking;
mod builder;
mod config;
mod context;
pub mod diag;
pub(crate) mod driver;
pub mod fs;
pub mod io;
pub(crate) mod loom;
mod metrics;
pub mod net;
mod park;
#[cfg(all(unix, not(loom)))]
pub mod process;
mod runtime;
mod scheduler;
// Under loom only the signal slot protocol is built (and model-checked).
#[cfg(unix)]
pub mod signal;
pub mod task;
pub mod time;
mod trace;

pub use blocking::spawn_blocking;
pub use builder::Builder;
pub use metrics::{RuntimeMetrics, WorkerMetrics};
pub use runtime::{block_on, EnterGuard, Handle, Runtime, TryCurrentError};
pub use task::{spawn, yield_now, JoinError, JoinHandle, TaskId};
