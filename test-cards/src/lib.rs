//! # emv-test-cards
//!
//! Everything that plays the card side: simulated EMV cards with real
//! cryptography, faults, replayed traces, chip models and test decks.
