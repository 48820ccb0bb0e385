//! Shared by the stress tests (`tests/stress/`, `tests/stress_shutdown.rs`): the size
//! scale, a seeded generator, liveness guards and a per-case hang detector.
//!
//! - `MAGPIE_STRESS_SCALE` (a float, default [`DEFAULT_SCALE`]): `1.0` runs the full sizes
//!   the tests are written for (1,000,000 tasks, 100,000 waiters, ...); the default keeps
//!   the whole stress suite well under a minute in a debug `cargo test`; `0.01` is
//!   for ThreadSanitizer and valgrind runs.
//! - `MAGPIE_STRESS_SEED` (a `u64`): replays a run. Every test prints the seed it used.
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The scale when `MAGPIE_STRESS_SCALE` is unset.
pub const DEFAULT_SCALE: f64 = 0.1;

/// The size scale: `MAGPIE_STRESS_SCALE`, or [`DEFAULT_SCALE`].
///
/// # Panics
///
/// If the variable is set but is not a positive float.
pub fn scale() -> f64 {
    match std::env::var("MAGPIE_STRESS_SCALE") {
        Ok(s) => {
            let v: f64 = s
                .trim()
                .parse()
                .unwrap_or_else(|_| panic!("MAGPIE_STRESS_SCALE={s:?} is not a float"));
            assert!(v > 0.0, "MAGPIE_STRESS_SCALE must be positive, got {v}");
            v
        }
        Err(_) => DEFAULT_SCALE,
    }
}

/// `full` scaled down (or up), but never below `min`.
pub fn scaled(full: usize, min: usize) -> usize {
    ((full as f64 * scale()).round() as usize).max(min)
}

/// How long a hang detector waits: generous, and longer for big scales.
pub fn deadline_secs(base: u64) -> u64 {
    let s = scale();
    if s <= 0.1 {
        base
    } else {
        (base as f64 * s * 10.0).ceil() as u64
    }
}

/// The seed: `MAGPIE_STRESS_SEED`, or one from the clock. Printed with the test's name, so
/// a failing run can be replayed.
pub fn seed(test: &str) -> u64 {
    let seed = match std::env::var("MAGPIE_STRESS_SEED") {
        Ok(s) => s
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("MAGPIE_STRESS_SEED={s:?} is not a u64")),
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64,
    };
    println!(
        "{test}: seed {seed} (replay with MAGPIE_STRESS_SEED={seed}), scale {}",
        scale()
    );
    seed
}

/// splitmix64: tiny, fast, and good enough to pick shapes. Cloneable so a task can carry
/// its own stream ([`Rng::fork`]).
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A value in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// An independent stream derived from this one.
    pub fn fork(&mut self) -> Rng {
        Rng(self.next_u64())
    }

    /// A duration of `0..max_us` microseconds.
    pub fn micros(&mut self, max_us: u64) -> Duration {
        Duration::from_micros(self.below(max_us.max(1)))
    }
}

/// Counts guards alive and guards dropped: a future holds a [`LiveGuard`] for its whole
/// life, so `alive() == 0` means every such future was dropped, and `dropped()` counts
/// each drop exactly once.
#[derive(Clone, Default, Debug)]
pub struct Liveness(Arc<LivenessInner>);

#[derive(Default, Debug)]
pub struct LivenessInner {
    created: AtomicUsize,
    dropped: AtomicUsize,
}

#[derive(Debug)]
pub struct LiveGuard(Arc<LivenessInner>);

impl Liveness {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn guard(&self) -> LiveGuard {
        self.0.created.fetch_add(1, Ordering::SeqCst);
        LiveGuard(self.0.clone())
    }
    pub fn created(&self) -> usize {
        self.0.created.load(Ordering::SeqCst)
    }
    pub fn dropped(&self) -> usize {
        self.0.dropped.load(Ordering::SeqCst)
    }
    pub fn alive(&self) -> usize {
        self.created() - self.dropped()
    }
}

impl Drop for LiveGuard {
    fn drop(&mut self) {
        self.0.dropped.fetch_add(1, Ordering::SeqCst);
    }
}

/// A counter shared between tasks.
#[derive(Clone, Default, Debug)]
pub struct Count(Arc<AtomicUsize>);

impl Count {
    pub fn add(&self, n: usize) {
        self.0.fetch_add(n, Ordering::SeqCst);
    }
    pub fn inc(&self) {
        self.add(1);
    }
    pub fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// Runs `f` on its own thread; if it has not returned within `secs` the test fails with
/// a message naming `what` (the hang detector: a hung case is reported, not waited for).
/// A panic inside `f` is passed on with its message.
pub fn run_case<T: Send + 'static>(
    what: &str,
    secs: u64,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    let start = Instant::now();
    let thread = std::thread::Builder::new()
        .name(format!("stress:{what}"))
        .spawn(move || {
            let _ = tx.send(f());
        })
        .unwrap();
    match rx.recv_timeout(Duration::from_secs(secs)) {
        Ok(v) => {
            thread.join().unwrap();
            v
        }
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => match thread.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => unreachable!("the case thread sent nothing and did not panic"),
        },
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => panic!(
            "{what} hung: not finished after {:.1} s (deadline {secs} s)",
            start.elapsed().as_secs_f64()
        ),
    }
}
