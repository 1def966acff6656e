//! Entry points shared by the `fuzz/` targets (cargo-fuzz, nightly) and the
//! ordinary tests that replay the committed seeds on stable. An invariant
//! violation is reported by `assert!` so the fuzzer records the input.

use crate::atr::{Atr, EmvCheckOptions, NegotiableTa1Policy, Tc1Policy, explain_with};

/// A `fmt::Write` sink that discards text.
struct Sink;

impl core::fmt::Write for Sink {
    fn write_str(&mut self, _s: &str) -> core::fmt::Result {
        Ok(())
    }
}

/// ATR: parse, check against the EMV rules with every option set, explain.
pub fn atr(data: &[u8]) {
    let Ok(atr) = Atr::parse(data) else {
        return;
    };
    assert_eq!(atr.raw(), data, "a parsed ATR spans the whole input");
    assert!(atr.historical_bytes().len() <= 15);
    for options in [
        EmvCheckOptions::COLD,
        EmvCheckOptions::WARM,
        EmvCheckOptions {
            tc1: Tc1Policy::Any,
            negotiable_ta1: NegotiableTa1Policy::FiNonZeroDiAtLeast3,
            cold_tb1_must_be_zero: false,
            reject_tb2: false,
            ..EmvCheckOptions::COLD
        },
    ] {
        let _ = atr.emv_check_with(&options);
        let _ = explain_with(&atr, &options, &mut Sink);
    }
}

// ---- Level-1 exchanges: T=0, T=1, ISO-DEP ----
//
// The card's side of one exchange comes from the input, after a few header
// bytes that choose the engine parameters, as a list of items:
//
// * `00`..=`FD` `n`: the next `n` bytes from the card (one call of
//   `handle_received`; one frame for ISO-DEP); a short last item takes what
//   is left;
// * `FE` ([`ITEM_TIMEOUT`]): the waiting time elapses (`handle_timeout`);
// * `FF` ([`ITEM_LINE_ERROR`]): a line error — a parity error on the next
//   bytes (T=1), a transmission error (ISO-DEP), an empty read (T=0).
//
// Once the items are used up the card is mute: every wait ends in a
// timeout. Invariants for every input: no panic; the exchange ends within
// (number of items + a small constant) waits, since each wait consumes an
// item or is a timeout and the engines bound their retries; what is
// delivered as the R-APDU was sent by the card (see each function). Each
// function returns the length of the (last) R-APDU when the exchange
// completed, for the seed replay's sanity checks.

use crate::atr::Edc;
use crate::iso14443::ats::FWT_MAX_US;
use crate::iso14443::block::Block as IsoBlock;
use crate::iso14443::isodep::{
    IsoDep, IsoDepError, IsoDepEvent, IsoDepParams, MAX_FRAME_LEN, MAX_RESPONSE_LEN as ISO_MAX_R,
};
use crate::t0::{T0, T0Config, T0Event};
use crate::t1::{
    Block as T1Block, BlockKind, EMV_IFSD, EMV_MIN_IFSC, MAX_BLOCK_LEN, MAX_IFS, MAX_INF,
    StartError, T1, T1Config, T1Error, T1Event, TimeoutPolicy, edc_len,
};

/// Item marker: the waiting time elapsed.
pub const ITEM_TIMEOUT: u8 = 0xFE;
/// Item marker: a line error (parity, CRC, collision).
pub const ITEM_LINE_ERROR: u8 = 0xFF;
/// Waits allowed after the items are used up: a mute card must make every
/// engine give up within its retry limits (at most 3 retries here, times the
/// RESYNCH attempts of T=1).
const MUTE_WAITS: usize = 64;

/// One thing the card does.
#[derive(Debug, Clone, Copy)]
enum Item<'a> {
    Bytes(&'a [u8]),
    Timeout,
    LineError,
}

/// The items of an input (see the comment above).
#[derive(Debug, Clone, Copy)]
struct Items<'a>(&'a [u8]);

impl<'a> Iterator for Items<'a> {
    type Item = Item<'a>;

    fn next(&mut self) -> Option<Item<'a>> {
        let (&head, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(match head {
            ITEM_TIMEOUT => Item::Timeout,
            ITEM_LINE_ERROR => Item::LineError,
            n => {
                let (bytes, rest) = rest.split_at(usize::from(n).min(rest.len()));
                self.0 = rest;
                Item::Bytes(bytes)
            }
        })
    }
}

