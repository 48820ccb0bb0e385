use std::io;
use std::net::Shutdown;
use std::os::unix::net::{self as stdunix, SocketAddr};
use std::path::Path;

use socket2::{Domain, SockAddr, Socket, Type};

use super::connect_in_progress;
use super::stream_io::{impl_async_read, impl_async_write};
use crate::io::Async;
use crate::loom::Arc;

/// A Unix-domain socket listening for connections.
///
/// # Examples
///
/// ```
/// use magpie_runtime::net::{UnixListener, UnixStream};
///
/// # if cfg!(miri) { return; } // miri has no epoll: no sockets there
/// magpie_runtime::block_on(async {
///     let dir = std::env::temp_dir().join(format!("magpie-doc-{}", std::process::id()));
///     let _ = std::fs::remove_file(&dir);
///     let listener = UnixListener::bind(&dir).unwrap();
///     let client = UnixStream::connect(&dir).await.unwrap();
///     let (_server, _) = listener.accept().await.unwrap();
///     drop(client);
///     std::fs::remove_file(&dir).unwrap();
/// });
/// ```
pub struct UnixListener {
    io: Async<stdunix::UnixListener>,
}

impl UnixListener {
    /// Binds to the socket file `path` and listens.
    ///
    /// # Errors
    ///
    /// The OS's error (`AddrInUse` if the file exists), or an error outside a magpie
    /// runtime.
    pub fn bind<P: AsRef<Path>>(path: P) -> io::Result<UnixListener> {
        UnixListener::from_std(stdunix::UnixListener::bind(path)?)
    }

    /// Accepts a connection.
    ///
    /// # Errors
    ///
    /// The OS's error, or an error once the runtime has shut down.
    pub async fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        let (stream, addr) = self.io.read_with(|l| l.accept()).await?;
        Ok((UnixStream::from_std(stream)?, addr))
    }

    /// The address this listener is bound to.
    ///
    /// # Errors
    ///
    /// The OS's error.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// Registers a std listener with the current runtime (it is made non-blocking).
    ///
    /// # Errors
    ///
    /// Outside a magpie runtime, or the OS's error.
    pub fn from_std(listener: stdunix::UnixListener) -> io::Result<UnixListener> {
        listener.set_nonblocking(true)?;
        Ok(UnixListener {
            io: Async::new_nonblocking(listener)?,
        })
    }

    /// Deregisters the listener and returns it (still non-blocking).
    ///
    /// # Errors
    ///
    /// None today; see [`Async::into_inner`].
    pub fn into_std(self) -> io::Result<stdunix::UnixListener> {
        self.io.into_inner()
    }
}

impl std::fmt::Debug for UnixListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UnixListener")
            .field("local_addr", &self.local_addr().ok())
            .finish()
    }
}

/// A Unix-domain stream connection.
///
/// # Examples
///
/// ```
/// use magpie_runtime::io::{AsyncReadExt, AsyncWriteExt};
/// use magpie_runtime::net::UnixStream;
///
/// # if cfg!(miri) { return; } // miri has no epoll: no sockets there
/// magpie_runtime::block_on(async {
///     let (mut a, mut b) = UnixStream::pair().unwrap();
///     a.write_all(b"hi").await.unwrap();
///     let mut buf = [0; 2];
///     b.read_exact(&mut buf).await.unwrap();
///     assert_eq!(&buf, b"hi");
/// });
/// ```
pub struct UnixStream {
    io: Arc<Async<stdunix::UnixStream>>,
}

impl UnixStream {
    /// Connects to the socket file `path`.
    ///
    /// # Errors
    ///
    /// The OS's error (`NotFound`, `ConnectionRefused`, ...), or an error outside a magpie
    /// runtime.
    pub async fn connect<P: AsRef<Path>>(path: P) -> io::Result<UnixStream> {
        let socket = Socket::new(Domain::UNIX, Type::STREAM, None)?;
        socket.set_nonblocking(true)?;
        let in_progress = match socket.connect(&SockAddr::unix(path)?) {
            Ok(()) => false,
            Err(e) if connect_in_progress(&e) => true,
            Err(e) => return Err(e),
        };
        let stream = UnixStream::from_nonblocking(stdunix::UnixStream::from(
            std::os::fd::OwnedFd::from(socket),
        ))?;
        if in_progress {
            stream
                .io
                .write_with(|s| match s.take_error()? {
                    Some(e) => Err(e),
                    None => Ok(()),
                })
                .await?;
        }
        Ok(stream)
    }

