//! Which workers are parked, which are searching, and who wakes whom.
//!
//! The rules (IDLE-1 to IDLE-8). Why no wake-up is lost with them is argued once, in
//! `docs/architecture.md` ("Why no wake-up is lost"); the loom models in
//! `runtime/tests/loom_rt.rs` check it. The parking policy built on them (where a worker
//! sleeps, who holds the driver) is in [`park`](super::park).
//!
//! - IDLE-1, the state: `state` packs two counts, `unparked` (workers not in `sleepers`)
//!   and `searching` (workers looking for work to steal). All RMWs on it are `SeqCst`.
//! - IDLE-2, searching is capped at about half the workers (`2 * searching < workers` to
//!   start): more searchers only contend on the same victims.
//! - IDLE-3, notify (new work was queued where others can take it): if nobody is
//!   searching and somebody is parked, pop one sleeper under the lock, count it as
//!   unparked *and searching*, and unpark it; the woken worker starts as a searcher. While
//!   someone searches nobody else is woken: the searcher will find the work (no
//!   thundering herd). A push from outside the workers fences (`SeqCst`) between its push
//!   and its read of `state`; a worker pushing onto its own queue may skip the fence (it
//!   drains that queue itself, so a missed notify costs parallelism, never progress).
//! - IDLE-4, the last searcher out of searching (because it found work, before it polls
//!   it) notifies one more worker, so a burst of work spreads one worker at a time.
//! - IDLE-5, parking: under the lock, a worker pushes itself onto `sleepers` and
//!   decrements `unparked` (and `searching` if it was searching). If that leaves nobody
//!   searching (it was the last searcher, or it was not searching and no one else was
//!   either), it fences (`SeqCst`), re-checks every queue and notifies if any holds work.
//!   A worker that parks while someone else still searches leaves the re-check to that
//!   searcher. (Re-checking only as the last searcher, as tokio does, is not enough: see
//!   the proof, and `regression_injector_batch_strands_tasks_behind_a_spinning_task`.)
//! - IDLE-6, the driver's holder: a parked worker may be the one waiting in the I/O
//!   driver. Notify prefers another sleeper (the holder is only picked when it is the only
//!   one), so I/O and timers keep being polled.
//! - IDLE-7, unparking oneself: when the driver queued woken tasks on the holder's own
//!   queues, the holder takes itself off `sleepers` (`unpark_self`, counted unparked and
//!   not searching); if a notifier popped it first, it is already counted unparked and
//!   searching. Either way no count is lost.
//! - IDLE-8, injector batches: a worker that takes a batch from the injector while not
//!   searching leaves the rest on its own queue, where only stealing reaches it and no
//!   push announced it: it notifies like a push from outside, fenced
//!   (`Worker::pop_injector`).

use crate::loom::atomic::{fence, AtomicUsize, Ordering::SeqCst};
use crate::loom::Mutex;

const SEARCH_SHIFT: usize = 0;
const UNPARK_SHIFT: usize = 16;
const MASK: usize = (1 << 16) - 1;

/// The most workers the packed state can count.
pub(crate) const MAX_WORKERS: usize = MASK;

pub(crate) struct Idle {
    state: AtomicUsize,
    sleepers: Mutex<Vec<usize>>,
    workers: usize,
}

fn searching(state: usize) -> usize {
    (state >> SEARCH_SHIFT) & MASK
}

fn unparked(state: usize) -> usize {
    (state >> UNPARK_SHIFT) & MASK
}

impl Idle {
    pub(crate) fn new(workers: usize) -> Idle {
        assert!(workers > 0 && workers <= MAX_WORKERS);
        Idle {
            // Every worker starts unparked and not searching.
            state: AtomicUsize::new(workers << UNPARK_SHIFT),
            sleepers: Mutex::new(Vec::with_capacity(workers)),
            workers,
        }
    }

    fn should_wake(&self) -> bool {
        let s = self.state.load(SeqCst);
        searching(s) == 0 && unparked(s) < self.workers
    }

