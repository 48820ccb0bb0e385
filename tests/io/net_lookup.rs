//! Name resolution on the blocking pool: lookup_host, and connect/bind by host name
//! without stalling the workers (a 1 ms interval keeps ticking through 1,000 concurrent
//! `connect("localhost:PORT")`).

use crate::support;

use std::io::ErrorKind;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use magpie::io::{AsyncReadExt, AsyncWriteExt};
use magpie::net::{lookup_host, TcpListener, TcpStream, UdpSocket};
use magpie::time::timeout;
use support::flavors;

const LONG: Duration = Duration::from_secs(30);

#[test]
fn lookup_host_localhost_and_literals() {
    for (name, rt) in flavors() {
        rt.block_on(async {
            let addrs: Vec<_> = lookup_host("localhost:4321").await.unwrap().collect();
            assert!(!addrs.is_empty(), "{name}");
            assert!(
                addrs
                    .iter()
                    .all(|a| a.ip().is_loopback() && a.port() == 4321),
                "{name}: {addrs:?}"
            );
            let pair: Vec<_> = lookup_host(("localhost", 99)).await.unwrap().collect();
            assert!(
                pair.iter().all(|a| a.ip().is_loopback() && a.port() == 99),
                "{name}"
            );
            let owned: Vec<_> = lookup_host(String::from("127.0.0.1:7"))
                .await
                .unwrap()
                .collect();
            assert_eq!(owned, ["127.0.0.1:7".parse().unwrap()], "{name}");
            let v6: Vec<_> = lookup_host("[::1]:8").await.unwrap().collect();
            assert_eq!(v6, ["[::1]:8".parse().unwrap()], "{name}");
            let err = lookup_host("localhost").await.map(drop).unwrap_err();
            assert_eq!(
                err.kind(),
                ErrorKind::InvalidInput,
                "{name}: no port: {err}"
            );
        });
    }
}

#[test]
fn unknown_host_is_an_error_not_a_panic() {
    for (name, rt) in flavors() {
        rt.block_on(async {
            let res = timeout(LONG, lookup_host("nonexistent.invalid:80")).await;
            let err = res.expect("the resolver answered").map(drop).unwrap_err();
            println!("{name}: lookup_host(nonexistent.invalid) -> {err}");
            let err = timeout(LONG, TcpStream::connect("nonexistent.invalid:80"))
                .await
                .expect("the resolver answered")
                .unwrap_err();
            assert_ne!(err.kind(), ErrorKind::ConnectionRefused, "{name}: {err}");
            let err = timeout(LONG, UdpSocket::bind(("nonexistent.invalid", 0)))
                .await
                .expect("the resolver answered")
                .unwrap_err();
            assert_ne!(err.kind(), ErrorKind::AddrInUse, "{name}: {err}");
        });
    }
}

#[test]
fn literals_skip_the_pool_and_names_use_it() {
    let rt = magpie::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(1)
        .build()
        .unwrap();
    let (release, held) = mpsc::channel::<()>();
    rt.block_on(async {
        // The only pool thread is held: a literal resolves anyway, a name waits for it.
        let blocker = magpie::spawn_blocking(move || held.recv().unwrap());
        let t = Instant::now();
        let lit = timeout(LONG, lookup_host("127.0.0.1:1"))
            .await
            .expect("no pool hop");
        assert_eq!(lit.unwrap().count(), 1);
        let bound = timeout(LONG, TcpListener::bind("127.0.0.1:0"))
            .await
            .expect("no pool hop");
        drop(bound.unwrap());
        assert!(t.elapsed() < LONG);
        let named = magpie::spawn(async { lookup_host("localhost:1").await.map(|a| a.count()) });
        magpie::time::sleep(Duration::from_millis(100)).await;
        assert!(
            !named.is_finished(),
            "a host name must be resolved on the (held) pool"
        );
        release.send(()).unwrap();
        blocker.await.unwrap();
        let n = timeout(LONG, named)
            .await
            .expect("resolved once the pool is free");
        assert!(n.unwrap().unwrap() >= 1);
    });
}

