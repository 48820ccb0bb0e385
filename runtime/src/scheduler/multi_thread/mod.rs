//! The multi-thread, work-stealing scheduler.
//!
//! Each worker owns a FIFO queue (crossbeam-deque `Worker`) and a LIFO slot for the task it
//! most recently woke or spawned; a global injector takes spawns and wakes from outside.
//! The run order and the search for work are in [`worker`], the sleeper bookkeeping in
//! [`idle`] (IDLE rules), the parking and driver hand-off policy in [`park`] (PARK rules);
//! `docs/architecture.md` indexes the rules and argues that no wake-up is lost.

pub(crate) mod block_in_place;
mod idle;
mod park;
pub(crate) mod queue;
pub(crate) mod worker;

use std::time::{Duration, Instant};

use crossbeam_utils::CachePadded;

use crate::config::Config;
use crate::loom::{thread, Arc, Condvar, Mutex, Parker, Unparker};
use crate::metrics::{RuntimeMetrics, WorkerCounters};
use crate::scheduler::{Scheduler, Services, Stop};
use crate::task::Runnable;

use idle::Idle;
use queue::{Injector, Stealer};

pub(crate) use idle::MAX_WORKERS;

/// What a worker exposes to the others.
struct Remote {
    stealer: Stealer,
    unparker: Unparker,
}

/// State shared by every worker of one multi-thread runtime.
pub(crate) struct Shared {
    remotes: Box<[Remote]>,
    injector: Injector,
    idle: Idle,
    counters: Box<[CachePadded<WorkerCounters>]>,
    /// Workers still running their loop; shutdown waits on it.
    alive: Mutex<usize>,
    all_exited: Condvar,
    /// Registry, closed flag, driver (workers park in it), blocking pool, settings.
    pub(crate) services: Services,
}

impl Shared {
    pub(crate) fn is_closed(&self) -> bool {
        self.services.is_closed()
    }

    /// Queues a task from outside this runtime's workers.
    fn schedule_remote(&self, task: Runnable) {
        // SHUT-7; the fence in `push_remote` is also IDLE-3's, pairing with IDLE-5's re-check.
        let queued = self.services.push_remote(
            task,
            |task| self.injector.push(task),
            || self.drain_injector(),
        );
        if queued {
            self.notify_parked(false);
        }
    }

    fn drain_injector(&self) {
        while let Some(task) = self.injector.pop() {
            crate::task::drop_closed(task); // rule TASK-3
        }
    }

    pub(crate) fn metrics(&self) -> RuntimeMetrics {
        RuntimeMetrics {
            workers: self
                .counters
                .iter()
                .zip(self.remotes.iter())
                .map(|(c, r)| c.snapshot(r.stealer.len()))
                .collect(),
            injector_depth: self.injector.len(),
            live_tasks: self.services.owned.len(),
        }
    }
}

/// Queues a woken or spawned task of a multi-thread runtime.
pub(crate) fn schedule(task: Runnable, is_yield: bool) {
    let Scheduler::MultiThread(shared) = &task.metadata().scheduler else {
        unreachable!("multi_thread::schedule called for another scheduler's task")
    };
    let target: *const Shared = Arc::as_ptr(shared);
    let task = match worker::try_schedule_local(target, task, is_yield) {
        Ok(()) => return,
        Err(task) => task,
    };
    // From outside: hold our own reference, because once pushed, the task may run, finish
    // and free its header (and with it the reference we read `shared` from) at once.
    let Scheduler::MultiThread(shared) = &task.metadata().scheduler else {
        unreachable!()
    };
    let shared = shared.clone();
    shared.schedule_remote(task);
}

/// A started multi-thread runtime: its shared state and its threads.
pub(crate) struct Runtime {
    pub(crate) shared: Arc<Shared>,
    threads: Mutex<Vec<thread::JoinHandle<()>>>,
}

