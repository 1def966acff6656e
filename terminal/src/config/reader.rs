//! Typed reading of the merged tree: tables with a fixed set of keys, and
//! values in the encodings of the EMV data dictionary (EMV 4.4 Book 3 §4.3
//! formats `b`, `n`, `an`, `ans`; lengths from Annex A via
//! [`emv_kernel::data::dictionary::lookup`]).
//!
//! Every failure becomes a [`ConfigError`] at the file and line that set
//! the value, with the field's dotted path.

use std::collections::BTreeMap;

use emv_kernel::Tag;
use emv_kernel::data::Format;
use emv_kernel::data::dictionary;

use super::error::{ConfigError, ConfigErrorKind};
use super::tree::{Chain, Node, Value};

/// One value of the tree with its path, ready to be read as a type.
#[derive(Clone)]
pub(crate) struct Field<'a> {
    pub(crate) chain: &'a Chain,
    pub(crate) node: &'a Node,
    pub(crate) path: String,
}

/// A table whose keys were checked against the allowed set.
pub(crate) struct Table<'a> {
    field: Field<'a>,
    map: &'a BTreeMap<String, Node>,
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

impl<'a> Field<'a> {
    /// An error about this value.
    pub(crate) fn error(&self, kind: ConfigErrorKind) -> ConfigError {
        self.chain.error(self.node.at, &self.path, kind)
    }

    fn wrong_type(&self, expected: &'static str) -> ConfigError {
        self.error(ConfigErrorKind::WrongType {
            expected,
            found: self.node.value.type_name(),
        })
    }

