//! Answer-to-Reset (ATR) parsing, EMV acceptance and a human-readable dump.
//!
//! Clauses implemented:
//!
//! * ISO/IEC 7816-3:2006 §8.1–§8.2 (structure of the ATR: TS, T0, the interface byte groups
//!   TAi/TBi/TCi/TDi, the K historical bytes and the check byte TCK), §8.3 (the global
//!   interface bytes: Fi/Di/fmax tables from TA1, extra guard time N from TC1, the specific
//!   mode byte TA2, WI from TC2) and §11.4 (the T=1 bytes: IFSC, BWI/CWI, EDC) — in
//!   [`Atr::parse`] and the accessors of [`Atr`];
//! * EMV Contact Interface Specification (EMV Level 1) v1.0 §8.3 "Answer to Reset": the
//!   per-byte acceptance rules §8.3.1–§8.3.4 — in [`Atr::emv_check`] (module `emv`);
//! * a one-line-per-element explanation of both — [`explain`].
//!
//! The parser is zero-copy: an [`Atr`] borrows the input bytes. The input is the ATR *as
//! decoded by the UART*: TS reads `3B` for the direct and `3F` for the inverse convention
//! (a raw inverse-convention `3F` read as direct shows as `03` and is rejected).
//!
//! Deviations from other implementations, on purpose:
//!
//! * TCK is required as soon as any TDi indicates a protocol other than T=0, T=15 included,
//!   as ISO/IEC 7816-3 §8.2.5 says ("if only T=0 is indicated, TCK shall be absent; in all
//!   other cases TCK shall be present"). openemv/emv-utils makes TCK optional for T=0 + T=15.
//! * At most [`MAX_GROUPS`] interface byte groups are accepted. The ISO maximum ATR length
//!   (33 bytes) is not enforced.

mod emv;
mod explain;
#[cfg(test)]
mod tests;

use core::fmt;

pub use emv::{
    EmvAtrParams, EmvCheckOptions, EmvProtocol, EmvRejection, EmvTransmission, NegotiableTa1Policy,
    RejectAction, ResetKind, Tc1Policy,
};
pub use explain::{explain, explain_with};

/// Maximum number of interface byte groups (TAi..TDi, i = 1..=`MAX_GROUPS`) accepted by
/// [`Atr::parse`]. A TD8 announcing a ninth group is [`AtrError::TooManyGroups`].
pub const MAX_GROUPS: usize = 8;

/// TS value for the direct convention (ISO/IEC 7816-3 §8.1).
pub const TS_DIRECT: u8 = 0x3B;
/// TS value for the inverse convention, after decoding (ISO/IEC 7816-3 §8.1).
pub const TS_INVERSE: u8 = 0x3F;

/// Default TA1 when absent: FI = 1, DI = 1 (Fi = 372, Di = 1, fmax = 5 MHz).
pub const DEFAULT_TA1: u8 = 0x11;
/// Default extra guard time N when TC1 is absent.
pub const DEFAULT_N: u8 = 0;
/// Default waiting time integer WI for T=0 when TC2 is absent (ISO/IEC 7816-3 §10.2).
pub const DEFAULT_WI: u8 = 10;
/// Default IFSC for T=1 when no TA for T=1 is present (ISO/IEC 7816-3 §11.4.2).
pub const DEFAULT_IFSC: u8 = 32;
/// Default block waiting time integer BWI for T=1 (ISO/IEC 7816-3 §11.4.3).
pub const DEFAULT_BWI: u8 = 4;
/// Default character waiting time integer CWI for T=1 (ISO/IEC 7816-3 §11.4.3).
pub const DEFAULT_CWI: u8 = 13;

