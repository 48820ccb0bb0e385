//! The RESP server example (`examples/resp_server`), its real modules from the `magpie-apps` crate,
//! served on magpie on an ephemeral port and driven by a small blocking RESP client.
//!
//! Waits are hang detectors (tens of seconds) or polls with generous deadlines; nothing
//! depends on the machine being fast.

use magpie_apps::resp::{config, protocol, server};

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use config::Config;
use protocol::{encode_command, parse_command, Limits, Parsed};

/// Generous: only a hung server gets near it.
const HANG: Duration = Duration::from_secs(30);

/// A server on its own runtime; dropping it shuts the runtime down.
struct Server {
    addr: SocketAddr,
    _runtime: magpie::Runtime,
}

fn start(config: Config) -> Server {
    let runtime = magpie::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("runtime");
    let listener = runtime
        .block_on(magpie::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let addr = listener.local_addr().unwrap();
    runtime.spawn(server::serve(listener, config));
    Server {
        addr,
        _runtime: runtime,
    }
}

fn start_default() -> Server {
    start(Config::default())
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Reply {
    Simple(String),
    Error(String),
    Int(i64),
    Bulk(Option<Vec<u8>>),
    Array(Option<Vec<Reply>>),
}

fn ok() -> Reply {
    Reply::Simple("OK".into())
}

fn bulk(s: &str) -> Reply {
    Reply::Bulk(Some(s.as_bytes().to_vec()))
}

fn err(s: &str) -> Reply {
    Reply::Error(s.into())
}

const NIL: Reply = Reply::Bulk(None);

/// A blocking RESP2 client.
struct Client {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Client {
    fn connect(server: &Server) -> Client {
        let stream = TcpStream::connect(server.addr).expect("connect");
        stream.set_read_timeout(Some(HANG)).unwrap();
        stream.set_nodelay(true).unwrap();
        Client {
            reader: BufReader::new(stream.try_clone().unwrap()),
            writer: stream,
        }
    }

    fn send_raw(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).expect("send");
    }

    fn send(&mut self, args: &[&str]) {
        let mut out = Vec::new();
        encode_command(args, &mut out);
        self.send_raw(&out);
    }

    fn cmd(&mut self, args: &[&str]) -> Reply {
        self.send(args);
        self.reply()
    }

    fn line(&mut self) -> String {
        let mut line = String::new();
        let n = self.reader.read_line(&mut line).expect("read reply");
        assert!(n > 0, "connection closed while a reply was expected");
        assert!(line.ends_with("\r\n"), "reply line without CRLF: {line:?}");
        line.truncate(line.len() - 2);
        line
    }

    fn reply(&mut self) -> Reply {
        let line = self.line();
        let (kind, rest) = line.split_at(1);
        match kind {
            "+" => Reply::Simple(rest.into()),
            "-" => Reply::Error(rest.into()),
            ":" => Reply::Int(rest.parse().expect("integer reply")),
            "$" => {
                let len: i64 = rest.parse().expect("bulk length");
                if len < 0 {
                    return Reply::Bulk(None);
                }
                let mut data = vec![0; len as usize + 2];
                self.reader.read_exact(&mut data).expect("bulk body");
                assert_eq!(&data[len as usize..], b"\r\n");
                data.truncate(len as usize);
                Reply::Bulk(Some(data))
            }
            "*" => {
                let n: i64 = rest.parse().expect("array length");
                if n < 0 {
                    return Reply::Array(None);
                }
                Reply::Array(Some((0..n).map(|_| self.reply()).collect()))
            }
            _ => panic!("not a RESP2 reply: {line:?}"),
        }
    }

    /// Asserts the server closes the connection (after any replies already read).
    fn expect_closed(&mut self) {
        let mut rest = Vec::new();
        match self.reader.read_to_end(&mut rest) {
            Ok(_) => assert!(rest.is_empty(), "unexpected bytes before close: {rest:?}"),
            Err(e) if e.kind() == ErrorKind::ConnectionReset => {}
            Err(e) => panic!("expected the server to close, got {e}"),
        }
    }
}

/// Polls `probe` until it returns true, panicking after [`HANG`].
fn eventually(what: &str, mut probe: impl FnMut() -> bool) {
    let deadline = Instant::now() + HANG;
    while !probe() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn ping_echo_and_errors() {
    let server = start_default();
    let mut c = Client::connect(&server);
    assert_eq!(c.cmd(&["PING"]), Reply::Simple("PONG".into()));
    assert_eq!(c.cmd(&["ping", "hi there"]), bulk("hi there"));
    assert_eq!(c.cmd(&["ECHO", ""]), bulk(""));
    assert_eq!(
        c.cmd(&["get"]),
        err("ERR wrong number of arguments for 'get' command")
    );
    assert_eq!(
        c.cmd(&["GET", "a", "b"]),
        err("ERR wrong number of arguments for 'get' command")
    );
    assert_eq!(
        c.cmd(&["foo", "a", "b"]),
        err("ERR unknown command 'foo', with args beginning with: 'a' 'b' ")
    );
    // An error reply never breaks the line structure, whatever the client sent.
    assert_eq!(
        c.cmd(&["fo\r\no"]),
        err("ERR unknown command 'fo  o', with args beginning with: ")
    );
    assert_eq!(
        c.cmd(&["PING", "a", "b"]),
        err("ERR wrong number of arguments for 'ping' command")
    );
    // CONFIG GET answers what redis-benchmark asks on start.
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "save"]),
        Reply::Array(Some(vec![bulk("save"), bulk("")]))
    );
    assert_eq!(
        c.cmd(&["config", "get", "appendonly"]),
        Reply::Array(Some(vec![bulk("appendonly"), bulk("no")]))
    );
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "maxmemory"]),
        Reply::Array(Some(vec![]))
    );
    assert_eq!(c.cmd(&["QUIT"]), ok());
    c.expect_closed();
}

