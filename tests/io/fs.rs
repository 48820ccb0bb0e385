//! magpie::fs on both runtime flavours: errors keep the OS's kind, round trips up to
//! 64 MiB, read_dir of 10,000 entries, 32 concurrent appenders, and the rule for writes
//! whose future is gone (completed, or their error reported by the next operation).

use crate::support;

use std::io::{ErrorKind, SeekFrom};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use futures_core::Stream;
use magpie::fs::{self, File, OpenOptions};
use magpie::io::{AsyncReadExt, AsyncSeek, AsyncWrite, AsyncWriteExt};
use support::flavors;

/// A fresh directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("magpie-test-fs-{}-{name}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
    fn join(&self, p: &str) -> PathBuf {
        self.0.join(p)
    }
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `len` bytes of a xorshift stream from `seed`: every offset differs from its neighbours.
fn pattern(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

async fn seek(f: &mut File, pos: SeekFrom) -> std::io::Result<u64> {
    std::future::poll_fn(|cx| Pin::new(&mut *f).poll_seek(cx, pos)).await
}

fn first_diff(a: &[u8], b: &[u8]) -> Option<usize> {
    if a.len() != b.len() {
        return Some(a.len().min(b.len()));
    }
    a.iter().zip(b).position(|(x, y)| x != y)
}

#[test]
fn errors_keep_the_os_kind() {
    for (name, rt) in flavors() {
        let dir = TempDir::new("errors");
        rt.block_on(async {
            let missing = dir.join("missing");
            for (what, err) in [
                ("read", fs::read(&missing).await.unwrap_err()),
                ("open", File::open(&missing).await.unwrap_err()),
                ("metadata", fs::metadata(&missing).await.unwrap_err()),
                ("remove_file", fs::remove_file(&missing).await.unwrap_err()),
                (
                    "read_dir",
                    fs::read_dir(&missing).await.map(drop).unwrap_err(),
                ),
                (
                    "create in missing dir",
                    fs::write(dir.join("no/such/f"), b"x").await.unwrap_err(),
                ),
                ("copy", fs::copy(&missing, dir.join("c")).await.unwrap_err()),
                (
                    "rename",
                    fs::rename(&missing, dir.join("r")).await.unwrap_err(),
                ),
                (
                    "canonicalize",
                    fs::canonicalize(&missing).await.unwrap_err(),
                ),
            ] {
                assert_eq!(err.kind(), ErrorKind::NotFound, "{name}: {what}: {err}");
            }
            assert!(!fs::try_exists(&missing).await.unwrap(), "{name}");

            // A directory where a file is expected.
            let d = dir.path();
            for (what, err) in [
                ("read", fs::read(d).await.unwrap_err()),
                ("write", fs::write(d, b"x").await.unwrap_err()),
                ("create", File::create(d).await.unwrap_err()),
                ("remove_file", fs::remove_file(d).await.unwrap_err()),
            ] {
                assert_eq!(err.kind(), ErrorKind::IsADirectory, "{name}: {what}: {err}");
            }
            // Opening a directory read-only works on Linux; reading it fails.
            let mut as_file = File::open(d).await.unwrap();
            let err = as_file.read(&mut [0u8; 16]).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::IsADirectory, "{name}: {err}");

            // A file where a directory is expected.
            let file = dir.join("plain");
            fs::write(&file, b"data").await.unwrap();
            for (what, err) in [
                ("read_dir", fs::read_dir(&file).await.map(drop).unwrap_err()),
                (
                    "create_dir under",
                    fs::create_dir(file.join("sub")).await.unwrap_err(),
                ),
                (
                    "create_dir_all under",
                    fs::create_dir_all(file.join("a/b")).await.unwrap_err(),
                ),
                ("remove_dir", fs::remove_dir(&file).await.unwrap_err()),
            ] {
                assert_eq!(
                    err.kind(),
                    ErrorKind::NotADirectory,
                    "{name}: {what}: {err}"
                );
            }

            // Permission refused to root too: procfs files cannot be unlinked (EPERM).
            #[cfg(target_os = "linux")]
            {
                let err = fs::remove_file("/proc/self/status").await.unwrap_err();
                assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{name}: {err}");
            }

            // Refusals that hold for root too.
            let full = dir.join("full");
            fs::create_dir(&full).await.unwrap();
            fs::write(full.join("x"), b"x").await.unwrap();
            let err = fs::remove_dir(&full).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::DirectoryNotEmpty, "{name}: {err}");
            let err = fs::create_dir(&full).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::AlreadyExists, "{name}: {err}");
            let err = File::create_new(&file).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::AlreadyExists, "{name}: {err}");
            let err = fs::read_link(&file).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{name}: {err}");
            let err = fs::rename(&full, full.join("into-itself"))
                .await
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{name}: {err}");
            fs::write(&file, [0xff, 0xfe, 0xfd]).await.unwrap();
            let err = fs::read_to_string(&file).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidData, "{name}: {err}");
            let ro = File::open(&file).await.unwrap();
            let err = ro.set_len(0).await.unwrap_err();
            assert_eq!(
                err.kind(),
                ErrorKind::InvalidInput,
                "{name}: set_len read-only: {err}"
            );
        });
    }
}

