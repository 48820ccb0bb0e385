// The harness every seed port shares: `include!`d by each `examples/seeds_*.rs` right
// before its examples (which define `EXAMPLES`). It records what an example prints and
// when, so `tests/seeds_*.rs` can check the output, and scales the originals' seconds.

/// Every line the example prints, with when it printed it, so the tests can check the
/// output; and the time scale (1.0 runs the original's timing; the tests run faster).
mod out {
    use std::sync::Mutex;
    use std::time::{Duration, Instant};

    struct Log {
        start: Instant,
        scale: f64,
        lines: Vec<(Duration, String)>,
    }

    static LOG: Mutex<Option<Log>> = Mutex::new(None);

    /// Starts recording, with the original's seconds multiplied by `scale`.
    pub fn begin(scale: f64) {
        *LOG.lock().unwrap() = Some(Log {
            start: Instant::now(),
            scale,
            lines: Vec::new(),
        });
    }

    /// Stops recording and returns the lines, each with its time since `begin`.
    pub fn end() -> Vec<(Duration, String)> {
        LOG.lock()
            .unwrap()
            .take()
            .map(|log| log.lines)
            .unwrap_or_default()
    }

    /// Prints a line (asyncio's `print`) and records it.
    pub fn say(line: String) {
        let mut log = LOG.lock().unwrap();
        println!("{line}");
        if let Some(log) = log.as_mut() {
            log.lines.push((log.start.elapsed(), line));
        }
    }

    /// The original's `seconds`, scaled.
    pub fn secs(seconds: f64) -> Duration {
        let scale = LOG.lock().unwrap().as_ref().map_or(1.0, |log| log.scale);
        Duration::from_secs_f64(seconds * scale)
    }
}

/// asyncio's `print(f"...")`.
macro_rules! say {
    ($($arg:tt)*) => { out::say(format!($($arg)*)) };
}

/// asyncio's `await asyncio.sleep(seconds)`, on the example's time scale.
async fn sleep(seconds: f64) {
    magpie::time::sleep(out::secs(seconds)).await;
}

/// Runs one example by name (on the time scale `scale`) and returns its output lines.
///
/// # Panics
///
/// On an unknown name.
pub fn run(name: &str, scale: f64) -> Vec<(std::time::Duration, String)> {
    let (_, example) = EXAMPLES
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("no example named {name:?}"));
    out::begin(scale);
    example();
    out::end()
}

/// `cargo run --example <this file> [NAME...]`: runs the named examples (all by default),
/// on the original's timing unless `SEEDS_TIME_SCALE` says otherwise.
fn main() {
    let scale = std::env::var("SEEDS_TIME_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    let names: Vec<String> = std::env::args().skip(1).collect();
    for (name, _) in EXAMPLES {
        if names.is_empty() || names.iter().any(|n| n == name) {
            println!("--- {name}");
            run(name, scale);
        }
    }
}
