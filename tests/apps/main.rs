//! The example applications (crate `magpie-apps`, `apps/`) served on magpie: the RESP
//! server.
//!
//! One test binary per area (see `tests/README.md`): each module below was a test file
//! of its own.

mod resp_server;