    /// The value as a string.
    pub(crate) fn str(&self) -> Result<&'a str, ConfigError> {
        match &self.node.value {
            Value::String(s) => Ok(s),
            _ => Err(self.wrong_type("a string")),
        }
    }

    /// The value as a boolean.
    pub(crate) fn bool(&self) -> Result<bool, ConfigError> {
        match self.node.value {
            Value::Boolean(b) => Ok(b),
            _ => Err(self.wrong_type("a boolean (true or false)")),
        }
    }

    /// The value as an integer in `range`.
    pub(crate) fn integer_in(
        &self,
        range: std::ops::RangeInclusive<i64>,
    ) -> Result<i64, ConfigError> {
        match self.node.value {
            Value::Integer(i) if range.contains(&i) => Ok(i),
            Value::Integer(i) => Err(self.error(ConfigErrorKind::OutOfRange(format!(
                "{i} is outside {}..={}",
                range.start(),
                range.end()
            )))),
            _ => Err(self.wrong_type("an integer")),
        }
    }

    /// The value as a table with keys among `allowed`.
    pub(crate) fn table(&self, allowed: &'static [&'static str]) -> Result<Table<'a>, ConfigError> {
        let Value::Table(map) = &self.node.value else {
            return Err(self.wrong_type("a table"));
        };
        if let Some((key, node)) = map.iter().find(|(k, _)| !allowed.contains(&k.as_str())) {
            return Err(self.chain.error(
                node.at,
                &join(&self.path, key),
                ConfigErrorKind::UnknownField { expected: allowed },
            ));
        }
        Ok(Table {
            field: self.clone(),
            map,
        })
    }

    /// The value as an array; elements are named `path[i]`.
    pub(crate) fn array(&self) -> Result<Vec<Field<'a>>, ConfigError> {
        let Value::Array(items) = &self.node.value else {
            return Err(self.wrong_type("an array"));
        };
        Ok(items
            .iter()
            .enumerate()
            .map(|(i, node)| Field {
                chain: self.chain,
                node,
                path: format!("{}[{i}]", self.path),
            })
            .collect())
    }

    /// The value as hex bytes (ASCII white space ignored), `min..=max`
    /// bytes long.
    pub(crate) fn hex(&self, min: usize, max: usize) -> Result<Vec<u8>, ConfigError> {
        let text = self.str()?;
        let bytes = decode_hex(text).map_err(|m| self.error(ConfigErrorKind::InvalidHex(m)))?;
        if bytes.len() < min || bytes.len() > max {
            return Err(self.error(ConfigErrorKind::WrongLength {
                expected: byte_range(min, max),
                actual: bytes.len(),
            }));
        }
        Ok(bytes)
    }

    /// The value as exactly `N` hex bytes.
    pub(crate) fn hex_array<const N: usize>(&self) -> Result<[u8; N], ConfigError> {
        let bytes = self.hex(N, N)?;
        self.fixed(bytes)
    }

    /// `bytes` as an array of `N` (the length was checked before).
    pub(crate) fn fixed<const N: usize>(&self, bytes: Vec<u8>) -> Result<[u8; N], ConfigError> {
        let len = bytes.len();
        <[u8; N]>::try_from(bytes).map_err(|_| {
            self.error(ConfigErrorKind::WrongLength {
                expected: byte_range(N, N),
                actual: len,
            })
        })
    }

    /// The value of data element `tag`, written as its format wants: hex
    /// for `b`, decimal digits (two per byte) for `n`, text for `an` and
    /// `ans`; length within the dictionary's range.
    pub(crate) fn element(&self, tag: Tag) -> Result<Vec<u8>, ConfigError> {
        let Some(entry) = dictionary::lookup(tag) else {
            return Err(self.error(ConfigErrorKind::OutOfRange(format!(
                "tag {tag} is not in the data dictionary"
            ))));
        };
        let (min, max) = (usize::from(entry.min_len), usize::from(entry.max_len));
        let bytes = match entry.format {
            Format::N => {
                let text = self.str()?;
                let bytes = decode_digits(text).map_err(|m| {
                    self.error(ConfigErrorKind::InvalidDigits(format!(
                        "{tag} {}: {m}",
                        entry.name
                    )))
                })?;
                if bytes.len() < min || bytes.len() > max {
                    return Err(self.error(ConfigErrorKind::InvalidDigits(format!(
                        "{tag} {} (format n, {}): {} digits given, expected {}",
                        entry.name,
                        byte_range(min, max),
                        text.len(),
                        digit_range(min, max)
                    ))));
                }
                bytes
            }
            Format::A | Format::An | Format::Ans => {
                let text = self.str()?;
                if let Some(c) = text.chars().find(|&c| !allowed_char(entry.format, c)) {
                    return Err(self.error(ConfigErrorKind::InvalidText(format!(
                        "{tag} {} (format {}): character {c:?} not allowed",
                        entry.name, entry.format
                    ))));
                }
                let bytes = text.as_bytes().to_vec();
                if bytes.len() < min || bytes.len() > max {
                    return Err(self.error(ConfigErrorKind::InvalidText(format!(
                        "{tag} {} (format {}): {} characters given, expected {}",
                        entry.name,
                        entry.format,
                        bytes.len(),
                        char_range(min, max)
                    ))));
                }
                bytes
            }
            Format::B | Format::Cn | Format::Var => self.hex(min, max).map_err(|mut e| {
                if let ConfigErrorKind::InvalidHex(m) = &mut e.kind {
                    *m = format!("{tag} {} (format b): {m}", entry.name);
                }
                e
            })?,
        };
        Ok(bytes)
    }

    /// The value as an amount in minor units: a decimal string in major
    /// units with at most `exponent` decimals (`"50.00"` = 5000 for
    /// exponent 2), at most `max` minor units.
    pub(crate) fn amount(&self, exponent: u8, max: u64) -> Result<u64, ConfigError> {
        let text = match &self.node.value {
            Value::String(s) => s.as_str(),
            Value::Integer(_) | Value::Float => {
                return Err(self.error(ConfigErrorKind::InvalidAmount(format!(
                    "amounts are decimal strings in major units, e.g. \"50.00\" (currency exponent {exponent}), not TOML numbers"
                ))));
            }
            _ => return Err(self.wrong_type("an amount string such as \"50.00\"")),
        };
        let minor = parse_amount(text, exponent)
            .map_err(|m| self.error(ConfigErrorKind::InvalidAmount(m)))?;
        if minor > max {
            return Err(self.error(ConfigErrorKind::InvalidAmount(format!(
                "amount {text:?} is {minor} minor units, more than the element holds ({max})"
            ))));
        }
        Ok(minor)
    }
}

impl<'a> Table<'a> {
    /// The value at `key`, if present.
    pub(crate) fn get(&self, key: &str) -> Option<Field<'a>> {
        self.map.get(key).map(|node| Field {
            chain: self.field.chain,
            node,
            path: join(&self.field.path, key),
        })
    }

    /// The value at `key`; an error at the table's line when absent.
    pub(crate) fn req(&self, key: &str) -> Result<Field<'a>, ConfigError> {
        self.get(key).ok_or_else(|| {
            self.field.chain.error(
                self.field.node.at,
                &join(&self.field.path, key),
                ConfigErrorKind::MissingField,
            )
        })
    }
}

/// `a`: letters; `an`: letters and digits; `ans`: printable ASCII (the
/// common character set of ISO/IEC 8859), space included.
fn allowed_char(format: Format, c: char) -> bool {
    match format {
        Format::A => c.is_ascii_alphabetic(),
        Format::An => c.is_ascii_alphanumeric(),
        _ => c == ' ' || c.is_ascii_graphic(),
    }
}

