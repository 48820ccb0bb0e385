//! `#[magpie::main]` and `#[magpie::test]` (the compile-fail cases are trybuild tests in
//! `macros/tests/ui.rs`).
//!
//! One test binary per area (see `tests/README.md`): each module below was a test file
//! of its own.

mod main_attr;
mod test_attr;
