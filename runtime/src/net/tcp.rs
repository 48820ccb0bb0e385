use std::io;
use std::net::{self as stdnet, Shutdown, SocketAddr};
use std::task::{Context, Poll};

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use super::stream_io::{impl_async_read, impl_async_write};
use super::{connect_in_progress, each_addr, ToSocketAddrs};
use crate::io::Async;
use crate::loom::Arc;

/// The listen backlog: large enough for accept storms of a thousand connects.
const BACKLOG: i32 = 1024;

/// A TCP socket listening for connections.
///
/// # Examples
///
/// ```
/// use magpie_runtime::net::{TcpListener, TcpStream};
///
/// # if cfg!(miri) { return; } // miri has no epoll: no sockets there
/// magpie_runtime::block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let addr = listener.local_addr().unwrap();
///     let client = magpie_runtime::spawn(async move { TcpStream::connect(addr).await });
///     let (_stream, peer) = listener.accept().await.unwrap();
///     let client = client.await.unwrap().unwrap();
///     assert_eq!(peer, client.local_addr().unwrap());
/// });
/// ```
pub struct TcpListener {
    io: Async<stdnet::TcpListener>,
}

impl TcpListener {
    /// Binds to `addr` (any [`ToSocketAddrs`]: `"127.0.0.1:0"`, a `SocketAddr`,
    /// `"localhost:8080"`, ...) and listens, with `SO_REUSEADDR` and a backlog of 1024
    /// (use [`TcpSocket`](super::TcpSocket) to choose). A host name is resolved on the
    /// blocking pool ([`lookup_host`](super::lookup_host)) and each of its addresses tried
    /// in turn. Port 0 picks a free port; see [`local_addr`](TcpListener::local_addr).
    ///
    /// # Errors
    ///
    /// The OS's error (`AddrInUse` for a port already bound, `AddrNotAvailable`, ...), or
    /// an error outside a magpie runtime.
    pub async fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<TcpListener> {
        each_addr(addr, |addr| async move { TcpListener::bind_addr(addr) }).await
    }

    fn bind_addr(addr: SocketAddr) -> io::Result<TcpListener> {
        let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
        socket.set_nonblocking(true)?;
        socket.set_reuse_address(true)?;
        socket.bind(&SockAddr::from(addr))?;
        TcpListener::listen_on(socket, BACKLOG)
    }

    /// Listens on a bound, non-blocking socket and registers it.
    pub(super) fn listen_on(socket: Socket, backlog: i32) -> io::Result<TcpListener> {
        socket.listen(backlog)?;
        Ok(TcpListener {
            io: Async::new_nonblocking(stdnet::TcpListener::from(socket))?,
        })
    }

    /// Accepts a connection: the stream and the peer's address. Takes `&self`, so several
    /// tasks may accept on one listener.
    ///
    /// # Errors
    ///
    /// The OS's error (for example `EMFILE` when out of descriptors), or an error once the
    /// runtime has shut down.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let (stream, addr) = self.io.read_with(|l| l.accept()).await?;
        stream.set_nonblocking(true)?;
        Ok((TcpStream::from_nonblocking(stream)?, addr))
    }

    /// Polls for a connection (for hand-written futures and streams).
    ///
    /// # Errors
    ///
    /// As [`accept`](TcpListener::accept).
    ///
    /// # Examples
    ///
    /// ```
    /// use magpie_runtime::net::{TcpListener, TcpStream};
    ///
    /// # if cfg!(miri) { return; } // miri has no epoll: no sockets there
    /// magpie_runtime::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let _client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (_stream, peer) = std::future::poll_fn(|cx| listener.poll_accept(cx)).await.unwrap();
    ///     assert!(peer.ip().is_loopback());
    /// });
    /// ```
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        let (stream, addr) = std::task::ready!(self.io.poll_read_with(cx, |l| l.accept()))?;
        stream.set_nonblocking(true)?;
        Poll::Ready(Ok((TcpStream::from_nonblocking(stream)?, addr)))
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
    ///
    /// # Examples
    ///
    /// ```
    /// # if cfg!(miri) { return; } // miri has no epoll: no sockets there
    /// magpie_runtime::block_on(async {
    ///     let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    ///     let listener = magpie_runtime::net::TcpListener::from_std(std_listener).unwrap();
    ///     let addr = listener.local_addr().unwrap();
    ///     let back: std::net::TcpListener = listener.into_std().unwrap();
    ///     assert_eq!(back.local_addr().unwrap(), addr);
    /// });
    /// ```
    pub fn from_std(listener: stdnet::TcpListener) -> io::Result<TcpListener> {
        listener.set_nonblocking(true)?;
        Ok(TcpListener {
            io: Async::new_nonblocking(listener)?,
        })
    }

    /// Deregisters the listener and returns it as a std listener (still non-blocking).
    ///
    /// # Errors
    ///
    /// None today; see [`Async::into_inner`].
    pub fn into_std(self) -> io::Result<stdnet::TcpListener> {
        self.io.into_inner()
    }
}

