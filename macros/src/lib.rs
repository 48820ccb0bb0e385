//! The `#[magpie::main]` and `#[magpie::test]` attribute macros.
//!
//! Use them through the facade, as `magpie::main` and `magpie::test`: the code they
//! generate names `::magpie`, so the crate that uses them depends on `magpie`.
//!
//! Both turn an `async fn` into a plain `fn` that builds a runtime with
//! [`magpie::Builder`](https://docs.rs/magpie) and runs the body on it with `block_on`:
//!
//! ```
//! #[magpie::main(flavor = "multi_thread", worker_threads = 2)]
//! async fn main() {
//!     let answer = magpie::spawn(async { 6 * 7 }).await.unwrap();
//!     assert_eq!(answer, 42);
//! }
//! ```
//!
//! expands to about
//!
//! ```
//! fn main() {
//!     let body = async {
//!         let answer = magpie::spawn(async { 6 * 7 }).await.unwrap();
//!         assert_eq!(answer, 42);
//!     };
//!     ::magpie::Builder::new_multi_thread()
//!         .worker_threads(2)
//!         .build()
//!         .expect("#[magpie::main]: failed to build the runtime")
//!         .block_on(body)
//! }
//! ```
//!
//! # Arguments
//!
//! | argument | values | default |
//! | --- | --- | --- |
//! | `flavor` | `"multi_thread"` (work-stealing, N workers) or `"current_thread"` (everything on the calling thread) | `main`: `"multi_thread"`; `test`: `"current_thread"` |
//! | `worker_threads` | an integer from 1 to 65,535; only with `"multi_thread"` | one worker per CPU |
//! | `start_paused` | `true` or `false`: start with the clock paused (`Builder::start_paused`, see `magpie::time::pause`); `true` only with `"current_thread"` | `false` |
//!
//! Mistakes are compile errors that point at the token at fault: a function without
//! `async`, one that takes arguments, an unknown argument, an unknown flavor, a
//! `worker_threads` that is not a positive integer, `worker_threads` with the
//! `current_thread` flavor, a `start_paused` that is not a boolean, and
//! `start_paused = true` with the `multi_thread` flavor.
#![doc(test(attr(deny(warnings))))]
#![warn(missing_docs, missing_debug_implementations)]
// The examples are about `fn main` itself: showing it is the point.
#![allow(clippy::needless_doctest_main)]

use proc_macro::TokenStream;

mod config;
mod expand;

use config::Kind;

/// Runs an `async fn main` on a magpie runtime.
///
/// The function becomes a plain `fn` that builds a runtime with `magpie::Builder`,
/// `block_on`s the body and returns its output, so `main` may return a `Result` (anything
/// that implements [`std::process::Termination`]). By default the runtime is
/// multi-threaded with one worker per CPU, as [`magpie::Runtime::new`] builds it.
///
/// Arguments: `flavor = "multi_thread"` (the default) or `flavor = "current_thread"`, and
/// `worker_threads = N` (multi-thread only). See the [crate docs](crate) for what the
/// expansion looks like.
///
/// [`magpie::Runtime::new`]: https://docs.rs/magpie
///
/// # Panics
///
/// The generated `main` panics if the runtime cannot be built (the OS refused a thread or
/// the I/O driver).
///
/// # Examples
///
/// A `main` that returns a `Result`:
///
/// ```
/// #[magpie::main]
/// async fn main() -> std::io::Result<()> {
///     let listener = magpie::net::TcpListener::bind("127.0.0.1:0").await?;
///     assert!(listener.local_addr()?.port() != 0);
///     Ok(())
/// }
/// ```
///
/// Choosing the scheduler:
///
/// ```
/// #[magpie::main(flavor = "multi_thread", worker_threads = 2)]
/// async fn main() {
///     let workers = magpie::Handle::current().metrics().workers.len();
///     assert_eq!(workers, 2);
/// }
/// ```
///
/// ```
/// #[magpie::main(flavor = "current_thread")]
/// async fn main() {
///     let here = std::thread::current().id();
///     let there = magpie::spawn(async { std::thread::current().id() }).await.unwrap();
///     assert_eq!(here, there); // every task runs on the thread that called main
/// }
/// ```
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand(Kind::Main, args.into(), item.into()).into()
}

/// Runs an `async fn` test on a fresh magpie runtime.
///
/// The function becomes a `#[test]` `fn` that builds its own runtime with
/// `magpie::Builder`, `block_on`s the body and drops the runtime when it returns. Tests
/// may return a `Result`, and other attributes (`#[should_panic]`, `#[ignore]`) go on the
/// generated test as written. Do not add `#[test]` yourself.
///
/// By default the runtime is `current_thread`: every task the test spawns runs on the
/// test's own thread, as with tokio's `#[tokio::test]`. Use
/// `flavor = "multi_thread"` (and optionally `worker_threads = N`) to test with
/// work-stealing workers. `start_paused = true` starts the runtime's clock paused, so
/// sleeps and timeouts complete at once, in deadline order (see `magpie::time::pause`).
///
/// # Panics
///
/// The generated test panics if the runtime cannot be built.
///
/// # Examples
///
/// ```
/// #[magpie::test]
/// async fn gathers_in_order() {
///     let out = magpie::gather((1..=3).map(|i| async move { i * 2 })).await;
///     assert_eq!(out, [2, 4, 6]);
/// }
///
/// #[magpie::test(flavor = "multi_thread", worker_threads = 2)]
/// async fn two_workers() -> Result<(), magpie::JoinError> {
///     assert_eq!(magpie::Handle::current().metrics().workers.len(), 2);
///     let sum = magpie::spawn(async { 1 + 1 }).await?;
///     assert_eq!(sum, 2);
///     Ok(())
/// }
///
/// #[magpie::test(start_paused = true)]
/// async fn an_hour_in_no_time() {
///     let start = magpie::time::Instant::now();
///     magpie::time::sleep(std::time::Duration::from_secs(3600)).await;
///     assert_eq!(start.elapsed(), std::time::Duration::from_secs(3600));
/// }
/// # fn main() {}
/// ```
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand(Kind::Test, args.into(), item.into()).into()
}
