//! Extension methods over the `futures-io` traits: `read`, `read_exact`, `write_all`, ...

use std::future::Future;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

/// Methods on every [`AsyncRead`].
///
/// # Examples
///
/// ```
/// use magpie_runtime::io::AsyncReadExt;
///
/// magpie_runtime::block_on(async {
///     let mut src: &[u8] = b"hello world";
///     let mut head = [0; 5];
///     src.read_exact(&mut head).await.unwrap();
///     let mut rest = Vec::new();
///     src.read_to_end(&mut rest).await.unwrap();
///     assert_eq!((&head[..], &rest[..]), (&b"hello"[..], &b" world"[..]));
/// });
/// ```
pub trait AsyncReadExt: AsyncRead {
    /// Reads some bytes into `buf`; `Ok(0)` means end of stream (or an empty `buf`).
    ///
    /// # Errors
    ///
    /// The reader's error.
    fn read<'a>(&'a mut self, buf: &'a mut [u8]) -> ReadFut<'a, Self>
    where
        Self: Unpin,
    {
        ReadFut { reader: self, buf }
    }

    /// Reads exactly `buf.len()` bytes.
    ///
    /// # Errors
    ///
    /// `UnexpectedEof` if the stream ends first (what was read is in `buf`), or the
    /// reader's error.
    fn read_exact<'a>(&'a mut self, buf: &'a mut [u8]) -> ReadExact<'a, Self>
    where
        Self: Unpin,
    {
        ReadExact { reader: self, buf }
    }

    /// Reads until end of stream, appending to `buf`; returns the number of bytes read.
    ///
    /// # Errors
    ///
    /// The reader's error (what was read so far stays in `buf`).
    fn read_to_end<'a>(&'a mut self, buf: &'a mut Vec<u8>) -> ReadToEnd<'a, Self>
    where
        Self: Unpin,
    {
        ReadToEnd {
            reader: self,
            buf,
            read: 0,
            chunk: 0,
        }
    }
}

impl<R: AsyncRead + ?Sized> AsyncReadExt for R {}

/// Methods on every [`AsyncWrite`].
///
/// # Examples
///
/// ```
/// use magpie_runtime::io::AsyncWriteExt;
///
/// magpie_runtime::block_on(async {
///     let mut out = magpie_runtime::io::sink();
///     out.write_all(b"abc").await.unwrap();
///     out.flush().await.unwrap();
/// });
/// ```
pub trait AsyncWriteExt: AsyncWrite {
    /// Writes some bytes from `buf`; returns how many.
    ///
    /// # Errors
    ///
    /// The writer's error.
    fn write<'a>(&'a mut self, buf: &'a [u8]) -> WriteFut<'a, Self>
    where
        Self: Unpin,
    {
        WriteFut { writer: self, buf }
    }

    /// Writes some bytes from `bufs` in one vectored write; returns how many.
    ///
    /// # Errors
    ///
    /// The writer's error.
    fn write_vectored<'a>(&'a mut self, bufs: &'a [IoSlice<'a>]) -> WriteVectored<'a, Self>
    where
        Self: Unpin,
    {
        WriteVectored { writer: self, bufs }
    }

    /// Writes all of `buf`.
    ///
    /// # Errors
    ///
    /// `WriteZero` if the writer accepts no more bytes, or the writer's error.
    fn write_all<'a>(&'a mut self, buf: &'a [u8]) -> WriteAll<'a, Self>
    where
        Self: Unpin,
    {
        WriteAll { writer: self, buf }
    }

    /// Flushes buffered data.
    ///
    /// # Errors
    ///
    /// The writer's error.
    fn flush(&mut self) -> Flush<'_, Self>
    where
        Self: Unpin,
    {
        Flush { writer: self }
    }

    /// Flushes and closes the writer (for a socket: shuts down its write side).
    ///
    /// # Errors
    ///
    /// The writer's error.
    fn close(&mut self) -> Close<'_, Self>
    where
        Self: Unpin,
    {
        Close { writer: self }
    }
}

impl<W: AsyncWrite + ?Sized> AsyncWriteExt for W {}

