//! Issuer Application Data, tag `9F10` (EMV 4.4 Book 3 Annex A; the Common
//! Core Definitions format of Book 3 Annex C9; the scheme formats of Visa
//! VIS 1.5 / VCPS and Mastercard M/Chip 4 / M/Chip Advance).
//!
//! The IAD is proprietary to the card application; the terminal only passes
//! it on. This module recognises the common layouts so traces can show the
//! cryptogram version number (CVN), derivation key index (DKI) and Card
//! Verification Results (CVR):
//!
//! | Format | Length | Layout |
//! |---|---|---|
//! | CCD (C9) | 32 | `0F` ‖ CCI ‖ DKI ‖ CVR(5) ‖ counters(8) ‖ `0F` ‖ issuer data(15) |
//! | Visa format 0/1/3 | ≥ 7 | `06` ‖ DKI ‖ CVN ‖ `03` CVR(3) ‖ [IDD length ‖ IDD] |
//! | Visa format 2/4 | 32 | `1F` ‖ CVN ‖ DKI ‖ CVR(5) ‖ IDD option ID ‖ IDD |
//! | M/Chip 4 / Advance | 18, 20, 26, 28 | DKI ‖ CVN ‖ CVR(6) ‖ DAC/IDN(2) ‖ counters … |
//!
//! The Visa format is the high nibble of its CVN (`0A` = CVN 10 is format 0,
//! `12` = CVN 18 format 1, `22` format 2). The M/Chip CVN has the high nibble
//! `1`, b4 RFU, b3–b2 the session key (`00` Mastercard SKD, `10` EMV CSK) and
//! b1 "counters included in the AC data".
//!
//! Detection order: CCD, then Visa format 0/1/3 (its `06`…`03` signature is
//! the most specific), then M/Chip, then Visa format 2/4. An IAD matching
//! none is [`IadFormat::Unknown`].
//!
//! Confidence: the Visa format 0/1/3 CVR (VIS 1.5) and the M/Chip CVR bits
//! confirmed by two public sources are unmarked. Bits from a single
//! unverified public source, the whole Visa format 2/4 CVR and the M/Chip
//! Advance-only bits are marked **\[M\]** on their constants and shown with an
//! `[M]` suffix by the `explain` module.

use crate::data::bits::{BitView, Field, bit_view};
use crate::data::cid::CryptogramType;
use crate::wire::tag::Tag;

/// A recognised Issuer Application Data layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IadFormat {
    /// EMV Common Core Definitions, CCD 4.1 (Book 3 Annex C9).
    Ccd,
    /// Mastercard M/Chip 4 (18 bytes; M/Chip Advance may use 18 too).
    MChip4,
    /// Mastercard M/Chip Advance (20, 26 or 28 bytes).
    MChipAdvance,
    /// Visa VSDC IAD format 0 (e.g. CVN 10).
    Visa0,
    /// Visa VSDC IAD format 1 (e.g. CVN 17, 18).
    Visa1,
    /// Visa VSDC IAD format 2 (32 bytes, e.g. CVN 22).
    Visa2,
    /// Visa VSDC IAD format 3.
    Visa3,
    /// Visa VSDC IAD format 4 (32 bytes).
    Visa4,
    /// No known layout matches.
    Unknown,
}

impl IadFormat {
    /// Plain-words name.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Ccd => "EMV Common Core Definitions (CCD 4.1)",
            Self::MChip4 => "Mastercard M/Chip 4",
            Self::MChipAdvance => "Mastercard M/Chip Advance",
            Self::Visa0 => "Visa VSDC IAD format 0",
            Self::Visa1 => "Visa VSDC IAD format 1",
            Self::Visa2 => "Visa VSDC IAD format 2",
            Self::Visa3 => "Visa VSDC IAD format 3",
            Self::Visa4 => "Visa VSDC IAD format 4",
            Self::Unknown => "unknown",
        }
    }

    /// True for the Visa formats.
    #[must_use]
    pub const fn is_visa(self) -> bool {
        matches!(
            self,
            Self::Visa0 | Self::Visa1 | Self::Visa2 | Self::Visa3 | Self::Visa4
        )
    }

    /// True for the Mastercard formats.
    #[must_use]
    pub const fn is_mastercard(self) -> bool {
        matches!(self, Self::MChip4 | Self::MChipAdvance)
    }
}

/// What a CVR says about the second GENERATE AC (b8–b7 of the CVR byte
/// holding the cryptogram types).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SecondAcType {
    /// `00`: AAC returned.
    Aac,
    /// `01`: TC returned.
    Tc,
    /// `10`: second GENERATE AC not requested.
    NotRequested,
    /// `11`: RFU.
    Rfu,
}

impl SecondAcType {
    /// The meaning of two-bit code `code` (higher bits ignored).
    #[must_use]
    pub const fn from_code(code: u8) -> Self {
        match code & 0x03 {
            0 => Self::Aac,
            1 => Self::Tc,
            2 => Self::NotRequested,
            _ => Self::Rfu,
        }
    }

