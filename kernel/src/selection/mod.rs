//! Application selection for the contact interface (EMV Book 1 §12), as a
//! sans-IO state machine: it writes the next C-APDU into the caller's
//! buffer, reads the R-APDU the caller got back, and reports events for the
//! decisions the terminal or cardholder must take.
//!
//! 1. **PSE** (§12.3.2): SELECT `1PAY.SYS.DDF01`; `6A81` ends the
//!    transaction (card blocked); any other failure falls back to the list
//!    of AIDs. READ RECORD of the directory SFI from record 1 until `6A83`;
//!    each `61` entry whose ADF name matches a terminal AID (exactly, or by
//!    prefix when the AID allows partial selection) becomes a candidate.
//!    An empty result falls back to the list of AIDs.
//! 2. **List of AIDs** (§12.3.3): SELECT each terminal AID; an exact match
//!    answering `9000` is a candidate (`6283`: blocked, skipped); a longer
//!    DF name is a candidate only if the AID allows partial selection, and
//!    then SELECT next (P2 `02`) finds the other matches.
//! 3. **Final selection** (§12.4): candidates in priority order; the
//!    terminal offers the list ([`Event::ChooseApplication`]) or takes the
//!    highest priority, asking for confirmation
//!    ([`Event::ConfirmApplication`]) when `87` b8 requires it; applications
//!    needing confirmation are dropped when the terminal cannot ask. The
//!    final SELECT must return `9000` and a DF name identical to the AID;
//!    otherwise the application is removed and selection resumes
//!    ([`Event::TryAgain`]). [`Selection::not_accepted`] does the same when
//!    GET PROCESSING OPTIONS answers `6985` (Book 3 §10.1).
//!
//! No heap: the candidate list and the selected FCI live in the struct.

pub mod candidate;
pub mod fci;

use self::candidate::{Bytes, Candidate, CandidateList, MAX_AID_LEN};
use self::fci::{Fci, directory_entries};
use crate::wire::apdu::commands::{self, Occurrence};
use crate::wire::apdu::{Encoding, ResponseApdu};

/// The PSE's DF name.
pub const PSE: &[u8] = b"1PAY.SYS.DDF01";
/// Longest FCI kept from the final SELECT.
pub const MAX_FCI_LEN: usize = 256;
/// Directory records read at most (guards against a card that never
/// answers `6A83`).
pub const MAX_DIRECTORY_RECORDS: u8 = 32;

/// A terminal-supported AID and its Application Selection Indicator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TerminalAid<'a> {
    /// The AID.
    pub aid: &'a [u8],
    /// ASI: the card's DF name may be longer than `aid` (partial selection).
    pub partial_selection: bool,
}

/// What the terminal can do during selection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// Try the PSE first.
    pub use_pse: bool,
    /// The terminal can show the candidate list and let the cardholder
    /// choose.
    pub cardholder_selection: bool,
    /// The terminal can ask the cardholder to confirm an application.
    pub cardholder_confirmation: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            use_pse: true,
            cardholder_selection: true,
            cardholder_confirmation: true,
        }
    }
}

/// What selection asks of the terminal, or how it ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// Show [`Selection::candidates`] and call [`Selection::choose`].
    ChooseApplication,
    /// Ask the cardholder to confirm candidate `index`; call
    /// [`Selection::confirm`].
    ConfirmApplication {
        /// Index in [`Selection::candidates`].
        index: usize,
    },
    /// Book 4 message `13` "Try again": the chosen application could not be
    /// used; selection goes on with the others.
    TryAgain,
    /// Selection succeeded: [`Selection::selected`] and
    /// [`Selection::fci`] hold the result.
    Selected,
    /// No application can be used: "Not accepted" (Book 4 message `0C`).
    NotAccepted,
    /// The card answered `6A81` to SELECT: card blocked or SELECT not
    /// supported; the transaction ends.
    CardBlocked,
}

