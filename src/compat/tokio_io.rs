//! tokio's I/O traits over magpie's I/O types (feature `tokio-io`: tokio's trait
//! definitions only, no tokio runtime).
//!
//! [`TokioIo<T>`] implements `tokio::io::{AsyncRead, AsyncWrite}` for any `futures-io`
//! type `T`: magpie's [`TcpStream`](crate::net::TcpStream),
//! [`UnixStream`](crate::net::UnixStream), their owned halves, [`Async<T>`](crate::io::Async)
//! and references to them. The I/O stays on magpie's driver, so tokio-util codecs
//! (`Framed`), tokio-rustls and other libraries written against tokio's traits run over
//! magpie sockets without a tokio runtime.
//!
//! It is a wrapper rather than trait impls on the types themselves because Rust's orphan
//! rule forbids implementing a foreign trait (tokio's) for a foreign type (the sockets
//! live in the `magpie-runtime` crate) here, and that crate must not depend on tokio.
//!
//! # Examples
//!
//! ```
//! use magpie::compat::tokio_io::TokioIo;
//! use magpie::net::{TcpListener, TcpStream};
//! use tokio::io::{AsyncReadExt, AsyncWriteExt};
//!
//! magpie::block_on(async {
//!     let listener = TcpListener::bind("127.0.0.1:0").await?;
//!     let addr = listener.local_addr()?;
//!     let mut client = TokioIo::new(TcpStream::connect(addr).await?);
//!     let mut server = TokioIo::new(listener.accept().await?.0);
//!     client.write_all(b"ping").await?;
//!     let mut buf = [0; 4];
//!     server.read_exact(&mut buf).await?;
//!     assert_eq!(&buf, b"ping");
//!     Ok::<(), std::io::Error>(())
//! })
//! .unwrap();
//! ```

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

pin_project_lite::pin_project! {
    /// A `futures-io` type seen through tokio's `AsyncRead`/`AsyncWrite` (see the
    /// [module docs](self)). `poll_shutdown` is `poll_close`: for a socket, a write-side
    /// shutdown.
    ///
    /// # Examples
    ///
    /// ```
    /// use magpie::compat::tokio_io::TokioIo;
    /// let io = TokioIo::new(std::io::Cursor::new(Vec::<u8>::new()));
    /// assert!(io.get_ref().get_ref().is_empty());
    /// ```
    #[derive(Debug)]
    pub struct TokioIo<T> {
        #[pin]
        inner: T,
    }
}

impl<T> TokioIo<T> {
    /// Wraps `inner`.
    ///
    /// # Examples
    ///
    /// ```
    /// let _ = magpie::compat::tokio_io::TokioIo::new(magpie::io::sink());
    /// ```
    pub fn new(inner: T) -> TokioIo<T> {
        TokioIo { inner }
    }

    /// The wrapped value.
    ///
    /// # Examples
    ///
    /// ```
    /// let io = magpie::compat::tokio_io::TokioIo::new(5);
    /// assert_eq!(*io.get_ref(), 5);
    /// ```
    pub fn get_ref(&self) -> &T {
        &self.inner
    }

    /// The wrapped value, mutably.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut io = magpie::compat::tokio_io::TokioIo::new(5);
    /// *io.get_mut() = 6;
    /// assert_eq!(io.into_inner(), 6);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// Unwraps it.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(magpie::compat::tokio_io::TokioIo::new(1).into_inner(), 1);
    /// ```
    pub fn into_inner(self) -> T {
        self.inner
    }
}

impl<T: AsyncRead> tokio::io::AsyncRead for TokioIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if buf.remaining() == 0 {
            return Poll::Ready(Ok(()));
        }
        // Zeroes the unfilled part only once per buffer (ReadBuf tracks what is initialised).
        let n = ready!(self
            .project()
            .inner
            .poll_read(cx, buf.initialize_unfilled()))?;
        buf.advance(n);
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncWrite> tokio::io::AsyncWrite for TokioIo<T> {
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
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_close(cx)
    }
}
