//! T=1 block protocol (ISO/IEC 7816-3 §11, EMV Book 1 §9.2.4).
//!
//! Clauses implemented:
//!
//! * ISO/IEC 7816-3:2006 §11.3 block frame (NAD, PCB, LEN, INF, LRC/CRC) and the I-, R- and
//!   S-block codings — module `block` ([`Block`], [`BlockKind`], [`SBlock`], [`RCode`]);
//! * §11.4 protocol parameters (IFSC/IFSD, BWT/CWT, EDC) — [`T1Config`];
//! * §11.6 protocol rules, terminal side: chaining both ways (§11.6.2.3), S(IFS) and S(WTX)
//!   (§11.6.2.2), error recovery (§11.6.3, rules 7.1–7.3), optional RESYNCH (rule 6) —
//!   module `engine` ([`T1`]);
//! * EMV L1 / Book 1 §9.2.4 choices, each marked \[M\] (general domain knowledge, to be
//!   confirmed against the licensed text) and behind a named constant or option: the first
//!   block after the ATR is S(IFS request) with IFSD 254 ([`EMV_IFSD`]), IFSC 16..=254
//!   ([`EMV_MIN_IFSC`]), two retransmissions then deactivation ([`EMV_MAX_RETRIES`]), the
//!   BWT/CWT tolerances ([`EMV_BWT_TOLERANCE_ETU_PER_D`], [`EMV_CWT_TOLERANCE_ETU`]), NAD `00`,
//!   no terminal RESYNCH ([`T1Config::resynch`] off), S(ABORT) from the card ends the session.
//!
//! The engine is sans-IO (no I/O, no clock, no heap), in the quinn-proto style:
//!
//! ```text
//! let mut t1 = T1::new(T1Config::from_emv_params(&params).unwrap())?;
//! t1.start_ifsd_negotiation()?;            // then t1.start(c_apdu) for each APDU
//! loop {
//!     while let Some(n) = t1.poll_transmit(&mut buf) { uart.write(&buf[..n]); }
//!     if let Some(event) = t1.poll_event() { break event; }   // Complete / IfsdNegotiated / Error
//!     match uart.read_with_timeout(t1.poll_timeout()) {       // etu, from the last character
//!         Ok(bytes) => t1.handle_received(bytes),
//!         Err(Timeout) => t1.handle_timeout(),
//!     }
//! }
//! ```
//!
//! Guarantees: a response is reported only when its last I-block (M = 0) arrived with a valid
//! EDC, in sequence, after every earlier piece of the chain; every card input, however
//! malformed, leads either to progress, to a bounded number of recovery blocks, or to
//! [`T1Event::Error`]. Limits: short APDUs only (command ≤ [`MAX_COMMAND_LEN`], response ≤
//! [`MAX_RESPONSE_LEN`]); extended-length APDUs are out of scope. The number of S(WTX) and
//! S(IFS) requests a card may send is not limited (each WTX costs real waiting time; the
//! caller's overall transaction timeout bounds it).

mod block;
mod engine;
#[cfg(test)]
mod tests;

pub use block::{
    Block, BlockError, BlockKind, EncodeError, MAX_BLOCK_LEN, MAX_INF, PROLOGUE_LEN, RCode, SBlock,
    crc, edc_len, lrc,
};
pub use engine::{
    BGT_ETU, ConfigError, DEFAULT_IFSD, EMV_BWT_TOLERANCE_ETU_PER_D, EMV_CWT_TOLERANCE_ETU,
    EMV_IFSD, EMV_MAX_RETRIES, EMV_MIN_IFSC, Fault, ISO_RESYNCH_ATTEMPTS, MAX_COMMAND_LEN, MAX_IFS,
    MAX_RESPONSE_LEN, StartError, T1, T1Config, T1Error, T1Event, TimeoutPolicy,
};
