//! An axum 0.8 app on magpie: a `Router` with routes, `State` holding a `magpie::sync`
//! primitive, `Json`, a body limit and tower-http's timeout layer, served by
//! `magpie::compat::hyper::serve` with graceful shutdown.
//!
//! ```text
//! cargo run --release --features "axum tokio-compat" --example axum_server -- --port 3000
//! curl http://127.0.0.1:3000/            # Hello, world!
//! curl -X POST -d '{"by":5}' -H 'content-type: application/json' http://127.0.0.1:3000/count
//! curl http://127.0.0.1:3000/count       # {"count":5}
//! curl -X POST http://127.0.0.1:3000/shutdown   # stops the server gracefully
//! ```
//!
//! tower-http's `TimeoutLayer` sleeps on tokio's timer: the runtime is built with
//! `enable_tokio_compat()` (feature `tokio-compat`) so it works inside magpie's tasks.
//!
//! Two settings from the environment, for `scripts/http_bench.sh --axum` experiments:
//! `MAGPIE_AXUM_TIMEOUT_MS` (the timeout layer's limit, default 500; `0` leaves the layer
//! out, on the tokio twin too, which builds the same `app`) and
//! `MAGPIE_HEADER_READ_TIMEOUT_MS` (`serve`'s header read timeout, default 30,000; `0`
//! turns it off, as `axum::serve` on tokio has it: it sets no hyper timer).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use magpie::compat::tokio::EnableTokioCompat;
use serde::{Deserialize, Serialize};

/// Shared by every handler: a counter behind magpie's async mutex, and the shutdown event.
#[derive(Clone)]
struct AppState {
    count: Arc<magpie::sync::Mutex<u64>>,
    shutdown: Arc<magpie::sync::Event>,
}

#[derive(Deserialize)]
struct Add {
    by: u64,
}

#[derive(Serialize)]
struct Count {
    count: u64,
}

async fn hello() -> &'static str {
    "Hello, world!"
}

async fn get_count(State(state): State<AppState>) -> Json<Count> {
    Json(Count {
        count: *state.count.lock().await,
    })
}

async fn add(State(state): State<AppState>, Json(add): Json<Add>) -> Json<Count> {
    let mut count = state.count.lock().await;
    *count += add.by;
    Json(Count { count: *count })
}

async fn whoami(ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>) -> String {
    peer.to_string()
}

/// Echoes the body back (up to the body limit).
async fn echo(body: axum::body::Bytes) -> axum::body::Bytes {
    body
}

async fn slow() -> &'static str {
    magpie::time::sleep(Duration::from_secs(10)).await;
    "too late"
}

async fn request_shutdown(State(state): State<AppState>) -> StatusCode {
    state.shutdown.set();
    StatusCode::ACCEPTED
}

/// The app: also used by tests/axum_server.rs (through `#[path]`) and by the tokio twin.
pub fn app(shutdown: Arc<magpie::sync::Event>) -> Router {
    let state = AppState {
        count: Arc::new(magpie::sync::Mutex::new(0)),
        shutdown,
    };
    let router = Router::new()
        .route("/", get(hello))
        .route("/count", get(get_count).post(add))
        .route("/whoami", get(whoami))
        .route("/echo", post(echo))
        .route("/slow", get(slow))
        .route("/shutdown", post(request_shutdown))
        .layer(DefaultBodyLimit::max(1024));
    let router = match env_ms("MAGPIE_AXUM_TIMEOUT_MS", 500) {
        0 => router,
        ms => router.layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_millis(ms),
        )),
    };
    router.with_state(state)
}

/// A duration in ms from the environment, or `default`.
fn env_ms(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a whole number of milliseconds, not {v:?}")),
        Err(_) => default,
    }
}

#[allow(dead_code)] // the tests include this file for `app` only
fn main() -> std::io::Result<()> {
    let mut port = 3000u16;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => {
                port = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--port needs a number 0..=65535")
            }
            other => panic!("unknown argument {other:?} (usage: --port N)"),
        }
    }
    let rt = magpie::Builder::new_multi_thread()
        .enable_tokio_compat()
        .build()?;
    rt.block_on(async move {
        let listener = magpie::net::TcpListener::bind(("127.0.0.1", port)).await?;
        println!(
            "axum_server (magpie) listening on http://{}",
            listener.local_addr()?
        );
        // Graceful shutdown on Ctrl-C, SIGTERM or `POST /shutdown` (the tests use the
        // last): from here on a signal shuts the server down instead of killing it.
        use magpie::signal::unix::{signal, SignalKind};
        let mut sigint = signal(SignalKind::interrupt())?;
        let mut sigterm = signal(SignalKind::terminate())?;
        let stop = Arc::new(magpie::sync::Event::new());
        let signal = {
            let stop = Arc::clone(&stop);
            async move {
                let signals = magpie::select(sigint.recv(), sigterm.recv());
                magpie::select(signals, stop.wait()).await;
            }
        };
        let header_timeout = match env_ms("MAGPIE_HEADER_READ_TIMEOUT_MS", 30_000) {
            0 => None,
            ms => Some(Duration::from_millis(ms)),
        };
        magpie::compat::hyper::serve(listener, app(stop))
            .header_read_timeout(header_timeout)
            .with_graceful_shutdown(signal)
            .await
    })
}
