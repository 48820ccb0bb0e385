//! `#[magpie::main]`: an `async fn main` that returns a `Result`, on two workers.
//!
//! Run with `cargo run --example macros_main`.
use std::time::Duration;

#[magpie::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let workers = magpie::Handle::current().metrics().workers.len();
    println!("running on {workers} workers");

    let tasks = (1..=4u64).map(|i| async move {
        magpie::time::sleep(Duration::from_millis(10 * i)).await;
        i * i
    });
    let squares = magpie::gather(tasks).await;
    println!("squares: {squares:?}");

    let sum: u64 =
        magpie::time::timeout(Duration::from_secs(5), async { squares.iter().sum() }).await?;
    println!("sum: {sum}");
    Ok(())
}
