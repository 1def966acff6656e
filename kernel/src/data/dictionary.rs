//! The EMV data dictionary: every data element the kernel knows by tag, with
//! its name, format, length range, source and templates.
//!
//! # Specifications followed
//!
//! - EMV 4.4 Book 3, Annex A ("Data Elements Dictionary", Table 33) for the
//!   contact data elements, including the terminal and issuer ones; EMV 4.4
//!   Book 1, Annex B for the application selection elements (FCI, directory).
//! - EMV 4.4 Book 4, Annex A (terminal data elements: Terminal Type,
//!   Terminal Capabilities, Additional Terminal Capabilities, POS Entry Mode).
//! - EMV Contactless Book A and Book B (Entry Point): Terminal Transaction
//!   Qualifiers (`9F66`), Extended Selection (`9F29`), Kernel Identifier
//!   (`9F2A`).
//! - EMV Contactless Book C-2 (Kernel 2), Annex A: the `9F5x`-`9F7x` card and
//!   reader elements, data storage (`DF60`-`DF63`, `9F5B`-`9F5F`, `9F6F`,
//!   `9F7D`, `9F7F`), relay resistance (`DF8132`-`DF8137`, `DF8301`-`DF8307`)
//!   and the kernel's own `DF81xx` / `FF81xx` elements.
//! - EMV Contactless Book C-3 (Kernel 3), Annex A: Application Program
//!   Identifier, Available Offline Spending Amount, Card Authentication
//!   Related Data, Card Transaction Qualifiers, Form Factor Indicator,
//!   Customer Exclusive Data.
//! - Visa VIS / VCPS card elements, marked "(Visa)": `9F51`-`9F59`, Issuer
//!   Script Results (`9F5B`), Card Additional Processes (`9F68`), Card CVM
//!   Limit (`9F6B`) and the VLP elements (`9F74`-`9F7B`).
//! - Names only, where a tag is shared: EMV Contactless Book C-4 (Kernel 4:
//!   `9F6D`, `9F70`, `9F71`; `9F6E` is also its Enhanced Contactless Reader
//!   Capabilities).
//! - PBOC 3.0 (UnionPay) for the three `DF4D`, `DF4F`, `DF69` elements.
//!
//! # Public sources cross-checked
//!
//! Tag numbers, names, formats and lengths were cross-checked (facts only, no
//! text copied) against:
//!
//! - openemv/emv-utils: `src/emv_tags.h` and `src/emv_strings.c`;
//! - binaryfoo/emv-bertlv: `src/main/resources/emv.yaml`;
//! - the EFTlab knowledge-base page "Complete list of EMV & NFC tags".
//!
//! # Conventions
//!
//! - Lengths are of the value field, in bytes (for `n` and `cn` elements,
//!   bytes and not digits). The specification's "var. up to N" is `0..=N`;
//!   "var." with no upper limit is `0..=`[`UNBOUNDED`]. Certificate-sized
//!   elements (`N_CA`, `N_I`, `N_IC`, `N_PE`) are given as `1..=248`.
//! - Where a tag means different things in different kernels or payment
//!   systems, there is still one entry; its name gives the meanings, each
//!   followed by the book or scheme in brackets, the first one leading.
//!   Format and source follow the first meaning; the length range is widened
//!   to cover all named meanings.
//! - Templates list where the element appears when the books say so; an empty
//!   list means none, several, or kernel-dependent.
//!
//! [`lookup`] is a binary search over a static table sorted by tag value; the
//! order is checked when the crate is compiled.

use crate::data::format::Format;
use crate::wire::tag::Tag;

/// Who provides a data element.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Source {
    /// The card (ICC): read from records, returned in command responses or
    /// in the FCI.
    Icc,
    /// The terminal: transaction data, terminal configuration, results the
    /// terminal computes (TVR, TSI, CVM Results).
    Terminal,
    /// The issuer, in the authorisation response (scripts, Issuer
    /// Authentication Data, Authorisation Response Code).
    Issuer,
    /// Kernel-internal data or kernel configuration (the Kernel 2 `DF81xx` /
    /// `FF81xx` elements).
    Kernel,
}

/// One dictionary entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// The tag.
    pub tag: Tag,
    /// The name, in the wording of the specification, ASCII only
    /// (`"Amount, Authorised (Numeric)"`).
    pub name: &'static str,
    /// The format of the value.
    pub format: Format,
    /// Shortest valid value, in bytes (for `n` / `cn`: bytes, not digits).
    pub min_len: u16,
    /// Longest valid value, in bytes; [`UNBOUNDED`] when the specification
    /// sets no limit.
    pub max_len: u16,
    /// Who provides the element.
    pub source: Source,
    /// Templates the element appears in; empty if none or any.
    pub templates: &'static [Tag],
}

impl Entry {
    /// True when `len` bytes is a valid value length for this element.
    #[must_use]
    pub const fn accepts_len(&self, len: usize) -> bool {
        len >= self.min_len as usize && len <= self.max_len as usize
    }
}

/// `max_len` of an element the specification gives as "var." without an
/// upper limit.
pub const UNBOUNDED: u16 = u16::MAX;

/// The entry for `tag`, or `None` when the dictionary does not know it.
///
/// A binary search over the sorted table: O(log n).
#[must_use]
pub fn lookup(tag: Tag) -> Option<&'static Entry> {
    let index = ENTRIES.binary_search_by(|entry| entry.tag.cmp(&tag)).ok()?;
    ENTRIES.get(index)
}

/// The whole dictionary, sorted by tag value (strictly ascending).
#[must_use]
pub fn entries() -> &'static [Entry] {
    ENTRIES
}

