//! `JoinHandle::abort`: before, during and after a poll, from other threads, racing
//! completion.
use crate::support;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use support::{flavors, DropCounter, Signal};

#[test]
fn abort_before_first_poll() {
    for (name, rt) in flavors() {
        let polled = Arc::new(AtomicUsize::new(0));
        let drops = DropCounter::default();
        let handle = rt.handle().clone();
        let err = rt.block_on({
            let polled = polled.clone();
            let tracked = drops.track();
            async move {
                // Spawned and aborted before this task yields, so on a current-thread
                // runtime it has certainly not been polled yet.
                // On a multi-thread runtime a worker may poll it at once: the gate keeps
                // it from finishing before the abort, so it is cancelled either before its
                // first poll or while it waits.
                let gate = Signal::new();
                let h = handle.spawn({
                    let gate = gate.clone();
                    async move {
                        let _t = tracked;
                        polled.fetch_add(1, Ordering::SeqCst);
                        gate.wait().await;
                    }
                });
                h.abort();
                gate.set();
                h.await.unwrap_err()
            }
        });
        assert!(err.is_cancelled(), "{name}");
        assert_eq!(
            drops.count(),
            1,
            "{name}: the future is dropped exactly once"
        );
        if name == "current_thread" {
            assert_eq!(polled.load(Ordering::SeqCst), 0, "{name}");
        }
    }
}

#[test]
fn abort_a_task_parked_forever() {
    for (name, rt) in flavors() {
        let drops = DropCounter::default();
        let started = Signal::new();
        let err = rt.block_on({
            let tracked = drops.track();
            let started = started.clone();
            async move {
                let h = magpie::spawn({
                    let started = started.clone();
                    async move {
                        let _t = tracked;
                        started.set();
                        std::future::pending::<()>().await;
                    }
                });
                started.wait().await;
                h.abort();
                h.await.unwrap_err()
            }
        });
        assert!(err.is_cancelled(), "{name}");
        assert_eq!(drops.count(), 1, "{name}");
    }
}

/// A future that signals when it is first polled, then spins (yielding) until released.
struct Spin {
    entered: Signal,
    polls: Arc<AtomicUsize>,
}

impl Future for Spin {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.polls.fetch_add(1, Ordering::SeqCst);
        self.entered.set();
        // Give the aborting thread time to act *during* this poll.
        std::thread::sleep(std::time::Duration::from_millis(2));
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

#[test]
fn abort_during_a_poll_from_another_thread() {
    let rt = magpie::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let drops = DropCounter::default();
    let entered = Signal::new();
    let polls = Arc::new(AtomicUsize::new(0));
    let h = rt.spawn({
        let tracked = drops.track();
        let spin = Spin {
            entered: entered.clone(),
            polls: polls.clone(),
        };
        async move {
            let _t = tracked;
            spin.await
        }
    });
    while !entered.is_set() {
        std::thread::yield_now();
    }
    // Abort from a plain thread while the task is (very likely) inside its poll.
    let h = std::thread::spawn(move || {
        h.abort();
        h
    })
    .join()
    .unwrap();
    let err = rt.block_on(h).unwrap_err();
    assert!(err.is_cancelled());
    assert_eq!(drops.count(), 1);
    let after = polls.load(Ordering::SeqCst);
    std::thread::sleep(std::time::Duration::from_millis(20));
    assert_eq!(
        polls.load(Ordering::SeqCst),
        after,
        "no poll after the handle resolved"
    );
}

#[test]
fn abort_after_completion_keeps_the_result() {
    for (name, rt) in flavors() {
        let v = rt.block_on(async {
            let h = magpie::spawn(async { 5 });
            while !h.is_finished() {
                magpie::yield_now().await;
            }
            h.abort();
            h.abort();
            h.await
        });
        assert_eq!(v.unwrap(), 5, "{name}");
    }
}

#[test]
fn abort_racing_completion_gives_exactly_one_outcome() {
    let rt = magpie::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let rounds = if cfg!(miri) { 10 } else { 2_000 };
    let drops = DropCounter::default();
    let (mut ok, mut cancelled) = (0, 0);
    for i in 0..rounds {
        let tracked = drops.track();
        let h = rt.spawn(async move {
            let _t = tracked;
            if i % 2 == 0 {
                magpie::yield_now().await;
            }
            i
        });
        match rt.block_on(async move {
            h.abort();
            h.await
        }) {
            Ok(v) => {
                assert_eq!(v, i);
                ok += 1
            }
            Err(e) => {
                assert!(e.is_cancelled());
                cancelled += 1
            }
        }
    }
    assert_eq!(ok + cancelled, rounds);
    assert_eq!(drops.count(), rounds, "every future dropped exactly once");
}

#[test]
fn abort_from_many_threads_at_once() {
    let rt = magpie::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let drops = DropCounter::default();
    let n = if cfg!(miri) { 4 } else { 500 };
    let handles: Vec<_> = (0..n)
        .map(|_| {
            let t = drops.track();
            Arc::new(rt.spawn(async move {
                let _t = t;
                std::future::pending::<()>().await
            }))
        })
        .collect();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let hs = handles.clone();
            std::thread::spawn(move || hs.iter().for_each(|h| h.abort()))
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    drop(handles);
    support::within(30, "aborted tasks to be dropped", move || {
        while drops.count() < n {
            std::thread::yield_now();
        }
    });
}
