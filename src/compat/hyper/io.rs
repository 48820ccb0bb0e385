//! [`MagpieIo`]: hyper's `Read` and `Write` over futures-io streams.

use std::fmt;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

/// The most a single read asks of the inner stream, and so the largest the scratch
/// buffer grows (hyper's own read buffer starts at 8 KiB and grows with the traffic).
const MAX_SCRATCH: usize = 64 * 1024;

/// The size the scratch buffer starts at, enough for a typical request head.
const MIN_SCRATCH: usize = 8 * 1024;

pin_project_lite::pin_project! {
    /// Adapts a `futures_io::{AsyncRead, AsyncWrite}` stream, such as magpie's
    /// [`TcpStream`](crate::net::TcpStream) or [`UnixStream`](crate::net::UnixStream), to
    /// hyper's [`Read`](hyper::rt::Read) and [`Write`](hyper::rt::Write) (what hyper-util's
    /// `TokioIo` is for tokio's streams).
    ///
    /// **Reads.** hyper reads into memory it has not initialised, while
    /// `AsyncRead::poll_read` takes an initialised `&mut [u8]`. Rather than zero hyper's
    /// buffer on every read (8 KiB or more each time, the cost `initialize_unfilled`
    /// would have), the adapter keeps a scratch buffer, zeroed once when it is allocated
    /// (lazily, on the first read: 8 KiB, growing to at most 64 KiB when hyper offers more
    /// room), reads into it and copies the bytes that arrived into hyper's buffer. The
    /// copy is of what was read, not of the buffer's size, and no `unsafe` is needed.
    ///
    /// **Writes.** `poll_write`, `poll_write_vectored`, `poll_flush` and `poll_shutdown`
    /// (which is `poll_close`) go straight to the inner stream. By default the adapter
    /// tells hyper that vectored writes are efficient, so hyper queues a response's head
    /// and body as separate buffers and writes them with one `poll_write_vectored`
    /// (magpie's sockets do a single `writev`). For a stream whose `poll_write_vectored`
    /// is futures-io's default (it writes only the first buffer), call
    /// [`vectored_writes(false)`](MagpieIo::vectored_writes): hyper then copies everything
    /// into one buffer before writing.
    ///
    /// The inner stream may be `!Unpin`.
    ///
    /// # Examples
    ///
    /// ```
    /// use hyper::rt::{Read, ReadBuf, Write};
    /// use magpie::compat::hyper::MagpieIo;
    /// use magpie::net::{TcpListener, TcpStream};
    ///
    /// magpie::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let addr = listener.local_addr().unwrap();
    ///     let mut client = MagpieIo::new(TcpStream::connect(addr).await.unwrap());
    ///     let (server, _) = listener.accept().await.unwrap();
    ///     let mut server = MagpieIo::new(server);
    ///
    ///     std::future::poll_fn(|cx| std::pin::Pin::new(&mut client).poll_write(cx, b"ping"))
    ///         .await
    ///         .unwrap();
    ///     let mut storage = [std::mem::MaybeUninit::uninit(); 16];
    ///     let mut buf = ReadBuf::uninit(&mut storage);
    ///     std::future::poll_fn(|cx| std::pin::Pin::new(&mut server).poll_read(cx, buf.unfilled()))
    ///         .await
    ///         .unwrap();
    ///     assert_eq!(buf.filled(), b"ping");
    /// });
    /// ```
    pub struct MagpieIo<T> {
        #[pin]
        inner: T,
        scratch: Vec<u8>,
        vectored: bool,
    }
}

impl<T> MagpieIo<T> {
    /// Wraps `inner`, with vectored writes on (see the type's docs).
    ///
    /// # Examples
    ///
    /// ```
    /// use magpie::compat::hyper::MagpieIo;
    ///
    /// magpie::block_on(async {
    ///     let listener = magpie::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let addr = listener.local_addr().unwrap();
    ///     let io = MagpieIo::new(magpie::net::TcpStream::connect(addr).await.unwrap());
    ///     assert_eq!(io.get_ref().peer_addr().unwrap(), addr);
    /// });
    /// ```
    pub fn new(inner: T) -> MagpieIo<T> {
        MagpieIo {
            inner,
            scratch: Vec::new(),
            vectored: true,
        }
    }

    /// Sets whether hyper should hand this stream several buffers at once
    /// (`poll_write_vectored`) or one flattened buffer; the default is `true`.
    ///
    /// # Examples
    ///
    /// ```
    /// use hyper::rt::Write;
    /// use magpie::compat::hyper::MagpieIo;
    ///
    /// // Writing to a Vec<u8> through futures-io: any stream works the same way.
    /// let io = MagpieIo::new(Vec::<u8>::new()).vectored_writes(false);
    /// assert!(!io.is_write_vectored());
    /// ```
    pub fn vectored_writes(mut self, vectored: bool) -> MagpieIo<T> {
        self.vectored = vectored;
        self
    }

    /// The wrapped stream.
    ///
    /// # Examples
    ///
    /// See [`MagpieIo::new`].
    pub fn get_ref(&self) -> &T {
        &self.inner
    }

    /// The wrapped stream, mutably.
    ///
    /// # Examples
    ///
    /// ```
    /// use magpie::compat::hyper::MagpieIo;
    ///
    /// let mut io = MagpieIo::new(Vec::<u8>::new());
    /// io.get_mut().push(1);
    /// assert_eq!(io.into_inner(), [1]);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// The wrapped stream, pinned.
    ///
    /// # Examples
    ///
    /// ```
    /// use magpie::compat::hyper::MagpieIo;
    ///
    /// let mut io = Box::pin(MagpieIo::new(Vec::<u8>::new()));
    /// io.as_mut().get_pin_mut().push(7);
    /// assert_eq!(io.get_ref()[..], [7]);
    /// ```
    pub fn get_pin_mut(self: Pin<&mut Self>) -> Pin<&mut T> {
        self.project().inner
    }

    /// Unwraps the stream (bytes already handed to hyper stay with hyper).
    ///
    /// # Examples
    ///
    /// See [`MagpieIo::get_mut`].
    pub fn into_inner(self) -> T {
        self.inner
    }
}

impl<T: fmt::Debug> fmt::Debug for MagpieIo<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MagpieIo")
            .field("inner", &self.inner)
            .field("scratch_len", &self.scratch.len())
            .field("vectored", &self.vectored)
            .finish()
    }
}

impl<T: AsyncRead> ::hyper::rt::Read for MagpieIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: ::hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.project();
        let want = buf.remaining().min(MAX_SCRATCH);
        if want == 0 {
            return Poll::Ready(Ok(()));
        }
        if this.scratch.len() < want {
            // Zeroed once here; later reads reuse the (initialised) bytes.
            this.scratch.resize(want.clamp(MIN_SCRATCH, MAX_SCRATCH), 0);
        }
        let n = std::task::ready!(this.inner.poll_read(cx, &mut this.scratch[..want]))?;
        buf.put_slice(&this.scratch[..n]);
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncWrite> ::hyper::rt::Write for MagpieIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.vectored
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_close(cx)
    }
}
