//! Parking and the driver hand-off policy of the multi-thread scheduler: when a worker
//! parks, where (in the driver or on its own parker), and who takes the driver when its
//! holder leaves it. The rules are PARK-1 to PARK-6 below.
//!
//! Three places, three ideas: the *mechanism* of parking in the driver (one poller at a
//! time, the owner publish-then-re-check, early timers: DRV-1 to DRV-3) is in
//! `driver/mod.rs`; the *sleeper bookkeeping* (who is parked, who searches, whom a notify
//! pops: IDLE-1 to IDLE-7) is in [`idle`](super::idle); the *policy* built on both is
//! here. The no-lost-wake-up argument for the idle protocol is written once, in
//! `docs/architecture.md` ("Why no wake-up is lost").
//!
//! - PARK-1, list first, then re-check: a worker with nothing to run lists itself as a
//!   sleeper (IDLE-5); if that left nobody searching it re-checks every queue and notifies
//!   if any holds work (possibly itself), then sleeps.
//! - PARK-2, the driver first: a parking worker tries the driver (DRV-1). The winner
//!   waits in it until the next timer (none: until woken), re-checking "am I still listed
//!   as a sleeper?" after publishing itself as the owner (DRV-2); the losers park on their
//!   own parkers.
//! - PARK-3, the driver never stays with a busy worker: tasks the driver wakes land on
//!   the holder's own queues; finding some, the holder takes itself off the sleepers
//!   (IDLE-7) and releases the driver. It wakes one more worker (which steals a share, or
//!   finds nothing, parks and takes the driver over) when it holds more than one task or
//!   a timer is due within [`HANDOFF_TIMER_HORIZON`], so a task that blocks its thread
//!   does not hold those timers up. With one task and no near timer it goes on alone, as
//!   tokio does: the common I/O case (one connection's task woken per event) then costs no
//!   futex wake and no context switch for a worker that would find nothing (about 1 µs of
//!   server CPU per request on the RESP server, docs/benchmarks.md). The price: I/O
//!   readiness and far timers wait for that worker's next look at the driver (every
//!   `event_interval` ticks, or when it parks) if its task blocks the thread.
//! - PARK-4, a notified holder hands the driver on: a notify prefers a sleeper that does
//!   not hold the driver (IDLE-6, through the driver's `holder` hint), but may still pick
//!   the holder (before it publishes the hint, or as the only sleeper). A holder leaving
//!   the driver because it was notified therefore nudges another listed sleeper (an
//!   unpark with no count change) when a timer is due within the same horizon; that one
//!   finds itself still listed, parks again (PARK-5) and takes the driver
//!   (`timers_keep_firing_while_a_task_blocks_its_worker` pins it).
//! - PARK-5, stale wake-ups: a wake-up that leaves the worker listed as a sleeper (a
//!   stale parker token, a timer that woke nothing here, a nudge) parks it again; a
//!   worker popped off the list by a notify starts as a searcher.
//! - PARK-6, who is woken: new work is announced through [`Shared::notify_parked`], which
//!   unparks the chosen worker both from its parker and from the driver (DRV-2: after the
//!   work is visible), so it is reached wherever it sleeps.

use std::time::Duration;

use super::worker::Worker;
use super::Shared;

/// A worker leaving the driver with a single task to run hands the driver on only if a
/// timer is due within this horizon (PARK-3, PARK-4).
pub(super) const HANDOFF_TIMER_HORIZON: Duration = Duration::from_millis(20);

impl Shared {
    /// Announces new work (PARK-6): pops a sleeper by the idle rules and wakes it.
    ///
    /// `fence_first`: see `Idle::worker_to_notify`.
    pub(super) fn notify_parked(&self, fence_first: bool) {
        // Prefer a worker parked on its own parker: the one in the driver keeps polling.
        if let Some(index) = self
            .idle
            .worker_to_notify(fence_first, self.services.driver.holder())
        {
            self.remotes[index].unparker.unpark();
            // DRV-2: the pop above (under the sleepers' lock, after the work was made
            // visible) comes before this read of the driver's owner.
            self.services.driver.unpark(index);
        }
    }

    /// Wakes worker `index` wherever it sleeps (its parker, or the driver), without
    /// touching the idle counts (PARK-4's nudge).
    fn unpark_worker(&self, index: usize) {
        self.remotes[index].unparker.unpark();
        self.services.driver.unpark(index);
    }