/// Fi (clock rate conversion integer) for an FI code (high nibble of TA1), ISO/IEC 7816-3
/// Table 7. `None` for the RFU codes 7, 8, E and F (and anything above F).
#[must_use]
pub const fn fi_from_code(fi: u8) -> Option<u16> {
    match fi {
        0 | 1 => Some(372),
        2 => Some(558),
        3 => Some(744),
        4 => Some(1116),
        5 => Some(1488),
        6 => Some(1860),
        9 => Some(512),
        0xA => Some(768),
        0xB => Some(1024),
        0xC => Some(1536),
        0xD => Some(2048),
        _ => None,
    }
}

/// fmax in kHz for an FI code (high nibble of TA1), ISO/IEC 7816-3 Table 7. `None` for RFU
/// codes.
#[must_use]
pub const fn fmax_khz_from_code(fi: u8) -> Option<u32> {
    match fi {
        0 => Some(4_000),
        1 | 9 => Some(5_000),
        2 => Some(6_000),
        3 => Some(8_000),
        4 => Some(12_000),
        5 => Some(16_000),
        6 | 0xD => Some(20_000),
        0xA => Some(7_500),
        0xB => Some(10_000),
        0xC => Some(15_000),
        _ => None,
    }
}

/// Di (baud rate adjustment integer) for a DI code (low nibble of TA1), ISO/IEC 7816-3
/// Table 8. `None` for the RFU codes 0 and A..F.
#[must_use]
pub const fn di_from_code(di: u8) -> Option<u8> {
    match di {
        1 => Some(1),
        2 => Some(2),
        3 => Some(4),
        4 => Some(8),
        5 => Some(16),
        6 => Some(32),
        7 => Some(64),
        8 => Some(12),
        9 => Some(20),
        _ => None,
    }
}

/// Transmission convention announced by TS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Convention {
    /// `TS = 3B`: logic one is high, least significant bit first.
    Direct,
    /// `TS = 3F` (decoded): logic one is low, most significant bit first.
    Inverse,
}

impl Convention {
    /// The convention for a decoded TS byte, `None` if TS is neither `3B` nor `3F`.
    #[must_use]
    pub const fn from_ts(ts: u8) -> Option<Self> {
        match ts {
            TS_DIRECT => Some(Self::Direct),
            TS_INVERSE => Some(Self::Inverse),
            _ => None,
        }
    }

    /// The decoded TS byte for this convention.
    #[must_use]
    pub const fn ts(self) -> u8 {
        match self {
            Self::Direct => TS_DIRECT,
            Self::Inverse => TS_INVERSE,
        }
    }
}

/// Which of the four interface bytes of a group: TAi, TBi, TCi or TDi.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum InterfaceKind {
    /// TAi (presence bit b5 of Y).
    A,
    /// TBi (presence bit b6 of Y).
    B,
    /// TCi (presence bit b7 of Y).
    C,
    /// TDi (presence bit b8 of Y).
    D,
}

impl InterfaceKind {
    /// The four kinds in transmission order.
    pub const ALL: [Self; 4] = [Self::A, Self::B, Self::C, Self::D];

    /// The presence bit of this kind in the Y nibble (T0 or TDi shifted right by 4).
    #[must_use]
    pub const fn presence_bit(self) -> u8 {
        match self {
            Self::A => 0x1,
            Self::B => 0x2,
            Self::C => 0x4,
            Self::D => 0x8,
        }
    }

    /// The letter used in the ISO name: `'A'`, `'B'`, `'C'` or `'D'`.
    #[must_use]
    pub const fn letter(self) -> char {
        match self {
            Self::A => 'A',
            Self::B => 'B',
            Self::C => 'C',
            Self::D => 'D',
        }
    }
}

/// One element of an ATR, used to name a position in errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AtrElement {
    /// The initial character TS.
    Ts,
    /// The format byte T0.
    T0,
    /// An interface byte TAi/TBi/TCi/TDi.
    Interface {
        /// Which byte of the group.
        kind: InterfaceKind,
        /// The group number i (1-based).
        index: u8,
    },
    /// A historical byte (1-based, T1..TK in ISO naming).
    Historical {
        /// 1-based position among the K historical bytes.
        index: u8,
    },
    /// The check byte TCK.
    Tck,
}

