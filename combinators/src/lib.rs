//! asyncio-style task coordination for magpie, on every worker thread.
//!
//! Every combinator here that takes futures to run spawns each one as a real task on the
//! current runtime, so the same code runs in parallel on all workers of a multi-thread
//! runtime and still works, concurrently, on a current-thread one. The crate is
//! re-exported at the root of the `magpie` facade (`magpie::gather`, `magpie::TaskGroup`,
//! ...).
//!
//! | asyncio | magpie |
//! | --- | --- |
//! | `gather(*aws)` | [`gather`] (outputs in input order; a panic aborts the rest) |
//! | — | [`try_gather`] (`Result` outputs: the first `Err` aborts the rest) |
//! | `gather(*aws, return_exceptions=True)` | [`gather_outcomes`] |
//! | `as_completed(aws, timeout=None)` | [`as_completed`] (a `futures_core::Stream`), [`AsCompleted::timeout`] |
//! | `TaskGroup` | [`TaskGroup`], [`GroupHandle`], [`GroupError`] |
//! | `shield(aw)` | [`shield`] |
//! | `wait(aws, timeout, return_when)` | [`wait`] with [`ReturnWhen`] (cancels nothing) |
//! | `wait(..., FIRST_COMPLETED)` + cancel the rest | [`select`], [`race`] |
//!
//! # Cancellation is dropping
//!
//! A Rust future is cancelled by dropping it. Every future this crate returns that owns
//! children aborts them when dropped ([`Gather`], [`TryGather`], [`GatherOutcomes`],
//! [`AsCompleted`], [`TaskGroup`] and its [`GroupJoin`]); [`Shield`] is the exception on purpose.
//! An aborted child's future is dropped at its next scheduling point, on whatever worker
//! holds it. Note that a plain [`JoinHandle`](magpie_runtime::JoinHandle) *detaches* its
//! task when dropped, as in tokio and asyncio.
//!
//! # Examples
//!
//! Two CPU-bound children run in parallel on a two-worker runtime:
//!
//! ```
//! let rt = magpie_runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
//! let sums = rt.block_on(magpie_combinators::gather((0..2u64).map(|k| async move {
//!     (0..1_000_000u64).map(|i| i ^ k).sum::<u64>()
//! })));
//! assert_eq!(sums.len(), 2);
//! ```
#![doc(test(attr(deny(warnings))))]
#![warn(
    missing_docs,
    missing_debug_implementations,
    clippy::undocumented_unsafe_blocks
)]
#![forbid(unsafe_code)]

mod as_completed;
mod children;
mod gather;
mod select;
mod shield;
mod task_group;
mod wait;

pub use as_completed::{as_completed, AsCompleted, AsCompletedTimeout};
pub use gather::{gather, gather_outcomes, try_gather, Gather, GatherOutcomes, TryGather};
pub use select::{race, select, Either};
pub use shield::{shield, Shield};
pub use task_group::{ChildHandle, GroupError, GroupHandle, GroupJoin, SpawnRefused, TaskGroup};
pub use wait::{wait, ReturnWhen, Wait};
