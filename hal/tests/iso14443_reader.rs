//! End-to-end tests of the ISO/IEC 14443 stack: a fake RF front-end carrying simple Type A /
//! Type B card models (ISO/IEC 14443-3 activation, ISO/IEC 14443-4 PICC block rules C–E and
//! 8–11), driven through `Contactless::poll` and `CardChannel::exchange`; fault injection
//! (lost, corrupted frames) with a proptest that the outcome is always the right R-APDU or an
//! error, within a bounded number of frames.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::VecDeque;

use emv_hal::channel::CardChannel;
use emv_hal::iso14443::block::Block;
use emv_hal::iso14443::crc;
use emv_hal::iso14443::isodep::{
    EMV_MAX_RETRIES, IsoDep, IsoDepError, IsoDepEvent, IsoDepParams, MAX_FRAME_LEN,
};
use emv_hal::iso14443::{ContactlessReader, ReaderError};
use emv_hal::rf::{
    Activated, BitRate, Contactless, Framing, PollOutcome, RfError, RfFrontend, Technology,
};
use proptest::prelude::*;

const SELECT_PPSE: &[u8] = &[
    0x00, 0xA4, 0x04, 0x00, 0x0E, 0x32, 0x50, 0x41, 0x59, 0x2E, 0x53, 0x59, 0x53, 0x2E, 0x44, 0x44,
    0x46, 0x30, 0x31, 0x00,
];
/// A short PPSE FCI: `6F 10 84 0E "2PAY.SYS.DDF01"` + `90 00`.
fn ppse_fci() -> Vec<u8> {
    let mut r = vec![0x6F, 0x10, 0x84, 0x0E];
    r.extend_from_slice(b"2PAY.SYS.DDF01");
    r.extend_from_slice(&[0x90, 0x00]);
    r
}

/// The card application: SELECT PPSE → FCI; `80 CA 00 00 Le` → Le bytes counting up; other
/// commands → echo of the command + `90 00`.
fn application(c_apdu: &[u8]) -> Vec<u8> {
    if c_apdu == SELECT_PPSE {
        return ppse_fci();
    }
    if c_apdu.len() == 5 && c_apdu[..4] == [0x80, 0xCA, 0x00, 0x00] {
        let le = if c_apdu[4] == 0 {
            256
        } else {
            usize::from(c_apdu[4])
        };
        let mut r: Vec<u8> = (0..le).map(|i| i as u8).collect();
        r.extend_from_slice(&[0x90, 0x00]);
        return r;
    }
    let mut r = c_apdu.to_vec();
    r.extend_from_slice(&[0x90, 0x00]);
    r
}

/// ISO/IEC 14443-4 PICC side (rules C, D, E, 8–11), no CID/NAD.
#[derive(Debug, Clone)]
struct Picc {
    bn: u8,
    last: Vec<u8>,
    command: Vec<u8>,
    response: Vec<u8>,
    sent: usize,
    chunk: usize,
    wtx_first: bool,
    wtx_pending: bool,
    deselected: bool,
}

impl Picc {
    fn new(chunk: usize, wtx_first: bool) -> Self {
        Self {
            bn: 1,
            last: Vec::new(),
            command: Vec::new(),
            response: Vec::new(),
            sent: 0,
            chunk,
            wtx_first,
            wtx_pending: false,
            deselected: false,
        }
    }

    fn next_chunk(&mut self) -> Vec<u8> {
        let end = (self.sent + self.chunk).min(self.response.len());
        let chaining = end < self.response.len();
        let mut f = vec![0x02 | self.bn | if chaining { 0x10 } else { 0 }];
        f.extend_from_slice(&self.response[self.sent..end]);
        self.sent = end;
        f
    }

