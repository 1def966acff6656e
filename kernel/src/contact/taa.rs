//! Terminal Action Analysis (EMV 4.4 Book 3 §10.7; facts §1.9): the TVR
//! against the Terminal and Issuer Action Codes decides which cryptogram
//! the first GENERATE AC asks for.
//!
//! 1. Denial: any TVR bit set in TAC-Denial or IAC-Denial (`9F0E`) → AAC.
//! 2. Online-capable terminal: any TVR bit in TAC-Online or IAC-Online
//!    (`9F0F`) → ARQC, otherwise TC. **\[M\]** An online-only terminal
//!    (type x1/x4) asks for ARQC even with no online bit matched
//!    ([`ONLINE_ONLY_ALWAYS_ARQC`]).
//! 3. Offline-only terminal (type x3/x6): any TVR bit in TAC-Default or
//!    IAC-Default (`9F0D`) → AAC, otherwise TC.
//!
//! [`unable_to_go_online`] is the default action analysis of an
//! online-capable terminal that asked for an ARQC but could not reach the
//! issuer: Default codes matched → AAC, otherwise TC (the second GENERATE
//! AC). As a safety net it also answers AAC when a Denial bit matches (the
//! first analysis would have declined already, unless the TVR changed).
//!
//! **\[M\]** (facts Appendix B item 3) An absent IAC is replaced by
//! [`IAC_DENIAL_ABSENT`] (all `00`), [`IAC_ONLINE_ABSENT`] and
//! [`IAC_DEFAULT_ABSENT`] (all `FF`).
//!
//! Every outcome reports, per action code, which TVR bits matched the TAC
//! and which the IAC ([`CodeMatch`]), and records them in the trail.

use crate::contact::trail::{ActionCode, Detail, Phase, TrailEntry, TrailSink};
use crate::data::cid::CryptogramType;
use crate::data::terminal_type::TerminalType;
use crate::data::tvr::Tvr;

/// **\[M\]** IAC-Denial used when the card has none: no bit denies.
pub const IAC_DENIAL_ABSENT: [u8; 5] = [0x00; 5];
/// **\[M\]** IAC-Online used when the card has none: every bit goes online.
pub const IAC_ONLINE_ABSENT: [u8; 5] = [0xFF; 5];
/// **\[M\]** IAC-Default used when the card has none: every bit declines.
pub const IAC_DEFAULT_ABSENT: [u8; 5] = [0xFF; 5];
/// **\[M\]** An online-only terminal asks for an ARQC whenever it does not
/// decline, even with no online bit matched.
pub const ONLINE_ONLY_ALWAYS_ARQC: bool = true;

const PHASE: Phase = Phase::TerminalActionAnalysis;

/// The three action codes, each 5 bytes shaped like the TVR.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ActionCodes {
    /// Denial code.
    pub denial: [u8; 5],
    /// Online code.
    pub online: [u8; 5],
    /// Default code.
    pub default: [u8; 5],
}

/// The Issuer Action Codes as read from the card (each may be absent).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct IssuerActionCodes {
    /// IAC-Denial (`9F0E`).
    pub denial: Option<[u8; 5]>,
    /// IAC-Online (`9F0F`).
    pub online: Option<[u8; 5]>,
    /// IAC-Default (`9F0D`).
    pub default: Option<[u8; 5]>,
}

impl IssuerActionCodes {
    /// The codes with the **\[M\]** defaults in place of absent ones.
    #[must_use]
    pub fn effective(&self) -> ActionCodes {
        ActionCodes {
            denial: self.denial.unwrap_or(IAC_DENIAL_ABSENT),
            online: self.online.unwrap_or(IAC_ONLINE_ABSENT),
            default: self.default.unwrap_or(IAC_DEFAULT_ABSENT),
        }
    }
}

/// Everything Terminal Action Analysis decides on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TaaInput {
    /// The TVR as it stands.
    pub tvr: Tvr,
    /// Terminal Action Codes (terminal configuration for the AID).
    pub tac: ActionCodes,
    /// Issuer Action Codes from the card.
    pub iac: IssuerActionCodes,
    /// Terminal Type (`9F35`): online-only, offline with online
    /// capability, offline-only.
    pub terminal_type: TerminalType,
}

/// The TVR bits that matched one action code, by source.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct CodeMatch {
    /// TVR bits also set in the Terminal Action Code.
    pub tac: Tvr,
    /// TVR bits also set in the Issuer Action Code (or its default).
    pub iac: Tvr,
}

