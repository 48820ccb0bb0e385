//! A tour of the runtime core: CPU-bound tasks spread over every worker by work stealing.
//!
//! One task spawns all the work onto its own worker; the other workers steal it. The
//! program prints the result, the wall time against a single-threaded run of the same
//! work, and each worker's counters (polls, steals, parks, ...).
//!
//! Run: `cargo run --release --example parallel_sum`

use std::time::Instant;

/// Sums the integer square roots of a range: enough arithmetic to be worth a task.
fn chunk_work(start: u64, len: u64) -> u64 {
    (start..start + len).map(|x| (x as f64).sqrt() as u64).sum()
}

fn main() -> std::io::Result<()> {
    const CHUNKS: u64 = 256;
    const CHUNK: u64 = 200_000;

    let t = Instant::now();
    let serial: u64 = (0..CHUNKS).map(|c| chunk_work(c * CHUNK, CHUNK)).sum();
    let serial_time = t.elapsed();

    let rt = magpie::Runtime::new()?;
    let t = Instant::now();
    let parallel = rt.block_on(async {
        magpie::spawn(async {
            let handles: Vec<_> = (0..CHUNKS)
                .map(|c| magpie::spawn(async move { chunk_work(c * CHUNK, CHUNK) }))
                .collect();
            let mut total = 0;
            for h in handles {
                total += h.await.expect("chunk task failed");
            }
            total
        })
        .await
        .expect("root task failed")
    });
    let parallel_time = t.elapsed();

    assert_eq!(
        serial, parallel,
        "the parallel sum must equal the serial one"
    );
    let metrics = rt.handle().metrics();
    println!("sum = {parallel}");
    println!(
        "serial {:.1} ms, magpie on {} workers {:.1} ms ({:.2}x)",
        serial_time.as_secs_f64() * 1e3,
        metrics.workers.len(),
        parallel_time.as_secs_f64() * 1e3,
        serial_time.as_secs_f64() / parallel_time.as_secs_f64()
    );
    for (i, w) in metrics.workers.iter().enumerate() {
        println!(
            "worker {i}: polls {:>5}  steals {:>3}  parks {:>3}  lifo hits {:>4}  injector pops {:>3}",
            w.polls, w.steals, w.parks, w.lifo_hits, w.injector_pops
        );
    }
    Ok(())
}
