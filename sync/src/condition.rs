//! asyncio's `Condition`, bound to a [`Mutex`].
//!
//! # Protocol
//!
//! - **COND-1. Queue before unlocking.** `wait(guard)` queues the waiter in the condition's list
//!   and only then drops the guard. A notifier that holds the mutex therefore finds the
//!   waiter queued; one that does not hold it races as it would in asyncio. `WAITING`
//!   mirrors "the list is not empty" (changed under the list lock only), so `notify` with
//!   nobody waiting is one atomic load.
//! - **COND-2. Grants.** `notify(n)` grants the `n` longest-waiting waiters a `One` notification,
//!   `notify_all` grants every waiter an `All` notification. Notifications are not stored:
//!   with nobody waiting they are no-ops, as in asyncio.
//! - **COND-3. Re-lock.** A granted waiter re-acquires the mutex (a fair [`Mutex::lock`]) and
//!   returns the new guard.
//! - **COND-4. Cancellation.** A `wait` future dropped before it was notified leaves no trace
//!   (its waiter leaves the list; the mutex was already released). One dropped after a `One`
//!   notification, before it returned the guard (still queued as granted, or while
//!   re-locking), hands a `One` notification to the next waiter. That is the case tokio
//!   declined to build: without it, `notify(1)` to a waiter that is then cancelled would
//!   be lost while other waiters sleep on. The re-lock's own cancellation is the mutex's
//!   (see [`crate::raw_semaphore`], SEM-4).

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use crate::loom::atomic::{AtomicBool, AtomicUsize, Ordering};
use crate::loom::{Mutex as StdMutex, MutexGuard as StdMutexGuard};
use crate::mutex::{Mutex, MutexGuard};
use crate::raw_semaphore::Acquire;
use crate::wait_list::{Removed, StaleWakers, WaitList, Waiter, WakeList};

/// What a waiter was notified with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Grant {
    #[default]
    None,
    One,
    All,
}

/// A condition variable for async tasks: asyncio's `Condition`.
///
/// A `Condition` is used together with a [`Mutex`] protecting the shared state: a task
/// locks the mutex, checks the state, and if it must wait calls
/// [`wait(guard)`](Self::wait), which releases the lock, waits for a notification and
/// re-acquires the lock before returning the guard. [`notify(n)`](Self::notify) wakes the
/// `n` longest-waiting tasks, [`notify_all`](Self::notify_all) every waiting task; both may
/// be called with or without the lock held.
///
/// The condition binds to the mutex of the first guard it is given; all waits must use
/// that mutex.
///
/// As with every condition variable, re-check the state after `wait` returns (or use
/// [`wait_for`](Self::wait_for)): another task may have changed it first.
///
/// # Cancellation
///
/// A `wait` dropped before it was notified leaves no trace. One dropped after it was
/// notified by `notify` passes the notification to the next waiter, so a notification is
/// never lost to a cancelled task.
///
/// # Examples
///
/// The asyncio producer/consumer:
///
/// ```
/// use std::sync::Arc;
/// use magpie_sync::{Condition, Mutex};
///
/// let state = Arc::new((Mutex::new(Vec::new()), Condition::new()));
/// let consumer = {
///     let state = state.clone();
///     std::thread::spawn(move || {
///         magpie_sync::__doc_block_on(async move {
///             let (buffer, cond) = &*state;
///             let mut items = buffer.lock().await;
///             while items.is_empty() {
///                 items = cond.wait(items).await;
///             }
///             items.pop().unwrap()
///         })
///     })
/// };
/// magpie_sync::__doc_block_on(async {
///     let (buffer, cond) = &*state;
///     buffer.lock().await.push(42);
///     cond.notify(1);
/// });
/// assert_eq!(consumer.join().unwrap(), 42);
/// ```
pub struct Condition {
    waiting: AtomicBool,
    /// Address of the bound mutex, 0 until the first `wait`.
    bound: AtomicUsize,
    waiters: StdMutex<WaitList<Grant>>,
    /// The label shown in dumps (`with_label`); read only on the pending path.
    label: Option<&'static str>,
}

impl Condition {
    /// Creates a condition, not yet bound to a mutex.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = magpie_sync::Condition::new();
    /// cond.notify_all(); // nobody waits: nothing happens
    /// ```
    pub fn new() -> Self {
        Self {
            waiting: AtomicBool::new(false),
            bound: AtomicUsize::new(0),
            waiters: StdMutex::new(WaitList::new()),
            label: None,
        }
    }

    /// The same condition, labelled `label` in task dumps (`magpie::diag`): a task in
    /// [`wait`](Self::wait) shows as waiting on `Condition` with this label until
    /// notified (then on the mutex, while it re-locks).
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = magpie_sync::Condition::new().with_label("buffer-not-empty");
    /// cond.notify_all();
    /// ```
    pub fn with_label(mut self, label: &'static str) -> Self {
        self.label = Some(label);
        self
    }

