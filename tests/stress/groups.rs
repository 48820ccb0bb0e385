//! TaskGroup, gather and try_gather under random child failures (an `Err` or a panic at a
//! random step), children that would run for ever unless cancelled, nested groups, and
//! outer cancellation (the task awaiting `join` aborted, or a `timeout` around it). Every
//! child (and grandchild) holds a liveness guard made when it is spawned:
//!
//! - when `TaskGroup::join` returns (or resumes a child's panic), zero children are alive;
//! - when the joining task is cancelled and the group dropped, the children are aborted:
//!   zero alive soon after (the drop aborts them; their futures go at their next
//!   scheduling point);
//! - gather and try_gather abort the rest on the first failure: zero alive soon after.
//!
//! 20,000 groups and 20,000 gathers at full scale (`MAGPIE_STRESS_SCALE=1`).

use crate::stress;

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::Once;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use magpie::TaskGroup;
use stress::{run_case, scaled, Count, LiveGuard, Liveness, Rng};

const PANIC_MSG: &str = "injected panic";

fn quiet_injected_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let injected = info
                .payload()
                .downcast_ref::<String>()
                .is_some_and(|s| s.starts_with(PANIC_MSG));
            if !injected {
                default(info);
            }
        }));
    });
}

/// Polls a future inside `catch_unwind`: `Err` if it panicked.
struct CatchUnwind<F: ?Sized>(Pin<Box<F>>);

impl<F: Future + ?Sized> Future for CatchUnwind<F> {
    type Output = std::thread::Result<F::Output>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let fut = self.0.as_mut();
        match catch_unwind(AssertUnwindSafe(|| fut.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
            Err(panic) => Poll::Ready(Err(panic)),
        }
    }
}

fn is_injected(panic: &(dyn std::any::Any + Send)) -> bool {
    panic
        .downcast_ref::<String>()
        .is_some_and(|s| s.starts_with(PANIC_MSG))
}

