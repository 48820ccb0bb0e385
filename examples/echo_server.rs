//! A TCP echo server: one task per connection, each copying what it reads back to the peer.
//!
//! ```text
//! cargo run --release --example echo_server -- 127.0.0.1:7878
//! cargo run --release --example echo_client -- 127.0.0.1:7878 64 10000
//! ```

use magpie::io::{AsyncReadExt, AsyncWriteExt};
use magpie::net::TcpListener;

fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:7878".to_owned());
    magpie::block_on(async move {
        let listener = TcpListener::bind(addr.as_str()).await?;
        println!("echo server listening on {}", listener.local_addr()?);
        loop {
            let (mut stream, peer) = match listener.accept().await {
                Ok(conn) => conn,
                Err(e) => {
                    // EMFILE and friends: report and keep serving the others.
                    eprintln!("accept failed: {e}");
                    continue;
                }
            };
            stream.set_nodelay(true)?;
            magpie::spawn(async move {
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
            });
        }
    })
}
