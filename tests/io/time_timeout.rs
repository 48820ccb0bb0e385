//! `timeout` is asyncio's `wait_for`: the output if in time, otherwise the inner future is
//! dropped and `Err(Elapsed)` returned.

use crate::support;

use std::time::{Duration, Instant};

use magpie::time::{sleep, timeout, timeout_at, Elapsed};
use support::{flavors, DropCounter};

#[test]
fn timeout_returns_the_output_when_in_time() {
    for (name, rt) in flavors() {
        rt.block_on(async {
            let r = timeout(Duration::from_secs(10), async {
                sleep(Duration::from_millis(5)).await;
                42
            })
            .await;
            assert_eq!(r, Ok(42), "{name}");
            // Ready at once wins even with a zero duration.
            assert_eq!(timeout(Duration::ZERO, async { 1 }).await, Ok(1), "{name}");
            assert_eq!(magpie::Handle::current().timer_count(), 0, "{name}");
        });
    }
}

#[test]
fn timeout_drops_the_inner_future_on_expiry() {
    for (name, rt) in flavors() {
        rt.block_on(async {
            let drops = DropCounter::default();
            let tracked = drops.track();
            let start = Instant::now();
            let r = timeout(Duration::from_millis(20), async move {
                let _t = tracked;
                sleep(Duration::from_secs(3600)).await;
            })
            .await;
            assert_eq!(r, Err::<(), _>(Elapsed::clone(&r.unwrap_err())), "{name}");
            assert!(start.elapsed() >= Duration::from_millis(20), "{name}");
            assert!(start.elapsed() < Duration::from_secs(2), "{name}");
            assert_eq!(
                drops.count(),
                1,
                "{name}: inner future dropped exactly once"
            );
            assert_eq!(magpie::Handle::current().timer_count(), 0, "{name}");
            let e = timeout_at(Instant::now(), std::future::pending::<()>())
                .await
                .unwrap_err();
            assert_eq!(e.to_string(), "deadline has elapsed");
            let io: std::io::Error = e.into();
            assert_eq!(io.kind(), std::io::ErrorKind::TimedOut);
        });
    }
}

#[test]
fn timeout_fires_even_if_the_inner_future_always_yields() {
    for (name, rt) in flavors() {
        rt.block_on(async {
            // The inner future spends its whole budget every poll and never finishes.
            let busy = async {
                loop {
                    magpie::yield_now().await;
                }
            };
            let r: Result<(), _> = timeout(Duration::from_millis(10), busy).await;
            assert!(r.is_err(), "{name}");
        });
    }
}
