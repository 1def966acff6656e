//! Response APDUs (ISO/IEC 7816-4 §5.1; EMV Book 1 §11.1.2): response data
//! followed by the two status bytes SW1 SW2.

use super::command::ApduError;
use super::status::StatusWord;

/// A response APDU borrowing its data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResponseApdu<'a> {
    /// Response data (may be empty).
    pub data: &'a [u8],
    /// The status word.
    pub sw: StatusWord,
}

impl<'a> ResponseApdu<'a> {
    /// Splits `bytes` into data and the trailing status word.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, ApduError> {
        let split = bytes
            .len()
            .checked_sub(2)
            .ok_or(ApduError::TooShort { len: bytes.len() })?;
        let (data, sw) = bytes.split_at(split);
        let &[sw1, sw2] = sw else {
            return Err(ApduError::TooShort { len: bytes.len() });
        };
        Ok(Self {
            data,
            sw: StatusWord::from_bytes(sw1, sw2),
        })
    }

    /// True when the status is `9000`.
    #[must_use]
    pub const fn is_success(&self) -> bool {
        self.sw.is_success()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_data_and_status() {
        let r = ResponseApdu::parse(&[0x80, 0x02, 0x19, 0x80, 0x90, 0x00]).unwrap();
        assert_eq!(r.data, &[0x80, 0x02, 0x19, 0x80]);
        assert_eq!(r.sw, StatusWord::new(0x9000));
        assert!(r.is_success());
        let r = ResponseApdu::parse(&[0x6A, 0x82]).unwrap();
        assert!(r.data.is_empty());
        assert!(!r.is_success());
        assert_eq!(
            ResponseApdu::parse(&[0x90]),
            Err(ApduError::TooShort { len: 1 })
        );
    }
}
