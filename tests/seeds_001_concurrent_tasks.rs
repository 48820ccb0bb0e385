//! Runs every example of `examples/seeds_001_concurrent_tasks.rs` and checks its output
//! against the Python original's.

#[path = "../examples/seeds_001_concurrent_tasks.rs"]
#[allow(dead_code)]
mod seed;

use std::sync::Mutex;
use std::time::Duration;

/// The seeds' seconds run 4x faster here; bounds below are in the original's seconds.
const SCALE: f64 = 0.25;
/// How late a line may come on a loaded machine (real time).
const SLACK: Duration = Duration::from_millis(1500);

/// The examples record into one log: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

struct Output(Vec<(Duration, String)>);

fn run(name: &str) -> Output {
    let _one_at_a_time = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    Output(seed::run(name, SCALE))
}

/// The original's `seconds`, on the test's scale.
fn s(seconds: f64) -> Duration {
    Duration::from_secs_f64(seconds * SCALE)
}

// Not every seed's test uses every check.
#[allow(dead_code)]
impl Output {
    fn lines(&self) -> Vec<&str> {
        self.0.iter().map(|(_, l)| l.as_str()).collect()
    }
    /// How many lines are exactly `line`.
    fn count(&self, line: &str) -> usize {
        self.0.iter().filter(|(_, l)| l == line).count()
    }
    /// Index of the first line equal to `line`.
    fn pos(&self, line: &str) -> usize {
        self.0
            .iter()
            .position(|(_, l)| l == line)
            .unwrap_or_else(|| panic!("no line {line:?} in {:#?}", self.lines()))
    }
    /// When the first line equal to `line` was printed.
    fn at(&self, line: &str) -> Duration {
        self.0[self.pos(line)].0
    }
    /// Asserts `line` came no earlier than `seconds` (timers never fire early) and not
    /// much later.
    fn assert_at(&self, line: &str, seconds: f64) {
        let at = self.at(line);
        assert!(
            at >= s(seconds) && at <= s(seconds) + SLACK,
            "{line:?} at {at:?}, expected {:?} (+ up to {SLACK:?})",
            s(seconds)
        );
    }
    /// Asserts the output is exactly `expected`, in order.
    fn assert_exactly(&self, expected: &[&str]) {
        assert_eq!(self.lines(), expected);
    }
    /// Asserts the output is `expected` up to the order of lines printed at the same
    /// instant: `groups` of lines whose order among themselves is free, in order.
    fn assert_groups(&self, groups: &[&[&str]]) {
        let mut lines = self.lines().into_iter();
        for group in groups {
            let mut got: Vec<&str> = lines.by_ref().take(group.len()).collect();
            let mut want = group.to_vec();
            got.sort_unstable();
            want.sort_unstable();
            assert_eq!(got, want, "in {:#?}", self.lines());
        }
        assert_eq!(lines.next(), None, "extra lines in {:#?}", self.lines());
    }
    /// Replays `enter`/`leave` lines and returns the most that were inside at once.
    fn most_inside(&self, enter: impl Fn(&str) -> bool, leave: impl Fn(&str) -> bool) -> usize {
        let (mut inside, mut most) = (0usize, 0usize);
        for line in self.lines() {
            if enter(line) {
                inside += 1;
                most = most.max(inside);
            } else if leave(line) {
                inside -= 1;
            }
        }
        most
    }
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
