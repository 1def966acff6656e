//! [`PcscReaders`]: a PC/SC resource-manager context that survives `pcscd` restarts.

use std::ffi::CString;
use std::time::{Duration, Instant};

use ::pcsc::{Context, ReaderState, Scope, State};

use super::card::PcscCard;
use super::{CardState, ConnectOptions, PcscError, ReaderInfo, WAIT_SLICE};

/// The readers of the PC/SC resource manager (PC/SC Workgroup specification Part 5 §3.1,
/// "Resource Manager context"), with transparent re-establishment of the context.
///
/// A context of a `pcscd` that was restarted answers `SCARD_E_NO_SERVICE` forever while
/// `SCardIsValidContext` still says it is valid (bluetech/pcsc-rust#21). Every method here
/// catches `SCARD_E_NO_SERVICE`/`SCARD_E_SERVICE_STOPPED`, establishes a new context and
/// retries the operation once; only if that fails too is the error
/// [`PcscError::NoService`].
pub struct PcscReaders {
    ctx: Context,
}

impl std::fmt::Debug for PcscReaders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PcscReaders").finish_non_exhaustive()
    }
}

/// Whether `error` means the context is dead (pcscd gone or restarted).
const fn is_service_loss(error: ::pcsc::Error) -> bool {
    matches!(
        error,
        ::pcsc::Error::NoService | ::pcsc::Error::ServiceStopped | ::pcsc::Error::InvalidHandle
    )
}

impl PcscReaders {
    /// Establishes a user-scope context (`SCardEstablishContext(SCARD_SCOPE_USER)`).
    ///
    /// # Errors
    /// [`PcscError::NoService`] when `pcscd` is not running (returns in milliseconds; it is
    /// not auto-started without systemd socket activation), [`PcscError::Transport`]
    /// otherwise.
    pub fn establish() -> Result<Self, PcscError> {
        Ok(Self {
            ctx: establish_context()?,
        })
    }

    /// The context, for operations this wrapper does not cover. It may be replaced by a
    /// fresh one after a `pcscd` restart.
    #[must_use]
    pub fn context(&self) -> &Context {
        &self.ctx
    }

    /// Establishes a new context, replacing the current one.
    ///
    /// # Errors
    /// As [`PcscReaders::establish`].
    pub fn reestablish(&mut self) -> Result<(), PcscError> {
        self.ctx = establish_context()?;
        Ok(())
    }

    /// Runs `op` on the context; on a service loss re-establishes the context and runs it
    /// once more.
    fn with_context<T>(
        &mut self,
        op: impl Fn(&Context) -> Result<T, ::pcsc::Error>,
    ) -> Result<T, ::pcsc::Error> {
        match op(&self.ctx) {
            Err(e) if is_service_loss(e) => {
                self.ctx = Context::establish(Scope::User)?;
                op(&self.ctx)
            }
            other => other,
        }
    }

    /// The names of the readers, in the resource manager's order. Zero readers is an
    /// empty list whether pcsc-lite says `SCARD_E_NO_READERS_AVAILABLE` or returns an
    /// empty list.
    ///
    /// # Errors
    /// [`PcscError::NoService`], [`PcscError::Transport`].
    pub fn reader_names(&mut self) -> Result<Vec<String>, PcscError> {
        let names = self
            .with_context(|ctx| match ctx.list_readers_owned() {
                Err(::pcsc::Error::NoReadersAvailable) => Ok(Vec::new()),
                other => other,
            })
            .map_err(|e| PcscError::from_pcsc("SCardListReaders", None, e))?;
        Ok(names
            .into_iter()
            .map(|n| n.to_string_lossy().into_owned())
            .collect())
    }