/// True when every tag is strictly greater than the one before it.
const fn is_strictly_sorted(table: &[Entry]) -> bool {
    let mut rest = table;
    while let [first, tail @ ..] = rest {
        if let [second, ..] = tail
            && first.tag.raw() >= second.tag.raw()
        {
            return false;
        }
        rest = tail;
    }
    true
}

/// True when every entry has `min_len <= max_len`.
const fn lengths_are_ordered(table: &[Entry]) -> bool {
    let mut rest = table;
    while let [entry, tail @ ..] = rest {
        if entry.min_len > entry.max_len {
            return false;
        }
        rest = tail;
    }
    true
}

const _: () = assert!(
    is_strictly_sorted(ENTRIES),
    "the dictionary must be strictly sorted by tag value"
);
const _: () = assert!(
    lengths_are_ordered(ENTRIES),
    "every dictionary entry needs min_len <= max_len"
);

/// Builds an entry, so that each row of the table fits on one line.
const fn e(
    tag: u32,
    name: &'static str,
    format: Format,
    min_len: u16,
    max_len: u16,
    source: Source,
    templates: &'static [Tag],
) -> Entry {
    Entry {
        tag: Tag::new(tag),
        name,
        format,
        min_len,
        max_len,
        source,
        templates,
    }
}

const NONE: &[Tag] = &[];
const T61: &[Tag] = &[Tag::new(0x61)];
const T6F: &[Tag] = &[Tag::new(0x6F)];
const T70: &[Tag] = &[Tag::new(0x70)];
const TA5: &[Tag] = &[Tag::new(0xA5)];
const TBF0C: &[Tag] = &[Tag::new(0xBF0C)];
const T61_A5: &[Tag] = &[Tag::new(0x61), Tag::new(0xA5)];
const T70_77: &[Tag] = &[Tag::new(0x70), Tag::new(0x77)];
const T77_80: &[Tag] = &[Tag::new(0x77), Tag::new(0x80)];
const T71_72: &[Tag] = &[Tag::new(0x71), Tag::new(0x72)];
const TBF0C_73: &[Tag] = &[Tag::new(0xBF0C), Tag::new(0x73)];

/// Largest public key modulus EMV allows, in bytes (1984 bits).
const NK: u16 = 248;

use Format::{A, An, Ans, B, Cn, N, Var};
use Source::{Icc, Issuer, Kernel, Terminal};

