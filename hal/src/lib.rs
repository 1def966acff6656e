//! # emv-hal
//!
//! EMV Level 1: the traits between the kernel and reader hardware, and the
//! ISO/IEC 7816-3 and ISO/IEC 14443-4 protocol engines. `no_std`, no heap,
//! no I/O of its own: engines are sans-IO state machines that board code or a
//! reader back-end drives.
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

pub mod atr;
pub mod channel;
#[doc(hidden)]
pub mod fuzzing;
pub mod iso14443;
pub mod pps;
pub mod rf;
pub mod slot;
pub mod t0;
pub mod t1;