    /// Every reader with its state and the ATR of its card, read with one
    /// non-blocking `SCardGetStatusChange`.
    ///
    /// # Errors
    /// [`PcscError::NoService`], [`PcscError::Transport`].
    pub fn list(&mut self) -> Result<Vec<ReaderInfo>, PcscError> {
        // A reader can vanish between listing and querying: retry a few times.
        let mut last = None;
        for _ in 0..3 {
            let names = self.reader_names()?;
            if names.is_empty() {
                return Ok(Vec::new());
            }
            let cnames: Vec<CString> = names
                .iter()
                .filter_map(|n| CString::new(n.as_str()).ok())
                .collect();
            let result = self.with_context(|ctx| {
                let mut states: Vec<ReaderState> = cnames
                    .iter()
                    .map(|n| ReaderState::new(n.clone(), State::UNAWARE))
                    .collect();
                match ctx.get_status_change(Duration::ZERO, &mut states) {
                    Ok(()) | Err(::pcsc::Error::Timeout) => Ok(states),
                    Err(e) => Err(e),
                }
            });
            match result {
                Ok(states) => {
                    return Ok(states.iter().map(reader_info).collect());
                }
                Err(e @ ::pcsc::Error::UnknownReader) => last = Some(e),
                Err(e) => return Err(PcscError::from_pcsc("SCardGetStatusChange", None, e)),
            }
        }
        Err(PcscError::from_pcsc(
            "SCardGetStatusChange",
            None,
            last.unwrap_or(::pcsc::Error::UnknownReader),
        ))
    }

    /// One reader's state and ATR.
    ///
    /// # Errors
    /// [`PcscError::ReaderNotFound`] (with the names that exist), [`PcscError::NoService`],
    /// [`PcscError::Transport`].
    pub fn reader(&mut self, name: &str) -> Result<ReaderInfo, PcscError> {
        let cname = self.known_reader(name)?;
        let states = self
            .status(&cname, State::UNAWARE, Duration::ZERO)
            .map_err(|e| self.reader_error("SCardGetStatusChange", name, e))?;
        Ok(reader_info(&states))
    }

    /// Whether a card (responsive or mute) is in reader `name`.
    ///
    /// # Errors
    /// As [`PcscReaders::reader`].
    pub fn is_card_present(&mut self, name: &str) -> Result<bool, PcscError> {
        Ok(self.reader(name)?.state.has_card())
    }

    /// Waits until a responsive card is in reader `name` (at once if one already is) and
    /// returns the reader's state and the card's ATR.
    ///
    /// # Errors
    /// [`PcscError::Timeout`] after `timeout`; [`PcscError::ReaderNotFound`],
    /// [`PcscError::NoService`], [`PcscError::Transport`].
    pub fn wait_for_card(
        &mut self,
        name: &str,
        timeout: Duration,
    ) -> Result<ReaderInfo, PcscError> {
        self.wait_until(
            name,
            timeout,
            "card insertion",
            CardState::has_responsive_card,
        )
    }

    /// Waits until reader `name` is empty (at once if it already is).
    ///
    /// # Errors
    /// As [`PcscReaders::wait_for_card`].
    pub fn wait_for_removal(&mut self, name: &str, timeout: Duration) -> Result<(), PcscError> {
        self.wait_until(name, timeout, "card removal", |s| s == CardState::Absent)
            .map(|_| ())
    }

    /// Waits (in [`WAIT_SLICE`] steps, so a `pcscd` restart is noticed) until `done` holds
    /// for the reader's state.
    fn wait_until(
        &mut self,
        name: &str,
        timeout: Duration,
        what: &'static str,
        done: impl Fn(CardState) -> bool,
    ) -> Result<ReaderInfo, PcscError> {
        let cname = self.known_reader(name)?;
        let start = Instant::now();
        let mut known = State::UNAWARE;
        loop {
            let left = timeout.saturating_sub(start.elapsed());
            let state = self
                .status(&cname, known, left.min(WAIT_SLICE))
                .map_err(|e| self.reader_error("SCardGetStatusChange", name, e))?;
            let info = reader_info(&state);
            if done(info.state) {
                return Ok(info);
            }
            if left.is_zero() {
                return Err(PcscError::Timeout {
                    reader: name.to_owned(),
                    what,
                    waited: start.elapsed(),
                });
            }
            // Wait for a change from what we have seen (without the CHANGED bit).
            known = state.event_state() - State::CHANGED;
        }
    }

