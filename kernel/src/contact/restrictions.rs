//! Processing Restrictions (EMV 4.4 Book 3 §10.4; facts §1.6).
//!
//! - §10.4.1 Application Version Number: ICC `9F08` and terminal `9F09`
//!   both present and different → TVR "ICC and terminal have different
//!   application versions". `9F08` absent → presumed compatible.
//! - §10.4.2 Application Usage Control (`9F07`, absent → no check):
//!   ATM (Terminal Type 14/15/16 with Additional Terminal Capabilities
//!   "Cash") needs "valid at ATMs", any other terminal "valid at terminals
//!   other than ATMs". When the Issuer Country Code `5F28` is present,
//!   domestic (`5F28` = `9F1A`) or international: cash needs the
//!   domestic/international cash bit, a purchase the goods or services bit,
//!   cashback the cashback bit. A miss → TVR "Requested service not allowed
//!   for card product".
//! - §10.4.3 Application Effective Date `5F25` (absent → no check) after
//!   the Transaction Date `9A` → "Application not yet effective";
//!   Application Expiration Date `5F24` before `9A` → "Expired application".
//!
//! **\[M\]** items, each behind a named constant:
//! - [`INVALID_DATE_FAILS_CHECK`]: a card date that is not a valid `YYMMDD`
//!   date, or an invalid Transaction Date, fails the check it belongs to.
//! - [`MISSING_EXPIRY_FAILS_CHECK`]: an absent `5F24` (mandatory data; Read
//!   Application Data should already have stopped) fails the expiry check.
//! - [`PURCHASE_BITS_FOR_CASHBACK`]: a purchase with cashback (`9C` = `09`)
//!   is checked as a purchase of goods/services *and* as cashback.
//! - the two-digit year rule ([`crate::contact::date`]) and "Amount, Other ≠
//!   0 is cashback" ([`crate::contact::transaction`]).

use crate::contact::date::EmvDate;
use crate::contact::status::StatusUpdate;
use crate::contact::trail::{Detail, Phase, TrailEntry, TrailSink};
use crate::contact::transaction::TransactionType;
use crate::data::additional_terminal_capabilities::AdditionalTerminalCapabilities;
use crate::data::auc::Auc;
use crate::data::terminal_type::{OperationalControl, TerminalType};
use crate::data::tvr::Tvr;

/// **\[M\]** An invalid card date or Transaction Date fails the date check.
pub const INVALID_DATE_FAILS_CHECK: bool = true;
/// **\[M\]** An absent Application Expiration Date fails the expiry check.
pub const MISSING_EXPIRY_FAILS_CHECK: bool = true;
/// **\[M\]** A purchase with cashback also needs the goods or services bit.
pub const PURCHASE_BITS_FOR_CASHBACK: bool = true;

const PHASE: Phase = Phase::ProcessingRestrictions;

/// Everything Processing Restrictions looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RestrictionsInput {
    /// ICC Application Version Number (`9F08`).
    pub card_version: Option<[u8; 2]>,
    /// Terminal Application Version Number (`9F09`) for the selected AID.
    pub terminal_version: Option<[u8; 2]>,
    /// Application Usage Control (`9F07`).
    pub auc: Option<Auc>,
    /// Issuer Country Code (`5F28`).
    pub issuer_country: Option<[u8; 2]>,
    /// Terminal Country Code (`9F1A`).
    pub terminal_country: [u8; 2],
    /// Transaction Type (`9C`).
    pub transaction_type: TransactionType,
    /// Amount, Other (`9F03`) in minor units (cashback amount).
    pub amount_other: u64,
    /// Terminal Type (`9F35`).
    pub terminal_type: TerminalType,
    /// Additional Terminal Capabilities (`9F40`).
    pub additional_capabilities: AdditionalTerminalCapabilities,
    /// Application Effective Date (`5F25`), YYMMDD BCD.
    pub effective_date: Option<[u8; 3]>,
    /// Application Expiration Date (`5F24`), YYMMDD BCD.
    pub expiration_date: Option<[u8; 3]>,
    /// Transaction Date (`9A`), YYMMDD BCD.
    pub transaction_date: [u8; 3],
}

