//! A Redis-compatible key-value server (RESP2) on magpie.
//!
//! ```text
//! cargo run --release --example resp_server -- --port 6379
//! redis-cli -p 6379 set greeting hello      # or: printf 'PING\r\n' | nc 127.0.0.1 6379
//! redis-benchmark -p 6379 -t set,get -n 200000 -c 50 -q
//! ```
//!
//! Commands: PING, ECHO, GET, SET (EX/PX/KEEPTTL, NX/XX, GET), DEL, EXISTS, INCR, MGET,
//! MSET, EXPIRE (NX/XX/GT/LT), TTL, PTTL, DBSIZE, QUIT, plus `CONFIG GET save|appendonly`
//! and `COMMAND` so redis-benchmark and redis-cli start cleanly. Requests are multibulk
//! or inline (`PING\r\n`, blank-separated, no quoting). Replies and error texts follow
//! Redis 7.
//!
//! Defaults (see `--help`): binds 127.0.0.1:6379, at most 10,000 clients (one more gets
//! `-ERR max number of clients reached` and is closed), a client silent for 300 s is
//! closed, a bulk string may be 512 MiB (Redis's `proto-max-bulk-len`) but a whole
//! request at most 64 MiB (`--max-frame`), and at most 1,048,576 arguments. A malformed
//! or oversized request gets `-ERR Protocol error: ...` and the connection is closed; an
//! oversized one is refused from its header, before its payload is read or allocated.
//!
//! The code lives in the `magpie-apps` crate (`apps/src/resp/`), shared with the test,
//! the tokio twin and the fuzz target. Layout: `protocol.rs` parses requests and encodes replies, `store.rs` is the sharded
//! key space, `commands.rs` the command semantics, `session.rs` one connection's buffers
//! (pipelining: every complete request in the buffer is answered, replies leave in one
//! write), `config.rs` the options; only `server.rs` knows the runtime. The tokio twin
//! (`benches/src/bin/resp_server_tokio.rs`) shares every file but `server.rs`.
//!
//! The store's shards use `std::sync::Mutex`: a lock is held for one map operation and
//! never across an `.await`, and it measured faster than an async mutex here (see
//! docs/benchmarks.md). Keys expire lazily on access and actively: a task runs every
//! 100 ms and drops due keys from each shard's deadline heap.

use std::process::ExitCode;

use magpie_apps::resp::{config, server};

fn main() -> ExitCode {
    let config = match config::Config::from_args(std::env::args().skip(1)) {
        Ok(config) => config,
        Err(msg) => {
            eprintln!("{msg}");
            return ExitCode::from(2);
        }
    };
    let mut builder = magpie::Builder::new_multi_thread();
    if let Some(n) = config.threads {
        builder.worker_threads(n);
    }
    let runtime = match builder.thread_name("resp-worker").build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        let listener = magpie::net::TcpListener::bind(config.addr().as_str()).await?;
        println!(
            "resp_server (magpie) listening on {}",
            listener.local_addr()?
        );
        server::serve(listener, config).await
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("resp_server: {e}");
            ExitCode::FAILURE
        }
    }
}