/// Misuse of the state machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SelectionError {
    /// A response arrived while no command was outstanding.
    UnexpectedResponse,
    /// A choice or confirmation arrived that was not asked for, or an index
    /// out of range.
    UnexpectedInput,
    /// The caller's buffer is too small for the command.
    BufferTooSmall,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    SelectPse,
    ReadDirectory {
        sfi: u8,
        record: u8,
    },
    /// `nexts`: SELECT next commands sent for this AID so far.
    SelectAid {
        index: usize,
        next: bool,
        nexts: usize,
    },
    Decide,
    AwaitChoice,
    AwaitConfirm {
        index: usize,
    },
    FinalSelect {
        index: usize,
    },
    Done,
}

/// The selection state machine. See the module documentation for the flow
/// and call order: loop over [`poll_transmit`](Self::poll_transmit) /
/// [`handle_response`](Self::handle_response) and
/// [`poll_event`](Self::poll_event) until [`Event::Selected`],
/// [`Event::NotAccepted`] or [`Event::CardBlocked`].
#[derive(Clone, Debug)]
pub struct Selection<'a> {
    aids: &'a [TerminalAid<'a>],
    options: Options,
    state: State,
    awaiting: bool,
    candidates: CandidateList,
    selected: Option<Candidate>,
    fci: [u8; MAX_FCI_LEN],
    fci_len: usize,
    events: [Option<Event>; 4],
}

