//! The tokio twin of `examples/resp_server`: the same protocol, store, commands and
//! session code (the `magpie-apps` crate's `resp` modules), with only the server loop written
//! for tokio, so `scripts/resp_bench.sh` compares the runtimes and nothing else.
//!
//! ```text
//! cargo run --release -p magpie-benches --bin resp_server_tokio -- --port 6380
//! ```

use magpie_apps::resp::{config, session, store};

use std::future::{poll_fn, Future};
use std::io;
use std::pin::{pin, Pin};
use std::process::ExitCode;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::time::{timeout, Instant, Sleep};

use config::Config;
use session::{Session, Step};
use store::{Store, EVICT_PERIOD};

const TOO_MANY_CLIENTS: &[u8] = b"-ERR max number of clients reached\r\n";
const LINGER: Duration = Duration::from_millis(500);

fn main() -> ExitCode {
    let config = match Config::from_args(std::env::args().skip(1)) {
        Ok(config) => config,
        Err(msg) => {
            eprintln!("{msg}");
            return ExitCode::from(2);
        }
    };
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = config.threads {
        builder.worker_threads(n);
    }
    let runtime = match builder.enable_all().thread_name("resp-worker").build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        let listener = TcpListener::bind(config.addr().as_str()).await?;
        println!(
            "resp_server (tokio) listening on {}",
            listener.local_addr()?
        );
        serve(listener, config).await
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("resp_server_tokio: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(listener: TcpListener, config: Config) -> io::Result<()> {
    let store = Arc::new(Store::new());
    let config = Arc::new(config);
    let clients = Arc::new(Semaphore::new(config.max_conns));
    let sampler = Arc::clone(&store);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(EVICT_PERIOD);
        loop {
            tick.tick().await;
            sampler.evict_expired();
        }
    });
    loop {
        let (stream, _peer) = match listener.accept().await {
            Ok(conn) => conn,
            Err(e) => {
                eprintln!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        match Arc::clone(&clients).try_acquire_owned() {
            Ok(permit) => {
                let (store, config) = (Arc::clone(&store), Arc::clone(&config));
                tokio::spawn(async move {
                    let _permit = permit;
                    let _ = connection(stream, &store, &config).await;
                });
            }
            Err(_) => {
                tokio::spawn(refuse(stream));
            }
        }
    }
}

async fn refuse(mut stream: TcpStream) {
    let _ = timeout(LINGER, stream.write_all(TOO_MANY_CLIENTS)).await;
    linger_close(stream).await;
}

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
/// early (as in the magpie server).
struct IdleTimer {
    limit: Duration,
    last_active: Instant,
    sleep: Pin<Box<Sleep>>,
}

impl IdleTimer {
    fn new(limit: Duration) -> IdleTimer {
        IdleTimer {
            limit,
            last_active: Instant::now(),
            sleep: Box::pin(tokio::time::sleep(limit)),
        }
    }

    fn active(&mut self) {
        self.last_active = Instant::now();
    }

    fn poll_expired(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        while self.sleep.as_mut().poll(cx).is_ready() {
            let due = self.last_active + self.limit;
            if Instant::now() >= due {
                return Poll::Ready(());
            }
            self.sleep.as_mut().reset(due);
        }
        Poll::Pending
    }
}

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

async fn linger_close(mut stream: TcpStream) {
    let _ = stream.shutdown().await;
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
