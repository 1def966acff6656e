//! [`PcscCard`]: a card connected through PC/SC, as an [`CardChannel`] and a contact slot.

use std::ffi::CString;
use std::time::{Duration, Instant};

use ::pcsc::{Context, Disposition, ReaderState, State};
use emv_hal::channel::CardChannel;
use emv_hal::slot::ContactSlot;

use super::{CardState, ConnectOptions, PcscError, Protocol, REMOVAL_SETTLE, WAIT_SLICE};

/// Which reset [`PcscCard::reset`] performs (ISO/IEC 7816-3 §6.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResetKind {
    /// Cold reset: power removed and reapplied (`SCARD_UNPOWER_CARD` disposition).
    Cold,
    /// Warm reset: RST toggled with power kept (`SCARD_RESET_CARD` disposition).
    Warm,
}

/// A card connected through PC/SC (`SCardConnect`, PC/SC Workgroup specification Part 5
/// §3.1.4) with T=0 or T=1.
///
/// * [`CardChannel`]: one `SCardTransmit` per exchange. `61xx` and `6Cxx` are returned as
///   the reader returns them; the terminal transport layer (EMV Book 1 §11.1.3,
///   `emv_terminal::driver`) handles them. See the [module docs](super).
/// * Contact slot: [`power_up`](Self::power_up) (cold reset, returns the ATR),
///   [`power_down`](Self::power_down), [`reset`](Self::reset),
///   [`is_present`](Self::is_present).
/// * [`transaction`](Self::transaction) locks the card against other applications for a
///   multi-command sequence (`SCardBeginTransaction`), as a whole EMV transaction should be
///   when the card is shared.
///
/// Dropping a `PcscCard` disconnects with `SCARD_RESET_CARD` (the `pcsc` crate's default).
pub struct PcscCard {
    ctx: Context,
    cname: CString,
    reader: String,
    card: Option<::pcsc::Card>,
    options: ConnectOptions,
    atr: Vec<u8>,
    protocol: Protocol,
    removed: bool,
}

impl std::fmt::Debug for PcscCard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PcscCard")
            .field("reader", &self.reader)
            .field("atr", &super::error::Hex(&self.atr).to_string())
            .field("protocol", &self.protocol)
            .field("options", &self.options)
            .field("powered", &self.card.is_some())
            .field("removed", &self.removed)
            .finish()
    }
}

impl PcscCard {
    /// Wraps a fresh connection and reads its ATR and protocol.
    pub(crate) fn new(
        ctx: Context,
        cname: CString,
        reader: String,
        card: ::pcsc::Card,
        options: ConnectOptions,
    ) -> Result<Self, PcscError> {
        let mut this = Self {
            ctx,
            cname,
            reader,
            card: Some(card),
            options,
            atr: Vec::new(),
            protocol: Protocol::T0,
            removed: false,
        };
        this.refresh_status()?;
        Ok(this)
    }

    /// The reader's name.
    #[must_use]
    pub fn reader(&self) -> &str {
        &self.reader
    }

    /// The card's Answer To Reset, from the last (re)connection.
    #[must_use]
    pub fn atr(&self) -> &[u8] {
        &self.atr
    }

    /// The protocol the reader runs with the card (from the last (re)connection).
    #[must_use]
    pub const fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// How the card was connected.
    #[must_use]
    pub const fn options(&self) -> ConnectOptions {
        self.options
    }

    /// Whether the card is powered (connected); false after [`power_down`](Self::power_down).
    #[must_use]
    pub const fn is_powered(&self) -> bool {
        self.card.is_some()
    }

    /// The underlying `pcsc` card, for operations this wrapper does not cover (`None` when
    /// powered down).
    #[must_use]
    pub const fn raw(&self) -> Option<&::pcsc::Card> {
        self.card.as_ref()
    }

