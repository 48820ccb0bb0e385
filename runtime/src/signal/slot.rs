//! One signal's delivery counter and its parked listeners: rules G2 (the announcing half)
//! and G3 of `registry.rs`, kept free of OS calls so loom can check them.

use std::collections::HashMap;
use std::task::Waker;

use crate::loom::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use crate::loom::Mutex;

/// One signal's state.
pub(crate) struct Slot {
    /// Rule G1: set by the OS handler, swapped out by the drain.
    pending: AtomicBool,
    /// Rule G2: deliveries counted so far.
    generation: AtomicU64,
    /// Whether the OS handler is installed; the lock serialises installation.
    pub(crate) installed: Mutex<bool>,
    /// Wakers of listeners waiting for the next generation, by listener id (ids are never
    /// reused, so a listener can only ever remove its own entry).
    waiters: Mutex<HashMap<u64, Waker>>,
}

impl Slot {
    pub(crate) fn new() -> Slot {
        Slot {
            pending: AtomicBool::new(false),
            generation: AtomicU64::new(0),
            installed: Mutex::new(false),
            waiters: Mutex::new(HashMap::new()),
        }
    }

    /// Rule G1: what the OS handler does first (an atomic store: async-signal-safe).
    pub(crate) fn mark_pending(&self) {
        self.pending.store(true, SeqCst);
    }

    /// Rule G2: counts a pending delivery, if any, and wakes every parked listener.
    pub(crate) fn announce(&self) {
        if self.pending.swap(false, SeqCst) {
            self.generation.fetch_add(1, SeqCst);
            // Wakers are taken out under the lock and woken (and dropped) after it.
            let woken = std::mem::take(&mut *self.waiters.lock().unwrap());
            woken.into_values().for_each(Waker::wake);
        }
    }

    /// The deliveries counted so far.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(SeqCst)
    }

    /// Rule G3: whether the generation moved past `*seen` (then `*seen` catches up);
    /// otherwise parks `waker` under the listener's `id` (replacing an earlier one) and
    /// re-checks, so an increment between the two reads is seen by the re-read or by the
    /// wake-up.
    pub(crate) fn poll_changed(&self, seen: &mut u64, id: u64, waker: &Waker) -> bool {
        let now = self.generation.load(SeqCst);
        if now != *seen {
            *seen = now;
            return true;
        }
        let old = self.waiters.lock().unwrap().insert(id, waker.clone());
        drop(old); // outside the lock
        let now = self.generation.load(SeqCst);
        if now != *seen {
            *seen = now;
            return true;
        }
        false
    }

    /// Forgets listener `id`'s parked waker, if any.
    pub(crate) fn unpark(&self, id: u64) {
        let old = self.waiters.lock().unwrap().remove(&id);
        drop(old); // outside the lock
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    //! Rule G3 against a concurrent announce: a listener that looks while a delivery is
    //! being announced on another thread either sees it or is woken, never neither.

    use super::*;
    use crate::loom::Arc;
    use loom::thread;

    /// A waker that counts its wakes.
    struct Flag(AtomicU64);

    impl std::task::Wake for Flag {
        fn wake(self: std::sync::Arc<Self>) {
            self.0.fetch_add(1, SeqCst);
        }
    }

    fn flag() -> (std::sync::Arc<Flag>, Waker) {
        let flag = std::sync::Arc::new(Flag(AtomicU64::new(0)));
        (flag.clone(), Waker::from(flag))
    }

    #[test]
    fn loom_signal_listener_sees_or_is_woken() {
        loom::model(|| {
            let slot = Arc::new(Slot::new());
            let s = slot.clone();
            let handler = thread::spawn(move || {
                s.mark_pending(); // the OS handler...
                s.announce(); // ...and a drain on another thread
            });
            let (flag, waker) = flag();
            let mut seen = 0;
            let ready = slot.poll_changed(&mut seen, 1, &waker);
            handler.join().unwrap();
            assert!(
                ready || flag.0.load(SeqCst) == 1,
                "a delivery was neither seen nor woken for"
            );
            // Either way it is reported exactly once.
            let again = slot.poll_changed(&mut seen, 1, &waker);
            assert!(ready || again, "the delivery was never reported");
            assert!(!(ready && again), "one delivery reported twice");
        });
    }

    #[test]
    fn loom_signal_two_deliveries_two_listeners_coalesce() {
        loom::model(|| {
            let slot = Arc::new(Slot::new());
            let s = slot.clone();
            let handler = thread::spawn(move || {
                for _ in 0..2 {
                    s.mark_pending();
                    s.announce();
                }
            });
            let (fa, wa) = flag();
            let (fb, wb) = flag();
            let (mut seen_a, mut seen_b) = (0, 0);
            let a = slot.poll_changed(&mut seen_a, 1, &wa);
            let b = slot.poll_changed(&mut seen_b, 2, &wb);
            handler.join().unwrap();
            // Both deliveries are counted; each listener saw one or was woken.
            assert_eq!(slot.generation(), 2);
            assert!(a || fa.0.load(SeqCst) >= 1);
            assert!(b || fb.0.load(SeqCst) >= 1);
            // Looking now reports the rest at most once, then nothing.
            slot.poll_changed(&mut seen_a, 1, &wa);
            assert!(!slot.poll_changed(&mut seen_a, 1, &wa));
            slot.unpark(1);
            slot.unpark(2);
        });
    }
}
