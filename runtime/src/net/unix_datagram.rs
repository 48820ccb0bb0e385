use std::io;
use std::net::Shutdown;
use std::os::unix::net::{self as stdunix, SocketAddr};
use std::path::Path;

use crate::io::Async;

/// A Unix-domain datagram socket (tokio's `UnixDatagram`): message boundaries are kept,
/// and on one machine no datagram is lost or reordered (a full receiver makes the sender
/// wait rather than drop).
///
/// Every method takes `&self`, so one socket can serve a sending and a receiving task
/// through an `Arc`.
///
/// # Examples
///
/// ```
/// use magpie_runtime::net::UnixDatagram;
///
/// # if cfg!(miri) { return; } // miri has no epoll: no sockets there
/// magpie_runtime::block_on(async {
///     let dir = std::env::temp_dir().join(format!("magpie-dgram-doc-{}", std::process::id()));
///     std::fs::create_dir_all(&dir).unwrap();
///     let server = UnixDatagram::bind(dir.join("server.sock")).unwrap();
///     let client = UnixDatagram::bind(dir.join("client.sock")).unwrap();
///     client.send_to(b"ping", dir.join("server.sock")).await.unwrap();
///     let mut buf = [0; 16];
///     let (n, from) = server.recv_from(&mut buf).await.unwrap();
///     assert_eq!(&buf[..n], b"ping");
///     server.send_to(b"pong", from.as_pathname().unwrap()).await.unwrap();
///     let n = client.recv(&mut buf).await.unwrap();
///     assert_eq!(&buf[..n], b"pong");
///     std::fs::remove_dir_all(&dir).unwrap();
/// });
/// ```
pub struct UnixDatagram {
    io: Async<stdunix::UnixDatagram>,
}

impl UnixDatagram {
    /// A socket bound to the socket file `path` (created; it must not exist).
    ///
    /// # Errors
    ///
    /// The OS's error (`AddrInUse` if the file exists, `NotFound` for a missing directory,
    /// ...), or an error outside a magpie runtime.
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixDatagram> {
        UnixDatagram::from_std(stdunix::UnixDatagram::bind(path)?)
    }

    /// A socket bound to no address: it can send (with `send_to`, or after `connect`)
    /// but only receive replies to an unnamed address from a connected peer.
    ///
    /// # Errors
    ///
    /// The OS's error, or an error outside a magpie runtime.
    pub fn unbound() -> io::Result<UnixDatagram> {
        UnixDatagram::from_std(stdunix::UnixDatagram::unbound()?)
    }

    /// A pair of connected, unnamed sockets.
    ///
    /// # Errors
    ///
    /// The OS's error, or an error outside a magpie runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// # if cfg!(miri) { return; }
    /// magpie_runtime::block_on(async {
    ///     let (a, b) = magpie_runtime::net::UnixDatagram::pair().unwrap();
    ///     a.send(b"one").await.unwrap();
    ///     a.send(b"two").await.unwrap();
    ///     let mut buf = [0; 8];
    ///     assert_eq!(b.recv(&mut buf).await.unwrap(), 3); // boundaries kept
    ///     assert_eq!(&buf[..3], b"one");
    ///     assert_eq!(b.recv(&mut buf).await.unwrap(), 3);
    ///     assert!(b.peer_addr().unwrap().is_unnamed());
    /// });
    /// ```
    pub fn pair() -> io::Result<(UnixDatagram, UnixDatagram)> {
        let (a, b) = stdunix::UnixDatagram::pair()?;
        Ok((UnixDatagram::from_std(a)?, UnixDatagram::from_std(b)?))
    }

    /// Sets the default destination (for [`send`](UnixDatagram::send)) and the only
    /// source [`recv`](UnixDatagram::recv) accepts. Immediate: a datagram socket's
    /// connect does not wait for the peer.
    ///
    /// # Errors
    ///
    /// The OS's error (`NotFound` for no such socket file, `ConnectionRefused` for a file
    /// nobody is bound to, ...).
    pub fn connect(&self, path: impl AsRef<Path>) -> io::Result<()> {
        self.io.get_ref().connect(path)
    }

    /// Sends a datagram to the connected peer; returns its length.
    ///
    /// # Errors
    ///
    /// The OS's error (`NotConnected` without [`connect`](UnixDatagram::connect),
    /// `ConnectionRefused` when the peer is gone, `EMSGSIZE` for a datagram too large).
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.write_with(|s| s.send(buf)).await
    }

    /// Receives a datagram from the connected peer; a datagram longer than `buf` is
    /// truncated.
    ///
    /// # Errors
    ///
    /// The OS's error.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.read_with(|s| s.recv(buf)).await
    }

    /// Sends a datagram to the socket bound at `target`.
    ///
    /// # Errors
    ///
    /// The OS's error (`NotFound`, `ConnectionRefused` for a file nobody is bound to, ...).
    pub async fn send_to(&self, buf: &[u8], target: impl AsRef<Path>) -> io::Result<usize> {
        let target = target.as_ref();
        self.io.write_with(|s| s.send_to(buf, target)).await
    }

    /// Receives a datagram and its sender's address (unnamed for an unbound sender).
    ///
    /// # Errors
    ///
    /// The OS's error.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.read_with(|s| s.recv_from(buf)).await
    }

    /// The address this socket is bound to.
    ///
    /// # Errors
    ///
    /// The OS's error.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The connected peer's address.
    ///
    /// # Errors
    ///
    /// `NotConnected` without [`connect`](UnixDatagram::connect).
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

    /// Takes the socket's pending error (`SO_ERROR`).
    ///
    /// # Errors
    ///
    /// The OS's error reading it.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }

    /// Registers a std socket with the current runtime (it is made non-blocking).
    ///
    /// # Errors
    ///
    /// Outside a magpie runtime, or the OS's error.
    ///
    /// # Examples
    ///
    /// ```
    /// # if cfg!(miri) { return; }
    /// magpie_runtime::block_on(async {
    ///     let (a, _b) = std::os::unix::net::UnixDatagram::pair().unwrap();
    ///     let a = magpie_runtime::net::UnixDatagram::from_std(a).unwrap();
    ///     let back: std::os::unix::net::UnixDatagram = a.into_std().unwrap();
    ///     assert!(back.local_addr().unwrap().is_unnamed());
    /// });
    /// ```
    pub fn from_std(socket: stdunix::UnixDatagram) -> io::Result<UnixDatagram> {
        socket.set_nonblocking(true)?;
        Ok(UnixDatagram {
            io: Async::new_nonblocking(socket)?,
        })
    }

    /// Deregisters the socket and returns it (still non-blocking).
    ///
    /// # Errors
    ///
    /// None today; see [`Async::into_inner`].
    pub fn into_std(self) -> io::Result<stdunix::UnixDatagram> {
        self.io.into_inner()
    }
}

impl std::fmt::Debug for UnixDatagram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UnixDatagram")
            .field("local_addr", &self.local_addr().ok())
            .field("peer_addr", &self.peer_addr().ok())
            .finish()
    }
}

impl std::os::fd::AsRawFd for UnixDatagram {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.io.as_raw_fd()
    }
}
