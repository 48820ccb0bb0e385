//! An idle runtime parks: no spinning, no periodic wake-ups (with no timers armed).
//!
//! A binary of its own (not in `tests/io/`): it reads the CPU time of this process's
//! threads from /proc, which any other test running beside it in the process would add to.

use std::time::Duration;

/// CPU time (user + system, in clock ticks) from a /proc `stat` file.
fn ticks(stat: &std::path::Path) -> Option<u64> {
    let stat = std::fs::read_to_string(stat).ok()?;
    // Fields after the ")" that ends the name: state is field 3; utime 14, stime 15.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    Some(f[11].parse::<u64>().ok()? + f[12].parse::<u64>().ok()?)
}

/// CPU time of this process's threads named `name` (Linux), or of the calling thread.
fn cpu_ticks_of(name: Option<&str>) -> u64 {
    let Some(name) = name else {
        return ticks("/proc/thread-self/stat".as_ref()).unwrap_or(0);
    };
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    dir.filter_map(|e| {
        let path = e.ok()?.path();
        let comm = std::fs::read_to_string(path.join("comm")).ok()?;
        if comm.trim_end() != name {
            return None;
        }
        ticks(&path.join("stat"))
    })
    .sum()
}

#[test]
fn an_idle_runtime_parks_and_uses_no_cpu() {
    for (flavor, rt) in [
        (
            "multi",
            magpie::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("idle-cpu-check")
                .build()
                .unwrap(),
        ),
        (
            "current",
            magpie::Builder::new_current_thread().build().unwrap(),
        ),
    ] {
        // Some I/O registered and a timer fired, then nothing to do.
        let listener = rt.block_on(async {
            magpie::time::sleep(Duration::from_millis(2)).await;
            magpie::net::TcpListener::bind("127.0.0.1:0").await.unwrap()
        });
        let parks_before: u64 = rt.handle().metrics().workers.iter().map(|w| w.parks).sum();
        let who = if flavor == "multi" {
            Some("idle-cpu-check")
        } else {
            None
        };
        let cpu_before = cpu_ticks_of(who);
        if flavor == "current" {
            // The current-thread runtime idles inside block_on, waiting on the listener.
            rt.block_on(async {
                let r = magpie::time::timeout(Duration::from_millis(500), listener.accept()).await;
                assert!(r.is_err());
            });
        } else {
            std::thread::sleep(Duration::from_millis(500));
        }
        let parks: u64 = rt
            .handle()
            .metrics()
            .workers
            .iter()
            .map(|w| w.parks)
            .sum::<u64>()
            - parks_before;
        let cpu = cpu_ticks_of(who) - cpu_before;
        // Parked once (plus a spurious wake-up or two), not spinning.
        assert!(parks <= 4, "{flavor}: {parks} parks in 500 ms idle");
        assert!(
            cpu <= 5,
            "{flavor}: idle workers used {cpu} ticks of CPU in 500 ms"
        );
        drop(listener);
    }
}
