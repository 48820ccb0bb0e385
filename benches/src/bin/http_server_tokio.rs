//! The tokio twin of `examples/http_server.rs`: the same hyper service
//! (`magpie_apps::http`, in `apps/src/http.rs`) on tokio's multi-thread runtime
//! through hyper-util's `TokioIo` and `TokioTimer`, set up the same way (one task per
//! connection, Nagle off, HTTP/1.1 keep-alive), so `scripts/http_bench.sh` compares the
//! runtimes and not the services.
//!
//! ```text
//! cargo run --release -p magpie-benches --bin http_server_tokio -- --port 3001
//! ```

use magpie_apps::http as service;

use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;

fn main() -> std::io::Result<()> {
    let port = service::port_from_args();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        println!(
            "http_server_tokio listening on http://{}",
            listener.local_addr()?
        );
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(TokioTimer::new());
        loop {
            let (stream, _) = match listener.accept().await {
                Ok(conn) => conn,
                Err(e) => {
                    eprintln!("accept failed: {e}");
                    continue;
                }
            };
            stream.set_nodelay(true)?;
            let conn = http.serve_connection(
                TokioIo::new(stream),
                hyper::service::service_fn(service::serve),
            );
            tokio::spawn(async move {
                if let Err(e) = conn.await {
                    eprintln!("connection error: {e}");
                }
            });
        }
    })
}
