//! Networking: TCP, UDP and (on unix) Unix-domain sockets, registered with the runtime's
//! driver.
//!
//! Every socket is a non-blocking std socket inside an [`Async`](crate::io::Async). Errors
//! are the OS's, as `io::Error`s with the OS's kind (`AddrInUse`, `ConnectionRefused`,
//! `ConnectionReset`, ...). A socket used after the runtime that registered it has shut
//! down fails with an error instead of waiting for ever.
//!
//! # Examples
//!
//! ```
//! use magpie_runtime::net::UdpSocket;
//!
//! # if cfg!(miri) { return; } // miri has no epoll: no sockets there
//! magpie_runtime::block_on(async {
//!     let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
//!     let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
//!     a.send_to(b"hi", b.local_addr().unwrap()).await.unwrap();
//!     let mut buf = [0; 2];
//!     let (n, from) = b.recv_from(&mut buf).await.unwrap();
//!     assert_eq!((n, from), (2, a.local_addr().unwrap()));
//! });
//! ```

mod addr;
mod stream_io;
mod tcp;
mod tcp_socket;
mod udp;
#[cfg(unix)]
mod unix;
#[cfg(unix)]
mod unix_datagram;

pub use addr::{lookup_host, ToSocketAddrs};
pub use tcp::{TcpListener, TcpOwnedReadHalf, TcpOwnedWriteHalf, TcpStream};
pub use tcp_socket::TcpSocket;
pub use udp::UdpSocket;
#[cfg(unix)]
pub use unix::{UnixListener, UnixOwnedReadHalf, UnixOwnedWriteHalf, UnixStream};
#[cfg(unix)]
pub use unix_datagram::UnixDatagram;

use std::io;
use std::net::SocketAddr;

/// Tries `f` on each address `addrs` resolves to; the first success, or the last error.
///
/// Resolution is [`ToSocketAddrs`]'s: immediate for IP literals, `getaddrinfo` on the
/// blocking pool for host names (see [`lookup_host`]), never a blocking call on a worker.
pub(crate) async fn each_addr<A, T, F, Fut>(addrs: A, mut f: F) -> io::Result<T>
where
    A: ToSocketAddrs,
    F: FnMut(SocketAddr) -> Fut,
    Fut: std::future::Future<Output = io::Result<T>>,
{
    let mut last = None;
    for addr in addr::resolve(&addrs).await? {
        match f(addr).await {
            Ok(t) => return Ok(t),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "could not resolve to any address",
        )
    }))
}

/// Whether a non-blocking `connect` is under way rather than failed.
pub(crate) fn connect_in_progress(e: &io::Error) -> bool {
    e.raw_os_error() == Some(libc::EINPROGRESS) || e.kind() == io::ErrorKind::WouldBlock
}
