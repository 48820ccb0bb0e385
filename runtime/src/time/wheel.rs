//! A hierarchical timing wheel: 6 levels of 64 slots, 1 ms per level-0 slot.
//!
//! Time is counted in *ticks* (milliseconds since the driver started). The wheel has
//! processed every tick up to `elapsed`. A timer due at tick `when` sits in the level given
//! by the highest bit in which `when` and `elapsed` differ (six bits per level), in the slot
//! named by `when`'s bits at that level. So level 0 holds the next 64 ms one tick per slot,
//! level 1 the next 4 s at 64 ticks per slot, and so on up to level 5 (about 2 years).
//!
//! - **Insert** and **cancel** are O(1): each slot is an intrusive doubly linked list of slab
//!   indices, and an entry knows its slot.
//! - **Next expiration** is O(levels): each level keeps a 64-bit occupancy mask, and the
//!   first occupied slot at or after the current one is a rotate and a count of zeros.
//! - **Advancing** takes the earliest due slot, fires the entries whose tick has come and
//!   re-files the rest one level down (a slot of level `l` covers `64^l` ticks, so its
//!   entries are only known to be due somewhere inside that span), then repeats.
//!
//! Rule WHEEL-1: an entry at level `l` always lies ahead of `elapsed` within the current
//! turn of level `l + 1` (or, at the top level, within 63 slots of the current one). That is
//! why the first occupied slot in rotation order is the earliest one, and why deadlines
//! beyond the wheel's span are parked at its far end and re-filed when that slot comes
//! round ([`MAX_SPAN`]).
//!
//! Rule WHEEL-2: the wheel never drops a waker. It runs under the driver's timer lock, and
//! a waker's drop may re-enter (register or cancel another timer, which takes that lock).
//! A waker it lets go of (replaced by a re-poll with another waker, or removed with its
//! entry) is moved to this thread's *displaced* list instead, and whoever called into the
//! driver drops it with [`drop_displaced`] once the lock is released (`Sleep` does after
//! every driver call). Wakers of fired entries are handed out to be woken, never dropped
//! here ([`Wheel::advance`], [`Wheel::fire_all`]).
//!
//! Entries stay in the slab after they fire (marked fired) until their owner removes them,
//! so a key is valid for exactly as long as its owner holds it: no key is ever reused under
//! a live `Sleep`.

use std::cell::RefCell;
use std::task::Waker;

use slab::Slab;

use crate::loom::thread_local_const;

thread_local_const! {
    /// Rule WHEEL-2: wakers the wheel let go of on this thread, not yet dropped.
    static DISPLACED: RefCell<Vec<Waker>> = RefCell::new(Vec::new());
}

/// Rule WHEEL-2: keeps `waker` to be dropped by [`drop_displaced`], outside the lock.
pub(crate) fn displace(waker: Waker) {
    // While this thread's locals are being destroyed the list is gone: the waker is then
    // dropped here (the thread is exiting; nothing of it can run again).
    let _ = DISPLACED.try_with(move |displaced| displaced.borrow_mut().push(waker));
}

/// Drops the wakers the wheel displaced on this thread (rule WHEEL-2). Call it with no
/// lock held: a drop may re-enter the driver, and may displace more wakers, which this
/// drops too. One at a time, so the list keeps its allocation and no borrow is held
/// across a drop.
pub(crate) fn drop_displaced() {
    while let Some(waker) = DISPLACED
        .try_with(|displaced| displaced.borrow_mut().pop())
        .ok()
        .flatten()
    {
        drop(waker);
    }
}

const LEVELS: usize = 6;
const SLOT_BITS: u32 = 6;
const SLOTS: usize = 1 << SLOT_BITS;
const SLOT_MASK: u64 = SLOTS as u64 - 1;
const NIL: usize = usize::MAX;

/// How far ahead of `elapsed` an entry is filed: 63 top-level slots (a little over 2
/// years). Farther deadlines are filed at this distance and re-filed when it comes round,
/// which keeps rule WHEEL-1 at the top level (the current top-level slot is never occupied).
pub(crate) const MAX_SPAN: u64 = (SLOTS as u64 - 1) << (SLOT_BITS * (LEVELS as u32 - 1));

