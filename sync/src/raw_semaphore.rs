//! The permit counter under [`Mutex`](crate::Mutex), [`RwLock`](crate::RwLock),
//! [`Semaphore`](crate::Semaphore) and [`BoundedSemaphore`](crate::BoundedSemaphore).
//!
//! # State word
//!
//! `state` packs `permits << SHIFT | QUEUED | CLOSED`:
//!
//! * `permits`: permits free for the taking by anyone.
//! * `QUEUED`: the [`WaitList`] is not empty. It is set and cleared only while the
//!   waiter lock is held, in the same critical section that makes the list non-empty or
//!   empty, so under the lock `QUEUED` is set exactly when the list has queued waiters.
//! * `CLOSED`: set once by [`RawSemaphore::close`], never cleared.
//!
//! # Protocol
//!
//! - **SEM-1. Fast paths take no lock.** An acquire that finds `QUEUED` clear and enough
//!   permits takes them with one CAS; a release that finds `QUEUED` clear adds its
//!   permits with one CAS. Because `QUEUED` lives in the same word, such a CAS fails if a
//!   waiter queued in between, and the operation retries on the locked path.
//! - **SEM-2. Queued implies no free permits.** A waiter that must queue first takes every free
//!   permit (under the lock, by CAS) and sets `QUEUED` in the same CAS. While `QUEUED` is
//!   set, the fast paths do not touch the permit field, so it stays 0: newcomers cannot
//!   barge past queued waiters (FIFO fairness), and a writer waiting for all of an
//!   `RwLock`'s permits collects them as readers leave (no writer starvation).
//! - **SEM-3. Releases are assigned in arrival order.** A release that finds `QUEUED` set takes
//!   the lock and assigns its permits to the front waiters: a waiter whose need drops to
//!   zero is granted (unlinked, woken once). When the list empties, leftover permits go
//!   back to the word and `QUEUED` is cleared in one CAS.
//! - **SEM-4. Cancellation.** A dropped [`Acquire`] leaves the wait list under the lock. The permits
//!   it had been assigned so far (all of them if it was granted, some if it was partly
//!   served, none if it had just queued) are released through SEM-3, so they reach the
//!   next waiter or the word: no permit is lost, and a waiter dropped before any
//!   assignment leaves no trace.
//! - **SEM-5. Close.** `close` sets `CLOSED` and grants every queued waiter with its need still
//!   non-zero, which is how a waiter tells "closed" from "acquired" (a normal grant always
//!   has a need of zero). A waiter woken by close returns whatever it had been assigned.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use crate::coop;
use crate::diag::Holders;
use crate::loom::atomic::{AtomicUsize, Ordering};
use crate::loom::{Mutex, MutexGuard};
use crate::wait_list::{Removed, StaleWakers, WaitList, Waiter, WakeList};

const CLOSED: usize = 0b01;
const QUEUED: usize = 0b10;
const SHIFT: usize = 2;
const ONE: usize = 1 << SHIFT;

/// The most permits a semaphore can hold.
pub(crate) const MAX_PERMITS: usize = usize::MAX >> 3;

/// Why a try-acquire failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TryAcquire {
    Closed,
    NoPermits,
}

/// A waiter's data: the permits it still needs.
#[derive(Clone, Copy, Default)]
struct Need(usize);

pub(crate) struct RawSemaphore {
    state: AtomicUsize,
    waiters: Mutex<WaitList<Need>>,
    /// Who holds permits, and the kind and label shown in dumps (`crate::diag`).
    pub(crate) diag: Holders,
}

impl RawSemaphore {
    pub(crate) fn new(permits: usize) -> Self {
        assert!(
            permits <= MAX_PERMITS,
            "a semaphore holds at most {MAX_PERMITS} permits"
        );
        Self {
            state: AtomicUsize::new(permits << SHIFT),
            waiters: Mutex::new(WaitList::new()),
            diag: Holders::new("Semaphore"),
        }
    }

    #[cfg(not(loom))]
    pub(crate) const fn const_new(permits: usize) -> Self {
        assert!(permits <= MAX_PERMITS);
        Self {
            state: AtomicUsize::new(permits << SHIFT),
            waiters: Mutex::new(WaitList::new()),
            diag: Holders::new("Semaphore"),
        }
    }

    fn lock(&self) -> MutexGuard<'_, WaitList<Need>> {
        // A panic never happens under this lock (only list bookkeeping runs there), but
        // recover from poisoning anyway rather than propagate someone else's panic.
        self.waiters.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn available_permits(&self) -> usize {
        self.state.load(Ordering::Acquire) >> SHIFT
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.state.load(Ordering::Acquire) & CLOSED != 0
    }

    pub(crate) fn try_acquire(&self, n: usize) -> Result<(), TryAcquire> {
        let mut s = self.state.load(Ordering::Relaxed);
        loop {
            if s & CLOSED != 0 {
                return Err(TryAcquire::Closed);
            }
            if s & QUEUED != 0 || (s >> SHIFT) < n {
                return Err(TryAcquire::NoPermits);
            }
            match self.state.compare_exchange_weak(
                s,
                s - n * ONE,
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Ok(()),
                Err(actual) => s = actual,
            }
        }
    }

