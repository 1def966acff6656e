//! Cardholder Verification (EMV 4.4 Book 3 §10.5 and Annex C3; Book 4
//! §6.3.4 and Annex A4; facts §1.7): a step-wise CVM List evaluator.
//!
//! [`CvmEvaluator`] walks the CV Rules in order. [`CvmEvaluator::poll`]
//! returns either the action the caller must perform ([`CvmRequest`]: PIN
//! entry and VERIFY, or online PIN capture) or the final [`CvmOutcome`];
//! the caller reports what happened with [`CvmEvaluator::provide`] and
//! polls again. No heap: the rules are copied into the evaluator.
//!
//! # Decision table (facts Appendix B item 2; **\[M\]** where unconfirmed)
//!
//! Before the list:
//! - AIP byte 1 b5 clear → skipped: CVM Results `3F0000`, no TVR bit, TSI
//!   "cardholder verification performed" not set.
//! - CVM List absent, without rules, or structurally invalid → **\[M\]**
//!   TVR "ICC data missing" ([`MISSING_LIST_SETS_ICC_DATA_MISSING`]), CVM
//!   Results `3F0000`, TSI not set. (An invalid list is treated as absent.)
//!
//! Per rule, in list order:
//!
//! | condition | CVM | action |
//! |---|---|---|
//! | not understood (`0A`–`FF`) | any | skip |
//! | `03`, CVM unrecognised | — | skip (**\[M\]** no TVR bit: [`UNRECOGNISED_UNDER_CONDITION_03_SETS_TVR`]) |
//! | `03`, CVM recognised, not supported | — | skip |
//! | other, not satisfied | any | skip |
//! | satisfied | unrecognised | TVR "unrecognised CVM"; rule failed |
//! | satisfied | recognised, unsupported | rule failed; **\[M\]** a PIN CVM also sets "PIN entry required and PIN pad not present or not working" ([`UNSUPPORTED_PIN_SETS_PIN_PAD_BIT`]) |
//! | satisfied | `00` Fail CVM | rule failed |
//! | satisfied | `1F` No CVM required | success, result `02` |
//! | satisfied | `1E` signature | success, result `00` (unknown), signature required |
//! | satisfied | `01`/`03` | request offline plaintext PIN |
//! | satisfied | `04`/`05` | request offline enciphered PIN |
//! | satisfied | `02` | request online PIN |
//!
//! PIN results: success → offline PIN result `02`; **\[M\]** PIN +
//! signature (`03`/`05`) result [`COMBINED_CVM_RESULT`] (`00`) and signature
//! required; online PIN result `00` and TVR "online PIN entered". Failure
//! sets, by cause: PIN Try Limit exceeded (offline only), PIN pad not
//! present or not working, PIN not entered (bypass). A failed rule with b7
//! ("apply succeeding CV Rule") set continues with the next rule; otherwise
//! verification fails.
//!
//! End: success → CVM Results = the rule's byte 1 (**\[M\]** b7 kept,
//! [`RESULTS_KEEP_APPLY_NEXT_BIT`]), its condition, the result. Failure →
//! TVR "cardholder verification was not successful" and CVM Results =
//! **\[M\]** the last failed rule with result `01`
//! ([`FAILED_RESULTS_NAME_LAST_RULE`]), or `3F0001` when no rule applied.
//! In both cases the TSI "cardholder verification performed" bit is set.
//!
//! Signature is not a request: it needs no card interaction and is taken on
//! the receipt, so the outcome says [`CvmOutcome::signature_required`].

pub mod conditions;
pub mod context;
pub mod support;

#[cfg(test)]
mod tests;

use core::fmt;

pub use conditions::{ConditionCheck, check_condition};
pub use context::{CvmContext, CvmOptions};
pub use support::{Support, terminal_support};

use crate::contact::status::StatusUpdate;
use crate::contact::trail::{Detail, Phase, TrailEntry, TrailSink};
use crate::data::aip::Aip;
use crate::data::cvm::{CvRule, CvmCondition, CvmList, CvmMethod, CvmResult, CvmResults};
use crate::data::tsi::Tsi;
use crate::data::tvr::Tvr;