/// Waits for `live` to reach zero; fails the test after `secs` (a child outlived its group).
async fn all_gone(live: &Liveness, what: &str) {
    let start = Instant::now();
    while live.alive() > 0 {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{what}: {} children still alive 20 s after their group was cancelled",
            live.alive()
        );
        magpie::time::sleep(Duration::from_millis(1)).await;
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Child {
    Ok,
    ErrAt(u64),
    PanicAt(u64),
    /// Runs until cancelled.
    Forever,
    /// Runs a group of its own.
    Nested,
}

async fn steps(rng: &mut Rng, n: u64, fail: Option<Child>, id: u64) -> Result<u64, u64> {
    for step in 0..n {
        match fail {
            Some(Child::ErrAt(s)) if s == step => return Err(id),
            Some(Child::PanicAt(s)) if s == step => panic!("{PANIC_MSG} in child {id}"),
            _ => {}
        }
        if rng.chance(10) {
            magpie::time::sleep(rng.micros(1500)).await;
        } else {
            magpie::yield_now().await;
        }
    }
    Ok(id)
}

#[derive(Clone, Default)]
struct Figures {
    groups: Count,
    children: Count,
    errs: Count,
    panics: Count,
    nested: Count,
    outer_aborted: Count,
    outer_timed_out: Count,
    joined_ok: Count,
}

fn pick_child(rng: &mut Rng, failing: bool, depth: u32) -> Child {
    match rng.below(100) {
        0..=9 if failing => Child::ErrAt(rng.below(4)),
        10..=14 if failing => Child::PanicAt(rng.below(4)),
        15..=29 if failing => Child::Forever,
        30..=39 if depth == 0 => Child::Nested,
        _ => Child::Ok,
    }
}

/// Spawns a group's children, counting in `planned` those set to fail (nested ones too).
fn spawn_children(
    tg: &TaskGroup<u64>,
    rng: &mut Rng,
    live: &Liveness,
    figs: &Figures,
    planned: &Count,
    depth: u32,
) {
    let failing = rng.chance(50);
    let k = 1 + rng.below(if depth == 0 { 12 } else { 4 });
    let mut failures = 0;
    let mut forever = false;
    for id in 0..=k {
        let kind = if id < k {
            pick_child(rng, failing, depth)
        } else if forever && failures == 0 {
            // Someone must fail, or the children that run for ever would hang `join`.
            Child::ErrAt(rng.below(4))
        } else {
            break;
        };
        forever |= kind == Child::Forever;
        if matches!(kind, Child::ErrAt(_) | Child::PanicAt(_)) {
            failures += 1;
            planned.inc();
        }
        figs.children.inc();
        let guard: LiveGuard = live.guard();
        let (mut rng, live, figs, planned) =
            (rng.fork(), live.clone(), figs.clone(), planned.clone());
        tg.spawn(async move {
            let _alive = guard;
            match kind {
                Child::Forever => loop {
                    let _ = steps(&mut rng, 4, None, id).await;
                },
                Child::Nested => {
                    figs.nested.inc();
                    let inner = TaskGroup::<u64>::new();
                    spawn_children(&inner, &mut rng, &live, &figs, &planned, depth + 1);
                    // An inner failure fails this child too (a panic is resumed by join).
                    inner.join().await.map_err(|e| e.errors()[0])?;
                    Ok(id)
                }
                _ => {
                    let n = 1 + rng.below(5);
                    steps(&mut rng, n.max(4), Some(kind), id).await
                }
            }
        });
    }
}

#[derive(Clone, Copy, Debug)]
enum Outer {
    Join,
    Abort(u64),
    Timeout(Duration),
}

async fn one_group(mut rng: Rng, figs: Figures) {
    figs.groups.inc();
    let live = Liveness::new();
    let outer = match rng.below(10) {
        0..=5 => Outer::Join,
        6..=7 => Outer::Abort(rng.below(8)),
        _ => Outer::Timeout(rng.micros(3000)),
    };
    let joiner = {
        let (live, figs) = (live.clone(), figs.clone());
        let mut rng = rng.fork();
        async move {
            let tg = TaskGroup::<u64>::new();
            let planned = Count::default();
            spawn_children(&tg, &mut rng, &live, &figs, &planned, 0);
            let result = CatchUnwind(Box::pin(tg.join())).await;
            // The contract: nothing of the group is alive once join is back.
            assert_eq!(live.alive(), 0, "children alive after join returned");
            if planned.get() == 0 {
                assert!(matches!(result, Ok(Ok(()))), "no child was set to fail");
            }
            match result {
                Ok(Ok(())) => figs.joined_ok.inc(),
                Ok(Err(e)) => {
                    assert!(!e.errors().is_empty());
                    figs.errs.add(e.errors().len());
                }
                Err(panic) => {
                    assert!(is_injected(&*panic), "an unexpected panic came out of join");
                    figs.panics.inc();
                }
            }
        }
    };
    match outer {
        Outer::Join => joiner.await,
        Outer::Abort(delay) => {
            let h = magpie::spawn(joiner);
            for _ in 0..delay {
                magpie::yield_now().await;
            }
            h.abort();
            if let Err(e) = h.await {
                assert!(e.is_cancelled(), "the joiner failed: {e:?}");
                figs.outer_aborted.inc();
            }
            all_gone(&live, "aborted joiner").await;
        }
        Outer::Timeout(d) => {
            if magpie::time::timeout(d, joiner).await.is_err() {
                figs.outer_timed_out.inc();
            }
            all_gone(&live, "timed-out joiner").await;
        }
    }
}

#[test]
fn task_groups_leave_no_child_behind() {
    quiet_injected_panics();
    let seed = stress::seed("task_groups_leave_no_child_behind");
    let groups = scaled(20_000, 200);
    let line = run_case("task_groups", stress::deadline_secs(90), move || {
        let start = Instant::now();
        let rt = magpie::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        let figs = Figures::default();
        let mut rng = Rng::new(seed);
        let mut left = groups;
        while left > 0 {
            let wave = left.min(64);
            left -= wave;
            let handles: Vec<_> = (0..wave)
                .map(|_| rt.spawn(one_group(rng.fork(), figs.clone())))
                .collect();
            rt.block_on(async {
                for h in handles {
                    h.await.unwrap();
                }
            });
        }
        drop(rt);
        format!(
            "task_groups_leave_no_child_behind: {} groups, {} children ({} running nested \
             groups): {} joined Ok, {} Errs reported, {} panics resumed, {} joiners aborted, \
             {} timed out; no child alive after any of them; {:.2?}",
            figs.groups.get(),
            figs.children.get(),
            figs.nested.get(),
            figs.joined_ok.get(),
            figs.errs.get(),
            figs.panics.get(),
            figs.outer_aborted.get(),
            figs.outer_timed_out.get(),
            start.elapsed()
        )
    });
    println!("{line}");
}

async fn one_gather(mut rng: Rng, figs: Figures, try_: bool) {
    figs.groups.inc();
    let live = Liveness::new();
    let failing = rng.chance(50);
    let k = 1 + rng.below(12);
    let kinds: Vec<Child> = (0..k)
        .map(|_| match pick_child(&mut rng, failing, 1) {
            Child::ErrAt(s) if !try_ => Child::PanicAt(s),
            c => c,
        })
        .collect();
    let children: Vec<_> = kinds
        .iter()
        .enumerate()
        .map(|(id, &kind)| {
            figs.children.inc();
            let guard = live.guard();
            let mut rng = rng.fork();
            async move {
                let _alive = guard;
                match kind {
                    Child::Forever => loop {
                        let _ = steps(&mut rng, 4, None, id as u64).await;
                    },
                    _ => steps(&mut rng, 4, Some(kind), id as u64).await,
                }
            }
        })
        .collect();
    let planned_fail = kinds
        .iter()
        .any(|k| matches!(k, Child::ErrAt(_) | Child::PanicAt(_)));
    let has_forever = kinds.contains(&Child::Forever);
    let fut: Pin<Box<dyn Future<Output = Result<Vec<u64>, u64>> + Send>> = if try_ {
        Box::pin(magpie::try_gather(children))
    } else {
        // gather's outputs are the children's Results (never Err here: no Err planned).
        Box::pin(async move {
            let v = magpie::gather(children).await;
            Ok(v.into_iter().map(|r| r.unwrap()).collect())
        })
    };
    let outer_cancel = rng.chance(25);
    let bounded = outer_cancel || (has_forever && !planned_fail);
    let result = if bounded {
        // Forever children without a failure never finish: cancel from outside.
        match magpie::time::timeout(rng.micros(3000), CatchUnwind(fut)).await {
            Ok(r) => Some(r),
            Err(_) => {
                figs.outer_timed_out.inc();
                None
            }
        }
    } else {
        Some(CatchUnwind(fut).await)
    };
    match result {
        None => {}
        Some(Ok(Ok(v))) => {
            assert!(!planned_fail || v.len() == k as usize);
            assert_eq!(v, (0..k).collect::<Vec<_>>(), "outputs out of order");
            figs.joined_ok.inc();
        }
        Some(Ok(Err(id))) => {
            assert!(
                matches!(kinds[id as usize], Child::ErrAt(_)),
                "Err from child {id}"
            );
            figs.errs.inc();
        }
        Some(Err(panic)) => {
            assert!(is_injected(&*panic));
            figs.panics.inc();
        }
    }
    all_gone(&live, if try_ { "try_gather" } else { "gather" }).await;
}

#[test]
fn gathers_leave_no_child_behind() {
    quiet_injected_panics();
    let seed = stress::seed("gathers_leave_no_child_behind");
    let rounds = scaled(20_000, 200);
    let line = run_case("gathers", stress::deadline_secs(90), move || {
        let start = Instant::now();
        let rt = magpie::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        let figs = Figures::default();
        let mut rng = Rng::new(seed);
        let mut left = rounds;
        let mut i = 0;
        while left > 0 {
            let wave = left.min(64);
            left -= wave;
            let handles: Vec<_> = (0..wave)
                .map(|_| {
                    i += 1;
                    rt.spawn(one_gather(rng.fork(), figs.clone(), i % 2 == 0))
                })
                .collect();
            rt.block_on(async {
                for h in handles {
                    h.await.unwrap();
                }
            });
        }
        drop(rt);
        format!(
            "gathers_leave_no_child_behind: {} gathers/try_gathers, {} children: {} Ok in \
             input order, {} Errs, {} panics resumed, {} cancelled from outside; every child \
             gone after each; {:.2?}",
            figs.groups.get(),
            figs.children.get(),
            figs.joined_ok.get(),
            figs.errs.get(),
            figs.panics.get(),
            figs.outer_timed_out.get(),
            start.elapsed()
        )
    });
    println!("{line}");
}
