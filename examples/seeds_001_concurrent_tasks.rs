//! Seed 001, "Building concurrent tasks using Asyncio": `gather` of two tasks, and two
//! tasks sharing a resource behind a `Lock`, ported to magpie.
//!
//! `cargo run --example seeds_001_concurrent_tasks [gather|lock]`
//!
//! What changes: the tasks run in parallel, so lines printed at the same instant may
//! interleave differently from asyncio's one-thread order; the lock still lets one task at
//! a time into the shared resource.

// ---- Output and timing shared by the seed ports ----

include!("seeds_common/harness.rs");

// ---- The examples ----

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use magpie::sync::Mutex;

type Task = Pin<Box<dyn Future<Output = ()> + Send>>;

async fn task1() {
    say!("Task 1 started");
    sleep(1.0).await;
    say!("Task 1 completed");
}

async fn task2() {
    say!("Task 2 started");
    sleep(2.0).await;
    say!("Task 2 completed");
}

/// `loop.run_until_complete(main())` with `await asyncio.gather(task1(), task2())`.
fn gather() {
    magpie::block_on(async {
        magpie::gather([Box::pin(task1()) as Task, Box::pin(task2())]).await;
    });
}

/// The shared resource the lock protects (asyncio's comment "Do something with the shared
/// resource"): here, how many tasks are inside at once.
async fn task(lock: Arc<Mutex<usize>>) {
    say!("Task started");
    {
        let mut inside = lock.lock().await;
        *inside += 1;
        say!("Accessing shared resource");
        assert_eq!(*inside, 1, "the lock lets one task in at a time");
        *inside -= 1;
    }
    say!("Task completed");
}

/// `lock = asyncio.Lock(); await asyncio.gather(task(lock), task(lock))`.
fn lock() {
    magpie::block_on(async {
        let lock = Arc::new(Mutex::new(0));
        magpie::gather([task(lock.clone()), task(lock)]).await;
    });
}

/// Every example of the seed, by name.
pub const EXAMPLES: &[(&str, fn())] = &[("gather", gather), ("lock", lock)];