/// The future of [`AsyncReadExt::read`].
///
/// # Examples
///
/// ```
/// use magpie_runtime::io::{AsyncReadExt, ReadFut};
/// magpie_runtime::block_on(async {
///     let mut src: &[u8] = b"abc";
///     let mut buf = [0; 8];
///     let fut: ReadFut<'_, &[u8]> = src.read(&mut buf);
///     assert_eq!(fut.await.unwrap(), 3);
/// });
/// ```
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct ReadFut<'a, R: ?Sized> {
    reader: &'a mut R,
    buf: &'a mut [u8],
}

impl<R: AsyncRead + Unpin + ?Sized> Future for ReadFut<'_, R> {
    type Output = io::Result<usize>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        Pin::new(&mut *this.reader).poll_read(cx, this.buf)
    }
}

/// The future of [`AsyncReadExt::read_exact`].
///
/// # Examples
///
/// ```
/// use magpie_runtime::io::{AsyncReadExt, ReadExact};
/// magpie_runtime::block_on(async {
///     let mut src: &[u8] = b"abcdef";
///     let mut buf = [0; 4];
///     let fut: ReadExact<'_, &[u8]> = src.read_exact(&mut buf);
///     fut.await.unwrap();
///     assert_eq!(&buf, b"abcd");
/// });
/// ```
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct ReadExact<'a, R: ?Sized> {
    reader: &'a mut R,
    buf: &'a mut [u8],
}

impl<R: AsyncRead + Unpin + ?Sized> Future for ReadExact<'_, R> {
    type Output = io::Result<()>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        while !this.buf.is_empty() {
            let n = ready!(Pin::new(&mut *this.reader).poll_read(cx, this.buf))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::UnexpectedEof.into()));
            }
            let buf = std::mem::take(&mut this.buf);
            this.buf = &mut buf[n..];
        }
        Poll::Ready(Ok(()))
    }
}

/// The future of [`AsyncReadExt::read_to_end`].
///
/// # Examples
///
/// ```
/// use magpie_runtime::io::{AsyncReadExt, ReadToEnd};
/// magpie_runtime::block_on(async {
///     let mut src: &[u8] = b"all of it";
///     let mut out = Vec::new();
///     let fut: ReadToEnd<'_, &[u8]> = src.read_to_end(&mut out);
///     assert_eq!(fut.await.unwrap(), 9);
///     assert_eq!(out, b"all of it");
/// });
/// ```
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct ReadToEnd<'a, R: ?Sized> {
    reader: &'a mut R,
    buf: &'a mut Vec<u8>,
    read: usize,
    /// The most the next read asks for; 0 until the first poll.
    chunk: usize,
}

/// The least [`ReadToEnd`] asks a read for, and the most it starts with.
const READ_CHUNK_MIN: usize = 8 * 1024;
const READ_CHUNK_MAX: usize = 2 * 1024 * 1024;

impl<R: AsyncRead + Unpin + ?Sized> Future for ReadToEnd<'_, R> {
    type Output = io::Result<usize>;
    /// Reads straight into the vector's spare room (zeroed once per room and poll: no
    /// `unsafe`), as much as the caller reserved up to 2 MiB at first, twice as much after
    /// each room that filled. When the vector is full, a 32-byte probe read looks for the end
    /// before the vector grows (a vector reserved to a file's exact size is common).
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if this.chunk == 0 {
            let spare = this.buf.capacity() - this.buf.len();
            this.chunk = spare.clamp(READ_CHUNK_MIN, READ_CHUNK_MAX);
        }
        loop {
            let start = this.buf.len();
            let spare = this.buf.capacity() - start;
            if spare == 0 {
                let mut probe = [0u8; 32];
                let n = ready!(Pin::new(&mut *this.reader).poll_read(cx, &mut probe))?;
                if n == 0 {
                    return Poll::Ready(Ok(this.read));
                }
                this.buf.extend_from_slice(&probe[..n]);
                this.read += n;
                continue;
            }
            // One zeroed room, filled by as many reads as it takes, then cut to what came.
            let end = start + spare.min(this.chunk);
            this.buf.resize(end, 0);
            let mut at = start;
            let outcome = loop {
                match Pin::new(&mut *this.reader).poll_read(cx, &mut this.buf[at..end]) {
                    Poll::Ready(Ok(0)) => break Poll::Ready(Ok(true)),
                    Poll::Ready(Ok(n)) => {
                        at = (at + n).min(end);
                        if at == end {
                            break Poll::Ready(Ok(false));
                        }
                    }
                    Poll::Ready(Err(e)) => break Poll::Ready(Err(e)),
                    Poll::Pending => break Poll::Pending,
                }
            };
            this.buf.truncate(at);
            this.read += at - start;
            match outcome {
                // The room filled: ask for more next time.
                Poll::Ready(Ok(false)) => this.chunk = (this.chunk * 2).min(READ_CHUNK_MAX),
                Poll::Ready(Ok(true)) => return Poll::Ready(Ok(this.read)),
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

/// The future of [`AsyncWriteExt::write`].
///
/// # Examples
///
/// ```
/// use magpie_runtime::io::{sink, AsyncWriteExt, Sink, WriteFut};
/// magpie_runtime::block_on(async {
///     let mut s = sink();
///     let fut: WriteFut<'_, Sink> = s.write(b"bytes");
///     assert_eq!(fut.await.unwrap(), 5);
/// });
/// ```
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct WriteFut<'a, W: ?Sized> {
    writer: &'a mut W,
    buf: &'a [u8],
}

impl<W: AsyncWrite + Unpin + ?Sized> Future for WriteFut<'_, W> {
    type Output = io::Result<usize>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        Pin::new(&mut *this.writer).poll_write(cx, this.buf)
    }
}

