//! EMV acceptance of an ATR: EMV Contact Interface Specification (EMV Level 1) v1.0 §8.3
//! "Answer to Reset" — the per-byte rules §8.3.3.1 (TA1) to §8.3.3.11 (TC3); §8.3.1 (TS),
//! §8.3.2 (T0) and §8.3.4 (TCK) are already enforced by [`Atr::parse`].
//!
//! Sources and confidence (see `emv-facts.md` §5.1):
//!
//! * \[S\] (stated by openemv/emv-utils `emv_atr_parse`, which cites the clauses): TA1 in
//!   specific mode `11`..`13`; TA1 in negotiable mode FI != 0 and DI >= 3 (flagged as
//!   "unusual" and listed as open, Appendix B item 5 — hence [`NegotiableTa1Policy`]);
//!   TC1 in {`00`, `FF`} ([`Tc1Policy`]); TD1 T=0 or T=1; TA2 protocol = first protocol and
//!   b5 = 0; TC2 only for T=0 and `0A`; TD2 T=15 after T=0, T=1 after T=1, mandatory for T=1;
//!   TA3 `10`..`FE`; TB3 mandatory with BWI <= 4, CWI <= 5 and 2^CWI >= N + 1; TC3 `00`.
//! * \[M\] (general domain knowledge, not confirmed in the licensed text; each is a field of
//!   [`EmvCheckOptions`] so it can be switched off): TB1 must be `00` in a cold ATR
//!   (§8.3.3.2); TB2 must be absent (§8.3.3.6); in negotiable mode the terminal does not send
//!   a PPS and uses Fi = 372, Di = 1; after a rejected cold ATR the terminal warm-resets once,
//!   after a rejected warm ATR it deactivates ([`RejectAction`]).

use super::{
    Atr, AtrElement, DEFAULT_IFSC, DEFAULT_N, DEFAULT_TA1, Edc, InterfaceKind, ProtocolSet,
    di_from_code, fi_from_code,
};

const CLAUSE_TA1: &str = "EMV L1 §8.3.3.1";
const CLAUSE_TB1: &str = "EMV L1 §8.3.3.2";
const CLAUSE_TC1: &str = "EMV L1 §8.3.3.3";
const CLAUSE_TD1: &str = "EMV L1 §8.3.3.4";
const CLAUSE_TA2: &str = "EMV L1 §8.3.3.5";
const CLAUSE_TB2: &str = "EMV L1 §8.3.3.6";
const CLAUSE_TC2: &str = "EMV L1 §8.3.3.7";
const CLAUSE_TD2: &str = "EMV L1 §8.3.3.8";
const CLAUSE_TA3: &str = "EMV L1 §8.3.3.9";
const CLAUSE_TB3: &str = "EMV L1 §8.3.3.10";
const CLAUSE_TC3: &str = "EMV L1 §8.3.3.11";

/// EMV's only accepted TC2 value for T=0: WI = 10.
const EMV_TC2_T0: u8 = 0x0A;
/// Lowest IFSC EMV accepts in TA3.
const EMV_IFSC_MIN: u8 = 0x10;
/// Highest IFSC EMV accepts in TA3.
const EMV_IFSC_MAX: u8 = 0xFE;
/// Highest BWI EMV accepts in TB3.
const EMV_BWI_MAX: u8 = 4;
/// Highest CWI EMV accepts in TB3.
const EMV_CWI_MAX: u8 = 5;
/// Lowest DI code the negotiable-mode rule of openemv/emv-utils accepts (D >= 4) \[S, open\].
const EMV_NEGOTIABLE_DI_CODE_MIN: u8 = 3;

/// Which reset produced the ATR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ResetKind {
    /// The ATR after activation (cold reset).
    #[default]
    Cold,
    /// The ATR after a warm reset.
    Warm,
}

/// What the terminal does after rejecting an ATR \[M\]: warm-reset once after a rejected cold
/// ATR, deactivate after a rejected warm ATR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RejectAction {
    /// Issue a warm reset and check the warm ATR.
    WarmReset,
    /// Deactivate the contacts; the card is not usable.
    Deactivate,
}

/// Accepted TC1 values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Tc1Policy {
    /// Only `00` and `FF`, as emv-utils implements the EMV L1 v1.0 rule \[S\]. Default.
    #[default]
    ZeroOrFf,
    /// Any value `00`..`FF` (some EMV 4.x readings let the terminal support any N) \[M\].
    Any,
}

