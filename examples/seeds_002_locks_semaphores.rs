//! Seed 002, "Coordinating multiple Asyncio tasks with locks and semaphores": the two
//! fragments (`await lock.acquire()` / `try` / `finally: lock.release()`, and
//! `async with semaphore:` with `Semaphore(5)`), completed into programs and ported.
//!
//! `cargo run --example seeds_002_locks_semaphores [lock|semaphore]`
//!
//! The fragments' critical sections are comments; here they do something observable: the
//! lock's keeps a read-modify-write that awaits in the middle correct, the semaphore's
//! counts how many tasks are inside at once (never more than 5).

// ---- Output and timing shared by the seed ports ----

include!("seeds_common/harness.rs");

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
