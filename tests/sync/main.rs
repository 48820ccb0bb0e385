//! The coordination primitives of `magpie::sync`: barrier, condition, event, mutex, notify,
//! oneshot, queue (with a model-based property test), rwlock, semaphore.
//!
//! One test binary per area (see `tests/README.md`): each module below was a test file
//! of its own.

#[path = "../support/mod.rs"]
mod support;

mod barrier;
mod condition;
mod event;
mod mutex;
mod notify;
mod oneshot;
mod queue;
mod queue_model;
mod rwlock;
mod semaphore;
