//! A TCP echo load generator: N connections, each doing M request/response round trips of
//! a small message; prints round trips per second and throughput.
//!
//! ```text
//! cargo run --release --example echo_client -- [ADDR|local] [CONNECTIONS] [ROUND_TRIPS] [BYTES]
//! ```
//!
//! With `local` (the default) it starts an echo server in the same runtime first, so it
//! runs on its own; otherwise it talks to `examples/echo_server` at ADDR.

use std::time::Instant;

use magpie::io::{AsyncReadExt, AsyncWriteExt};
use magpie::net::{TcpListener, TcpStream};

fn arg<T: std::str::FromStr>(n: usize, default: T) -> T {
    std::env::args()
        .nth(n)
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn main() -> std::io::Result<()> {
    let target: String = arg(1, "local".to_owned());
    let conns: usize = arg(2, 64);
    let rounds: usize = arg(3, 2_000);
    let size: usize = arg(4, 64);
    magpie::block_on(async move {
        let addr = if target == "local" {
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
            addr.to_string()
        } else {
            target
        };
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
    })
}
