//! Terminal Risk Management (EMV 4.4 Book 3 §10.6; facts §1.8).
//!
//! - §10.6.1 Floor limits: the amount (Amount, Authorised, plus any split
//!   sales the caller found in its transaction log — the caller passes the
//!   sum) **≥** Terminal Floor Limit `9F1B` → TVR "Transaction exceeds
//!   floor limit".
//! - §10.6.2 Random transaction selection, only below the floor limit. With
//!   Target Percentage TP, Maximum Target Percentage MTP and Threshold Value
//!   T: below T the Transaction Target Percent is TP; from T up to the floor
//!   limit FL it rises linearly, TTP = TP + (MTP − TP) × (amount − T) /
//!   (FL − T). The caller draws the random number R in 1..=99 (the kernel has
//!   no RNG); R ≤ TTP → TVR "Transaction selected randomly for online
//!   processing". As R is an integer, comparing with TTP rounded down
//!   decides exactly as the unrounded comparison.
//! - §10.6.3 Velocity checking, only when both Lower (`9F14`) and Upper
//!   (`9F23`) Consecutive Offline Limits are present: with the ATC (`9F36`)
//!   and Last Online ATC Register (`9F13`) from GET DATA, ATC − LOATC > LCOL
//!   → "Lower consecutive offline limit exceeded", > UCOL → "Upper …".
//!   Either value missing → both bits and **\[M\]** "ICC data missing"
//!   ([`VELOCITY_MISSING_SETS_ICC_DATA_MISSING`]). LOATC = 0 → "New card".
//! - Exception file: the caller looks the PAN up and passes the answer →
//!   "Card appears on terminal exception file".
//! - TSI "Terminal risk management was performed" is set.
//!
//! **\[M\]** items: [`VELOCITY_MISSING_SETS_ICC_DATA_MISSING`];
//! [`ATC_NOT_ABOVE_LOATC_SETS_BOTH`] (ATC ≤ LOATC sets both velocity bits);
//! a random number outside 1..=99 is clamped into it; whether TRM runs at all
//! when the AIP does not ask for it is the caller's choice
//! ([`is_requested_by_card`]).

use crate::contact::status::StatusUpdate;
use crate::contact::trail::{Detail, Phase, TrailEntry, TrailSink};
use crate::data::aip::Aip;
use crate::data::tsi::Tsi;
use crate::data::tvr::Tvr;

/// **\[M\]** ATC or Last Online ATC Register not obtained also sets TVR
/// "ICC data missing".
pub const VELOCITY_MISSING_SETS_ICC_DATA_MISSING: bool = true;
/// **\[M\]** An ATC not above the Last Online ATC Register sets both
/// velocity bits.
pub const ATC_NOT_ABOVE_LOATC_SETS_BOTH: bool = true;

const PHASE: Phase = Phase::TerminalRiskManagement;

/// The per-AID random selection parameters (terminal configuration).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RandomSelection {
    /// Threshold Value for Biased Random Selection, minor units (below the
    /// floor limit).
    pub threshold: u64,
    /// Target Percentage to be Used for Random Selection, 0–99.
    pub target_percent: u8,
    /// Maximum Target Percentage to be Used for Biased Random Selection,
    /// 0–99, at least the target percentage.
    pub max_target_percent: u8,
}

/// The data velocity checking needs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Velocity {
    /// Lower Consecutive Offline Limit (`9F14`) from the card.
    pub lower_limit: Option<u8>,
    /// Upper Consecutive Offline Limit (`9F23`) from the card.
    pub upper_limit: Option<u8>,
    /// Application Transaction Counter (`9F36`) from GET DATA.
    pub atc: Option<u16>,
    /// Last Online ATC Register (`9F13`) from GET DATA.
    pub last_online_atc: Option<u16>,
}

impl Velocity {
    /// True when velocity checking applies (both limits present), so the
    /// caller knows whether to send GET DATA for `9F36` and `9F13`.
    #[must_use]
    pub const fn applies(&self) -> bool {
        self.lower_limit.is_some() && self.upper_limit.is_some()
    }
}

