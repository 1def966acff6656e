//! Cardholder Verification Method List, tag `8E` (EMV 4.4 Book 3 §10.5 and
//! Annex C3, Tables 43–44), and CVM Results, tag `9F34` (EMV 4.4 Book 4
//! Annex A4, Table 33).
//!
//! CVM List value: amount X (4 bytes, binary, big endian), amount Y (4),
//! then CV Rules of 2 bytes each. CV Rule byte 1: b8 RFU, b7 "apply
//! succeeding CV Rule if this CVM is unsuccessful", b6–b1 CVM code. Byte 2:
//! the condition code.
//!
//! CVM Results: byte 1 the CVM performed (`3F` when none was), byte 2 its
//! condition code, byte 3 the result (`00` unknown, `01` failed, `02`
//! successful). Byte 1 keeps the CV Rule's b7 as the terminal copied it
//! (e.g. `42`).

use core::fmt;
use core::iter::FusedIterator;
use core::slice::ChunksExact;

use crate::wire::tag::Tag;

/// A biometric modality of the EMV 4.4 biometric CVMs (codes `06`–`0F`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BiometricModality {
    /// Facial (`06` offline, `07` online).
    Facial,
    /// Finger (`08`, `09`).
    Finger,
    /// Palm (`0A`, `0B`).
    Palm,
    /// Iris (`0C`, `0D`).
    Iris,
    /// Voice (`0E`, `0F`).
    Voice,
}

impl BiometricModality {
    const fn index(self) -> u8 {
        match self {
            Self::Facial => 0,
            Self::Finger => 1,
            Self::Palm => 2,
            Self::Iris => 3,
            Self::Voice => 4,
        }
    }
}

/// The method of a CV Rule or of CVM Results byte 1 (b6–b1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CvmMethod {
    /// `00`: fail CVM processing.
    FailCvm,
    /// `01`: plaintext PIN verification performed by ICC.
    PlaintextPinByIcc,
    /// `02`: enciphered PIN verified online.
    EncipheredPinOnline,
    /// `03`: plaintext PIN verification performed by ICC and signature.
    PlaintextPinByIccAndSignature,
    /// `04`: enciphered PIN verification performed by ICC.
    EncipheredPinByIcc,
    /// `05`: enciphered PIN verification performed by ICC and signature.
    EncipheredPinByIccAndSignature,
    /// `06`–`0F` (EMV 4.4): biometric, verified offline by the ICC (even
    /// codes) or online (odd codes).
    Biometric {
        /// Which biometric.
        modality: BiometricModality,
        /// Verified online rather than by the ICC.
        online: bool,
    },
    /// `1E`: signature (paper).
    Signature,
    /// `1F`: no CVM required.
    NoCvmRequired,
    /// `3F`: no CVM performed. Valid only in CVM Results.
    NoCvmPerformed,
    /// `20`–`2F`: values assigned by the individual payment systems (the
    /// six-bit code).
    PaymentSystem(u8),
    /// `30`–`3E`: values assigned by the issuer (the six-bit code).
    Issuer(u8),
    /// Any other code: reserved for future use (the six-bit code).
    Rfu(u8),
}

impl CvmMethod {
    /// The bits of CV Rule byte 1 that hold the method.
    pub const MASK: u8 = 0x3F;

    /// The method in b6–b1 of `byte` (b8–b7 ignored).
    #[must_use]
    pub const fn from_code(byte: u8) -> Self {
        let code = byte & Self::MASK;
        match code {
            0x00 => Self::FailCvm,
            0x01 => Self::PlaintextPinByIcc,
            0x02 => Self::EncipheredPinOnline,
            0x03 => Self::PlaintextPinByIccAndSignature,
            0x04 => Self::EncipheredPinByIcc,
            0x05 => Self::EncipheredPinByIccAndSignature,
            0x06..=0x0F => {
                let modality = match (code - 0x06) / 2 {
                    0 => BiometricModality::Facial,
                    1 => BiometricModality::Finger,
                    2 => BiometricModality::Palm,
                    3 => BiometricModality::Iris,
                    _ => BiometricModality::Voice,
                };
                Self::Biometric {
                    modality,
                    online: code & 1 == 1,
                }
            }
            0x1E => Self::Signature,
            0x1F => Self::NoCvmRequired,
            0x3F => Self::NoCvmPerformed,
            0x20..=0x2F => Self::PaymentSystem(code),
            0x30..=0x3E => Self::Issuer(code),
            _ => Self::Rfu(code),
        }
    }

