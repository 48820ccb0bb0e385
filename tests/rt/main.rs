//! The runtime: spawning, aborting, panics, shutdown, the builder, fairness and the
//! blocking pool.
//!
//! One test binary per area (see `tests/README.md`): each module below was a test file
//! of its own.

#[path = "../support/mod.rs"]
mod support;

mod abort;
mod block_in_place;
mod blocking_pool;
mod builder;
mod diag;
mod diag_waits;
mod fairness;
mod local;
mod panic;
mod shutdown;
mod spawn;
mod task_api;
mod task_local;
mod waker_drop;
