//! `#[magpie::main]`: the runtime it builds, `Result` outputs and `?`. The attribute works
//! on any function name, so these "mains" are called from ordinary tests.
use std::thread;

#[magpie::main]
async fn default_main() -> (usize, bool) {
    let workers = magpie::Handle::current().metrics().workers.len();
    let caller = thread::current().id();
    let on_worker = magpie::spawn(async move { thread::current().id() != caller })
        .await
        .unwrap();
    (workers, on_worker)
}

#[test]
fn default_is_multi_thread_with_one_worker_per_cpu() {
    let default = magpie::Runtime::new()
        .unwrap()
        .handle()
        .metrics()
        .workers
        .len();
    let (workers, on_worker) = default_main();
    assert_eq!(workers, default);
    assert!(
        on_worker,
        "a spawned task ran on the thread that called main"
    );
}

#[magpie::main(worker_threads = 2)]
async fn two_workers() -> usize {
    magpie::Handle::current().metrics().workers.len()
}

#[test]
fn worker_threads_sets_the_worker_count() {
    assert_eq!(two_workers(), 2);
}

#[magpie::main(flavor = "current_thread")]
async fn current_thread_main() -> bool {
    let caller = thread::current().id();
    magpie::spawn(async move { thread::current().id() == caller })
        .await
        .unwrap()
}

#[test]
fn current_thread_runs_tasks_on_the_calling_thread() {
    assert!(current_thread_main());
}

#[magpie::main]
async fn parse_on_a_task() -> Result<u32, std::num::ParseIntError> {
    let text = magpie::spawn(async { "x41".trim_start_matches('x').to_owned() })
        .await
        .unwrap();
    let n: u32 = text.parse()?;
    Ok(n + 1)
}

#[magpie::main(flavor = "current_thread")]
async fn parse_error() -> Result<u32, Box<dyn std::error::Error>> {
    let n: u32 = "not a number".parse()?;
    Ok(n)
}

#[test]
fn result_outputs_and_question_mark() {
    assert_eq!(parse_on_a_task(), Ok(42));
    let err = parse_error().unwrap_err();
    assert!(err.to_string().contains("invalid digit"), "{err}");
}
