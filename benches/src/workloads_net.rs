// Loopback TCP workloads, written once: `include!`d after `workloads.rs` and
// `workloads_coordination.rs` into the same per-runtime modules, so every runtime runs this
// very code through its adapter `rt`. Server and clients share the runtime under test; only
// 127.0.0.1 is used. In both workloads the server closes first, so the TIME_WAIT sockets
// that pile up over many iterations hold the listeners' ports, not ephemeral ones.

use crate::pipeline::{digest, CHUNK, CHUNKS, DEPTH};
use rt::{AsyncReadExt as _, AsyncWriteExt as _};

/// 64 connections × 1,000 round trips of 1 KiB: each client writes a numbered message and
/// reads it back from the server's echo task, checking every byte; then it expects the
/// server's close.
pub fn tcp_echo(r: &Rt) {
    in_task(r, async {
        let listener = rt::bind("127.0.0.1:0").await;
        let addr = rt::local_addr(&listener);
        let server = rt::spawn(async move {
            let mut conns = Vec::with_capacity(ECHO_CONNS);
            for _ in 0..ECHO_CONNS {
                let mut s = rt::accept(&listener).await;
                conns.push(rt::spawn(async move {
                    let mut buf = [0u8; ECHO_MSG];
                    for _ in 0..ECHO_ROUNDS {
                        s.read_exact(&mut buf).await.expect("server read");
                        s.write_all(&buf).await.expect("server write");
                    }
                }));
            }
            for h in conns {
                rt::join(h).await;
            }
        });
        let clients: Vec<_> = (0..ECHO_CONNS)
            .map(|c| {
                rt::spawn(async move {
                    let mut s = rt::connect(addr).await;
                    let (mut msg, mut back) = ([0u8; ECHO_MSG], [0u8; ECHO_MSG]);
                    for round in 0..ECHO_ROUNDS {
                        msg[..8].copy_from_slice(&((c * ECHO_ROUNDS + round) as u64).to_le_bytes());
                        msg[ECHO_MSG - 1] = round as u8;
                        s.write_all(&msg).await.expect("client write");
                        s.read_exact(&mut back).await.expect("client read");
                        assert!(back == msg, "echo differs");
                    }
                    let eof = s.read(&mut back).await.expect("client read");
                    assert_eq!(eof, 0, "the server should have closed");
                    ECHO_ROUNDS * ECHO_MSG
                })
            })
            .collect();
        let mut echoed = 0;
        for h in clients {
            echoed += rt::join(h).await;
        }
        rt::join(server).await;
        assert_eq!(echoed, ECHO_CONNS * ECHO_ROUNDS * ECHO_MSG);
    });
}

/// One loopback connection carries 256 chunks of 64 KiB (16 MiB) to a server that hashes
/// each chunk in a task of its own (a few hundred µs of CPU each, spread over the workers,
/// at most 32 in flight) and streams the 8-byte digests back in order on the same
/// connection, while the client is still sending; the client checks every digest.
pub fn cpu_io_pipeline(r: &Rt) {
    let input = crate::pipeline::input();
    in_task(r, async move {
        let listener = rt::bind("127.0.0.1:0").await;
        let addr = rt::local_addr(&listener);
        let server = rt::spawn(async move {
            let (mut rd, mut wr) = rt::split(rt::accept(&listener).await);
            let (tx, rx) = rt::queue::<rt::Handle<u64>>(DEPTH);
            let writer = rt::spawn(async move {
                for _ in 0..CHUNKS {
                    let hash = rt::get(&rx).await.expect("queue closed early");
                    let d = rt::join(hash).await;
                    wr.write_all(&d.to_le_bytes()).await.expect("server write");
                }
            });
            for _ in 0..CHUNKS {
                let mut chunk = vec![0u8; CHUNK];
                rd.read_exact(&mut chunk).await.expect("server read");
                rt::put(&tx, rt::spawn(async move { digest(&chunk) })).await;
            }
            rt::join(writer).await;
        });
        let (mut rd, mut wr) = rt::split(rt::connect(addr).await);
        let sender = rt::spawn(async move {
            for chunk in input.data.chunks(CHUNK) {
                wr.write_all(chunk).await.expect("client write");
            }
            wr // kept open until every digest is in
        });
        let mut d = [0u8; 8];
        for (i, want) in input.digests.iter().enumerate() {
            rd.read_exact(&mut d).await.expect("client read");
            assert_eq!(u64::from_le_bytes(d), *want, "digest of chunk {i}");
        }
        drop(rt::join(sender).await);
        rt::join(server).await;
    });
}