    /// The six-bit code.
    #[must_use]
    pub const fn code(self) -> u8 {
        match self {
            Self::FailCvm => 0x00,
            Self::PlaintextPinByIcc => 0x01,
            Self::EncipheredPinOnline => 0x02,
            Self::PlaintextPinByIccAndSignature => 0x03,
            Self::EncipheredPinByIcc => 0x04,
            Self::EncipheredPinByIccAndSignature => 0x05,
            Self::Biometric { modality, online } => 0x06 + modality.index() * 2 + online as u8,
            Self::Signature => 0x1E,
            Self::NoCvmRequired => 0x1F,
            Self::NoCvmPerformed => 0x3F,
            Self::PaymentSystem(c) | Self::Issuer(c) | Self::Rfu(c) => c & Self::MASK,
        }
    }

    /// The method's name as the book gives it; a generic name for the
    /// payment-system, issuer and RFU ranges (see the `Display` impl for one
    /// that carries the code).
    #[must_use]
    pub const fn name(self) -> &'static str {
        use BiometricModality as B;
        match self {
            Self::FailCvm => "Fail CVM processing",
            Self::PlaintextPinByIcc => "Plaintext PIN verification performed by ICC",
            Self::EncipheredPinOnline => "Enciphered PIN verified online",
            Self::PlaintextPinByIccAndSignature => {
                "Plaintext PIN verification performed by ICC and signature (paper)"
            }
            Self::EncipheredPinByIcc => "Enciphered PIN verification performed by ICC",
            Self::EncipheredPinByIccAndSignature => {
                "Enciphered PIN verification performed by ICC and signature (paper)"
            }
            Self::Biometric { modality, online } => match (modality, online) {
                (B::Facial, false) => "Facial biometric verified offline (by ICC)",
                (B::Facial, true) => "Facial biometric verified online",
                (B::Finger, false) => "Finger biometric verified offline (by ICC)",
                (B::Finger, true) => "Finger biometric verified online",
                (B::Palm, false) => "Palm biometric verified offline (by ICC)",
                (B::Palm, true) => "Palm biometric verified online",
                (B::Iris, false) => "Iris biometric verified offline (by ICC)",
                (B::Iris, true) => "Iris biometric verified online",
                (B::Voice, false) => "Voice biometric verified offline (by ICC)",
                (B::Voice, true) => "Voice biometric verified online",
            },
            Self::Signature => "Signature (paper)",
            Self::NoCvmRequired => "No CVM required",
            Self::NoCvmPerformed => "No CVM performed",
            Self::PaymentSystem(_) => "Payment system-specific CVM",
            Self::Issuer(_) => "Issuer-specific CVM",
            Self::Rfu(_) => "RFU CVM",
        }
    }

    /// True for the methods that verify a PIN offline (by the ICC).
    #[must_use]
    pub const fn is_offline_pin(self) -> bool {
        matches!(
            self,
            Self::PlaintextPinByIcc
                | Self::PlaintextPinByIccAndSignature
                | Self::EncipheredPinByIcc
                | Self::EncipheredPinByIccAndSignature
        )
    }

    /// True for the methods that need a paper signature.
    #[must_use]
    pub const fn needs_signature(self) -> bool {
        matches!(
            self,
            Self::PlaintextPinByIccAndSignature
                | Self::EncipheredPinByIccAndSignature
                | Self::Signature
        )
    }
}

impl fmt::Display for CvmMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::PaymentSystem(c) | Self::Issuer(c) | Self::Rfu(c) => {
                write!(f, "{} {:02X}", self.name(), c)
            }
            _ => f.write_str(self.name()),
        }
    }
}

