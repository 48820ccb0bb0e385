//! `magpie::task_local!`: the value follows the future across workers, scopes nest,
//! tasks are isolated, misuse is a typed error or a clear panic.

use crate::support;

use support::flavors;

magpie::task_local! {
    static REQUEST_ID: u64;
    static NAME: String;
}

#[test]
fn value_follows_the_future_across_workers() {
    let rt = magpie::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    rt.block_on(async {
        let mut hs = Vec::new();
        for id in 0..64u64 {
            hs.push(magpie::spawn(REQUEST_ID.scope(id, async move {
                let mut threads = std::collections::HashSet::new();
                for _ in 0..50 {
                    threads.insert(std::thread::current().id());
                    assert_eq!(REQUEST_ID.get(), id, "another task's value leaked in");
                    magpie::yield_now().await;
                }
                threads.len()
            })));
        }
        for h in hs {
            assert!(h.await.unwrap() >= 1);
        }
    });
}

#[test]
fn scopes_nest_and_restore_on_both_flavours() {
    for (name, rt) in flavors() {
        rt.block_on(async {
            NAME.scope("outer".into(), async {
                assert_eq!(NAME.with(|n| n.clone()), "outer", "{name}");
                NAME.scope("inner".into(), async {
                    magpie::yield_now().await;
                    assert_eq!(NAME.with(|n| n.clone()), "inner");
                })
                .await;
                assert_eq!(NAME.with(|n| n.clone()), "outer", "{name}");
                let spawned = magpie::spawn(async { NAME.try_with(|_| ()).is_err() });
                assert!(
                    spawned.await.unwrap(),
                    "{name}: spawned tasks do not inherit"
                );
            })
            .await;
            assert!(NAME.try_with(|_| ()).is_err(), "{name}");
        });
    }
}

#[test]
fn access_outside_a_scope_is_an_error_or_a_clear_panic() {
    let err = REQUEST_ID.try_with(|v| *v).unwrap_err();
    assert!(err.to_string().contains("scope"), "{err}");
    let panic = std::panic::catch_unwind(|| REQUEST_ID.get()).unwrap_err();
    let msg = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(msg.contains("scope"), "{msg}");
}

#[test]
fn value_is_restored_after_a_panicking_poll() {
    let r = std::panic::catch_unwind(|| {
        REQUEST_ID.sync_scope(1, || -> () { panic!("inside") });
    });
    assert!(r.is_err());
    assert!(
        REQUEST_ID.try_with(|_| ()).is_err(),
        "the scope ended with the panic"
    );
}

struct SeesValueOnDrop(std::sync::Arc<std::sync::atomic::AtomicU64>);

impl Drop for SeesValueOnDrop {
    fn drop(&mut self) {
        let v = REQUEST_ID.try_with(|v| *v).unwrap_or(0);
        self.0.store(v, std::sync::atomic::Ordering::SeqCst);
    }
}

#[test]
fn inner_future_is_dropped_inside_its_scope() {
    let seen = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let guard = SeesValueOnDrop(seen.clone());
    let fut = REQUEST_ID.scope(77, async move {
        let _g = guard;
        std::future::pending::<()>().await;
    });
    let mut polled = support::polled::Polled::new(fut);
    assert!(polled.poll().is_pending());
    drop(polled); // cancelled
    assert_eq!(seen.load(std::sync::atomic::Ordering::SeqCst), 77);
}

/// The snippet of docs/asyncio.md's part 3, run.
#[test]
fn asyncio_doc_snippet() {
    use magpie::sync::{mpsc, CancellationToken};
    magpie::block_on(async {
        let (tx, mut rx) = mpsc::channel(16);
        let stop = CancellationToken::new();
        let worker = magpie::spawn({
            let stop = stop.child_token();
            REQUEST_ID.scope(7, async move {
                assert_eq!(REQUEST_ID.get(), 7);
                stop.cancelled().await;
                tx.send(REQUEST_ID.get()).await.unwrap();
            })
        });
        stop.cancel();
        assert_eq!(rx.recv().await, Some(7));
        worker.await.unwrap();
        assert_eq!(rx.recv().await, None);
    });
}