    /// Plain-words meaning.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Aac => "AAC",
            Self::Tc => "TC",
            Self::NotRequested => "not requested",
            Self::Rfu => "RFU",
        }
    }
}

/// The M/Chip session key derivation named by the CVN (b3–b2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MChipSessionKey {
    /// `00`: Mastercard proprietary SKD.
    MastercardSkd,
    /// `10`: EMV Common Session Key.
    EmvCsk,
}

bit_view! {
    /// Visa Card Verification Results of IAD format 0/1/3 (VIS 1.5): four
    /// bytes numbered as Visa numbers them, byte 1 being the CVR length
    /// (`03`).
    pub struct VisaCvr([u8; 4]);
    tag: None;
    name: "Visa Card Verification Results";
    flags {
        ISSUER_AUTHENTICATION_FAILED = (2, 0x08, "Issuer authentication performed and failed");
        OFFLINE_PIN_PERFORMED = (2, 0x04, "Offline PIN verification performed");
        OFFLINE_PIN_FAILED = (2, 0x02, "Offline PIN verification failed");
        UNABLE_TO_GO_ONLINE = (2, 0x01, "Unable to go online");

        LAST_ONLINE_NOT_COMPLETED = (3, 0x80, "Last online transaction not completed");
        PIN_TRY_LIMIT_EXCEEDED = (3, 0x40, "PIN Try Limit exceeded");
        VELOCITY_EXCEEDED = (3, 0x20, "Exceeded velocity checking counters");
        NEW_CARD = (3, 0x10, "New card");
        LAST_ISSUER_AUTHENTICATION_FAILED =
            (3, 0x08, "Issuer authentication failure on last online transaction");
        ISSUER_AUTHENTICATION_NOT_PERFORMED =
            (3, 0x04, "Issuer authentication not performed after online authorisation");
        BLOCKED_BY_PIN_TRY_LIMIT =
            (3, 0x02, "Application blocked by card because PIN Try Limit exceeded");
        LAST_SDA_FAILED = (3, 0x01,
            "Offline static data authentication failed on last transaction and transaction declined offline");

        ISSUER_SCRIPT_FAILED = (4, 0x08, "Issuer script processing failed");
        LAST_DDA_FAILED = (4, 0x04,
            "Offline dynamic data authentication failed on last transaction and transaction declined offline");
        DDA_PERFORMED = (4, 0x02, "Offline dynamic data authentication performed");
        /// RFU in VIS 1.5 as consulted; one unverified public source names it.
        PIN_VERIFY_NOT_RECEIVED =
            (4, 0x01, "PIN verification command not received for a PIN-expecting card") [M];
    }
    fields {
        LENGTH = (1, 0xFF, "CVR length");
        SECOND_GENERATE_AC = (2, 0xC0, "Cryptogram type returned in second GENERATE AC");
        FIRST_GENERATE_AC = (2, 0x30, "Cryptogram type returned in first GENERATE AC");
        ISSUER_SCRIPT_COMMANDS = (4, 0xF0, "Number of issuer script commands processed");
    }
}

/// What every CVR layout has: the cryptogram types returned by the first
/// and the second GENERATE AC, coded AAC `00`, TC `01`, ARQC `10` (second:
/// `10` = not requested).
pub trait CvrView: BitView {
    /// The field holding the first GENERATE AC's cryptogram type.
    const FIRST_AC: Field<Self>;
    /// The field holding the second GENERATE AC's cryptogram type.
    const SECOND_AC: Field<Self>;

    /// The cryptogram type the first GENERATE AC (or the GPO, contactless)
    /// returned.
    #[must_use]
    fn first_generate_ac(&self) -> CryptogramType {
        CryptogramType::from_code(Self::FIRST_AC.value_in(self.as_bytes()))
    }

    /// What the second GENERATE AC returned, or that it was not requested.
    #[must_use]
    fn second_generate_ac(&self) -> SecondAcType {
        SecondAcType::from_code(Self::SECOND_AC.value_in(self.as_bytes()))
    }
}

impl CvrView for VisaCvr {
    const FIRST_AC: Field<Self> = Self::FIRST_GENERATE_AC;
    const SECOND_AC: Field<Self> = Self::SECOND_GENERATE_AC;
}