/// Whether `needle` is a subsequence (in order, gaps allowed) of the bytes
/// the first `fed` items of `items` carried.
fn subsequence_of_items(needle: &[u8], items: Items<'_>, fed: usize) -> bool {
    let mut want = needle.iter().peekable();
    for item in items.take(fed) {
        if let Item::Bytes(bytes) = item {
            for b in bytes {
                if want.peek() == Some(&b) {
                    want.next();
                }
            }
        }
    }
    want.peek().is_none()
}

/// Offsets 0..=258 of a response reachable by concatenating pieces.
#[derive(Clone, Copy)]
struct Reach([u64; 5]);

impl Reach {
    fn start() -> Self {
        Self([1, 0, 0, 0, 0])
    }

    fn get(&self, i: usize) -> bool {
        self.0.get(i / 64).is_some_and(|w| w >> (i % 64) & 1 == 1)
    }

    fn set(&mut self, i: usize) {
        if let Some(w) = self.0.get_mut(i / 64) {
            *w |= 1 << (i % 64);
        }
    }

    /// One more piece, usable once, after the pieces so far.
    fn extend(&mut self, response: &[u8], piece: &[u8]) {
        if piece.is_empty() {
            return;
        }
        let mut next = *self;
        for o in 0..=response.len() {
            if self.get(o) && response.get(o..o + piece.len()) == Some(piece) {
                next.set(o + piece.len());
            }
        }
        *self = next;
    }
}

/// The command of the T=1 and ISO-DEP targets: `len` bytes of a pattern.
fn pattern_command(len: usize) -> ([u8; 261], usize) {
    let mut cmd = [0u8; 261];
    for (i, b) in cmd.iter_mut().enumerate() {
        *b = (i as u8) ^ 0x5A;
    }
    (cmd, len.min(261))
}

/// T=0 (ISO/IEC 7816-3 §10, EMV Book 1 §9.2.2): one C-APDU through
/// [`T0`], the card's procedure bytes, data and status words from the input.
///
/// Header (7 bytes): flags (b1 Annex A7 GET RESPONSE on warnings, b2 GET
/// RESPONSE CLA `80`, b3 a full 258-byte response buffer, b6–b4 transmit
/// chunk size − 1), the TPDU limit, the idle-procedure-byte limit, the
/// response buffer length (when b3 is clear), the APDU case (low 2 bits:
/// 1–4), P3 (Le or Lc), INS. Then items.
///
/// Invariants: an outcome within (items + 4) waits; every transmit chunk fits
/// the buffer and one TPDU at most is sent between two waits; a completed
/// R-APDU has SW1 SW2, fits the buffer and [`T0::response`] agrees with the
/// event; its data bytes, and its status word, are each a subsequence of the
/// bytes the card sent (the Annex A7 warning status is sent before the data,
/// hence two checks); the outcome is reported once and later card bytes
/// change nothing.
pub fn t0(data: &[u8]) -> Option<usize> {
    let (&head, rest) = data.split_first_chunk::<7>()?;
    let [flags, max_tpdus, max_idle, cap, case, p3, ins] = head;
    let config = T0Config {
        get_response_on_warning: flags & 1 != 0,
        get_response_cla: if flags & 2 != 0 { 0x80 } else { 0x00 },
        max_tpdus: u16::from(max_tpdus),
        max_idle_procedure_bytes: u32::from(max_idle),
        ..T0Config::EMV_DEFAULT
    };
    let mut cmd = [0u8; 261];
    let lc = p3.max(1);
    let cmd_len = match case & 3 {
        0 => 4,
        1 => 5,
        2 => 5 + usize::from(lc),
        _ => 6 + usize::from(lc),
    };
    for (i, b) in cmd.iter_mut().enumerate() {
        *b = i as u8;
    }
    cmd[..5].copy_from_slice(&[0x00, ins, 0x01, 0x02, if case & 3 == 1 { p3 } else { lc }]);
    if let Some(le) = cmd.get_mut(cmd_len - 1).filter(|_| case & 3 == 3) {
        *le = 0x00;
    }
    let buf_len = if flags & 4 != 0 {
        258
    } else {
        usize::from(cap)
    };
    let mut response = [0u8; 258];
    let command = cmd.get(..cmd_len)?;
    let response = response.get_mut(..buf_len)?;
    let Ok(mut t0) = T0::start(config, command, response) else {
        return None;
    };
    let mut tx_buf = [0u8; 8];
    let chunk = usize::from((flags >> 4) & 7) + 1;
    let tx = tx_buf.get_mut(..chunk).unwrap_or_default();
    let mut items = Items(rest);
    let mut fed = 0usize;
    let bound = rest.len() + 4;
    let mut waits = 0usize;
    let event = loop {
        let mut sent = 0usize;
        while let Some(n) = t0.poll_transmit(tx) {
            assert!((1..=chunk).contains(&n), "transmit chunk fits the buffer");
            sent += n;
            assert!(sent <= 5 + 255, "one TPDU at most between two waits");
        }
        if let Some(event) = t0.poll_event() {
            break event;
        }
        waits += 1;
        assert!(waits <= bound, "T=0 exchange does not end");
        match items.next() {
            Some(Item::Bytes(bytes)) => {
                fed += 1;
                t0.handle_received(bytes);
            }
            Some(Item::LineError) => {
                fed += 1;
                t0.handle_received(&[]);
            }
            Some(Item::Timeout) | None => {
                fed += 1;
                t0.handle_timeout();
            }
        }
    };
    assert!(t0.is_finished());
    let completed = match event {
        T0Event::Complete { len } => {
            let r = t0.response();
            assert_eq!(r.map(<[u8]>::len), Some(len), "response() agrees");
            let r = r.unwrap_or_default();
            assert!((2..=buf_len).contains(&len), "R-APDU fits and has SW1 SW2");
            let (body, sw) = r.split_at(len - 2);
            assert!(
                subsequence_of_items(body, Items(rest), fed),
                "response data the card did not send"
            );
            assert!(
                subsequence_of_items(sw, Items(rest), fed),
                "status word the card did not send"
            );
            Some(len)
        }
        T0Event::Failed(_) => {
            assert!(t0.response().is_none());
            None
        }
    };
    t0.handle_received(&[0x90, 0x00]);
    t0.handle_timeout();
    assert!(t0.poll_event().is_none(), "the outcome is reported once");
    completed
}

