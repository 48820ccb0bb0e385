//! examples/https_server.rs over TLS: a rustls client (futures-rustls on a magpie socket)
//! that trusts only the certificate the example generated checks the bodies over HTTP/1.1
//! and over HTTP/2 picked by ALPN, and that a client trusting no such certificate is
//! refused. Its own binary because it needs `--features tls`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_rustls::rustls::pki_types::{CertificateDer, ServerName};
use futures_rustls::rustls::{ClientConfig, RootCertStore};
use futures_rustls::TlsConnector;
use http_body_util::{BodyExt, Empty};
use hyper::Request;
use magpie::compat::hyper::{MagpieExecutor, MagpieIo};
use magpie::net::{TcpListener, TcpStream};

#[path = "../examples/https_server.rs"]
mod https_server;

const HANG: Duration = Duration::from_secs(5);

fn runtime() -> magpie::Runtime {
    magpie::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap()
}

/// Starts the example's server on an ephemeral port; returns its address and certificate.
async fn start() -> (SocketAddr, CertificateDer<'static>) {
    let (config, cert) = https_server::tls_config().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    magpie::spawn(https_server::serve_tls(listener, config));
    (addr, cert)
}

fn client_config(trusted: Option<CertificateDer<'static>>, alpn: &[&[u8]]) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    if let Some(cert) = trusted {
        roots.add(cert).unwrap();
    }
    let mut config = ClientConfig::builder_with_provider(https_server::ring_provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Arc::new(config)
}

async fn connect(
    addr: SocketAddr,
    config: Arc<ClientConfig>,
) -> std::io::Result<futures_rustls::client::TlsStream<TcpStream>> {
    let tcp = TcpStream::connect(addr).await?;
    let name = ServerName::try_from("localhost").unwrap();
    TlsConnector::from(config).connect(name, tcp).await
}

fn get(path: &str) -> Request<Empty<Bytes>> {
    Request::get(path)
        .header("host", "localhost")
        .body(Empty::new())
        .unwrap()
}

async fn body(resp: hyper::Response<hyper::body::Incoming>) -> String {
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// Drops the request half and waits for the client connection's task to end, so each test
/// ends with its connections closed. (This test found the shutdown self-deadlock of a live
/// h2 connection dropped by a worker's queue drain: tests/rt/shutdown.rs
/// `a_wake_from_a_future_dropped_at_shutdown_is_not_dropped_inside_that_drop`.)
async fn close<S, E: std::fmt::Debug>(send: S, conn: magpie::task::JoinHandle<Result<(), E>>) {
    drop(send);
    magpie::time::timeout(HANG, conn)
        .await
        .expect("client connection did not end after its sender was dropped")
        .unwrap()
        .unwrap();
}

#[test]
fn http1_over_tls() {
    runtime().block_on(async {
        let (addr, cert) = start().await;
        let tls = magpie::time::timeout(HANG, connect(addr, client_config(Some(cert), &[])))
            .await
            .expect("TLS handshake hung")
            .expect("TLS handshake");
        assert_eq!(tls.get_ref().1.alpn_protocol(), None);
        let (mut send, conn) = hyper::client::conn::http1::handshake(MagpieIo::new(tls))
            .await
            .unwrap();
        let conn = magpie::spawn(conn);
        // Two requests on the one kept-alive connection.
        for (path, want) in [
            ("/", magpie_apps::http::HELLO),
            ("/json", magpie_apps::http::JSON),
        ] {
            send.ready().await.unwrap();
            let resp = send.send_request(get(path)).await.unwrap();
            assert_eq!(resp.status(), 200, "{path}");
            assert_eq!(resp.version(), hyper::Version::HTTP_11);
            assert_eq!(body(resp).await, want, "{path}");
        }
        send.ready().await.unwrap();
        let resp = send.send_request(get("/nope")).await.unwrap();
        assert_eq!(resp.status(), 404);
        close(send, conn).await;
    });
}

#[test]
fn http2_by_alpn() {
    runtime().block_on(async {
        let (addr, cert) = start().await;
        let tls = magpie::time::timeout(
            HANG,
            connect(addr, client_config(Some(cert), &[b"h2", b"http/1.1"])),
        )
        .await
        .expect("TLS handshake hung")
        .expect("TLS handshake");
        assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
        let (mut send, conn) = magpie::time::timeout(
            HANG,
            hyper::client::conn::http2::handshake(MagpieExecutor::new(), MagpieIo::new(tls)),
        )
        .await
        .expect("HTTP/2 handshake hung")
        .unwrap();
        let conn = magpie::spawn(conn);
        let resp = magpie::time::timeout(HANG, send.send_request(get("https://localhost/")))
            .await
            .expect("HTTP/2 request hung")
            .unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.version(), hyper::Version::HTTP_2);
        let body = magpie::time::timeout(HANG, body(resp))
            .await
            .expect("HTTP/2 body hung");
        assert_eq!(body, magpie_apps::http::HELLO);
        close(send, conn).await;
    });
}

#[test]
fn untrusted_certificate_is_refused() {
    runtime().block_on(async {
        let (addr, cert) = start().await;
        // A client trusting a different self-signed certificate than the one served.
        let (_, other) = https_server::tls_config().unwrap();
        for trusted in [None, Some(other)] {
            let err = magpie::time::timeout(HANG, connect(addr, client_config(trusted, &[])))
                .await
                .expect("TLS handshake hung")
                .expect_err("handshake with an untrusted certificate succeeded");
            assert!(
                err.to_string().contains("certificate"),
                "unexpected error: {err}"
            );
        }
        // The server keeps serving after the failed handshakes.
        let tls = magpie::time::timeout(HANG, connect(addr, client_config(Some(cert), &[])))
            .await
            .expect("TLS handshake hung")
            .expect("TLS handshake after refused ones");
        let (mut send, conn) = hyper::client::conn::http1::handshake(MagpieIo::new(tls))
            .await
            .unwrap();
        let conn = magpie::spawn(conn);
        let resp = send.send_request(get("/")).await.unwrap();
        assert_eq!(body(resp).await, magpie_apps::http::HELLO);
        close(send, conn).await;
    });
}