/// A handle on one entry, valid until it is passed to [`Wheel::remove`].
pub(crate) type Key = usize;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Slot { level: u8, slot: u8 },
    Fired,
}

#[derive(Debug)]
struct Entry {
    when: u64,
    waker: Option<Waker>,
    place: Place,
    prev: usize,
    next: usize,
}

#[derive(Debug)]
struct Level {
    occupied: u64,
    heads: [usize; SLOTS],
}

/// The wheel. Not synchronised: the driver keeps it behind a lock.
#[derive(Debug)]
pub(crate) struct Wheel {
    elapsed: u64,
    entries: Slab<Entry>,
    levels: [Level; LEVELS],
    /// Entries not yet fired.
    armed: usize,
}

/// The level an entry due at `pos` belongs to, seen from `elapsed` (`pos > elapsed`).
fn level_for(elapsed: u64, pos: u64) -> usize {
    let masked = (elapsed ^ pos) | SLOT_MASK;
    let significant = 63 - masked.leading_zeros();
    ((significant / SLOT_BITS) as usize).min(LEVELS - 1)
}

fn slot_range(level: usize) -> u64 {
    1 << (SLOT_BITS * level as u32)
}

impl Default for Wheel {
    fn default() -> Self {
        Wheel::new()
    }
}

impl Wheel {
    pub(crate) fn new() -> Wheel {
        Wheel {
            elapsed: 0,
            entries: Slab::new(),
            levels: std::array::from_fn(|_| Level {
                occupied: 0,
                heads: [NIL; SLOTS],
            }),
            armed: 0,
        }
    }

    /// The last tick processed.
    #[cfg(all(test, not(loom)))]
    pub(crate) fn elapsed(&self) -> u64 {
        self.elapsed
    }

    /// Entries held (fired or not): 0 once every owner removed its entry.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Entries not yet fired.
    #[cfg(all(test, not(loom)))]
    pub(crate) fn armed(&self) -> usize {
        self.armed
    }

    /// Adds an entry due at tick `when`. If `when` has already been processed it is
    /// created fired (its owner sees that on its next look).
    pub(crate) fn insert(&mut self, when: u64, waker: Option<Waker>) -> Key {
        let key = self.entries.insert(Entry {
            when,
            waker,
            place: Place::Fired,
            prev: NIL,
            next: NIL,
        });
        if when > self.elapsed {
            self.file(key);
            self.armed += 1;
        }
        key
    }

    /// Removes an entry, fired or not. O(1).
    ///
    /// # Panics
    ///
    /// If `key` is not a live entry (its owner removed it already): an invariant bug.
    /// Its waker, if it still has one, is displaced (rule WHEEL-2).
    pub(crate) fn remove(&mut self, key: Key) {
        if self.entries[key].place != Place::Fired {
            self.unlink(key);
            self.armed -= 1;
        }
        if let Some(waker) = self.entries.remove(key).waker {
            displace(waker);
        }
    }

    /// Moves an entry to a new tick (firing it is then up to the wheel again).
    pub(crate) fn reset(&mut self, key: Key, when: u64) {
        let was_armed = self.entries[key].place != Place::Fired;
        if was_armed {
            self.unlink(key);
            self.armed -= 1;
        }
        let entry = &mut self.entries[key];
        entry.when = when;
        entry.place = Place::Fired;
        if when > self.elapsed {
            self.file(key);
            self.armed += 1;
        }
    }

    /// Whether the entry has fired; if not, stores `waker` to be woken when it does. A
    /// different waker stored before is displaced (rule WHEEL-2).
    pub(crate) fn poll_fired(&mut self, key: Key, waker: &Waker) -> bool {
        let entry = &mut self.entries[key];
        if entry.place == Place::Fired {
            return true;
        }
        match &mut entry.waker {
            Some(w) if w.will_wake(waker) => {}
            slot => {
                if let Some(old) = slot.replace(waker.clone()) {
                    displace(old);
                }
            }
        }
        false
    }

