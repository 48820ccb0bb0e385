// Every mistake is reported at once, not one per compile.
#[magpie::test(flavor = "one_thread")]
fn sync_with_input(x: u8) {
    let _ = x;
}

fn main() {}