#[test]
fn get_set_del_exists() {
    let server = start_default();
    let mut c = Client::connect(&server);
    assert_eq!(c.cmd(&["GET", "k"]), NIL);
    assert_eq!(c.cmd(&["SET", "k", "v1"]), ok());
    assert_eq!(c.cmd(&["GET", "k"]), bulk("v1"));
    assert_eq!(c.cmd(&["SET", "k", "a longer value"]), ok());
    assert_eq!(c.cmd(&["GET", "k"]), bulk("a longer value"));
    // NX / XX / GET.
    assert_eq!(c.cmd(&["SET", "k", "x", "NX"]), NIL);
    assert_eq!(c.cmd(&["SET", "new", "x", "XX"]), NIL);
    assert_eq!(c.cmd(&["GET", "new"]), NIL);
    assert_eq!(c.cmd(&["SET", "new", "1", "nx"]), ok());
    assert_eq!(c.cmd(&["SET", "new", "2", "XX", "GET"]), bulk("1"));
    assert_eq!(c.cmd(&["GET", "new"]), bulk("2"));
    assert_eq!(
        c.cmd(&["SET", "k", "v", "NX", "XX"]),
        err("ERR syntax error")
    );
    assert_eq!(c.cmd(&["SET", "k", "v", "BOGUS"]), err("ERR syntax error"));
    // Binary-safe keys and values.
    let mut raw = Vec::new();
    encode_command(&[&b"SET"[..], b"\0\r\n", b"\xff\r\n\0"], &mut raw);
    encode_command(&[&b"GET"[..], b"\0\r\n"], &mut raw);
    c.send_raw(&raw);
    assert_eq!(c.reply(), ok());
    assert_eq!(c.reply(), Reply::Bulk(Some(b"\xff\r\n\0".to_vec())));
    // EXISTS counts a key as often as it is named; DEL counts what it removed.
    assert_eq!(c.cmd(&["EXISTS", "k", "k", "new", "none"]), Reply::Int(3));
    assert_eq!(c.cmd(&["DEL", "k", "none", "new"]), Reply::Int(2));
    assert_eq!(c.cmd(&["EXISTS", "k", "new"]), Reply::Int(0));
    assert_eq!(c.cmd(&["DEL", "k"]), Reply::Int(0));
}

