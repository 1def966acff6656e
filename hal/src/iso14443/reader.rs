//! A blocking contactless reader over an [`RfFrontend`]: EMV polling and activation
//! ([`super::polling`]), the ISO-DEP engine ([`super::isodep`]) driven as a
//! [`CardChannel`], deactivation and the removal procedure (EMV Contactless Book D,
//! ISO/IEC 14443-3/-4).
//!
//! Timing: guard times, SFGT and the RF reset are waited with an `embedded-hal`
//! [`DelayNs`]; frame waiting times are passed to [`RfFrontend::transceive`] as timeouts
//! (FWT from the engine plus [`ReaderConfig::delta_fwt_us`]).

use embedded_hal::delay::DelayNs;

use super::isodep::{IsoDep, IsoDepError, IsoDepEvent, IsoDepParams, MAX_FRAME_LEN};
use super::polling::{
    self, ActivationError, PollAction, PollingLoop, RF_RESET_TIME_US, RemovalLoop,
};
use super::type_a::Atqa;
use super::type_b::Atqb;
use crate::channel::CardChannel;
use crate::rf::{
    Activated, Contactless, PollOutcome, RfError, RfFrontend, Technology, transceive_with_crc,
};

/// Reader settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReaderConfig {
    /// Added to every FWT-based timeout (EMV Book D ΔFWT, [`polling::DELTA_FWT_US`] \[M\]).
    pub delta_fwt_us: u32,
    /// Guard time before each poll (EMV Book D t_P, [`polling::POLLING_GUARD_TIME_US`]).
    pub guard_time_us: u32,
    /// Retransmissions in a row for ISO-DEP errors (EMV Book D: 2 \[M\]).
    pub max_retries: u8,
    /// Upper bound on frames per APDU exchange, a safety net against a card that sends
    /// S(WTX) forever; reaching it fails the exchange with [`ReaderError::TooManyFrames`].
    pub max_frames_per_exchange: u16,
}

impl ReaderConfig {
    /// The EMV Book D settings.
    pub const EMV: Self = Self {
        delta_fwt_us: polling::DELTA_FWT_US,
        guard_time_us: polling::POLLING_GUARD_TIME_US,
        max_retries: super::isodep::EMV_MAX_RETRIES,
        max_frames_per_exchange: 1_000,
    };
}

impl Default for ReaderConfig {
    fn default() -> Self {
        Self::EMV
    }
}

/// Errors of [`ContactlessReader`], by blame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ReaderError<E> {
    /// The front-end failed.
    #[error("front-end error: {0:?}")]
    Transport(E),
    /// Card: activation failed.
    #[error("activation failed: {0}")]
    Activation(ActivationError<E>),
    /// Card: the ISO-DEP exchange failed (transmission, protocol or time-out error), or API
    /// misuse reported by the engine (command too long…).
    #[error("ISO-DEP: {0}")]
    IsoDep(IsoDepError),
    /// API misuse: no card is activated.
    #[error("no activated card")]
    NotActivated,
    /// API misuse: the response buffer is shorter than the R-APDU.
    #[error("response buffer of {capacity} bytes, R-APDU of {needed}")]
    ResponseBufferTooSmall {
        /// Bytes needed.
        needed: usize,
        /// Bytes available.
        capacity: usize,
    },
    /// Card: more than [`ReaderConfig::max_frames_per_exchange`] frames in one exchange.
    #[error("too many frames in one exchange")]
    TooManyFrames,
}

impl<E> From<ActivationError<E>> for ReaderError<E> {
    fn from(e: ActivationError<E>) -> Self {
        match e {
            ActivationError::Transport(t) => Self::Transport(t),
            other => Self::Activation(other),
        }
    }
}

#[derive(Debug)]
struct Link {
    technology: Technology,
    engine: IsoDep,
}

/// A contactless slot over an [`RfFrontend`]: implements [`Contactless`] and, once a card is
/// activated, [`CardChannel`] through ISO-DEP.
#[derive(Debug)]
pub struct ContactlessReader<F, D> {
    frontend: F,
    delay: D,
    config: ReaderConfig,
    field_on: bool,
    link: Option<Link>,
}

impl<F: RfFrontend, D: DelayNs> ContactlessReader<F, D> {
    /// A reader with the EMV settings; the field is off until the first poll.
    pub const fn new(frontend: F, delay: D) -> Self {
        Self::with_config(frontend, delay, ReaderConfig::EMV)
    }

    /// A reader with other settings.
    pub const fn with_config(frontend: F, delay: D, config: ReaderConfig) -> Self {
        Self {
            frontend,
            delay,
            config,
            field_on: false,
            link: None,
        }
    }

    /// The front-end.
    pub const fn frontend(&mut self) -> &mut F {
        &mut self.frontend
    }

    /// Gives back the front-end and the delay.
    pub fn release(self) -> (F, D) {
        (self.frontend, self.delay)
    }