    /// Sends one C-APDU and writes the R-APDU (data and SW1 SW2) into `response`; returns
    /// its length. `61xx`/`6Cxx` are **not** handled here (module docs).
    ///
    /// # Errors
    /// [`PcscError::CardRemoved`] (also for every later call), [`PcscError::CardMute`] (no
    /// status word), [`PcscError::CardReset`], [`PcscError::CardUnpowered`],
    /// [`PcscError::ResponseTooLong`] (the command has run), [`PcscError::NoService`],
    /// [`PcscError::Transport`].
    pub fn transmit(&mut self, command: &[u8], response: &mut [u8]) -> Result<usize, PcscError> {
        let Some(card) = self.card.as_ref() else {
            return Err(PcscError::CardUnpowered {
                reader: self.reader.clone(),
            });
        };
        let mut link = Link {
            ctx: &self.ctx,
            cname: &self.cname,
            reader: &self.reader,
            removed: &mut self.removed,
        };
        link.exchange(card, command, response)
    }

    /// Begins an exclusive transaction (`SCardBeginTransaction`, PC/SC Part 5 §3.1.4):
    /// until the returned guard is dropped or [`ended`](PcscTransaction::end), no other
    /// application can talk to the card. Exchanges go through the guard, which is a
    /// [`CardChannel`] too.
    ///
    /// # Errors
    /// [`PcscError::CardUnpowered`], [`PcscError::CardRemoved`], [`PcscError::CardReset`],
    /// [`PcscError::NoService`], [`PcscError::Transport`].
    pub fn transaction(&mut self) -> Result<PcscTransaction<'_>, PcscError> {
        let Self {
            ctx,
            cname,
            reader,
            card,
            removed,
            ..
        } = self;
        if *removed {
            return Err(PcscError::CardRemoved {
                reader: reader.clone(),
            });
        }
        let Some(card) = card.as_mut() else {
            return Err(PcscError::CardUnpowered {
                reader: reader.clone(),
            });
        };
        let tx = card
            .transaction()
            .map_err(|e| PcscError::from_pcsc("SCardBeginTransaction", Some(reader), e))?;
        Ok(PcscTransaction {
            tx,
            link: Link {
                ctx,
                cname,
                reader,
                removed,
            },
        })
    }

    /// Powers the card up and returns its ATR: a cold reset when it is powered, a new
    /// connection (with the original [`ConnectOptions`]) after
    /// [`power_down`](Self::power_down).
    ///
    /// # Errors
    /// [`PcscError::NoCard`], [`PcscError::CardMute`], [`PcscError::ProtocolMismatch`],
    /// [`PcscError::CardInUse`], [`PcscError::NoService`], [`PcscError::Transport`].
    pub fn power_up(&mut self) -> Result<Vec<u8>, PcscError> {
        if self.card.is_some() {
            return self.reset(ResetKind::Cold);
        }
        let card = self
            .ctx
            .connect(
                &self.cname,
                self.options.sharing.to_pcsc(),
                self.options.protocols.to_pcsc(),
            )
            .map_err(|e| self.connect_error("SCardConnect", e))?;
        self.card = Some(card);
        self.removed = false;
        self.refresh_status()?;
        Ok(self.atr.clone())
    }

    /// Resets the card (`SCardReconnect` with the `kind`'s disposition) and returns the new
    /// ATR. A removed card that was reinserted is usable again after this.
    ///
    /// # Errors
    /// As [`power_up`](Self::power_up); [`PcscError::CardUnpowered`] when powered down.
    pub fn reset(&mut self, kind: ResetKind) -> Result<Vec<u8>, PcscError> {
        let disposition = match kind {
            ResetKind::Cold => Disposition::UnpowerCard,
            ResetKind::Warm => Disposition::ResetCard,
        };
        let Some(card) = self.card.as_mut() else {
            return Err(PcscError::CardUnpowered {
                reader: self.reader.clone(),
            });
        };
        let result = card.reconnect(
            self.options.sharing.to_pcsc(),
            self.options.protocols.to_pcsc(),
            disposition,
        );
        result.map_err(|e| self.connect_error("SCardReconnect", e))?;
        self.removed = false;
        self.refresh_status()?;
        Ok(self.atr.clone())
    }

    /// Powers the card down: disconnects with `SCARD_UNPOWER_CARD` (pcscd removes power
    /// once no application holds the card). [`power_up`](Self::power_up) reconnects.
    /// A card already removed is powered down without error.
    ///
    /// # Errors
    /// [`PcscError::NoService`], [`PcscError::Transport`]; the card is considered powered
    /// down (the connection is dropped) either way.
    pub fn power_down(&mut self) -> Result<(), PcscError> {
        let Some(card) = self.card.take() else {
            return Ok(());
        };
        match card.disconnect(Disposition::UnpowerCard) {
            Ok(()) => Ok(()),
            Err((_card, ::pcsc::Error::RemovedCard | ::pcsc::Error::NoSmartcard)) => Ok(()),
            Err((_card, e)) => Err(PcscError::from_pcsc(
                "SCardDisconnect",
                Some(&self.reader),
                e,
            )),
        }
    }

    /// Whether a card is in the reader (responsive or mute), without waiting. After a
    /// removal and reinsertion this is true again although this connection is dead; use
    /// [`power_up`](Self::power_up) to reconnect.
    ///
    /// # Errors
    /// [`PcscError::ReaderUnavailable`], [`PcscError::NoService`], [`PcscError::Transport`].
    pub fn is_present(&self) -> Result<bool, PcscError> {
        let state = reader_state(&self.ctx, &self.cname, State::UNAWARE, Duration::ZERO)
            .map_err(|e| self.connect_error("SCardGetStatusChange", e))?;
        Ok(CardState::from_pcsc(state).has_card())
    }

    /// Disconnects with `disposition` (PC/SC Part 5 `SCardDisconnect`).
    ///
    /// # Errors
    /// [`PcscError::NoService`], [`PcscError::Transport`]; the connection is closed either
    /// way.
    pub fn disconnect(mut self, disposition: Disposition) -> Result<(), PcscError> {
        let Some(card) = self.card.take() else {
            return Ok(());
        };
        match card.disconnect(disposition) {
            Ok(()) | Err((_, ::pcsc::Error::RemovedCard | ::pcsc::Error::NoSmartcard)) => Ok(()),
            Err((_, e)) => Err(PcscError::from_pcsc(
                "SCardDisconnect",
                Some(&self.reader),
                e,
            )),
        }
    }

    /// Reads ATR and active protocol (`SCardStatus`).
    fn refresh_status(&mut self) -> Result<(), PcscError> {
        let Some(card) = self.card.as_ref() else {
            return Err(PcscError::CardUnpowered {
                reader: self.reader.clone(),
            });
        };
        let status = card
            .status2_owned()
            .map_err(|e| PcscError::from_pcsc("SCardStatus", Some(&self.reader), e))?;
        self.atr = status.atr().to_vec();
        self.protocol = match status.protocol2() {
            Some(::pcsc::Protocol::T0) => Protocol::T0,
            Some(::pcsc::Protocol::T1) => Protocol::T1,
            Some(::pcsc::Protocol::RAW) | None => {
                return Err(PcscError::ProtocolMismatch {
                    reader: self.reader.clone(),
                    requested: self.options.protocols,
                    atr: self.atr.clone(),
                });
            }
        };
        Ok(())
    }

    /// Maps a connect/reconnect error, filling in the ATR of a protocol mismatch.
    fn connect_error(&self, operation: &'static str, error: ::pcsc::Error) -> PcscError {
        match PcscError::from_pcsc(operation, Some(&self.reader), error) {
            PcscError::ProtocolMismatch { reader, .. } => {
                let atr = current_atr(&self.ctx, &self.cname).unwrap_or_default();
                PcscError::ProtocolMismatch {
                    reader,
                    requested: self.options.protocols,
                    atr,
                }
            }
            other => other,
        }
    }
}

