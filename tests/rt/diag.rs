//! Diagnostics (issue 15): dumps, deadlock cycles, the watchdogs.
//!
//! Longer than 600 lines on purpose: the dump, the cycle finder and the three watchdogs
//! share the runtime and reporter helpers at the top; `diag_waits.rs` holds the per-primitive
//! wait records.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex as StdMutex};
use std::time::{Duration, Instant};

use magpie::diag::{Deadlock, Dump, SlowPoll, TaskState};
use magpie::sync::{Barrier, Mutex, Queue, Semaphore};
use magpie::{Builder, Runtime, TaskId};

fn runtime_with<F: FnOnce(&mut Builder) -> &mut Builder>(f: F) -> Runtime {
    let mut b = Builder::new_multi_thread();
    b.worker_threads(2);
    f(&mut b).build().unwrap()
}

/// Dumps until `pred` holds (bounded: 10 s), returning that dump.
fn dump_until(rt: &Runtime, what: &str, pred: impl Fn(&Dump) -> bool) -> Dump {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let dump = rt.handle().dump();
        if pred(&dump) {
            return dump;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}:\n{dump}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn ids(d: &Deadlock) -> HashSet<TaskId> {
    d.tasks().iter().copied().collect()
}

type Reports = Arc<StdMutex<Vec<(Instant, Deadlock)>>>;

fn deadlock_watchdog(period: Duration) -> (Runtime, Reports) {
    let reports: Reports = Arc::default();
    let r = reports.clone();
    let rt = runtime_with(|b| {
        b.detect_deadlocks(period)
            .on_deadlock(move |d| r.lock().unwrap().push((Instant::now(), d.clone())))
    });
    (rt, reports)
}

#[test]
fn two_task_lock_order_deadlock_is_found_by_dump_and_watchdog() {
    let period = Duration::from_millis(200);
    let (rt, reports) = deadlock_watchdog(period);
    let accounts = Arc::new(Mutex::new(0).with_label("accounts"));
    let ledger = Arc::new(Mutex::new(0).with_label("ledger"));
    let both_hold = Arc::new(Barrier::new(2));
    let spawn_locker = |name: &str, first: Arc<Mutex<i32>>, second: Arc<Mutex<i32>>| {
        let both_hold = both_hold.clone();
        magpie::task::Builder::new().name(name).spawn_on(
            async move {
                let _a = first.lock().await;
                both_hold.wait().await.unwrap();
                let _b = second.lock().await;
            },
            rt.handle(),
        )
    };
    let alice = spawn_locker("alice", accounts.clone(), ledger.clone());
    let bob = spawn_locker("bob", ledger.clone(), accounts.clone());
    let dump = dump_until(&rt, "the cycle in a dump", |d| !d.deadlocks().is_empty());
    let seen_at = Instant::now();
    let cycles = dump.deadlocks();
    assert_eq!(cycles.len(), 1, "{dump}");
    assert_eq!(ids(&cycles[0]), HashSet::from([alice.id(), bob.id()]));
    let text = cycles[0].to_string();
    for needle in [
        "alice",
        "bob",
        "\"accounts\"",
        "\"ledger\"",
        "Mutex",
        file!(),
    ] {
        assert!(text.contains(needle), "{needle} missing from:\n{text}");
    }
    let table = dump.to_string();
    assert!(table.contains("2 tasks: 2 idle"), "{table}");
    assert!(table.contains("waiting on Mutex: 2"), "{table}");

    // The watchdog: within two periods of the cycle forming (slack for a loaded machine).
    let deadline = seen_at + 2 * period + Duration::from_millis(400);
    while reports.lock().unwrap().is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(3 * period); // it must not be reported twice
    let reports = reports.lock().unwrap();
    assert_eq!(reports.len(), 1, "one report of the one cycle");
    let (at, d) = &reports[0];
    assert!(
        *at <= deadline,
        "reported {:?} after the cycle was seen",
        *at - seen_at
    );
    assert_eq!(ids(d), HashSet::from([alice.id(), bob.id()]));
    assert!(d.to_string().contains("\"ledger\""));
    alice.abort();
    bob.abort();
}

#[test]
fn three_task_cycle_through_a_semaphore_and_a_join_handle() {
    let period = Duration::from_millis(200);
    let (rt, reports) = deadlock_watchdog(period);
    let pool = Arc::new(Semaphore::new(1).with_label("pool"));
    let table = Arc::new(Mutex::new(()).with_label("table"));
    let ready = Arc::new(Barrier::new(2));
    let (b_id_tx, b_id_rx) = mpsc::channel();
    // A holds the permit and awaits B; B waits for the mutex C holds; C waits for the permit.
    let a = {
        let (pool, table, ready) = (pool.clone(), table.clone(), ready.clone());
        rt.spawn(async move {
            let _permit = pool.acquire().await.unwrap();
            ready.wait().await.unwrap();
            let b = magpie::spawn(async move {
                let _t = table.lock().await;
            });
            b_id_tx.send(b.id()).unwrap();
            b.await.unwrap();
        })
    };
    let c = {
        let (pool, table, ready) = (pool.clone(), table.clone(), ready.clone());
        rt.spawn(async move {
            let _t = table.lock().await;
            ready.wait().await.unwrap();
            let _p = pool.acquire().await.unwrap();
        })
    };
    let b = b_id_rx.recv_timeout(Duration::from_secs(10)).unwrap();
    let dump = dump_until(&rt, "the 3-cycle", |d| !d.deadlocks().is_empty());
    let cycles = dump.deadlocks();
    assert_eq!(cycles.len(), 1, "{dump}");
    assert_eq!(ids(&cycles[0]), HashSet::from([a.id(), b, c.id()]));
    let text = cycles[0].to_string();
    for needle in ["JoinHandle", "Semaphore \"pool\"", "Mutex \"table\""] {
        assert!(text.contains(needle), "{needle} missing from:\n{text}");
    }
    let deadline = Instant::now() + 2 * period + Duration::from_millis(400);
    while reports.lock().unwrap().is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    let reports = reports.lock().unwrap();
    assert_eq!(
        reports.len(),
        1,
        "the watchdog reports the cycle within two periods"
    );
    assert_eq!(ids(&reports[0].1), HashSet::from([a.id(), b, c.id()]));
    a.abort();
    c.abort();
}

#[test]
fn a_blocking_poll_is_reported_while_it_runs() {
    let reports: Arc<StdMutex<Vec<(Instant, SlowPoll)>>> = Arc::default();
    let r = reports.clone();
    let rt = runtime_with(|b| {
        b.slow_poll_threshold(Duration::from_millis(100))
            .on_slow_poll(move |p| r.lock().unwrap().push((Instant::now(), p.clone())))
    });
    let h = magpie::task::Builder::new().name("sleeper").spawn_on(
        async {
            std::thread::sleep(Duration::from_millis(500));
            Instant::now()
        },
        rt.handle(),
    );
    let id = h.id();
    let sleep_ended = rt.block_on(h).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let reports = reports.lock().unwrap();
    assert_eq!(reports.len(), 1, "one report for one slow poll");
    let (at, p) = &reports[0];
    assert!(*at < sleep_ended, "reported after the poll ended");
    assert_eq!(p.task(), id);
    assert_eq!(p.name(), Some("sleeper"));
    assert_eq!(p.spawned_at().file(), file!());
    assert!(
        p.elapsed() >= Duration::from_millis(100),
        "{:?}",
        p.elapsed()
    );
    let worker = p
        .worker()
        .expect("a multi-thread runtime's poll runs on a worker");
    assert!(worker < 2, "worker {worker} of 2");
    assert!(
        p.to_string().contains(&format!("on worker {worker}")),
        "{p}"
    );
}

#[test]
fn a_slow_poll_on_a_current_thread_runtime_has_no_worker() {
    let reports: Arc<StdMutex<Vec<SlowPoll>>> = Arc::default();
    let r = reports.clone();
    let rt = Builder::new_current_thread()
        .slow_poll_threshold(Duration::from_millis(50))
        .on_slow_poll(move |p| r.lock().unwrap().push(p.clone()))
        .build()
        .unwrap();
    let h = rt.spawn(async { std::thread::sleep(Duration::from_millis(300)) });
    rt.block_on(h).unwrap();
    let reports = reports.lock().unwrap();
    assert_eq!(reports.len(), 1, "one report for one slow poll");
    assert_eq!(reports[0].worker(), None);
    assert!(!reports[0].to_string().contains("on worker"));
}

#[test]
fn a_contended_but_progressing_workload_has_no_deadlock_report() {
    let (rt, reports) = deadlock_watchdog(Duration::from_millis(50));
    let a = Arc::new(Mutex::new(0u64).with_label("a"));
    let b = Arc::new(Mutex::new(0u64).with_label("b"));
    let sem = Arc::new(Semaphore::new(2).with_label("s"));
    let stop = Arc::new(AtomicBool::new(false));
    let progress = Arc::new(AtomicU64::new(0));
    let mut handles = Vec::new();
    for i in 0..8 {
        let (a, b, sem, stop, progress) = (
            a.clone(),
            b.clone(),
            sem.clone(),
            stop.clone(),
            progress.clone(),
        );
        handles.push(rt.spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let _p = sem.acquire().await.unwrap();
                // One lock order for everyone: contended, never a cycle.
                let mut ga = a.lock().await;
                if i % 2 == 0 {
                    magpie::yield_now().await; // hold it across a yield: waiters queue
                }
                let mut gb = b.lock().await;
                *ga += 1;
                *gb += 1;
                drop((ga, gb));
                progress.fetch_add(1, Ordering::Relaxed);
                magpie::yield_now().await;
            }
        }));
    }
    std::thread::sleep(Duration::from_secs(3));
    stop.store(true, Ordering::Relaxed);
    for h in handles {
        rt.block_on(h).unwrap();
    }
    assert!(
        progress.load(Ordering::Relaxed) > 100,
        "the workload progressed"
    );
    let reports = reports.lock().unwrap();
    assert!(reports.is_empty(), "false positive: {}", reports[0].1);
}