    /// The worker to unpark for newly queued work, if one should be woken.
    ///
    /// `fence_first`: whether to issue the `SeqCst` fence that pairs with the parking re-check.
    /// Pushes from outside the workers must (that is where a lost wake-up would hang); a
    /// worker pushing on its own queue may skip it, because it will drain that queue itself
    /// and a missed notify then costs parallelism, never progress.
    ///
    /// `avoid`: a worker to pick only if it is the only sleeper (the one parked in the I/O
    /// driver, which keeps polling while the others take the work).
    pub(crate) fn worker_to_notify(&self, fence_first: bool, avoid: usize) -> Option<usize> {
        if fence_first {
            fence(SeqCst);
        }
        if !self.should_wake() {
            return None;
        }
        let mut sleepers = self.sleepers.lock().unwrap();
        if !self.should_wake() {
            return None;
        }
        let n = sleepers.len();
        let worker = if n >= 2 && sleepers[n - 1] == avoid {
            sleepers.remove(n - 2)
        } else {
            sleepers.pop()?
        };
        self.state
            .fetch_add((1 << SEARCH_SHIFT) | (1 << UNPARK_SHIFT), SeqCst);
        Some(worker)
    }

    /// Tries to become a searcher; refused when half the workers already search.
    pub(crate) fn transition_worker_to_searching(&self) -> bool {
        let s = self.state.load(SeqCst);
        if 2 * searching(s) >= self.workers {
            return false;
        }
        self.state.fetch_add(1 << SEARCH_SHIFT, SeqCst);
        true
    }

    /// A searcher found work. Returns `true` if it was the last searcher (it must then
    /// notify another worker).
    pub(crate) fn transition_worker_from_searching(&self) -> bool {
        let prev = self.state.fetch_sub(1 << SEARCH_SHIFT, SeqCst);
        searching(prev) == 1
    }

    /// Records `worker` as parked. Returns `true` if nobody is searching any more (the
    /// caller must then re-check every queue, see the module docs); the fence for that
    /// re-check is issued here.
    pub(crate) fn transition_worker_to_parked(&self, worker: usize, is_searching: bool) -> bool {
        let mut sleepers = self.sleepers.lock().unwrap();
        let dec = (1 << UNPARK_SHIFT) | if is_searching { 1 << SEARCH_SHIFT } else { 0 };
        let prev = self.state.fetch_sub(dec, SeqCst);
        sleepers.push(worker);
        drop(sleepers);
        let none_searching = searching(prev) == usize::from(is_searching);
        if none_searching {
            // The other half of the Dekker pair with a pusher's fence (loom models `SeqCst`
            // RMWs as acquire/release only; on hardware the RMW is a full barrier anyway).
            fence(SeqCst);
        }
        none_searching
    }

    /// Takes `worker` off the sleepers by itself (the driver queued tasks on its own
    /// queue while it was parked in it). Returns `false` if a notifier popped it first, in
    /// which case it is already counted as unparked *and searching*.
    pub(crate) fn unpark_self(&self, worker: usize) -> bool {
        let mut sleepers = self.sleepers.lock().unwrap();
        let Some(pos) = sleepers.iter().position(|&w| w == worker) else {
            return false;
        };
        sleepers.swap_remove(pos);
        self.state.fetch_add(1 << UNPARK_SHIFT, SeqCst);
        true
    }

    /// Whether `worker` is still listed as parked (so a wake-up was spurious).
    pub(crate) fn is_parked(&self, worker: usize) -> bool {
        self.sleepers.lock().unwrap().contains(&worker)
    }

    /// Some worker listed as parked, other than `except`, without changing any count: the
    /// one to nudge so it re-parks in the driver when the driver's holder leaves it.
    pub(crate) fn another_sleeper(&self, except: usize) -> Option<usize> {
        self.sleepers
            .lock()
            .unwrap()
            .iter()
            .rev()
            .copied()
            .find(|&w| w != except)
    }

    /// (unparked, searching), for tests and metrics.
    #[allow(dead_code)]
    pub(crate) fn counts(&self) -> (usize, usize) {
        let s = self.state.load(SeqCst);
        (unparked(s), searching(s))
    }
}

impl std::fmt::Debug for Idle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (unparked, searching) = self.counts();
        f.debug_struct("Idle")
            .field("workers", &self.workers)
            .field("unparked", &unparked)
            .field("searching", &searching)
            .finish()
    }
}
