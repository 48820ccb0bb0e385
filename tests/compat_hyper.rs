//! hyper 1.x on magpie through `magpie::compat::hyper`: the example's service served by
//! hyper's HTTP/1 server on magpie, driven by a hyper client on magpie and by raw
//! hand-written requests; keep-alive, concurrency on a multi-thread runtime, and hyper's
//! header read timeout running on `MagpieTimer`.

use magpie_apps::http as service;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http1::SendRequest;
use hyper::rt::{Executor, Sleep, Timer};
use hyper::Request;
use magpie::compat::hyper::{MagpieExecutor, MagpieIo, MagpieTimer};
use magpie::io::{AsyncReadExt, AsyncWriteExt};
use magpie::net::{TcpListener, TcpStream};

/// A hang detector for whole tests, far beyond what any of them needs.
const HANG: Duration = Duration::from_secs(60);

fn runtime(workers: usize) -> magpie::Runtime {
    magpie::Builder::new_multi_thread()
        .worker_threads(workers)
        .build()
        .unwrap()
}

/// What a test's server saw: connections accepted, and the errors their `serve_connection`
/// futures ended with.
struct ServerLog {
    accepted: AtomicUsize,
    errors: magpie::sync::Queue<hyper::Error>,
}

/// Serves the example's service on an ephemeral loopback port, one task per connection,
/// as examples/http_server.rs does; `http` configures hyper's connection builder.
async fn start_server(http: hyper::server::conn::http1::Builder) -> (SocketAddr, Arc<ServerLog>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let log = Arc::new(ServerLog {
        accepted: AtomicUsize::new(0),
        errors: magpie::sync::Queue::unbounded(),
    });
    let server_log = log.clone();
    magpie::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            server_log.accepted.fetch_add(1, Ordering::SeqCst);
            stream.set_nodelay(true).unwrap();
            let conn = http.serve_connection(
                MagpieIo::new(stream),
                hyper::service::service_fn(service::serve),
            );
            let log = server_log.clone();
            magpie::spawn(async move {
                if let Err(e) = conn.await {
                    log.errors.put(e).await.unwrap();
                }
            });
        }
    });
    (addr, log)
}

fn server_builder() -> hyper::server::conn::http1::Builder {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(MagpieTimer::new());
    http
}

/// A hyper client connection on magpie: the handshake over `MagpieIo`, the connection
/// task spawned through `MagpieExecutor`.
async fn connect_client(addr: SocketAddr, vectored: bool) -> SendRequest<Empty<Bytes>> {
    let stream = TcpStream::connect(addr).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let io = MagpieIo::new(stream).vectored_writes(vectored);
    let (sender, conn) = hyper::client::conn::http1::handshake(io).await.unwrap();
    MagpieExecutor::new().execute(async move {
        conn.await.unwrap();
    });
    sender
}

/// GET `path`: (status, content-type, content-length, body).
async fn get(
    sender: &mut SendRequest<Empty<Bytes>>,
    path: &str,
) -> (u16, String, Option<String>, String) {
    sender.ready().await.unwrap();
    let req = Request::get(path)
        .header("host", "localhost")
        .body(Empty::new())
        .unwrap();
    let resp = sender.send_request(req).await.unwrap();
    let status = resp.status().as_u16();
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    let content_type = header("content-type").unwrap_or_default();
    let content_length = header("content-length");
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        content_type,
        content_length,
        String::from_utf8(body.to_vec()).unwrap(),
    )
}

