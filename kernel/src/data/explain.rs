//! Plain-text explanation of bit-field and structured data elements, for
//! traces and the `emv decode` command.
//!
//! Covers the elements whose bits and sub-fields the EMV books define: TVR
//! `95` (Book 3 Annex C5), TSI `9B` (C6), AIP `82` (C1), AUC `9F07` (C2),
//! CVM List `8E` (C3), CVM Results `9F34` (Book 4 Annex A4), Terminal
//! Capabilities `9F33` (A2), Additional Terminal Capabilities `9F40` (A3),
//! Terminal Type `9F35` (A1), CID `9F27` (Book 3 §6.5.5.4), AFL `94`
//! (§10.2), TTQ `9F66` (Contactless Book A Table 5-4), CTQ `9F6C` (Book C-3
//! Annex A.2) and Issuer Application Data `9F10` (Book 3 Annex C9 and the
//! scheme layouts).
//!
//! Every line ends in `'\n'` and carries no indentation (the caller
//! indents). Meanings marked **\[M\]** (unconfirmed) end in ` [M]`.

use core::fmt::{self, Write};

use crate::data::additional_terminal_capabilities::AdditionalTerminalCapabilities;
use crate::data::afl::{AflEntry, AflError};
use crate::data::aip::Aip;
use crate::data::auc::Auc;
use crate::data::bits::{BitPos, BitView, Field, named_mask};
use crate::data::cid::{Cid, ReasonCode};
use crate::data::ctq::Ctq;
use crate::data::cvm::{CvRule, CvmList, CvmResults};
use crate::data::iad::{CvrView, Iad, IadFormat, MChipSessionKey};
use crate::data::terminal_capabilities::TerminalCapabilities;
use crate::data::terminal_type::TerminalType;
use crate::data::tsi::Tsi;
use crate::data::ttq::Ttq;
use crate::data::tvr::Tvr;
use crate::wire::tag::Tag;

/// The tags [`explain`] interprets.
pub const EXPLAINED_TAGS: &[Tag] = &[
    Tag::new(0x82),
    Tag::new(0x8E),
    Tag::new(0x94),
    Tag::new(0x95),
    Tag::new(0x9B),
    Tag::new(0x9F07),
    Tag::new(0x9F10),
    Tag::new(0x9F27),
    Tag::new(0x9F33),
    Tag::new(0x9F34),
    Tag::new(0x9F35),
    Tag::new(0x9F40),
    Tag::new(0x9F66),
    Tag::new(0x9F6C),
];

/// Writes one line per meaning of a bit-field/structured element's value, each line ending in '\n'.
/// Returns Ok(false), writing nothing, when the tag has no typed interpretation.
///
/// A value of the wrong length or structure still gives `Ok(true)`, with a
/// line saying what is wrong (e.g. `expected 5 bytes, got 3`). The only
/// error is the writer's.
pub fn explain<W: Write>(tag: Tag, value: &[u8], out: &mut W) -> Result<bool, fmt::Error> {
    match tag.raw() {
        0x95 => explain_bits::<Tvr, W>(value, out)?,
        0x9B => explain_bits::<Tsi, W>(value, out)?,
        0x82 => explain_bits::<Aip, W>(value, out)?,
        0x9F07 => explain_bits::<Auc, W>(value, out)?,
        0x9F33 => explain_bits::<TerminalCapabilities, W>(value, out)?,
        0x9F40 => explain_bits::<AdditionalTerminalCapabilities, W>(value, out)?,
        0x9F66 => explain_bits::<Ttq, W>(value, out)?,
        0x9F6C => explain_bits::<Ctq, W>(value, out)?,
        0x8E => explain_cvm_list(value, out)?,
        0x9F34 => explain_cvm_results(value, out)?,
        0x9F35 => explain_terminal_type(value, out)?,
        0x9F27 => explain_cid(value, out)?,
        0x94 => explain_afl(value, out)?,
        0x9F10 => explain_iad(value, out)?,
        _ => return Ok(false),
    }
    Ok(true)
}

/// Explains a value of bit view `V`: one line per set flag
/// (`byte 1 bit 8: Offline data authentication was not performed`), one per
/// multi-bit field, one per set RFU bit (`byte 2 bit 3: RFU`), or
/// `no bits set`. A value of the wrong length gives
/// `expected N bytes, got M`.
pub fn explain_bits<V: BitView, W: Write>(value: &[u8], out: &mut W) -> fmt::Result {
    if value.len() != V::LEN {
        return expected_len(V::LEN, value.len(), out);
    }
    let lines = write_bits::<V, W>(value, "", &[], out)?;
    if lines == 0 {
        out.write_str("no bits set\n")?;
    }
    Ok(())
}

