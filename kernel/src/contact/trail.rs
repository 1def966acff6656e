//! The decision trail of the contact transaction: why each TVR and TSI bit
//! was set (EMV 4.4 Book 3 §10.4–10.7 and Annex C5/C6 name the bits; the
//! trail itself is this kernel's own diagnostic, not an EMV data element).
//!
//! Every decision function of [`crate::contact`] takes a `&mut impl
//! TrailSink` and records a few [`TrailEntry`] values: one per TVR or TSI bit
//! it sets (the entry's `what` names the rule, its `detail` the bit), plus a
//! few entries carrying the values a decision was made on (dates, amounts,
//! counters, CV Rules, matched action codes).
//!
//! Entries are `Copy` and hold no heap data. [`Trail`] keeps the most recent
//! `N` entries in a ring and counts what it dropped; [`NoTrail`] discards
//! everything.

use core::fmt;

use crate::data::bits::Flag;
use crate::data::cid::CryptogramType;
use crate::data::tsi::Tsi;
use crate::data::tvr::Tvr;

/// The phase of the contact transaction an entry belongs to (Book 3 §10).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Phase {
    /// Application Selection (Book 1 §12).
    ApplicationSelection,
    /// Initiate Application Processing (Book 3 §10.1).
    InitiateApplicationProcessing,
    /// Read Application Data (Book 3 §10.2).
    ReadApplicationData,
    /// Offline Data Authentication (Book 3 §10.3).
    OfflineDataAuthentication,
    /// Processing Restrictions (Book 3 §10.4).
    ProcessingRestrictions,
    /// Cardholder Verification (Book 3 §10.5).
    CardholderVerification,
    /// Terminal Risk Management (Book 3 §10.6).
    TerminalRiskManagement,
    /// Terminal Action Analysis (Book 3 §10.7).
    TerminalActionAnalysis,
    /// Card Action Analysis (Book 3 §10.8).
    CardActionAnalysis,
    /// Online Processing (Book 3 §10.9).
    OnlineProcessing,
    /// Issuer-to-Card Script Processing (Book 3 §10.10).
    IssuerScriptProcessing,
    /// Completion (Book 3 §10.11).
    Completion,
}

impl Phase {
    /// The phase's name as Book 3 §10 titles it.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::ApplicationSelection => "Application Selection",
            Self::InitiateApplicationProcessing => "Initiate Application Processing",
            Self::ReadApplicationData => "Read Application Data",
            Self::OfflineDataAuthentication => "Offline Data Authentication",
            Self::ProcessingRestrictions => "Processing Restrictions",
            Self::CardholderVerification => "Cardholder Verification",
            Self::TerminalRiskManagement => "Terminal Risk Management",
            Self::TerminalActionAnalysis => "Terminal Action Analysis",
            Self::CardActionAnalysis => "Card Action Analysis",
            Self::OnlineProcessing => "Online Processing",
            Self::IssuerScriptProcessing => "Issuer-to-Card Script Processing",
            Self::Completion => "Completion",
        }
    }

    /// The clause of the phase, e.g. `"10.4"`: of Book 3, except
    /// Application Selection (Book 1 §12); see [`Phase::book`].
    #[must_use]
    pub const fn clause(self) -> &'static str {
        match self {
            Self::ApplicationSelection => "12",
            Self::InitiateApplicationProcessing => "10.1",
            Self::ReadApplicationData => "10.2",
            Self::OfflineDataAuthentication => "10.3",
            Self::ProcessingRestrictions => "10.4",
            Self::CardholderVerification => "10.5",
            Self::TerminalRiskManagement => "10.6",
            Self::TerminalActionAnalysis => "10.7",
            Self::CardActionAnalysis => "10.8",
            Self::OnlineProcessing => "10.9",
            Self::IssuerScriptProcessing => "10.10",
            Self::Completion => "10.11",
        }
    }
}

impl Phase {
    /// The EMV book of [`Phase::clause`]: 1 for Application Selection, 3
    /// otherwise.
    #[must_use]
    pub const fn book(self) -> u8 {
        match self {
            Self::ApplicationSelection => 1,
            _ => 3,
        }
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The three kinds of action code compared with the TVR (Book 3 §10.7).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ActionCode {
    /// TAC-Denial and IAC-Denial (`9F0E`).
    Denial,
    /// TAC-Online and IAC-Online (`9F0F`).
    Online,
    /// TAC-Default and IAC-Default (`9F0D`).
    Default,
}

impl ActionCode {
    /// "Denial", "Online" or "Default".
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Denial => "Denial",
            Self::Online => "Online",
            Self::Default => "Default",
        }
    }
}