    /// One received frame (CRC good) → the answer, or `None` (ignored).
    fn receive(&mut self, frame: &[u8]) -> Option<Vec<u8>> {
        let block = Block::parse(frame).ok()?;
        let answer = match block {
            Block::I {
                block_number,
                chaining,
                inf,
                ..
            } => {
                self.bn = block_number; // rule D (toggle in agreement with the PCD)
                self.command.extend_from_slice(inf);
                if chaining {
                    vec![0xA2 | self.bn]
                } else {
                    self.response = application(&self.command);
                    self.command.clear();
                    self.sent = 0;
                    if self.wtx_first {
                        self.wtx_pending = true;
                        vec![0xF2, 0x02]
                    } else {
                        self.next_chunk()
                    }
                }
            }
            Block::Wtx { .. } if self.wtx_pending => {
                self.wtx_pending = false;
                self.next_chunk()
            }
            Block::RAck { block_number, .. } | Block::RNak { block_number, .. }
                if block_number == self.bn =>
            {
                self.last.clone() // rule 9
            }
            Block::RNak { .. } => vec![0xA2 | self.bn], // rule 10
            Block::RAck { .. } if self.sent < self.response.len() => {
                self.bn ^= 1; // rule E, rule 11
                self.next_chunk()
            }
            Block::Deselect { .. } => {
                self.deselected = true;
                vec![0xC2]
            }
            _ => return None,
        };
        self.last = answer.clone();
        Some(answer)
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum State {
    Idle,
    Ready(u8),
    Active,
    Halt,
    Protocol,
}

/// A card in the field.
#[derive(Debug, Clone)]
struct Card {
    technology: Technology,
    uid: Vec<u8>,
    sak_final: u8,
    ats: Vec<u8>,
    state: State,
    picc: Picc,
}

impl Card {
    fn type_a(uid: &[u8], picc: Picc) -> Self {
        Self {
            technology: Technology::TypeA,
            uid: uid.to_vec(),
            sak_final: 0x20,
            // FSCI 5 (64), TB1 = 70 (FWI 7), historical byte 0x80.
            ats: vec![0x06, 0x75, 0x80, 0x70, 0x02, 0x80],
            state: State::Idle,
            picc,
        }
    }

    fn type_b(picc: Picc) -> Self {
        Self {
            technology: Technology::TypeB,
            uid: vec![0xDE, 0xAD, 0xBE, 0xEF],
            sak_final: 0,
            ats: Vec::new(),
            state: State::Idle,
            picc,
        }
    }

    fn uid_cln(&self, level: u8) -> [u8; 4] {
        let u = &self.uid;
        match (u.len(), level) {
            (4, 1) => [u[0], u[1], u[2], u[3]],
            (7, 1) => [0x88, u[0], u[1], u[2]],
            (7, 2) => [u[3], u[4], u[5], u[6]],
            _ => panic!("unsupported UID layout"),
        }
    }

    /// A frame without CRC as the card sees it; returns the answer without CRC.
    fn receive(&mut self, framing: Framing, frame: &[u8]) -> Option<Vec<u8>> {
        match self.technology {
            Technology::TypeA => self.receive_a(framing, frame),
            Technology::TypeB => self.receive_b(frame),
        }
    }

    fn receive_a(&mut self, framing: Framing, frame: &[u8]) -> Option<Vec<u8>> {
        if framing == Framing::ShortFrame {
            let wake = frame == [0x52] && matches!(self.state, State::Idle | State::Halt);
            let req = frame == [0x26] && self.state == State::Idle;
            if wake || req {
                self.state = State::Ready(1);
                return Some(vec![if self.uid.len() == 7 { 0x44 } else { 0x04 }, 0x00]);
            }
            return None;
        }
        match (self.state, frame) {
            (State::Ready(level), [sel, 0x20]) if *sel == 0x91 + 2 * level => {
                let c = self.uid_cln(level);
                Some(vec![c[0], c[1], c[2], c[3], c[0] ^ c[1] ^ c[2] ^ c[3]])
            }
            (State::Ready(level), [sel, 0x70, rest @ ..]) if *sel == 0x91 + 2 * level => {
                let c = self.uid_cln(level);
                if rest[..4] != c {
                    return None;
                }
                if c[0] == 0x88 {
                    self.state = State::Ready(level + 1);
                    Some(vec![0x04])
                } else {
                    self.state = State::Active;
                    Some(vec![self.sak_final])
                }
            }
            (State::Active | State::Ready(_), [0x50, 0x00]) => {
                self.state = State::Halt;
                None
            }
            (State::Active, [0xE0, _]) => {
                self.state = State::Protocol;
                Some(self.ats.clone())
            }
            (State::Protocol, _) => self.picc.receive(frame),
            _ => None,
        }
    }

    fn receive_b(&mut self, frame: &[u8]) -> Option<Vec<u8>> {
        match (self.state, frame) {
            (State::Idle | State::Ready(_), [0x05, 0x00, 0x08]) => {
                self.state = State::Ready(0);
                let mut atqb = vec![0x50];
                atqb.extend_from_slice(&self.uid);
                // App data; protocol info: 106 only, FSCI 8 + type 1, FWI 7 / FO 0.
                atqb.extend_from_slice(&[0, 0, 0, 0, 0x00, 0x81, 0x70]);
                Some(atqb)
            }
            (State::Ready(_), [0x1D, rest @ ..]) if rest[..4] == self.uid[..] => {
                assert_eq!(
                    &rest[4..],
                    &[0x00, 0x08, 0x01, 0x00],
                    "EMV ATTRIB parameters"
                );
                self.state = State::Protocol;
                Some(vec![0x00])
            }
            (State::Protocol, _) => self.picc.receive(frame),
            _ => None,
        }
    }
}

/// What happens to one transceive.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Fault {
    /// Delivered both ways.
    None,
    /// The card never sees the frame.
    LoseCommand,
    /// The card sees a corrupted frame (ignores it).
    CorruptCommand,
    /// The card answers but the answer is lost.
    LoseAnswer,
    /// The card answers but the answer arrives with a bad CRC.
    CorruptAnswer,
}

/// Fake front-end: a field with cards; CRC in software or in "hardware".
struct FakeField {
    cards: Vec<Card>,
    technology: Technology,
    hw_crc: bool,
    field: bool,
    faults: VecDeque<Fault>,
    frames: usize,
    log: Vec<(Framing, Vec<u8>)>,
}

impl FakeField {
    fn new(cards: Vec<Card>, hw_crc: bool) -> Self {
        Self {
            cards,
            technology: Technology::TypeA,
            hw_crc,
            field: false,
            faults: VecDeque::new(),
            frames: 0,
            log: Vec::new(),
        }
    }
}

impl RfFrontend for FakeField {
    type Error = &'static str;

