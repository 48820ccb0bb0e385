//! `wait(handles, ReturnWhen, timeout)`: each `ReturnWhen`, timeouts, nothing cancelled,
//! outputs kept, on both flavours.
use crate::support;

use std::time::Duration;

use magpie::{wait, ReturnWhen};
use support::{flavors, Signal};

#[test]
fn first_completed_returns_the_finished_and_keeps_the_rest_running() {
    for (name, rt) in flavors() {
        rt.block_on(async move {
            let gate = Signal::new();
            let slow = {
                let gate = gate.clone();
                magpie::spawn(async move {
                    gate.wait().await;
                    "slow"
                })
            };
            let fast = magpie::spawn(async { "fast" });
            let (done, pending) = wait(vec![slow, fast], ReturnWhen::FirstCompleted, None).await;
            assert_eq!((done.len(), pending.len()), (1, 1), "{name}");
            assert_eq!(done.into_iter().next().unwrap().await.unwrap(), "fast");
            // Not cancelled: it finishes once released, and its output is intact.
            gate.set();
            let slow = pending.into_iter().next().unwrap();
            assert_eq!(slow.await.unwrap(), "slow", "{name}");
        });
    }
}

#[test]
fn all_completed_waits_for_every_task_in_input_order() {
    for (name, rt) in flavors() {
        rt.block_on(async move {
            let hs: Vec<_> = (0..20u64)
                .map(|i| {
                    magpie::spawn(async move {
                        magpie::time::sleep(Duration::from_millis(20 - i)).await;
                        i
                    })
                })
                .collect();
            let (done, pending) = wait(hs, ReturnWhen::AllCompleted, None).await;
            assert!(pending.is_empty(), "{name}");
            let mut outs = Vec::new();
            for h in done {
                assert!(h.is_finished());
                outs.push(h.await.unwrap());
            }
            assert_eq!(
                outs,
                (0..20).collect::<Vec<_>>(),
                "{name}: done keeps input order"
            );
        });
    }
}

#[test]
fn first_error_returns_on_a_panic_but_not_on_a_cancellation() {
    for (name, rt) in flavors() {
        rt.block_on(async move {
            let gate = Signal::new();
            let hang = {
                let gate = gate.clone();
                magpie::spawn(async move { gate.wait().await })
            };
            let cancelled = magpie::spawn(std::future::pending::<()>());
            cancelled.abort();
            let boom = {
                let gate = gate.clone();
                magpie::spawn(async move {
                    magpie::time::sleep(Duration::from_millis(30)).await;
                    if !gate.is_set() {
                        panic!("boom");
                    }
                })
            };
            let (done, pending) =
                wait(vec![hang, cancelled, boom], ReturnWhen::FirstError, None).await;
            // The cancellation alone did not end the wait; the panic did.
            assert_eq!((done.len(), pending.len()), (2, 1), "{name}");
            assert!(done[0].finished_with_panic() == Some(false));
            assert!(done[1].finished_with_panic() == Some(true));
            gate.set();
            for h in pending {
                h.await.unwrap();
            }
        });
    }
}

#[test]
fn first_error_without_errors_waits_for_all() {
    for (name, rt) in flavors() {
        let (done, pending) = rt.block_on(async {
            let hs: Vec<_> = (0..5).map(|i| magpie::spawn(async move { i })).collect();
            wait(hs, ReturnWhen::FirstError, None).await
        });
        assert_eq!((done.len(), pending.len()), (5, 0), "{name}");
    }
}

#[test]
fn timeout_returns_what_finished_and_cancels_nothing() {
    for (name, rt) in flavors() {
        rt.block_on(async move {
            let gate = Signal::new();
            let blocked = {
                let gate = gate.clone();
                magpie::spawn(async move {
                    gate.wait().await;
                    1
                })
            };
            let quick = magpie::spawn(async { 2 });
            let t0 = std::time::Instant::now();
            let (done, pending) = wait(
                vec![blocked, quick],
                ReturnWhen::AllCompleted,
                Some(Duration::from_millis(50)),
            )
            .await;
            let waited = t0.elapsed();
            assert!(
                waited >= Duration::from_millis(50),
                "{name}: returned early, {waited:?}"
            );
            assert_eq!((done.len(), pending.len()), (1, 1), "{name}");
            gate.set();
            assert_eq!(
                pending.into_iter().next().unwrap().await.unwrap(),
                1,
                "{name}"
            );
        });
    }
}

#[test]
fn empty_input_returns_at_once() {
    for (name, rt) in flavors() {
        let (done, pending) = rt.block_on(wait(
            Vec::<magpie::JoinHandle<()>>::new(),
            ReturnWhen::AllCompleted,
            Some(Duration::from_secs(60)),
        ));
        assert!(done.is_empty() && pending.is_empty(), "{name}");
    }
}
