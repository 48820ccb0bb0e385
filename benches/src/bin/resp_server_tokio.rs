//! The tokio twin of `examples/resp_server`: the same protocol, store, commands and
//! session code (included from the example's files), with only the server loop written
//! for tokio, so `scripts/resp_bench.sh` compares the runtimes and nothing else.
//!
//! ```text
//! cargo run --release -p magpie-benches --bin resp_server_tokio -- --port 6380
//! ```

#[path = "../../../examples/resp_server/commands.rs"]
mod commands;
#[path = "../../../examples/resp_server/config.rs"]
mod config;
#[path = "../../../examples/resp_server/protocol.rs"]
mod protocol;
#[path = "../../../examples/resp_server/session.rs"]
mod session;
#[path = "../../../examples/resp_server/store.rs"]
mod store;

use std::io;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::time::timeout;

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
    loop {
        let step = session.process(store);
        if !session.output().is_empty() {
            with_idle_timeout(config, stream.write_all(session.output())).await?;
            session.output_written();
        }
        match step {
            Step::Read => {
                let n = with_idle_timeout(config, stream.read(session.read_buf())).await?;
                if n == 0 {
                    return Ok(());
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

async fn with_idle_timeout<T>(
    config: &Config,
    io: impl std::future::Future<Output = io::Result<T>>,
) -> io::Result<T> {
    match config.idle_timeout {
        Some(limit) => timeout(limit, io).await?,
        None => io.await,
    }
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
