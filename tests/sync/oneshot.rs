//! `magpie::sync::oneshot` on the real runtime: asyncio's Future seed example.

use magpie::sync::oneshot;

fn runtime(workers: usize) -> magpie::Runtime {
    magpie::Builder::new_multi_thread()
        .worker_threads(workers)
        .build()
        .unwrap()
}

#[test]
fn seed_set_result_from_another_task() {
    let rt = runtime(2);
    let result = rt.block_on(async {
        let (future, result) = oneshot::channel();
        magpie::spawn(async move {
            magpie::yield_now().await; // "await asyncio.sleep(1)"
            future.set_result("Future resolved!").unwrap();
        });
        result.await
    });
    assert_eq!(result, Ok("Future resolved!"));
}

#[test]
fn dropped_sender_is_an_error() {
    let rt = runtime(2);
    rt.block_on(async {
        let (tx, rx) = oneshot::channel::<u32>();
        let h = magpie::spawn(async move {
            magpie::yield_now().await;
            drop(tx);
        });
        let err = rx.await.unwrap_err();
        assert_eq!(
            err.to_string(),
            "the sender was dropped without setting a value"
        );
        h.await.unwrap();
    });
}

#[test]
fn aborted_receiver_returns_the_value_to_the_sender() {
    let rt = runtime(2);
    rt.block_on(async {
        let (tx, rx) = oneshot::channel::<u32>();
        let h = magpie::spawn(rx);
        magpie::yield_now().await;
        h.abort();
        assert!(h.await.unwrap_err().is_cancelled());
        assert!(tx.is_closed());
        assert_eq!(tx.set_result(1), Err(1));
    });
}

#[test]
fn many_channels_across_workers() {
    let rt = runtime(4);
    let sum = rt.block_on(async {
        let mut rxs = Vec::new();
        for i in 0..1000u64 {
            let (tx, rx) = oneshot::channel();
            magpie::spawn(async move { tx.set_result(i).unwrap() });
            rxs.push(rx);
        }
        let mut sum = 0;
        for rx in rxs {
            sum += rx.await.unwrap();
        }
        sum
    });
    assert_eq!(sum, (0..1000).sum::<u64>());
}
