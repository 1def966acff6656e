//! # emv-readers
//!
//! Concrete reader back-ends for the EMV stack, each behind a cargo feature: PC/SC and
//! the NXP PN532. The protocol engines they drive (ATR, T=0, T=1, the contact UART
//! slot, ISO 14443 and ISO-DEP) live in `emv-hal`.
//!
//! | feature | module | needs |
//! |---|---|---|
//! | `pcsc` | `pcsc` (off by default) | `libpcsclite-dev` + `pkg-config` to build, a running `pcscd` to use |
//! | `pn532` | `pn532` (on by default): NXP PN532 over I2C, SPI or HSU, as an `emv-hal` `RfFrontend` | nothing: `no_std`, no allocator, builds for `thumbv7em-none-eabihf` |
//!
//! Without `pcsc` the crate is `no_std` and builds everywhere, bare-metal targets included
//! (`--no-default-features --features pn532 --target thumbv7em-none-eabihf`).

#![cfg_attr(all(not(feature = "pcsc"), not(test)), no_std)]

#[cfg(feature = "pcsc")]
pub mod pcsc;
#[cfg(feature = "pn532")]
pub mod pn532;
