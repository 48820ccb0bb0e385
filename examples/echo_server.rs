//! A TCP echo server: one task per connection, each copying what it reads back to the peer,
//! with graceful shutdown.
//!
//! ```text
//! cargo run --release --example echo_server -- 127.0.0.1:7878 [drain-deadline-ms]
//! cargo run --release --example echo_client -- 127.0.0.1:7878 64 10000
//! ```
//!
//! On SIGINT (Ctrl-C) or SIGTERM it stops accepting (the listener is closed, so new
//! connections are refused), lets the connections in flight finish for up to the drain
//! deadline (default 10 s), cuts off whatever is still open then, and exits with status 0.
//! `tests/graceful_shutdown.rs` runs this code as a child process and checks all of that.

use std::io;
use std::time::Duration;

use magpie::io::{AsyncReadExt, AsyncWriteExt};
use magpie::net::{TcpListener, TcpStream};
use magpie::signal::unix::{signal, SignalKind};
use magpie::{select, Either, JoinHandle};

fn main() -> io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:7878".to_owned());
    let drain = match std::env::args().nth(2) {
        Some(ms) => Duration::from_millis(ms.parse().map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("the drain deadline must be a number of milliseconds, not {ms:?}"),
            )
        })?),
        None => Duration::from_secs(10),
    };
    magpie::block_on(serve(addr, drain))
}

/// Serves on `addr` until SIGINT or SIGTERM, then drains for at most `drain`.
pub async fn serve(addr: String, drain: Duration) -> io::Result<()> {
    let listener = TcpListener::bind(addr.as_str()).await?;
    // Listen for the signals before announcing the address: from here on they shut down
    // gracefully instead of killing the process.
    let mut sigint = signal(SignalKind::interrupt())?;
    let mut sigterm = signal(SignalKind::terminate())?;
    println!("echo server listening on {}", listener.local_addr()?);
    let mut connections: Vec<JoinHandle<()>> = Vec::new();
    loop {
        let stop = select(sigint.recv(), sigterm.recv());
        let (stream, peer) = match select(listener.accept(), stop).await {
            Either::Left(Ok(conn)) => conn,
            Either::Left(Err(e)) => {
                // EMFILE and friends: report and keep serving the others.
                eprintln!("accept failed: {e}");
                continue;
            }
            Either::Right(_) => break,
        };
        stream.set_nodelay(true)?;
        connections.retain(|c| !c.is_finished());
        connections.push(magpie::spawn(echo(stream, peer)));
    }
    drop(listener); // stop accepting: new connections are refused from here on
    connections.retain(|c| !c.is_finished());
    println!(
        "shutting down: {} connection(s) in flight, {drain:?} to finish",
        connections.len()
    );
    let drained = magpie::time::timeout(drain, async {
        for c in connections.iter_mut() {
            let _ = c.await;
        }
    })
    .await;
    if drained.is_ok() {
        println!("drained every connection; bye");
    } else {
        let open = connections.iter().filter(|c| !c.is_finished()).count();
        println!("drain deadline passed: closing {open} connection(s)");
        for c in &connections {
            c.abort();
        }
    }
    Ok(())
}

/// Echoes until the peer closes.
async fn echo(mut stream: TcpStream, peer: std::net::SocketAddr) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) => break,
            Ok(n) => {
                if let Err(e) = stream.write_all(&buf[..n]).await {
                    eprintln!("{peer}: write failed: {e}");
                    break;
                }
            }
            Err(e) => {
                eprintln!("{peer}: read failed: {e}");
                break;
            }
        }
    }
}
