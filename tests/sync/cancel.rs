//! `magpie::sync::CancellationToken` on both runtime flavours: waking, trees, drop guards,
//! cancellation of the waiting future.

use crate::support;

use magpie::sync::CancellationToken;
use support::flavors;
use support::polled::Polled;

#[test]
fn cancel_wakes_waiters_on_both_flavours() {
    for (name, rt) in flavors() {
        rt.block_on(async {
            let token = CancellationToken::new();
            let mut hs = Vec::new();
            for _ in 0..8 {
                let t = token.child_token();
                hs.push(magpie::spawn(async move {
                    t.cancelled().await;
                    t.is_cancelled()
                }));
            }
            magpie::yield_now().await;
            token.cancel();
            for h in hs {
                assert!(h.await.unwrap(), "{name}");
            }
        });
    }
}

#[test]
fn children_follow_parents_not_the_reverse() {
    let root = CancellationToken::new();
    let a = root.child_token();
    let a1 = a.child_token();
    let b = root.child_token();
    a.cancel();
    assert!(a1.is_cancelled(), "grandchild follows");
    assert!(
        !root.is_cancelled() && !b.is_cancelled(),
        "a child does not cancel upwards"
    );
    root.cancel();
    assert!(b.is_cancelled());
    let late = root.child_token();
    assert!(
        late.is_cancelled(),
        "a child of a cancelled token starts cancelled"
    );
}

#[test]
fn cancelled_future_dropped_before_and_after_wake() {
    let token = CancellationToken::new();
    {
        let mut f = Polled::new(token.cancelled());
        assert!(f.poll().is_pending());
    }
    let mut f = Polled::new(token.cancelled());
    assert!(f.poll().is_pending());
    let mut g = Polled::new(token.cancelled());
    assert!(g.poll().is_pending());
    token.cancel();
    assert_eq!(f.wakes(), 1);
    assert_eq!(g.wakes(), 1);
    drop(f); // woken, dropped unpolled: the other waiter still completes
    assert!(g.poll().is_ready());
    assert!(Polled::new(token.cancelled()).poll().is_ready());
}

#[test]
fn drop_guard_cancels_unless_disarmed() {
    let t = CancellationToken::new();
    let g = t.clone().drop_guard();
    let back = g.disarm();
    assert!(!t.is_cancelled());
    drop(back.drop_guard());
    assert!(t.is_cancelled());
}

#[test]
fn dropped_children_do_not_accumulate() {
    // A long-lived parent with many short-lived children: each child unlinks itself.
    let root = CancellationToken::new();
    for _ in 0..10_000 {
        let c = root.child_token();
        let _cc = c.child_token();
    }
    let kept = root.child_token();
    root.cancel();
    assert!(kept.is_cancelled());
    // Owned form, moved into a task.
    let rt = magpie::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let t = CancellationToken::new();
    let h = rt.spawn(t.clone().cancelled_owned());
    t.cancel();
    rt.block_on(h).unwrap();
}
