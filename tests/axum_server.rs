//! examples/axum_server.rs's Router under `compat::hyper::serve`: every route driven by a
//! hyper client, bodies checked (State, Json, ConnectInfo, the body limit, the timeout
//! layer, graceful shutdown through a route).

#[allow(dead_code)]
#[path = "../examples/axum_server.rs"]
mod app;

use std::future::IntoFuture;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, StatusCode};
use magpie::compat::hyper::MagpieIo;
use magpie::compat::tokio::EnableTokioCompat;
use magpie::net::{TcpListener, TcpStream};

/// One request on a connection of its own (a 413 or a 400 makes hyper close the
/// connection, as it does not read the rest of a rejected body).
async fn call(addr: SocketAddr, method: Method, path: &str, body: &str) -> (StatusCode, String) {
    let stream = TcpStream::connect(addr).await.unwrap();
    let local = stream.local_addr().unwrap();
    let (mut send, conn) = hyper::client::conn::http1::handshake(MagpieIo::new(stream))
        .await
        .unwrap();
    magpie::spawn(conn);
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header("host", "localhost")
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_owned())))
        .unwrap();
    let resp = send.send_request(req).await.unwrap();
    let status = resp.status();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    let body = String::from_utf8(body.to_vec()).unwrap();
    // `/whoami` answers the client's own address: check it here, where it is known.
    if path == "/whoami" {
        assert_eq!(body, local.to_string());
    }
    (status, body)
}

#[test]
fn every_route() {
    let rt = magpie::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_tokio_compat()
        .build()
        .unwrap();
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(magpie::sync::Event::new());
        let signal = {
            let stop = stop.clone();
            async move { stop.wait().await }
        };
        let server = magpie::spawn(
            magpie::compat::hyper::serve(listener, app::app(stop))
                .with_graceful_shutdown(signal)
                .into_future(),
        );
        use Method as M;
        assert_eq!(
            call(addr, M::GET, "/", "").await,
            (StatusCode::OK, "Hello, world!".into())
        );
        assert_eq!(call(addr, M::GET, "/count", "").await.1, r#"{"count":0}"#);
        assert_eq!(
            call(addr, M::POST, "/count", r#"{"by":5}"#).await.1,
            r#"{"count":5}"#
        );
        assert_eq!(
            call(addr, M::POST, "/count", r#"{"by":2}"#).await.1,
            r#"{"count":7}"#
        );
        assert_eq!(call(addr, M::GET, "/count", "").await.1, r#"{"count":7}"#);
        let (status, _) = call(addr, M::POST, "/count", "not json").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(call(addr, M::GET, "/whoami", "").await.0, StatusCode::OK);
        assert_eq!(
            call(addr, M::POST, "/echo", "ping").await,
            (StatusCode::OK, "ping".into())
        );
        let big = "x".repeat(4096);
        assert_eq!(
            call(addr, M::POST, "/echo", &big).await.0,
            StatusCode::PAYLOAD_TOO_LARGE
        );
        assert_eq!(
            call(addr, M::GET, "/slow", "").await.0,
            StatusCode::REQUEST_TIMEOUT
        );
        assert_eq!(
            call(addr, M::GET, "/nope", "").await.0,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            call(addr, M::POST, "/shutdown", "").await.0,
            StatusCode::ACCEPTED
        );
        magpie::time::timeout(Duration::from_secs(15), server)
            .await
            .expect("graceful shutdown finished")
            .unwrap()
            .unwrap();
    });
}
