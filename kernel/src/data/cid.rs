//! Cryptogram Information Data, tag `9F27` (EMV 4.4 Book 3 §6.5.5.4,
//! Table 15), and the GENERATE AC reference control parameter P1 (Book 3
//! §6.5.5.2, Table 12), which share the cryptogram type coding of b8–b7.
//!
//! CID layout: b8–b7 cryptogram type (`00` AAC, `01` TC, `10` ARQC, `11`
//! RFU); b6–b5 payment-system-specific cryptogram; b4 advice required;
//! b3–b1 reason/advice code (`000` no information, `001` service not allowed,
//! `010` PIN Try Limit exceeded, `011` issuer authentication failed, others
//! RFU).
//!
//! P1 layout: b8–b7 cryptogram type requested (`11` RFU); b5 CDA signature
//! requested; b6 and b4–b1 RFU.

use core::fmt;

use crate::wire::tag::Tag;

/// The type of an Application Cryptogram, coded in b8–b7 of the CID and of
/// GENERATE AC P1. The order AAC < TC < ARQC is the order in which a card may
/// downgrade a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CryptogramType {
    /// `00`: Application Authentication Cryptogram (decline).
    Aac,
    /// `01` (`40`): Transaction Certificate (offline approval).
    Tc,
    /// `10` (`80`): Authorisation Request Cryptogram (go online).
    Arqc,
    /// `11` (`C0`): reserved for future use.
    Rfu,
}

impl CryptogramType {
    /// The bits of a CID or P1 byte that hold the cryptogram type.
    pub const MASK: u8 = 0xC0;

    /// The cryptogram type in b8–b7 of `byte` (other bits ignored).
    #[must_use]
    pub const fn from_byte(byte: u8) -> Self {
        match byte & Self::MASK {
            0x00 => Self::Aac,
            0x40 => Self::Tc,
            0x80 => Self::Arqc,
            _ => Self::Rfu,
        }
    }

    /// The type from a two-bit code `0..=3` (as CVRs carry it in other bit
    /// positions); bits above the lowest two are ignored.
    #[must_use]
    pub const fn from_code(code: u8) -> Self {
        Self::from_byte((code & 0x03) << 6)
    }

    /// The type in b8–b7 position (`00`, `40`, `80`, `C0`).
    #[must_use]
    pub const fn bits(self) -> u8 {
        match self {
            Self::Aac => 0x00,
            Self::Tc => 0x40,
            Self::Arqc => 0x80,
            Self::Rfu => 0xC0,
        }
    }

    /// The abbreviation: "AAC", "TC", "ARQC", "RFU".
    #[must_use]
    pub const fn abbreviation(self) -> &'static str {
        match self {
            Self::Aac => "AAC",
            Self::Tc => "TC",
            Self::Arqc => "ARQC",
            Self::Rfu => "RFU",
        }
    }

    /// The full name, e.g. "Authorisation Request Cryptogram".
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Aac => "Application Authentication Cryptogram",
            Self::Tc => "Transaction Certificate",
            Self::Arqc => "Authorisation Request Cryptogram",
            Self::Rfu => "reserved for future use",
        }
    }
}

impl fmt::Display for CryptogramType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.abbreviation())
    }
}

/// The reason/advice code of the CID (b3–b1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReasonCode {
    /// `000`: no information given.
    NoInformation,
    /// `001`: service not allowed.
    ServiceNotAllowed,
    /// `010`: PIN Try Limit exceeded.
    PinTryLimitExceeded,
    /// `011`: issuer authentication failed.
    IssuerAuthenticationFailed,
    /// `100`–`111`: reserved for future use (the three-bit code).
    Rfu(u8),
}

impl ReasonCode {
    /// The code in b3–b1 of `byte` (other bits ignored).
    #[must_use]
    pub const fn from_byte(byte: u8) -> Self {
        match byte & 0x07 {
            0 => Self::NoInformation,
            1 => Self::ServiceNotAllowed,
            2 => Self::PinTryLimitExceeded,
            3 => Self::IssuerAuthenticationFailed,
            other => Self::Rfu(other),
        }
    }

    /// The three-bit code.
    #[must_use]
    pub const fn code(self) -> u8 {
        match self {
            Self::NoInformation => 0,
            Self::ServiceNotAllowed => 1,
            Self::PinTryLimitExceeded => 2,
            Self::IssuerAuthenticationFailed => 3,
            Self::Rfu(c) => c & 0x07,
        }
    }

