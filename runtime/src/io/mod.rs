//! Asynchronous I/O: the `futures-io` traits, extension methods, and [`Async`], which
//! registers any file descriptor with the runtime's driver.
//!
//! # Examples
//!
//! ```
//! use magpie_runtime::io::{AsyncReadExt, AsyncWriteExt};
//! use magpie_runtime::net::{TcpListener, TcpStream};
//!
//! # if cfg!(miri) { return; } // miri has no epoll: no sockets there
//! magpie_runtime::block_on(async {
//!     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
//!     let addr = listener.local_addr().unwrap();
//!     let server = magpie_runtime::spawn(async move {
//!         let (mut s, _) = listener.accept().await.unwrap();
//!         let mut buf = [0; 5];
//!         s.read_exact(&mut buf).await.unwrap();
//!         s.write_all(&buf).await.unwrap();
//!     });
//!     let mut c = TcpStream::connect(addr).await.unwrap();
//!     c.write_all(b"hello").await.unwrap();
//!     let mut buf = [0; 5];
//!     c.read_exact(&mut buf).await.unwrap();
//!     assert_eq!(&buf, b"hello");
//!     server.await.unwrap();
//! });
//! ```

mod async_fd;
mod ext;

pub use async_fd::Async;
pub use ext::{
    copy, sink, AsyncReadExt, AsyncWriteExt, Close, Flush, ReadExact, ReadFut, ReadToEnd, Sink,
    WriteAll, WriteFut, WriteVectored,
};
pub use futures_io::{AsyncBufRead, AsyncRead, AsyncSeek, AsyncWrite};