#[test]
fn round_trips_up_to_64_mib() {
    let sizes = [
        0,
        1,
        4095,
        64 * 1024 + 1,
        2 * 1024 * 1024 + 3,
        9_000_017,
        64 << 20,
    ];
    for (name, rt) in flavors() {
        let dir = TempDir::new("roundtrip");
        rt.block_on(async {
            for (i, &len) in sizes.iter().enumerate() {
                let data = pattern(i as u64 + 1, len);
                let path = dir.join(&format!("f{i}"));
                // Write in uneven chunks through File, read back through fs::read.
                let mut f = File::create(&path).await.unwrap();
                let mut off = 0;
                let mut step = 1000;
                while off < len {
                    let end = (off + step).min(len);
                    f.write_all(&data[off..end]).await.unwrap();
                    off = end;
                    step = (step * 3) % (3 << 20) + 1;
                }
                f.flush().await.unwrap();
                f.sync_all().await.unwrap();
                assert_eq!(
                    f.metadata().await.unwrap().len(),
                    len as u64,
                    "{name} {len}"
                );
                drop(f);
                let back = fs::read(&path).await.unwrap();
                assert_eq!(
                    first_diff(&back, &data),
                    None,
                    "{name}: fs::read of {len} bytes"
                );

                // Write with fs::write, read back through File in 8 KiB reads.
                fs::write(&path, &data).await.unwrap();
                let mut f = File::open(&path).await.unwrap();
                let mut back = Vec::with_capacity(len);
                let mut buf = vec![0u8; 8192];
                loop {
                    let n = f.read(&mut buf).await.unwrap();
                    if n == 0 {
                        break;
                    }
                    back.extend_from_slice(&buf[..n]);
                }
                assert_eq!(
                    first_diff(&back, &data),
                    None,
                    "{name}: File reads of {len} bytes"
                );
            }
        });
    }
}

#[test]
fn seeks_and_writes_see_the_callers_position_after_read_ahead() {
    for (name, rt) in flavors() {
        let dir = TempDir::new("seek");
        rt.block_on(async {
            let path = dir.join("s");
            let data = pattern(7, 300_000);
            fs::write(&path, &data).await.unwrap();
            let mut f = OpenOptions::new()
                .read(true)
                .write(true)
                .open(&path)
                .await
                .unwrap();
            let mut buf = [0u8; 10];
            f.read_exact(&mut buf).await.unwrap(); // the pool read 64 KiB ahead
            assert_eq!(&buf, &data[..10], "{name}");
            assert_eq!(
                seek(&mut f, SeekFrom::Current(0)).await.unwrap(),
                10,
                "{name}"
            );
            assert_eq!(
                seek(&mut f, SeekFrom::Current(5)).await.unwrap(),
                15,
                "{name}"
            );
            f.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, &data[15..25], "{name}");
            f.write_all(b"XYZ").await.unwrap(); // at 25, not at the read-ahead's end
            assert_eq!(
                seek(&mut f, SeekFrom::End(-2)).await.unwrap(),
                299_998,
                "{name}"
            );
            f.read_exact(&mut buf[..2]).await.unwrap();
            assert_eq!(&buf[..2], &data[299_998..], "{name}");
            assert_eq!(f.read(&mut buf).await.unwrap(), 0, "{name}: end of file");
            assert_eq!(
                seek(&mut f, SeekFrom::Start(24)).await.unwrap(),
                24,
                "{name}"
            );
            f.read_exact(&mut buf[..5]).await.unwrap();
            assert_eq!(&buf[..5], &[data[24], b'X', b'Y', b'Z', data[28]], "{name}");
            f.flush().await.unwrap();
            let mut want = data.clone();
            want[25..28].copy_from_slice(b"XYZ");
            assert_eq!(
                first_diff(&fs::read(&path).await.unwrap(), &want),
                None,
                "{name}"
            );
        });
    }
}

