//! The input of `cpu_io_pipeline` and its hash: 256 chunks of 64 KiB of pseudo-random
//! bytes, made once per process (outside the timed iterations), and each chunk's digest.

use std::sync::OnceLock;

/// Chunks sent through the connection.
pub const CHUNKS: usize = 256;
/// Bytes per chunk.
pub const CHUNK: usize = 64 * 1024;
/// Hash tasks in flight on the server at most (the server's reader waits beyond that).
pub const DEPTH: usize = 32;
/// FNV-1a passes over each chunk: a few hundred µs of CPU per chunk.
pub const HASH_ROUNDS: u32 = 2;

/// The bytes sent and the digest of each chunk.
#[derive(Debug)]
pub struct Input {
    /// `CHUNKS * CHUNK` bytes.
    pub data: Vec<u8>,
    /// `digest` of each chunk, in order.
    pub digests: Vec<u64>,
}

/// The input, made on first use.
pub fn input() -> &'static Input {
    static INPUT: OnceLock<Input> = OnceLock::new();
    INPUT.get_or_init(|| {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let data: Vec<u8> = (0..CHUNKS * CHUNK)
            .map(|_| {
                // xorshift64
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        let digests = data.chunks(CHUNK).map(digest).collect();
        Input { data, digests }
    })
}

/// `HASH_ROUNDS` chained passes of 64-bit FNV-1a over `chunk`: the CPU-bound step.
pub fn digest(chunk: &[u8]) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for round in 0..HASH_ROUNDS {
        h ^= u64::from(round);
        for &b in chunk {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}
