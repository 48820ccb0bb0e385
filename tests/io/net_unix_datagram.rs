//! UnixDatagram: bound, unbound and paired sockets; boundaries and order kept under
//! back-pressure; the OS's errors.
#![cfg(unix)]

use crate::support;

use std::io::ErrorKind;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use magpie::net::UnixDatagram;
use magpie::time::timeout;
use support::flavors;

const LONG: Duration = Duration::from_secs(30);

struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "magpie-test-dgram-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn bound_sockets_round_trip_with_addresses() {
    for (name, rt) in flavors() {
        let dir = TempDir::new();
        rt.block_on(async {
            let (sp, cp) = (dir.0.join("server"), dir.0.join("client"));
            let server = UnixDatagram::bind(&sp).unwrap();
            let client = UnixDatagram::bind(&cp).unwrap();
            assert_eq!(
                server.local_addr().unwrap().as_pathname(),
                Some(sp.as_path()),
                "{name}"
            );
            for len in [0usize, 1, 100, 4096, 16 * 1024] {
                let msg: Vec<u8> = (0..len).map(|i| (i * 7 + len) as u8).collect();
                assert_eq!(client.send_to(&msg, &sp).await.unwrap(), len, "{name}");
                let mut buf = vec![0u8; 32 * 1024];
                let (n, from) = server.recv_from(&mut buf).await.unwrap();
                assert_eq!(&buf[..n], &msg[..], "{name}: {len}-byte datagram");
                assert_eq!(from.as_pathname(), Some(cp.as_path()), "{name}");
                server
                    .send_to(&msg, from.as_pathname().unwrap())
                    .await
                    .unwrap();
                let (n, from) = client.recv_from(&mut buf).await.unwrap();
                assert_eq!((n, from.as_pathname()), (len, Some(sp.as_path())), "{name}");
            }
            // connect: send/recv and the peer address.
            client.connect(&sp).unwrap();
            assert_eq!(
                client.peer_addr().unwrap().as_pathname(),
                Some(sp.as_path()),
                "{name}"
            );
            client.send(b"connected").await.unwrap();
            let mut buf = [0u8; 16];
            let (n, _) = server.recv_from(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], b"connected", "{name}");
            // A datagram longer than the buffer is truncated, not split.
            client.send(b"0123456789").await.unwrap();
            let mut small = [0u8; 4];
            assert_eq!(server.recv(&mut small).await.unwrap(), 4, "{name}");
            assert_eq!(&small, b"0123", "{name}");
            client.send(b"next").await.unwrap();
            assert_eq!(
                server.recv(&mut buf).await.unwrap(),
                4,
                "{name}: the rest was dropped"
            );

            // An unbound sender is unnamed to the receiver.
            let anon = UnixDatagram::unbound().unwrap();
            anon.send_to(b"anon", &sp).await.unwrap();
            let (n, from) = server.recv_from(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], b"anon", "{name}");
            assert!(from.is_unnamed(), "{name}");
            assert!(format!("{anon:?}").contains("UnixDatagram"), "{name}");
        });
    }
}

#[test]
fn errors_keep_the_os_kind() {
    for (name, rt) in flavors() {
        let dir = TempDir::new();
        rt.block_on(async {
            let path = dir.0.join("s");
            let _s = UnixDatagram::bind(&path).unwrap();
            let err = UnixDatagram::bind(&path).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::AddrInUse, "{name}: {err}");
            let lone = UnixDatagram::unbound().unwrap();
            let err = lone.send(b"x").await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::NotConnected, "{name}: {err}");
            assert_eq!(
                lone.peer_addr().unwrap_err().kind(),
                ErrorKind::NotConnected,
                "{name}"
            );
            let err = lone.send_to(b"x", dir.0.join("missing")).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::NotFound, "{name}: {err}");
            let err = lone.connect(dir.0.join("missing")).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::NotFound, "{name}: {err}");
            // A socket file nobody is bound to any more.
            let gone = dir.0.join("gone");
            drop(UnixDatagram::bind(&gone).unwrap());
            let err = lone.send_to(b"x", &gone).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{name}: {err}");
        });
    }
}

#[test]
fn a_pair_keeps_order_and_boundaries_under_back_pressure() {
    const COUNT: usize = 20_000;
    for (name, rt) in flavors() {
        rt.block_on(async {
            let (a, b) = UnixDatagram::pair().unwrap();
            assert!(a.local_addr().unwrap().is_unnamed(), "{name}");
            let a = Arc::new(a);
            // The sender outruns the receiver's queue and has to wait for writability.
            let sender = {
                let a = a.clone();
                magpie::spawn(async move {
                    for i in 0..COUNT {
                        let len = 1 + i % 300;
                        let mut msg = vec![(i % 251) as u8; len];
                        msg[..4.min(len)].copy_from_slice(&(i as u32).to_le_bytes()[..4.min(len)]);
                        a.send(&msg).await.unwrap();
                    }
                })
            };
            let mut buf = [0u8; 512];
            for i in 0..COUNT {
                if i % 5000 == 0 {
                    magpie::time::sleep(Duration::from_millis(20)).await; // let the queue fill
                }
                let n = timeout(LONG, b.recv(&mut buf))
                    .await
                    .expect("a datagram")
                    .unwrap();
                let len = 1 + i % 300;
                assert_eq!(n, len, "{name}: datagram {i}'s length");
                let mut want = vec![(i % 251) as u8; len];
                want[..4.min(len)].copy_from_slice(&(i as u32).to_le_bytes()[..4.min(len)]);
                assert_eq!(&buf[..n], &want[..], "{name}: datagram {i}");
            }
            timeout(LONG, sender).await.expect("sender ends").unwrap();
            // from_std / into_std
            let (x, y) = std::os::unix::net::UnixDatagram::pair().unwrap();
            let x = UnixDatagram::from_std(x).unwrap();
            let y = UnixDatagram::from_std(y).unwrap();
            x.send(b"std").await.unwrap();
            let y = y.into_std().unwrap();
            let mut got = [0u8; 3];
            assert_eq!(
                y.recv(&mut got).unwrap(),
                3,
                "{name}: the datagram was waiting"
            );
            assert_eq!(&got, b"std", "{name}");
        });
    }
}
