//! Random spawn trees: each task yields, sleeps, wakes a sibling (through a `oneshot` or a
//! `Notify`), spawns children and sums their results. 1,000,000 tasks at full scale
//! (`MAGPIE_STRESS_SCALE=1`). Task `i` of a tree contributes `mix(i)`, so the sum the root
//! returns is checked exactly against one computed without the runtime, and every task is
//! counted once when it runs and once when its future is dropped.

use crate::stress;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use magpie::sync::{oneshot, Notify};
use stress::{run_case, scaled, Count, Liveness, Rng};

fn mix(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x
}

/// How a task takes part in a cross-task wake with its sibling.
enum Link {
    None,
    /// Sends its own id to the sibling.
    Send(oneshot::Sender<u64>),
    /// Waits for the sibling's id (the expected value is known from the tree's numbering).
    Recv(oneshot::Receiver<u64>, u64),
    /// Wakes the sibling.
    Notify(Arc<Notify>),
    /// Waits to be woken by the sibling.
    Notified(Arc<Notify>),
}

#[derive(Clone, Default)]
struct Stats {
    ran: Count,
    yields: Count,
    sleeps: Count,
    wakes: Count,
}

type BoxFut = Pin<Box<dyn Future<Output = u64> + Send>>;

/// Task `id` heads a subtree of `size` tasks numbered `id..id + size` (preorder). Returns
/// the sum of `mix` over the subtree.
fn node(id: u64, size: u64, mut rng: Rng, link: Link, stats: Stats, live: Liveness) -> BoxFut {
    Box::pin(async move {
        let _alive = live.guard();
        stats.ran.inc();
        match rng.below(100) {
            0..=29 => {
                for _ in 0..=rng.below(3) {
                    stats.yields.inc();
                    magpie::yield_now().await;
                }
            }
            30..=31 => {
                stats.sleeps.inc();
                magpie::time::sleep(rng.micros(1500)).await;
            }
            _ => {}
        }
        match link {
            Link::None => {}
            Link::Send(tx) => tx.set_result(id).expect("the sibling waits for this id"),
            Link::Recv(rx, expected) => {
                assert_eq!(rx.await.expect("the sibling sends"), expected);
                stats.wakes.inc();
            }
            Link::Notify(n) => n.notify_one(),
            Link::Notified(n) => {
                n.notified().await;
                stats.wakes.inc();
            }
        }
        // Split the `size - 1` descendants among 1..=4 children.
        let mut rest = size - 1;
        let mut children = Vec::new();
        let mut next = id + 1;
        while rest > 0 {
            let k = if children.len() == 3 {
                rest
            } else {
                1 + rng.below(rest)
            };
            children.push((next, k));
            next += k;
            rest -= k;
        }
        let mut links: Vec<Link> = children.iter().map(|_| Link::None).collect();
        if children.len() >= 2 && rng.chance(40) {
            // Child 0 waits on child 1: a wake across tasks (and often across workers).
            if rng.chance(50) {
                let (tx, rx) = oneshot::channel();
                links[0] = Link::Recv(rx, children[1].0);
                links[1] = Link::Send(tx);
            } else {
                let n = Arc::new(Notify::new());
                links[0] = Link::Notified(n.clone());
                links[1] = Link::Notify(n);
            }
        }
        let handles: Vec<_> = children
            .into_iter()
            .zip(links)
            .map(|((cid, csize), link)| {
                magpie::spawn(node(
                    cid,
                    csize,
                    rng.fork(),
                    link,
                    stats.clone(),
                    live.clone(),
                ))
            })
            .collect();
        let mut sum = mix(id);
        for h in handles {
            sum = sum.wrapping_add(h.await.expect("no task fails in this test"));
        }
        sum
    })
}

