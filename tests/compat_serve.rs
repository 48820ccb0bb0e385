//! `magpie::compat::hyper::serve`: HTTP/1.1 and HTTP/2 (prior knowledge), the peer address
//! extension, faults (garbage, half a request, a huge header), graceful shutdown with a
//! request in flight, and the accept back-off when descriptors run out (`RLIMIT_NOFILE`
//! lowered in a child process).

use std::convert::Infallible;
use std::future::IntoFuture;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use magpie::compat::hyper::{serve, HyperService, MagpieExecutor, MagpieIo, PeerAddr};
use magpie::io::{AsyncReadExt, AsyncWriteExt};
use magpie::net::{TcpListener, TcpStream};

const HANG: Duration = Duration::from_secs(30);

fn runtime() -> magpie::Runtime {
    magpie::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap()
}

/// `/` hello, `/peer` the peer address the server saw, `/slow/MS` answers after MS ms.
async fn handler(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path().to_owned();
    let body = if path == "/peer" {
        let peer = req
            .extensions()
            .get::<PeerAddr>()
            .expect("PeerAddr extension");
        peer.0.to_string()
    } else if let Some(ms) = path.strip_prefix("/slow/") {
        magpie::time::sleep(Duration::from_millis(ms.parse().unwrap())).await;
        "slow done".to_owned()
    } else {
        "hello".to_owned()
    };
    Ok(Response::new(Full::new(Bytes::from(body))))
}

macro_rules! service {
    () => {
        HyperService(hyper::service::service_fn(handler))
    };
}

async fn get1(addr: SocketAddr, path: &str) -> Result<(String, SocketAddr), hyper::Error> {
    let stream = TcpStream::connect(addr).await.unwrap();
    let local = stream.local_addr().unwrap();
    let (mut send, conn) = hyper::client::conn::http1::handshake(MagpieIo::new(stream)).await?;
    magpie::spawn(conn);
    let req = Request::get(path)
        .header("host", "localhost")
        .body(Empty::<Bytes>::new())
        .unwrap();
    let resp = send.send_request(req).await?;
    assert_eq!(resp.status(), 200);
    let body = resp.into_body().collect().await?.to_bytes();
    Ok((String::from_utf8(body.to_vec()).unwrap(), local))
}

#[test]
fn http1_and_peer_addr() {
    runtime().block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        magpie::spawn(serve(listener, service!()).into_future());
        let (body, _) = get1(addr, "/").await.unwrap();
        assert_eq!(body, "hello");
        let (peer, local) = get1(addr, "/peer").await.unwrap();
        assert_eq!(
            peer,
            local.to_string(),
            "the server saw the client's address"
        );
    });
}

#[test]
fn http2_prior_knowledge() {
    runtime().block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        magpie::spawn(serve(listener, service!()).into_future());
        let stream = TcpStream::connect(addr).await.unwrap();
        let (send, conn) =
            hyper::client::conn::http2::handshake(MagpieExecutor::new(), MagpieIo::new(stream))
                .await
                .unwrap();
        magpie::spawn(conn);
        // Several streams at once on the one connection.
        let mut tasks = Vec::new();
        for i in 0..4 {
            let mut send = send.clone();
            tasks.push(magpie::spawn(async move {
                let path = if i % 2 == 0 { "/" } else { "/slow/20" };
                let req = Request::get(format!("http://localhost{path}"))
                    .body(Empty::<Bytes>::new())
                    .unwrap();
                let resp = send.send_request(req).await.unwrap();
                assert_eq!(resp.version(), hyper::Version::HTTP_2);
                let body = resp.into_body().collect().await.unwrap().to_bytes();
                (i, String::from_utf8(body.to_vec()).unwrap())
            }));
        }
        for t in tasks {
            let (i, body) = t.await.unwrap();
            assert_eq!(body, if i % 2 == 0 { "hello" } else { "slow done" });
        }
    });
}