/// What a trail entry records besides its rule: a bit set, or the values a
/// decision was made on. Every variant is small and `Copy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Detail {
    /// Nothing beyond the entry's `what`.
    None,
    /// The rule set this TVR bit.
    Tvr(Flag<Tvr>),
    /// The rule set this TSI bit.
    Tsi(Flag<Tsi>),
    /// Application Version Numbers: ICC `9F08` and terminal `9F09`.
    Versions {
        /// ICC Application Version Number (`9F08`).
        card: [u8; 2],
        /// Terminal Application Version Number (`9F09`).
        terminal: [u8; 2],
    },
    /// Issuer Country Code `5F28` and Terminal Country Code `9F1A` (n3, BCD).
    Countries {
        /// Issuer Country Code (`5F28`).
        issuer: [u8; 2],
        /// Terminal Country Code (`9F1A`).
        terminal: [u8; 2],
    },
    /// A card date (`5F24` or `5F25`) and the Transaction Date (`9A`),
    /// YYMMDD as received (BCD).
    Dates {
        /// The card's date.
        card: [u8; 3],
        /// The Transaction Date (`9A`).
        transaction: [u8; 3],
    },
    /// A Transaction Type (`9C`) value.
    TransactionType(u8),
    /// An amount compared with a limit (floor limit, threshold, CVM X/Y),
    /// both in minor units.
    Amounts {
        /// The transaction amount used.
        amount: u64,
        /// The limit it was compared with.
        limit: u64,
    },
    /// Random transaction selection: the random number and the Transaction
    /// Target Percent (rounded down; as the random number is an integer,
    /// `random <= target` decides exactly as the unrounded comparison).
    RandomSelection {
        /// The random number, 1–99.
        random: u8,
        /// The Transaction Target Percent, rounded down.
        target_percent: u8,
    },
    /// Velocity checking: ATC, Last Online ATC Register and the limit
    /// compared with their difference.
    Velocity {
        /// Application Transaction Counter (`9F36`).
        atc: u16,
        /// Last Online ATC Register (`9F13`).
        last_online_atc: u16,
        /// The consecutive offline limit compared (`9F14` or `9F23`).
        limit: u8,
    },
    /// A CV Rule of the CVM List: its position (0-based) and bytes.
    Rule {
        /// Position in the list, 0-based.
        index: u8,
        /// The rule's two bytes.
        rule: [u8; 2],
    },
    /// The CVM Results (`9F34`) decided.
    CvmResults([u8; 3]),
    /// The TVR bits that matched an action code, split by source.
    ActionCodeMatch {
        /// Which action code.
        code: ActionCode,
        /// TVR bits set in the Terminal Action Code.
        tac: [u8; 5],
        /// TVR bits set in the Issuer Action Code (or its default).
        iac: [u8; 5],
    },
    /// The cryptogram type decided.
    Cryptogram(CryptogramType),
    /// The Cryptogram Information Data (`9F27`) the card returned.
    Cid(u8),
}

/// Writes bytes as upper-case hex.
fn hex(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    bytes.iter().try_for_each(|b| write!(f, "{b:02X}"))
}

