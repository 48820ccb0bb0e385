#[magpie::main]
fn main() {}
