//! # emv-test-cards
//!
//! Everything that plays the card side: simulated EMV cards with real
//! cryptography, faults, replayed traces, chip models and test decks.
//!
//! - [`card`]: the [`Card`](card::Card) trait every simulated card
//!   implements, and [`SimChannel`](card::SimChannel), which puts a card
//!   behind the `emv-hal` `CardChannel`.

pub mod card;