bit_view! {
    /// Visa Card Verification Results of IAD format 2/4 (5 bytes). **\[M\]**:
    /// the whole layout comes from unverified public sources.
    pub struct VisaFormat2Cvr([u8; 5]);
    tag: None;
    name: "Visa Card Verification Results (format 2/4)";
    flags {
        ISSUER_AUTHENTICATION_FAILED =
            (2, 0x08, "Issuer authentication performed and failed") [M];
        CDCVM_PERFORMED = (2, 0x04, "CDCVM successfully performed") [M];
        UNABLE_TO_GO_ONLINE = (2, 0x01, "Unable to go online") [M];

        LAST_ONLINE_NOT_COMPLETED = (3, 0x80, "Last online transaction not completed") [M];
        PIN_TRY_LIMIT_EXCEEDED = (3, 0x40, "PIN Try Limit exceeded") [M];
        VELOCITY_EXCEEDED = (3, 0x20, "Exceeded velocity checking counters") [M];
        NEW_CARD = (3, 0x10, "New card") [M];
        LAST_ISSUER_AUTHENTICATION_FAILED =
            (3, 0x08, "Issuer authentication failure on last online transaction") [M];
        ISSUER_AUTHENTICATION_NOT_PERFORMED =
            (3, 0x04, "Issuer authentication not performed after online authorisation") [M];
        BLOCKED_BY_PIN_TRY_LIMIT =
            (3, 0x02, "Application blocked by card because PIN Try Limit exceeded") [M];
        LAST_SDA_FAILED =
            (3, 0x01, "Offline static data authentication failed on last transaction") [M];

        ISSUER_SCRIPT_FAILED = (4, 0x08, "Issuer script processing failed") [M];
        LAST_DDA_FAILED =
            (4, 0x04, "Offline dynamic data authentication failed on last transaction") [M];
        DDA_PERFORMED = (4, 0x02, "Offline dynamic data authentication performed") [M];

        CD_NOT_DEBUG_MODE = (5, 0x80, "Consumer device is not in debug mode") [M];
        CD_NOT_ROOTED = (5, 0x40, "Consumer device is not a rooted device") [M];
        APP_NOT_HOOKED = (5, 0x20, "Mobile application is not hooked") [M];
        APP_INTEGRITY_INTACT = (5, 0x10, "Mobile application integrity is intact") [M];
        CD_HAS_CONNECTIVITY = (5, 0x08, "Consumer device has data connectivity") [M];
        CD_GENUINE = (5, 0x04, "Consumer device is genuine") [M];
        CDCVM_SUCCESSFUL = (5, 0x02, "CDCVM successfully performed") [M];
        SM_EMV_SESSION_KEY = (5, 0x01, "Secure messaging uses EMV session key-based derivation") [M];
    }
    fields {
        CDCVM_ENTITY = (1, 0xF0, "CDCVM verifying entity") [M];
        CDCVM_TYPE = (1, 0x0F, "CDCVM type") [M];
        SECOND_GENERATE_AC = (2, 0xC0, "Cryptogram type returned in second GENERATE AC") [M];
        FIRST_GENERATE_AC = (2, 0x30, "Cryptogram type returned in first GENERATE AC or GPO") [M];
        ISSUER_SCRIPT_COMMANDS = (4, 0xF0, "Number of issuer script commands processed") [M];
    }
}

impl CvrView for VisaFormat2Cvr {
    const FIRST_AC: Field<Self> = Self::FIRST_GENERATE_AC;
    const SECOND_AC: Field<Self> = Self::SECOND_GENERATE_AC;
}