/// The dictionary, sorted by tag value. One line per element, so not
/// reformatted.
#[rustfmt::skip]
const ENTRIES: &[Entry] = &[
    // --- one-byte tags (EMV Book 1 Annex B, Book 3 Annex A) ---
    e(0x42, "Issuer Identification Number (IIN)", N, 3, 3, Icc, TBF0C_73),
    e(0x4F, "Application Identifier (AID) - card", B, 5, 16, Icc, T61),
    e(0x50, "Application Label", Ans, 1, 16, Icc, T61_A5),
    e(0x56, "Track 1 Data", Ans, 0, 76, Icc, T70),
    e(0x57, "Track 2 Equivalent Data", B, 0, 19, Icc, T70_77),
    e(0x5A, "Application Primary Account Number (PAN)", Cn, 0, 10, Icc, T70_77),
    e(0x61, "Application Template", Var, 0, 252, Icc, T70),
    e(0x6F, "File Control Information (FCI) Template", Var, 0, 252, Icc, NONE),
    e(0x70, "READ RECORD Response Message Template", Var, 0, 252, Icc, NONE),
    e(0x71, "Issuer Script Template 1", Var, 0, UNBOUNDED, Issuer, NONE),
    e(0x72, "Issuer Script Template 2", Var, 0, UNBOUNDED, Issuer, NONE),
    e(0x73, "Directory Discretionary Template", Var, 0, 252, Icc, T61),
    e(0x77, "Response Message Template Format 2", Var, 0, UNBOUNDED, Icc, NONE),
    e(0x80, "Response Message Template Format 1", Var, 0, UNBOUNDED, Icc, NONE),
    e(0x81, "Amount, Authorised (Binary)", B, 4, 4, Terminal, NONE),
    e(0x82, "Application Interchange Profile", B, 2, 2, Icc, T77_80),
    e(0x83, "Command Template", B, 0, UNBOUNDED, Terminal, NONE),
    e(0x84, "Dedicated File (DF) Name", B, 5, 16, Icc, T6F),
    e(0x86, "Issuer Script Command", B, 0, 261, Issuer, T71_72),
    e(0x87, "Application Priority Indicator", B, 1, 1, Icc, T61_A5),
    e(0x88, "Short File Identifier (SFI)", B, 1, 1, Icc, TA5),
    e(0x89, "Authorisation Code", Ans, 6, 6, Issuer, NONE),
    e(0x8A, "Authorisation Response Code", An, 2, 2, Issuer, NONE),
    e(0x8C, "Card Risk Management Data Object List 1 (CDOL1)", B, 0, 252, Icc, T70_77),
    e(0x8D, "Card Risk Management Data Object List 2 (CDOL2)", B, 0, 252, Icc, T70_77),
    e(0x8E, "Cardholder Verification Method (CVM) List", B, 10, 252, Icc, T70_77),
    e(0x8F, "Certification Authority Public Key Index", B, 1, 1, Icc, T70_77),
    e(0x90, "Issuer Public Key Certificate", B, 1, NK, Icc, T70_77),
    e(0x91, "Issuer Authentication Data", B, 8, 16, Issuer, NONE),
    e(0x92, "Issuer Public Key Remainder", B, 1, NK, Icc, T70_77),
    e(0x93, "Signed Static Application Data", B, 1, NK, Icc, T70_77),
    e(0x94, "Application File Locator (AFL)", Var, 0, 252, Icc, T77_80),
    e(0x95, "Terminal Verification Results", B, 5, 5, Terminal, NONE),
    e(0x97, "Transaction Certificate Data Object List (TDOL)", B, 0, 252, Icc, T70_77),
    e(0x98, "Transaction Certificate (TC) Hash Value", B, 20, 20, Terminal, NONE),
    e(0x99, "Transaction Personal Identification Number (PIN) Data", B, 0, UNBOUNDED, Terminal, NONE),
    e(0x9A, "Transaction Date", N, 3, 3, Terminal, NONE),
    e(0x9B, "Transaction Status Information", B, 2, 2, Terminal, NONE),
    e(0x9C, "Transaction Type", N, 1, 1, Terminal, NONE),
    e(0x9D, "Directory Definition File (DDF) Name", B, 5, 16, Icc, T61),
    e(0xA5, "File Control Information (FCI) Proprietary Template", Var, 0, UNBOUNDED, Icc, T6F),
    // --- 5Fxx ---
    e(0x5F20, "Cardholder Name", Ans, 2, 26, Icc, T70_77),
    e(0x5F24, "Application Expiration Date", N, 3, 3, Icc, T70_77),
    e(0x5F25, "Application Effective Date", N, 3, 3, Icc, T70_77),
    e(0x5F28, "Issuer Country Code", N, 2, 2, Icc, T70_77),
    e(0x5F2A, "Transaction Currency Code", N, 2, 2, Terminal, NONE),
    e(0x5F2D, "Language Preference", An, 2, 8, Icc, TA5),
    e(0x5F30, "Service Code", N, 2, 2, Icc, T70_77),
    e(0x5F34, "Application Primary Account Number (PAN) Sequence Number", N, 1, 1, Icc, T70_77),
    e(0x5F36, "Transaction Currency Exponent", N, 1, 1, Terminal, NONE),
    e(0x5F50, "Issuer URL", Ans, 0, UNBOUNDED, Icc, TBF0C_73),
    e(0x5F53, "International Bank Account Number (IBAN)", Var, 0, 34, Icc, TBF0C_73),
    e(0x5F54, "Bank Identifier Code (BIC)", Var, 8, 11, Icc, TBF0C_73),
    e(0x5F55, "Issuer Country Code (alpha2 format)", A, 2, 2, Icc, TBF0C_73),
    e(0x5F56, "Issuer Country Code (alpha3 format)", A, 3, 3, Icc, TBF0C_73),
    e(0x5F57, "Account Type", N, 1, 1, Terminal, NONE),
    // --- 9F01-9F4F (EMV Book 3, Book 1, Entry Point) ---
    e(0x9F01, "Acquirer Identifier", N, 6, 6, Terminal, NONE),
    e(0x9F02, "Amount, Authorised (Numeric)", N, 6, 6, Terminal, NONE),
    e(0x9F03, "Amount, Other (Numeric)", N, 6, 6, Terminal, NONE),
    e(0x9F04, "Amount, Other (Binary)", B, 4, 4, Terminal, NONE),
    e(0x9F05, "Application Discretionary Data", B, 1, 32, Icc, T70_77),
    e(0x9F06, "Application Identifier (AID) - terminal", B, 5, 16, Terminal, NONE),
    e(0x9F07, "Application Usage Control", B, 2, 2, Icc, T70_77),
    e(0x9F08, "Application Version Number - card", B, 2, 2, Icc, T70_77),
    e(0x9F09, "Application Version Number - terminal", B, 2, 2, Terminal, NONE),
    e(0x9F0A, "Application Selection Registered Proprietary Data (ASRPD)", B, 0, UNBOUNDED, Icc, TBF0C_73),
    e(0x9F0B, "Cardholder Name Extended", Ans, 27, 45, Icc, T70_77),
    e(0x9F0C, "Issuer Identification Number Extended (IINE)", N, 3, 4, Icc, TBF0C_73),
    e(0x9F0D, "Issuer Action Code - Default", B, 5, 5, Icc, T70_77),
    e(0x9F0E, "Issuer Action Code - Denial", B, 5, 5, Icc, T70_77),
    e(0x9F0F, "Issuer Action Code - Online", B, 5, 5, Icc, T70_77),
    e(0x9F10, "Issuer Application Data", B, 0, 32, Icc, T77_80),
    e(0x9F11, "Issuer Code Table Index", N, 1, 1, Icc, TA5),
    e(0x9F12, "Application Preferred Name", Ans, 1, 16, Icc, T61_A5),
    e(0x9F13, "Last Online Application Transaction Counter (ATC) Register", B, 2, 2, Icc, NONE),
    e(0x9F14, "Lower Consecutive Offline Limit", B, 1, 1, Icc, T70_77),
    e(0x9F15, "Merchant Category Code", N, 2, 2, Terminal, NONE),
    e(0x9F16, "Merchant Identifier", Ans, 15, 15, Terminal, NONE),
    e(0x9F17, "Personal Identification Number (PIN) Try Counter", B, 1, 1, Icc, NONE),
    e(0x9F18, "Issuer Script Identifier", B, 4, 4, Issuer, T71_72),
    e(0x9F19, "Token Requestor ID", N, 6, 6, Icc, T70_77),
    e(0x9F1A, "Terminal Country Code", N, 2, 2, Terminal, NONE),
    e(0x9F1B, "Terminal Floor Limit", B, 4, 4, Terminal, NONE),
    e(0x9F1C, "Terminal Identification", An, 8, 8, Terminal, NONE),
    e(0x9F1D, "Terminal Risk Management Data", B, 1, 8, Terminal, NONE),
    e(0x9F1E, "Interface Device (IFD) Serial Number", An, 8, 8, Terminal, NONE),
    e(0x9F1F, "Track 1 Discretionary Data", Ans, 0, UNBOUNDED, Icc, T70_77),
    e(0x9F20, "Track 2 Discretionary Data", Cn, 0, UNBOUNDED, Icc, T70_77),
    e(0x9F21, "Transaction Time", N, 3, 3, Terminal, NONE),
    e(0x9F22, "Certification Authority Public Key Index - terminal", B, 1, 1, Terminal, NONE),
    e(0x9F23, "Upper Consecutive Offline Limit", B, 1, 1, Icc, T70_77),
    e(0x9F24, "Payment Account Reference (PAR)", An, 29, 29, Icc, T70_77),
    e(0x9F25, "Last 4 Digits of PAN", N, 2, 2, Icc, T70_77),
    e(0x9F26, "Application Cryptogram", B, 8, 8, Icc, T77_80),
    e(0x9F27, "Cryptogram Information Data", B, 1, 1, Icc, T77_80),
    e(0x9F29, "Extended Selection", B, 0, UNBOUNDED, Icc, T61),
    e(0x9F2A, "Kernel Identifier", B, 1, 8, Icc, T61),
    e(0x9F2D, "ICC PIN Encipherment Public Key Certificate", B, 1, NK, Icc, T70_77),
    e(0x9F2E, "ICC PIN Encipherment Public Key Exponent", B, 1, 3, Icc, T70_77),
    e(0x9F2F, "ICC PIN Encipherment Public Key Remainder", B, 1, NK, Icc, T70_77),
    e(0x9F32, "Issuer Public Key Exponent", B, 1, 3, Icc, T70_77),
    e(0x9F33, "Terminal Capabilities", B, 3, 3, Terminal, NONE),
    e(0x9F34, "Cardholder Verification Method (CVM) Results", B, 3, 3, Terminal, NONE),
    e(0x9F35, "Terminal Type", N, 1, 1, Terminal, NONE),
    e(0x9F36, "Application Transaction Counter (ATC)", B, 2, 2, Icc, T77_80),
    e(0x9F37, "Unpredictable Number", B, 4, 4, Terminal, NONE),
    e(0x9F38, "Processing Options Data Object List (PDOL)", B, 0, UNBOUNDED, Icc, TA5),
    e(0x9F39, "Point-of-Service (POS) Entry Mode", N, 1, 1, Terminal, NONE),
    e(0x9F3A, "Amount, Reference Currency", B, 4, 4, Terminal, NONE),
    e(0x9F3B, "Application Reference Currency", N, 2, 8, Icc, T70_77),
    e(0x9F3C, "Transaction Reference Currency Code", N, 2, 2, Terminal, NONE),
    e(0x9F3D, "Transaction Reference Currency Exponent", N, 1, 1, Terminal, NONE),
    e(0x9F40, "Additional Terminal Capabilities", B, 5, 5, Terminal, NONE),
    e(0x9F41, "Transaction Sequence Counter", N, 2, 4, Terminal, NONE),
    e(0x9F42, "Application Currency Code", N, 2, 2, Icc, T70_77),
    e(0x9F43, "Application Reference Currency Exponent", N, 1, 4, Icc, T70_77),
    e(0x9F44, "Application Currency Exponent", N, 1, 1, Icc, T70_77),
    e(0x9F45, "Data Authentication Code", B, 2, 2, Icc, NONE),
    e(0x9F46, "ICC Public Key Certificate", B, 1, NK, Icc, T70_77),
    e(0x9F47, "ICC Public Key Exponent", B, 1, 3, Icc, T70_77),
    e(0x9F48, "ICC Public Key Remainder", B, 1, NK, Icc, T70_77),
    e(0x9F49, "Dynamic Data Authentication Data Object List (DDOL)", B, 0, 252, Icc, T70_77),
    e(0x9F4A, "Static Data Authentication Tag List", B, 0, UNBOUNDED, Icc, T70_77),
    e(0x9F4B, "Signed Dynamic Application Data", B, 1, NK, Icc, T77_80),
    e(0x9F4C, "ICC Dynamic Number", B, 2, 8, Icc, NONE),
    e(0x9F4D, "Log Entry", B, 2, 2, Icc, TBF0C_73),
    e(0x9F4E, "Merchant Name and Location", Ans, 0, UNBOUNDED, Terminal, NONE),
    e(0x9F4F, "Log Format", B, 0, UNBOUNDED, Icc, NONE),
    // --- 9F50-9F7F: payment-system and contactless kernel tags ---
    e(0x9F50, "Offline Accumulator Balance (C-2)", N, 6, 6, Icc, NONE),
    e(0x9F51, "DRDOL (C-2) / Application Currency Code (Visa)", B, 0, 252, Icc, NONE),
    e(0x9F52, "Application Default Action (Visa)", B, 2, 2, Icc, NONE),
    e(0x9F53, "Transaction Category Code (C-2) / Consecutive Transaction Limit (International) (Visa)", An, 1, 1, Terminal, NONE),
    e(0x9F54, "DS ODS Card (C-2) / Cumulative Total Transaction Amount Limit (Visa)", B, 0, 160, Icc, NONE),
    e(0x9F55, "Geographic Indicator (Visa)", B, 1, 1, Icc, NONE),
    e(0x9F56, "Issuer Authentication Indicator (Visa)", B, 1, 1, Icc, NONE),
    e(0x9F57, "Issuer Country Code (Visa)", N, 2, 2, Icc, NONE),
    e(0x9F58, "Lower Consecutive Offline Limit (Card Check) (Visa)", B, 1, 1, Icc, NONE),
    e(0x9F59, "Upper Consecutive Offline Limit (Card Check) (Visa)", B, 1, 1, Icc, NONE),
    e(0x9F5A, "Application Program Identifier (C-3)", B, 1, 16, Icc, TBF0C),
    e(0x9F5B, "Issuer Script Results (Visa) / DSDOL (C-2)", B, 0, UNBOUNDED, Terminal, NONE),
    e(0x9F5C, "DS Requested Operator ID (C-2) / Cumulative Total Transaction Amount Upper Limit (Visa)", B, 6, 8, Terminal, NONE),
    e(0x9F5D, "Application Capabilities Information (C-2) / Available Offline Spending Amount (C-3)", B, 3, 6, Icc, NONE),
    e(0x9F5E, "DS ID (C-2)", B, 8, 11, Icc, NONE),
    e(0x9F5F, "DS Slot Availability (C-2)", B, 1, 1, Icc, NONE),
    e(0x9F60, "CVC3 (Track1) (C-2)", B, 2, 2, Icc, NONE),
    e(0x9F61, "CVC3 (Track2) (C-2)", B, 2, 2, Icc, NONE),
    e(0x9F62, "PCVC3 (Track1) (C-2)", B, 6, 6, Icc, T70),
    e(0x9F63, "PUNATC (Track1) (C-2)", B, 6, 6, Icc, T70),
    e(0x9F64, "NATC (Track1) (C-2)", B, 1, 1, Icc, T70),
    e(0x9F65, "PCVC3 (Track2) (C-2)", B, 2, 2, Icc, T70),
    e(0x9F66, "Terminal Transaction Qualifiers (TTQ) / PUNATC (Track2) (C-2)", B, 2, 4, Terminal, NONE),
    e(0x9F67, "NATC (Track2) (C-2)", B, 1, 1, Icc, T70),
    e(0x9F68, "Card Additional Processes (Visa)", B, 4, 4, Icc, NONE),
    e(0x9F69, "Card Authentication Related Data (C-3) / UDOL (C-2)", B, 0, 252, Icc, NONE),
    e(0x9F6A, "Unpredictable Number (Numeric) (C-2)", N, 4, 4, Kernel, NONE),
    e(0x9F6B, "Track 2 Data (C-2) / Card CVM Limit (Visa)", B, 0, 19, Icc, NONE),
    e(0x9F6C, "Card Transaction Qualifiers (CTQ) (C-3) / Mag-stripe Application Version Number (Card) (C-2)", B, 2, 2, Icc, NONE),
    e(0x9F6D, "Mag-stripe Application Version Number (Reader) (C-2) / Contactless Reader Capabilities (C-4)", B, 1, 2, Terminal, NONE),
    e(0x9F6E, "Form Factor Indicator (C-3) / Third Party Data (C-2)", B, 4, 32, Icc, NONE),
    e(0x9F6F, "DS Slot Management Control (C-2)", B, 1, 1, Icc, NONE),
    e(0x9F70, "Protected Data Envelope 1 (C-2) / Card Interface Capabilities (C-4)", B, 0, 192, Icc, NONE),
    e(0x9F71, "Protected Data Envelope 2 (C-2) / Mobile CVM Results (C-4)", B, 0, 192, Icc, NONE),
    e(0x9F72, "Protected Data Envelope 3 (C-2)", B, 0, 192, Icc, NONE),
    e(0x9F73, "Protected Data Envelope 4 (C-2)", B, 0, 192, Icc, NONE),
    e(0x9F74, "Protected Data Envelope 5 (C-2) / VLP Issuer Authorisation Code (Visa)", B, 0, 192, Icc, NONE),
    e(0x9F75, "Unprotected Data Envelope 1 (C-2)", B, 0, 192, Icc, NONE),
    e(0x9F76, "Unprotected Data Envelope 2 (C-2)", B, 0, 192, Icc, NONE),
    e(0x9F77, "Unprotected Data Envelope 3 (C-2) / VLP Funds Limit (Visa)", B, 0, 192, Icc, NONE),
    e(0x9F78, "Unprotected Data Envelope 4 (C-2) / VLP Single Transaction Limit (Visa)", B, 0, 192, Icc, NONE),
    e(0x9F79, "Unprotected Data Envelope 5 (C-2) / VLP Available Funds (Visa)", B, 0, 192, Icc, NONE),
    e(0x9F7A, "VLP Terminal Support Indicator (Visa)", B, 1, 1, Terminal, NONE),
    e(0x9F7B, "VLP Terminal Transaction Limit (Visa)", N, 6, 6, Terminal, NONE),
    e(0x9F7C, "Customer Exclusive Data (C-3) / Merchant Custom Data (C-2)", B, 0, 32, Icc, NONE),
    e(0x9F7D, "DS Summary 1 (C-2)", B, 8, 16, Icc, NONE),
    e(0x9F7E, "Mobile Support Indicator (C-2)", B, 1, 1, Terminal, NONE),
    e(0x9F7F, "DS Unpredictable Number (C-2)", B, 4, 4, Icc, NONE),
    // --- BF0C, DFxx ---
    e(0xBF0C, "File Control Information (FCI) Issuer Discretionary Data", Var, 0, 222, Icc, TA5),
    e(0xDF4B, "POS Cardholder Interaction Information (C-2)", B, 3, 3, Icc, NONE),
    e(0xDF4D, "Load Log Entry (PBOC)", B, 2, 2, Icc, TBF0C),
    e(0xDF4F, "Load Log Format (PBOC)", B, 0, UNBOUNDED, Icc, NONE),
    e(0xDF60, "DS Input (Card) (C-2)", B, 8, 8, Terminal, NONE),
    e(0xDF61, "DS Digest H (C-2)", B, 8, 8, Kernel, NONE),
    e(0xDF62, "DS ODS Info (C-2)", B, 1, 1, Terminal, NONE),
    e(0xDF63, "DS ODS Term (C-2)", B, 0, 160, Terminal, NONE),
    e(0xDF69, "SM Algorithm Supported Indicator (PBOC)", B, 1, 1, Terminal, NONE),
    // --- DF81xx: Kernel 2 data (EMV Book C-2 Annex A) ---
    e(0xDF8101, "DS Summary 2", B, 8, 16, Kernel, NONE),
    e(0xDF8102, "DS Summary 3", B, 8, 16, Kernel, NONE),
    e(0xDF8104, "Balance Read Before Gen AC", N, 6, 6, Kernel, NONE),
    e(0xDF8105, "Balance Read After Gen AC", N, 6, 6, Kernel, NONE),
    e(0xDF8106, "Data Needed", B, 0, UNBOUNDED, Kernel, NONE),
    e(0xDF8107, "CDOL1 Related Data", B, 0, UNBOUNDED, Kernel, NONE),
    e(0xDF8108, "DS AC Type", B, 1, 1, Kernel, NONE),
    e(0xDF8109, "DS Input (Term)", B, 8, 8, Kernel, NONE),
    e(0xDF810A, "DS ODS Info For Reader", B, 1, 1, Kernel, NONE),
    e(0xDF810B, "DS Summary Status", B, 1, 1, Kernel, NONE),
    e(0xDF810C, "Kernel ID", B, 1, 1, Kernel, NONE),
    e(0xDF810D, "DSVN Term", B, 0, UNBOUNDED, Kernel, NONE),
    e(0xDF810E, "Post-Gen AC Put Data Status", B, 1, 1, Kernel, NONE),
    e(0xDF810F, "Pre-Gen AC Put Data Status", B, 1, 1, Kernel, NONE),
    e(0xDF8110, "Proceed To First Write Flag", B, 1, 1, Kernel, NONE),
    e(0xDF8111, "PDOL Related Data", B, 0, UNBOUNDED, Kernel, NONE),
    e(0xDF8112, "Tags To Read", B, 0, UNBOUNDED, Kernel, NONE),
    e(0xDF8113, "DRDOL Related Data", B, 0, UNBOUNDED, Kernel, NONE),
    e(0xDF8114, "Reference Control Parameter", B, 1, 1, Kernel, NONE),
    e(0xDF8115, "Error Indication", B, 6, 6, Kernel, NONE),
    e(0xDF8116, "User Interface Request Data", B, 22, 22, Kernel, NONE),
    e(0xDF8117, "Card Data Input Capability", B, 1, 1, Kernel, NONE),
    e(0xDF8118, "CVM Capability - CVM Required", B, 1, 1, Kernel, NONE),
    e(0xDF8119, "CVM Capability - No CVM Required", B, 1, 1, Kernel, NONE),
    e(0xDF811A, "Default UDOL", B, 3, 3, Kernel, NONE),
    e(0xDF811B, "Kernel Configuration", B, 1, 1, Kernel, NONE),
    e(0xDF811C, "Max Lifetime of Torn Transaction Log Record", B, 2, 2, Kernel, NONE),
    e(0xDF811D, "Max Number of Torn Transaction Log Records", B, 1, 1, Kernel, NONE),
    e(0xDF811E, "Mag-stripe CVM Capability - CVM Required", B, 1, 1, Kernel, NONE),
    e(0xDF811F, "Security Capability", B, 1, 1, Kernel, NONE),
    e(0xDF8120, "Terminal Action Code - Default", B, 5, 5, Kernel, NONE),
    e(0xDF8121, "Terminal Action Code - Denial", B, 5, 5, Kernel, NONE),
    e(0xDF8122, "Terminal Action Code - Online", B, 5, 5, Kernel, NONE),
    e(0xDF8123, "Reader Contactless Floor Limit", N, 6, 6, Kernel, NONE),
    e(0xDF8124, "Reader Contactless Transaction Limit (No On-device CVM)", N, 6, 6, Kernel, NONE),
    e(0xDF8125, "Reader Contactless Transaction Limit (On-device CVM)", N, 6, 6, Kernel, NONE),
    e(0xDF8126, "Reader CVM Required Limit", N, 6, 6, Kernel, NONE),
    e(0xDF8127, "Time Out Value", B, 2, 2, Kernel, NONE),
    e(0xDF8128, "IDS Status", B, 1, 1, Kernel, NONE),
    e(0xDF8129, "Outcome Parameter Set", B, 8, 8, Kernel, NONE),
    e(0xDF812A, "DD Card (Track1)", Ans, 0, 56, Kernel, NONE),
    e(0xDF812B, "DD Card (Track2)", B, 0, 8, Kernel, NONE),
    e(0xDF812C, "Mag-stripe CVM Capability - No CVM Required", B, 1, 1, Kernel, NONE),
    e(0xDF812D, "Message Hold Time", N, 3, 3, Kernel, NONE),
    e(0xDF8130, "Hold Time Value", B, 1, 1, Kernel, NONE),
    e(0xDF8131, "Phone Message Table", B, 0, UNBOUNDED, Kernel, NONE),
    e(0xDF8132, "Minimum Relay Resistance Grace Period", B, 2, 2, Kernel, NONE),
    e(0xDF8133, "Maximum Relay Resistance Grace Period", B, 2, 2, Kernel, NONE),
    e(0xDF8134, "Terminal Expected Transmission Time For Relay Resistance C-APDU", B, 2, 2, Kernel, NONE),
    e(0xDF8135, "Terminal Expected Transmission Time For Relay Resistance R-APDU", B, 2, 2, Kernel, NONE),
    e(0xDF8136, "Relay Resistance Accuracy Threshold", B, 2, 2, Kernel, NONE),
    e(0xDF8137, "Relay Resistance Transmission Time Mismatch Threshold", B, 1, 1, Kernel, NONE),
    // --- DF83xx: Kernel 2 relay resistance protocol data ---
    e(0xDF8301, "Terminal Relay Resistance Entropy", B, 4, 4, Kernel, NONE),
    e(0xDF8302, "Device Relay Resistance Entropy", B, 4, 4, Icc, NONE),
    e(0xDF8303, "Min Time For Processing Relay Resistance APDU", B, 2, 2, Icc, NONE),
    e(0xDF8304, "Max Time For Processing Relay Resistance APDU", B, 2, 2, Icc, NONE),
    e(0xDF8305, "Device Estimated Transmission Time For Relay Resistance R-APDU", B, 2, 2, Icc, NONE),
    e(0xDF8306, "Measured Relay Resistance Processing Time", B, 2, 2, Kernel, NONE),
    e(0xDF8307, "RRP Counter", B, 1, 1, Kernel, NONE),
    // --- FF81xx: Kernel 2 constructed data ---
    e(0xFF8101, "Torn Record", Var, 0, UNBOUNDED, Kernel, NONE),
    e(0xFF8102, "Tags To Write Before Gen AC", Var, 0, UNBOUNDED, Terminal, NONE),
    e(0xFF8103, "Tags To Write After Gen AC", Var, 0, UNBOUNDED, Terminal, NONE),
    e(0xFF8104, "Data To Send", Var, 0, UNBOUNDED, Kernel, NONE),
    e(0xFF8105, "Data Record", Var, 0, UNBOUNDED, Kernel, NONE),
    e(0xFF8106, "Discretionary Data", Var, 0, UNBOUNDED, Kernel, NONE),
];