/// TA1 rule when TA2 is absent (negotiable mode). Open point: `emv-facts.md` Appendix B item 5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum NegotiableTa1Policy {
    /// Reject FI = 0 (fmax 4 MHz) and DI < 3 (D < 4), as emv-utils implements EMV L1 v1.0
    /// §8.3.3.1 \[S, flagged unusual in the facts file: it would refuse the common negotiable
    /// `TA1 = 11`\].
    FiNonZeroDiAtLeast3,
    /// Accept any TA1 and continue with Fi = 372, Di = 1, the reading of EMV 4.3 Book 1
    /// §8.3.3.1 (a terminal that does not negotiate keeps the default F and D) \[M\]. Default,
    /// because the stricter reading refuses ordinary cards.
    #[default]
    AcceptAny,
}

/// Options of [`Atr::emv_check_with`]. Every rule not confirmed in the licensed text is a
/// field here; the defaults ([`EmvCheckOptions::COLD`]) follow `emv-facts.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EmvCheckOptions {
    /// Which reset produced the ATR (selects the TB1 rule and the [`RejectAction`]).
    pub reset: ResetKind,
    /// TC1 rule.
    pub tc1: Tc1Policy,
    /// TA1 rule in negotiable mode.
    pub negotiable_ta1: NegotiableTa1Policy,
    /// Reject a cold ATR whose TB1 is present and not `00` \[M\]. A warm ATR's TB1 is ignored.
    pub cold_tb1_must_be_zero: bool,
    /// Reject an ATR containing TB2 \[M\].
    pub reject_tb2: bool,
}

impl EmvCheckOptions {
    /// Defaults for a cold ATR.
    pub const COLD: Self = Self {
        reset: ResetKind::Cold,
        tc1: Tc1Policy::ZeroOrFf,
        negotiable_ta1: NegotiableTa1Policy::AcceptAny,
        cold_tb1_must_be_zero: true,
        reject_tb2: true,
    };

    /// Defaults for a warm ATR.
    pub const WARM: Self = Self {
        reset: ResetKind::Warm,
        ..Self::COLD
    };
}

impl Default for EmvCheckOptions {
    fn default() -> Self {
        Self::COLD
    }
}