#[test]
fn a_dump_from_a_plain_thread_while_both_workers_block() {
    let rt = runtime_with(|b| b);
    let started = Arc::new(AtomicU64::new(0));
    let release = Arc::new(AtomicBool::new(false));
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let (started, release) = (started.clone(), release.clone());
            rt.spawn(async move {
                started.fetch_add(1, Ordering::SeqCst);
                let deadline = Instant::now() + Duration::from_secs(10);
                while !release.load(Ordering::SeqCst) && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(1)); // blocks the worker
                }
            })
        })
        .collect();
    while started.load(Ordering::SeqCst) < 2 {
        std::thread::yield_now();
    }
    let handle = rt.handle().clone();
    let (dump, took) = std::thread::spawn(move || {
        let t = Instant::now();
        let dump = handle.dump();
        (dump, t.elapsed())
    })
    .join()
    .unwrap();
    release.store(true, Ordering::SeqCst);
    println!("dump while both workers block: {took:?}");
    assert!(took < Duration::from_millis(100), "took {took:?}");
    for h in &handles {
        let t = dump
            .tasks()
            .iter()
            .find(|t| t.id() == h.id())
            .expect("listed");
        assert_eq!(t.state(), TaskState::Running, "{dump}");
        assert_eq!(t.idle_for(), None);
    }
    for h in handles {
        rt.block_on(h).unwrap();
    }
}

