//! magpie behind the adapter interface the workloads use.
use std::future::Future;

/// A multi-thread magpie runtime.
#[derive(Debug)]
pub struct Rt(magpie::Runtime);

/// The runtime's name in tables.
pub const NAME: &str = "magpie";

/// A multi-thread runtime with `threads` workers.
pub fn new(threads: usize) -> Rt {
    Rt(magpie::Builder::new_multi_thread()
        .worker_threads(threads)
        .build()
        .expect("magpie runtime"))
}

impl Rt {
    /// Runs a future to completion from outside the runtime.
    pub fn block_on<F: Future>(&self, f: F) -> F::Output {
        self.0.block_on(f)
    }
    /// Spawns from outside the runtime.
    pub fn spawn<F>(&self, f: F) -> Handle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.0.spawn(f)
    }
}

/// A task's handle.
pub type Handle<T> = magpie::JoinHandle<T>;

/// Spawns from inside the runtime.
pub fn spawn<F>(f: F) -> Handle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    magpie::spawn(f)
}

/// Awaits a task's output.
pub async fn join<T>(h: Handle<T>) -> T {
    h.await.expect("task failed")
}

/// Lets a task run on without its handle.
pub fn detach<T>(h: Handle<T>) {
    drop(h)
}

/// Yields once to the scheduler.
pub async fn yield_now() {
    magpie::yield_now().await
}

/// A one-shot channel's sending half.
pub type Tx<T> = magpie::sync::oneshot::Sender<T>;
/// A one-shot channel's receiving half.
pub type Rx<T> = magpie::sync::oneshot::Receiver<T>;

/// A one-shot channel.
pub fn oneshot<T>() -> (Tx<T>, Rx<T>) {
    magpie::sync::oneshot::channel()
}

/// Sends on a one-shot channel.
pub fn send<T>(tx: Tx<T>, v: T) {
    let _ = tx.send(v);
}

/// Receives from a one-shot channel.
pub async fn recv<T>(rx: Rx<T>) -> T {
    rx.await.expect("sender dropped")
}
