//! Seed 004, a tour of asyncio (event loop, coroutines, tasks, `gather`, `TaskGroup`,
//! futures, and the synchronization primitives): every example, ported to magpie.
//!
//! `cargo run --example seeds_004_asyncio_tour [NAME...]` with NAME among `hello`,
//! `event_loop`, `coroutines`, `create_task`, `gather_errors`, `task_group`, `background`,
//! `timeout_group`, `future`, `lock_counter`, `event_waiters`, `condition`, `semaphore`,
//! `bounded_semaphore`.
//!
//! What changes: tasks run in parallel on every worker, so lines that asyncio prints in a
//! fixed order at the same instant may interleave differently here. Everything ordered by
//! time, by a lock, a semaphore, an event or a condition comes out as in the original.

// ---- Output and timing shared by the seed ports ----

include!("seeds_common/harness.rs");

// ---- The examples ----

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use magpie::sync::{oneshot, BoundedSemaphore, Condition, Event, Mutex, Semaphore};
use magpie::TaskGroup;

type Task = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Python's `repr` of a list of strings: `['a', 'b']`.
fn py_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| format!("'{s}'")).collect();
    format!("[{}]", quoted.join(", "))
}

// --- asyncio: what it is ------------------------------------------------------------

async fn say_hello() {
    say!("Hello");
    sleep(1.0).await; // Simulate I/O wait
    say!("World");
}

/// `await asyncio.gather(say_hello(), say_hello())`.
fn hello() {
    magpie::block_on(async {
        magpie::gather([say_hello(), say_hello()]).await;
    });
}

// --- Event loop -----------------------------------------------------------------------

async fn task1() {
    say!("Task 1 started");
    sleep(2.0).await;
    say!("Task 1 finished");
}

async fn task2() {
    say!("Task 2 started");
    sleep(1.0).await;
    say!("Task 2 finished");
}

/// `loop = asyncio.get_event_loop()`, `loop.run_until_complete(gather(...))`,
/// `loop.close()`: the loop is a `Runtime`, closed when dropped.
fn event_loop() {
    let rt = magpie::Runtime::new().unwrap();
    rt.block_on(magpie::gather([
        Box::pin(task1()) as Task,
        Box::pin(task2()),
    ]));
    drop(rt);
}

// --- Coroutines -----------------------------------------------------------------------

async fn fetch_data() -> BTreeMap<&'static str, i32> {
    say!("Fetching data...");
    sleep(1.0).await; // Simulate network delay
    BTreeMap::from([("data", 42)])
}

async fn process_data() -> &'static str {
    say!("Processing data...");
    sleep(0.5).await;
    "Processed"
}

/// Two coroutines awaited one after the other.
fn coroutines() {
    magpie::block_on(async {
        let result1 = fetch_data().await;
        let result2 = process_data().await;
        let dict: Vec<String> = result1.iter().map(|(k, v)| format!("'{k}': {v}")).collect();
        say!("Results: {{{}}}, {result2}", dict.join(", "));
    });
}

// --- Tasks, example 1: create_task ------------------------------------------------------

async fn fetch_from(server_id: u64) -> String {
    say!("Fetching data from server {server_id}");
    sleep(server_id as f64).await; // Simulate network delay
    format!("Data from server {server_id}")
}

/// `asyncio.create_task` three times, then
/// `await asyncio.wait_for(asyncio.gather(task1, task2, task3), timeout=4)`.
///
/// `gather` of handles: each handle is awaited by a child task. (Dropping that gather
/// would detach, not abort, the three tasks, since dropping a `JoinHandle` detaches; pass
/// `gather` the futures themselves to have it own them.)
fn create_task() {
    let start = Instant::now();
    magpie::block_on(async {
        let tasks: Vec<_> = (1..=3).map(|id| magpie::spawn(fetch_from(id))).collect();
        let results = magpie::time::timeout(out::secs(4.0), magpie::gather(tasks))
            .await
            .expect("the three fetches take 3 s, under the 4 s timeout");
        let results: Vec<String> = results.into_iter().map(Result::unwrap).collect();
        say!("Results: {}", py_list(&results));
    });
    say!("Total time: {:.2} seconds", start.elapsed().as_secs_f64());
}

// --- Tasks, example 2: gather with return_exceptions=True -------------------------------

/// Python's `ValueError`: in Rust an error is a value, not an exception.
#[derive(Debug)]
struct ValueError(String);

