//! An HTTP/1.1 + HTTP/2 hello-world server: hyper on magpie through
//! `magpie::compat::hyper::serve`.
//!
//! `GET /` answers "Hello, world!", `GET /json` a small JSON document, anything else 404.
//! Connections are kept alive; each is served by a task of its own on every worker.
//! `POST /echo` answers with the request's body. `serve` turns Nagle off, backs off on
//! `EMFILE` and logs per-connection errors.
//!
//! **Graceful shutdown.** On SIGINT (Ctrl-C) or SIGTERM the server stops accepting, lets
//! the requests in flight finish (HTTP/1 connections close after their current request,
//! HTTP/2 ones get GOAWAY) for up to 10 s (`MAGPIE_HTTP_DRAIN_MS` sets another deadline),
//! closes what is left and exits with status 0. tests/graceful_shutdown.rs checks it.
//!
//! ```text
//! cargo run --release --features hyper --example http_server -- --port 3000
//! curl http://127.0.0.1:3000/json
//! ```
//!
//! With `MAGPIE_TOKIO_COMPAT=1` (and `--features hyper,tokio-compat`) the runtime is built
//! with `Builder::enable_tokio_compat()`, for `scripts/http_bench.sh --compat` to measure
//! what the tokio bridge costs a magpie-native request.
//!
//! `scripts/http_bench.sh` loads it with wrk beside its tokio twin
//! (`benches/src/bin/http_server_tokio.rs`), which serves the same `service.rs`.

use magpie_apps::http as service;

use std::time::Duration;

use magpie::compat::hyper::{serve, HyperService};
use magpie::net::TcpListener;
use magpie::signal::unix::{signal, SignalKind};

fn main() -> std::io::Result<()> {
    let port = service::port_from_args();
    let drain = match std::env::var("MAGPIE_HTTP_DRAIN_MS") {
        Ok(ms) => Duration::from_millis(ms.parse().expect("MAGPIE_HTTP_DRAIN_MS: milliseconds")),
        Err(_) => Duration::from_secs(10),
    };
    let rt = if std::env::var_os("MAGPIE_TOKIO_COMPAT").is_some_and(|v| v == "1") {
        tokio_compat_runtime()?
    } else {
        magpie::Runtime::new()?
    };
    rt.block_on(run(("127.0.0.1", port), drain))
}

/// Serves until SIGINT or SIGTERM, then drains for up to `drain`.
pub async fn run(addr: impl magpie::net::ToSocketAddrs, drain: Duration) -> std::io::Result<()> {
    let listener = TcpListener::bind(addr).await?;
    // Listen for the signals before announcing the address: from here on they shut the
    // server down instead of killing the process.
    let mut sigint = signal(SignalKind::interrupt())?;
    let mut sigterm = signal(SignalKind::terminate())?;
    println!(
        "http_server (magpie) listening on http://{}",
        listener.local_addr()?
    );
    let stop = async move {
        magpie::select(sigint.recv(), sigterm.recv()).await;
        println!("shutting down: draining for up to {drain:?}");
    };
    serve(
        listener,
        HyperService(hyper::service::service_fn(service::serve)),
    )
    .with_graceful_shutdown(stop)
    .shutdown_timeout(drain)
    .await?;
    println!("drained; bye");
    Ok(())
}

#[cfg(feature = "tokio-compat")]
fn tokio_compat_runtime() -> std::io::Result<magpie::Runtime> {
    use magpie::compat::tokio::EnableTokioCompat;
    magpie::Builder::new_multi_thread()
        .enable_tokio_compat()
        .build()
}

#[cfg(not(feature = "tokio-compat"))]
fn tokio_compat_runtime() -> std::io::Result<magpie::Runtime> {
    panic!("MAGPIE_TOKIO_COMPAT=1 needs the example built with --features hyper,tokio-compat")
}
