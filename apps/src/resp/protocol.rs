//! RESP2 requests and replies, runtime-agnostic and allocation-light.
//!
//! A request is either a multibulk array of bulk strings (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`,
//! what redis-cli and redis-benchmark send) or an inline command (`GET k\r\n`, what `nc`
//! sends). [`parse_command`] recognises one complete request at the start of a buffer and
//! returns its arguments as byte ranges into that buffer, so parsing copies nothing.
//!
//! The parser is strict where Redis is strict and bounded everywhere: lengths are
//! canonical decimals (no sign, no leading zeros), a bulk longer than
//! [`Limits::max_bulk`] or a request larger than [`Limits::max_request`] is refused from
//! its header, before its payload arrives, and header or inline lines have a length cap,
//! so a peer can never make the server buffer more than `max_request` bytes for one
//! request.
//!
//! Replies are written straight into an output buffer by the `write_*` functions.

use std::fmt;
use std::ops::Range;

/// The longest inline request line Redis accepts (`PROTO_INLINE_MAX_SIZE`).
pub const MAX_INLINE: usize = 64 * 1024;

/// The longest `*<count>` or `$<len>` header line, `\r\n` included: 20 digits hold any
/// `u64`, so anything longer is malformed.
const MAX_HEADER_LINE: usize = 24;

/// Bounds on what one request may make the server buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest bulk string, in bytes (Redis's `proto-max-bulk-len`, 512 MiB).
    pub max_bulk: usize,
    /// The largest whole request, headers included, in bytes: a request whose header
    /// already says it will be larger, or whose bytes pile up beyond this without
    /// completing, is refused.
    pub max_request: usize,
    /// The most arguments in one multibulk request (Redis refuses more than 1024 * 1024).
    pub max_args: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bulk: 512 * 1024 * 1024,
            max_request: 64 * 1024 * 1024,
            max_args: 1024 * 1024,
        }
    }
}

/// The outcome of looking for one request at the start of a buffer.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    /// A complete request of `len` bytes; its arguments are in the `args` vector passed
    /// in (empty for a blank inline line or `*0`, which get no reply).
    Complete {
        /// Bytes the request occupies at the start of the buffer.
        len: usize,
    },
    /// Not complete yet; the request will need at least `need` bytes in total, so
    /// there is no point in parsing again before the buffer holds that many.
    Incomplete {
        /// A lower bound on the complete request's length.
        need: usize,
    },
}

/// A malformed or oversized request. The connection gets `-ERR Protocol error: <msg>`
/// and is closed, as Redis does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolError {
    msg: String,
}

impl ProtocolError {
    fn new(msg: impl Into<String>) -> ProtocolError {
        ProtocolError { msg: msg.into() }
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Protocol error: {}", self.msg)
    }
}

impl std::error::Error for ProtocolError {}

/// Looks for one complete request at the start of `buf`, storing its arguments as ranges
/// of `buf` in `args` (cleared first).
///
/// # Errors
///
/// A [`ProtocolError`] for malformed input or a request beyond `limits`; the caller
/// replies with it and closes the connection.
pub fn parse_command(
    buf: &[u8],
    limits: &Limits,
    args: &mut Vec<Range<usize>>,
) -> Result<Parsed, ProtocolError> {
    args.clear();
    match buf.first() {
        None => Ok(Parsed::Incomplete { need: 1 }),
        Some(b'*') => parse_multibulk(buf, limits, args),
        Some(_) => parse_inline(buf, limits, args),
    }
}

fn parse_multibulk(
    buf: &[u8],
    limits: &Limits,
    args: &mut Vec<Range<usize>>,
) -> Result<Parsed, ProtocolError> {
    let Some((count, mut pos)) = header_line(buf, 0, "multibulk length")? else {
        return Ok(Parsed::Incomplete {
            need: buf.len() + 1,
        });
    };
    if count > limits.max_args as u64 {
        return Err(ProtocolError::new("invalid multibulk length"));
    }
    let count = count as usize;
    // Each argument takes at least `$0\r\n\r\n`: a count the request limit cannot hold is
    // refused now rather than after megabytes of arguments.
    if count.saturating_mul(6).saturating_add(pos) > limits.max_request {
        return Err(ProtocolError::new("request too large"));
    }
    for _ in 0..count {
        match buf.get(pos) {
            None => return Ok(Parsed::Incomplete { need: pos + 1 }),
            Some(b'$') => {}
            Some(&other) => {
                return Err(ProtocolError::new(format!(
                    "expected '$', got '{}'",
                    printable(other)
                )))
            }
        }
        let Some((len, body)) = header_line(buf, pos, "bulk length")? else {
            return Ok(Parsed::Incomplete {
                need: buf.len() + 1,
            });
        };
        if len > limits.max_bulk as u64 {
            return Err(ProtocolError::new("invalid bulk length"));
        }
        let end = body
            .checked_add(len as usize)
            .filter(|end| end + 2 <= limits.max_request)
            .ok_or_else(|| ProtocolError::new("request too large"))?;
        if buf.len() < end + 2 {
            return Ok(Parsed::Incomplete { need: end + 2 });
        }
        if &buf[end..end + 2] != b"\r\n" {
            return Err(ProtocolError::new("bulk string not terminated by CRLF"));
        }
        args.push(body..end);
        pos = end + 2;
    }
    Ok(Parsed::Complete { len: pos })
}