impl fmt::Display for AtrElement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ts => f.write_str("TS"),
            Self::T0 => f.write_str("T0"),
            Self::Interface { kind, index } => write!(f, "T{}{index}", kind.letter()),
            Self::Historical { index } => write!(f, "historical byte {index}"),
            Self::Tck => f.write_str("TCK"),
        }
    }
}

/// Why [`Atr::parse`] refused its input (ISO/IEC 7816-3 §8.2). Every variant names the byte
/// offset (0 = TS) where the problem was found, also available through [`AtrError::offset`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AtrError {
    /// No bytes at all.
    #[error("empty ATR: expected TS at offset 0")]
    Empty,
    /// TS (offset 0) is neither `3B` nor `3F`.
    #[error(
        "invalid TS = {value:02X} at offset 0: expected 3B (direct convention) or 3F (inverse convention)"
    )]
    InvalidTs {
        /// The TS byte found.
        value: u8,
    },
    /// The input ends before the ATR does.
    #[error(
        "truncated ATR: {element} missing at offset {offset}; expected at least {missing} more byte(s)"
    )]
    Truncated {
        /// Offset of the first missing byte (the input length).
        offset: usize,
        /// The element expected at that offset.
        element: AtrElement,
        /// Minimum number of further bytes the ATR needs, as far as it is known at that point.
        missing: usize,
    },
    /// The XOR of T0..TCK is not zero.
    #[error("bad TCK at offset {offset}: expected {expected:02X}, found {found:02X}")]
    BadTck {
        /// Offset of TCK.
        offset: usize,
        /// XOR of T0 up to the last historical byte.
        expected: u8,
        /// The TCK byte received.
        found: u8,
    },
    /// Bytes follow the end of the ATR (after TCK, or after the last historical byte when TCK
    /// is absent because only T=0 is indicated).
    #[error("{count} trailing byte(s) at offset {offset} after the end of the ATR")]
    TrailingBytes {
        /// Offset of the first byte after the ATR.
        offset: usize,
        /// Number of extra bytes.
        count: usize,
    },
    /// TD of the last supported group announces yet another group.
    #[error(
        "too many interface byte groups: TD{index} at offset {offset} announces group {next}, at most {max} are supported",
        next = usize::from(*index) + 1,
        max = MAX_GROUPS
    )]
    TooManyGroups {
        /// Offset of the TD byte announcing the extra group.
        offset: usize,
        /// Its group number i (always [`MAX_GROUPS`]).
        index: u8,
    },
}

impl AtrError {
    /// The byte offset (0 = TS) the error refers to.
    #[must_use]
    pub const fn offset(&self) -> usize {
        match *self {
            Self::Empty | Self::InvalidTs { .. } => 0,
            Self::Truncated { offset, .. }
            | Self::BadTck { offset, .. }
            | Self::TrailingBytes { offset, .. }
            | Self::TooManyGroups { offset, .. } => offset,
        }
    }
}

/// The interface bytes of one group i: TAi, TBi, TCi, TDi (each `None` if absent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct InterfaceGroup {
    /// TAi.
    pub ta: Option<u8>,
    /// TBi.
    pub tb: Option<u8>,
    /// TCi.
    pub tc: Option<u8>,
    /// TDi.
    pub td: Option<u8>,
}

impl InterfaceGroup {
    const EMPTY: Self = Self {
        ta: None,
        tb: None,
        tc: None,
        td: None,
    };

    /// The byte of the given kind, if present.
    #[must_use]
    pub const fn get(&self, kind: InterfaceKind) -> Option<u8> {
        match kind {
            InterfaceKind::A => self.ta,
            InterfaceKind::B => self.tb,
            InterfaceKind::C => self.tc,
            InterfaceKind::D => self.td,
        }
    }

