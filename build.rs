//! The driver's build script (filled in by the foundation work).
fn main() {}
