//! The FIFO waiter queue every primitive in this crate parks its waiters in.
//!
//! A [`WaitList`] is an intrusive doubly linked list: its nodes ([`Waiter`]s) live inside
//! the waiting futures themselves, so queueing a waiter allocates nothing, and a list
//! costs two pointers. A waiter is unlinked from anywhere in O(1). The list is always used
//! under the owning primitive's short lock (a `Mutex` from [`crate::loom`]); each primitive
//! keeps an atomic beside it so its uncontended path never takes that lock.
//!
//! # Waiter states
//!
//! A waiter is `IDLE` (in no list), `QUEUED` (linked into the FIFO chain, holding its
//! task's `Waker`) or `GRANTED` (unlinked by a grant, its waker taken and woken, not yet
//! removed by its owner). Every waiter carries a piece of primitive-specific data (`T`):
//! the permits still missing, the kind of notification, the arrival index, ...
//!
//! # Invariants
//!
//! The `// SAFETY:` comments in this crate cite these by name (`WL-1` to `WL-6`).
//!
//! - **WL-1. One owner, one list.** A [`Waiter`] is a field of exactly one waiting future (its
//!   owner). Only the owner passes it to [`WaitList::poll_waiter`] and
//!   [`WaitList::remove`], and always to the same list (that of the primitive it
//!   waits on). A waiter's links, waker and data are therefore read and written only
//!   under that list's lock (every access goes through `&mut WaitList`); its state byte
//!   is written only under it too, and read without it only by the owner, who alone
//!   moves a waiter out of and back into `IDLE`.
//! - **WL-2. Pinned while not idle.** From `push_back` until `remove`, a waiter does not move
//!   and is not freed: the owner is a pinned future (`!Unpin` through the waiter's
//!   `PhantomPinned`), and its `Drop` removes a waiter that is not `IDLE` before the
//!   waiter itself is dropped. A `Waiter` dropped while not idle aborts the process
//!   rather than leave a dangling pointer in a list. (A pinned future that is leaked
//!   instead, say with `mem::forget` of its `Box`, leaks its waiter too, which stays
//!   valid.) So every pointer the list holds names a live waiter, and a list may be
//!   dropped with waiters still linked: it follows no pointer when dropped.
//! - **WL-3. Queued means linked.** A waiter is in the FIFO chain if and only if it is
//!   `QUEUED`. Arrival order is chain order, and every grant a primitive makes goes to the
//!   front of the chain first (FIFO fairness).
//! - **WL-4. One wake per grant.** A grant unlinks the waiter and *takes* its waker; a granted
//!   waiter has no waker left, so one grant wakes its waiter at most once.
//! - **WL-5. A grant is owned until consumed.** Between a grant and the owner's
//!   [`WaitList::remove`], the grant (permits, a notification, a reserved item) belongs to
//!   the waiter. `remove` reports whether the waiter was granted; an owner dropped after
//!   its grant must then hand the grant on (to the next waiter or back to the primitive)
//!   under the same lock, so nothing granted is ever lost.
//! - **WL-6. Wake and drop outside the lock.** Wakers taken under the lock are collected in a
//!   [`WakeList`] and woken after the lock is released; wakers taken out without a
//!   wake-up (replaced by a re-poll with another waker, or held by a removed waiter) go
//!   into a [`StaleWakers`] and are dropped after the lock is released. So a waker whose
//!   `wake` or `drop` runs user code (or re-enters the primitive) never runs under it.

use core::marker::PhantomPinned;
use core::mem::ManuallyDrop;
use core::ptr::NonNull;
use core::task::{Poll, Waker};

use crate::loom::atomic::{AtomicU8, Ordering};
use crate::loom::UnsafeCell;

const IDLE: u8 = 0;
const QUEUED: u8 = 1;
const GRANTED: u8 = 2;

type Link<T> = Option<NonNull<Waiter<T>>>;

/// A waiter's links and waker, only touched under the list's lock (WL-1).
struct Node<T> {
    prev: Link<T>,
    next: Link<T>,
    /// `None` whenever the waiter is idle (removal clears it), so dropping an idle
    /// waiter has no waker to drop: no drop glue on the fast paths.
    waker: ManuallyDrop<Option<Waker>>,
}

/// One waiting future's node in a [`WaitList`]; a field of that future (WL-1).
///
/// `data` sits outside `node` so that a small `T` packs beside the state byte.
pub(crate) struct Waiter<T> {
    state: AtomicU8,
    /// Only touched under the list's lock (WL-1).
    data: UnsafeCell<T>,
    node: UnsafeCell<Node<T>>,
    _pinned: PhantomPinned,
}

