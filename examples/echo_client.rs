//! A TCP echo load generator with two modes.
//!
//! Round trips (the default): N connections, each doing M request/response round trips of
//! a small message; prints round trips per second and throughput.
//!
//! ```text
//! cargo run --release --example echo_client -- [ADDR|local] [CONNECTIONS] [ROUND_TRIPS] [BYTES]
//! ```
//!
//! Soak (timed): N connections for T seconds, each streaming chunks of random size (1 B up
//! to MAX_PAYLOAD) while it reads the echo back concurrently. Byte `k` of connection `c`'s
//! stream is a fixed function of `(c, k)`, so every echoed byte is checked at its offset:
//! a lost, duplicated, reordered or altered byte is counted. At the end each connection
//! shuts its write side and reads to EOF; bytes sent but never echoed are "lost".
//!
//! ```text
//! cargo run --release --example echo_client -- soak [ADDR|local] [CONNECTIONS] [SECONDS] [MAX_PAYLOAD]
//! ```
//!
//! The soak mode ends with one machine-readable line (`scripts/soak.sh` parses it):
//! `SOAK connections=.. failed=.. sent=.. verified=.. corrupted=.. lost=..`, and exits
//! non-zero unless failed, corrupted and lost are all 0.
//!
//! With `local` (the default) it starts an echo server in the same runtime first, so it
//! runs on its own; otherwise it talks to `examples/echo_server` at ADDR.

use std::time::{Duration, Instant};

use magpie::io::{AsyncReadExt, AsyncWriteExt};
use magpie::net::{TcpListener, TcpStream};

fn arg<T: std::str::FromStr>(n: usize, default: T) -> T {
    std::env::args()
        .nth(n)
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn main() -> std::io::Result<()> {
    if std::env::args().nth(1).as_deref() == Some("soak") {
        let target: String = arg(2, "local".to_owned());
        let conns: usize = arg(3, 64);
        let secs: f64 = arg(4, 10.0);
        let max_payload: usize = arg(5, 32 * 1024);
        return magpie::block_on(soak(
            target,
            conns,
            Duration::from_secs_f64(secs),
            max_payload,
        ));
    }
    let target: String = arg(1, "local".to_owned());
    let conns: usize = arg(2, 64);
    let rounds: usize = arg(3, 2_000);
    let size: usize = arg(4, 64);
    magpie::block_on(round_trips(target, conns, rounds, size))
}

/// Returns the address to connect to: `target` itself, or with `local`, the address of a
/// new echo server spawned on this runtime.
async fn resolve(target: String) -> std::io::Result<String> {
    if target != "local" {
        return Ok(target);
    }
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    magpie::spawn(async move {
        while let Ok((s, _)) = listener.accept().await {
            s.set_nodelay(true).ok();
            magpie::spawn(async move {
                let (mut r, mut w) = s.into_split();
                let _ = magpie::io::copy(&mut r, &mut w).await;
            });
        }
    });
    Ok(addr.to_string())
}

async fn round_trips(
    target: String,
    conns: usize,
    rounds: usize,
    size: usize,
) -> std::io::Result<()> {
    let addr = resolve(target).await?;
    let start = Instant::now();
    let clients: Vec<_> = (0..conns)
        .map(|i| {
            let addr = addr.clone();
            magpie::spawn(async move {
                let mut s = TcpStream::connect(addr.as_str()).await?;
                s.set_nodelay(true)?;
                let msg = vec![i as u8; size];
                let mut back = vec![0u8; size];
                for _ in 0..rounds {
                    s.write_all(&msg).await?;
                    s.read_exact(&mut back).await?;
                    assert_eq!(back, msg, "echo differs");
                }
                std::io::Result::Ok(())
            })
        })
        .collect();
    for c in clients {
        c.await.expect("client task panicked")?;
    }
    let secs = start.elapsed().as_secs_f64();
    let total = (conns * rounds) as f64;
    println!(
        "{conns} connections x {rounds} round trips of {size} B in {secs:.3} s: \
         {:.0} round trips/s, {:.1} MiB/s each way",
        total / secs,
        total * size as f64 / secs / (1024.0 * 1024.0)
    );
    Ok(())
}

/// Byte `k` of connection `conn`'s stream. Neighbouring offsets differ, and so do the
/// same offsets of different connections, so a byte echoed at the wrong place or on the
/// wrong connection does not match.
fn pattern(conn: u64, k: u64) -> u8 {
    ((k ^ (conn << 40)).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56) as u8
}

/// xorshift64*: a small deterministic generator for the chunk sizes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Mostly small chunks (1..=512 B), one in four up to `max` bytes.
    fn chunk_size(&mut self, max: usize) -> usize {
        let r = self.next();
        let cap = if r % 4 == 0 { max } else { max.min(512) };
        1 + (r >> 8) as usize % cap.max(1)
    }
}

