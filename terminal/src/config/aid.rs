//! `[[aid]]`: the applications the terminal supports and their parameters.
//!
//! - Application selection (EMV 4.4 Book 1 §12.3): the terminal AID and its
//!   Application Selection Indicator (ASI: exact match only, or partial
//!   match allowed, Book 1 §12.3.1).
//! - Processing restrictions (Book 3 §10.4): Application Version Number –
//!   terminal (`9F09`).
//! - Terminal risk management (Book 3 §10.6): Terminal Floor Limit (`9F1B`),
//!   random transaction selection (threshold, target percentage, maximum
//!   target percentage, §10.6.2), velocity checking (§10.6.3).
//! - Terminal action analysis (Book 3 §10.7): Terminal Action Codes Denial,
//!   Online and Default.
//! - Default DDOL (Book 2 §6.5.1) and default TDOL (Book 3 §5.4, §10.8).
//! - Contactless reader limits (EMV Contactless Book A §5.7 / Book B §3.1:
//!   transaction limit, floor limit, CVM required limit), parsed for the
//!   contactless kernels to come.

use emv_kernel::Tag;
use emv_kernel::wire::dol;

use super::error::{ConfigError, ConfigErrorKind};
use super::reader::{Field, Table};
use super::tree::entry_path;

/// Application Version Number – terminal.
const APPLICATION_VERSION: Tag = Tag::new(0x9F09);
/// Unpredictable Number, which a default DDOL must request.
const UNPREDICTABLE_NUMBER: Tag = Tag::new(0x9F37);

/// Largest amount the 4-byte binary Terminal Floor Limit (`9F1B`) holds.
pub const MAX_FLOOR_LIMIT: u64 = u32::MAX as u64;
/// Largest amount an `n 12` amount holds (contactless limits).
pub const MAX_N12_AMOUNT: u64 = 999_999_999_999;
/// Longest default DDOL or TDOL, in bytes.
pub const MAX_DOL_LEN: usize = 252;

/// The keys of an `[[aid]]` entry.
pub(crate) const FIELDS: &[&str] = &[
    "aid",
    "name",
    "partial_selection",
    "application_version",
    "floor_limit",
    "tac_denial",
    "tac_online",
    "tac_default",
    "random_selection",
    "default_ddol",
    "default_tdol",
    "velocity_checking",
    "contactless",
];

const RANDOM_FIELDS: &[&str] = &["threshold", "target_percent", "max_target_percent"];
const CONTACTLESS_FIELDS: &[&str] = &["transaction_limit", "floor_limit", "cvm_required_limit"];

/// How a card's DF name matched a terminal AID (Book 1 §12.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AidMatch {
    /// The DF name equals the terminal AID.
    Exact,
    /// The DF name is longer and starts with the terminal AID, whose ASI
    /// allows partial selection.
    Partial,
}

/// Parameters of one application the terminal supports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AidConfig {
    /// The terminal AID (5–16 bytes): RID ‖ PIX.
    pub aid: Vec<u8>,
    /// A readable name for logs and menus (not sent to the card).
    pub name: String,
    /// The Application Selection Indicator: `true` = partial match allowed
    /// (a card DF name longer than [`AidConfig::aid`] that starts with it
    /// matches), `false` = exact match only.
    pub partial_selection: bool,
    /// `9F09` Application Version Number – terminal.
    pub application_version: [u8; 2],
    /// `9F1B` Terminal Floor Limit, in minor units of the transaction
    /// currency.
    pub floor_limit: u32,
    /// Terminal Action Code – Denial.
    pub tac_denial: [u8; 5],
    /// Terminal Action Code – Online.
    pub tac_online: [u8; 5],
    /// Terminal Action Code – Default.
    pub tac_default: [u8; 5],
    /// Random transaction selection; `None` = not performed.
    pub random_selection: Option<RandomSelection>,
    /// Default DDOL, used when the card has no DDOL (`9F49`).
    pub default_ddol: Option<Vec<u8>>,
    /// Default TDOL, used when the card has no TDOL (`97`).
    pub default_tdol: Option<Vec<u8>>,
    /// Whether the terminal performs velocity checking (Book 3 §10.6.3)
    /// when the card provides LCOL/UCOL.
    pub velocity_checking: bool,
    /// Contactless reader limits; `None` when not configured.
    pub contactless: Option<ContactlessLimits>,
}

