//! The coordination primitives of `magpie::sync`: barrier, condition, event, mutex, notify,
//! oneshot, queue (with a model-based property test), rwlock, semaphore.
//!
//! One test binary per area (see `tests/README.md`): each module below was a test file
//! of its own.

#[path = "../support/stress.rs"]
mod stress;
#[path = "../support/mod.rs"]
mod support;

mod barrier;
mod broadcast;
mod cancel;
mod condition;
mod event;
mod mpsc;
mod mutex;
mod notify;
mod once_cell;
mod oneshot;
mod queue;
mod queue_model;
mod rwlock;
mod semaphore;
mod watch;