/// Why an ATR is not acceptable to an EMV terminal: the byte at fault, its value, the rule
/// and its clause of EMV Contact Interface Specification v1.0 §8.3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum EmvRejection {
    /// TA2 selects specific mode with Fi/Di from TA1, and TA1 is not `11`, `12` or `13`.
    #[error(
        "TA1 = {ta1:02X}: in specific mode EMV requires 11, 12 or 13 (Fi = 372, Di = 1, 2 or 4) ({c})",
        c = CLAUSE_TA1
    )]
    Ta1SpecificMode {
        /// TA1.
        ta1: u8,
    },
    /// Negotiable mode and TA1 has FI = 0 or DI < 3 ([`NegotiableTa1Policy::FiNonZeroDiAtLeast3`]).
    #[error(
        "TA1 = {ta1:02X}: in negotiable mode EMV requires FI != 0 and DI >= 3 (fmax >= 5 MHz, D >= 4) ({c})",
        c = CLAUSE_TA1
    )]
    Ta1NegotiableMode {
        /// TA1.
        ta1: u8,
    },
    /// A cold ATR with TB1 other than `00` \[M\].
    #[error("TB1 = {tb1:02X}: EMV requires 00 in a cold ATR ({c})", c = CLAUSE_TB1)]
    Tb1NotZero {
        /// TB1.
        tb1: u8,
    },
    /// TC1 other than `00` or `FF` ([`Tc1Policy::ZeroOrFf`]).
    #[error("TC1 = {tc1:02X}: EMV requires 00 or FF ({c})", c = CLAUSE_TC1)]
    Tc1Value {
        /// TC1.
        tc1: u8,
    },
    /// TD1 indicates a protocol other than T=0 or T=1.
    #[error(
        "TD1 = {td1:02X}: first protocol T={t} is neither T=0 nor T=1 ({c})",
        t = *td1 & 0x0F,
        c = CLAUSE_TD1
    )]
    Td1Protocol {
        /// TD1.
        td1: u8,
    },
    /// TA2's protocol differs from the first offered protocol.
    #[error(
        "TA2 = {ta2:02X}: specific-mode protocol T={t} differs from the first offered protocol T={first} ({c})",
        t = *ta2 & 0x0F,
        c = CLAUSE_TA2
    )]
    Ta2Protocol {
        /// TA2.
        ta2: u8,
        /// The first offered protocol (TD1, or 0).
        first: u8,
    },
    /// TA2 has b5 = 1 (implicit Fi/Di).
    #[error(
        "TA2 = {ta2:02X}: b5 = 1 (implicit parameters); EMV requires Fi/Di from TA1 ({c})",
        c = CLAUSE_TA2
    )]
    Ta2Implicit {
        /// TA2.
        ta2: u8,
    },
    /// TB2 is present \[M\].
    #[error("TB2 = {tb2:02X}: EMV rejects an ATR containing TB2 ({c})", c = CLAUSE_TB2)]
    Tb2Present {
        /// TB2.
        tb2: u8,
    },
    /// TC2 is present but the first protocol is not T=0.
    #[error(
        "TC2 = {tc2:02X}: TC2 is specific to T=0 but the first offered protocol is T={first} ({c})",
        c = CLAUSE_TC2
    )]
    Tc2NotT0 {
        /// TC2.
        tc2: u8,
        /// The first offered protocol.
        first: u8,
    },
    /// TC2 for T=0 is not `0A`.
    #[error("TC2 = {tc2:02X}: EMV requires 0A for T=0 ({c})", c = CLAUSE_TC2)]
    Tc2Value {
        /// TC2.
        tc2: u8,
    },
    /// TD1 indicates T=0 and TD2 indicates something other than T=15.
    #[error(
        "TD2 = {td2:02X}: protocol T={t} after TD1 T=0; EMV requires T=15 ({c})",
        t = *td2 & 0x0F,
        c = CLAUSE_TD2
    )]
    Td2AfterT0 {
        /// TD2.
        td2: u8,
    },
    /// TD1 indicates T=1 and TD2 indicates something other than T=1.
    #[error(
        "TD2 = {td2:02X}: protocol T={t} after TD1 T=1; EMV requires T=1 ({c})",
        t = *td2 & 0x0F,
        c = CLAUSE_TD2
    )]
    Td2AfterT1 {
        /// TD2.
        td2: u8,
    },
    /// TD1 indicates T=1 and TD2 is absent, so TB3 cannot be present.
    #[error("TD2 absent: EMV requires TD2 (T=1) and TB3 for protocol T=1 ({c})", c = CLAUSE_TB3)]
    Td2Missing,
    /// TA3 (IFSC) is outside `10`..`FE`.
    #[error("TA3 = {ta3:02X}: EMV requires IFSC in 10..FE ({c})", c = CLAUSE_TA3)]
    Ta3Ifsc {
        /// TA3.
        ta3: u8,
    },
    /// TB3 is absent for T=1.
    #[error("TB3 absent: EMV requires TB3 (BWI, CWI) for T=1 ({c})", c = CLAUSE_TB3)]
    Tb3Missing,
    /// TB3 has BWI > 4.
    #[error(
        "TB3 = {tb3:02X}: BWI = {bwi} exceeds the EMV maximum of 4 ({c})",
        bwi = *tb3 >> 4,
        c = CLAUSE_TB3
    )]
    Tb3Bwi {
        /// TB3.
        tb3: u8,
    },
    /// TB3 has CWI > 5.
    #[error(
        "TB3 = {tb3:02X}: CWI = {cwi} exceeds the EMV maximum of 5 ({c})",
        cwi = *tb3 & 0x0F,
        c = CLAUSE_TB3
    )]
    Tb3Cwi {
        /// TB3.
        tb3: u8,
    },
    /// 2^CWI < N + 1: the character waiting time would be shorter than the guard time.
    #[error(
        "TB3 = {tb3:02X} with TC1 = {tc1:02X}: 2^CWI = {p} is less than N + 1 = {n1} ({c})",
        p = 1u32 << (*tb3 & 0x0F),
        n1 = u32::from(*tc1) + 1,
        c = CLAUSE_TB3
    )]
    Tb3CwiGuardTime {
        /// TB3.
        tb3: u8,
        /// TC1 (N).
        tc1: u8,
    },
    /// TC3 is not `00` (EMV uses LRC only).
    #[error("TC3 = {tc3:02X}: EMV requires 00 (LRC) for T=1 ({c})", c = CLAUSE_TC3)]
    Tc3Value {
        /// TC3.
        tc3: u8,
    },
}