impl std::fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TcpListener")
            .field("local_addr", &self.local_addr().ok())
            .finish()
    }
}

/// A TCP connection.
///
/// Reads and writes through [`AsyncReadExt`](crate::io::AsyncReadExt) and
/// [`AsyncWriteExt`](crate::io::AsyncWriteExt); [`into_split`](TcpStream::into_split)
/// gives a read half and a write half for two tasks.
///
/// # Examples
///
/// ```
/// use magpie_runtime::io::{AsyncReadExt, AsyncWriteExt};
/// use magpie_runtime::net::{TcpListener, TcpStream};
///
/// # if cfg!(miri) { return; } // miri has no epoll: no sockets there
/// magpie_runtime::block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let addr = listener.local_addr().unwrap();
///     magpie_runtime::spawn(async move {
///         let (s, _) = listener.accept().await.unwrap();
///         let (mut r, mut w) = s.into_split();
///         magpie_runtime::io::copy(&mut r, &mut w).await.unwrap(); // echo until EOF
///     });
///     let mut c = TcpStream::connect(addr).await.unwrap();
///     c.set_nodelay(true).unwrap();
///     c.write_all(b"echo").await.unwrap();
///     c.shutdown(std::net::Shutdown::Write).unwrap();
///     let mut back = Vec::new();
///     c.read_to_end(&mut back).await.unwrap();
///     assert_eq!(back, b"echo");
/// });
/// ```
pub struct TcpStream {
    io: Arc<Async<stdnet::TcpStream>>,
}

impl TcpStream {
    /// Connects to `addr`, trying each address it resolves to in turn. A host name
    /// (`"localhost:8080"`) is resolved on the blocking pool ([`lookup_host`](super::lookup_host)),
    /// never on the worker.
    ///
    /// # Errors
    ///
    /// The resolver's error for an unknown host; the OS's error for the last address tried (`ConnectionRefused` for a closed port,
    /// ...), or an error outside a magpie runtime.
    pub async fn connect<A: ToSocketAddrs>(addr: A) -> io::Result<TcpStream> {
        each_addr(addr, TcpStream::connect_addr).await
    }

    async fn connect_addr(addr: SocketAddr) -> io::Result<TcpStream> {
        let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
        socket.set_nonblocking(true)?;
        TcpStream::connect_on(socket, addr).await
    }

    /// Connects a non-blocking socket to `addr` and waits until the connection is made.
    pub(super) async fn connect_on(socket: Socket, addr: SocketAddr) -> io::Result<TcpStream> {
        let in_progress = match socket.connect(&SockAddr::from(addr)) {
            Ok(()) => false,
            Err(e) if connect_in_progress(&e) => true,
            Err(e) => return Err(e),
        };
        let stream = TcpStream::from_nonblocking(stdnet::TcpStream::from(socket))?;
        if in_progress {
            // Connected once writable with no pending error and a peer.
            stream
                .io
                .write_with(|s| {
                    if let Some(e) = s.take_error()? {
                        return Err(e);
                    }
                    match s.peer_addr() {
                        Ok(_) => Ok(()),
                        Err(e) if e.kind() == io::ErrorKind::NotConnected => {
                            Err(io::ErrorKind::WouldBlock.into())
                        }
                        Err(e) => Err(e),
                    }
                })
                .await?;
        }
        Ok(stream)
    }

    fn from_nonblocking(stream: stdnet::TcpStream) -> io::Result<TcpStream> {
        Ok(TcpStream {
            io: Arc::new(Async::new_nonblocking(stream)?),
        })
    }

