//! Runs every example of `examples/seeds_001_concurrent_tasks.rs` and checks its output
//! against the Python original's.

#[path = "../../examples/seeds_001_concurrent_tasks.rs"]
#[allow(dead_code)]
mod seed;

use crate::support;

use support::seed_output::{run_with, Output};

fn run(name: &str) -> Output {
    run_with(|scale| seed::run(name, scale))
}

#[test]
fn gather_two_tasks() {
    let out = run("gather");
    out.assert_groups(&[
        &["Task 1 started", "Task 2 started"],
        &["Task 1 completed"],
        &["Task 2 completed"],
    ]);
    out.assert_at("Task 1 completed", 1.0);
    out.assert_at("Task 2 completed", 2.0);
}

#[test]
fn two_tasks_share_a_resource_behind_a_lock() {
    let out = run("lock");
    assert_eq!(out.count("Task started"), 2);
    assert_eq!(out.count("Accessing shared resource"), 2);
    assert_eq!(out.count("Task completed"), 2);
    // Each task's own lines are in order (the example also asserts, inside, that only
    // one task is in the shared resource at a time).
    assert!(out.pos("Task started") < out.pos("Accessing shared resource"));
    assert!(out.pos("Accessing shared resource") < out.pos("Task completed"));
    assert_eq!(out.lines().last(), Some(&"Task completed"));
}