/// Writes the flags, fields (except `skip`) and RFU bits of `bytes` as view
/// `V`, each line starting with `prefix`. Returns the number of lines.
fn write_bits<V: BitView, W: Write>(
    bytes: &[u8],
    prefix: &str,
    skip: &[Field<V>],
    out: &mut W,
) -> Result<usize, fmt::Error> {
    // In book order: byte by byte, from b8 down to b1, each bit reported by
    // the flag, the field starting there, or as RFU.
    let mut lines = 0;
    for pos in all_bits(bytes.len()) {
        let mask = pos.mask();
        if let Some(d) = V::FIELDS
            .iter()
            .find(|d| d.byte == pos.byte && d.high_bit() == pos.bit)
        {
            if !skip.contains(d) {
                write!(
                    out,
                    "{prefix}byte {} bits {}-{}: {}: {}",
                    d.byte,
                    d.high_bit(),
                    d.low_bit(),
                    d.name,
                    d.value_in(bytes)
                )?;
                end_line(d.confirmed, out)?;
                lines += 1;
            }
            continue;
        }
        if let Some(f) = V::FLAGS
            .iter()
            .find(|f| f.byte == pos.byte && f.mask == mask)
        {
            if f.is_set_in(bytes) {
                write!(out, "{prefix}{pos}: {}", f.name)?;
                end_line(f.confirmed, out)?;
                lines += 1;
            }
            continue;
        }
        let set = usize::from(pos.byte)
            .checked_sub(1)
            .and_then(|i| bytes.get(i))
            .is_some_and(|b| b & mask != 0);
        if set && named_mask::<V>(pos.byte) & mask == 0 {
            writeln!(out, "{prefix}{pos}: RFU")?;
            lines += 1;
        }
    }
    Ok(lines)
}

/// Every bit position of a `len`-byte value, byte 1 b8 first.
fn all_bits(len: usize) -> impl Iterator<Item = BitPos> {
    (1..=u8::try_from(len).unwrap_or(u8::MAX))
        .flat_map(|byte| (1..=8u8).rev().map(move |bit| BitPos { byte, bit }))
}

fn end_line<W: Write>(confirmed: bool, out: &mut W) -> fmt::Result {
    out.write_str(if confirmed { "\n" } else { " [M]\n" })
}

fn expected_len<W: Write>(expected: usize, got: usize, out: &mut W) -> fmt::Result {
    let unit = if expected == 1 { "byte" } else { "bytes" };
    writeln!(out, "expected {expected} {unit}, got {got}")
}

fn write_hex<W: Write>(bytes: &[u8], out: &mut W) -> fmt::Result {
    bytes.iter().try_for_each(|b| write!(out, "{b:02X}"))
}

fn explain_cvm_list<W: Write>(value: &[u8], out: &mut W) -> fmt::Result {
    let list = match CvmList::parse(value) {
        Ok(list) => list,
        Err(e) => return writeln!(out, "{e}"),
    };
    writeln!(out, "X = {}", list.amount_x())?;
    writeln!(out, "Y = {}", list.amount_y())?;
    if list.is_empty() {
        return out.write_str("no CV Rules\n");
    }
    for (n, raw) in (1..).zip(list.rule_bytes().chunks_exact(2)) {
        let Ok(bytes) = <[u8; 2]>::try_from(raw) else {
            continue;
        };
        let rule = CvRule::from_bytes(bytes);
        let [b1, b2] = bytes;
        let on_failure = if rule.apply_next_if_unsuccessful {
            "apply the next rule if unsuccessful"
        } else {
            "fail cardholder verification if unsuccessful"
        };
        write!(
            out,
            "rule {n}: {} ({b1:02X} {b2:02X}): {}; {on_failure}",
            rule.method, rule.condition
        )?;
        if b1 & 0x80 != 0 {
            out.write_str("; RFU bit b8 set")?;
        }
        out.write_char('\n')?;
    }
    Ok(())
}

