//! Compile-fail tests: each mistake is an error that points at the token at fault. The
//! expected messages are the `.stderr` files beside each case in `ui/`; regenerate them
//! with `TRYBUILD=overwrite cargo test -p magpie-macros --test ui` and read the diff.
#[test]
fn mistakes_are_spanned_errors() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
