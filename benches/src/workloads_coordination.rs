// Timers, locks, a queue and gather, written once: `include!`d after `workloads.rs` into the
// same per-runtime modules (its imports are in scope here), so every runtime runs this very
// code through its adapter `rt`. Each workload runs inside a task, as server code does.

/// Runs `f` as a task on `r` and waits for its output.
fn in_task<F>(r: &Rt, f: F) -> F::Output
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    r.block_on(rt::join(r.spawn(f)))
}

/// 100,000 `timeout(1 s, ready)` calls made by 10 tasks (tokio's time_timeout shape: the
/// timer is made and dropped without ever being armed), beside 1,000 tasks each sleeping
/// 1 ms ten times in a row (10,000 sleeps that fire). The sleeps bound an iteration below
/// by 10 ms; each runtime's timer resolution shows on top of that.
pub fn timers(r: &Rt) {
    in_task(r, async {
        let per_task = TIMEOUTS / TIMEOUT_TASKS;
        let timeouts: Vec<_> = (0..TIMEOUT_TASKS)
            .map(|_| {
                rt::spawn(async move {
                    let mut sum = 0;
                    for i in 0..per_task {
                        let ready = std::future::ready(std::hint::black_box(i));
                        sum += rt::timeout(Duration::from_secs(1), ready)
                            .await
                            .expect("a ready future timed out");
                    }
                    sum
                })
            })
            .collect();
        let sleepers: Vec<_> = (0..SLEEPERS)
            .map(|_| {
                rt::spawn(async {
                    let t0 = Instant::now();
                    for _ in 0..SLEEPS {
                        rt::sleep(SLEEP).await;
                    }
                    t0.elapsed()
                })
            })
            .collect();
        for h in timeouts {
            assert_eq!(rt::join(h).await, per_task * (per_task - 1) / 2);
        }
        for h in sleepers {
            assert!(
                rt::join(h).await >= SLEEP * SLEEPS as u32,
                "a sleep ended early"
            );
        }
    });
}

/// 6 tasks × 1,000 rounds of lock, yield while holding the lock, increment, unlock: every
/// lock but the first queues behind the holder and is handed over on unlock.
pub fn mutex_contended(r: &Rt) {
    in_task(r, async {
        let m = Arc::new(rt::Mutex::new(0usize));
        let tasks: Vec<_> = (0..LOCK_TASKS)
            .map(|_| {
                let m = m.clone();
                rt::spawn(async move {
                    for _ in 0..LOCK_OPS {
                        let mut g = m.lock().await;
                        rt::yield_now().await;
                        *g += 1;
                    }
                })
            })
            .collect();
        for h in tasks {
            rt::join(h).await;
        }
        assert_eq!(*m.lock().await, LOCK_TASKS * LOCK_OPS);
    });
}

/// 6 tasks × 1,000 rounds of acquire, yield while holding the permit, release, on a
/// semaphore of 5 permits (tokio's contended shape); checks that no more than 5 are ever
/// held at once.
pub fn semaphore_contended(r: &Rt) {
    in_task(r, async {
        let s = Arc::new(rt::Semaphore::new(PERMITS));
        let held = Arc::new(AtomicUsize::new(0));
        let total = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..LOCK_TASKS)
            .map(|_| {
                let (s, held, total) = (s.clone(), held.clone(), total.clone());
                rt::spawn(async move {
                    for _ in 0..LOCK_OPS {
                        let permit = rt::acquire(&s).await;
                        assert!(held.fetch_add(1, Relaxed) < PERMITS, "too many permits");
                        rt::yield_now().await;
                        held.fetch_sub(1, Relaxed);
                        total.fetch_add(1, Relaxed);
                        drop(permit);
                    }
                })
            })
            .collect();
        for h in tasks {
            rt::join(h).await;
        }
        assert_eq!(total.load(Relaxed), LOCK_TASKS * LOCK_OPS);
    });
}

/// 4 producers and 4 consumers move 100,000 numbers through a bounded queue of 1,024; the
/// queue is closed once every producer is done, and the consumers' counts and sums must add
/// up to every number once.
pub fn queue_mpmc(r: &Rt) {
    in_task(r, async {
        let (tx, rx) = rt::queue::<usize>(QUEUE_CAPACITY);
        let per = QUEUE_ITEMS / PRODUCERS;
        let producers: Vec<_> = (0..PRODUCERS)
            .map(|p| {
                let tx = tx.clone();
                rt::spawn(async move {
                    for i in p * per..(p + 1) * per {
                        rt::put(&tx, i).await;
                    }
                })
            })
            .collect();
        let consumers: Vec<_> = (0..CONSUMERS)
            .map(|_| {
                let rx = rx.clone();
                rt::spawn(async move {
                    let (mut n, mut sum) = (0usize, 0usize);
                    while let Some(v) = rt::get(&rx).await {
                        n += 1;
                        sum += v;
                    }
                    (n, sum)
                })
            })
            .collect();
        for h in producers {
            rt::join(h).await;
        }
        rt::close(&tx);
        let (mut n, mut sum) = (0, 0);
        for h in consumers {
            let (a, b) = rt::join(h).await;
            n += a;
            sum += b;
        }
        assert_eq!(n, QUEUE_ITEMS);
        assert_eq!(sum, QUEUE_ITEMS * (QUEUE_ITEMS - 1) / 2);
    });
}

/// A gather of 10,000 trivial children (each returns its index), from inside a task;
/// checks the outputs come back in input order.
pub fn gather_10k(r: &Rt) {
    in_task(r, async {
        let out = rt::gather((0..GATHER_CHILDREN).map(|i| async move { i })).await;
        assert!(out.into_iter().eq(0..GATHER_CHILDREN), "gather's outputs");
    });
}