fn explain_cvm_results<W: Write>(value: &[u8], out: &mut W) -> fmt::Result {
    let Some(r) = CvmResults::from_bytes(value) else {
        return expected_len(CvmResults::LEN, value.len(), out);
    };
    let [b1, b2, b3] = r.to_bytes();
    writeln!(out, "method: {} ({b1:02X})", r.method())?;
    writeln!(out, "condition: {} ({b2:02X})", r.condition())?;
    writeln!(out, "result: {} ({b3:02X})", r.result().name())
}

fn explain_terminal_type<W: Write>(value: &[u8], out: &mut W) -> fmt::Result {
    match TerminalType::from_bytes(value) {
        Ok(t) => {
            writeln!(
                out,
                "operational control: {}",
                t.operational_control().name()
            )?;
            writeln!(out, "environment: {}", t.environment().name())
        }
        Err(e) => writeln!(out, "{e}"),
    }
}

fn explain_cid<W: Write>(value: &[u8], out: &mut W) -> fmt::Result {
    let Some(cid) = Cid::from_bytes(value) else {
        return expected_len(1, value.len(), out);
    };
    let ct = cid.cryptogram_type();
    writeln!(out, "cryptogram: {} ({})", ct.abbreviation(), ct.name())?;
    if cid.payment_system_bits() != 0 {
        writeln!(
            out,
            "payment system-specific cryptogram bits: {:02b}",
            cid.payment_system_bits()
        )?;
    }
    if cid.advice_required() {
        out.write_str("advice required\n")?;
    }
    match cid.reason() {
        ReasonCode::NoInformation => Ok(()),
        ReasonCode::Rfu(c) => writeln!(out, "reason/advice code: RFU ({c:03b})"),
        other => writeln!(out, "reason/advice code: {}", other.name()),
    }
}

fn explain_afl<W: Write>(value: &[u8], out: &mut W) -> fmt::Result {
    if value.is_empty() {
        return writeln!(out, "{}", AflError::Empty);
    }
    if !value.len().is_multiple_of(4) {
        return writeln!(out, "{}", AflError::BadLength { len: value.len() });
    }
    for (index, chunk) in value.chunks_exact(4).enumerate() {
        let Ok(bytes) = <[u8; 4]>::try_from(chunk) else {
            continue;
        };
        match AflEntry::from_bytes(bytes) {
            Ok(entry) => writeln!(out, "{entry}")?,
            Err(error) => writeln!(out, "{}", AflError::Entry { index, error })?,
        }
    }
    Ok(())
}

fn explain_iad<W: Write>(value: &[u8], out: &mut W) -> fmt::Result {
    let iad = Iad::parse(value);
    let format = iad.format();
    if format == IadFormat::Unknown {
        return writeln!(out, "format not recognised ({} bytes)", value.len());
    }
    writeln!(out, "format: {}", format.name())?;
    if let Some(dki) = iad.dki() {
        writeln!(out, "derivation key index: {dki:02X}")?;
    }
    if let Some(cvn) = iad.cvn() {
        if format == IadFormat::Ccd {
            writeln!(out, "common core identifier: {cvn:02X}")?;
        } else {
            writeln!(out, "cryptogram version number: {cvn:02X} ({cvn})")?;
        }
    }
    if let Some(key) = iad.mchip_session_key() {
        let name = match key {
            MChipSessionKey::MastercardSkd => "Mastercard SKD",
            MChipSessionKey::EmvCsk => "EMV CSK",
        };
        writeln!(out, "session key: {name}")?;
    }
    if let Some(counters) = iad.mchip_counters_in_ac() {
        let yes_no = if counters { "yes" } else { "no" };
        writeln!(out, "counters in AC data: {yes_no}")?;
    }
    if let Some(cvr) = iad.cvr() {
        out.write_str("CVR: ")?;
        write_hex(cvr, out)?;
        out.write_char('\n')?;
    }
    const FIRST: &str = "first GENERATE AC";
    if let Some(cvr) = iad.visa_cvr() {
        write_cvr(&cvr, FIRST, "", out)?;
    }
    if let Some(cvr) = iad.visa_format2_cvr() {
        write_cvr(&cvr, "first GENERATE AC or GPO", " [M]", out)?;
    }
    if let Some(cvr) = iad.mastercard_cvr() {
        write_cvr(&cvr, FIRST, "", out)?;
    }
    if let Some(cvr) = iad.ccd_cvr() {
        write_cvr(&cvr, FIRST, "", out)?;
    }
    if let Some(dac) = iad.mchip_dac_idn() {
        out.write_str("DAC/ICC dynamic number: ")?;
        write_hex(dac, out)?;
        out.write_char('\n')?;
    }
    if let Some(rest) = iad.trailing_data().filter(|r| !r.is_empty()) {
        let label = match format {
            IadFormat::Ccd => "counters and issuer discretionary data",
            IadFormat::MChip4 | IadFormat::MChipAdvance => "counters and further data",
            _ => "issuer discretionary data",
        };
        write!(out, "{label}: ")?;
        write_hex(rest, out)?;
        out.write_char('\n')?;
    }
    Ok(())
}