    /// Removes up to `n` free permits for good; returns how many were removed.
    pub(crate) fn forget_permits(&self, n: usize) -> usize {
        let mut s = self.state.load(Ordering::Relaxed);
        loop {
            let take = n.min(s >> SHIFT);
            match self.state.compare_exchange_weak(
                s,
                s - take * ONE,
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => return take,
                Err(actual) => s = actual,
            }
        }
    }

    /// The same semaphore, shown as `kind` in dumps ("Mutex", "RwLock", ...).
    pub(crate) const fn kind(mut self, kind: &'static str) -> Self {
        self.diag.set_kind(kind);
        self
    }

    /// The same semaphore, with at most one holder at a time (a `Mutex`'s one permit):
    /// holders are recorded with plain stores (`crate::diag`).
    pub(crate) const fn single_holder(mut self) -> Self {
        self.diag.set_single();
        self
    }

    /// Labels the semaphore in dumps (`with_label` of the primitives built on it).
    pub(crate) fn set_label(&mut self, label: &'static str) {
        self.diag.set_label(label);
    }

    /// [`try_acquire`](Self::try_acquire) for a guard: on success the current task is
    /// recorded as a holder (`crate::diag`).
    pub(crate) fn try_acquire_held(&self, n: usize) -> Result<(), TryAcquire> {
        let r = self.try_acquire(n);
        if r.is_ok() {
            self.diag.hold();
        }
        r
    }

    /// Releases permits that a guard held: forgets one holder (`crate::diag`), then
    /// [`release`](Self::release)s.
    pub(crate) fn release_held(&self, n: usize) {
        self.diag.release();
        self.release(n);
    }

    /// Adds `n` permits, serving queued waiters first (SEM-3).
    ///
    /// Panics if the count would exceed [`MAX_PERMITS`].
    pub(crate) fn release(&self, n: usize) {
        if n == 0 {
            return;
        }
        let mut s = self.state.load(Ordering::Relaxed);
        loop {
            if s & QUEUED != 0 {
                return self.release_locked(self.lock(), n);
            }
            assert!(
                (s >> SHIFT) + n <= MAX_PERMITS,
                "a semaphore holds at most {MAX_PERMITS} permits"
            );
            match self.state.compare_exchange_weak(
                s,
                s + n * ONE,
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => return,
                Err(actual) => s = actual,
            }
        }
    }

    /// Assigns `pool` permits to queued waiters in FIFO order; leftovers go to the word.
    /// Also clears `QUEUED` if the list is empty (used after a removal with `pool == 0`).
    fn release_locked<'a>(&'a self, mut list: MutexGuard<'a, WaitList<Need>>, mut pool: usize) {
        let mut wakers = WakeList::new();
        loop {
            while pool > 0 && !wakers.is_full() {
                let Some(satisfied) = list.with_front(|need| {
                    let take = need.0.min(pool);
                    need.0 -= take;
                    pool -= take;
                    need.0 == 0
                }) else {
                    break;
                };
                if satisfied {
                    list.grant_front(&mut wakers);
                }
            }
            if list.is_empty() {
                self.drain_pool_and_clear_queued(pool);
                pool = 0;
            }
            drop(list);
            wakers.wake_all();
            if pool == 0 {
                return;
            }
            list = self.lock();
        }
    }

    /// Under the lock with an empty list: permits += pool, `QUEUED` cleared (SEM-3).
    fn drain_pool_and_clear_queued(&self, pool: usize) {
        let mut s = self.state.load(Ordering::Relaxed);
        loop {
            let permits = (s >> SHIFT) + pool;
            assert!(
                permits <= MAX_PERMITS,
                "a semaphore holds at most {MAX_PERMITS} permits"
            );
            let new = (permits << SHIFT) | (s & CLOSED);
            if new == s {
                return;
            }
            match self
                .state
                .compare_exchange_weak(s, new, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => return,
                Err(actual) => s = actual,
            }
        }
    }

    /// Closes the semaphore: pending and future acquires fail (SEM-5).
    pub(crate) fn close(&self) {
        self.state.fetch_or(CLOSED, Ordering::AcqRel);
        let mut wakers = WakeList::new();
        loop {
            let mut list = self.lock();
            while !wakers.is_full() && list.grant_front(&mut wakers) {}
            let done = list.is_empty();
            if done {
                self.drain_pool_and_clear_queued(0);
            }
            drop(list);
            wakers.wake_all();
            if done {
                return;
            }
        }
    }
}

impl core::fmt::Debug for RawSemaphore {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let s = self.state.load(Ordering::Relaxed);
        f.debug_struct("Semaphore")
            .field("permits", &(s >> SHIFT))
            .field("queued", &(s & QUEUED != 0))
            .field("closed", &(s & CLOSED != 0))
            .finish()
    }
}

/// The semaphore was closed while (or before) acquiring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Closed;