#[cfg(test)]
#[allow(clippy::expect_used)] // a missing entry should fail the test loudly
mod tests {
    use super::*;

    #[test]
    fn has_at_least_250_entries() {
        assert!(entries().len() >= 250, "only {} entries", entries().len());
    }

    #[test]
    fn sorted_strictly_by_tag() {
        assert!(is_strictly_sorted(entries()));
        for pair in entries().windows(2) {
            if let [a, b] = pair {
                assert!(a.tag < b.tag, "{} is not before {}", a.tag, b.tag);
            }
        }
    }

    #[test]
    fn the_sortedness_check_catches_disorder() {
        let a = e(0x9F02, "a", N, 6, 6, Terminal, NONE);
        let b = e(0x5A, "b", Cn, 0, 10, Icc, NONE);
        assert!(is_strictly_sorted(&[b, a]));
        assert!(!is_strictly_sorted(&[a, b]));
        assert!(
            !is_strictly_sorted(&[a, a]),
            "duplicates are not strictly sorted"
        );
        assert!(is_strictly_sorted(&[]));
    }

    #[test]
    fn min_len_not_above_max_len() {
        assert!(lengths_are_ordered(entries()));
        for entry in entries() {
            assert!(
                entry.min_len <= entry.max_len,
                "{}: {} > {}",
                entry.tag,
                entry.min_len,
                entry.max_len
            );
        }
    }