#[test]
fn a_dump_of_100_000_idle_tasks_on_a_queue() {
    const N: usize = 100_000;
    let rt = runtime_with(|b| b);
    let queue = Arc::new(Queue::<u32>::unbounded().with_label("jobs"));
    let started = Arc::new(AtomicU64::new(0));
    for _ in 0..N {
        let (queue, started) = (queue.clone(), started.clone());
        drop(rt.spawn(async move {
            started.fetch_add(1, Ordering::Relaxed);
            let _ = queue.get().await;
        }));
    }
    while started.load(Ordering::Relaxed) < N as u64 {
        std::thread::sleep(Duration::from_millis(10));
    }
    let dump = dump_until(&rt, "every task parked", |d| {
        d.tasks()
            .iter()
            .filter(|t| t.state() == TaskState::Idle)
            .count()
            == N
    });
    let t = Instant::now();
    let dump2 = rt.handle().dump();
    let took = t.elapsed();
    println!("dump of {N} idle tasks: {took:?}");
    assert!(took < Duration::from_secs(1), "took {took:?}");
    assert_eq!(dump.tasks().len(), N);
    assert_eq!(dump2.tasks().len(), N);
    let unique: HashSet<_> = dump2.tasks().iter().map(|t| t.id()).collect();
    assert_eq!(unique.len(), N, "no task twice");
    let on_queue = dump2
        .tasks()
        .iter()
        .filter(|t| {
            t.waiting_on()
                .is_some_and(|w| w.kind().contains("Queue") && w.label() == Some("jobs"))
        })
        .count();
    assert_eq!(on_queue, N);
    let text = dump2.to_string();
    assert!(
        text.contains(&format!("{N} tasks: {N} idle")),
        "summary missing"
    );
    queue.close();
}

