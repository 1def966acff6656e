//! # emv-terminal
//!
//! Host-side terminal support for the EMV kernel (std): the terminal
//! configuration file (terminal data, per-AID parameters, CA public keys
//! verified at load, revocation list, exception file).
//!
//! - [`config`]: the TOML terminal configuration (EMV 4.4 Book 4 Annex A
//!   terminal data, Book 1 §12.3 application selection indicator, Book 3
//!   §10.6–10.7 risk-management and action-analysis parameters, Book 2
//!   §11.2 CA public keys), with `extends` overlays and errors that name
//!   file, line and field. Format: `docs/terminal-config.md`.
//! - [`driver`]: runs a kernel transaction over any `CardChannel`.
//! - [`trace_mask`]: what of a command a trace may show (no plaintext PIN).

pub mod config;
pub mod driver;
pub mod trace_mask;

pub use config::{ConfigError, ConfigErrorKind, TerminalConfig};