async fn risky_operation(id: u32) -> Result<String, ValueError> {
    say!("Starting operation {id}");
    sleep(1.0).await;
    if id == 2 {
        return Err(ValueError(format!("Error in operation {id}")));
    }
    Ok(format!("Result {id}"))
}

/// `await asyncio.gather(*tasks, return_exceptions=True)`: errors are values, so a plain
/// `gather` already returns every outcome. (For *panics*, `gather_outcomes` is the twin.)
fn gather_errors() {
    magpie::block_on(async {
        let results = magpie::gather((0..3).map(risky_operation)).await;
        for result in results {
            match result {
                Ok(value) => say!("Result: {value}"),
                Err(ValueError(message)) => say!("Result: ValueError('{message}')"),
            }
        }
    });
}

// --- Tasks, example 3: TaskGroup --------------------------------------------------------

async fn process_item(item: u64) -> Result<String, String> {
    say!("Processing item {item}");
    sleep(item as f64).await;
    if item == 3 {
        return Err(format!("Failed to process item {item}"));
    }
    Ok(format!("Processed {item}"))
}

/// `async with asyncio.TaskGroup() as tg:` four items; item 3 fails at 3 s, which
/// cancels item 4 (due at 4 s); the group's error is caught outside.
fn task_group() {
    let outcome = magpie::block_on(async {
        let tg = TaskGroup::new();
        let tasks: Vec<_> = (1..5).map(|item| tg.spawn(process_item(item))).collect();
        tg.join().await?;
        // Results are available after the group exits.
        for task in tasks {
            if let Some(result) = task.await {
                say!("Result: {result}");
            }
        }
        Ok::<(), magpie::GroupError<String>>(())
    });
    if let Err(e) = outcome {
        say!("TaskGroup caught: {}", e.errors()[0]);
    }
}

// --- Tasks, example 4: background task with cancellation --------------------------------

async fn background_monitor() {
    loop {
        say!("Monitoring...");
        sleep(2.0).await;
    }
}

/// A background task, cancelled after three steps of main work: `task.cancel()` is
/// `abort()`, and awaiting it gives a cancelled `JoinError` (asyncio's `CancelledError`).
fn background() {
    magpie::block_on(async {
        let task = magpie::spawn(background_monitor());
        for i in 0..3 {
            say!("Main step {i}");
            sleep(1.0).await;
        }
        task.abort();
        match task.await {
            Err(e) if e.is_cancelled() => say!("Background task cancelled"),
            other => unreachable!("the monitor never ends by itself: {other:?}"),
        }
    });
}

// --- Tasks, example 5: timeout with TaskGroup -------------------------------------------

async fn long_task(id: u64) -> Result<String, Infallible> {
    say!("Task {id} started");
    sleep(id as f64 * 2.0).await;
    say!("Task {id} completed");
    Ok(format!("Result {id}"))
}

/// Tasks of 2, 4 and 6 s under a 3 s timeout. The port times out the group's `join`:
/// expiry drops it, which drops the group, which cancels the tasks still running.
fn timeout_group() {
    magpie::block_on(async {
        let tg = TaskGroup::new();
        let tasks: Vec<_> = (1..4).map(|id| tg.spawn(long_task(id))).collect();
        match magpie::time::timeout(out::secs(3.0), tg.join()).await {
            Ok(Ok(())) => {
                let mut results = Vec::new();
                for task in tasks {
                    results.extend(task.await);
                }
                say!("Results: {}", py_list(&results));
            }
            Ok(Err(e)) => say!("Error: {e}"),
            Err(_elapsed) => say!("Timeout! Tasks were cancelled by TaskGroup"),
        }
    });
}

// --- Futures ----------------------------------------------------------------------------

async fn set_future_result(future: oneshot::Sender<&'static str>) {
    sleep(1.0).await;
    future.set_result("Future resolved!").unwrap();
}

/// `future = loop.create_future()`, set by another task: a one-shot channel.
fn future() {
    magpie::block_on(async {
        let (future, result) = oneshot::channel(); // Create a future
        let _task = magpie::spawn(set_future_result(future)); // Schedule task to set result
        let result = result.await.unwrap(); // Wait for future to resolve
        say!("{result}");
    });
}

// --- Lock -------------------------------------------------------------------------------

/// The lock owns the counter it protects (Python keeps them apart).
async fn increment_counter(counter: Arc<Mutex<u64>>, name: String) {
    let mut counter = counter.lock().await; // Acquire lock safely
    let current = *counter;
    say!("{name} read counter: {current}");
    sleep(0.1).await; // Simulate work
    *counter = current + 1;
    say!("{name} set counter: {}", *counter);
}

