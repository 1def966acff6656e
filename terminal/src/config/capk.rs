//! `[[capk]]` and `[[revoked]]`: the Certification Authority public keys
//! and the certificate revocation list.
//!
//! - CA public keys (EMV 4.4 Book 2 §5.1–5.2, §6.1–6.2; terminal storage
//!   and the CA public key check sum, Book 2 §11.2): each key's check sum
//!   `SHA-1(RID ‖ CA public key index ‖ modulus ‖ exponent)` is recomputed
//!   at load and a mismatch is rejected. Moduli must be 64–248 bytes
//!   (512–1984 bits), odd and without a leading zero byte; exponents 3 or
//!   65537 (Book 2 §5.1, Annex B2.1; the lower size bound is the project's
//!   choice, marked [M] in `docs/terminal-config.md`).
//! - Certification revocation list (Book 2 §5.3 step 10, Book 3 §10.3):
//!   RID ‖ CA index ‖ issuer certificate serial number (3 bytes).

use std::fmt;

use sha1::{Digest, Sha1};

use super::error::{ConfigError, ConfigErrorKind};
use super::reader::Field;
use super::tree::{Value, entry_path};

/// Shortest CA public key modulus, in bytes (512 bits).
pub const MIN_MODULUS_LEN: usize = 64;
/// Longest CA public key modulus, in bytes (1984 bits, Book 2).
pub const MAX_MODULUS_LEN: usize = 248;

/// The keys of a `[[capk]]` entry.
pub(crate) const CAPK_FIELDS: &[&str] =
    &["rid", "index", "modulus", "exponent", "checksum", "expiry"];
/// The keys of a `[[revoked]]` entry.
pub(crate) const REVOKED_FIELDS: &[&str] = &["rid", "index", "serial"];

/// A calendar date (Gregorian), as CA key expiry dates are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    /// Year, 2000–2099.
    pub year: u16,
    /// Month, 1–12.
    pub month: u8,
    /// Day of the month, 1–31 (valid for the month).
    pub day: u8,
}

impl Date {
    /// The date, if it exists and its year is 2000–2099.
    #[must_use]
    pub fn new(year: u16, month: u8, day: u8) -> Option<Self> {
        let valid = (2000..=2099).contains(&year)
            && (1..=12).contains(&month)
            && day >= 1
            && day <= days_in_month(year, month);
        valid.then_some(Self { year, month, day })
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// A CA public key, its check sum verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaPublicKey {
    /// Registered Application Provider Identifier.
    pub rid: [u8; 5],
    /// CA Public Key Index (tag `8F` on the card).
    pub index: u8,
    /// The modulus, big endian, 64–248 bytes.
    pub modulus: Vec<u8>,
    /// The exponent as encoded: `03` or `01 00 01`.
    pub exponent: Vec<u8>,
    /// The check sum: SHA-1(RID ‖ index ‖ modulus ‖ exponent).
    pub checksum: [u8; 20],
    /// The last day the key is valid; `None` = no expiry configured.
    pub expiry: Option<Date>,
}

impl CaPublicKey {
    /// Modulus length in bits.
    #[must_use]
    pub fn bits(&self) -> usize {
        let lead = self
            .modulus
            .first()
            .map_or(8, |b| b.leading_zeros() as usize);
        (self.modulus.len() * 8).saturating_sub(lead)
    }

    /// Expiry as (year, month), the form the kernel compares with.
    #[must_use]
    pub fn expiry_month(&self) -> Option<(u16, u8)> {
        self.expiry.map(|d| (d.year, d.month))
    }

    /// The key as the kernel's offline data authentication takes it. The
    /// kernel compares expiry by month: a key is valid through the end of
    /// its expiry month, whatever the day configured.
    #[must_use]
    pub fn as_kernel_capk(&self) -> emv_kernel::oda::Capk<'_> {
        emv_kernel::oda::Capk {
            rid: self.rid,
            index: self.index,
            modulus: &self.modulus,
            exponent: &self.exponent,
            expiry: self.expiry_month(),
        }
    }

    /// True when the key has an expiry date and `today` is after it.
    #[must_use]
    pub fn is_expired_on(&self, today: Date) -> bool {
        self.expiry.is_some_and(|e| today > e)
    }
}

/// One entry of the certification revocation list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RevokedCertificate {
    /// RID of the CA that issued the certificate.
    pub rid: [u8; 5],
    /// CA Public Key Index that signed it.
    pub index: u8,
    /// The issuer public key certificate's serial number.
    pub serial: [u8; 3],
}

/// The CA public key check sum (Book 2 §11.2): SHA-1(RID ‖ index ‖ modulus
/// ‖ exponent).
#[must_use]
pub fn capk_checksum(rid: [u8; 5], index: u8, modulus: &[u8], exponent: &[u8]) -> [u8; 20] {
    let mut h = Sha1::new();
    h.update(rid);
    h.update([index]);
    h.update(modulus);
    h.update(exponent);
    h.finalize().into()
}

fn read_index(f: &Field<'_>) -> Result<u8, ConfigError> {
    if matches!(f.node.value, Value::Integer(_)) {
        return Err(f.error(ConfigErrorKind::WrongType {
            expected: "the CA public key index as two hex digits, e.g. \"01\"",
            found: "an integer",
        }));
    }
    let [index] = f.hex_array()?;
    Ok(index)
}

