//! The blocking pool's threads and queue.
//!
//! Counting rules (all under `state`'s lock):
//! - BLOCK-1: `threads` counts pool threads that have been started and not yet exited;
//! - BLOCK-2: `idle` counts threads waiting for work that nobody has claimed yet: a
//!   spawner that hands work to an idle thread decrements `idle` and increments
//!   `notified`, and the thread that wakes and finds `notified > 0` takes that token
//!   (whichever thread it is); a thread that times out with no token left leaves,
//!   decrementing `idle` itself;
//! - BLOCK-3: after `shutdown` nothing is queued again, and the last thread to exit
//!   signals `exited`;
//! - BLOCK-4: a shutdown run from one of the pool's own threads (a runtime dropped inside
//!   `spawn_blocking`) does not wait for that thread (`CURRENT_POOL`).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use std::cell::Cell;

use crate::context::RuntimeEntered;
use crate::loom::{thread, thread_local_const, Arc, Condvar, Mutex, MutexGuard};
use crate::scheduler::Scheduler;
use crate::task::Runnable;

thread_local_const! {
    /// The pool this thread belongs to (null on other threads): a shutdown run from one of
    /// the pool's own threads (a runtime dropped inside `spawn_blocking`) must not wait for
    /// that thread.
    static CURRENT_POOL: Cell<*const Inner> = Cell::new(std::ptr::null());
}

/// One runtime's blocking pool.
pub(crate) struct Pool {
    inner: Arc<Inner>,
}

struct Inner {
    state: Mutex<State>,
    work: Condvar,
    exited: Condvar,
    max_threads: usize,
    keep_alive: Duration,
    thread_name: String,
    stack_size: Option<usize>,
}

#[derive(Default)]
struct State {
    queue: VecDeque<Runnable>,
    threads: usize,
    idle: usize,
    notified: usize,
    shutdown: bool,
}

impl Pool {
    pub(crate) fn new(
        max_threads: usize,
        keep_alive: Duration,
        thread_name: String,
        stack_size: Option<usize>,
    ) -> Pool {
        Pool {
            inner: Arc::new(Inner {
                state: Mutex::new(State::default()),
                work: Condvar::new(),
                exited: Condvar::new(),
                max_threads,
                keep_alive,
                thread_name,
                stack_size,
            }),
        }
    }

    /// Queues a blocking task; starts a thread for it if none is idle and the pool may grow.
    pub(crate) fn spawn(&self, task: Runnable, scheduler: &Scheduler) {
        let inner = &self.inner;
        let mut state = inner.state.lock().unwrap();
        if state.shutdown {
            drop(state);
            crate::task::drop_closed(task); // cancelled (TASK-3): its JoinHandle reports it
            return;
        }
        state.queue.push_back(task);
        if state.idle > 0 {
            state.idle -= 1;
            state.notified += 1;
            inner.work.notify_one();
            return;
        }
        if state.threads >= inner.max_threads {
            return; // a busy thread takes it when it finishes
        }
        state.threads += 1;
        drop(state);
        let scheduler = scheduler.clone();
        let worker = inner.clone();
        let mut builder = thread::Builder::new().name(inner.thread_name.clone());
        if let Some(size) = inner.stack_size {
            builder = builder.stack_size(size);
        }
        if builder.spawn(move || worker.run(scheduler)).is_err() {
            let mut state = inner.state.lock().unwrap();
            state.threads -= 1;
            // With no thread at all, nothing would ever run the queue: cancel it.
            let orphans = if state.threads == 0 {
                std::mem::take(&mut state.queue)
            } else {
                VecDeque::new()
            };
            drop(state);
            orphans.into_iter().for_each(crate::task::drop_closed); // TASK-3
        }
    }

    /// Whether a closure is queued or running (or a thread is between the two): the
    /// stall watchdog reports nothing then, as a blocking closure may wake any task
    /// (`crate::diag::watchdog`, WD-3). Takes the pool's lock.
    #[cfg_attr(loom, allow(dead_code))]
    pub(crate) fn is_busy(&self) -> bool {
        let state = self.inner.state.lock().unwrap();
        !state.queue.is_empty() || state.threads > state.idle || state.notified > 0
    }

    /// Threads currently started.
    #[allow(dead_code)]
    pub(crate) fn threads(&self) -> usize {
        self.inner.state.lock().unwrap().threads
    }

    /// Cancels the closures not yet started and waits for the running ones, up to
    /// `timeout` (for ever with `None`). Idempotent.
    pub(crate) fn shutdown(&self, timeout: Option<Duration>) {
        let inner = &self.inner;
        let mut state = inner.state.lock().unwrap();
        state.shutdown = true;
        let cancelled = std::mem::take(&mut state.queue);
        inner.work.notify_all();
        drop(state);
        cancelled.into_iter().for_each(crate::task::drop_closed); // TASK-3
        let deadline = timeout.map(|t| Instant::now() + t);
        let own = usize::from(CURRENT_POOL.with(|p| std::ptr::eq(p.get(), Arc::as_ptr(inner))));
        let mut state = inner.state.lock().unwrap();
        while state.threads > own {
            match deadline {
                None => state = inner.exited.wait(state).unwrap(),
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        break; // the stragglers are detached; they exit when done
                    }
                    state = wait_timeout(&inner.exited, state, deadline - now).0;
                }
            }
        }
    }
}

impl Inner {
    fn run(&self, scheduler: Scheduler) {
        CURRENT_POOL.with(|p| p.set(self));
        let _entered = RuntimeEntered::enter(scheduler);
        let mut state = self.state.lock().unwrap();
        'main: loop {
            while let Some(task) = state.queue.pop_front() {
                drop(state);
                // A panic inside the closure is caught by the task boundary (TaskFuture).
                task.run();
                state = self.state.lock().unwrap();
            }
            if state.shutdown {
                break;
            }
            state.idle += 1;
            loop {
                let (guard, timed_out) = wait_timeout(&self.work, state, self.keep_alive);
                state = guard;
                if state.notified > 0 {
                    state.notified -= 1;
                    continue 'main;
                }
                if state.shutdown || timed_out {
                    state.idle -= 1;
                    break 'main;
                }
                // Spurious: still counted idle, wait again.
            }
        }
        // Work queued before shutdown but after our last look still has its runner:
        // shutdown drained the queue, and `spawn` refuses work once shut down.
        state.threads -= 1;
        // Every exit, not just the last: a shutdown run from a pool thread waits for all
        // but one.
        self.exited.notify_all();
    }
}

#[cfg(not(loom))]
fn wait_timeout<'a, T>(
    cvar: &Condvar,
    guard: MutexGuard<'a, T>,
    dur: Duration,
) -> (MutexGuard<'a, T>, bool) {
    let (guard, result) = cvar.wait_timeout(guard, dur).unwrap();
    (guard, result.timed_out())
}

#[cfg(loom)]
fn wait_timeout<'a, T>(
    cvar: &Condvar,
    guard: MutexGuard<'a, T>,
    _dur: Duration,
) -> (MutexGuard<'a, T>, bool) {
    // loom has no time; a timed wait is an untimed one.
    (cvar.wait(guard).unwrap(), false)
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockingPool")
            .field("max_threads", &self.inner.max_threads)
            .finish_non_exhaustive()
    }
}
