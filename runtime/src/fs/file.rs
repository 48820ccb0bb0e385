//! [`File`]: a `std::fs::File` driven from the blocking pool, with one buffer.
//!
//! # The state machine
//!
//! A file is `Idle` (holding its buffer, which may contain read-ahead data not yet given
//! to the caller) or `Busy` (one operation is on the pool, owning the buffer and a clone
//! of the `Arc<std::fs::File>`). At most one operation is in flight, so operations reach
//! the OS in the order they were made.
//!
//! Rules:
//! - F1. A read is served from buffered data if there is any; otherwise it sends one read
//!   to the pool of at least the caller's length, at least `read_ahead` bytes and, for a
//!   regular file, as much of the rest of the file as fits (all capped at `max_buf`), so
//!   a file read front to back with small buffers takes few big hops (a 256 KiB file:
//!   one, plus the one that sees the end). `read_ahead` starts at 64 KiB and doubles (up to
//!   `max_buf`) each time a hop fills it, for files whose size says nothing (pipes,
//!   `/proc`); a write or a seek sets it back to 64 KiB. The OS file position is then
//!   ahead of the caller's by the buffered bytes.
//! - F2. Every operation that moves or uses the position (write, seek, `set_len`,
//!   `into_std`) first drops the buffered read data and seeks the OS position back by its
//!   length, in the same pool hop, so the caller sees the position it expects.
//! - F3. A write copies up to `max_buf` bytes into the buffer, sends one `write_all` to
//!   the pool and returns `Ok(n)` at once ("accepted").
//! - F4. An accepted write is never lost: its future is gone, but the operation on the
//!   pool owns the data and runs to the end even if the `File` is dropped. If it fails,
//!   its error is kept and returned by the next operation on the file (read, write,
//!   seek, flush, close, `sync_all`, `sync_data`, `set_len`, `into_std`). `flush()` and
//!   `sync_all()` wait for it, so they are where a caller learns of it. Only if the
//!   `File` is dropped without either does a failed write's error go unseen (as with
//!   `std::io::BufWriter` and tokio), and only a runtime shutdown can cancel a write the
//!   pool has not started yet.
//! - F5. A `poll_seek` whose seek is in flight gets that seek's result if it asks for the
//!   same `SeekFrom` again (a future being polled again); otherwise a new seek is made.
//! - F6. A read hop that read all of what a regular file's size said was left makes one
//!   more small read in the same hop: if it returns 0 the buffer remembers the end, and
//!   the first read that finds the buffer drained returns `Ok(0)` without a hop (so a
//!   file read to its end takes one hop fewer than it would otherwise). Bytes that
//!   probe finds (the file grew) are kept as read-ahead. The remembered end is an
//!   observation made earlier in the same sequence of reads, as if the caller's read had
//!   happened then; any write, seek or `set_len` forgets it, and so does returning it.

use std::fs::{Metadata, Permissions};
use std::future::{poll_fn, Future};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use futures_io::{AsyncRead, AsyncSeek, AsyncWrite};
use magpie_sync::Mutex;

use super::{asyncify, join_error, spawn_on_pool, OpenOptions};
use crate::loom::Arc;
use crate::task::JoinHandle;

/// The most a single pool operation reads or writes (tokio's figure).
const MAX_BUF: usize = 2 * 1024 * 1024;
/// The least a read fetches at first (rule F1): small reads are served from memory.
const READ_AHEAD: usize = 64 * 1024;

