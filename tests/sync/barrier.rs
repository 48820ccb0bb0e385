//! `magpie::sync::Barrier` on the real runtime: rounds, one leader each, abort/reset.

use std::sync::Arc;

use magpie::sync::Barrier;

fn runtime(workers: usize) -> magpie::Runtime {
    magpie::Builder::new_multi_thread()
        .worker_threads(workers)
        .build()
        .unwrap()
}

#[test]
fn every_round_has_exactly_one_leader() {
    let rt = runtime(4);
    let parties = 8;
    let rounds = 200;
    let leaders = rt.block_on(async {
        let b = Arc::new(Barrier::new(parties));
        let hs: Vec<_> = (0..parties)
            .map(|_| {
                let b = b.clone();
                magpie::spawn(async move {
                    let mut leaders = 0;
                    for _ in 0..rounds {
                        let r = b.wait().await.unwrap();
                        assert!(r.index() < parties);
                        if r.is_leader() {
                            leaders += 1;
                        }
                    }
                    leaders
                })
            })
            .collect();
        let mut leaders = 0;
        for h in hs {
            leaders += h.await.unwrap();
        }
        leaders
    });
    assert_eq!(leaders, rounds);
}

#[test]
fn abort_breaks_waiters_and_later_arrivals() {
    let rt = runtime(2);
    rt.block_on(async {
        let b = Arc::new(Barrier::new(3));
        let b2 = b.clone();
        let waiter = magpie::spawn(async move { b2.wait().await });
        magpie::yield_now().await;
        b.abort();
        let err = waiter.await.unwrap().unwrap_err();
        assert_eq!(err.to_string(), "the barrier is broken");
        assert!(b.is_broken());
        assert!(b.wait().await.is_err());
        b.reset();
        assert!(!b.is_broken());
    });
}

#[test]
fn an_aborted_waiter_takes_its_arrival_back() {
    let rt = runtime(2);
    rt.block_on(async {
        let b = Arc::new(Barrier::new(2));
        let b2 = b.clone();
        let gone = magpie::spawn(async move { b2.wait().await });
        while b.n_waiting() == 0 {
            magpie::yield_now().await;
        }
        gone.abort();
        assert!(gone.await.unwrap_err().is_cancelled());
        assert_eq!(b.n_waiting(), 0);
        // Two fresh arrivals are needed again.
        let b3 = b.clone();
        let other = magpie::spawn(async move { b3.wait().await.unwrap().is_leader() });
        let me = b.wait().await.unwrap().is_leader();
        assert!(me != other.await.unwrap());
    });
}
