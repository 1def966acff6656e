//! EMV polling, collision detection, activation and removal (EMV Contactless Book D, over
//! ISO/IEC 14443-3 §6.3–§6.4 / §7.7–§7.11 and ISO/IEC 14443-4 §5).
//!
//! Two parts:
//!
//! * sans-IO sequencers that decide what to do next and return guard times as values (the
//!   engine has no clock): [`PollingLoop`] (one polling cycle: Type A and Type B alternately,
//!   collision detection, which card to activate) and [`RemovalLoop`] (poll until no card
//!   answers);
//! * blocking helpers over an [`RfFrontend`] for the frame-level steps: [`probe_type_a`],
//!   [`probe_type_b`], [`send_hlta`], [`activate_type_a`] (anticollision cascade levels 1–3,
//!   SELECT, RATS/ATS) and [`activate_type_b`] (ATTRIB).
//!
//! The sequence follows EMV Book D as summarised in emv-facts §5.4 ([S: NXP example
//! configuration] for the 5.1 ms guard time; the exact steps and the removal retry count are
//! \[M\]):
//!
//! 1. wait t_P, WUPA; any answer (even garbled) means a Type A card; then HLTA;
//! 2. wait t_P, WUPB; any answer means a Type B card;
//! 3. no card → [`PollAction::NoCard`]; both → [`PollAction::Collision`];
//! 4. one technology → wait t_P, wake it again; a garbled answer (collision, CRC) →
//!    collision; a clean answer → activate (Type A: an anticollision collision or a BCC error
//!    is a collision too).

use super::ats::{Ats, AtsError, OwnedAts};
use super::type_a::{
    self, Atqa, CascadeLevel, CascadeStep, Sak, TypeAError, Uid, anticollision_command,
    parse_uid_cln, select_command,
};
use super::type_b::{self, Atqb, AttribResponse, TypeBError, attrib_command};
use crate::rf::{
    ActivatedA, ActivatedB, BitRate, Framing, RfError, RfFrontend, Technology, transceive_with_crc,
};

/// Guard time before each WUPA/WUPB of the polling loop, t_P = 5.1 ms
/// (EMV Book D; [S: NXP `GTA/GTB = 5100 µs`]).
pub const POLLING_GUARD_TIME_US: u32 = 5_100;
/// Field-off time of an RF reset, 5.1 ms (EMV Book D; [S: NXP]).
pub const RF_RESET_TIME_US: u32 = 5_100;
/// Consecutive silent polls that conclude the removal procedure \[M\].
pub const REMOVAL_SILENT_POLLS: u8 = 3;
/// Timeout for ATQA, anticollision and SAK answers. The card answers after a fixed frame delay
/// of about 86–91 µs (ISO/IEC 14443-3 §6.2.1.1); 1 ms leaves the front-end room \[M\].
pub const TYPE_A_ANSWER_TIMEOUT_US: u32 = 1_000;
/// Timeout for ATQB: FWT_ATQB = 7680/fc ≈ 567 µs (ISO/IEC 14443-3 §7.9.4.3), with margin \[M\].
pub const ATQB_TIMEOUT_US: u32 = 1_000;
/// Timeout for the ATS: FWT_ACTIVATION = 71680/fc ≈ 5286 µs (ISO/IEC 14443-4 §5.1) \[M\].
pub const ATS_TIMEOUT_US: u32 = 5_287;
/// EMV Book D tolerance ΔFWT = 49152/fc ≈ 3625 µs added to FWT-based timeouts \[M\].
pub const DELTA_FWT_US: u32 = 3_625;

/// What the caller does next, as told by [`PollingLoop::next_action`] or
/// [`RemovalLoop::next_action`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PollAction {
    /// Wait this many µs with the field on (guard time), then ask again.
    Wait {
        /// Microseconds.
        us: u32,
    },
    /// Send WUPA ([`probe_type_a`]) and report the [`Detection`].
    SendWupa,
    /// Send HLTA ([`send_hlta`]), then ask again (no report).
    SendHlta,
    /// Send WUPB ([`probe_type_b`]) and report the [`Detection`].
    SendWupb,
    /// Exactly one Type A card answered: activate it ([`activate_type_a`]). Cycle over.
    ActivateA,
    /// Exactly one Type B card answered: activate it ([`activate_type_b`]). Cycle over.
    ActivateB,
    /// More than one card: report a collision. Cycle over.
    Collision,
    /// No card answered. Cycle over.
    NoCard,
    /// Removal procedure: the card is gone.
    Removed,
}

