#[magpie::test]
async fn takes_input(n: u32) {
    assert_eq!(n, 1);
}

fn main() {}