bit_view! {
    /// Mastercard M/Chip Card Verification Results (IAD bytes 3–8, 6 bytes).
    /// Unmarked bits are confirmed by two public sources (M/Chip 4 issuer
    /// guide as quoted by one, M/Chip Requirements 2022 as quoted by
    /// another) and by real traces; **\[M\]** bits come from one source only
    /// (mostly M/Chip Advance additions).
    pub struct MastercardCvr([u8; 6]);
    tag: None;
    name: "Mastercard Card Verification Results";
    flags {
        /// M/Chip Advance.
        DATE_CHECK_FAILED = (1, 0x08, "Date check failed") [M];
        OFFLINE_PIN_PERFORMED = (1, 0x04, "Offline PIN verification performed");
        OFFLINE_ENCIPHERED_PIN_PERFORMED =
            (1, 0x02, "Offline encrypted PIN verification performed");
        OFFLINE_PIN_SUCCESSFUL = (1, 0x01, "Offline PIN verification successful");

        DDA_RETURNED = (2, 0x80, "DDA returned");
        CDA_FIRST_GENERATE_AC =
            (2, 0x40, "Combined DDA/AC generation returned in first GENERATE AC");
        CDA_SECOND_GENERATE_AC =
            (2, 0x20, "Combined DDA/AC generation returned in second GENERATE AC");
        ISSUER_AUTHENTICATION_PERFORMED = (2, 0x10, "Issuer authentication performed");
        CIAC_DEFAULT_SKIPPED_ON_CAT3 = (2, 0x08, "CIAC-default skipped on CAT3");
        /// M/Chip Advance.
        OFFLINE_CHANGE_PIN_SUCCESSFUL = (2, 0x04, "Offline change PIN result successful") [M];
        ISSUER_DISCRETIONARY_B2 = (2, 0x02, "Issuer-discretionary bit 2") [M];
        ISSUER_DISCRETIONARY_B1 = (2, 0x01, "Issuer-discretionary bit 1") [M];

        /// M/Chip Advance.
        LAST_ONLINE_NOT_COMPLETED = (4, 0x80, "Last online transaction not completed") [M];
        UNABLE_TO_GO_ONLINE = (4, 0x40, "Unable to go online indicated");
        OFFLINE_PIN_NOT_PERFORMED = (4, 0x20, "Offline PIN verification not performed");
        OFFLINE_PIN_FAILED = (4, 0x10, "Offline PIN verification failed");
        PIN_TRY_LIMIT_EXCEEDED = (4, 0x08, "PTL exceeded");
        INTERNATIONAL_TRANSACTION = (4, 0x04, "International transaction");
        DOMESTIC_TRANSACTION = (4, 0x02, "Domestic transaction");
        TERMINAL_ERRONEOUSLY_CONSIDERS_OFFLINE_PIN_OK =
            (4, 0x01, "Terminal erroneously considers offline PIN OK");

        /// "Counter 1" limits in M/Chip Advance.
        LOWER_CONSECUTIVE_OFFLINE_LIMIT_EXCEEDED =
            (5, 0x80, "Lower consecutive offline limit exceeded");
        /// "Counter 1" limits in M/Chip Advance.
        UPPER_CONSECUTIVE_OFFLINE_LIMIT_EXCEEDED =
            (5, 0x40, "Upper consecutive offline limit exceeded");
        /// "Accumulator 1" limits in M/Chip Advance.
        LOWER_CUMULATIVE_OFFLINE_LIMIT_EXCEEDED =
            (5, 0x20, "Lower cumulative offline limit exceeded");
        /// "Accumulator 1" limits in M/Chip Advance.
        UPPER_CUMULATIVE_OFFLINE_LIMIT_EXCEEDED =
            (5, 0x10, "Upper cumulative offline limit exceeded");
        GO_ONLINE_ON_NEXT_TRANSACTION = (5, 0x08, "Go online on next transaction was set");
        ISSUER_AUTHENTICATION_FAILED = (5, 0x04, "Issuer authentication failed");
        SCRIPT_RECEIVED = (5, 0x02, "Script received");
        SCRIPT_FAILED = (5, 0x01, "Script failed");

        /// M/Chip Advance.
        LOWER_CONSECUTIVE_COUNTER_2_EXCEEDED =
            (6, 0x80, "Lower consecutive counter 2 limit exceeded") [M];
        /// M/Chip Advance.
        UPPER_CONSECUTIVE_COUNTER_2_EXCEEDED =
            (6, 0x40, "Upper consecutive counter 2 limit exceeded") [M];
        /// M/Chip Advance.
        LOWER_CUMULATIVE_ACCUMULATOR_2_EXCEEDED =
            (6, 0x20, "Lower cumulative accumulator 2 limit exceeded") [M];
        /// M/Chip Advance.
        UPPER_CUMULATIVE_ACCUMULATOR_2_EXCEEDED =
            (6, 0x10, "Upper cumulative accumulator 2 limit exceeded") [M];
        /// M/Chip Advance.
        MTA_LIMIT_EXCEEDED = (6, 0x08, "MTA limit exceeded") [M];
        /// M/Chip Advance.
        DAYS_OFFLINE_LIMIT_EXCEEDED = (6, 0x04, "Number of days offline limit exceeded") [M];
        MATCH_IN_ADDITIONAL_CHECK_TABLE = (6, 0x02, "Match found in additional check table");
        NO_MATCH_IN_ADDITIONAL_CHECK_TABLE =
            (6, 0x01, "No match found in additional check table");
    }
    fields {
        SECOND_GENERATE_AC = (1, 0xC0, "Cryptogram type returned in second GENERATE AC");
        FIRST_GENERATE_AC = (1, 0x30, "Cryptogram type returned in first GENERATE AC");
        SCRIPT_COUNTER = (3, 0xF0, "Right nibble of script counter");
        PIN_TRY_COUNTER = (3, 0x0F, "Right nibble of PIN try counter");
    }
}

impl CvrView for MastercardCvr {
    const FIRST_AC: Field<Self> = Self::FIRST_GENERATE_AC;
    const SECOND_AC: Field<Self> = Self::SECOND_GENERATE_AC;
}

impl MastercardCvr {
    /// Right nibble of the PIN Try Counter.
    #[must_use]
    pub fn pin_try_counter_nibble(&self) -> u8 {
        self.field(Self::PIN_TRY_COUNTER)
    }
}