    #[test]
    fn every_entry_finds_itself() {
        for entry in entries() {
            assert_eq!(lookup(entry.tag), Some(entry), "{}", entry.tag);
        }
    }

    #[test]
    fn no_duplicate_tags() {
        for (i, a) in entries().iter().enumerate() {
            for b in entries().iter().skip(i + 1) {
                assert_ne!(a.tag, b.tag);
            }
        }
    }

    #[test]
    fn every_tag_is_well_formed() {
        for entry in entries() {
            assert!(entry.tag.is_well_formed(), "{}", entry.tag);
            for template in entry.templates {
                assert!(template.is_well_formed(), "{} in {}", template, entry.tag);
                assert!(
                    lookup(*template).is_some(),
                    "template {} of {} is not in the dictionary",
                    template,
                    entry.tag
                );
            }
        }
    }

    #[test]
    fn constructed_tags_are_var() {
        for entry in entries() {
            if entry.tag.is_constructed() {
                assert_eq!(entry.format, Format::Var, "{}", entry.tag);
            }
        }
    }

    #[test]
    fn names_are_ascii_and_unique() {
        for (i, a) in entries().iter().enumerate() {
            assert!(!a.name.is_empty(), "{}", a.tag);
            assert!(a.name.is_ascii(), "{}: {}", a.tag, a.name);
            assert_eq!(a.name.trim(), a.name, "{}", a.tag);
            for b in entries().iter().skip(i + 1) {
                assert_ne!(a.name, b.name, "{} and {}", a.tag, b.tag);
            }
        }
    }

