//! The pure decision logic of the contact transaction (EMV 4.4 Book 3
//! §10.4–10.7 and Annex C; Book 4 §6.3): each phase is a function (or, for
//! cardholder verification, a small state machine) that takes every input
//! explicitly and returns its decision with the TVR/TSI bits to set
//! ([`StatusUpdate`]), recording why in a [`TrailSink`]. The transaction
//! state machine calls them; nothing here does I/O.
//!
//! - [`restrictions`]: Processing Restrictions (Book 3 §10.4).
//! - [`cvm`]: Cardholder Verification (Book 3 §10.5, Annex C3; Book 4
//!   §6.3.4).
//! - [`trm`]: Terminal Risk Management (Book 3 §10.6).
//! - [`taa`]: Terminal Action Analysis (Book 3 §10.7).
//! - [`trail`]: the decision trail; [`status`]: the bits to set;
//!   [`date`]: `YYMMDD` dates; [`transaction`]: Transaction Type `9C`.
//!
//! Items marked **\[M\]** follow general domain knowledge not confirmed in
//! the licensed texts (facts Appendix B); each sits behind a named constant
//! or option in its module.

pub mod cvm;
pub mod date;
pub mod machine;
pub mod restrictions;
pub mod status;
pub mod taa;
pub mod trail;
pub mod transaction;
pub mod trm;

pub use status::StatusUpdate;
pub use trail::{Detail, NoTrail, Phase, Trail, TrailEntry, TrailSink};

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
mod tests {
    //! The phases chained as a transaction runs them.

    use super::cvm::{ActionResult, CvmContext, CvmEvaluator, CvmOptions};
    use super::restrictions::{RestrictionsInput, processing_restrictions};
    use super::taa::{ActionCodes, IssuerActionCodes, TaaInput, first_generate_ac};
    use super::transaction::TransactionType;
    use super::trm::{RandomSelection, TrmInput, Velocity, terminal_risk_management};
    use super::*;
    use crate::data::additional_terminal_capabilities::AdditionalTerminalCapabilities;
    use crate::data::aip::Aip;
    use crate::data::auc::Auc;
    use crate::data::cid::CryptogramType;
    use crate::data::terminal_capabilities::TerminalCapabilities;
    use crate::data::terminal_type::TerminalType;
    use crate::data::tsi::Tsi;
    use crate::data::tvr::Tvr;
    use proptest::prelude::*;

    /// A whole offline-capable purchase, by hand: expired card, offline PIN
    /// OK, amount above the floor limit. Expected TVR `00 40 00 80 00`,
    /// TSI `48 00`, and the TAC-Denial `00 40 …` declines it.
    #[test]
    fn expired_card_is_declined_end_to_end() {
        let mut trail = Trail::<64>::new();
        let mut tvr = Tvr::default();
        let mut tsi = Tsi::default();
        let terminal_type = TerminalType::from_byte(0x22).unwrap();
        processing_restrictions(
            &RestrictionsInput {
                card_version: Some([0, 0x8C]),
                terminal_version: Some([0, 0x8C]),
                auc: Some(Auc([0xFF, 0x00])),
                issuer_country: Some([0x05, 0x28]),
                terminal_country: [0x05, 0x28],
                transaction_type: TransactionType::GOODS_AND_SERVICES,
                amount_other: 0,
                terminal_type,
                additional_capabilities: AdditionalTerminalCapabilities([0x60, 0, 0, 0, 0]),
                effective_date: None,
                expiration_date: Some([0x24, 0x12, 0x31]),
                transaction_date: [0x25, 0x01, 0x02],
            },
            &mut trail,
        )
        .apply_to(&mut tvr, &mut tsi);
        let list = [0, 0, 0, 0, 0, 0, 0, 0, 0x41, 0x03, 0x1F, 0x03];
        let ctx = CvmContext {
            aip: Aip([0x18, 0]),
            capabilities: TerminalCapabilities([0xE0, 0xF8, 0xC8]),
            terminal_type,
            transaction_type: TransactionType::GOODS_AND_SERVICES,
            amount_authorised: 25_000,
            amount_other: 0,
            transaction_currency: [0x09, 0x78],
            application_currency: Some([0x09, 0x78]),
        };
        let cvm = CvmEvaluator::run(
            ctx,
            Some(&list),
            CvmOptions::DEFAULT,
            |_| ActionResult::Success,
            &mut trail,
        );
        cvm.status.apply_to(&mut tvr, &mut tsi);
        assert_eq!(cvm.results.0, [0x41, 0x03, 0x02]);
        terminal_risk_management(
            &TrmInput {
                amount: 25_000,
                floor_limit: 10_000,
                random_selection: Some(RandomSelection {
                    threshold: 5000,
                    target_percent: 10,
                    max_target_percent: 30,
                }),
                random_number: 50,
                velocity: Velocity::default(),
                in_exception_file: false,
            },
            &mut trail,
        )
        .status
        .apply_to(&mut tvr, &mut tsi);
        assert_eq!(tvr.0, [0x00, 0x40, 0x00, 0x80, 0x00]);
        assert_eq!(tsi.0, [0x48, 0x00]);
        let taa = first_generate_ac(
            &TaaInput {
                tvr,
                tac: ActionCodes {
                    denial: [0x00, 0x40, 0, 0, 0],
                    online: [0, 0, 0, 0x80, 0],
                    default: [0, 0, 0, 0x80, 0],
                },
                iac: IssuerActionCodes::default(),
                terminal_type,
            },
            &mut trail,
        );
        assert_eq!(taa.cryptogram, CryptogramType::Aac);
        assert_eq!(taa.denial.tac.0, [0, 0x40, 0, 0, 0]);
        // Every TVR bit set is explained by a trail entry.
        for f in tvr.set_flags() {
            assert!(trail.contains_detail(Detail::Tvr(*f)), "{f}");
        }
        assert_eq!(trail.dropped(), 0);
    }

