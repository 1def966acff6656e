//! Test decks for certification labs (users' documentation:
//! `docs/decks.md`).
//!
//! A deck is a TOML file a lab engineer writes from a test plan: named
//! terminal settings (`[terminal.NAME]`, overlays of terminal
//! configurations), named cards (`[card.NAME]`, overlays of card profiles),
//! and `[[case]]`s, each one or more transactions against one simulated
//! card (later transactions see the card's counters as the earlier ones
//! left them), each with its inputs and its expectations: outcome, TVR,
//! TSI, CVM Results (with masks), GENERATE AC P1s, ordered and forbidden
//! commands, the authorisation request, issuer script results, advice, the
//! selected AID.
//!
//! - [`load_deck`] / [`load_deck_str`]: parse and check a deck; every
//!   problem names file, line and field before anything runs;
//! - [`run_decks`]: load decks and run their cases in parallel, results in
//!   deck order, reproducible apart from timings;
//! - [`CaseResult`]: the stable, serialisable result of a case;
//! - [`json_lines`], [`junit_xml`], [`failure_text`], [`html_report`]:
//!   reports.

pub mod html;
mod load;
mod report;
mod run;
mod schema;
mod spans;

pub use html::{HtmlOptions, html_report};
pub use load::{
    Deck, DeckCase, DeckError, Expectations, Inputs, Masked, OUTCOMES, Script, Transaction,
    deck_paths, load_deck, load_deck_str,
};
pub use report::{
    diff_text, failure_text, json_lines, junit_xml, summary, trace_text, without_timing,
};
pub use run::{
    Actual, ApduRecord, CaseResult, Mismatch, TransactionResult, default_jobs, outcome_name,
    run_decks, run_decks_with_progress, run_loaded, selected,
};
pub use schema::DeckMeta;