/// True for an ATM: Terminal Type 14, 15 or 16 (financial institution,
/// unattended) whose Additional Terminal Capabilities include "Cash".
#[must_use]
pub fn is_atm(terminal_type: TerminalType, capabilities: AdditionalTerminalCapabilities) -> bool {
    matches!(
        terminal_type.operational_control(),
        OperationalControl::FinancialInstitution
    ) && terminal_type.is_unattended()
        && capabilities.contains(AdditionalTerminalCapabilities::CASH)
}

/// Runs every check of Book 3 §10.4 and returns the TVR bits to set
/// (Processing Restrictions sets no TSI bit).
pub fn processing_restrictions(
    input: &RestrictionsInput,
    trail: &mut impl TrailSink,
) -> StatusUpdate {
    check_versions(input.card_version, input.terminal_version, trail)
        .merge(check_usage_control(input, trail))
        .merge(check_dates(
            input.effective_date,
            input.expiration_date,
            input.transaction_date,
            trail,
        ))
}

/// Book 3 §10.4.1: application versions.
pub fn check_versions(
    card: Option<[u8; 2]>,
    terminal: Option<[u8; 2]>,
    trail: &mut impl TrailSink,
) -> StatusUpdate {
    let mut out = StatusUpdate::NONE;
    if let (Some(card), Some(terminal)) = (card, terminal)
        && card != terminal
    {
        trail.record(TrailEntry::new(
            PHASE,
            "§10.4.1: application version numbers differ",
            Detail::Versions { card, terminal },
        ));
        out.set_tvr(
            PHASE,
            "§10.4.1: ICC and terminal application versions differ",
            Tvr::DIFFERENT_APPLICATION_VERSIONS,
            trail,
        );
    }
    out
}

/// Book 3 §10.4.2: Application Usage Control.
pub fn check_usage_control(input: &RestrictionsInput, trail: &mut impl TrailSink) -> StatusUpdate {
    let mut out = StatusUpdate::NONE;
    let Some(auc) = input.auc else {
        return out;
    };
    fn deny(what: &'static str, out: &mut StatusUpdate, trail: &mut impl TrailSink) {
        out.set_tvr(PHASE, what, Tvr::SERVICE_NOT_ALLOWED, trail);
    }
    if is_atm(input.terminal_type, input.additional_capabilities) {
        if !auc.contains(Auc::ATMS) {
            deny("§10.4.2: ATM but AUC not valid at ATMs", &mut out, trail);
        }
    } else if !auc.contains(Auc::NON_ATM_TERMINALS) {
        deny(
            "§10.4.2: not an ATM but AUC not valid at other terminals",
            &mut out,
            trail,
        );
    }

    let Some(issuer) = input.issuer_country else {
        return out;
    };
    let domestic = issuer == input.terminal_country;
    let tt = input.transaction_type;
    let countries = Detail::Countries {
        issuer,
        terminal: input.terminal_country,
    };
    let mut failed = false;
    if tt.is_cash() {
        let ok = if domestic {
            auc.contains(Auc::DOMESTIC_CASH)
        } else {
            auc.contains(Auc::INTERNATIONAL_CASH)
        };
        if !ok {
            failed = true;
            trail.record(TrailEntry::new(PHASE, "§10.4.2: cash", countries));
            deny(
                if domestic {
                    "§10.4.2: domestic cash not allowed by AUC"
                } else {
                    "§10.4.2: international cash not allowed by AUC"
                },
                &mut out,
                trail,
            );
        }
    }
    let purchase = tt == TransactionType::GOODS_AND_SERVICES
        || (PURCHASE_BITS_FOR_CASHBACK && tt == TransactionType::CASHBACK);
    if purchase {
        let ok = if domestic {
            auc.contains(Auc::DOMESTIC_GOODS) || auc.contains(Auc::DOMESTIC_SERVICES)
        } else {
            auc.contains(Auc::INTERNATIONAL_GOODS) || auc.contains(Auc::INTERNATIONAL_SERVICES)
        };
        if !ok {
            if !failed {
                trail.record(TrailEntry::new(PHASE, "§10.4.2: purchase", countries));
            }
            failed = true;
            deny(
                if domestic {
                    "§10.4.2: domestic goods and services not allowed by AUC"
                } else {
                    "§10.4.2: international goods and services not allowed by AUC"
                },
                &mut out,
                trail,
            );
        }
    }
    if tt.is_cashback(input.amount_other) {
        let ok = if domestic {
            auc.contains(Auc::DOMESTIC_CASHBACK)
        } else {
            auc.contains(Auc::INTERNATIONAL_CASHBACK)
        };
        if !ok {
            if !failed {
                trail.record(TrailEntry::new(PHASE, "§10.4.2: cashback", countries));
            }
            deny(
                if domestic {
                    "§10.4.2: domestic cashback not allowed by AUC"
                } else {
                    "§10.4.2: international cashback not allowed by AUC"
                },
                &mut out,
                trail,
            );
        }
    }
    out
}