/// Whether `response` is a concatenation, in order, of the INF fields of
/// valid T=1 I-blocks found anywhere in `stream` (each used at most once).
fn t1_from_blocks(response: &[u8], stream: &[u8], edc: Edc) -> bool {
    let epilogue = edc_len(edc);
    let mut reach = Reach::start();
    for p in 0..stream.len() {
        let Some(&len) = stream.get(p + 2) else {
            break;
        };
        let Some(bytes) = stream.get(p..p + 3 + usize::from(len) + epilogue) else {
            continue;
        };
        if let Ok(T1Block {
            kind: BlockKind::I { inf, .. },
            ..
        }) = T1Block::decode(bytes, edc, MAX_INF as u8)
        {
            reach.extend(response, inf);
        }
    }
    reach.get(response.len())
}

/// The bytes the card sent during one T=1 exchange, kept for the oracle.
struct Stream {
    bytes: [u8; 8192],
    len: usize,
    overflow: bool,
}

impl Stream {
    fn push(&mut self, more: &[u8]) {
        match self.bytes.get_mut(self.len..self.len + more.len()) {
            Some(dst) => {
                dst.copy_from_slice(more);
                self.len += more.len();
            }
            None => self.overflow = true,
        }
    }
}

/// Runs the T=1 engine until it reports an event, feeding it items.
fn t1_run(t1: &mut T1, items: &mut Items<'_>, stream: &mut Stream, bound: usize) -> T1Event {
    let mut buf = [0u8; MAX_BLOCK_LEN];
    let edc = t1.config().edc;
    let mut waits = 0usize;
    loop {
        let mut blocks = 0;
        while let Some(n) = t1.poll_transmit(&mut buf) {
            blocks += 1;
            assert!(blocks <= 1, "one block at a time");
            let block = buf.get(..n).unwrap_or_default();
            let decoded = T1Block::decode(block, edc, MAX_IFS);
            assert!(decoded.is_ok(), "the terminal sends valid blocks");
            if let Ok(T1Block {
                kind: BlockKind::I { inf, .. },
                ..
            }) = decoded
            {
                assert!(inf.len() <= usize::from(t1.ifsc()), "I-block within IFSC");
            }
        }
        if let Some(event) = t1.poll_event() {
            return event;
        }
        assert!(t1.poll_timeout().is_some(), "waiting with no timeout armed");
        waits += 1;
        assert!(waits <= bound, "T=1 exchange does not end");
        match items.next() {
            Some(Item::Bytes(bytes)) => {
                stream.push(bytes);
                t1.handle_received(bytes);
            }
            Some(Item::LineError) => t1.handle_parity_error(),
            Some(Item::Timeout) | None => t1.handle_timeout(),
        }
    }
}

