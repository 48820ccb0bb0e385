//! asyncio's `Barrier`: wait until `parties` tasks arrived.
//!
//! # Protocol
//!
//! **BAR-1.** Everything happens under one short lock. The waiters of the current round are the
//! queued waiters of the wait list, counted in `waiting` (which changes with the list, in
//! the same critical section), and a waiter dropped before the round completed simply
//! leaves (its arrival is undone). The task
//! whose arrival completes the round is the leader: it grants every queued waiter its
//! index (arrival order, `0..parties - 1`) and returns `parties - 1` itself, without
//! waiting. `reset` and `abort` grant every queued waiter a broken outcome; `abort` also
//! marks the barrier broken for later arrivals. A waiter dropped after its round passed
//! has nothing to hand on: the round is over.
//!
//! **BAR-2. A completed round stays passed.** The leader's grant is final: a waiter
//! released by a round that completed returns `Ok` with its index even if `abort` (or
//! `reset`) runs before it resumes. `abort` and `reset` only fail the waiters still
//! queued for the current round, and arrivals after `abort`. (asyncio fails such a waiter
//! with `BrokenBarrierError`: its barrier state only changes when the waiter resumes. In
//! magpie the round passed when its last party arrived, which is what every party's
//! index describes; failing some of them afterwards would report a round that did
//! complete as broken for some parties and not for the leader.)

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use crate::coop;
use crate::diag::Holders;
use crate::loom::{Mutex, MutexGuard};
use crate::wait_list::{Removed, StaleWakers, WaitList, Waiter, WakeList};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Outcome {
    #[default]
    Waiting,
    Passed(usize),
    Broken,
}

struct State {
    broken: bool,
    /// How many waiters are queued in `waiters` (this round's arrivals but the last).
    waiting: usize,
    waiters: WaitList<Outcome>,
}

/// Lets `parties` tasks wait until all of them arrived: asyncio's `Barrier`.
///
/// Each call to [`wait`](Self::wait) counts one arrival; the call that completes a round
/// returns at once as the *leader* and releases the others. The barrier then starts a new
/// round. [`abort`](Self::abort) breaks it: waiting and future `wait`s fail with
/// [`BrokenBarrierError`]. [`reset`](Self::reset) fails the current waiters and makes the
/// barrier usable again.
///
/// # Cancellation
///
/// A `wait` dropped before its round completed takes its arrival back.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// let barrier = Arc::new(magpie_sync::Barrier::new(3));
/// let tasks: Vec<_> = (0..3)
///     .map(|_| {
///         let b = barrier.clone();
///         std::thread::spawn(move || magpie_sync::__doc_block_on(b.wait()).unwrap())
///     })
///     .collect();
/// let leaders = tasks
///     .into_iter()
///     .map(|t| t.join().unwrap())
///     .filter(|result| result.is_leader())
///     .count();
/// assert_eq!(leaders, 1);
/// ```
pub struct Barrier {
    parties: usize,
    state: Mutex<State>,
    /// Its label in dumps (`crate::diag`; no holders).
    diag: Holders,
}

/// What [`Barrier::wait`] returns when the round completed.
///
/// # Examples
///
/// ```
/// # magpie_sync::__doc_block_on(async {
/// let b = magpie_sync::Barrier::new(1);
/// let r = b.wait().await.unwrap();
/// assert!(r.is_leader()); // the only party is the leader
/// assert_eq!(r.index(), 0);
/// # });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BarrierWaitResult {
    index: usize,
    parties: usize,
}

impl BarrierWaitResult {
    /// Whether this task completed the round (exactly one per round is).
    ///
    /// # Examples
    ///
    /// ```
    /// # magpie_sync::__doc_block_on(async {
    /// let b = magpie_sync::Barrier::new(1);
    /// assert!(b.wait().await.unwrap().is_leader());
    /// # });
    /// ```
    pub fn is_leader(&self) -> bool {
        self.index == self.parties - 1
    }