impl fmt::Display for Detail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Cid(cid) => {
                let c = crate::data::cid::Cid(*cid);
                write!(f, "9F27 {cid:02X}: reason {}", c.reason().name())
            }
            Self::None => Ok(()),
            Self::Tvr(flag) => write!(f, "TVR {flag}"),
            Self::Tsi(flag) => write!(f, "TSI {flag}"),
            Self::Versions { card, terminal } => {
                f.write_str("9F08 ")?;
                hex(f, card)?;
                f.write_str(", 9F09 ")?;
                hex(f, terminal)
            }
            Self::Countries { issuer, terminal } => {
                f.write_str("5F28 ")?;
                hex(f, issuer)?;
                f.write_str(", 9F1A ")?;
                hex(f, terminal)
            }
            Self::Dates { card, transaction } => {
                f.write_str("card ")?;
                hex(f, card)?;
                f.write_str(", 9A ")?;
                hex(f, transaction)
            }
            Self::TransactionType(t) => write!(f, "9C {t:02X}"),
            Self::Amounts { amount, limit } => write!(f, "amount {amount}, limit {limit}"),
            Self::RandomSelection {
                random,
                target_percent,
            } => write!(f, "random {random}, target percent {target_percent}"),
            Self::Velocity {
                atc,
                last_online_atc,
                limit,
            } => write!(
                f,
                "ATC {atc}, last online ATC {last_online_atc}, limit {limit}"
            ),
            Self::Rule { index, rule } => {
                write!(f, "rule {index} ")?;
                hex(f, rule)
            }
            Self::CvmResults(r) => {
                f.write_str("9F34 ")?;
                hex(f, r)
            }
            Self::ActionCodeMatch { code, tac, iac } => {
                write!(f, "{} matched: TAC ", code.name())?;
                hex(f, tac)?;
                f.write_str(", IAC ")?;
                hex(f, iac)
            }
            Self::Cryptogram(c) => write!(f, "{c}"),
        }
    }
}

/// One entry of the decision trail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrailEntry {
    /// The phase that recorded it.
    pub phase: Phase,
    /// The rule or decision, with the clause it comes from.
    pub what: &'static str,
    /// The bit set or the values decided on.
    pub detail: Detail,
}

impl TrailEntry {
    /// An entry.
    #[must_use]
    pub const fn new(phase: Phase, what: &'static str, detail: Detail) -> Self {
        Self {
            phase,
            what,
            detail,
        }
    }
}

impl fmt::Display for TrailEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {}", self.phase, self.what)?;
        if self.detail != Detail::None {
            write!(f, ": {}", self.detail)?;
        }
        Ok(())
    }
}

/// Where decision functions record their trail.
pub trait TrailSink {
    /// Records one entry.
    fn record(&mut self, entry: TrailEntry);
}

impl<T: TrailSink + ?Sized> TrailSink for &mut T {
    fn record(&mut self, entry: TrailEntry) {
        (**self).record(entry);
    }
}

/// A sink that discards every entry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NoTrail;

impl TrailSink for NoTrail {
    fn record(&mut self, _entry: TrailEntry) {}
}

/// A fixed-capacity trail of the `N` most recent entries.
///
/// When full, recording a new entry **drops the oldest** one and counts it
/// in [`Trail::dropped`], so the end of the story (the decisions) is always
/// kept. A `Trail<0>` keeps nothing and counts everything as dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Trail<const N: usize> {
    slots: [Option<TrailEntry>; N],
    /// Slot of the oldest entry.
    head: usize,
    len: usize,
    dropped: usize,
}

impl<const N: usize> Default for Trail<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> Trail<N> {
    /// An empty trail.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            slots: [None; N],
            head: 0,
            len: 0,
            dropped: 0,
        }
    }

    /// The capacity, `N`.
    #[must_use]
    pub const fn capacity(&self) -> usize {
        N
    }

    /// Number of entries kept.
    #[must_use]
    pub const fn len(&self) -> usize {
        self.len
    }

    /// True when no entry is kept.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of entries dropped because the trail was full (saturating).
    #[must_use]
    pub const fn dropped(&self) -> usize {
        self.dropped
    }

    /// Forgets every entry and resets the dropped count.
    pub fn clear(&mut self) {
        // Field by field: no second trail on the stack.
        self.slots.fill(None);
        self.head = 0;
        self.len = 0;
        self.dropped = 0;
    }

    /// Slot of the `i`-th kept entry (0 = oldest).
    fn slot(&self, i: usize) -> Option<usize> {
        self.head.checked_add(i)?.checked_rem(N)
    }

    /// The kept entries, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &TrailEntry> + '_ {
        (0..self.len).filter_map(move |i| {
            self.slot(i)
                .and_then(|s| self.slots.get(s))
                .and_then(Option::as_ref)
        })
    }

    /// The most recent entry.
    #[must_use]
    pub fn last(&self) -> Option<&TrailEntry> {
        self.len
            .checked_sub(1)
            .and_then(|i| self.slot(i))
            .and_then(|s| self.slots.get(s))
            .and_then(Option::as_ref)
    }

    /// True when a kept entry has this detail (e.g. a given TVR bit).
    #[must_use]
    pub fn contains_detail(&self, detail: Detail) -> bool {
        self.iter().any(|e| e.detail == detail)
    }
}

