//! The polls in progress, one slot per scheduler thread: what the slow-poll watchdog
//! (rule WD-1) reads instead of a dump of every task.
//!
//! Built only for a runtime with a slow-poll threshold (`Builder::slow_poll_threshold`);
//! without one the poll path skips it after one branch.
//!
//! Slot 0 is for polls on a thread that is not one of the runtime's workers (a
//! current-thread runtime's core, a `LocalSet` run outside a worker); slot `i + 1` is worker
//! `i`'s.
//!
//! Rules:
//! - STAMP-1: a slot holds the id of the task whose poll it records (0: none) and a poll
//!   number. A poll that finds its slot free stores its task id and the next number as it
//!   starts and stores 0 as it ends; a poll that finds the slot taken (a poll nested in
//!   another, such as a `LocalSet` run inside a task) records nothing, and the outer poll
//!   stands for it. A worker's slot has one writer (its thread), so a slot that reads the
//!   same task and the same number at two instants was inside one poll between them.
//! - STAMP-2: a slot can have two writers in two corner cases: slot 0 with two `LocalSet`s
//!   run on two non-worker threads of one runtime, and a worker's slot when a worker of
//!   *another* runtime runs a `LocalSet` of this one. A race there can hide a poll from the
//!   watchdog or misdate one, never invent one: every writer's last store is its poll's 0,
//!   so a slot reads non-zero only while some poll that stored that id has not yet ended.

use crossbeam_utils::CachePadded;

use crate::loom::atomic::{AtomicU64, Ordering};

/// One slot per scheduler thread (STAMP-1).
pub(crate) struct PollStamps {
    slots: Box<[CachePadded<Slot>]>,
}

struct Slot {
    /// The task being polled, or 0.
    task: AtomicU64,
    /// The number of the poll last started in this slot.
    seq: AtomicU64,
}

/// A poll in progress, as the watchdog saw it: `slot` (0, or worker + 1), the slot's poll
/// number and the task.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(loom, allow(dead_code))]
pub(crate) struct Sighting {
    pub(crate) slot: usize,
    pub(crate) seq: u64,
    pub(crate) task: u64,
}

/// A started poll's slot, released when dropped (STAMP-1).
pub(crate) struct Stamped<'a>(&'a Slot);

impl Drop for Stamped<'_> {
    #[inline]
    fn drop(&mut self) {
        self.0.task.store(0, Ordering::Release);
    }
}

impl PollStamps {
    /// Slots for `workers` workers and the non-worker slot 0.
    pub(crate) fn new(workers: usize) -> Self {
        let slots = (0..=workers)
            .map(|_| {
                CachePadded::new(Slot {
                    task: AtomicU64::new(0),
                    seq: AtomicU64::new(0),
                })
            })
            .collect();
        PollStamps { slots }
    }

    /// Records that `task`'s poll starts in `slot`; `None` if the slot is taken (a nested
    /// poll) or out of range (a worker of another runtime polling this one's local task).
    #[inline]
    pub(crate) fn begin(&self, slot: usize, task: u64) -> Option<Stamped<'_>> {
        let s = self.slots.get(slot)?;
        if s.task.load(Ordering::Relaxed) != 0 {
            return None;
        }
        // One writer (STAMP-1): a load and a store, no read-modify-write.
        s.seq.store(
            s.seq.load(Ordering::Relaxed).wrapping_add(1),
            Ordering::Relaxed,
        );
        s.task.store(task, Ordering::Release);
        Some(Stamped(s))
    }

    #[cfg_attr(loom, allow(dead_code))]
    /// The polls in progress now. A slot that changes while it is read is skipped: its
    /// poll just started or ended, so it is not slow yet.
    pub(crate) fn sightings(&self) -> Vec<Sighting> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(slot, s)| {
                let seq = s.seq.load(Ordering::Acquire);
                let task = s.task.load(Ordering::Acquire);
                (task != 0 && s.seq.load(Ordering::Acquire) == seq).then_some(Sighting {
                    slot,
                    seq,
                    task,
                })
            })
            .collect()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn a_poll_is_seen_while_it_runs_and_a_nested_poll_records_nothing() {
        let stamps = PollStamps::new(2);
        assert!(stamps.sightings().is_empty());
        let outer = stamps.begin(2, 7).expect("a free slot");
        let seen = stamps.sightings();
        assert_eq!(
            seen,
            [Sighting {
                slot: 2,
                seq: 1,
                task: 7
            }]
        );
        assert!(stamps.begin(2, 8).is_none(), "nested in task 7's poll");
        assert!(stamps.begin(9, 8).is_none(), "no such worker");
        drop(outer);
        assert!(stamps.sightings().is_empty(), "the poll ended");
        let next = stamps.begin(2, 7).unwrap();
        assert_eq!(stamps.sightings()[0].seq, 2, "a new poll, a new number");
        drop(next);
    }
}
