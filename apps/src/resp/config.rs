//! Command-line options, shared by the magpie server and its tokio twin.

use std::time::Duration;

use crate::resp::protocol::Limits;

/// The usage text, with every default.
pub const USAGE: &str = "\
usage: resp_server [--bind ADDR] [--port N] [--max-conns N] [--idle-timeout SECS]
                   [--max-bulk BYTES] [--max-frame BYTES] [--threads N]
  --bind ADDR          address to listen on (default 127.0.0.1)
  --port N             port (default 6379; 0 picks a free one)
  --max-conns N        simultaneous clients; one more gets
                       '-ERR max number of clients reached' and is closed (default 10000)
  --idle-timeout SECS  close a client silent this long; 0 never (default 300)
  --max-bulk BYTES     largest bulk string (default 536870912 = 512 MiB, as Redis)
  --max-frame BYTES    largest whole request, the most one client can make the server
                       buffer (default 67108864 = 64 MiB)
  --threads N          worker threads (default: one per core)";

/// The server's settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Listening address (IP or host name).
    pub bind: String,
    /// Listening port.
    pub port: u16,
    /// Most simultaneous clients.
    pub max_conns: usize,
    /// A client silent this long is disconnected (`None`: never).
    pub idle_timeout: Option<Duration>,
    /// Per-request limits.
    pub limits: Limits,
    /// Worker threads (`None`: the runtime's default, one per core).
    pub threads: Option<usize>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            bind: "127.0.0.1".to_owned(),
            port: 6379,
            max_conns: 10_000,
            idle_timeout: Some(Duration::from_secs(300)),
            limits: Limits::default(),
            threads: None,
        }
    }
}

impl Config {
    /// Parses `--flag value` pairs (the program name already removed).
    ///
    /// # Errors
    ///
    /// A message naming the bad or unknown flag; `--help` gives the usage text.
    pub fn from_args(args: impl IntoIterator<Item = String>) -> Result<Config, String> {
        let mut config = Config::default();
        let mut args = args.into_iter();
        while let Some(flag) = args.next() {
            if flag == "--help" || flag == "-h" {
                return Err(USAGE.to_owned());
            }
            let value = args
                .next()
                .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
            let number = || {
                value
                    .parse::<usize>()
                    .map_err(|e| format!("{flag} {value}: {e}\n{USAGE}"))
            };
            match flag.as_str() {
                "--bind" => config.bind = value.clone(),
                "--port" => {
                    config.port = value
                        .parse()
                        .map_err(|e| format!("--port {value}: {e}\n{USAGE}"))?
                }
                "--max-conns" => config.max_conns = number()?.max(1),
                "--idle-timeout" => {
                    config.idle_timeout = match number()? {
                        0 => None,
                        secs => Some(Duration::from_secs(secs as u64)),
                    }
                }
                "--max-bulk" => config.limits.max_bulk = number()?,
                "--max-frame" => config.limits.max_request = number()?.max(64),
                "--threads" => config.threads = Some(number()?.max(1)),
                _ => return Err(format!("unknown option {flag}\n{USAGE}")),
            }
        }
        Ok(config)
    }

    /// `bind:port`.
    pub fn addr(&self) -> String {
        if self.bind.contains(':') {
            format!("[{}]:{}", self.bind, self.port)
        } else {
            format!("{}:{}", self.bind, self.port)
        }
    }
}