    fn arb_terminal() -> impl Strategy<Value = TerminalType> {
        prop::sample::select(
            &[
                0x11u8, 0x12, 0x13, 0x14, 0x15, 0x16, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x34,
                0x35, 0x36,
            ][..],
        )
        .prop_map(|b| TerminalType::from_byte(b).unwrap())
    }

    proptest! {
        /// Arbitrary card data through every phase: no panic, and the
        /// decision never approves (TC) or goes online (ARQC) when a TVR bit
        /// matched a Denial code.
        #[test]
        fn chained_phases_never_approve_a_denied_tvr(
            terminal_type in arb_terminal(),
            dates in any::<(Option<[u8; 3]>, Option<[u8; 3]>, [u8; 3])>(),
            auc in any::<Option<[u8; 2]>>(),
            countries in any::<(Option<[u8; 2]>, [u8; 2])>(),
            tt in any::<u8>(),
            list in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..40)),
            caps in any::<[u8; 3]>(),
            aip in any::<[u8; 2]>(),
            amount in any::<u64>(),
            floor in any::<u64>(),
            r in 1u8..=99,
            vel in any::<(Option<u8>, Option<u8>, Option<u16>, Option<u16>)>(),
            tac in any::<([u8; 5], [u8; 5], [u8; 5])>(),
            iac in any::<(Option<[u8; 5]>, Option<[u8; 5]>, Option<[u8; 5]>)>(),
            pin_ok in any::<bool>(),
        ) {
            let mut trail = Trail::<8>::new();
            let mut tvr = Tvr::default();
            let mut tsi = Tsi::default();
            processing_restrictions(&RestrictionsInput {
                card_version: None,
                terminal_version: Some([0, 1]),
                auc: auc.map(Auc),
                issuer_country: countries.0,
                terminal_country: countries.1,
                transaction_type: TransactionType(tt),
                amount_other: 0,
                terminal_type,
                additional_capabilities: AdditionalTerminalCapabilities([0xF0, 0, 0, 0, 0]),
                effective_date: dates.0,
                expiration_date: dates.1,
                transaction_date: dates.2,
            }, &mut trail).apply_to(&mut tvr, &mut tsi);
            let ctx = CvmContext {
                aip: Aip(aip),
                capabilities: TerminalCapabilities(caps),
                terminal_type,
                transaction_type: TransactionType(tt),
                amount_authorised: amount,
                amount_other: 0,
                transaction_currency: [0x09, 0x78],
                application_currency: Some([0x09, 0x78]),
            };
            let reply = if pin_ok { ActionResult::Success } else { ActionResult::Bypassed };
            CvmEvaluator::run(ctx, list.as_deref(), CvmOptions::DEFAULT, |_| reply, &mut trail)
                .status
                .apply_to(&mut tvr, &mut tsi);
            terminal_risk_management(&TrmInput {
                amount,
                floor_limit: floor,
                random_selection: Some(RandomSelection {
                    threshold: floor / 2,
                    target_percent: 10,
                    max_target_percent: 50,
                }),
                random_number: r,
                velocity: Velocity {
                    lower_limit: vel.0,
                    upper_limit: vel.1,
                    atc: vel.2,
                    last_online_atc: vel.3,
                },
                in_exception_file: false,
            }, &mut trail).status.apply_to(&mut tvr, &mut tsi);
            let input = TaaInput {
                tvr,
                tac: ActionCodes { denial: tac.0, online: tac.1, default: tac.2 },
                iac: IssuerActionCodes { denial: iac.0, online: iac.1, default: iac.2 },
                terminal_type,
            };
            let o = first_generate_ac(&input, &mut trail);
            let denial_mask: [u8; 5] = core::array::from_fn(|i| {
                tac.0[i] | iac.0.unwrap_or([0; 5])[i]
            });
            let denied = tvr.0.iter().zip(denial_mask).any(|(t, d)| t & d != 0);
            if denied {
                prop_assert_eq!(o.cryptogram, CryptogramType::Aac);
            }
            // TRM always ran.
            prop_assert!(tsi.contains(Tsi::TERMINAL_RISK_MANAGEMENT_PERFORMED));
        }
    }
}