fn byte_range(min: usize, max: usize) -> String {
    if min == max {
        format!("{min} bytes")
    } else if max == usize::from(dictionary::UNBOUNDED) {
        format!("at least {min} bytes")
    } else {
        format!("{min} to {max} bytes")
    }
}

fn digit_range(min: usize, max: usize) -> String {
    if min == max {
        format!("{} digits", min * 2)
    } else {
        format!("an even number of digits, {} to {}", min * 2, max * 2)
    }
}

fn char_range(min: usize, max: usize) -> String {
    if min == max {
        format!("{min}")
    } else if max == usize::from(dictionary::UNBOUNDED) {
        format!("at least {min}")
    } else {
        format!("{min} to {max}")
    }
}

/// Hex digits to bytes; ASCII white space is ignored.
pub(crate) fn decode_hex(text: &str) -> Result<Vec<u8>, String> {
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    hex::decode(&compact).map_err(|e| format!("{}: {e}", shorten(text)))
}

/// Decimal digits, two per byte, to packed BCD (`"0840"` → `08 40`).
fn decode_digits(text: &str) -> Result<Vec<u8>, String> {
    if let Some(c) = text.chars().find(|c| !c.is_ascii_digit()) {
        return Err(format!(
            "{} holds {c:?}: format n takes decimal digits only",
            shorten(text)
        ));
    }
    if !text.len().is_multiple_of(2) {
        return Err(format!(
            "{} has {} digits: format n takes two digits per byte (add a leading 0)",
            shorten(text),
            text.len()
        ));
    }
    hex::decode(text).map_err(|e| e.to_string())
}

/// A decimal amount in major units to minor units.
pub(crate) fn parse_amount(text: &str, exponent: u8) -> Result<u64, String> {
    let bad = || {
        format!(
            "amount {}: expected digits with at most {exponent} decimals, e.g. \"{}\"",
            shorten(text),
            example_amount(exponent)
        )
    };
    let (whole, fraction) = match text.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (text, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || fraction.is_some_and(|f| !digits(f)) {
        return Err(bad());
    }
    let fraction = fraction.unwrap_or("");
    if fraction.len() > usize::from(exponent) {
        return Err(format!(
            "amount {}: {} decimals, but the currency exponent (5F36) is {exponent}",
            shorten(text),
            fraction.len()
        ));
    }
    let too_big = || format!("amount {} is too large", shorten(text));
    let mut minor: u64 = 0;
    for b in whole.bytes().chain(fraction.bytes()) {
        minor = minor
            .checked_mul(10)
            .and_then(|m| m.checked_add(u64::from(b - b'0')))
            .ok_or_else(too_big)?;
    }
    for _ in fraction.len()..usize::from(exponent) {
        minor = minor.checked_mul(10).ok_or_else(too_big)?;
    }
    Ok(minor)
}

fn example_amount(exponent: u8) -> String {
    if exponent == 0 {
        "50".to_string()
    } else {
        format!("50.{}", "0".repeat(usize::from(exponent)))
    }
}

/// `text` quoted, cut to 40 characters for messages.
fn shorten(text: &str) -> String {
    if text.chars().count() > 40 {
        let head: String = text.chars().take(40).collect();
        format!("{head:?}…")
    } else {
        format!("{text:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts() {
        assert_eq!(parse_amount("50.00", 2), Ok(5000));
        assert_eq!(parse_amount("50", 2), Ok(5000));
        assert_eq!(parse_amount("0.5", 2), Ok(50));
        assert_eq!(parse_amount("1000", 0), Ok(1000));
        assert!(parse_amount("1.5", 0).is_err());
        assert!(parse_amount("1.234", 2).is_err());
        assert!(parse_amount("-1", 2).is_err());
        assert!(parse_amount("1.", 2).is_err());
        assert!(parse_amount(".5", 2).is_err());
        assert!(parse_amount("", 2).is_err());
        assert!(parse_amount("99999999999999999999", 2).is_err());
    }

    #[test]
    fn digits_and_hex() {
        assert_eq!(decode_digits("0840"), Ok(vec![0x08, 0x40]));
        assert!(decode_digits("840").is_err());
        assert!(decode_digits("08A0").is_err());
        assert_eq!(decode_hex("DC 40\n04"), Ok(vec![0xDC, 0x40, 0x04]));
        assert!(decode_hex("DC4").is_err());
    }
}
