//! magpie: a multi-threaded, work-stealing async runtime with an asyncio-style
//! coordination API.
//!
//! This facade re-exports the workspace's crates: the runtime core (`magpie-runtime`), the
//! thread-safe coordination primitives ([`sync`], from `magpie-sync`) and, as they land,
//! the combinators.
//!
//! # Examples
//!
//! ```
//! let answer = magpie::block_on(async {
//!     let h = magpie::spawn(async { 6 * 7 });
//!     h.await.unwrap()
//! });
//! assert_eq!(answer, 42);
//! ```
//!
//! # Cargo features
//!
//! - `tracing`: instrumentation through the `tracing` crate: every task runs in a span
//!   named `task` (fields `task.id`, `task.name`) entered around each poll, and the runtime
//!   emits `TRACE` events `spawn` (target `magpie::task`), `park`, `unpark` and `steal`
//!   (target `magpie::scheduler`). Off by default; when off it compiles to nothing.
#![doc(test(attr(deny(warnings))))]
#![warn(missing_docs, missing_debug_implementations)]

pub use magpie_runtime::{
    block_on, spawn, spawn_blocking, yield_now, Builder, EnterGuard, Handle, JoinError, JoinHandle,
    Runtime, RuntimeMetrics, TaskId, TryCurrentError, WorkerMetrics,
};

pub use magpie_combinators::{
    as_completed, gather, gather_outcomes, race, select, shield, try_gather, wait, AsCompleted,
    AsCompletedTimeout, ChildHandle, Either, Gather, GatherOutcomes, GroupError, GroupHandle,
    GroupJoin, ReturnWhen, Shield, SpawnRefused, TaskGroup, TryGather, Wait,
};

pub use magpie_macros::{main, test};

// Task-locals (issue 17): `magpie::task_local! { static NAME: T; }`.
pub use magpie_runtime::task_local;
// Diagnostics (issue 15): task dumps, deadlock and slow-poll detection.
pub use magpie_runtime::diag;

/// Tasks: spawning with options, ids, the cooperative budget.
///
/// # Examples
///
/// ```
/// magpie::block_on(async {
///     let h = magpie::task::Builder::new().name("indexer").spawn(async { 1 });
///     assert_eq!(h.name(), Some("indexer"));
///     assert_eq!(h.await.unwrap(), 1);
/// });
/// ```
pub mod task {
    pub use magpie_runtime::task::*;
}

/// Time: `sleep`, `sleep_until`, `interval`, `timeout` (asyncio's `wait_for`), `timeout_at`.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// magpie::block_on(async {
///     magpie::time::sleep(Duration::from_millis(1)).await;
///     let slow = magpie::time::timeout(Duration::from_millis(5), std::future::pending::<()>());
///     assert!(slow.await.is_err());
/// });
/// ```
pub mod time {
    pub use magpie_runtime::time::*;
}

/// Networking: `TcpListener`, `TcpStream`, `UdpSocket`, and Unix-domain sockets.
///
/// # Examples
///
/// ```
/// use magpie::io::{AsyncReadExt, AsyncWriteExt};
/// use magpie::net::{TcpListener, TcpStream};
///
/// magpie::block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let mut client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
///     let (mut server, _) = listener.accept().await.unwrap();
///     client.write_all(b"hello").await.unwrap();
///     let mut buf = [0; 5];
///     server.read_exact(&mut buf).await.unwrap();
///     assert_eq!(&buf, b"hello");
/// });
/// ```
pub mod net {
    pub use magpie_runtime::net::*;
}

/// Files and directories on the blocking pool (tokio's `fs`): `read`, `write`, `File`,
/// `OpenOptions`, `read_dir`, ...
///
/// # Examples
///
/// ```
/// magpie::block_on(async {
///     let path = std::env::temp_dir().join(format!("magpie-facade-fs-{}", std::process::id()));
///     magpie::fs::write(&path, b"config = 1").await.unwrap();
///     assert_eq!(magpie::fs::read_to_string(&path).await.unwrap(), "config = 1");
///     magpie::fs::remove_file(&path).await.unwrap();
/// });
/// ```
pub mod fs {
    pub use magpie_runtime::fs::*;
}

