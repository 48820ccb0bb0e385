//! The commands: each reads its arguments, works on the [`Store`] under the shard locks
//! it needs (taken and released within the call) and writes its reply into `out`, with
//! Redis's reply shapes and error texts.

use std::ops::Range;
use std::time::{Duration, Instant};

use crate::resp::protocol::{
    write_array_header, write_bulk, write_error, write_integer, write_null, write_simple,
};
use crate::resp::store::Store;

/// A request's arguments: ranges into the read buffer they were parsed from.
#[derive(Debug, Clone, Copy)]
pub struct Args<'a> {
    buf: &'a [u8],
    ranges: &'a [Range<usize>],
}

impl<'a> Args<'a> {
    /// Arguments `ranges` of `buf`.
    pub fn new(buf: &'a [u8], ranges: &'a [Range<usize>]) -> Args<'a> {
        Args { buf, ranges }
    }

    /// Number of arguments, the command name included.
    pub fn len(&self) -> usize {
        self.ranges.len()
    }

    /// Whether there are no arguments at all (not even a command name).
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// Argument `i` (0 is the command name).
    pub fn get(&self, i: usize) -> &'a [u8] {
        &self.buf[self.ranges[i].clone()]
    }

    /// Arguments `from..`.
    pub fn iter_from(&self, from: usize) -> impl Iterator<Item = &'a [u8]> + '_ {
        self.ranges[from..].iter().map(|r| &self.buf[r.clone()])
    }
}

/// What the connection does after a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum After {
    /// Go on reading requests.
    Continue,
    /// Flush the replies and close (QUIT).
    Close,
}

/// The command table: name (upper case), Redis's arity (positive: exact count, negative:
/// at least that many, both including the name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Command {
    Ping,
    Echo,
    Get,
    Set,
    Del,
    Exists,
    Incr,
    Mget,
    Mset,
    Expire,
    Ttl,
    Pttl,
    Config,
    /// COMMAND (the command table, which redis-cli asks for).
    Docs,
    Dbsize,
    Quit,
}

