//! The HTTP service of the hello-world server, shared word for word by the magpie example
//! (examples/http_server.rs), the tokio twin it is benchmarked against
//! (benches/src/bin/http_server_tokio.rs) and tests/compat_hyper.rs, so a comparison of
//! the two measures the runtimes, not the services.

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};

/// The body of `GET /`.
pub const HELLO: &str = "Hello, world!";

/// The body of `GET /json` (hand-formatted: the one JSON document this server sends).
pub const JSON: &str = r#"{"message":"Hello, World!"}"#;

/// The largest body `POST /echo` takes; a larger one gets 413.
pub const ECHO_LIMIT: usize = 1 << 20;

/// Answers `GET /` with plain text, `GET /json` with a small JSON document, `POST /echo`
/// with the request's body (up to [`ECHO_LIMIT`]: the route whose request can be left half
/// sent, which the graceful-shutdown test needs) and anything else with 404 Not Found.
/// hyper adds `content-length` (the bodies are full) and `date`.
pub async fn serve(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    if (req.method(), req.uri().path()) == (&Method::POST, "/echo") {
        return Ok(echo(req).await);
    }
    let (status, content_type, body) = match (req.method(), req.uri().path()) {
        (&Method::GET, "/") => (StatusCode::OK, "text/plain; charset=utf-8", HELLO),
        (&Method::GET, "/json") => (StatusCode::OK, "application/json", JSON),
        _ => (
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            "Not Found",
        ),
    };
    let mut resp = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    Ok(resp)
}

async fn echo(req: Request<Incoming>) -> Response<Full<Bytes>> {
    match Limited::new(req.into_body(), ECHO_LIMIT).collect().await {
        Ok(body) => Response::new(Full::new(body.to_bytes())),
        Err(e) => {
            let mut resp = Response::new(Full::new(Bytes::from(e.to_string())));
            *resp.status_mut() = StatusCode::PAYLOAD_TOO_LARGE;
            resp
        }
    }
}

/// The `--port N` argument (default 3000).
pub fn port_from_args() -> u16 {
    let mut args = std::env::args().skip(1);
    let mut port = 3000;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => {
                let value = args.next().expect("--port needs a value");
                port = value.parse().expect("--port needs a number 0..=65535");
            }
            other => panic!("unknown argument {other:?} (usage: --port N)"),
        }
    }
    port
}
