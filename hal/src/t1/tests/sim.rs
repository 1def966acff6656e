//! A simulated T=1 card (the card side of ISO/IEC 7816-3 §11.6) and a lossy line between it and
//! the engine, for the scenario tests and the property test.

extern crate std;

use std::boxed::Box;
use std::collections::VecDeque;
use std::vec;
use std::vec::Vec;

use super::super::*;
use crate::atr::Edc;

/// What the card sent last, for its own retransmissions (rules 7.1–7.3, card side).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Last {
    None,
    I { ns: bool, more: bool },
    R,
    SReq(SBlock),
    SResp,
}

pub(super) type Responder = Box<dyn FnMut(&[u8]) -> Vec<u8>>;

/// A card that follows the ISO T=1 rules (card side).
pub(super) struct SimCard {
    edc: Edc,
    initial_ifsc: u8,
    /// The card's IFSC: the largest INF it accepts.
    pub ifsc: u8,
    /// The terminal's IFSD: the largest INF the card sends.
    pub ifsd: u8,
    ns_next: bool,
    nr: bool,
    cmd: Vec<u8>,
    resp: Vec<u8>,
    resp_off: usize,
    resp_chunk: usize,
    last: Vec<u8>,
    last_kind: Last,
    pre: VecDeque<SBlock>,
    /// S requests the card sends before the response to command `i` (index = command number).
    pub script: Vec<Vec<SBlock>>,
    responder: Responder,
    /// Every complete command received.
    pub commands: Vec<Vec<u8>>,
    /// Never answer.
    pub silent: bool,
    /// Blocks received (valid or not).
    pub received: usize,
}

impl SimCard {
    pub(super) fn new(ifsc: u8, responder: Responder) -> Self {
        Self {
            edc: Edc::Lrc,
            initial_ifsc: ifsc,
            ifsc,
            ifsd: 32,
            ns_next: false,
            nr: false,
            cmd: Vec::new(),
            resp: Vec::new(),
            resp_off: 0,
            resp_chunk: 0,
            last: Vec::new(),
            last_kind: Last::None,
            pre: VecDeque::new(),
            script: Vec::new(),
            responder,
            commands: Vec::new(),
            silent: false,
            received: 0,
        }
    }

    fn send(&mut self, kind: BlockKind<'_>, last: Last) -> Vec<u8> {
        let mut buf = [0u8; MAX_BLOCK_LEN];
        let n = Block { nad: 0, kind }.encode(self.edc, &mut buf).unwrap();
        self.last = buf[..n].to_vec();
        self.last_kind = last;
        self.last.clone()
    }

    fn send_r(&mut self, code: RCode) -> Vec<u8> {
        self.send(BlockKind::R { nr: self.nr, code }, Last::R)
    }

    fn resend(&mut self) -> Vec<u8> {
        self.last.clone()
    }

    fn on_invalid(&mut self, code: RCode) -> Vec<u8> {
        match self.last_kind {
            // Rule 7.3: a pending S(… request) is repeated.
            Last::SReq(_) => self.resend(),
            _ => self.send_r(code),
        }
    }

    fn send_chunk(&mut self) -> Vec<u8> {
        let remaining = self.resp.len() - self.resp_off;
        let ifsd = usize::from(self.ifsd);
        self.resp_chunk = remaining.min(ifsd);
        let more = remaining > ifsd;
        let ns = self.ns_next;
        self.ns_next = !ns;
        let inf = self.resp[self.resp_off..self.resp_off + self.resp_chunk].to_vec();
        self.send(
            BlockKind::I {
                ns,
                more,
                inf: &inf,
            },
            Last::I { ns, more },
        )
    }

    fn next_response_step(&mut self) -> Vec<u8> {
        if let Some(s) = self.pre.pop_front() {
            self.send(BlockKind::S(s), Last::SReq(s))
        } else {
            self.send_chunk()
        }
    }

    /// The card's answer to one block from the terminal, or `None` if it stays silent.
    pub(super) fn receive(&mut self, bytes: &[u8]) -> Option<Vec<u8>> {
        self.received += 1;
        if self.silent {
            return None;
        }
        let block = match Block::decode(bytes, self.edc, self.ifsc) {
            Ok(b) if b.nad == 0 => b,
            Ok(_) => return Some(self.on_invalid(RCode::Other)),
            Err(e) => {
                let code = if e.is_edc() {
                    RCode::EdcOrParity
                } else {
                    RCode::Other
                };
                return Some(self.on_invalid(code));
            }
        };
        Some(match block.kind {
            BlockKind::I { ns, more, inf } => {
                let busy = matches!(self.last_kind, Last::I { more: true, .. } | Last::SReq(_));
                if ns != self.nr || busy {
                    return Some(self.on_invalid(RCode::Other));
                }
                self.cmd.extend_from_slice(inf);
                self.nr = !self.nr;
                if more {
                    self.send_r(RCode::Ok)
                } else {
                    let cmd = core::mem::take(&mut self.cmd);
                    self.resp = (self.responder)(&cmd);
                    self.resp_off = 0;
                    let n = self.commands.len();
                    self.pre = self.script.get(n).cloned().unwrap_or_default().into();
                    self.commands.push(cmd);
                    self.next_response_step()
                }
            }
            BlockKind::R { nr, .. } => match self.last_kind {
                Last::I { ns, more } => {
                    if nr == ns {
                        self.resend()
                    } else if more {
                        self.resp_off += self.resp_chunk;
                        self.send_chunk()
                    } else {
                        self.send_r(RCode::Other)
                    }
                }
                Last::R | Last::SReq(_) => self.resend(),
                Last::None | Last::SResp => self.send_r(RCode::Other),
            },
            BlockKind::S(SBlock::IfsRequest(v)) => {
                self.ifsd = v;
                self.send(BlockKind::S(SBlock::IfsResponse(v)), Last::SResp)
            }
            BlockKind::S(SBlock::WtxResponse(m))
                if self.last_kind == Last::SReq(SBlock::WtxRequest(m)) =>
            {
                self.next_response_step()
            }
            BlockKind::S(SBlock::IfsResponse(v))
                if self.last_kind == Last::SReq(SBlock::IfsRequest(v)) =>
            {
                self.ifsc = v;
                self.next_response_step()
            }
            BlockKind::S(SBlock::ResynchRequest) => {
                self.ns_next = false;
                self.nr = false;
                self.ifsd = 32;
                self.ifsc = self.initial_ifsc;
                self.cmd.clear();
                self.pre.clear();
                self.send(BlockKind::S(SBlock::ResynchResponse), Last::SResp)
            }
            BlockKind::S(_) => self.on_invalid(RCode::Other),
        })
    }
}