/// T=1 (ISO/IEC 7816-3 §11, EMV Book 1 §9.2.4): an optional S(IFS)
/// negotiation, then one or two C-APDUs through [`T1`], the card's blocks
/// from the input (in any chunking: the engine assembles blocks by LEN).
///
/// Header (5 bytes): IFSC (clamped to the minimum..=254), flags (b1 CRC, b2
/// RESYNCH, b3 deactivate on BWT timeout, b4 ISO minimum IFSC 1, b5 IFSD
/// negotiation first, b6 a second APDU, b7 five more command bytes),
/// retries (mod 4), IFSD (0 = 254), command length − 1. Then items.
///
/// Invariants: each step ends within (items + 64) waits; the terminal sends
/// one valid block at a time, its I-blocks within IFSC, and always arms a
/// timeout while waiting; a negotiated IFSD is the one asked for; a
/// completed response matches the event, is at most 258 bytes, and is the
/// INF fields of valid I-blocks the card sent, in order (the guarantee of
/// `hal/src/t1/mod.rs`, checked against every I-block framing in the
/// bytes); after an error that needs deactivation the engine is dead and
/// refuses new exchanges.
pub fn t1(data: &[u8]) -> Option<usize> {
    let (&head, rest) = data.split_first_chunk::<5>()?;
    let [ifsc, flags, retries, ifsd, cmd_len] = head;
    let min_ifsc = if flags & 8 != 0 { 1 } else { EMV_MIN_IFSC };
    let config = T1Config {
        ifsc: ifsc.clamp(min_ifsc, MAX_IFS),
        ifsd: if ifsd == 0 {
            EMV_IFSD
        } else {
            ifsd.min(MAX_IFS)
        },
        edc: if flags & 1 != 0 { Edc::Crc } else { Edc::Lrc },
        resynch: flags & 2 != 0,
        on_block_timeout: if flags & 4 != 0 {
            TimeoutPolicy::Deactivate
        } else {
            TimeoutPolicy::Recover
        },
        max_retries: retries % 4,
        min_ifsc,
        ..T1Config::emv(ifsc, 100, 10, 1)
    };
    let Ok(mut t1) = T1::new(config) else {
        return None;
    };
    let (cmd, len) =
        pattern_command(1 + usize::from(cmd_len) + if flags & 0x40 != 0 { 5 } else { 0 });
    let command = cmd.get(..len).unwrap_or_default();
    let mut items = Items(rest);
    let bound = rest.len() + MUTE_WAITS;
    let mut stream = Stream {
        bytes: [0; 8192],
        len: 0,
        overflow: false,
    };
    let check_error = |t1: &mut T1, e: T1Error| {
        if e.requires_deactivation() {
            assert!(t1.is_dead(), "dead after {e:?}");
            assert_eq!(t1.start(command), Err(StartError::Deactivated));
        } else {
            assert!(t1.is_idle(), "idle after {e:?}");
        }
    };
    if flags & 0x10 != 0 {
        assert!(t1.start_ifsd_negotiation().is_ok());
        match t1_run(&mut t1, &mut items, &mut stream, bound) {
            T1Event::IfsdNegotiated { ifsd } => {
                assert_eq!(ifsd, config.ifsd, "IFSD negotiated is the one asked for");
                assert_eq!(t1.ifsd(), ifsd);
            }
            T1Event::Error(e) => {
                check_error(&mut t1, e);
                return None;
            }
            other => unreachable!("{other:?} for S(IFS request)"),
        }
    }
    let exchanges = if flags & 0x20 != 0 { 2 } else { 1 };
    let mut completed = None;
    for _ in 0..exchanges {
        if !t1.is_idle() {
            return completed;
        }
        assert!(t1.start(command).is_ok());
        stream.len = 0;
        match t1_run(&mut t1, &mut items, &mut stream, bound) {
            T1Event::Complete { len } => {
                let r = t1.response().unwrap_or_default();
                assert_eq!(t1.response().map(<[u8]>::len), Some(len));
                assert!(len <= crate::t1::MAX_RESPONSE_LEN);
                if !stream.overflow {
                    let sent = stream.bytes.get(..stream.len).unwrap_or_default();
                    assert!(
                        t1_from_blocks(r, sent, config.edc),
                        "response not made of I-blocks the card sent"
                    );
                }
                completed = Some(len);
            }
            T1Event::Error(e) => {
                check_error(&mut t1, e);
                return None;
            }
            other => unreachable!("{other:?} for an APDU"),
        }
    }
    completed
}