#[test]
fn read_dir_lists_10_000_entries() {
    const N: usize = 10_000;
    let dir = TempDir::new("readdir");
    for i in 0..N {
        std::fs::write(dir.join(&format!("e{i:05}")), b"").unwrap();
    }
    std::fs::create_dir(dir.join("subdir")).unwrap();
    for (name, rt) in flavors() {
        rt.block_on(async {
            // next_entry
            let mut seen = vec![false; N];
            let mut rd = fs::read_dir(dir.path()).await.unwrap();
            let mut dirs = 0;
            while let Some(e) = rd.next_entry().await.unwrap() {
                let file_name = e.file_name().into_string().unwrap();
                assert_eq!(e.path(), dir.join(&file_name), "{name}");
                if file_name == "subdir" {
                    assert!(e.file_type().await.unwrap().is_dir(), "{name}");
                    dirs += 1;
                    continue;
                }
                let i: usize = file_name[1..].parse().unwrap();
                assert!(!seen[i], "{name}: {file_name} listed twice");
                seen[i] = true;
                assert!(e.file_type().await.unwrap().is_file(), "{name}");
            }
            assert_eq!(dirs, 1, "{name}");
            assert!(seen.iter().all(|&s| s), "{name}: an entry is missing");
            assert!(
                rd.next_entry().await.unwrap().is_none(),
                "{name}: stays at the end"
            );

            // Stream
            let mut rd = fs::read_dir(dir.path()).await.unwrap();
            let mut count = 0;
            while let Some(e) = std::future::poll_fn(|cx| Pin::new(&mut rd).poll_next(cx)).await {
                let e = e.unwrap();
                if count % 1000 == 0 {
                    assert_eq!(e.metadata().await.unwrap().len(), 0, "{name}");
                }
                count += 1;
            }
            assert_eq!(count, N + 1, "{name}");
        });
    }
}

#[test]
fn concurrent_appends_from_32_tasks_lose_no_bytes() {
    const TASKS: usize = 32;
    const RECORDS: usize = 64;
    const REC: usize = 512;
    for (name, rt) in flavors() {
        let dir = TempDir::new("append");
        let path = dir.join("log");
        rt.block_on(async {
            let mut tasks = Vec::new();
            for t in 0..TASKS {
                let path = path.clone();
                tasks.push(magpie::spawn(async move {
                    let mut f = OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(&path)
                        .await
                        .unwrap();
                    for r in 0..RECORDS {
                        let mut rec = [b'.'; REC];
                        let head = format!("{t:02}:{r:03}:");
                        rec[..head.len()].copy_from_slice(head.as_bytes());
                        rec[REC - 1] = b'\n';
                        f.write_all(&rec).await.unwrap();
                        if r % 8 == 0 {
                            magpie::yield_now().await;
                        }
                    }
                    f.flush().await.unwrap();
                }));
            }
            for h in tasks {
                h.await.unwrap();
            }
        });
        let log = std::fs::read(&path).unwrap();
        assert_eq!(
            log.len(),
            TASKS * RECORDS * REC,
            "{name}: bytes lost or added"
        );
        let mut seen = vec![false; TASKS * RECORDS];
        for rec in log.chunks(REC) {
            let head = std::str::from_utf8(&rec[..7]).unwrap();
            let t: usize = head[..2].parse().unwrap();
            let r: usize = head[3..6].parse().unwrap();
            assert!(
                rec[7..REC - 1].iter().all(|&b| b == b'.'),
                "{name}: torn record {head}"
            );
            assert!(!seen[t * RECORDS + r], "{name}: record {head} twice");
            seen[t * RECORDS + r] = true;
        }
    }
}