/// Reads one `[[capk]]` entry and verifies it.
pub(crate) fn read_capk(entry: &Field<'_>) -> Result<CaPublicKey, ConfigError> {
    let table = entry.table(CAPK_FIELDS)?;
    let rid: [u8; 5] = table.req("rid")?.hex_array()?;
    let index = read_index(&table.req("index")?)?;

    let f = table.req("exponent")?;
    let exponent = f.hex(1, 3)?;
    if exponent != [0x03] && exponent != [0x01, 0x00, 0x01] {
        return Err(f.error(ConfigErrorKind::UnsupportedExponent {
            rid,
            index,
            exponent: hex::encode_upper(&exponent),
        }));
    }

    let f = table.req("modulus")?;
    let modulus = decode_modulus(&f)?;
    let invalid = |reason: String| f.error(ConfigErrorKind::InvalidModulus { rid, index, reason });
    if !(MIN_MODULUS_LEN..=MAX_MODULUS_LEN).contains(&modulus.len()) {
        return Err(invalid(format!(
            "{} bytes ({} bits); allowed {MIN_MODULUS_LEN}-{MAX_MODULUS_LEN} bytes (512-1984 bits)",
            modulus.len(),
            modulus.len() * 8
        )));
    }
    if modulus.first() == Some(&0) {
        return Err(invalid("leading zero byte".into()));
    }
    if modulus.last().is_some_and(|b| b & 1 == 0) {
        return Err(invalid("even (an RSA modulus is odd)".into()));
    }

    let f = table.req("checksum")?;
    let checksum: [u8; 20] = f.hex_array()?;
    let computed = capk_checksum(rid, index, &modulus, &exponent);
    if computed != checksum {
        return Err(f.error(ConfigErrorKind::ChecksumMismatch {
            rid,
            index,
            given: checksum,
            computed,
        }));
    }

    let expiry = table.get("expiry").map(|f| read_date(&f)).transpose()?;
    Ok(CaPublicKey {
        rid,
        index,
        modulus,
        exponent,
        checksum,
        expiry,
    })
}

/// The modulus in hex, any length (the length rule gives a better message).
fn decode_modulus(f: &Field<'_>) -> Result<Vec<u8>, ConfigError> {
    f.hex(0, usize::MAX)
}

/// A date: a TOML local date (`2049-12-31`) or a string `"YYYY-MM-DD"`.
fn read_date(f: &Field<'_>) -> Result<Date, ConfigError> {
    let invalid = |m: String| f.error(ConfigErrorKind::InvalidDate(m));
    let (year, month, day) = match &f.node.value {
        Value::Datetime(d) => match (d.date, d.time, d.offset) {
            (Some(date), None, None) => (date.year, date.month, date.day),
            _ => return Err(invalid(format!("{d}: expected a date only, YYYY-MM-DD"))),
        },
        Value::String(s) => {
            parse_date(s).ok_or_else(|| invalid(format!("{s:?}: expected YYYY-MM-DD")))?
        }
        other => {
            return Err(f.error(ConfigErrorKind::WrongType {
                expected: "a date (2049-12-31 or \"2049-12-31\")",
                found: other.type_name(),
            }));
        }
    };
    Date::new(year, month, day).ok_or_else(|| {
        invalid(format!(
            "{year:04}-{month:02}-{day:02} does not exist or is outside 2000-2099"
        ))
    })
}

fn parse_date(s: &str) -> Option<(u16, u8, u8)> {
    let mut parts = s.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let all_digits = [y, m, d]
        .iter()
        .all(|p| p.bytes().all(|b| b.is_ascii_digit()));
    if !all_digits {
        return None;
    }
    Some((y.parse().ok()?, m.parse().ok()?, d.parse().ok()?))
}

/// Reads every `[[capk]]` entry; (RID, index) must be unique.
pub(crate) fn read_all_capks(array: &Field<'_>) -> Result<Vec<CaPublicKey>, ConfigError> {
    let mut out: Vec<CaPublicKey> = Vec::new();
    for (i, mut f) in array.array()?.into_iter().enumerate() {
        f.path = entry_path("capk", f.node, i);
        let key = read_capk(&f)?;
        if out.iter().any(|k| k.rid == key.rid && k.index == key.index) {
            return Err(f.error(ConfigErrorKind::Duplicate(format!(
                "CAPK {}/{:02X}",
                hex::encode_upper(key.rid),
                key.index
            ))));
        }
        out.push(key);
    }
    Ok(out)
}

/// Reads every `[[revoked]]` entry; entries must be unique.
pub(crate) fn read_all_revoked(array: &Field<'_>) -> Result<Vec<RevokedCertificate>, ConfigError> {
    let mut out: Vec<RevokedCertificate> = Vec::new();
    for (i, mut f) in array.array()?.into_iter().enumerate() {
        f.path = entry_path("revoked", f.node, i);
        let table = f.table(REVOKED_FIELDS)?;
        let entry = RevokedCertificate {
            rid: table.req("rid")?.hex_array()?,
            index: read_index(&table.req("index")?)?,
            serial: table.req("serial")?.hex_array()?,
        };
        if out.contains(&entry) {
            return Err(f.error(ConfigErrorKind::Duplicate(format!(
                "revoked certificate {}/{:02X}/{}",
                hex::encode_upper(entry.rid),
                entry.index,
                hex::encode_upper(entry.serial)
            ))));
        }
        out.push(entry);
    }
    Ok(out)
}