    /// This task's arrival index in its round, `0..parties` (asyncio's return value); the
    /// leader's is `parties - 1`.
    ///
    /// # Examples
    ///
    /// ```
    /// # magpie_sync::__doc_block_on(async {
    /// let b = magpie_sync::Barrier::new(1);
    /// assert_eq!(b.wait().await.unwrap().index(), 0);
    /// # });
    /// ```
    pub fn index(&self) -> usize {
        self.index
    }
}

/// The barrier was aborted, or reset while this task waited: asyncio's
/// `BrokenBarrierError`.
///
/// # Examples
///
/// ```
/// # magpie_sync::__doc_block_on(async {
/// let b = magpie_sync::Barrier::new(2);
/// b.abort();
/// let e: magpie_sync::BrokenBarrierError = b.wait().await.unwrap_err();
/// println!("{e}");
/// # });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BrokenBarrierError(());

impl fmt::Display for BrokenBarrierError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the barrier is broken")
    }
}

impl std::error::Error for BrokenBarrierError {}

impl Barrier {
    /// Creates a barrier for `parties` tasks.
    ///
    /// # Panics
    ///
    /// If `parties` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// let b = magpie_sync::Barrier::new(4);
    /// assert_eq!(b.parties(), 4);
    /// ```
    pub fn new(parties: usize) -> Self {
        assert!(parties > 0, "a barrier needs at least one party");
        Self {
            parties,
            state: Mutex::new(State {
                broken: false,
                waiting: 0,
                waiters: WaitList::new(),
            }),
            diag: Holders::new("Barrier"),
        }
    }

    /// Names this barrier in diagnostic dumps (`magpie::diag`): the label is shown beside
    /// its kind wherever a task waits on it.
    ///
    /// # Examples
    ///
    /// ```
    /// let b = magpie_sync::Barrier::new(2).with_label("start-line");
    /// # let _ = b;
    /// ```
    pub fn with_label(mut self, label: &'static str) -> Self {
        self.diag.set_label(label);
        self
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The number of tasks needed to pass the barrier.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(magpie_sync::Barrier::new(2).parties(), 2);
    /// ```
    pub fn parties(&self) -> usize {
        self.parties
    }

    /// The number of tasks waiting in the current round.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(magpie_sync::Barrier::new(2).n_waiting(), 0);
    /// ```
    pub fn n_waiting(&self) -> usize {
        self.lock().waiting
    }

    /// Whether the barrier was [aborted](Self::abort).
    ///
    /// # Examples
    ///
    /// ```
    /// let b = magpie_sync::Barrier::new(2);
    /// b.abort();
    /// assert!(b.is_broken());
    /// ```
    pub fn is_broken(&self) -> bool {
        self.lock().broken
    }

    fn break_waiters(state: &mut State, wakers: &mut WakeList) {
        while state.waiters.grant_front_with(Outcome::Broken, wakers) {}
        state.waiting = 0;
    }

    /// Breaks the barrier: every waiting and future [`wait`](Self::wait) fails with
    /// [`BrokenBarrierError`] until [`reset`](Self::reset).
    ///
    /// Waiters released by a round that already completed are not waiting any more:
    /// they return `Ok` even if they resume only after the abort (magpie's rule BAR-2;
    /// asyncio would fail them, see the module docs and `docs/asyncio.md`).
    ///
    /// # Examples
    ///
    /// ```
    /// # magpie_sync::__doc_block_on(async {
    /// let b = magpie_sync::Barrier::new(2);
    /// b.abort();
    /// assert!(b.wait().await.is_err());
    /// # });
    /// ```
    pub fn abort(&self) {
        let mut wakers = WakeList::new();
        let mut state = self.lock();
        state.broken = true;
        Self::break_waiters(&mut state, &mut wakers);
        drop(state);
        wakers.wake_all();
    }

    /// Returns the barrier to its empty, unbroken state; tasks waiting now fail with
    /// [`BrokenBarrierError`].
    ///
    /// # Examples
    ///
    /// ```
    /// # magpie_sync::__doc_block_on(async {
    /// let b = magpie_sync::Barrier::new(1);
    /// b.abort();
    /// b.reset();
    /// assert!(b.wait().await.is_ok());
    /// # });
    /// ```
    pub fn reset(&self) {
        let mut wakers = WakeList::new();
        let mut state = self.lock();
        state.broken = false;
        Self::break_waiters(&mut state, &mut wakers);
        drop(state);
        wakers.wake_all();
    }

    /// Arrives at the barrier and waits until `parties` tasks have arrived.
    ///
    /// The arrival that completes the round returns at once, as the leader (spending one
    /// unit of the task's cooperative budget).
    ///
    /// # Errors
    ///
    /// [`BrokenBarrierError`] if the barrier is broken, or gets aborted or reset while
    /// this task waits.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// let b = Arc::new(magpie_sync::Barrier::new(2));
    /// let b2 = b.clone();
    /// let t = std::thread::spawn(move || magpie_sync::__doc_block_on(b2.wait()).unwrap());
    /// let mine = magpie_sync::__doc_block_on(b.wait()).unwrap();
    /// let theirs = t.join().unwrap();
    /// assert!(mine.is_leader() != theirs.is_leader());
    /// ```
    pub fn wait(
        &self,
    ) -> impl Future<Output = Result<BarrierWaitResult, BrokenBarrierError>> + Send + '_ {
        Wait {
            barrier: self,
            waiter: Waiter::new(),
        }
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("Barrier")
            .field("parties", &self.parties)
            .field("waiting", &state.waiting)
            .field("broken", &state.broken)
            .finish()
    }
}

