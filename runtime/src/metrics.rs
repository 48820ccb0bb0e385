//! Per-worker counters, read through [`Handle::metrics`](crate::Handle::metrics).

use crate::loom::MetricCounter;
use std::sync::atomic::Ordering::Relaxed;

/// A counter only its owner thread increments: a load and a store, no read-modify-write.
#[derive(Debug, Default)]
pub(crate) struct Counter(MetricCounter);

impl Counter {
    pub(crate) fn bump(&self) {
        self.0.store(self.0.load(Relaxed) + 1, Relaxed);
    }
    fn get(&self) -> u64 {
        self.0.load(Relaxed)
    }
}

/// The live counters of one worker.
#[derive(Debug, Default)]
pub(crate) struct WorkerCounters {
    pub(crate) polls: Counter,
    pub(crate) steals: Counter,
    pub(crate) parks: Counter,
    pub(crate) lifo_hits: Counter,
    pub(crate) injector_pops: Counter,
    pub(crate) forced_yields: Counter,
}

impl WorkerCounters {
    pub(crate) fn snapshot(&self, local_queue_depth: usize) -> WorkerMetrics {
        WorkerMetrics {
            polls: self.polls.get(),
            steals: self.steals.get(),
            parks: self.parks.get(),
            lifo_hits: self.lifo_hits.get(),
            injector_pops: self.injector_pops.get(),
            forced_yields: self.forced_yields.get(),
            local_queue_depth,
        }
    }
}

/// A snapshot of one worker's counters (since the runtime started).
///
/// Counters are read without synchronisation, so a snapshot taken while the runtime runs
/// is approximate; one taken while it is idle is exact.
///
/// # Examples
///
/// ```
/// let rt = magpie_runtime::Builder::new_current_thread().build().unwrap();
/// rt.block_on(async { magpie_runtime::spawn(async {}).await.unwrap() });
/// let w: magpie_runtime::WorkerMetrics = rt.handle().metrics().workers[0];
/// assert!(w.polls >= 1);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct WorkerMetrics {
    /// Task polls.
    pub polls: u64,
    /// Successful steals from another worker's queue (each moves a batch).
    pub steals: u64,
    /// Times the worker parked for lack of work.
    pub parks: u64,
    /// Tasks run from the LIFO slot.
    pub lifo_hits: u64,
    /// Batches taken from the global injector.
    pub injector_pops: u64,
    /// Polls that ended because the task's cooperative budget ran out.
    pub forced_yields: u64,
    /// Tasks in the worker's local queue when the snapshot was taken.
    pub local_queue_depth: usize,
}

/// A snapshot of a runtime's metrics.
///
/// # Examples
///
/// ```
/// let rt = magpie_runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
/// rt.block_on(async { magpie_runtime::spawn(async {}).await.unwrap() });
/// let m = rt.handle().metrics();
/// assert_eq!(m.workers.len(), 2);
/// assert!(m.total().polls >= 1);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RuntimeMetrics {
    /// One entry per worker (one for a current-thread runtime).
    pub workers: Vec<WorkerMetrics>,
    /// Tasks waiting in the global injector.
    pub injector_depth: usize,
    /// Tasks spawned and not yet finished (running, queued or parked).
    pub live_tasks: usize,
}

impl RuntimeMetrics {
    /// The sum over all workers.
    pub fn total(&self) -> WorkerMetrics {
        self.workers
            .iter()
            .fold(WorkerMetrics::default(), |a, w| WorkerMetrics {
                polls: a.polls + w.polls,
                steals: a.steals + w.steals,
                parks: a.parks + w.parks,
                lifo_hits: a.lifo_hits + w.lifo_hits,
                injector_pops: a.injector_pops + w.injector_pops,
                forced_yields: a.forced_yields + w.forced_yields,
                local_queue_depth: a.local_queue_depth + w.local_queue_depth,
            })
    }
}