#[test]
fn hyper_client_gets_every_route_on_one_kept_alive_connection() {
    let rt = runtime(2);
    rt.block_on(magpie::time::timeout(HANG, async {
        let (addr, log) = start_server(server_builder()).await;
        let mut sender = connect_client(addr, true).await;

        let (status, ctype, len, body) = get(&mut sender, "/").await;
        assert_eq!(status, 200);
        assert_eq!(ctype, "text/plain; charset=utf-8");
        assert_eq!(len.as_deref(), Some("13"));
        assert_eq!(body, "Hello, world!");

        let (status, ctype, len, body) = get(&mut sender, "/json").await;
        assert_eq!(status, 200);
        assert_eq!(ctype, "application/json");
        assert_eq!(len.as_deref(), Some("27"));
        assert_eq!(body, r#"{"message":"Hello, World!"}"#);

        let (status, _, _, body) = get(&mut sender, "/nope").await;
        assert_eq!(status, 404);
        assert_eq!(body, "Not Found");

        for _ in 0..10 {
            assert_eq!(get(&mut sender, "/").await.3, "Hello, world!");
        }
        // Thirteen requests, one connection: keep-alive held.
        assert_eq!(log.accepted.load(Ordering::SeqCst), 1);
        assert!(log.errors.is_empty());
    }))
    .expect("test hung");
}

/// Reads one HTTP/1.1 response with a content-length body from `stream`, keeping any
/// bytes past it in `pending`: (status line, lower-cased headers, body).
async fn read_response(
    stream: &mut TcpStream,
    pending: &mut Vec<u8>,
) -> (String, Vec<(String, String)>, String) {
    let head_end = loop {
        if let Some(i) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let mut chunk = [0u8; 1024];
        let n = stream.read(&mut chunk).await.unwrap();
        assert!(n > 0, "connection closed mid-response: {pending:?}");
        pending.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8(pending[..head_end].to_vec()).unwrap();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap().to_owned();
    let headers: Vec<(String, String)> = lines
        .map(|l| {
            let (k, v) = l.split_once(':').unwrap();
            (k.trim().to_ascii_lowercase(), v.trim().to_owned())
        })
        .collect();
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .expect("content-length")
        .1
        .parse()
        .unwrap();
    pending.drain(..head_end + 4);
    while pending.len() < len {
        let mut chunk = [0u8; 1024];
        let n = stream.read(&mut chunk).await.unwrap();
        assert!(n > 0, "connection closed mid-body");
        pending.extend_from_slice(&chunk[..n]);
    }
    let body = String::from_utf8(pending.drain(..len).collect()).unwrap();
    (status_line, headers, body)
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[test]
fn raw_requests_keep_alive_pipelining_and_close() {
    let rt = runtime(2);
    rt.block_on(magpie::time::timeout(HANG, async {
        let (addr, log) = start_server(server_builder()).await;
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let mut pending = Vec::new();

        stream
            .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
            .await
            .unwrap();
        let (status, headers, body) = read_response(&mut stream, &mut pending).await;
        assert_eq!(status, "HTTP/1.1 200 OK");
        assert_eq!(
            header(&headers, "content-type"),
            Some("text/plain; charset=utf-8")
        );
        assert_eq!(header(&headers, "content-length"), Some("13"));
        assert!(header(&headers, "date").is_some(), "{headers:?}");
        assert_eq!(
            header(&headers, "connection"),
            None,
            "kept alive by default"
        );
        assert_eq!(body, "Hello, world!");

        // Two requests in one write (pipelined): two responses, in order.
        stream
            .write_all(
                b"GET /json HTTP/1.1\r\nHost: localhost\r\n\r\n\
                  POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n",
            )
            .await
            .unwrap();
        let (status, headers, body) = read_response(&mut stream, &mut pending).await;
        assert_eq!(status, "HTTP/1.1 200 OK");
        assert_eq!(header(&headers, "content-type"), Some("application/json"));
        assert_eq!(body, r#"{"message":"Hello, World!"}"#);
        let (status, _, body) = read_response(&mut stream, &mut pending).await;
        assert_eq!(status, "HTTP/1.1 404 Not Found", "only GET is routed");
        assert_eq!(body, "Not Found");

        // Connection: close is honoured: the response says so, then EOF.
        stream
            .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let (status, headers, body) = read_response(&mut stream, &mut pending).await;
        assert_eq!(status, "HTTP/1.1 200 OK");
        assert_eq!(header(&headers, "connection"), Some("close"));
        assert_eq!(body, "Hello, world!");
        let mut rest = Vec::new();
        stream.read_to_end(&mut rest).await.unwrap();
        assert!(rest.is_empty() && pending.is_empty());

        assert_eq!(log.accepted.load(Ordering::SeqCst), 1);
        assert!(log.errors.is_empty());
    }))
    .expect("test hung");
}

#[test]
fn concurrent_clients_on_a_multi_thread_runtime() {
    const CLIENTS: usize = 16;
    const REQUESTS: usize = 25;
    let rt = runtime(2);
    let (addr, log) = rt.block_on(start_server(server_builder()));
    let threads_seen = Arc::new(std::sync::Mutex::new(std::collections::HashSet::new()));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let threads_seen = threads_seen.clone();
            rt.spawn(async move {
                // Half the clients let hyper flatten writes, half hand it vectors.
                let mut sender = connect_client(addr, i % 2 == 0).await;
                for r in 0..REQUESTS {
                    threads_seen
                        .lock()
                        .unwrap()
                        .insert(std::thread::current().id());
                    let path = if (i + r) % 2 == 0 { "/" } else { "/json" };
                    let (status, _, _, body) = get(&mut sender, path).await;
                    assert_eq!(status, 200);
                    let want = if path == "/" {
                        service::HELLO
                    } else {
                        service::JSON
                    };
                    assert_eq!(body, want);
                }
            })
        })
        .collect();
    rt.block_on(magpie::time::timeout(HANG, async {
        for c in clients {
            c.await.unwrap();
        }
    }))
    .expect("test hung");
    assert_eq!(log.accepted.load(Ordering::SeqCst), CLIENTS);
    assert!(log.errors.is_empty());
    // Not a timing claim, only that the runtime really was multi-threaded: the
    // clients were polled on worker threads, never on this (block_on's) thread.
    assert!(!threads_seen
        .lock()
        .unwrap()
        .contains(&std::thread::current().id()));
}

#[test]
fn header_read_timeout_on_magpie_timer_cuts_off_a_slow_client() {
    const LIMIT: Duration = Duration::from_millis(300);
    let rt = runtime(2);
    rt.block_on(magpie::time::timeout(HANG, async {
        let mut http = server_builder();
        http.header_read_timeout(LIMIT);
        let (addr, log) = start_server(http).await;

        // Clients that send their heads in time are served, with the timer armed (it
        // runs while hyper waits for each head, idle keep-alive time included)...
        let mut fast = connect_client(addr, true).await;
        for _ in 0..5 {
            assert_eq!(get(&mut fast, "/").await.3, "Hello, world!");
        }
        drop(fast); // closed by the client: the server's connection ends without error

        // ...one that stalls mid-head is cut off once the limit has passed, unanswered.
        let mut slow = TcpStream::connect(addr).await.unwrap();
        let start = Instant::now();
        slow.write_all(b"GET / HTTP/1.1\r\nHost: loc")
            .await
            .unwrap();
        let mut rest = Vec::new();
        let _ = slow.read_to_end(&mut rest).await; // EOF or a reset
        let waited = start.elapsed();
        assert!(
            waited >= LIMIT,
            "cut off after {waited:?}, before the limit"
        );
        assert!(rest.is_empty(), "no response to a half head: {rest:?}");
        let err = log.errors.get().await.unwrap();
        assert!(err.is_timeout(), "{err:?}");

        // The server goes on serving.
        let mut after = connect_client(addr, false).await;
        assert_eq!(get(&mut after, "/json").await.3, service::JSON);
        assert_eq!(log.accepted.load(Ordering::SeqCst), 3);
        assert!(log.errors.is_empty(), "only the slow client failed");
    }))
    .expect("test hung");
}

#[test]
fn timer_sleeps_and_resets_on_magpie_time() {
    let rt = runtime(1);
    rt.block_on(async {
        let timer = MagpieTimer::new();
        let start = Instant::now();
        timer.sleep(Duration::from_millis(20)).await;
        assert!(start.elapsed() >= Duration::from_millis(20));

        // `reset` moves our own sleep (found by downcast) in place.
        let mut sleep = timer.sleep(Duration::from_secs(3600));
        let deadline = Instant::now() + Duration::from_millis(10);
        timer.reset(&mut sleep, deadline);
        magpie::time::timeout(HANG, sleep.as_mut()).await.unwrap();
        assert!(Instant::now() >= deadline);

        // A sleep from another timer is replaced by one of ours.
        struct Never;
        impl std::future::Future for Never {
            type Output = ();
            fn poll(
                self: std::pin::Pin<&mut Self>,
                _: &mut std::task::Context<'_>,
            ) -> std::task::Poll<()> {
                std::task::Poll::Pending
            }
        }
        impl Sleep for Never {}
        let mut foreign: std::pin::Pin<Box<dyn Sleep>> = Box::pin(Never);
        timer.reset(&mut foreign, Instant::now() + Duration::from_millis(5));
        magpie::time::timeout(HANG, foreign.as_mut()).await.unwrap();
    });
}

#[test]
fn executor_with_handle_spawns_from_outside_the_runtime() {
    let rt = runtime(2);
    let exec = MagpieExecutor::with_handle(rt.handle().clone());
    let done = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = std::sync::mpsc::channel();
    for _ in 0..8 {
        let done = done.clone();
        let tx = tx.clone();
        exec.execute(async move {
            magpie::yield_now().await;
            done.fetch_add(1, Ordering::SeqCst);
            tx.send(()).unwrap();
        });
    }
    for _ in 0..8 {
        rx.recv_timeout(HANG).expect("an executed task never ran");
    }
    assert_eq!(done.load(Ordering::SeqCst), 8);
}
