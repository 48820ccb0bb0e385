//! Runtimes of both flavours dropped while 10,000 tasks (full scale,
//! `MAGPIE_STRESS_SCALE=1`) run: reading loopback TCP streams that trickle data, sleeping,
//! holding or waiting for semaphore permits and mutex guards, spinning on `yield_now`, and
//! running `spawn_blocking` closures. After each drop every future was dropped exactly once
//! (each holds a liveness guard made at spawn time, so never-polled ones count too), the
//! permits and the lock are free again, and the process has no more threads than before the
//! runtime was built.
//!
//! The thread count is read from `/proc/self/task`, so this file is a test binary of its
//! own (not in `tests/stress/`) with a single `#[test]` that runs its cases one after
//! another: no other test of this process runs threads at the same time. Worker threads
//! are joined by the drop; blocking-pool threads are waited for until they leave their loop (they are not joined), so the count may take a moment to
//! settle: it is polled for up to a few seconds.

#[path = "support/stress.rs"]
mod stress;
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use magpie::io::{AsyncReadExt, AsyncWriteExt};
use magpie::net::{TcpListener, TcpStream};
use magpie::sync::{Mutex, Semaphore};
use stress::{run_case, scaled, Count, Liveness, Rng};

const PERMITS: usize = 8;

fn threads_now() -> usize {
    std::fs::read_dir("/proc/self/task").unwrap().count()
}