    /// Whether any queue a parked worker could take from holds work (PARK-1's re-check).
    fn has_pending_work(&self) -> bool {
        !self.injector.is_empty() || self.remotes.iter().any(|r| !r.stealer.is_empty())
    }
}

impl Worker {
    /// Parks this worker until it is woken (PARK-1 to PARK-5).
    pub(super) fn park(&self) {
        let shared = &*self.shared;
        let none_searching = shared
            .idle
            .transition_worker_to_parked(self.index, self.is_searching.get());
        self.is_searching.set(false);
        if none_searching && shared.has_pending_work() {
            // PARK-1 (IDLE-5): work arrived while we searched (its pusher saw us searching), or a searcher
            // found work and left searching before it could see us parked: wake someone
            // (possibly ourselves: we are already listed as a sleeper).
            shared.notify_parked(false);
        }
        self.counters().parks.bump();
        crate::trace::event!(target: "magpie::scheduler", worker = self.index, "park");
        self.park_until_woken();
        shared.services.recent.refresh(); // rule DIAG-5
        crate::trace::event!(target: "magpie::scheduler", worker = self.index, "unpark");
    }

    /// The loop of [`park`](Self::park): returns once this worker may run tasks again (or
    /// the runtime is closing).
    fn park_until_woken(&self) {
        let shared = &*self.shared;
        loop {
            if shared.is_closed() {
                return;
            }
            // PARK-2 / DRV-2: the re-check runs after we are published as the owner.
            let in_driver = shared.services.driver.try_park(self.index, || {
                shared.idle.is_parked(self.index) && !shared.is_closed()
            });
            if in_driver.is_none() {
                self.parker.park();
            }
            if shared.is_closed() {
                return;
            }
            if !shared.idle.is_parked(self.index) {
                // Notified: `worker_to_notify` counted us as unparked and searching (PARK-4
                // if we held the driver).
                self.is_searching.set(true);
                if in_driver.is_some() {
                    self.hand_off_driver();
                }
                return;
            }
            if self.has_own_work() {
                // PARK-3: the driver queued woken tasks on our own queues while we are
                // listed as a sleeper: take ourselves off, and perhaps wake another worker,
                // which takes the driver over when it parks.
                if shared.idle.unpark_self(self.index) {
                    if self.should_hand_off_driver() {
                        shared.notify_parked(true);
                    }
                } else {
                    // A notifier popped us meanwhile and counted us as searching.
                    self.is_searching.set(true);
                }
                return;
            }
            // PARK-5: a stale token, a timer that woke no task here, or a spurious wake-up:
            // we are still listed as a sleeper, so park again.
        }
    }

    /// PARK-4: we were the driver's holder and are leaving it to run tasks: nudge a worker
    /// parked on its own parker, so it parks again, this time in the driver. Otherwise, if
    /// the task we run blocks our thread, timers and I/O would wait for it (the other
    /// sleepers went to their parkers while we held the driver). The nudge changes no
    /// count: the woken worker finds itself still listed as a sleeper and re-parks (DRV-1
    /// lets it in now that we left).
    fn hand_off_driver(&self) {
        if !self
            .shared
            .services
            .driver
            .timer_due_within(HANDOFF_TIMER_HORIZON)
        {
            return;
        }
        if let Some(other) = self.shared.idle.another_sleeper(self.index) {
            self.shared.unpark_worker(other);
        }
    }

    /// PARK-3: leaving the driver with tasks of our own, whether to wake another worker
    /// (which takes the driver over when it parks): with more than one task held, or a
    /// timer due within [`HANDOFF_TIMER_HORIZON`].
    fn should_hand_off_driver(&self) -> bool {
        let lifo = self.lifo.take();
        let held = usize::from(lifo.is_some()) + self.shared.remotes[self.index].stealer.len();
        self.lifo.set(lifo);
        held > 1
            || self
                .shared
                .services
                .driver
                .timer_due_within(HANDOFF_TIMER_HORIZON)
    }

    /// Whether this worker's LIFO slot or queue holds a task.
    fn has_own_work(&self) -> bool {
        let lifo = self.lifo.take();
        let has = lifo.is_some();
        self.lifo.set(lifo);
        has || !self.shared.remotes[self.index].stealer.is_empty()
    }
}
