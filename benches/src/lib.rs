//! Identical workloads on magpie, tokio and smol's executor.
//!
//! Each workload is written once, in `workloads.rs`, and compiled three times, once per
//! runtime module ([`magpie`], [`tokio`], [`smol`]), against that runtime's adapter in
//! [`adapters`] (spawn, join, detach, yield, one-shot channel, timers, locks, queue,
//! gather, TCP). The scheduler workloads are in `workloads.rs`, timers, locks, queue and
//! gather in `workloads_coordination.rs`, the TCP ones in `workloads_net.rs`, child
//! processes in `workloads_process.rs`, files in `workloads_fs.rs`. The criterion benches
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
pub mod pipeline;

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

    /// `timeout(1 s, ready)` calls in timers...
    pub const TIMEOUTS: usize = 100_000;
    /// ...made by this many tasks.
    pub const TIMEOUT_TASKS: usize = 10;
    /// Tasks sleeping in timers...
    pub const SLEEPERS: usize = 1_000;
    /// ...each sleeping this many times in a row...
    pub const SLEEPS: usize = 10;
    /// ...for this long (10,000 sleeps in all).
    pub const SLEEP: std::time::Duration = std::time::Duration::from_millis(1);
    /// Tasks sharing the mutex or the semaphore (tokio's sync benches use 6).
    pub const LOCK_TASKS: usize = 6;
    /// Lock (or acquire) + yield + unlock rounds per task.
    pub const LOCK_OPS: usize = 1_000;
    /// Permits of the contended semaphore (tokio's contended shape: 5 for 6 tasks).
    pub const PERMITS: usize = 5;
    /// Producers in queue_mpmc.
    pub const PRODUCERS: usize = 4;
    /// Consumers in queue_mpmc.
    pub const CONSUMERS: usize = 4;
    /// Items through the queue in queue_mpmc.
    pub const QUEUE_ITEMS: usize = 100_000;
    /// The queue's capacity in queue_mpmc.
    pub const QUEUE_CAPACITY: usize = 1_024;
    /// Children of gather_10k.
    pub const GATHER_CHILDREN: usize = 10_000;
    /// Connections in tcp_echo...
    pub const ECHO_CONNS: usize = 64;
    /// ...each making this many round trips...
    pub const ECHO_ROUNDS: usize = 1_000;
    /// ...of a message this long.
    pub const ECHO_MSG: usize = 1_024;
    /// Children (`true`) in process_spawn...
    pub const PROCESSES: usize = 200;
    /// ...spawned and waited for by this many tasks, one after another in each.
    pub const PROCESS_TASKS: usize = 8;

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
    include!("workloads_coordination.rs");
    include!("workloads_net.rs");
    include!("workloads_process.rs");
    include!("workloads_fs.rs");
}

/// The workloads on tokio's multi-thread runtime.
pub mod tokio {
    use crate::adapters::tokio as rt;
    include!("workloads.rs");
    include!("workloads_coordination.rs");
    include!("workloads_net.rs");
    include!("workloads_process.rs");
    include!("workloads_fs.rs");
}

/// The workloads on smol's `async-executor`, run by N threads.
pub mod smol {
    use crate::adapters::smol as rt;
    include!("workloads.rs");
    include!("workloads_coordination.rs");
    include!("workloads_net.rs");
    include!("workloads_process.rs");
    include!("workloads_fs.rs");
}

/// The runtimes compared, in table order.
pub const RUNTIMES: [&str; 3] = ["magpie", "tokio", "smol"];
