use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};
use std::time::Duration;

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use super::{TcpListener, TcpStream};

/// A TCP socket not yet connected or listening: set options (`SO_REUSEPORT`, buffer
/// sizes, ...), bind, then [`listen`](TcpSocket::listen) or
/// [`connect`](TcpSocket::connect) (tokio's `TcpSocket`).
///
/// `SO_REUSEPORT` is how a magpie server scales past one process: each process binds
/// its own listener to the same port and the kernel spreads incoming connections over
/// them.
///
/// The socket is created non-blocking and close-on-exec; it is registered with the
/// runtime only by `listen` or `connect`, so options can be set outside a runtime.
///
/// # Examples
///
/// ```
/// use magpie_runtime::net::TcpSocket;
///
/// # if cfg!(miri) { return; }
/// magpie_runtime::block_on(async {
///     let socket = TcpSocket::new_v4().unwrap();
///     socket.set_reuseaddr(true).unwrap();
///     socket.set_reuseport(true).unwrap();
///     socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
///     let listener = socket.listen(128).unwrap();
///     let addr = listener.local_addr().unwrap();
///
///     let client = TcpSocket::new_v4().unwrap();
///     client.set_nodelay(true).unwrap();
///     let stream = client.connect(addr).await.unwrap();
///     let (_server, peer) = listener.accept().await.unwrap();
///     assert_eq!(peer, stream.local_addr().unwrap());
///     assert!(stream.nodelay().unwrap());
/// });
/// ```
pub struct TcpSocket {
    inner: Socket,
}

impl TcpSocket {
    fn new(domain: Domain) -> io::Result<TcpSocket> {
        let inner = Socket::new(domain, Type::STREAM, Some(Protocol::TCP))?;
        inner.set_nonblocking(true)?;
        Ok(TcpSocket { inner })
    }

    /// A new IPv4 TCP socket.
    ///
    /// # Errors
    ///
    /// The OS's error (`EMFILE`, ...).
    pub fn new_v4() -> io::Result<TcpSocket> {
        TcpSocket::new(Domain::IPV4)
    }

    /// A new IPv6 TCP socket.
    ///
    /// # Errors
    ///
    /// The OS's error (`EAFNOSUPPORT` without IPv6, ...).
    pub fn new_v6() -> io::Result<TcpSocket> {
        TcpSocket::new(Domain::IPV6)
    }

    /// Sets `SO_REUSEADDR`: bind a listening port still held by connections in
    /// `TIME_WAIT`.
    ///
    /// # Errors
    ///
    /// The OS's error.
    pub fn set_reuseaddr(&self, reuseaddr: bool) -> io::Result<()> {
        self.inner.set_reuse_address(reuseaddr)
    }

    /// Whether `SO_REUSEADDR` is set.
    ///
    /// # Errors
    ///
    /// The OS's error.
    pub fn reuseaddr(&self) -> io::Result<bool> {
        self.inner.reuse_address()
    }

    /// Sets `SO_REUSEPORT`: several sockets (of one user) may bind the same address and
    /// port; for listeners the kernel balances new connections over them.
    ///
    /// # Errors
    ///
    /// The OS's error.
    pub fn set_reuseport(&self, reuseport: bool) -> io::Result<()> {
        self.inner.set_reuse_port(reuseport)
    }

    /// Whether `SO_REUSEPORT` is set.
    ///
    /// # Errors
    ///
    /// The OS's error.
    pub fn reuseport(&self) -> io::Result<bool> {
        self.inner.reuse_port()
    }