/// The CVR's cryptogram types, then its other bits. `first` names where the
/// first cryptogram came from; `mark` follows the cryptogram lines (" [M]"
/// for an unconfirmed layout).
fn write_cvr<V: CvrView, W: Write>(cvr: &V, first: &str, mark: &str, out: &mut W) -> fmt::Result {
    writeln!(out, "CVR {first}: {}{mark}", cvr.first_generate_ac())?;
    writeln!(
        out,
        "CVR second GENERATE AC: {}{mark}",
        cvr.second_generate_ac().name()
    )?;
    write_bits::<V, W>(cvr.as_bytes(), "CVR ", &[V::FIRST_AC, V::SECOND_AC], out)?;
    Ok(())
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

    use std::string::String;
    use std::vec::Vec;

    use super::*;
    use proptest::prelude::*;

    fn run(tag: u32, hex_value: &str) -> (bool, String) {
        let value = hex::decode(hex_value).unwrap();
        let mut s = String::new();
        let known = explain(Tag::new(tag), &value, &mut s).unwrap();
        (known, s)
    }

    fn lines(tag: u32, hex_value: &str) -> Vec<String> {
        let (known, s) = run(tag, hex_value);
        assert!(known);
        assert!(s.ends_with('\n'), "{s:?}");
        s.lines().map(String::from).collect()
    }

    #[test]
    fn unknown_tag_writes_nothing() {
        let (known, s) = run(0x5A, "4761739001010119");
        assert!(!known);
        assert!(s.is_empty());
        assert!(!EXPLAINED_TAGS.contains(&Tag::new(0x5A)));
        assert_eq!(EXPLAINED_TAGS.len(), 14);
    }

    #[test]
    fn tvr_lines() {
        assert_eq!(
            lines(0x95, "8000048000"),
            [
                "byte 1 bit 8: Offline data authentication was not performed",
                "byte 3 bit 3: Online CVM captured",
                "byte 4 bit 8: Transaction exceeds floor limit",
            ]
        );
        assert_eq!(
            lines(0x95, "0000008000"),
            ["byte 4 bit 8: Transaction exceeds floor limit"]
        );
        assert_eq!(lines(0x95, "0000000000"), ["no bits set"]);
        assert_eq!(lines(0x95, "000000"), ["expected 5 bytes, got 3"]);
        assert_eq!(lines(0x95, "0004000000"), ["byte 2 bit 3: RFU"]);
    }

    #[test]
    fn flag_views_lines() {
        assert_eq!(
            lines(0x82, "5800"),
            [
                "byte 1 bit 7: SDA supported",
                "byte 1 bit 5: Cardholder verification is supported",
                "byte 1 bit 4: Terminal risk management is to be performed",
            ]
        );
        assert_eq!(lines(0x9F07, "FF00").len(), 8);
        assert_eq!(lines(0x9F07, "FF00")[6], "byte 1 bit 2: Valid at ATMs");
        assert_eq!(
            lines(0x9B, "E800")[3],
            "byte 1 bit 4: Terminal risk management was performed"
        );
        assert_eq!(lines(0x9F33, "E0F8C8").len(), 11);
        assert_eq!(
            lines(0x9F40, "7000B0F001").last().map(String::as_str),
            Some("byte 5 bit 1: Code table 1")
        );
        assert_eq!(
            lines(0x9F66, "00000080"),
            ["byte 4 bit 8: fDDA v1.0 supported [M]"]
        );
        assert_eq!(lines(0x9F6C, "8000"), ["byte 1 bit 8: Online PIN required"]);
        assert_eq!(lines(0x9F6C, "800000"), ["expected 2 bytes, got 3"]);
    }

    #[test]
    fn cvm_list_lines() {
        assert_eq!(
            lines(0x8E, "000000000000000042031E031F03"),
            [
                "X = 0",
                "Y = 0",
                "rule 1: Enciphered PIN verified online (42 03): if terminal supports the CVM; apply the next rule if unsuccessful",
                "rule 2: Signature (paper) (1E 03): if terminal supports the CVM; fail cardholder verification if unsuccessful",
                "rule 3: No CVM required (1F 03): if terminal supports the CVM; fail cardholder verification if unsuccessful",
            ]
        );
        let l = lines(0x8E, "00000000000000000203420341031E031F00");
        assert_eq!(l.len(), 7);
        assert_eq!(
            l[2],
            "rule 1: Enciphered PIN verified online (02 03): if terminal supports the CVM; fail cardholder verification if unsuccessful"
        );
        assert_eq!(
            l[4],
            "rule 3: Plaintext PIN verification performed by ICC (41 03): if terminal supports the CVM; apply the next rule if unsuccessful"
        );
        assert_eq!(
            l[6],
            "rule 5: No CVM required (1F 00): always; fail cardholder verification if unsuccessful"
        );
        assert_eq!(
            lines(0x8E, "000186A0000003E8"),
            ["X = 100000", "Y = 1000", "no CV Rules"]
        );
        assert_eq!(
            lines(0x8E, "000000000000000042"),
            ["CVM List length 9 is odd: CV Rules are 2 bytes each"]
        );
        assert_eq!(
            lines(0x8E, "0000000000000000A50A")[2],
            "rule 1: Payment system-specific CVM 25 (A5 0A): RFU condition 0A; fail cardholder verification if unsuccessful; RFU bit b8 set"
        );
    }

    #[test]
    fn cvm_results_lines() {
        assert_eq!(
            lines(0x9F34, "1F0302"),
            [
                "method: No CVM required (1F)",
                "condition: if terminal supports the CVM (03)",
                "result: successful (02)",
            ]
        );
        assert_eq!(
            lines(0x9F34, "420300"),
            [
                "method: Enciphered PIN verified online (42)",
                "condition: if terminal supports the CVM (03)",
                "result: unknown (00)",
            ]
        );
        assert_eq!(lines(0x9F34, "3F00"), ["expected 3 bytes, got 2"]);
    }

    #[test]
    fn terminal_type_lines() {
        assert_eq!(
            lines(0x9F35, "22"),
            [
                "operational control: merchant",
                "environment: attended, offline with online capability"
            ]
        );
        assert_eq!(
            lines(0x9F35, "47"),
            ["invalid terminal type 47 (valid: 11-16, 21-26, 34-36)"]
        );
        assert_eq!(lines(0x9F35, ""), ["expected 1 byte, got 0"]);
    }

    #[test]
    fn cid_lines() {
        assert_eq!(
            lines(0x9F27, "80"),
            ["cryptogram: ARQC (Authorisation Request Cryptogram)"]
        );
        assert_eq!(
            lines(0x9F27, "40"),
            ["cryptogram: TC (Transaction Certificate)"]
        );
        assert_eq!(
            lines(0x9F27, "00"),
            ["cryptogram: AAC (Application Authentication Cryptogram)"]
        );
        assert_eq!(
            lines(0x9F27, "88"),
            [
                "cryptogram: ARQC (Authorisation Request Cryptogram)",
                "advice required"
            ]
        );
        assert_eq!(
            lines(0x9F27, "2B"),
            [
                "cryptogram: AAC (Application Authentication Cryptogram)",
                "payment system-specific cryptogram bits: 10",
                "advice required",
                "reason/advice code: issuer authentication failed",
            ]
        );
        assert_eq!(lines(0x9F27, "0D")[1], "advice required");
        assert_eq!(lines(0x9F27, "05")[1], "reason/advice code: RFU (101)");
        assert_eq!(lines(0x9F27, "8000"), ["expected 1 byte, got 2"]);
    }

    #[test]
    fn afl_lines() {
        assert_eq!(
            lines(0x94, "080101001001030118010201"),
            [
                "SFI 1, record 1, 0 for offline data authentication",
                "SFI 2, records 1-3, 1 for offline data authentication",
                "SFI 3, records 1-2, 1 for offline data authentication",
            ]
        );
        assert_eq!(
            lines(0x94, "0801010010030201"),
            [
                "SFI 1, record 1, 0 for offline data authentication",
                "AFL entry 2: last record 2 is before first record 3",
            ]
        );
        assert_eq!(
            lines(0x94, "080101"),
            ["AFL length 3 is not a multiple of 4"]
        );
        assert_eq!(lines(0x94, ""), ["AFL is empty"]);
    }

    #[test]
    fn iad_visa_lines() {
        assert_eq!(
            lines(0x9F10, "06010A03A00000"),
            [
                "format: Visa VSDC IAD format 0",
                "derivation key index: 01",
                "cryptogram version number: 0A (10)",
                "CVR: 03A00000",
                "CVR first GENERATE AC: ARQC",
                "CVR second GENERATE AC: not requested",
                "CVR byte 1 bits 8-1: CVR length: 3",
                "CVR byte 4 bits 8-5: Number of issuer script commands processed: 0",
            ]
        );
    }

    #[test]
    fn iad_mchip_lines() {
        assert_eq!(
            lines(0x9F10, "0110A00003220000000000000000000000FF"),
            [
                "format: Mastercard M/Chip 4",
                "derivation key index: 01",
                "cryptogram version number: 10 (16)",
                "session key: Mastercard SKD",
                "counters in AC data: no",
                "CVR: A00003220000",
                "CVR first GENERATE AC: ARQC",
                "CVR second GENERATE AC: not requested",
                "CVR byte 3 bits 8-5: Right nibble of script counter: 0",
                "CVR byte 3 bits 4-1: Right nibble of PIN try counter: 3",
                "CVR byte 4 bit 6: Offline PIN verification not performed",
                "CVR byte 4 bit 2: Domestic transaction",
                "DAC/ICC dynamic number: 0000",
                "counters and further data: 00000000000000FF",
            ]
        );
    }

    #[test]
    fn iad_unknown_and_other_formats() {
        assert_eq!(lines(0x9F10, "0102"), ["format not recognised (2 bytes)"]);
        let mut ccd = String::from("0FA501A0B8000000");
        ccd.push_str(&"00".repeat(8));
        ccd.push_str("0F");
        ccd.push_str(&"00".repeat(15));
        let l = lines(0x9F10, &ccd);
        assert_eq!(l[0], "format: EMV Common Core Definitions (CCD 4.1)");
        assert_eq!(l[2], "common core identifier: A5");
        assert!(l.contains(&String::from(
            "CVR byte 2 bit 4: Offline PIN verification performed"
        )));
        assert!(l.contains(&String::from(
            "CVR byte 2 bits 8-5: Low-order nibble of PIN Try Counter: 11"
        )));
        let mut v2 = String::from("1F220100A00000020002");
        v2.push_str(&"00".repeat(22));
        let l = lines(0x9F10, &v2);
        assert_eq!(l[0], "format: Visa VSDC IAD format 2");
        assert!(l.contains(&String::from("CVR first GENERATE AC or GPO: ARQC [M]")));
        assert!(l.contains(&String::from(
            "CVR byte 5 bit 2: CDCVM successfully performed [M]"
        )));
    }

    /// A writer that fails after `budget` writes, to check errors propagate.
    struct Failing(usize);

    impl Write for Failing {
        fn write_str(&mut self, _: &str) -> fmt::Result {
            if self.0 == 0 {
                return Err(fmt::Error);
            }
            self.0 -= 1;
            Ok(())
        }
    }

    #[test]
    fn writer_errors_propagate() {
        let v = hex::decode("8000048000").unwrap();
        assert_eq!(
            explain(Tag::new(0x95), &v, &mut Failing(0)),
            Err(fmt::Error)
        );
        assert_eq!(explain(Tag::new(0x5A), &v, &mut Failing(0)), Ok(false));
    }

    fn any_tag() -> impl Strategy<Value = Tag> {
        prop_oneof![
            proptest::sample::select(EXPLAINED_TAGS.to_vec()),
            any::<u32>().prop_map(Tag::new),
        ]
    }

    proptest! {
        #[test]
        fn never_panics(tag in any_tag(), value in proptest::collection::vec(any::<u8>(), 0..64)) {
            let mut s = String::new();
            let known = explain(tag, &value, &mut s).unwrap();
            prop_assert_eq!(known, EXPLAINED_TAGS.contains(&tag));
            if known {
                prop_assert!(s.ends_with('\n'));
                prop_assert!(s.lines().all(|l| !l.is_empty() && !l.starts_with(' ')));
            } else {
                prop_assert!(s.is_empty());
            }
            // Errors from the writer never panic either.
            for budget in 0..4 {
                let _ = explain(tag, &value, &mut Failing(budget));
            }
        }
    }
}
