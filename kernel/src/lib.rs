//! # emv-kernel
//!
//! The EMV Level 2 kernel of the project: a `no_std`, allocation-free, sans-IO
//! library. **It does no I/O, reads no clock, draws no randomness and needs no
//! heap.** The caller feeds it bytes and terminal inputs and polls what it
//! produces, so every run is reproducible.
//!
//! Layers (bottom up):
//!
//! - [`wire`]: BER-TLV (EMV Book 3 Annex B), Data Object Lists (Book 3 §5.4),
//!   command and response APDUs with status words (ISO/IEC 7816-4, Book 1
//!   §11, Book 3 §6). Zero-copy views over `&[u8]`; **no input makes it
//!   panic**.
//! - [`data`]: the EMV data dictionary (Book 3 Annex A, Book 4, contactless
//!   kernels) and typed bit views (TVR, TSI, AIP, AUC, CVM List and Results,
//!   terminal capabilities, CID, AFL, TTQ, CTQ, Issuer Application Data).
//!
//! The transaction state machines (contact Book 3/4 flow, contactless Entry
//! Point and kernels) build on these layers.
#![no_std]
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

#[cfg(feature = "std")]
extern crate std;

pub mod contact;
pub mod crypto;
pub mod data;
#[doc(hidden)]
pub mod fuzzing;
pub mod oda;
pub mod selection;
pub mod store;
pub mod wire;

pub use wire::tag::Tag;
