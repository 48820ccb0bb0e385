//! Graceful shutdown of `examples/echo_server.rs` and (with feature `hyper`)
//! `examples/http_server.rs`, end to end: the server runs as a child process, gets SIGTERM
//! (or SIGINT) while a connection is in flight, stops accepting, lets that connection
//! finish (or cuts it at the drain deadline) and exits with status 0.
//!
//! How the example runs as a child: cargo builds examples for a full `cargo test`, but not
//! for `cargo test --test graceful_shutdown`, and there is no `CARGO_BIN_EXE_` for
//! examples, so a path like `target/debug/examples/echo_server` may be missing or stale.
//! Instead this file compiles the example's own source in (`#[path]` below) and runs it by
//! re-executing this test binary with `child_entry --exact` and `MAGPIE_ECHO_CHILD_DRAIN_MS`
//! set: the child runs exactly the example's `serve`, in a process of its own, so the
//! signals go to it and never to this test process.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

#[path = "../examples/echo_server.rs"]
#[allow(dead_code)] // the example's `main` (this file calls `serve`)
mod echo_server;

#[cfg(feature = "hyper")]
#[path = "../examples/http_server.rs"]
#[allow(dead_code)] // the example's `main` (this file calls `run`)
mod http_server;

/// Set in the child: which server to run ("echo" or "http") and its drain deadline.
const CHILD_ENV: &str = "MAGPIE_SHUTDOWN_CHILD";
const CHILD_DRAIN_ENV: &str = "MAGPIE_SHUTDOWN_CHILD_DRAIN_MS";
const LIMIT: Duration = Duration::from_secs(30);

/// Not a test of its own: the server's entry point when this binary runs as the child
/// (with `CHILD_ENV` set); in the parent it returns at once.
#[test]
fn child_entry() {
    let Ok(which) = std::env::var(CHILD_ENV) else {
        return;
    };
    let ms = std::env::var(CHILD_DRAIN_ENV).expect("the drain deadline's variable");
    let drain = Duration::from_millis(ms.parse().expect("drain deadline in ms"));
    match which.as_str() {
        "echo" => magpie::block_on(echo_server::serve("127.0.0.1:0".to_owned(), drain)).unwrap(),
        #[cfg(feature = "hyper")]
        "http" => magpie::Runtime::new()
            .unwrap()
            .block_on(http_server::run("127.0.0.1:0", drain))
            .unwrap(),
        other => panic!("unknown child server {other:?}"),
    }
}

/// The server child; killed if a test fails before it exited.
struct Server {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Server {
    fn start(drain_ms: u64) -> (Server, String) {
        Server::start_kind("echo", "echo server listening on ", drain_ms)
    }

    /// Starts the `which` server; `banner` is the start of the line that gives its address.
    fn start_kind(which: &str, banner: &str, drain_ms: u64) -> (Server, String) {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["child_entry", "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, which)
            .env(CHILD_DRAIN_ENV, drain_ms.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut server = Server { child, lines };
        let line = server.expect_line(banner);
        let addr = line
            .split("listening on ")
            .nth(1)
            .unwrap()
            .trim()
            .trim_start_matches("http://")
            .to_owned();
        (server, addr)
    }

    /// The next line of the server's output containing `what` (earlier lines skipped).
    fn expect_line(&mut self, what: &str) -> String {
        let deadline = Instant::now() + LIMIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.contains(what) => return line,
                Ok(_) => continue,
                Err(e) => panic!("the server never printed {what:?}: {e}"),
            }
        }
    }

    fn signal(&self, sig: libc::c_int) {
        let pid = self.child.id() as libc::pid_t;
        // SAFETY: kill(2) has no preconditions; the pid is our unreaped child's.
        let sent = unsafe { libc::kill(pid, sig) };
        assert_eq!(sent, 0, "kill({pid}, {sig})");
    }

    /// Waits (bounded) for the exit and returns the exit code.
    fn exit_code(&mut self) -> Option<i32> {
        let deadline = Instant::now() + LIMIT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            assert!(Instant::now() < deadline, "the server did not exit");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn connect(addr: &str) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(LIMIT)).unwrap();
    s
}

fn round_trip(s: &mut TcpStream, msg: &[u8]) {
    s.write_all(msg).unwrap();
    let mut back = vec![0; msg.len()];
    s.read_exact(&mut back).unwrap();
    assert_eq!(back, msg);
}

#[test]
fn sigterm_lets_the_in_flight_request_finish_then_exits_0() {
    let (mut server, addr) = Server::start(10_000);
    let mut client = connect(&addr);
    round_trip(&mut client, b"first half of the request, ");
    server.signal(libc::SIGTERM);
    let line = server.expect_line("shutting down");
    assert!(line.contains("1 connection(s) in flight"), "{line}");
    // The listener is closed: a new connection is refused.
    let refused = TcpStream::connect(&addr);
    assert!(
        refused.is_err(),
        "a connection was accepted after the signal"
    );
    // The connection in flight is still served after the signal...
    round_trip(&mut client, b"and the second half after SIGTERM");
    drop(client); // ...until it closes
    server.expect_line("drained every connection");
    assert_eq!(server.exit_code(), Some(0));
}

#[test]
fn sigint_with_a_connection_that_never_closes_exits_0_at_the_deadline() {
    let (mut server, addr) = Server::start(300);
    let mut client = connect(&addr);
    round_trip(&mut client, b"ping");
    let signalled = Instant::now();
    server.signal(libc::SIGINT);
    server.expect_line("shutting down");
    server.expect_line("drain deadline passed: closing 1 connection(s)");
    assert_eq!(server.exit_code(), Some(0));
    assert!(
        signalled.elapsed() >= Duration::from_millis(300),
        "exited before the drain deadline"
    );
    // The process is gone: the connection reads end of file (or a reset).
    let mut buf = [0u8; 1];
    assert!(matches!(client.read(&mut buf), Ok(0) | Err(_)));
}

/// examples/http_server.rs: a request whose body is half sent when SIGTERM arrives is
/// still answered in full (hyper's graceful shutdown finishes the request in flight), a
/// new connection is refused, and the server exits 0 once that connection closed.
#[cfg(feature = "hyper")]
#[test]
fn http_server_sigterm_completes_the_in_flight_request_then_exits_0() {
    let (mut server, addr) =
        Server::start_kind("http", "http_server (magpie) listening on ", 10_000);
    let mut client = connect(&addr);
    client
        .write_all(
            b"POST /echo HTTP/1.1\r\nhost: test\r\ncontent-length: 22\r\n\r\nsent before the ",
        )
        .unwrap();
    // The request has reached the server (hyper is waiting for the rest of the body)
    // before the signal: a keep-alive round trip on a second connection proves the
    // server is up and accepting, and the first connection was accepted before it.
    let mut probe = connect(&addr);
    probe
        .write_all(b"GET / HTTP/1.1\r\nhost: test\r\nconnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    probe.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    server.signal(libc::SIGTERM);
    server.expect_line("shutting down");
    // The listener is closed: a new connection is refused (poll: the accept loop closes
    // it a moment after printing).
    let deadline = Instant::now() + LIMIT;
    while TcpStream::connect(&addr).is_ok() {
        assert!(
            Instant::now() < deadline,
            "still accepting after the signal"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    client.write_all(b"signal").unwrap();
    let mut response = String::new();
    client.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200 OK"), "{response}");
    assert!(
        response.ends_with("sent before the signal"),
        "the in-flight request's body did not come back whole: {response}"
    );
    server.expect_line("drained; bye");
    assert_eq!(server.exit_code(), Some(0));
}
