//! The terminal configuration file (TOML; users' documentation:
//! `docs/terminal-config.md`).
//!
//! What it holds, and where the specification defines it:
//!
//! - `[terminal]`: the terminal data elements of EMV 4.4 Book 4 Annex A
//!   and Book 3 Annex A ([`TerminalData`]);
//! - `[[aid]]`: the supported applications with their selection indicator
//!   (Book 1 §12.3), and their risk-management and action-analysis
//!   parameters (Book 3 §10.6–10.7) ([`AidConfig`]);
//! - `[[capk]]`: Certification Authority public keys, check sum verified at
//!   load (Book 2 §11.2) ([`CaPublicKey`]);
//! - `[[revoked]]`: the certification revocation list (Book 2 §5.3)
//!   ([`RevokedCertificate`]);
//! - `[exception_file]`: the terminal exception file (Book 3 §10.6.1)
//!   ([`ExceptionFile`]).
//!
//! A file may `extends = "NAME"` another (`NAME.toml` in the same folder,
//! else the built-in configuration `NAME`, e.g. `default`) and state only
//! its differences. Every error names file, line and field
//! ([`ConfigError`]).

mod aid;
pub mod builtin;
mod capk;
mod error;
mod exception;
mod reader;
mod terminal_data;
mod tree;

use std::path::{Path, PathBuf};

pub use aid::{
    AidConfig, AidMatch, ContactlessLimits, MAX_DOL_LEN, MAX_FLOOR_LIMIT, MAX_N12_AMOUNT,
    RandomSelection,
};
pub use capk::{
    CaPublicKey, Date, MAX_MODULUS_LEN, MIN_MODULUS_LEN, RevokedCertificate, capk_checksum,
};
pub use error::{ConfigError, ConfigErrorKind};
pub use exception::{ExceptionEntry, ExceptionFile, MAX_PAN_DIGITS, MIN_PAN_DIGITS, Pan};
pub use terminal_data::TerminalData;
pub use tree::MAX_CHAIN;

use reader::Field;
use tree::{Chain, Source};

/// The top-level keys of a configuration file (besides `extends`).
const FIELDS: &[&str] = &[
    "description",
    "terminal",
    "aid",
    "capk",
    "revoked",
    "exception_file",
];

/// A validated terminal configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TerminalConfig {
    /// Free text describing the configuration.
    pub description: String,
    /// The terminal's data elements.
    pub terminal: TerminalData,
    /// The supported applications, in file order (bases first).
    pub aids: Vec<AidConfig>,
    /// The CA public keys, each check sum verified.
    pub capks: Vec<CaPublicKey>,
    /// The certification revocation list.
    pub revoked: Vec<RevokedCertificate>,
    /// The terminal exception file.
    pub exception_file: ExceptionFile,
    /// The files the configuration was merged from, the loaded one first
    /// (paths, or `builtin:NAME`).
    pub sources: Vec<String>,
}

impl TerminalConfig {
    /// Loads a configuration file and the chain it extends.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the file, line and field at fault.
    pub fn load_file(path: &Path) -> Result<Self, ConfigError> {
        let top = tree::read_path(path)?;
        Self::from_source(top, path.parent())
    }

    /// Loads a configuration from `text`; `name` is used in messages and
    /// `extends` looks for `NAME.toml` in `dir`, then among the built-in
    /// configurations.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the file, line and field at fault.
    pub fn load_str(name: &str, text: &str, dir: Option<&Path>) -> Result<Self, ConfigError> {
        let top = Source {
            name: name.to_string(),
            path: None,
            text: text.to_string(),
        };
        Self::from_source(top, dir)
    }

    /// The built-in configuration `name` (see [`builtin::names`]).
    ///
    /// # Errors
    /// [`ConfigErrorKind::Extends`] for an unknown name; a built-in
    /// configuration that fails validation is a bug (tested).
    pub fn builtin(name: &str) -> Result<Self, ConfigError> {
        let text = builtin::text(name).ok_or_else(|| ConfigError {
            file: format!("builtin:{name}"),
            line: None,
            field: String::new(),
            kind: ConfigErrorKind::Extends(format!(
                "no built-in configuration {name:?} (have: {})",
                builtin::names().join(", ")
            )),
        })?;
        Self::load_str(&format!("builtin:{name}"), text, None)
    }

    /// The built-in `default` configuration: an attended, online-capable
    /// merchant terminal for the project's simulated cards and the public
    /// EMVCo scheme test keys (`terminal/config/default.toml`).
    ///
    /// # Errors
    /// None in practice (the file is validated by the tests).
    pub fn builtin_default() -> Result<Self, ConfigError> {
        Self::builtin("default")
    }