    #[test]
    fn fixed_numeric_lengths_are_sane() {
        // `n` values are short and fixed-size or nearly so: the longest is
        // Application Reference Currency (up to four 2-byte codes).
        for entry in entries() {
            if entry.format == Format::N {
                assert!(entry.max_len <= 8, "{}", entry.tag);
                assert!(entry.min_len >= 1, "{}", entry.tag);
            }
        }
    }

    #[test]
    fn amount_authorised_numeric() {
        let entry = lookup(Tag::new(0x9F02)).expect("9F02 is known");
        assert_eq!(entry.name, "Amount, Authorised (Numeric)");
        assert_eq!(entry.format, Format::N);
        assert_eq!((entry.min_len, entry.max_len), (6, 6));
        assert_eq!(entry.source, Source::Terminal);
        assert!(entry.templates.is_empty());
        assert!(entry.accepts_len(6));
        assert!(!entry.accepts_len(5));
        assert!(!entry.accepts_len(7));
    }

    #[test]
    fn pan() {
        let entry = lookup(Tag::new(0x5A)).expect("5A is known");
        assert_eq!(entry.name, "Application Primary Account Number (PAN)");
        assert_eq!(entry.format, Format::Cn);
        assert_eq!((entry.min_len, entry.max_len), (0, 10));
        assert_eq!(entry.source, Source::Icc);
        assert_eq!(entry.templates, &[Tag::new(0x70), Tag::new(0x77)]);
    }

