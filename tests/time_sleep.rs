//! Sleeps: never early, in deadline order, cleaned up when dropped; odd deadlines.

mod support;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use magpie::time::{sleep, sleep_until};
use support::{flavors, within};

fn xorshift(x: &mut u64) -> u64 {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    *x
}

/// 10,000 sleeps of random lengths (100..400 ms): each fires no earlier than its deadline,
/// and they complete in deadline order, up to `slack` (the wheel's 1 ms ticks, plus, with
/// two workers, tasks of one batch running side by side).
#[test]
fn ten_thousand_sleeps_fire_in_deadline_order_never_early() {
    const N: usize = 10_000;
    for (name, rt) in flavors() {
        let slack = if name.starts_with("multi") {
            Duration::from_millis(40)
        } else {
            Duration::from_millis(3)
        };
        let rt = Arc::new(rt);
        let rt2 = rt.clone();
        let records = within(60, name, move || {
            rt2.block_on(async {
                let seq = Arc::new(AtomicUsize::new(0));
                let records = Arc::new(Mutex::new(Vec::with_capacity(N)));
                let start = Instant::now();
                let mut rng = 0x5EED_u64;
                let handles: Vec<_> = (0..N)
                    .map(|_| {
                        // From 100 ms on: every sleep is registered before the first is due
                        // (one polled after its deadline completes at once, out of order).
                        let offset = 100_000 + xorshift(&mut rng) % 300_000;
                        let deadline = start + Duration::from_micros(offset);
                        let (seq, records) = (seq.clone(), records.clone());
                        magpie::spawn(async move {
                            sleep_until(deadline).await;
                            let at = Instant::now();
                            let n = seq.fetch_add(1, Ordering::SeqCst);
                            records.lock().unwrap().push((n, deadline, at));
                        })
                    })
                    .collect();
                for h in handles {
                    h.await.unwrap();
                }
                Arc::try_unwrap(records).unwrap().into_inner().unwrap()
            })
        });
        assert_eq!(records.len(), N);
        let mut records = records;
        records.sort_by_key(|r| r.0);
        let mut latest = records[0].1;
        let mut worst = Duration::ZERO;
        for &(n, deadline, at) in &records {
            assert!(at >= deadline, "{name}: sleep {n} fired early");
            // No sleep completes after one whose deadline is later by more than `slack`.
            if deadline < latest {
                worst = worst.max(latest - deadline);
            }
            latest = latest.max(deadline);
        }
        assert!(worst <= slack, "{name}: out of deadline order by {worst:?}");
        assert_eq!(rt.handle().timer_count(), 0, "{name}");
    }
}

/// Polls a future once, then gives up (registers a sleep without waiting for it).
struct PollOnce<'a, F>(&'a mut F);

impl<F: Future + Unpin> Future for PollOnce<'_, F> {
    type Output = bool;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<bool> {
        Poll::Ready(Pin::new(&mut *self.0).poll(cx).is_ready())
    }
}

#[test]
fn a_hundred_thousand_timers_created_and_dropped_leave_the_wheel_empty() {
    for (name, rt) in flavors() {
        rt.block_on(async {
            let handle = magpie::Handle::current();
            let mut rng = 77u64;
            let mut sleeps: Vec<_> = (0..100_000)
                .map(|_| {
                    Box::pin(sleep(Duration::from_millis(
                        1 + xorshift(&mut rng) % 100_000_000,
                    )))
                })
                .collect();
            for s in sleeps.iter_mut() {
                assert!(!PollOnce(s).await, "{name}");
            }
            assert_eq!(handle.timer_count(), 100_000, "{name}");
            // Drop in a scrambled order (cancel from the middle of slot lists).
            let mut i = 0;
            while !sleeps.is_empty() {
                i = (i + 7919) % sleeps.len();
                drop(sleeps.swap_remove(i));
            }
            assert_eq!(handle.timer_count(), 0, "{name}");
        });
    }
}

#[test]
fn zero_past_and_far_future_deadlines_behave() {
    for (name, rt) in flavors() {
        rt.block_on(async {
            let handle = magpie::Handle::current();
            let t = Instant::now();
            sleep(Duration::ZERO).await;
            sleep_until(t - Duration::from_secs(1)).await;
            sleep_until(t).await;
            assert!(t.elapsed() < Duration::from_secs(1), "{name}");
            // Years ahead (and beyond what an Instant can hold): registered, never fired.
            for d in [Duration::from_secs(3 * 365 * 86_400), Duration::MAX] {
                let mut s = Box::pin(sleep(d));
                assert!(!PollOnce(&mut s).await, "{name}");
                assert!(!s.is_elapsed());
                assert_eq!(handle.timer_count(), 1, "{name}");
                // A reset to the near future makes it fire.
                s.as_mut().reset(Instant::now() + Duration::from_millis(2));
                s.await;
                assert_eq!(handle.timer_count(), 0, "{name}");
            }
        });
    }
}

#[test]
fn sleeps_resume_close_to_their_deadline() {
    for (name, rt) in flavors() {
        rt.block_on(async {
            for ms in [1u64, 5, 20, 50] {
                let t = Instant::now();
                sleep(Duration::from_millis(ms)).await;
                let took = t.elapsed();
                assert!(took >= Duration::from_millis(ms), "{name}");
                assert!(
                    took < Duration::from_millis(ms + 150),
                    "{name}: {ms} ms took {took:?}"
                );
            }
        });
    }
}

#[test]
#[should_panic(expected = "outside a magpie runtime")]
fn polling_a_sleep_outside_a_runtime_panics_with_advice() {
    let mut s = Box::pin(sleep(Duration::from_secs(1)));
    let mut cx = Context::from_waker(std::task::Waker::noop());
    let _ = s.as_mut().poll(&mut cx);
}