fn lock_counter() {
    magpie::block_on(async {
        let counter = Arc::new(Mutex::new(0)); // Shared resource
        let tasks = (0..3).map(|i| increment_counter(counter.clone(), format!("Task {i}")));
        magpie::gather(tasks).await;
        say!("Final counter: {}", *counter.lock().await);
    });
}

// --- Event ------------------------------------------------------------------------------

async fn waiter(event: Arc<Event>, name: String) {
    say!("{name} waiting for event");
    event.wait().await; // Wait until event is set
    say!("{name} proceeding after event");
}

async fn trigger(event: Arc<Event>) {
    say!("Trigger task started");
    sleep(1.0).await; // Simulate setup work
    say!("Setting event");
    event.set(); // Signal waiting coroutines
}

fn event_waiters() {
    magpie::block_on(async {
        let event = Arc::new(Event::new());
        let mut tasks: Vec<Task> = (0..3)
            .map(|i| Box::pin(waiter(event.clone(), format!("Waiter {i}"))) as Task)
            .collect();
        tasks.push(Box::pin(trigger(event)));
        magpie::gather(tasks).await;
    });
}

// --- Condition --------------------------------------------------------------------------

type Shared = Arc<(Mutex<Vec<u32>>, Condition)>;

async fn producer(state: Shared) {
    let (buffer, condition) = &*state;
    for i in 0..3 {
        {
            let mut buffer = buffer.lock().await;
            buffer.push(i);
            say!("Produced {i}, buffer: {:?}", *buffer);
            condition.notify(1); // Notify one consumer
        }
        sleep(0.5).await;
    }
}

async fn consumer(state: Shared, name: &'static str) {
    let (buffer, condition) = &*state;
    let mut buffer = buffer.lock().await;
    while buffer.is_empty() {
        // Wait for items
        say!("{name} waiting for items");
        buffer = condition.wait(buffer).await;
    }
    let item = buffer.remove(0);
    say!("{name} consumed {item}, buffer: {:?}", *buffer);
}

/// One producer of three items, two consumers of one item each. (The seed's printed
/// output has Consumer 2 consuming twice, which its code cannot do: each consumer takes
/// one item, and the third item stays in the buffer, as here.)
fn condition() {
    magpie::block_on(async {
        let state: Shared = Arc::new((Mutex::new(Vec::new()), Condition::new()));
        magpie::gather([
            Box::pin(producer(state.clone())) as Task,
            Box::pin(consumer(state.clone(), "Consumer 1")),
            Box::pin(consumer(state, "Consumer 2")),
        ])
        .await;
    });
}

// --- Semaphore --------------------------------------------------------------------------

async fn access_api(semaphore: Arc<Semaphore>, name: String) {
    let _permit = semaphore.acquire().await.unwrap(); // Limit concurrent access
    say!("{name} making API call");
    sleep(1.0).await; // Simulate API delay
    say!("{name} finished API call");
}

fn semaphore() {
    magpie::block_on(async {
        let semaphore = Arc::new(Semaphore::new(2)); // Allow 2 concurrent calls
        magpie::gather((0..5).map(|i| access_api(semaphore.clone(), format!("Task {i}")))).await;
    });
}

// --- BoundedSemaphore -------------------------------------------------------------------

async fn access_resource(semaphore: Arc<BoundedSemaphore>, name: String) {
    let _permit = semaphore.acquire().await.unwrap();
    say!("{name} acquired resource");
    sleep(0.5).await;
    say!("{name} released resource");
}

fn bounded_semaphore() {
    magpie::block_on(async {
        let semaphore = Arc::new(BoundedSemaphore::new(2)); // Allow 2 concurrent accesses
        let tasks = (0..4).map(|i| access_resource(semaphore.clone(), format!("Task {i}")));
        magpie::gather(tasks).await;
        // Releasing again is an error value (asyncio raises ValueError).
        if let Err(e) = semaphore.release() {
            say!("Error: {e}");
        }
    });
}

/// Every example of the seed, by name.
pub const EXAMPLES: &[(&str, fn())] = &[
    ("hello", hello),
    ("event_loop", event_loop),
    ("coroutines", coroutines),
    ("create_task", create_task),
    ("gather_errors", gather_errors),
    ("task_group", task_group),
    ("background", background),
    ("timeout_group", timeout_group),
    ("future", future),
    ("lock_counter", lock_counter),
    ("event_waiters", event_waiters),
    ("condition", condition),
    ("semaphore", semaphore),
    ("bounded_semaphore", bounded_semaphore),
];
