//! The task API beyond spawn/join: what an abort reports when the future's drop panics,
//! `AbortHandle`, `task::unconstrained`, `task::id` / `task::try_id`.
mod support;

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