/// The condition of a CV Rule (byte 2; Book 3 Annex C3 Table 44).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CvmCondition {
    /// `00`: always.
    Always,
    /// `01`: if unattended cash.
    UnattendedCash,
    /// `02`: if not unattended cash and not manual cash and not purchase
    /// with cashback.
    NotCashNorCashback,
    /// `03`: if terminal supports the CVM.
    TerminalSupportsCvm,
    /// `04`: if manual cash.
    ManualCash,
    /// `05`: if purchase with cashback.
    PurchaseWithCashback,
    /// `06`: if transaction is in the application currency and is under X.
    UnderX,
    /// `07`: if transaction is in the application currency and is over X.
    OverX,
    /// `08`: if transaction is in the application currency and is under Y.
    UnderY,
    /// `09`: if transaction is in the application currency and is over Y.
    OverY,
    /// `0A`–`7F`: reserved for future use.
    Rfu(u8),
    /// `80`–`FF`: reserved for use by individual payment systems.
    PaymentSystem(u8),
}

impl CvmCondition {
    /// The condition for code `code`.
    #[must_use]
    pub const fn from_code(code: u8) -> Self {
        match code {
            0x00 => Self::Always,
            0x01 => Self::UnattendedCash,
            0x02 => Self::NotCashNorCashback,
            0x03 => Self::TerminalSupportsCvm,
            0x04 => Self::ManualCash,
            0x05 => Self::PurchaseWithCashback,
            0x06 => Self::UnderX,
            0x07 => Self::OverX,
            0x08 => Self::UnderY,
            0x09 => Self::OverY,
            0x0A..=0x7F => Self::Rfu(code),
            _ => Self::PaymentSystem(code),
        }
    }

    /// The condition code.
    #[must_use]
    pub const fn code(self) -> u8 {
        match self {
            Self::Always => 0x00,
            Self::UnattendedCash => 0x01,
            Self::NotCashNorCashback => 0x02,
            Self::TerminalSupportsCvm => 0x03,
            Self::ManualCash => 0x04,
            Self::PurchaseWithCashback => 0x05,
            Self::UnderX => 0x06,
            Self::OverX => 0x07,
            Self::UnderY => 0x08,
            Self::OverY => 0x09,
            Self::Rfu(c) | Self::PaymentSystem(c) => c,
        }
    }

    /// The condition in words, starting with "always" or "if".
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Always => "always",
            Self::UnattendedCash => "if unattended cash",
            Self::NotCashNorCashback => {
                "if not unattended cash and not manual cash and not purchase with cashback"
            }
            Self::TerminalSupportsCvm => "if terminal supports the CVM",
            Self::ManualCash => "if manual cash",
            Self::PurchaseWithCashback => "if purchase with cashback",
            Self::UnderX => "if transaction is in the application currency and is under X",
            Self::OverX => "if transaction is in the application currency and is over X",
            Self::UnderY => "if transaction is in the application currency and is under Y",
            Self::OverY => "if transaction is in the application currency and is over Y",
            Self::Rfu(_) => "RFU condition",
            Self::PaymentSystem(_) => "payment system-specific condition",
        }
    }

    /// True for the conditions that compare the amount with X or Y.
    #[must_use]
    pub const fn uses_amount(self) -> bool {
        matches!(
            self,
            Self::UnderX | Self::OverX | Self::UnderY | Self::OverY
        )
    }
}

impl fmt::Display for CvmCondition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Rfu(c) | Self::PaymentSystem(c) => write!(f, "{} {:02X}", self.name(), c),
            _ => f.write_str(self.name()),
        }
    }
}

/// One Cardholder Verification Rule (2 bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CvRule {
    /// The CVM (byte 1 b6–b1).
    pub method: CvmMethod,
    /// Byte 1 b7: apply the succeeding CV Rule if this CVM is unsuccessful
    /// (otherwise cardholder verification fails).
    pub apply_next_if_unsuccessful: bool,
    /// When the rule applies (byte 2).
    pub condition: CvmCondition,
}

impl CvRule {
    /// Byte 1 b7: apply succeeding CV Rule if this CVM is unsuccessful.
    pub const APPLY_NEXT: u8 = 0x40;

    /// Decodes a rule. Byte 1 b8 is RFU and ignored.
    #[must_use]
    pub const fn from_bytes(bytes: [u8; 2]) -> Self {
        let [b1, b2] = bytes;
        Self {
            method: CvmMethod::from_code(b1),
            apply_next_if_unsuccessful: b1 & Self::APPLY_NEXT != 0,
            condition: CvmCondition::from_code(b2),
        }
    }