#[test]
fn incr() {
    let server = start_default();
    let mut c = Client::connect(&server);
    assert_eq!(c.cmd(&["INCR", "n"]), Reply::Int(1));
    assert_eq!(c.cmd(&["INCR", "n"]), Reply::Int(2));
    assert_eq!(c.cmd(&["GET", "n"]), bulk("2"));
    assert_eq!(c.cmd(&["SET", "n", "-5"]), ok());
    assert_eq!(c.cmd(&["INCR", "n"]), Reply::Int(-4));
    for bad in [
        "abc",
        "",
        "1.5",
        "+1",
        "01",
        " 1",
        "-0",
        "99999999999999999999",
    ] {
        assert_eq!(c.cmd(&["SET", "s", bad]), ok());
        assert_eq!(
            c.cmd(&["INCR", "s"]),
            err("ERR value is not an integer or out of range"),
            "INCR of {bad:?}"
        );
    }
    assert_eq!(c.cmd(&["SET", "max", &i64::MAX.to_string()]), ok());
    assert_eq!(
        c.cmd(&["INCR", "max"]),
        err("ERR increment or decrement would overflow")
    );
    assert_eq!(c.cmd(&["SET", "min", &i64::MIN.to_string()]), ok());
    assert_eq!(c.cmd(&["INCR", "min"]), Reply::Int(i64::MIN + 1));
    // INCR keeps the key's deadline.
    assert_eq!(c.cmd(&["SET", "t", "1", "EX", "100"]), ok());
    assert_eq!(c.cmd(&["INCR", "t"]), Reply::Int(2));
    assert!(matches!(c.cmd(&["TTL", "t"]), Reply::Int(1..=100)));
}

#[test]
fn mget_mset() {
    let server = start_default();
    let mut c = Client::connect(&server);
    assert_eq!(c.cmd(&["MSET", "a", "1", "b", "2", "a", "3"]), ok());
    assert_eq!(
        c.cmd(&["MGET", "a", "b", "c", "a"]),
        Reply::Array(Some(vec![bulk("3"), bulk("2"), NIL, bulk("3")]))
    );
    assert_eq!(
        c.cmd(&["MSET", "a", "1", "b"]),
        err("ERR wrong number of arguments for 'mset' command")
    );
    assert_eq!(
        c.cmd(&["MGET"]),
        err("ERR wrong number of arguments for 'mget' command")
    );
    // MSET clears a deadline, as SET does.
    assert_eq!(c.cmd(&["SET", "d", "1", "EX", "100"]), ok());
    assert_eq!(c.cmd(&["MSET", "d", "2"]), ok());
    assert_eq!(c.cmd(&["TTL", "d"]), Reply::Int(-1));
}