/// One `poll_write` with no waiting: the write is accepted, and its future is gone.
fn accept_write(f: &mut File, data: &[u8]) -> usize {
    let mut cx = Context::from_waker(Waker::noop());
    match Pin::new(f).poll_write(&mut cx, data) {
        Poll::Ready(Ok(n)) => n,
        other => panic!("an idle file accepts a write at once, got {other:?}"),
    }
}

#[test]
fn an_accepted_write_is_completed_by_flush_or_after_drop() {
    for (name, rt) in flavors() {
        let dir = TempDir::new("inflight");
        rt.block_on(async {
            let data = pattern(3, 8 << 20);
            // Completed: flush waits for it.
            let path = dir.join("flushed");
            let mut f = File::create(&path).await.unwrap();
            let n = accept_write(&mut f, &data);
            assert_eq!(n, 2 << 20, "{name}: one pool operation takes up to 2 MiB");
            f.flush().await.unwrap();
            assert_eq!(
                first_diff(&std::fs::read(&path).unwrap(), &data[..n]),
                None,
                "{name}"
            );

            // Completed with the File dropped at once.
            let path = dir.join("dropped");
            let mut f = File::create(&path).await.unwrap();
            let n = accept_write(&mut f, &data);
            drop(f);
            let t = Instant::now();
            while std::fs::metadata(&path).unwrap().len() < n as u64 {
                assert!(
                    t.elapsed() < Duration::from_secs(20),
                    "{name}: the write was lost"
                );
                magpie::time::sleep(Duration::from_millis(5)).await;
            }
            assert_eq!(
                first_diff(&std::fs::read(&path).unwrap(), &data[..n]),
                None,
                "{name}"
            );
        });
    }
}

#[test]
fn a_failed_accepted_write_is_reported_by_the_next_operation() {
    for (name, rt) in flavors() {
        let dir = TempDir::new("failed");
        let path = dir.join("ro");
        std::fs::write(&path, b"read-only here").unwrap();
        rt.block_on(async {
            // flush
            let mut f = File::open(&path).await.unwrap();
            assert_eq!(accept_write(&mut f, b"nope"), 4, "{name}");
            let err = f.flush().await.unwrap_err();
            assert_eq!(err.raw_os_error(), Some(libc_ebadf()), "{name}: {err}");
            f.flush().await.unwrap(); // reported once

            // sync_all
            let mut f = File::open(&path).await.unwrap();
            accept_write(&mut f, b"nope");
            assert_eq!(
                f.sync_all().await.unwrap_err().raw_os_error(),
                Some(libc_ebadf()),
                "{name}"
            );

            // a read
            let mut f = File::open(&path).await.unwrap();
            accept_write(&mut f, b"nope");
            let err = f.read(&mut [0u8; 4]).await.unwrap_err();
            assert_eq!(err.raw_os_error(), Some(libc_ebadf()), "{name}: {err}");
            let mut back = Vec::new();
            f.read_to_end(&mut back).await.unwrap();
            assert_eq!(
                back, b"read-only here",
                "{name}: reads go on after the report"
            );

            // the next write, and into_std
            let mut f = File::open(&path).await.unwrap();
            accept_write(&mut f, b"nope");
            assert!(f.write(b"more").await.is_err(), "{name}");
            let mut f = File::open(&path).await.unwrap();
            accept_write(&mut f, b"nope");
            assert_eq!(
                f.into_std().await.unwrap_err().raw_os_error(),
                Some(libc_ebadf()),
                "{name}"
            );
        });
        assert_eq!(std::fs::read(&path).unwrap(), b"read-only here", "{name}");
    }
}

fn libc_ebadf() -> i32 {
    9 // EBADF on Linux and the BSDs
}

#[test]
fn outside_a_runtime_an_error_not_a_panic() {
    let err = magpie::block_on(async {
        // Inside: fine. The future is then moved out and run on a plain executor.
        fs::metadata(std::env::temp_dir()).await.map(drop)
    });
    err.unwrap();
    let fut = fs::read("/etc/hostname");
    let err = futures_lite_block_on(fut).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Other);
    assert!(
        err.to_string().contains("outside a magpie runtime"),
        "{err}"
    );
}

/// Polls a future on this thread with a thread-unparking waker (no magpie runtime).
fn futures_lite_block_on<F: std::future::Future>(fut: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl std::task::Wake for Unpark {
        fn wake(self: std::sync::Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(std::sync::Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut fut = std::pin::pin!(fut);
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::park();
    }
}
