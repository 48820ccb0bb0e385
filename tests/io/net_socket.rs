//! TcpSocket: options, SO_REUSEPORT listeners sharing a port, listen and connect.

use crate::support;

use std::io::ErrorKind;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use magpie::io::{AsyncReadExt, AsyncWriteExt};
use magpie::net::{TcpListener, TcpSocket, TcpStream};
use magpie::time::timeout;
use support::flavors;

const LONG: Duration = Duration::from_secs(30);

fn reuseport_listener(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let s = TcpSocket::new_v4()?;
    s.set_reuseaddr(true)?;
    s.set_reuseport(true)?;
    s.bind(addr)?;
    s.listen(1024)
}

#[test]
fn two_reuseport_listeners_share_one_port_and_both_accept() {
    const CONNS: usize = 64;
    for (name, rt) in flavors() {
        rt.block_on(async {
            let a = reuseport_listener("127.0.0.1:0".parse().unwrap()).unwrap();
            let addr = a.local_addr().unwrap();
            let b = reuseport_listener(addr).unwrap();
            assert_eq!(b.local_addr().unwrap(), addr, "{name}");

            // Without SO_REUSEPORT on the newcomer the port is taken.
            let plain = TcpSocket::new_v4().unwrap();
            plain.set_reuseaddr(true).unwrap();
            let err = plain.bind(addr).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::AddrInUse, "{name}: {err}");

            let total = Arc::new(AtomicUsize::new(0));
            let mut servers = Vec::new();
            for l in [a, b] {
                let total = total.clone();
                servers.push(magpie::spawn(async move {
                    let mut mine = 0;
                    while total.load(Ordering::SeqCst) < CONNS {
                        let Ok(accepted) = timeout(Duration::from_millis(50), l.accept()).await
                        else {
                            continue;
                        };
                        let (mut s, _) = accepted.unwrap();
                        let mut byte = [0];
                        s.read_exact(&mut byte).await.unwrap();
                        s.write_all(&byte).await.unwrap();
                        mine += 1;
                        total.fetch_add(1, Ordering::SeqCst);
                    }
                    mine
                }));
            }
            for i in 0..CONNS {
                let mut c = TcpStream::connect(addr).await.unwrap();
                c.write_all(&[i as u8]).await.unwrap();
                let mut back = [0];
                timeout(LONG, c.read_exact(&mut back))
                    .await
                    .expect("echo")
                    .unwrap();
                assert_eq!(back[0], i as u8, "{name}");
            }
            let mut per_listener = Vec::new();
            for s in servers {
                per_listener.push(timeout(LONG, s).await.expect("servers end").unwrap());
            }
            println!("{name}: connections per SO_REUSEPORT listener: {per_listener:?}");
            assert_eq!(per_listener.iter().sum::<usize>(), CONNS, "{name}");
            assert!(
                per_listener.iter().all(|&n| n > 0),
                "{name}: the kernel gave one listener all {CONNS}: {per_listener:?}"
            );
        });
    }
}

#[test]
fn options_read_back() {
    let s = TcpSocket::new_v4().unwrap();
    for on in [true, false] {
        s.set_reuseaddr(on).unwrap();
        assert_eq!(s.reuseaddr().unwrap(), on);
        s.set_reuseport(on).unwrap();
        assert_eq!(s.reuseport().unwrap(), on);
        s.set_nodelay(on).unwrap();
        assert_eq!(s.nodelay().unwrap(), on);
        s.set_keepalive(on).unwrap();
        assert_eq!(s.keepalive().unwrap(), on);
    }
    s.set_linger(Some(Duration::from_secs(3))).unwrap();
    assert_eq!(s.linger().unwrap(), Some(Duration::from_secs(3)));
    s.set_linger(None).unwrap();
    assert_eq!(s.linger().unwrap(), None);
    let small = s.send_buffer_size().unwrap();
    s.set_send_buffer_size(small * 4).unwrap();
    assert!(s.send_buffer_size().unwrap() > small, "SO_SNDBUF grew");
    let small = s.recv_buffer_size().unwrap();
    s.set_recv_buffer_size(small * 4).unwrap();
    assert!(s.recv_buffer_size().unwrap() > small, "SO_RCVBUF grew");
    assert!(s.take_error().unwrap().is_none());
    assert!(format!("{s:?}").contains("TcpSocket"));
}

#[test]
fn connect_listen_and_errors_on_both_families() {
    for (name, rt) in flavors() {
        rt.block_on(async {
            for (v6, local) in [(false, "127.0.0.1:0"), (true, "[::1]:0")] {
                let new = || {
                    if v6 {
                        TcpSocket::new_v6()
                    } else {
                        TcpSocket::new_v4()
                    }
                };
                let server = new().unwrap();
                server.bind(local.parse().unwrap()).unwrap();
                let addr = server.local_addr().unwrap();
                let listener = server.listen(u32::MAX).unwrap(); // capped, not an error
                let client = new().unwrap();
                client.set_nodelay(true).unwrap();
                client.bind(local.parse().unwrap()).unwrap();
                let client_addr = client.local_addr().unwrap();
                let mut c = client.connect(addr).await.unwrap();
                let (mut s, peer) = listener.accept().await.unwrap();
                assert_eq!(
                    peer, client_addr,
                    "{name}: the connection came from the bound address"
                );
                assert!(
                    c.nodelay().unwrap(),
                    "{name}: options carry over to the stream"
                );
                c.write_all(b"over TcpSocket").await.unwrap();
                let mut buf = [0; 14];
                s.read_exact(&mut buf).await.unwrap();
                assert_eq!(&buf, b"over TcpSocket", "{name}");

                // A closed port: refused.
                drop(listener);
                let err = new().unwrap().connect(addr).await.unwrap_err();
                assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{name}: {err}");
            }
            // The wrong family is refused at bind, not a panic.
            let v4 = TcpSocket::new_v4().unwrap();
            assert!(v4.bind("[::1]:0".parse().unwrap()).is_err(), "{name}");

            // from_std_stream: options on an existing connection.
            let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = l.local_addr().unwrap();
            let std_stream = magpie::spawn_blocking(move || std::net::TcpStream::connect(addr));
            let _accepted = l.accept().await.unwrap();
            let sock = TcpSocket::from_std_stream(std_stream.await.unwrap().unwrap()).unwrap();
            sock.set_nodelay(true).unwrap();
            assert!(sock.nodelay().unwrap(), "{name}");
        });
    }
}