// SAFETY: the node holds a `Waker` (Send + Sync), a `T` and pointers to other waiters of
// the same list; all of it is only touched under the list's lock (WL-1), which
// hands it from thread to thread with the needed synchronisation. The state byte is atomic.
unsafe impl<T: Send> Send for Waiter<T> {}
// SAFETY: as for `Send`: a shared `&Waiter` gives no access to the node without the lock.
unsafe impl<T: Send> Sync for Waiter<T> {}

impl<T: Copy + Default> Waiter<T> {
    /// A waiter in no list.
    pub(crate) fn new() -> Self {
        Self {
            state: AtomicU8::new(IDLE),
            data: UnsafeCell::new(T::default()),
            node: UnsafeCell::new(Node {
                prev: None,
                next: None,
                waker: ManuallyDrop::new(None),
            }),
            _pinned: PhantomPinned,
        }
    }
}

impl<T> Waiter<T> {
    /// Whether the waiter is in no list. Exact for its owner without the lock, since only
    /// the owner moves it into and out of `IDLE` (WL-1).
    pub(crate) fn is_idle(&self) -> bool {
        self.state.load(Ordering::Acquire) == IDLE
    }
}

impl<T> Drop for Waiter<T> {
    fn drop(&mut self) {
        // An atomic load, not `get_mut`: if WL-2 were broken, a list could be
        // writing the state byte right now.
        if !self.is_idle() {
            // A list still points here (WL-2 broken): continuing would be UB.
            std::eprintln!("magpie-sync: a waiter was dropped while still in a wait list");
            std::process::abort();
        }
    }
}

/// How a waiter was when its owner removed it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Removed<T> {
    /// Still waiting in the queue: nothing was granted.
    Queued(T),
    /// Granted and not yet consumed: the caller now owns the grant (WL-5).
    Granted(T),
}

/// A FIFO queue of waiters linked through the waiting futures. See the module docs.
pub(crate) struct WaitList<T> {
    head: Link<T>,
    tail: Link<T>,
}

// SAFETY: the list only holds pointers to waiters, which are `Send + Sync` for `T: Send`,
// and follows them only through `&mut self`, under the primitive's lock (WL-1).
unsafe impl<T: Send> Send for WaitList<T> {}
// SAFETY: `&WaitList` only reads `head` (`is_empty`); nodes are reached through `&mut`.
unsafe impl<T: Send> Sync for WaitList<T> {}

/// Runs `f` on the node of a waiter.
///
/// # Safety
///
/// `waiter` names a live waiter (WL-2) whose node may be touched by the caller now:
/// the caller holds the lock of the list the waiter belongs to (WL-1), and no other
/// reference to this node is live.
unsafe fn with_node<T, R>(waiter: NonNull<Waiter<T>>, f: impl FnOnce(&mut Node<T>) -> R) -> R {
    // SAFETY: live by the caller's contract.
    let waiter = unsafe { waiter.as_ref() };
    waiter.node.with_mut(|node| {
        // SAFETY: exclusive access under the lock, by the caller's contract.
        f(unsafe { &mut *node })
    })
}

/// Runs `f` on the data of a waiter.
///
/// # Safety
///
/// As for [`with_node`].
unsafe fn with_data<T, R>(waiter: NonNull<Waiter<T>>, f: impl FnOnce(&mut T) -> R) -> R {
    // SAFETY: live by the caller's contract.
    let waiter = unsafe { waiter.as_ref() };
    waiter.data.with_mut(|data| {
        // SAFETY: exclusive access under the lock, by the caller's contract.
        f(unsafe { &mut *data })
    })
}

impl<T: Copy> WaitList<T> {
    pub(crate) const fn new() -> Self {
        Self {
            head: None,
            tail: None,
        }
    }

    /// Whether no waiter is queued.
    pub(crate) fn is_empty(&self) -> bool {
        self.head.is_none()
    }

    /// Runs `f` on the data of the oldest queued waiter, if any.
    pub(crate) fn with_front<R>(&mut self, f: impl FnOnce(&mut T) -> R) -> Option<R> {
        let head = self.head?;
        // SAFETY: `head` is linked here, so it is live (WL-2), and `&mut self` is
        // this list's lock (WL-1).
        Some(unsafe { with_data(head, f) })
    }

