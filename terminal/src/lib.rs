//! # emv-terminal
//!
//! Host-side terminal support for the EMV kernel (std): the terminal
//! configuration file (terminal data, per-AID parameters, CA public keys
//! verified at load, revocation list, exception file).