/// **\[M\]** A missing, empty or invalid CVM List sets TVR "ICC data
/// missing" (when the AIP says cardholder verification is supported).
pub const MISSING_LIST_SETS_ICC_DATA_MISSING: bool = true;
/// **\[M\]** A PIN CVM whose condition is satisfied but which the terminal
/// does not support sets "PIN entry required and PIN pad not present or not
/// working".
pub const UNSUPPORTED_PIN_SETS_PIN_PAD_BIT: bool = true;
/// **\[M\]** Under condition `03` an unrecognised CVM is skipped silently
/// (`false`) rather than flagged "unrecognised CVM" (`true`).
pub const UNRECOGNISED_UNDER_CONDITION_03_SETS_TVR: bool = false;
/// **\[M\]** CVM Results byte 3 after a successful "PIN and signature" CVM.
pub const COMBINED_CVM_RESULT: CvmResult = CvmResult::Unknown;
/// **\[M\]** CVM Results byte 1 keeps the CV Rule's b7 (`true`, e.g. `42`)
/// or holds only the CVM code (`false`, `02`). b8 (RFU) is always dropped.
pub const RESULTS_KEEP_APPLY_NEXT_BIT: bool = true;
/// **\[M\]** After a failure the CVM Results name the last rule that failed
/// with result `01` (`true`); `false` always gives `3F0001`.
pub const FAILED_RESULTS_NAME_LAST_RULE: bool = true;

const PHASE: Phase = Phase::CardholderVerification;
/// Most CV Rules a list can hold: (252 − 8) / 2.
const MAX_RULES: usize = (CvmList::MAX_LEN - 8) / 2;

/// An action the caller must perform before evaluation can continue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CvmRequest {
    /// Enter the PIN and verify it with VERIFY P2 `80` (plaintext). The
    /// caller may read the PIN Try Counter (`9F17`) first and answer
    /// [`ActionResult::PinTryLimitExceeded`] when it is zero. While the
    /// card answers `63Cx` with tries left the caller may ask for the PIN
    /// again; it provides only the final result.
    NeedOfflinePlaintextPin,
    /// Enter the PIN, encipher it for the card and verify it with VERIFY
    /// P2 `88`.
    NeedOfflineEncipheredPin,
    /// Capture the PIN for online verification (PIN block to the host).
    NeedOnlinePin,
}

/// What happened when the caller performed a [`CvmRequest`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ActionResult {
    /// Offline: the card accepted the PIN (`9000`). Online: the PIN was
    /// captured.
    Success,
    /// The CVM failed for another reason (wrong PIN and no retry, card
    /// error).
    Failed,
    /// Offline: the PIN Try Counter is zero or the card answered
    /// `6983`/`6984`. For online PIN it is taken as [`ActionResult::Failed`].
    PinTryLimitExceeded,
    /// PIN entry required but the PIN pad is not present or not working.
    PinPadNotWorking,
    /// PIN pad present but the PIN was not entered (bypass).
    Bypassed,
}

/// How cardholder verification ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Verification {
    /// Not performed: the card does not support it, or has no usable CVM
    /// List. TSI bit not set.
    NotPerformed,
    /// A CVM succeeded (or its result is unknown: signature, online PIN).
    Successful,
    /// No CVM succeeded.
    Failed,
}

/// The end of cardholder verification.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CvmOutcome {
    /// How it ended.
    pub verification: Verification,
    /// CVM Results (`9F34`).
    pub results: CvmResults,
    /// TVR and TSI bits to set.
    pub status: StatusUpdate,
    /// A signature line goes on the receipt (`1E`, `03`, `05` succeeded).
    pub signature_required: bool,
    /// An online PIN was captured and goes to the host.
    pub online_pin: bool,
}

/// One step of the evaluator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CvmStep {
    /// Perform this, then [`CvmEvaluator::provide`] the result.
    Need(CvmRequest),
    /// Cardholder verification is over.
    Done(CvmOutcome),
}

/// A misuse of the evaluator by the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CvmError {
    /// [`CvmEvaluator::provide`] called while no request is pending.
    NoPendingRequest,
}

impl fmt::Display for CvmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoPendingRequest => f.write_str("no CVM request is pending"),
        }
    }
}

impl core::error::Error for CvmError {}

/// Why the list cannot be walked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ListState {
    Absent,
    Invalid,
    Present,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Start,
    /// Examine the rule at this index next.
    Next(u8),
    Pending {
        index: u8,
        raw: [u8; 2],
        request: CvmRequest,
    },
    Done(CvmOutcome),
}

/// The step-wise CVM List evaluator (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CvmEvaluator {
    ctx: CvmContext,
    options: CvmOptions,
    list: ListState,
    x: u32,
    y: u32,
    rules: [u8; 2 * MAX_RULES],
    rule_count: u8,
    state: State,
    status: StatusUpdate,
    last_failed: Option<[u8; 2]>,
    pin_bypassed: bool,
    signature_required: bool,
    online_pin: bool,
}

