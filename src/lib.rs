//! Library side of the `emv` command-line tool: input parsing and the
//! renderers behind `emv decode`, kept out of `main.rs` so tests can call them
//! in-process.

pub mod card_cmd;
pub mod deck_cmd;
pub mod decode;
pub mod hexinput;
pub mod readers_cmd;
pub mod transact_cmd;