impl Runtime {
    pub(crate) fn start(config: Config) -> std::io::Result<Runtime> {
        let n = config.worker_threads;
        let mut locals = Vec::with_capacity(n);
        let mut remotes = Vec::with_capacity(n);
        for _ in 0..n {
            let (local, stealer) = queue::local();
            let parker = Parker::new();
            remotes.push(Remote {
                stealer,
                unparker: parker.unparker().clone(),
            });
            locals.push((local, parker));
        }
        let services = Services::new(config, 4 * n, n)?;
        let shared = Arc::new(Shared {
            remotes: remotes.into_boxed_slice(),
            injector: Injector::new(),
            idle: Idle::new(n),
            counters: (0..n)
                .map(|_| CachePadded::new(WorkerCounters::default()))
                .collect(),
            alive: Mutex::new(n),
            all_exited: Condvar::new(),
            services,
        });
        let runtime = Runtime {
            shared: shared.clone(),
            threads: Mutex::new(Vec::with_capacity(n)),
        };
        for (index, (local, parker)) in locals.into_iter().enumerate() {
            let shared = shared.clone();
            let config = &shared.services.config;
            let mut builder = thread::Builder::new().name(config.thread_name.clone());
            if let Some(size) = config.thread_stack_size {
                builder = builder.stack_size(size);
            }
            let spawned =
                builder.spawn(move || worker::Worker::new(shared, index, local, parker).run());
            match spawned {
                Ok(handle) => runtime.threads.lock().unwrap().push(handle),
                Err(e) => {
                    // The workers that did start see `closed` and exit; nobody waits for
                    // the ones that never started.
                    *runtime.shared.alive.lock().unwrap() -= n - index;
                    runtime.shutdown(None);
                    return Err(e);
                }
            }
        }
        Ok(runtime)
    }

    /// Closes the runtime, stops and joins its workers (up to `timeout`), then drops every
    /// task that is left (the steps of `scheduler::services`). Idempotent.
    pub(crate) fn shutdown(&self, timeout: Option<Duration>) {
        self.shared.services.shutdown(timeout, self);
    }
}

impl Stop for Runtime {
    fn unpark_all(&self) {
        for remote in self.shared.remotes.iter() {
            remote.unparker.unpark();
        }
    }

    fn stop_threads(&self, deadline: Option<Instant>) {
        let shared = &*self.shared;
        // Wait for the workers to leave their loops (each drains its own queues on the way).
        // A runtime dropped by one of its own tasks cannot wait for its own worker: that one
        // leaves its loop once this task returns.
        let own = usize::from(worker::is_worker_of(shared));
        let mut alive = shared.alive.lock().unwrap();
        while *alive > own {
            match deadline {
                None => alive = shared.all_exited.wait(alive).unwrap(),
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        break;
                    }
                    alive = wait_timeout(&shared.all_exited, alive, deadline - now);
                }
            }
        }
        let all_exited = *alive == own;
        drop(alive);
        let threads = std::mem::take(&mut *self.threads.lock().unwrap());
        if all_exited {
            let me = thread::current().id();
            for t in threads {
                // A runtime dropped from one of its own tasks cannot join its own thread.
                if t.thread().id() != me {
                    let _ = t.join();
                }
            }
        }
        // Otherwise the stragglers are detached: they exit when their task returns.
    }

    fn drain_queues(&self) {
        self.shared.drain_injector();
    }
}

#[cfg(not(loom))]
fn wait_timeout<'a, T>(
    cvar: &Condvar,
    guard: crate::loom::MutexGuard<'a, T>,
    dur: Duration,
) -> crate::loom::MutexGuard<'a, T> {
    cvar.wait_timeout(guard, dur).unwrap().0
}

#[cfg(loom)]
fn wait_timeout<'a, T>(
    cvar: &Condvar,
    guard: crate::loom::MutexGuard<'a, T>,
    _dur: Duration,
) -> crate::loom::MutexGuard<'a, T> {
    // loom has no time; a timed wait is an untimed one.
    cvar.wait(guard).unwrap()
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MultiThread")
            .field("workers", &self.remotes.len())
            .field("idle", &self.idle)
            .field("closed", &self.is_closed())
            .finish_non_exhaustive()
    }
}