impl CvmEvaluator {
    /// An evaluator for the CVM List value `cvm_list` (tag `8E`, `None` when
    /// the card has none).
    #[must_use]
    pub fn new(ctx: CvmContext, cvm_list: Option<&[u8]>, options: CvmOptions) -> Self {
        let mut me = Self {
            ctx,
            options,
            list: ListState::Absent,
            x: 0,
            y: 0,
            rules: [0; 2 * MAX_RULES],
            rule_count: 0,
            state: State::Start,
            status: StatusUpdate::NONE,
            last_failed: None,
            pin_bypassed: false,
            signature_required: false,
            online_pin: false,
        };
        match cvm_list.map(CvmList::parse) {
            None => {}
            Some(Err(_)) => me.list = ListState::Invalid,
            Some(Ok(l)) => {
                me.x = l.amount_x();
                me.y = l.amount_y();
                for (d, s) in me.rules.iter_mut().zip(l.rule_bytes()) {
                    *d = *s;
                }
                me.rule_count = u8::try_from(l.len().min(MAX_RULES)).unwrap_or(0);
                me.list = if me.rule_count == 0 {
                    ListState::Absent
                } else {
                    ListState::Present
                };
            }
        }
        me
    }

    /// Drives an evaluator to the end, answering each request with
    /// `perform`.
    pub fn run(
        ctx: CvmContext,
        cvm_list: Option<&[u8]>,
        options: CvmOptions,
        mut perform: impl FnMut(CvmRequest) -> ActionResult,
        trail: &mut impl TrailSink,
    ) -> CvmOutcome {
        let mut e = Self::new(ctx, cvm_list, options);
        // Each request consumes a rule, so MAX_RULES + 1 rounds always end.
        for _ in 0..=MAX_RULES {
            match e.poll(trail) {
                CvmStep::Done(o) => return o,
                CvmStep::Need(r) => {
                    let _ = e.provide(perform(r), trail);
                }
            }
        }
        e.finish_failed(trail)
    }

    /// The request waiting for [`CvmEvaluator::provide`], if any.
    #[must_use]
    pub fn pending(&self) -> Option<CvmRequest> {
        match self.state {
            State::Pending { request, .. } => Some(request),
            _ => None,
        }
    }

    /// Advances until an action is needed or verification is over. Polling
    /// again without providing a result returns the same request; after the
    /// end it returns the same outcome.
    pub fn poll(&mut self, trail: &mut impl TrailSink) -> CvmStep {
        // Each round examines one rule or ends: the bound is never reached.
        for _ in 0..MAX_RULES + 4 {
            match self.state {
                State::Start => self.start(trail),
                State::Next(i) => self.examine(i, trail),
                State::Pending { request, .. } => return CvmStep::Need(request),
                State::Done(o) => return CvmStep::Done(o),
            }
        }
        CvmStep::Done(self.finish_failed(trail))
    }

    /// Reports the result of the pending request.
    pub fn provide(
        &mut self,
        result: ActionResult,
        trail: &mut impl TrailSink,
    ) -> Result<(), CvmError> {
        let State::Pending {
            index,
            raw,
            request,
        } = self.state
        else {
            return Err(CvmError::NoPendingRequest);
        };
        let online = request == CvmRequest::NeedOnlinePin;
        let rule = CvRule::from_bytes(raw);
        match result {
            ActionResult::Success if online => {
                self.status.set_tvr(
                    PHASE,
                    "§10.5.2: online PIN entered",
                    Tvr::ONLINE_CVM_CAPTURED,
                    trail,
                );
                self.online_pin = true;
                self.succeed(raw, CvmResult::Unknown, trail);
            }
            ActionResult::Success => {
                if rule.method.needs_signature() {
                    self.signature_required = true;
                    self.succeed(raw, COMBINED_CVM_RESULT, trail);
                } else {
                    self.succeed(raw, CvmResult::Successful, trail);
                }
            }
            ActionResult::Failed => {
                trail.record(TrailEntry::new(
                    PHASE,
                    "§10.5: CVM unsuccessful",
                    Detail::Rule { index, rule: raw },
                ));
                self.fail(index, raw, trail);
            }
            ActionResult::PinTryLimitExceeded if online => {
                trail.record(TrailEntry::new(
                    PHASE,
                    "§10.5.2: PIN try limit does not apply to online PIN: failed",
                    Detail::Rule { index, rule: raw },
                ));
                self.fail(index, raw, trail);
            }
            ActionResult::PinTryLimitExceeded => {
                self.status.set_tvr(
                    PHASE,
                    "§10.5.1: PIN try limit exceeded",
                    Tvr::PIN_TRY_LIMIT_EXCEEDED,
                    trail,
                );
                self.fail(index, raw, trail);
            }
            ActionResult::PinPadNotWorking => {
                self.status.set_tvr(
                    PHASE,
                    "§10.5.1: PIN pad not present or not working",
                    Tvr::PIN_PAD_NOT_PRESENT_OR_NOT_WORKING,
                    trail,
                );
                self.fail(index, raw, trail);
            }
            ActionResult::Bypassed => {
                self.status.set_tvr(
                    PHASE,
                    "§10.5.1: PIN entry bypassed",
                    Tvr::PIN_NOT_ENTERED,
                    trail,
                );
                self.pin_bypassed = true;
                self.fail(index, raw, trail);
            }
        }
        Ok(())
    }