impl CardChannel for PcscCard {
    type Error = PcscError;

    /// [`PcscCard::transmit`].
    fn exchange(&mut self, command: &[u8], response: &mut [u8]) -> Result<usize, PcscError> {
        self.transmit(command, response)
    }
}

/// The EMV verdict on an ATR: `Err(reason)` when EMV Book 1 §8.3 rejects it.
fn emv_verdict(atr: &[u8]) -> Result<(), String> {
    let parsed = emv_hal::atr::Atr::parse(atr).map_err(|e| e.to_string())?;
    parsed.emv_check().map(|_| ()).map_err(|r| r.to_string())
}

/// A PC/SC reader as an EMV contact slot: the reader runs activation, the ATR, PPS and
/// T=0/T=1 itself; this adds the terminal's side of EMV Book 1 §8.2–8.3 on top: an ATR
/// that the EMV rules reject gets exactly one warm reset, and a second rejection is
/// [`PcscError::AtrRejected`] with the card powered down.
impl ContactSlot for PcscCard {
    type Error = PcscError;

    fn card_present(&mut self) -> Result<bool, PcscError> {
        self.is_present()
    }

    fn power_up(&mut self) -> Result<&[u8], PcscError> {
        let cold_atr = PcscCard::power_up(self)?;
        let Err(cold) = emv_verdict(&cold_atr) else {
            return Ok(&self.atr);
        };
        let warm_atr = self.reset(ResetKind::Warm)?;
        match emv_verdict(&warm_atr) {
            Ok(()) => Ok(&self.atr),
            Err(warm) => {
                let _ = PcscCard::power_down(self);
                Err(PcscError::AtrRejected {
                    reader: self.reader.clone(),
                    cold_atr,
                    cold,
                    warm_atr,
                    warm,
                })
            }
        }
    }