/// The result of a WUPA or WUPB probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detection {
    /// No answer (time-out).
    None,
    /// One clean, valid answer.
    Answer,
    /// Something answered but garbled: collision, CRC/parity error or an invalid answer.
    Garbled,
}

impl Detection {
    const fn seen(self) -> bool {
        !matches!(self, Self::None)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    GuardA,
    ProbeA,
    AwaitA,
    Hlta,
    GuardB,
    ProbeB,
    AwaitB,
    ConfirmGuard,
    ConfirmProbe,
    AwaitConfirm,
}

/// One EMV polling cycle as a sans-IO sequencer (EMV Book D polling and collision detection).
///
/// Call [`Self::next_action`]; after [`PollAction::SendWupa`] / [`PollAction::SendWupb`]
/// report the result with [`Self::handle_detection`]. A cycle ends with `ActivateA`,
/// `ActivateB`, `Collision` or `NoCard`, after which the sequencer starts over.
#[derive(Debug, Clone)]
pub struct PollingLoop {
    step: Step,
    a: Detection,
    b: Detection,
    guard_us: u32,
}

impl Default for PollingLoop {
    fn default() -> Self {
        Self::new()
    }
}

impl PollingLoop {
    /// A polling cycle with the EMV guard time [`POLLING_GUARD_TIME_US`].
    #[must_use]
    pub const fn new() -> Self {
        Self::with_guard_time(POLLING_GUARD_TIME_US)
    }

    /// A polling cycle with another guard time (µs).
    #[must_use]
    pub const fn with_guard_time(guard_us: u32) -> Self {
        Self {
            step: Step::GuardA,
            a: Detection::None,
            b: Detection::None,
            guard_us,
        }
    }

    fn restart(&mut self, action: PollAction) -> PollAction {
        *self = Self::with_guard_time(self.guard_us);
        action
    }

    /// The next action. While a probe result is awaited, the same probe is returned again.
    pub fn next_action(&mut self) -> PollAction {
        let wait = PollAction::Wait { us: self.guard_us };
        match self.step {
            Step::GuardA => {
                self.step = Step::ProbeA;
                wait
            }
            Step::ProbeA | Step::AwaitA => {
                self.step = Step::AwaitA;
                PollAction::SendWupa
            }
            Step::Hlta => {
                self.step = Step::GuardB;
                PollAction::SendHlta
            }
            Step::GuardB => {
                self.step = Step::ProbeB;
                wait
            }
            Step::ProbeB | Step::AwaitB => {
                self.step = Step::AwaitB;
                PollAction::SendWupb
            }
            Step::ConfirmGuard => {
                self.step = Step::ConfirmProbe;
                wait
            }
            Step::ConfirmProbe | Step::AwaitConfirm => {
                self.step = Step::AwaitConfirm;
                if self.a.seen() {
                    PollAction::SendWupa
                } else {
                    PollAction::SendWupb
                }
            }
        }
    }