    /// Records, for the current task, that it waits to be notified (`crate::diag`).
    fn record_wait(&self) {
        let resource = self as *const Condition as usize;
        crate::diag::record_wait(crate::diag::WaitRecord::new(
            "Condition",
            self.label,
            resource,
        ));
    }

    fn lock(&self) -> StdMutexGuard<'_, WaitList<Grant>> {
        self.waiters.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn sync_waiting(&self, list: &WaitList<Grant>) {
        self.waiting.store(!list.is_empty(), Ordering::SeqCst);
    }

    fn notify_locked(
        &self,
        list: &mut WaitList<Grant>,
        n: usize,
        grant: Grant,
        wakers: &mut WakeList,
    ) {
        for _ in 0..n {
            if !list.grant_front_with(grant, wakers) {
                break;
            }
        }
        self.sync_waiting(list);
    }

    fn notify_with(&self, n: usize, grant: Grant) {
        if n == 0 || !self.waiting.load(Ordering::SeqCst) {
            return;
        }
        let mut wakers = WakeList::new();
        let mut list = self.lock();
        self.notify_locked(&mut list, n, grant, &mut wakers);
        drop(list);
        wakers.wake_all();
    }

    /// Wakes up to `n` of the tasks waiting on this condition, longest-waiting first.
    /// With nobody waiting it does nothing (notifications are not stored).
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = magpie_sync::Condition::new();
    /// cond.notify(1);
    /// ```
    pub fn notify(&self, n: usize) {
        self.notify_with(n, Grant::One);
    }

    /// Wakes every task waiting on this condition.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = magpie_sync::Condition::new();
    /// cond.notify_all();
    /// ```
    pub fn notify_all(&self) {
        self.notify_with(usize::MAX, Grant::All);
    }

    fn bind<T>(&self, mutex: &Mutex<T>) {
        let addr = mutex as *const Mutex<T> as usize;
        match self
            .bound
            .compare_exchange(0, addr, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => {}
            Err(bound) if bound == addr => {}
            Err(_) => panic!("Condition::wait: this condition is bound to another mutex"),
        }
    }

    /// Releases the lock, waits to be notified, re-acquires the lock and returns the guard.
    ///
    /// The waiter is queued before the lock is released, so a notification sent by a task
    /// that takes the lock afterwards is never missed.
    ///
    /// # Panics
    ///
    /// If this condition was already used with a guard of a different mutex.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use magpie_sync::{Condition, Mutex};
    ///
    /// let pair = Arc::new((Mutex::new(false), Condition::new()));
    /// let pair2 = pair.clone();
    /// std::thread::spawn(move || {
    ///     magpie_sync::__doc_block_on(async move {
    ///         *pair2.0.lock().await = true;
    ///         pair2.1.notify_all();
    ///     })
    /// });
    /// magpie_sync::__doc_block_on(async {
    ///     let (ready, cond) = &*pair;
    ///     let mut guard = ready.lock().await;
    ///     while !*guard {
    ///         guard = cond.wait(guard).await;
    ///     }
    /// });
    /// ```
    pub fn wait<'a, T>(
        &self,
        guard: MutexGuard<'a, T>,
    ) -> impl Future<Output = MutexGuard<'a, T>> + use<'_, 'a, T> {
        let mutex = MutexGuard::mutex(&guard);
        self.bind(mutex);
        Wait {
            cond: self,
            mutex,
            state: State::Start(Some(guard)),
            waiter: Waiter::new(),
        }
    }

    /// Waits until `predicate` holds for the protected data: checks it, and
    /// [`wait`](Self::wait)s until it does. Returns the guard, with the predicate true.
    ///
    /// # Panics
    ///
    /// If this condition was already used with a guard of a different mutex.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use magpie_sync::{Condition, Mutex};
    ///
    /// let pair = Arc::new((Mutex::new(0), Condition::new()));
    /// let pair2 = pair.clone();
    /// let t = std::thread::spawn(move || {
    ///     magpie_sync::__doc_block_on(async move {
    ///         for _ in 0..3 {
    ///             *pair2.0.lock().await += 1;
    ///             pair2.1.notify_all();
    ///         }
    ///     })
    /// });
    /// magpie_sync::__doc_block_on(async {
    ///     let (count, cond) = &*pair;
    ///     let guard = cond.wait_for(count.lock().await, |n| *n == 3).await;
    ///     assert_eq!(*guard, 3);
    /// });
    /// t.join().unwrap();
    /// ```
    pub async fn wait_for<'a, T, F>(
        &self,
        mut guard: MutexGuard<'a, T>,
        mut predicate: F,
    ) -> MutexGuard<'a, T>
    where
        F: FnMut(&mut T) -> bool,
    {
        while !predicate(&mut guard) {
            guard = self.wait(guard).await;
        }
        guard
    }
}