    /// Registers a connected std stream with the current runtime (it is made non-blocking).
    ///
    /// # Errors
    ///
    /// Outside a magpie runtime, or the OS's error.
    ///
    /// # Examples
    ///
    /// ```
    /// use magpie_runtime::io::AsyncWriteExt;
    ///
    /// # if cfg!(miri) { return; } // miri has no epoll: no sockets there
    /// magpie_runtime::block_on(async {
    ///     let listener = magpie_runtime::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let addr = listener.local_addr().unwrap();
    ///     let connecting = magpie_runtime::spawn_blocking(move || std::net::TcpStream::connect(addr));
    ///     let (_server, _) = listener.accept().await.unwrap();
    ///     let std_stream = connecting.await.unwrap().unwrap();
    ///     let mut stream = magpie_runtime::net::TcpStream::from_std(std_stream).unwrap();
    ///     stream.write_all(b"hi").await.unwrap();
    ///     let std_again: std::net::TcpStream = stream.into_std().unwrap();
    ///     assert_eq!(std_again.peer_addr().unwrap(), addr);
    /// });
    /// ```
    pub fn from_std(stream: stdnet::TcpStream) -> io::Result<TcpStream> {
        stream.set_nonblocking(true)?;
        TcpStream::from_nonblocking(stream)
    }

    /// Deregisters the stream and returns it as a std stream (still non-blocking).
    ///
    /// # Errors
    ///
    /// None today; see [`Async::into_inner`].
    pub fn into_std(self) -> io::Result<stdnet::TcpStream> {
        match Arc::try_unwrap(self.io) {
            Ok(io) => io.into_inner(),
            Err(_) => unreachable!("a TcpStream is the only owner of its socket"),
        }
    }

    fn std(&self) -> &stdnet::TcpStream {
        self.io.get_ref()
    }

    /// The remote address.
    ///
    /// # Errors
    ///
    /// The OS's error (`NotConnected` once the peer is gone on some systems).
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.std().peer_addr()
    }

    /// The local address.
    ///
    /// # Errors
    ///
    /// The OS's error.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.std().local_addr()
    }

    /// Sets `TCP_NODELAY` (disables Nagle's algorithm).
    ///
    /// # Errors
    ///
    /// The OS's error.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.std().set_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set.
    ///
    /// # Errors
    ///
    /// The OS's error.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.std().nodelay()
    }

    /// Shuts down the read side, the write side (a half-close: the peer reads end of
    /// stream), or both.
    ///
    /// # Errors
    ///
    /// The OS's error (`NotConnected` if the connection is gone).
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.std().shutdown(how)
    }

    /// Reads without removing the data from the socket's queue.
    ///
    /// # Errors
    ///
    /// The OS's error.
    ///
    /// # Examples
    ///
    /// ```
    /// use magpie_runtime::io::{AsyncReadExt, AsyncWriteExt};
    /// use magpie_runtime::net::{TcpListener, TcpStream};
    ///
    /// # if cfg!(miri) { return; } // miri has no epoll: no sockets there
    /// magpie_runtime::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let mut client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (mut server, _) = listener.accept().await.unwrap();
    ///     assert_eq!(server.peer_addr().unwrap(), client.local_addr().unwrap());
    ///     assert!(!server.nodelay().unwrap());
    ///     client.write_all(b"abc").await.unwrap();
    ///     let mut buf = [0; 3];
    ///     let n = server.peek(&mut buf).await.unwrap();
    ///     assert_eq!(&buf[..n], &b"abc"[..n]);
    ///     server.read_exact(&mut buf).await.unwrap(); // still there after the peek
    ///     assert_eq!(&buf, b"abc");
    /// });
    /// ```
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.read_with(|s| s.peek(buf)).await
    }

    /// Splits the stream into a read half and a write half, each usable from its own
    /// task. Dropping the write half shuts down the write side.
    pub fn into_split(self) -> (TcpOwnedReadHalf, TcpOwnedWriteHalf) {
        (
            TcpOwnedReadHalf {
                io: self.io.clone(),
            },
            TcpOwnedWriteHalf {
                io: self.io,
                shutdown_on_drop: true,
            },
        )
    }
}

impl std::fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TcpStream")
            .field("local_addr", &self.local_addr().ok())
            .field("peer_addr", &self.peer_addr().ok())
            .finish()
    }
}

/// The read half of a [`TcpStream`], from [`TcpStream::into_split`].
///
/// # Examples
///
/// ```
/// use magpie_runtime::net::{TcpListener, TcpStream};
///
/// # if cfg!(miri) { return; } // miri has no epoll: no sockets there
/// magpie_runtime::block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
///     let (read, write) = client.into_split();
///     assert_eq!(read.peer_addr().unwrap(), write.peer_addr().unwrap());
///     let whole: TcpStream = read.reunite(write).unwrap();
///     drop((whole, listener));
/// });
/// ```
#[derive(Debug)]
pub struct TcpOwnedReadHalf {
    io: Arc<Async<stdnet::TcpStream>>,
}

