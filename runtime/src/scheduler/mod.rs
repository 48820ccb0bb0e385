//! The two schedulers behind one handle type.
//!
//! A task's [`Header`](crate::task::Header) names its scheduler; async-task calls
//! [`Scheduler::schedule`] (a plain function, so the schedule closure is zero-sized) whenever
//! the task is woken, and the scheduler queues the runnable: on the waking worker's own
//! queue when the wake comes from one of its workers, through the shared injector otherwise.
//!
//! What does not depend on the scheduler (registry, closed flag, driver, blocking pool,
//! settings) and the one shutdown sequence are in [`services`].

pub(crate) mod current_thread;
pub(crate) mod multi_thread;
mod services;

pub(crate) use services::{Services, Stop};

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
        runnable.metadata().diag.scheduled();
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

    /// The runtime's registry, driver, blocking pool and settings.
    pub(crate) fn services(&self) -> &Services {
        match self {
            Scheduler::MultiThread(s) => &s.services,
            Scheduler::CurrentThread(s) => &s.services,
        }
    }

    pub(crate) fn owned(&self) -> &OwnedTasks {
        &self.services().owned
    }

    /// The runtime's I/O and timer driver.
    pub(crate) fn driver(&self) -> &Arc<Driver> {
        &self.services().driver
    }

    /// The runtime's blocking pool.
    pub(crate) fn blocking(&self) -> &Pool {
        &self.services().blocking
    }

    pub(crate) fn metrics(&self) -> RuntimeMetrics {
        match self {
            Scheduler::MultiThread(s) => s.metrics(),
            Scheduler::CurrentThread(s) => s.metrics(),
        }
    }
}
