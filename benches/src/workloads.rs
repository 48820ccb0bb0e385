// The workloads, written once. This file is `include!`d into one module per runtime
// (`crate::magpie`, `crate::tokio`, `crate::smol`), each of which first brings that
// runtime's adapter into scope as `rt` (see `crate::adapters`), so every runtime runs the
// very same code. Sizes follow tokio's own benchmark suite.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use crate::sizes::*;

/// The runtime instance the workloads run on.
pub use rt::Rt;

/// Starts this runtime with `threads` workers.
pub fn runtime(threads: usize) -> Rt {
    rt::new(threads)
}

/// One iteration of a workload on a runtime.
pub type Iteration = fn(&Rt);

/// Every workload, in table order: (name, one iteration). The later ones are in
/// `workloads_coordination.rs`, `workloads_net.rs` and `workloads_process.rs`, included
/// beside this file.
/// `workloads_coordination.rs`, `workloads_net.rs` and `workloads_fs.rs`, included beside
/// this file.
pub const WORKLOADS: &[(&str, Iteration)] = &[
    ("spawn_many_local", spawn_many_local),
    ("spawn_many_remote_idle", spawn_many_remote_idle),
    ("spawn_many_remote_busy", spawn_many_remote_busy),
    ("yield_many", yield_many),
    ("ping_pong", ping_pong),
    ("chained_spawn", chained_spawn),
    ("fork_join", fork_join),
    ("timers", timers),
    ("mutex_contended", mutex_contended),
    ("semaphore_contended", semaphore_contended),
    ("queue_mpmc", queue_mpmc),
    ("gather_10k", gather_10k),
    ("tcp_echo", tcp_echo),
    ("cpu_io_pipeline", cpu_io_pipeline),
    ("process_spawn", process_spawn),
    ("fs_rw", fs_rw),
];

/// 10,000 tasks spawned from a worker, each decrements a counter; the last signals.
pub fn spawn_many_local(r: &Rt) {
    let (tx, rx) = mpsc::sync_channel(1);
    let rem = Arc::new(AtomicUsize::new(SPAWN_MANY));
    r.block_on(async move {
        rt::detach(rt::spawn(async move {
            for _ in 0..SPAWN_MANY {
                let rem = rem.clone();
                let tx = tx.clone();
                rt::detach(rt::spawn(async move {
                    if rem.fetch_sub(1, Relaxed) == 1 {
                        tx.send(()).unwrap();
                    }
                }));
            }
        }));
    });
    rx.recv().unwrap();
}

/// 10,000 spawns from outside the runtime, then await every handle.
pub fn spawn_many_remote_idle(r: &Rt) {
    let handles: Vec<_> = (0..SPAWN_MANY).map(|_| r.spawn(async {})).collect();
    r.block_on(async move {
        for h in handles {
            rt::join(h).await;
        }
    });
}

/// `spawn_many_remote_idle` while 8 background tasks loop on yield + 10 µs of spinning.
pub fn spawn_many_remote_busy(r: &Rt) {
    let stop = Arc::new(AtomicBool::new(false));
    let busy: Vec<_> = (0..BUSY_TASKS)
        .map(|_| {
            let stop = stop.clone();
            r.spawn(async move {
                while !stop.load(Relaxed) {
                    rt::yield_now().await;
                    spin(Duration::from_micros(10));
                }
            })
        })
        .collect();
    spawn_many_remote_idle(r);
    stop.store(true, Relaxed);
    r.block_on(async move {
        for h in busy {
            rt::join(h).await;
        }
    });
}

/// 200 tasks × 1,000 yields.
pub fn yield_many(r: &Rt) {
    let (tx, rx) = mpsc::sync_channel(YIELD_TASKS);
    for _ in 0..YIELD_TASKS {
        let tx = tx.clone();
        rt::detach(r.spawn(async move {
            for _ in 0..YIELDS {
                rt::yield_now().await;
            }
            tx.send(()).unwrap();
        }));
    }
    for _ in 0..YIELD_TASKS {
        rx.recv().unwrap();
    }
}

/// 1,000 tasks, each spawning a partner and exchanging two one-shot messages with it.
pub fn ping_pong(r: &Rt) {
    let (done_tx, done_rx) = mpsc::sync_channel(1);
    let rem = Arc::new(AtomicUsize::new(PINGS));
    r.block_on(async move {
        rt::detach(rt::spawn(async move {
            for _ in 0..PINGS {
                let rem = rem.clone();
                let done_tx = done_tx.clone();
                rt::detach(rt::spawn(async move {
                    let (tx1, rx1) = rt::oneshot::<()>();
                    let (tx2, rx2) = rt::oneshot::<()>();
                    rt::detach(rt::spawn(async move {
                        rt::recv(rx1).await;
                        rt::send(tx2, ());
                    }));
                    rt::send(tx1, ());
                    rt::recv(rx2).await;
                    if rem.fetch_sub(1, Relaxed) == 1 {
                        done_tx.send(()).unwrap();
                    }
                }));
            }
        }));
    });
    done_rx.recv().unwrap();
}

/// A chain of 1,000 spawns, each task spawning the next.
pub fn chained_spawn(r: &Rt) {
    fn link(done: mpsc::SyncSender<()>, n: usize) {
        if n == 0 {
            done.send(()).unwrap();
        } else {
            rt::detach(rt::spawn(async move { link(done, n - 1) }));
        }
    }
    let (tx, rx) = mpsc::sync_channel(1);
    r.block_on(async move {
        rt::detach(rt::spawn(async move { link(tx, CHAIN) }));
    });
    rx.recv().unwrap();
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

fn fib_task(n: u64) -> BoxFuture<u64> {
    Box::pin(async move {
        if n <= FIB_CUTOFF {
            return crate::sizes::fib(n);
        }
        let a = rt::spawn(fib_task(n - 1));
        let b = rt::spawn(fib_task(n - 2));
        rt::join(a).await + rt::join(b).await
    })
}

/// Recursive fib(25) with a spawn and a join at every level above a cutoff: CPU work that
/// only spreads over the workers by stealing.
pub fn fork_join(r: &Rt) {
    let v = r.block_on(async { rt::join(rt::spawn(fib_task(FIB_N))).await });
    assert_eq!(v, crate::sizes::fib(FIB_N));
}

fn spin(d: Duration) {
    let t = Instant::now();
    while t.elapsed() < d {
        std::hint::spin_loop();
    }
}