/// The write half of a [`TcpStream`], from [`TcpStream::into_split`]. Dropping it shuts
/// down the connection's write side (the peer reads end of stream).
///
/// # Examples
///
/// ```
/// use magpie_runtime::io::{AsyncReadExt, AsyncWriteExt};
/// use magpie_runtime::net::{TcpListener, TcpStream};
///
/// # if cfg!(miri) { return; } // miri has no epoll: no sockets there
/// magpie_runtime::block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
///     let (mut server, _) = listener.accept().await.unwrap();
///     let (_read, mut write) = client.into_split();
///     write.write_all(b"bye").await.unwrap();
///     drop(write); // the server reads end of stream
///     let mut got = Vec::new();
///     server.read_to_end(&mut got).await.unwrap();
///     assert_eq!(got, b"bye");
/// });
/// ```
#[derive(Debug)]
pub struct TcpOwnedWriteHalf {
    io: Arc<Async<stdnet::TcpStream>>,
    shutdown_on_drop: bool,
}

impl TcpOwnedReadHalf {
    /// The remote address.
    ///
    /// # Errors
    ///
    /// The OS's error.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Puts the halves back together.
    ///
    /// # Errors
    ///
    /// Gives both halves back if they come from different streams.
    pub fn reunite(
        self,
        mut other: TcpOwnedWriteHalf,
    ) -> Result<TcpStream, (TcpOwnedReadHalf, TcpOwnedWriteHalf)> {
        if Arc::ptr_eq(&self.io, &other.io) {
            other.shutdown_on_drop = false; // the stream lives on
            drop(other);
            Ok(TcpStream { io: self.io })
        } else {
            Err((self, other))
        }
    }
}

impl TcpOwnedWriteHalf {
    /// The remote address.
    ///
    /// # Errors
    ///
    /// The OS's error.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }
}

impl Drop for TcpOwnedWriteHalf {
    fn drop(&mut self) {
        if self.shutdown_on_drop {
            let _ = self.io.get_ref().shutdown(Shutdown::Write);
        }
    }
}

impl_async_read!(TcpStream);
impl_async_write!(TcpStream);
impl_async_read!(TcpOwnedReadHalf);
impl_async_write!(TcpOwnedWriteHalf);

#[cfg(all(test, target_os = "linux", not(any(loom, miri))))]
mod tests {
    //! Source rule S4 (runtime/src/driver/source.rs) on real sockets.
    use super::*;
    use crate::io::AsyncReadExt;
    use std::io::Write;
    use std::time::Duration;

    /// A connected pair on a current-thread runtime: the magpie end and a blocking std end.
    fn pair() -> (crate::Runtime, TcpStream, stdnet::TcpStream) {
        let rt = crate::Builder::new_current_thread().build().unwrap();
        let listener = stdnet::TcpListener::bind("127.0.0.1:0").unwrap();
        let client = stdnet::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        server.set_nonblocking(true).unwrap();
        let server = rt.block_on(async { TcpStream::from_std(server) }).unwrap();
        (rt, server, client)
    }

    #[test]
    fn short_read_clears_read_readiness_and_later_data_still_wakes() {
        let (rt, mut server, mut client) = pair();
        let writer = std::thread::spawn(move || {
            for chunk in [&b"0123456789"[..], b"abcde"] {
                std::thread::sleep(Duration::from_millis(50));
                client.write_all(chunk).unwrap();
            }
            client
        });
        rt.block_on(async {
            let mut buf = [0u8; 1024];
            // Ready at first, WouldBlock, then woken by the data's edge.
            let n = server.read(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], b"0123456789");
            assert!(
                !server.io.read_ready(),
                "a short read must clear read readiness (source rule S4)"
            );
            // The next edge still wakes the reader.
            let read = crate::time::timeout(Duration::from_secs(10), server.read(&mut buf));
            let n = read
                .await
                .expect("data after a short read was lost")
                .unwrap();
            assert_eq!(&buf[..n], b"abcde");
        });
        drop(writer.join().unwrap());
    }

    #[test]
    fn short_read_after_the_peer_closed_still_sees_the_end() {
        let (rt, mut server, mut client) = pair();
        client.write_all(b"last").unwrap();
        client.shutdown(Shutdown::Write).unwrap();
        rt.block_on(async {
            // Let the driver report the data and the close together (EPOLLIN | EPOLLRDHUP)
            // before the first read: no edge will follow it.
            crate::time::sleep(Duration::from_millis(100)).await;
            let mut buf = [0u8; 1024];
            let n = server.read(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], b"last");
            let read = crate::time::timeout(Duration::from_secs(10), server.read(&mut buf));
            let n = read
                .await
                .expect("the end of the stream after a short read was never seen")
                .unwrap();
            assert_eq!(n, 0);
        });
    }
}