/// An open file on the blocking pool, implementing futures-io's `AsyncRead`,
/// `AsyncWrite` and `AsyncSeek` (tokio's `fs::File`).
///
/// Reads are buffered: one pool hop fetches up to 2 MiB (at least 64 KiB, twice as much
/// each time while the file is read front to back) and small reads that follow come from
/// memory. A write returns as soon as its bytes (up to 2 MiB per
/// call) are copied into the file's buffer and handed to the pool; the next operation
/// waits for it.
///
/// # Errors of writes in flight
///
/// A write that returned `Ok` is completed on the pool even if its future or the `File`
/// is dropped. If it fails, the error is returned by the next operation on the file;
/// call [`flush`](crate::io::AsyncWriteExt::flush) or [`sync_all`](File::sync_all) to
/// wait for every accepted write and learn its outcome. A file dropped without that
/// still gets its writes, but an error of the last one goes unseen (as with std's
/// `BufWriter` and tokio). The rules are written out in `runtime/src/fs/file.rs`.
///
/// # Examples
///
/// ```
/// use magpie_runtime::fs::File;
/// use magpie_runtime::io::{AsyncReadExt, AsyncWriteExt};
///
/// # if cfg!(miri) { return; }
/// magpie_runtime::block_on(async {
///     let path = std::env::temp_dir().join(format!("magpie-file-doc-{}", std::process::id()));
///     let mut f = File::create(&path).await.unwrap();
///     f.write_all(b"hello, file").await.unwrap();
///     f.sync_all().await.unwrap(); // every write done and on disk, or its error here
///     let mut f = File::open(&path).await.unwrap();
///     let mut text = Vec::new();
///     f.read_to_end(&mut text).await.unwrap();
///     assert_eq!(text, b"hello, file");
///     magpie_runtime::fs::remove_file(&path).await.unwrap();
/// });
/// ```
pub struct File {
    std: Arc<std::fs::File>,
    inner: Mutex<Inner>,
}

struct Inner {
    state: State,
    /// The error of an accepted write (rule F4), for the next operation.
    last_write_err: Option<io::Error>,
    max_buf: usize,
    /// What the next read hop fetches at least (rule F1).
    read_ahead: usize,
    /// Operations sent to the pool (tests only).
    #[cfg(test)]
    hops: usize,
}

enum State {
    Idle(Option<Buf>),
    Busy(JoinHandle<(Operation, Buf)>),
}

enum Operation {
    Read(io::Result<usize>),
    Write(io::Result<()>),
    /// The result, and the `SeekFrom` the caller asked for (rule F5).
    Seek(io::Result<u64>, SeekFrom),
}

/// Bytes read ahead (`data[pos..end]`), or bytes to write.
///
/// `data` only grows: its length is how much of it has ever been initialised, so a hop
/// reads into memory zeroed once per `File` rather than once per hop.
#[derive(Default)]
struct Buf {
    data: Vec<u8>,
    pos: usize,
    end: usize,
    /// The hop that filled `data[..end]` then saw the end of the file (rule F6).
    eof: bool,
}

impl Buf {
    fn len(&self) -> usize {
        self.end - self.pos
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Empties the buffer and forgets an end of file seen (rule F6).
    fn clear(&mut self) {
        self.pos = 0;
        self.end = 0;
        self.eof = false;
    }

    fn copy_to(&mut self, dst: &mut [u8]) -> usize {
        let n = self.len().min(dst.len());
        dst[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        if self.pos == self.end {
            // Drained: keep `eof`, for the read that asks next.
            self.pos = 0;
            self.end = 0;
        }
        n
    }

    fn copy_from(&mut self, src: &[u8], max: usize) -> usize {
        debug_assert!(self.is_empty());
        let n = src.len().min(max);
        self.clear();
        if self.data.len() < n {
            // Grows without zeroing first: the copy initialises it.
            self.data.clear();
            self.data.extend_from_slice(&src[..n]);
        } else {
            self.data[..n].copy_from_slice(&src[..n]);
        }
        self.end = n;
        n
    }

    /// Drops buffered read data; the offset to seek by to undo its read-ahead (rule F2).
    fn discard_read(&mut self) -> i64 {
        let back = -(self.len() as i64);
        self.clear();
        back
    }

    /// Reads up to `len` bytes. If `rest` (what the file's size says is left) was all read,
    /// one more read looks for the end in the same hop (rule F6).
    fn read_from(
        &mut self,
        rd: &std::fs::File,
        len: usize,
        rest: Option<usize>,
    ) -> io::Result<usize> {
        debug_assert!(self.is_empty());
        self.clear();
        if self.data.len() < len {
            self.data.resize(len, 0);
        }
        let n = read_retrying(rd, &mut self.data[..len])?;
        self.end = n;
        if n > 0 && rest == Some(n) {
            let mut probe = [0u8; 512];
            match read_retrying(rd, &mut probe) {
                Ok(0) => self.eof = true,
                Ok(more) => {
                    // The file grew since its size was read: keep what came.
                    if self.data.len() < n + more {
                        self.data.resize(n + more, 0);
                    }
                    self.data[n..n + more].copy_from_slice(&probe[..more]);
                    self.end = n + more;
                }
                // The bytes already read are good; the next read meets the error again.
                Err(_) => {}
            }
        }
        Ok(self.end)
    }

    fn write_to(&mut self, mut wr: &std::fs::File) -> io::Result<()> {
        let res = wr.write_all(&self.data[self.pos..self.end]);
        self.clear();
        res
    }
}

/// `read(2)`, retried on `EINTR`.
fn read_retrying(mut rd: &std::fs::File, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match rd.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            r => return r,
        }
    }
}