    /// Whether the entry has fired.
    #[cfg(all(test, not(loom)))]
    pub(crate) fn is_fired(&self, key: Key) -> bool {
        self.entries[key].place == Place::Fired
    }

    /// The tick at which the wheel next has work to do (an entry fires or is re-filed), or
    /// `None` when nothing is armed. Never later than the earliest armed entry's tick.
    pub(crate) fn next_expiration(&self) -> Option<u64> {
        (0..LEVELS)
            .filter_map(|level| self.next_slot(level).map(|(_, deadline)| deadline))
            .min()
    }

    /// The first occupied slot of `level` in rotation order, and the tick it starts at.
    fn next_slot(&self, level: usize) -> Option<(usize, u64)> {
        let lvl = &self.levels[level];
        if lvl.occupied == 0 {
            return None;
        }
        let range = slot_range(level);
        let now_slot = (self.elapsed / range) & SLOT_MASK;
        let distance = lvl.occupied.rotate_right(now_slot as u32).trailing_zeros() as u64;
        let slot = (now_slot + distance) & SLOT_MASK;
        let level_range = range << SLOT_BITS;
        let level_start = self.elapsed & !(level_range - 1);
        let mut deadline = level_start + slot * range;
        if deadline < self.elapsed {
            // The top level's slots behind the current one belong to its next turn (WHEEL-1).
            deadline += level_range;
        }
        Some((slot as usize, deadline))
    }

    /// Processes every tick up to `now`: fired entries' wakers are pushed on `fired` in
    /// deadline order (entries due in the same tick in no particular order).
    pub(crate) fn advance(&mut self, now: u64, fired: &mut Vec<Waker>) {
        loop {
            let next = (0..LEVELS)
                .filter_map(|level| self.next_slot(level).map(|(slot, d)| (d, level, slot)))
                .min();
            let Some((deadline, level, slot)) = next else {
                break;
            };
            if deadline > now {
                break;
            }
            self.elapsed = self.elapsed.max(deadline);
            self.process_slot(level, slot, fired);
        }
        self.elapsed = self.elapsed.max(now);
    }

    fn process_slot(&mut self, level: usize, slot: usize, fired: &mut Vec<Waker>) {
        let lvl = &mut self.levels[level];
        let mut cursor = std::mem::replace(&mut lvl.heads[slot], NIL);
        lvl.occupied &= !(1 << slot);
        while cursor != NIL {
            let entry = &mut self.entries[cursor];
            let next = entry.next;
            entry.prev = NIL;
            entry.next = NIL;
            entry.place = Place::Fired;
            if entry.when <= self.elapsed {
                self.armed -= 1;
                if let Some(waker) = entry.waker.take() {
                    fired.push(waker);
                }
            } else {
                self.file(cursor);
            }
            cursor = next;
        }
    }

    /// Fires every armed entry at once (the driver is shutting down).
    pub(crate) fn fire_all(&mut self, fired: &mut Vec<Waker>) {
        for (_, entry) in self.entries.iter_mut() {
            if entry.place != Place::Fired {
                entry.place = Place::Fired;
                entry.prev = NIL;
                entry.next = NIL;
                fired.extend(entry.waker.take());
            }
        }
        for level in &mut self.levels {
            level.occupied = 0;
            level.heads = [NIL; SLOTS];
        }
        self.armed = 0;
    }

    /// Links an entry (currently unlinked, due after `elapsed`) into its slot.
    fn file(&mut self, key: Key) {
        let when = self.entries[key].when;
        debug_assert!(when > self.elapsed);
        let pos = when.min(self.elapsed + MAX_SPAN);
        let level = level_for(self.elapsed, pos);
        let slot = ((pos >> (SLOT_BITS * level as u32)) & SLOT_MASK) as usize;
        let lvl = &mut self.levels[level];
        let head = lvl.heads[slot];
        lvl.heads[slot] = key;
        lvl.occupied |= 1 << slot;
        if head != NIL {
            self.entries[head].prev = key;
        }
        let entry = &mut self.entries[key];
        entry.prev = NIL;
        entry.next = head;
        entry.place = Place::Slot {
            level: level as u8,
            slot: slot as u8,
        };
    }