    /// `SCardGetStatusChange` for one reader, `current` being the state the caller knows;
    /// a timeout is not an error (the state is returned unchanged).
    fn status(
        &mut self,
        reader: &CString,
        current: State,
        timeout: Duration,
    ) -> Result<ReaderState, ::pcsc::Error> {
        self.with_context(|ctx| {
            let mut states = [ReaderState::new(reader.clone(), current)];
            match ctx.get_status_change(timeout, &mut states) {
                Ok(()) | Err(::pcsc::Error::Timeout) => {
                    let [state] = states;
                    Ok(state)
                }
                Err(e) => Err(e),
            }
        })
    }

    /// Connects to the card in reader `name` (`SCardConnect`).
    ///
    /// # Errors
    /// [`PcscError::ReaderNotFound`] (with the names that exist), [`PcscError::NoCard`],
    /// [`PcscError::CardMute`], [`PcscError::ProtocolMismatch`] (with the card's ATR),
    /// [`PcscError::CardInUse`], [`PcscError::NoService`], [`PcscError::Transport`].
    pub fn connect(&mut self, name: &str, options: ConnectOptions) -> Result<PcscCard, PcscError> {
        let cname = self.reader_cname(name)?;
        let result = self.with_context(|ctx| {
            ctx.connect(
                &cname,
                options.sharing.to_pcsc(),
                options.protocols.to_pcsc(),
            )
        });
        match result {
            Ok(card) => PcscCard::new(self.ctx.clone(), cname, name.to_owned(), card, options),
            Err(::pcsc::Error::ProtoMismatch) => {
                let atr = self.reader(name).map(|r| r.atr).unwrap_or_default();
                Err(PcscError::ProtocolMismatch {
                    reader: name.to_owned(),
                    requested: options.protocols,
                    atr,
                })
            }
            Err(e) => Err(self.reader_error("SCardConnect", name, e)),
        }
    }

    /// `name` as a C string, or [`PcscError::InvalidReaderName`].
    fn reader_cname(&self, name: &str) -> Result<CString, PcscError> {
        CString::new(name).map_err(|_| PcscError::InvalidReaderName {
            name: name.to_owned(),
        })
    }

    /// `name` as a C string if pcscd lists a reader by that name, else
    /// [`PcscError::ReaderNotFound`] (pcsc-lite's `SCardGetStatusChange` reports an
    /// unknown reader as a state, not always as an error).
    fn known_reader(&mut self, name: &str) -> Result<CString, PcscError> {
        let cname = self.reader_cname(name)?;
        let available = self.reader_names()?;
        if available.iter().any(|n| n == name) {
            Ok(cname)
        } else {
            Err(PcscError::ReaderNotFound {
                name: name.to_owned(),
                available,
            })
        }
    }

    /// Maps `error` from `operation` on reader `name`; an unknown reader gets the list of
    /// the readers that exist.
    fn reader_error(
        &mut self,
        operation: &'static str,
        name: &str,
        error: ::pcsc::Error,
    ) -> PcscError {
        match error {
            ::pcsc::Error::UnknownReader | ::pcsc::Error::ReaderUnavailable => {
                let available = self.reader_names().unwrap_or_default();
                if error == ::pcsc::Error::ReaderUnavailable && available.iter().any(|n| n == name)
                {
                    PcscError::ReaderUnavailable {
                        reader: name.to_owned(),
                    }
                } else {
                    PcscError::ReaderNotFound {
                        name: name.to_owned(),
                        available,
                    }
                }
            }
            e => PcscError::from_pcsc(operation, Some(name), e),
        }
    }
}

/// A new user-scope context.
fn establish_context() -> Result<Context, PcscError> {
    Context::establish(Scope::User)
        .map_err(|e| PcscError::from_pcsc("SCardEstablishContext", None, e))
}

/// The public view of a reader state.
fn reader_info(state: &ReaderState) -> ReaderInfo {
    let card_state = CardState::from_pcsc(state.event_state());
    ReaderInfo {
        name: state.name().to_string_lossy().into_owned(),
        state: card_state,
        atr: if card_state.has_responsive_card() {
            state.atr().to_vec()
        } else {
            Vec::new()
        },
    }
}
