//! The current-thread scheduler: the same API, every task on the thread that calls
//! `block_on`.
//!
//! Tasks run only while some thread drives the scheduler inside `block_on` (as in tokio).
//! The *core* (the local run queue and the parker) is owned by whichever thread drives;
//! wakes from that thread push onto the core's queue without a lock, wakes from any other
//! thread go through the shared injector and unpark the core's parker. A second thread
//! calling `block_on` while the core is taken polls its own future on its own thread and
//! takes the core over when it is released.
//!
//! The driving thread parks in the I/O driver (waiting for I/O, the next timer, or a wake);
//! wakes from other threads unpark it with `Poller::notify()` when it is in there (rule
//! DRV-2, with owner id [`DRIVER_OWNER`]). While busy it polls the driver without
//! blocking after every `event_interval` tasks.
//!
//! Rule CT-1: `DRIVING` points at the `Driving` of this thread's current `block_on` exactly
//! while that `block_on` drives the core, and only this thread reads it.
//!
//! Rule CT-2: tasks woken by an expired timer, up to `TIMER_WAKES_FIRST` per driver poll
//! (rule DRV-5 in `driver/mod.rs`), go to the core's `soon` queue, which runs before the
//! local queue; every other wake goes to the back. So a timer is late by at most one
//! `event_interval` of other tasks, not by the whole backlog (a burst of a thousand ready
//! tasks used to delay a 1 ms interval by the time it took to run all of them), and the
//! backlog still gets `event_interval - TIMER_WAKES_FIRST` polls between two driver polls:
//! nothing starves. Timers keep their deadline order (`soon` is FIFO, filled in firing
//! order). The multi-thread scheduler has no such queue: another worker runs the timer's
//! task while one is busy.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::pin;
use std::ptr;
use std::sync::Arc as StdArc;
use std::task::{Context, Poll, Wake, Waker};

use magpie_sync::coop;

use crate::config::Config;
use crate::driver::Driver;
use crate::loom::{thread_local_const, Arc, Mutex, Parker, Unparker};
use crate::metrics::{RuntimeMetrics, WorkerCounters};
use crate::park::ThreadWaker;
use crate::scheduler::{Scheduler, Services, Stop};
use crate::task::Runnable;

/// What a driving thread owns.
pub(crate) struct Core {
    /// Tasks of expired timers, run before `local` (rule CT-2).
    soon: VecDeque<Runnable>,
    local: VecDeque<Runnable>,
    tick: u32,
    parker: Parker,
}

pub(crate) struct Shared {
    injector: Mutex<VecDeque<Runnable>>,
    /// `Some` while no thread drives.
    core: Mutex<Option<Box<Core>>>,
    /// Unparks the core's parker (whoever holds the core parks on it).
    unparker: Unparker,
    /// Threads waiting in `block_on` for the core.
    core_waiters: Mutex<Vec<Waker>>,
    counters: WorkerCounters,
    /// Registry, closed flag, driver (the driving thread parks in it), blocking pool,
    /// settings.
    pub(crate) services: Services,
}

/// The driving thread's id in the driver's `owner` (there is only ever one).
const DRIVER_OWNER: usize = 0;

struct Driving {
    shared: *const Shared,
    /// `Some` until the driving `block_on` hands the core back.
    core: RefCell<Option<Box<Core>>>,
}

thread_local_const! {
    static DRIVING: Cell<*const Driving> = Cell::new(ptr::null());
}

impl Shared {
    pub(crate) fn new(config: Config) -> std::io::Result<Arc<Shared>> {
        let parker = Parker::new();
        let unparker = parker.unparker().clone();
        let services = Services::new(config, 1, 0)?;
        Ok(Arc::new(Shared {
            injector: Mutex::new(VecDeque::new()),
            core: Mutex::new(Some(Box::new(Core {
                soon: VecDeque::new(),
                local: VecDeque::new(),
                tick: 0,
                parker,
            }))),
            unparker,
            core_waiters: Mutex::new(Vec::new()),
            counters: WorkerCounters::default(),
            services,
        }))
    }

    /// Wakes the driving thread wherever it parks (call after the work is visible).
    fn unpark(&self) {
        self.unparker.unpark();
        self.services.driver.unpark(DRIVER_OWNER);
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.services.is_closed()
    }

    fn schedule_remote(&self, task: Runnable) {
        // SHUT-7
        let queued = self.services.push_remote(
            task,
            |task| self.injector.lock().unwrap().push_back(task),
            || self.drain_injector(),
        );
        if queued {
            self.unpark();
        }
    }

    fn drain_injector(&self) {
        let tasks = std::mem::take(&mut *self.injector.lock().unwrap());
        tasks.into_iter().for_each(crate::task::drop_closed); // rule TASK-3
    }

    pub(crate) fn metrics(&self) -> RuntimeMetrics {
        let depth = self
            .core
            .lock()
            .unwrap()
            .as_ref()
            .map_or(0, |c| c.soon.len() + c.local.len());
        RuntimeMetrics {
            workers: vec![self.counters.snapshot(depth)],
            injector_depth: self.injector.lock().unwrap().len(),
            live_tasks: self.services.owned.len(),
        }
    }