    fn warm_reset(&mut self) -> Result<&[u8], PcscError> {
        let atr = self.reset(ResetKind::Warm)?;
        match emv_verdict(&atr) {
            Ok(()) => Ok(&self.atr),
            Err(reason) => {
                let _ = PcscCard::power_down(self);
                Err(PcscError::AtrRejected {
                    reader: self.reader.clone(),
                    cold_atr: Vec::new(),
                    cold: "not a cold reset".into(),
                    warm_atr: atr,
                    warm: reason,
                })
            }
        }
    }

    fn power_down(&mut self) -> Result<(), PcscError> {
        PcscCard::power_down(self)
    }

    fn atr(&self) -> Option<&[u8]> {
        self.card.as_ref().map(|_| self.atr.as_slice())
    }
}

/// An exclusive transaction on a [`PcscCard`] (`SCardBeginTransaction` …
/// `SCardEndTransaction`); a [`CardChannel`]. Dropping it ends the transaction leaving the
/// card as it is.
pub struct PcscTransaction<'a> {
    tx: ::pcsc::Transaction<'a>,
    link: Link<'a>,
}

impl std::fmt::Debug for PcscTransaction<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PcscTransaction")
            .field("reader", &self.link.reader)
            .finish_non_exhaustive()
    }
}

impl PcscTransaction<'_> {
    /// As [`PcscCard::transmit`], inside the transaction.
    ///
    /// # Errors
    /// As [`PcscCard::transmit`].
    pub fn transmit(&mut self, command: &[u8], response: &mut [u8]) -> Result<usize, PcscError> {
        self.link.exchange(&self.tx, command, response)
    }

    /// Ends the transaction leaving the card as it is (`SCARD_LEAVE_CARD`).
    ///
    /// # Errors
    /// [`PcscError::CardRemoved`], [`PcscError::NoService`], [`PcscError::Transport`]; the
    /// transaction is over either way.
    pub fn end(self) -> Result<(), PcscError> {
        let reader = self.link.reader;
        match self.tx.end(Disposition::LeaveCard) {
            Ok(()) => Ok(()),
            Err((_tx, e)) => Err(PcscError::from_pcsc("SCardEndTransaction", Some(reader), e)),
        }
    }
}

impl CardChannel for PcscTransaction<'_> {
    type Error = PcscError;

    /// [`PcscTransaction::transmit`].
    fn exchange(&mut self, command: &[u8], response: &mut [u8]) -> Result<usize, PcscError> {
        self.transmit(command, response)
    }
}

