//! The `emv` command-line tool.
fn main() {}