/// The length of a read hop (rule F1): `len`, or more of a regular file's rest, up to
/// `max`; and that rest, if the file's size told it (rule F6).
fn read_len(mut file: &std::fs::File, len: usize, max: usize) -> (usize, Option<usize>) {
    let rest = file
        .metadata()
        .ok()
        .filter(|m| m.is_file())
        .and_then(|m| m.len().checked_sub(file.stream_position().ok()?))
        .and_then(|r| usize::try_from(r).ok());
    match rest {
        Some(rest) if rest > len => (rest.min(max), Some(rest)),
        _ => (len, rest),
    }
}

/// Seeks `file` back over discarded read-ahead (rule F2); nothing for `back == 0`.
fn undo_read_ahead(mut file: &std::fs::File, back: i64) -> io::Result<()> {
    if back != 0 {
        file.seek(SeekFrom::Current(back))?;
    }
    Ok(())
}

impl Inner {
    /// If busy, waits for the operation in flight and goes idle. A failed write's error
    /// is kept in `last_write_err` (rule F4); the other outcomes are returned.
    fn poll_busy(&mut self, cx: &mut Context<'_>) -> Poll<Option<Operation>> {
        let State::Busy(handle) = &mut self.state else {
            return Poll::Ready(None);
        };
        let (op, buf) = match ready!(Pin::new(handle).poll(cx)) {
            Ok(done) => done,
            Err(e) => {
                self.state = State::Idle(None);
                self.last_write_err = Some(join_error(e));
                return Poll::Ready(None);
            }
        };
        self.state = State::Idle(Some(buf));
        Poll::Ready(match op {
            Operation::Write(Err(e)) => {
                self.last_write_err = Some(e);
                None
            }
            Operation::Write(Ok(())) => None,
            op => Some(op),
        })
    }

    /// Takes the idle buffer; `None` while busy.
    fn take_idle(&mut self) -> Option<Buf> {
        match &mut self.state {
            State::Idle(buf) => Some(buf.take().unwrap_or_default()),
            State::Busy(_) => None,
        }
    }

    fn start<F>(&mut self, op: F) -> io::Result<()>
    where
        F: FnOnce() -> (Operation, Buf) + Send + 'static,
    {
        self.state = State::Busy(spawn_on_pool(op)?);
        #[cfg(test)]
        {
            self.hops += 1;
        }
        Ok(())
    }

    fn poll_read(
        &mut self,
        cx: &mut Context<'_>,
        std: &Arc<std::fs::File>,
        dst: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        loop {
            if let Some(Operation::Read(res)) = ready!(self.poll_busy(cx)) {
                if matches!(res, Ok(n) if n >= self.read_ahead) {
                    self.read_ahead = (self.read_ahead * 2).min(self.max_buf);
                }
                let State::Idle(Some(buf)) = &mut self.state else {
                    unreachable!("poll_busy leaves the file idle with its buffer")
                };
                return Poll::Ready(res.map(|_| buf.copy_to(dst)));
            }
            if let Some(e) = self.last_write_err.take() {
                return Poll::Ready(Err(e));
            }
            let mut buf = self.take_idle().expect("idle after poll_busy");
            if !buf.is_empty() || dst.is_empty() {
                let n = buf.copy_to(dst);
                self.state = State::Idle(Some(buf));
                return Poll::Ready(Ok(n));
            }
            if buf.eof {
                // The hop that filled the buffer saw the end (rule F6): this read is it.
                buf.eof = false;
                self.state = State::Idle(Some(buf));
                return Poll::Ready(Ok(0));
            }
            let len = dst
                .len()
                .clamp(self.read_ahead.min(self.max_buf), self.max_buf);
            let max = self.max_buf;
            let std = std.clone();
            self.start(move || {
                let (len, rest) = read_len(&std, len, max);
                let res = buf.read_from(&std, len, rest);
                (Operation::Read(res), buf)
            })?;
        }
    }