fn and(a: [u8; 5], b: [u8; 5]) -> [u8; 5] {
    let mut out = a;
    for (o, m) in out.iter_mut().zip(b) {
        *o &= m;
    }
    out
}

impl CodeMatch {
    /// The bits of `tvr` set in `tac` and in `iac`.
    #[must_use]
    pub fn of(tvr: Tvr, tac: [u8; 5], iac: [u8; 5]) -> Self {
        Self {
            tac: Tvr(and(tvr.0, tac)),
            iac: Tvr(and(tvr.0, iac)),
        }
    }

    /// All matched bits (TAC or IAC).
    #[must_use]
    pub fn bits(&self) -> Tvr {
        let mut out = self.tac;
        for (o, m) in out.0.iter_mut().zip(self.iac.0) {
            *o |= m;
        }
        out
    }

    /// True when any bit matched.
    #[must_use]
    pub fn any(&self) -> bool {
        self.bits().0 != [0; 5]
    }
}

/// Why the cryptogram was chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TaaReason {
    /// A Denial bit matched: AAC.
    DenialMatched,
    /// Online-capable terminal, an Online bit matched: ARQC.
    OnlineMatched,
    /// **\[M\]** Online-only terminal, no Online bit matched: ARQC anyway.
    OnlineOnlyTerminal,
    /// Online-capable terminal, no Online bit matched: TC.
    NoOnlineMatch,
    /// Offline-only terminal or unable to go online, a Default bit matched:
    /// AAC.
    DefaultMatched,
    /// Offline-only terminal or unable to go online, no Default bit
    /// matched: TC.
    NoDefaultMatch,
}

impl TaaReason {
    /// The reason in words, with its clause.
    #[must_use]
    pub const fn what(self) -> &'static str {
        match self {
            Self::DenialMatched => "§10.7: denial code matched: AAC",
            Self::OnlineMatched => "§10.7: online code matched: ARQC",
            Self::OnlineOnlyTerminal => "§10.7: [M] online-only terminal: ARQC",
            Self::NoOnlineMatch => "§10.7: no online code matched: TC",
            Self::DefaultMatched => "§10.7: default code matched: AAC",
            Self::NoDefaultMatch => "§10.7: no default code matched: TC",
        }
    }
}

/// The decision of Terminal Action Analysis.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TaaOutcome {
    /// The cryptogram to ask for: AAC, TC or ARQC.
    pub cryptogram: CryptogramType,
    /// Why.
    pub reason: TaaReason,
    /// TVR bits matching the Denial codes.
    pub denial: CodeMatch,
    /// TVR bits matching the Online codes.
    pub online: CodeMatch,
    /// TVR bits matching the Default codes.
    pub default: CodeMatch,
}

fn matches(input: &TaaInput) -> (CodeMatch, CodeMatch, CodeMatch) {
    let iac = input.iac.effective();
    (
        CodeMatch::of(input.tvr, input.tac.denial, iac.denial),
        CodeMatch::of(input.tvr, input.tac.online, iac.online),
        CodeMatch::of(input.tvr, input.tac.default, iac.default),
    )
}

fn record_match(code: ActionCode, m: &CodeMatch, trail: &mut impl TrailSink) {
    if m.any() {
        trail.record(TrailEntry::new(
            PHASE,
            "§10.7: TVR bits matched an action code",
            Detail::ActionCodeMatch {
                code,
                tac: m.tac.0,
                iac: m.iac.0,
            },
        ));
    }
}

fn decide(
    reason: TaaReason,
    (denial, online, default): (CodeMatch, CodeMatch, CodeMatch),
    trail: &mut impl TrailSink,
) -> TaaOutcome {
    let cryptogram = match reason {
        TaaReason::DenialMatched | TaaReason::DefaultMatched => CryptogramType::Aac,
        TaaReason::OnlineMatched | TaaReason::OnlineOnlyTerminal => CryptogramType::Arqc,
        TaaReason::NoOnlineMatch | TaaReason::NoDefaultMatch => CryptogramType::Tc,
    };
    trail.record(TrailEntry::new(
        PHASE,
        reason.what(),
        Detail::Cryptogram(cryptogram),
    ));
    TaaOutcome {
        cryptogram,
        reason,
        denial,
        online,
        default,
    }
}

