//! EMV data: the data dictionary and typed views of the bit-field data
//! elements.
//!
//! - [`format`]: data element formats (Book 3 §4.3).
//! - [`dictionary`]: every data element the kernel knows by tag.
//! - the bit views: each a small newtype over the element's bytes, decoding
//!   to named flags and encoding back.
//! - [`explain`]: one entry point that turns any known bit-field element into
//!   readable lines, for traces and the `emv decode` command.

pub mod dictionary;
pub mod format;

pub mod additional_terminal_capabilities;
pub mod afl;
pub mod aip;
pub mod auc;
pub mod bits;
pub mod cid;
pub mod ctq;
pub mod cvm;
pub mod explain;
pub mod iad;
pub mod terminal_capabilities;
pub mod terminal_type;
pub mod tsi;
pub mod ttq;
pub mod tvr;

pub use format::Format;