    fn poll_write(
        &mut self,
        cx: &mut Context<'_>,
        std: &Arc<std::fs::File>,
        src: &[u8],
    ) -> Poll<io::Result<usize>> {
        // A read or seek finished here had its future dropped: its outcome is not wanted.
        let _ = ready!(self.poll_busy(cx));
        if let Some(e) = self.last_write_err.take() {
            return Poll::Ready(Err(e));
        }
        if src.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let mut buf = self.take_idle().expect("idle after poll_busy");
        let back = buf.discard_read();
        self.read_ahead = READ_AHEAD;
        let n = buf.copy_from(src, self.max_buf);
        let std = std.clone();
        self.start(move || {
            let res = undo_read_ahead(&std, back).and_then(|()| buf.write_to(&std));
            (Operation::Write(res), buf)
        })?;
        Poll::Ready(Ok(n))
    }

    /// Waits for the operation in flight; the error of a failed accepted write.
    fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let _ = ready!(self.poll_busy(cx));
        Poll::Ready(match self.last_write_err.take() {
            Some(e) => Err(e),
            None => Ok(()),
        })
    }

    fn poll_seek(
        &mut self,
        cx: &mut Context<'_>,
        std: &Arc<std::fs::File>,
        pos: SeekFrom,
    ) -> Poll<io::Result<u64>> {
        loop {
            if let Some(Operation::Seek(res, asked)) = ready!(self.poll_busy(cx)) {
                if asked == pos {
                    return Poll::Ready(res);
                }
            }
            if let Some(e) = self.last_write_err.take() {
                return Poll::Ready(Err(e));
            }
            let mut buf = self.take_idle().expect("idle after poll_busy");
            let back = buf.discard_read();
            self.read_ahead = READ_AHEAD;
            let target = match pos {
                SeekFrom::Current(n) => match n.checked_add(back) {
                    Some(n) => SeekFrom::Current(n),
                    None => {
                        return Poll::Ready(Err(io::Error::new(
                            io::ErrorKind::InvalidInput,
                            "seek offset overflows an i64",
                        )))
                    }
                },
                absolute => absolute,
            };
            let std = std.clone();
            self.start(move || (Operation::Seek((&*std).seek(target), pos), buf))?;
        }
    }

    /// Waits for every accepted write (reporting a failed one), then drops read-ahead
    /// data: the offset to seek the OS position by to undo it (rule F2).
    async fn settle(&mut self) -> io::Result<i64> {
        poll_fn(|cx| self.poll_flush(cx)).await?;
        let mut buf = self.take_idle().expect("idle after poll_flush");
        let back = buf.discard_read();
        self.state = State::Idle(Some(buf));
        Ok(back)
    }
}

impl File {
    /// Opens `path` read-only.
    ///
    /// # Errors
    ///
    /// The OS's error (`NotFound`, `PermissionDenied`, ...), or an error outside a magpie
    /// runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// # if cfg!(miri) { return; }
    /// magpie_runtime::block_on(async {
    ///     let err = magpie_runtime::fs::File::open("/nonexistent").await.unwrap_err();
    ///     assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    /// });
    /// ```
    pub async fn open(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new().read(true).open(path).await
    }

    /// Opens `path` write-only, creating it or truncating it.
    ///
    /// # Errors
    ///
    /// The OS's error (`NotFound` for a missing directory, `IsADirectory`, ...), or an
    /// error outside a magpie runtime.
    pub async fn create(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
            .await
    }

    /// Creates `path` read-write, failing with `AlreadyExists` if it exists.
    ///
    /// # Errors
    ///
    /// `AlreadyExists`, the OS's other errors, or an error outside a magpie runtime.
    pub async fn create_new(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(path)
            .await
    }

