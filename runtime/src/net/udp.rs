use std::io;
use std::net::{self as stdnet, SocketAddr};

use super::{each_addr, ToSocketAddrs};
use crate::io::Async;

/// A UDP socket.
///
/// Every method takes `&self`, so one socket can be shared by a sending and a receiving
/// task (through an `Arc`).
///
/// # Examples
///
/// ```
/// use magpie_runtime::net::UdpSocket;
///
/// # if cfg!(miri) { return; } // miri has no epoll: no sockets there
/// magpie_runtime::block_on(async {
///     let server = UdpSocket::bind("127.0.0.1:0").await.unwrap();
///     let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
///     client.connect(server.local_addr().unwrap()).await.unwrap();
///     client.send(b"ping").await.unwrap();
///     let mut buf = [0; 16];
///     let (n, from) = server.recv_from(&mut buf).await.unwrap();
///     server.send_to(&buf[..n], from).await.unwrap();
///     let n = client.recv(&mut buf).await.unwrap();
///     assert_eq!(&buf[..n], b"ping");
/// });
/// ```
pub struct UdpSocket {
    io: Async<stdnet::UdpSocket>,
}

impl UdpSocket {
    /// Binds to `addr` (any [`ToSocketAddrs`]).
    ///
    /// # Errors
    ///
    /// The OS's error (`AddrInUse`, ...), or an error outside a magpie runtime.
    pub async fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<UdpSocket> {
        each_addr(addr, |addr| async move {
            UdpSocket::from_std(stdnet::UdpSocket::bind(addr)?)
        })
        .await
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
    /// # if cfg!(miri) { return; } // miri has no epoll: no sockets there
    /// magpie_runtime::block_on(async {
    ///     let std_socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    ///     let socket = magpie_runtime::net::UdpSocket::from_std(std_socket).unwrap();
    ///     let addr = socket.local_addr().unwrap();
    ///     let back: std::net::UdpSocket = socket.into_std().unwrap();
    ///     assert_eq!(back.local_addr().unwrap(), addr);
    /// });
    /// ```
    pub fn from_std(socket: stdnet::UdpSocket) -> io::Result<UdpSocket> {
        socket.set_nonblocking(true)?;
        Ok(UdpSocket {
            io: Async::new_nonblocking(socket)?,
        })
    }

    /// Deregisters the socket and returns it as a std socket (still non-blocking).
    ///
    /// # Errors
    ///
    /// None today; see [`Async::into_inner`].
    pub fn into_std(self) -> io::Result<stdnet::UdpSocket> {
        self.io.into_inner()
    }

    /// Sets the default destination (for [`send`](UdpSocket::send)) and the only source
    /// [`recv`](UdpSocket::recv) accepts.
    ///
    /// # Errors
    ///
    /// The OS's error for the last address tried.
    pub async fn connect<A: ToSocketAddrs>(&self, addr: A) -> io::Result<()> {
        let socket = self.io.get_ref();
        each_addr(addr, |addr| async move { socket.connect(addr) }).await
    }

    /// Sends a datagram to `target`; returns the bytes sent.
    ///
    /// # Errors
    ///
    /// The OS's error (`InvalidInput` for a datagram too large, ...).
    pub async fn send_to<A: ToSocketAddrs>(&self, buf: &[u8], target: A) -> io::Result<usize> {
        let io = &self.io;
        each_addr(target, |addr| async move {
            io.write_with(|s| s.send_to(buf, addr)).await
        })
        .await
    }

    /// Receives a datagram; returns its length and sender. A datagram longer than `buf`
    /// is truncated.
    ///
    /// # Errors
    ///
    /// The OS's error (`ConnectionRefused` after an ICMP unreachable on a connected socket).
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.read_with(|s| s.recv_from(buf)).await
    }

    /// Sends a datagram to the connected peer.
    ///
    /// # Errors
    ///
    /// The OS's error (`NotConnected` without [`connect`](UdpSocket::connect)).
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.write_with(|s| s.send(buf)).await
    }

    /// Receives a datagram from the connected peer.
    ///
    /// # Errors
    ///
    /// The OS's error.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.read_with(|s| s.recv(buf)).await
    }

    /// Receives a datagram without removing it from the queue.
    ///
    /// # Errors
    ///
    /// The OS's error.
    ///
    /// # Examples
    ///
    /// ```
    /// use magpie_runtime::net::UdpSocket;
    ///
    /// # if cfg!(miri) { return; } // miri has no epoll: no sockets there
    /// magpie_runtime::block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     b.connect(a.local_addr().unwrap()).await.unwrap();
    ///     assert_eq!(b.peer_addr().unwrap(), a.local_addr().unwrap());
    ///     b.send(b"once").await.unwrap();
    ///     let mut buf = [0; 8];
    ///     let (n, from) = a.peek_from(&mut buf).await.unwrap();
    ///     assert_eq!((&buf[..n], from), (&b"once"[..], b.local_addr().unwrap()));
    ///     let (n, _) = a.recv_from(&mut buf).await.unwrap(); // the same datagram again
    ///     assert_eq!(&buf[..n], b"once");
    /// });
    /// ```
    pub async fn peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.read_with(|s| s.peek_from(buf)).await
    }

    /// The local address.
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
    /// `NotConnected` without [`connect`](UdpSocket::connect).
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Enables or disables sending to broadcast addresses.
    ///
    /// # Errors
    ///
    /// The OS's error.
    ///
    /// # Examples
    ///
    /// ```
    /// # if cfg!(miri) { return; } // miri has no epoll: no sockets there
    /// magpie_runtime::block_on(async {
    ///     let s = magpie_runtime::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     s.set_broadcast(true).unwrap();
    /// });
    /// ```
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.io.get_ref().set_broadcast(on)
    }
}

impl std::fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UdpSocket")
            .field("local_addr", &self.local_addr().ok())
            .finish()
    }
}
