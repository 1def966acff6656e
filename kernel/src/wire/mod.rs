//! The wire layer: EMV data on the byte level.
//!
//! Every parser here takes `&[u8]` and returns either a zero-copy view or a
//! typed error that names the byte offset and what was wrong. The contract:
//! **no input makes any function in this module panic**, and none allocates.
//! `nom` is used inside the parsers and never appears in a public signature.

pub mod apdu;
pub mod dol;
pub mod encode;
pub mod tag;
pub mod tlv;
pub mod walk;
