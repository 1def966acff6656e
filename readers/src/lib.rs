//! # emv-readers
//!
//! Concrete reader back-ends for the EMV stack: PC/SC, PN532 and contact UART
//! interface chips, each behind a cargo feature. The protocol engines they
//! drive live in `emv-hal`.