    /// A new [`OpenOptions`] (the same as `OpenOptions::new()`).
    pub fn options() -> OpenOptions {
        OpenOptions::new()
    }

    /// Takes over a std file (at its current position).
    pub fn from_std(std: std::fs::File) -> File {
        File {
            std: Arc::new(std),
            inner: Mutex::new(Inner {
                state: State::Idle(Some(Buf::default())),
                last_write_err: None,
                max_buf: MAX_BUF,
                read_ahead: READ_AHEAD,
                #[cfg(test)]
                hops: 0,
            }),
        }
    }

    /// Sets the most a single pool operation reads or writes (2 MiB by default).
    ///
    /// # Panics
    ///
    /// If `max` is 0.
    pub fn set_max_buf_size(&mut self, max: usize) {
        assert!(
            max > 0,
            "File::set_max_buf_size: the size must be at least 1 byte"
        );
        self.inner.get_mut().max_buf = max;
    }

    /// Waits for every accepted write, then flushes data and metadata to the device
    /// (`fsync`).
    ///
    /// # Errors
    ///
    /// The error of an accepted write that failed (see [the rule](File#errors-of-writes-in-flight)),
    /// or the OS's error from `fsync`.
    pub async fn sync_all(&self) -> io::Result<()> {
        let mut inner = self.inner.lock().await;
        poll_fn(|cx| inner.poll_flush(cx)).await?;
        let std = self.std.clone();
        asyncify(move || std.sync_all()).await
    }

    /// As [`sync_all`](File::sync_all), but only the data (and the metadata needed to
    /// read it back): `fdatasync`.
    ///
    /// # Errors
    ///
    /// As [`sync_all`](File::sync_all).
    pub async fn sync_data(&self) -> io::Result<()> {
        let mut inner = self.inner.lock().await;
        poll_fn(|cx| inner.poll_flush(cx)).await?;
        let std = self.std.clone();
        asyncify(move || std.sync_data()).await
    }

    /// Truncates or extends the file to `size` bytes, after every accepted write. The
    /// position is not changed.
    ///
    /// # Errors
    ///
    /// The error of an accepted write that failed, or the OS's error (`InvalidInput` for a
    /// file not open for writing).
    ///
    /// # Examples
    ///
    /// ```
    /// use magpie_runtime::io::AsyncWriteExt;
    /// # if cfg!(miri) { return; }
    /// magpie_runtime::block_on(async {
    ///     let path = std::env::temp_dir().join(format!("magpie-setlen-doc-{}", std::process::id()));
    ///     let mut f = magpie_runtime::fs::File::create(&path).await.unwrap();
    ///     f.write_all(b"0123456789").await.unwrap();
    ///     f.set_len(4).await.unwrap();
    ///     assert_eq!(f.metadata().await.unwrap().len(), 4);
    ///     magpie_runtime::fs::remove_file(&path).await.unwrap();
    /// });
    /// ```
    pub async fn set_len(&self, size: u64) -> io::Result<()> {
        let mut inner = self.inner.lock().await;
        let back = inner.settle().await?;
        let std = self.std.clone();
        asyncify(move || {
            undo_read_ahead(&std, back)?;
            std.set_len(size)
        })
        .await
    }

    /// The file's metadata.
    ///
    /// # Errors
    ///
    /// The OS's error, or an error outside a magpie runtime.
    pub async fn metadata(&self) -> io::Result<Metadata> {
        let std = self.std.clone();
        asyncify(move || std.metadata()).await
    }

    /// Changes the file's permissions.
    ///
    /// # Errors
    ///
    /// The OS's error, or an error outside a magpie runtime.
    pub async fn set_permissions(&self, perm: Permissions) -> io::Result<()> {
        let std = self.std.clone();
        asyncify(move || std.set_permissions(perm)).await
    }

    /// A second `File` for the same open file (`dup`): it shares the position, not the
    /// buffer, so finish writes with `flush` before using both.
    ///
    /// # Errors
    ///
    /// The OS's error (`EMFILE`, ...), or an error outside a magpie runtime.
    pub async fn try_clone(&self) -> io::Result<File> {
        let std = self.std.clone();
        Ok(File::from_std(asyncify(move || std.try_clone()).await?))
    }

