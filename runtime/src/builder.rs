//! Configuring and building a [`Runtime`].

use std::fmt;
use std::io;
use std::sync::Arc as StdArc;
use std::time::Duration;

use crate::config::{Callback, Config, Flavor};
use crate::runtime::Runtime;
use crate::scheduler::multi_thread::MAX_WORKERS;

/// Builds a [`Runtime`] with custom settings.
///
/// # Examples
///
/// ```
/// let rt = magpie_runtime::Builder::new_multi_thread()
///     .worker_threads(2)
///     .thread_name("my-worker")
///     .build()
///     .unwrap();
/// assert_eq!(rt.block_on(async { 1 + 1 }), 2);
/// ```
pub struct Builder {
    kind: Flavor,
    worker_threads: Option<usize>,
    thread_name: String,
    thread_stack_size: Option<usize>,
    on_thread_start: Option<Callback>,
    on_thread_stop: Option<Callback>,
    global_queue_interval: Option<u32>,
    event_interval: u32,
    max_blocking_threads: usize,
    thread_keep_alive: Duration,
    watchdog: crate::diag::watchdog::Settings,
    start_paused: bool,
}

/// Smallest stack a worker may be given: below this even the run loop overflows.
const MIN_STACK: usize = 64 * 1024;

impl Builder {
    fn new(kind: Flavor) -> Builder {
        Builder {
            kind,
            worker_threads: None,
            thread_name: "magpie-worker".to_owned(),
            thread_stack_size: None,
            on_thread_start: None,
            on_thread_stop: None,
            global_queue_interval: None,
            event_interval: 61,
            max_blocking_threads: 512,
            thread_keep_alive: Duration::from_secs(10),
            watchdog: Default::default(),
            start_paused: false,
        }
    }

    /// A multi-thread, work-stealing runtime; by default one worker per CPU.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = magpie_runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
    /// assert_eq!(rt.handle().metrics().workers.len(), 2);
    /// ```
    pub fn new_multi_thread() -> Builder {
        Builder::new(Flavor::MultiThread)
    }

    /// A runtime that runs every task on the thread that calls `block_on`.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = magpie_runtime::Builder::new_current_thread().build().unwrap();
    /// let here = std::thread::current().id();
    /// let there = rt.block_on(async {
    ///     magpie_runtime::spawn(async { std::thread::current().id() }).await.unwrap()
    /// });
    /// assert_eq!(here, there);
    /// ```
    pub fn new_current_thread() -> Builder {
        Builder::new(Flavor::CurrentThread)
    }

    /// The number of worker threads (multi-thread only; default: one per CPU).
    ///
    /// `build()` fails if this is 0 or more than 65,535.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = magpie_runtime::Builder::new_multi_thread().worker_threads(3).build().unwrap();
    /// assert_eq!(rt.handle().metrics().workers.len(), 3);
    /// ```
    pub fn worker_threads(&mut self, n: usize) -> &mut Builder {
        self.worker_threads = Some(n);
        self
    }

    /// The name every worker thread gets (default `magpie-worker`).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = magpie_runtime::Builder::new_multi_thread()
    ///     .worker_threads(1)
    ///     .thread_name("crunch")
    ///     .build()
    ///     .unwrap();
    /// let name = rt.block_on(async {
    ///     magpie_runtime::spawn(async { std::thread::current().name().map(str::to_owned) })
    ///         .await
    ///         .unwrap()
    /// });
    /// assert_eq!(name.as_deref(), Some("crunch"));
    /// ```
    pub fn thread_name(&mut self, name: impl Into<String>) -> &mut Builder {
        self.thread_name = name.into();
        self
    }

    /// The stack size of every worker thread, in bytes. `build()` fails below 64 KiB.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = magpie_runtime::Builder::new_multi_thread()
    ///     .worker_threads(1)
    ///     .thread_stack_size(4 << 20)
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(rt.block_on(async { 1 }), 1);
    /// assert!(magpie_runtime::Builder::new_multi_thread().thread_stack_size(1024).build().is_err());
    /// ```
    pub fn thread_stack_size(&mut self, bytes: usize) -> &mut Builder {
        self.thread_stack_size = Some(bytes);
        self
    }