/// What one exchange needs besides the card handle.
struct Link<'a> {
    ctx: &'a Context,
    cname: &'a CString,
    reader: &'a str,
    removed: &'a mut bool,
}

impl Link<'_> {
    fn removed_error(&self) -> PcscError {
        PcscError::CardRemoved {
            reader: self.reader.to_owned(),
        }
    }

    /// One `SCardTransmit`, with the failure classification described in the module docs.
    fn exchange(
        &mut self,
        card: &::pcsc::Card,
        command: &[u8],
        response: &mut [u8],
    ) -> Result<usize, PcscError> {
        if *self.removed {
            return Err(self.removed_error());
        }
        let mut buf = vec![0u8; ::pcsc::MAX_BUFFER_SIZE_EXTENDED];
        match card.transmit(command, &mut buf) {
            Ok(r) if r.len() >= 2 => {
                let capacity = response.len();
                let out = response
                    .get_mut(..r.len())
                    .ok_or(PcscError::ResponseTooLong {
                        len: r.len(),
                        capacity,
                    })?;
                out.copy_from_slice(r);
                Ok(r.len())
            }
            Ok(r) => {
                let detail = format!("response of {} byte(s), no status word", r.len());
                Err(self.ambiguous(detail))
            }
            Err(::pcsc::Error::RemovedCard | ::pcsc::Error::NoSmartcard) => {
                *self.removed = true;
                Err(self.removed_error())
            }
            Err(
                e @ (::pcsc::Error::NotTransacted
                | ::pcsc::Error::CommError
                | ::pcsc::Error::UnknownError
                | ::pcsc::Error::UnresponsiveCard),
            ) => Err(self.ambiguous(format!("SCardTransmit failed: {e} ({:#010X})", e as u32))),
            Err(e) => Err(PcscError::from_pcsc("SCardTransmit", Some(self.reader), e)),
        }
    }

    /// Classifies a failed exchange: [`PcscError::CardRemoved`] if the reader reports (within
    /// [`REMOVAL_SETTLE`]) that the card is gone, else [`PcscError::CardMute`].
    fn ambiguous(&mut self, detail: String) -> PcscError {
        if card_gone(self.ctx, self.cname, REMOVAL_SETTLE) {
            *self.removed = true;
            self.removed_error()
        } else {
            PcscError::CardMute {
                reader: self.reader.to_owned(),
                detail,
            }
        }
    }
}

/// Whether reader `cname` reports no card within `settle` (waiting for state changes).
fn card_gone(ctx: &Context, cname: &CString, settle: Duration) -> bool {
    let start = Instant::now();
    let mut known = State::UNAWARE;
    loop {
        let left = settle.saturating_sub(start.elapsed());
        let Ok(state) = reader_state(ctx, cname, known, left.min(WAIT_SLICE)) else {
            return false;
        };
        if !CardState::from_pcsc(state).has_card() {
            return true;
        }
        if left.is_zero() {
            return false;
        }
        known = state - State::CHANGED;
    }
}

/// The event state of one reader (`SCardGetStatusChange`); a timeout returns the state
/// unchanged.
fn reader_state(
    ctx: &Context,
    cname: &CString,
    current: State,
    timeout: Duration,
) -> Result<State, ::pcsc::Error> {
    let mut states = [ReaderState::new(cname.clone(), current)];
    match ctx.get_status_change(timeout, &mut states) {
        Ok(()) | Err(::pcsc::Error::Timeout) => {
            let [state] = states;
            Ok(state.event_state())
        }
        Err(e) => Err(e),
    }
}

/// The ATR the reader reports for its card, if any.
fn current_atr(ctx: &Context, cname: &CString) -> Option<Vec<u8>> {
    let mut states = [ReaderState::new(cname.clone(), State::UNAWARE)];
    match ctx.get_status_change(Duration::ZERO, &mut states) {
        Ok(()) | Err(::pcsc::Error::Timeout) => {
            let [state] = states;
            Some(state.atr().to_vec())
        }
        Err(_) => None,
    }
}