    /// Waits for every accepted write, moves the position back over read-ahead data, and
    /// returns the std file.
    ///
    /// Unlike tokio's (which returns the file and drops a write's error), this returns an
    /// `io::Result`, as magpie's sockets' `into_std` do, so an accepted write's failure is
    /// still reported (rule F4).
    ///
    /// # Errors
    ///
    /// The error of an accepted write that failed (the file is closed then), or the OS's
    /// error from the seek.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::Read;
    /// use magpie_runtime::io::AsyncReadExt;
    /// # if cfg!(miri) { return; }
    /// magpie_runtime::block_on(async {
    ///     let path = std::env::temp_dir().join(format!("magpie-intostd-doc-{}", std::process::id()));
    ///     magpie_runtime::fs::write(&path, b"abcdef").await.unwrap();
    ///     let mut f = magpie_runtime::fs::File::open(&path).await.unwrap();
    ///     let mut two = [0; 2];
    ///     f.read_exact(&mut two).await.unwrap(); // the pool read ahead further
    ///     let mut std_file = f.into_std().await.unwrap();
    ///     let mut rest = String::new();
    ///     std_file.read_to_string(&mut rest).unwrap();
    ///     assert_eq!(rest, "cdef");
    ///     let again = magpie_runtime::fs::File::from_std(std_file);
    ///     assert!(again.try_into_std().is_ok());
    ///     magpie_runtime::fs::remove_file(&path).await.unwrap();
    /// });
    /// ```
    pub async fn into_std(mut self) -> io::Result<std::fs::File> {
        let back = self.inner.get_mut().settle().await?;
        let std = self.std.clone();
        asyncify(move || undo_read_ahead(&std, back)).await?;
        Ok(self.unwrap_std())
    }

    /// The std file, if nothing is in flight or buffered; the `File` back otherwise.
    ///
    /// # Errors
    ///
    /// Gives `self` back while an operation is in flight, read-ahead data is buffered, or
    /// an accepted write's error is waiting to be reported.
    #[allow(clippy::result_large_err)] // tokio's shape: the `File` itself comes back
    pub fn try_into_std(mut self) -> Result<std::fs::File, File> {
        let inner = self.inner.get_mut();
        let settled = inner.last_write_err.is_none()
            && matches!(&inner.state, State::Idle(buf) if buf.as_ref().is_none_or(Buf::is_empty));
        if settled && Arc::strong_count(&self.std) == 1 {
            Ok(self.unwrap_std())
        } else {
            Err(self)
        }
    }

    fn unwrap_std(self) -> std::fs::File {
        match Arc::try_unwrap(self.std) {
            Ok(std) => std,
            Err(_) => unreachable!("an idle File is the only owner of its std file"),
        }
    }
}

impl AsyncRead for File {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let me = self.get_mut();
        me.inner.get_mut().poll_read(cx, &me.std, buf)
    }
}

impl AsyncWrite for File {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let me = self.get_mut();
        me.inner.get_mut().poll_write(cx, &me.std, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().inner.get_mut().poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}

impl AsyncSeek for File {
    fn poll_seek(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        pos: SeekFrom,
    ) -> Poll<io::Result<u64>> {
        let me = self.get_mut();
        me.inner.get_mut().poll_seek(cx, &me.std, pos)
    }
}

impl From<std::fs::File> for File {
    fn from(std: std::fs::File) -> File {
        File::from_std(std)
    }
}

#[cfg(unix)]
impl std::os::fd::AsRawFd for File {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.std.as_raw_fd()
    }
}

#[cfg(unix)]
impl std::os::fd::AsFd for File {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.std.as_fd()
    }
}

impl std::fmt::Debug for File {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("File")
            .field("std", &*self.std)
            .finish_non_exhaustive()
    }
}

#[cfg(all(test, not(any(loom, miri))))]
mod tests {
    use super::*;
    use crate::io::{AsyncReadExt, AsyncWriteExt};

