//! Diagnostics (issue 15): every recorded primitive shows its kind, label and holders in a
//! dump while a task waits on it. Each test would time out (and fail) if the primitive
//! recorded nothing, or recorded another kind.

use std::future::pending;
use std::sync::Arc;
use std::time::{Duration, Instant};

use magpie::diag::{Dump, WaitTarget};
use magpie::sync::{
    broadcast, mpsc, oneshot, watch, CancellationToken, Condition, Event, Mutex, Notify, OnceCell,
};
use magpie::{Builder, JoinHandle, Runtime, TaskGroup, TaskId};

fn runtime() -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap()
}

/// Dumps until task `id` waits on `kind` (bounded: 10 s); returns the dump and the wait.
fn wait_of(rt: &Runtime, id: TaskId, kind: &str) -> (Dump, WaitTarget) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let dump = rt.handle().dump();
        let wait = dump
            .tasks()
            .iter()
            .find(|t| t.id() == id)
            .and_then(|t| t.waiting_on())
            .filter(|w| w.kind() == kind)
            .cloned();
        if let Some(w) = wait {
            return (dump, w);
        }
        assert!(
            Instant::now() < deadline,
            "task {id} never showed as waiting on {kind}:\n{dump}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn assert_waits(rt: &Runtime, h: &JoinHandle<()>, kind: &str, label: Option<&str>) -> WaitTarget {
    let (dump, w) = wait_of(rt, h.id(), kind);
    assert_eq!(w.label(), label, "label of {kind}:\n{dump}");
    w
}

#[test]
fn event_notify_and_condition_show_their_labels() {
    let rt = runtime();
    let event = Arc::new(Event::new().with_label("ev"));
    let notify = Arc::new(Notify::new().with_label("nt"));
    let state = Arc::new((Mutex::new(0), Condition::new().with_label("cv")));
    let e = event.clone();
    let a = rt.spawn(async move { e.wait().await });
    let n = notify.clone();
    let b = rt.spawn(async move { n.notified().await });
    let s = state.clone();
    let c = rt.spawn(async move {
        let (m, cv) = &*s;
        let g = m.lock().await;
        drop(cv.wait(g).await);
    });
    assert_waits(&rt, &a, "Event", Some("ev"));
    assert_waits(&rt, &b, "Notify", Some("nt"));
    assert_waits(&rt, &c, "Condition", Some("cv"));
    event.set();
    notify.notify_one();
    state.1.notify_all();
    rt.block_on(async {
        a.await.unwrap();
        b.await.unwrap();
        c.await.unwrap();
    });
}

#[test]
fn channel_waits_show_their_kinds() {
    let rt = runtime();
    let (once_tx, once_rx) = oneshot::channel::<u8>();
    let a = rt.spawn(async move {
        let _ = once_rx.await;
    });
    let (tx, mut rx) = mpsc::channel::<u8>(1);
    let b = rt.spawn(async move {
        let _ = rx.recv().await;
    });
    assert_waits(&rt, &a, "oneshot.recv", None);
    assert_waits(&rt, &b, "mpsc.recv", None);
    let (full_tx, _full_rx) = mpsc::channel::<u8>(1);
    full_tx.try_send(1).unwrap();
    let t = full_tx.clone();
    let c = rt.spawn(async move {
        let _ = t.send(2).await;
    });
    let t = full_tx.clone();
    let d = rt.spawn(async move {
        let _ = t.reserve().await;
    });
    let w = assert_waits(&rt, &c, "mpsc.send", None);
    // A slot taken by a send is consumed, not held: no holder (a stale one would make a
    // false wait-for edge).
    assert!(w.holders().is_empty(), "{:?}", w.holders());
    assert_waits(&rt, &d, "mpsc.reserve", None);
    let (_btx, mut brx) = broadcast::channel::<u8>(4);
    let e = rt.spawn(async move {
        let _ = brx.recv().await;
    });
    assert_waits(&rt, &e, "broadcast.recv", None);
    let (wtx, mut wrx) = watch::channel(0u8);
    let mut wrx2 = wrx.clone();
    let f = rt.spawn(async move {
        let _ = wrx.changed().await;
    });
    let g = rt.spawn(async move {
        let seen = wrx2.wait_for(|v| *v == 9).await.is_ok();
        assert!(seen);
    });
    assert_waits(&rt, &f, "watch.changed", None);
    assert_waits(&rt, &g, "watch.wait_for", None);
    once_tx.send(1).unwrap();
    drop(tx);
    wtx.send(9).unwrap();
    rt.block_on(async {
        a.await.unwrap();
        b.await.unwrap();
        f.await.unwrap();
        g.await.unwrap();
    });
    c.abort();
    d.abort();
    e.abort();
}

#[test]
fn once_cell_waiter_is_held_by_the_initialiser() {
    let rt = runtime();
    let cell = Arc::new(OnceCell::<u8>::new().with_label("cfg"));
    let gate = Arc::new(Event::new());
    let (c, g) = (cell.clone(), gate.clone());
    let init = rt.spawn(async move {
        c.get_or_init(|| async {
            g.wait().await;
            1
        })
        .await;
    });
    assert_waits(&rt, &init, "Event", None);
    let c = cell.clone();
    let waiter = rt.spawn(async move { assert_eq!(*c.get_or_init(|| async { 2 }).await, 1) });
    let w = assert_waits(&rt, &waiter, "OnceCell.get_or_init", Some("cfg"));
    assert_eq!(w.holders(), [init.id()]);
    gate.set();
    rt.block_on(async {
        init.await.unwrap();
        waiter.await.unwrap();
    });
}

#[test]
fn cancellation_token_and_task_group_waits() {
    let rt = runtime();
    let token = CancellationToken::new();
    let t = token.clone();
    let a = rt.spawn(async move { t.cancelled().await });
    assert_waits(&rt, &a, "CancellationToken.cancelled", None);
    let (ids_tx, ids_rx) = std::sync::mpsc::channel();
    let b = rt.spawn(async move {
        let tg = TaskGroup::<()>::new();
        let _child = tg.spawn(async move {
            ids_tx.send(magpie::task::id()).unwrap();
            pending::<()>().await;
            Ok(())
        });
        drop(tg.join().await);
    });
    let child = ids_rx.recv_timeout(Duration::from_secs(10)).unwrap();
    let w = assert_waits(&rt, &b, "TaskGroup.join", None);
    assert_eq!(w.holders(), [child]);
    token.cancel();
    rt.block_on(a).unwrap();
    b.abort();
}

#[test]
fn socket_readiness_shows_readable() {
    if cfg!(miri) {
        return;
    }
    let rt = runtime();
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let h = rt.spawn(async move {
        let listener = magpie::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        addr_tx.send(listener.local_addr().unwrap()).unwrap();
        drop(listener.accept().await);
    });
    let _addr = addr_rx.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_waits(&rt, &h, "readable", None);
    h.abort();
}