/// Reads `<prefix><digits>\r\n` at `start`: `Ok(None)` if the line is not complete yet,
/// else the number and the position after the line.
fn header_line(
    buf: &[u8],
    start: usize,
    what: &str,
) -> Result<Option<(u64, usize)>, ProtocolError> {
    let line = &buf[start + 1..];
    let window = &line[..line.len().min(MAX_HEADER_LINE)];
    let Some(cr) = window.iter().position(|&b| b == b'\r') else {
        if window.len() == MAX_HEADER_LINE {
            return Err(ProtocolError::new(format!("too big {what} line")));
        }
        return Ok(None);
    };
    match line.get(cr + 1) {
        None => return Ok(None),
        Some(b'\n') => {}
        Some(_) => {
            return Err(ProtocolError::new(format!(
                "invalid {what}: no LF after CR"
            )))
        }
    }
    let value =
        parse_length(&line[..cr]).ok_or_else(|| ProtocolError::new(format!("invalid {what}")))?;
    Ok(Some((value, start + 1 + cr + 2)))
}

/// A canonical non-negative decimal: digits only, no leading zero unless it is `0`.
fn parse_length(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() || (digits[0] == b'0' && digits.len() > 1) {
        return None;
    }
    digits.iter().try_fold(0u64, |acc, &d| {
        if !d.is_ascii_digit() {
            return None;
        }
        acc.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })
}

fn parse_inline(
    buf: &[u8],
    limits: &Limits,
    args: &mut Vec<Range<usize>>,
) -> Result<Parsed, ProtocolError> {
    let cap = MAX_INLINE.min(limits.max_request);
    let window = &buf[..buf.len().min(cap)];
    let Some(nl) = window.iter().position(|&b| b == b'\n') else {
        if window.len() == cap {
            return Err(ProtocolError::new("too big inline request"));
        }
        return Ok(Parsed::Incomplete {
            need: buf.len() + 1,
        });
    };
    let line_end = if nl > 0 && buf[nl - 1] == b'\r' {
        nl - 1
    } else {
        nl
    };
    let mut pos = 0;
    while pos < line_end {
        while pos < line_end && is_inline_space(buf[pos]) {
            pos += 1;
        }
        let start = pos;
        while pos < line_end && !is_inline_space(buf[pos]) {
            pos += 1;
        }
        if start < pos {
            if pos - start > limits.max_bulk {
                return Err(ProtocolError::new("invalid bulk length"));
            }
            if args.len() == limits.max_args {
                return Err(ProtocolError::new("invalid multibulk length"));
            }
            args.push(start..pos);
        }
    }
    Ok(Parsed::Complete { len: nl + 1 })
}

/// Inline arguments are separated by blanks; quoting is not supported.
fn is_inline_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\x0b' | b'\x0c')
}

fn printable(b: u8) -> char {
    if b.is_ascii_graphic() || b == b' ' {
        b as char
    } else {
        '?'
    }
}

/// Encodes `args` as a multibulk request: the canonical form [`parse_command`] reads back.
#[allow(dead_code)] // The server never sends requests; its tests and the fuzz target do.
pub fn encode_command<A: AsRef<[u8]>>(args: &[A], out: &mut Vec<u8>) {
    write_array_header(out, args.len());
    for arg in args {
        write_bulk(out, arg.as_ref());
    }
}

/// `+<s>\r\n`. `s` must not contain CR or LF.
pub fn write_simple(out: &mut Vec<u8>, s: &str) {
    out.push(b'+');
    out.extend_from_slice(s.as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// `-<msg>\r\n`, with any CR or LF in `msg` replaced by a space so the reply stays one line.
pub fn write_error(out: &mut Vec<u8>, msg: &str) {
    out.push(b'-');
    out.extend(
        msg.bytes()
            .map(|b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
    );
    out.extend_from_slice(b"\r\n");
}

/// `:<n>\r\n`.
pub fn write_integer(out: &mut Vec<u8>, n: i64) {
    out.push(b':');
    write_decimal(out, n);
    out.extend_from_slice(b"\r\n");
}

/// `$<len>\r\n<bytes>\r\n`.
pub fn write_bulk(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(b'$');
    write_decimal(out, bytes.len() as i64);
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(bytes);
    out.extend_from_slice(b"\r\n");
}

/// `$-1\r\n`, the null bulk string (a missing key).
pub fn write_null(out: &mut Vec<u8>) {
    out.extend_from_slice(b"$-1\r\n");
}

/// `*<n>\r\n`; the caller then writes the `n` elements.
pub fn write_array_header(out: &mut Vec<u8>, n: usize) {
    out.push(b'*');
    write_decimal(out, n as i64);
    out.extend_from_slice(b"\r\n");
}

/// Appends `n` in decimal without going through `fmt`.
pub fn write_decimal(out: &mut Vec<u8>, n: i64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut v = n.unsigned_abs();
    loop {
        i -= 1;
        digits[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    if n < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(&digits[i..]);
}