impl EmvRejection {
    /// The clause of EMV Contact Interface Specification v1.0 the rule comes from.
    #[must_use]
    pub const fn clause(&self) -> &'static str {
        match self {
            Self::Ta1SpecificMode { .. } | Self::Ta1NegotiableMode { .. } => CLAUSE_TA1,
            Self::Tb1NotZero { .. } => CLAUSE_TB1,
            Self::Tc1Value { .. } => CLAUSE_TC1,
            Self::Td1Protocol { .. } => CLAUSE_TD1,
            Self::Ta2Protocol { .. } | Self::Ta2Implicit { .. } => CLAUSE_TA2,
            Self::Tb2Present { .. } => CLAUSE_TB2,
            Self::Tc2NotT0 { .. } | Self::Tc2Value { .. } => CLAUSE_TC2,
            Self::Td2AfterT0 { .. } | Self::Td2AfterT1 { .. } => CLAUSE_TD2,
            Self::Ta3Ifsc { .. } => CLAUSE_TA3,
            Self::Td2Missing
            | Self::Tb3Missing
            | Self::Tb3Bwi { .. }
            | Self::Tb3Cwi { .. }
            | Self::Tb3CwiGuardTime { .. } => CLAUSE_TB3,
            Self::Tc3Value { .. } => CLAUSE_TC3,
        }
    }

    /// The interface byte at fault (for a missing byte, the one that should be present).
    #[must_use]
    pub const fn element(&self) -> AtrElement {
        let (kind, index) = match self {
            Self::Ta1SpecificMode { .. } | Self::Ta1NegotiableMode { .. } => (InterfaceKind::A, 1),
            Self::Tb1NotZero { .. } => (InterfaceKind::B, 1),
            Self::Tc1Value { .. } => (InterfaceKind::C, 1),
            Self::Td1Protocol { .. } => (InterfaceKind::D, 1),
            Self::Ta2Protocol { .. } | Self::Ta2Implicit { .. } => (InterfaceKind::A, 2),
            Self::Tb2Present { .. } => (InterfaceKind::B, 2),
            Self::Tc2NotT0 { .. } | Self::Tc2Value { .. } => (InterfaceKind::C, 2),
            Self::Td2AfterT0 { .. } | Self::Td2AfterT1 { .. } | Self::Td2Missing => {
                (InterfaceKind::D, 2)
            }
            Self::Ta3Ifsc { .. } => (InterfaceKind::A, 3),
            Self::Tb3Missing
            | Self::Tb3Bwi { .. }
            | Self::Tb3Cwi { .. }
            | Self::Tb3CwiGuardTime { .. } => (InterfaceKind::B, 3),
            Self::Tc3Value { .. } => (InterfaceKind::C, 3),
        };
        AtrElement::Interface { kind, index }
    }

    /// What the terminal does next \[M\]: after a rejected cold ATR it warm-resets once; after
    /// a rejected warm ATR it deactivates. The same for every rule.
    #[must_use]
    pub const fn action(&self, reset: ResetKind) -> RejectAction {
        match reset {
            ResetKind::Cold => RejectAction::WarmReset,
            ResetKind::Warm => RejectAction::Deactivate,
        }
    }
}

/// Protocol an EMV terminal runs with the card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EmvProtocol {
    /// T=0 (character protocol).
    T0,
    /// T=1 (block protocol).
    T1,
}

impl EmvProtocol {
    /// The protocol number T.
    #[must_use]
    pub const fn number(self) -> u8 {
        match self {
            Self::T0 => 0,
            Self::T1 => 1,
        }
    }
}

/// Protocol-specific parameters the terminal uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EmvTransmission {
    /// T=0.
    T0 {
        /// Waiting time integer (TC2; always 10 in an accepted ATR).
        wi: u8,
    },
    /// T=1.
    T1 {
        /// Card's information field size (TA3, 16..=254; 32 if TA3 is absent).
        ifsc: u8,
        /// Block waiting time integer (TB3 high nibble, 0..=4).
        bwi: u8,
        /// Character waiting time integer (TB3 low nibble, 0..=5).
        cwi: u8,
        /// Error detection code (always LRC in an accepted ATR).
        edc: Edc,
    },
}

/// The parameters an EMV terminal uses after accepting an ATR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EmvAtrParams {
    /// Whether the card is in specific mode (TA2 present). In negotiable mode the terminal
    /// sends no PPS and uses Fi = 372, Di = 1 \[M\].
    pub specific_mode: bool,
    /// Fi in use: from TA1 in specific mode, else 372.
    pub fi: u16,
    /// Di in use: from TA1 in specific mode, else 1.
    pub di: u8,
    /// Extra guard time N (TC1, 0 if absent; `FF` = minimum guard time).
    pub extra_guard_time: u8,
    /// The protocol: always the first offered one (TD1, T=0 if TD1 is absent), with its
    /// parameters.
    pub transmission: EmvTransmission,
    /// Protocols offered besides the one in use (T=15 excluded); the terminal ignores them.
    pub other_protocols: ProtocolSet,
}

