//! The magpie server loop: accept, admit under the connection limit, and per connection
//! move bytes between the socket and its [`Session`] with an idle timeout. This file is
//! the only part that knows the runtime (the tokio twin in `benches/` has its own).

use std::future::{poll_fn, Future};
use std::io;
use std::net::Shutdown;
use std::pin::{pin, Pin};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use magpie::io::{AsyncReadExt, AsyncWriteExt};
use magpie::net::{TcpListener, TcpStream};
use magpie::sync::Semaphore;
use magpie::time::{sleep, timeout, Instant, Sleep};

use crate::resp::config::Config;
use crate::resp::session::{Session, Step};
use crate::resp::store::{Store, EVICT_PERIOD};

/// The refusal sent to a client over `--max-conns`.
pub const TOO_MANY_CLIENTS: &[u8] = b"-ERR max number of clients reached\r\n";

/// How long a closing connection waits for its peer to take the last reply.
const LINGER: Duration = Duration::from_millis(500);

/// Serves `listener` until the runtime shuts down.
///
/// # Errors
///
/// Only a failure of the listener itself; a failing client is dropped and the rest go on.
pub async fn serve(listener: TcpListener, config: Config) -> io::Result<()> {
    let store = Arc::new(Store::new());
    let config = Arc::new(config);
    let clients = Arc::new(Semaphore::new(config.max_conns));
    let sampler = Arc::clone(&store);
    magpie::spawn(async move {
        let mut tick = magpie::time::interval(EVICT_PERIOD);
        loop {
            tick.tick().await;
            sampler.evict_expired();
        }
    });
    loop {
        let (stream, _peer) = match listener.accept().await {
            Ok(conn) => conn,
            Err(e) => {
                // EMFILE and friends: say so, breathe, keep serving the others.
                eprintln!("accept failed: {e}");
                magpie::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        match Arc::clone(&clients).try_acquire_owned() {
            Ok(permit) => {
                let (store, config) = (Arc::clone(&store), Arc::clone(&config));
                magpie::spawn(async move {
                    let _permit = permit;
                    let _ = connection(stream, &store, &config).await;
                });
            }
            Err(_) => {
                magpie::spawn(refuse(stream));
            }
        }
    }
}

async fn refuse(mut stream: TcpStream) {
    let _ = timeout(LINGER, stream.write_all(TOO_MANY_CLIENTS)).await;
    linger_close(stream).await;
}

/// One client: read, answer every complete request, write the replies in one go.
async fn connection(mut stream: TcpStream, store: &Store, config: &Config) -> io::Result<()> {
    let mut session = Session::new(config.limits);
    let mut idle = config.idle_timeout.map(IdleTimer::new);
    loop {
        let step = session.process(store);
        if !session.output().is_empty() {
            if guard(&mut idle, stream.write_all(session.output()))
                .await?
                .is_none()
            {
                return Ok(());
            }
            session.output_written();
        }
        match step {
            Step::Read => {
                let n = match guard(&mut idle, stream.read(session.read_buf())).await? {
                    Some(n) => n,
                    None => return Ok(()),
                };
                if n == 0 {
                    return Ok(());
                }
                if let Some(idle) = &mut idle {
                    idle.active();
                }
                session.filled(n);
            }
            Step::Flush => {}
            Step::Close => {
                linger_close(stream).await;
                return Ok(());
            }
        }
    }
}

/// The idle timeout as one long-lived timer per connection, re-armed only when it fires
/// early (the client was active since), instead of a timer armed and cancelled around
/// every read: that cost showed in the profile of a request-per-round-trip load.
#[derive(Debug)]
struct IdleTimer {
    limit: Duration,
    last_active: Instant,
    sleep: Sleep,
}

impl IdleTimer {
    fn new(limit: Duration) -> IdleTimer {
        IdleTimer {
            limit,
            last_active: Instant::now(),
            sleep: sleep(limit),
        }
    }

    fn active(&mut self) {
        self.last_active = Instant::now();
    }

    /// Ready once the client has been silent for the whole limit.
    fn poll_expired(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        while Pin::new(&mut self.sleep).poll(cx).is_ready() {
            let due = self.last_active + self.limit;
            if Instant::now() >= due {
                return Poll::Ready(());
            }
            self.sleep.reset(due);
        }
        Poll::Pending
    }
}

/// Runs `io` unless the idle timer expires first (then `Ok(None)`).
async fn guard<T>(
    idle: &mut Option<IdleTimer>,
    io: impl Future<Output = io::Result<T>>,
) -> io::Result<Option<T>> {
    let mut io = pin!(io);
    poll_fn(|cx| {
        if let Poll::Ready(out) = io.as_mut().poll(cx) {
            return Poll::Ready(out.map(Some));
        }
        match idle.as_mut().map(|idle| idle.poll_expired(cx)) {
            Some(Poll::Ready(())) => Poll::Ready(Ok(None)),
            _ => Poll::Pending,
        }
    })
    .await
}

/// Sends FIN after the last reply and drains what the peer still sends for a moment, so
/// closing with unread input does not turn into a reset that destroys the reply.
async fn linger_close(mut stream: TcpStream) {
    let _ = stream.shutdown(Shutdown::Write);
    let _ = timeout(LINGER, async {
        let mut sink = [0u8; 4096];
        let mut drained = 0;
        while drained < 1 << 20 {
            match stream.read(&mut sink).await {
                Ok(0) | Err(_) => break,
                Ok(n) => drained += n,
            }
        }
    })
    .await;
}
