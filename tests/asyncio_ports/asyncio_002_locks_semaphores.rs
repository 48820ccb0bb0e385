//! Runs every example of `examples/seeds_002_locks_semaphores.rs` and checks its output.

#[path = "../../examples/seeds_002_locks_semaphores.rs"]
#[allow(dead_code)]
mod seed;

use crate::support;

use support::seed_output::{run_with, Output};

fn run(name: &str) -> Output {
    run_with(|scale| seed::run(name, scale))
}

#[test]
fn the_lock_keeps_every_critical_section_whole() {
    // 100 read-yield-write sections on two workers: no update is lost.
    run("lock").assert_exactly(&["Critical sections run: 100"]);
}

#[test]
fn the_semaphore_lets_at_most_five_in() {
    let out = run("semaphore");
    out.assert_exactly(&["At most 5 tasks were inside at once"]);
    // 12 tasks, 5 at a time, half a second each: three rounds.
    out.assert_at("At most 5 tasks were inside at once", 1.5);
}