    fn unlink(&mut self, key: Key) {
        let (prev, next, place) = {
            let e = &self.entries[key];
            (e.prev, e.next, e.place)
        };
        let Place::Slot { level, slot } = place else {
            return;
        };
        let (level, slot) = (level as usize, slot as usize);
        if prev == NIL {
            let lvl = &mut self.levels[level];
            lvl.heads[slot] = next;
            if next == NIL {
                lvl.occupied &= !(1 << slot);
            }
        } else {
            self.entries[prev].next = next;
        }
        if next != NIL {
            self.entries[next].prev = prev;
        }
        let e = &mut self.entries[key];
        e.prev = NIL;
        e.next = NIL;
        e.place = Place::Fired;
    }
}

#[cfg(all(test, not(loom)))]
mod prop_tests;

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Wake;

    /// A waker that records its id in a shared log when woken.
    struct Logged {
        id: usize,
        log: Arc<std::sync::Mutex<Vec<usize>>>,
    }
    impl Wake for Logged {
        fn wake(self: Arc<Self>) {
            self.log.lock().unwrap().push(self.id);
        }
    }

    fn logged(id: usize, log: &Arc<std::sync::Mutex<Vec<usize>>>) -> Waker {
        Waker::from(Arc::new(Logged {
            id,
            log: log.clone(),
        }))
    }

    fn xorshift(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    /// Advances one expiration at a time (as the driver does when it sleeps until
    /// `next_expiration`) and checks no entry fires before its tick.
    fn run_until_empty(wheel: &mut Wheel, whens: &[u64], log: &Arc<std::sync::Mutex<Vec<usize>>>) {
        let mut steps = 0;
        while let Some(next) = wheel.next_expiration() {
            assert!(next > wheel.elapsed() || next == wheel.elapsed());
            let before = log.lock().unwrap().len();
            let mut fired = Vec::new();
            wheel.advance(next, &mut fired);
            fired.into_iter().for_each(Waker::wake);
            for &id in &log.lock().unwrap()[before..] {
                assert!(
                    whens[id] <= next,
                    "entry {id} due {} fired at {next}",
                    whens[id]
                );
            }
            steps += 1;
            assert!(steps < 100_000, "the wheel does not make progress");
        }
    }

    #[test]
    fn insert_and_remove_leave_nothing() {
        let mut wheel = Wheel::new();
        let mut rng = 0x1234_5678_u64;
        let n = if cfg!(miri) { 500 } else { 10_000 };
        let keys: Vec<Key> = (0..n)
            .map(|_| wheel.insert(1 + xorshift(&mut rng) % 10_000_000, None))
            .collect();
        assert_eq!(wheel.len(), n);
        assert_eq!(wheel.armed(), n);
        for key in keys {
            wheel.remove(key);
        }
        assert_eq!(wheel.len(), 0);
        assert_eq!(wheel.armed(), 0);
        assert_eq!(wheel.next_expiration(), None);
        assert!(wheel.levels.iter().all(|l| l.occupied == 0));
    }

    #[test]
    fn fires_in_deadline_order_never_early() {
        let log = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut wheel = Wheel::new();
        let mut rng = 0xDEAD_BEEF_u64;
        // Spread over every level, with duplicates.
        let n = if cfg!(miri) { 300 } else { 5_000 };
        let whens: Vec<u64> = (0..n)
            .map(|i| {
                let span = [50, 3_000, 200_000, 10_000_000, 900_000_000, 60_000_000_000][i % 6];
                1 + xorshift(&mut rng) % span
            })
            .collect();
        let keys: Vec<Key> = whens
            .iter()
            .enumerate()
            .map(|(id, &w)| wheel.insert(w, Some(logged(id, &log))))
            .collect();
        run_until_empty(&mut wheel, &whens, &log);
        let order = log.lock().unwrap().clone();
        assert_eq!(order.len(), whens.len());
        for pair in order.windows(2) {
            assert!(whens[pair[0]] <= whens[pair[1]]);
        }
        assert!(keys.iter().all(|&k| wheel.is_fired(k)));
        for k in keys {
            wheel.remove(k);
        }
        assert_eq!(wheel.len(), 0);
    }

    #[test]
    fn advancing_in_jumps_fires_everything_due() {
        let log = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut wheel = Wheel::new();
        let whens = [1u64, 63, 64, 65, 4095, 4096, 4097, 300_000];
        for (id, &w) in whens.iter().enumerate() {
            wheel.insert(w, Some(logged(id, &log)));
        }
        let mut fired = Vec::new();
        wheel.advance(4096, &mut fired);
        fired.drain(..).for_each(Waker::wake);
        assert_eq!(*log.lock().unwrap(), vec![0, 1, 2, 3, 4, 5]);
        wheel.advance(299_999, &mut fired);
        fired.drain(..).for_each(Waker::wake);
        assert_eq!(log.lock().unwrap().len(), 7);
        wheel.advance(300_000, &mut fired);
        fired.drain(..).for_each(Waker::wake);
        assert_eq!(*log.lock().unwrap(), vec![0, 1, 2, 3, 4, 5, 6, 7]);
    }

    #[test]
    fn far_future_is_refiled_not_fired_early() {
        let log = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut wheel = Wheel::new();
        let far = 3 * MAX_SPAN + 17; // about six years
        wheel.insert(far, Some(logged(0, &log)));
        wheel.insert(5, Some(logged(1, &log)));
        run_until_empty(&mut wheel, &[far, 5], &log);
        assert_eq!(*log.lock().unwrap(), vec![1, 0]);
        assert_eq!(wheel.elapsed(), far);
    }

    #[test]
    fn top_level_boundary_keeps_the_earliest_first() {
        // `elapsed` just before a top-level turn: entries on both sides of the turn.
        let log = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut wheel = Wheel::new();
        let turn = 1u64 << 36;
        let mut fired = Vec::new();
        wheel.advance(turn - (1 << 30) + 5, &mut fired);
        let whens = [turn + 10, turn + MAX_SPAN - (1 << 30), turn - 3];
        let mut all = vec![0; 3];
        for (id, &w) in whens.iter().enumerate() {
            wheel.insert(w, Some(logged(id, &log)));
            all[id] = w;
        }
        run_until_empty(&mut wheel, &all, &log);
        assert_eq!(*log.lock().unwrap(), vec![2, 0, 1]);
    }

    #[test]
    fn past_or_current_ticks_are_created_fired() {
        let mut wheel = Wheel::new();
        let mut fired = Vec::new();
        wheel.advance(100, &mut fired);
        let k = wheel.insert(100, None);
        assert!(wheel.is_fired(k));
        assert_eq!(wheel.armed(), 0);
        let k2 = wheel.insert(50, None);
        assert!(wheel.is_fired(k2));
        wheel.remove(k);
        wheel.remove(k2);
        assert_eq!(wheel.len(), 0);
    }

    #[test]
    fn reset_moves_an_entry() {
        let woken = Arc::new(AtomicUsize::new(0));
        struct Count(Arc<AtomicUsize>);
        impl Wake for Count {
            fn wake(self: Arc<Self>) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        let waker = Waker::from(Arc::new(Count(woken.clone())));
        let mut wheel = Wheel::new();
        let k = wheel.insert(10, None);
        assert!(!wheel.poll_fired(k, &waker));
        wheel.reset(k, 5_000);
        let mut fired = Vec::new();
        wheel.advance(4_999, &mut fired);
        assert!(fired.is_empty() && !wheel.is_fired(k));
        wheel.advance(5_000, &mut fired);
        fired.drain(..).for_each(Waker::wake);
        assert_eq!(woken.load(Ordering::SeqCst), 1);
        assert!(wheel.is_fired(k));
        // A fired entry can be re-armed (an interval's next tick).
        wheel.reset(k, 5_010);
        assert!(!wheel.is_fired(k));
        assert_eq!(wheel.next_expiration(), Some(5_010));
        wheel.remove(k);
        assert_eq!((wheel.len(), wheel.armed()), (0, 0));
    }
}
