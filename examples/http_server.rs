//! An HTTP/1.1 hello-world server: hyper on magpie through `magpie::compat::hyper`.
//!
//! `GET /` answers "Hello, world!", `GET /json` a small JSON document, anything else 404.
//! Connections are kept alive; each is served by a task of its own on every worker.
//!
//! ```text
//! cargo run --release --features hyper --example http_server -- --port 3000
//! curl http://127.0.0.1:3000/json
//! ```
//!
//! `scripts/http_bench.sh` loads it with wrk beside its tokio twin
//! (`benches/src/bin/http_server_tokio.rs`), which serves the same `service.rs`.

use magpie_apps::http as service;

use magpie::compat::hyper::{MagpieIo, MagpieTimer};
use magpie::net::TcpListener;

fn main() -> std::io::Result<()> {
    let port = service::port_from_args();
    let rt = magpie::Runtime::new()?;
    rt.block_on(async move {
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        println!(
            "http_server (magpie) listening on http://{}",
            listener.local_addr()?
        );
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(MagpieTimer::new());
        loop {
            let (stream, _) = match listener.accept().await {
                Ok(conn) => conn,
                Err(e) => {
                    // EMFILE and friends: report and keep serving the others.
                    eprintln!("accept failed: {e}");
                    continue;
                }
            };
            stream.set_nodelay(true)?;
            let conn = http.serve_connection(
                MagpieIo::new(stream),
                hyper::service::service_fn(service::serve),
            );
            magpie::spawn(async move {
                if let Err(e) = conn.await {
                    eprintln!("connection error: {e}");
                }
            });
        }
    })
}