    fn take_core(&self) -> Option<Box<Core>> {
        self.core.lock().unwrap().take()
    }

    fn release_core(&self, core: Box<Core>) {
        *self.core.lock().unwrap() = Some(core);
        for waker in std::mem::take(&mut *self.core_waiters.lock().unwrap()) {
            waker.wake();
        }
    }

    /// Runs `future` to completion on this thread, driving the scheduler when it can.
    pub(crate) fn block_on<F: Future>(&self, future: F) -> F::Output {
        let mut future = pin!(future);
        let thread_waker = ThreadWaker::current();
        loop {
            if let Some(core) = self.take_core() {
                return self.drive(core, future.as_mut());
            }
            // Another thread drives: poll our future here, and wait to be woken by it or
            // by the core's release.
            let waker = thread_waker.waker();
            self.core_waiters.lock().unwrap().push(waker.clone());
            let mut cx = Context::from_waker(&waker);
            let (poll, _) =
                coop::with_budget(coop::DEFAULT_BUDGET, || future.as_mut().poll(&mut cx));
            if let Poll::Ready(out) = poll {
                return out;
            }
            if let Some(core) = self.take_core() {
                return self.drive(core, future.as_mut());
            }
            thread_waker.park();
        }
    }

    fn drive<F: Future>(&self, core: Box<Core>, mut future: std::pin::Pin<&mut F>) -> F::Output {
        struct Release<'a> {
            shared: &'a Shared,
            driving: &'a Driving,
        }
        impl Drop for Release<'_> {
            fn drop(&mut self) {
                DRIVING.with(|d| d.set(ptr::null()));
                if let Some(core) = self.driving.core.borrow_mut().take() {
                    self.shared.release_core(core);
                }
            }
        }

        // Rule DIAG-5: the thread may have been away from the runtime for long.
        self.services.recent.refresh();
        let driving = Driving {
            shared: self,
            core: RefCell::new(Some(core)),
        };
        DRIVING.with(|d| d.set(&driving));
        let _release = Release {
            shared: self,
            driving: &driving,
        };

        let main = StdArc::new(MainWaker {
            woken: std::sync::atomic::AtomicBool::new(true),
            unparker: self.unparker.clone(),
            driver: self.services.driver.clone(),
        });
        let main_waker = Waker::from(main.clone());
        let mut cx = Context::from_waker(&main_waker);
        let event_interval = self.services.config.event_interval;
        let gqi = self.services.config.global_queue_interval;

        // Tasks run since the driver was last polled, across polls of the main future: a
        // main future woken more often than every `event_interval` tasks (it awaits the
        // tasks one by one) must not keep the driver, and so every timer, waiting until the
        // whole queue has run.
        let mut since_driver = 0;
        loop {
            if main.woken.swap(false, std::sync::atomic::Ordering::AcqRel) {
                let (poll, _) =
                    coop::with_budget(coop::DEFAULT_BUDGET, || future.as_mut().poll(&mut cx));
                if let Poll::Ready(out) = poll {
                    return out;
                }
            }
            let mut ran = 0;
            while since_driver < event_interval {
                let task = {
                    let mut core = driving.core.borrow_mut();
                    let core = core.as_mut().expect("the core is held while driving");
                    core.tick = core.tick.wrapping_add(1);
                    let from_injector_first = core.tick % gqi == 0;
                    // Rule CT-2: the tasks of expired timers first.
                    let mut task = core.soon.pop_front();
                    if task.is_none() && from_injector_first {
                        task = self.injector.lock().unwrap().pop_front();
                    }
                    if task.is_none() {
                        task = core.local.pop_front();
                    }
                    if task.is_none() {
                        // Move everything queued from outside onto the local queue at once.
                        let mut injected = std::mem::take(&mut *self.injector.lock().unwrap());
                        task = injected.pop_front();
                        core.local.append(&mut injected);
                        if task.is_some() {
                            self.counters.injector_pops.bump();
                        }
                    }
                    task
                };
                let Some(task) = task else { break };
                ran += 1;
                since_driver += 1;
                self.counters.polls.bump();
                let (_, forced) = coop::with_budget(coop::DEFAULT_BUDGET, || task.run());
                if forced {
                    self.counters.forced_yields.bump();
                    // A task that used its whole budget ran long: look at the driver before
                    // the next task, so a task that keeps finding work (an accept loop
                    // with a full backlog) cannot hold timers and I/O for
                    // `event_interval` budgets in a row (tokio defers such a task until
                    // after the driver's next poll, to the same effect).
                    since_driver = event_interval;
                }
                if main.woken.load(std::sync::atomic::Ordering::Acquire) {
                    break;
                }
            }
            if since_driver >= event_interval {
                // Busy: look at I/O and timers without blocking.
                self.services.poll_driver_now();
                since_driver = 0;
            } else if ran == 0 && !main.woken.load(std::sync::atomic::Ordering::SeqCst) {
                since_driver = 0; // parking polls the driver
                self.counters.parks.bump();
                crate::trace::event!(target: "magpie::scheduler", worker = 0, "park");
                // Rule DRV-2: the re-check runs after we are published as the owner;
                // a wake from anywhere (a task, the main future) then reaches us either
                // through the re-check or through `Poller::notify()`. Tasks the driver wakes
                // land on the core's local queue (the core is not borrowed while parked).
                let parked = self.services.driver.try_park(DRIVER_OWNER, || {
                    !main.woken.load(std::sync::atomic::Ordering::SeqCst)
                        && self.injector.lock().unwrap().is_empty()
                        && !self.is_closed()
                });
                if parked.is_none() {
                    // Someone else polls the driver (cannot happen while we hold the core,
                    // but parking on the core's parker is always correct): a wake from
                    // anywhere unparks it, and a wake that came first left its token.
                    let core = driving.core.borrow();
                    core.as_ref()
                        .expect("the core is held while driving")
                        .parker
                        .park();
                }
                self.services.recent.refresh(); // rule DIAG-5
                crate::trace::event!(target: "magpie::scheduler", worker = 0, "unpark");
            }
        }
    }

    /// Closes the scheduler and drops every task (on this thread): the steps of
    /// `scheduler::services`.
    pub(crate) fn shutdown(&self, timeout: Option<std::time::Duration>) {
        self.services.shutdown(timeout, self);
        // LOCAL-4: this thread's implicit set of local tasks for this runtime goes too.
        crate::task::forget_implicit();
    }
}

