//! Build tasks: package, test.
fn main() {}
