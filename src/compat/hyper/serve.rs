//! `serve(listener, service)`: an accept loop serving a tower service (an axum `Router`)
//! over HTTP/1.1 and HTTP/2, with graceful shutdown. The counterpart of `axum::serve`.

use std::error::Error as StdError;
use std::fmt;
use std::future::{poll_fn, Future, IntoFuture};
use std::io;
use std::net::SocketAddr;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use ::hyper::body::{Body, Incoming};
use ::hyper::{Request, Response};
use hyper_util::server::conn::auto;

use super::{MagpieExecutor, MagpieIo, MagpieTimer};
use crate::net::{TcpListener, TcpStream};
use crate::sync::Event;

type BoxError = Box<dyn StdError + Send + Sync>;
type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// How long hyper waits for a request's headers by default (hyper's own default).
const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// How long graceful shutdown lets in-flight connections finish by default.
const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);

/// The peer address of the connection a request came on, inserted by [`serve`] into every
/// request's extensions (`req.extensions().get::<PeerAddr>()`).
///
/// With the `axum` feature the same address is also inserted as axum's
/// `ConnectInfo<SocketAddr>`, so `ConnectInfo` extractors work unchanged.
///
/// # Examples
///
/// ```
/// use magpie::compat::hyper::PeerAddr;
///
/// fn peer(req: &hyper::Request<()>) -> Option<std::net::SocketAddr> {
///     req.extensions().get::<PeerAddr>().map(|p| p.0)
/// }
/// assert_eq!(peer(&hyper::Request::new(())), None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PeerAddr(pub SocketAddr);

/// Serves `service` on every connection `listener` accepts, over HTTP/1.1 and HTTP/2
/// (detected per connection, HTTP/2 by prior knowledge), until awaited to an error or, with
/// [`Serve::with_graceful_shutdown`], until a shutdown signal.
///
/// `service` is any tower `Service<Request<Incoming>>` that is `Clone` (an axum `Router`
/// unchanged); wrap a hyper service (`hyper::service::service_fn`) in [`HyperService`].
/// It is cloned for every request, as axum does. Each connection is served by a task of its
/// own, with Nagle's algorithm off and the peer address in each request's extensions as
/// [`PeerAddr`] (and as axum's `ConnectInfo<SocketAddr>` with the `axum` feature).
///
/// Faults are contained: a connection's error (a malformed request, a reset) is logged to
/// stderr and ends only that connection; accept errors that mean resource exhaustion
/// (`EMFILE`, `ENFILE`, `ENOBUFS`, `ENOMEM`) make the loop back off (10 ms doubling up to
/// 1 s, one stderr line per back-off) instead of spinning, see [`AcceptBackoff`].
///
/// Must be awaited inside a magpie runtime (connections are spawned with `magpie::spawn`).
///
/// # Examples
///
/// ```no_run
/// /// use magpie::compat::hyper::{serve, HyperService};
///
/// async fn hello(_: hyper::Request<hyper::body::Incoming>)
///     -> Result<hyper::Response<String>, Infallible> {
///     Ok(hyper::Response::new("Hello, world!".to_string()))
/// }
///
/// magpie::block_on(async {
///     let listener = magpie::net::TcpListener::bind("127.0.0.1:3000").await?;
///     serve(listener, HyperService(hyper::service::service_fn(hello))).await
/// })
/// .unwrap();
/// ```
pub fn serve<S, B>(listener: TcpListener, service: S) -> Serve<S>
where
    S: tower_service::Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    Serve {
        listener,
        service,
        header_read_timeout: Some(DEFAULT_HEADER_READ_TIMEOUT),
    }
}

/// The future-to-be of [`serve`]: await it (it is [`IntoFuture`]) to run the server.
///
/// Awaiting it returns only on an accept error that is not a per-connection or
/// resource-exhaustion one; with [`with_graceful_shutdown`](Serve::with_graceful_shutdown)
/// it returns `Ok(())` after the shutdown.
pub struct Serve<S> {
    listener: TcpListener,
    service: S,
    header_read_timeout: Option<Duration>,
}

impl<S> fmt::Debug for Serve<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Serve")
            .field("listener", &self.listener)
            .field("header_read_timeout", &self.header_read_timeout)
            .finish_non_exhaustive()
    }
}

