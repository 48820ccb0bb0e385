//! Glue between magpie and other crates' runtime traits, each behind a cargo feature.
//!
//! - [`hyper`] (feature `hyper`): run hyper 1.x servers and clients on magpie — an
//!   executor, a timer and an I/O adapter, the counterparts of hyper-util's
//!   `TokioExecutor`, `TokioTimer` and `TokioIo`.
//! - [`tokio`](mod@tokio) (feature `tokio-compat`): a background tokio runtime entered
//!   around magpie tasks, so tokio-only libraries work inside them.
//! - [`tokio_io`] (feature `tokio-io`): tokio's `AsyncRead`/`AsyncWrite` over magpie's
//!   sockets and `Async<T>`.

#[cfg(feature = "hyper")]
pub mod hyper;
#[cfg(feature = "tokio-compat")]
pub mod tokio;
#[cfg(feature = "tokio-io")]
pub mod tokio_io;