impl Default for Condition {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condition")
            .field("waiting", &self.waiting.load(Ordering::Relaxed))
            .finish()
    }
}

enum State<'a, T> {
    /// Not polled yet: still holding the lock.
    Start(Option<MutexGuard<'a, T>>),
    /// `waiter` is queued for a notification; the lock was released.
    Queued,
    /// Notified; re-acquiring the lock (the `Acquire` is pinned in place).
    Relocking(Acquire<'a>, Grant),
    Done,
}

struct Wait<'c, 'a, T> {
    cond: &'c Condition,
    mutex: &'a Mutex<T>,
    state: State<'a, T>,
    /// Our node in the condition's wait list (`!Unpin`: `Wait` stays pinned).
    waiter: Waiter<Grant>,
}

impl<'a, T> Future for Wait<'_, 'a, T> {
    type Output = MutexGuard<'a, T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<MutexGuard<'a, T>> {
        // SAFETY: nothing is moved out of `*this`: `state` is only overwritten in place
        // (dropping the old value where it lies), the `Acquire` in it is polled pinned, and
        // `waiter` is only used by reference. So both stay pinned until dropped.
        let this = unsafe { self.get_unchecked_mut() };
        loop {
            match &mut this.state {
                State::Start(guard) => {
                    let guard = guard.take();
                    let mut stale = StaleWakers::new(); // an idle waiter leaves none
                    let mut list = this.cond.lock();
                    // SAFETY: the waiter is ours (idle) and only used with this
                    // condition's list; `self` is pinned and `Drop` removes the waiter (the
                    // contract of `poll_waiter`).
                    let queued = unsafe {
                        list.poll_waiter(&this.waiter, cx.waker(), Grant::None, &mut stale)
                    };
                    debug_assert!(queued.is_pending());
                    this.cond.sync_waiting(&list);
                    drop(list);
                    this.state = State::Queued;
                    drop(guard); // COND-1: queued first, then unlock
                    this.cond.record_wait();
                    return Poll::Pending;
                }
                State::Queued => {
                    let mut stale = StaleWakers::new(); // dropped after `list` (WL-6)
                    let mut list = this.cond.lock();
                    // SAFETY: ours, queued or granted in this list; pinned, and removed by
                    // `Drop` (the contract of `poll_waiter`).
                    let polled = unsafe {
                        list.poll_waiter(&this.waiter, cx.waker(), Grant::None, &mut stale)
                    };
                    let Poll::Ready(grant) = polled else {
                        drop(list);
                        this.cond.record_wait();
                        return Poll::Pending;
                    };
                    drop(list);
                    this.state = State::Relocking(Acquire::new(this.mutex.raw(), 1), grant);
                }
                State::Relocking(acquire, _) => {
                    // SAFETY: `acquire` lives in `this.state`, which is pinned (see above)
                    // and is dropped in place before being overwritten.
                    let acquire = unsafe { Pin::new_unchecked(acquire) };
                    return match acquire.poll(cx) {
                        Poll::Pending => Poll::Pending,
                        Poll::Ready(Ok(())) => {
                            this.state = State::Done;
                            Poll::Ready(MutexGuard::new(this.mutex))
                        }
                        Poll::Ready(Err(_)) => unreachable!("a mutex is never closed"),
                    };
                }
                State::Done => panic!("Condition::wait polled after completion"),
            }
        }
    }
}

impl<T> Drop for Wait<'_, '_, T> {
    fn drop(&mut self) {
        match &self.state {
            State::Queued => {
                let mut wakers = WakeList::new();
                let mut stale = StaleWakers::new(); // dropped after `list` (WL-6)
                let mut list = self.cond.lock();
                // SAFETY: ours, queued or granted in this list, under its lock (WL-1).
                match unsafe { list.remove(&self.waiter, &mut stale) } {
                    Removed::Granted(Grant::One) => {
                        self.cond
                            .notify_locked(&mut list, 1, Grant::One, &mut wakers)
                    }
                    _ => self.cond.sync_waiting(&list),
                }
                drop(list);
                wakers.wake_all();
            }
            State::Relocking(_, grant) => {
                let grant = *grant;
                // Drops the `Acquire` in place (it is pinned), which hands on any lock
                // it was granted.
                self.state = State::Done;
                if grant == Grant::One {
                    self.cond.notify(1);
                }
            }
            State::Start(_) | State::Done => {}
        }
    }
}

impl<T> fmt::Debug for Wait<'_, '_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wait").finish_non_exhaustive()
    }
}

#[cfg(all(test, not(loom)))]
mod tests;