    /// Grants the oldest queued waiter: unlinks it, marks it granted and puts its waker
    /// in `wakers` (WL-4). Returns `false` if nobody is queued.
    pub(crate) fn grant_front(&mut self, wakers: &mut WakeList) -> bool {
        let Some(head) = self.head else { return false };
        // SAFETY: `head` is linked here, so it is live (WL-2), and `&mut self` is
        // this list's lock (WL-1).
        let waker = unsafe {
            self.unlink(head);
            with_node(head, |node| node.waker.take())
        };
        // SAFETY: live, as above; the state byte is written under the lock (WL-1).
        unsafe { head.as_ref() }
            .state
            .store(GRANTED, Ordering::Release);
        wakers.push(waker);
        true
    }

    /// Sets the front waiter's data to `data` and grants it (see [`grant_front`]).
    ///
    /// [`grant_front`]: Self::grant_front
    pub(crate) fn grant_front_with(&mut self, data: T, wakers: &mut WakeList) -> bool {
        self.with_front(|d| *d = data).is_some() && self.grant_front(wakers)
    }

    /// Appends an idle waiter at the back of the FIFO chain.
    ///
    /// # Safety
    ///
    /// The caller owns `waiter` and uses it with this list only (WL-1), `waiter` is
    /// idle, and it will not move or be freed before the caller passes it to
    /// [`remove`](Self::remove) (WL-2).
    unsafe fn push_back(&mut self, waiter: &Waiter<T>, waker: Waker, data: T) {
        debug_assert!(waiter.is_idle(), "a waiter queued twice");
        let ptr = NonNull::from(waiter);
        let tail = self.tail;
        // SAFETY: the caller owns the idle waiter, so nobody else touches its node.
        unsafe {
            with_node(ptr, |node| {
                node.prev = tail;
                node.next = None;
                *node.waker = Some(waker);
            });
            with_data(ptr, |d| *d = data);
        }
        match tail {
            // SAFETY: the tail is linked here, so live (WL-2); we hold the lock.
            Some(tail) => unsafe { with_node(tail, |node| node.next = Some(ptr)) },
            None => self.head = Some(ptr),
        }
        self.tail = Some(ptr);
        waiter.state.store(QUEUED, Ordering::Release);
    }

    /// The poll of a waiting future, in one place for every primitive: a waiter not yet
    /// queued is queued (with `waker` and `data`); a queued one has its waker refreshed;
    /// a granted one is removed and its grant returned (WL-5).
    ///
    /// `data` is only used to queue an idle waiter. A waker replaced by the refresh goes
    /// into `stale`, to be dropped after the lock is released (WL-6).
    ///
    /// # Safety
    ///
    /// The caller owns `waiter` and uses it with this list only (WL-1), and it will
    /// not move or be freed before the caller passes it to [`remove`](Self::remove)
    /// (WL-2): in practice `waiter` is a field of a pinned `!Unpin` future whose
    /// `Drop` removes a waiter that is not idle. Every poll site in this crate discharges
    /// the contract in that way, so this is the one place that argues it.
    pub(crate) unsafe fn poll_waiter(
        &mut self,
        waiter: &Waiter<T>,
        waker: &Waker,
        data: T,
        stale: &mut StaleWakers,
    ) -> Poll<T> {
        match waiter.state.load(Ordering::Acquire) {
            IDLE => {
                // SAFETY: ours, idle, pinned until removed: the caller's contract.
                unsafe { self.push_back(waiter, waker.clone(), data) };
                Poll::Pending
            }
            QUEUED => {
                // SAFETY: ours and queued in this list, whose lock `&mut self` is.
                let old = unsafe {
                    with_node(NonNull::from(waiter), |node| match &*node.waker {
                        Some(w) if w.will_wake(waker) => None,
                        _ => node.waker.replace(waker.clone()),
                    })
                };
                stale.push(old);
                Poll::Pending
            }
            // SAFETY: ours and granted in this list, under its lock (the contract).
            _ => match unsafe { self.remove(waiter, stale) } {
                Removed::Granted(data) => Poll::Ready(data),
                Removed::Queued(_) => unreachable!("the state byte said granted"),
            },
        }
    }

