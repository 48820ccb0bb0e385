//! UDP round trips, connected and unconnected, on both flavours.

use crate::support;

use std::sync::Arc;

use magpie::net::UdpSocket;
use support::flavors;

#[test]
fn udp_round_trips() {
    const ROUNDS: u32 = 1000;
    for (name, rt) in flavors() {
        rt.block_on(async {
            let server = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
            let addr = server.local_addr().unwrap();
            let srv = server.clone();
            let echo = magpie::spawn(async move {
                let mut buf = [0u8; 64];
                for _ in 0..ROUNDS {
                    let (n, from) = srv.recv_from(&mut buf).await.unwrap();
                    srv.send_to(&buf[..n], from).await.unwrap();
                }
            });
            let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            client.connect(addr).await.unwrap();
            assert_eq!(client.peer_addr().unwrap(), addr);
            let mut buf = [0u8; 64];
            for i in 0..ROUNDS {
                let msg = i.to_le_bytes();
                assert_eq!(client.send(&msg).await.unwrap(), 4);
                let n = client.recv(&mut buf).await.unwrap();
                assert_eq!(&buf[..n], &msg, "{name}: round {i}");
            }
            echo.await.unwrap();
        });
    }
}

#[test]
fn udp_send_and_receive_from_two_tasks() {
    for (name, rt) in flavors() {
        rt.block_on(async {
            let a = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
            let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let b_addr = b.local_addr().unwrap();
            let a_addr = a.local_addr().unwrap();
            // One task receives on `a` while another sends from `a`.
            let ra = a.clone();
            let receiver = magpie::spawn(async move {
                let mut buf = [0u8; 8];
                let (n, from) = ra.recv_from(&mut buf).await.unwrap();
                (buf[..n].to_vec(), from)
            });
            let sa = a.clone();
            let sender = magpie::spawn(async move { sa.send_to(b"to-b", b_addr).await.unwrap() });
            let mut buf = [0u8; 8];
            let (n, from) = b.recv_from(&mut buf).await.unwrap();
            assert_eq!((&buf[..n], from), (&b"to-b"[..], a_addr), "{name}");
            b.send_to(b"to-a", a_addr).await.unwrap();
            assert_eq!(
                receiver.await.unwrap(),
                (b"to-a".to_vec(), b_addr),
                "{name}"
            );
            assert_eq!(sender.await.unwrap(), 4);
        });
    }
}