/// Sends `bytes` raw, then reads what the server answers until it closes (or 5 s).
async fn raw_exchange(addr: SocketAddr, bytes: &[u8], close_write: bool) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    // A huge request may be cut off by the server closing: write errors are expected then.
    let _ = stream.write_all(bytes).await;
    if close_write {
        let _ = stream.shutdown(std::net::Shutdown::Write);
    }
    let mut out = Vec::new();
    let read = magpie::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut out)).await;
    assert!(
        read.is_ok(),
        "the server neither answered nor closed within 5 s"
    );
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn bad_requests_get_an_error_or_a_close_and_the_server_keeps_serving() {
    runtime().block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = serve(listener, service!()).header_read_timeout(Duration::from_millis(300));
        magpie::spawn(server.into_future());

        let garbage = raw_exchange(addr, b"\x00\x01GARBAGE \xff\r\n\r\n", false).await;
        assert!(
            garbage.is_empty() || garbage.starts_with("HTTP/1.1 400"),
            "garbage got {garbage:?}"
        );
        // Half a request, then EOF: closed without an answer (or a 400).
        let half = raw_exchange(addr, b"GET / HTTP/1.1\r\nHost: x\r\n", true).await;
        assert!(
            half.is_empty() || half.starts_with("HTTP/1.1 400"),
            "{half:?}"
        );
        // Half a request left open: the header-read timeout closes it.
        let started = Instant::now();
        let stalled = raw_exchange(addr, b"GET / HTTP/1.1\r\nHost: x\r\n", false).await;
        assert!(
            stalled.is_empty() || stalled.starts_with("HTTP/1.1 408"),
            "{stalled:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(4));
        // A 10 MiB header.
        let mut huge = b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: ".to_vec();
        huge.resize(huge.len() + 10 * 1024 * 1024, b'a');
        huge.extend_from_slice(b"\r\n\r\n");
        let big = raw_exchange(addr, &huge, false).await;
        assert!(
            big.is_empty() || big.starts_with("HTTP/1.1 431") || big.starts_with("HTTP/1.1 400"),
            "{:?}",
            &big[..big.len().min(100)]
        );
        // Still serving.
        assert_eq!(get1(addr, "/").await.unwrap().0, "hello");
    });
}

#[test]
fn graceful_shutdown_finishes_the_request_in_flight() {
    runtime().block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(magpie::sync::Event::new());
        let signal = {
            let stop = stop.clone();
            async move { stop.wait().await }
        };
        let server = magpie::spawn(
            serve(listener, service!())
                .with_graceful_shutdown(signal)
                .shutdown_timeout(Duration::from_secs(5))
                .into_future(),
        );
        let slow = magpie::spawn(async move { get1(addr, "/slow/300").await });
        magpie::time::sleep(Duration::from_millis(100)).await;
        let signalled = Instant::now();
        stop.set();
        let (body, _) = magpie::time::timeout(HANG, slow)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(body, "slow done", "the in-flight request completed");
        magpie::time::timeout(HANG, server)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert!(signalled.elapsed() < Duration::from_secs(3));
        // No longer accepting.
        assert!(TcpStream::connect(addr).await.is_err());
    });
}

#[test]
fn graceful_shutdown_closes_a_too_slow_request_at_the_deadline() {
    runtime().block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(magpie::sync::Event::new());
        let signal = {
            let stop = stop.clone();
            async move { stop.wait().await }
        };
        let server = magpie::spawn(
            serve(listener, service!())
                .with_graceful_shutdown(signal)
                .shutdown_timeout(Duration::from_millis(300))
                .into_future(),
        );
        let slow = magpie::spawn(async move { get1(addr, "/slow/20000").await });
        magpie::time::sleep(Duration::from_millis(100)).await;
        let signalled = Instant::now();
        stop.set();
        magpie::time::timeout(HANG, server)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        let took = signalled.elapsed();
        assert!(
            took >= Duration::from_millis(250),
            "returned before the deadline: {took:?}"
        );
        assert!(took < Duration::from_secs(3), "took {took:?}");
        let client = magpie::time::timeout(Duration::from_secs(5), slow).await;
        assert!(
            client.unwrap().unwrap().is_err(),
            "the too-slow request's connection was closed"
        );
    });
}

