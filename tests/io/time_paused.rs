//! The test clock: `magpie::time::{pause, resume, advance}`, `Builder::start_paused`,
//! `#[magpie::test(start_paused = true)]`, magpie's own `Instant` (rules CLOCK-1 to
//! CLOCK-4 in `runtime/src/time/clock.rs`).

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use magpie::time::{self, advance, interval, pause, resume, sleep, timeout, Instant};
use magpie::{Builder, Runtime};

fn paused_rt() -> Runtime {
    Builder::new_current_thread()
        .start_paused(true)
        .build()
        .unwrap()
}

/// Polls `f` once with the current task's waker.
async fn poll_once<F: Future + Unpin>(f: &mut F) -> Poll<F::Output> {
    std::future::poll_fn(|cx: &mut Context<'_>| Poll::Ready(Pin::new(&mut *f).poll(cx))).await
}

/// One scenario: timeouts and sleeps of one hour in total; returns what fired, in order,
/// with the paused clock's reading at each.
fn hour_of_timeouts() -> Vec<(u32, Duration)> {
    paused_rt().block_on(async {
        let start = Instant::now();
        let log = Arc::new(Mutex::new(Vec::new()));
        // Deadlines in seconds, spawned out of order; they add up to 3,600 s.
        let secs = [900u64, 60, 300, 1200, 30, 600, 10, 450, 40, 10];
        assert_eq!(secs.iter().sum::<u64>(), 3600);
        let mut handles = Vec::new();
        for (id, &s) in secs.iter().enumerate() {
            let log = log.clone();
            handles.push(magpie::spawn(async move {
                let d = Duration::from_secs(s);
                if id % 2 == 0 {
                    let r = timeout(d, std::future::pending::<()>()).await;
                    assert!(r.is_err(), "a pending future times out");
                } else {
                    sleep(d).await;
                }
                log.lock().unwrap().push((id as u32, start.elapsed()));
            }));
        }
        for h in handles {
            h.await.unwrap();
        }
        let log = log.lock().unwrap().clone();
        log
    })
}

#[test]
fn an_hour_of_timeouts_takes_no_real_time_and_is_deterministic() {
    let real = std::time::Instant::now();
    let first = hour_of_timeouts();
    for run in 1..20 {
        assert_eq!(hour_of_timeouts(), first, "run {run} differs");
    }
    assert!(
        real.elapsed() < Duration::from_secs(1),
        "20 paused hours took {:?} of real time",
        real.elapsed()
    );
    // Deadline order, each at its exact deadline (equal deadlines in the same order every
    // run, checked above, but no particular one).
    let secs = [900u64, 60, 300, 1200, 30, 600, 10, 450, 40, 10];
    assert!(first.windows(2).all(|w| w[0].1 <= w[1].1), "{first:?}");
    let mut seen: Vec<(u32, Duration)> = first.clone();
    seen.sort();
    let expected: Vec<(u32, Duration)> = secs
        .iter()
        .enumerate()
        .map(|(id, &s)| (id as u32, Duration::from_secs(s)))
        .collect();
    assert_eq!(seen, expected, "each fired once, at its deadline");
}

#[test]
fn advance_fires_exactly_at_t_plus_d_and_not_before() {
    // Unpaused first, so the paused instant `t` is nowhere near a millisecond boundary.
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        std::thread::sleep(Duration::from_micros(1300));
        pause();
        for d in [
            Duration::from_micros(1500),
            Duration::from_millis(10),
            Duration::from_nanos(1),
            Duration::from_secs(3600) + Duration::from_nanos(700_001),
        ] {
            let t = Instant::now();
            let mut s = Box::pin(sleep(d));
            assert!(poll_once(&mut s).await.is_pending());
            advance(d - Duration::from_nanos(1)).await;
            assert!(!s.is_elapsed(), "{d:?}: elapsed a nanosecond early");
            assert!(poll_once(&mut s).await.is_pending(), "{d:?}: fired early");
            advance(Duration::from_nanos(1)).await;
            assert_eq!(Instant::now(), t + d);
            assert!(s.is_elapsed());
            assert!(
                poll_once(&mut s).await.is_ready(),
                "{d:?}: not fired at t + d"
            );
        }

        // A task asleep is woken by the advance itself, at exactly t + d.
        let t = Instant::now();
        let d = Duration::from_micros(2_500);
        let woke = Arc::new(Mutex::new(None));
        let w = woke.clone();
        let h = magpie::spawn(async move {
            sleep(d).await;
            *w.lock().unwrap() = Some(Instant::now());
        });
        magpie::yield_now().await; // the task registers its sleep
        advance(d - Duration::from_nanos(1)).await;
        for _ in 0..5 {
            magpie::yield_now().await;
        }
        assert_eq!(*woke.lock().unwrap(), None, "woke before t + d");
        advance(Duration::from_nanos(1)).await;
        h.await.unwrap();
        assert_eq!(*woke.lock().unwrap(), Some(t + d));
        resume();
    });
}