struct Wait<'a> {
    barrier: &'a Barrier,
    /// Our node in the wait list (`!Unpin`: `Wait` stays pinned while it is queued).
    waiter: Waiter<Outcome>,
}

impl Future for Wait<'_> {
    type Output = Result<BarrierWaitResult, BrokenBarrierError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let primitive = self.barrier;
        let poll = self.poll_inner(cx);
        if poll.is_pending() {
            primitive.diag.record_wait_unheld("Barrier");
        }
        poll
    }
}

impl Wait<'_> {
    fn poll_inner(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<BarrierWaitResult, BrokenBarrierError>> {
        // Only shared access is needed: the waiter's node changes under the lock.
        let this = self.into_ref().get_ref();
        let unit = match coop::poll_proceed(cx) {
            Poll::Ready(unit) => unit,
            Poll::Pending => return Poll::Pending,
        };
        let parties = this.barrier.parties;
        let waiter = &this.waiter;
        let mut wakers = WakeList::new();
        let mut stale = StaleWakers::new(); // dropped after `state` (WL-6)
        let mut state = this.barrier.lock();
        let outcome = if !waiter.is_idle() || (!state.broken && state.waiting + 1 < parties) {
            let first = waiter.is_idle();
            // SAFETY: `waiter` is a field of this pinned `!Unpin` future, used with this
            // barrier's list only, and `Drop` removes it (the contract of `poll_waiter`).
            let polled = unsafe {
                state
                    .waiters
                    .poll_waiter(waiter, cx.waker(), Outcome::Waiting, &mut stale)
            };
            match polled {
                Poll::Ready(outcome) => outcome,
                Poll::Pending => {
                    if first {
                        state.waiting += 1;
                    }
                    return Poll::Pending;
                }
            }
        } else if state.broken {
            Outcome::Broken
        } else {
            // This arrival completes the round: release the others in arrival order.
            let mut index = 0;
            while state
                .waiters
                .grant_front_with(Outcome::Passed(index), &mut wakers)
            {
                index += 1;
            }
            state.waiting = 0;
            Outcome::Passed(index)
        };
        drop(state);
        wakers.wake_all();
        unit.made_progress();
        Poll::Ready(match outcome {
            Outcome::Passed(index) => Ok(BarrierWaitResult { index, parties }),
            Outcome::Broken => Err(BrokenBarrierError(())),
            Outcome::Waiting => unreachable!("granted waiters have an outcome"),
        })
    }
}