    /// Whether a card is activated and its ISO-DEP link usable.
    pub fn is_activated(&self) -> bool {
        self.link.as_ref().is_some_and(|l| l.engine.is_active())
    }

    /// RF reset: field off for [`RF_RESET_TIME_US`], then on again (EMV Book D). Any
    /// activated card is lost.
    ///
    /// # Errors
    /// [`ReaderError::Transport`].
    pub fn rf_reset(&mut self) -> Result<(), ReaderError<F::Error>> {
        self.set_field(false)?;
        self.delay.delay_us(RF_RESET_TIME_US);
        self.set_field(true)
    }

    fn set_field(&mut self, on: bool) -> Result<(), ReaderError<F::Error>> {
        if !on {
            self.link = None;
        }
        self.frontend.set_field(on).map_err(rf_transport)?;
        self.field_on = on;
        Ok(())
    }

    /// The removal procedure (EMV Book D) \[M\]: an RF reset (so an activated card returns to
    /// idle), then polls the technology of the last activated card (Type A if none) until
    /// [`polling::REMOVAL_SILENT_POLLS`] probes in a row get no answer, at most `max_probes`
    /// probes. Returns whether the card was removed. The ISO-DEP link is dropped.
    ///
    /// # Errors
    /// [`ReaderError::Transport`].
    pub fn wait_for_removal(&mut self, max_probes: u32) -> Result<bool, ReaderError<F::Error>> {
        let technology = self.link.take().map_or(Technology::TypeA, |l| l.technology);
        self.rf_reset()?;
        let mut removal = RemovalLoop::new(technology);
        let mut probes = 0u32;
        loop {
            match removal.next_action() {
                PollAction::Wait { us } => self.delay.delay_us(us),
                PollAction::SendHlta => {
                    polling::send_hlta(&mut self.frontend).map_err(ReaderError::Transport)?;
                }
                PollAction::SendWupa | PollAction::SendWupb => {
                    if probes >= max_probes {
                        return Ok(false);
                    }
                    probes += 1;
                    let detection = match technology {
                        Technology::TypeA => {
                            polling::probe_type_a(&mut self.frontend)
                                .map_err(ReaderError::Transport)?
                                .0
                        }
                        Technology::TypeB => {
                            polling::probe_type_b(&mut self.frontend)
                                .map_err(ReaderError::Transport)?
                                .0
                        }
                    };
                    removal.handle_detection(detection);
                }
                PollAction::Removed => return Ok(true),
                // Not produced by the removal sequencer.
                PollAction::ActivateA
                | PollAction::ActivateB
                | PollAction::Collision
                | PollAction::NoCard => return Ok(false),
            }
        }
    }

    fn exchange_frames(&mut self) -> Result<usize, ReaderError<F::Error>> {
        let Some(link) = self.link.as_mut() else {
            return Err(ReaderError::NotActivated);
        };
        let mut tx = [0u8; MAX_FRAME_LEN];
        let mut rx = [0u8; MAX_FRAME_LEN];
        let mut frames = 0u16;
        loop {
            match link.engine.poll_event() {
                Some(IsoDepEvent::Complete { len }) => return Ok(len),
                Some(IsoDepEvent::Failed(e)) => return Err(ReaderError::IsoDep(e)),
                Some(IsoDepEvent::Deselected) => return Ok(0),
                None => {}
            }
            let Some(n) = link.engine.poll_transmit(&mut tx) else {
                // No frame and no event: the engine failed on the buffer; loop once more to
                // collect the event, else report misuse.
                return match link.engine.poll_event() {
                    Some(IsoDepEvent::Failed(e)) => Err(ReaderError::IsoDep(e)),
                    _ => Err(ReaderError::NotActivated),
                };
            };
            frames = frames.saturating_add(1);
            if frames > self.config.max_frames_per_exchange {
                return Err(ReaderError::TooManyFrames);
            }
            let timeout = link
                .engine
                .poll_timeout()
                .unwrap_or(0)
                .saturating_add(self.config.delta_fwt_us);
            let result = transceive_with_crc(
                &mut self.frontend,
                link.technology,
                tx.get(..n).unwrap_or(&[]),
                &mut rx,
                timeout,
            );
            match result {
                Ok(m) => link.engine.handle_received(rx.get(..m).unwrap_or(&[])),
                Err(RfError::Timeout) => link.engine.handle_timeout(),
                Err(RfError::Integrity | RfError::Collision | RfError::Overflow) => {
                    link.engine.handle_transmission_error();
                }
                Err(RfError::Transport(e)) => return Err(ReaderError::Transport(e)),
            }
        }
    }

