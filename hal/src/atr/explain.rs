//! Human-readable dump of an ATR: one line per element (ISO/IEC 7816-3 §8.2–§8.3 and §11.4
//! meanings), then the verdict of EMV Contact Interface Specification v1.0 §8.3.
//!
//! Format: plain lines ending in `'\n'`, no indentation, in transmission order:
//!
//! ```text
//! TS = 3B: direct convention
//! T0 = E0: TA1 absent, TB1 present, TC1 present, TD1 present; 0 historical bytes
//! TB1 = 00: VPP not connected
//! TC1 = FF: extra guard time N = 255 (minimum: 12 etu for T=0, 11 etu for T=1)
//! TD1 = 81: TD2 present; protocol T=1
//! TD2 = 31: TA3, TB3 present; protocol T=1
//! TA3 = 7C: IFSC = 124 (T=1)
//! TB3 = 41: BWI = 4, CWI = 1 (T=1)
//! historical bytes: none
//! TCK = 92: correct
//! EMV: accepted, T=1, Fi=372 Di=1, N=255, IFSC=124, BWI=4, CWI=1, LRC
//! ```

use core::fmt::{self, Write};

use super::{
    Atr, Convention, Edc, EmvCheckOptions, EmvTransmission, InterfaceKind, di_from_code,
    fi_from_code, fmax_khz_from_code,
};

/// Write the explanation of `atr` to `out`, with the EMV verdict for a cold ATR
/// ([`EmvCheckOptions::COLD`]).
///
/// # Errors
/// Only those of `out`.
pub fn explain<W: Write>(atr: &Atr<'_>, out: &mut W) -> fmt::Result {
    explain_with(atr, &EmvCheckOptions::COLD, out)
}

/// Write the explanation of `atr` to `out`, with the EMV verdict under `options`.
///
/// # Errors
/// Only those of `out`.
pub fn explain_with<W: Write>(
    atr: &Atr<'_>,
    options: &EmvCheckOptions,
    out: &mut W,
) -> fmt::Result {
    let convention = match atr.convention() {
        Convention::Direct => "direct",
        Convention::Inverse => "inverse",
    };
    writeln!(out, "TS = {:02X}: {convention} convention", atr.ts())?;

    write!(out, "T0 = {:02X}: ", atr.t0())?;
    for (n, kind) in InterfaceKind::ALL.into_iter().enumerate() {
        let state = if atr.y1() & kind.presence_bit() != 0 {
            "present"
        } else {
            "absent"
        };
        let sep = if n == 0 { "" } else { ", " };
        write!(out, "{sep}T{}1 {state}", kind.letter())?;
    }
    writeln!(out, "; {} historical byte{}", atr.k(), plural(atr.k()))?;

    for (i, group) in atr.groups() {
        for kind in InterfaceKind::ALL {
            if let Some(value) = group.get(kind) {
                write!(out, "T{}{i} = {value:02X}: ", kind.letter())?;
                describe_interface_byte(atr, kind, i, value, out)?;
                out.write_char('\n')?;
            }
        }
    }

    describe_historical(atr.historical_bytes(), out)?;

    match atr.tck() {
        Some(tck) => writeln!(out, "TCK = {tck:02X}: correct")?,
        None => writeln!(out, "TCK: absent (only T=0 indicated)")?,
    }

    match atr.emv_check_with(options) {
        Ok(params) => {
            write!(
                out,
                "EMV: accepted, T={}, Fi={} Di={}, N={}",
                params.protocol().number(),
                params.fi,
                params.di,
                params.extra_guard_time
            )?;
            match params.transmission {
                EmvTransmission::T0 { wi } => write!(out, ", WI={wi}")?,
                EmvTransmission::T1 {
                    ifsc,
                    bwi,
                    cwi,
                    edc,
                } => write!(
                    out,
                    ", IFSC={ifsc}, BWI={bwi}, CWI={cwi}, {}",
                    edc_name(edc)
                )?,
            }
            if !params.other_protocols.is_empty() {
                write!(out, "; ignored: {}", params.other_protocols)?;
            }
            out.write_char('\n')
        }
        Err(rejection) => writeln!(out, "EMV: rejected: {rejection}"),
    }
}

const fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

const fn edc_name(edc: Edc) -> &'static str {
    match edc {
        Edc::Lrc => "LRC",
        Edc::Crc => "CRC",
    }
}

/// The text after `TXi = vv: `, without the line end.
fn describe_interface_byte<W: Write>(
    atr: &Atr<'_>,
    kind: InterfaceKind,
    i: usize,
    value: u8,
    out: &mut W,
) -> fmt::Result {
    match (kind, i) {
        (InterfaceKind::D, _) => describe_td(i, value, out),
        (InterfaceKind::A, 1) => describe_ta1(value, out),
        (InterfaceKind::B, 1) => {
            if value == 0 {
                out.write_str("VPP not connected")
            } else {
                write!(
                    out,
                    "VPP parameters PI1 = {}, II = {} (deprecated since ISO/IEC 7816-3:2006)",
                    value & 0x1F,
                    (value >> 5) & 0x03
                )
            }
        }
        (InterfaceKind::C, 1) => {
            if value == 0xFF {
                out.write_str("extra guard time N = 255 (minimum: 12 etu for T=0, 11 etu for T=1)")
            } else {
                write!(
                    out,
                    "extra guard time N = {value} (guard time {} etu)",
                    12 + u16::from(value)
                )
            }
        }
        (InterfaceKind::A, 2) => {
            write!(out, "specific mode, protocol T={}", value & 0x0F)?;
            out.write_str(if value & 0x80 == 0 {
                ", mode change capable"
            } else {
                ", unable to change mode"
            })?;
            out.write_str(if value & 0x10 == 0 {
                ", Fi/Di from TA1"
            } else {
                ", implicit Fi/Di"
            })
        }
        (InterfaceKind::B, 2) => write!(
            out,
            "VPP parameter PI2 = {value} (deprecated since ISO/IEC 7816-3:2006)"
        ),
        (InterfaceKind::C, 2) => {
            if value == 0 {
                out.write_str("WI = 0 (RFU) (T=0)")
            } else {
                write!(out, "WI = {value} (T=0 waiting time integer)")
            }
        }
        _ => describe_specific(atr, kind, i, value, out),
    }
}

