//! Seed 002, "Coordinating multiple Asyncio tasks with locks and semaphores": the two
//! fragments (`await lock.acquire()` / `try` / `finally: lock.release()`, and
//! `async with semaphore:` with `Semaphore(5)`), completed into programs and ported.
//!
//! `cargo run --example seeds_002_locks_semaphores [lock|semaphore]`
//!
//! The fragments' critical sections are comments; here they do something observable: the
//! lock's keeps a read-modify-write that awaits in the middle correct, the semaphore's
//! counts how many tasks are inside at once (never more than 5).

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

use std::sync::atomic::{AtomicUsize, Ordering};

use magpie::sync::{Mutex, Semaphore};

/// `lock = asyncio.Lock()`. In Rust the lock owns the data it protects.
static LOCK: Mutex<u64> = Mutex::const_new(0);

/// `await lock.acquire()`, `try: <critical section>`, `finally: lock.release()`: the guard
/// is the `try`/`finally`; it releases the lock when dropped, even on a panic.
async fn some_async_task() {
    let mut counter = LOCK.lock().await;
    // Critical section: perform some asynchronous operations.
    let seen = *counter;
    magpie::yield_now().await;
    *counter = seen + 1;
}

fn lock() {
    magpie::block_on(async {
        magpie::gather((0..100).map(|_| some_async_task())).await;
        say!("Critical sections run: {}", *LOCK.lock().await);
    });
}

/// `semaphore = asyncio.Semaphore(5)`.
static SEMAPHORE: Semaphore = Semaphore::const_new(5);
static INSIDE: AtomicUsize = AtomicUsize::new(0);
static MOST_INSIDE: AtomicUsize = AtomicUsize::new(0);

/// `async with semaphore:` `<critical section>`.
async fn some_other_async_task() {
    let _permit = SEMAPHORE.acquire().await.unwrap();
    // Critical section: perform some other asynchronous operations.
    let now = INSIDE.fetch_add(1, Ordering::SeqCst) + 1;
    MOST_INSIDE.fetch_max(now, Ordering::SeqCst);
    sleep(0.5).await;
    INSIDE.fetch_sub(1, Ordering::SeqCst);
}

fn semaphore() {
    MOST_INSIDE.store(0, Ordering::SeqCst);
    magpie::block_on(async {
        magpie::gather((0..12).map(|_| some_other_async_task())).await;
    });
    say!(
        "At most {} tasks were inside at once",
        MOST_INSIDE.load(Ordering::SeqCst)
    );
}

/// Every example of the seed, by name.
pub const EXAMPLES: &[(&str, fn())] = &[("lock", lock), ("semaphore", semaphore)];