    fn activate(
        &mut self,
        action: PollAction,
        atqa: Option<Atqa>,
        atqb: Option<Atqb>,
    ) -> Result<PollOutcome, ReaderError<F::Error>> {
        let activated = match (action, atqa, atqb) {
            (PollAction::ActivateA, Some(atqa), _) => {
                match polling::activate_type_a(&mut self.frontend, atqa) {
                    Ok(a) => Activated::TypeA(a),
                    Err(ActivationError::Collision(_)) => return Ok(PollOutcome::Collision),
                    Err(e) => return Err(e.into()),
                }
            }
            (PollAction::ActivateB, _, Some(atqb)) => {
                Activated::TypeB(polling::activate_type_b(&mut self.frontend, atqb)?)
            }
            _ => return Ok(PollOutcome::NoCard),
        };
        let (params, sfgt_us) = match &activated {
            Activated::TypeA(a) => (
                IsoDepParams::from_ats(&a.ats.params()),
                a.ats.params().sfgt_us(),
            ),
            Activated::TypeB(b) => (IsoDepParams::from_atqb(&b.atqb), b.atqb.sfgt_us()),
        };
        if sfgt_us > 0 {
            self.delay.delay_us(sfgt_us);
        }
        self.link = Some(Link {
            technology: activated.technology(),
            engine: IsoDep::new(IsoDepParams {
                max_retries: self.config.max_retries,
                ..params
            }),
        });
        Ok(PollOutcome::Activated(activated))
    }
}

fn rf_transport<E>(e: RfError<E>) -> ReaderError<E> {
    match e {
        RfError::Transport(t) => ReaderError::Transport(t),
        // Field control reports nothing else; keep the class visible as an ISO-DEP
        // transmission error rather than inventing a transport value.
        _ => ReaderError::IsoDep(IsoDepError::Transmission),
    }
}

impl<F: RfFrontend, D: DelayNs> Contactless for ContactlessReader<F, D> {
    type Error = ReaderError<F::Error>;

    fn poll(&mut self) -> Result<PollOutcome, Self::Error> {
        self.link = None;
        if !self.field_on {
            self.set_field(true)?;
        }
        let mut cycle = PollingLoop::with_guard_time(self.config.guard_time_us);
        let mut atqa = None;
        let mut atqb = None;
        // A cycle has at most 10 steps; the bound only guards against a logic error.
        for _ in 0..32 {
            let action = cycle.next_action();
            let detection = match action {
                PollAction::Wait { us } => {
                    self.delay.delay_us(us);
                    continue;
                }
                PollAction::SendHlta => {
                    polling::send_hlta(&mut self.frontend).map_err(ReaderError::Transport)?;
                    continue;
                }
                PollAction::SendWupa => {
                    let (d, a) = polling::probe_type_a(&mut self.frontend)
                        .map_err(ReaderError::Transport)?;
                    atqa = a;
                    d
                }
                PollAction::SendWupb => {
                    let (d, b) = polling::probe_type_b(&mut self.frontend)
                        .map_err(ReaderError::Transport)?;
                    atqb = b;
                    d
                }
                PollAction::Collision => return Ok(PollOutcome::Collision),
                PollAction::NoCard | PollAction::Removed => return Ok(PollOutcome::NoCard),
                PollAction::ActivateA | PollAction::ActivateB => {
                    return self.activate(action, atqa, atqb);
                }
            };
            if let Some(end) = cycle.handle_detection(detection) {
                return match end {
                    PollAction::Collision => Ok(PollOutcome::Collision),
                    PollAction::ActivateA | PollAction::ActivateB => self.activate(end, atqa, atqb),
                    _ => Ok(PollOutcome::NoCard),
                };
            }
        }
        Ok(PollOutcome::NoCard)
    }

    fn deactivate(&mut self) -> Result<(), Self::Error> {
        let Some(link) = self.link.as_mut() else {
            return Ok(());
        };
        link.engine.deselect().map_err(ReaderError::IsoDep)?;
        let result = self.exchange_frames();
        self.link = None;
        result.map(|_| ())
    }

    fn field_off(&mut self) -> Result<(), Self::Error> {
        self.set_field(false)
    }
}

impl<F: RfFrontend, D: DelayNs> CardChannel for ContactlessReader<F, D> {
    type Error = ReaderError<F::Error>;

    /// Exchanges one APDU over ISO-DEP. On any card error the link is dropped: EMV Book D
    /// requires deactivation (RF reset) after a transmission, protocol or time-out error.
    fn exchange(&mut self, command: &[u8], response: &mut [u8]) -> Result<usize, Self::Error> {
        let link = self.link.as_mut().ok_or(ReaderError::NotActivated)?;
        link.engine.start(command).map_err(ReaderError::IsoDep)?;
        let len = match self.exchange_frames() {
            Ok(len) => len,
            Err(e) => {
                self.link = None;
                return Err(e);
            }
        };
        let link = self.link.as_ref().ok_or(ReaderError::NotActivated)?;
        let r_apdu = link.engine.response();
        let capacity = response.len();
        let dst = response
            .get_mut(..len)
            .ok_or(ReaderError::ResponseBufferTooSmall {
                needed: len,
                capacity,
            })?;
        dst.copy_from_slice(r_apdu.get(..len).unwrap_or(&[]));
        Ok(len)
    }
}