    /// A connected pair of streams.
    ///
    /// # Errors
    ///
    /// The OS's error, or an error outside a magpie runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// # if cfg!(miri) { return; } // miri has no epoll: no sockets there
    /// magpie_runtime::block_on(async {
    ///     let (a, b) = magpie_runtime::net::UnixStream::pair().unwrap();
    ///     assert!(a.peer_addr().unwrap().is_unnamed());
    ///     b.shutdown(std::net::Shutdown::Both).unwrap();
    ///     let std_a: std::os::unix::net::UnixStream = a.into_std().unwrap();
    ///     let again = magpie_runtime::net::UnixStream::from_std(std_a).unwrap();
    ///     assert!(again.local_addr().unwrap().is_unnamed());
    /// });
    /// ```
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = stdunix::UnixStream::pair()?;
        Ok((UnixStream::from_std(a)?, UnixStream::from_std(b)?))
    }

    fn from_nonblocking(stream: stdunix::UnixStream) -> io::Result<UnixStream> {
        Ok(UnixStream {
            io: Arc::new(Async::new_nonblocking(stream)?),
        })
    }

    /// Registers a std stream with the current runtime (it is made non-blocking).
    ///
    /// # Errors
    ///
    /// Outside a magpie runtime, or the OS's error.
    pub fn from_std(stream: stdunix::UnixStream) -> io::Result<UnixStream> {
        stream.set_nonblocking(true)?;
        UnixStream::from_nonblocking(stream)
    }

    /// Deregisters the stream and returns it (still non-blocking).
    ///
    /// # Errors
    ///
    /// None today; see [`Async::into_inner`].
    pub fn into_std(self) -> io::Result<stdunix::UnixStream> {
        match Arc::try_unwrap(self.io) {
            Ok(io) => io.into_inner(),
            Err(_) => unreachable!("a UnixStream is the only owner of its socket"),
        }
    }

    /// The local address.
    ///
    /// # Errors
    ///
    /// The OS's error.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The peer's address.
    ///
    /// # Errors
    ///
    /// The OS's error.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Shuts down the read side, the write side, or both.
    ///
    /// # Errors
    ///
    /// The OS's error.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }

    /// Splits the stream into halves for two tasks; dropping the write half shuts down
    /// the write side.
    pub fn into_split(self) -> (UnixOwnedReadHalf, UnixOwnedWriteHalf) {
        (
            UnixOwnedReadHalf {
                io: self.io.clone(),
            },
            UnixOwnedWriteHalf { io: self.io },
        )
    }
}

impl std::fmt::Debug for UnixStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UnixStream")
            .field("local_addr", &self.local_addr().ok())
            .finish()
    }
}

type Io = Async<stdunix::UnixStream>;

/// The read half of a [`UnixStream`], from [`UnixStream::into_split`].
///
/// # Examples
///
/// ```
/// use magpie_runtime::io::{AsyncReadExt, AsyncWriteExt};
/// use magpie_runtime::net::UnixStream;
///
/// # if cfg!(miri) { return; } // miri has no epoll: no sockets there
/// magpie_runtime::block_on(async {
///     let (a, mut b) = UnixStream::pair().unwrap();
///     let (mut read, _write) = a.into_split();
///     b.write_all(b"to the read half").await.unwrap();
///     let mut buf = [0; 16];
///     read.read_exact(&mut buf).await.unwrap();
///     assert_eq!(&buf, b"to the read half");
/// });
/// ```
#[derive(Debug)]
pub struct UnixOwnedReadHalf {
    io: Arc<Io>,
}

/// The write half of a [`UnixStream`]; dropping it shuts down the write side.
///
/// # Examples
///
/// ```
/// use magpie_runtime::io::{AsyncReadExt, AsyncWriteExt};
/// use magpie_runtime::net::UnixStream;
///
/// # if cfg!(miri) { return; } // miri has no epoll: no sockets there
/// magpie_runtime::block_on(async {
///     let (a, mut b) = UnixStream::pair().unwrap();
///     let (_read, mut write) = a.into_split();
///     write.write_all(b"last words").await.unwrap();
///     drop(write); // b reads end of stream
///     let mut got = Vec::new();
///     b.read_to_end(&mut got).await.unwrap();
///     assert_eq!(got, b"last words");
/// });
/// ```
#[derive(Debug)]
pub struct UnixOwnedWriteHalf {
    io: Arc<Io>,
}

impl Drop for UnixOwnedWriteHalf {
    fn drop(&mut self) {
        let _ = self.io.get_ref().shutdown(Shutdown::Write);
    }
}

impl_async_read!(UnixStream);
impl_async_write!(UnixStream);
impl_async_read!(UnixOwnedReadHalf);
impl_async_write!(UnixOwnedWriteHalf);