impl Drop for Wait<'_> {
    fn drop(&mut self) {
        if !self.waiter.is_idle() {
            let mut stale = StaleWakers::new(); // dropped after `state` (WL-6)
            let mut state = self.barrier.lock();
            // Queued: the arrival is undone. Granted: the round already passed.
            // SAFETY: ours, queued or granted in this list, under its lock (WL-1).
            if let Removed::Queued(_) = unsafe { state.waiters.remove(&self.waiter, &mut stale) } {
                state.waiting -= 1;
            }
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::test_util::{block_on, now, scaled, Polled};
    use std::sync::Arc;

    /// Issue 13 item 6 (BAR-2): a waiter released by a completed round keeps its `Ok`
    /// even if `abort` runs before it resumes; only later arrivals fail.
    #[test]
    fn abort_after_a_completed_round_keeps_its_released_waiters_passed() {
        let b = Barrier::new(2);
        let mut first = Polled::new(b.wait());
        first.pending();
        let leader = now(b.wait()).expect("the second arrival completes the round");
        assert!(leader.unwrap().is_leader());
        assert_eq!(first.wakes(), 1);
        b.abort(); // before the released waiter resumed
        let released = first.ready().expect("the round had passed");
        assert!(!released.is_leader());
        assert!(now(b.wait()).unwrap().is_err(), "arrivals after abort fail");
    }

    #[test]
    fn is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Barrier>();
    }

    #[test]
    fn round_releases_everyone_with_one_leader() {
        let b = Barrier::new(3);
        let mut a = Polled::new(b.wait());
        let mut c = Polled::new(b.wait());
        a.pending();
        c.pending();
        assert_eq!(b.n_waiting(), 2);
        let leader = now(b.wait()).unwrap().unwrap();
        assert!(leader.is_leader());
        assert_eq!(leader.index(), 2);
        assert_eq!((a.wakes(), c.wakes()), (1, 1));
        let ra = a.ready().unwrap();
        let rc = c.ready().unwrap();
        assert_eq!((ra.index(), rc.index()), (0, 1));
        assert!(!ra.is_leader() && !rc.is_leader());
        assert_eq!(b.n_waiting(), 0, "a new round starts");
    }

    #[test]
    fn cancel_before_the_round_takes_the_arrival_back() {
        let b = Barrier::new(2);
        let mut a = Polled::new(b.wait());
        a.pending();
        drop(a);
        assert_eq!(b.n_waiting(), 0);
        let mut c = Polled::new(b.wait());
        c.pending(); // not the leader: a's arrival no longer counts
        assert!(now(b.wait()).unwrap().unwrap().is_leader());
        c.ready().unwrap();
    }

    #[test]
    fn cancel_after_the_round_passed_changes_nothing() {
        let b = Barrier::new(2);
        let mut a = Polled::new(b.wait());
        a.pending();
        assert!(now(b.wait()).unwrap().is_ok());
        drop(a);
        assert_eq!(b.n_waiting(), 0);
        assert!(!b.is_broken());
    }

    #[test]
    fn abort_and_reset() {
        let b = Barrier::new(3);
        let mut a = Polled::new(b.wait());
        a.pending();
        b.abort();
        let err = a.ready().unwrap_err();
        assert_eq!(err.to_string(), "the barrier is broken");
        assert!(now(b.wait()).unwrap().is_err());
        b.reset();
        assert!(!b.is_broken());
        let mut a = Polled::new(b.wait());
        a.pending();
        b.reset();
        assert!(a.ready().is_err(), "reset fails the current waiters");
        assert_eq!(
            format!("{b:?}"),
            "Barrier { parties: 3, waiting: 0, broken: false }"
        );
    }

    #[test]
    fn threads_pass_many_rounds() {
        let parties = 4;
        let rounds = scaled(2_000);
        let b = Arc::new(Barrier::new(parties));
        let hs: Vec<_> = (0..parties)
            .map(|_| {
                let b = b.clone();
                std::thread::spawn(move || {
                    block_on(async move {
                        let mut leaders = 0;
                        for _ in 0..rounds {
                            if b.wait().await.unwrap().is_leader() {
                                leaders += 1;
                            }
                        }
                        leaders
                    })
                })
            })
            .collect();
        let leaders: usize = hs.into_iter().map(|h| h.join().unwrap()).sum();
        assert_eq!(leaders, rounds, "exactly one leader per round");
    }
}
