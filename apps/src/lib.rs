//! The example applications' code, one home for what used to be compiled into four crates
//! through `#[path]` includes: the RESP server (`examples/resp_server/main.rs`, its test
//! `tests/resp_server.rs`, its tokio twin `benches/src/bin/resp_server_tokio.rs` and the
//! fuzz target in `fuzz/`) and the HTTP service (`examples/http_server.rs`, its tokio twin
//! `benches/src/bin/http_server_tokio.rs` and `tests/compat_hyper.rs`).
//!
//! Not published: it is example code, kept as a crate so each file is compiled once and
//! every user sees the same items. Features: `magpie` (default) adds [`resp::server`],
//! the only runtime-specific part of the RESP server; `http` (default) adds [`http`].
//! The fuzz target builds with default features off and gets the runtime-agnostic rest.
//!
//! # Examples
//!
//! ```
//! use magpie_apps::resp::protocol::{parse_command, Limits, Parsed};
//!
//! let limits = Limits { max_bulk: 64, max_request: 512, max_args: 16 };
//! let mut args = Vec::new();
//! let parsed = parse_command(b"PING\r\n", &limits, &mut args).unwrap();
//! assert_eq!(parsed, Parsed::Complete { len: 6 });
//! ```

#[cfg(feature = "http")]
pub mod http;

/// A Redis-compatible key-value server (RESP2); see `examples/resp_server/main.rs` for
/// what it speaks. Only [`server`](resp::server) knows the runtime.
pub mod resp {
    pub mod commands;
    pub mod config;
    pub mod protocol;
    #[cfg(feature = "magpie")]
    pub mod server;
    pub mod session;
    pub mod store;
}