/// Random transaction selection parameters (Book 3 §10.6.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RandomSelection {
    /// Threshold Value for Biased Random Selection, minor units; below the
    /// floor limit.
    pub threshold: u32,
    /// Target Percentage to be Used for Random Selection, 0–99.
    pub target_percent: u8,
    /// Maximum Target Percentage to be Used for Biased Random Selection,
    /// `target_percent`–99.
    pub max_target_percent: u8,
}

/// Contactless reader limits (Book A/B), minor units; each optional.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ContactlessLimits {
    /// Reader Contactless Transaction Limit: at or above it, no contactless
    /// transaction.
    pub transaction_limit: Option<u64>,
    /// Reader Contactless Floor Limit.
    pub floor_limit: Option<u64>,
    /// Reader CVM Required Limit: at or above it, a CVM is required.
    pub cvm_required_limit: Option<u64>,
}

impl AidConfig {
    /// The Application Selection Indicator byte: `01` partial match
    /// allowed, `00` exact match only.
    #[must_use]
    pub const fn asi(&self) -> u8 {
        if self.partial_selection { 0x01 } else { 0x00 }
    }

    /// The RID: the AID's first five bytes.
    #[must_use]
    pub fn rid(&self) -> [u8; 5] {
        let mut rid = [0; 5];
        for (r, a) in rid.iter_mut().zip(&self.aid) {
            *r = *a;
        }
        rid
    }

    /// How the card DF name `df_name` matches this terminal AID, honouring
    /// the ASI; `None` when it does not.
    #[must_use]
    pub fn matches(&self, df_name: &[u8]) -> Option<AidMatch> {
        if df_name == self.aid.as_slice() {
            Some(AidMatch::Exact)
        } else if self.partial_selection
            && df_name.len() > self.aid.len()
            && df_name.starts_with(&self.aid)
        {
            Some(AidMatch::Partial)
        } else {
            None
        }
    }

    /// The terminal elements this entry sets, as (tag, value):
    /// `9F09` and `9F1B`.
    #[must_use]
    pub fn data_elements(&self) -> Vec<(Tag, Vec<u8>)> {
        vec![
            (APPLICATION_VERSION, self.application_version.to_vec()),
            (Tag::new(0x9F1B), self.floor_limit.to_be_bytes().to_vec()),
        ]
    }
}

/// Reads one `[[aid]]` entry.
pub(crate) fn read(entry: &Field<'_>, currency_exponent: u8) -> Result<AidConfig, ConfigError> {
    let table = entry.table(FIELDS)?;
    let aid = table.req("aid")?.hex(5, 16)?;
    let name = match table.get("name") {
        Some(f) => f.str()?.to_string(),
        None => String::new(),
    };
    let partial_selection = match table.get("partial_selection") {
        Some(f) => f.bool()?,
        None => false,
    };
    let f = table.req("application_version")?;
    let application_version = f.fixed(f.element(APPLICATION_VERSION)?)?;
    let f = table.req("floor_limit")?;
    let floor_limit = to_u32(&f, f.amount(currency_exponent, MAX_FLOOR_LIMIT)?)?;
    let tac_denial = table.req("tac_denial")?.hex_array()?;
    let tac_online = table.req("tac_online")?.hex_array()?;
    let tac_default = table.req("tac_default")?.hex_array()?;
    let random_selection = table
        .get("random_selection")
        .map(|f| read_random(&f, currency_exponent, floor_limit))
        .transpose()?;
    let default_ddol = table
        .get("default_ddol")
        .map(|f| read_dol(&f, true))
        .transpose()?;
    let default_tdol = table
        .get("default_tdol")
        .map(|f| read_dol(&f, false))
        .transpose()?;
    let velocity_checking = match table.get("velocity_checking") {
        Some(f) => f.bool()?,
        None => true,
    };
    let contactless = table
        .get("contactless")
        .map(|f| read_contactless(&f, currency_exponent))
        .transpose()?;
    Ok(AidConfig {
        aid,
        name,
        partial_selection,
        application_version,
        floor_limit,
        tac_denial,
        tac_online,
        tac_default,
        random_selection,
        default_ddol,
        default_tdol,
        velocity_checking,
        contactless,
    })
}