bit_view! {
    /// Common Core Definitions Card Verification Results (Book 3 Annex C9,
    /// Table CCD 10), 5 bytes. Byte 5 is left unnamed.
    pub struct CcdCvr([u8; 5]);
    tag: None;
    name: "CCD Card Verification Results";
    flags {
        CDA_PERFORMED = (1, 0x08, "CDA performed");
        OFFLINE_DDA_PERFORMED = (1, 0x04, "Offline DDA performed");
        ISSUER_AUTHENTICATION_NOT_PERFORMED = (1, 0x02, "Issuer authentication not performed");
        ISSUER_AUTHENTICATION_FAILED = (1, 0x01, "Issuer authentication failed");

        OFFLINE_PIN_PERFORMED = (2, 0x08, "Offline PIN verification performed");
        OFFLINE_PIN_NOT_SUCCESSFUL = (2, 0x04,
            "Offline PIN verification performed and PIN not successfully verified");
        PIN_TRY_LIMIT_EXCEEDED = (2, 0x02, "PIN Try Limit exceeded");
        LAST_ONLINE_NOT_COMPLETED = (2, 0x01, "Last online transaction not completed");

        LOWER_OFFLINE_COUNT_EXCEEDED =
            (3, 0x80, "Lower offline transaction count limit exceeded");
        UPPER_OFFLINE_COUNT_EXCEEDED =
            (3, 0x40, "Upper offline transaction count limit exceeded");
        LOWER_OFFLINE_AMOUNT_EXCEEDED =
            (3, 0x20, "Lower cumulative offline amount limit exceeded");
        /// The one source consulted gives this bit the mask of b6 (a typo);
        /// b5 is inferred from the table's order.
        UPPER_OFFLINE_AMOUNT_EXCEEDED =
            (3, 0x10, "Upper cumulative offline amount limit exceeded") [M];
        ISSUER_DISCRETIONARY_1 = (3, 0x08, "Issuer-discretionary bit 1");
        ISSUER_DISCRETIONARY_2 = (3, 0x04, "Issuer-discretionary bit 2");
        ISSUER_DISCRETIONARY_3 = (3, 0x02, "Issuer-discretionary bit 3");
        ISSUER_DISCRETIONARY_4 = (3, 0x01, "Issuer-discretionary bit 4");

        ISSUER_SCRIPT_FAILED = (4, 0x08, "Issuer script processing failed");
        ODA_FAILED_ON_PREVIOUS = (4, 0x04,
            "Offline data authentication failed on previous transaction");
        GO_ONLINE_ON_NEXT_TRANSACTION = (4, 0x02, "Go online on next transaction was set");
        UNABLE_TO_GO_ONLINE = (4, 0x01, "Unable to go online");
    }
    fields {
        SECOND_GENERATE_AC = (1, 0xC0, "Cryptogram type returned in second GENERATE AC");
        FIRST_GENERATE_AC = (1, 0x30, "Cryptogram type returned in first GENERATE AC");
        PIN_TRY_COUNTER = (2, 0xF0, "Low-order nibble of PIN Try Counter");
        SECURE_SCRIPT_COMMANDS = (4, 0xF0,
            "Number of successfully processed issuer script commands containing secure messaging");
    }
}

impl CvrView for CcdCvr {
    const FIRST_AC: Field<Self> = Self::FIRST_GENERATE_AC;
    const SECOND_AC: Field<Self> = Self::SECOND_GENERATE_AC;
}

/// An Issuer Application Data value with its detected layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Iad<'a> {
    raw: &'a [u8],
    format: IadFormat,
}

impl<'a> Iad<'a> {
    /// The element's tag, `9F10`.
    pub const TAG: Tag = Tag::new(0x9F10);
    /// Longest value allowed (Book 3 Annex A: var. up to 32).
    pub const MAX_LEN: usize = 32;

    /// Detects the layout of `value`. Never fails: an unrecognised value is
    /// [`IadFormat::Unknown`] and its accessors return `None`.
    #[must_use]
    pub fn parse(value: &'a [u8]) -> Self {
        Self {
            raw: value,
            format: detect(value),
        }
    }

    /// The detected layout.
    #[must_use]
    pub const fn format(&self) -> IadFormat {
        self.format
    }