    fn set(&mut self, kind: InterfaceKind, value: u8) {
        let slot = match kind {
            InterfaceKind::A => &mut self.ta,
            InterfaceKind::B => &mut self.tb,
            InterfaceKind::C => &mut self.tc,
            InterfaceKind::D => &mut self.td,
        };
        *slot = Some(value);
    }
}

/// A set of protocol types T = 0..=15, as indicated by the TDi bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ProtocolSet(u16);

impl ProtocolSet {
    /// The empty set.
    pub const EMPTY: Self = Self(0);

    /// A set from its bit mask (bit t set = protocol T=t).
    #[must_use]
    pub const fn from_bits(bits: u16) -> Self {
        Self(bits)
    }

    /// The bit mask (bit t set = protocol T=t).
    #[must_use]
    pub const fn bits(self) -> u16 {
        self.0
    }

    /// This set plus protocol `t` (only the low nibble of `t` is used).
    #[must_use]
    pub const fn with(self, t: u8) -> Self {
        Self(self.0 | (1 << (t & 0x0F)))
    }

    /// This set without protocol `t` (only the low nibble of `t` is used).
    #[must_use]
    pub const fn without(self, t: u8) -> Self {
        Self(self.0 & !(1 << (t & 0x0F)))
    }

    /// Whether protocol `t` is in the set (`false` for t > 15).
    #[must_use]
    pub const fn contains(self, t: u8) -> bool {
        t < 16 && self.0 & (1 << t) != 0
    }

    /// Whether the set is empty.
    #[must_use]
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Number of protocols in the set.
    #[must_use]
    pub const fn len(self) -> u32 {
        self.0.count_ones()
    }

    /// The protocols in ascending order.
    pub fn iter(self) -> impl Iterator<Item = u8> {
        (0u8..16).filter(move |t| self.contains(*t))
    }
}

impl fmt::Display for ProtocolSet {
    /// `T=0, T=1`; `none` for the empty set.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("none");
        }
        for (n, t) in self.iter().enumerate() {
            if n > 0 {
                f.write_str(", ")?;
            }
            write!(f, "T={t}")?;
        }
        Ok(())
    }
}

/// TA2 contents: the card is in specific mode (ISO/IEC 7816-3 §8.3, TA2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SpecificMode {
    /// Protocol T of the specific mode (b4..b1).
    pub protocol: u8,
    /// b8 = 0: the card is able to change between negotiable and specific mode.
    pub can_change_mode: bool,
    /// b5 = 1: Fi/Di are implicitly known (not defined by TA1).
    pub implicit_parameters: bool,
}

/// Operating mode after the ATR: negotiable (TA2 absent) or specific (TA2 present).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// TA2 absent: the card may be sent a PPS; without one, the default Fd/Dd apply.
    Negotiable,
    /// TA2 present: the parameters of TA1 (or implicit ones) apply at once.
    Specific(SpecificMode),
}

/// T=1 error detection code (first TC for T=1, b1; ISO/IEC 7816-3 §11.4.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Edc {
    /// Longitudinal redundancy check, one byte (b1 = 0; the default).
    Lrc,
    /// Cyclic redundancy check, two bytes (b1 = 1).
    Crc,
}

/// A parsed Answer-to-Reset, borrowing the input bytes (ISO/IEC 7816-3 §8.2).
///
/// Construct with [`Atr::parse`]; every accessor is infallible and returns the ISO default
/// where the ATR leaves a parameter out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Atr<'a> {
    raw: &'a [u8],
    convention: Convention,
    t0: u8,
    groups: [InterfaceGroup; MAX_GROUPS],
    group_count: usize,
    historical: &'a [u8],
    tck: Option<u8>,
}

