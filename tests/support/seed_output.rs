//! The output checks shared by the `seeds_*` tests: each runs an example of
//! `examples/seeds_*.rs` on a faster clock and checks what it printed.
#![allow(dead_code)] // not every seed's test uses every check

use std::sync::Mutex;
use std::time::Duration;

/// The seeds' seconds run 4x faster here; bounds below are in the original's seconds.
pub const SCALE: f64 = 0.25;
/// How late a line may come on a loaded machine (real time).
pub const SLACK: Duration = Duration::from_millis(1500);

/// The examples record into one log: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

/// What one seed example printed: (when, line).
pub struct Output(pub Vec<(Duration, String)>);

/// Runs one example (through `run`, given the time scale), one at a time per test binary.
pub fn run_with(run: impl FnOnce(f64) -> Vec<(Duration, String)>) -> Output {
    let _one_at_a_time = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    Output(run(SCALE))
}

/// The original's `seconds`, on the test's scale.
pub fn s(seconds: f64) -> Duration {
    Duration::from_secs_f64(seconds * SCALE)
}

impl Output {
    pub fn lines(&self) -> Vec<&str> {
        self.0.iter().map(|(_, l)| l.as_str()).collect()
    }
    /// How many lines are exactly `line`.
    pub fn count(&self, line: &str) -> usize {
        self.0.iter().filter(|(_, l)| l == line).count()
    }
    /// Index of the first line equal to `line`.
    pub fn pos(&self, line: &str) -> usize {
        self.0
            .iter()
            .position(|(_, l)| l == line)
            .unwrap_or_else(|| panic!("no line {line:?} in {:#?}", self.lines()))
    }
    /// When the first line equal to `line` was printed.
    pub fn at(&self, line: &str) -> Duration {
        self.0[self.pos(line)].0
    }
    /// Asserts `line` came no earlier than `seconds` (timers never fire early) and not
    /// much later.
    pub fn assert_at(&self, line: &str, seconds: f64) {
        let at = self.at(line);
        assert!(
            at >= s(seconds) && at <= s(seconds) + SLACK,
            "{line:?} at {at:?}, expected {:?} (+ up to {SLACK:?})",
            s(seconds)
        );
    }
    /// Asserts the output is exactly `expected`, in order.
    pub fn assert_exactly(&self, expected: &[&str]) {
        assert_eq!(self.lines(), expected);
    }
    /// Asserts the output is `expected` up to the order of lines printed at the same
    /// instant: `groups` of lines whose order among themselves is free, in order.
    pub fn assert_groups(&self, groups: &[&[&str]]) {
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
    pub fn most_inside(&self, enter: impl Fn(&str) -> bool, leave: impl Fn(&str) -> bool) -> usize {
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
