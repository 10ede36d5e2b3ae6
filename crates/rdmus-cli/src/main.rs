//! The `rdmus` command.
fn main() {}
