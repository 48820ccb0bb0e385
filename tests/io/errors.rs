//! Bad input gives `io::Error`s with the OS's kind, never a panic or a hang: a used port,
//! a closed port, a peer reset, sockets outliving their runtime.

use crate::support;

use std::io::ErrorKind;
use std::time::Duration;

use magpie::io::{AsyncReadExt, AsyncWriteExt};
use magpie::net::{TcpListener, TcpStream, UdpSocket};
use support::{flavors, within};

#[test]
fn binding_a_used_port_is_addr_in_use() {
    for (name, rt) in flavors() {
        rt.block_on(async {
            let a = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = a.local_addr().unwrap();
            let err = TcpListener::bind(addr).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::AddrInUse, "{name}: {err}");
            let u = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let err = UdpSocket::bind(u.local_addr().unwrap()).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::AddrInUse, "{name}: {err}");
        });
    }
}

#[test]
fn connecting_to_a_closed_port_is_refused() {
    for (name, rt) in flavors() {
        rt.block_on(async {
            // Bind then drop, so the port is (almost certainly) closed.
            let addr = TcpListener::bind("127.0.0.1:0")
                .await
                .unwrap()
                .local_addr()
                .unwrap();
            let err = TcpStream::connect(addr).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{name}: {err}");
            let err = TcpStream::connect("not an address").await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{name}: {err}");
        });
    }
}

#[test]
fn reading_after_the_peer_reset_is_connection_reset() {
    for (name, rt) in flavors() {
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let mut c = TcpStream::connect(addr).await.unwrap();
            let (s, _) = listener.accept().await.unwrap();
            c.write_all(b"unread").await.unwrap();
            // Wait until the bytes are in the server's queue, then close without reading
            // them: the kernel answers with a reset.
            let mut peek = [0u8; 6];
            while s.peek(&mut peek).await.unwrap() < 6 {}
            drop(s);
            let mut buf = [0u8; 16];
            let err = c.read(&mut buf).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::ConnectionReset, "{name}: {err}");
        });
    }
}

#[test]
fn sockets_used_after_their_runtime_is_gone_fail() {
    for (name, rt) in flavors() {
        let (mut client, listener) = rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let c = TcpStream::connect(listener.local_addr().unwrap())
                .await
                .unwrap();
            (c, listener)
        });
        drop(rt);
        let other = magpie::Builder::new_current_thread().build().unwrap();
        within(10, name, move || {
            other.block_on(async {
                let mut buf = [0u8; 4];
                let r = magpie::time::timeout(Duration::from_secs(5), client.read(&mut buf)).await;
                let err = r.expect("an error, not a hang").unwrap_err();
                assert_eq!(err.kind(), ErrorKind::Other, "{err}");
                let r = magpie::time::timeout(Duration::from_secs(5), listener.accept()).await;
                assert!(r.expect("an error, not a hang").is_err());
            });
        });
    }
}

#[test]
fn a_waiter_is_woken_with_an_error_when_the_runtime_shuts_down() {
    for (name, rt) in flavors() {
        let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
        let handle = rt.handle().clone();
        // A thread outside the runtime waits on the listener through Handle::block_on
        // (nothing will connect): shutting the runtime down must end that wait.
        let (tx, rx) = std::sync::mpsc::channel();
        let waiter = std::thread::spawn(move || {
            let r = handle.block_on(async {
                tx.send(()).unwrap();
                listener.accept().await
            });
            r.map(|_| ())
        });
        rx.recv().unwrap();
        std::thread::sleep(Duration::from_millis(20)); // let it reach the wait (best effort)
        drop(rt);
        let r = within(10, name, move || waiter.join().unwrap());
        assert!(r.is_err(), "{name}");
    }
}

#[test]
fn creating_sockets_outside_a_runtime_is_an_error() {
    let err = magpie_runtime_free_bind();
    assert!(err.to_string().contains("no magpie runtime"), "{err}");
}

fn magpie_runtime_free_bind() -> std::io::Error {
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    TcpListener::from_std(std_listener).unwrap_err()
}
