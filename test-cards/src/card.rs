//! What a simulated card is, seen from the terminal side: an ATR, power and
//! reset, and one response per command APDU (ISO/IEC 7816-3 §6 for
//! activation and reset, ISO/IEC 7816-4 §5 for APDUs).
//!
//! Everything that plays a card implements [`Card`]: the EMV card engine,
//! replay cards, fault wrappers. [`SimChannel`] puts any card behind the
//! `emv-hal` [`CardChannel`] so the kernel talks to it exactly as to a
//! reader; the vpcd bridge serves any card to a real `pcscd`.

use std::time::Duration;

use emv_hal::channel::CardChannel;

/// The card's answer to one command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// A response APDU: data followed by SW1 SW2.
    Response(Vec<u8>),
    /// The same, after the card has kept the terminal waiting this long
    /// (a fault: slow card). In-process channels do not sleep; they report
    /// the delay to whoever measures time.
    Delayed(Duration, Vec<u8>),
    /// The card was pulled out while processing the command (tearing): no
    /// response; the card is absent until powered on again.
    Removed,
}

/// A simulated card at the APDU level.
pub trait Card {
    /// The Answer To Reset the card sends after a cold or warm reset.
    fn atr(&self) -> Vec<u8>;

    /// Cold reset: power applied. Volatile state (selected application,
    /// transaction in progress) is cleared; persistent state (counters, PIN
    /// try counter, blocked flags) survives.
    fn power_on(&mut self);

    /// Power removed.
    fn power_off(&mut self);

    /// Warm reset: like [`Card::power_on`] without a power cycle.
    fn reset(&mut self) {
        self.power_on();
    }

    /// Processes one command APDU.
    fn transmit(&mut self, command: &[u8]) -> Reply;
}

impl<C: Card + ?Sized> Card for Box<C> {
    fn atr(&self) -> Vec<u8> {
        (**self).atr()
    }
    fn power_on(&mut self) {
        (**self).power_on();
    }
    fn power_off(&mut self) {
        (**self).power_off();
    }
    fn reset(&mut self) {
        (**self).reset();
    }
    fn transmit(&mut self, command: &[u8]) -> Reply {
        (**self).transmit(command)
    }
}

/// Why an exchange with a simulated card failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SimError {
    /// The card was removed (tearing) during or before the command.
    #[error("card removed")]
    CardRemoved,
    /// The response does not fit the caller's buffer.
    #[error("response of {needed} bytes does not fit a {available}-byte buffer")]
    BufferTooSmall {
        /// Response length.
        needed: usize,
        /// Buffer length.
        available: usize,
    },
}

/// A [`Card`] behind the `emv-hal` [`CardChannel`], in process.
///
/// Records every exchange, and the delays the card asked for, so tests can
/// inspect the APDU trace.
#[derive(Debug)]
pub struct SimChannel<C> {
    card: C,
    present: bool,
    /// Every exchange: command, and the response (`None` when the card was
    /// removed).
    pub log: Vec<(Vec<u8>, Option<Vec<u8>>)>,
    /// Sum of the delays the card asked for.
    pub waited: Duration,
}

impl<C: Card> SimChannel<C> {
    /// Powers the card on and wraps it.
    pub fn new(mut card: C) -> Self {
        card.power_on();
        Self {
            card,
            present: true,
            log: Vec::new(),
            waited: Duration::ZERO,
        }
    }

    /// The card (to inspect its state after a transaction).
    pub fn card(&self) -> &C {
        &self.card
    }

    /// The card, mutably.
    pub fn card_mut(&mut self) -> &mut C {
        &mut self.card
    }

    /// Takes the card back.
    pub fn into_card(self) -> C {
        self.card
    }

    /// Re-inserts and powers on a removed card.
    pub fn reinsert(&mut self) {
        self.card.power_on();
        self.present = true;
    }
}

impl<C: Card> CardChannel for SimChannel<C> {
    type Error = SimError;

    fn exchange(&mut self, command: &[u8], response: &mut [u8]) -> Result<usize, SimError> {
        if !self.present {
            return Err(SimError::CardRemoved);
        }
        let data = match self.card.transmit(command) {
            Reply::Response(data) => data,
            Reply::Delayed(delay, data) => {
                self.waited += delay;
                data
            }
            Reply::Removed => {
                self.present = false;
                self.card.power_off();
                self.log.push((command.to_vec(), None));
                return Err(SimError::CardRemoved);
            }
        };
        self.log.push((command.to_vec(), Some(data.clone())));
        let available = response.len();
        let out = response
            .get_mut(..data.len())
            .ok_or(SimError::BufferTooSmall {
                needed: data.len(),
                available,
            })?;
        out.copy_from_slice(&data);
        Ok(data.len())
    }
}
