//! Reading hex from the command line or standard input.
//!
//! Accepts upper or lower case, with any mix of spaces, tabs, newlines,
//! colons and dashes between bytes (`9F 02 06`, `9f:02:06`), so a dump copied
//! from a log or a spec pastes as is. A byte may not be split by a separator.

use std::fmt;

/// A hex input error, naming the character position (0-based) in the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HexError {
    /// A character that is neither a hex digit nor an allowed separator.
    BadCharacter {
        /// Position of the character in the input.
        position: usize,
        /// The character.
        found: char,
    },
    /// A byte is split by a separator, or the input ends after half a byte.
    OddDigit {
        /// Position of the lone digit.
        position: usize,
    },
    /// Nothing to decode.
    Empty,
}

impl fmt::Display for HexError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadCharacter { position, found } => {
                write!(
                    f,
                    "input character {position}: {found:?} is not a hex digit"
                )
            }
            Self::OddDigit { position } => write!(
                f,
                "input character {position}: lone hex digit (a byte needs two digits)"
            ),
            Self::Empty => f.write_str("no hex input"),
        }
    }
}

impl std::error::Error for HexError {}

fn is_separator(c: char) -> bool {
    c.is_whitespace() || matches!(c, ':' | '-' | ',')
}

/// Decodes hex text into bytes.
pub fn parse_hex(text: &str) -> Result<Vec<u8>, HexError> {
    let mut out = Vec::with_capacity(text.len() / 2);
    let mut high: Option<(usize, u8)> = None;
    for (position, c) in text.chars().enumerate() {
        if let Some(d) = c.to_digit(16) {
            let d = d as u8;
            match high.take() {
                None => high = Some((position, d)),
                Some((_, h)) => out.push(h << 4 | d),
            }
        } else if is_separator(c) {
            if let Some((position, _)) = high {
                return Err(HexError::OddDigit { position });
            }
        } else {
            return Err(HexError::BadCharacter { position, found: c });
        }
    }
    if let Some((position, _)) = high {
        return Err(HexError::OddDigit { position });
    }
    if out.is_empty() {
        return Err(HexError::Empty);
    }
    Ok(out)
}

/// Upper-case hex without separators.
pub fn to_hex(bytes: &[u8]) -> String {
    hex::encode_upper(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separators_and_case() {
        assert_eq!(parse_hex("9F 02 06").unwrap(), vec![0x9F, 0x02, 0x06]);
        assert_eq!(parse_hex("9f:02-06\n").unwrap(), vec![0x9F, 0x02, 0x06]);
        assert_eq!(parse_hex("9F0206").unwrap(), vec![0x9F, 0x02, 0x06]);
    }

    #[test]
    fn errors_name_the_position() {
        assert_eq!(
            parse_hex("9F 0G").unwrap_err(),
            HexError::BadCharacter {
                position: 4,
                found: 'G'
            }
        );
        assert_eq!(
            parse_hex("9F 0 2").unwrap_err(),
            HexError::OddDigit { position: 3 }
        );
        assert_eq!(
            parse_hex("9F0").unwrap_err(),
            HexError::OddDigit { position: 2 }
        );
        assert_eq!(parse_hex("  ").unwrap_err(), HexError::Empty);
    }
}