impl<'a> Selection<'a> {
    /// Starts selection over the terminal's AID list.
    #[must_use]
    #[inline]
    pub fn new(aids: &'a [TerminalAid<'a>], options: Options) -> Self {
        Self {
            aids,
            options,
            state: Self::first_state(options),
            awaiting: false,
            candidates: CandidateList::default(),
            selected: None,
            fci: [0; MAX_FCI_LEN],
            fci_len: 0,
            events: [None; 4],
        }
    }

    /// Starts selection again, in place: the same as [`Selection::new`]
    /// without a second selection on the stack.
    pub fn reset(&mut self, aids: &'a [TerminalAid<'a>], options: Options) {
        self.aids = aids;
        self.options = options;
        self.state = Self::first_state(options);
        self.awaiting = false;
        self.candidates.clear();
        self.selected = None;
        self.fci_len = 0;
        self.events = [None; 4];
    }

    const fn first_state(options: Options) -> State {
        if options.use_pse {
            State::SelectPse
        } else {
            State::SelectAid {
                index: 0,
                next: false,
                nexts: 0,
            }
        }
    }

    /// The candidate list, in priority order once built.
    #[must_use]
    pub fn candidates(&self) -> &[Candidate] {
        self.candidates.as_slice()
    }

    /// The selected application, after [`Event::Selected`].
    #[must_use]
    pub fn selected(&self) -> Option<&Candidate> {
        self.selected.as_ref()
    }

    /// The FCI of the selected application (response data of the final
    /// SELECT), after [`Event::Selected`].
    #[must_use]
    pub fn fci(&self) -> &[u8] {
        self.fci.get(..self.fci_len).unwrap_or_default()
    }

    fn push_event(&mut self, e: Event) {
        if let Some(slot) = self.events.iter_mut().find(|s| s.is_none()) {
            *slot = Some(e);
        }
    }

    /// The next event, oldest first.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        let first = self.events.first_mut()?.take();
        self.events.rotate_left(1);
        first
    }

    /// Writes the next command into `buf` and returns its length, or `None`
    /// when selection waits for an event to be answered or has ended.
    pub fn poll_transmit(&mut self, buf: &mut [u8]) -> Result<Option<usize>, SelectionError> {
        self.advance();
        if self.awaiting {
            return Ok(None);
        }
        let command = match self.state {
            State::SelectPse => commands::select(PSE, Occurrence::First),
            State::ReadDirectory { sfi, record } => {
                commands::read_record(sfi, record).ok_or(SelectionError::UnexpectedInput)?
            }
            State::SelectAid { index, next, .. } => {
                let Some(aid) = self.aids.get(index) else {
                    return Ok(None);
                };
                let occurrence = if next {
                    Occurrence::Next
                } else {
                    Occurrence::First
                };
                commands::select(aid.aid, occurrence)
            }
            State::FinalSelect { index } => {
                let Some(c) = self.candidates.as_slice().get(index) else {
                    return Ok(None);
                };
                let n = commands::select(c.aid.as_slice(), Occurrence::First)
                    .emit(buf, Encoding::Short)
                    .map_err(|_| SelectionError::BufferTooSmall)?;
                self.awaiting = true;
                return Ok(Some(n));
            }
            State::Decide | State::AwaitChoice | State::AwaitConfirm { .. } | State::Done => {
                return Ok(None);
            }
        };
        let n = command
            .emit(buf, Encoding::Short)
            .map_err(|_| SelectionError::BufferTooSmall)?;
        self.awaiting = true;
        Ok(Some(n))
    }

    fn matching_aid(&self, df_name: &[u8]) -> Option<usize> {
        self.aids.iter().position(|t| {
            df_name == t.aid
                || (t.partial_selection
                    && df_name.len() > t.aid.len()
                    && df_name.starts_with(t.aid))
        })
    }

    fn add(
        &mut self,
        df_name: &[u8],
        label: &[u8],
        preferred: &[u8],
        priority: Option<u8>,
        terminal_aid: usize,
    ) {
        let Some(aid) = Bytes::<MAX_AID_LEN>::new(df_name) else {
            return;
        };
        // A full list ignores further matches (documented capacity).
        let _ = self.candidates.push(Candidate {
            aid,
            label: Bytes::truncated(label),
            preferred_name: Bytes::truncated(preferred),
            priority_indicator: priority,
            terminal_aid,
        });
    }

    /// Feeds the R-APDU (data and SW1 SW2) of the last command.
    pub fn handle_response(&mut self, response: &[u8]) -> Result<(), SelectionError> {
        if !self.awaiting {
            return Err(SelectionError::UnexpectedResponse);
        }
        self.awaiting = false;
        let (data, sw) = match ResponseApdu::parse(response) {
            Ok(r) => (r.data, r.sw.value()),
            // Fewer than two bytes: treat as a failed command.
            Err(_) => (&[][..], 0x6F00),
        };
        match self.state {
            State::SelectPse => {
                self.state = match (sw, Fci::parse(data).and_then(|f| f.directory_sfi())) {
                    (0x6A81, _) => {
                        self.push_event(Event::CardBlocked);
                        State::Done
                    }
                    (0x9000, Some(sfi)) => State::ReadDirectory { sfi, record: 1 },
                    _ => State::SelectAid {
                        index: 0,
                        next: false,
                        nexts: 0,
                    },
                };
            }
            State::ReadDirectory { sfi, record } => {
                if sw == 0x9000 {
                    for e in directory_entries(data) {
                        if let Some(t) = self.matching_aid(e.aid) {
                            self.add(e.aid, e.label, e.preferred_name, e.priority_indicator, t);
                        }
                    }
                }
                // Other status words: ignore that record (§12.3.2 step 2).
                let more = sw != 0x6A83 && record < MAX_DIRECTORY_RECORDS;
                self.state = if more {
                    State::ReadDirectory {
                        sfi,
                        record: record + 1,
                    }
                } else if self.candidates.is_empty() {
                    State::SelectAid {
                        index: 0,
                        next: false,
                        nexts: 0,
                    }
                } else {
                    State::Decide
                };
            }
            State::SelectAid { index, next, nexts } => {
                if sw == 0x6A81 {
                    self.push_event(Event::CardBlocked);
                    self.state = State::Done;
                    return Ok(());
                }
                let Some(t) = self.aids.get(index).copied() else {
                    self.state = State::Decide;
                    return Ok(());
                };
                let next_aid = State::SelectAid {
                    index: index + 1,
                    next: false,
                    nexts: 0,
                };
                let fci = Fci::parse(data).filter(|_| matches!(sw, 0x9000 | 0x6283));
                let matches = fci.is_some_and(|f| {
                    f.df_name == t.aid
                        || (t.partial_selection
                            && f.df_name.len() > t.aid.len()
                            && f.df_name.starts_with(t.aid))
                });
                // A card that answers SELECT next with a name it already gave
                // would keep the terminal looping: stop walking this AID.
                let repeated = next
                    && fci.is_some_and(|f| {
                        self.candidates
                            .as_slice()
                            .iter()
                            .any(|c| c.aid.as_slice() == f.df_name)
                    });
                self.state = match fci {
                    Some(f) if matches && !repeated => {
                        if sw == 0x9000 {
                            let label = f.get(0x50).unwrap_or_default();
                            let preferred = f.get(0x9F12).unwrap_or_default();
                            let priority = f.get(0x87).and_then(|p| p.first().copied());
                            self.add(f.df_name, label, preferred, priority, index);
                        }
                        // With partial selection, SELECT next finds the other
                        // names sharing the prefix (an exact match included).
                        if t.partial_selection && nexts < candidate::MAX_CANDIDATES {
                            State::SelectAid {
                                index,
                                next: true,
                                nexts: nexts + 1,
                            }
                        } else {
                            next_aid
                        }
                    }
                    _ => next_aid,
                };
            }
            State::FinalSelect { index } => {
                let expected = self.candidates.as_slice().get(index).map(|c| c.aid);
                let ok = sw == 0x9000
                    && Fci::parse(data)
                        .is_some_and(|f| expected.is_some_and(|a| a.as_slice() == f.df_name))
                    && data.len() <= MAX_FCI_LEN;
                if ok {
                    if let Some(dst) = self.fci.get_mut(..data.len()) {
                        dst.copy_from_slice(data);
                        self.fci_len = data.len();
                    }
                    self.selected = self.candidates.as_slice().get(index).copied();
                    self.state = State::Done;
                    self.push_event(Event::Selected);
                } else {
                    self.candidates.remove(index);
                    self.push_event(Event::TryAgain);
                    self.state = State::Decide;
                }
            }
            State::Decide | State::AwaitChoice | State::AwaitConfirm { .. } | State::Done => {
                return Err(SelectionError::UnexpectedResponse);
            }
        }
        Ok(())
    }

    /// Moves past states that need no card exchange.
    fn advance(&mut self) {
        if let State::SelectAid { index, .. } = self.state
            && index >= self.aids.len()
        {
            self.state = State::Decide;
        }
        if self.state != State::Decide {
            return;
        }
        self.candidates.sort_by_priority();
        let can_confirm = self.options.cardholder_confirmation || self.options.cardholder_selection;
        if !can_confirm {
            // §12.4: without a way to confirm, such applications are out.
            self.candidates.retain(|c| !c.needs_confirmation());
        }
        if self.candidates.is_empty() {
            self.push_event(Event::NotAccepted);
            self.state = State::Done;
            return;
        }
        let several = self.candidates.len() > 1;
        if self.options.cardholder_selection && several {
            self.state = State::AwaitChoice;
            self.push_event(Event::ChooseApplication);
        } else if self
            .candidates
            .as_slice()
            .first()
            .is_some_and(Candidate::needs_confirmation)
        {
            self.state = State::AwaitConfirm { index: 0 };
            self.push_event(Event::ConfirmApplication { index: 0 });
        } else {
            self.state = State::FinalSelect { index: 0 };
        }
    }

    /// The cardholder chose candidate `index` (after
    /// [`Event::ChooseApplication`]); choosing is confirming.
    pub fn choose(&mut self, index: usize) -> Result<(), SelectionError> {
        if self.state != State::AwaitChoice || index >= self.candidates.len() {
            return Err(SelectionError::UnexpectedInput);
        }
        self.state = State::FinalSelect { index };
        Ok(())
    }

    /// The cardholder accepted or refused candidate `index` (after
    /// [`Event::ConfirmApplication`]). A refusal removes it.
    pub fn confirm(&mut self, accepted: bool) -> Result<(), SelectionError> {
        let State::AwaitConfirm { index } = self.state else {
            return Err(SelectionError::UnexpectedInput);
        };
        if accepted {
            self.state = State::FinalSelect { index };
        } else {
            self.candidates.remove(index);
            self.state = State::Decide;
        }
        Ok(())
    }

    /// GET PROCESSING OPTIONS answered `6985` (Book 3 §10.1): the selected
    /// application is removed and selection resumes with the others.
    pub fn not_accepted(&mut self) -> Result<(), SelectionError> {
        let Some(sel) = self.selected.take() else {
            return Err(SelectionError::UnexpectedInput);
        };
        self.candidates.retain(|c| c.aid != sel.aid);
        self.fci_len = 0;
        self.push_event(Event::TryAgain);
        self.state = State::Decide;
        Ok(())
    }
}
