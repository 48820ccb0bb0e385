//! magpie behind the adapter interface the workloads use.
use std::future::Future;
use std::net::SocketAddr;

/// A multi-thread magpie runtime.
#[derive(Debug)]
pub struct Rt(magpie::Runtime);

/// The runtime's name in tables.
pub const NAME: &str = "magpie";

/// A multi-thread runtime with `threads` workers.
///
/// With `MAGPIE_BENCH_WATCHDOGS=1` in the environment both diagnostic watchdogs run, as a
/// service would configure them (deadlock detection every 500 ms, slow polls over 50 ms,
/// reports counted and dropped): how docs/benchmarks.md measures their cost.
pub fn new(threads: usize) -> Rt {
    let mut builder = magpie::Builder::new_multi_thread();
    builder.worker_threads(threads);
    if std::env::var_os("MAGPIE_BENCH_WATCHDOGS").is_some_and(|v| v == "1") {
        builder
            .detect_deadlocks(std::time::Duration::from_millis(500))
            .on_deadlock(|_| {})
            .slow_poll_threshold(std::time::Duration::from_millis(50))
            .on_slow_poll(|_| {});
    }
    Rt(builder.build().expect("magpie runtime"))
}

impl Rt {
    /// Runs a future to completion from outside the runtime.
    pub fn block_on<F: Future>(&self, f: F) -> F::Output {
        self.0.block_on(f)
    }
    /// The runtime's scheduler counters (for the `profile` binary).
    pub fn metrics(&self) -> magpie::RuntimeMetrics {
        self.0.handle().metrics()
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

// Time.

pub use magpie::time::{sleep, timeout};

// Locks and queues (`Mutex::lock` is called directly: the same name on every runtime).

/// An async mutex.
pub type Mutex<T> = magpie::sync::Mutex<T>;
/// A counting semaphore.
pub type Semaphore = magpie::sync::Semaphore;
/// A held semaphore permit (released on drop).
pub type Permit<'a> = magpie::sync::SemaphorePermit<'a>;

/// Waits for a permit.
pub async fn acquire(s: &Semaphore) -> Permit<'_> {
    s.acquire().await.expect("semaphore closed")
}

/// The sending side of a bounded MPMC queue.
pub type QueueTx<T> = std::sync::Arc<magpie::sync::Queue<T>>;
/// The receiving side of a bounded MPMC queue.
pub type QueueRx<T> = std::sync::Arc<magpie::sync::Queue<T>>;

/// A bounded MPMC queue: `magpie::sync::Queue::bounded`.
pub fn queue<T: Send>(capacity: usize) -> (QueueTx<T>, QueueRx<T>) {
    let q = std::sync::Arc::new(magpie::sync::Queue::bounded(capacity));
    (q.clone(), q)
}

/// Puts an item, waiting while the queue is full.
pub async fn put<T: Send>(q: &QueueTx<T>, v: T) {
    if q.put(v).await.is_err() {
        panic!("queue closed");
    }
}

/// Takes an item; `None` once the queue is closed and drained.
pub async fn get<T: Send>(q: &QueueRx<T>) -> Option<T> {
    q.get().await.ok()
}

/// Closes the queue: getters drain what is left, then see `None`.
pub fn close<T: Send>(q: &QueueTx<T>) {
    q.close()
}

// Combinators.

/// Runs every future as a task; their outputs in input order.
pub use magpie::gather;

// TCP.

pub use magpie::io::{AsyncReadExt, AsyncWriteExt};

/// A TCP listener.
pub type TcpListener = magpie::net::TcpListener;
/// A TCP connection.
pub type TcpStream = magpie::net::TcpStream;
/// A connection's owned reading half.
pub type ReadHalf = magpie::net::TcpOwnedReadHalf;
/// A connection's owned writing half.
pub type WriteHalf = magpie::net::TcpOwnedWriteHalf;

/// Binds a listener (`127.0.0.1:0` in the workloads).
pub async fn bind(addr: &str) -> TcpListener {
    TcpListener::bind(addr).await.expect("bind")
}

/// The address a listener is bound to.
pub fn local_addr(l: &TcpListener) -> SocketAddr {
    l.local_addr().expect("local_addr")
}

/// Accepts a connection, with Nagle's algorithm off.
pub async fn accept(l: &TcpListener) -> TcpStream {
    let (s, _) = l.accept().await.expect("accept");
    s.set_nodelay(true).expect("nodelay");
    s
}

/// Connects, with Nagle's algorithm off.
pub async fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).await.expect("connect");
    s.set_nodelay(true).expect("nodelay");
    s
}

/// Splits a connection into halves that can move to different tasks.
pub fn split(s: TcpStream) -> (ReadHalf, WriteHalf) {
    s.into_split()
}

// Child processes: magpie::process.

/// Runs `true` and waits for it: whether it exited successfully.
pub async fn run_true() -> bool {
    magpie::process::Command::new("true")
        .status()
        .await
        .expect("spawn true")
        .success()
}

// Files (the fs_rw workload in workloads_fs.rs).

/// An open file.
pub type File = magpie::fs::File;

/// Creates (or truncates) a file for writing.
pub async fn fs_create(path: std::path::PathBuf) -> File {
    magpie::fs::File::create(path).await.expect("create")
}

/// Opens a file for reading.
pub async fn fs_open(path: std::path::PathBuf) -> File {
    magpie::fs::File::open(path).await.expect("open")
}

// Channels (issue 17): `mpsc_fan_in`, `broadcast_fan_out`.

/// A bounded mpsc channel's sending half.
pub type MpscTx<T> = magpie::sync::mpsc::Sender<T>;
/// A bounded mpsc channel's receiving half.
pub type MpscRx<T> = magpie::sync::mpsc::Receiver<T>;

/// A bounded mpsc channel.
pub fn mpsc<T>(capacity: usize) -> (MpscTx<T>, MpscRx<T>) {
    magpie::sync::mpsc::channel(capacity)
}

/// Sends, waiting while the channel is full.
pub async fn mpsc_send<T>(tx: &MpscTx<T>, v: T) {
    let _ = tx.send(v).await;
}

/// Receives; `None` once every sender is gone and the channel is drained.
pub async fn mpsc_recv<T>(rx: &mut MpscRx<T>) -> Option<T> {
    rx.recv().await
}

/// A broadcast channel's sending half.
pub type BcastTx<T> = magpie::sync::broadcast::Sender<T>;
/// A broadcast channel's receiving half.
pub type BcastRx<T> = magpie::sync::broadcast::Receiver<T>;

/// A broadcast channel keeping `capacity` values.
pub fn broadcast<T: Clone>(capacity: usize) -> (BcastTx<T>, BcastRx<T>) {
    magpie::sync::broadcast::channel(capacity)
}

/// A new receiver of `tx`.
pub fn bcast_subscribe<T>(tx: &BcastTx<T>) -> BcastRx<T> {
    tx.subscribe()
}

/// Sends to every receiver.
pub fn bcast_send<T>(tx: &BcastTx<T>, v: T) {
    let _ = tx.send(v);
}

/// Receives; `None` once closed and drained.
///
/// # Panics
///
/// If the receiver lagged (the workload sizes the capacity so it cannot).
pub async fn bcast_recv<T: Clone>(rx: &mut BcastRx<T>) -> Option<T> {
    match rx.recv().await {
        Ok(v) => Some(v),
        Err(magpie::sync::broadcast::error::RecvError::Closed) => None,
        Err(e) => panic!("{e}"),
    }
}