impl<'a> Atr<'a> {
    /// Parse a complete ATR (ISO/IEC 7816-3 §8.2): TS, T0, the interface byte groups, K
    /// historical bytes and, unless only T=0 is indicated, TCK (checked: XOR of T0..TCK is 0).
    /// The input must end exactly with the ATR.
    ///
    /// # Errors
    /// [`AtrError`], naming the offset and the element at fault.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, AtrError> {
        let (&ts, _) = bytes.split_first().ok_or(AtrError::Empty)?;
        let convention = Convention::from_ts(ts).ok_or(AtrError::InvalidTs { value: ts })?;
        let t0 = *bytes.get(1).ok_or(AtrError::Truncated {
            offset: 1,
            element: AtrElement::T0,
            missing: 1,
        })?;
        let k = usize::from(t0 & 0x0F);

        let mut groups = [InterfaceGroup::EMPTY; MAX_GROUPS];
        let mut group_count = 0usize;
        let mut y = t0 >> 4;
        let mut pos = 2usize;
        let mut tck_required = false;
        loop {
            let index = u8::try_from(group_count + 1).unwrap_or(u8::MAX);
            let mut group = InterfaceGroup::EMPTY;
            for kind in InterfaceKind::ALL {
                if y & kind.presence_bit() == 0 {
                    continue;
                }
                let Some(&value) = bytes.get(pos) else {
                    let pending = InterfaceKind::ALL
                        .iter()
                        .filter(|other| **other >= kind && y & other.presence_bit() != 0)
                        .count();
                    return Err(AtrError::Truncated {
                        offset: pos,
                        element: AtrElement::Interface { kind, index },
                        missing: pending + k + usize::from(tck_required),
                    });
                };
                group.set(kind, value);
                pos += 1;
            }
            if let Some(slot) = groups.get_mut(group_count) {
                *slot = group;
            }
            group_count += 1;
            let Some(td) = group.td else { break };
            if td & 0x0F != 0 {
                tck_required = true;
            }
            y = td >> 4;
            if y == 0 {
                break;
            }
            if group_count >= MAX_GROUPS {
                return Err(AtrError::TooManyGroups {
                    offset: pos - 1,
                    index,
                });
            }
        }

        let hist_end = pos + k;
        let Some(historical) = bytes.get(pos..hist_end) else {
            let have = bytes.len().saturating_sub(pos);
            return Err(AtrError::Truncated {
                offset: bytes.len(),
                element: AtrElement::Historical {
                    index: u8::try_from(have + 1).unwrap_or(u8::MAX),
                },
                missing: (hist_end + usize::from(tck_required)).saturating_sub(bytes.len()),
            });
        };

        let mut end = hist_end;
        let tck = if tck_required {
            let Some(&found) = bytes.get(hist_end) else {
                return Err(AtrError::Truncated {
                    offset: hist_end,
                    element: AtrElement::Tck,
                    missing: 1,
                });
            };
            let expected = bytes
                .get(1..hist_end)
                .map_or(0, |covered| covered.iter().fold(0, |acc, b| acc ^ b));
            if expected != found {
                return Err(AtrError::BadTck {
                    offset: hist_end,
                    expected,
                    found,
                });
            }
            end += 1;
            Some(found)
        } else {
            None
        };

        if bytes.len() > end {
            return Err(AtrError::TrailingBytes {
                offset: end,
                count: bytes.len() - end,
            });
        }