#[test]
fn auto_advance_fires_in_deadline_order_at_each_deadline() {
    paused_rt().block_on(async {
        let start = Instant::now();
        let log = Arc::new(Mutex::new(Vec::new()));
        // Microseconds; several inside one millisecond, out of order.
        let us = [5_000u64, 1_300, 1_200, 60_000_000, 1_900, 999, 7, 1_250];
        let handles: Vec<_> = us
            .iter()
            .map(|&u| {
                let log = log.clone();
                magpie::spawn(async move {
                    sleep(Duration::from_micros(u)).await;
                    log.lock().unwrap().push((u, start.elapsed()));
                })
            })
            .collect();
        for h in handles {
            h.await.unwrap();
        }
        let mut sorted = us.to_vec();
        sorted.sort();
        let expected: Vec<_> = sorted
            .iter()
            .map(|&u| (u, Duration::from_micros(u)))
            .collect();
        assert_eq!(*log.lock().unwrap(), expected);
    });
}

#[test]
fn interval_ticks_on_the_paused_clock() {
    let real = std::time::Instant::now();
    paused_rt().block_on(async {
        let start = Instant::now();
        let mut iv = interval(Duration::from_secs(600));
        for k in 0..7u32 {
            let tick = iv.tick().await;
            assert_eq!(tick, start + Duration::from_secs(600) * k);
            assert_eq!(Instant::now(), tick, "tick {k} is on time, exactly");
        }
        assert_eq!(start.elapsed(), Duration::from_secs(3600));
    });
    assert!(real.elapsed() < Duration::from_secs(1));
}

#[test]
fn timeout_under_paused_time() {
    paused_rt().block_on(async {
        let start = Instant::now();
        let late = timeout(Duration::from_secs(3600), std::future::pending::<()>()).await;
        assert!(late.is_err());
        assert_eq!(start.elapsed(), Duration::from_secs(3600));

        let start = Instant::now();
        let won = timeout(Duration::from_secs(3600), async {
            sleep(Duration::from_secs(10)).await;
            7
        })
        .await;
        assert_eq!(won, Ok(7));
        assert_eq!(start.elapsed(), Duration::from_secs(10));

        // With advance: not a nanosecond before the deadline.
        let start = Instant::now();
        let mut t = Box::pin(time::timeout_at(
            start + Duration::from_secs(5),
            std::future::pending::<()>(),
        ));
        assert!(poll_once(&mut t).await.is_pending());
        advance(Duration::from_secs(5) - Duration::from_nanos(1)).await;
        assert!(poll_once(&mut t).await.is_pending());
        advance(Duration::from_nanos(1)).await;
        assert!(matches!(poll_once(&mut t).await, Poll::Ready(Err(_))));
    });
}

