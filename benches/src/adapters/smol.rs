//! smol's `async-executor` on N threads behind the adapter interface the workloads use.
//!
//! `async-executor` has no ambient "current executor", so each worker thread (and each
//! `block_on`) records its executor in a thread-local that `spawn` reads. Worker threads
//! run `Executor::run` until the runtime is dropped.
use std::cell::RefCell;
use std::future::Future;
use std::sync::Arc;
use std::thread::JoinHandle;

use async_executor::Executor;

thread_local! {
    static CURRENT: RefCell<Option<Arc<Executor<'static>>>> = const { RefCell::new(None) };
}

/// `threads` OS threads running one shared `async_executor::Executor`.
#[derive(Debug)]
pub struct Rt {
    ex: Arc<Executor<'static>>,
    stop: Option<async_channel::Sender<()>>,
    threads: Vec<JoinHandle<()>>,
}

/// The runtime's name in tables.
pub const NAME: &str = "smol";

/// An executor run by `threads` threads.
pub fn new(threads: usize) -> Rt {
    let ex = Arc::new(Executor::new());
    let (stop, stopped) = async_channel::bounded::<()>(1);
    let threads = (0..threads)
        .map(|_| {
            let ex = ex.clone();
            let stopped = stopped.clone();
            std::thread::spawn(move || {
                CURRENT.with(|c| *c.borrow_mut() = Some(ex.clone()));
                futures_lite::future::block_on(ex.run(async move {
                    let _ = stopped.recv().await;
                }));
            })
        })
        .collect();
    Rt {
        ex,
        stop: Some(stop),
        threads,
    }
}

impl Rt {
    /// Runs a future to completion from outside the executor threads.
    pub fn block_on<F: Future>(&self, f: F) -> F::Output {
        let prev = CURRENT.with(|c| c.borrow_mut().replace(self.ex.clone()));
        let out = futures_lite::future::block_on(f);
        CURRENT.with(|c| *c.borrow_mut() = prev);
        out
    }
    /// Spawns from outside.
    pub fn spawn<F>(&self, f: F) -> Handle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.ex.spawn(f)
    }
}

impl Drop for Rt {
    fn drop(&mut self) {
        drop(self.stop.take()); // closes the channel: every `run` returns
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// A task's handle (dropping it cancels the task, unlike tokio and magpie: see `detach`).
pub type Handle<T> = async_executor::Task<T>;

/// Spawns from inside the executor.
pub fn spawn<F>(f: F) -> Handle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    CURRENT.with(|c| {
        c.borrow()
            .as_ref()
            .expect("smol adapter: spawn outside the executor")
            .spawn(f)
    })
}

/// Awaits a task's output.
pub async fn join<T>(h: Handle<T>) -> T {
    h.await
}

/// Lets a task run on without its handle.
pub fn detach<T>(h: Handle<T>) {
    h.detach()
}

/// Yields once to the scheduler.
pub async fn yield_now() {
    futures_lite::future::yield_now().await
}

/// A one-shot channel's sending half (smol has no oneshot: a bounded(1) channel).
pub type Tx<T> = async_channel::Sender<T>;
/// A one-shot channel's receiving half.
pub type Rx<T> = async_channel::Receiver<T>;

/// A one-shot channel.
pub fn oneshot<T>() -> (Tx<T>, Rx<T>) {
    async_channel::bounded(1)
}

/// Sends on a one-shot channel.
pub fn send<T>(tx: Tx<T>, v: T) {
    let _ = tx.try_send(v);
}

/// Receives from a one-shot channel.
pub async fn recv<T>(rx: Rx<T>) -> T {
    rx.recv().await.expect("sender dropped")
}