    fn done(&mut self, verification: Verification, results: CvmResults) -> CvmOutcome {
        let o = CvmOutcome {
            verification,
            results,
            status: self.status,
            signature_required: self.signature_required,
            online_pin: self.online_pin,
        };
        self.state = State::Done(o);
        o
    }

    fn start(&mut self, trail: &mut impl TrailSink) {
        let none = CvmResults::no_cvm_performed(CvmResult::Unknown);
        if !self
            .ctx
            .aip
            .contains(Aip::CARDHOLDER_VERIFICATION_SUPPORTED)
        {
            trail.record(TrailEntry::new(
                PHASE,
                "§10.5: AIP: cardholder verification not supported, skipped",
                Detail::CvmResults(none.0),
            ));
            self.done(Verification::NotPerformed, none);
            return;
        }
        match self.list {
            ListState::Present => self.state = State::Next(0),
            ListState::Absent | ListState::Invalid => {
                trail.record(TrailEntry::new(
                    PHASE,
                    if self.list == ListState::Absent {
                        "§10.5: CVM List absent or without rules"
                    } else {
                        "§10.5: [M] CVM List invalid, treated as absent"
                    },
                    Detail::CvmResults(none.0),
                ));
                if MISSING_LIST_SETS_ICC_DATA_MISSING {
                    self.status.set_tvr(
                        PHASE,
                        "§10.5: [M] CVM List missing",
                        Tvr::ICC_DATA_MISSING,
                        trail,
                    );
                }
                self.done(Verification::NotPerformed, none);
            }
        }
    }

    fn rule_at(&self, index: u8) -> Option<[u8; 2]> {
        if index >= self.rule_count {
            return None;
        }
        let at = usize::from(index) * 2;
        self.rules
            .get(at..at + 2)
            .and_then(|r| <[u8; 2]>::try_from(r).ok())
    }

    fn examine(&mut self, index: u8, trail: &mut impl TrailSink) {
        let Some(raw) = self.rule_at(index) else {
            trail.record(TrailEntry::new(
                PHASE,
                "§10.5: end of CVM List without a successful CVM",
                Detail::None,
            ));
            self.finish_failed(trail);
            return;
        };
        let rule = CvRule::from_bytes(raw);
        let detail = Detail::Rule { index, rule: raw };
        let support = terminal_support(rule.method, self.ctx.capabilities, &self.options);
        let next = State::Next(index.saturating_add(1));
        match check_condition(rule.condition, support, &self.ctx, self.x, self.y) {
            ConditionCheck::NotUnderstood => {
                trail.record(TrailEntry::new(
                    PHASE,
                    "§10.5: condition not understood, rule skipped",
                    detail,
                ));
                self.state = next;
                return;
            }
            ConditionCheck::NotSatisfied => {
                trail.record(TrailEntry::new(
                    PHASE,
                    "§10.5: condition not satisfied, rule skipped",
                    detail,
                ));
                if UNRECOGNISED_UNDER_CONDITION_03_SETS_TVR
                    && rule.condition == CvmCondition::TerminalSupportsCvm
                    && support == Support::Unrecognised
                {
                    self.status.set_tvr(
                        PHASE,
                        "§10.5: [M] unrecognised CVM under condition 03",
                        Tvr::UNRECOGNISED_CVM,
                        trail,
                    );
                }
                self.state = next;
                return;
            }
            ConditionCheck::Satisfied => {
                trail.record(TrailEntry::new(PHASE, "§10.5: rule applies", detail));
            }
        }
        match support {
            Support::Unrecognised => {
                self.status.set_tvr(
                    PHASE,
                    "§10.5: unrecognised CVM",
                    Tvr::UNRECOGNISED_CVM,
                    trail,
                );
                self.fail(index, raw, trail);
            }
            Support::NotSupported => {
                trail.record(TrailEntry::new(
                    PHASE,
                    "§10.5: CVM not supported by the terminal",
                    detail,
                ));
                if UNSUPPORTED_PIN_SETS_PIN_PAD_BIT && support::needs_pin(rule.method) {
                    self.status.set_tvr(
                        PHASE,
                        "§10.5.1: [M] PIN CVM not supported: PIN pad not present",
                        Tvr::PIN_PAD_NOT_PRESENT_OR_NOT_WORKING,
                        trail,
                    );
                }
                self.fail(index, raw, trail);
            }
            Support::Supported => self.perform(index, raw, rule, trail),
        }
    }

