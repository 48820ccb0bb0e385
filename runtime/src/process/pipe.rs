//! The child's standard streams as non-blocking pipes registered with the driver.

use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::pin::Pin;
use std::process::Stdio;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

use crate::io::Async;

/// Takes a std pipe end back out of the driver as a blocking descriptor.
fn into_blocking_fd<T: AsFd + Into<OwnedFd>>(io: Async<T>) -> io::Result<OwnedFd> {
    let fd: OwnedFd = io.into_inner()?.into();
    socket2::SockRef::from(&fd).set_nonblocking(false)?;
    Ok(fd)
}

/// The writing end of a child's standard input, from [`Child::stdin`](super::Child::stdin).
///
/// Writes wait for the pipe to have room instead of blocking the worker. The child reads
/// end of file once this is dropped or [closed](futures_io::AsyncWrite::poll_close)
/// (`close().await` closes the pipe; later writes fail with `BrokenPipe`). A write to a
/// child that has closed its standard input (or exited) fails with `BrokenPipe`.
///
/// # Examples
///
/// ```
/// use magpie_runtime::io::{AsyncReadExt, AsyncWriteExt};
/// use magpie_runtime::process::{Command, Stdio};
///
/// # if cfg!(miri) { return; } // miri cannot spawn processes
/// magpie_runtime::block_on(async {
///     let mut child = Command::new("cat")
///         .stdin(Stdio::piped())
///         .stdout(Stdio::piped())
///         .spawn()
///         .unwrap();
///     let mut stdin = child.stdin.take().unwrap();
///     stdin.write_all(b"meow").await.unwrap();
///     stdin.close().await.unwrap(); // end of file for cat
///     let mut out = Vec::new();
///     child.stdout.take().unwrap().read_to_end(&mut out).await.unwrap();
///     assert_eq!(out, b"meow");
///     assert!(child.wait().await.unwrap().success());
/// });
/// ```
pub struct ChildStdin {
    /// `None` once closed.
    inner: Option<Async<std::process::ChildStdin>>,
}

/// The reading end of a child's standard output, from
/// [`Child::stdout`](super::Child::stdout). Reads wait for data instead of blocking the
/// worker; a read returns 0 once the child closed its end (usually: exited).
///
/// # Examples
///
/// ```
/// use magpie_runtime::io::AsyncReadExt;
/// use magpie_runtime::process::{Command, Stdio};
///
/// # if cfg!(miri) { return; } // miri cannot spawn processes
/// magpie_runtime::block_on(async {
///     let mut child = Command::new("echo").arg("hi").stdout(Stdio::piped()).spawn().unwrap();
///     let mut out = Vec::new();
///     child.stdout.take().unwrap().read_to_end(&mut out).await.unwrap();
///     assert_eq!(out, b"hi\n");
///     child.wait().await.unwrap();
/// });
/// ```
pub struct ChildStdout {
    inner: Async<std::process::ChildStdout>,
}

/// The reading end of a child's standard error, from
/// [`Child::stderr`](super::Child::stderr); see [`ChildStdout`].
///
/// # Examples
///
/// ```
/// use magpie_runtime::io::AsyncReadExt;
/// use magpie_runtime::process::{Command, Stdio};
///
/// # if cfg!(miri) { return; } // miri cannot spawn processes
/// magpie_runtime::block_on(async {
///     let mut child = Command::new("sh")
///         .args(["-c", "echo oops >&2"])
///         .stderr(Stdio::piped())
///         .spawn()
///         .unwrap();
///     let mut err = Vec::new();
///     child.stderr.take().unwrap().read_to_end(&mut err).await.unwrap();
///     assert_eq!(err, b"oops\n");
///     child.wait().await.unwrap();
/// });
/// ```
pub struct ChildStderr {
    inner: Async<std::process::ChildStderr>,
}