    /// Encodes the rule (byte 1 b8 zero).
    #[must_use]
    pub const fn to_bytes(self) -> [u8; 2] {
        let next = if self.apply_next_if_unsuccessful {
            Self::APPLY_NEXT
        } else {
            0
        };
        [self.method.code() | next, self.condition.code()]
    }
}

/// Why a CVM List value was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CvmListError {
    /// Fewer than 8 bytes: amounts X and Y are incomplete.
    TooShort {
        /// The length received.
        len: usize,
    },
    /// The CV Rules part is not a whole number of 2-byte rules (the value
    /// length is odd).
    OddLength {
        /// The length received.
        len: usize,
    },
    /// Longer than the 252 bytes the data dictionary allows.
    TooLong {
        /// The length received.
        len: usize,
    },
}

impl fmt::Display for CvmListError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::TooShort { len } => {
                write!(f, "CVM List too short: {len} bytes, amounts X and Y need 8")
            }
            Self::OddLength { len } => {
                write!(f, "CVM List length {len} is odd: CV Rules are 2 bytes each")
            }
            Self::TooLong { len } => {
                write!(
                    f,
                    "CVM List too long: {len} bytes, at most {}",
                    CvmList::MAX_LEN
                )
            }
        }
    }
}

impl core::error::Error for CvmListError {}

/// A CVM List (`8E`) value, borrowed and checked for structure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CvmList<'a> {
    amounts: [u8; 8],
    rules: &'a [u8],
}

impl<'a> CvmList<'a> {
    /// The element's tag, `8E`.
    pub const TAG: Tag = Tag::new(0x8E);
    /// Longest value allowed (Book 3 Annex A: var. up to 252).
    pub const MAX_LEN: usize = 252;

    /// Checks the structure of `value`: at least the 8 amount bytes, a whole
    /// number of 2-byte rules, at most 252 bytes. A list with the amounts
    /// but no rule is accepted (and [`CvmList::is_empty`]); the kernel treats
    /// it like an absent list.
    pub fn parse(value: &'a [u8]) -> Result<Self, CvmListError> {
        let len = value.len();
        let (Some(amounts), Some(rules)) = (value.first_chunk::<8>(), value.get(8..)) else {
            return Err(CvmListError::TooShort { len });
        };
        if len > Self::MAX_LEN {
            return Err(CvmListError::TooLong { len });
        }
        if !len.is_multiple_of(2) {
            return Err(CvmListError::OddLength { len });
        }
        Ok(Self {
            amounts: *amounts,
            rules,
        })
    }

    /// Amount X, in the application currency's minor units.
    #[must_use]
    pub fn amount_x(&self) -> u32 {
        let [a, b, c, d, ..] = self.amounts;
        u32::from_be_bytes([a, b, c, d])
    }

    /// Amount Y, in the application currency's minor units.
    #[must_use]
    pub fn amount_y(&self) -> u32 {
        let [.., a, b, c, d] = self.amounts;
        u32::from_be_bytes([a, b, c, d])
    }

    /// The CV Rules, in list order.
    #[must_use]
    pub fn rules(&self) -> CvRules<'a> {
        CvRules {
            inner: self.rules.chunks_exact(2),
        }
    }

    /// Number of CV Rules.
    #[must_use]
    pub fn len(&self) -> usize {
        self.rules.len() / 2
    }

    /// True when the list holds no CV Rule.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The raw CV Rule bytes (after X and Y).
    #[must_use]
    pub fn rule_bytes(&self) -> &'a [u8] {
        self.rules
    }
}

/// Iterator over the CV Rules of a [`CvmList`].
#[derive(Clone, Debug)]
pub struct CvRules<'a> {
    inner: ChunksExact<'a, u8>,
}

impl Iterator for CvRules<'_> {
    type Item = CvRule;

    fn next(&mut self) -> Option<CvRule> {
        self.inner
            .next()
            .and_then(|c| <[u8; 2]>::try_from(c).ok())
            .map(CvRule::from_bytes)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl ExactSizeIterator for CvRules<'_> {}
impl FusedIterator for CvRules<'_> {}

/// The result of the CVM performed (CVM Results byte 3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CvmResult {
    /// `00`: unknown (e.g. signature, online PIN).
    Unknown,
    /// `01`: failed.
    Failed,
    /// `02`: successful.
    Successful,
    /// Any other value.
    Rfu(u8),
}