/// Everything Terminal Risk Management decides on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TrmInput {
    /// The amount to compare with the floor limit, minor units: Amount,
    /// Authorised plus split sales from the transaction log.
    pub amount: u64,
    /// Terminal Floor Limit (`9F1B`), minor units.
    pub floor_limit: u64,
    /// Random selection parameters; `None` when the terminal does not do
    /// random selection (e.g. offline-only or cardholder-controlled).
    pub random_selection: Option<RandomSelection>,
    /// The random number drawn by the caller, 1–99.
    pub random_number: u8,
    /// Velocity checking data.
    pub velocity: Velocity,
    /// The PAN is on the terminal exception file.
    pub in_exception_file: bool,
}

/// What Terminal Risk Management decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TrmOutcome {
    /// TVR and TSI bits to set.
    pub status: StatusUpdate,
    /// The Transaction Target Percent (rounded down) when random selection
    /// ran.
    pub target_percent: Option<u8>,
}

/// True when the card asks for terminal risk management (AIP byte 1 b4).
/// **\[M\]** Many terminals run it regardless.
#[must_use]
pub fn is_requested_by_card(aip: Aip) -> bool {
    aip.contains(Aip::TERMINAL_RISK_MANAGEMENT)
}

/// Runs every check of Book 3 §10.6 and sets the TSI bit.
pub fn terminal_risk_management(input: &TrmInput, trail: &mut impl TrailSink) -> TrmOutcome {
    let mut status = exception_file(input.in_exception_file, trail).merge(floor_limit(
        input.amount,
        input.floor_limit,
        trail,
    ));
    let mut target_percent = None;
    if let Some(params) = input.random_selection {
        let (update, ttp) = random_selection(
            input.amount,
            input.floor_limit,
            &params,
            input.random_number,
            trail,
        );
        status = status.merge(update);
        target_percent = ttp;
    }
    status = status.merge(velocity(&input.velocity, trail));
    status.set_tsi(
        PHASE,
        "§10.6: terminal risk management performed",
        Tsi::TERMINAL_RISK_MANAGEMENT_PERFORMED,
        trail,
    );
    TrmOutcome {
        status,
        target_percent,
    }
}

/// Exception file check.
pub fn exception_file(in_exception_file: bool, trail: &mut impl TrailSink) -> StatusUpdate {
    let mut out = StatusUpdate::NONE;
    if in_exception_file {
        out.set_tvr(
            PHASE,
            "§10.6: card on terminal exception file",
            Tvr::CARD_ON_EXCEPTION_FILE,
            trail,
        );
    }
    out
}

/// Book 3 §10.6.1: floor limit.
pub fn floor_limit(amount: u64, floor_limit: u64, trail: &mut impl TrailSink) -> StatusUpdate {
    let mut out = StatusUpdate::NONE;
    if amount >= floor_limit {
        trail.record(TrailEntry::new(
            PHASE,
            "§10.6.1: amount at or above the floor limit",
            Detail::Amounts {
                amount,
                limit: floor_limit,
            },
        ));
        out.set_tvr(
            PHASE,
            "§10.6.1: transaction exceeds floor limit",
            Tvr::FLOOR_LIMIT_EXCEEDED,
            trail,
        );
    }
    out
}

/// The Transaction Target Percent, rounded down, of Book 3 §10.6.2; `None`
/// at or above the floor limit, where random selection does not apply.
#[must_use]
pub fn transaction_target_percent(
    amount: u64,
    floor_limit: u64,
    params: &RandomSelection,
) -> Option<u8> {
    if amount >= floor_limit {
        return None;
    }
    let tp = params.target_percent;
    if amount < params.threshold {
        return Some(tp);
    }
    // threshold <= amount < floor_limit, so the span is at least 1.
    let span = i128::from(floor_limit) - i128::from(params.threshold);
    let above = i128::from(amount) - i128::from(params.threshold);
    let rise = i128::from(params.max_target_percent) - i128::from(tp);
    // Floor division: exact for a falling line (MTP < TP) too.
    let ttp = i128::from(tp) + (rise * above).div_euclid(span.max(1));
    // Between TP and MTP, both u8.
    Some(u8::try_from(ttp.clamp(0, 255)).unwrap_or(u8::MAX))
}