/// The future of [`AsyncWriteExt::write_vectored`].
///
/// # Examples
///
/// ```
/// use std::io::IoSlice;
/// use magpie_runtime::io::{sink, AsyncWriteExt, Sink, WriteVectored};
/// magpie_runtime::block_on(async {
///     let mut s = sink();
///     let bufs = [IoSlice::new(b"ab"), IoSlice::new(b"cd")];
///     let fut: WriteVectored<'_, Sink> = s.write_vectored(&bufs);
///     let n = fut.await.unwrap();
///     assert!((1..=4).contains(&n)); // like `write`, it may take only a part
/// });
/// ```
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct WriteVectored<'a, W: ?Sized> {
    writer: &'a mut W,
    bufs: &'a [IoSlice<'a>],
}

impl<W: AsyncWrite + Unpin + ?Sized> Future for WriteVectored<'_, W> {
    type Output = io::Result<usize>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        Pin::new(&mut *this.writer).poll_write_vectored(cx, this.bufs)
    }
}

/// The future of [`AsyncWriteExt::write_all`].
///
/// # Examples
///
/// ```
/// use magpie_runtime::io::{sink, AsyncWriteExt, Sink, WriteAll};
/// magpie_runtime::block_on(async {
///     let mut s = sink();
///     let fut: WriteAll<'_, Sink> = s.write_all(b"every byte");
///     fut.await.unwrap();
/// });
/// ```
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct WriteAll<'a, W: ?Sized> {
    writer: &'a mut W,
    buf: &'a [u8],
}

impl<W: AsyncWrite + Unpin + ?Sized> Future for WriteAll<'_, W> {
    type Output = io::Result<()>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        while !this.buf.is_empty() {
            let n = ready!(Pin::new(&mut *this.writer).poll_write(cx, this.buf))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            this.buf = &this.buf[n..];
        }
        Poll::Ready(Ok(()))
    }
}

/// The future of [`AsyncWriteExt::flush`].
///
/// # Examples
///
/// ```
/// use magpie_runtime::io::{sink, AsyncWriteExt, Flush, Sink};
/// magpie_runtime::block_on(async {
///     let mut s = sink();
///     let fut: Flush<'_, Sink> = s.flush();
///     fut.await.unwrap();
/// });
/// ```
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct Flush<'a, W: ?Sized> {
    writer: &'a mut W,
}

impl<W: AsyncWrite + Unpin + ?Sized> Future for Flush<'_, W> {
    type Output = io::Result<()>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut *self.get_mut().writer).poll_flush(cx)
    }
}

/// The future of [`AsyncWriteExt::close`].
///
/// # Examples
///
/// ```
/// use magpie_runtime::io::{sink, AsyncWriteExt, Close, Sink};
/// magpie_runtime::block_on(async {
///     let mut s = sink();
///     let fut: Close<'_, Sink> = s.close();
///     fut.await.unwrap();
/// });
/// ```
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct Close<'a, W: ?Sized> {
    writer: &'a mut W,
}

impl<W: AsyncWrite + Unpin + ?Sized> Future for Close<'_, W> {
    type Output = io::Result<()>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut *self.get_mut().writer).poll_close(cx)
    }
}

