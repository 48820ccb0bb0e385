//! Seed 000, "Task coordination and synchronization with Asyncio": `asyncio.wait`,
//! `asyncio.gather`, a `Semaphore` and a `Lock`, ported to magpie.
//!
//! `cargo run --example seeds_000_coordination [wait|gather|semaphore|lock]`
//!
//! What changes: the tasks run in parallel on every worker, so the lines that asyncio
//! prints in one fixed order at the same instant ("Task 1 started", "Task 2 started") may
//! come in either order here; everything ordered by time (sleeps, the lock, the
//! semaphore) comes out as in the original.

// ---- Output and timing shared by the seed ports (the same block in each seeds_*.rs) ----

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

// ---- The examples ----

use std::future::Future;
use std::pin::Pin;

use magpie::sync::{Mutex, Semaphore};

/// Two different coroutines in one `gather` call: boxed to one type.
type Task = Pin<Box<dyn Future<Output = ()> + Send>>;

async fn task1() {
    say!("Task 1 started");
    sleep(2.0).await;
    say!("Task 1 completed");
}

async fn task2() {
    say!("Task 2 started");
    sleep(1.0).await;
    say!("Task 2 completed");
}

/// `await asyncio.wait([task1(), task2()])`: wait for both (asyncio's default,
/// ALL_COMPLETED), cancelling nothing.
fn wait() {
    magpie::block_on(async {
        let tasks = vec![magpie::spawn(task1()), magpie::spawn(task2())];
        let (done, pending) = magpie::wait(tasks, magpie::ReturnWhen::AllCompleted, None).await;
        assert_eq!((done.len(), pending.len()), (2, 0));
    });
}

/// `await asyncio.gather(task1(), task2())`.
fn gather() {
    magpie::block_on(async {
        magpie::gather([Box::pin(task1()) as Task, Box::pin(task2())]).await;
    });
}

/// `semaphore = asyncio.Semaphore(2)`, five tasks `async with semaphore:`.
static SEMAPHORE: Semaphore = Semaphore::const_new(2);

async fn semaphore_task() {
    let _permit = SEMAPHORE.acquire().await.unwrap();
    say!("Started task");
    sleep(1.0).await;
    say!("Completed task");
}

fn semaphore() {
    magpie::block_on(async {
        magpie::gather((0..5).map(|_| semaphore_task())).await;
    });
}

/// `lock = asyncio.Lock()`, three tasks `async with lock:`.
static LOCK: Mutex<()> = Mutex::const_new(());

async fn lock_task() {
    let _guard = LOCK.lock().await;
    say!("Acquired lock");
    sleep(1.0).await;
    say!("Released lock");
}

fn lock() {
    magpie::block_on(async {
        magpie::gather((0..3).map(|_| lock_task())).await;
    });
}

/// Every example of the seed, by name.
pub const EXAMPLES: &[(&str, fn())] = &[
    ("wait", wait),
    ("gather", gather),
    ("semaphore", semaphore),
    ("lock", lock),
];