    /// Large reads and writes take a few big pool operations, not one per small buffer.
    #[test]
    fn sequential_io_takes_few_pool_hops() {
        const LEN: usize = 8 << 20;
        let rt = crate::Builder::new_current_thread().build().unwrap();
        let path = std::env::temp_dir().join(format!("magpie-fs-hops-{}", std::process::id()));
        let data: Vec<u8> = (0..LEN).map(|i| (i % 251) as u8).collect();
        rt.block_on(async {
            let mut f = File::create(&path).await.unwrap();
            f.write_all(&data).await.unwrap();
            f.flush().await.unwrap();
            assert_eq!(
                f.inner.get_mut().hops,
                LEN / MAX_BUF,
                "one hop per 2 MiB written"
            );

            let mut f = File::open(&path).await.unwrap();
            let mut back = Vec::new();
            let mut chunk = [0u8; 8192];
            loop {
                let n = f.read(&mut chunk).await.unwrap();
                if n == 0 {
                    break;
                }
                back.extend_from_slice(&chunk[..n]);
            }
            assert!(back == data, "read back differs");
            let hops = f.inner.get_mut().hops;
            // Four of 2 MiB (the file's size is known); the last one also sees the end
            // (rule F6).
            assert_eq!(
                hops,
                LEN / MAX_BUF,
                "pool hops for 8 MiB read 8 KiB at a time"
            );

            // A file whose size says nothing (a socket here): read-ahead grows 64 KiB, ...
            let (rx, mut tx) = std::os::unix::net::UnixStream::pair().unwrap();
            let writer = std::thread::spawn(move || std::io::Write::write_all(&mut tx, &data));
            let mut f = File::from_std(std::fs::File::from(std::os::fd::OwnedFd::from(rx)));
            let mut total = 0;
            loop {
                let n = f.read(&mut chunk).await.unwrap();
                if n == 0 {
                    break;
                }
                total += n;
            }
            writer.join().unwrap().unwrap();
            assert_eq!(total, LEN);
            assert!(
                f.inner.get_mut().read_ahead > READ_AHEAD,
                "read-ahead grew on a socket"
            );
        });
        std::fs::remove_file(&path).unwrap();
    }

    /// Rule F6: the end seen by a hop is returned once, without a hop; the read after it,
    /// and any read after a seek, asks the file again (it may have grown).
    #[test]
    fn an_end_of_file_seen_early_is_returned_once_then_the_file_is_asked_again() {
        let rt = crate::Builder::new_current_thread().build().unwrap();
        let path = std::env::temp_dir().join(format!("magpie-fs-eof-{}", std::process::id()));
        std::fs::write(&path, b"0123456789").unwrap();
        rt.block_on(async {
            let mut f = File::open(&path).await.unwrap();
            let mut buf = [0u8; 64];
            assert_eq!(f.read(&mut buf).await.unwrap(), 10);
            assert_eq!(&buf[..10], b"0123456789");
            assert_eq!(f.inner.get_mut().hops, 1, "the first hop saw the end too");
            // The file grows now; the end seen before is still returned once, no hop.
            let mut w = std::fs::OpenOptions::new()
                .append(true)
                .open(&path)
                .unwrap();
            std::io::Write::write_all(&mut w, b"abc").unwrap();
            assert_eq!(f.read(&mut buf).await.unwrap(), 0);
            assert_eq!(f.inner.get_mut().hops, 1, "the remembered end took no hop");
            // The next read asks the file and finds what was appended.
            assert_eq!(f.read(&mut buf).await.unwrap(), 3);
            assert_eq!(&buf[..3], b"abc");
            assert_eq!(f.read(&mut buf).await.unwrap(), 0);
            // A seek forgets a remembered end.
            poll_fn(|cx| Pin::new(&mut f).poll_seek(cx, SeekFrom::Start(11)))
                .await
                .unwrap();
            assert_eq!(f.read(&mut buf).await.unwrap(), 2);
            assert_eq!(&buf[..2], b"bc");
            // read_to_end of the grown file: all of it.
            let mut g = File::open(&path).await.unwrap();
            let mut all = Vec::new();
            g.read_to_end(&mut all).await.unwrap();
            assert_eq!(all, b"0123456789abc");
        });
        std::fs::remove_file(&path).unwrap();
    }
}