/// What one soak connection saw.
#[derive(Debug, Default)]
struct ConnReport {
    sent: u64,
    verified: u64,
    corrupted: u64,
    error: Option<String>,
}

async fn soak_conn(addr: String, conn: u64, run: Duration, max_payload: usize) -> ConnReport {
    let mut report = ConnReport::default();
    let stream = match TcpStream::connect(addr.as_str()).await {
        Ok(s) => s,
        Err(e) => {
            report.error = Some(format!("connect: {e}"));
            return report;
        }
    };
    stream.set_nodelay(true).ok();
    let (mut rd, mut wr) = stream.into_split();
    let writer = magpie::spawn(async move {
        let mut rng = Rng(0x5EED_0000 ^ (conn + 1).wrapping_mul(0x9E37_79B9));
        let mut buf = vec![0u8; max_payload.max(1)];
        let mut sent = 0u64;
        let deadline = Instant::now() + run;
        while Instant::now() < deadline {
            let n = rng.chunk_size(max_payload);
            for (i, b) in buf[..n].iter_mut().enumerate() {
                *b = pattern(conn, sent + i as u64);
            }
            if let Err(e) = wr.write_all(&buf[..n]).await {
                return (sent, Some(format!("write: {e}")));
            }
            sent += n as u64;
        }
        // Shut the write side: the server echoes what is in flight, then closes.
        let closed = wr.close().await.err().map(|e| format!("shutdown: {e}"));
        (sent, closed)
    });
    let mut buf = vec![0u8; 64 * 1024];
    let mut received = 0u64;
    loop {
        match rd.read(&mut buf).await {
            Ok(0) => break,
            Ok(n) => {
                for (i, &b) in buf[..n].iter().enumerate() {
                    if b != pattern(conn, received + i as u64) {
                        report.corrupted += 1;
                    }
                }
                received += n as u64;
            }
            Err(e) => {
                report.error = Some(format!("read: {e}"));
                break;
            }
        }
    }
    report.verified = received - report.corrupted;
    match writer.await {
        Ok((sent, err)) => {
            report.sent = sent;
            report.error = report.error.take().or(err);
        }
        Err(e) => report.error = Some(format!("writer task: {e}")),
    }
    report
}

async fn soak(
    target: String,
    conns: usize,
    run: Duration,
    max_payload: usize,
) -> std::io::Result<()> {
    let addr = resolve(target).await?;
    let start = Instant::now();
    // Hang detector only: a healthy connection ends about `run` after it starts.
    let limit = run + Duration::from_secs(60);
    let clients: Vec<_> = (0..conns as u64)
        .map(|c| {
            let addr = addr.clone();
            magpie::spawn(async move {
                magpie::time::timeout(limit, soak_conn(addr, c, run, max_payload))
                    .await
                    .unwrap_or_else(|_| ConnReport {
                        error: Some(format!("no EOF within {limit:?}")),
                        ..ConnReport::default()
                    })
            })
        })
        .collect();
    let (mut sent, mut verified, mut corrupted, mut lost, mut failed) = (0u64, 0, 0, 0, 0);
    for (c, h) in clients.into_iter().enumerate() {
        let r = h.await.expect("soak connection task panicked");
        if let Some(e) = &r.error {
            eprintln!("connection {c}: {e}");
            failed += 1;
        }
        sent += r.sent;
        verified += r.verified;
        corrupted += r.corrupted;
        lost += r.sent.saturating_sub(r.verified + r.corrupted);
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "soak: {conns} connections for {secs:.1} s, {:.1} MiB echoed and verified ({:.1} MiB/s)",
        verified as f64 / (1024.0 * 1024.0),
        verified as f64 / secs / (1024.0 * 1024.0)
    );
    println!(
        "SOAK connections={conns} failed={failed} sent={sent} verified={verified} \
         corrupted={corrupted} lost={lost}"
    );
    if failed + corrupted + lost > 0 {
        return Err(std::io::Error::other("echo soak found failures"));
    }
    Ok(())
}