impl<S> Serve<S> {
    /// How long an HTTP/1 connection may take to send a request's headers before it is
    /// closed (hyper's `header_read_timeout`, run on magpie's timer). Default 30 s; `None`
    /// turns it off.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # use std::time::Duration;
    /// # use magpie::compat::hyper::{serve, HyperService};
    /// # async fn hello(_: hyper::Request<hyper::body::Incoming>)
    /// #     -> Result<hyper::Response<String>, std::convert::Infallible> { unimplemented!() }
    /// # magpie::block_on(async {
    /// let listener = magpie::net::TcpListener::bind("127.0.0.1:0").await?;
    /// serve(listener, HyperService(hyper::service::service_fn(hello)))
    ///     .header_read_timeout(Duration::from_secs(5))
    ///     .await
    /// # }).unwrap();
    /// ```
    pub fn header_read_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Serve<S> {
        self.header_read_timeout = timeout.into();
        self
    }

    /// Shuts the server down gracefully once `signal` completes: it stops accepting, asks
    /// every connection to finish (HTTP/1: after the request in flight; HTTP/2: GOAWAY),
    /// waits for them up to the [shutdown timeout](WithGracefulShutdown::shutdown_timeout)
    /// (default 10 s), closes whatever is left, and returns `Ok(())`.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use std::sync::Arc;
    /// use magpie::compat::hyper::{serve, HyperService};
    ///
    /// # async fn hello(_: hyper::Request<hyper::body::Incoming>)
    /// #     -> Result<hyper::Response<String>, std::convert::Infallible> { unimplemented!() }
    /// magpie::block_on(async {
    ///     let stop = Arc::new(magpie::sync::Event::new());
    ///     let listener = magpie::net::TcpListener::bind("127.0.0.1:0").await?;
    ///     let signal = { let stop = stop.clone(); async move { stop.wait().await } };
    ///     let server = serve(listener, HyperService(hyper::service::service_fn(hello)))
    ///         .with_graceful_shutdown(signal);
    ///     stop.set();
    ///     server.await
    /// })
    /// .unwrap();
    /// ```
    pub fn with_graceful_shutdown<F>(self, signal: F) -> WithGracefulShutdown<S, F>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        WithGracefulShutdown {
            serve: self,
            signal,
            shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
        }
    }
}

/// [`Serve`] with a shutdown signal, from [`Serve::with_graceful_shutdown`]; await it.
pub struct WithGracefulShutdown<S, F> {
    serve: Serve<S>,
    signal: F,
    shutdown_timeout: Duration,
}

impl<S, F> fmt::Debug for WithGracefulShutdown<S, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WithGracefulShutdown")
            .field("serve", &self.serve)
            .field("shutdown_timeout", &self.shutdown_timeout)
            .finish_non_exhaustive()
    }
}

impl<S, F> WithGracefulShutdown<S, F> {
    /// How long connections still open at shutdown may take to finish before they are
    /// closed (default 10 s). The server's future returns at the latest this long after the
    /// signal.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # use std::time::Duration;
    /// # use magpie::compat::hyper::{serve, HyperService};
    /// # async fn hello(_: hyper::Request<hyper::body::Incoming>)
    /// #     -> Result<hyper::Response<String>, std::convert::Infallible> { unimplemented!() }
    /// # magpie::block_on(async {
    /// let listener = magpie::net::TcpListener::bind("127.0.0.1:0").await?;
    /// serve(listener, HyperService(hyper::service::service_fn(hello)))
    ///     .with_graceful_shutdown(std::future::ready(()))
    ///     .shutdown_timeout(Duration::from_secs(2))
    ///     .await
    /// # }).unwrap();
    /// ```
    pub fn shutdown_timeout(mut self, timeout: Duration) -> WithGracefulShutdown<S, F> {
        self.shutdown_timeout = timeout;
        self
    }
}

impl<S, B> IntoFuture for Serve<S>
where
    S: tower_service::Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    type Output = io::Result<()>;
    type IntoFuture = BoxFuture<io::Result<()>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(run(self, std::future::pending(), DEFAULT_SHUTDOWN_TIMEOUT))
    }
}

impl<S, B, F> IntoFuture for WithGracefulShutdown<S, F>
where
    S: tower_service::Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
    F: Future<Output = ()> + Send + 'static,
{
    type Output = io::Result<()>;
    type IntoFuture = BoxFuture<io::Result<()>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(run(self.serve, self.signal, self.shutdown_timeout))
    }
}

/// What the connection tasks and the accept loop share.
struct Shared {
    /// Connections still being served.
    open: AtomicUsize,
    /// Set once the signal fired: the last connection to end then sets `idle`.
    shutting_down: AtomicBool,
    /// Ask connections to finish gracefully.
    graceful: Event,
    /// Close connections now (the shutdown deadline passed).
    force: Event,
    /// Set when `open` reached zero after shutdown began.
    idle: Event,
}

/// Counts a connection as open while alive.
struct OpenGuard(Arc<Shared>);

