//! The settings a started runtime reads: what `Builder::build` checked and hands down to
//! the schedulers, the blocking pool and the workers.

use std::sync::Arc as StdArc;
use std::time::Duration;

pub(crate) type Callback = StdArc<dyn Fn() + Send + Sync + 'static>;

/// Which scheduler a runtime runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    MultiThread,
    CurrentThread,
}

/// Settings a started runtime reads.
#[derive(Clone)]
pub(crate) struct Config {
    pub(crate) worker_threads: usize,
    pub(crate) thread_name: String,
    pub(crate) thread_stack_size: Option<usize>,
    pub(crate) on_thread_start: Option<Callback>,
    pub(crate) on_thread_stop: Option<Callback>,
    pub(crate) global_queue_interval: u32,
    /// Whether workers tune the interval to their measured poll times (the default; an
    /// explicit `global_queue_interval` fixes it).
    pub(crate) adaptive_global_queue_interval: bool,
    pub(crate) event_interval: u32,
    pub(crate) max_blocking_threads: usize,
    pub(crate) thread_keep_alive: Duration,
    /// Read by `Runtime::start`; the watchdog is not built under loom.
    #[cfg_attr(loom, allow(dead_code))]
    pub(crate) watchdog: crate::diag::watchdog::Settings,
    /// Whether the clock may be paused (a current-thread runtime, rule CLOCK-4).
    pub(crate) clock_pausable: bool,
    /// Whether the clock starts paused (`Builder::start_paused`).
    pub(crate) start_paused: bool,
}