impl CvmResult {
    /// The result for byte `b`.
    #[must_use]
    pub const fn from_byte(b: u8) -> Self {
        match b {
            0 => Self::Unknown,
            1 => Self::Failed,
            2 => Self::Successful,
            other => Self::Rfu(other),
        }
    }

    /// The encoded byte.
    #[must_use]
    pub const fn to_byte(self) -> u8 {
        match self {
            Self::Unknown => 0,
            Self::Failed => 1,
            Self::Successful => 2,
            Self::Rfu(b) => b,
        }
    }

    /// The result in words.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Unknown => "unknown",
            Self::Failed => "failed",
            Self::Successful => "successful",
            Self::Rfu(_) => "RFU",
        }
    }
}

/// Cardholder Verification Method Results (`9F34`), 3 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct CvmResults(pub [u8; 3]);

impl CvmResults {
    /// The element's tag, `9F34`.
    pub const TAG: Tag = Tag::new(0x9F34);
    /// Value length in bytes.
    pub const LEN: usize = 3;

    /// Results from raw parts: byte 1 as given (CVM code, b7 kept), the
    /// condition code, the result.
    #[must_use]
    pub const fn new(method_byte: u8, condition: u8, result: CvmResult) -> Self {
        Self([method_byte, condition, result.to_byte()])
    }

    /// Results for rule `rule` performed with `result`; byte 1 is the rule's
    /// byte 1 (b7 included, as terminals copy it).
    #[must_use]
    pub const fn from_rule(rule: CvRule, result: CvmResult) -> Self {
        let [b1, b2] = rule.to_bytes();
        Self([b1, b2, result.to_byte()])
    }

    /// Results when no CVM was performed: `3F 00 <result>` (`3F0000` when
    /// the card does not support cardholder verification or has no CVM
    /// List, `3F0001` when every rule failed).
    #[must_use]
    pub const fn no_cvm_performed(result: CvmResult) -> Self {
        Self([CvmMethod::NoCvmPerformed.code(), 0x00, result.to_byte()])
    }

    /// The results in a 3-byte value; `None` for any other length.
    #[must_use]
    pub fn from_bytes(value: &[u8]) -> Option<Self> {
        <[u8; 3]>::try_from(value).ok().map(Self)
    }

    /// The encoded value.
    #[must_use]
    pub const fn to_bytes(self) -> [u8; 3] {
        self.0
    }

    /// Byte 1 as stored.
    #[must_use]
    pub const fn method_byte(&self) -> u8 {
        self.0[0]
    }

    /// The CVM performed (byte 1 b6–b1).
    #[must_use]
    pub const fn method(&self) -> CvmMethod {
        CvmMethod::from_code(self.0[0])
    }

    /// Byte 1 b7, copied from the CV Rule.
    #[must_use]
    pub const fn apply_next_if_unsuccessful(&self) -> bool {
        self.0[0] & CvRule::APPLY_NEXT != 0
    }

    /// The condition of the rule performed (byte 2).
    #[must_use]
    pub const fn condition(&self) -> CvmCondition {
        CvmCondition::from_code(self.0[1])
    }