/// Book 3 §10.6.2: random transaction selection with the caller's random
/// number (clamped into 1..=99). Returns the bits and the Transaction
/// Target Percent used.
pub fn random_selection(
    amount: u64,
    floor_limit: u64,
    params: &RandomSelection,
    random_number: u8,
    trail: &mut impl TrailSink,
) -> (StatusUpdate, Option<u8>) {
    let mut out = StatusUpdate::NONE;
    let Some(ttp) = transaction_target_percent(amount, floor_limit, params) else {
        return (out, None);
    };
    let random = random_number.clamp(1, 99);
    if random <= ttp {
        trail.record(TrailEntry::new(
            PHASE,
            if amount < params.threshold {
                "§10.6.2: random number within the target percentage"
            } else {
                "§10.6.2: random number within the biased target percentage"
            },
            Detail::RandomSelection {
                random,
                target_percent: ttp,
            },
        ));
        out.set_tvr(
            PHASE,
            "§10.6.2: transaction selected randomly for online processing",
            Tvr::RANDOMLY_SELECTED_FOR_ONLINE,
            trail,
        );
    }
    (out, Some(ttp))
}

/// Book 3 §10.6.3: velocity checking.
pub fn velocity(v: &Velocity, trail: &mut impl TrailSink) -> StatusUpdate {
    let mut out = StatusUpdate::NONE;
    let (Some(lcol), Some(ucol)) = (v.lower_limit, v.upper_limit) else {
        return out;
    };
    fn both(out: &mut StatusUpdate, why: &'static str, trail: &mut impl TrailSink) {
        out.set_tvr(
            PHASE,
            why,
            Tvr::LOWER_CONSECUTIVE_OFFLINE_LIMIT_EXCEEDED,
            trail,
        );
        out.set_tvr(
            PHASE,
            why,
            Tvr::UPPER_CONSECUTIVE_OFFLINE_LIMIT_EXCEEDED,
            trail,
        );
    }
    if let Some(0) = v.last_online_atc {
        out.set_tvr(
            PHASE,
            "§10.6.3: last online ATC register is zero",
            Tvr::NEW_CARD,
            trail,
        );
    }
    let (Some(atc), Some(loatc)) = (v.atc, v.last_online_atc) else {
        both(
            &mut out,
            "§10.6.3: ATC or last online ATC register not obtained",
            trail,
        );
        if VELOCITY_MISSING_SETS_ICC_DATA_MISSING {
            out.set_tvr(
                PHASE,
                "§10.6.3: [M] ATC or last online ATC register missing",
                Tvr::ICC_DATA_MISSING,
                trail,
            );
        }
        return out;
    };
    let Some(offline) = atc.checked_sub(loatc).filter(|&d| d > 0) else {
        if ATC_NOT_ABOVE_LOATC_SETS_BOTH {
            trail.record(TrailEntry::new(
                PHASE,
                "§10.6.3: [M] ATC not above last online ATC",
                Detail::Velocity {
                    atc,
                    last_online_atc: loatc,
                    limit: lcol,
                },
            ));
            both(
                &mut out,
                "§10.6.3: [M] ATC not above last online ATC register",
                trail,
            );
        }
        return out;
    };
    if offline > u16::from(lcol) {
        trail.record(TrailEntry::new(
            PHASE,
            "§10.6.3: offline transactions above the lower limit",
            Detail::Velocity {
                atc,
                last_online_atc: loatc,
                limit: lcol,
            },
        ));
        out.set_tvr(
            PHASE,
            "§10.6.3: lower consecutive offline limit exceeded",
            Tvr::LOWER_CONSECUTIVE_OFFLINE_LIMIT_EXCEEDED,
            trail,
        );
    }
    if offline > u16::from(ucol) {
        trail.record(TrailEntry::new(
            PHASE,
            "§10.6.3: offline transactions above the upper limit",
            Detail::Velocity {
                atc,
                last_online_atc: loatc,
                limit: ucol,
            },
        ));
        out.set_tvr(
            PHASE,
            "§10.6.3: upper consecutive offline limit exceeded",
            Tvr::UPPER_CONSECUTIVE_OFFLINE_LIMIT_EXCEEDED,
            trail,
        );
    }
    out
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
    use crate::contact::trail::{NoTrail, Trail};
    use proptest::prelude::*;

    /// FL 100.00, T 20.00, TP 20 %, MTP 50 %.
    const PARAMS: RandomSelection = RandomSelection {
        threshold: 2000,
        target_percent: 20,
        max_target_percent: 50,
    };
    const FL: u64 = 10_000;

    fn base() -> TrmInput {
        TrmInput {
            amount: 1000,
            floor_limit: FL,
            random_selection: Some(PARAMS),
            random_number: 99,
            velocity: Velocity::default(),
            in_exception_file: false,
        }
    }

    fn tvr(input: &TrmInput) -> [u8; 5] {
        terminal_risk_management(input, &mut NoTrail).status.tvr.0
    }

    #[test]
    fn target_percent_worked_numbers() {
        let ttp = |a| transaction_target_percent(a, FL, &PARAMS);
        // Below the threshold: TP.
        assert_eq!(ttp(0), Some(20));
        assert_eq!(ttp(1999), Some(20));
        // At the threshold: interpolation factor 0 → 20.
        assert_eq!(ttp(2000), Some(20));
        // 60.00: (6000 − 2000) / 8000 = 0.5 → 20 + 30 × 0.5 = 35.
        assert_eq!(ttp(6000), Some(35));
        // 30.00: 0.125 → 23.75 → 23.
        assert_eq!(ttp(3000), Some(23));
        // 99.99: 7999/8000 → 49.99625 → 49.
        assert_eq!(ttp(9999), Some(49));
        // At or above the floor limit: no random selection.
        assert_eq!(ttp(10_000), None);
        assert_eq!(ttp(u64::MAX), None);
    }

    #[test]
    fn random_selection_at_the_edges() {
        let selected = |amount, r| {
            tvr(&TrmInput {
                amount,
                random_number: r,
                ..base()
            })[3]
                & 0x10
                != 0
        };
        // Below threshold, TP 20: R 20 selected, 21 not.
        assert!(selected(1000, 20));
        assert!(!selected(1000, 21));
        // 60.00, TTP 35: R 35 selected, 36 not.
        assert!(selected(6000, 35));
        assert!(!selected(6000, 36));
        // 30.00, TTP 23.75: R 23 selected, 24 not (24 > 23.75).
        assert!(selected(3000, 23));
        assert!(!selected(3000, 24));
        // 99.99, TTP 49.996: 49 selected, 50 not.
        assert!(selected(9999, 49));
        assert!(!selected(9999, 50));
        // At the floor limit: floor limit bit instead, never random.
        let t = tvr(&TrmInput {
            amount: FL,
            random_number: 1,
            ..base()
        });
        assert_eq!(t[3], 0x80);
    }

    #[test]
    fn random_number_is_clamped() {
        // R 0 → 1: selected with TP 20; R 200 → 99: not.
        let t = |r| {
            tvr(&TrmInput {
                random_number: r,
                ..base()
            })[3]
        };
        assert_eq!(t(0), 0x10);
        assert_eq!(t(200), 0x00);
        // TP 0: R 1 (the smallest) is never selected below the threshold.
        let zero = RandomSelection {
            target_percent: 0,
            max_target_percent: 0,
            threshold: 0,
        };
        let i = TrmInput {
            random_selection: Some(zero),
            random_number: 1,
            ..base()
        };
        assert_eq!(tvr(&i)[3], 0x00);
    }

    #[test]
    fn falling_line_when_mtp_below_tp() {
        // Misconfigured MTP 10 < TP 20: TTP falls from 20 to 10.
        let p = RandomSelection {
            max_target_percent: 10,
            ..PARAMS
        };
        // 30.00: 20 − 10 × 0.125 = 18.75 → 18.
        assert_eq!(transaction_target_percent(3000, FL, &p), Some(18));
        assert_eq!(transaction_target_percent(9999, FL, &p), Some(10));
    }

    #[test]
    fn no_random_selection_configured() {
        let i = TrmInput {
            random_selection: None,
            random_number: 1,
            ..base()
        };
        let o = terminal_risk_management(&i, &mut NoTrail);
        assert_eq!(o.status.tvr.0, [0; 5]);
        assert_eq!(o.target_percent, None);
        assert_eq!(o.status.tsi.0, [0x08, 0]);
    }

    #[test]
    fn floor_limit_is_inclusive() {
        let at = |amount| {
            tvr(&TrmInput {
                amount,
                random_selection: None,
                ..base()
            })[3]
        };
        assert_eq!(at(9999), 0x00);
        assert_eq!(at(10_000), 0x80);
        assert_eq!(at(10_001), 0x80);
        // Floor limit zero (online-only terminals): always exceeded.
        let i = TrmInput {
            floor_limit: 0,
            amount: 0,
            ..base()
        };
        assert_eq!(tvr(&i)[3], 0x80);
    }

    #[test]
    fn exception_file() {
        let i = TrmInput {
            in_exception_file: true,
            ..base()
        };
        let mut t = Trail::<8>::new();
        let o = terminal_risk_management(&i, &mut t);
        assert_eq!(o.status.tvr.0, [0x10, 0, 0, 0, 0]);
        assert!(t.contains_detail(Detail::Tvr(Tvr::CARD_ON_EXCEPTION_FILE)));
    }

    fn vel(atc: Option<u16>, loatc: Option<u16>) -> [u8; 5] {
        velocity(
            &Velocity {
                lower_limit: Some(3),
                upper_limit: Some(5),
                atc,
                last_online_atc: loatc,
            },
            &mut NoTrail,
        )
        .tvr
        .0
    }

    #[test]
    fn velocity_worked_numbers() {
        // LCOL 3, UCOL 5. 3 offline: neither; 4: lower; 6: both; 5: lower only.
        assert_eq!(vel(Some(13), Some(10)), [0; 5]);
        assert_eq!(vel(Some(14), Some(10)), [0, 0, 0, 0x40, 0]);
        assert_eq!(vel(Some(15), Some(10)), [0, 0, 0, 0x40, 0]);
        assert_eq!(vel(Some(16), Some(10)), [0, 0, 0, 0x60, 0]);
        // New card: LOATC 0 and ATC 1.
        assert_eq!(vel(Some(1), Some(0)), [0, 0x08, 0, 0, 0]);
        // New card with 7 offline transactions.
        assert_eq!(vel(Some(7), Some(0)), [0, 0x08, 0, 0x60, 0]);
    }

    #[test]
    fn velocity_missing_data() {
        // Either value missing: both bits + [M] ICC data missing.
        assert_eq!(vel(None, Some(10)), [0x20, 0, 0, 0x60, 0]);
        assert_eq!(vel(Some(10), None), [0x20, 0, 0, 0x60, 0]);
        assert_eq!(vel(None, None), [0x20, 0, 0, 0x60, 0]);
        // ATC missing, LOATC 0: new card too.
        assert_eq!(vel(None, Some(0)), [0x20, 0x08, 0, 0x60, 0]);
        // [M] ATC not above LOATC: both bits, no ICC data missing.
        assert_eq!(vel(Some(10), Some(10)), [0, 0, 0, 0x60, 0]);
        assert_eq!(vel(Some(9), Some(10)), [0, 0, 0, 0x60, 0]);
    }

    #[test]
    fn velocity_needs_both_limits() {
        let v = Velocity {
            lower_limit: Some(0),
            upper_limit: None,
            atc: None,
            last_online_atc: Some(0),
        };
        assert!(!v.applies());
        assert_eq!(velocity(&v, &mut NoTrail), StatusUpdate::NONE);
        let v = Velocity {
            lower_limit: None,
            upper_limit: Some(0),
            ..v
        };
        assert!(!v.applies());
        assert_eq!(velocity(&v, &mut NoTrail), StatusUpdate::NONE);
        assert!(
            Velocity {
                lower_limit: Some(1),
                upper_limit: Some(2),
                ..Velocity::default()
            }
            .applies()
        );
    }

    #[test]
    fn everything_at_once_and_trail() {
        let i = TrmInput {
            amount: 20_000,
            in_exception_file: true,
            velocity: Velocity {
                lower_limit: Some(0),
                upper_limit: Some(1),
                atc: Some(5),
                last_online_atc: Some(0),
            },
            ..base()
        };
        let mut t = Trail::<16>::new();
        let o = terminal_risk_management(&i, &mut t);
        assert_eq!(o.status.tvr.0, [0x10, 0x08, 0, 0xE0, 0]);
        assert_eq!(o.status.tsi.0, [0x08, 0]);
        assert_eq!(o.target_percent, None);
        assert!(t.contains_detail(Detail::Amounts {
            amount: 20_000,
            limit: FL
        }));
        assert!(t.contains_detail(Detail::Velocity {
            atc: 5,
            last_online_atc: 0,
            limit: 1
        }));
        assert!(t.contains_detail(Detail::Tsi(Tsi::TERMINAL_RISK_MANAGEMENT_PERFORMED)));
        assert!(t.iter().all(|e| e.phase == Phase::TerminalRiskManagement));
    }

    #[test]
    fn aip_request() {
        assert!(is_requested_by_card(Aip([0x08, 0])));
        assert!(!is_requested_by_card(Aip([0xF7, 0xFF])));
    }

    proptest! {
        #[test]
        fn never_panics_and_bits_are_consistent(
            amount in any::<u64>(),
            fl in any::<u64>(),
            rs in any::<Option<(u64, u8, u8)>>(),
            r in any::<u8>(),
            lcol in any::<Option<u8>>(),
            ucol in any::<Option<u8>>(),
            atc in any::<Option<u16>>(),
            loatc in any::<Option<u16>>(),
            exc in any::<bool>(),
        ) {
            let input = TrmInput {
                amount,
                floor_limit: fl,
                random_selection: rs.map(|(t, tp, mtp)| RandomSelection {
                    threshold: t, target_percent: tp, max_target_percent: mtp,
                }),
                random_number: r,
                velocity: Velocity { lower_limit: lcol, upper_limit: ucol, atc, last_online_atc: loatc },
                in_exception_file: exc,
            };
            let o = terminal_risk_management(&input, &mut NoTrail);
            let t = o.status.tvr;
            prop_assert_eq!(o.status.tsi.0, [0x08, 0]);
            prop_assert_eq!(t.contains(Tvr::FLOOR_LIMIT_EXCEEDED), amount >= fl);
            prop_assert_eq!(t.contains(Tvr::CARD_ON_EXCEPTION_FILE), exc);
            // Random selection never above the floor limit.
            if amount >= fl {
                prop_assert!(!t.contains(Tvr::RANDOMLY_SELECTED_FOR_ONLINE));
                prop_assert_eq!(o.target_percent, None);
            }
            // The target lies between TP and MTP.
            if let (Some(ttp), Some((_, tp, mtp))) = (o.target_percent, rs) {
                prop_assert!(ttp >= tp.min(mtp) && ttp <= tp.max(mtp));
            }
            // The upper limit is never exceeded alone when UCOL ≥ LCOL.
            if let (Some(l), Some(u)) = (lcol, ucol) && u >= l {
                prop_assert!(
                    !t.contains(Tvr::UPPER_CONSECUTIVE_OFFLINE_LIMIT_EXCEEDED)
                        || t.contains(Tvr::LOWER_CONSECUTIVE_OFFLINE_LIMIT_EXCEEDED)
                );
            }
            // Only the TRM bits.
            prop_assert_eq!(t.0[0] & !0x30, 0);
            prop_assert_eq!(t.0[1] & !0x08, 0);
            prop_assert_eq!(t.0[2] | t.0[4], 0);
            prop_assert_eq!(t.0[3] & !0xF0, 0);
        }
    }
}
