//! The fields of a card profile. Users' documentation: `docs/card-profiles.md`.
//!
//! A profile describes one card: its ATR, PIN, optional PSE and one or more
//! applications (EMV Book 1 §12 selection data, Book 3 §10 processing data),
//! each with its records written as readable tag/value tables, its
//! cryptography (issuer master keys, cryptogram version) and its offline
//! data authentication keys (derived from the profile's seed, signed by the
//! project's test CA).

use std::collections::BTreeMap;

use serde::Deserialize;

/// A whole card, after `extends` chains are merged.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// The profile's name (for reports and `extends`).
    pub name: String,
    /// What the card is for.
    #[serde(default)]
    pub description: String,
    /// The base profile this one overlays (already merged; kept for reports).
    #[serde(default)]
    pub extends: Option<String>,
    /// The ATR in hex; default: an EMV-compliant T=1 ATR.
    #[serde(default)]
    pub atr: Option<String>,
    /// Seed of every key and random number the card derives, so runs are
    /// reproducible.
    pub seed: String,
    /// The card's PIN.
    pub pin: PinSettings,
    /// Payment System Environment (`1PAY.SYS.DDF01`).
    #[serde(default)]
    pub pse: PseSettings,
    /// Applications by name.
    pub app: BTreeMap<String, AppProfile>,
    /// Whole-card flags.
    #[serde(default)]
    pub card: CardFlags,
    /// Faults the card injects (see `faults` module for the format).
    #[serde(default)]
    pub faults: Vec<toml::Value>,
}

/// Offline PIN held by the card (Book 3 §6.5.12).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PinSettings {
    /// The PIN digits, 4 to 12.
    pub value: String,
    /// PIN Try Limit.
    #[serde(default = "default_try_limit")]
    pub try_limit: u8,
    /// PIN Try Counter now; default: the limit. 0 means blocked.
    #[serde(default)]
    pub tries_left: Option<u8>,
}

const fn default_try_limit() -> u8 {
    3
}

/// The PSE directory (Book 1 §12.2.2).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PseSettings {
    /// Whether the card has a PSE.
    #[serde(default)]
    pub enabled: bool,
    /// SFI of the directory file (default 1).
    #[serde(default)]
    pub sfi: Option<u8>,
    /// Language preference in the PSE FCI (`5F2D`), e.g. "en".
    #[serde(default)]
    pub language: Option<String>,
}

/// Whole-card state.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardFlags {
    /// The card is blocked (CARD BLOCK done): every SELECT answers `6A81`.
    #[serde(default)]
    pub blocked: bool,
}

/// Cryptogram version, naming the issuer's recipe (key derivation, data,
/// padding, ARPC method).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum CvnName {
    /// Visa CVN 10.
    #[serde(rename = "visa-10")]
    Visa10,
    /// Visa CVN 18.
    #[serde(rename = "visa-18")]
    Visa18,
    /// Visa CVN 22.
    #[serde(rename = "visa-22")]
    Visa22,
    /// Mastercard CVN 16.
    #[serde(rename = "mc-16")]
    Mc16,
    /// Mastercard CVN 17.
    #[serde(rename = "mc-17")]
    Mc17,
    /// Mastercard CVN 20.
    #[serde(rename = "mc-20")]
    Mc20,
    /// Mastercard CVN 21.
    #[serde(rename = "mc-21")]
    Mc21,
}

/// ICC master key derivation (Book 2 A1.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub enum Derivation {
    /// Option A.
    #[default]
    A,
    /// Option B (PANs longer than 16 digits).
    B,
}

impl From<CvnName> for crate::issuer::Cvn {
    fn from(name: CvnName) -> Self {
        match name {
            CvnName::Visa10 => Self::Visa10,
            CvnName::Visa18 => Self::Visa18,
            CvnName::Visa22 => Self::Visa22,
            CvnName::Mc16 => Self::Mastercard16,
            CvnName::Mc17 => Self::Mastercard17,
            CvnName::Mc20 => Self::Mastercard20,
            CvnName::Mc21 => Self::Mastercard21,
        }
    }
}

impl From<Derivation> for crate::issuer::KeyDerivation {
    fn from(d: Derivation) -> Self {
        match d {
            Derivation::A => Self::OptionA,
            Derivation::B => Self::OptionB,
        }
    }
}

/// The application's issuer cryptography.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CryptoSettings {
    /// Cryptogram version.
    pub cvn: CvnName,
    /// ICC master key derivation option.
    #[serde(default)]
    pub derivation: Derivation,
    /// Issuer master key for application cryptograms (16 bytes hex).
    pub imk_ac: String,
    /// Issuer master key for secure-messaging integrity.
    pub imk_smi: String,
    /// Issuer master key for secure-messaging confidentiality.
    pub imk_smc: String,
    /// Derivation key index in the IAD.
    #[serde(default)]
    pub dki: Option<u8>,
}

impl CryptoSettings {
    /// The issuer master keys; on a bad key, the field name and the error.
    pub fn master_keys(&self) -> Result<crate::issuer::IssuerMasterKeys, (&'static str, String)> {
        let key = |field: &'static str, hex: &str| {
            crate::issuer::TdesKey::from_hex(hex).map_err(|e| (field, e.to_string()))
        };
        Ok(crate::issuer::IssuerMasterKeys {
            ac: key("imk_ac", &self.imk_ac)?,
            smi: key("imk_smi", &self.imk_smi)?,
            smc: key("imk_smc", &self.imk_smc)?,
        })
    }
}

