//! What Cardholder Verification (Book 3 §10.5, Book 4 §6.3.4) looks at,
//! and the terminal options of the Implementation Conformance Statement
//! that change it.

use crate::contact::transaction::TransactionType;
use crate::data::aip::Aip;
use crate::data::terminal_capabilities::TerminalCapabilities;
use crate::data::terminal_type::TerminalType;

/// The transaction and terminal data the CVM evaluator decides on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CvmContext {
    /// Application Interchange Profile (`82`): byte 1 b5 "cardholder
    /// verification is supported".
    pub aip: Aip,
    /// Terminal Capabilities (`9F33`): byte 2 is the CVM capability.
    pub capabilities: TerminalCapabilities,
    /// Terminal Type (`9F35`): attended or unattended.
    pub terminal_type: TerminalType,
    /// Transaction Type (`9C`).
    pub transaction_type: TransactionType,
    /// Amount, Authorised (`9F02`/`81`) in minor units of the transaction
    /// currency.
    pub amount_authorised: u64,
    /// Amount, Other (`9F03`) in minor units (cashback).
    pub amount_other: u64,
    /// Transaction Currency Code (`5F2A`), n3 BCD.
    pub transaction_currency: [u8; 2],
    /// Application Currency Code (`9F42`) from the card, n3 BCD.
    pub application_currency: Option<[u8; 2]>,
}

/// Terminal options of the EMV Implementation Conformance Statement that
/// change cardholder verification.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CvmOptions {
    /// ICS "Subsequent bypass PIN": once the cardholder bypasses PIN entry,
    /// every later PIN CVM of the same transaction counts as bypassed too,
    /// without asking again.
    pub subsequent_pin_bypass: bool,
    /// ICS "Fail CVM" supported: the terminal counts CVM code `00` as a CVM
    /// it supports (matters for condition `03` only; the CVM itself always
    /// fails).
    pub fail_cvm_supported: bool,
}

impl CvmOptions {
    /// No subsequent bypass; Fail CVM supported.
    pub const DEFAULT: Self = Self {
        subsequent_pin_bypass: false,
        fail_cvm_supported: true,
    };
}

impl Default for CvmOptions {
    fn default() -> Self {
        Self::DEFAULT
    }
}
