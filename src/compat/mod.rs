//! Glue between magpie and other crates' runtime traits, each behind a cargo feature.
//!
//! - [`hyper`] (feature `hyper`): run hyper 1.x servers and clients on magpie — an
//!   executor, a timer and an I/O adapter, the counterparts of hyper-util's
//!   `TokioExecutor`, `TokioTimer` and `TokioIo`.

pub mod hyper;
