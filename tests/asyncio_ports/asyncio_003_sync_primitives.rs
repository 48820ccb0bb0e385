//! Runs every example of `examples/seeds_003_sync_primitives.rs` and checks its output
//! against the Python original's.

#[path = "../../examples/seeds_003_sync_primitives.rs"]
#[allow(dead_code)]
mod seed;

use crate::support;

use support::seed_output::{run_with, s, Output, SLACK};

fn run(name: &str) -> Output {
    run_with(|scale| seed::run(name, scale))
}

#[test]
fn event() {
    let out = run("event");
    out.assert_groups(&[
        &[
            "Coroutine 1 is waiting...",
            "Coroutine 2 is doing some work...",
        ],
        &["Coroutine 2 finished its work.", "Coroutine 1 resumed."],
    ]);
    out.assert_at("Coroutine 1 resumed.", 2.0);
    out.assert_at("Coroutine 2 finished its work.", 2.0);
}

#[test]
fn lock() {
    let out = run("lock");
    assert_eq!(out.count("Coroutine trying to acquire the lock..."), 2);
    let held = out.most_inside(|l| l == "Lock acquired.", |l| l == "Lock released.");
    assert_eq!(held, 1, "{:#?}", out.lines());
    let released: Vec<_> = out
        .0
        .iter()
        .filter(|(_, l)| l == "Lock released.")
        .map(|(t, _)| *t)
        .collect();
    assert!(
        released[0] >= s(2.0) && released[1] >= s(4.0),
        "{released:?}"
    );
    assert!(released[1] <= s(4.0) + SLACK, "{released:?}");
}

#[test]
fn semaphore_of_one() {
    let out = run("semaphore");
    out.assert_exactly(&[
        "Acquired semaphore.",
        "Released semaphore.",
        "Acquired semaphore.",
        "Released semaphore.",
    ]);
    let last = out.0.last().unwrap().0;
    assert!(last >= s(4.0) && last <= s(4.0) + SLACK, "{last:?}");
}

/// The original hangs forever after two lines; the port shows the same two lines, then
/// says so after 5 s instead of hanging.
#[test]
fn condition_notified_before_anyone_waits() {
    let out = run("condition");
    out.assert_exactly(&[
        "Producer putting an item...",
        "Consumer waiting for an item...",
        "(5 s later the consumer is still waiting: the notification came before it waited; the original hangs here forever)",
    ]);
    out.assert_at("Consumer waiting for an item...", 2.0);
}