/// Runs the ISO-DEP engine until it reports an event, feeding it items;
/// returns the event and the number of items used.
fn iso_dep_run(e: &mut IsoDep, items: &mut Items<'_>, bound: usize) -> (IsoDepEvent, usize) {
    let mut buf = [0u8; MAX_FRAME_LEN];
    let mut waits = 0usize;
    let mut fed = 0usize;
    loop {
        let mut frames = 0;
        while let Some(n) = e.poll_transmit(&mut buf) {
            frames += 1;
            assert!(frames <= 1, "one frame at a time");
            let frame = buf.get(..n).unwrap_or_default();
            assert!(IsoBlock::parse(frame).is_ok(), "the PCD sends valid blocks");
            assert!(
                n <= usize::from(e.params().fsc) - 2,
                "frame within FSC minus CRC"
            );
        }
        if let Some(event) = e.poll_event() {
            return (event, fed);
        }
        let timeout = e.poll_timeout();
        assert!(
            timeout.is_some_and(|t| t > 0 && t <= FWT_MAX_US),
            "waiting without a timeout within FWTmax"
        );
        waits += 1;
        assert!(waits <= bound, "ISO-DEP exchange does not end");
        fed += 1;
        match items.next() {
            Some(Item::Bytes(frame)) => e.handle_received(frame),
            Some(Item::LineError) => e.handle_transmission_error(),
            Some(Item::Timeout) | None => e.handle_timeout(),
        }
    }
}

/// ISO-DEP (ISO/IEC 14443-4 §7, EMV Book D): one C-APDU through [`IsoDep`],
/// each card frame (CRC removed) from the input, then optionally
/// S(DESELECT).
///
/// Header (6 bytes): FSC − 16, FSD − 16 (the engine clamps both to
/// 16..=256), FWI, flags (b1 CID = b8–b5, b2 NAD, b3 five more command
/// bytes, b4 DESELECT after a completed exchange), retries (mod 4), command
/// length − 1. Then items (one frame each).
///
/// Invariants: each step ends within (items + 64) waits; the PCD sends one
/// valid block at a time within FSC, and waits with a timeout in
/// 1..=FWTmax; a completed R-APDU matches the event, is at most 258 bytes and
/// is the INF fields of I-blocks the card sent, in order; after a failure
/// the link is closed and refuses new exchanges.
pub fn iso_dep(data: &[u8]) -> Option<usize> {
    let (&head, rest) = data.split_first_chunk::<6>()?;
    let [fsc, fsd, fwi, flags, retries, cmd_len] = head;
    let mut e = IsoDep::new(IsoDepParams {
        fsc: 16 + u16::from(fsc),
        fsd: 16 + u16::from(fsd),
        fwi,
        cid: (flags & 1 != 0).then_some(flags >> 4),
        nad: (flags & 2 != 0).then_some(0),
        max_retries: retries % 4,
    });
    let (cmd, len) = pattern_command(1 + usize::from(cmd_len) + if flags & 4 != 0 { 5 } else { 0 });
    let command = cmd.get(..len).unwrap_or_default();
    assert!(e.start(command).is_ok());
    let mut items = Items(rest);
    let bound = rest.len() + MUTE_WAITS;
    let (event, fed) = iso_dep_run(&mut e, &mut items, bound);
    match event {
        IsoDepEvent::Complete { len } => {
            let r = e.response();
            assert_eq!(r.len(), len, "response() agrees");
            assert!(len <= ISO_MAX_R);
            let mut reach = Reach::start();
            for item in Items(rest).take(fed) {
                if let Item::Bytes(frame) = item
                    && let Ok(IsoBlock::I { inf, .. }) = IsoBlock::parse(frame)
                {
                    reach.extend(r, inf);
                }
            }
            assert!(
                reach.get(r.len()),
                "response not made of I-blocks the card sent"
            );
            if flags & 8 != 0 {
                assert!(e.deselect().is_ok());
                let (event, _) = iso_dep_run(&mut e, &mut items, bound);
                assert!(
                    matches!(event, IsoDepEvent::Deselected | IsoDepEvent::Failed(_)),
                    "{event:?} for S(DESELECT)"
                );
                assert!(!e.is_active());
            }
            Some(len)
        }
        IsoDepEvent::Failed(_) => {
            assert!(!e.is_active());
            assert_eq!(e.start(command), Err(IsoDepError::NotActive));
            None
        }
        IsoDepEvent::Deselected => unreachable!("Deselected for an APDU"),
    }
}
