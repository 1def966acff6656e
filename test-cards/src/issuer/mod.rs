//! Issuer-side EMV symmetric cryptography for the simulated cards and the
//! issuer host simulation.
//!
//! What a card personalised by a test issuer needs to compute, and what the
//! issuer host needs to check:
//!
//! - [`keys`]: the double-length (2-key) TDES key type [`TdesKey`] with odd
//!   parity adjustment and key check value (KCV); zeroized on drop, never
//!   printed.
//! - [`mac`]: ISO/IEC 9797-1 padding methods 1 and 2 and MAC algorithms 1
//!   and 3 (the "retail MAC").
//! - [`derive`](mod@derive): ICC master key derivation, EMV 4.4 Book 2 Annex A1.4
//!   (options A and B), and the per-card key set [`IccKeys`].
//! - [`session`]: session keys: EMV common session key (Book 2 Annex
//!   A1.3), Mastercard M/Chip SKD, Visa VIS secure-messaging key, and the
//!   obsolete EMV 4.1 tree derivation.
//! - [`cryptogram`]: the application cryptogram (Book 2 §8.1) and its
//!   input data [`AcInput`].
//! - [`arpc`]: the ARPC, methods 1 and 2 (Book 2 §8.2).
//! - [`script`]: the issuer script command MAC (Book 2 §9.2).
//! - [`cvn`]: the scheme recipes ([`Cvn`]): Visa VIS CVN 10/18/22,
//!   Mastercard M/Chip CVN 16/17/20/21 and Interac CVN 133, and the
//!   high-level API the card engine calls.
//!
//! Test vectors: `vectors/crypto-vectors.json`, reproduced by
//! `tests/issuer_vectors.rs`.

pub mod arpc;
pub mod cryptogram;
pub mod cvn;
pub mod derive;
pub mod error;
pub mod keys;
pub mod mac;
pub mod script;
pub mod session;

pub use arpc::{ArpcInput, ArpcMethod, arpc_method_1, arpc_method_2};
pub use cryptogram::{AcInput, application_cryptogram};
pub use cvn::{AcCardData, AcKeySource, ArpcKeySource, Cvn, CvnRecipe, ScriptMacKeySource};
pub use derive::{
    IccKeys, IssuerMasterKeys, KeyDerivation, derive_icc_mk, derive_icc_mk_option_a,
    derive_icc_mk_option_b, pan_digits_from_cn,
};
pub use error::IssuerError;
pub use keys::{TdesKey, kcv};
pub use mac::{Padding, mac_algorithm_1, mac_algorithm_3, pad};
pub use script::{ScriptMacData, ScriptMacInput};
pub use session::{
    SessionContext, common_session_key, emv_ac_session_key, emv2000_tree_session_key,
    mastercard_skd_session_key, visa_sm_session_key,
};