#[test]
fn dumps_of_an_empty_runtime_and_during_shutdown() {
    let rt = runtime_with(|b| b);
    let empty = rt.handle().dump();
    assert!(empty.tasks().is_empty());
    assert!(empty.deadlocks().is_empty());
    assert!(empty.to_string().contains("0 tasks"));

    for _ in 0..1000 {
        drop(rt.spawn(std::future::pending::<()>()));
    }
    let handle = rt.handle().clone();
    let stop = Arc::new(AtomicBool::new(false));
    let s = stop.clone();
    let dumper = std::thread::spawn(move || {
        let mut dumps = 0;
        while !s.load(Ordering::Relaxed) || dumps == 0 {
            let d = handle.dump();
            let unique: HashSet<_> = d.tasks().iter().map(|t| t.id()).collect();
            assert_eq!(unique.len(), d.tasks().len(), "a task listed twice");
            assert!(d.tasks().len() <= 1000);
            dumps += 1;
        }
        (handle, dumps)
    });
    std::thread::sleep(Duration::from_millis(20));
    rt.shutdown_timeout(Duration::from_secs(5));
    stop.store(true, Ordering::Relaxed);
    let (handle, dumps) = dumper.join().unwrap();
    assert!(dumps > 0);
    assert!(
        handle.dump().tasks().is_empty(),
        "every task dropped by the shutdown"
    );
}

