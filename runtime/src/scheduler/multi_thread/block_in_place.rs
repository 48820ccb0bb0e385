//! `block_in_place`: running blocking code on a worker without starving its queue.
//!
//! Rule BIP-1: while a task on a worker runs `block_in_place(f)`, that worker owns no
//! queued task. On entry its LIFO slot and its local queue are moved to the injector (each
//! push racing shutdown by SHUT-7, and announced to the sleepers like any push from
//! outside, IDLE-3), and its `in_block_in_place` flag sends every task woken or spawned
//! from this thread meanwhile through the injector too (`try_schedule_local` refuses). So
//! the other workers run what was queued behind the blocking task. On exit (also by
//! unwinding) the flag is cleared and the worker resumes with whatever it finds.
//!
//! tokio instead hands the whole worker core to a new thread; here the queue goes to the
//! other workers, so the runtime runs with one worker fewer while `f` blocks (on a
//! one-worker runtime, queued tasks wait for `f`; use `spawn_blocking` there).

use super::worker::{self, Worker};

/// Runs `f` on this worker after handing its queued tasks to the others (rule BIP-1).
/// Returns `Err(f)` if this thread is not a multi-thread worker.
pub(crate) fn on_worker<F: FnOnce() -> R, R>(f: F) -> Result<R, F> {
    let entered = worker::with_current(|w| w.map(enter));
    match entered {
        None => Err(f),
        Some(None) => Ok(f()), // nested: the queue is handed off already
        Some(Some(guard)) => {
            let out = f();
            drop(guard);
            Ok(out)
        }
    }
}

/// Clears the flag when `f` returns or unwinds.
struct Exit;

impl Drop for Exit {
    fn drop(&mut self) {
        worker::with_current(|w| {
            if let Some(w) = w {
                w.in_block_in_place.set(false);
            }
        });
    }
}

/// BIP-1's entry; `None` if the worker is inside `block_in_place` already.
fn enter(w: &Worker) -> Option<Exit> {
    if w.in_block_in_place.replace(true) {
        return None;
    }
    crate::trace::event!(target: "magpie::scheduler", worker = w.index, "block_in_place");
    while let Some(task) = w.lifo.take().or_else(|| w.local.pop()) {
        w.shared.schedule_remote(task);
    }
    Some(Exit)
}
