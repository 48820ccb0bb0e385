//! The tokio twin of `examples/https_server.rs`: the same hyper service
//! (`magpie_apps::http`) over TLS on tokio's multi-thread runtime, set up the same way
//! (tokio-rustls with ring, a self-signed rcgen certificate for `localhost`/`127.0.0.1`,
//! ALPN `h2` and `http/1.1`, hyper-util's auto HTTP/1.1 + HTTP/2 builder, one task per
//! connection, Nagle off), so `scripts/http_bench.sh --tls` compares the runtimes.
//!
//! ```text
//! cargo run --release -p magpie-benches --features tls --bin https_server_tokio -- --port 3444
//! ```

use std::sync::Arc;

use magpie_apps::http as service;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::{self, ServerConfig};
use tokio_rustls::TlsAcceptor;

/// The same config as the magpie example's `tls_config` (see its note on ring).
#[allow(deprecated)]
fn tls_config() -> std::io::Result<Arc<ServerConfig>> {
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .map_err(std::io::Error::other)?;
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        certified.signing_key.serialize_der(),
    ));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(std::io::Error::other)?
        .with_no_client_auth()
        .with_single_cert(vec![certified.cert.der().clone()], key)
        .map_err(std::io::Error::other)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

fn main() -> std::io::Result<()> {
    let port = service::port_from_args();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let acceptor = TlsAcceptor::from(tls_config()?);
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        println!(
            "https_server_tokio listening on https://{}",
            listener.local_addr()?
        );
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder.http1().timer(TokioTimer::new());
        builder.http2().timer(TokioTimer::new());
        let builder = Arc::new(builder);
        loop {
            let (stream, peer) = match listener.accept().await {
                Ok(conn) => conn,
                Err(e) => {
                    eprintln!("accept failed: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    continue;
                }
            };
            stream.set_nodelay(true)?;
            let acceptor = acceptor.clone();
            let builder = Arc::clone(&builder);
            tokio::spawn(async move {
                let tls = match acceptor.accept(stream).await {
                    Ok(tls) => tls,
                    Err(e) => {
                        eprintln!("TLS handshake with {peer} failed: {e}");
                        return;
                    }
                };
                let conn = builder.serve_connection(
                    TokioIo::new(tls),
                    hyper::service::service_fn(service::serve),
                );
                if let Err(e) = conn.await {
                    eprintln!("connection with {peer}: {e}");
                }
            });
        }
    })
}
