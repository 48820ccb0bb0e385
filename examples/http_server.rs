//! An HTTP/1.1 + HTTP/2 hello-world server: hyper on magpie through
//! `magpie::compat::hyper::serve`.
//!
//! `GET /` answers "Hello, world!", `GET /json` a small JSON document, anything else 404.
//! Connections are kept alive; each is served by a task of its own on every worker.
//! `serve` turns Nagle off, backs off on `EMFILE` and logs per-connection errors.
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

use magpie::compat::hyper::{serve, HyperService};
use magpie::net::TcpListener;

fn main() -> std::io::Result<()> {
    let port = service::port_from_args();
    let rt = if std::env::var_os("MAGPIE_TOKIO_COMPAT").is_some_and(|v| v == "1") {
        tokio_compat_runtime()?
    } else {
        magpie::Runtime::new()?
    };
    rt.block_on(async move {
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        println!(
            "http_server (magpie) listening on http://{}",
            listener.local_addr()?
        );
        serve(
            listener,
            HyperService(hyper::service::service_fn(service::serve)),
        )
        .await
    })
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