#[test]
fn connect_and_bind_by_host_name() {
    for (name, rt) in flavors() {
        rt.block_on(async {
            let listener = TcpListener::bind("localhost:0").await.unwrap();
            let port = listener.local_addr().unwrap().port();
            let server = magpie::spawn(async move {
                let (mut s, _) = listener.accept().await.unwrap();
                let mut buf = [0; 4];
                s.read_exact(&mut buf).await.unwrap();
                s.write_all(&buf).await.unwrap();
            });
            let host = if lookup_host(format!("localhost:{port}"))
                .await
                .unwrap()
                .any(|a| a == format!("127.0.0.1:{port}").parse().unwrap())
            {
                "localhost"
            } else {
                "127.0.0.1"
            };
            let mut c = TcpStream::connect(format!("{host}:{port}")).await.unwrap();
            c.write_all(b"ping").await.unwrap();
            let mut buf = [0; 4];
            c.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"ping", "{name}");
            server.await.unwrap();

            let a = UdpSocket::bind("localhost:0").await.unwrap();
            let b = UdpSocket::bind(("localhost", 0)).await.unwrap();
            let a_port = a.local_addr().unwrap().port();
            b.connect(("localhost", a_port)).await.unwrap();
            b.send(b"dgram").await.unwrap();
            let mut buf = [0; 8];
            let (n, from) = a.recv_from(&mut buf).await.unwrap();
            assert_eq!(
                (&buf[..n], from),
                (&b"dgram"[..], b.local_addr().unwrap()),
                "{name}"
            );
            a.send_to(b"back", format!("localhost:{}", from.port()))
                .await
                .unwrap();
            let n = b.recv(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], b"back", "{name}");
        });
    }
}

/// The largest gap between ticks of a 1 ms interval while 1,000 tasks connect to
/// `host:PORT` at once on the same runtime.
fn max_tick_gap_during_connect_storm(rt: &magpie::Runtime, host: &str) -> Duration {
    const CONNECTS: usize = 1_000;
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let acceptor = magpie::spawn(async move {
            for _ in 0..CONNECTS {
                drop(listener.accept().await.unwrap());
            }
        });
        let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let ticker = {
            let done = done.clone();
            magpie::spawn(async move {
                let mut interval = magpie::time::interval(Duration::from_millis(1));
                interval.tick().await;
                let mut last = Instant::now();
                let mut max = Duration::ZERO;
                while !done.load(std::sync::atomic::Ordering::Acquire) {
                    interval.tick().await;
                    let now = Instant::now();
                    max = max.max(now - last);
                    last = now;
                }
                max
            })
        };
        magpie::time::sleep(Duration::from_millis(20)).await; // the ticker is running
        let addr = format!("{host}:{port}");
        // Spawned 50 at a time with a yield between: one poll that spawns all 1,000 would
        // itself hold the thread for as long as that takes, which measures the harness,
        // not the connects (no runtime can preempt a poll).
        let mut clients = Vec::with_capacity(CONNECTS);
        for i in 0..CONNECTS {
            let addr = addr.clone();
            clients.push(magpie::spawn(async move {
                TcpStream::connect(addr.as_str()).await.map(drop)
            }));
            if i % 50 == 49 {
                magpie::yield_now().await;
            }
        }
        for c in clients {
            timeout(LONG, c)
                .await
                .expect("connect stalled")
                .unwrap()
                .unwrap();
        }
        timeout(LONG, acceptor).await.expect("accepts").unwrap();
        done.store(true, std::sync::atomic::Ordering::Release);
        ticker.await.unwrap()
    })
}

#[test]
fn a_connect_storm_to_localhost_does_not_stall_a_timer() {
    for (name, rt) in flavors() {
        let gap = max_tick_gap_during_connect_storm(&rt, "localhost");
        // The same storm by IP literal (no resolution at all), for comparison: on a
        // current-thread runtime most of the gap is the 1,000 ready tasks queued ahead
        // of the timer's, not the resolver.
        let baseline = max_tick_gap_during_connect_storm(&rt, "127.0.0.1");
        println!(
            "{name}: 1,000 connect(\"localhost:PORT\"): largest 1 ms tick gap {gap:?} \
             (by IP literal: {baseline:?})"
        );
        assert!(
            gap < Duration::from_millis(200),
            "{name}: the timer stalled for {gap:?} during the connects"
        );
    }
}
