//! asyncio-style task coordination for magpie.
//!
//! This crate will hold `gather`, `try_gather`, `wait` with `ReturnWhen`, `as_completed`,
//! `TaskGroup` (structured concurrency across threads), `shield` and `select`. Every child
//! is spawned as a real task, so the same code runs in parallel on every worker of a
//! multi-thread runtime and still works on a current-thread one. It is re-exported at the
//! root of the `magpie` facade. (Skeleton: the combinators land with their own issue.)
#![warn(missing_docs, missing_debug_implementations)]