impl Drop for OpenGuard {
    fn drop(&mut self) {
        if self.0.open.fetch_sub(1, Ordering::SeqCst) == 1
            && self.0.shutting_down.load(Ordering::SeqCst)
        {
            self.0.idle.set();
        }
    }
}

async fn run<S, B, F>(serve: Serve<S>, signal: F, shutdown_timeout: Duration) -> io::Result<()>
where
    S: tower_service::Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
    F: Future<Output = ()> + Send + 'static,
{
    let Serve {
        listener,
        service,
        header_read_timeout,
    } = serve;
    let mut builder = auto::Builder::new(MagpieExecutor::new());
    builder
        .http1()
        .timer(MagpieTimer::new())
        .header_read_timeout(header_read_timeout);
    builder.http2().timer(MagpieTimer::new());
    let builder = Arc::new(builder);
    let shared = Arc::new(Shared {
        open: AtomicUsize::new(0),
        shutting_down: AtomicBool::new(false),
        graceful: Event::new(),
        force: Event::new(),
        idle: Event::new(),
    });
    let mut backoff = AcceptBackoff::new();
    let mut signal = pin!(signal);
    loop {
        let accepted = poll_fn(|cx| {
            if signal.as_mut().poll(cx).is_ready() {
                return Poll::Ready(None);
            }
            listener.poll_accept(cx).map(Some)
        })
        .await;
        let (stream, peer) = match accepted {
            None => break,
            Some(Ok(conn)) => {
                backoff.reset();
                conn
            }
            Some(Err(e)) => {
                backoff.handle(e).await?;
                continue;
            }
        };
        spawn_connection(&builder, &shared, stream, peer, service.clone());
    }
    // Stop accepting (the listener closes here), then drain.
    drop(listener);
    shared.shutting_down.store(true, Ordering::SeqCst);
    shared.graceful.set();
    if shared.open.load(Ordering::SeqCst) != 0
        && crate::time::timeout(shutdown_timeout, shared.idle.wait())
            .await
            .is_err()
    {
        let left = shared.open.load(Ordering::SeqCst);
        eprintln!(
            "magpie::compat::hyper::serve: {left} connection(s) still open {shutdown_timeout:?} \
             after the shutdown signal; closing them"
        );
        shared.force.set();
        // Closing is prompt (each task only drops its connection); bound it anyway.
        let _ = crate::time::timeout(Duration::from_secs(1), shared.idle.wait()).await;
    }
    Ok(())
}

fn spawn_connection<S, B>(
    builder: &Arc<auto::Builder<MagpieExecutor>>,
    shared: &Arc<Shared>,
    stream: TcpStream,
    peer: SocketAddr,
    service: S,
) where
    S: tower_service::Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    if let Err(e) = stream.set_nodelay(true) {
        eprintln!("magpie::compat::hyper::serve: set_nodelay for {peer}: {e}");
    }
    shared.open.fetch_add(1, Ordering::SeqCst);
    let guard = OpenGuard(Arc::clone(shared));
    let builder = Arc::clone(builder);
    crate::spawn(async move {
        let shared = Arc::clone(&guard.0);
        let svc = ConnService {
            inner: service,
            peer,
        };
        let conn = builder.serve_connection_with_upgrades(MagpieIo::new(stream), svc);
        let mut conn = pin!(conn);
        let mut graceful = pin!(shared.graceful.wait());
        let mut force = pin!(shared.force.wait());
        let mut asked = false;
        let result = poll_fn(|cx| {
            if force.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Ok(()));
            }
            if !asked && graceful.as_mut().poll(cx).is_ready() {
                asked = true;
                conn.as_mut().graceful_shutdown();
            }
            conn.as_mut().poll(cx)
        })
        .await;
        if let Err(e) = result {
            eprintln!("magpie::compat::hyper::serve: connection from {peer}: {e}");
        }
        drop(guard);
    });
}

/// The per-connection hyper service: clones the tower service for each request (tower's
/// `poll_ready` then `call`, as `ServiceExt::oneshot` does) after inserting the peer address.
#[derive(Clone)]
struct ConnService<S> {
    inner: S,
    peer: SocketAddr,
}

impl<S, B> ::hyper::service::Service<Request<Incoming>> for ConnService<S>
where
    S: tower_service::Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
{
    type Response = Response<B>;
    type Error = BoxError;
    type Future = BoxFuture<Result<Response<B>, BoxError>>;

    fn call(&self, mut req: Request<Incoming>) -> Self::Future {
        req.extensions_mut().insert(PeerAddr(self.peer));
        #[cfg(feature = "axum")]
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo(self.peer));
        let mut svc = self.inner.clone();
        Box::pin(async move {
            poll_fn(|cx| svc.poll_ready(cx)).await.map_err(Into::into)?;
            svc.call(req).await.map_err(Into::into)
        })
    }
}