    /// The result (byte 3).
    #[must_use]
    pub const fn result(&self) -> CvmResult {
        CvmResult::from_byte(self.0[2])
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
mod tests {
    extern crate std;

    use std::format;
    use std::vec::Vec;

    use super::*;
    use proptest::prelude::*;

    fn hex(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    #[test]
    fn list_online_pin_signature_no_cvm() {
        let v = hex("000000000000000042031E031F03");
        let l = CvmList::parse(&v).unwrap();
        assert_eq!(l.amount_x(), 0);
        assert_eq!(l.amount_y(), 0);
        assert_eq!(l.len(), 3);
        let rules: Vec<CvRule> = l.rules().collect();
        assert_eq!(
            rules,
            [
                CvRule {
                    method: CvmMethod::EncipheredPinOnline,
                    apply_next_if_unsuccessful: true,
                    condition: CvmCondition::TerminalSupportsCvm
                },
                CvRule {
                    method: CvmMethod::Signature,
                    apply_next_if_unsuccessful: false,
                    condition: CvmCondition::TerminalSupportsCvm
                },
                CvRule {
                    method: CvmMethod::NoCvmRequired,
                    apply_next_if_unsuccessful: false,
                    condition: CvmCondition::TerminalSupportsCvm
                },
            ]
        );
        assert_eq!(rules[0].method.name(), "Enciphered PIN verified online");
    }

    #[test]
    fn list_five_rules() {
        let v = hex("00000000000000000203420341031E031F00");
        let l = CvmList::parse(&v).unwrap();
        let got: Vec<(u8, bool, u8)> = l
            .rules()
            .map(|r| {
                (
                    r.method.code(),
                    r.apply_next_if_unsuccessful,
                    r.condition.code(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (0x02, false, 0x03),
                (0x02, true, 0x03),
                (0x01, true, 0x03),
                (0x1E, false, 0x03),
                (0x1F, false, 0x00),
            ]
        );
        let methods: Vec<CvmMethod> = l.rules().map(|r| r.method).collect();
        assert_eq!(methods[2], CvmMethod::PlaintextPinByIcc);
        assert_eq!(
            l.rules().last().map(|r| r.condition),
            Some(CvmCondition::Always)
        );
        // Encoding back gives the same bytes.
        let re: Vec<u8> = l.rules().flat_map(CvRule::to_bytes).collect();
        assert_eq!(re, l.rule_bytes());
    }

    #[test]
    fn amounts_are_big_endian() {
        let v = hex("000186A0000003E81E03");
        let l = CvmList::parse(&v).unwrap();
        assert_eq!(l.amount_x(), 100_000);
        assert_eq!(l.amount_y(), 1000);
    }

    #[test]
    fn structural_errors() {
        assert_eq!(
            CvmList::parse(&[0; 7]),
            Err(CvmListError::TooShort { len: 7 })
        );
        assert_eq!(CvmList::parse(&[]), Err(CvmListError::TooShort { len: 0 }));
        assert_eq!(
            CvmList::parse(&hex("000186A0000003E81E0342")),
            Err(CvmListError::OddLength { len: 11 })
        );
        assert_eq!(
            CvmList::parse(&[0; 254]),
            Err(CvmListError::TooLong { len: 254 })
        );
        let empty = CvmList::parse(&[0; 8]).unwrap();
        assert!(empty.is_empty());
        assert_eq!(empty.rules().count(), 0);
        assert!(CvmList::parse(&[0; 252]).is_ok());
        assert_eq!(
            format!("{}", CvmListError::OddLength { len: 11 }),
            "CVM List length 11 is odd: CV Rules are 2 bytes each"
        );
    }

    #[test]
    fn method_codes() {
        assert_eq!(
            CvmMethod::from_code(0x06),
            CvmMethod::Biometric {
                modality: BiometricModality::Facial,
                online: false
            }
        );
        assert_eq!(
            CvmMethod::from_code(0x0B),
            CvmMethod::Biometric {
                modality: BiometricModality::Palm,
                online: true
            }
        );
        assert_eq!(
            CvmMethod::from_code(0x0F).name(),
            "Voice biometric verified online"
        );
        assert_eq!(CvmMethod::from_code(0x25), CvmMethod::PaymentSystem(0x25));
        assert_eq!(CvmMethod::from_code(0x3E), CvmMethod::Issuer(0x3E));
        assert_eq!(CvmMethod::from_code(0x10), CvmMethod::Rfu(0x10));
        assert_eq!(CvmMethod::from_code(0x5E), CvmMethod::Signature);
        assert_eq!(CvmMethod::from_code(0x3F), CvmMethod::NoCvmPerformed);
        assert_eq!(
            format!("{}", CvmMethod::Issuer(0x31)),
            "Issuer-specific CVM 31"
        );
        assert!(CvmMethod::EncipheredPinByIcc.is_offline_pin());
        assert!(!CvmMethod::EncipheredPinOnline.is_offline_pin());
        assert!(CvmMethod::PlaintextPinByIccAndSignature.needs_signature());
        for code in 0..=0x3F {
            assert_eq!(CvmMethod::from_code(code).code(), code);
        }
    }

    #[test]
    fn condition_codes() {
        for code in 0..=u8::MAX {
            assert_eq!(CvmCondition::from_code(code).code(), code);
        }
        assert_eq!(CvmCondition::from_code(0x0A), CvmCondition::Rfu(0x0A));
        assert_eq!(
            CvmCondition::from_code(0x80),
            CvmCondition::PaymentSystem(0x80)
        );
        assert_eq!(
            CvmCondition::from_code(0x03).name(),
            "if terminal supports the CVM"
        );
        assert!(CvmCondition::OverY.uses_amount());
        assert!(!CvmCondition::Always.uses_amount());
    }

    #[test]
    fn rule_round_trip_and_b8() {
        let r = CvRule::from_bytes([0x42, 0x03]);
        assert_eq!(r.to_bytes(), [0x42, 0x03]);
        // b8 is RFU: dropped on encoding.
        let r8 = CvRule::from_bytes([0x9E, 0x00]);
        assert_eq!(r8.method, CvmMethod::Signature);
        assert_eq!(r8.to_bytes(), [0x1E, 0x00]);
    }

    #[test]
    fn results_no_cvm_required_successful() {
        let r = CvmResults::from_bytes(&hex("1F0302")).unwrap();
        assert_eq!(r.method(), CvmMethod::NoCvmRequired);
        assert!(!r.apply_next_if_unsuccessful());
        assert_eq!(r.condition(), CvmCondition::TerminalSupportsCvm);
        assert_eq!(r.result(), CvmResult::Successful);
    }

    #[test]
    fn results_online_pin_unknown() {
        let r = CvmResults::from_bytes(&hex("420300")).unwrap();
        assert_eq!(r.method(), CvmMethod::EncipheredPinOnline);
        assert_eq!(r.method_byte(), 0x42);
        assert!(r.apply_next_if_unsuccessful());
        assert_eq!(r.condition(), CvmCondition::TerminalSupportsCvm);
        assert_eq!(r.result(), CvmResult::Unknown);
        let rule = CvRule::from_bytes([0x42, 0x03]);
        assert_eq!(CvmResults::from_rule(rule, CvmResult::Unknown), r);
    }

    #[test]
    fn results_constructors() {
        assert_eq!(
            CvmResults::no_cvm_performed(CvmResult::Unknown).0,
            [0x3F, 0x00, 0x00]
        );
        assert_eq!(
            CvmResults::no_cvm_performed(CvmResult::Failed).0,
            [0x3F, 0x00, 0x01]
        );
        assert_eq!(
            CvmResults::new(0x41, 0x03, CvmResult::Successful).0,
            [0x41, 0x03, 0x02]
        );
        assert_eq!(CvmResults::from_bytes(&[0x1F, 0x03]), None);
        assert_eq!(CvmResult::from_byte(7), CvmResult::Rfu(7));
    }

    proptest! {
        #[test]
        fn list_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            match CvmList::parse(&bytes) {
                Ok(l) => {
                    prop_assert!(bytes.len() >= 8 && bytes.len() <= 252 && bytes.len() % 2 == 0);
                    prop_assert_eq!(l.rules().count(), (bytes.len() - 8) / 2);
                    for (r, raw) in l.rules().zip(l.rule_bytes().chunks(2)) {
                        // Round trip up to the RFU bit b8.
                        prop_assert_eq!(r.to_bytes()[0], raw[0] & 0x7F);
                        prop_assert_eq!(r.to_bytes()[1], raw[1]);
                    }
                }
                Err(_) => prop_assert!(bytes.len() < 8 || bytes.len() > 252 || bytes.len() % 2 == 1),
            }
        }

        #[test]
        fn results_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..5)) {
            if let Some(r) = CvmResults::from_bytes(&bytes) {
                prop_assert_eq!(r.method().code(), bytes[0] & 0x3F);
                prop_assert_eq!(r.condition().code(), bytes[1]);
                prop_assert_eq!(r.result().to_byte(), bytes[2]);
            }
        }
    }
}