/// Book 3 §10.4.3: effective and expiration dates against the Transaction
/// Date (`9A`). See the module docs for the **\[M\]** handling of invalid
/// and absent dates.
pub fn check_dates(
    effective: Option<[u8; 3]>,
    expiration: Option<[u8; 3]>,
    transaction: [u8; 3],
    trail: &mut impl TrailSink,
) -> StatusUpdate {
    let mut out = StatusUpdate::NONE;
    let today = EmvDate::from_bcd(transaction).ok();

    if let Some(card) = effective {
        let dates = Detail::Dates { card, transaction };
        match (EmvDate::from_bcd(card).ok(), today) {
            (Some(eff), Some(now)) if eff > now => {
                trail.record(TrailEntry::new(
                    PHASE,
                    "§10.4.3: effective date after transaction date",
                    dates,
                ));
                out.set_tvr(
                    PHASE,
                    "§10.4.3: application not yet effective",
                    Tvr::APPLICATION_NOT_YET_EFFECTIVE,
                    trail,
                );
            }
            (Some(_), Some(_)) => {}
            _ if INVALID_DATE_FAILS_CHECK => {
                trail.record(TrailEntry::new(
                    PHASE,
                    "§10.4.3: [M] invalid effective or transaction date",
                    dates,
                ));
                out.set_tvr(
                    PHASE,
                    "§10.4.3: [M] invalid date fails the effective date check",
                    Tvr::APPLICATION_NOT_YET_EFFECTIVE,
                    trail,
                );
            }
            _ => {}
        }
    }

    match expiration {
        None => {
            if MISSING_EXPIRY_FAILS_CHECK {
                out.set_tvr(
                    PHASE,
                    "§10.4.3: [M] expiration date absent fails the expiry check",
                    Tvr::EXPIRED_APPLICATION,
                    trail,
                );
            }
        }
        Some(card) => {
            let dates = Detail::Dates { card, transaction };
            match (EmvDate::from_bcd(card).ok(), today) {
                (Some(exp), Some(now)) if exp < now => {
                    trail.record(TrailEntry::new(
                        PHASE,
                        "§10.4.3: expiration date before transaction date",
                        dates,
                    ));
                    out.set_tvr(
                        PHASE,
                        "§10.4.3: expired application",
                        Tvr::EXPIRED_APPLICATION,
                        trail,
                    );
                }
                (Some(_), Some(_)) => {}
                _ if INVALID_DATE_FAILS_CHECK => {
                    trail.record(TrailEntry::new(
                        PHASE,
                        "§10.4.3: [M] invalid expiration or transaction date",
                        dates,
                    ));
                    out.set_tvr(
                        PHASE,
                        "§10.4.3: [M] invalid date fails the expiry check",
                        Tvr::EXPIRED_APPLICATION,
                        trail,
                    );
                }
                _ => {}
            }
        }
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

    use crate::data::additional_terminal_capabilities::AdditionalTerminalCapabilities as Atc;

    const POS: u8 = 0x22;
    const ATM: u8 = 0x14;
    const NL: [u8; 2] = [0x05, 0x28];
    const US: [u8; 2] = [0x08, 0x40];

    /// A domestic goods purchase at a POS on 2025-06-15 with an AUC allowing
    /// everything, valid 2020-01-01 to 2027-12-31: passes every check.
    fn base() -> RestrictionsInput {
        RestrictionsInput {
            card_version: Some([0x00, 0x8C]),
            terminal_version: Some([0x00, 0x8C]),
            auc: Some(Auc([0xFF, 0xC0])),
            issuer_country: Some(NL),
            terminal_country: NL,
            transaction_type: TransactionType::GOODS_AND_SERVICES,
            amount_other: 0,
            terminal_type: TerminalType::from_byte(POS).unwrap(),
            additional_capabilities: Atc([0x60, 0, 0, 0, 0]),
            effective_date: Some([0x20, 0x01, 0x01]),
            expiration_date: Some([0x27, 0x12, 0x31]),
            transaction_date: [0x25, 0x06, 0x15],
        }
    }

    fn run(input: &RestrictionsInput) -> [u8; 5] {
        processing_restrictions(input, &mut NoTrail).tvr.0
    }

    fn atm() -> RestrictionsInput {
        RestrictionsInput {
            terminal_type: TerminalType::from_byte(ATM).unwrap(),
            additional_capabilities: Atc([0x80, 0, 0, 0, 0]),
            transaction_type: TransactionType::CASH,
            ..base()
        }
    }

    #[test]
    fn clean_transaction_sets_nothing() {
        let mut t = Trail::<8>::new();
        let out = processing_restrictions(&base(), &mut t);
        assert_eq!(out, StatusUpdate::NONE);
        assert!(t.is_empty());
    }

    #[test]
    fn versions() {
        let mut t = Trail::<8>::new();
        let i = RestrictionsInput {
            card_version: Some([0x00, 0x02]),
            ..base()
        };
        assert_eq!(
            processing_restrictions(&i, &mut t).tvr.0,
            [0, 0x80, 0, 0, 0]
        );
        assert!(t.contains_detail(Detail::Versions {
            card: [0, 2],
            terminal: [0, 0x8C]
        }));
        assert!(t.contains_detail(Detail::Tvr(Tvr::DIFFERENT_APPLICATION_VERSIONS)));
        // Either absent: compatible.
        let absent_card = RestrictionsInput {
            card_version: None,
            ..i
        };
        assert_eq!(run(&absent_card), [0; 5]);
        let absent_terminal = RestrictionsInput {
            terminal_version: None,
            ..i
        };
        assert_eq!(run(&absent_terminal), [0; 5]);
    }

    #[test]
    fn atm_detection() {
        let atm_type = TerminalType::from_byte(ATM).unwrap();
        assert!(is_atm(atm_type, Atc([0x80, 0, 0, 0, 0])));
        assert!(is_atm(
            TerminalType::from_byte(0x16).unwrap(),
            Atc([0x80, 0, 0, 0, 0])
        ));
        // No "Cash" capability: not an ATM.
        assert!(!is_atm(atm_type, Atc([0x40, 0, 0, 0, 0])));
        // Attended bank terminal (11) and merchant unattended (24): not ATMs.
        assert!(!is_atm(
            TerminalType::from_byte(0x11).unwrap(),
            Atc([0x80, 0, 0, 0, 0])
        ));
        assert!(!is_atm(
            TerminalType::from_byte(0x24).unwrap(),
            Atc([0x80, 0, 0, 0, 0])
        ));
    }

    #[test]
    fn atm_and_non_atm_bits() {
        // ATM, AUC valid at ATMs: allowed.
        assert_eq!(run(&atm()), [0; 5]);
        // ATM, AUC only valid at non-ATMs (FD = all but b2).
        let i = RestrictionsInput {
            auc: Some(Auc([0xFD, 0])),
            ..atm()
        };
        assert_eq!(run(&i), [0, 0x10, 0, 0, 0]);
        // POS, AUC only valid at ATMs (FE = all but b1).
        let i = RestrictionsInput {
            auc: Some(Auc([0xFE, 0])),
            ..base()
        };
        assert_eq!(run(&i), [0, 0x10, 0, 0, 0]);
        // No AUC: nothing checked, even at an ATM.
        let i = RestrictionsInput { auc: None, ..atm() };
        assert_eq!(run(&i), [0; 5]);
    }

    #[test]
    fn cash_domestic_and_international() {
        // Domestic cash only (80 | 02 ATM).
        let dom_only = Some(Auc([0x82, 0]));
        let i = RestrictionsInput {
            auc: dom_only,
            ..atm()
        };
        assert_eq!(run(&i), [0; 5]);
        let mut t = Trail::<8>::new();
        let int = RestrictionsInput {
            issuer_country: Some(US),
            ..i
        };
        assert_eq!(
            processing_restrictions(&int, &mut t).tvr.0,
            [0, 0x10, 0, 0, 0]
        );
        assert!(t.contains_detail(Detail::Countries {
            issuer: US,
            terminal: NL
        }));
        // International cash only (40 | 02).
        let i = RestrictionsInput {
            auc: Some(Auc([0x42, 0])),
            ..atm()
        };
        assert_eq!(run(&i), [0, 0x10, 0, 0, 0]);
        let i = RestrictionsInput {
            issuer_country: Some(US),
            ..i
        };
        assert_eq!(run(&i), [0; 5]);
        // Issuer country absent: no domestic/international check.
        let i = RestrictionsInput {
            issuer_country: None,
            auc: Some(Auc([0x02, 0])),
            ..atm()
        };
        assert_eq!(run(&i), [0; 5]);
    }

    #[test]
    fn goods_and_services() {
        // Domestic goods only (20 | 01): domestic OK, international not.
        let i = RestrictionsInput {
            auc: Some(Auc([0x21, 0])),
            ..base()
        };
        assert_eq!(run(&i), [0; 5]);
        let i2 = RestrictionsInput {
            issuer_country: Some(US),
            ..i
        };
        assert_eq!(run(&i2), [0, 0x10, 0, 0, 0]);
        // Domestic services alone also allow a goods/services purchase.
        let i = RestrictionsInput {
            auc: Some(Auc([0x09, 0])),
            ..base()
        };
        assert_eq!(run(&i), [0; 5]);
        // International services (04) for a foreign card.
        let i = RestrictionsInput {
            auc: Some(Auc([0x05, 0])),
            issuer_country: Some(US),
            ..base()
        };
        assert_eq!(run(&i), [0; 5]);
        // Cash-only card used for a purchase.
        let i = RestrictionsInput {
            auc: Some(Auc([0xC1, 0])),
            ..base()
        };
        assert_eq!(run(&i), [0, 0x10, 0, 0, 0]);
    }

    #[test]
    fn cashback() {
        let cb = RestrictionsInput {
            transaction_type: TransactionType::CASHBACK,
            amount_other: 2000,
            ..base()
        };
        // AUC FF C0: goods and both cashback bits.
        assert_eq!(run(&cb), [0; 5]);
        // Domestic cashback missing (FF 40).
        let i = RestrictionsInput {
            auc: Some(Auc([0xFF, 0x40])),
            ..cb
        };
        let mut t = Trail::<8>::new();
        assert_eq!(
            processing_restrictions(&i, &mut t).tvr.0,
            [0, 0x10, 0, 0, 0]
        );
        assert_eq!(
            t.iter()
                .filter(|e| e.detail == Detail::Tvr(Tvr::SERVICE_NOT_ALLOWED))
                .count(),
            1
        );
        // Internationally with only international cashback: fine.
        let i = RestrictionsInput {
            issuer_country: Some(US),
            ..i
        };
        assert_eq!(run(&i), [0; 5]);
        // [M] 9C=00 with Amount, Other: cashback check applies.
        let i = RestrictionsInput {
            transaction_type: TransactionType::GOODS_AND_SERVICES,
            auc: Some(Auc([0xFF, 0x00])),
            amount_other: 1,
            ..base()
        };
        assert_eq!(run(&i), [0, 0x10, 0, 0, 0]);
        let i = RestrictionsInput {
            amount_other: 0,
            ..i
        };
        assert_eq!(run(&i), [0; 5]);
        // [M] 9C=09 also needs a goods/services bit: cashback-only AUC fails.
        let i = RestrictionsInput {
            auc: Some(Auc([0x01, 0xC0])),
            ..cb
        };
        assert_eq!(run(&i), [0, 0x10, 0, 0, 0]);
    }

    #[test]
    fn refund_has_no_type_check() {
        let i = RestrictionsInput {
            transaction_type: TransactionType::REFUND,
            auc: Some(Auc([0x01, 0])),
            ..base()
        };
        assert_eq!(run(&i), [0; 5]);
    }

    #[test]
    fn effective_date() {
        // Effective the day after: not yet effective.
        let i = RestrictionsInput {
            effective_date: Some([0x25, 0x06, 0x16]),
            ..base()
        };
        let mut t = Trail::<8>::new();
        assert_eq!(
            processing_restrictions(&i, &mut t).tvr.0,
            [0, 0x20, 0, 0, 0]
        );
        assert!(t.contains_detail(Detail::Dates {
            card: [0x25, 0x06, 0x16],
            transaction: [0x25, 0x06, 0x15]
        }));
        // Effective today: fine. Absent: fine.
        let i = RestrictionsInput {
            effective_date: Some([0x25, 0x06, 0x15]),
            ..base()
        };
        assert_eq!(run(&i), [0; 5]);
        let i = RestrictionsInput {
            effective_date: None,
            ..base()
        };
        assert_eq!(run(&i), [0; 5]);
        // 1999 effective date is before 2025 (YY 99 → 1999).
        let i = RestrictionsInput {
            effective_date: Some([0x99, 0x01, 0x01]),
            ..base()
        };
        assert_eq!(run(&i), [0; 5]);
    }

    #[test]
    fn expiration_date() {
        // Expired yesterday.
        let i = RestrictionsInput {
            expiration_date: Some([0x25, 0x06, 0x14]),
            ..base()
        };
        assert_eq!(run(&i), [0, 0x40, 0, 0, 0]);
        // Expires today: still valid.
        let i = RestrictionsInput {
            expiration_date: Some([0x25, 0x06, 0x15]),
            ..base()
        };
        assert_eq!(run(&i), [0; 5]);
        // 49 → 2049: valid; 50 → 1950: expired.
        let i = RestrictionsInput {
            expiration_date: Some([0x49, 0x12, 0x31]),
            ..base()
        };
        assert_eq!(run(&i), [0; 5]);
        let i = RestrictionsInput {
            expiration_date: Some([0x50, 0x12, 0x31]),
            ..base()
        };
        assert_eq!(run(&i), [0, 0x40, 0, 0, 0]);
    }

    #[test]
    fn invalid_and_missing_dates_fail_m() {
        // [M] Invalid expiry (month 13) → expired.
        let i = RestrictionsInput {
            expiration_date: Some([0x27, 0x13, 0x01]),
            ..base()
        };
        assert_eq!(run(&i), [0, 0x40, 0, 0, 0]);
        // [M] Invalid effective date (not BCD) → not yet effective.
        let i = RestrictionsInput {
            effective_date: Some([0x2F, 0x01, 0x01]),
            ..base()
        };
        assert_eq!(run(&i), [0, 0x20, 0, 0, 0]);
        // [M] Invalid transaction date → both checks fail.
        let i = RestrictionsInput {
            transaction_date: [0x25, 0x02, 0x30],
            ..base()
        };
        assert_eq!(run(&i), [0, 0x60, 0, 0, 0]);
        // [M] Invalid transaction date, no effective date → only expiry.
        let i = RestrictionsInput {
            transaction_date: [0xFF, 0xFF, 0xFF],
            effective_date: None,
            ..base()
        };
        assert_eq!(run(&i), [0, 0x40, 0, 0, 0]);
        // [M] Absent expiry → expired.
        let mut t = Trail::<8>::new();
        let i = RestrictionsInput {
            expiration_date: None,
            ..base()
        };
        assert_eq!(
            processing_restrictions(&i, &mut t).tvr.0,
            [0, 0x40, 0, 0, 0]
        );
        assert!(t.last().unwrap().what.contains("[M]"));
    }

    #[test]
    fn everything_at_once() {
        let i = RestrictionsInput {
            card_version: Some([0, 1]),
            auc: Some(Auc([0x00, 0x00])),
            effective_date: Some([0x30, 0x01, 0x01]),
            expiration_date: Some([0x20, 0x01, 0x01]),
            ..base()
        };
        // Versions 80, service 10, not effective 20, expired 40.
        assert_eq!(run(&i), [0, 0xF0, 0, 0, 0]);
    }

    fn arb_terminal_type() -> impl Strategy<Value = TerminalType> {
        prop::sample::select(
            &[
                0x11u8, 0x12, 0x13, 0x14, 0x15, 0x16, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x34,
                0x35, 0x36,
            ][..],
        )
        .prop_map(|b| TerminalType::from_byte(b).unwrap())
    }

    proptest! {
        #[test]
        fn never_panics_and_only_byte2(
            cv in any::<Option<[u8; 2]>>(),
            tv in any::<Option<[u8; 2]>>(),
            auc in any::<Option<[u8; 2]>>(),
            ic in any::<Option<[u8; 2]>>(),
            tc in any::<[u8; 2]>(),
            tt in any::<u8>(),
            other in any::<u64>(),
            ty in arb_terminal_type(),
            atc in any::<[u8; 5]>(),
            eff in any::<Option<[u8; 3]>>(),
            exp in any::<Option<[u8; 3]>>(),
            today in any::<[u8; 3]>(),
        ) {
            let input = RestrictionsInput {
                card_version: cv,
                terminal_version: tv,
                auc: auc.map(Auc),
                issuer_country: ic,
                terminal_country: tc,
                transaction_type: TransactionType(tt),
                amount_other: other,
                terminal_type: ty,
                additional_capabilities: Atc(atc),
                effective_date: eff,
                expiration_date: exp,
                transaction_date: today,
            };
            let mut t = Trail::<32>::new();
            let out = processing_restrictions(&input, &mut t);
            // Only TVR byte 2 b8–b5; never TSI.
            prop_assert_eq!(out.tvr.0[0] | out.tvr.0[2] | out.tvr.0[3] | out.tvr.0[4], 0);
            prop_assert_eq!(out.tvr.0[1] & 0x0F, 0);
            prop_assert_eq!(out.tsi.0, [0, 0]);
            // Every bit set is explained in the trail.
            for f in out.tvr.set_flags() {
                prop_assert!(t.contains_detail(Detail::Tvr(*f)));
            }
            // An expired application is always flagged.
            if let (Some(e), Ok(now)) = (exp, EmvDate::from_bcd(today))
                && let Ok(e) = EmvDate::from_bcd(e)
            {
                prop_assert_eq!(out.tvr.contains(Tvr::EXPIRED_APPLICATION), e < now);
            }
        }
    }
}