#[test]
fn each_recorded_resource_shows_its_kind_and_label() {
    use magpie::sync::RwLock;
    let rt = runtime_with(|b| b);
    let barrier = Arc::new(Barrier::new(2).with_label("br"));
    let full = Arc::new(Queue::<u8>::bounded(1).with_label("full"));
    full.put_nowait(1).unwrap();
    let unfinished = Arc::new(Queue::<u8>::unbounded().with_label("unfinished"));
    unfinished.put_nowait(1).unwrap();
    let rw = Arc::new(RwLock::new(0).with_label("rw"));
    let read = rw.try_read().unwrap();
    let pending = rt.spawn(std::future::pending::<()>());
    let pending_id = pending.id();
    let mut handles = vec![
        rt.spawn({
            let b = barrier.clone();
            async move {
                let _ = b.wait().await;
            }
        }),
        rt.spawn({
            let q = full.clone();
            async move { drop(q.put(2).await) }
        }),
        rt.spawn({
            let q = unfinished.clone();
            async move { q.join().await }
        }),
        rt.spawn({
            let rw = rw.clone();
            async move { *rw.write().await += 1 }
        }),
        rt.spawn(async { magpie::time::sleep(Duration::from_secs(30)).await }),
        rt.spawn(async move { drop(pending.await) }),
    ];
    let expected = [
        ("Barrier", Some("br")),
        ("Queue.put", Some("full")),
        ("Queue.join", Some("unfinished")),
        ("RwLock.write", Some("rw")),
        ("Sleep", None),
        ("JoinHandle", None),
    ];
    let dump = dump_until(&rt, "every waiter recorded", |d| {
        d.tasks()
            .iter()
            .filter(|t| t.waiting_on().is_some())
            .count()
            == expected.len()
    });
    let seen: HashSet<(String, Option<String>)> = dump
        .tasks()
        .iter()
        .filter_map(|t| t.waiting_on())
        .map(|w| (w.kind().to_owned(), w.label().map(str::to_owned)))
        .collect();
    for (kind, label) in expected {
        assert!(
            seen.contains(&(kind.to_owned(), label.map(str::to_owned))),
            "{kind} missing:\n{dump}"
        );
    }
    let join = dump
        .tasks()
        .iter()
        .find_map(|t| t.waiting_on().filter(|w| w.kind() == "JoinHandle"))
        .unwrap();
    assert_eq!(join.holders(), [pending_id]);
    drop(read);
    for h in handles.drain(..) {
        h.abort();
    }
}

#[test]
fn try_lock_and_try_acquire_record_their_holder() {
    let rt = runtime_with(|b| b);
    let m = Arc::new(Mutex::new(0).with_label("m"));
    let s = Arc::new(Semaphore::new(1).with_label("s"));
    let (held_tx, held_rx) = mpsc::channel();
    let holder = {
        let (m, s) = (m.clone(), s.clone());
        rt.spawn(async move {
            let _g = m.try_lock().unwrap();
            let _p = s.try_acquire().unwrap();
            held_tx.send(()).unwrap();
            std::future::pending::<()>().await
        })
    };
    held_rx.recv_timeout(Duration::from_secs(10)).unwrap();
    let waiters = [
        rt.spawn({
            let m = m.clone();
            async move { drop(m.lock().await) }
        }),
        rt.spawn({
            let s = s.clone();
            async move { drop(s.acquire().await) }
        }),
    ];
    let dump = dump_until(&rt, "both waiters parked", |d| {
        d.tasks()
            .iter()
            .filter(|t| t.waiting_on().is_some())
            .count()
            == 2
    });
    for w in dump.tasks().iter().filter_map(|t| t.waiting_on()) {
        assert_eq!(w.holders(), [holder.id()], "{dump}");
    }
    holder.abort();
    for w in waiters {
        rt.block_on(w).unwrap();
    }
}

type StallReports = Arc<StdMutex<Vec<magpie::diag::Stall>>>;

fn stall_watchdog(period: Duration) -> (Runtime, StallReports) {
    let reports: StallReports = Arc::default();
    let r = reports.clone();
    let rt = runtime_with(|b| {
        b.detect_stalls(period)
            .on_stall(move |s| r.lock().unwrap().push(s.clone()))
    });
    (rt, reports)
}

