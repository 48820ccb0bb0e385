//! The task API beyond spawn/join: what an abort reports when the future's drop panics,
//! `AbortHandle`, `task::unconstrained`, `task::id` / `task::try_id`.
use crate::support;

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use support::{flavors, Signal};

/// Pending forever; its drop panics with `message`.
struct PanicsOnDrop {
    message: &'static str,
    started: Signal,
}

impl Future for PanicsOnDrop {
    type Output = ();
    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        self.started.set();
        Poll::Pending
    }
}

impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        panic!("{}", self.message);
    }
}

#[test]
fn abort_of_a_task_whose_drop_panics_reports_the_panic_not_cancelled() {
    for (name, rt) in flavors() {
        let handle = rt.handle().clone();
        let err = rt.block_on(async move {
            let started = Signal::new();
            let h = handle.spawn(PanicsOnDrop {
                message: "drop panicked",
                started: started.clone(),
            });
            // Aborted while parked, after its first poll: the abort path drops the future.
            started.wait().await;
            h.abort();
            h.await.unwrap_err()
        });
        assert!(err.is_panic(), "{name}: {err:?}");
        assert!(!err.is_cancelled(), "{name}");
        let payload = err.into_panic();
        assert_eq!(
            payload.downcast_ref::<String>().map(String::as_str),
            Some("drop panicked"),
            "{name}: the drop's own payload"
        );
    }
}

#[test]
fn abort_before_first_poll_of_a_task_whose_drop_panics_reports_the_panic() {
    // Current-thread: the task is certainly not polled before the abort.
    let rt = magpie::Builder::new_current_thread().build().unwrap();
    let err = rt.block_on(async {
        let h = magpie::spawn(PanicsOnDrop {
            message: "never polled",
            started: Signal::new(),
        });
        h.abort();
        h.await.unwrap_err()
    });
    assert!(err.is_panic(), "{err:?}");
}

#[test]
fn abort_of_a_task_whose_drop_is_quiet_still_reports_cancelled() {
    for (name, rt) in flavors() {
        let err = rt.block_on(async {
            let h = magpie::spawn(std::future::pending::<()>());
            magpie::yield_now().await;
            h.abort();
            h.await.unwrap_err()
        });
        assert!(err.is_cancelled() && !err.is_panic(), "{name}");
    }
}

#[test]
fn abort_handle_aborts_from_another_thread() {
    for (name, rt) in flavors() {
        rt.block_on(async {
            let drops = support::DropCounter::default();
            let tracked = drops.track();
            let h = magpie::spawn(async move {
                let _t = tracked;
                std::future::pending::<()>().await
            });
            let abort: magpie::task::AbortHandle = h.abort_handle();
            let copy = abort.clone();
            assert_eq!(abort.id(), h.id(), "{name}");
            assert!(!abort.is_finished(), "{name}");
            std::thread::spawn(move || copy.abort()).join().unwrap();
            let err = h.await.unwrap_err();
            assert!(err.is_cancelled(), "{name}");
            assert!(abort.is_finished(), "{name}");
            assert_eq!(drops.count(), 1, "{name}: the future was dropped once");
            abort.abort(); // after the end: harmless
        });
    }
}

#[test]
fn abort_handle_of_a_finished_task_keeps_its_result() {
    for (name, rt) in flavors() {
        rt.block_on(async {
            let mut h = magpie::spawn(async { 7 });
            std::future::poll_fn(|cx| h.poll_finished(cx)).await;
            let abort = h.abort_handle();
            assert!(abort.is_finished(), "{name}");
            abort.abort();
            assert_eq!(
                h.await.unwrap(),
                7,
                "{name}: aborting a finished task changes nothing"
            );
        });
    }
}

/// Counts the polls of the future it wraps.
struct CountPolls<F> {
    polls: usize,
    inner: Pin<Box<F>>,
}