/// A pending acquisition of `needed` permits. Dropping it follows SEM-4.
pub(crate) struct Acquire<'a> {
    sem: &'a RawSemaphore,
    needed: usize,
    /// Our node in the wait list; idle until we queue.
    waiter: Waiter<Need>,
    /// The kind shown in dumps, if not the semaphore's own ("RwLock.read", ...).
    kind: Option<&'static str>,
}

impl<'a> Acquire<'a> {
    pub(crate) fn new(sem: &'a RawSemaphore, needed: usize) -> Self {
        Self {
            sem,
            needed,
            waiter: Waiter::new(),
            kind: None,
        }
    }

    /// The same acquisition, shown as `kind` in dumps.
    pub(crate) fn with_kind(mut self, kind: &'static str) -> Self {
        self.kind = Some(kind);
        self
    }

    /// First poll: fast path, then queue under the lock (SEM-1, SEM-2).
    ///
    /// `self` must be pinned: the waiter may be queued.
    fn poll_first(
        &self,
        cx: &mut Context<'_>,
        stale: &mut StaleWakers,
    ) -> Poll<Result<(), Closed>> {
        let sem = self.sem;
        match sem.try_acquire(self.needed) {
            Ok(()) => return Poll::Ready(Ok(())),
            Err(TryAcquire::Closed) => return Poll::Ready(Err(Closed)),
            Err(TryAcquire::NoPermits) => {}
        }
        let mut list = sem.lock();
        let mut s = sem.state.load(Ordering::Relaxed);
        loop {
            if s & CLOSED != 0 {
                return Poll::Ready(Err(Closed));
            }
            let free = s >> SHIFT;
            let (new, queue) = if s & QUEUED == 0 && free >= self.needed {
                (s - self.needed * ONE, false)
            } else {
                // Take every free permit (0 if others already queue) and queue.
                ((s & CLOSED) | QUEUED, true)
            };
            match sem
                .state
                .compare_exchange_weak(s, new, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) if !queue => return Poll::Ready(Ok(())),
                Ok(_) => {
                    let need = self.needed - free;
                    debug_assert!(need > 0);
                    // SAFETY: the waiter is ours (idle) and only used with this list; the
                    // caller has `self` pinned and `Drop` removes the waiter (the
                    // contract of `poll_waiter`).
                    let queued =
                        unsafe { list.poll_waiter(&self.waiter, cx.waker(), Need(need), stale) };
                    debug_assert!(queued.is_pending());
                    return Poll::Pending;
                }
                Err(actual) => s = actual,
            }
        }
    }

    fn poll_queued(
        &self,
        cx: &mut Context<'_>,
        stale: &mut StaleWakers,
    ) -> Poll<Result<(), Closed>> {
        let mut list = self.sem.lock();
        // SAFETY: ours, queued or granted in this list; the caller has `self` pinned and
        // `Drop` removes the waiter (the contract of `poll_waiter`).
        match unsafe { list.poll_waiter(&self.waiter, cx.waker(), Need(0), stale) } {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Need(0)) => Poll::Ready(Ok(())),
            Poll::Ready(Need(missing)) => {
                // Granted by close: return what had been assigned.
                self.sem.release_locked(list, self.needed - missing);
                Poll::Ready(Err(Closed))
            }
        }
    }
}

impl Future for Acquire<'_> {
    type Output = Result<(), Closed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // Only shared access is needed: the waiter's node changes under the lock, and
        // `self` stays pinned (`Acquire` is `!Unpin`).
        let this = self.into_ref().get_ref();
        let unit = match coop::poll_proceed(cx) {
            Poll::Ready(unit) => unit,
            Poll::Pending => return Poll::Pending,
        };
        let mut stale = StaleWakers::new(); // dropped after the lock (WL-6)
        let result = if this.needed == 0 {
            Poll::Ready(if this.sem.is_closed() {
                Err(Closed)
            } else {
                Ok(())
            })
        } else if this.waiter.is_idle() {
            this.poll_first(cx, &mut stale)
        } else {
            this.poll_queued(cx, &mut stale)
        };
        match &result {
            Poll::Ready(Ok(())) if this.needed > 0 => this.sem.diag.hold(),
            Poll::Pending => this.sem.diag.record_wait(this.kind),
            _ => {}
        }
        if result.is_ready() {
            unit.made_progress();
        }
        result
    }
}

impl Drop for Acquire<'_> {
    fn drop(&mut self) {
        if self.waiter.is_idle() {
            return;
        }
        let mut stale = StaleWakers::new(); // dropped after the lock (WL-6)
        let mut list = self.sem.lock();
        // SAFETY: ours, queued or granted in this list, under its lock (WL-1).
        let assigned = match unsafe { list.remove(&self.waiter, &mut stale) } {
            Removed::Queued(Need(missing)) | Removed::Granted(Need(missing)) => {
                self.needed - missing
            }
        };
        // Hand the assigned permits on; with 0 this still clears QUEUED if we were last.
        self.sem.release_locked(list, assigned);
    }
}

impl core::fmt::Debug for Acquire<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Acquire")
            .field("needed", &self.needed)
            .field("queued", &!self.waiter.is_idle())
            .finish()
    }
}