    /// Unlinks a queued waiter.
    ///
    /// # Safety
    ///
    /// `waiter` is queued in this list and `&mut self` is its lock.
    unsafe fn unlink(&mut self, waiter: NonNull<Waiter<T>>) {
        // SAFETY: queued here, so live (WL-2), under the lock (WL-1).
        let (prev, next) = unsafe {
            with_node(waiter, |node| {
                (
                    core::mem::take(&mut node.prev),
                    core::mem::take(&mut node.next),
                )
            })
        };
        match prev {
            // SAFETY: `prev` is linked here, so live; we hold the lock.
            Some(prev) => unsafe { with_node(prev, |node| node.next = next) },
            None => self.head = next,
        }
        match next {
            // SAFETY: `next` is linked here, so live; we hold the lock.
            Some(next) => unsafe { with_node(next, |node| node.prev = prev) },
            None => self.tail = prev,
        }
    }

    /// Takes the waiter out of the list (if queued) and makes it idle again; returns its
    /// data and whether it had been granted (WL-5). A queued waiter's waker goes
    /// into `stale`, to be dropped after the lock is released (WL-6).
    ///
    /// # Safety
    ///
    /// The caller owns `waiter`, which is queued or granted in this list (WL-1).
    pub(crate) unsafe fn remove(
        &mut self,
        waiter: &Waiter<T>,
        stale: &mut StaleWakers,
    ) -> Removed<T> {
        let ptr = NonNull::from(waiter);
        let state = waiter.state.load(Ordering::Acquire);
        // SAFETY: ours and in this list, under its lock (the caller's contract).
        let data = unsafe {
            if state == QUEUED {
                self.unlink(ptr);
            }
            stale.push(with_node(ptr, |node| node.waker.take()));
            with_data(ptr, |d| *d)
        };
        waiter.state.store(IDLE, Ordering::Release);
        match state {
            QUEUED => Removed::Queued(data),
            GRANTED => Removed::Granted(data),
            _ => unreachable!("an idle waiter removed"),
        }
    }

    /// The queued waiters' data, front first (tests only).
    #[cfg(all(test, not(loom)))]
    pub(crate) fn queued_data(&mut self) -> std::vec::Vec<T> {
        let mut out = std::vec::Vec::new();
        let mut cur = self.head;
        while let Some(ptr) = cur {
            // SAFETY: linked here, so live (WL-2); `&mut self` is the lock.
            cur = unsafe {
                out.push(with_data(ptr, |d| *d));
                with_node(ptr, |node| node.next)
            };
        }
        out
    }
}

impl<T> core::fmt::Debug for WaitList<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("WaitList")
            .field("empty", &self.head.is_none())
            .finish()
    }
}

/// Wakers taken out of a wait list under its lock *without* a wake-up (a waker replaced
/// by a re-poll, the waker of a removed waiter), to be dropped after the lock is released
/// (WL-6): a waker's drop may run user code that re-enters the primitive.
///
/// Declare it *before* the lock guard, so that it is dropped after the guard (locals drop
/// in reverse order), or drop it explicitly after unlocking. One operation on one waiter
/// leaves at most one stale waker, which is kept inline; more spill to a `Vec`.
#[derive(Default)]
pub(crate) struct StaleWakers {
    one: Option<Waker>,
    more: Vec<Waker>,
}

impl StaleWakers {
    pub(crate) const fn new() -> Self {
        Self {
            one: None,
            more: Vec::new(),
        }
    }

    /// Keeps a waker (if any) to be dropped later.
    pub(crate) fn push(&mut self, waker: Option<Waker>) {
        if let Some(w) = waker {
            if self.one.is_none() {
                self.one = Some(w);
            } else {
                self.more.push(w);
            }
        }
    }
}

/// How many wakers a [`WakeList`] holds inline before it spills to the heap.
const WAKE_BATCH: usize = 32;

/// Wakers collected under a lock, to be woken after it is released (WL-6).
///
/// Holds [`WAKE_BATCH`] wakers inline; callers that can release the lock between batches
/// check [`is_full`](Self::is_full), the others (broadcasts that must grant every waiter
/// in one critical section) let it spill into a `Vec`.
pub(crate) struct WakeList {
    wakers: [Option<Waker>; WAKE_BATCH],
    len: usize,
    spilled: Vec<Waker>,
}

impl WakeList {
    pub(crate) fn new() -> Self {
        Self {
            wakers: [const { None }; WAKE_BATCH],
            len: 0,
            spilled: Vec::new(),
        }
    }

    pub(crate) fn is_full(&self) -> bool {
        self.len == WAKE_BATCH
    }

    /// Stores a waker (if any).
    pub(crate) fn push(&mut self, waker: Option<Waker>) {
        if let Some(w) = waker {
            if self.len < WAKE_BATCH {
                self.wakers[self.len] = Some(w);
                self.len += 1;
            } else {
                self.spilled.push(w);
            }
        }
    }