impl<F: Future> Future for CountPolls<F> {
    type Output = usize;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<usize> {
        self.polls += 1;
        match self.inner.as_mut().poll(cx) {
            Poll::Ready(_) => Poll::Ready(self.polls),
            Poll::Pending => Poll::Pending,
        }
    }
}

async fn spend_budget(units: usize) {
    for _ in 0..units {
        magpie::task::consume_budget().await;
    }
}

#[test]
fn unconstrained_loop_is_not_forced_to_yield() {
    for (name, rt) in flavors() {
        rt.block_on(async {
            // The control: the same loop under the budget (128 units a poll) is made to
            // yield several times.
            let budgeted = magpie::spawn(CountPolls {
                polls: 0,
                inner: Box::pin(spend_budget(1_000)),
            });
            let polls = budgeted.await.unwrap();
            assert!(
                polls >= 1_000 / 128,
                "{name}: budgeted loop polled {polls} times"
            );
            // Unconstrained: one poll does it all.
            let free = magpie::spawn(CountPolls {
                polls: 0,
                inner: Box::pin(magpie::task::unconstrained(spend_budget(1_000))),
            });
            assert_eq!(free.await.unwrap(), 1, "{name}: unconstrained loop yielded");
            // The budget comes back after the unconstrained part.
            let after = magpie::spawn(CountPolls {
                polls: 0,
                inner: Box::pin(async {
                    magpie::task::unconstrained(spend_budget(1_000)).await;
                    spend_budget(1_000).await;
                }),
            });
            assert!(after.await.unwrap() > 1, "{name}: the budget is restored");
        });
    }
}

#[test]
fn task_id_inside_two_tasks_differs_and_equals_their_handles_id() {
    for (name, rt) in flavors() {
        rt.block_on(async {
            let a = magpie::spawn(async { magpie::task::id() });
            let b = magpie::spawn(async {
                magpie::yield_now().await; // still known after a yield
                magpie::task::try_id()
            });
            let (ida, idb) = (a.id(), b.id());
            let got_a = a.await.unwrap();
            let got_b = b.await.unwrap();
            assert_eq!(got_a, ida, "{name}");
            assert_eq!(got_b, Some(idb), "{name}");
            assert_ne!(got_a, idb, "{name}");
        });
    }
}

#[test]
fn task_id_is_known_while_the_future_is_dropped_by_an_abort() {
    struct RecordOnDrop(std::sync::Arc<std::sync::Mutex<Option<Option<magpie::task::TaskId>>>>);
    impl Drop for RecordOnDrop {
        fn drop(&mut self) {
            *self.0.lock().unwrap() = Some(magpie::task::try_id());
        }
    }
    for (name, rt) in flavors() {
        let seen = std::sync::Arc::new(std::sync::Mutex::new(None));
        let id = rt.block_on({
            let seen = seen.clone();
            async move {
                let started = Signal::new();
                let h = magpie::spawn({
                    let started = started.clone();
                    async move {
                        let _r = RecordOnDrop(seen);
                        started.set();
                        std::future::pending::<()>().await
                    }
                });
                started.wait().await;
                h.abort();
                let id = h.id();
                assert!(h.await.unwrap_err().is_cancelled());
                id
            }
        });
        assert_eq!(*seen.lock().unwrap(), Some(Some(id)), "{name}");
    }
}

#[test]
fn try_id_outside_a_task_is_none() {
    assert_eq!(magpie::task::try_id(), None);
    let rt = magpie::Builder::new_current_thread().build().unwrap();
    // block_on's own future is not a task.
    assert_eq!(rt.block_on(async { magpie::task::try_id() }), None);
    // Nor is a thread that just ran one.
    rt.block_on(async { magpie::spawn(async {}).await.unwrap() });
    assert_eq!(magpie::task::try_id(), None);
}

#[test]
#[should_panic(expected = "task::id() called outside a task")]
fn id_outside_a_task_panics_with_a_hint() {
    let _ = magpie::task::id();
}