    /// Reports the result of the last WUPA/WUPB. Returns the terminal action when the cycle
    /// ends here (`ActivateA/B`, `Collision`, `NoCard`), else `None` (ask
    /// [`Self::next_action`] again). Ignored (returns `None`) when no probe is pending.
    pub fn handle_detection(&mut self, detection: Detection) -> Option<PollAction> {
        match self.step {
            Step::AwaitA => {
                self.a = detection;
                self.step = if detection.seen() {
                    Step::Hlta
                } else {
                    Step::GuardB
                };
                None
            }
            Step::AwaitB => {
                self.b = detection;
                match (self.a.seen(), self.b.seen()) {
                    (false, false) => Some(self.restart(PollAction::NoCard)),
                    (true, true) => Some(self.restart(PollAction::Collision)),
                    _ => {
                        self.step = Step::ConfirmGuard;
                        None
                    }
                }
            }
            Step::AwaitConfirm => {
                let activate = if self.a.seen() {
                    PollAction::ActivateA
                } else {
                    PollAction::ActivateB
                };
                Some(self.restart(match detection {
                    Detection::None => PollAction::NoCard,
                    Detection::Garbled => PollAction::Collision,
                    Detection::Answer => activate,
                }))
            }
            _ => None,
        }
    }
}

/// The removal procedure as a sans-IO sequencer (EMV Book D: poll until no card answers) \[M\]:
/// wait t_P, wake the card's technology; an answer (Type A: followed by HLTA) restarts the
/// count; [`REMOVAL_SILENT_POLLS`] silent probes in a row give [`PollAction::Removed`].
#[derive(Debug, Clone)]
pub struct RemovalLoop {
    technology: Technology,
    silent: u8,
    step: RemovalStep,
    guard_us: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RemovalStep {
    Guard,
    Probe,
    Await,
    Hlta,
    Done,
}

impl RemovalLoop {
    /// Removal for a card of `technology`.
    #[must_use]
    pub const fn new(technology: Technology) -> Self {
        Self {
            technology,
            silent: 0,
            step: RemovalStep::Guard,
            guard_us: POLLING_GUARD_TIME_US,
        }
    }

    /// The next action; [`PollAction::Removed`] once the card is gone (and from then on).
    pub fn next_action(&mut self) -> PollAction {
        match self.step {
            RemovalStep::Guard => {
                self.step = RemovalStep::Probe;
                PollAction::Wait { us: self.guard_us }
            }
            RemovalStep::Probe | RemovalStep::Await => {
                self.step = RemovalStep::Await;
                match self.technology {
                    Technology::TypeA => PollAction::SendWupa,
                    Technology::TypeB => PollAction::SendWupb,
                }
            }
            RemovalStep::Hlta => {
                self.step = RemovalStep::Guard;
                PollAction::SendHlta
            }
            RemovalStep::Done => PollAction::Removed,
        }
    }

    /// Reports the result of the last probe (ignored when none is pending).
    pub fn handle_detection(&mut self, detection: Detection) {
        if self.step != RemovalStep::Await {
            return;
        }
        if detection.seen() {
            self.silent = 0;
            self.step = match self.technology {
                Technology::TypeA => RemovalStep::Hlta,
                Technology::TypeB => RemovalStep::Guard,
            };
        } else {
            self.silent = self.silent.saturating_add(1);
            self.step = if self.silent >= REMOVAL_SILENT_POLLS {
                RemovalStep::Done
            } else {
                RemovalStep::Guard
            };
        }
    }
}

/// Where activation failed (card misbehaviour), ISO/IEC 14443-3/-4 and EMV Book D.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// WUPA/ATQA.
    Atqa,
    /// ANTICOLLISION at a cascade level.
    Anticollision(u8),
    /// SELECT at a cascade level.
    Select(u8),
    /// RATS/ATS.
    Rats,
    /// WUPB/ATQB.
    Atqb,
    /// ATTRIB.
    Attrib,
}

/// Why activation of a single card failed (the card is at fault unless `Transport`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ActivationError<E> {
    /// The front-end failed.
    #[error("front-end error: {0:?}")]
    Transport(E),
    /// No answer at a stage.
    #[error("no answer at {0:?}")]
    Timeout(Stage),
    /// A transmission error (CRC, parity) at a stage.
    #[error("transmission error at {0:?}")]
    Transmission(Stage),
    /// Several cards answered (a collision during anticollision, or a BCC error).
    #[error("collision at {0:?}")]
    Collision(Stage),
    /// A malformed Type A answer.
    #[error("invalid Type A answer: {0}")]
    TypeA(TypeAError),
    /// A malformed Type B answer.
    #[error("invalid Type B answer: {0}")]
    TypeB(TypeBError),
    /// A malformed ATS.
    #[error("invalid ATS: {0}")]
    Ats(AtsError),
    /// The card is not ISO/IEC 14443-4 compliant (SAK b6 clear, or ATQB Protocol_Type).
    #[error("card does not support ISO/IEC 14443-4")]
    NotIsoDep,
    /// The answer to ATTRIB carries a CID other than the one assigned (EMV: 0).
    #[error("answer to ATTRIB with CID {0}")]
    WrongCid(u8),
}

