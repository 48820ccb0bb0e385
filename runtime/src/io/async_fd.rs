use std::io::{self, IoSlice, Read, Write};
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

use crate::driver::{Direction, Registration};

/// Any file descriptor (socket, pipe, terminal, ...) registered with the runtime's driver.
///
/// `Async::new` puts the descriptor in non-blocking mode and registers it; reads and
/// writes then wait for readiness instead of blocking the thread. This is how the
/// [`net`](crate::net) types are built, and how to bring any other `AsFd` source into
/// magpie.
///
/// Dropping it deregisters the descriptor and then closes it (by dropping `T`);
/// [`into_inner`](Async::into_inner) deregisters it and gives `T` back (still non-blocking).
///
/// # Examples
///
/// ```
/// use std::io::{Read, Write};
/// use std::os::unix::net::UnixStream;
/// use magpie_runtime::io::{Async, AsyncReadExt, AsyncWriteExt};
///
/// # if cfg!(miri) { return; } // miri has no epoll: no sockets there
/// magpie_runtime::block_on(async {
///     let (a, b) = UnixStream::pair().unwrap();
///     let mut a = Async::new(a).unwrap();
///     let mut b = Async::new(b).unwrap();
///     a.write_all(b"ping").await.unwrap();
///     let mut buf = [0; 4];
///     b.read_exact(&mut buf).await.unwrap();
///     assert_eq!(&buf, b"ping");
///     // Or run any non-blocking operation, retried on readiness:
///     let n = a.write_with(|s| (&*s).write(b"!")).await.unwrap();
///     assert_eq!(n, 1);
///     let n = b.read_with(|s| (&*s).read(&mut buf)).await.unwrap();
///     assert_eq!(&buf[..n], b"!");
/// });
/// ```
pub struct Async<T: AsFd> {
    /// Dropped before `io` (rule SRC-1): `None` only after `into_inner`.
    registration: Option<Registration>,
    io: Option<T>,
}

impl<T: AsFd> Async<T> {
    /// Puts `io` in non-blocking mode and registers it with the current runtime.
    ///
    /// # Errors
    ///
    /// Outside a magpie runtime, after it shut down, or the OS's error from `fcntl` or
    /// the poller (for example for a regular file, which epoll refuses).
    pub fn new(io: T) -> io::Result<Async<T>> {
        socket2::SockRef::from(&io).set_nonblocking(true)?;
        Async::new_nonblocking(io)
    }

    /// Registers `io`, which the caller has already made non-blocking.
    pub(crate) fn new_nonblocking(io: T) -> io::Result<Async<T>> {
        let registration = Registration::new(io.as_fd().as_raw_fd())?;
        Ok(Async {
            registration: Some(registration),
            io: Some(io),
        })
    }

    fn reg(&self) -> &Registration {
        self.registration
            .as_ref()
            .expect("registered until into_inner")
    }

    /// The inner I/O object.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::os::unix::net::UnixStream;
    /// # if cfg!(miri) { return; } // miri has no epoll: no sockets there
    /// magpie_runtime::block_on(async {
    ///     let (a, _b) = UnixStream::pair().unwrap();
    ///     let mut a = magpie_runtime::io::Async::new(a).unwrap();
    ///     assert!(a.get_ref().peer_addr().is_ok());
    ///     a.get_mut().set_read_timeout(None).unwrap();
    ///     let std_again: UnixStream = a.into_inner().unwrap(); // deregistered, still non-blocking
    ///     drop(std_again);
    /// });
    /// ```
    pub fn get_ref(&self) -> &T {
        self.io.as_ref().expect("present until into_inner")
    }

    /// The inner I/O object, mutably. Do not replace or close its descriptor.
    pub fn get_mut(&mut self) -> &mut T {
        self.io.as_mut().expect("present until into_inner")
    }

    /// Deregisters the descriptor and returns the I/O object (still non-blocking).
    ///
    /// # Errors
    ///
    /// None today; the `Result` leaves room for platforms where deregistering can fail.
    pub fn into_inner(mut self) -> io::Result<T> {
        drop(self.registration.take());
        Ok(self.io.take().expect("present until into_inner"))
    }

    /// Waits until the driver reports the descriptor readable (or it is believed readable).
    ///
    /// # Errors
    ///
    /// When the runtime that registered it has shut down.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::Write;
    /// use std::os::unix::net::UnixStream;
    /// # if cfg!(miri) { return; } // miri has no epoll: no sockets there
    /// magpie_runtime::block_on(async {
    ///     let (a, mut b) = UnixStream::pair().unwrap();
    ///     let a = magpie_runtime::io::Async::new(a).unwrap();
    ///     a.writable().await.unwrap(); // an empty socket buffer: writable at once
    ///     b.write_all(b"x").unwrap();
    ///     a.readable().await.unwrap();
    /// });
    /// ```
    pub async fn readable(&self) -> io::Result<()> {
        self.reg().ready(Direction::Read).await
    }

    /// Waits until the descriptor is writable; see [`readable`](Async::readable).
    ///
    /// # Errors
    ///
    /// When the runtime that registered it has shut down.
    pub async fn writable(&self) -> io::Result<()> {
        self.reg().ready(Direction::Write).await
    }