impl Command {
    fn lookup(name: &[u8]) -> Option<Command> {
        let mut upper = [0u8; 8];
        if name.len() > upper.len() {
            return None;
        }
        for (u, b) in upper.iter_mut().zip(name) {
            *u = b.to_ascii_uppercase();
        }
        Some(match &upper[..name.len()] {
            b"PING" => Command::Ping,
            b"ECHO" => Command::Echo,
            b"GET" => Command::Get,
            b"SET" => Command::Set,
            b"DEL" => Command::Del,
            b"EXISTS" => Command::Exists,
            b"INCR" => Command::Incr,
            b"MGET" => Command::Mget,
            b"MSET" => Command::Mset,
            b"EXPIRE" => Command::Expire,
            b"TTL" => Command::Ttl,
            b"PTTL" => Command::Pttl,
            b"CONFIG" => Command::Config,
            b"COMMAND" => Command::Docs,
            b"DBSIZE" => Command::Dbsize,
            b"QUIT" => Command::Quit,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Command::Ping => "ping",
            Command::Echo => "echo",
            Command::Get => "get",
            Command::Set => "set",
            Command::Del => "del",
            Command::Exists => "exists",
            Command::Incr => "incr",
            Command::Mget => "mget",
            Command::Mset => "mset",
            Command::Expire => "expire",
            Command::Ttl => "ttl",
            Command::Pttl => "pttl",
            Command::Config => "config",
            Command::Docs => "command",
            Command::Dbsize => "dbsize",
            Command::Quit => "quit",
        }
    }

    fn arity(self) -> i32 {
        match self {
            Command::Ping => -1,
            Command::Echo => 2,
            Command::Get => 2,
            Command::Set => -3,
            Command::Del => -2,
            Command::Exists => -2,
            Command::Incr => 2,
            Command::Mget => -2,
            Command::Mset => -3,
            Command::Expire => -3,
            Command::Ttl => 2,
            Command::Pttl => 2,
            Command::Config => -2,
            Command::Docs => -1,
            Command::Dbsize => 1,
            Command::Quit => -1,
        }
    }
}

const ERR_NOT_INTEGER: &str = "ERR value is not an integer or out of range";
const ERR_SYNTAX: &str = "ERR syntax error";

/// Runs one request (`args` is not empty) and writes its reply into `out`.
pub fn execute(store: &Store, args: Args<'_>, out: &mut Vec<u8>) -> After {
    let Some(cmd) = Command::lookup(args.get(0)) else {
        unknown_command(args, out);
        return After::Continue;
    };
    let arity = cmd.arity();
    let n = args.len() as i64;
    if (arity > 0 && n != i64::from(arity)) || (arity < 0 && n < -i64::from(arity)) {
        write_error(
            out,
            &format!("ERR wrong number of arguments for '{}' command", cmd.name()),
        );
        return After::Continue;
    }
    match cmd {
        Command::Ping => match args.len() {
            1 => write_simple(out, "PONG"),
            2 => write_bulk(out, args.get(1)),
            _ => write_error(out, "ERR wrong number of arguments for 'ping' command"),
        },
        Command::Echo => write_bulk(out, args.get(1)),
        Command::Get => get(store, args.get(1), out),
        Command::Set => set(store, args, out),
        Command::Del => {
            let n = args
                .iter_from(1)
                .filter(|key| store.lock_key(key).remove(key))
                .count();
            write_integer(out, n as i64);
        }
        Command::Exists => {
            // Redis counts a key as often as it is named.
            let n = args
                .iter_from(1)
                .filter(|key| store.lock_key(key).contains(key))
                .count();
            write_integer(out, n as i64);
        }
        Command::Incr => incr(store, args.get(1), out),
        Command::Mget => mget(store, args, out),
        Command::Mset => mset(store, args, out),
        Command::Expire => expire(store, args, out),
        Command::Ttl => ttl(store, args.get(1), out, 1000),
        Command::Pttl => ttl(store, args.get(1), out, 1),
        Command::Config => config(args, out),
        // redis-cli asks for command docs on start; an empty table is a valid answer.
        Command::Docs => write_array_header(out, 0),
        Command::Dbsize => write_integer(out, store.len() as i64),
        Command::Quit => {
            write_simple(out, "OK");
            return After::Close;
        }
    }
    After::Continue
}

fn unknown_command(args: Args<'_>, out: &mut Vec<u8>) {
    // Redis 7: "ERR unknown command 'foo', with args beginning with: 'a' 'b' ".
    let mut msg = format!(
        "ERR unknown command '{}', with args beginning with: ",
        String::from_utf8_lossy(truncate(args.get(0), 128))
    );
    let mut budget = 128usize;
    for arg in args.iter_from(1) {
        if budget == 0 {
            break;
        }
        let shown = truncate(arg, budget);
        budget -= shown.len();
        msg.push('\'');
        msg.push_str(&String::from_utf8_lossy(shown));
        msg.push_str("' ");
    }
    write_error(out, &msg);
}

fn truncate(bytes: &[u8], max: usize) -> &[u8] {
    &bytes[..bytes.len().min(max)]
}

fn get(store: &Store, key: &[u8], out: &mut Vec<u8>) {
    let mut shard = store.lock_key(key);
    match shard.get(key) {
        Some(value) => write_bulk(out, &value.data),
        None => write_null(out),
    }
}

/// `SET key value [NX | XX] [EX seconds | PX milliseconds | KEEPTTL] [GET]`
fn set(store: &Store, args: Args<'_>, out: &mut Vec<u8>) {
    let (key, data) = (args.get(1), args.get(2));
    let mut nx = false;
    let mut xx = false;
    let mut keep_ttl = false;
    let mut return_old = false;
    let mut expires_at = None;
    let mut i = 3;
    while i < args.len() {
        let opt = args.get(i);
        let has_value = i + 1 < args.len();
        if opt.eq_ignore_ascii_case(b"NX") && !xx {
            nx = true;
        } else if opt.eq_ignore_ascii_case(b"XX") && !nx {
            xx = true;
        } else if opt.eq_ignore_ascii_case(b"GET") {
            return_old = true;
        } else if opt.eq_ignore_ascii_case(b"KEEPTTL") && expires_at.is_none() {
            keep_ttl = true;
        } else if (opt.eq_ignore_ascii_case(b"EX") || opt.eq_ignore_ascii_case(b"PX"))
            && has_value
            && expires_at.is_none()
            && !keep_ttl
        {
            let unit = if opt.eq_ignore_ascii_case(b"EX") {
                1000
            } else {
                1
            };
            let Some(amount) = parse_i64(args.get(i + 1)) else {
                write_error(out, ERR_NOT_INTEGER);
                return;
            };
            match deadline(Instant::now(), amount, unit) {
                Some(at) if amount > 0 => expires_at = Some(at),
                _ => {
                    write_error(out, "ERR invalid expire time in 'set' command");
                    return;
                }
            }
            i += 1;
        } else {
            write_error(out, ERR_SYNTAX);
            return;
        }
        i += 1;
    }
    let mut shard = store.lock_key(key);
    if !(nx || xx || keep_ttl || return_old) {
        // Plain SET: no need to look at the old value.
        shard.set(key, data, expires_at);
        write_simple(out, "OK");
        return;
    }
    let old = shard.get(key);
    let exists = old.is_some();
    let old_ttl = old.as_ref().and_then(|v| v.expires_at);
    if return_old {
        match &old {
            Some(value) => write_bulk(out, &value.data),
            None => write_null(out),
        }
    }
    if (nx && exists) || (xx && !exists) {
        if !return_old {
            write_null(out);
        }
        return;
    }
    let expires_at = if keep_ttl { old_ttl } else { expires_at };
    shard.set(key, data, expires_at);
    if !return_old {
        write_simple(out, "OK");
    }
}

/// `now + amount * unit_ms`, or None if that overflows.
fn deadline(now: Instant, amount: i64, unit_ms: i64) -> Option<Instant> {
    let ms = amount.checked_mul(unit_ms)?;
    if ms <= 0 {
        return Some(now);
    }
    now.checked_add(Duration::from_millis(ms as u64))
}

/// Redis's `string2ll`: an optional `-`, then digits without leading zeros, in range.
pub fn parse_i64(bytes: &[u8]) -> Option<i64> {
    let (negative, digits) = match bytes.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, bytes),
    };
    if digits.is_empty()
        || digits.len() > 19
        || (digits[0] == b'0' && (digits.len() > 1 || negative))
    {
        return None;
    }
    let mut v: i64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        // Accumulate negatively so i64::MIN fits.
        v = v.checked_mul(10)?.checked_sub(i64::from(d - b'0'))?;
    }
    if negative {
        Some(v)
    } else {
        v.checked_neg()
    }
}