fn map_rf<E>(stage: Stage) -> impl Fn(RfError<E>) -> ActivationError<E> {
    move |e| match e {
        RfError::Timeout => ActivationError::Timeout(stage),
        RfError::Collision => ActivationError::Collision(stage),
        RfError::Integrity | RfError::Overflow => ActivationError::Transmission(stage),
        RfError::Transport(t) => ActivationError::Transport(t),
    }
}

/// Switches the front-end to `technology` at 106 kbit/s, sends WUPA and classifies the
/// answer; a clean, valid ATQA is returned with [`Detection::Answer`].
///
/// # Errors
/// Only [`RfError::Transport`]; every other outcome is a [`Detection`].
pub fn probe_type_a<F: RfFrontend + ?Sized>(
    frontend: &mut F,
) -> Result<(Detection, Option<Atqa>), F::Error> {
    transport(frontend.configure(Technology::TypeA, BitRate::Kbps106))?;
    let mut rx = [0u8; 4];
    let answer = frontend.transceive(
        &[type_a::WUPA],
        Framing::ShortFrame,
        &mut rx,
        TYPE_A_ANSWER_TIMEOUT_US,
    );
    Ok(match answer {
        Ok(n) => match rx.get(..n).map(Atqa::parse) {
            Some(Ok(atqa)) => (Detection::Answer, Some(atqa)),
            _ => (Detection::Garbled, None),
        },
        Err(RfError::Timeout) => (Detection::None, None),
        Err(RfError::Transport(e)) => return Err(e),
        Err(RfError::Collision | RfError::Integrity | RfError::Overflow) => {
            (Detection::Garbled, None)
        }
    })
}

/// Switches the front-end to Type B at 106 kbit/s, sends WUPB and classifies the answer; a
/// clean, valid ATQB is returned with [`Detection::Answer`].
///
/// # Errors
/// Only [`RfError::Transport`].
pub fn probe_type_b<F: RfFrontend + ?Sized>(
    frontend: &mut F,
) -> Result<(Detection, Option<Atqb>), F::Error> {
    transport(frontend.configure(Technology::TypeB, BitRate::Kbps106))?;
    let mut rx = [0u8; 16];
    let answer = transceive_with_crc(
        frontend,
        Technology::TypeB,
        &type_b::WUPB,
        &mut rx,
        ATQB_TIMEOUT_US,
    );
    Ok(match answer {
        Ok(n) => match rx.get(..n).map(Atqb::parse) {
            Some(Ok(atqb)) => (Detection::Answer, Some(atqb)),
            _ => (Detection::Garbled, None),
        },
        Err(RfError::Timeout) => (Detection::None, None),
        Err(RfError::Transport(e)) => return Err(e),
        Err(RfError::Collision | RfError::Integrity | RfError::Overflow) => {
            (Detection::Garbled, None)
        }
    })
}

/// Sends HLTA (ISO/IEC 14443-3 §6.3.3). The card does not answer; any answer is ignored.
///
/// # Errors
/// Only [`RfError::Transport`].
pub fn send_hlta<F: RfFrontend + ?Sized>(frontend: &mut F) -> Result<(), F::Error> {
    let mut rx = [0u8; 4];
    match transceive_with_crc(
        frontend,
        Technology::TypeA,
        &type_a::HLTA,
        &mut rx,
        TYPE_A_ANSWER_TIMEOUT_US,
    ) {
        Err(RfError::Transport(e)) => Err(e),
        _ => Ok(()),
    }
}