    /// The value bytes.
    #[must_use]
    pub const fn as_bytes(&self) -> &'a [u8] {
        self.raw
    }

    /// The byte at 1-based position `n`.
    fn byte(&self, n: usize) -> Option<u8> {
        n.checked_sub(1).and_then(|i| self.raw.get(i)).copied()
    }

    /// The bytes at 1-based positions `from..=to`.
    fn bytes(&self, from: usize, to: usize) -> Option<&'a [u8]> {
        from.checked_sub(1).and_then(|i| self.raw.get(i..to))
    }

    /// The Cryptogram Version Number (for CCD: the Common Core Identifier,
    /// whose low nibble is the cryptogram version).
    #[must_use]
    pub fn cvn(&self) -> Option<u8> {
        match self.format {
            IadFormat::Ccd | IadFormat::MChip4 | IadFormat::MChipAdvance => self.byte(2),
            IadFormat::Visa0 | IadFormat::Visa1 | IadFormat::Visa3 => self.byte(3),
            IadFormat::Visa2 | IadFormat::Visa4 => self.byte(2),
            IadFormat::Unknown => None,
        }
    }

    /// The Derivation Key Index.
    #[must_use]
    pub fn dki(&self) -> Option<u8> {
        match self.format {
            IadFormat::Ccd | IadFormat::Visa2 | IadFormat::Visa4 => self.byte(3),
            IadFormat::MChip4 | IadFormat::MChipAdvance => self.byte(1),
            IadFormat::Visa0 | IadFormat::Visa1 | IadFormat::Visa3 => self.byte(2),
            IadFormat::Unknown => None,
        }
    }

    /// The raw CVR bytes: 4 for Visa format 0/1/3 (length byte `03`
    /// included), 5 for Visa format 2/4 and CCD, 6 for M/Chip.
    #[must_use]
    pub fn cvr(&self) -> Option<&'a [u8]> {
        match self.format {
            IadFormat::Ccd | IadFormat::Visa2 | IadFormat::Visa4 => self.bytes(4, 8),
            IadFormat::MChip4 | IadFormat::MChipAdvance => self.bytes(3, 8),
            IadFormat::Visa0 | IadFormat::Visa1 | IadFormat::Visa3 => self.bytes(4, 7),
            IadFormat::Unknown => None,
        }
    }

    /// The Visa CVR of a format 0/1/3 IAD.
    #[must_use]
    pub fn visa_cvr(&self) -> Option<VisaCvr> {
        match self.format {
            IadFormat::Visa0 | IadFormat::Visa1 | IadFormat::Visa3 => {
                self.cvr().and_then(VisaCvr::from_bytes)
            }
            _ => None,
        }
    }

    /// The Visa CVR of a format 2/4 IAD. **\[M\]**: unconfirmed layout.
    #[must_use]
    pub fn visa_format2_cvr(&self) -> Option<VisaFormat2Cvr> {
        match self.format {
            IadFormat::Visa2 | IadFormat::Visa4 => self.cvr().and_then(VisaFormat2Cvr::from_bytes),
            _ => None,
        }
    }

    /// The M/Chip CVR.
    #[must_use]
    pub fn mastercard_cvr(&self) -> Option<MastercardCvr> {
        if self.format.is_mastercard() {
            self.cvr().and_then(MastercardCvr::from_bytes)
        } else {
            None
        }
    }

    /// The CCD CVR.
    #[must_use]
    pub fn ccd_cvr(&self) -> Option<CcdCvr> {
        match self.format {
            IadFormat::Ccd => self.cvr().and_then(CcdCvr::from_bytes),
            _ => None,
        }
    }

    /// The M/Chip session key derivation named by the CVN.
    #[must_use]
    pub fn mchip_session_key(&self) -> Option<MChipSessionKey> {
        if !self.format.is_mastercard() {
            return None;
        }
        match self.cvn()? & 0x06 {
            0x00 => Some(MChipSessionKey::MastercardSkd),
            0x04 => Some(MChipSessionKey::EmvCsk),
            _ => None,
        }
    }

    /// M/Chip: whether the counters are part of the AC data (CVN b1).
    #[must_use]
    pub fn mchip_counters_in_ac(&self) -> Option<bool> {
        if self.format.is_mastercard() {
            self.cvn().map(|c| c & 0x01 != 0)
        } else {
            None
        }
    }

    /// M/Chip: the DAC or ICC Dynamic Number (IAD bytes 9–10).
    #[must_use]
    pub fn mchip_dac_idn(&self) -> Option<&'a [u8]> {
        if self.format.is_mastercard() {
            self.bytes(9, 10)
        } else {
            None
        }
    }

    /// The data after the CVR (after the DAC/IDN for M/Chip): counters and
    /// issuer-discretionary data, as the layout has them. For Visa format
    /// 0/1/3 it starts with the IDD length byte; for Visa format 2/4 with
    /// the IDD option ID; for CCD with the 8 counter bytes.
    #[must_use]
    pub fn trailing_data(&self) -> Option<&'a [u8]> {
        let from = match self.format {
            IadFormat::Ccd | IadFormat::Visa2 | IadFormat::Visa4 => 9,
            IadFormat::MChip4 | IadFormat::MChipAdvance => 11,
            IadFormat::Visa0 | IadFormat::Visa1 | IadFormat::Visa3 => 8,
            IadFormat::Unknown => return None,
        };
        self.raw.get(from - 1..)
    }
}