impl ChildStdin {
    pub(crate) fn new(std: std::process::ChildStdin) -> io::Result<ChildStdin> {
        Ok(ChildStdin {
            inner: Some(Async::new(std)?),
        })
    }

    /// Deregisters the pipe and returns its descriptor in blocking mode, e.g. to hand it
    /// to another process or a blocking thread.
    ///
    /// # Errors
    ///
    /// `BrokenPipe` if it was already closed, or the OS's error from `fcntl`.
    pub fn into_owned_fd(mut self) -> io::Result<OwnedFd> {
        match self.inner.take() {
            Some(io) => into_blocking_fd(io),
            None => Err(closed()),
        }
    }
}

fn closed() -> io::Error {
    io::Error::new(
        io::ErrorKind::BrokenPipe,
        "the child's stdin was closed by this side",
    )
}

impl ChildStdout {
    pub(crate) fn new(std: std::process::ChildStdout) -> io::Result<ChildStdout> {
        Ok(ChildStdout {
            inner: Async::new(std)?,
        })
    }

    /// Deregisters the pipe and returns its descriptor in blocking mode.
    ///
    /// # Errors
    ///
    /// The OS's error from `fcntl`.
    pub fn into_owned_fd(self) -> io::Result<OwnedFd> {
        into_blocking_fd(self.inner)
    }
}

impl ChildStderr {
    pub(crate) fn new(std: std::process::ChildStderr) -> io::Result<ChildStderr> {
        Ok(ChildStderr {
            inner: Async::new(std)?,
        })
    }

    /// Deregisters the pipe and returns its descriptor in blocking mode.
    ///
    /// # Errors
    ///
    /// The OS's error from `fcntl`.
    pub fn into_owned_fd(self) -> io::Result<OwnedFd> {
        into_blocking_fd(self.inner)
    }
}

impl AsyncWrite for ChildStdin {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.inner.as_mut() {
            Some(io) => Pin::new(io).poll_write(cx, buf),
            None => Poll::Ready(Err(closed())),
        }
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.inner.as_mut() {
            Some(io) => Pin::new(io).poll_write_vectored(cx, bufs),
            None => Poll::Ready(Err(closed())),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // A pipe has no user-space buffer: every accepted byte is in the kernel already.
        Poll::Ready(Ok(()))
    }

    /// Closes the pipe: the child reads end of file.
    fn poll_close(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        drop(self.inner.take());
        Poll::Ready(Ok(()))
    }
}

macro_rules! impl_read {
    ($ty:ident) => {
        impl AsyncRead for $ty {
            fn poll_read(
                mut self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                Pin::new(&mut self.inner).poll_read(cx, buf)
            }
        }

        impl AsFd for $ty {
            fn as_fd(&self) -> BorrowedFd<'_> {
                self.inner.get_ref().as_fd()
            }
        }

        impl AsRawFd for $ty {
            fn as_raw_fd(&self) -> RawFd {
                self.inner.as_raw_fd()
            }
        }

        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($ty))
                    .field("fd", &self.inner.as_raw_fd())
                    .finish()
            }
        }

        /// Hands the pipe to another child: `Command::new("wc").stdin(Stdio::try_from(out)?)`.
        impl TryFrom<$ty> for Stdio {
            type Error = io::Error;

            fn try_from(pipe: $ty) -> io::Result<Stdio> {
                Ok(Stdio::from(pipe.into_owned_fd()?))
            }
        }
    };
}

impl_read!(ChildStdout);
impl_read!(ChildStderr);

impl fmt::Debug for ChildStdin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildStdin")
            .field("fd", &self.inner.as_ref().map(|io| io.as_raw_fd()))
            .finish()
    }
}

/// Hands the pipe to another child.
impl TryFrom<ChildStdin> for Stdio {
    type Error = io::Error;

    fn try_from(pipe: ChildStdin) -> io::Result<Stdio> {
        Ok(Stdio::from(pipe.into_owned_fd()?))
    }
}
