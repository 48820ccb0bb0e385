//! Runs every example of `examples/seeds_004_asyncio_tour.rs` and checks its output
//! against the Python original's.

#[path = "../../examples/seeds_004_asyncio_tour.rs"]
#[allow(dead_code)]
mod seed;

use crate::support;

use support::seed_output::{run_with, s, Output, SCALE, SLACK};

fn run(name: &str) -> Output {
    run_with(|scale| seed::run(name, scale))
}

#[test]
fn hello() {
    let out = run("hello");
    out.assert_exactly(&["Hello", "Hello", "World", "World"]);
    out.assert_at("World", 1.0);
}

#[test]
fn event_loop() {
    let out = run("event_loop");
    out.assert_groups(&[
        &["Task 1 started", "Task 2 started"],
        &["Task 2 finished"],
        &["Task 1 finished"],
    ]);
    out.assert_at("Task 2 finished", 1.0);
    out.assert_at("Task 1 finished", 2.0);
}

#[test]
fn coroutines_run_one_after_the_other() {
    let out = run("coroutines");
    out.assert_exactly(&[
        "Fetching data...",
        "Processing data...",
        "Results: {'data': 42}, Processed",
    ]);
    out.assert_at("Processing data...", 1.0);
    out.assert_at("Results: {'data': 42}, Processed", 1.5);
}

#[test]
fn create_task_then_gather_with_a_timeout() {
    let out = run("create_task");
    let lines = out.lines();
    assert_eq!(lines.len(), 5, "{lines:#?}");
    out.assert_groups(&[
        &[
            "Fetching data from server 1",
            "Fetching data from server 2",
            "Fetching data from server 3",
        ],
        &["Results: ['Data from server 1', 'Data from server 2', 'Data from server 3']"],
        &[lines[4]],
    ]);
    // "Total time: 3.01 seconds" in the original: the three ran concurrently (3 s, not 6).
    let total: f64 = lines[4]
        .strip_prefix("Total time: ")
        .and_then(|t| t.strip_suffix(" seconds"))
        .unwrap()
        .parse()
        .unwrap();
    assert!((3.0 * SCALE..6.0 * SCALE).contains(&total), "{total}");
}

#[test]
fn gather_returns_every_outcome_in_input_order() {
    let out = run("gather_errors");
    out.assert_groups(&[
        &[
            "Starting operation 0",
            "Starting operation 1",
            "Starting operation 2",
        ],
        &["Result: Result 0"],
        &["Result: Result 1"],
        &["Result: ValueError('Error in operation 2')"],
    ]);
    out.assert_at("Result: Result 0", 1.0);
}

#[test]
fn task_group_failure_cancels_the_rest() {
    let out = run("task_group");
    out.assert_groups(&[
        &[
            "Processing item 1",
            "Processing item 2",
            "Processing item 3",
            "Processing item 4",
        ],
        &["TaskGroup caught: Failed to process item 3"],
    ]);
    // Item 3 fails at 3 s; item 4 (due at 4 s) was cancelled rather than waited for.
    let caught = out.at("TaskGroup caught: Failed to process item 3");
    assert!(caught >= s(3.0) && caught < s(4.0), "{caught:?}");
}

#[test]
fn background_task_is_cancelled() {
    let out = run("background");
    assert_eq!(out.count("Monitoring..."), 2, "{:#?}", out.lines());
    for step in 0..3 {
        out.assert_at(&format!("Main step {step}"), step as f64);
    }
    let last = out.lines().len() - 1;
    assert_eq!(out.pos("Background task cancelled"), last);
    out.assert_at("Background task cancelled", 3.0);
}

#[test]
fn timeout_cancels_the_task_group() {
    let out = run("timeout_group");
    out.assert_groups(&[
        &["Task 1 started", "Task 2 started", "Task 3 started"],
        &["Task 1 completed"],
        &["Timeout! Tasks were cancelled by TaskGroup"],
    ]);
    out.assert_at("Task 1 completed", 2.0);
    out.assert_at("Timeout! Tasks were cancelled by TaskGroup", 3.0);
}

