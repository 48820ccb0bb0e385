//! hyper 1.x on magpie (feature `hyper`).
//!
//! hyper is runtime-agnostic: it asks for an executor to spawn background work
//! ([`hyper::rt::Executor`]), a timer for its timeouts ([`hyper::rt::Timer`]) and an I/O
//! type implementing [`hyper::rt::Read`] and [`hyper::rt::Write`]. This module gives all
//! three on magpie:
//!
//! | hyper trait | magpie type | counterpart in hyper-util (tokio) |
//! | --- | --- | --- |
//! | `rt::Executor<F>` | [`MagpieExecutor`] (`magpie::spawn`, or a stored [`Handle`](crate::Handle)) | `TokioExecutor` |
//! | `rt::Timer` | [`MagpieTimer`] (sleeps on `magpie::time`) | `TokioTimer` |
//! | `rt::Read` + `rt::Write` | [`MagpieIo<T>`] over any `futures_io::AsyncRead + AsyncWrite`, such as [`magpie::net::TcpStream`](crate::net::TcpStream) | `TokioIo` |
//!
//! # Examples
//!
//! An HTTP/1.1 server answering one request from a hyper client, both on magpie:
//!
//! ```
//! use std::convert::Infallible;
//!
//! use hyper::body::{Bytes, Incoming};
//! use hyper::{Request, Response};
//! use http_body_util::{BodyExt, Full};
//! use magpie::compat::hyper::{MagpieExecutor, MagpieIo, MagpieTimer};
//! use magpie::net::{TcpListener, TcpStream};
//!
//! async fn hello(_req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
//!     Ok(Response::new(Full::new(Bytes::from_static(b"Hello, world!"))))
//! }
//!
//! magpie::block_on(async {
//!     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
//!     let addr = listener.local_addr().unwrap();
//!     magpie::spawn(async move {
//!         let (stream, _) = listener.accept().await.unwrap();
//!         hyper::server::conn::http1::Builder::new()
//!             .timer(MagpieTimer::new())
//!             .serve_connection(MagpieIo::new(stream), hyper::service::service_fn(hello))
//!             .await
//!             .unwrap();
//!     });
//!
//!     let stream = TcpStream::connect(addr).await.unwrap();
//!     let (mut sender, conn) = hyper::client::conn::http1::handshake(MagpieIo::new(stream))
//!         .await
//!         .unwrap();
//!     hyper::rt::Executor::execute(&MagpieExecutor::new(), async move {
//!         let _ = conn.await;
//!     });
//!     let req = Request::get("/").body(http_body_util::Empty::<Bytes>::new()).unwrap();
//!     let resp = sender.send_request(req).await.unwrap();
//!     assert_eq!(resp.status(), 200);
//!     let body = resp.into_body().collect().await.unwrap().to_bytes();
//!     assert_eq!(&body[..], b"Hello, world!");
//! });
//! ```

mod executor;
mod io;
mod serve;
mod timer;

pub use executor::MagpieExecutor;
pub use io::MagpieIo;
pub use serve::{serve, AcceptBackoff, HyperService, PeerAddr, Serve, WithGracefulShutdown};
pub use timer::MagpieTimer;