    /// Runs the non-blocking read-side operation `op` until it does not fail with
    /// `WouldBlock`, waiting for readability in between.
    ///
    /// # Errors
    ///
    /// `op`'s error, or an error if the runtime has shut down.
    pub async fn read_with<R>(&self, mut op: impl FnMut(&T) -> io::Result<R>) -> io::Result<R> {
        let io = self.get_ref();
        self.reg().io(Direction::Read, || op(io)).await
    }

    /// Runs the non-blocking write-side operation `op` until it does not fail with
    /// `WouldBlock`, waiting for writability in between.
    ///
    /// # Errors
    ///
    /// `op`'s error, or an error if the runtime has shut down.
    pub async fn write_with<R>(&self, mut op: impl FnMut(&T) -> io::Result<R>) -> io::Result<R> {
        let io = self.get_ref();
        self.reg().io(Direction::Write, || op(io)).await
    }

    /// Polls a read-side operation (see [`read_with`](Async::read_with)).
    ///
    /// # Errors
    ///
    /// `op`'s error, or an error if the runtime has shut down.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// use std::os::unix::net::UnixStream;
    /// # if cfg!(miri) { return; } // miri has no epoll: no sockets there
    /// magpie_runtime::block_on(async {
    ///     let (a, b) = UnixStream::pair().unwrap();
    ///     let a = magpie_runtime::io::Async::new(a).unwrap();
    ///     let b = magpie_runtime::io::Async::new(b).unwrap();
    ///     std::future::poll_fn(|cx| b.poll_write_with(cx, |s| (&*s).write(b"hi"))).await.unwrap();
    ///     let mut buf = [0; 2];
    ///     let n = std::future::poll_fn(|cx| a.poll_read_with(cx, |s| (&*s).read(&mut buf)))
    ///         .await
    ///         .unwrap();
    ///     assert_eq!(&buf[..n], b"hi");
    /// });
    /// ```
    pub fn poll_read_with<R>(
        &self,
        cx: &mut Context<'_>,
        mut op: impl FnMut(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        let io = self.get_ref();
        self.reg().poll_io(Direction::Read, cx, || op(io))
    }

    /// Polls a write-side operation (see [`write_with`](Async::write_with)).
    ///
    /// # Errors
    ///
    /// `op`'s error, or an error if the runtime has shut down.
    pub fn poll_write_with<R>(
        &self,
        cx: &mut Context<'_>,
        mut op: impl FnMut(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        let io = self.get_ref();
        self.reg().poll_io(Direction::Write, cx, || op(io))
    }

    /// Whether the driver believes the object readable (tests only).
    #[cfg(test)]
    pub(crate) fn read_ready(&self) -> bool {
        self.reg().read_ready()
    }

    /// [`poll_read_with`](Async::poll_read_with) for a stream read into `len` bytes of
    /// buffer: a short read also clears read readiness (rule SRC-4), sparing the next
    /// read a `WouldBlock`. Only for stream sockets, never datagrams.
    pub(crate) fn poll_read_stream(
        &self,
        cx: &mut Context<'_>,
        len: usize,
        mut op: impl FnMut(&T) -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        let io = self.get_ref();
        self.reg().poll_read_stream(cx, len, || op(io))
    }

    fn poll_read_mut<R>(
        &mut self,
        cx: &mut Context<'_>,
        mut op: impl FnMut(&mut T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        let io = self.io.as_mut().expect("present until into_inner");
        let reg = self
            .registration
            .as_ref()
            .expect("registered until into_inner");
        reg.poll_io(Direction::Read, cx, || op(io))
    }

    fn poll_write_mut<R>(
        &mut self,
        cx: &mut Context<'_>,
        mut op: impl FnMut(&mut T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        let io = self.io.as_mut().expect("present until into_inner");
        let reg = self
            .registration
            .as_ref()
            .expect("registered until into_inner");
        reg.poll_io(Direction::Write, cx, || op(io))
    }
}

// `Async` never pins `T`: it is only reached through `&`/`&mut`, so pinning an `Async`
// says nothing about `T`.
impl<T: AsFd> Unpin for Async<T> {}

impl<T: AsFd> AsRawFd for Async<T> {
    fn as_raw_fd(&self) -> RawFd {
        self.get_ref().as_fd().as_raw_fd()
    }
}

impl<T: AsFd> Drop for Async<T> {
    fn drop(&mut self) {
        // Rule SRC-1: deregister first, close (drop `io`) second.
        drop(self.registration.take());
        drop(self.io.take());
    }
}

impl<T: AsFd + Read> AsyncRead for Async<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_read_mut(cx, |io| io.read(buf))
    }
}

impl<T: AsFd + Write> AsyncWrite for Async<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_mut(cx, |io| io.write(buf))
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_mut(cx, |io| io.write_vectored(bufs))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_write_mut(cx, |io| io.flush())
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}

impl<T: AsFd + std::fmt::Debug> std::fmt::Debug for Async<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Async").field("io", &self.io).finish()
    }
}