fn incr(store: &Store, key: &[u8], out: &mut Vec<u8>) {
    let mut shard = store.lock_key(key);
    let (current, expires_at) = match shard.get(key) {
        Some(value) => match parse_i64(&value.data) {
            Some(n) => (n, value.expires_at),
            None => {
                write_error(out, ERR_NOT_INTEGER);
                return;
            }
        },
        None => (0, None),
    };
    let Some(next) = current.checked_add(1) else {
        write_error(out, "ERR increment or decrement would overflow");
        return;
    };
    let mut digits = Vec::with_capacity(20);
    crate::resp::protocol::write_decimal(&mut digits, next);
    shard.set(key, &digits, expires_at);
    write_integer(out, next);
}

fn mget(store: &Store, args: Args<'_>, out: &mut Vec<u8>) {
    let mut shards = store.lock_many(args.iter_from(1));
    write_array_header(out, args.len() - 1);
    for key in args.iter_from(1) {
        let shard = shards[store.shard_of(key)]
            .as_mut()
            .expect("lock_many locked every key's shard");
        match shard.get(key) {
            Some(value) => write_bulk(out, &value.data),
            None => write_null(out),
        }
    }
}

fn mset(store: &Store, args: Args<'_>, out: &mut Vec<u8>) {
    if args.len() % 2 == 0 {
        write_error(out, "ERR wrong number of arguments for 'mset' command");
        return;
    }
    let mut shards = store.lock_many(args.iter_from(1).step_by(2));
    for pair in (1..args.len()).step_by(2) {
        let key = args.get(pair);
        let shard = shards[store.shard_of(key)]
            .as_mut()
            .expect("lock_many locked every key's shard");
        shard.set(key, args.get(pair + 1), None);
    }
    write_simple(out, "OK");
}