    /// Plain-words meaning.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::NoInformation => "no information given",
            Self::ServiceNotAllowed => "service not allowed",
            Self::PinTryLimitExceeded => "PIN Try Limit exceeded",
            Self::IssuerAuthenticationFailed => "issuer authentication failed",
            Self::Rfu(_) => "RFU",
        }
    }
}

/// Cryptogram Information Data (`9F27`), one byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Cid(pub u8);

impl Cid {
    /// The element's tag, `9F27`.
    pub const TAG: Tag = Tag::new(0x9F27);
    /// b4: advice required.
    pub const ADVICE_REQUIRED: u8 = 0x08;
    /// b6–b5: payment-system-specific cryptogram.
    pub const PAYMENT_SYSTEM_MASK: u8 = 0x30;

    /// A CID from its parts; `payment_system` keeps its lowest two bits.
    #[must_use]
    pub const fn new(
        cryptogram: CryptogramType,
        payment_system: u8,
        advice_required: bool,
        reason: ReasonCode,
    ) -> Self {
        let advice = if advice_required {
            Self::ADVICE_REQUIRED
        } else {
            0
        };
        Self(cryptogram.bits() | ((payment_system & 0x03) << 4) | advice | reason.code())
    }

    /// The CID in a one-byte value; `None` for any other length.
    #[must_use]
    pub fn from_bytes(value: &[u8]) -> Option<Self> {
        match value {
            [b] => Some(Self(*b)),
            _ => None,
        }
    }

    /// The encoded byte.
    #[must_use]
    pub const fn to_byte(self) -> u8 {
        self.0
    }

    /// The type of cryptogram returned.
    #[must_use]
    pub const fn cryptogram_type(self) -> CryptogramType {
        CryptogramType::from_byte(self.0)
    }

    /// The payment-system-specific cryptogram bits b6–b5, as `0..=3`.
    #[must_use]
    pub const fn payment_system_bits(self) -> u8 {
        (self.0 & Self::PAYMENT_SYSTEM_MASK) >> 4
    }

    /// b4: the card asks for an advice message.
    #[must_use]
    pub const fn advice_required(self) -> bool {
        self.0 & Self::ADVICE_REQUIRED != 0
    }

    /// b3–b1: the reason/advice code.
    #[must_use]
    pub const fn reason(self) -> ReasonCode {
        ReasonCode::from_byte(self.0)
    }
}

/// GENERATE AC P1, the reference control parameter (Book 3 Table 12).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct GenerateAcP1 {
    /// The cryptogram type requested (never [`CryptogramType::Rfu`] when
    /// decoded by [`GenerateAcP1::from_byte`]).
    pub cryptogram: CryptogramType,
    /// b5: a CDA signature is requested.
    pub cda_requested: bool,
}

impl GenerateAcP1 {
    /// b5: CDA signature requested.
    pub const CDA_REQUESTED: u8 = 0x10;
    /// The bits that are RFU in P1 (b6, b4–b1).
    pub const RFU_MASK: u8 = 0x2F;

    /// A P1 requesting `cryptogram`, with or without a CDA signature.
    #[must_use]
    pub const fn new(cryptogram: CryptogramType, cda_requested: bool) -> Self {
        Self {
            cryptogram,
            cda_requested,
        }
    }

    /// Decodes P1; `None` when the type is `11` (RFU) or an RFU bit is set.
    #[must_use]
    pub const fn from_byte(p1: u8) -> Option<Self> {
        let cryptogram = CryptogramType::from_byte(p1);
        if matches!(cryptogram, CryptogramType::Rfu) || p1 & Self::RFU_MASK != 0 {
            None
        } else {
            Some(Self {
                cryptogram,
                cda_requested: p1 & Self::CDA_REQUESTED != 0,
            })
        }
    }

