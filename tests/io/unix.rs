//! Unix-domain sockets and `Async<T>` over arbitrary descriptors.
#![cfg(unix)]

use crate::support;

use std::io::{Read, Write};

use magpie::io::{Async, AsyncReadExt, AsyncWriteExt};
use magpie::net::{UnixListener, UnixStream};
use support::flavors;

fn socket_path(tag: &str) -> std::path::PathBuf {
    let p = std::env::temp_dir().join(format!("magpie-io-unix-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_file(&p);
    p
}

#[test]
fn unix_listener_echo_and_split() {
    for (name, rt) in flavors() {
        let path = socket_path(name);
        rt.block_on(async {
            let listener = UnixListener::bind(&path).unwrap();
            let server = magpie::spawn(async move {
                let (s, _) = listener.accept().await.unwrap();
                let (mut r, mut w) = s.into_split();
                magpie::io::copy(&mut r, &mut w).await.unwrap()
            });
            let c = UnixStream::connect(&path).await.unwrap();
            let (mut r, mut w) = c.into_split();
            let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
            let expected = data.clone();
            let writer = magpie::spawn(async move {
                w.write_all(&data).await.unwrap();
            });
            let mut back = Vec::new();
            r.read_to_end(&mut back).await.unwrap();
            writer.await.unwrap();
            assert!(back == expected, "{name}");
            assert_eq!(server.await.unwrap(), 300_000);
        });
        std::fs::remove_file(&path).unwrap();
    }
}

#[test]
fn unix_connect_to_a_missing_path_fails() {
    for (name, rt) in flavors() {
        rt.block_on(async {
            let err = UnixStream::connect(socket_path("missing"))
                .await
                .unwrap_err();
            assert_eq!(err.kind(), std::io::ErrorKind::NotFound, "{name}: {err}");
        });
    }
}

#[test]
fn async_wraps_any_descriptor() {
    for (name, rt) in flavors() {
        rt.block_on(async {
            let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
            let a = Async::new(a).unwrap();
            let mut b = Async::new(b).unwrap();
            // A reader that waits, woken by a writer in another task.
            let reader = magpie::spawn(async move {
                let mut buf = [0u8; 5];
                b.read_exact(&mut buf).await.unwrap();
                buf
            });
            magpie::time::sleep(std::time::Duration::from_millis(5)).await;
            let n = a.write_with(|s| (&*s).write(b"hello")).await.unwrap();
            assert_eq!(n, 5);
            assert_eq!(&reader.await.unwrap(), b"hello", "{name}");
            a.writable().await.unwrap();
            let std_a = a.into_inner().unwrap();
            assert_eq!(magpie::Handle::current().io_source_count(), 0, "{name}");
            // Back in std hands: the reader's end was dropped with its task, so end of stream.
            assert_eq!((&std_a).read(&mut [0u8; 1]).unwrap(), 0, "{name}");
        });
    }
}
