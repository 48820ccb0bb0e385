//! Runs one workload on one runtime, for profilers (`perf record`, `strace -c`, callgrind):
//!
//! ```text
//! cargo run --release -p magpie-benches --bin profile -- RUNTIME WORKLOAD [ITERATIONS] [THREADS]
//! ```
//!
//! RUNTIME is magpie, tokio or smol; WORKLOAD a name from `compare`'s table. Prints the
//! median iteration time, so a profiled run can be checked against `compare`'s figures.

use std::time::{Duration, Instant};

use magpie_benches::{magpie, smol, tokio};

fn usage(why: &str) -> ! {
    eprintln!("profile: {why}\nusage: profile RUNTIME WORKLOAD [ITERATIONS] [THREADS]");
    std::process::exit(2)
}

fn run<R>(rt: &R, work: fn(&R), iterations: usize) -> Duration {
    let mut times: Vec<Duration> = (0..iterations)
        .map(|_| {
            let t0 = Instant::now();
            work(rt);
            t0.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(runtime), Some(workload)) = (args.first(), args.get(1)) else {
        usage("RUNTIME and WORKLOAD are required");
    };
    let iterations: usize = args
        .get(2)
        .map_or(Ok(20), |s| s.parse())
        .unwrap_or_else(|_| usage("ITERATIONS must be a number"))
        .max(1);
    let threads: usize = args
        .get(3)
        .map_or(Ok(num_cpus::get()), |s| s.parse())
        .unwrap_or_else(|_| usage("THREADS must be a number"));
    let index = magpie::WORKLOADS
        .iter()
        .position(|(n, _)| n == workload)
        .unwrap_or_else(|| usage(&format!("no workload named {workload:?}")));
    let median = match runtime.as_str() {
        "magpie" => {
            let rt = magpie::runtime(threads);
            let before = rt.metrics().total();
            let median = run(&rt, magpie::WORKLOADS[index].1, iterations);
            let after = rt.metrics().total();
            let per = |a: u64, b: u64| (a - b) as f64 / iterations as f64;
            println!(
                "magpie per iteration: polls {:.0}, steals {:.1}, parks {:.1}, lifo hits {:.0}, injector pops {:.1}",
                per(after.polls, before.polls),
                per(after.steals, before.steals),
                per(after.parks, before.parks),
                per(after.lifo_hits, before.lifo_hits),
                per(after.injector_pops, before.injector_pops),
            );
            median
        }
        "tokio" => run(
            &tokio::runtime(threads),
            tokio::WORKLOADS[index].1,
            iterations,
        ),
        "smol" => run(
            &smol::runtime(threads),
            smol::WORKLOADS[index].1,
            iterations,
        ),
        other => usage(&format!(
            "no runtime named {other:?}: use magpie, tokio or smol"
        )),
    };
    println!(
        "{runtime} {workload}: median {median:?} over {iterations} iterations, {threads} threads"
    );
}