    /// The encoded P1 byte (`00`, `40`, `80`, `50`, `90`, …).
    #[must_use]
    pub const fn to_byte(self) -> u8 {
        let cda = if self.cda_requested {
            Self::CDA_REQUESTED
        } else {
            0
        };
        self.cryptogram.bits() | cda
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
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn cid_80_arqc() {
        let c = Cid::from_bytes(&[0x80]).unwrap();
        assert_eq!(c.cryptogram_type(), CryptogramType::Arqc);
        assert!(!c.advice_required());
        assert_eq!(c.reason(), ReasonCode::NoInformation);
        assert_eq!(c.payment_system_bits(), 0);
        assert_eq!(
            c.cryptogram_type().name(),
            "Authorisation Request Cryptogram"
        );
    }

    #[test]
    fn cid_40_tc_and_00_aac() {
        assert_eq!(Cid(0x40).cryptogram_type(), CryptogramType::Tc);
        assert_eq!(Cid(0x40).cryptogram_type().abbreviation(), "TC");
        assert_eq!(Cid(0x00).cryptogram_type(), CryptogramType::Aac);
        assert_eq!(Cid(0xC0).cryptogram_type(), CryptogramType::Rfu);
    }

    #[test]
    fn cid_88_arqc_with_advice() {
        let c = Cid(0x88);
        assert_eq!(c.cryptogram_type(), CryptogramType::Arqc);
        assert!(c.advice_required());
        assert_eq!(c.reason(), ReasonCode::NoInformation);
    }

    #[test]
    fn cid_reason_codes() {
        assert_eq!(Cid(0x09).reason(), ReasonCode::ServiceNotAllowed);
        assert_eq!(Cid(0x0A).reason(), ReasonCode::PinTryLimitExceeded);
        assert_eq!(Cid(0x0B).reason(), ReasonCode::IssuerAuthenticationFailed);
        assert_eq!(Cid(0x0C).reason(), ReasonCode::Rfu(4));
        assert_eq!(Cid(0x0A).reason().name(), "PIN Try Limit exceeded");
        assert_eq!(Cid(0x30).payment_system_bits(), 3);
    }

    #[test]
    fn cid_round_trip() {
        let c = Cid::new(
            CryptogramType::Aac,
            1,
            true,
            ReasonCode::PinTryLimitExceeded,
        );
        assert_eq!(c.to_byte(), 0x1A);
        assert_eq!(c.cryptogram_type(), CryptogramType::Aac);
        assert_eq!(c.payment_system_bits(), 1);
        assert!(c.advice_required());
        assert_eq!(c.reason(), ReasonCode::PinTryLimitExceeded);
        assert_eq!(Cid::from_bytes(&[]), None);
        assert_eq!(Cid::from_bytes(&[0x80, 0x00]), None);
    }

    #[test]
    fn cryptogram_order_and_codes() {
        assert!(CryptogramType::Aac < CryptogramType::Tc);
        assert!(CryptogramType::Tc < CryptogramType::Arqc);
        assert_eq!(CryptogramType::from_code(2), CryptogramType::Arqc);
        assert_eq!(CryptogramType::from_code(1), CryptogramType::Tc);
    }

    #[test]
    fn p1_values() {
        assert_eq!(
            GenerateAcP1::from_byte(0x00),
            Some(GenerateAcP1::new(CryptogramType::Aac, false))
        );
        assert_eq!(
            GenerateAcP1::from_byte(0x40),
            Some(GenerateAcP1::new(CryptogramType::Tc, false))
        );
        assert_eq!(
            GenerateAcP1::from_byte(0x90),
            Some(GenerateAcP1::new(CryptogramType::Arqc, true))
        );
        assert_eq!(GenerateAcP1::new(CryptogramType::Tc, true).to_byte(), 0x50);
        assert_eq!(
            GenerateAcP1::new(CryptogramType::Arqc, false).to_byte(),
            0x80
        );
        assert_eq!(GenerateAcP1::from_byte(0xC0), None);
        assert_eq!(GenerateAcP1::from_byte(0x41), None);
        assert_eq!(GenerateAcP1::from_byte(0x20), None);
    }

    proptest! {
        #[test]
        fn cid_any_byte(b in any::<u8>()) {
            let c = Cid(b);
            let rebuilt = Cid::new(c.cryptogram_type(), c.payment_system_bits(), c.advice_required(), c.reason());
            prop_assert_eq!(rebuilt, c);
        }

        #[test]
        fn p1_any_byte(b in any::<u8>()) {
            if let Some(p1) = GenerateAcP1::from_byte(b) {
                prop_assert_eq!(p1.to_byte(), b);
            }
        }
    }
}