#[test]
fn instant_arithmetic() {
    let a = Instant::now();
    let d = Duration::from_millis(1500);
    let b = a + d;
    assert_eq!(b - a, d);
    assert_eq!(a - b, Duration::ZERO, "saturates like std");
    assert_eq!(b.duration_since(a), d);
    assert_eq!(b.checked_duration_since(a), Some(d));
    assert_eq!(a.checked_duration_since(b), None);
    assert_eq!(a.saturating_duration_since(b), Duration::ZERO);
    assert_eq!(b.checked_sub(d), Some(a));
    assert_eq!(a.checked_add(d), Some(b));
    assert_eq!(a.checked_add(Duration::MAX), None);
    // Each comparison operator of magpie's Instant, one at a time.
    assert!(a < b);
    assert!(b > a);
    assert!(a <= a);
    assert!(a >= a);
    let mut c = a;
    c += d;
    assert_eq!(c, b);
    c -= d;
    assert_eq!(c, a);
    assert_eq!(b - d, a);
    assert_eq!(Instant::from_std(a.into_std()), a);
    let s: std::time::Instant = b.into();
    assert_eq!(Instant::from(s), b);
    // Comparisons across magpie's and std's Instant, both ways round.
    assert!(s == b);
    assert!(b == s);
    assert!(a < s);
    assert!(s > a);
    assert_eq!(format!("{a:?}"), format!("{:?}", a.into_std()));
    // Outside any runtime, `now` is the real clock.
    let before = std::time::Instant::now();
    let now = Instant::now();
    assert!(now >= before && now <= std::time::Instant::now());
}

#[test]
fn start_paused_via_builder_freezes_now_and_resume_continues_from_it() {
    paused_rt().block_on(async {
        let t = Instant::now();
        std::thread::sleep(Duration::from_millis(3));
        assert_eq!(
            Instant::now(),
            t,
            "paused: real time does not move the clock"
        );
        advance(Duration::from_secs(100)).await;
        assert_eq!(Instant::now(), t + Duration::from_secs(100));
        resume();
        std::thread::sleep(Duration::from_millis(2));
        let now = Instant::now();
        assert!(now >= t + Duration::from_secs(100) + Duration::from_millis(2));
        // Running again: a real sleep takes real time.
        let real = std::time::Instant::now();
        sleep(Duration::from_millis(5)).await;
        assert!(real.elapsed() >= Duration::from_millis(5));
        pause(); // and can be paused again
        resume();
    });
    // Other threads outside that runtime read the real clock.
    let rt = paused_rt();
    let inside = rt.block_on(async { Instant::now() });
    std::thread::sleep(Duration::from_millis(2));
    assert!(Instant::now() >= inside + Duration::from_millis(2));
}

#[magpie::test(start_paused = true)]
async fn start_paused_via_the_test_attribute() {
    let t = Instant::now();
    std::thread::sleep(Duration::from_millis(2));
    assert_eq!(Instant::now(), t);
    sleep(Duration::from_secs(86_400)).await;
    assert_eq!(t.elapsed(), Duration::from_secs(86_400));
}

#[magpie::test(start_paused = false)]
async fn start_paused_false_is_the_real_clock() {
    let t = Instant::now();
    std::thread::sleep(Duration::from_millis(2));
    assert!(Instant::now() >= t + Duration::from_millis(2));
}

#[test]
fn start_paused_on_a_multi_thread_runtime_is_an_error() {
    let err = Builder::new_multi_thread()
        .worker_threads(1)
        .start_paused(true)
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("new_current_thread"), "{err}");
}

#[test]
#[should_panic(expected = "time can only be paused on a current-thread runtime")]
fn pause_on_a_multi_thread_runtime_panics() {
    let rt = Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    rt.block_on(async { pause() });
}

#[test]
#[should_panic(expected = "already paused; call magpie::time::resume() before pausing it again")]
fn pause_twice_panics() {
    paused_rt().block_on(async { pause() });
}

#[test]
#[should_panic(expected = "advance: the clock is not paused; call magpie::time::pause() first")]
fn advance_while_not_paused_panics() {
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(advance(Duration::from_secs(1)));
}

#[test]
#[should_panic(expected = "resume: the clock is not paused; call magpie::time::pause() first")]
fn resume_while_not_paused_panics() {
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async { resume() });
}

#[test]
#[should_panic(expected = "pause called outside a magpie runtime")]
fn pause_outside_a_runtime_panics() {
    pause();
}
