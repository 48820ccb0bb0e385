//! Sleeps: never early, in deadline order, cleaned up when dropped; odd deadlines.

use crate::support;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
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

/// A sleep that records when the timer wheel wakes it: a sequence number taken inside the
/// waker (the wheel's firing order, whatever the scheduling of the tasks afterwards), and
/// whether its first poll registered it (was pending).
struct Recorded {
    sleep: Pin<Box<magpie::time::Sleep>>,
    seq: Arc<AtomicUsize>,
    woken_at: Arc<AtomicUsize>,
    first_pending: Option<bool>,
}

struct RecordingWaker {
    seq: Arc<AtomicUsize>,
    woken_at: Arc<AtomicUsize>,
    inner: std::task::Waker,
}

impl std::task::Wake for RecordingWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        let n = self.seq.fetch_add(1, Ordering::SeqCst);
        let _ = self
            .woken_at
            .compare_exchange(usize::MAX, n, Ordering::SeqCst, Ordering::SeqCst);
        self.inner.wake_by_ref();
    }
}

impl Future for Recorded {
    type Output = bool;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<bool> {
        let waker = std::task::Waker::from(Arc::new(RecordingWaker {
            seq: self.seq.clone(),
            woken_at: self.woken_at.clone(),
            inner: cx.waker().clone(),
        }));
        let poll = self.sleep.as_mut().poll(&mut Context::from_waker(&waker));
        let first = *self.first_pending.get_or_insert(poll.is_pending());
        poll.map(|()| first)
    }
}

/// 10,000 sleeps of random lengths (100 to 400 ms): each completes no earlier than its
/// deadline, and the wheel wakes them in deadline order (up to its 1 ms tick).
#[test]
fn ten_thousand_sleeps_fire_in_deadline_order_never_early() {
    const N: usize = 10_000;
    for (name, rt) in flavors() {
        let rt = Arc::new(rt);
        let rt2 = rt.clone();
        let records = within(60, name, move || {
            rt2.block_on(async {
                let seq = Arc::new(AtomicUsize::new(0));
                let start = Instant::now();
                let mut rng = 0x5EED_u64;
                let handles: Vec<_> = (0..N)
                    .map(|_| {
                        let offset = Duration::from_micros(100_000 + xorshift(&mut rng) % 300_000);
                        let deadline = start + offset;
                        let woken_at = Arc::new(AtomicUsize::new(usize::MAX));
                        let rec = Recorded {
                            sleep: Box::pin(sleep_until(deadline)),
                            seq: seq.clone(),
                            woken_at: woken_at.clone(),
                            first_pending: None,
                        };
                        magpie::spawn(async move {
                            let registered = rec.await;
                            let at = Instant::now();
                            (deadline, at, registered, woken_at.load(Ordering::SeqCst))
                        })
                    })
                    .collect();
                let mut records = Vec::with_capacity(N);
                for h in handles {
                    records.push(h.await.unwrap());
                }
                records
            })
        });
        assert_eq!(records.len(), N);
        for &(deadline, at, _, _) in &records {
            assert!(at >= deadline, "{name}: a sleep completed early");
        }
        // Sleeps registered before their deadline (not already due at their first poll)
        // are woken by the wheel, in deadline order.
        let mut fired: Vec<(usize, Instant)> = records
            .iter()
            .filter(|r| r.2)
            .map(|r| {
                assert_ne!(
                    r.3,
                    usize::MAX,
                    "{name}: a registered sleep was never woken"
                );
                (r.3, r.0)
            })
            .collect();
        assert!(
            fired.len() > N / 2,
            "{name}: only {} sleeps registered",
            fired.len()
        );
        fired.sort_by_key(|f| f.0);
        let mut latest = fired[0].1;
        let mut worst = Duration::ZERO;
        for &(_, deadline) in &fired {
            worst = worst.max(latest.saturating_duration_since(deadline));
            latest = latest.max(deadline);
        }
        // Deadlines in the same 1 ms tick fire together, in any order.
        assert!(
            worst <= Duration::from_millis(1),
            "{name}: woken out of deadline order by {worst:?}"
        );
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

#[test]
fn an_earlier_timer_from_outside_the_workers_wakes_the_sleeping_driver() {
    // A worker sleeps in the driver towards a timer a minute away; a sleep registered by a
    // thread that is not a worker (the caller of block_on on a multi-thread runtime) must
    // cut that wait short (driver rule D3), not wait for the minute.
    let rt = magpie::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    let far = rt.spawn(sleep(Duration::from_secs(60)));
    std::thread::sleep(Duration::from_millis(20)); // let the worker park in the driver
    let took = rt.block_on(async {
        let t = Instant::now();
        sleep(Duration::from_millis(5)).await;
        t.elapsed()
    });
    assert!(took >= Duration::from_millis(5));
    assert!(
        took < Duration::from_millis(500),
        "an outside 5 ms sleep took {took:?}"
    );
    far.abort();
}

#[test]
fn timers_keep_firing_while_a_task_blocks_its_worker() {
    // Two workers; one is stuck in a task that blocks its thread for 300 ms. The other
    // must take over the driver: twenty 1 ms sleeps finish long before the blocker does.
    let rt = magpie::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    for round in 0..3 {
        let started = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let s = started.clone();
        let blocker = rt.spawn(async move {
            s.store(true, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(300)); // blocks the worker thread
        });
        while !started.load(Ordering::SeqCst) {
            std::thread::yield_now();
        }
        let sleeper = rt.spawn(async {
            let t = Instant::now();
            for _ in 0..20 {
                sleep(Duration::from_millis(1)).await;
            }
            t.elapsed()
        });
        let took = rt.block_on(sleeper).unwrap();
        assert!(
            took < Duration::from_millis(200),
            "round {round}: 20 x 1 ms sleeps took {took:?} while a worker was blocked"
        );
        assert!(
            !blocker.is_finished(),
            "round {round}: the blocker ended first"
        );
        rt.block_on(blocker).unwrap();
    }
}

#[test]
fn a_task_woken_by_the_driver_that_then_blocks_does_not_stall_timers() {
    // The blocker is woken by a timer, so it lands on the queue of the worker that was
    // polling the driver; that worker must hand the driver (and the other woken tasks) on
    // before it runs the blocker.
    let rt = magpie::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    for round in 0..3 {
        let blocker = rt.spawn(async {
            sleep(Duration::from_millis(10)).await;
            std::thread::sleep(Duration::from_millis(300));
        });
        let sleeper = rt.spawn(async {
            let t = Instant::now();
            for _ in 0..40 {
                sleep(Duration::from_millis(1)).await;
            }
            t.elapsed()
        });
        let took = rt.block_on(sleeper).unwrap();
        assert!(
            took < Duration::from_millis(250),
            "round {round}: 40 x 1 ms sleeps took {took:?} while a timer-woken task blocked"
        );
        rt.block_on(blocker).unwrap();
    }
}
