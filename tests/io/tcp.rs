//! TCP: many concurrent echo connections byte-exact, accept storms, half-close, split
//! halves, vectored writes, std conversions. Every test runs on both runtime flavours.

use crate::support;

use std::io::IoSlice;
use std::net::Shutdown;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use magpie::io::{AsyncReadExt, AsyncWriteExt};
use magpie::net::{TcpListener, TcpStream};
use support::{flavors, within};

/// A deterministic byte pattern, different per connection.
fn pattern(conn: usize, len: usize) -> Vec<u8> {
    let mut x = (conn as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

async fn echo_server(listener: TcpListener, conns: usize) {
    let mut handles = Vec::new();
    for _ in 0..conns {
        let (stream, _) = listener.accept().await.unwrap();
        handles.push(magpie::spawn(async move {
            let (mut r, mut w) = stream.into_split();
            magpie::io::copy(&mut r, &mut w).await.unwrap()
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
}

#[test]
fn echo_64_connections_1mib_each_byte_exact() {
    const CONNS: usize = 64;
    const LEN: usize = 1 << 20;
    for (name, rt) in flavors() {
        let rt = Arc::new(rt);
        let rt2 = rt.clone();
        within(120, name, move || {
            rt2.block_on(async {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                let server = magpie::spawn(echo_server(listener, CONNS));
                let clients: Vec<_> = (0..CONNS)
                    .map(|i| {
                        magpie::spawn(async move {
                            let stream = TcpStream::connect(addr).await.unwrap();
                            let (mut r, mut w) = stream.into_split();
                            let data = pattern(i, LEN);
                            let expected = data.clone();
                            // Write and read concurrently: 1 MiB exceeds socket buffers.
                            let writer = magpie::spawn(async move {
                                for chunk in data.chunks(48 * 1024 + 7) {
                                    w.write_all(chunk).await.unwrap();
                                }
                                drop(w); // half-close: the echo ends
                            });
                            let mut back = Vec::with_capacity(LEN);
                            r.read_to_end(&mut back).await.unwrap();
                            writer.await.unwrap();
                            assert!(back == expected, "connection {i}: echo differs");
                            back.len()
                        })
                    })
                    .collect();
                let mut total = 0;
                for c in clients {
                    total += c.await.unwrap();
                }
                server.await.unwrap();
                assert_eq!(total, CONNS * LEN);
            });
        });
        assert_eq!(rt.handle().io_source_count(), 0, "{name}: sources leaked");
    }
}

#[test]
fn accept_storm_of_1000_connects() {
    const N: usize = 1000;
    for (name, rt) in flavors() {
        let rt = Arc::new(rt);
        let rt2 = rt.clone();
        let accepted = within(120, name, move || {
            rt2.block_on(async {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                let connected = Arc::new(AtomicUsize::new(0));
                let clients: Vec<_> = (0..N)
                    .map(|_| {
                        let connected = connected.clone();
                        magpie::spawn(async move {
                            let mut s = TcpStream::connect(addr).await.unwrap();
                            connected.fetch_add(1, Ordering::SeqCst);
                            // Wait for the server's one byte, so every connect is accepted.
                            let mut b = [0u8; 1];
                            s.read_exact(&mut b).await.unwrap();
                        })
                    })
                    .collect();
                let mut accepted = 0;
                while accepted < N {
                    let (mut s, peer) = listener.accept().await.unwrap();
                    assert!(peer.ip().is_loopback());
                    s.write_all(b"!").await.unwrap();
                    accepted += 1;
                }
                for c in clients {
                    c.await.unwrap();
                }
                assert_eq!(connected.load(Ordering::SeqCst), N);
                accepted
            })
        });
        assert_eq!(accepted, N, "{name}");
    }
}

#[test]
fn half_close_reads_to_end_then_replies() {
    for (name, rt) in flavors() {
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let server = magpie::spawn(async move {
                let (mut s, _) = listener.accept().await.unwrap();
                let mut got = Vec::new();
                s.read_to_end(&mut got).await.unwrap(); // ends at the client's half-close
                let reply = format!("got {} bytes", got.len());
                s.write_all(reply.as_bytes()).await.unwrap();
                s.close().await.unwrap();
            });
            let mut c = TcpStream::connect(addr).await.unwrap();
            c.write_all(&[1u8; 5000]).await.unwrap();
            c.shutdown(Shutdown::Write).unwrap();
            // Writing after the half-close is an error, reading still works.
            assert!(c.write_all(b"late").await.is_err(), "{name}");
            let mut reply = String::new();
            let mut buf = Vec::new();
            c.read_to_end(&mut buf).await.unwrap();
            reply.push_str(std::str::from_utf8(&buf).unwrap());
            assert_eq!(reply, "got 5000 bytes", "{name}");
            server.await.unwrap();
        });
    }
}

#[test]
fn split_halves_work_from_two_tasks_and_reunite() {
    for (name, rt) in flavors() {
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let server = magpie::spawn(async move {
                let (s, _) = listener.accept().await.unwrap();
                let (mut r, mut w) = s.into_split();
                magpie::io::copy(&mut r, &mut w).await.unwrap()
            });
            let c = TcpStream::connect(addr).await.unwrap();
            c.set_nodelay(true).unwrap();
            assert!(c.nodelay().unwrap());
            let (mut r, mut w) = c.into_split();
            let reader = magpie::spawn(async move {
                let mut got = vec![0u8; 100 * 1000];
                r.read_exact(&mut got).await.unwrap();
                (r, got)
            });
            for i in 0..100u8 {
                w.write_all(&[i; 1000]).await.unwrap();
            }
            let (r, got) = reader.await.unwrap();
            for (i, chunk) in got.chunks(1000).enumerate() {
                assert!(chunk.iter().all(|&b| b == i as u8), "{name}");
            }
            let c = r.reunite(w).expect("halves of one stream");
            c.shutdown(Shutdown::Write).unwrap();
            assert_eq!(server.await.unwrap(), 100 * 1000, "{name}");
        });
    }
}

#[test]
fn vectored_writes_and_peer_addresses() {
    for (name, rt) in flavors() {
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let (c, accepted) = {
                let connect = magpie::spawn(async move { TcpStream::connect(addr).await });
                let accepted = listener.accept().await.unwrap();
                (connect.await.unwrap().unwrap(), accepted)
            };
            let (mut s, peer) = accepted;
            assert_eq!(peer, c.local_addr().unwrap(), "{name}");
            assert_eq!(c.peer_addr().unwrap(), addr, "{name}");
            let mut c = c;
            let bufs = [
                IoSlice::new(b"hello "),
                IoSlice::new(b"vectored "),
                IoSlice::new(b"world"),
            ];
            let mut n = c.write_vectored(&bufs).await.unwrap();
            let all = b"hello vectored world";
            if n < all.len() {
                c.write_all(&all[n..]).await.unwrap();
                n = all.len();
            }
            let mut got = vec![0; n];
            s.read_exact(&mut got).await.unwrap();
            assert_eq!(&got, all, "{name}");
        });
    }
}

#[test]
fn std_conversions_round_trip() {
    for (name, rt) in flavors() {
        rt.block_on(async {
            let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = std_listener.local_addr().unwrap();
            let listener = TcpListener::from_std(std_listener).unwrap();
            let std_client = std::net::TcpStream::connect(addr).unwrap();
            let mut client = TcpStream::from_std(std_client).unwrap();
            let (server, _) = listener.accept().await.unwrap();
            client.write_all(b"x").await.unwrap();
            let mut server = server.into_std().unwrap();
            server.set_nonblocking(false).unwrap();
            let mut b = [0u8; 1];
            std::io::Read::read_exact(&mut server, &mut b).unwrap();
            assert_eq!(&b, b"x", "{name}");
            let std_listener = listener.into_std().unwrap();
            assert_eq!(std_listener.local_addr().unwrap(), addr);
            assert_eq!(
                magpie::Handle::current().io_source_count(),
                1,
                "{name}: the client"
            );
        });
    }
}
