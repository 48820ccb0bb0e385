//! Seed 000, "Task coordination and synchronization with Asyncio": `asyncio.wait`,
//! `asyncio.gather`, a `Semaphore` and a `Lock`, ported to magpie.
//!
//! `cargo run --example seeds_000_coordination [wait|gather|semaphore|lock]`
//!
//! What changes: the tasks run in parallel on every worker, so the lines that asyncio
//! prints in one fixed order at the same instant ("Task 1 started", "Task 2 started") may
//! come in either order here; everything ordered by time (sleeps, the lock, the
//! semaphore) comes out as in the original.

// ---- Output and timing shared by the seed ports ----

include!("seeds_common/harness.rs");

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