fn transport<E>(r: Result<(), RfError<E>>) -> Result<(), E> {
    match r {
        Err(RfError::Transport(e)) => Err(e),
        // A front-end reports configuration and field problems as transport errors; other
        // classes cannot occur here and are ignored.
        _ => Ok(()),
    }
}

/// Activates the single Type A card that answered the last WUPA with `atqa`: anticollision
/// and SELECT for cascade levels 1–3 (ISO/IEC 14443-3 §6.4.3), then RATS `E0 80` and the ATS
/// (ISO/IEC 14443-4 §5.1–§5.2, EMV Book D).
///
/// # Errors
/// [`ActivationError`]; `Collision` means several cards after all.
pub fn activate_type_a<F: RfFrontend + ?Sized>(
    frontend: &mut F,
    atqa: Atqa,
) -> Result<ActivatedA, ActivationError<F::Error>> {
    let mut uid = Uid::new();
    let mut level = CascadeLevel::One;
    let mut rx = [0u8; crate::rf::MAX_FRAME_WITH_CRC];
    let sak = loop {
        let stage = Stage::Anticollision(level.number());
        let n = frontend
            .transceive(
                &anticollision_command(level),
                Framing::Anticollision,
                &mut rx,
                TYPE_A_ANSWER_TIMEOUT_US,
            )
            .map_err(map_rf(stage))?;
        let uid_cln = match parse_uid_cln(rx.get(..n).unwrap_or(&[])) {
            Ok(uid_cln) => uid_cln,
            Err(TypeAError::BccMismatch { .. }) => return Err(ActivationError::Collision(stage)),
            Err(e) => return Err(ActivationError::TypeA(e)),
        };
        let stage = Stage::Select(level.number());
        let n = transceive_with_crc(
            frontend,
            Technology::TypeA,
            &select_command(level, uid_cln),
            &mut rx,
            TYPE_A_ANSWER_TIMEOUT_US,
        )
        .map_err(map_rf(stage))?;
        let sak = Sak::parse(rx.get(..n).unwrap_or(&[])).map_err(ActivationError::TypeA)?;
        match uid
            .push_level(level, uid_cln, sak)
            .map_err(ActivationError::TypeA)?
        {
            CascadeStep::Complete => break sak,
            CascadeStep::Next(next) => level = next,
        }
    };
    if !sak.iso14443_4_compliant() {
        return Err(ActivationError::NotIsoDep);
    }
    let n = transceive_with_crc(
        frontend,
        Technology::TypeA,
        &type_a::EMV_RATS,
        &mut rx,
        ATS_TIMEOUT_US + DELTA_FWT_US,
    )
    .map_err(map_rf(Stage::Rats))?;
    let ats = Ats::parse(rx.get(..n).unwrap_or(&[])).map_err(ActivationError::Ats)?;
    Ok(ActivatedA {
        atqa,
        uid,
        sak,
        ats: OwnedAts::new(&ats),
    })
}

/// Activates the single Type B card that answered the last WUPB with `atqb`: ATTRIB with
/// FSDI 8, CID 0 and no higher-layer INF (ISO/IEC 14443-3 §7.10, EMV Book D), waiting FWT of
/// the ATQB plus ΔFWT for the answer.
///
/// # Errors
/// [`ActivationError`].
pub fn activate_type_b<F: RfFrontend + ?Sized>(
    frontend: &mut F,
    atqb: Atqb,
) -> Result<ActivatedB, ActivationError<F::Error>> {
    if !atqb.iso14443_4_compliant() {
        return Err(ActivationError::NotIsoDep);
    }
    let mut rx = [0u8; crate::rf::MAX_FRAME_WITH_CRC];
    let n = transceive_with_crc(
        frontend,
        Technology::TypeB,
        &attrib_command(*atqb.pupi(), type_a::EMV_FSDI, atqb.protocol_type(), 0),
        &mut rx,
        atqb.fwt_us().saturating_add(DELTA_FWT_US),
    )
    .map_err(map_rf(Stage::Attrib))?;
    let (attrib, _higher_layer) =
        AttribResponse::parse(rx.get(..n).unwrap_or(&[])).map_err(ActivationError::TypeB)?;
    if attrib.cid() != 0 {
        return Err(ActivationError::WrongCid(attrib.cid()));
    }
    Ok(ActivatedB { atqb, attrib })
}

