//! Runs every example of `examples/seeds_000_coordination.rs` and checks its output
//! against the Python original's: ordering where the original's is deterministic, totals,
//! timings as bounds.

#[path = "../../examples/seeds_000_coordination.rs"]
#[allow(dead_code)]
mod seed;

use crate::support;

use support::seed_output::{run_with, s, Output, SLACK};

fn run(name: &str) -> Output {
    run_with(|scale| seed::run(name, scale))
}

#[test]
fn wait_for_two_tasks() {
    let out = run("wait");
    out.assert_groups(&[
        &["Task 1 started", "Task 2 started"],
        &["Task 2 completed"],
        &["Task 1 completed"],
    ]);
    out.assert_at("Task 2 completed", 1.0);
    out.assert_at("Task 1 completed", 2.0);
}

#[test]
fn gather_two_tasks() {
    let out = run("gather");
    out.assert_groups(&[
        &["Task 1 started", "Task 2 started"],
        &["Task 2 completed"],
        &["Task 1 completed"],
    ]);
    out.assert_at("Task 2 completed", 1.0);
    out.assert_at("Task 1 completed", 2.0);
}

#[test]
fn semaphore_of_two_lets_two_in_at_a_time() {
    let out = run("semaphore");
    assert_eq!(out.count("Started task"), 5);
    assert_eq!(out.count("Completed task"), 5);
    let most = out.most_inside(|l| l == "Started task", |l| l == "Completed task");
    assert_eq!(most, 2, "{:#?}", out.lines());
    // Three waves of one second.
    let last = out.0.last().unwrap().0;
    assert!(last >= s(3.0) && last <= s(3.0) + SLACK, "{last:?}");
}

#[test]
fn lock_lets_one_in_at_a_time() {
    let out = run("lock");
    out.assert_exactly(&[
        "Acquired lock",
        "Released lock",
        "Acquired lock",
        "Released lock",
        "Acquired lock",
        "Released lock",
    ]);
    let last = out.0.last().unwrap().0;
    assert!(last >= s(3.0) && last <= s(3.0) + SLACK, "{last:?}");
}
