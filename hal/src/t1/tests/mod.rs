//! Tests of the T=1 block codec (ISO/IEC 7816-3 §11.3) and engine (§11.6, EMV L1 §9.2.4).
//!
//! Vector source: emv-facts.md §5.3 and Appendix A.2 (frames marked \[V\]: recomputed LRCs).
//! The CRC check value `6F91` for "123456789" is the published check value of the
//! reflected-0x8408 / init-FFFF / no-xorout CRC-16 (the CCID `csum_crc_compute` variant).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod block;
mod engine;
mod prop;
mod sim;