/// Copies everything from `reader` to `writer` until end of stream, then flushes;
/// returns the number of bytes copied.
///
/// # Errors
///
/// Either side's error; `WriteZero` if the writer stops accepting bytes.
///
/// # Examples
///
/// ```
/// magpie_runtime::block_on(async {
///     let mut src: &[u8] = &[7; 100_000];
///     let mut dst = magpie_runtime::io::sink();
///     let n = magpie_runtime::io::copy(&mut src, &mut dst).await.unwrap();
///     assert_eq!(n, 100_000);
/// });
/// ```
pub async fn copy<R, W>(reader: &mut R, writer: &mut W) -> io::Result<u64>
where
    R: AsyncRead + Unpin + ?Sized,
    W: AsyncWrite + Unpin + ?Sized,
{
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    loop {
        let n = reader.read(&mut buf).await?;
        if n == 0 {
            writer.flush().await?;
            return Ok(total);
        }
        writer.write_all(&buf[..n]).await?;
        total += n as u64;
    }
}

/// A writer that accepts and discards every byte; see [`sink`].
///
/// # Examples
///
/// ```
/// use magpie_runtime::io::{AsyncWriteExt, Sink};
/// magpie_runtime::block_on(async {
///     let mut s: Sink = magpie_runtime::io::sink();
///     s.write_all(b"discarded").await.unwrap();
/// });
/// ```
#[derive(Debug, Default, Clone, Copy)]
pub struct Sink {
    _private: (),
}

/// A writer that discards everything (like `std::io::sink`).
///
/// # Examples
///
/// ```
/// use magpie_runtime::io::AsyncWriteExt;
///
/// magpie_runtime::block_on(async {
///     let mut s = magpie_runtime::io::sink();
///     assert_eq!(s.write(b"gone").await.unwrap(), 4);
/// });
/// ```
pub fn sink() -> Sink {
    Sink { _private: () }
}

impl AsyncWrite for Sink {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hands out `data` in reads of at most `max` bytes, counting reads and their lengths.
    struct Counting<'a> {
        data: &'a [u8],
        max: usize,
        asked: Vec<usize>,
    }

    impl AsyncRead for Counting<'_> {
        fn poll_read(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            dst: &mut [u8],
        ) -> Poll<io::Result<usize>> {
            self.asked.push(dst.len());
            let n = dst.len().min(self.max).min(self.data.len());
            dst[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Poll::Ready(Ok(n))
        }
    }

    /// A vector reserved to the exact size is filled in one read, then a small probe
    /// finds the end: it does not grow (and is not zero-filled) past what was reserved.
    #[test]
    fn read_to_end_into_an_exactly_reserved_vector_reads_once_and_does_not_grow() {
        let data: Vec<u8> = (0..100_000u32).map(|i| i as u8).collect();
        let mut r = Counting {
            data: &data,
            max: usize::MAX,
            asked: Vec::new(),
        };
        let mut out = Vec::with_capacity(data.len());
        let n = crate::block_on(r.read_to_end(&mut out)).unwrap();
        assert_eq!(n, data.len());
        assert!(out == data);
        assert_eq!(out.capacity(), data.len(), "the vector grew");
        assert_eq!(r.asked, [data.len(), 32], "one read of all, one probe");
    }

    /// Short reads, an empty vector with no room, and bytes past the reservation all end
    /// with every byte in order; reads grow past the first size while they come back full.
    #[test]
    fn read_to_end_keeps_every_byte_across_short_reads_and_growth() {
        let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        for (reserve, max) in [(0, usize::MAX), (0, 1000), (10, 7), (200_000, usize::MAX)] {
            let mut r = Counting {
                data: &data,
                max,
                asked: Vec::new(),
            };
            let mut out = Vec::with_capacity(reserve);
            let n = crate::block_on(r.read_to_end(&mut out)).unwrap();
            assert_eq!(n, data.len(), "reserve {reserve}, reads of {max}");
            assert!(
                out == data,
                "reserve {reserve}, reads of {max}: bytes differ"
            );
        }
        // Full reads double the size asked for.
        let mut r = Counting {
            data: &data,
            max: usize::MAX,
            asked: Vec::new(),
        };
        let mut out = Vec::new();
        crate::block_on(r.read_to_end(&mut out)).unwrap();
        assert!(
            r.asked.iter().any(|&len| len > READ_CHUNK_MIN),
            "reads grew: {:?}",
            r.asked
        );
    }
}