/// Asynchronous I/O: the `futures-io` traits, `AsyncReadExt`/`AsyncWriteExt`, `copy`, and
/// `Async<T>` for any file descriptor.
///
/// # Examples
///
/// ```
/// use magpie::io::{AsyncReadExt, AsyncWriteExt};
///
/// magpie::block_on(async {
///     let mut src: &[u8] = b"copied";
///     let mut dst = magpie::io::sink();
///     assert_eq!(magpie::io::copy(&mut src, &mut dst).await.unwrap(), 6);
///     let mut data: &[u8] = b"abc";
///     let mut buf = Vec::new();
///     data.read_to_end(&mut buf).await.unwrap();
///     dst.write_all(&buf).await.unwrap();
/// });
/// ```
pub mod io {
    pub use magpie_runtime::io::*;
}

/// Thread-safe, cancellation-safe coordination primitives (asyncio's Lock, Event,
/// Condition, Semaphore, Queue, ...) and the cooperative budget.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
///
/// magpie::block_on(async {
///     let jobs = Arc::new(magpie::sync::Queue::bounded(8));
///     let done = Arc::new(magpie::sync::Event::new());
///     let worker = {
///         let (jobs, done) = (Arc::clone(&jobs), Arc::clone(&done));
///         magpie::spawn(async move {
///             let mut total = 0;
///             let mut items = jobs.into_stream();
///             while let Some(n) = items.next().await {
///                 total += n;
///             }
///             done.set();
///             total
///         })
///     };
///     for n in 1..=4 {
///         jobs.put(n).await.unwrap();
///     }
///     jobs.close();
///     done.wait().await;
///     assert_eq!(worker.await.unwrap(), 10);
/// });
/// ```
pub mod sync {
    pub use magpie_sync::*;
}

/// Signals: `ctrl_c()` and `signal::unix::{signal, SignalKind, Signal}` (tokio's shapes;
/// a forbidden signal is an `InvalidInput` error naming it).
///
/// # Examples
///
/// ```
/// use magpie::signal::unix::{signal, SignalKind};
///
/// magpie::block_on(async {
///     let mut usr1 = signal(SignalKind::user_defined1()).unwrap();
///     // SAFETY: raise(3) has no preconditions; it delivers SIGUSR1 before it returns.
///     unsafe { libc::raise(libc::SIGUSR1) };
///     assert_eq!(usr1.recv().await, Some(()));
/// });
/// ```
#[cfg(unix)]
pub mod signal {
    pub use magpie_runtime::signal::*;
}

/// Child processes: `Command`, `Child` (with `AsyncWrite`/`AsyncRead` pipes), `Stdio`.
///
/// # Examples
///
/// ```
/// use magpie::io::{AsyncReadExt, AsyncWriteExt};
/// use magpie::process::{Command, Stdio};
///
/// magpie::block_on(async {
///     let mut child = Command::new("cat")
///         .stdin(Stdio::piped())
///         .stdout(Stdio::piped())
///         .kill_on_drop(true)
///         .spawn()
///         .unwrap();
///     let mut stdin = child.stdin.take().unwrap();
///     stdin.write_all(b"round trip").await.unwrap();
///     drop(stdin);
///     let mut out = Vec::new();
///     child.stdout.take().unwrap().read_to_end(&mut out).await.unwrap();
///     assert_eq!(out, b"round trip");
///     assert!(child.wait().await.unwrap().success());
/// });
/// ```
#[cfg(unix)]
pub mod process {
    pub use magpie_runtime::process::*;
}

#[cfg(any(feature = "hyper", feature = "tokio-compat", feature = "tokio-io"))]
pub mod compat;

/// The README's examples, compiled and run as doc tests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
