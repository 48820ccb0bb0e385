//! Fuzzes the RESP request parser of the RESP server example (its real `protocol.rs`, in `magpie-apps`).
//!
//! For any input, under small limits so they are reached:
//! - parsing never panics;
//! - a complete request lies within the input and respects the limits (argument count,
//!   bulk sizes, request size); an incomplete one names a need beyond what it has;
//! - a multibulk request re-encodes to exactly the bytes it was parsed from (the parser
//!   accepts only the canonical form), and any request, inline ones included,
//!   re-encodes to a multibulk request that parses back to the same arguments;
//! - a request recognised in a prefix is recognised identically when more bytes follow
//!   (what makes incremental parsing over partial reads sound).
//!
//! ```text
//! cd fuzz && cargo +nightly fuzz run resp_parser -- -max_total_time=120 -dict=resp.dict
//! ```
#![no_main]

use libfuzzer_sys::fuzz_target;
use magpie_apps::resp::protocol;
use protocol::{encode_command, parse_command, Limits, Parsed};

const LIMITS: Limits = Limits {
    max_bulk: 64,
    max_request: 512,
    max_args: 16,
};

fuzz_target!(|data: &[u8]| {
    let mut args = Vec::new();
    let Ok(parsed) = parse_command(data, &LIMITS, &mut args) else {
        return;
    };
    let len = match parsed {
        Parsed::Incomplete { need } => {
            assert!(
                need > data.len(),
                "incomplete with {} of {need}",
                data.len()
            );
            assert!(args.is_empty() || data.first() == Some(&b'*'));
            return;
        }
        Parsed::Complete { len } => len,
    };
    assert!(len >= 1 && len <= data.len());
    assert!(args.len() <= LIMITS.max_args);
    let request = &data[..len];
    let values: Vec<&[u8]> = args.iter().map(|r| &request[r.clone()]).collect();
    if data[0] == b'*' {
        assert!(len <= LIMITS.max_request);
        assert!(values.iter().all(|v| v.len() <= LIMITS.max_bulk));
        let mut encoded = Vec::new();
        encode_command(&values, &mut encoded);
        assert_eq!(encoded, request, "multibulk must round-trip byte for byte");
    } else {
        assert!(len <= protocol::MAX_INLINE.min(LIMITS.max_request));
        assert!(values.iter().all(|v| !v.is_empty()));
    }

    // Any request re-encodes to a multibulk request with the same arguments.
    let mut encoded = Vec::new();
    encode_command(&values, &mut encoded);
    let mut again = Vec::new();
    if encoded.len() <= LIMITS.max_request {
        match parse_command(&encoded, &LIMITS, &mut again) {
            Ok(Parsed::Complete { len }) => assert_eq!(len, encoded.len()),
            other => panic!("re-encoded request did not parse: {other:?}"),
        }
        let reparsed: Vec<&[u8]> = again.iter().map(|r| &encoded[r.clone()]).collect();
        assert_eq!(reparsed, values);
    }

    // The same request followed by more bytes parses the same way.
    let mut longer = request.to_vec();
    longer.extend_from_slice(b"*1\r\n$4\r\nPING\r\n");
    assert_eq!(
        parse_command(&longer, &LIMITS, &mut again),
        Ok(Parsed::Complete { len })
    );
    assert_eq!(again, args);
});