/// Book 3 §10.7: the cryptogram for the first GENERATE AC.
pub fn first_generate_ac(input: &TaaInput, trail: &mut impl TrailSink) -> TaaOutcome {
    let m = matches(input);
    let (denial, online, default) = m;
    record_match(ActionCode::Denial, &denial, trail);
    let reason = if denial.any() {
        TaaReason::DenialMatched
    } else if input.terminal_type.is_offline_only() {
        record_match(ActionCode::Default, &default, trail);
        if default.any() {
            TaaReason::DefaultMatched
        } else {
            TaaReason::NoDefaultMatch
        }
    } else {
        record_match(ActionCode::Online, &online, trail);
        if online.any() {
            TaaReason::OnlineMatched
        } else if ONLINE_ONLY_ALWAYS_ARQC && input.terminal_type.is_online_only() {
            TaaReason::OnlineOnlyTerminal
        } else {
            TaaReason::NoOnlineMatch
        }
    };
    decide(reason, m, trail)
}

/// Book 3 §10.7: default action analysis when the terminal could not go
/// online; the cryptogram (TC or AAC) for the second GENERATE AC. `input`
/// carries the TVR as it stands then.
pub fn unable_to_go_online(input: &TaaInput, trail: &mut impl TrailSink) -> TaaOutcome {
    let m = matches(input);
    let (denial, _, default) = m;
    record_match(ActionCode::Denial, &denial, trail);
    let reason = if denial.any() {
        TaaReason::DenialMatched
    } else {
        record_match(ActionCode::Default, &default, trail);
        if default.any() {
            TaaReason::DefaultMatched
        } else {
            TaaReason::NoDefaultMatch
        }
    };
    decide(reason, m, trail)
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

    /// Commonly seen Visa contact TACs (facts §1.9; not normative).
    const TAC: ActionCodes = ActionCodes {
        denial: [0x00, 0x10, 0x00, 0x00, 0x00],
        online: [0xDC, 0x40, 0x04, 0xF8, 0x00],
        default: [0xDC, 0x40, 0x00, 0xA8, 0x00],
    };

    fn input(tvr: [u8; 5], terminal: u8, iac: IssuerActionCodes) -> TaaInput {
        TaaInput {
            tvr: Tvr(tvr),
            tac: TAC,
            iac,
            terminal_type: TerminalType::from_byte(terminal).unwrap(),
        }
    }

    /// IACs present and all zero: only the TACs decide.
    const ZERO_IAC: IssuerActionCodes = IssuerActionCodes {
        denial: Some([0; 5]),
        online: Some([0; 5]),
        default: Some([0; 5]),
    };

    fn first(tvr: [u8; 5], terminal: u8, iac: IssuerActionCodes) -> TaaOutcome {
        first_generate_ac(&input(tvr, terminal, iac), &mut NoTrail)
    }

    #[test]
    fn clean_tvr_approves_offline_at_an_offline_capable_terminal() {
        let o = first([0; 5], 0x22, ZERO_IAC);
        assert_eq!(o.cryptogram, CryptogramType::Tc);
        assert_eq!(o.reason, TaaReason::NoOnlineMatch);
        assert!(!o.denial.any() && !o.online.any() && !o.default.any());
    }

    #[test]
    fn service_not_allowed_is_denied_by_the_tac() {
        // TVR 00 10 00 00 00 against TAC-Denial 00 10 00 00 00.
        let mut t = Trail::<8>::new();
        let o = first_generate_ac(&input([0, 0x10, 0, 0, 0], 0x22, ZERO_IAC), &mut t);
        assert_eq!(o.cryptogram, CryptogramType::Aac);
        assert_eq!(o.reason, TaaReason::DenialMatched);
        assert_eq!(o.denial.tac.0, [0, 0x10, 0, 0, 0]);
        assert_eq!(o.denial.iac.0, [0; 5]);
        assert!(t.contains_detail(Detail::ActionCodeMatch {
            code: ActionCode::Denial,
            tac: [0, 0x10, 0, 0, 0],
            iac: [0; 5]
        }));
        assert!(t.contains_detail(Detail::Cryptogram(CryptogramType::Aac)));
    }

    #[test]
    fn issuer_denial_code() {
        // Expired application (02 40) denied by the IAC only.
        let iac = IssuerActionCodes {
            denial: Some([0, 0x40, 0, 0, 0]),
            ..ZERO_IAC
        };
        let o = first([0, 0x40, 0, 0, 0], 0x22, iac);
        assert_eq!(o.cryptogram, CryptogramType::Aac);
        assert_eq!(o.denial.tac.0, [0; 5]);
        assert_eq!(o.denial.iac.0, [0, 0x40, 0, 0, 0]);
        // The same TVR without the IAC denial goes online (TAC-Online 40).
        let o = first([0, 0x40, 0, 0, 0], 0x22, ZERO_IAC);
        assert_eq!(o.cryptogram, CryptogramType::Arqc);
        assert_eq!(o.online.tac.0, [0, 0x40, 0, 0, 0]);
    }

    #[test]
    fn floor_limit_goes_online() {
        // TVR byte 4 80 against TAC-Online F8.
        let o = first([0, 0, 0, 0x80, 0], 0x22, ZERO_IAC);
        assert_eq!(o.cryptogram, CryptogramType::Arqc);
        assert_eq!(o.reason, TaaReason::OnlineMatched);
        assert_eq!(o.online.bits().0, [0, 0, 0, 0x80, 0]);
        // A bit in no TAC and no IAC (byte 5 80, default TDOL used): TC.
        let o = first([0, 0, 0, 0, 0x80], 0x22, ZERO_IAC);
        assert_eq!(o.cryptogram, CryptogramType::Tc);
    }

    #[test]
    fn absent_iacs_use_the_m_defaults() {
        let none = IssuerActionCodes::default();
        assert_eq!(
            none.effective(),
            ActionCodes {
                denial: [0; 5],
                online: [0xFF; 5],
                default: [0xFF; 5],
            }
        );
        // Default TDOL used: in no TAC, but IAC-Online absent = FF → ARQC.
        let o = first([0, 0, 0, 0, 0x80], 0x22, none);
        assert_eq!(o.cryptogram, CryptogramType::Arqc);
        assert_eq!(o.online.iac.0, [0, 0, 0, 0, 0x80]);
        assert_eq!(o.online.tac.0, [0; 5]);
        // Absent IAC-Denial denies nothing.
        let o = first([0xFF, 0xEF, 0xFF, 0xFF, 0xFF], 0x22, none);
        assert_eq!(o.denial.iac.0, [0; 5]);
        assert_eq!(o.cryptogram, CryptogramType::Arqc);
        // At an offline-only terminal an absent IAC-Default declines any bit.
        let o = first([0, 0, 0, 0, 0x80], 0x23, none);
        assert_eq!(o.cryptogram, CryptogramType::Aac);
        assert_eq!(o.reason, TaaReason::DefaultMatched);
    }

    #[test]
    fn offline_only_terminal_uses_default_codes() {
        // ODA not performed (80): TAC-Default DC → AAC.
        let o = first([0x80, 0, 0, 0, 0], 0x23, ZERO_IAC);
        assert_eq!(o.cryptogram, CryptogramType::Aac);
        assert_eq!(o.default.tac.0, [0x80, 0, 0, 0, 0]);
        // Random selection bit (04 10): online code only, not default → TC.
        let o = first([0, 0, 0, 0x10, 0], 0x26, ZERO_IAC);
        assert_eq!(o.cryptogram, CryptogramType::Tc);
        assert_eq!(o.reason, TaaReason::NoDefaultMatch);
        // Never ARQC at an offline-only terminal.
        let o = first([0xFF; 5], 0x36, ZERO_IAC);
        assert_ne!(o.cryptogram, CryptogramType::Arqc);
    }

    #[test]
    fn online_only_terminal_always_goes_online() {
        for terminal in [0x11, 0x14, 0x21, 0x24] {
            let o = first([0; 5], terminal, ZERO_IAC);
            assert_eq!(o.cryptogram, CryptogramType::Arqc, "{terminal:02X}");
            assert_eq!(o.reason, TaaReason::OnlineOnlyTerminal);
            // Denial still wins.
            let o = first([0, 0x10, 0, 0, 0], terminal, ZERO_IAC);
            assert_eq!(o.cryptogram, CryptogramType::Aac);
        }
    }

    #[test]
    fn unable_to_go_online_default_analysis() {
        // Floor limit exceeded (04 80) in TAC-Default A8 → AAC.
        let mut t = Trail::<8>::new();
        let o = unable_to_go_online(&input([0, 0, 0, 0x80, 0], 0x22, ZERO_IAC), &mut t);
        assert_eq!(o.cryptogram, CryptogramType::Aac);
        assert_eq!(o.reason, TaaReason::DefaultMatched);
        assert!(t.contains_detail(Detail::ActionCodeMatch {
            code: ActionCode::Default,
            tac: [0, 0, 0, 0x80, 0],
            iac: [0; 5]
        }));
        // Random selection (04 10) not in TAC-Default A8 → TC.
        let o = unable_to_go_online(&input([0, 0, 0, 0x10, 0], 0x22, ZERO_IAC), &mut NoTrail);
        assert_eq!(o.cryptogram, CryptogramType::Tc);
        assert_eq!(o.reason, TaaReason::NoDefaultMatch);
        // IAC-Default absent (FF…): any bit declines.
        let o = unable_to_go_online(
            &input([0, 0, 0, 0x10, 0], 0x22, IssuerActionCodes::default()),
            &mut NoTrail,
        );
        assert_eq!(o.cryptogram, CryptogramType::Aac);
        // Clean TVR: TC even with absent IACs.
        let o = unable_to_go_online(
            &input([0; 5], 0x22, IssuerActionCodes::default()),
            &mut NoTrail,
        );
        assert_eq!(o.cryptogram, CryptogramType::Tc);
        // Denial bits still decline.
        let o = unable_to_go_online(&input([0, 0x10, 0, 0, 0], 0x22, ZERO_IAC), &mut NoTrail);
        assert_eq!(o.reason, TaaReason::DenialMatched);
    }

    #[test]
    fn code_match_helpers() {
        let m = CodeMatch::of(
            Tvr([0xF0, 0x0F, 0, 0xFF, 1]),
            [0x80, 0x01, 0xFF, 0, 0],
            [0x10, 0, 0, 0x01, 1],
        );
        assert_eq!(m.tac.0, [0x80, 0x01, 0, 0, 0]);
        assert_eq!(m.iac.0, [0x10, 0, 0, 0x01, 1]);
        assert_eq!(m.bits().0, [0x90, 0x01, 0, 0x01, 1]);
        assert!(m.any());
        assert!(!CodeMatch::default().any());
        assert_eq!(
            TaaReason::OnlineOnlyTerminal.what(),
            "§10.7: [M] online-only terminal: ARQC"
        );
    }

    fn arb_terminal() -> impl Strategy<Value = u8> {
        prop::sample::select(
            &[
                0x11u8, 0x12, 0x13, 0x14, 0x15, 0x16, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x34,
                0x35, 0x36,
            ][..],
        )
    }

    fn any_bits(a: [u8; 5], b: [u8; 5]) -> bool {
        a.iter().zip(b).any(|(x, y)| x & y != 0)
    }

    proptest! {
        #[test]
        fn denial_never_approves(
            tvr in any::<[u8; 5]>(),
            tac in any::<([u8; 5], [u8; 5], [u8; 5])>(),
            iac in any::<(Option<[u8; 5]>, Option<[u8; 5]>, Option<[u8; 5]>)>(),
            terminal in arb_terminal(),
        ) {
            let input = TaaInput {
                tvr: Tvr(tvr),
                tac: ActionCodes { denial: tac.0, online: tac.1, default: tac.2 },
                iac: IssuerActionCodes { denial: iac.0, online: iac.1, default: iac.2 },
                terminal_type: TerminalType::from_byte(terminal).unwrap(),
            };
            let denial = any_bits(tvr, tac.0) || any_bits(tvr, iac.0.unwrap_or([0; 5]));
            let mut t = Trail::<8>::new();
            let o = first_generate_ac(&input, &mut t);
            let u = unable_to_go_online(&input, &mut NoTrail);
            if denial {
                prop_assert_eq!(o.cryptogram, CryptogramType::Aac);
                prop_assert_eq!(u.cryptogram, CryptogramType::Aac);
                prop_assert_eq!(o.reason, TaaReason::DenialMatched);
            }
            prop_assert_ne!(o.cryptogram, CryptogramType::Rfu);
            // Offline-only terminals never ask for an ARQC.
            if input.terminal_type.is_offline_only() {
                prop_assert_ne!(o.cryptogram, CryptogramType::Arqc);
            }
            // Online-only terminals never approve offline.
            if input.terminal_type.is_online_only() {
                prop_assert_ne!(o.cryptogram, CryptogramType::Tc);
            }
            // Unable to go online: TC only with neither denial nor default bits.
            let default = any_bits(tvr, tac.2) || any_bits(tvr, iac.2.unwrap_or([0xFF; 5]));
            prop_assert_eq!(u.cryptogram == CryptogramType::Tc, !denial && !default);
            prop_assert_ne!(u.cryptogram, CryptogramType::Arqc);
            // Matches are subsets of the TVR.
            for m in [o.denial, o.online, o.default] {
                for (b, v) in m.bits().0.iter().zip(tvr) {
                    prop_assert_eq!(b & !v, 0);
                }
            }
            prop_assert_eq!(t.last().map(|e| e.detail), Some(Detail::Cryptogram(o.cryptogram)));
        }
    }
}