        Ok(Self {
            raw: bytes,
            convention,
            t0,
            groups,
            group_count,
            historical,
            tck,
        })
    }

    /// All bytes of the ATR, TS to TCK.
    #[must_use]
    pub const fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// The decoded TS byte (`3B` or `3F`).
    #[must_use]
    pub const fn ts(&self) -> u8 {
        self.convention.ts()
    }

    /// The convention announced by TS.
    #[must_use]
    pub const fn convention(&self) -> Convention {
        self.convention
    }

    /// The format byte T0.
    #[must_use]
    pub const fn t0(&self) -> u8 {
        self.t0
    }

    /// Y1: presence of TA1 (bit 0), TB1 (bit 1), TC1 (bit 2), TD1 (bit 3).
    #[must_use]
    pub const fn y1(&self) -> u8 {
        self.t0 >> 4
    }

    /// K: number of historical bytes (low nibble of T0).
    #[must_use]
    pub const fn k(&self) -> usize {
        (self.t0 & 0x0F) as usize
    }

    /// Number of interface byte groups read: 1 (the group Y1 announces, possibly empty) plus
    /// one per TDi announcing further bytes.
    #[must_use]
    pub const fn group_count(&self) -> usize {
        self.group_count
    }

    /// Group i (1-based), `None` if i is 0 or beyond [`Atr::group_count`].
    #[must_use]
    pub fn group(&self, i: usize) -> Option<InterfaceGroup> {
        if i == 0 || i > self.group_count {
            return None;
        }
        self.groups.get(i - 1).copied()
    }

    /// The groups with their 1-based numbers, in order.
    pub fn groups(&self) -> impl Iterator<Item = (usize, InterfaceGroup)> + '_ {
        self.groups
            .iter()
            .take(self.group_count)
            .copied()
            .enumerate()
            .map(|(n, g)| (n + 1, g))
    }

    /// Interface byte of the given kind in group i (e.g. `(InterfaceKind::C, 1)` is TC1).
    #[must_use]
    pub fn interface_byte(&self, kind: InterfaceKind, i: usize) -> Option<u8> {
        self.group(i).and_then(|g| g.get(kind))
    }

    /// TAi.
    #[must_use]
    pub fn ta(&self, i: usize) -> Option<u8> {
        self.interface_byte(InterfaceKind::A, i)
    }

    /// TBi.
    #[must_use]
    pub fn tb(&self, i: usize) -> Option<u8> {
        self.interface_byte(InterfaceKind::B, i)
    }

    /// TCi.
    #[must_use]
    pub fn tc(&self, i: usize) -> Option<u8> {
        self.interface_byte(InterfaceKind::C, i)
    }

    /// TDi.
    #[must_use]
    pub fn td(&self, i: usize) -> Option<u8> {
        self.interface_byte(InterfaceKind::D, i)
    }

    /// The protocol T that the bytes of group i (i >= 2) are specific to: the low nibble of
    /// TD(i-1). `None` for group 1 or a group that is not present.
    #[must_use]
    pub fn group_protocol(&self, i: usize) -> Option<u8> {
        if i < 2 || i > self.group_count {
            return None;
        }
        self.td(i - 1).map(|td| td & 0x0F)
    }

    /// The historical bytes T1..TK.
    #[must_use]
    pub const fn historical_bytes(&self) -> &'a [u8] {
        self.historical
    }

    /// TCK, present unless only T=0 is indicated.
    #[must_use]
    pub const fn tck(&self) -> Option<u8> {
        self.tck
    }

    /// Every protocol type indicated by a TDi, T=15 (global bytes) included; `{T=0}` if TD1 is
    /// absent.
    #[must_use]
    pub fn indicated_protocols(&self) -> ProtocolSet {
        let mut set = ProtocolSet::EMPTY;
        if self.td(1).is_none() {
            return set.with(0);
        }
        for (_, g) in self.groups() {
            if let Some(td) = g.td {
                set = set.with(td & 0x0F);
            }
        }
        set
    }

    /// The transmission protocols offered: [`Atr::indicated_protocols`] without T=15.
    #[must_use]
    pub fn offered_protocols(&self) -> ProtocolSet {
        self.indicated_protocols().without(15)
    }

    /// The first offered protocol: the one TD1 indicates, T=0 if TD1 is absent.
    #[must_use]
    pub fn first_protocol(&self) -> u8 {
        self.td(1).map_or(0, |td| td & 0x0F)
    }

    /// The first interface byte of `kind` specific to `protocol` (ISO/IEC 7816-3 §8.2.3:
    /// TAi/TBi/TCi with i >= 3 following a TD(i-1) that indicates `protocol`), as
    /// `(i, value)`.
    #[must_use]
    pub fn specific_byte(&self, kind: InterfaceKind, protocol: u8) -> Option<(usize, u8)> {
        (3..=self.group_count).find_map(|i| {
            if self.group_protocol(i) != Some(protocol) {
                return None;
            }
            self.interface_byte(kind, i).map(|v| (i, v))
        })
    }

    /// TA1 or its default `11`.
    #[must_use]
    pub fn ta1_or_default(&self) -> u8 {
        self.ta(1).unwrap_or(DEFAULT_TA1)
    }

    /// FI code (high nibble of TA1; 1 if TA1 is absent).
    #[must_use]
    pub fn fi_code(&self) -> u8 {
        self.ta1_or_default() >> 4
    }

    /// DI code (low nibble of TA1; 1 if TA1 is absent).
    #[must_use]
    pub fn di_code(&self) -> u8 {
        self.ta1_or_default() & 0x0F
    }

    /// Fi from TA1 (372 by default), `None` for an RFU FI code.
    #[must_use]
    pub fn fi(&self) -> Option<u16> {
        fi_from_code(self.fi_code())
    }

    /// Di from TA1 (1 by default), `None` for an RFU DI code.
    #[must_use]
    pub fn di(&self) -> Option<u8> {
        di_from_code(self.di_code())
    }

    /// fmax in kHz from TA1 (5000 by default), `None` for an RFU FI code.
    #[must_use]
    pub fn fmax_khz(&self) -> Option<u32> {
        fmax_khz_from_code(self.fi_code())
    }

    /// Extra guard time N from TC1 (0 by default). `FF` means the minimum guard time:
    /// 12 etu for T=0, 11 etu for T=1.
    #[must_use]
    pub fn extra_guard_time(&self) -> u8 {
        self.tc(1).unwrap_or(DEFAULT_N)
    }

    /// Negotiable (TA2 absent) or specific (TA2 present) mode.
    #[must_use]
    pub fn mode(&self) -> Mode {
        match self.ta(2) {
            None => Mode::Negotiable,
            Some(ta2) => Mode::Specific(SpecificMode {
                protocol: ta2 & 0x0F,
                can_change_mode: ta2 & 0x80 == 0,
                implicit_parameters: ta2 & 0x10 != 0,
            }),
        }
    }

    /// Waiting time integer WI for T=0 from TC2 (10 by default). 0 is RFU and returned as is.
    #[must_use]
    pub fn wi(&self) -> u8 {
        self.tc(2).unwrap_or(DEFAULT_WI)
    }

    /// IFSC for T=1: the first TA for T=1 (32 by default). `00` and `FF` are RFU and returned
    /// as is.
    #[must_use]
    pub fn ifsc(&self) -> u8 {
        self.specific_byte(InterfaceKind::A, 1)
            .map_or(DEFAULT_IFSC, |(_, v)| v)
    }

    /// BWI for T=1: high nibble of the first TB for T=1 (4 by default).
    #[must_use]
    pub fn bwi(&self) -> u8 {
        self.specific_byte(InterfaceKind::B, 1)
            .map_or(DEFAULT_BWI, |(_, v)| v >> 4)
    }

    /// CWI for T=1: low nibble of the first TB for T=1 (13 by default).
    #[must_use]
    pub fn cwi(&self) -> u8 {
        self.specific_byte(InterfaceKind::B, 1)
            .map_or(DEFAULT_CWI, |(_, v)| v & 0x0F)
    }

    /// EDC for T=1: b1 of the first TC for T=1 (LRC by default).
    #[must_use]
    pub fn edc(&self) -> Edc {
        match self.specific_byte(InterfaceKind::C, 1) {
            Some((_, v)) if v & 0x01 != 0 => Edc::Crc,
            _ => Edc::Lrc,
        }
    }
}
