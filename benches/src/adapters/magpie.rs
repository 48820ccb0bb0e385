//! magpie behind the adapter interface the workloads use.
use std::future::Future;
use std::net::SocketAddr;

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
