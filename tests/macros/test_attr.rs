//! `#[magpie::test]`: each flavor builds the runtime it names, tests may return `Result`,
//! and other attributes pass through.
use std::thread;

/// The thread a freshly spawned task runs on, by id and name.
async fn spawned_thread() -> (thread::ThreadId, Option<String>) {
    magpie::spawn(async {
        let t = thread::current();
        (t.id(), t.name().map(str::to_owned))
    })
    .await
    .unwrap()
}

#[magpie::test]
async fn default_flavor_is_current_thread() {
    // Every task runs on the test's own thread: there are no worker threads.
    let (id, _) = spawned_thread().await;
    assert_eq!(id, thread::current().id());
    assert_eq!(magpie::Handle::current().metrics().workers.len(), 1);
}

#[magpie::test(flavor = "current_thread")]
async fn explicit_current_thread() {
    let (id, _) = spawned_thread().await;
    assert_eq!(id, thread::current().id());
}

#[magpie::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_thread_with_two_workers() {
    let metrics = magpie::Handle::current().metrics();
    assert_eq!(metrics.workers.len(), 2);
    // Spawned tasks run on the workers, not on the test thread that runs the body.
    let (id, name) = spawned_thread().await;
    assert_ne!(id, thread::current().id());
    assert_eq!(name.as_deref(), Some("magpie-worker"));
}

#[magpie::test(worker_threads = 3, flavor = "multi_thread")]
async fn argument_order_does_not_matter() {
    assert_eq!(magpie::Handle::current().metrics().workers.len(), 3);
}

#[magpie::test(flavor = "multi_thread")]
async fn multi_thread_default_worker_count_matches_runtime_new() {
    let ours = magpie::Handle::current().metrics().workers.len();
    // Built on a plain thread: building a runtime inside another's context is fine, but
    // dropping one inside an async context may block, so keep it out of this task.
    let default = thread::spawn(|| {
        magpie::Runtime::new()
            .unwrap()
            .handle()
            .metrics()
            .workers
            .len()
    })
    .join()
    .unwrap();
    assert_eq!(ours, default);
    let (id, _) = spawned_thread().await;
    assert_ne!(id, thread::current().id());
}

#[magpie::test]
async fn returns_ok() -> Result<(), Box<dyn std::error::Error>> {
    let n: u32 = "42".parse()?;
    let doubled = magpie::spawn(async move { n * 2 }).await?;
    assert_eq!(doubled, 84);
    Ok(())
}

#[magpie::test(flavor = "multi_thread", worker_threads = 2)]
#[should_panic(expected = "boom in the body")]
async fn panics_in_the_body_reach_the_harness() {
    magpie::yield_now().await;
    panic!("boom in the body");
}

#[magpie::test]
async fn early_return_leaves_the_body() -> Result<(), String> {
    if magpie::spawn(async { true }).await.unwrap() {
        return Ok(());
    }
    Err("a `return` in the body must end the test here".to_owned())
}
