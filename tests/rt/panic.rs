//! A panicking task yields `is_panic()`; the worker and runtime go on.
use crate::support;

use support::flavors;

#[test]
fn panic_becomes_join_error_and_runtime_goes_on() {
    for (name, rt) in flavors() {
        let (err, after) = rt.block_on(async {
            let err = magpie::spawn(async { panic!("task exploded") })
                .await
                .unwrap_err();
            // Many more panics, then normal work on the same workers.
            for _ in 0..50 {
                assert!(magpie::spawn(async { panic!("again") })
                    .await
                    .unwrap_err()
                    .is_panic());
            }
            let after: Vec<_> = (0..100).map(|i| magpie::spawn(async move { i })).collect();
            let mut sum = 0;
            for h in after {
                sum += h.await.unwrap();
            }
            (err, sum)
        });
        assert!(err.is_panic(), "{name}");
        assert!(!err.is_cancelled(), "{name}");
        assert!(err.to_string().contains("task exploded"), "{name}: {err}");
        let payload = err.into_panic();
        assert_eq!(
            *payload.downcast::<&str>().unwrap(),
            "task exploded",
            "{name}"
        );
        assert_eq!(after, 4950, "{name}");
    }
}

#[test]
fn panic_with_string_payload_and_try_into_panic() {
    let rt = magpie::Runtime::new().unwrap();
    let err = rt
        .block_on(async {
            let code = std::hint::black_box(7);
            magpie::spawn(async move { panic!("code {code}") }).await
        })
        .unwrap_err();
    assert!(err.to_string().contains("code 7"));
    let p = err.try_into_panic().unwrap();
    assert_eq!(*p.downcast::<String>().unwrap(), "code 7");

    let h = rt.spawn(std::future::pending::<()>());
    h.abort();
    let err = rt.block_on(h).unwrap_err();
    assert!(err.try_into_panic().is_err());
}

#[test]
fn panic_in_a_drop_during_abort_is_contained() {
    struct Bomb;
    impl Drop for Bomb {
        fn drop(&mut self) {
            panic!("bomb in drop");
        }
    }
    for (name, rt) in flavors() {
        let ok = rt.block_on(async {
            let started = std::sync::Arc::new(magpie::sync::Event::new());
            let set = started.clone();
            let h = magpie::spawn(async move {
                let _b = Bomb;
                set.set();
                std::future::pending::<()>().await
            });
            // The bomb exists only once the task has run (an unpolled async block holds
            // none), so wait for that before aborting.
            started.wait().await;
            h.abort();
            // Issue 13 item 4: the drop's panic is reported (as tokio), not "cancelled".
            let e = h.await.unwrap_err();
            assert!(
                e.is_panic(),
                "an abort whose drop panicked reports the panic"
            );
            magpie::spawn(async { 1 }).await.unwrap()
        });
        assert_eq!(ok, 1, "{name}");
    }
}

#[test]
fn join_error_is_a_std_error_and_send_sync() {
    fn assert_traits<E: std::error::Error + Send + Sync + 'static>() {}
    assert_traits::<magpie::JoinError>();
    fn send_sync<T: Send + Sync>() {}
    send_sync::<magpie::JoinHandle<u32>>();
    send_sync::<magpie::Handle>();
    send_sync::<magpie::Runtime>();
}
