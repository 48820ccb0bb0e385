//! Seed 003, "Syncing multiple coroutines using synchronization primitives": `Event`,
//! `Lock`, `Semaphore` and `Condition`, ported to magpie.
//!
//! `cargo run --example seeds_003_sync_primitives [event|lock|semaphore|condition]`
//!
//! What changes: the coroutines run in parallel, so lines printed at the same instant may
//! interleave differently; the order the primitives impose (and every sleep) is the
//! original's. The `Condition` example of the original never finishes (see
//! [`condition`]); the port shows why instead of hanging.

// ---- Output and timing shared by the seed ports ----

include!("seeds_common/harness.rs");

// ---- The examples ----

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use magpie::sync::{Condition, Event, Mutex, Semaphore};

type Task = Pin<Box<dyn Future<Output = ()> + Send>>;

async fn coroutine_1(event: Arc<Event>) {
    say!("Coroutine 1 is waiting...");
    event.wait().await;
    say!("Coroutine 1 resumed.");
}

async fn coroutine_2(event: Arc<Event>) {
    say!("Coroutine 2 is doing some work...");
    sleep(2.0).await;
    event.set();
    say!("Coroutine 2 finished its work.");
}

/// `event = asyncio.Event()`; one coroutine waits, the other sets it after 2 s.
fn event() {
    magpie::block_on(async {
        let event = Arc::new(Event::new());
        magpie::gather([
            Box::pin(coroutine_1(event.clone())) as Task,
            Box::pin(coroutine_2(event)),
        ])
        .await;
    });
}

async fn lock_coroutine(lock: Arc<Mutex<()>>) {
    say!("Coroutine trying to acquire the lock...");
    {
        let _guard = lock.lock().await;
        say!("Lock acquired.");
        sleep(2.0).await;
    }
    say!("Lock released.");
}

/// Two coroutines, one `Lock`, each holding it for 2 s.
fn lock() {
    magpie::block_on(async {
        let lock = Arc::new(Mutex::new(()));
        magpie::gather([lock_coroutine(lock.clone()), lock_coroutine(lock)]).await;
    });
}

/// `await semaphore.acquire()` ... `semaphore.release()`: asyncio's manual style is
/// `acquire().await?.forget()` (keep the permit past the guard) and `release()`.
async fn semaphore_coroutine(semaphore: Arc<Semaphore>) {
    semaphore.acquire().await.unwrap().forget();
    say!("Acquired semaphore.");
    sleep(2.0).await;
    semaphore.release();
    say!("Released semaphore.");
}

/// `Semaphore(1)` shared by two coroutines.
fn semaphore() {
    magpie::block_on(async {
        let semaphore = Arc::new(Semaphore::new(1));
        magpie::gather([
            semaphore_coroutine(semaphore.clone()),
            semaphore_coroutine(semaphore),
        ])
        .await;
    });
}

async fn producer(state: Arc<(Mutex<()>, Condition)>) {
    let (lock, condition) = &*state;
    let _guard = lock.lock().await;
    say!("Producer putting an item...");
    sleep(2.0).await;
    condition.notify(1);
}

async fn consumer(state: Arc<(Mutex<()>, Condition)>) {
    let (lock, condition) = &*state;
    let guard = lock.lock().await;
    say!("Consumer waiting for an item...");
    let _guard = condition.wait(guard).await;
    say!("Consumer received an item.");
}

/// The original never finishes: the producer takes the lock first, notifies while the
/// consumer is still waiting for the *lock* (not yet in `condition.wait()`), so the
/// notification reaches nobody; the consumer then waits forever. The port reproduces
/// that on a current-thread runtime (asyncio's one thread, where the producer, started
/// first, gets the lock first), and gives up after 5 s instead of hanging. The cure, in
/// either language: wait for a *state* (`condition.wait_for(guard, |s| s.ready)`), not
/// for a notification.
fn condition() {
    let rt = magpie::Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let state = Arc::new((Mutex::new(()), Condition::new()));
        let both = magpie::gather([
            Box::pin(producer(state.clone())) as Task,
            Box::pin(consumer(state)),
        ]);
        if magpie::time::timeout(out::secs(5.0), both).await.is_err() {
            say!("(5 s later the consumer is still waiting: the notification came before it waited; the original hangs here forever)");
        }
    });
}

/// Every example of the seed, by name.
pub const EXAMPLES: &[(&str, fn())] = &[
    ("event", event),
    ("lock", lock),
    ("semaphore", semaphore),
    ("condition", condition),
];
