//! One connection's protocol state, independent of the runtime: the read buffer, the
//! batched replies, and the loop that turns every complete request in the buffer into a
//! reply. The runtime-specific server loop only moves bytes:
//!
//! ```text
//! loop {
//!     match session.process(&store) {
//!         Step::Read => { flush session.output(); read into session.read_buf(); session.filled(n) }
//!         Step::Flush => flush session.output()
//!         Step::Close => { flush session.output(); close }
//!     }
//! }
//! ```
//!
//! Pipelining falls out of this: every request already buffered is answered before the
//! next read, and all their replies leave in one write.

use std::ops::Range;

use crate::resp::commands::{execute, After, Args};
use crate::resp::protocol::{parse_command, write_error, Limits, Parsed};
use crate::resp::store::Store;

/// The smallest free space offered to a read.
pub const READ_CHUNK: usize = 16 * 1024;

/// Replies are flushed once this many bytes are waiting, even mid-batch, so a pipeline of
/// large GETs cannot make the output buffer grow without bound: the peer must read.
const OUTPUT_HIGH_WATER: usize = 64 * 1024;

/// What the server loop does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Write any pending output, then read more input.
    Read,
    /// Write the pending output, then call [`Session::process`] again.
    Flush,
    /// Write the pending output (the last reply or an error), then close.
    Close,
}

/// A connection's buffers.
#[derive(Debug)]
pub struct Session {
    limits: Limits,
    /// Input: `buf[start..filled]` is received but not yet processed.
    buf: Vec<u8>,
    start: usize,
    filled: usize,
    /// Don't parse again before `filled - start` reaches this (the parser said so).
    need: usize,
    args: Vec<Range<usize>>,
    out: Vec<u8>,
    closing: bool,
}

impl Session {
    /// A session enforcing `limits`.
    pub fn new(limits: Limits) -> Session {
        Session {
            limits,
            buf: vec![0; READ_CHUNK],
            start: 0,
            filled: 0,
            need: 1,
            args: Vec::new(),
            out: Vec::with_capacity(READ_CHUNK),
            closing: false,
        }
    }

    /// Answers every complete request buffered (until the output reaches its high-water
    /// mark) and says what the connection needs next.
    pub fn process(&mut self, store: &Store) -> Step {
        if self.closing {
            return Step::Close;
        }
        while self.filled - self.start >= self.need {
            let input = &self.buf[self.start..self.filled];
            match parse_command(input, &self.limits, &mut self.args) {
                Ok(Parsed::Complete { len }) => {
                    let after = if self.args.is_empty() {
                        After::Continue
                    } else {
                        execute(store, Args::new(input, &self.args), &mut self.out)
                    };
                    self.start += len;
                    self.need = 1;
                    if after == After::Close {
                        self.closing = true;
                        return Step::Close;
                    }
                    if self.out.len() >= OUTPUT_HIGH_WATER {
                        return Step::Flush;
                    }
                }
                Ok(Parsed::Incomplete { need }) => self.need = need,
                Err(e) => {
                    write_error(&mut self.out, &format!("ERR {e}"));
                    self.closing = true;
                    return Step::Close;
                }
            }
        }
        if self.start == self.filled {
            self.start = 0;
            self.filled = 0;
            if self.buf.len() > 4 * READ_CHUNK {
                // A large request is done: give its memory back.
                self.buf = vec![0; READ_CHUNK];
            }
        }
        Step::Read
    }

    /// Free space to read into, at least [`READ_CHUNK`] bytes (the buffer is compacted
    /// or grown as needed; the parser's limits bound how far it grows).
    pub fn read_buf(&mut self) -> &mut [u8] {
        if self.buf.len() - self.filled < READ_CHUNK {
            if self.start > 0 {
                self.buf.copy_within(self.start..self.filled, 0);
                self.filled -= self.start;
                self.start = 0;
            }
            if self.buf.len() - self.filled < READ_CHUNK {
                // Grow to what the pending request needs, or double, whichever is more.
                let want = (self.filled + READ_CHUNK)
                    .max(self.need)
                    .max(self.buf.len() * 2);
                self.buf
                    .resize(want.min(self.limits.max_request + READ_CHUNK), 0);
            }
        }
        &mut self.buf[self.filled..]
    }

    /// Records that a read put `n` bytes at the start of [`Session::read_buf`].
    pub fn filled(&mut self, n: usize) {
        self.filled += n;
    }

    /// Replies waiting to be written.
    pub fn output(&self) -> &[u8] {
        &self.out
    }

    /// Records that the pending output was written.
    pub fn output_written(&mut self) {
        self.out.clear();
        if self.out.capacity() > 4 * OUTPUT_HIGH_WATER {
            self.out.shrink_to(OUTPUT_HIGH_WATER);
        }
    }
}
