//! Resolving addresses without blocking a worker: magpie's [`ToSocketAddrs`] and
//! [`lookup_host`].
//!
//! std's `ToSocketAddrs` resolves a host name with a blocking `getaddrinfo` on the calling
//! thread, which would stall a worker (and every task queued behind it) for as long as the
//! resolver takes. So magpie, like tokio, has its own trait, implemented for the same
//! types as std's: an IP literal (`"127.0.0.1:80"`, `"[::1]:80"`, a `SocketAddr`, an
//! `(IpAddr, u16)`) is parsed on the spot with no pool hop; a host name (`"localhost:80"`,
//! `("example.com", 443)`) is resolved by `getaddrinfo` on the blocking pool.
//!
//! The trait is sealed: it cannot be implemented outside magpie (its method is private),
//! only used as a bound. Code that passed any of std's `ToSocketAddrs` types to
//! `connect`/`bind` keeps compiling; only a value of a user's own type implementing std's
//! trait must now be resolved first (with [`lookup_host`] on a `String`, or std's trait on a
//! thread that may block).

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

use crate::fs::asyncify;

/// Types that name one or more socket addresses: magpie's version of std's
/// `ToSocketAddrs`, which resolves host names on the blocking pool instead of blocking
/// the thread (see [`lookup_host`]).
///
/// Implemented for `SocketAddr`, `SocketAddrV4`, `SocketAddrV6`, `(IpAddr, u16)`,
/// `(Ipv4Addr, u16)`, `(Ipv6Addr, u16)`, `[SocketAddr]`, `str`, `String`, `(&str, u16)`,
/// `(String, u16)`, and references to any of them. Sealed: it cannot be implemented
/// outside magpie.
///
/// # Examples
///
/// ```
/// use magpie_runtime::net::{TcpListener, ToSocketAddrs};
///
/// async fn listen(addr: impl ToSocketAddrs) -> std::io::Result<TcpListener> {
///     TcpListener::bind(addr).await
/// }
///
/// # if cfg!(miri) { return; }
/// magpie_runtime::block_on(async {
///     let a = listen("127.0.0.1:0").await.unwrap();
///     let b = listen(("127.0.0.1", 0)).await.unwrap();
///     let c = listen(a.local_addr().unwrap().ip().to_string() + ":0").await.unwrap();
///     assert!(b.local_addr().unwrap().ip().is_loopback());
///     assert!(c.local_addr().unwrap().ip().is_loopback());
/// });
/// ```
pub trait ToSocketAddrs: sealed::ToSocketAddrsPriv {}

pub(crate) mod sealed {
    /// The addresses now, or a host name to resolve on the pool.
    #[derive(Debug)]
    pub enum Resolve {
        Ready(Vec<std::net::SocketAddr>),
        Host(String),
        HostPort(String, u16),
    }

    /// The hidden half of [`super::ToSocketAddrs`].
    pub trait ToSocketAddrsPriv {
        fn resolve(&self) -> Resolve;
    }
}

use sealed::{Resolve, ToSocketAddrsPriv};

macro_rules! ready_impl {
    ($($t:ty => |$v:ident| $e:expr;)*) => {$(
        impl ToSocketAddrs for $t {}
        impl ToSocketAddrsPriv for $t {
            fn resolve(&self) -> Resolve {
                let $v = self;
                Resolve::Ready(vec![$e])
            }
        }
    )*};
}

ready_impl! {
    SocketAddr => |a| *a;
    SocketAddrV4 => |a| SocketAddr::V4(*a);
    SocketAddrV6 => |a| SocketAddr::V6(*a);
    (IpAddr, u16) => |a| SocketAddr::new(a.0, a.1);
    (Ipv4Addr, u16) => |a| SocketAddr::new(IpAddr::V4(a.0), a.1);
    (Ipv6Addr, u16) => |a| SocketAddr::new(IpAddr::V6(a.0), a.1);
}