/// Waits (a few seconds at most) for the thread count to come back to `baseline`.
fn threads_settle(baseline: usize, what: &str) {
    let start = Instant::now();
    loop {
        let now = threads_now();
        if now <= baseline {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{what}: {now} threads 10 s after the runtime was dropped, {baseline} before it was built"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[derive(Clone, Default)]
struct Figures {
    tasks: Count,
    connections: Count,
    connect_resets: Count,
    bytes_read: Count,
    blocking: Count,
    permit_holders: Count,
    lock_holders: Count,
}

/// Spawns the workload (from inside the runtime) and returns once it is all spawned.
async fn workload(
    n: usize,
    mut rng: Rng,
    live: Liveness,
    figs: Figures,
    sem: Arc<Semaphore>,
    lock: Arc<Mutex<u64>>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let conns = (n / 20).clamp(2, 500);
    // The server: each accepted stream gets a task writing a byte now and then, forever.
    let guard = live.guard();
    let server_live = live.clone();
    magpie::spawn(async move {
        let _g = guard;
        loop {
            // Fails once the runtime shuts down (its I/O objects fail from then on).
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            let g = server_live.guard();
            magpie::spawn(async move {
                let _g = g;
                let mut i = 0u8;
                while s.write_all(&[i]).await.is_ok() {
                    i = i.wrapping_add(1);
                    magpie::time::sleep(Duration::from_millis(2)).await;
                }
            });
        }
    });
    for _ in 0..conns {
        let (g, figs) = (live.guard(), figs.clone());
        figs.tasks.inc();
        magpie::spawn(async move {
            let _g = g;
            // Reset when the runtime drops the listener before accepting: a shutdown
            // race, not a failure of this test.
            let Ok(mut s) = TcpStream::connect(addr).await else {
                figs.connect_resets.inc();
                return std::future::pending::<()>().await;
            };
            figs.connections.inc();
            let mut buf = [0u8; 16];
            loop {
                match s.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(k) => figs.bytes_read.add(k),
                }
            }
            // The server side went away (shutdown); wait for ever like the others.
            std::future::pending::<()>().await;
        });
    }
    for i in conns..n {
        let g = live.guard();
        figs.tasks.inc();
        let kind = rng.below(6);
        let nap = rng.micros(20_000);
        let (sem, lock, figs) = (sem.clone(), lock.clone(), figs.clone());
        let fut: std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> = match kind {
            0 => Box::pin(async move {
                let _g = g;
                magpie::time::sleep(Duration::from_secs(3600)).await;
            }),
            1 => Box::pin(async move {
                let _g = g;
                loop {
                    magpie::time::sleep(nap).await;
                }
            }),
            2 => Box::pin(async move {
                let _g = g;
                let _permit = sem.acquire().await.unwrap();
                figs.permit_holders.inc();
                loop {
                    magpie::time::sleep(nap).await;
                }
            }),
            3 => Box::pin(async move {
                let _g = g;
                let mut guard = lock.lock().await;
                *guard += 1;
                figs.lock_holders.inc();
                magpie::time::sleep(nap).await;
                std::future::pending::<()>().await;
            }),
            4 => Box::pin(async move {
                let _g = g;
                loop {
                    magpie::yield_now().await;
                }
            }),
            _ => Box::pin(async move {
                let _g = g;
                if i % 50 == 0 {
                    figs.blocking.inc();
                    let _ = magpie::spawn_blocking(move || std::thread::sleep(nap / 4)).await;
                }
                std::future::pending::<()>().await;
            }),
        };
        let h = magpie::spawn(fut);
        if i % 3 == 0 {
            drop(h); // detached
        } else {
            KEPT.with(|k| k.borrow_mut().push(h));
        }
        if i % 256 == 0 {
            magpie::yield_now().await;
        }
    }
}

thread_local! {
    /// Handles kept across the runtime's drop (on the case's thread).
    static KEPT: std::cell::RefCell<Vec<magpie::JoinHandle<()>>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn one_round(flavor: &str, n: usize, rng: &mut Rng, figs: &Figures) -> usize {
    let baseline = threads_now();
    let rt = match flavor {
        "multi_thread" => magpie::Builder::new_multi_thread()
            .worker_threads(2)
            .max_blocking_threads(4)
            .build()
            .unwrap(),
        _ => magpie::Builder::new_current_thread()
            .max_blocking_threads(4)
            .build()
            .unwrap(),
    };
    let live = Liveness::new();
    let sem = Arc::new(Semaphore::new(PERMITS));
    let lock = Arc::new(Mutex::new(0u64));
    let run_for = Duration::from_millis(rng.below(30));
    rt.block_on({
        let (live, figs, sem, lock) = (live.clone(), figs.clone(), sem.clone(), lock.clone());
        let rng = rng.fork();
        async move {
            workload(n, rng, live, figs, sem, lock).await;
            magpie::time::sleep(run_for).await;
        }
    });
    let created = live.created();
    if flavor == "multi_thread" {
        // The check below can fail: the workers are there now.
        assert!(
            threads_now() >= baseline + 2,
            "{flavor}: workers not counted"
        );
    }
    // Drop it here, or from another plain thread.
    if rng.chance(50) {
        drop(rt);
    } else {
        std::thread::spawn(move || drop(rt)).join().unwrap();
    }
    assert_eq!(live.alive(), 0, "{flavor}: futures left undropped");
    // The server may have accepted (and spawned for) more connections until the drop.
    let created_before = created;
    let created = live.created();
    assert!(created >= created_before);
    assert_eq!(
        live.dropped(),
        created,
        "{flavor}: each future dropped exactly once"
    );
    // The handles kept past the drop resolve as cancelled.
    let other = magpie::Builder::new_current_thread().build().unwrap();
    for h in KEPT.with(|k| std::mem::take(&mut *k.borrow_mut())) {
        assert!(other.block_on(h).unwrap_err().is_cancelled(), "{flavor}");
    }
    drop(other);
    assert_eq!(
        sem.available_permits(),
        PERMITS,
        "{flavor}: permits left held"
    );
    assert!(lock.try_lock().is_ok(), "{flavor}: the lock was left held");
    threads_settle(baseline, flavor);
    created
}

#[test]
fn dropped_runtimes_leave_nothing_behind() {
    let seed = stress::seed("dropped_runtimes_leave_nothing_behind");
    let n = scaled(10_000, 200);
    let rounds = 3;
    let line = run_case("stress_shutdown", stress::deadline_secs(120), move || {
        let start = Instant::now();
        let mut rng = Rng::new(seed);
        let figs = Figures::default();
        let mut futures = 0;
        for round in 0..rounds {
            for flavor in ["multi_thread", "current_thread"] {
                let what = format!("{flavor} round {round}");
                futures += run_case_inline(&what, || one_round(flavor, n, &mut rng, &figs));
            }
        }
        format!(
            "dropped_runtimes_leave_nothing_behind: {} runtimes dropped with {n} tasks each \
             ({} tasks, {futures} futures in all, each dropped once): {} TCP readers ({} bytes \
             read, {} connects reset by the shutdown), {} permit holders, {} lock holders, {} spawn_blocking calls; threads back \
             to the baseline each time; {:.2?}",
            rounds * 2,
            figs.tasks.get(),
            figs.connections.get(),
            figs.bytes_read.get(),
            figs.connect_resets.get(),
            figs.permit_holders.get(),
            figs.lock_holders.get(),
            figs.blocking.get(),
            start.elapsed()
        )
    });
    println!("{line}");
}

/// Names the round in a failure message.
fn run_case_inline<T>(what: &str, f: impl FnOnce() -> T) -> T {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("stress_shutdown: {what} failed");
            std::panic::resume_unwind(e)
        }
    }
}
