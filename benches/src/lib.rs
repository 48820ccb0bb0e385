//! Identical workloads on magpie, tokio and smol's executor.
//!
//! Each workload is written once, in `workloads.rs`, and compiled three times, once per
//! runtime module ([`magpie`], [`tokio`], [`smol`]), against that runtime's adapter in
//! [`adapters`] (spawn, join, detach, yield, one-shot channel). The criterion benches
//! (`cargo bench -p magpie-benches`) and the `compare` binary (`cargo run --release -p
//! magpie-benches --bin compare`) both run these functions, so the numbers they report are
//! for the same code.
//!
//! # Examples
//!
//! ```
//! let rt = magpie_benches::magpie::runtime(2);
//! magpie_benches::magpie::chained_spawn(&rt);
//! ```
#![warn(missing_docs)]

/// The runtime adapters: the only runtime-specific code.
pub mod adapters {
    pub mod magpie;
    pub mod smol;
    pub mod tokio;
}

pub mod floor;
pub mod memory;

/// Workload sizes (tokio's suite's), shrunk with `MAGPIE_BENCH_SMALL=1` for smoke tests.
pub mod sizes {
    /// Tasks in the spawn_many_* workloads.
    pub const SPAWN_MANY: usize = 10_000;
    /// Background tasks in spawn_many_remote_busy.
    pub const BUSY_TASKS: usize = 8;
    /// Tasks in yield_many.
    pub const YIELD_TASKS: usize = 200;
    /// Yields per task in yield_many.
    pub const YIELDS: usize = 1_000;
    /// Pairs in ping_pong.
    pub const PINGS: usize = 1_000;
    /// Links in chained_spawn.
    pub const CHAIN: usize = 1_000;
    /// fork_join computes fib(FIB_N)...
    pub const FIB_N: u64 = 25;
    /// ...spawning at every level above this cutoff.
    pub const FIB_CUTOFF: u64 = 12;

    /// Plain recursive Fibonacci (the serial leaf of fork_join).
    pub fn fib(n: u64) -> u64 {
        if n < 2 {
            n
        } else {
            fib(n - 1) + fib(n - 2)
        }
    }
}

/// The workloads on magpie.
pub mod magpie {
    use crate::adapters::magpie as rt;
    include!("workloads.rs");
}

/// The workloads on tokio's multi-thread runtime.
pub mod tokio {
    use crate::adapters::tokio as rt;
    include!("workloads.rs");
}

/// The workloads on smol's `async-executor`, run by N threads.
pub mod smol {
    use crate::adapters::smol as rt;
    include!("workloads.rs");
}

/// The runtimes compared, in table order.
pub const RUNTIMES: [&str; 3] = ["magpie", "tokio", "smol"];