/// What the line does to one block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Fate {
    Deliver,
    /// XOR the byte at `pos % len` with `xor` (non-zero).
    Corrupt {
        pos: usize,
        xor: u8,
    },
    Drop,
}

/// The outcome of one exchange driven through [`run`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Outcome {
    Ifsd(u8),
    Response(Vec<u8>),
    Error(T1Error),
}

/// A trace of everything the terminal sent, for assertions on exact frames.
pub(super) struct Line {
    /// Fates for terminal → card blocks, consumed in order (then `Deliver`).
    pub to_card: VecDeque<Fate>,
    /// Fates for card → terminal blocks.
    pub to_terminal: VecDeque<Fate>,
    /// Chunk size for delivering card blocks (0 = whole block at once).
    pub chunk: usize,
    /// Every block the terminal sent.
    pub sent: Vec<Vec<u8>>,
    /// Every timeout the harness signalled.
    pub timeouts: usize,
}

impl Line {
    pub(super) fn perfect() -> Self {
        Self {
            to_card: VecDeque::new(),
            to_terminal: VecDeque::new(),
            chunk: 0,
            sent: Vec::new(),
            timeouts: 0,
        }
    }

    fn apply(fate: Fate, mut bytes: Vec<u8>) -> Option<Vec<u8>> {
        match fate {
            Fate::Deliver => Some(bytes),
            Fate::Drop => None,
            Fate::Corrupt { pos, xor } => {
                let i = pos % bytes.len();
                bytes[i] ^= xor;
                Some(bytes)
            }
        }
    }

    /// Drive the engine until it reports an event; panics if that takes more than `max_steps`
    /// terminal transmissions or if the engine stalls.
    pub(super) fn run(&mut self, t1: &mut T1, card: &mut SimCard, max_steps: usize) -> Outcome {
        let mut buf = [0u8; MAX_BLOCK_LEN];
        let mut steps = 0;
        loop {
            if let Some(ev) = t1.poll_event() {
                assert!(
                    t1.poll_transmit(&mut buf).is_none(),
                    "transmit after the event"
                );
                return match ev {
                    T1Event::IfsdNegotiated { ifsd } => Outcome::Ifsd(ifsd),
                    T1Event::Complete { len } => {
                        let r = t1.response().unwrap().to_vec();
                        assert_eq!(r.len(), len);
                        Outcome::Response(r)
                    }
                    T1Event::Error(e) => Outcome::Error(e),
                };
            }
            if let Some(n) = t1.poll_transmit(&mut buf) {
                steps += 1;
                assert!(steps <= max_steps, "no event after {max_steps} blocks");
                let block = buf[..n].to_vec();
                self.sent.push(block.clone());
                let fate = self.to_card.pop_front().unwrap_or(Fate::Deliver);
                let reply = Self::apply(fate, block).and_then(|b| card.receive(&b));
                if let Some(reply) = reply {
                    let fate = self.to_terminal.pop_front().unwrap_or(Fate::Deliver);
                    if let Some(bytes) = Self::apply(fate, reply) {
                        if self.chunk == 0 {
                            t1.handle_received(&bytes);
                        } else {
                            for c in bytes.chunks(self.chunk) {
                                t1.handle_received(c);
                            }
                        }
                    }
                }
                continue;
            }
            assert!(
                t1.poll_timeout().is_some(),
                "engine neither transmits, reports nor waits"
            );
            self.timeouts += 1;
            t1.handle_timeout();
        }
    }
}

/// A deterministic response for a command: `len` bytes derived from the command, then 90 00.
pub(super) fn response_for(cmd: &[u8], len: usize) -> Vec<u8> {
    let seed = cmd
        .iter()
        .fold(0u8, |a, &b| a.wrapping_mul(31).wrapping_add(b));
    let mut r: Vec<u8> = (0..len).map(|i| seed.wrapping_add(i as u8)).collect();
    r.extend([0x90, 0x00]);
    r
}

/// A card answering every command with `response_for(cmd, len)`.
pub(super) fn fixed_len_card(ifsc: u8, len: usize) -> SimCard {
    SimCard::new(ifsc, Box::new(move |cmd| response_for(cmd, len)))
}

/// A command APDU of `len` bytes (`len` ≥ 4).
pub(super) fn command(len: usize, tag: u8) -> Vec<u8> {
    let mut c = vec![0x80, 0xCA, tag, 0x00];
    c.extend((4..len).map(|i| (i as u8) ^ tag));
    c
}
