//! The tokio twin of `examples/axum_server.rs`: the example's own `Router` (its `app`,
//! included by path) under `axum::serve` on tokio's multi-thread runtime, with
//! `ConnectInfo<SocketAddr>` as the magpie side provides it, so
//! `scripts/http_bench.sh --axum` compares `compat::hyper::serve` on magpie with
//! `axum::serve` on tokio and not two apps. (`POST /shutdown` does nothing here: the
//! twin runs until killed.)
//!
//! ```text
//! cargo run --release -p magpie-benches --features axum --bin axum_server_tokio -- --port 3001
//! ```

use std::net::SocketAddr;
use std::sync::Arc;

#[path = "../../../examples/axum_server.rs"]
#[allow(dead_code)] // only `app` is used; the example's `main` is its own
mod axum_server;

fn main() -> std::io::Result<()> {
    let port = magpie_apps::http::port_from_args();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        println!(
            "axum_server_tokio listening on http://{}",
            listener.local_addr()?
        );
        let app = axum_server::app(Arc::new(magpie::sync::Event::new()));
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    })
}