/// `EXPIRE key seconds [NX | XX | GT | LT]`
fn expire(store: &Store, args: Args<'_>, out: &mut Vec<u8>) {
    let key = args.get(1);
    let Some(seconds) = parse_i64(args.get(2)) else {
        write_error(out, ERR_NOT_INTEGER);
        return;
    };
    let condition = match args.len() {
        3 => None,
        4 => {
            let opt = args.get(3).to_ascii_uppercase();
            match opt.as_slice() {
                b"NX" | b"XX" | b"GT" | b"LT" => Some(opt),
                _ => {
                    write_error(
                        out,
                        &format!(
                            "ERR Unsupported option {}",
                            String::from_utf8_lossy(args.get(3))
                        ),
                    );
                    return;
                }
            }
        }
        _ => {
            write_error(out, ERR_SYNTAX);
            return;
        }
    };
    let now = Instant::now();
    let Some(at) = deadline(now, seconds, 1000) else {
        write_error(out, "ERR invalid expire time in 'expire' command");
        return;
    };
    let mut shard = store.lock_key(key);
    let Some(value) = shard.get(key) else {
        write_integer(out, 0);
        return;
    };
    let current = value.expires_at;
    // No deadline counts as an infinite one for GT and LT, as in Redis.
    let allowed = match condition.as_deref() {
        None => true,
        Some(b"NX") => current.is_none(),
        Some(b"XX") => current.is_some(),
        Some(b"GT") => current.is_some_and(|c| at > c),
        Some(b"LT") => current.is_none_or(|c| at < c),
        Some(_) => unreachable!("options are checked above"),
    };
    if !allowed {
        write_integer(out, 0);
        return;
    }
    if seconds <= 0 {
        shard.remove(key);
    } else {
        shard.set_deadline(key, Some(at));
    }
    write_integer(out, 1);
}

/// TTL (`unit_ms` 1000) or PTTL (1): -2 missing, -1 no deadline, else the time left,
/// rounded to the nearest unit as Redis does.
fn ttl(store: &Store, key: &[u8], out: &mut Vec<u8>, unit_ms: u128) {
    let now = Instant::now();
    let mut shard = store.lock_key(key);
    let reply = match shard.get(key) {
        None => -2,
        Some(value) => match value.expires_at {
            None => -1,
            Some(at) => {
                let left = at.saturating_duration_since(now).as_millis();
                ((left + unit_ms / 2) / unit_ms) as i64
            }
        },
    };
    write_integer(out, reply);
}

/// CONFIG GET for the two parameters redis-benchmark asks about on start (`save`,
/// `appendonly`): this server persists nothing. Other parameters match nothing.
fn config(args: Args<'_>, out: &mut Vec<u8>) {
    if !args.get(1).eq_ignore_ascii_case(b"GET") {
        write_error(
            out,
            &format!(
                "ERR unknown subcommand '{}'. Try CONFIG HELP.",
                String::from_utf8_lossy(truncate(args.get(1), 128))
            ),
        );
        return;
    }
    if args.len() < 3 {
        write_error(
            out,
            "ERR wrong number of arguments for 'config|get' command",
        );
        return;
    }
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    for pattern in args.iter_from(2) {
        for (name, value) in [("save", ""), ("appendonly", "no")] {
            let matches = pattern == b"*" || pattern.eq_ignore_ascii_case(name.as_bytes());
            if matches && !pairs.iter().any(|(n, _)| *n == name) {
                pairs.push((name, value));
            }
        }
    }
    write_array_header(out, pairs.len() * 2);
    for (name, value) in pairs {
        write_bulk(out, name.as_bytes());
        write_bulk(out, value.as_bytes());
    }
}
