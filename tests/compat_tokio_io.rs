//! `magpie::compat::tokio_io`: tokio-util's `Framed` line codec over magpie's TcpStream
//! and UnixStream halves, on magpie's driver with no tokio runtime anywhere.

use futures_util::{SinkExt, StreamExt};
use magpie::compat::tokio_io::TokioIo;
use magpie::net::{TcpListener, TcpStream, UnixStream};
use tokio_util::codec::{Framed, FramedRead, FramedWrite, LinesCodec};

#[test]
fn framed_lines_over_a_magpie_tcp_stream() {
    magpie::block_on(async {
        assert!(
            tokio::runtime::Handle::try_current().is_err(),
            "no tokio runtime here"
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        // An upper-casing line echo server.
        let server = magpie::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let mut lines = Framed::new(TokioIo::new(stream), LinesCodec::new());
            let mut n = 0;
            while let Some(line) = lines.next().await {
                lines.send(line.unwrap().to_uppercase()).await.unwrap();
                n += 1;
            }
            n
        });
        let stream = TcpStream::connect(addr).await.unwrap();
        let mut client = Framed::new(TokioIo::new(stream), LinesCodec::new());
        for word in ["alpha", "beta", "gamma"] {
            client.send(word).await.unwrap();
            assert_eq!(client.next().await.unwrap().unwrap(), word.to_uppercase());
        }
        drop(client);
        assert_eq!(server.await.unwrap(), 3);
    });
}

#[test]
fn framed_over_unix_stream_halves() {
    magpie::block_on(async {
        let (a, b) = UnixStream::pair().unwrap();
        let (read_half, write_half) = a.into_split();
        let mut writer = FramedWrite::new(TokioIo::new(write_half), LinesCodec::new());
        let mut reader = FramedRead::new(TokioIo::new(read_half), LinesCodec::new());
        let (b_read, b_write) = b.into_split();
        let echo = magpie::spawn(async move {
            let mut r = FramedRead::new(TokioIo::new(b_read), LinesCodec::new());
            let mut w = FramedWrite::new(TokioIo::new(b_write), LinesCodec::new());
            while let Some(line) = r.next().await {
                w.send(format!("echo {}", line.unwrap())).await.unwrap();
            }
        });
        writer.send("one").await.unwrap();
        writer.send("two").await.unwrap();
        assert_eq!(reader.next().await.unwrap().unwrap(), "echo one");
        assert_eq!(reader.next().await.unwrap().unwrap(), "echo two");
        drop(writer);
        echo.await.unwrap();
    });
}