#[test]
fn a_future_set_by_another_task() {
    let out = run("future");
    out.assert_exactly(&["Future resolved!"]);
    out.assert_at("Future resolved!", 1.0);
}

#[test]
fn lock_protects_the_counter() {
    let out = run("lock_counter");
    let lines = out.lines();
    assert_eq!(lines.len(), 7, "{lines:#?}");
    // Whichever task gets the lock, each reads what the previous one set.
    for k in 0..3 {
        let read = lines[2 * k];
        let set = lines[2 * k + 1];
        let name = read.split(" read counter: ").next().unwrap();
        assert_eq!(read, format!("{name} read counter: {k}"));
        assert_eq!(set, format!("{name} set counter: {}", k + 1));
    }
    assert_eq!(lines[6], "Final counter: 3");
    out.assert_at("Final counter: 3", 0.3);
}

#[test]
fn event_releases_every_waiter() {
    let out = run("event_waiters");
    out.assert_groups(&[
        &[
            "Waiter 0 waiting for event",
            "Waiter 1 waiting for event",
            "Waiter 2 waiting for event",
            "Trigger task started",
        ],
        &["Setting event"],
        &[
            "Waiter 0 proceeding after event",
            "Waiter 1 proceeding after event",
            "Waiter 2 proceeding after event",
        ],
    ]);
    out.assert_at("Setting event", 1.0);
}

#[test]
fn condition_producer_and_two_consumers() {
    let out = run("condition");
    let lines = out.lines();
    for i in 0..3 {
        assert_eq!(
            lines
                .iter()
                .filter(|l| l.starts_with(&format!("Produced {i}, ")))
                .count(),
            1,
            "{lines:#?}"
        );
    }
    // Each consumer takes exactly one item, after it was produced; one item is left.
    let consumed: Vec<(&str, u32)> = lines
        .iter()
        .filter_map(|l| {
            let (name, rest) = l.split_once(" consumed ")?;
            Some((name, rest.split(',').next()?.parse().ok()?))
        })
        .collect();
    assert_eq!(consumed.len(), 2, "{lines:#?}");
    assert_ne!(consumed[0].0, consumed[1].0);
    assert_eq!((consumed[0].1, consumed[1].1), (0, 1), "{lines:#?}");
    for (name, item) in &consumed {
        let produced = lines
            .iter()
            .position(|l| l.starts_with(&format!("Produced {item}, ")))
            .unwrap();
        let took = lines
            .iter()
            .position(|l| l.starts_with(&format!("{name} consumed {item}")))
            .unwrap();
        assert!(produced < took, "{lines:#?}");
    }
    assert_eq!(out.count("Produced 2, buffer: [2]"), 1, "{lines:#?}");
}

#[test]
fn semaphore_of_two() {
    let out = run("semaphore");
    let most = out.most_inside(
        |l| l.ends_with("making API call"),
        |l| l.ends_with("finished API call"),
    );
    assert_eq!(most, 2, "{:#?}", out.lines());
    assert_eq!(out.lines().len(), 10);
    for i in 0..5 {
        assert!(
            out.pos(&format!("Task {i} making API call"))
                < out.pos(&format!("Task {i} finished API call"))
        );
    }
    let last = out.0.last().unwrap().0;
    assert!(last >= s(3.0) && last <= s(3.0) + SLACK, "{last:?}");
}

#[test]
fn bounded_semaphore_refuses_an_extra_release() {
    let out = run("bounded_semaphore");
    let most = out.most_inside(
        |l| l.ends_with("acquired resource"),
        |l| l.ends_with("released resource"),
    );
    assert_eq!(most, 2, "{:#?}", out.lines());
    assert_eq!(out.lines().len(), 9);
    assert_eq!(
        out.lines().last(),
        Some(&"Error: BoundedSemaphore released too many times")
    );
    out.assert_at("Error: BoundedSemaphore released too many times", 1.0);
}