    /// Loads `spec`: a path to a `.toml` file (or any existing file), else
    /// a built-in configuration name.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the file, line and field at fault.
    pub fn load(spec: &str) -> Result<Self, ConfigError> {
        let path = PathBuf::from(spec);
        if path.extension().is_some_and(|e| e == "toml") || path.is_file() {
            Self::load_file(&path)
        } else {
            Self::builtin(spec)
        }
    }

    fn from_source(top: Source, dir: Option<&Path>) -> Result<Self, ConfigError> {
        let (chain, root) = tree::load_chain(top, dir)?;
        let sources = chain.sources.iter().map(|s| s.name.clone()).collect();
        let mut config = validate(&chain, &root)?;
        config.sources = sources;
        Ok(config)
    }

    /// The configuration of the application whose card DF name is
    /// `df_name`: the terminal AID equal to it, else the longest terminal
    /// AID that allows partial selection and that it starts with (Book 1
    /// §12.3.1).
    #[must_use]
    pub fn find_aid(&self, df_name: &[u8]) -> Option<(&AidConfig, AidMatch)> {
        self.aids
            .iter()
            .find(|a| a.matches(df_name) == Some(AidMatch::Exact))
            .map(|a| (a, AidMatch::Exact))
            .or_else(|| {
                self.aids
                    .iter()
                    .filter(|a| a.matches(df_name) == Some(AidMatch::Partial))
                    .max_by_key(|a| a.aid.len())
                    .map(|a| (a, AidMatch::Partial))
            })
    }

    /// The configuration of the application with DF name `df_name`
    /// ([`TerminalConfig::find_aid`] without the match kind).
    #[must_use]
    pub fn aid(&self, df_name: &[u8]) -> Option<&AidConfig> {
        self.find_aid(df_name).map(|(a, _)| a)
    }

    /// The CA public key with RID `rid` and index `index`.
    #[must_use]
    pub fn capk(&self, rid: [u8; 5], index: u8) -> Option<&CaPublicKey> {
        self.capks.iter().find(|k| k.rid == rid && k.index == index)
    }

    /// True when the certificate with serial number `certificate_serial`,
    /// signed by CA key `rid`/`index`, is on the revocation list.
    #[must_use]
    pub fn is_revoked(&self, rid: [u8; 5], index: u8, certificate_serial: [u8; 3]) -> bool {
        self.revoked
            .iter()
            .any(|r| r.rid == rid && r.index == index && r.serial == certificate_serial)
    }

    /// True when the card (PAN as the value of tag `5A`, PSN as the `5F34`
    /// byte) is on the exception file.
    #[must_use]
    pub fn is_on_exception_file(&self, pan_5a: &[u8], psn: Option<u8>) -> bool {
        self.exception_file.contains_bcd(pan_5a, psn)
    }
}

/// The kernel's view of the configured CA public keys and revocation list
/// (EMV Book 2 §5.2, §5.3 step 10), for offline data authentication.
impl emv_kernel::oda::CapkStore for TerminalConfig {
    fn capk(&self, rid: [u8; 5], index: u8) -> Option<emv_kernel::oda::Capk<'_>> {
        Self::capk(self, rid, index).map(CaPublicKey::as_kernel_capk)
    }

    fn is_revoked(&self, rid: [u8; 5], index: u8, certificate_serial: [u8; 3]) -> bool {
        Self::is_revoked(self, rid, index, certificate_serial)
    }
}

/// Turns the merged tree into a validated configuration.
fn validate(chain: &Chain, root: &tree::Node) -> Result<TerminalConfig, ConfigError> {
    let root = Field {
        chain,
        node: root,
        path: String::new(),
    };
    let table = root.table(FIELDS)?;
    let description = match table.get("description") {
        Some(f) => f.str()?.to_string(),
        None => String::new(),
    };
    let terminal = terminal_data::read(&table.req("terminal")?)?;
    let aids = match table.get("aid") {
        Some(f) => aid::read_all(&f, terminal.currency_exponent)?,
        None => Vec::new(),
    };
    let capks = match table.get("capk") {
        Some(f) => capk::read_all_capks(&f)?,
        None => Vec::new(),
    };
    let revoked = match table.get("revoked") {
        Some(f) => capk::read_all_revoked(&f)?,
        None => Vec::new(),
    };
    let exception_file = match table.get("exception_file") {
        Some(f) => exception::read(&f)?,
        None => ExceptionFile::default(),
    };
    Ok(TerminalConfig {
        description,
        terminal,
        aids,
        capks,
        revoked,
        exception_file,
        sources: Vec::new(),
    })
}