/// Detects the layout (see the module docs for the order and the rules).
fn detect(v: &[u8]) -> IadFormat {
    let len = v.len();
    let at = |i: usize| v.get(i).copied().unwrap_or(0);
    let (b1, b2, b3, b4) = (at(0), at(1), at(2), at(3));

    if len == 32 && b1 == 0x0F && b2 & 0xF0 == 0xA0 && matches!(b2 & 0x0F, 5 | 6) && at(16) == 0x0F
    {
        return IadFormat::Ccd;
    }
    if len >= 7 && b1 == 0x06 && b4 == 0x03 {
        match b3 >> 4 {
            0 => return IadFormat::Visa0,
            1 => return IadFormat::Visa1,
            3 => return IadFormat::Visa3,
            _ => {}
        }
    }
    if matches!(len, 18 | 20 | 26 | 28) && b2 & 0xF0 == 0x10 && b2 & 0x0A == 0 {
        return if len == 18 {
            IadFormat::MChip4
        } else {
            IadFormat::MChipAdvance
        };
    }
    if len == 32 && b1 == 0x1F && at(8) & 0xF0 == 0 {
        match b2 >> 4 {
            2 => return IadFormat::Visa2,
            4 => return IadFormat::Visa4,
            _ => {}
        }
    }
    IadFormat::Unknown
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

    use std::vec::Vec;

    use super::*;
    use crate::data::bits::check_tables;
    use proptest::prelude::*;

    fn hex(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    #[test]
    fn tables() {
        check_tables::<VisaCvr>();
        check_tables::<VisaFormat2Cvr>();
        check_tables::<MastercardCvr>();
        check_tables::<CcdCvr>();
        assert!(VisaFormat2Cvr::FLAGS.iter().all(|f| !f.confirmed));
        const { assert!(!MastercardCvr::DATE_CHECK_FAILED.confirmed) };
        const { assert!(MastercardCvr::OFFLINE_PIN_NOT_PERFORMED.confirmed) };
    }

    #[test]
    fn visa_cvn_10() {
        let v = hex("06010A03A00000");
        let iad = Iad::parse(&v);
        assert_eq!(iad.format(), IadFormat::Visa0);
        assert_eq!(iad.dki(), Some(0x01));
        assert_eq!(iad.cvn(), Some(0x0A));
        assert_eq!(iad.cvr(), Some(&[0x03, 0xA0, 0x00, 0x00][..]));
        let cvr = iad.visa_cvr().unwrap();
        assert_eq!(cvr.field(VisaCvr::LENGTH), 3);
        assert_eq!(cvr.first_generate_ac(), CryptogramType::Arqc);
        assert_eq!(cvr.second_generate_ac(), SecondAcType::NotRequested);
        assert_eq!(cvr.set_flags().count(), 0);
        assert_eq!(cvr.rfu_bits_set().count(), 0);
        assert_eq!(iad.mastercard_cvr(), None);
        assert_eq!(iad.trailing_data(), Some(&[][..]));
    }

    #[test]
    fn visa_cvn_18_with_flags_and_idd() {
        // CVN 18 (format 1): TC in first GENERATE AC, offline PIN performed;
        // new card; 2 scripts, DDA performed; IDD length 0F follows.
        let v = hex(&std::format!("060112035410220F{}", "00".repeat(15)));
        let iad = Iad::parse(&v);
        assert_eq!(iad.format(), IadFormat::Visa1);
        assert_eq!(iad.cvn(), Some(0x12));
        let cvr = iad.visa_cvr().unwrap();
        assert_eq!(cvr.first_generate_ac(), CryptogramType::Tc);
        assert_eq!(cvr.second_generate_ac(), SecondAcType::Tc);
        let names: Vec<&str> = cvr.set_flags().map(|f| f.name).collect();
        assert_eq!(
            names,
            [
                "Offline PIN verification performed",
                "New card",
                "Offline dynamic data authentication performed",
            ]
        );
        assert_eq!(cvr.field(VisaCvr::ISSUER_SCRIPT_COMMANDS), 2);
        assert_eq!(v.len(), 23);
        assert_eq!(iad.trailing_data().map(<[u8]>::len), Some(16));
    }

    #[test]
    fn mchip_cvn_16() {
        let v = hex("0110A00003220000000000000000000000FF");
        let iad = Iad::parse(&v);
        assert_eq!(iad.format(), IadFormat::MChip4);
        assert_eq!(iad.dki(), Some(0x01));
        assert_eq!(iad.cvn(), Some(0x10));
        assert_eq!(
            iad.mchip_session_key(),
            Some(MChipSessionKey::MastercardSkd)
        );
        assert_eq!(iad.mchip_counters_in_ac(), Some(false));
        assert_eq!(iad.cvr(), Some(&hex("A00003220000")[..]));
        let cvr = iad.mastercard_cvr().unwrap();
        assert_eq!(cvr.second_generate_ac(), SecondAcType::NotRequested);
        assert_eq!(cvr.first_generate_ac(), CryptogramType::Arqc);
        assert_eq!(cvr.field(MastercardCvr::SCRIPT_COUNTER), 0);
        assert_eq!(cvr.pin_try_counter_nibble(), 3);
        let names: Vec<&str> = cvr.set_flags().map(|f| f.name).collect();
        assert_eq!(
            names,
            [
                "Offline PIN verification not performed",
                "Domestic transaction"
            ]
        );
        assert_eq!(cvr.rfu_bits_set().count(), 0);
        assert_eq!(iad.mchip_dac_idn(), Some(&[0x00, 0x00][..]));
        assert_eq!(iad.trailing_data(), Some(&hex("00000000000000FF")[..]));
        assert_eq!(iad.visa_cvr(), None);
    }

    #[test]
    fn mchip_cda_trace() {
        // GENERATE AC response of a public CDA trace: TC + CDA in first
        // GENERATE AC.
        let v = hex("0010904001220000000000000000000000FF");
        let iad = Iad::parse(&v);
        assert_eq!(iad.format(), IadFormat::MChip4);
        let cvr = iad.mastercard_cvr().unwrap();
        assert_eq!(cvr.first_generate_ac(), CryptogramType::Tc);
        assert!(cvr.contains(MastercardCvr::CDA_FIRST_GENERATE_AC));
        assert!(cvr.contains(MastercardCvr::DOMESTIC_TRANSACTION));
        assert_eq!(cvr.pin_try_counter_nibble(), 1);
    }

    #[test]
    fn mchip_advance_and_csk() {
        let mut v = hex("0115A00003220000000000000000000000FF0000");
        assert_eq!(Iad::parse(&v).format(), IadFormat::MChipAdvance);
        assert_eq!(
            Iad::parse(&v).mchip_session_key(),
            Some(MChipSessionKey::EmvCsk)
        );
        assert_eq!(Iad::parse(&v).mchip_counters_in_ac(), Some(true));
        // CVN with the RFU bit b4 set is not M/Chip.
        v[1] = 0x18;
        assert_eq!(Iad::parse(&v).format(), IadFormat::Unknown);
    }

    #[test]
    fn ccd_layout() {
        // 0F, CCI A5 (CCD 4.1, TDES), DKI 01, CVR 5 bytes, counters, 0F, IDD.
        let mut v = hex("0FA501A0B8000000");
        v.extend_from_slice(&[0; 8]);
        v.push(0x0F);
        v.extend_from_slice(&[0; 15]);
        assert_eq!(v.len(), 32);
        let iad = Iad::parse(&v);
        assert_eq!(iad.format(), IadFormat::Ccd);
        assert_eq!(iad.cvn(), Some(0xA5));
        assert_eq!(iad.dki(), Some(0x01));
        let cvr = iad.ccd_cvr().unwrap();
        assert_eq!(cvr.first_generate_ac(), CryptogramType::Arqc);
        assert_eq!(cvr.second_generate_ac(), SecondAcType::NotRequested);
        assert_eq!(cvr.field(CcdCvr::PIN_TRY_COUNTER), 0x0B);
        assert!(cvr.contains(CcdCvr::OFFLINE_PIN_PERFORMED));
        assert_eq!(iad.trailing_data().map(<[u8]>::len), Some(24));
    }

    #[test]
    fn visa_format_2() {
        let mut v = hex("1F2201A0000000000002");
        v.resize(32, 0);
        let iad = Iad::parse(&v);
        assert_eq!(iad.format(), IadFormat::Visa2);
        assert_eq!(iad.cvn(), Some(0x22));
        assert_eq!(iad.dki(), Some(0x01));
        let cvr = iad.visa_format2_cvr().unwrap();
        assert_eq!(cvr.to_bytes(), [0xA0, 0x00, 0x00, 0x00, 0x00]);
        assert_eq!(iad.visa_cvr(), None);
        // Option ID high nibble must be zero.
        v[8] = 0x10;
        assert_eq!(Iad::parse(&v).format(), IadFormat::Unknown);
    }

    #[test]
    fn unknown_and_short_values() {
        for v in [
            &[][..],
            &[0x06],
            &[0x06, 0x01, 0x0A],
            &hex("06012A03A00000")[..],
        ] {
            let iad = Iad::parse(v);
            assert_eq!(iad.format(), IadFormat::Unknown);
            assert_eq!(iad.cvn(), None);
            assert_eq!(iad.dki(), None);
            assert_eq!(iad.cvr(), None);
            assert_eq!(iad.trailing_data(), None);
        }
    }

    proptest! {
        #[test]
        fn any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
            let iad = Iad::parse(&bytes);
            let known = iad.format() != IadFormat::Unknown;
            prop_assert_eq!(iad.cvn().is_some(), known);
            prop_assert_eq!(iad.cvr().is_some(), known);
            let _ = (iad.dki(), iad.visa_cvr(), iad.visa_format2_cvr(), iad.mastercard_cvr());
            let _ = (iad.ccd_cvr(), iad.mchip_session_key(), iad.mchip_dac_idn(), iad.trailing_data());
        }
    }
}
