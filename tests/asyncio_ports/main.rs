//! Ports of asyncio seed documents: one module per seed document, each running its example
//! in `examples/seeds_NNN_*.rs` and checking the output against the Python original's.
//!
//! One test binary per area (see `tests/README.md`): each module below was a test file
//! of its own.

#[path = "../support/mod.rs"]
mod support;

mod asyncio_000_coordination;
mod asyncio_001_concurrent_tasks;
mod asyncio_002_locks_semaphores;
mod asyncio_003_sync_primitives;
mod asyncio_004_tour;