#[cfg(test)]
#[allow(clippy::panic)]
mod tests {
    use super::*;

    fn run(loop_: &mut PollingLoop, a: Detection, b: Detection, confirm: Detection) -> PollAction {
        for _ in 0..20 {
            match loop_.next_action() {
                PollAction::Wait { us } => assert_eq!(us, POLLING_GUARD_TIME_US),
                PollAction::SendHlta => {}
                PollAction::SendWupa | PollAction::SendWupb => {
                    let d = match loop_.step {
                        Step::AwaitA => a,
                        Step::AwaitB => b,
                        _ => confirm,
                    };
                    if let Some(end) = loop_.handle_detection(d) {
                        return end;
                    }
                }
                other => return other,
            }
        }
        unreachable!("polling cycle did not end")
    }

    #[test]
    fn polling_outcomes() {
        use Detection::{Answer, Garbled, None as Silent};
        let mut p = PollingLoop::new();
        assert_eq!(run(&mut p, Silent, Silent, Silent), PollAction::NoCard);
        assert_eq!(run(&mut p, Answer, Answer, Answer), PollAction::Collision);
        assert_eq!(run(&mut p, Answer, Silent, Answer), PollAction::ActivateA);
        assert_eq!(run(&mut p, Silent, Answer, Answer), PollAction::ActivateB);
        assert_eq!(run(&mut p, Garbled, Silent, Garbled), PollAction::Collision);
        assert_eq!(run(&mut p, Garbled, Silent, Answer), PollAction::ActivateA);
        assert_eq!(run(&mut p, Silent, Garbled, Silent), PollAction::NoCard);
        assert_eq!(run(&mut p, Garbled, Garbled, Answer), PollAction::Collision);
    }

    #[test]
    fn polling_sequence() {
        let mut p = PollingLoop::new();
        assert_eq!(p.next_action(), PollAction::Wait { us: 5_100 });
        assert_eq!(p.next_action(), PollAction::SendWupa);
        assert_eq!(p.next_action(), PollAction::SendWupa); // still awaiting
        assert_eq!(p.handle_detection(Detection::Answer), None);
        assert_eq!(p.next_action(), PollAction::SendHlta);
        assert_eq!(p.next_action(), PollAction::Wait { us: 5_100 });
        assert_eq!(p.next_action(), PollAction::SendWupb);
        assert_eq!(p.handle_detection(Detection::None), None);
        assert_eq!(p.next_action(), PollAction::Wait { us: 5_100 });
        assert_eq!(p.next_action(), PollAction::SendWupa);
        assert_eq!(
            p.handle_detection(Detection::Answer),
            Some(PollAction::ActivateA)
        );
        // Starts over.
        assert_eq!(p.next_action(), PollAction::Wait { us: 5_100 });
        // A report with nothing pending is ignored.
        assert_eq!(p.handle_detection(Detection::Answer), None);
    }

    #[test]
    fn removal() {
        let mut r = RemovalLoop::new(Technology::TypeA);
        let mut probes = 0;
        let mut answers = 2;
        loop {
            match r.next_action() {
                PollAction::Wait { .. } | PollAction::SendHlta => {}
                PollAction::SendWupa => {
                    probes += 1;
                    if answers > 0 {
                        answers -= 1;
                        r.handle_detection(Detection::Answer);
                    } else {
                        r.handle_detection(Detection::None);
                    }
                }
                PollAction::Removed => break,
                other => unreachable!("{other:?}"),
            }
        }
        assert_eq!(probes, 2 + usize::from(REMOVAL_SILENT_POLLS));
        assert_eq!(r.next_action(), PollAction::Removed);
        let mut r = RemovalLoop::new(Technology::TypeB);
        assert!(matches!(r.next_action(), PollAction::Wait { .. }));
        assert_eq!(r.next_action(), PollAction::SendWupb);
    }
}
