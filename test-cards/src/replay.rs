//! A card that replays a recorded [`Trace`]: each command gets the response
//! the real card gave to the matching recorded command.
//!
//! Matching looks at the exchanges not yet consumed, in trace order, and
//! skips those without a recorded response:
//!
//! - [`MatchMode::Strict`]: the whole command must equal the recorded one
//!   byte for byte (as the upstream k2-k3 mock card does).
//! - [`MatchMode::Lenient`]: the first unconsumed exchange with exactly the
//!   same command if there is one, else the first whose header `CLA INS P1
//!   P2` matches — except for SELECT, whose answer belongs to the DF name:
//!   a SELECT matches only an identical one. Lets a kernel whose command data differ from the
//!   recording (another unpredictable number, amount or date in GPO or
//!   GENERATE AC) replay it, while a SELECT of one AID still finds the
//!   response recorded for that AID when the trace selects several.
//!
//! A matched exchange is consumed: it answers once. A command that matches
//! nothing gets the status word `6D00` (instruction not supported; set
//! another with [`ReplayCard::with_unmatched_status`]) and is kept in
//! [`ReplayCard::unmatched`] so a test can report it. Power cycles and
//! resets do not rewind the trace ([`ReplayCard::rewind`] does).

use crate::card::{Card, Reply};
use crate::trace::{Exchange, Trace};

/// The default ATR: `3B 60 00 00`, direct convention, T=0 only, TB1 = 0
/// (no programming voltage) and TC1 = 0 (no extra guard time), the minimal
/// ATR EMV Book 1 §8.3 accepts.
pub const DEFAULT_ATR: [u8; 4] = [0x3B, 0x60, 0x00, 0x00];

/// How recorded commands are matched (see the module documentation).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum MatchMode {
    /// Prefer an identical command, accept one with the same header.
    #[default]
    Lenient,
    /// Only an identical command.
    Strict,
}

/// A [`Card`] answering from a recorded trace.
#[derive(Debug, Clone)]
pub struct ReplayCard {
    trace: Trace,
    mode: MatchMode,
    atr: Vec<u8>,
    consumed: Vec<bool>,
    unmatched: Vec<Vec<u8>>,
    unmatched_status: u16,
}

impl ReplayCard {
    /// A lenient replay of `trace` with the [`DEFAULT_ATR`].
    #[must_use]
    pub fn new(trace: Trace) -> Self {
        let consumed = vec![false; trace.exchanges.len()];
        Self {
            trace,
            mode: MatchMode::Lenient,
            atr: DEFAULT_ATR.to_vec(),
            consumed,
            unmatched: Vec::new(),
            unmatched_status: 0x6D00,
        }
    }

    /// A strict replay of `trace`.
    #[must_use]
    pub fn strict(trace: Trace) -> Self {
        Self::new(trace).with_mode(MatchMode::Strict)
    }

    /// The same card matching in `mode`.
    #[must_use]
    pub fn with_mode(mut self, mode: MatchMode) -> Self {
        self.mode = mode;
        self
    }

    /// The same card answering reset with `atr`.
    #[must_use]
    pub fn with_atr(mut self, atr: impl Into<Vec<u8>>) -> Self {
        self.atr = atr.into();
        self
    }

    /// The same card answering unmatched commands with `sw` instead of
    /// `6D00` (the k2-k3 mocks use `6700`).
    #[must_use]
    pub fn with_unmatched_status(mut self, sw: u16) -> Self {
        self.unmatched_status = sw;
        self
    }

    /// The trace being replayed.
    #[must_use]
    pub fn trace(&self) -> &Trace {
        &self.trace
    }

    /// The matching mode.
    #[must_use]
    pub fn mode(&self) -> MatchMode {
        self.mode
    }

    /// The exchanges that have answered a command, in trace order.
    #[must_use]
    pub fn consumed(&self) -> Vec<&Exchange> {
        self.exchanges_where(true)
    }

    /// The exchanges with a recorded response that have not answered yet,
    /// in trace order (exchanges without a response never answer and are
    /// not listed).
    #[must_use]
    pub fn remaining(&self) -> Vec<&Exchange> {
        self.exchanges_where(false)
            .into_iter()
            .filter(|e| e.response.is_some())
            .collect()
    }

    /// The commands that matched no exchange, in the order received.
    #[must_use]
    pub fn unmatched(&self) -> &[Vec<u8>] {
        &self.unmatched
    }

    /// Starts the replay over: every exchange unconsumed, no unmatched
    /// commands.
    pub fn rewind(&mut self) {
        self.consumed.iter_mut().for_each(|c| *c = false);
        self.unmatched.clear();
    }

    fn exchanges_where(&self, consumed: bool) -> Vec<&Exchange> {
        self.trace
            .exchanges
            .iter()
            .zip(&self.consumed)
            .filter(|(_, c)| **c == consumed)
            .map(|(e, _)| e)
            .collect()
    }

    /// Index of the exchange answering `command`, if any.
    fn find(&self, command: &[u8]) -> Option<usize> {
        let candidates = || {
            self.trace
                .exchanges
                .iter()
                .zip(&self.consumed)
                .enumerate()
                .filter(|(_, (e, c))| !**c && e.response.is_some())
                .map(|(i, (e, _))| (i, e))
        };
        let exact = candidates().find(|(_, e)| e.command == command);
        match (exact, self.mode) {
            (Some((i, _)), _) => Some(i),
            (None, MatchMode::Strict) => None,
            // A SELECT's answer belongs to the DF name it selected: only
            // an identical SELECT matches, even leniently.
            (None, MatchMode::Lenient) if command.get(1) == Some(&0xA4) => None,
            (None, MatchMode::Lenient) => {
                let header = command.get(..4)?;
                candidates()
                    .find(|(_, e)| e.command.get(..4) == Some(header))
                    .map(|(i, _)| i)
            }
        }
    }
}

impl Card for ReplayCard {
    fn atr(&self) -> Vec<u8> {
        self.atr.clone()
    }

    fn power_on(&mut self) {}

    fn power_off(&mut self) {}

    fn transmit(&mut self, command: &[u8]) -> Reply {
        let found = self.find(command).and_then(|i| {
            let response = self.trace.exchanges.get(i)?.response.clone()?;
            *self.consumed.get_mut(i)? = true;
            Some(response)
        });
        match found {
            Some(response) => Reply::Response(response),
            None => {
                self.unmatched.push(command.to_vec());
                Reply::Response(self.unmatched_status.to_be_bytes().to_vec())
            }
        }
    }
}
