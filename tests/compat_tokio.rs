//! `magpie::compat::tokio`: tokio-only code inside magpie tasks — `tokio::spawn`,
//! `tokio::time::sleep`, and tower-http's `TimeoutLayer` (tokio's timer) answering 408
//! for a slow handler served by `compat::hyper::serve`.

use std::convert::Infallible;
use std::future::IntoFuture;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use magpie::compat::hyper::{serve, HyperService, MagpieIo};
use magpie::compat::tokio::{Compat, EnableTokioCompat};
use magpie::net::{TcpListener, TcpStream};

fn compat_runtime() -> magpie::Runtime {
    magpie::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_tokio_compat()
        .build()
        .unwrap()
}

#[test]
fn tokio_spawn_and_sleep_inside_magpie_tasks() {
    let rt = compat_runtime();
    let got = rt.block_on(async {
        magpie::spawn(async {
            let started = Instant::now();
            tokio::time::sleep(Duration::from_millis(30)).await;
            let slept = started.elapsed();
            let spawned = tokio::spawn(async {
                tokio::time::sleep(Duration::from_millis(5)).await;
                21 * 2
            })
            .await
            .unwrap();
            (slept, spawned)
        })
        .await
        .unwrap()
    });
    assert!(got.0 >= Duration::from_millis(30), "{:?}", got.0);
    assert_eq!(got.1, 42);
}

#[test]
fn compat_wraps_one_future_without_enable() {
    // A plain runtime: only the wrapped future sees tokio.
    let rt = magpie::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let v = rt.block_on(async {
        magpie::spawn(Compat::new(async {
            tokio::time::sleep(Duration::from_millis(5)).await;
            tokio::spawn(async { 7 }).await.unwrap()
        }))
        .await
        .unwrap()
    });
    assert_eq!(v, 7);
    let outside = rt.block_on(async {
        magpie::spawn(async { tokio::runtime::Handle::try_current().is_ok() })
            .await
            .unwrap()
    });
    assert!(!outside, "no tokio context leaks outside Compat");
}

/// `/slow` takes 5 s, `/` answers at once.
async fn handler(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    if req.uri().path() == "/slow" {
        magpie::time::sleep(Duration::from_secs(5)).await;
    }
    Ok(Response::new(Full::new(Bytes::from_static(b"done"))))
}

async fn status_of(addr: std::net::SocketAddr, path: &str) -> (StatusCode, Bytes) {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut send, conn) = hyper::client::conn::http1::handshake(MagpieIo::new(stream))
        .await
        .unwrap();
    magpie::spawn(conn);
    let req = Request::get(path)
        .header("host", "localhost")
        .body(Empty::<Bytes>::new())
        .unwrap();
    let resp = send.send_request(req).await.unwrap();
    let status = resp.status();
    (status, resp.into_body().collect().await.unwrap().to_bytes())
}

#[test]
fn tower_http_timeout_layer_answers_408() {
    let rt = compat_runtime();
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let svc = tower::ServiceBuilder::new()
            .layer(tower_http::timeout::TimeoutLayer::with_status_code(
                StatusCode::REQUEST_TIMEOUT,
                Duration::from_millis(200),
            ))
            .service(HyperService(hyper::service::service_fn(handler)));
        magpie::spawn(serve(listener, svc).into_future());
        let (status, body) = status_of(addr, "/").await;
        assert_eq!((status, &body[..]), (StatusCode::OK, &b"done"[..]));
        let started = Instant::now();
        let (status, _) = status_of(addr, "/slow").await;
        assert_eq!(status, StatusCode::REQUEST_TIMEOUT);
        assert!(started.elapsed() < Duration::from_secs(4));
    });
}