/// A hyper service (`hyper::service::service_fn(..)`) as a tower service, so [`serve`]
/// takes it. It must be `Clone` (a `service_fn` of a plain `async fn` is).
///
/// # Examples
///
/// ```
/// use magpie::compat::hyper::HyperService;
///
/// async fn hello(_: hyper::Request<hyper::body::Incoming>)
///     -> Result<hyper::Response<String>, std::convert::Infallible> {
///     Ok(hyper::Response::new("hi".into()))
/// }
/// let svc = HyperService(hyper::service::service_fn(hello));
/// let _clone = svc.clone();
/// ```
#[derive(Clone, Copy, Debug)]
pub struct HyperService<S>(pub S);

impl<S, R> tower_service::Service<R> for HyperService<S>
where
    S: ::hyper::service::Service<R>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: R) -> S::Future {
        self.0.call(req)
    }
}

/// The accept-error policy of [`serve`], reusable by any accept loop (an echo or RESP
/// server): per-connection errors (`ECONNABORTED`, `ECONNRESET`, `EINTR`, `EPROTO`...)
/// are skipped at once; resource exhaustion (`EMFILE`, `ENFILE`, `ENOBUFS`, `ENOMEM`) and
/// any other error sleep 10 ms, doubling while errors repeat up to 1 s, with one stderr
/// line per back-off, so a server out of descriptors neither spins nor floods its log.
/// [`reset`](AcceptBackoff::reset) after a successful accept.
///
/// # Examples
///
/// ```no_run
/// use magpie::compat::hyper::AcceptBackoff;
///
/// magpie::block_on(async {
///     let listener = magpie::net::TcpListener::bind("127.0.0.1:0").await?;
///     let mut backoff = AcceptBackoff::new();
///     loop {
///         match listener.accept().await {
///             Ok((stream, _peer)) => {
///                 backoff.reset();
///                 drop(stream); // serve it
///             }
///             Err(e) => backoff.handle(e).await?,
///         }
///     }
///     # #[allow(unreachable_code)] Ok::<(), std::io::Error>(())
/// })
/// .unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct AcceptBackoff {
    delay: Duration,
}

impl Default for AcceptBackoff {
    fn default() -> AcceptBackoff {
        AcceptBackoff::new()
    }
}

impl AcceptBackoff {
    const FIRST: Duration = Duration::from_millis(10);
    const MAX: Duration = Duration::from_secs(1);

    /// A back-off that has seen no error.
    ///
    /// # Examples
    ///
    /// ```
    /// let _ = magpie::compat::hyper::AcceptBackoff::new();
    /// ```
    pub fn new() -> AcceptBackoff {
        AcceptBackoff { delay: Self::FIRST }
    }

    /// Forgets earlier errors: the next back-off sleeps the shortest time again.
    ///
    /// # Examples
    ///
    /// ```
    /// magpie::compat::hyper::AcceptBackoff::new().reset();
    /// ```
    pub fn reset(&mut self) {
        self.delay = Self::FIRST;
    }

    /// Handles one accept error: returns at once for a per-connection error, else logs
    /// it and sleeps the current back-off (then doubles it).
    ///
    /// # Errors
    ///
    /// None today: every accept error is survivable by waiting. The `Result` leaves room
    /// for a fatal one (a closed listener) without an API change.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io;
    /// magpie::block_on(async {
    ///     let mut b = magpie::compat::hyper::AcceptBackoff::new();
    ///     // A per-connection error: no sleep.
    ///     b.handle(io::Error::from(io::ErrorKind::ConnectionAborted)).await.unwrap();
    /// });
    /// ```
    pub async fn handle(&mut self, error: io::Error) -> io::Result<()> {
        if is_connection_error(&error) {
            return Ok(());
        }
        let what = if is_resource_exhaustion(&error) {
            "out of resources"
        } else {
            "accept error"
        };
        eprintln!(
            "magpie: accept failed ({what}): {error}; retrying in {:?}",
            self.delay
        );
        crate::time::sleep(self.delay).await;
        self.delay = (self.delay * 2).min(Self::MAX);
        Ok(())
    }
}

/// Errors about one incoming connection that leave the listener fine.
fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionRefused
            | io::ErrorKind::Interrupted
    ) || e.raw_os_error() == Some(libc::EPROTO)
}

/// `EMFILE`, `ENFILE`, `ENOBUFS`, `ENOMEM`: the process or system ran out of something.
fn is_resource_exhaustion(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
    )
}