impl<const N: usize> TrailSink for Trail<N> {
    fn record(&mut self, entry: TrailEntry) {
        if self.len < N {
            if let Some(slot) = self.slot(self.len).and_then(|s| self.slots.get_mut(s)) {
                *slot = Some(entry);
                self.len += 1;
                return;
            }
        } else if let Some(slot) = self.slots.get_mut(self.head) {
            *slot = Some(entry);
            self.head = self.slot(1).unwrap_or(0);
        }
        // Full (the oldest was overwritten) or no capacity at all.
        self.dropped = self.dropped.saturating_add(1);
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

    fn entry(n: u8) -> TrailEntry {
        TrailEntry::new(
            Phase::TerminalRiskManagement,
            "test",
            Detail::TransactionType(n),
        )
    }

    fn kept<const N: usize>(t: &Trail<N>) -> Vec<u8> {
        t.iter()
            .map(|e| match e.detail {
                Detail::TransactionType(n) => n,
                _ => panic!("unexpected"),
            })
            .collect()
    }

    #[test]
    fn keeps_in_order_until_full() {
        let mut t = Trail::<3>::new();
        assert!(t.is_empty());
        assert_eq!(t.last(), None);
        t.record(entry(1));
        t.record(entry(2));
        assert_eq!(kept(&t), [1, 2]);
        assert_eq!(t.len(), 2);
        assert_eq!(t.dropped(), 0);
        assert_eq!(t.last(), Some(&entry(2)));
        assert_eq!(t.capacity(), 3);
    }

    #[test]
    fn drops_oldest_when_full() {
        let mut t = Trail::<3>::new();
        for n in 1..=5 {
            t.record(entry(n));
        }
        assert_eq!(kept(&t), [3, 4, 5]);
        assert_eq!(t.dropped(), 2);
        assert_eq!(t.last(), Some(&entry(5)));
        assert!(t.contains_detail(Detail::TransactionType(4)));
        assert!(!t.contains_detail(Detail::TransactionType(1)));
        t.clear();
        assert!(t.is_empty());
        assert_eq!(t.dropped(), 0);
    }

    #[test]
    fn zero_capacity_counts_everything() {
        let mut t = Trail::<0>::new();
        t.record(entry(1));
        t.record(entry(2));
        assert_eq!(t.len(), 0);
        assert_eq!(t.dropped(), 2);
        assert_eq!(t.iter().count(), 0);
        assert_eq!(t.last(), None);
    }

    #[test]
    fn sink_through_reference_and_no_trail() {
        fn feed(sink: &mut impl TrailSink) {
            sink.record(entry(9));
        }
        let mut t = Trail::<2>::new();
        let mut r = &mut t;
        feed(&mut r);
        assert_eq!(kept(&t), [9]);
        feed(&mut NoTrail);
    }

    #[test]
    fn display() {
        let e = TrailEntry::new(
            Phase::ProcessingRestrictions,
            "expired",
            Detail::Tvr(Tvr::EXPIRED_APPLICATION),
        );
        assert_eq!(
            format!("{e}"),
            "[Processing Restrictions] expired: TVR byte 2 bit 7: Expired application"
        );
        let m = Detail::ActionCodeMatch {
            code: ActionCode::Denial,
            tac: [0, 0x10, 0, 0, 0],
            iac: [0; 5],
        };
        assert_eq!(
            format!("{m}"),
            "Denial matched: TAC 0010000000, IAC 0000000000"
        );
        let n = TrailEntry::new(Phase::Completion, "done", Detail::None);
        assert_eq!(format!("{n}"), "[Completion] done");
        assert_eq!(Phase::TerminalActionAnalysis.clause(), "10.7");
        assert_eq!(
            format!("{}", Detail::Cryptogram(CryptogramType::Arqc)),
            "ARQC"
        );
    }

    proptest! {
        #[test]
        fn ring_keeps_the_last_n(count in 0usize..40) {
            let mut t = Trail::<7>::new();
            for n in 0..count {
                t.record(entry(n as u8));
            }
            let expect: Vec<u8> = (count.saturating_sub(7)..count).map(|n| n as u8).collect();
            prop_assert_eq!(kept(&t), expect);
            prop_assert_eq!(t.dropped(), count.saturating_sub(7));
        }
    }
}