/// Runs `total` tasks as trees of at most `tree` tasks, `parallel` trees at a time.
fn run_forest(rt: &magpie::Runtime, total: u64, tree: u64, parallel: usize, seed: u64) -> Stats {
    let stats = Stats::default();
    let live = Liveness::new();
    let mut rng = Rng::new(seed);
    let mut next = 0u64;
    while next < total {
        let mut wave = Vec::new();
        for _ in 0..parallel {
            if next >= total {
                break;
            }
            let size = tree.min(total - next);
            wave.push((next, size));
            next += size;
        }
        let results = rt.block_on({
            let wave = wave.clone();
            let (stats, live) = (stats.clone(), live.clone());
            let mut rng = rng.fork();
            async move {
                let handles: Vec<_> = wave
                    .iter()
                    .map(|&(id, size)| {
                        magpie::spawn(node(
                            id,
                            size,
                            rng.fork(),
                            Link::None,
                            stats.clone(),
                            live.clone(),
                        ))
                    })
                    .collect();
                let mut out = Vec::new();
                for h in handles {
                    out.push(h.await.unwrap());
                }
                out
            }
        });
        for ((id, size), got) in wave.into_iter().zip(results) {
            let want = (id..id + size).fold(0u64, |acc, i| acc.wrapping_add(mix(i)));
            assert_eq!(got, want, "tree {id}..{} summed wrong", id + size);
        }
    }
    assert_eq!(stats.ran.get() as u64, total, "every task ran exactly once");
    assert_eq!(live.created() as u64, total);
    assert_eq!(live.alive(), 0, "every task's future was dropped");
    stats
}

#[test]
fn random_spawn_trees() {
    let seed = stress::seed("random_spawn_trees");
    let total = scaled(1_000_000, 2_000) as u64;
    let secs = stress::deadline_secs(60);
    let summary = run_case("random_spawn_trees", secs, move || {
        let start = Instant::now();
        // A tenth on one thread, the rest on two workers.
        let single = total / 10;
        let ct = magpie::Builder::new_current_thread().build().unwrap();
        let a = run_forest(&ct, single, 2_000, 4, seed);
        drop(ct);
        let mt = magpie::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        let b = run_forest(&mt, total - single, 10_000, 4, seed ^ 1);
        drop(mt);
        format!(
            "random_spawn_trees: {total} tasks run and summed exactly ({single} current-thread), \
             {} yields, {} sleeps, {} cross-task wakes, in {:.2?}",
            a.yields.get() + b.yields.get(),
            a.sleeps.get() + b.sleeps.get(),
            a.wakes.get() + b.wakes.get(),
            start.elapsed()
        )
    });
    println!("{summary}");
}

/// Many shallow trees spawned from plain threads through a `Handle` at once: remote spawns
/// race each other and the workers.
#[test]
fn remote_spawn_storm() {
    let seed = stress::seed("remote_spawn_storm");
    let per_thread = scaled(100_000, 500) as u64;
    let summary = run_case("remote_spawn_storm", stress::deadline_secs(60), move || {
        let start = Instant::now();
        let rt = magpie::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        let stats = Stats::default();
        let live = Liveness::new();
        let threads: Vec<_> = (0..4u64)
            .map(|t| {
                let handle = rt.handle().clone();
                let (stats, live) = (stats.clone(), live.clone());
                std::thread::spawn(move || {
                    let mut rng = Rng::new(seed ^ (t + 100));
                    let base = t * per_thread;
                    let mut handles = Vec::new();
                    let mut id = base;
                    while id < base + per_thread {
                        let size = (1 + rng.below(20)).min(base + per_thread - id);
                        let fut = node(
                            id,
                            size,
                            rng.fork(),
                            Link::None,
                            stats.clone(),
                            live.clone(),
                        );
                        handles.push((id, size, handle.spawn(fut)));
                        id += size;
                    }
                    for (id, size, h) in handles {
                        let want = (id..id + size).fold(0u64, |acc, i| acc.wrapping_add(mix(i)));
                        assert_eq!(handle.block_on(h).unwrap(), want);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        drop(rt);
        assert_eq!(stats.ran.get() as u64, 4 * per_thread);
        assert_eq!(live.alive(), 0);
        format!(
            "remote_spawn_storm: {} tasks spawned from 4 plain threads, all summed exactly, in {:.2?}",
            4 * per_thread,
            start.elapsed()
        )
    });
    println!("{summary}");
}