    /// Sets `TCP_NODELAY` (disables Nagle's algorithm) for the connection to come.
    ///
    /// # Errors
    ///
    /// The OS's error.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.inner.set_tcp_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set.
    ///
    /// # Errors
    ///
    /// The OS's error.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.inner.tcp_nodelay()
    }

    /// Sets `SO_SNDBUF`, the send buffer's size (Linux doubles the value and keeps a
    /// minimum; read the result back with [`send_buffer_size`](TcpSocket::send_buffer_size)).
    ///
    /// # Errors
    ///
    /// The OS's error.
    ///
    /// # Examples
    ///
    /// ```
    /// # if cfg!(miri) { return; } // miri has no socket(2) under isolation
    /// let socket = magpie_runtime::net::TcpSocket::new_v4().unwrap();
    /// socket.set_send_buffer_size(64 * 1024).unwrap();
    /// socket.set_recv_buffer_size(64 * 1024).unwrap();
    /// assert!(socket.send_buffer_size().unwrap() >= 64 * 1024);
    /// assert!(socket.recv_buffer_size().unwrap() >= 64 * 1024);
    /// ```
    pub fn set_send_buffer_size(&self, size: u32) -> io::Result<()> {
        self.inner.set_send_buffer_size(size as usize)
    }

    /// The send buffer's size (`SO_SNDBUF`).
    ///
    /// # Errors
    ///
    /// The OS's error.
    pub fn send_buffer_size(&self) -> io::Result<u32> {
        self.inner
            .send_buffer_size()
            .map(|n| u32::try_from(n).unwrap_or(u32::MAX))
    }

    /// Sets `SO_RCVBUF`, the receive buffer's size (see
    /// [`set_send_buffer_size`](TcpSocket::set_send_buffer_size) on Linux's adjustment).
    ///
    /// # Errors
    ///
    /// The OS's error.
    pub fn set_recv_buffer_size(&self, size: u32) -> io::Result<()> {
        self.inner.set_recv_buffer_size(size as usize)
    }

    /// The receive buffer's size (`SO_RCVBUF`).
    ///
    /// # Errors
    ///
    /// The OS's error.
    pub fn recv_buffer_size(&self) -> io::Result<u32> {
        self.inner
            .recv_buffer_size()
            .map(|n| u32::try_from(n).unwrap_or(u32::MAX))
    }

    /// Sets `SO_KEEPALIVE`.
    ///
    /// # Errors
    ///
    /// The OS's error.
    pub fn set_keepalive(&self, keepalive: bool) -> io::Result<()> {
        self.inner.set_keepalive(keepalive)
    }

    /// Whether `SO_KEEPALIVE` is set.
    ///
    /// # Errors
    ///
    /// The OS's error.
    pub fn keepalive(&self) -> io::Result<bool> {
        self.inner.keepalive()
    }

    /// Sets `SO_LINGER`: `Some(d)` makes close wait up to `d` for unsent data
    /// (`Some(0)` resets the connection on close).
    ///
    /// # Errors
    ///
    /// The OS's error.
    pub fn set_linger(&self, dur: Option<Duration>) -> io::Result<()> {
        self.inner.set_linger(dur)
    }

    /// The `SO_LINGER` setting.
    ///
    /// # Errors
    ///
    /// The OS's error.
    pub fn linger(&self) -> io::Result<Option<Duration>> {
        self.inner.linger()
    }

    /// The address the socket is bound to.
    ///
    /// # Errors
    ///
    /// The OS's error; `InvalidInput` if the OS reports an address that is not IP.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner
            .local_addr()?
            .as_socket()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not an IP socket address"))
    }

    /// Takes the socket's pending error (`SO_ERROR`).
    ///
    /// # Errors
    ///
    /// The OS's error reading it.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.inner.take_error()
    }

    /// Binds the socket to `addr` (port 0 picks a free port).
    ///
    /// # Errors
    ///
    /// The OS's error: `AddrInUse` (without `SO_REUSEPORT` on both sockets),
    /// `AddrNotAvailable`, `InvalidInput` for an address of the other family, ...
    pub fn bind(&self, addr: SocketAddr) -> io::Result<()> {
        self.inner.bind(&SockAddr::from(addr))
    }

    /// Connects to `addr` and registers the connection with the current runtime.
    ///
    /// # Errors
    ///
    /// The OS's error (`ConnectionRefused`, `InvalidInput` for the other family, ...), or
    /// an error outside a magpie runtime.
    pub async fn connect(self, addr: SocketAddr) -> io::Result<TcpStream> {
        TcpStream::connect_on(self.inner, addr).await
    }

    /// Listens with a queue of `backlog` pending connections (capped at `i32::MAX`; the
    /// OS caps it further at `somaxconn`) and registers the listener with the current
    /// runtime.
    ///
    /// # Errors
    ///
    /// The OS's error (`AddrInUse` for an unbound socket whose automatic port clashes,
    /// ...), or an error outside a magpie runtime.
    pub fn listen(self, backlog: u32) -> io::Result<TcpListener> {
        let backlog = i32::try_from(backlog).unwrap_or(i32::MAX);
        TcpListener::listen_on(self.inner, backlog)
    }

    /// Takes over a connected std stream's socket, for setting options on it (it is made
    /// non-blocking).
    ///
    /// # Errors
    ///
    /// The OS's error from `fcntl`.
    pub fn from_std_stream(stream: std::net::TcpStream) -> io::Result<TcpSocket> {
        let inner = Socket::from(stream);
        inner.set_nonblocking(true)?;
        Ok(TcpSocket { inner })
    }
}

impl std::fmt::Debug for TcpSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TcpSocket")
            .field("fd", &self.inner.as_raw_fd())
            .field("local_addr", &self.local_addr().ok())
            .finish()
    }
}

impl AsRawFd for TcpSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.inner.as_raw_fd()
    }
}

impl AsFd for TcpSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inner.as_fd()
    }
}

impl From<OwnedFd> for TcpSocket {
    /// Takes over a TCP socket's descriptor (the caller makes it non-blocking).
    fn from(fd: OwnedFd) -> TcpSocket {
        TcpSocket {
            inner: Socket::from(fd),
        }
    }
}

impl FromRawFd for TcpSocket {
    /// # Safety
    ///
    /// `fd` must be an open TCP socket that nothing else owns or closes.
    unsafe fn from_raw_fd(fd: RawFd) -> TcpSocket {
        // SAFETY: the caller's contract above: `fd` is an open socket owned by no one else.
        TcpSocket::from(unsafe { OwnedFd::from_raw_fd(fd) })
    }
}

impl IntoRawFd for TcpSocket {
    fn into_raw_fd(self) -> RawFd {
        self.inner.into_raw_fd()
    }
}