#[test]
fn expire_and_ttl() {
    let server = start_default();
    let mut c = Client::connect(&server);
    assert_eq!(c.cmd(&["TTL", "missing"]), Reply::Int(-2));
    assert_eq!(c.cmd(&["PTTL", "missing"]), Reply::Int(-2));
    assert_eq!(c.cmd(&["SET", "k", "v"]), ok());
    assert_eq!(c.cmd(&["TTL", "k"]), Reply::Int(-1));
    assert_eq!(c.cmd(&["EXPIRE", "missing", "10"]), Reply::Int(0));
    assert_eq!(c.cmd(&["EXPIRE", "k", "100"]), Reply::Int(1));
    assert!(matches!(c.cmd(&["TTL", "k"]), Reply::Int(99..=100)));
    assert!(matches!(c.cmd(&["PTTL", "k"]), Reply::Int(1..=100_000)));
    // NX / XX / GT / LT.
    assert_eq!(c.cmd(&["EXPIRE", "k", "50", "NX"]), Reply::Int(0));
    assert_eq!(c.cmd(&["EXPIRE", "k", "50", "GT"]), Reply::Int(0));
    assert_eq!(c.cmd(&["EXPIRE", "k", "50", "LT"]), Reply::Int(1));
    assert_eq!(c.cmd(&["EXPIRE", "k", "200", "XX"]), Reply::Int(1));
    assert_eq!(
        c.cmd(&["EXPIRE", "k", "1", "ZZ"]),
        err("ERR Unsupported option ZZ")
    );
    assert_eq!(
        c.cmd(&["EXPIRE", "k", "soon"]),
        err("ERR value is not an integer or out of range")
    );
    // A plain SET clears the deadline; KEEPTTL keeps it.
    assert_eq!(c.cmd(&["SET", "k", "v2", "KEEPTTL"]), ok());
    assert!(matches!(c.cmd(&["TTL", "k"]), Reply::Int(150..=200)));
    assert_eq!(c.cmd(&["SET", "k", "v3"]), ok());
    assert_eq!(c.cmd(&["TTL", "k"]), Reply::Int(-1));
    // A deadline in the past deletes the key.
    assert_eq!(c.cmd(&["EXPIRE", "k", "0"]), Reply::Int(1));
    assert_eq!(c.cmd(&["GET", "k"]), NIL);
    // SET's own options.
    assert_eq!(
        c.cmd(&["SET", "k", "v", "EX", "0"]),
        err("ERR invalid expire time in 'set' command")
    );
    assert_eq!(
        c.cmd(&["SET", "k", "v", "PX", "x"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        c.cmd(&["SET", "k", "v", "EX", "1", "PX", "1"]),
        err("ERR syntax error")
    );
    assert_eq!(c.cmd(&["SET", "k", "v", "EX"]), err("ERR syntax error"));
    // PX with a small value: the key goes away (lazily, on access).
    assert_eq!(c.cmd(&["SET", "short", "v", "PX", "50"]), ok());
    assert!(matches!(
        c.cmd(&["PTTL", "short"]),
        Reply::Int(0..=50) | Reply::Int(-2)
    ));
    eventually("a PX 50 key to expire", || c.cmd(&["GET", "short"]) == NIL);
    assert_eq!(c.cmd(&["TTL", "short"]), Reply::Int(-2));
    assert_eq!(c.cmd(&["EXISTS", "short"]), Reply::Int(0));
}

#[test]
fn keys_nobody_reads_are_evicted_actively() {
    let server = start_default();
    let mut c = Client::connect(&server);
    for i in 0..200 {
        assert_eq!(c.cmd(&["SET", &format!("k{i}"), "v", "PX", "20"]), ok());
    }
    assert_eq!(c.cmd(&["SET", "stays", "v"]), ok());
    // DBSIZE counts expired keys until they are evicted; only the sampler touches them.
    eventually("the sampler to evict expired keys", || {
        c.cmd(&["DBSIZE"]) == Reply::Int(1)
    });
    assert_eq!(c.cmd(&["GET", "stays"]), bulk("v"));
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let server = start_default();
    let mut c = Client::connect(&server);
    let mut batch = Vec::new();
    for i in 0..2000 {
        encode_command(&["SET", &format!("p{i}"), &i.to_string()], &mut batch);
        encode_command(&["INCR", &format!("p{i}")], &mut batch);
        encode_command(&["GET", &format!("p{i}")], &mut batch);
    }
    c.send_raw(&batch);
    for i in 0..2000 {
        assert_eq!(c.reply(), ok());
        assert_eq!(c.reply(), Reply::Int(i + 1));
        assert_eq!(c.reply(), bulk(&(i + 1).to_string()));
    }
    // Requests split at every byte boundary still parse.
    let mut one = Vec::new();
    encode_command(&["ECHO", "split across writes"], &mut one);
    for b in &one {
        c.send_raw(std::slice::from_ref(b));
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(c.reply(), bulk("split across writes"));
}

#[test]
fn replies_to_large_values_are_flushed_while_the_pipeline_runs() {
    let server = start_default();
    let mut c = Client::connect(&server);
    let big = "x".repeat(256 * 1024);
    assert_eq!(c.cmd(&["SET", "big", &big]), ok());
    let mut batch = Vec::new();
    for _ in 0..64 {
        encode_command(&["GET", "big"], &mut batch);
    }
    c.send_raw(&batch);
    for _ in 0..64 {
        assert_eq!(c.reply(), Reply::Bulk(Some(big.as_bytes().to_vec())));
    }
}

#[test]
fn inline_commands() {
    let server = start_default();
    let mut c = Client::connect(&server);
    c.send_raw(b"PING\r\n");
    assert_eq!(c.reply(), Reply::Simple("PONG".into()));
    // Bare LF, tabs and repeated blanks, a blank line (no reply), then mixed with
    // multibulk in one write.
    c.send_raw(b"SET  k\tinline-value\n\r\n\nGET k\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\nping\r\n");
    assert_eq!(c.reply(), ok());
    assert_eq!(c.reply(), bulk("inline-value"));
    assert_eq!(c.reply(), bulk("inline-value"));
    assert_eq!(c.reply(), Reply::Simple("PONG".into()));
    c.send_raw(b"nosuch x\r\n");
    assert_eq!(
        c.reply(),
        err("ERR unknown command 'nosuch', with args beginning with: 'x' ")
    );
}

#[test]
fn malformed_input_gets_an_error_and_the_connection_is_closed() {
    let server = start_default();
    let cases: [(&[u8], &str); 6] = [
        (
            b"*1\r\nfoo\r\n",
            "ERR Protocol error: expected '$', got 'f'",
        ),
        (b"*x\r\n", "ERR Protocol error: invalid multibulk length"),
        (b"*-1\r\n", "ERR Protocol error: invalid multibulk length"),
        (b"*1\r\n$-1\r\n", "ERR Protocol error: invalid bulk length"),
        (
            b"*1\r\n$3\r\nGETxx",
            "ERR Protocol error: bulk string not terminated by CRLF",
        ),
        (
            b"*1\r\n$3\rX",
            "ERR Protocol error: invalid bulk length: no LF after CR",
        ),
    ];
    for (input, expected) in cases {
        let mut c = Client::connect(&server);
        // A good request first: its reply still arrives before the error.
        c.send_raw(b"PING\r\n");
        c.send_raw(input);
        assert_eq!(c.reply(), Reply::Simple("PONG".into()));
        assert_eq!(c.reply(), err(expected), "input {input:?}");
        c.expect_closed();
    }
    // The server is still fine.
    assert_eq!(
        Client::connect(&server).cmd(&["PING"]),
        Reply::Simple("PONG".into())
    );
}

#[test]
fn oversized_requests_are_refused_from_their_header() {
    let mut config = Config::default();
    config.limits.max_bulk = 1024;
    config.limits.max_request = 16 * 1024;
    config.limits.max_args = 100;
    let server = start(config);

    // A bulk over the limit: refused at the header, before any payload is sent.
    let mut c = Client::connect(&server);
    c.send_raw(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1025\r\n");
    assert_eq!(c.reply(), err("ERR Protocol error: invalid bulk length"));
    c.expect_closed();

    // A length no machine could hold, with the default limits too.
    let default_server = start_default();
    let mut c = Client::connect(&default_server);
    c.send_raw(b"*2\r\n$3\r\nGET\r\n$99999999999999999\r\n");
    assert_eq!(c.reply(), err("ERR Protocol error: invalid bulk length"));
    c.expect_closed();
    let mut c = Client::connect(&default_server);
    c.send_raw(b"*1\r\n$999999999999999999999999\r\n");
    assert_eq!(
        c.reply(),
        err("ERR Protocol error: too big bulk length line")
    );
    c.expect_closed();

    // Too many arguments, and more arguments than the request limit could ever hold.
    let mut c = Client::connect(&server);
    c.send_raw(b"*101\r\n");
    assert_eq!(
        c.reply(),
        err("ERR Protocol error: invalid multibulk length")
    );
    c.expect_closed();

    // Bulks each under the limit whose total would exceed the request limit.
    let mut c = Client::connect(&server);
    let mut request = b"*20\r\n".to_vec();
    for _ in 0..20 {
        request.extend_from_slice(b"$1000\r\n");
        request.extend_from_slice(&[b'a'; 1000]);
        request.extend_from_slice(b"\r\n");
    }
    c.send_raw(&request[..10_000]);
    // The server answers and closes whether or not the rest is sent.
    let _ = c.writer.write_all(&request[10_000..]);
    assert_eq!(c.reply(), err("ERR Protocol error: request too large"));
    c.expect_closed();

    // An inline line that never ends.
    let mut c = Client::connect(&server);
    let _ = c.writer.write_all(&vec![b'a'; 20 * 1024]);
    assert_eq!(c.reply(), err("ERR Protocol error: too big inline request"));
    c.expect_closed();

    // An inline argument is held to the bulk limit too (found by the fuzzer).
    let mut c = Client::connect(&server);
    let mut line = b"ECHO ".to_vec();
    line.extend_from_slice(&[b'a'; 1025]);
    line.extend_from_slice(b"\r\n");
    c.send_raw(&line);
    assert_eq!(c.reply(), err("ERR Protocol error: invalid bulk length"));
    c.expect_closed();

    // Right at the limits is fine.
    let mut c = Client::connect(&server);
    let value = "v".repeat(1024);
    assert_eq!(c.cmd(&["SET", "k", &value]), ok());
    assert_eq!(c.cmd(&["GET", "k"]), bulk(&value));
}

#[test]
fn clients_over_the_limit_are_refused() {
    let config = Config {
        max_conns: 2,
        ..Config::default()
    };
    let server = start(config);
    let mut a = Client::connect(&server);
    let mut b = Client::connect(&server);
    // Each answered, so each holds its permit.
    assert_eq!(a.cmd(&["PING"]), Reply::Simple("PONG".into()));
    assert_eq!(b.cmd(&["PING"]), Reply::Simple("PONG".into()));
    let mut over = Client::connect(&server);
    assert_eq!(over.reply(), err("ERR max number of clients reached"));
    over.expect_closed();
    // A client leaving frees its place (once the server has seen it go).
    drop(a);
    eventually("a freed connection slot", || {
        let mut c = Client::connect(&server);
        c.send(&["PING"]);
        c.reply() == Reply::Simple("PONG".into())
    });
    assert_eq!(b.cmd(&["PING"]), Reply::Simple("PONG".into()));
}

#[test]
fn silent_connections_are_closed_after_the_idle_timeout() {
    let config = Config {
        idle_timeout: Some(Duration::from_millis(200)),
        ..Config::default()
    };
    let server = start(config);
    let mut silent = Client::connect(&server);
    assert_eq!(silent.cmd(&["PING"]), Reply::Simple("PONG".into()));
    let started = Instant::now();
    silent.expect_closed();
    assert!(started.elapsed() >= Duration::from_millis(150));
}

#[test]
fn concurrent_increments_sum_exactly() {
    let server = start_default();
    const CLIENTS: usize = 16;
    const EACH: usize = 500;
    std::thread::scope(|s| {
        for _ in 0..CLIENTS {
            s.spawn(|| {
                let mut c = Client::connect(&server);
                for _ in 0..EACH {
                    assert!(matches!(c.cmd(&["INCR", "counter"]), Reply::Int(_)));
                }
            });
        }
    });
    let mut c = Client::connect(&server);
    assert_eq!(
        c.cmd(&["GET", "counter"]),
        bulk(&(CLIENTS * EACH).to_string())
    );
}

#[test]
fn parser_reports_how_much_it_needs() {
    let limits = Limits::default();
    let mut args = Vec::new();
    let full = b"*2\r\n$3\r\nGET\r\n$5\r\nhello\r\n";
    for cut in 0..full.len() {
        match parse_command(&full[..cut], &limits, &mut args) {
            Ok(Parsed::Incomplete { need }) => {
                assert!(need > cut && need <= full.len(), "cut {cut}: need {need}")
            }
            other => panic!("cut {cut}: {other:?}"),
        }
    }
    assert_eq!(
        parse_command(full, &limits, &mut args),
        Ok(Parsed::Complete { len: full.len() })
    );
    assert_eq!(args, vec![8..11, 17..22]);
}

#[test]
fn options_parse() {
    let args = [
        "--port",
        "0",
        "--bind",
        "::1",
        "--max-conns",
        "5",
        "--idle-timeout",
        "0",
        "--max-bulk",
        "10",
        "--max-frame",
        "100",
        "--threads",
        "3",
    ];
    let config = Config::from_args(args.iter().map(|s| s.to_string())).unwrap();
    assert_eq!(config.addr(), "[::1]:0");
    assert_eq!(config.max_conns, 5);
    assert_eq!(config.idle_timeout, None);
    assert_eq!(config.limits.max_bulk, 10);
    assert_eq!(config.limits.max_request, 100);
    assert_eq!(config.threads, Some(3));
    let defaults = Config::from_args(Vec::new()).unwrap();
    assert_eq!(defaults.addr(), "127.0.0.1:6379");
    assert_eq!(defaults.idle_timeout, Some(Duration::from_secs(300)));
    assert!(Config::from_args(["--nope".to_string(), "1".to_string()]).is_err());
    assert!(Config::from_args(["--help".to_string()])
        .unwrap_err()
        .contains(config::USAGE));
}