/// Offline data authentication method the card supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OdaMethod {
    /// No ODA data.
    #[default]
    None,
    /// Static data authentication.
    Sda,
    /// Dynamic data authentication.
    Dda,
    /// Combined DDA / application cryptogram generation.
    Cda,
}

/// The application's ODA keys and certificates.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OdaSettings {
    /// Method.
    #[serde(default)]
    pub method: OdaMethod,
    /// Index of the project test CA that signs the issuer certificate
    /// (`8F`); an index the terminal does not know makes ODA fail.
    #[serde(default)]
    pub ca_index: Option<u8>,
    /// Issuer key size in bits.
    #[serde(default)]
    pub issuer_key_bits: Option<u16>,
    /// ICC key size in bits.
    #[serde(default)]
    pub icc_key_bits: Option<u16>,
    /// Public exponent of both keys: 3 or 65537.
    #[serde(default)]
    pub exponent: Option<u32>,
    /// Issuer certificate expiry, `MMYY`.
    #[serde(default)]
    pub issuer_cert_expiry: Option<String>,
    /// ICC certificate expiry, `MMYY`.
    #[serde(default)]
    pub icc_cert_expiry: Option<String>,
    /// Record (`"SFI.RECORD"`) that receives the certificates; it takes no
    /// part in ODA.
    #[serde(default)]
    pub record: Option<String>,
    /// Add the Static Data Authentication Tag List `9F4A` = `82`, so the
    /// AIP is signed too.
    #[serde(default)]
    pub sign_aip: bool,
}

/// Card risk management limits (the card's side of velocity checking).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskSettings {
    /// Offline transactions in a row after which the card asks to go online.
    #[serde(default)]
    pub lower_consecutive_offline_limit: Option<u16>,
    /// Offline transactions in a row after which the card declines offline.
    #[serde(default)]
    pub upper_consecutive_offline_limit: Option<u16>,
    /// Offline transactions since the last online one.
    #[serde(default)]
    pub consecutive_offline: Option<u16>,
    /// Application Transaction Counter.
    #[serde(default)]
    pub atc: Option<u16>,
    /// Last Online ATC Register (0: the card was never online: new card).
    #[serde(default)]
    pub last_online_atc: Option<u16>,
    /// A new card (never online) asks to go online.
    #[serde(default)]
    pub new_card_goes_online: Option<bool>,
    /// The last online transaction's issuer authentication failed.
    #[serde(default)]
    pub issuer_authentication_failed_last: bool,
    /// A script failed in the last online transaction.
    #[serde(default)]
    pub script_failed_last: bool,
    /// When the terminal could not go online, approve offline (TC) rather
    /// than decline (AAC) in the 2nd GENERATE AC.
    #[serde(default)]
    pub approve_when_unable_to_go_online: bool,
    /// Decline in the 2nd GENERATE AC when issuer authentication failed or
    /// was not performed although supported.
    #[serde(default)]
    pub decline_if_issuer_authentication_fails: Option<bool>,
}

/// One record: tag/value pairs, and whether it takes part in ODA.
pub type RecordSpec = BTreeMap<String, toml::Value>;

/// One application.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppProfile {
    /// Application identifier, hex.
    pub aid: String,
    /// Application label (`50`).
    pub label: String,
    /// Application Preferred Name (`9F12`).
    #[serde(default)]
    pub preferred_name: Option<String>,
    /// Application Priority Indicator b4–b1 (1 = highest).
    #[serde(default)]
    pub priority: Option<u8>,
    /// Application Priority Indicator b8: cardholder confirmation required.
    #[serde(default)]
    pub confirmation_required: bool,
    /// Language Preference (`5F2D`), e.g. "en".
    #[serde(default)]
    pub language: Option<String>,
    /// PDOL (`9F38`) in hex.
    #[serde(default)]
    pub pdol: Option<String>,
    /// Extra FCI Issuer Discretionary Data (`BF0C` content) as tag/value.
    #[serde(default)]
    pub fci_discretionary: BTreeMap<String, String>,
    /// Application Interchange Profile, hex (2 bytes).
    pub aip: String,
    /// Explicit AFL (hex); default: derived from the records.
    #[serde(default)]
    pub afl: Option<String>,
    /// GPO response format: 1 (`80`) or 2 (`77`).
    #[serde(default)]
    pub gpo_format: Option<u8>,
    /// GENERATE AC response format: 1 (`80`) or 2 (`77`); CDA always uses 2.
    #[serde(default)]
    pub genac_format: Option<u8>,
    /// The application is blocked: SELECT answers `6283`.
    #[serde(default)]
    pub blocked: bool,
    /// Card Sequence Number (`5F34`), default 0.
    #[serde(default)]
    pub psn: Option<u8>,
    /// Issuer cryptography.
    pub crypto: CryptoSettings,
    /// Offline data authentication.
    #[serde(default)]
    pub oda: OdaSettings,
    /// Card risk management.
    #[serde(default)]
    pub risk: RiskSettings,
    /// Data objects returned by GET DATA besides the counters (e.g. `9F4F`).
    #[serde(default)]
    pub get_data: BTreeMap<String, String>,
    /// Records by `"SFI.RECORD"`.
    #[serde(default)]
    pub records: BTreeMap<String, RecordSpec>,
}