fn describe_td<W: Write>(i: usize, value: u8, out: &mut W) -> fmt::Result {
    let y = value >> 4;
    if y == 0 {
        out.write_str("no further interface bytes")?;
    } else {
        let mut first = true;
        for kind in InterfaceKind::ALL {
            if y & kind.presence_bit() != 0 {
                let sep = if first { "" } else { ", " };
                write!(out, "{sep}T{}{}", kind.letter(), i + 1)?;
                first = false;
            }
        }
        out.write_str(" present")?;
    }
    let t = value & 0x0F;
    write!(out, "; protocol T={t}")?;
    if t == 15 {
        out.write_str(" (global interface bytes)")?;
    }
    Ok(())
}

fn describe_ta1<W: Write>(value: u8, out: &mut W) -> fmt::Result {
    let (fi_code, di_code) = (value >> 4, value & 0x0F);
    match fi_from_code(fi_code) {
        Some(fi) => write!(out, "Fi = {fi}")?,
        None => write!(out, "Fi RFU (FI = {fi_code:X})")?,
    }
    match di_from_code(di_code) {
        Some(di) => write!(out, ", Di = {di}")?,
        None => write!(out, ", Di RFU (DI = {di_code:X})")?,
    }
    if let Some(khz) = fmax_khz_from_code(fi_code) {
        write!(out, ", fmax = {}", khz / 1000)?;
        if khz % 1000 != 0 {
            write!(out, ".{}", (khz % 1000) / 100)?;
        }
        out.write_str(" MHz")?;
    }
    Ok(())
}

/// TAi/TBi/TCi for i >= 3: meaning depends on the protocol of TD(i-1).
fn describe_specific<W: Write>(
    atr: &Atr<'_>,
    kind: InterfaceKind,
    i: usize,
    value: u8,
    out: &mut W,
) -> fmt::Result {
    let Some(t) = atr.group_protocol(i) else {
        return out.write_str("interface byte");
    };
    let is_first = atr.specific_byte(kind, t).map(|(at, _)| at) == Some(i);
    match (t, kind, is_first) {
        (1, InterfaceKind::A, true) => {
            if value == 0 || value == 0xFF {
                write!(out, "IFSC RFU value (T=1)")
            } else {
                write!(out, "IFSC = {value} (T=1)")
            }
        }
        (1, InterfaceKind::B, true) => {
            write!(out, "BWI = {}, CWI = {} (T=1)", value >> 4, value & 0x0F)
        }
        (1, InterfaceKind::C, true) => {
            let edc = if value & 0x01 == 0 {
                Edc::Lrc
            } else {
                Edc::Crc
            };
            write!(out, "EDC = {} (T=1)", edc_name(edc))
        }
        (15, InterfaceKind::A, true) => {
            let y = value & 0x3F;
            write!(out, "class indicator Y = {y:02X} (")?;
            let mut first = true;
            for (bit, class) in [(0x01, "A"), (0x02, "B"), (0x04, "C")] {
                if y & bit != 0 {
                    let sep = if first { "classes " } else { ", " };
                    write!(out, "{sep}{class}")?;
                    first = false;
                }
            }
            if first {
                out.write_str("no class")?;
            }
            let clock = match value >> 6 {
                0 => "not supported",
                1 => "state L",
                2 => "state H",
                _ => "no preference",
            };
            write!(out, "), clock stop: {clock} (T=15)")
        }
        (15, InterfaceKind::B, true) => {
            if value == 0 {
                out.write_str("SPU not used (T=15)")
            } else {
                write!(out, "SPU usage {value:02X} (T=15)")
            }
        }
        (_, _, true) => write!(out, "specific to T={t}"),
        (_, _, false) => write!(
            out,
            "specific to T={t} (not the first T{} for T={t})",
            kind.letter()
        ),
    }
}

/// `historical bytes: none` or `historical bytes (K): hex...` plus, when the bytes contain a
/// run of at least 3 printable ASCII characters, the ASCII rendering with `.` for the others,
/// and the category indicator (ISO/IEC 7816-4 §8.1.1).
fn describe_historical<W: Write>(historical: &[u8], out: &mut W) -> fmt::Result {
    let Some(&category) = historical.first() else {
        return writeln!(out, "historical bytes: none");
    };
    write!(out, "historical bytes ({}):", historical.len())?;
    for b in historical {
        write!(out, " {b:02X}")?;
    }
    let printable = |b: u8| (0x20..=0x7E).contains(&b);
    let mut run = 0usize;
    let mut longest = 0usize;
    for &b in historical {
        run = if printable(b) { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    if longest >= 3 {
        out.write_str(" \"")?;
        for &b in historical {
            out.write_char(if printable(b) { char::from(b) } else { '.' })?;
        }
        out.write_char('"')?;
    }
    let meaning = match category {
        0x00 => "COMPACT-TLV, status indicator in the last 3 bytes",
        0x10 => "DIR data reference",
        0x80 => "COMPACT-TLV",
        0x81..=0x8F => "RFU",
        _ => "proprietary",
    };
    writeln!(out, "; category {category:02X}: {meaning}")
}
