//! The two schedulers behind one handle type.
//!
//! A task's [`Header`](crate::task::Header) names its scheduler; async-task calls
//! [`Scheduler::schedule`] (a plain function, so the schedule closure is zero-sized) whenever
//! the task is woken, and the scheduler queues the runnable: on the waking worker's own
//! queue when the wake comes from one of its workers, through the shared injector otherwise.

pub(crate) mod current_thread;
pub(crate) mod multi_thread;

use crate::blocking::Pool;
use crate::driver::Driver;
use crate::loom::Arc;
use crate::metrics::RuntimeMetrics;
use crate::task::{OwnedTasks, Runnable};

/// Which scheduler a task or handle belongs to.
#[derive(Clone)]
pub(crate) enum Scheduler {
    MultiThread(Arc<multi_thread::Shared>),
    CurrentThread(Arc<current_thread::Shared>),
}

impl Scheduler {
    /// async-task's schedule function for every magpie task.
    pub(crate) fn schedule(runnable: Runnable, info: async_task::ScheduleInfo) {
        match runnable.metadata().scheduler {
            Scheduler::MultiThread(_) => multi_thread::schedule(runnable, info.woken_while_running),
            Scheduler::CurrentThread(_) => {
                current_thread::schedule(runnable, info.woken_while_running)
            }
        }
    }

    /// Queues a freshly spawned task (never a yield).
    pub(crate) fn schedule_spawned(runnable: Runnable) {
        match runnable.metadata().scheduler {
            Scheduler::MultiThread(_) => multi_thread::schedule(runnable, false),
            Scheduler::CurrentThread(_) => current_thread::schedule(runnable, false),
        }
    }

    pub(crate) fn owned(&self) -> &OwnedTasks {
        match self {
            Scheduler::MultiThread(s) => &s.owned,
            Scheduler::CurrentThread(s) => &s.owned,
        }
    }

    /// The runtime's I/O and timer driver.
    pub(crate) fn driver(&self) -> &Arc<Driver> {
        match self {
            Scheduler::MultiThread(s) => &s.driver,
            Scheduler::CurrentThread(s) => &s.driver,
        }
    }

    /// The runtime's blocking pool.
    pub(crate) fn blocking(&self) -> &Pool {
        match self {
            Scheduler::MultiThread(s) => &s.blocking,
            Scheduler::CurrentThread(s) => &s.blocking,
        }
    }

    pub(crate) fn metrics(&self) -> RuntimeMetrics {
        match self {
            Scheduler::MultiThread(s) => s.metrics(),
            Scheduler::CurrentThread(s) => s.metrics(),
        }
    }
}

/// Drops every task still listed after a runtime's workers stopped: those in its queues
/// (`drain` empties them), and those parked forever, woken through their registry waker;
/// the wake finds the runtime closed and drops the runnable (ownership rule 3 of `task`).
pub(crate) fn drop_remaining_tasks(owned: &OwnedTasks, drain: impl Fn()) {
    drain();
    let mut left = owned.len();
    while left > 0 {
        for waker in owned.take_all() {
            waker.wake();
        }
        drain();
        let now = owned.len();
        if now >= left {
            // No progress: what is left is running on a worker that outlived the shutdown
            // timeout, or is being queued by another thread right now; each is dropped by
            // that thread, which finds the runtime closed.
            break;
        }
        left = now;
    }
}
