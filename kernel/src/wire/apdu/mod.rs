//! Command and response APDUs (ISO/IEC 7816-4 §5; EMV Book 1 §11, Book 3 §6).
//!
//! - [`command`]: C-APDUs of cases 1–4, short and extended, built into a
//!   caller-owned buffer or parsed back for tracing.
//! - [`response`]: R-APDUs: response data and the status word.
//! - [`status`]: status words with their ISO/IEC 7816-4 and EMV meanings.
//! - [`commands`]: constructors for the EMV commands of Book 3 §6.5.
//! - [`ins`]: names of the instructions, for traces.

pub mod command;
pub mod commands;
pub mod ins;
pub mod response;
pub mod status;

pub use command::{ApduError, Case, CommandApdu, Encoding};
pub use response::ResponseApdu;
pub use status::StatusWord;
