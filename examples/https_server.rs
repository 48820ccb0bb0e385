//! The hello-world server of `examples/http_server.rs` over TLS: rustls through
//! futures-rustls on magpie's sockets, hyper (HTTP/1.1, or HTTP/2 when the client picks
//! `h2` by ALPN) on top, with a self-signed certificate for `localhost` and `127.0.0.1`
//! generated at start by rcgen.
//!
//! ```text
//! cargo run --release --features tls --example https_server -- --port 3443
//! curl -k https://127.0.0.1:3443/json
//! ```
//!
//! Why futures-rustls and not tokio-rustls: magpie's sockets are `futures-io` types, so
//! futures-rustls wraps them directly, and hyper reads the TLS stream through
//! `compat::hyper::MagpieIo` as it reads a plain socket. tokio-rustls would need tokio's I/O
//! traits on both sides (`compat::tokio_io` below it, hyper-util's tokio adapter above it)
//! for the same bytes. The crypto provider is ring (aws-lc-rs needs cmake and nasm).
//!
//! `scripts/http_bench.sh --tls` loads it with wrk beside its tokio twin
//! (`benches/src/bin/https_server_tokio.rs`: tokio-rustls, the same service and cert).

use std::io;
use std::sync::Arc;

use futures_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use futures_rustls::rustls::{self, ServerConfig};
use futures_rustls::TlsAcceptor;
use hyper_util::server::conn::auto;
use magpie::compat::hyper::{AcceptBackoff, MagpieExecutor, MagpieIo, MagpieTimer};
use magpie::net::TcpListener;
use magpie_apps::http as service;

/// A self-signed certificate for `localhost` and `127.0.0.1` and a rustls server config
/// presenting it, offering `h2` and `http/1.1` by ALPN, with ring as the crypto provider.
/// The certificate is returned too, for a client to trust (tests/https_server.rs).
pub fn tls_config() -> io::Result<(Arc<ServerConfig>, CertificateDer<'static>)> {
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .map_err(io::Error::other)?;
    let cert = certified.cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        certified.signing_key.serialize_der(),
    ));
    let mut config = ServerConfig::builder_with_provider(ring_provider())
        .with_safe_default_protocol_versions()
        .map_err(io::Error::other)?
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key)
        .map_err(io::Error::other)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok((Arc::new(config), cert))
}

/// rustls's ring provider. rustls 0.23.48 deprecates it because ring has no post-quantum
/// key exchange (X25519MLKEM768); aws-lc-rs has, but needs cmake and nasm to build. For a
/// loopback example and benchmark classical X25519 is what is wanted anyway.
#[allow(deprecated)]
pub fn ring_provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Accepts connections on `listener` for ever, each in a task of its own: the TLS
/// handshake, then the hello service over HTTP/1.1 or HTTP/2 (hyper-util's auto builder
/// reads the client's preface). A failed handshake or connection is logged and ends only
/// that connection; accept errors go through [`AcceptBackoff`] as in `compat::hyper::serve`.
pub async fn serve_tls(listener: TcpListener, config: Arc<ServerConfig>) -> io::Result<()> {
    let acceptor = TlsAcceptor::from(config);
    let mut builder = auto::Builder::new(MagpieExecutor::new());
    builder.http1().timer(MagpieTimer::new());
    builder.http2().timer(MagpieTimer::new());
    let builder = Arc::new(builder);
    let mut backoff = AcceptBackoff::new();
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(conn) => {
                backoff.reset();
                conn
            }
            Err(e) => {
                backoff.handle(e).await?;
                continue;
            }
        };
        stream.set_nodelay(true)?;
        let acceptor = acceptor.clone();
        let builder = Arc::clone(&builder);
        magpie::spawn(async move {
            let tls = match acceptor.accept(stream).await {
                Ok(tls) => tls,
                Err(e) => {
                    eprintln!("TLS handshake with {peer} failed: {e}");
                    return;
                }
            };
            let conn = builder.serve_connection(
                MagpieIo::new(tls),
                hyper::service::service_fn(service::serve),
            );
            if let Err(e) = conn.await {
                eprintln!("connection with {peer}: {e}");
            }
        });
    }
}

#[allow(dead_code)] // the tests include this file for `tls_config` and `serve_tls` only
fn main() -> io::Result<()> {
    let port = service::port_from_args();
    let rt = magpie::Runtime::new()?;
    rt.block_on(async move {
        let (config, _cert) = tls_config()?;
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        println!(
            "https_server (magpie) listening on https://{}",
            listener.local_addr()?
        );
        serve_tls(listener, config).await
    })
}