const CHILD_ENV: &str = "MAGPIE_EMFILE_CHILD";

fn count_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// The server of `emfile_backoff`, run in a child process whose descriptor limit is
/// lowered to a few above what it has open; prints its port, then serves until killed.
#[test]
#[ignore = "run by emfile_backoff in a child process"]
fn emfile_child() {
    assert!(
        std::env::var_os(CHILD_ENV).is_some(),
        "run by emfile_backoff in a child process with {CHILD_ENV}=1, not directly"
    );
    let rt = runtime();
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        // Let the runtime start everything it opens lazily before the limit goes down.
        magpie::time::sleep(Duration::from_millis(50)).await;
        let limit = (count_fds() + 4) as libc::rlim_t;
        let rl = libc::rlimit {
            rlim_cur: limit,
            rlim_max: limit,
        };
        // SAFETY: setrlimit reads the struct we pass; no memory is shared.
        assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &rl) }, 0);
        println!("PORT {port}");
        magpie::spawn(serve(listener, service!()).into_future())
            .await
            .unwrap()
            .unwrap();
    });
}

fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after.split(' ').collect();
    // utime and stime: fields 14 and 15 of stat, 12 and 13 after the command.
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

fn blocking_get(stream: &mut std::net::TcpStream) -> std::io::Result<String> {
    stream.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")?;
    let mut buf = [0u8; 1024];
    let mut got = Vec::new();
    while !got.ends_with(b"hello") {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
    }
    Ok(String::from_utf8_lossy(&got).into_owned())
}

#[test]
fn emfile_backoff() {
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "emfile_child",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let port = loop {
        let mut line = String::new();
        assert_ne!(
            stdout.read_line(&mut line).unwrap(),
            0,
            "child exited early"
        );
        // The harness may print "test emfile_child ... " on the same line first.
        if let Some((_, p)) = line.trim().split_once("PORT ") {
            break p.parse::<u16>().unwrap();
        }
    };
    let stderr = child.stderr.take().unwrap();
    let log = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = BufReader::new(stderr).read_to_string(&mut s);
        s
    });
    let result = std::panic::catch_unwind(|| {
        let timeout = Some(Duration::from_secs(10));
        // More connections than the child has descriptors left: the first few are
        // accepted, the rest wait in the backlog while the server backs off.
        let mut conns: Vec<std::net::TcpStream> = (0..12)
            .map(|_| {
                let s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
                s.set_read_timeout(timeout).unwrap();
                s
            })
            .collect();
        // The first connection is served (it was accepted before the limit was hit).
        assert!(blocking_get(&mut conns[0]).unwrap().ends_with("hello"));
        std::thread::sleep(Duration::from_millis(300));
        // Out of descriptors now: the server keeps serving the open connection ...
        assert!(blocking_get(&mut conns[0]).unwrap().ends_with("hello"));
        // ... and backs off rather than spinning: under 10 % of a core over 1 s.
        let before = cpu_ticks(child.id());
        std::thread::sleep(Duration::from_secs(1));
        let ticks = cpu_ticks(child.id()) - before;
        // SAFETY: sysconf has no preconditions.
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as u64;
        assert!(
            ticks * 10 < hz,
            "backing-off server used {ticks}/{hz} s of CPU in 1 s"
        );
        // Free descriptors: close the accepted ones; the last connection gets served.
        let mut last = conns.pop().unwrap();
        conns.clear();
        assert!(blocking_get(&mut last).unwrap().ends_with("hello"));
    });
    child.kill().unwrap();
    child.wait().unwrap();
    let log = log.join().unwrap();
    if let Err(panic) = result {
        eprintln!("child stderr:\n{log}");
        std::panic::resume_unwind(panic);
    }
    let lines = log
        .lines()
        .filter(|l| l.contains("out of resources"))
        .count();
    assert!(lines >= 1, "no back-off logged:\n{log}");
    assert!(lines < 40, "{lines} back-off lines: flooding\n{log}");
}