    fn perform(&mut self, index: u8, raw: [u8; 2], rule: CvRule, trail: &mut impl TrailSink) {
        let request = match rule.method {
            CvmMethod::NoCvmRequired => {
                self.succeed(raw, CvmResult::Successful, trail);
                return;
            }
            CvmMethod::Signature => {
                self.signature_required = true;
                self.succeed(raw, CvmResult::Unknown, trail);
                return;
            }
            CvmMethod::PlaintextPinByIcc | CvmMethod::PlaintextPinByIccAndSignature => {
                CvmRequest::NeedOfflinePlaintextPin
            }
            CvmMethod::EncipheredPinByIcc | CvmMethod::EncipheredPinByIccAndSignature => {
                CvmRequest::NeedOfflineEncipheredPin
            }
            CvmMethod::EncipheredPinOnline => CvmRequest::NeedOnlinePin,
            // Fail CVM, and defensively anything else that got here.
            _ => {
                trail.record(TrailEntry::new(
                    PHASE,
                    "§10.5: Fail CVM processing",
                    Detail::Rule { index, rule: raw },
                ));
                self.fail(index, raw, trail);
                return;
            }
        };
        if self.pin_bypassed && self.options.subsequent_pin_bypass {
            trail.record(TrailEntry::new(
                PHASE,
                "§10.5.1: PIN bypassed earlier (subsequent bypass): not asked again",
                Detail::Rule { index, rule: raw },
            ));
            self.fail(index, raw, trail);
            return;
        }
        self.state = State::Pending {
            index,
            raw,
            request,
        };
    }

    fn results_for(raw: [u8; 2], result: CvmResult) -> CvmResults {
        let [b1, b2] = raw;
        let mask = if RESULTS_KEEP_APPLY_NEXT_BIT {
            CvRule::APPLY_NEXT | CvmMethod::MASK
        } else {
            CvmMethod::MASK
        };
        CvmResults::new(b1 & mask, b2, result)
    }

    fn succeed(&mut self, raw: [u8; 2], result: CvmResult, trail: &mut impl TrailSink) {
        let results = Self::results_for(raw, result);
        trail.record(TrailEntry::new(
            PHASE,
            "§10.5: CVM successful",
            Detail::CvmResults(results.0),
        ));
        self.status.set_tsi(
            PHASE,
            "§10.5: cardholder verification performed",
            Tsi::CARDHOLDER_VERIFICATION_PERFORMED,
            trail,
        );
        self.done(Verification::Successful, results);
    }

    fn fail(&mut self, index: u8, raw: [u8; 2], trail: &mut impl TrailSink) {
        self.last_failed = Some(raw);
        let [b1, _] = raw;
        if b1 & CvRule::APPLY_NEXT != 0 {
            trail.record(TrailEntry::new(
                PHASE,
                "§10.5: CVM unsuccessful, applying succeeding rule",
                Detail::Rule { index, rule: raw },
            ));
            self.state = State::Next(index.saturating_add(1));
        } else {
            self.finish_failed(trail);
        }
    }

    fn finish_failed(&mut self, trail: &mut impl TrailSink) -> CvmOutcome {
        let results = match self.last_failed {
            Some(raw) if FAILED_RESULTS_NAME_LAST_RULE => Self::results_for(raw, CvmResult::Failed),
            _ => CvmResults::no_cvm_performed(CvmResult::Failed),
        };
        trail.record(TrailEntry::new(
            PHASE,
            "§10.5: cardholder verification failed",
            Detail::CvmResults(results.0),
        ));
        self.status.set_tvr(
            PHASE,
            "§10.5: cardholder verification was not successful",
            Tvr::CARDHOLDER_VERIFICATION_NOT_SUCCESSFUL,
            trail,
        );
        self.status.set_tsi(
            PHASE,
            "§10.5: cardholder verification performed",
            Tsi::CARDHOLDER_VERIFICATION_PERFORMED,
            trail,
        );
        self.done(Verification::Failed, results)
    }
}
