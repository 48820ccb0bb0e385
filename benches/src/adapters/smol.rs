//! smol's `async-executor` on N threads behind the adapter interface the workloads use.
//!
//! `async-executor` has no ambient "current executor", so each worker thread (and each
//! `block_on`) records its executor in a thread-local that `spawn` reads. Worker threads
//! run `Executor::run` under `async_io::block_on` (what `smol::block_on` is) until the
//! runtime is dropped, so an idle worker drives async-io's reactor for timers and sockets,
//! as in smol's own multi-threaded setup. async-io also starts its own reactor thread
//! ("async-io"), which drives the reactor whenever no worker does.
use std::cell::RefCell;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::thread::JoinHandle;
use std::time::Duration;

use async_executor::Executor;
use async_io::{Async, Timer};

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
                async_io::block_on(ex.run(async move {
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
        let out = async_io::block_on(f);
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

// Time: async-io's `Timer`.

/// Waits for `d` (async-io's `Timer::after`).
pub fn sleep(d: Duration) -> impl Future<Output = ()> {
    let timer = Timer::after(d);
    async move {
        timer.await;
    }
}

/// `timeout`'s error: the deadline passed first.
#[derive(Debug)]
pub struct Elapsed;

/// Runs `f` for `d` at most: `f` raced against a `Timer` (polled first, as tokio's and
/// magpie's `timeout` poll the inner future first). async-io has no `timeout`.
pub fn timeout<F: Future>(d: Duration, f: F) -> impl Future<Output = Result<F::Output, Elapsed>> {
    let timer = Timer::after(d);
    futures_lite::future::or(async move { Ok(f.await) }, async move {
        timer.await;
        Err(Elapsed)
    })
}

// Locks and queues: async-lock and async-channel (`Mutex::lock` is called directly: the
// same name on every runtime).

/// An async mutex.
pub type Mutex<T> = async_lock::Mutex<T>;
/// A counting semaphore.
pub type Semaphore = async_lock::Semaphore;
/// A held semaphore permit (released on drop).
pub type Permit<'a> = async_lock::SemaphoreGuard<'a>;

/// Waits for a permit.
pub async fn acquire(s: &Semaphore) -> Permit<'_> {
    s.acquire().await
}

/// The sending side of a bounded MPMC queue.
pub type QueueTx<T> = async_channel::Sender<T>;
/// The receiving side of a bounded MPMC queue.
pub type QueueRx<T> = async_channel::Receiver<T>;

/// A bounded MPMC queue: `async_channel::bounded`.
pub fn queue<T>(capacity: usize) -> (QueueTx<T>, QueueRx<T>) {
    async_channel::bounded(capacity)
}

/// Puts an item, waiting while the queue is full.
pub async fn put<T>(q: &QueueTx<T>, v: T) {
    if q.send(v).await.is_err() {
        panic!("queue closed");
    }
}

/// Takes an item; `None` once the queue is closed and drained.
pub async fn get<T>(q: &QueueRx<T>) -> Option<T> {
    q.recv().await.ok()
}

/// Closes the queue: getters drain what is left, then see `None`.
pub fn close<T>(q: &QueueTx<T>) {
    q.close();
}

// Combinators.

/// Runs every future as a task; their outputs in input order (spawn each, then await
/// every handle in turn: smol has no `gather`).
pub async fn gather<I>(futs: I) -> Vec<<I::Item as Future>::Output>
where
    I: IntoIterator,
    I::Item: Future + Send + 'static,
    <I::Item as Future>::Output: Send + 'static,
{
    let handles: Vec<_> = futs.into_iter().map(spawn).collect();
    let mut out = Vec::with_capacity(handles.len());
    for h in handles {
        out.push(h.await);
    }
    out
}

// TCP: async-io's `Async<std::net::TcpStream>` with futures-lite's extension traits.

pub use futures_lite::io::{AsyncReadExt, AsyncWriteExt};

/// A TCP listener.
pub type TcpListener = Async<std::net::TcpListener>;
/// A TCP connection.
pub type TcpStream = Async<std::net::TcpStream>;
/// A connection's reading half.
pub type ReadHalf = Half;
/// A connection's writing half.
pub type WriteHalf = Half;

/// Binds a listener (`127.0.0.1:0` in the workloads).
pub async fn bind(addr: &str) -> TcpListener {
    let addr: SocketAddr = addr.parse().expect("a socket address");
    Async::<std::net::TcpListener>::bind(addr).expect("bind")
}

/// The address a listener is bound to.
pub fn local_addr(l: &TcpListener) -> SocketAddr {
    l.get_ref().local_addr().expect("local_addr")
}

/// Accepts a connection, with Nagle's algorithm off.
pub async fn accept(l: &TcpListener) -> TcpStream {
    let (s, _) = l.accept().await.expect("accept");
    s.get_ref().set_nodelay(true).expect("nodelay");
    s
}

/// Connects, with Nagle's algorithm off.
pub async fn connect(addr: SocketAddr) -> TcpStream {
    let s = Async::<std::net::TcpStream>::connect(addr)
        .await
        .expect("connect");
    s.get_ref().set_nodelay(true).expect("nodelay");
    s
}

/// Splits a connection into halves that can move to different tasks (both share the
/// `Async`: `&Async<TcpStream>` reads and writes).
pub fn split(s: TcpStream) -> (ReadHalf, WriteHalf) {
    let s = Arc::new(s);
    (Half(s.clone()), Half(s))
}

/// One half of a split connection.
#[derive(Debug)]
pub struct Half(Arc<TcpStream>);

impl futures_lite::AsyncRead for Half {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut &*self.0).poll_read(cx, buf)
    }
}

impl futures_lite::AsyncWrite for Half {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut &*self.0).poll_write(cx, buf)
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut &*self.0).poll_flush(cx)
    }
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut &*self.0).poll_close(cx)
    }
}

// Child processes: async-process (smol's).

/// Runs `true` and waits for it: whether it exited successfully.
pub async fn run_true() -> bool {
    async_process::Command::new("true")
        .status()
        .await
        .expect("spawn true")
        .success()
}

// Files (the fs_rw workload in workloads_fs.rs).

/// An open file: smol's `async-fs` (the `blocking` crate's thread pool behind a pipe-like
/// buffer).
pub type File = async_fs::File;

/// Creates (or truncates) a file for writing.
pub async fn fs_create(path: std::path::PathBuf) -> File {
    async_fs::File::create(path).await.expect("create")
}

/// Opens a file for reading.
pub async fn fs_open(path: std::path::PathBuf) -> File {
    async_fs::File::open(path).await.expect("open")
}
