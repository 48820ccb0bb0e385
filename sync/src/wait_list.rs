//! The FIFO waiter queue every primitive in this crate parks its waiters in.
//!
//! A [`WaitList`] is a slab of waiter slots threaded into a doubly linked FIFO chain by
//! index. It contains no `unsafe` code: the "intrusive list" is a `Vec` of slots whose
//! `prev`/`next` fields are indices, so a waiter can be unlinked from the middle in O(1)
//! and a slot is reused once its owner gives it back. It is always used under the owning
//! primitive's short lock (a `Mutex` from [`crate::loom`]); each primitive keeps an atomic
//! beside it so its uncontended path never takes that lock.
//!
//! # Slot states
//!
//! A slot is `Vacant`, `Queued` (linked into the FIFO chain, holding the waiter's `Waker`)
//! or `Granted` (unlinked, its waker taken and woken). Every slot carries a piece of
//! primitive-specific data (`T`): the permits still missing, the kind of notification, the
//! arrival index, ...
//!
//! # Invariants
//!
//! The primitives rely on these; `// SAFETY:`-free as the code is, the crate's correctness
//! arguments cite them by number.
//!
//! 1. **One owner per key.** [`WaitList::push_back`] returns a key owned by exactly one
//!    waiter future. Only that future calls [`WaitList::remove`] on it (when it completes
//!    or is dropped), and the list never frees a slot by itself, so a key can never come to
//!    name someone else's slot.
//! 2. **Queued means linked.** A slot is in the FIFO chain if and only if it is `Queued`;
//!    [`WaitList::len`] counts exactly those. Arrival order is chain order, and every grant
//!    a primitive makes goes to the front of the chain first (FIFO fairness).
//! 3. **One wake per grant.** [`WaitList::grant`] unlinks the slot and *takes* its waker;
//!    a granted slot has no waker left, so one grant wakes its waiter at most once.
//! 4. **A grant is owned until consumed.** Between [`WaitList::grant`] and the owner's
//!    [`WaitList::remove`], the grant (permits, a notification, a reserved item) belongs to
//!    the slot. `remove` reports whether the slot was granted; an owner dropped after its
//!    grant must then hand the grant on (to the next waiter or back to the primitive) under
//!    the same lock, so nothing granted is ever lost.
//! 5. **Wake outside the lock.** Wakers taken under the lock are collected in a
//!    [`WakeList`] and woken after the lock is released, so a waker that runs user code
//!    (or re-enters the primitive) never runs under it.

use core::task::Waker;

/// Identifies one waiter's slot; owned by that waiter (invariant 1).
pub(crate) type Key = usize;

const NIL: usize = usize::MAX;

enum SlotState<T> {
    Vacant { next_free: usize },
    Queued { waker: Option<Waker>, data: T },
    Granted { data: T },
}

struct Slot<T> {
    prev: usize,
    next: usize,
    state: SlotState<T>,
}

/// How a slot was when its owner removed it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Removed<T> {
    /// Still waiting in the queue: nothing was granted.
    Queued(T),
    /// Granted and not yet consumed: the caller now owns the grant (invariant 4).
    Granted(T),
}

/// A FIFO queue of waiters in a slab of reusable slots. See the module docs.
pub(crate) struct WaitList<T> {
    slots: Vec<Slot<T>>,
    free: usize,
    head: usize,
    tail: usize,
    queued: usize,
}

impl<T> WaitList<T> {
    pub(crate) const fn new() -> Self {
        Self {
            slots: Vec::new(),
            free: NIL,
            head: NIL,
            tail: NIL,
            queued: 0,
        }
    }

    /// Number of `Queued` (not yet granted) waiters.
    pub(crate) fn len(&self) -> usize {
        self.queued
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.queued == 0
    }

    /// Appends a waiter at the back of the FIFO chain.
    pub(crate) fn push_back(&mut self, waker: Waker, data: T) -> Key {
        let state = SlotState::Queued {
            waker: Some(waker),
            data,
        };
        let key = if self.free != NIL {
            let key = self.free;
            match self.slots[key].state {
                SlotState::Vacant { next_free } => self.free = next_free,
                _ => unreachable!("free list names an occupied slot"),
            }
            self.slots[key].state = state;
            key
        } else {
            self.slots.push(Slot {
                prev: NIL,
                next: NIL,
                state,
            });
            self.slots.len() - 1
        };
        self.slots[key].prev = self.tail;
        self.slots[key].next = NIL;
        if self.tail == NIL {
            self.head = key;
        } else {
            self.slots[self.tail].next = key;
        }
        self.tail = key;
        self.queued += 1;
        key
    }

    /// The oldest queued waiter.
    pub(crate) fn front(&self) -> Option<Key> {
        (self.head != NIL).then_some(self.head)
    }

