//! The `AsyncRead` / `AsyncWrite` plumbing shared by the stream types and their halves
//! (TCP and Unix-domain): every one of them is an `Arc<Async<S>>` in a field `io`.

use std::io::{self, IoSlice, Read, Write};
use std::net::Shutdown;
use std::task::{Context, Poll};

use crate::io::Async;

/// A connected std stream socket whose write side can be shut down.
pub(super) trait StreamSocket: std::os::fd::AsFd {
    fn shutdown(&self, how: Shutdown) -> io::Result<()>;
}

impl StreamSocket for std::net::TcpStream {
    fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        std::net::TcpStream::shutdown(self, how)
    }
}

#[cfg(unix)]
impl StreamSocket for std::os::unix::net::UnixStream {
    fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        std::os::unix::net::UnixStream::shutdown(self, how)
    }
}

pub(super) fn poll_read<S: StreamSocket>(
    io: &Async<S>,
    cx: &mut Context<'_>,
    buf: &mut [u8],
) -> Poll<io::Result<usize>>
where
    for<'a> &'a S: Read,
{
    let len = buf.len();
    io.poll_read_stream(cx, len, |mut s| s.read(buf))
}

pub(super) fn poll_write<S: StreamSocket>(
    io: &Async<S>,
    cx: &mut Context<'_>,
    buf: &[u8],
) -> Poll<io::Result<usize>>
where
    for<'a> &'a S: Write,
{
    io.poll_write_with(cx, |mut s| s.write(buf))
}

pub(super) fn poll_write_vectored<S: StreamSocket>(
    io: &Async<S>,
    cx: &mut Context<'_>,
    bufs: &[IoSlice<'_>],
) -> Poll<io::Result<usize>>
where
    for<'a> &'a S: Write,
{
    io.poll_write_with(cx, |mut s| s.write_vectored(bufs))
}

/// `poll_close`: shuts the write side (a peer that already went away is not an error).
pub(super) fn poll_shutdown_write<S: StreamSocket>(io: &Async<S>) -> Poll<io::Result<()>> {
    match io.get_ref().shutdown(Shutdown::Write) {
        Err(e) if e.kind() == io::ErrorKind::NotConnected => Poll::Ready(Ok(())),
        r => Poll::Ready(r),
    }
}

/// `impl AsyncRead for $t` through its `io` field.
macro_rules! impl_async_read {
    ($t:ty) => {
        impl futures_io::AsyncRead for $t {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut [u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                super::stream_io::poll_read(&self.io, cx, buf)
            }
        }
    };
}

/// `impl AsyncWrite for $t` through its `io` field (flush is a no-op, close shuts the
/// write side).
macro_rules! impl_async_write {
    ($t:ty) => {
        impl futures_io::AsyncWrite for $t {
            fn poll_write(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                super::stream_io::poll_write(&self.io, cx, buf)
            }
            fn poll_write_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                super::stream_io::poll_write_vectored(&self.io, cx, bufs)
            }
            fn poll_flush(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready(Ok(()))
            }
            fn poll_close(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                super::stream_io::poll_shutdown_write(&self.io)
            }
        }
    };
}

pub(super) use {impl_async_read, impl_async_write};