/// Reads every `[[aid]]` entry; AIDs must be unique.
pub(crate) fn read_all(
    array: &Field<'_>,
    currency_exponent: u8,
) -> Result<Vec<AidConfig>, ConfigError> {
    let mut out: Vec<AidConfig> = Vec::new();
    for (i, mut f) in array.array()?.into_iter().enumerate() {
        f.path = entry_path("aid", f.node, i);
        let aid = read(&f, currency_exponent)?;
        if out.iter().any(|a| a.aid == aid.aid) {
            return Err(f.error(ConfigErrorKind::Duplicate(format!(
                "AID {}",
                hex::encode_upper(&aid.aid)
            ))));
        }
        out.push(aid);
    }
    Ok(out)
}

fn to_u32(f: &Field<'_>, minor: u64) -> Result<u32, ConfigError> {
    u32::try_from(minor).map_err(|_| {
        f.error(ConfigErrorKind::InvalidAmount(format!(
            "{minor} minor units do not fit the 4-byte floor limit"
        )))
    })
}

fn percent(table: &Table<'_>, key: &str) -> Result<u8, ConfigError> {
    let f = table.req(key)?;
    let v = f.integer_in(0..=99)?;
    u8::try_from(v).map_err(|_| f.error(ConfigErrorKind::OutOfRange(format!("{v} is not 0..=99"))))
}

fn read_random(
    f: &Field<'_>,
    currency_exponent: u8,
    floor_limit: u32,
) -> Result<RandomSelection, ConfigError> {
    let table = f.table(RANDOM_FIELDS)?;
    let t = table.req("threshold")?;
    let threshold = to_u32(&t, t.amount(currency_exponent, MAX_FLOOR_LIMIT)?)?;
    if threshold >= floor_limit {
        return Err(t.error(ConfigErrorKind::OutOfRange(format!(
            "threshold ({threshold} minor units) must be below the floor limit ({floor_limit}); Book 3 §10.6.2"
        ))));
    }
    let target_percent = percent(&table, "target_percent")?;
    let max_target_percent = percent(&table, "max_target_percent")?;
    if max_target_percent < target_percent {
        let m = table.req("max_target_percent")?;
        return Err(m.error(ConfigErrorKind::OutOfRange(format!(
            "max_target_percent ({max_target_percent}) is below target_percent ({target_percent})"
        ))));
    }
    Ok(RandomSelection {
        threshold,
        target_percent,
        max_target_percent,
    })
}

fn read_contactless(
    f: &Field<'_>,
    currency_exponent: u8,
) -> Result<ContactlessLimits, ConfigError> {
    let table = f.table(CONTACTLESS_FIELDS)?;
    let amount = |key: &str| {
        table
            .get(key)
            .map(|f| f.amount(currency_exponent, MAX_N12_AMOUNT))
            .transpose()
    };
    Ok(ContactlessLimits {
        transaction_limit: amount("transaction_limit")?,
        floor_limit: amount("floor_limit")?,
        cvm_required_limit: amount("cvm_required_limit")?,
    })
}

/// A DOL: hex, well formed (Book 3 §5.4); a default DDOL must request the
/// Unpredictable Number (`9F37`, Book 2 §6.5.1).
fn read_dol(f: &Field<'_>, is_ddol: bool) -> Result<Vec<u8>, ConfigError> {
    let bytes = f.hex(1, MAX_DOL_LEN)?;
    let mut has_un = false;
    for entry in dol::entries(&bytes) {
        let entry = entry.map_err(|e| f.error(ConfigErrorKind::InvalidDol(e.to_string())))?;
        has_un |= entry.tag == UNPREDICTABLE_NUMBER;
    }
    if is_ddol && !has_un {
        return Err(f.error(ConfigErrorKind::InvalidDol(
            "a default DDOL must request the Unpredictable Number 9F37 (Book 2 §6.5.1)".into(),
        )));
    }
    Ok(bytes)
}