    fn set_field(&mut self, on: bool) -> Result<(), RfError<Self::Error>> {
        self.field = on;
        if !on {
            for c in &mut self.cards {
                c.state = State::Idle;
                c.picc = Picc::new(c.picc.chunk, c.picc.wtx_first);
            }
        }
        Ok(())
    }

    fn configure(&mut self, t: Technology, rate: BitRate) -> Result<(), RfError<Self::Error>> {
        assert_eq!(rate, BitRate::Kbps106);
        self.technology = t;
        Ok(())
    }

    fn crc_in_hardware(&self) -> bool {
        self.hw_crc
    }

    fn transceive(
        &mut self,
        tx: &[u8],
        framing: Framing,
        rx: &mut [u8],
        timeout_us: u32,
    ) -> Result<usize, RfError<Self::Error>> {
        if !self.field {
            return Err(RfError::Transport("field off"));
        }
        assert!(timeout_us > 0);
        self.frames += 1;
        self.log.push((framing, tx.to_vec()));
        let tech = self.technology;
        // Strip the CRC the card checks.
        let payload: Vec<u8> = match framing {
            Framing::Standard => match crc::check(tech, tx) {
                Some(p) => p.to_vec(),
                // Frames without CRC (anticollision in Standard) are not used by the stack.
                None => return Err(RfError::Timeout),
            },
            Framing::StandardCrc => {
                assert!(self.hw_crc, "StandardCrc without hardware CRC");
                tx.to_vec()
            }
            Framing::ShortFrame | Framing::Anticollision => tx.to_vec(),
        };
        let fault = self.faults.pop_front().unwrap_or(Fault::None);
        if matches!(fault, Fault::LoseCommand | Fault::CorruptCommand) {
            return Err(RfError::Timeout);
        }
        let answers: Vec<Vec<u8>> = self
            .cards
            .iter_mut()
            .filter(|c| c.technology == tech)
            .filter_map(|c| c.receive(framing, &payload))
            .collect();
        let answer = match answers.len() {
            0 => return Err(RfError::Timeout),
            1 => answers.into_iter().next().unwrap(),
            _ if answers.iter().all(|a| *a == answers[0]) => answers[0].clone(),
            _ => return Err(RfError::Collision),
        };
        match fault {
            Fault::LoseAnswer => return Err(RfError::Timeout),
            Fault::CorruptAnswer => return Err(RfError::Integrity),
            _ => {}
        }
        let mut wire = answer;
        if matches!(framing, Framing::Standard) {
            wire.extend_from_slice(&crc::crc(tech, &wire));
        }
        let dst = rx.get_mut(..wire.len()).ok_or(RfError::Overflow)?;
        dst.copy_from_slice(&wire);
        Ok(wire.len())
    }
}

/// A delay that only adds up the time asked for.
#[derive(Default)]
struct Clock {
    waited_us: u64,
}

impl embedded_hal::delay::DelayNs for Clock {
    fn delay_ns(&mut self, ns: u32) {
        self.waited_us += u64::from(ns) / 1000;
    }
}

fn reader(cards: Vec<Card>, hw_crc: bool) -> ContactlessReader<FakeField, Clock> {
    ContactlessReader::new(FakeField::new(cards, hw_crc), Clock::default())
}

#[test]
fn poll_and_select_ppse_type_a_software_and_hardware_crc() {
    for hw_crc in [false, true] {
        let mut r = reader(
            vec![Card::type_a(&[1, 2, 3, 4], Picc::new(250, false))],
            hw_crc,
        );
        let PollOutcome::Activated(Activated::TypeA(a)) = r.poll().unwrap() else {
            panic!("not activated")
        };
        assert_eq!(a.uid.as_bytes(), &[1, 2, 3, 4]);
        assert_eq!(a.sak.0, 0x20);
        assert_eq!(a.ats.params().fsc, 64);
        assert_eq!(a.ats.params().fwi, 7);
        assert_eq!(a.ats.historical_bytes(), &[0x80]);
        let mut resp = [0u8; 258];
        let n = r.exchange(SELECT_PPSE, &mut resp).unwrap();
        assert_eq!(&resp[..n], &ppse_fci()[..]);
        let field = r.frontend();
        // The I-block on the wire is `02 SELECT-PPSE` (+ `E0 42` when CRC is in software).
        let (framing, last_cmd) = field
            .log
            .iter()
            .find(|(_, f)| f.first() == Some(&0x02))
            .unwrap()
            .clone();
        if hw_crc {
            assert_eq!(framing, Framing::StandardCrc);
            assert_eq!(last_cmd.len(), 21);
        } else {
            assert_eq!(framing, Framing::Standard);
            assert_eq!(&last_cmd[21..], &[0xE0, 0x42]);
        }
        // Polling frames: WUPA (short), HLTA, WUPB, WUPA, 93 20, 93 70 …, RATS.
        let heads: Vec<u8> = field.log.iter().map(|(_, f)| f[0]).collect();
        assert_eq!(&heads[..7], &[0x52, 0x50, 0x05, 0x52, 0x93, 0x93, 0xE0]);
        // Guard times were waited: 3 × 5.1 ms.
        let (_, clock) = r.release();
        assert_eq!(clock.waited_us, 3 * 5_100);
    }
}

#[test]
fn double_size_uid_and_deactivate() {
    let mut r = reader(
        vec![Card::type_a(&[1, 2, 3, 4, 5, 6, 7], Picc::new(250, false))],
        false,
    );
    let PollOutcome::Activated(act) = r.poll().unwrap() else {
        panic!()
    };
    assert_eq!(act.identifier(), &[1, 2, 3, 4, 5, 6, 7]);
    r.deactivate().unwrap();
    assert!(r.frontend().cards[0].picc.deselected);
    let mut resp = [0u8; 258];
    assert!(matches!(
        r.exchange(SELECT_PPSE, &mut resp),
        Err(ReaderError::NotActivated)
    ));
}

#[test]
fn type_b_end_to_end_with_chaining_and_wtx() {
    let mut r = reader(vec![Card::type_b(Picc::new(20, true))], false);
    let PollOutcome::Activated(Activated::TypeB(b)) = r.poll().unwrap() else {
        panic!()
    };
    assert_eq!(b.atqb.pupi(), &[0xDE, 0xAD, 0xBE, 0xEF]);
    let mut resp = [0u8; 258];
    let n = r
        .exchange(&[0x80, 0xCA, 0x00, 0x00, 0x00], &mut resp)
        .unwrap();
    assert_eq!(n, 258);
    assert_eq!(
        &resp[..n],
        &application(&[0x80, 0xCA, 0x00, 0x00, 0x00])[..]
    );
    // Too small a response buffer is API misuse.
    let mut small = [0u8; 4];
    assert!(matches!(
        r.exchange(SELECT_PPSE, &mut small),
        Err(ReaderError::ResponseBufferTooSmall { .. })
    ));
}

#[test]
fn polling_outcomes() {
    let mut r = reader(vec![], false);
    assert_eq!(r.poll().unwrap(), PollOutcome::NoCard);
    let mut r = reader(
        vec![
            Card::type_a(&[1, 2, 3, 4], Picc::new(250, false)),
            Card::type_b(Picc::new(250, false)),
        ],
        false,
    );
    assert_eq!(r.poll().unwrap(), PollOutcome::Collision);
    let mut r = reader(
        vec![
            Card::type_a(&[1, 2, 3, 4], Picc::new(250, false)),
            Card::type_a(&[9, 8, 7, 6], Picc::new(250, false)),
        ],
        false,
    );
    assert_eq!(r.poll().unwrap(), PollOutcome::Collision);
    // A Type A card without ISO 14443-4 (SAK 08) fails activation.
    let mut card = Card::type_a(&[1, 2, 3, 4], Picc::new(250, false));
    card.sak_final = 0x08;
    let mut r = reader(vec![card], false);
    assert!(matches!(r.poll(), Err(ReaderError::Activation(_))));
}

#[test]
fn removal_procedure() {
    let mut r = reader(
        vec![Card::type_a(&[1, 2, 3, 4], Picc::new(250, false))],
        false,
    );
    assert!(matches!(r.poll().unwrap(), PollOutcome::Activated(_)));
    // Card still there: the bound is reached.
    assert!(!r.wait_for_removal(5).unwrap());
    r.frontend().cards.clear();
    assert!(r.wait_for_removal(10).unwrap());
}

#[test]
fn lost_and_corrupted_frames_recover() {
    for faults in [
        vec![Fault::LoseAnswer],
        vec![Fault::CorruptAnswer],
        vec![Fault::LoseCommand],
        vec![Fault::CorruptCommand],
        vec![Fault::LoseAnswer, Fault::None, Fault::CorruptAnswer],
        vec![Fault::None, Fault::CorruptAnswer, Fault::LoseAnswer],
    ] {
        let mut r = reader(
            vec![Card::type_a(&[1, 2, 3, 4], Picc::new(16, true))],
            false,
        );
        assert!(matches!(r.poll().unwrap(), PollOutcome::Activated(_)));
        r.frontend().faults = faults.clone().into();
        let mut resp = [0u8; 258];
        let cmd = [0x80, 0xCA, 0x00, 0x00, 0x30];
        let n = r
            .exchange(&cmd, &mut resp)
            .unwrap_or_else(|e| panic!("{faults:?}: {e:?}"));
        assert_eq!(&resp[..n], &application(&cmd)[..], "{faults:?}");
    }
}

/// Retransmissions count in a row until progress: a lost I-block, a lost R(ACK) and the rule-6
/// re-send make three, one more than EMV allows.
#[test]
fn three_recoveries_in_a_row_fail() {
    let mut r = reader(
        vec![Card::type_a(&[1, 2, 3, 4], Picc::new(16, true))],
        false,
    );
    assert!(matches!(r.poll().unwrap(), PollOutcome::Activated(_)));
    r.frontend().faults = vec![Fault::CorruptCommand, Fault::LoseAnswer].into();
    let mut resp = [0u8; 258];
    assert!(matches!(
        r.exchange(SELECT_PPSE, &mut resp),
        Err(ReaderError::IsoDep(IsoDepError::Transmission))
    ));
}

#[test]
fn mute_card_times_out() {
    let mut r = reader(
        vec![Card::type_a(&[1, 2, 3, 4], Picc::new(250, false))],
        false,
    );
    assert!(matches!(r.poll().unwrap(), PollOutcome::Activated(_)));
    let before = r.frontend().frames;
    r.frontend().faults = vec![Fault::LoseCommand; 10].into();
    let mut resp = [0u8; 258];
    assert!(matches!(
        r.exchange(SELECT_PPSE, &mut resp),
        Err(ReaderError::IsoDep(IsoDepError::Timeout))
    ));
    assert_eq!(
        r.frontend().frames - before,
        1 + usize::from(EMV_MAX_RETRIES)
    );
    // The link is dropped after the error.
    assert!(!r.is_activated());
}

/// Drives the sans-IO engine directly against the PICC model with injected faults.
/// Returns the outcome and the number of frames sent.
fn run_engine(
    fsc: u16,
    picc_chunk: usize,
    wtx: bool,
    command: &[u8],
    faults: &[Fault],
) -> (Result<Vec<u8>, IsoDepError>, usize) {
    let mut engine = IsoDep::new(IsoDepParams {
        fsc,
        ..IsoDepParams::EMV_DEFAULT
    });
    let mut picc = Picc::new(picc_chunk, wtx);
    let mut faults = faults.iter().copied();
    engine.start(command).unwrap();
    let mut buf = [0u8; MAX_FRAME_LEN];
    let mut frames = 0;
    loop {
        if let Some(ev) = engine.poll_event() {
            return match ev {
                IsoDepEvent::Complete { len } => {
                    assert_eq!(engine.response().len(), len);
                    (Ok(engine.response().to_vec()), frames)
                }
                IsoDepEvent::Failed(e) => (Err(e), frames),
                IsoDepEvent::Deselected => panic!("unexpected deselect"),
            };
        }
        let n = engine.poll_transmit(&mut buf).expect("frame or event");
        let frame = &buf[..n];
        assert!(n <= usize::from(fsc) - 2, "frame within FSC");
        assert!(engine.poll_timeout().is_some());
        frames += 1;
        assert!(frames < 400, "unbounded exchange");
        let fault = faults.next().unwrap_or(Fault::None);
        let answer = match fault {
            Fault::LoseCommand | Fault::CorruptCommand => None,
            _ => picc.receive(frame),
        };
        match (answer, fault) {
            (None, _) | (Some(_), Fault::LoseAnswer) => engine.handle_timeout(),
            (Some(_), Fault::CorruptAnswer) => engine.handle_transmission_error(),
            (Some(a), _) => engine.handle_received(&a),
        }
    }
}

#[test]
fn engine_chaining_both_ways_fsc16() {
    let command: Vec<u8> = (0..40).collect();
    let (result, frames) = run_engine(16, 13, false, &command, &[]);
    assert_eq!(result.unwrap(), application(&command));
    // 40 bytes in 13-byte pieces: 4 I-blocks; 42-byte answer in 13-byte pieces: 4 blocks,
    // 3 of them acknowledged.
    assert_eq!(frames, 4 + 3);
}

fn fault() -> impl Strategy<Value = Fault> {
    prop_oneof![
        6 => Just(Fault::None),
        1 => Just(Fault::LoseCommand),
        1 => Just(Fault::CorruptCommand),
        1 => Just(Fault::LoseAnswer),
        1 => Just(Fault::CorruptAnswer),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Random loss/corruption: the exchange ends with exactly the card's R-APDU or with a
    /// transmission/time-out error, never a wrong APDU, never a panic, in bounded frames.
    #[test]
    fn faults_never_yield_a_wrong_apdu(
        fsc in prop_oneof![Just(16u16), Just(24), Just(64), Just(256)],
        chunk in 1usize..60,
        wtx in any::<bool>(),
        command in proptest::collection::vec(any::<u8>(), 1..200),
        faults in proptest::collection::vec(fault(), 0..40),
    ) {
        let expected = application(&command);
        let (result, frames) = run_engine(fsc, chunk, wtx, &command, &faults);
        match result {
            Ok(r) => prop_assert_eq!(&r, &expected),
            Err(e) => prop_assert!(
                matches!(e, IsoDepError::Timeout | IsoDepError::Transmission),
                "{e:?}"
            ),
        }
        prop_assert!(frames <= command.len() + 2 * expected.len() + 4 + 3 * faults.len());
        if faults.iter().all(|f| *f == Fault::None) {
            prop_assert!(frames > 0);
        }
    }

    /// Garbage answers (valid CRC, random content) never panic and end in bounded steps.
    #[test]
    fn garbage_answers_never_panic(
        command in proptest::collection::vec(any::<u8>(), 1..40),
        garbage in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..20), 1..10),
    ) {
        let mut engine = IsoDep::new(IsoDepParams { fsc: 16, ..IsoDepParams::EMV_DEFAULT });
        engine.start(&command).unwrap();
        let mut buf = [0u8; MAX_FRAME_LEN];
        let mut picc = Picc::new(8, false);
        let mut garbage = garbage.into_iter();
        let mut steps = 0;
        loop {
            if let Some(ev) = engine.poll_event() {
                // A garbage I-block with the right number is what the card said: delivered as
                // is. Nothing else is checked but bounds.
                if let IsoDepEvent::Complete { len } = ev {
                    prop_assert!(len <= 258);
                }
                break;
            }
            let Some(n) = engine.poll_transmit(&mut buf) else { break };
            steps += 1;
            prop_assert!(steps < 200);
            match garbage.next() {
                Some(g) => engine.handle_received(&g),
                None => match picc.receive(&buf[..n]) {
                    Some(a) => engine.handle_received(&a),
                    None => engine.handle_timeout(),
                },
            }
        }
    }
}
