//! # emv-test-cards
//!
//! Everything that plays the card side: simulated EMV cards with real
//! cryptography, faults, replayed traces, chip models and test decks.
//!
//! - [`card`]: the [`Card`](card::Card) trait every simulated card
//!   implements, and [`SimChannel`](card::SimChannel), which puts a card
//!   behind the `emv-hal` `CardChannel`.

pub mod card;
pub mod chips;
pub mod deck;
pub mod engine;
pub mod profile;
pub mod reference;
pub mod terminal_side;
pub mod vpcd;

pub mod faults;
pub mod host;
pub mod issuer;
pub mod pki;
pub mod replay;
pub mod trace;