impl ToSocketAddrs for [SocketAddr] {}
impl ToSocketAddrsPriv for [SocketAddr] {
    fn resolve(&self) -> Resolve {
        Resolve::Ready(self.to_vec())
    }
}

impl ToSocketAddrs for str {}
impl ToSocketAddrsPriv for str {
    fn resolve(&self) -> Resolve {
        match self.parse::<SocketAddr>() {
            Ok(addr) => Resolve::Ready(vec![addr]),
            Err(_) => Resolve::Host(self.to_owned()),
        }
    }
}

impl ToSocketAddrs for String {}
impl ToSocketAddrsPriv for String {
    fn resolve(&self) -> Resolve {
        self.as_str().resolve()
    }
}

impl ToSocketAddrs for (&str, u16) {}
impl ToSocketAddrsPriv for (&str, u16) {
    fn resolve(&self) -> Resolve {
        let (host, port) = *self;
        match host.parse::<IpAddr>() {
            Ok(ip) => Resolve::Ready(vec![SocketAddr::new(ip, port)]),
            Err(_) => Resolve::HostPort(host.to_owned(), port),
        }
    }
}

impl ToSocketAddrs for (String, u16) {}
impl ToSocketAddrsPriv for (String, u16) {
    fn resolve(&self) -> Resolve {
        (self.0.as_str(), self.1).resolve()
    }
}

impl<T: ToSocketAddrs + ?Sized> ToSocketAddrs for &T {}
impl<T: ToSocketAddrsPriv + ?Sized> ToSocketAddrsPriv for &T {
    fn resolve(&self) -> Resolve {
        (**self).resolve()
    }
}

/// Resolves `addr`: at once for IP literals, on the blocking pool for host names.
pub(crate) async fn resolve<A: ToSocketAddrs + ?Sized>(
    addr: &A,
) -> io::Result<std::vec::IntoIter<SocketAddr>> {
    let lookup = |host: String, port: Option<u16>| {
        asyncify(move || {
            let addrs = match port {
                None => std::net::ToSocketAddrs::to_socket_addrs(&host)?,
                Some(port) => std::net::ToSocketAddrs::to_socket_addrs(&(host.as_str(), port))?,
            };
            Ok(addrs.collect::<Vec<_>>())
        })
    };
    let addrs = match addr.resolve() {
        Resolve::Ready(addrs) => addrs,
        Resolve::Host(host) => lookup(host, None).await?,
        Resolve::HostPort(host, port) => lookup(host, Some(port)).await?,
    };
    Ok(addrs.into_iter())
}

/// Resolves `host` (`"name:port"`, `("name", port)`, or an address literal) to socket
/// addresses, asyncio's `loop.getaddrinfo`: the system resolver (`getaddrinfo`, which
/// reads `/etc/hosts` and asks DNS) runs on the blocking pool, so no worker waits for it.
/// An IP literal is parsed at once, without a pool hop.
///
/// # Errors
///
/// `InvalidInput` for a string without a port; the resolver's error for a name it cannot
/// resolve (kind `Other`/uncategorized, with its message, e.g. "Name or service not
/// known"); an error outside a magpie runtime.
///
/// # Examples
///
/// ```
/// # if cfg!(miri) { return; }
/// magpie_runtime::block_on(async {
///     let addrs: Vec<_> = magpie_runtime::net::lookup_host("localhost:8080").await.unwrap().collect();
///     assert!(addrs.iter().all(|a| a.ip().is_loopback() && a.port() == 8080));
///     let literal: Vec<_> = magpie_runtime::net::lookup_host("[::1]:53").await.unwrap().collect();
///     assert_eq!(literal, ["[::1]:53".parse().unwrap()]);
///     assert!(magpie_runtime::net::lookup_host("nonexistent.invalid:80").await.is_err());
/// });
/// ```
pub async fn lookup_host<T: ToSocketAddrs>(
    host: T,
) -> io::Result<impl Iterator<Item = SocketAddr>> {
    resolve(&host).await
}