    /// Runs `f` on each worker thread when it starts, before it runs any task.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    ///
    /// let started = Arc::new(AtomicUsize::new(0));
    /// let counter = Arc::clone(&started);
    /// let rt = magpie_runtime::Builder::new_multi_thread()
    ///     .worker_threads(2)
    ///     .on_thread_start(move || {
    ///         counter.fetch_add(1, Ordering::SeqCst);
    ///     })
    ///     .build()
    ///     .unwrap();
    /// rt.block_on(async { magpie_runtime::spawn(async {}).await.unwrap() });
    /// drop(rt); // joins the workers
    /// assert_eq!(started.load(Ordering::SeqCst), 2);
    /// ```
    pub fn on_thread_start<F: Fn() + Send + Sync + 'static>(&mut self, f: F) -> &mut Builder {
        self.on_thread_start = Some(StdArc::new(f));
        self
    }

    /// Runs `f` on each worker thread just before it exits.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    ///
    /// let stopped = Arc::new(AtomicUsize::new(0));
    /// let counter = Arc::clone(&stopped);
    /// let rt = magpie_runtime::Builder::new_multi_thread()
    ///     .worker_threads(2)
    ///     .on_thread_stop(move || {
    ///         counter.fetch_add(1, Ordering::SeqCst);
    ///     })
    ///     .build()
    ///     .unwrap();
    /// drop(rt); // joins the workers
    /// assert_eq!(stopped.load(Ordering::SeqCst), 2);
    /// ```
    pub fn on_thread_stop<F: Fn() + Send + Sync + 'static>(&mut self, f: F) -> &mut Builder {
        self.on_thread_stop = Some(StdArc::new(f));
        self
    }

    /// How many ticks a worker runs from its own queues before it checks the global
    /// injector first (default 61 multi-thread, 31 current-thread). `build()` fails on 0.
    ///
    /// Unless this is set, multi-thread workers tune the interval to their measured poll
    /// times (about 200 µs of polling between looks, at most the default), so remote work
    /// is not starved behind long polls; setting it fixes the interval.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = magpie_runtime::Builder::new_multi_thread()
    ///     .worker_threads(2)
    ///     .global_queue_interval(31)
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(rt.block_on(async { magpie_runtime::spawn(async { 7 }).await.unwrap() }), 7);
    /// ```
    pub fn global_queue_interval(&mut self, ticks: u32) -> &mut Builder {
        self.global_queue_interval = Some(ticks);
        self
    }

    /// How many tasks a worker runs between looks at outside events (the main future of
    /// `block_on`, I/O readiness and due timers) while it has work; default 61. An idle
    /// worker waits for those events instead. `build()` fails on 0.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = magpie_runtime::Builder::new_current_thread().event_interval(16).build().unwrap();
    /// assert_eq!(rt.block_on(async { 7 }), 7);
    /// assert!(magpie_runtime::Builder::new_current_thread().event_interval(0).build().is_err());
    /// ```
    pub fn event_interval(&mut self, ticks: u32) -> &mut Builder {
        self.event_interval = ticks;
        self
    }

    /// The most threads the [`spawn_blocking`](crate::spawn_blocking) pool may run at once
    /// (default 512). Closures beyond that wait for a free thread. `build()` fails on 0.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = magpie_runtime::Builder::new_multi_thread()
    ///     .worker_threads(1)
    ///     .max_blocking_threads(2)
    ///     .build()
    ///     .unwrap();
    /// let v = rt.block_on(async { magpie_runtime::spawn_blocking(|| 5).await.unwrap() });
    /// assert_eq!(v, 5);
    /// ```
    pub fn max_blocking_threads(&mut self, n: usize) -> &mut Builder {
        self.max_blocking_threads = n;
        self
    }

    /// How long an idle blocking-pool thread waits for work before it exits (default 10 s).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = magpie_runtime::Builder::new_multi_thread()
    ///     .worker_threads(1)
    ///     .thread_keep_alive(Duration::from_millis(100))
    ///     .build()
    ///     .unwrap();
    /// let v = rt.block_on(async { magpie_runtime::spawn_blocking(|| 9).await.unwrap() });
    /// assert_eq!(v, 9);
    /// ```
    pub fn thread_keep_alive(&mut self, keep_alive: Duration) -> &mut Builder {
        self.thread_keep_alive = keep_alive;
        self
    }

    /// Starts a watchdog that looks for deadlocks every `period`: cycles of tasks each
    /// waiting on a magpie resource held by the next (`magpie::diag`). A cycle is reported
    /// once, to [`on_deadlock`](Self::on_deadlock) (default: printed to stderr), when two
    /// consecutive checks saw it unchanged; one that resolves by itself is not reported.
    /// The watchdog is one background thread that only reads (shared with
    /// [`slow_poll_threshold`](Self::slow_poll_threshold)).
    ///
    /// # Panics
    ///
    /// If `period` is zero: give a period such as `Duration::from_secs(1)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let rt = magpie_runtime::Builder::new_multi_thread()
    ///     .detect_deadlocks(Duration::from_millis(500))
    ///     .on_deadlock(|d| eprintln!("{d}"))
    ///     .build()
    ///     .unwrap();
    /// rt.block_on(async {});
    /// ```
    pub fn detect_deadlocks(&mut self, period: Duration) -> &mut Self {
        assert!(
            !period.is_zero(),
            "detect_deadlocks needs a non-zero period (e.g. Duration::from_secs(1))"
        );
        self.watchdog.deadlock_period = Some(period);
        self
    }

    /// Where the [`detect_deadlocks`](Self::detect_deadlocks) watchdog reports each new
    /// cycle (called on the watchdog thread; keep it short).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let rt = magpie_runtime::Builder::new_current_thread()
    ///     .detect_deadlocks(Duration::from_secs(1))
    ///     .on_deadlock(|d: &magpie_runtime::diag::Deadlock| eprintln!("{} tasks", d.tasks().len()))
    ///     .build()
    ///     .unwrap();
    /// rt.block_on(async {});
    /// ```
    pub fn on_deadlock<F>(&mut self, f: F) -> &mut Self
    where
        F: Fn(&crate::diag::Deadlock) + Send + Sync + 'static,
    {
        self.watchdog.on_deadlock = Some(std::sync::Arc::new(f));
        self
    }

    /// Starts a watchdog that reports a stall, Go's "all goroutines are asleep": every
    /// live task idle and waiting on a magpie primitive (a lock, event, queue, channel,
    /// ... or a `JoinHandle` of such a task) with no task polled for a whole `period`, and
    /// no `block_on` running (its future is not a task: the watchdog cannot see it). A
    /// task on a timer, I/O readiness, a blocking task or an unrecorded future, or any
    /// `spawn_blocking` closure queued or running, means "not a stall". Reported once to [`on_stall`](Self::on_stall) (default: printed to
    /// stderr), and again only after some task was polled. Threads outside the runtime
    /// are invisible: a stall whose primitive a plain thread still holds is reported too
    /// (`docs/diagnostics.md`). Shares the watchdog thread of
    /// [`detect_deadlocks`](Self::detect_deadlocks).
    ///
    /// # Panics
    ///
    /// If `period` is zero: give a period such as `Duration::from_secs(1)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let rt = magpie_runtime::Builder::new_multi_thread()
    ///     .detect_stalls(Duration::from_secs(1))
    ///     .build()
    ///     .unwrap();
    /// rt.block_on(async {});
    /// ```
    pub fn detect_stalls(&mut self, period: Duration) -> &mut Self {
        assert!(
            !period.is_zero(),
            "detect_stalls needs a non-zero period (e.g. Duration::from_secs(1))"
        );
        self.watchdog.stall_period = Some(period);
        self
    }

    /// Where the [`detect_stalls`](Self::detect_stalls) watchdog reports each stall
    /// (called on the watchdog thread; keep it short).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let rt = magpie_runtime::Builder::new_current_thread()
    ///     .detect_stalls(Duration::from_secs(1))
    ///     .on_stall(|s: &magpie_runtime::diag::Stall| eprintln!("{s}"))
    ///     .build()
    ///     .unwrap();
    /// rt.block_on(async {});
    /// ```
    pub fn on_stall<F>(&mut self, f: F) -> &mut Self
    where
        F: Fn(&crate::diag::Stall) + Send + Sync + 'static,
    {
        self.watchdog.on_stall = Some(std::sync::Arc::new(f));
        self
    }

    /// Starts a watchdog that reports every single poll running longer than `threshold`
    /// (a blocking call inside async code) while it still runs, once per poll, to
    /// [`on_slow_poll`](Self::on_slow_poll) (default: printed to stderr). The watchdog
    /// looks every `threshold / 4`.
    ///
    /// # Panics
    ///
    /// If `threshold` is zero: give a threshold such as `Duration::from_millis(100)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let rt = magpie_runtime::Builder::new_multi_thread()
    ///     .slow_poll_threshold(Duration::from_millis(100))
    ///     .build()
    ///     .unwrap();
    /// rt.block_on(async {});
    /// ```
    pub fn slow_poll_threshold(&mut self, threshold: Duration) -> &mut Self {
        assert!(
            !threshold.is_zero(),
            "slow_poll_threshold needs a non-zero threshold (e.g. Duration::from_millis(100))"
        );
        self.watchdog.slow_poll_threshold = Some(threshold);
        self
    }

    /// Where the [`slow_poll_threshold`](Self::slow_poll_threshold) watchdog reports a slow
    /// poll (called on the watchdog thread, while the poll still runs).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let rt = magpie_runtime::Builder::new_multi_thread()
    ///     .slow_poll_threshold(Duration::from_millis(100))
    ///     .on_slow_poll(|p: &magpie_runtime::diag::SlowPoll| eprintln!("{p}"))
    ///     .build()
    ///     .unwrap();
    /// rt.block_on(async {});
    /// ```
    pub fn on_slow_poll<F>(&mut self, f: F) -> &mut Self
    where
        F: Fn(&crate::diag::SlowPoll) + Send + Sync + 'static,
    {
        self.watchdog.on_slow_poll = Some(std::sync::Arc::new(f));
        self
    }

    /// Starts the runtime with its clock paused (current-thread only; default `false`):
    /// as if [`time::pause`](crate::time::pause) were the first thing it ran, so time moves
    /// only by [`time::advance`](crate::time::advance) and by auto-advance to the next
    /// timer when no task can make progress.
    ///
    /// `build()` fails on a multi-thread runtime (use `new_current_thread()`).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use magpie_runtime::time::{sleep, Instant};
    ///
    /// let rt = magpie_runtime::Builder::new_current_thread().start_paused(true).build().unwrap();
    /// rt.block_on(async {
    ///     let start = Instant::now();
    ///     sleep(Duration::from_secs(3600)).await; // no real time passes
    ///     assert_eq!(start.elapsed(), Duration::from_secs(3600));
    /// });
    /// assert!(magpie_runtime::Builder::new_multi_thread().start_paused(true).build().is_err());
    /// ```
    pub fn start_paused(&mut self, paused: bool) -> &mut Builder {
        self.start_paused = paused;
        self
    }

    /// Starts the runtime.
    ///
    /// # Errors
    ///
    /// `io::ErrorKind::InvalidInput`, naming the setting, for impossible settings
    /// (`worker_threads(0)`, a zero interval, `max_blocking_threads(0)`, a stack under
    /// 64 KiB, `start_paused(true)` on a multi-thread runtime); the OS's error if the I/O driver or a worker thread cannot be started.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = magpie_runtime::Builder::new_multi_thread().worker_threads(0).build().unwrap_err();
    /// assert!(err.to_string().contains("worker_threads"));
    /// ```
    pub fn build(&mut self) -> io::Result<Runtime> {
        let invalid = |msg: String| Err(io::Error::new(io::ErrorKind::InvalidInput, msg));
        let worker_threads = match self.kind {
            Flavor::CurrentThread => 1,
            Flavor::MultiThread => self.worker_threads.unwrap_or_else(num_cpus::get),
        };
        if worker_threads == 0 {
            return invalid(
                "worker_threads must be at least 1 (got 0); use new_current_thread() for a \
                 runtime without worker threads"
                    .into(),
            );
        }
        if worker_threads > MAX_WORKERS {
            return invalid(format!(
                "worker_threads must be at most {MAX_WORKERS} (got {worker_threads})"
            ));
        }
        let global_queue_interval = self.global_queue_interval.unwrap_or(match self.kind {
            Flavor::MultiThread => 61,
            Flavor::CurrentThread => 31,
        });
        if global_queue_interval == 0 {
            return invalid("global_queue_interval must be at least 1 (got 0)".into());
        }
        if self.event_interval == 0 {
            return invalid("event_interval must be at least 1 (got 0)".into());
        }
        if self.max_blocking_threads == 0 {
            return invalid("max_blocking_threads must be at least 1 (got 0)".into());
        }
        if self.start_paused && self.kind == Flavor::MultiThread {
            return invalid(
                "start_paused(true) needs a current-thread runtime: time can only be paused \
                 there; use Builder::new_current_thread()"
                    .into(),
            );
        }
        if let Some(size) = self.thread_stack_size {
            if size < MIN_STACK {
                return invalid(format!(
                    "thread_stack_size must be at least {MIN_STACK} bytes (got {size})"
                ));
            }
        }
        let config = Config {
            worker_threads,
            thread_name: self.thread_name.clone(),
            thread_stack_size: self.thread_stack_size,
            on_thread_start: self.on_thread_start.clone(),
            on_thread_stop: self.on_thread_stop.clone(),
            global_queue_interval,
            adaptive_global_queue_interval: self.global_queue_interval.is_none(),
            event_interval: self.event_interval,
            max_blocking_threads: self.max_blocking_threads,
            thread_keep_alive: self.thread_keep_alive,
            watchdog: self.watchdog.clone(),
            clock_pausable: self.kind == Flavor::CurrentThread,
            start_paused: self.start_paused,
        };
        Runtime::start(self.kind, config)
    }
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("kind", &self.kind)
            .field("worker_threads", &self.worker_threads)
            .field("thread_name", &self.thread_name)
            .field("thread_stack_size", &self.thread_stack_size)
            .field("global_queue_interval", &self.global_queue_interval)
            .field("event_interval", &self.event_interval)
            .field("max_blocking_threads", &self.max_blocking_threads)
            .field("thread_keep_alive", &self.thread_keep_alive)
            .field("start_paused", &self.start_paused)
            .finish_non_exhaustive()
    }
}