    /// The queued waiter after `key` in arrival order.
    #[cfg(all(test, not(loom)))]
    pub(crate) fn next_queued(&self, key: Key) -> Option<Key> {
        match self.slots[key].state {
            SlotState::Queued { .. } => {
                let next = self.slots[key].next;
                (next != NIL).then_some(next)
            }
            _ => None,
        }
    }

    /// The data of a queued or granted slot.
    pub(crate) fn data_mut(&mut self, key: Key) -> &mut T {
        match &mut self.slots[key].state {
            SlotState::Queued { data, .. } | SlotState::Granted { data } => data,
            SlotState::Vacant { .. } => unreachable!("key used after remove"),
        }
    }

    pub(crate) fn is_granted(&self, key: Key) -> bool {
        matches!(self.slots[key].state, SlotState::Granted { .. })
    }

    /// Replaces a queued waiter's waker unless it would wake the same task.
    pub(crate) fn set_waker(&mut self, key: Key, new: &Waker) {
        if let SlotState::Queued { waker, .. } = &mut self.slots[key].state {
            match waker {
                Some(w) if w.will_wake(new) => {}
                _ => *waker = Some(new.clone()),
            }
        }
    }

    fn unlink(&mut self, key: Key) {
        let (prev, next) = (self.slots[key].prev, self.slots[key].next);
        if prev == NIL {
            self.head = next;
        } else {
            self.slots[prev].next = next;
        }
        if next == NIL {
            self.tail = prev;
        } else {
            self.slots[next].prev = prev;
        }
        self.slots[key].prev = NIL;
        self.slots[key].next = NIL;
        self.queued -= 1;
    }

    /// Unlinks a queued waiter, marks it granted and returns its waker (invariant 3).
    pub(crate) fn grant(&mut self, key: Key) -> Option<Waker> {
        let state = core::mem::replace(
            &mut self.slots[key].state,
            SlotState::Vacant { next_free: NIL },
        );
        match state {
            SlotState::Queued { waker, data } => {
                self.slots[key].state = SlotState::Granted { data };
                self.unlink(key);
                waker
            }
            other => {
                self.slots[key].state = other;
                unreachable!("only a queued waiter can be granted")
            }
        }
    }

    /// Frees the slot of `key` (called by its owner only, invariant 1).
    pub(crate) fn remove(&mut self, key: Key) -> Removed<T> {
        let state = core::mem::replace(
            &mut self.slots[key].state,
            SlotState::Vacant {
                next_free: self.free,
            },
        );
        let removed = match state {
            SlotState::Queued { data, .. } => {
                self.unlink(key);
                Removed::Queued(data)
            }
            SlotState::Granted { data } => Removed::Granted(data),
            SlotState::Vacant { .. } => unreachable!("key removed twice"),
        };
        self.free = key;
        removed
    }
}

impl<T> core::fmt::Debug for WaitList<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("WaitList")
            .field("queued", &self.queued)
            .finish()
    }
}

/// How many wakers a [`WakeList`] holds inline before it spills to the heap.
const WAKE_BATCH: usize = 32;

/// Wakers collected under a lock, to be woken after it is released (invariant 5).
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

    #[test]
    fn fifo_order_and_removal_from_the_middle() {
        let mut list = WaitList::new();
        let a = list.push_back(Waker::noop().clone(), 'a');
        let b = list.push_back(Waker::noop().clone(), 'b');
        let c = list.push_back(Waker::noop().clone(), 'c');
        assert_eq!(list.len(), 3);
        assert_eq!(list.remove(b), Removed::Queued('b'));
        assert_eq!(list.front(), Some(a));
        assert_eq!(list.next_queued(a), Some(c));
        list.grant(a);
        assert!(list.is_granted(a));
        assert_eq!(list.front(), Some(c));
        assert_eq!(list.len(), 1);
        assert_eq!(list.remove(a), Removed::Granted('a'));
        // The freed slots are reused.
        let d = list.push_back(Waker::noop().clone(), 'd');
        assert!(d == a || d == b);
        assert_eq!(list.next_queued(c), Some(d));
        assert_eq!(list.remove(c), Removed::Queued('c'));
        assert_eq!(list.front(), Some(d));
        assert_eq!(list.remove(d), Removed::Queued('d'));
        assert!(list.is_empty());
        assert_eq!(list.front(), None);
    }

    #[test]
    fn grant_takes_the_waker_once() {
        let mut list = WaitList::new();
        let a = list.push_back(Waker::noop().clone(), ());
        assert!(list.grant(a).is_some());
        list.set_waker(a, Waker::noop()); // ignored: granted slots keep no waker
        assert_eq!(list.remove(a), Removed::Granted(()));
    }
}