/// Waits (bounded: 10 s) until `reports` holds `n` reports.
fn reports_reach(reports: &StallReports, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while reports.lock().unwrap().len() < n {
        assert!(Instant::now() < deadline, "no stall report {n}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn two_tasks_on_events_nobody_sets_are_reported_as_a_stall_once() {
    use magpie::sync::Event;
    let (rt, reports) = stall_watchdog(Duration::from_millis(50));
    let a = Arc::new(Event::new().with_label("a"));
    let b = Arc::new(Event::new().with_label("b"));
    let (ea, eb) = (a.clone(), b.clone());
    let ha = rt.spawn(async move { ea.wait().await });
    let hb = rt.spawn(async move { eb.wait().await });
    let (ida, idb) = (ha.id(), hb.id());
    reports_reach(&reports, 1);
    // Nothing was polled since: no second report.
    std::thread::sleep(Duration::from_millis(300));
    {
        let reports = reports.lock().unwrap();
        assert_eq!(reports.len(), 1, "one report per stall");
        let s = &reports[0];
        let ids: HashSet<TaskId> = s.tasks().iter().map(|t| t.id()).collect();
        assert_eq!(ids, HashSet::from([ida, idb]));
        for t in s.tasks() {
            assert_eq!(t.waiting_on().unwrap().kind(), "Event");
        }
        assert!(s.to_string().contains("asleep"), "{s}");
    }
    // One task is polled (and ends): the other one, still stuck, is a new stall.
    a.set();
    reports_reach(&reports, 2);
    let reports = reports.lock().unwrap();
    assert_eq!(reports[1].tasks().len(), 1);
    assert_eq!(reports[1].tasks()[0].id(), idb);
    drop(hb);
}

#[test]
fn a_task_in_a_long_sleep_or_a_running_block_on_is_not_a_stall() {
    use magpie::sync::Event;
    let (rt, reports) = stall_watchdog(Duration::from_millis(50));
    let e = Arc::new(Event::new());
    let e2 = e.clone();
    let waiter = rt.spawn(async move { e2.wait().await });
    let sleeper = rt.spawn(async { magpie::time::sleep(Duration::from_secs(30)).await });
    std::thread::sleep(Duration::from_millis(400));
    assert!(
        reports.lock().unwrap().is_empty(),
        "a sleeping task can wake the rest"
    );
    sleeper.abort();
    // With only the waiter left, a block_on (whose future the runtime cannot see) still
    // keeps it from being reported.
    rt.block_on(magpie::time::sleep(Duration::from_millis(400)));
    assert!(
        reports.lock().unwrap().is_empty(),
        "block_on's future may set the event"
    );
    e.set();
    rt.block_on(waiter).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        reports.lock().unwrap().is_empty(),
        "no task left: nothing is stalled"
    );
    // A blocking task that will set the event is not outside the runtime's view.
    let e = Arc::new(Event::new());
    let e2 = e.clone();
    let waiter = rt.spawn(async move { e2.wait().await });
    let e3 = e.clone();
    let blocking = rt.handle().spawn_blocking(move || {
        std::thread::sleep(Duration::from_millis(400));
        e3.set();
    });
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        reports.lock().unwrap().is_empty(),
        "a blocking task can set the event"
    );
    rt.block_on(async {
        blocking.await.unwrap();
        waiter.await.unwrap();
    });
    assert!(reports.lock().unwrap().is_empty());
}

#[test]
fn a_busy_ping_pong_is_not_a_stall() {
    use magpie::sync::Notify;
    let (rt, reports) = stall_watchdog(Duration::from_millis(20));
    let ping = Arc::new(Notify::new());
    let pong = Arc::new(Notify::new());
    let stop = Arc::new(AtomicBool::new(false));
    let rounds = Arc::new(AtomicU64::new(0));
    let (pi, po, st, r) = (ping.clone(), pong.clone(), stop.clone(), rounds.clone());
    let a = rt.spawn(async move {
        while !st.load(Ordering::Relaxed) {
            pi.notified().await;
            r.fetch_add(1, Ordering::Relaxed);
            po.notify_one();
        }
    });
    let (pi, po, st) = (ping.clone(), pong.clone(), stop.clone());
    let b = rt.spawn(async move {
        while !st.load(Ordering::Relaxed) {
            pi.notify_one();
            po.notified().await;
            // Every round waits on a Notify: each check sees new poll counts.
            std::thread::sleep(Duration::from_millis(1));
        }
        pi.notify_one();
    });
    std::thread::sleep(Duration::from_millis(500));
    stop.store(true, Ordering::Relaxed);
    ping.notify_one();
    pong.notify_one();
    rt.block_on(async {
        a.await.unwrap();
        b.await.unwrap();
    });
    assert!(rounds.load(Ordering::Relaxed) > 10);
    assert!(
        reports.lock().unwrap().is_empty(),
        "a busy workload was reported"
    );
}