impl EmvAtrParams {
    /// The protocol in use.
    #[must_use]
    pub const fn protocol(&self) -> EmvProtocol {
        match self.transmission {
            EmvTransmission::T0 { .. } => EmvProtocol::T0,
            EmvTransmission::T1 { .. } => EmvProtocol::T1,
        }
    }

    /// Character guard time in etu: 12 + N, or for N = 255 the minimum (12 etu for T=0,
    /// 11 etu for T=1). ISO/IEC 7816-3 §8.3 (TC1), §11.2.
    #[must_use]
    pub const fn guard_time_etu(&self) -> u16 {
        match (self.extra_guard_time, self.protocol()) {
            (0xFF, EmvProtocol::T1) => 11,
            (0xFF, EmvProtocol::T0) => 12,
            (n, _) => 12 + n as u16,
        }
    }

    /// T=0 work waiting time in etu, 960 × D × WI (ISO/IEC 7816-3 §10.2) \[M as an
    /// EMV requirement; EMV adds a tolerance\]. `None` for T=1.
    #[must_use]
    pub const fn t0_wwt_etu(&self) -> Option<u32> {
        match self.transmission {
            EmvTransmission::T0 { wi } => Some(960 * self.di as u32 * wi as u32),
            EmvTransmission::T1 { .. } => None,
        }
    }

    /// T=1 character waiting time in etu, 11 + 2^CWI (ISO/IEC 7816-3 §11.4.3) \[M as an
    /// EMV requirement; EMV adds a tolerance\]. `None` for T=0.
    #[must_use]
    pub const fn t1_cwt_etu(&self) -> Option<u32> {
        match self.transmission {
            EmvTransmission::T1 { cwi, .. } => Some(11 + (1u32 << (cwi & 0x0F))),
            EmvTransmission::T0 { .. } => None,
        }
    }

    /// T=1 block waiting time in etu, 11 + 2^BWI × 960 × 372 × D / F (ISO/IEC 7816-3
    /// §11.4.3, rounded down) \[M as an EMV requirement; EMV adds a tolerance\]. `None` for T=0.
    #[must_use]
    pub const fn t1_bwt_etu(&self) -> Option<u32> {
        match self.transmission {
            EmvTransmission::T1 { bwi, .. } => {
                let fi = if self.fi == 0 { 1 } else { self.fi as u64 };
                let wait = (1u64 << (bwi & 0x0F)) * 960 * 372 * self.di as u64 / fi;
                let total = 11 + wait;
                Some(if total > u32::MAX as u64 {
                    u32::MAX
                } else {
                    total as u32
                })
            }
            EmvTransmission::T0 { .. } => None,
        }
    }
}

