#[magpie::test(flavor = multi_thread)]
async fn ident_flavor() {}

fn main() {}