impl Stop for Shared {
    fn unpark_all(&self) {
        self.unparker.unpark();
    }

    fn stop_threads(&self, _deadline: Option<std::time::Instant>) {
        // There are no threads of our own to wait for. If a thread is driving right now
        // (Handle::block_on elsewhere), it sees `closed` on its next schedule; tasks it
        // holds are dropped when it releases the core. Taking the core and putting it back
        // wakes the threads waiting for it in `block_on`.
        if let Some(core) = self.take_core() {
            self.release_core(core);
        }
    }

    fn drain_queues(&self) {
        let tasks = self.core.lock().unwrap().as_mut().map(|core| {
            let mut tasks = std::mem::take(&mut core.soon);
            tasks.append(&mut core.local);
            tasks
        });
        // Outside the lock, one at a time through the deferring drop (rule TASK-3): a
        // future's drop may wake other tasks of this closed runtime, whose futures must
        // not be dropped inside it.
        tasks
            .into_iter()
            .flatten()
            .for_each(crate::task::drop_closed);
        self.drain_injector();
    }
}

struct MainWaker {
    woken: std::sync::atomic::AtomicBool,
    unparker: Unparker,
    driver: Arc<Driver>,
}

impl Wake for MainWaker {
    fn wake(self: StdArc<Self>) {
        self.wake_by_ref()
    }
    fn wake_by_ref(self: &StdArc<Self>) {
        // SeqCst: the store pairs with the driving thread's publish-then-re-check (rule DRV-2).
        self.woken.store(true, std::sync::atomic::Ordering::SeqCst);
        self.unparker.unpark();
        self.driver.unpark(DRIVER_OWNER);
    }
}

/// Queues a woken or spawned task of a current-thread runtime.
pub(crate) fn schedule(task: Runnable, _is_yield: bool) {
    let Scheduler::CurrentThread(shared) = &task.metadata().scheduler else {
        unreachable!("current_thread::schedule called for another scheduler's task")
    };
    let target: *const Shared = Arc::as_ptr(shared);
    let driving = DRIVING.with(|d| d.get());
    if !driving.is_null() {
        // SAFETY: rule CT-1: non-null means this thread's live `Driving`.
        let driving = unsafe { &*driving };
        if ptr::eq(driving.shared, target) {
            // SAFETY: rule CT-1 again: the driving `block_on` holds an `Arc<Shared>` for as
            // long as `DRIVING` is set, so `target` is live.
            let shared = unsafe { &*target };
            if shared.is_closed() {
                crate::task::drop_closed(task); // rule TASK-3
                return;
            }
            // Yields and wakes alike go to the back (one thread runs everything in order),
            // but for the first few tasks of expired timers (rule CT-2).
            if let Ok(mut core) = driving.core.try_borrow_mut() {
                if let Some(core) = core.as_mut() {
                    if crate::driver::timer_wake_first() {
                        core.soon.push_back(task); // rule CT-2
                    } else {
                        core.local.push_back(task);
                    }
                    return;
                }
            }
            // The core is borrowed (only while picking the next task, never while a task
            // runs): fall through to the injector.
        }
    }
    let shared = shared.clone();
    shared.schedule_remote(task);
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CurrentThread")
            .field("closed", &self.is_closed())
            .finish_non_exhaustive()
    }
}