impl Atr<'_> {
    /// Check the ATR against the EMV L1 §8.3 rules for a cold ATR with the default options
    /// ([`EmvCheckOptions::COLD`]).
    ///
    /// # Errors
    /// The first rule violated, in transmission order of the bytes.
    pub fn emv_check(&self) -> Result<EmvAtrParams, EmvRejection> {
        self.emv_check_with(&EmvCheckOptions::COLD)
    }

    /// Check the ATR against the EMV L1 §8.3 rules with explicit options.
    ///
    /// # Errors
    /// The first rule violated, in transmission order of the bytes.
    pub fn emv_check_with(&self, options: &EmvCheckOptions) -> Result<EmvAtrParams, EmvRejection> {
        let ta2 = self.ta(2);
        let specific = ta2.is_some();

        // §8.3.3.1 TA1.
        if let Some(ta1) = self.ta(1) {
            match ta2 {
                Some(ta2) if ta2 & 0x10 == 0 && !(0x11..=0x13).contains(&ta1) => {
                    return Err(EmvRejection::Ta1SpecificMode { ta1 });
                }
                Some(_) => {}
                None => {
                    if options.negotiable_ta1 == NegotiableTa1Policy::FiNonZeroDiAtLeast3
                        && (ta1 >> 4 == 0 || ta1 & 0x0F < EMV_NEGOTIABLE_DI_CODE_MIN)
                    {
                        return Err(EmvRejection::Ta1NegotiableMode { ta1 });
                    }
                }
            }
        }

        // §8.3.3.2 TB1 [M].
        if let Some(tb1) = self.tb(1)
            && options.reset == ResetKind::Cold
            && options.cold_tb1_must_be_zero
            && tb1 != 0
        {
            return Err(EmvRejection::Tb1NotZero { tb1 });
        }

        // §8.3.3.3 TC1.
        let n = self.tc(1).unwrap_or(DEFAULT_N);
        if let Some(tc1) = self.tc(1)
            && options.tc1 == Tc1Policy::ZeroOrFf
            && tc1 != 0x00
            && tc1 != 0xFF
        {
            return Err(EmvRejection::Tc1Value { tc1 });
        }

        // §8.3.3.4 TD1.
        let first = self.first_protocol();
        if let Some(td1) = self.td(1)
            && first > 1
        {
            return Err(EmvRejection::Td1Protocol { td1 });
        }

        // §8.3.3.5 TA2.
        if let Some(ta2) = ta2 {
            if ta2 & 0x0F != first {
                return Err(EmvRejection::Ta2Protocol { ta2, first });
            }
            if ta2 & 0x10 != 0 {
                return Err(EmvRejection::Ta2Implicit { ta2 });
            }
        }

        // §8.3.3.6 TB2 [M].
        if let Some(tb2) = self.tb(2)
            && options.reject_tb2
        {
            return Err(EmvRejection::Tb2Present { tb2 });
        }

        // §8.3.3.7 TC2.
        if let Some(tc2) = self.tc(2) {
            if first != 0 {
                return Err(EmvRejection::Tc2NotT0 { tc2, first });
            }
            if tc2 != EMV_TC2_T0 {
                return Err(EmvRejection::Tc2Value { tc2 });
            }
        }

        // §8.3.3.8 TD2 (and §8.3.3.10: TB3, hence TD2, is mandatory for T=1).
        match (self.td(2), first) {
            (Some(td2), 0) if td2 & 0x0F != 15 => return Err(EmvRejection::Td2AfterT0 { td2 }),
            (Some(td2), 1) if td2 & 0x0F != 1 => return Err(EmvRejection::Td2AfterT1 { td2 }),
            (None, 1) => return Err(EmvRejection::Td2Missing),
            _ => {}
        }

        let transmission = if first == 1 {
            // Here TD2 indicates T=1, so group 3 holds the first bytes specific to T=1.
            // §8.3.3.9 TA3.
            let ifsc = match self.ta(3) {
                Some(ta3) if !(EMV_IFSC_MIN..=EMV_IFSC_MAX).contains(&ta3) => {
                    return Err(EmvRejection::Ta3Ifsc { ta3 });
                }
                Some(ta3) => ta3,
                None => DEFAULT_IFSC,
            };
            // §8.3.3.10 TB3.
            let tb3 = self.tb(3).ok_or(EmvRejection::Tb3Missing)?;
            let (bwi, cwi) = (tb3 >> 4, tb3 & 0x0F);
            if bwi > EMV_BWI_MAX {
                return Err(EmvRejection::Tb3Bwi { tb3 });
            }
            if cwi > EMV_CWI_MAX {
                return Err(EmvRejection::Tb3Cwi { tb3 });
            }
            // Reject 2^CWI < N + 1, where N = 255 counts as -1 (never rejected) and, for
            // N = 0, CWI counts as 1 (as emv-utils reads the clause; with this comparison it
            // cannot reject either) [S].
            if n != 0xFF {
                let cwi_eff = if n == 0 { 1 } else { cwi };
                if (1u32 << cwi_eff) < u32::from(n) + 1 {
                    return Err(EmvRejection::Tb3CwiGuardTime { tb3, tc1: n });
                }
            }
            // §8.3.3.11 TC3.
            if let Some(tc3) = self.tc(3)
                && tc3 != 0
            {
                return Err(EmvRejection::Tc3Value { tc3 });
            }
            EmvTransmission::T1 {
                ifsc,
                bwi,
                cwi,
                edc: Edc::Lrc,
            }
        } else {
            EmvTransmission::T0 { wi: self.wi() }
        };

        let ta1 = if specific {
            self.ta(1).unwrap_or(DEFAULT_TA1)
        } else {
            DEFAULT_TA1
        };
        Ok(EmvAtrParams {
            specific_mode: specific,
            fi: fi_from_code(ta1 >> 4).unwrap_or(372),
            di: di_from_code(ta1 & 0x0F).unwrap_or(1),
            extra_guard_time: n,
            transmission,
            other_protocols: self.offered_protocols().without(first),
        })
    }
}