    #[test]
    fn tvr() {
        let entry = lookup(Tag::new(0x95)).expect("95 is known");
        assert_eq!(entry.name, "Terminal Verification Results");
        assert_eq!(entry.format, Format::B);
        assert_eq!((entry.min_len, entry.max_len), (5, 5));
        assert_eq!(entry.source, Source::Terminal);
    }

    #[test]
    fn kernel_2_elements() {
        let ops = lookup(Tag::new(0xDF8129)).expect("DF8129 is known");
        assert_eq!(ops.name, "Outcome Parameter Set");
        assert_eq!(ops.format, Format::B);
        assert_eq!((ops.min_len, ops.max_len), (8, 8));
        assert_eq!(ops.source, Source::Kernel);

        let record = lookup(Tag::new(0xFF8105)).expect("FF8105 is known");
        assert_eq!(record.name, "Data Record");
        assert_eq!(record.format, Format::Var);
        assert!(record.tag.is_constructed());
        assert_eq!(record.source, Source::Kernel);
    }

    #[test]
    fn spot_checks_against_book_3() {
        let check = |raw: u32, name: &str, format: Format, min: u16, max: u16, source: Source| {
            let entry = lookup(Tag::new(raw)).expect("known tag");
            assert_eq!(entry.name, name, "{:X}", raw);
            assert_eq!(entry.format, format, "{:X}", raw);
            assert_eq!((entry.min_len, entry.max_len), (min, max), "{:X}", raw);
            assert_eq!(entry.source, source, "{:X}", raw);
        };
        check(
            0x4F,
            "Application Identifier (AID) - card",
            Format::B,
            5,
            16,
            Source::Icc,
        );
        check(
            0x57,
            "Track 2 Equivalent Data",
            Format::B,
            0,
            19,
            Source::Icc,
        );
        check(0x50, "Application Label", Format::Ans, 1, 16, Source::Icc);
        check(0x5F20, "Cardholder Name", Format::Ans, 2, 26, Source::Icc);
        check(
            0x5F2A,
            "Transaction Currency Code",
            Format::N,
            2,
            2,
            Source::Terminal,
        );
        check(
            0x8C,
            "Card Risk Management Data Object List 1 (CDOL1)",
            Format::B,
            0,
            252,
            Source::Icc,
        );
        check(
            0x8D,
            "Card Risk Management Data Object List 2 (CDOL2)",
            Format::B,
            0,
            252,
            Source::Icc,
        );
        check(0x9A, "Transaction Date", Format::N, 3, 3, Source::Terminal);
        check(
            0x9F37,
            "Unpredictable Number",
            Format::B,
            4,
            4,
            Source::Terminal,
        );
        check(
            0x9F1A,
            "Terminal Country Code",
            Format::N,
            2,
            2,
            Source::Terminal,
        );
        check(
            0x9F33,
            "Terminal Capabilities",
            Format::B,
            3,
            3,
            Source::Terminal,
        );
        check(
            0x9F40,
            "Additional Terminal Capabilities",
            Format::B,
            5,
            5,
            Source::Terminal,
        );
        check(0x9F35, "Terminal Type", Format::N, 1, 1, Source::Terminal);
        check(
            0x9F1C,
            "Terminal Identification",
            Format::An,
            8,
            8,
            Source::Terminal,
        );
        check(
            0x9F16,
            "Merchant Identifier",
            Format::Ans,
            15,
            15,
            Source::Terminal,
        );
        check(
            0x9F4E,
            "Merchant Name and Location",
            Format::Ans,
            0,
            UNBOUNDED,
            Source::Terminal,
        );
        for issuer in [0x71, 0x72, 0x86, 0x89, 0x8A, 0x91, 0x9F18] {
            let entry = lookup(Tag::new(issuer)).expect("known tag");
            assert_eq!(entry.source, Source::Issuer, "{:X}", issuer);
        }
    }

    #[test]
    fn shared_tags_name_every_meaning() {
        let ffi = lookup(Tag::new(0x9F6E)).expect("9F6E is known");
        assert_eq!(
            ffi.name,
            "Form Factor Indicator (C-3) / Third Party Data (C-2)"
        );
        assert!(ffi.accepts_len(4) && ffi.accepts_len(32));
        let ttq = lookup(Tag::new(0x9F66)).expect("9F66 is known");
        assert!(
            ttq.name
                .starts_with("Terminal Transaction Qualifiers (TTQ)")
        );
    }

    #[test]
    fn unknown_tags_are_not_found() {
        for raw in [
            0xDF7F00,
            0x9F2B,
            0x9F30,
            0xDF8103,
            0xDF812E,
            0x5F2C,
            0x01,
            0xFFFF_FFFF,
        ] {
            assert_eq!(lookup(Tag::new(raw)), None, "{:X}", raw);
        }
        // Just outside both ends of the table.
        assert_eq!(lookup(Tag::new(0x41)), None);
        assert_eq!(lookup(Tag::new(0xFF8107)), None);
    }
}
