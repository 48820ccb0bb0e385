//! Property test: the wheel against a model that is a plain list of deadlines.
//!
//! Random inserts (near, far, beyond the wheel's span, or already due), cancels, resets and
//! advances (by small or large steps, or to `next_expiration` as the driver does). After
//! each step:
//!
//! - every entry fires exactly once, in the `advance` call that first covers its tick
//!   (never early, never late), and the wakers of one call come out in deadline order;
//! - an entry inserted or reset at a tick already processed is created fired, without a
//!   wake-up (its owner sees it on its next look);
//! - `len`, `armed` and `is_fired` agree with the model, and `next_expiration` is `None`
//!   with nothing armed, else a tick after `elapsed` and no later than the earliest armed
//!   deadline.

use super::*;
use proptest::prelude::*;
use proptest::sample::Index;
use std::sync::{Arc, Mutex};
use std::task::Wake;

/// A waker that logs its entry's id when woken.
struct Logged {
    id: usize,
    log: Arc<Mutex<Vec<usize>>>,
}

impl Wake for Logged {
    fn wake(self: Arc<Self>) {
        self.log.lock().unwrap().push(self.id);
    }
}

#[derive(Clone, Debug)]
enum Op {
    Insert(u64),
    Cancel(Index),
    Reset(Index, u64),
    Advance(u64),
    AdvanceToNext,
}

/// A distance in ticks: mostly near, sometimes across levels, sometimes past the span.
fn distance() -> impl Strategy<Value = u64> {
    prop_oneof![
        2 => Just(0u64),
        8 => 0u64..70,
        4 => 0u64..5_000,
        2 => 0u64..400_000,
        1 => 0u64..(1 << 36),
        1 => (MAX_SPAN - 100)..(MAX_SPAN + 100),
        1 => (MAX_SPAN)..(MAX_SPAN * 3),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => distance().prop_map(Op::Insert),
        2 => any::<Index>().prop_map(Op::Cancel),
        2 => (any::<Index>(), distance()).prop_map(|(i, d)| Op::Reset(i, d)),
        4 => distance().prop_map(Op::Advance),
        3 => Just(Op::AdvanceToNext),
    ]
}

/// One live entry as the model sees it.
#[derive(Debug)]
struct Model {
    key: Key,
    id: usize,
    when: u64,
    fired: bool,
}

fn check(ops: Vec<Op>) {
    let mut wheel = Wheel::new();
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut live: Vec<Model> = Vec::new();
    let mut next_id = 0;
    let waker = |id: usize| {
        Waker::from(Arc::new(Logged {
            id,
            log: log.clone(),
        }))
    };
    for op in &ops {
        let elapsed = wheel.elapsed();
        match *op {
            Op::Insert(d) => {
                let when = elapsed + d;
                let id = next_id;
                next_id += 1;
                let key = wheel.insert(when, Some(waker(id)));
                live.push(Model {
                    key,
                    id,
                    when,
                    fired: when <= elapsed,
                });
            }
            Op::Cancel(ix) if !live.is_empty() => {
                let m = live.swap_remove(ix.index(live.len()));
                wheel.remove(m.key);
            }
            Op::Reset(ix, d) if !live.is_empty() => {
                // As a `Sleep` does: a new deadline, then a new look with its waker.
                let i = ix.index(live.len());
                let id = next_id;
                next_id += 1;
                let when = elapsed + d;
                wheel.reset(live[i].key, when);
                let fired = wheel.poll_fired(live[i].key, &waker(id));
                assert_eq!(fired, when <= elapsed, "reset to {when} at {elapsed}");
                live[i].id = id;
                live[i].when = when;
                live[i].fired = when <= elapsed;
            }
            Op::Cancel(_) | Op::Reset(..) => {}
            Op::Advance(_) | Op::AdvanceToNext => {
                let now = match *op {
                    Op::Advance(d) => elapsed + d,
                    _ => match wheel.next_expiration() {
                        Some(t) => t,
                        None => continue,
                    },
                };
                let mut fired = Vec::new();
                wheel.advance(now, &mut fired);
                fired.into_iter().for_each(Waker::wake);
                let woken = std::mem::take(&mut *log.lock().unwrap());
                let mut due: Vec<(u64, usize)> = live
                    .iter()
                    .filter(|m| !m.fired && m.when <= now)
                    .map(|m| (m.when, m.id))
                    .collect();
                due.sort_unstable();
                let mut got: Vec<(u64, usize)> = woken
                    .iter()
                    .map(|id| {
                        let m = live
                            .iter()
                            .find(|m| m.id == *id)
                            .unwrap_or_else(|| panic!("waker {id} of a gone entry woken"));
                        (m.when, *id)
                    })
                    .collect();
                let whens: Vec<u64> = got.iter().map(|(w, _)| *w).collect();
                assert!(
                    whens.windows(2).all(|w| w[0] <= w[1]),
                    "fired out of deadline order advancing {elapsed} -> {now}: {whens:?}"
                );
                got.sort_unstable();
                assert_eq!(got, due, "fired advancing {elapsed} -> {now}");
                for m in live.iter_mut() {
                    if m.when <= now {
                        m.fired = true;
                    }
                }
                assert_eq!(wheel.elapsed(), now.max(elapsed));
            }
        }
        assert_eq!(wheel.len(), live.len(), "entries after {op:?}");
        let armed: Vec<u64> = live.iter().filter(|m| !m.fired).map(|m| m.when).collect();
        assert_eq!(wheel.armed(), armed.len(), "armed after {op:?}");
        for m in &live {
            assert_eq!(
                wheel.is_fired(m.key),
                m.fired,
                "entry {} due {}",
                m.id,
                m.when
            );
        }
        match (wheel.next_expiration(), armed.iter().min()) {
            (None, None) => {}
            (Some(next), Some(&earliest)) => {
                assert!(
                    next > wheel.elapsed(),
                    "next {next} not after {}",
                    wheel.elapsed()
                );
                assert!(
                    next <= earliest,
                    "next {next} after the earliest deadline {earliest}"
                );
            }
            (next, earliest) => panic!("next_expiration {next:?} with earliest armed {earliest:?}"),
        }
    }
    // Draining: stepping to each next expiration fires everything left, once.
    let mut steps = 0;
    while let Some(next) = wheel.next_expiration() {
        let mut fired = Vec::new();
        wheel.advance(next, &mut fired);
        fired.into_iter().for_each(Waker::wake);
        for id in std::mem::take(&mut *log.lock().unwrap()) {
            let m = live.iter_mut().find(|m| m.id == id).unwrap();
            assert!(
                !m.fired && m.when <= next,
                "entry {id} due {} fired at {next}",
                m.when
            );
            m.fired = true;
        }
        steps += 1;
        assert!(steps < 10_000, "the wheel does not make progress");
    }
    assert!(
        live.iter().all(|m| m.fired),
        "armed entries left with no next expiration"
    );
    for m in live {
        wheel.remove(m.key);
    }
    assert_eq!(wheel.len(), 0);
}

/// A few seconds natively; two short cases under miri, with no regression file (miri
/// isolates the file system).
fn config() -> ProptestConfig {
    if cfg!(miri) {
        ProptestConfig {
            cases: 2,
            failure_persistence: None,
            ..ProptestConfig::default()
        }
    } else {
        ProptestConfig::with_cases(400)
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn wheel_matches_a_list_of_deadlines(
        ops in prop::collection::vec(op(), 1..if cfg!(miri) { 30 } else { 150 })
    ) {
        check(ops);
    }
}