    /// Wakes and forgets every stored waker.
    pub(crate) fn wake_all(&mut self) {
        for slot in &mut self.wakers[..self.len] {
            if let Some(w) = slot.take() {
                w.wake();
            }
        }
        self.len = 0;
        for w in self.spilled.drain(..) {
            w.wake();
        }
    }
}

impl Drop for WakeList {
    fn drop(&mut self) {
        self.wake_all();
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use core::pin::pin;

    #[test]
    fn fifo_order_and_removal_from_the_middle() {
        let mut list = WaitList::new();
        let mut wakers = WakeList::new();
        let mut stale = StaleWakers::new();
        let (a, b, c, d) = (
            pin!(Waiter::new()),
            pin!(Waiter::new()),
            pin!(Waiter::new()),
            pin!(Waiter::new()),
        );
        let (a, b, c, d) = (&*a, &*b, &*c, &*d);
        // SAFETY: the waiters are pinned on this stack frame and removed before its end;
        // this test owns them all and uses one list.
        unsafe {
            assert!(list
                .poll_waiter(a, Waker::noop(), 'a', &mut stale)
                .is_pending());
            assert!(list
                .poll_waiter(b, Waker::noop(), 'b', &mut stale)
                .is_pending());
            assert!(list
                .poll_waiter(c, Waker::noop(), 'c', &mut stale)
                .is_pending());
            assert_eq!(list.queued_data(), ['a', 'b', 'c']);
            assert_eq!(list.remove(b, &mut stale), Removed::Queued('b'));
            assert_eq!(list.queued_data(), ['a', 'c']);
            assert!(list.grant_front(&mut wakers));
            assert_eq!(
                list.poll_waiter(a, Waker::noop(), 'x', &mut stale),
                Poll::Ready('a')
            );
            assert_eq!(list.queued_data(), ['c']);
            assert!(a.is_idle());
            // A removed waiter can queue again.
            assert!(list
                .poll_waiter(d, Waker::noop(), 'd', &mut stale)
                .is_pending());
            assert!(list
                .poll_waiter(b, Waker::noop(), 'B', &mut stale)
                .is_pending());
            assert_eq!(list.queued_data(), ['c', 'd', 'B']);
            assert_eq!(list.remove(c, &mut stale), Removed::Queued('c'));
            assert_eq!(list.with_front(|d| *d), Some('d'));
            assert_eq!(list.remove(b, &mut stale), Removed::Queued('B'));
            assert_eq!(list.remove(d, &mut stale), Removed::Queued('d'));
        }
        assert!(list.is_empty());
        assert_eq!(list.with_front(|d| *d), None);
        assert!(!list.grant_front(&mut wakers));
    }

    #[test]
    fn waiting_futures_stay_send_and_sync() {
        // The waiter node inside each future must not cost the futures their auto traits.
        fn assert_send_sync<T: Send + Sync>(_: &T) {}
        let (e, n) = (crate::Event::new(), crate::Notify::new());
        assert_send_sync(&e.wait());
        assert_send_sync(&n.notified());
        let (m, rw) = (crate::Mutex::new(0u8), crate::RwLock::new(0u8));
        assert_send_sync(&m.lock());
        assert_send_sync(&rw.read());
        assert_send_sync(&rw.write());
        let s = crate::Semaphore::new(1);
        assert_send_sync(&s.acquire());
        assert_send_sync(&crate::Barrier::new(2).wait());
        let q = crate::Queue::<u8>::bounded(1);
        assert_send_sync(&q.put(1));
        assert_send_sync(&q.get());
        assert_send_sync(&q.join());
    }

    #[test]
    fn grant_takes_the_waker_once() {
        let mut list = WaitList::new();
        let mut wakers = WakeList::new();
        let mut stale = StaleWakers::new();
        let a = pin!(Waiter::<()>::new());
        // SAFETY: pinned here, removed before the end of the test, one list.
        unsafe {
            list.push_back(&a, Waker::noop().clone(), ());
            assert!(list.grant_front(&mut wakers));
            assert_eq!(wakers.len, 1);
            assert!(!list.grant_front(&mut wakers));
            assert_eq!(wakers.len, 1);
            // The re-poll consumes the grant; the granted waiter kept no waker.
            assert_eq!(
                list.poll_waiter(&a, Waker::noop(), (), &mut stale),
                Poll::Ready(())
            );
            assert!(stale.one.is_none());
        }
    }
}
