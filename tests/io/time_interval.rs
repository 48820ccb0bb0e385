//! `interval`: ticks on schedule, first at once; missed-tick policies.

use crate::support;

use std::time::Duration;

use magpie::time::{interval, interval_at, Instant, MissedTickBehavior};
use support::flavors;

#[test]
fn interval_ticks_on_schedule() {
    for (name, rt) in flavors() {
        rt.block_on(async {
            let start = Instant::now();
            let mut iv = interval(Duration::from_millis(10));
            let first = iv.tick().await;
            assert!(
                first.duration_since(start) < Duration::from_millis(5),
                "{name}"
            );
            let mut last = first;
            for _ in 0..5 {
                let t = iv.tick().await;
                assert_eq!(
                    t - last,
                    Duration::from_millis(10),
                    "{name}: scheduled instants"
                );
                assert!(Instant::now() >= t, "{name}: never early");
                last = t;
            }
            let took = start.elapsed();
            assert!(took >= Duration::from_millis(50), "{name}: {took:?}");
            assert!(took < Duration::from_millis(500), "{name}: {took:?}");
        });
    }
}

#[test]
fn missed_ticks_follow_the_policy() {
    for (name, rt) in flavors() {
        rt.block_on(async {
            let period = Duration::from_millis(10);
            for policy in [
                MissedTickBehavior::Burst,
                MissedTickBehavior::Delay,
                MissedTickBehavior::Skip,
            ] {
                let start = Instant::now();
                let mut iv = interval_at(start, period);
                iv.set_missed_tick_behavior(policy);
                assert_eq!(iv.missed_tick_behavior(), policy);
                assert_eq!(iv.tick().await, start);
                std::thread::sleep(Duration::from_millis(35)); // miss three ticks
                let late = iv.tick().await; // the tick due about start+10, now overdue
                if policy == MissedTickBehavior::Delay {
                    // Delay schedules each tick a period after the previous one was taken.
                    assert!(late >= start + period, "{name}");
                    assert!(late < start + period + Duration::from_millis(50), "{name}");
                } else {
                    assert_eq!(late, start + period, "{name} {policy:?}");
                }
                let taken = Instant::now();
                let next = iv.tick().await;
                match policy {
                    // Catch up back to back on the original schedule.
                    MissedTickBehavior::Burst => assert_eq!(next, start + 2 * period),
                    // One period after the late tick was taken.
                    MissedTickBehavior::Delay => assert!(next >= start + Duration::from_millis(45)),
                    // The next tick of the original schedule after the late one was taken.
                    MissedTickBehavior::Skip => {
                        assert_eq!((next - start).as_nanos() % period.as_nanos(), 0, "{name}");
                        assert!(next >= start + 4 * period, "{name}");
                        assert!(next <= taken + period, "{name}");
                    }
                }
            }
        });
    }
}

#[test]
#[should_panic(expected = "non-zero")]
fn a_zero_period_panics() {
    let _ = interval(Duration::ZERO);
}

#[test]
fn an_interval_is_a_stream_of_ticks() {
    use futures_core::Stream;
    use std::pin::Pin;

    for (name, rt) in flavors() {
        rt.block_on(async {
            let start = Instant::now();
            let mut iv = interval_at(start, Duration::from_millis(2));
            for k in 0..3u32 {
                let t = std::future::poll_fn(|cx| Pin::new(&mut iv).poll_next(cx)).await;
                assert_eq!(t, Some(start + Duration::from_millis(2) * k), "{name}");
            }
        });
    }
}
