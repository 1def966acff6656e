//! Constructors for the EMV commands (EMV Book 3 §6.5, Book 1 §11–12, Book
//! C-2 §5 for COMPUTE CRYPTOGRAPHIC CHECKSUM). Each returns a
//! [`CommandApdu`] that borrows the caller's data; emit it with
//! [`CommandApdu::emit`].

use super::command::CommandApdu;
use crate::Tag;
use crate::wire::encode::{EncodeError, TlvWriter};

/// Le `00`: "up to 256 bytes", what EMV sends for every case 2 and 4 command.
const LE_MAX: usize = 256;

/// Which occurrence SELECT asks for (Book 1 §11.3.2, P2 b2–b1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Occurrence {
    /// P2 `00`: first or only occurrence.
    First,
    /// P2 `02`: next occurrence (partial AID selection, Book 1 §12.3.3).
    Next,
}

/// SELECT by DF name (`00 A4 04 00|02 Lc name 00`, Book 1 §11.3).
#[must_use]
pub const fn select(df_name: &[u8], occurrence: Occurrence) -> CommandApdu<'_> {
    let p2 = match occurrence {
        Occurrence::First => 0x00,
        Occurrence::Next => 0x02,
    };
    CommandApdu::new(0x00, 0xA4, 0x04, p2)
        .with_data(df_name)
        .with_le(LE_MAX)
}

/// READ RECORD `record` of short file `sfi` (`00 B2 rec SFI<<3|4 00`, Book 1
/// §11.2). `None` when the SFI is outside 1–30 or the record is 0.
#[must_use]
pub const fn read_record(sfi: u8, record: u8) -> Option<CommandApdu<'static>> {
    if sfi == 0 || sfi > 30 || record == 0 {
        return None;
    }
    Some(CommandApdu::new(0x00, 0xB2, record, (sfi << 3) | 0x04).with_le(LE_MAX))
}

/// GET PROCESSING OPTIONS (`80 A8 00 00 Lc data 00`, Book 3 §6.5.8).
/// `command_data` is the `83` template: build it with [`gpo_data`].
#[must_use]
pub const fn get_processing_options(command_data: &[u8]) -> CommandApdu<'_> {
    CommandApdu::new(0x80, 0xA8, 0x00, 0x00)
        .with_data(command_data)
        .with_le(LE_MAX)
}

/// Writes the GPO command data, the Command Template `83` around the
/// PDOL-related data (`83 00` when there is no PDOL), into `out`.
pub fn gpo_data(pdol_related_data: &[u8], out: &mut [u8]) -> Result<usize, EncodeError> {
    let mut w = TlvWriter::new(out);
    w.primitive(Tag::new(0x83), pdol_related_data);
    w.finish()
}

/// GENERATE AC (`80 AE P1 00 Lc data 00`, Book 3 §6.5.5). `p1` is the
/// reference control parameter: cryptogram type (`00` AAC, `40` TC, `80`
/// ARQC) plus `10` to request CDA.
#[must_use]
pub const fn generate_ac(p1: u8, cdol_related_data: &[u8]) -> CommandApdu<'_> {
    CommandApdu::new(0x80, 0xAE, p1, 0x00)
        .with_data(cdol_related_data)
        .with_le(LE_MAX)
}

/// GET DATA of a one- or two-byte tag (`80 CA P1 P2 00`, Book 3 §6.5.7):
/// ATC `9F36`, Last Online ATC Register `9F13`, PIN Try Counter `9F17`, Log
/// Format `9F4F`. `None` for tags longer than two bytes.
#[must_use]
pub const fn get_data(tag: Tag) -> Option<CommandApdu<'static>> {
    if tag.len() > 2 {
        return None;
    }
    let [hi, lo] = (tag.raw() as u16).to_be_bytes();
    Some(CommandApdu::new(0x80, 0xCA, hi, lo).with_le(LE_MAX))
}

/// INTERNAL AUTHENTICATE (`00 88 00 00 Lc DDOL-data 00`, Book 3 §6.5.9).
#[must_use]
pub const fn internal_authenticate(ddol_related_data: &[u8]) -> CommandApdu<'_> {
    CommandApdu::new(0x00, 0x88, 0x00, 0x00)
        .with_data(ddol_related_data)
        .with_le(LE_MAX)
}

/// EXTERNAL AUTHENTICATE (`00 82 00 00 Lc data`, Book 3 §6.5.4); `data` is
/// the Issuer Authentication Data (tag 91 value), 8 to 16 bytes.
#[must_use]
pub const fn external_authenticate(issuer_authentication_data: &[u8]) -> CommandApdu<'_> {
    CommandApdu::new(0x00, 0x82, 0x00, 0x00).with_data(issuer_authentication_data)
}

/// GET CHALLENGE (`00 84 00 00 00`, Book 3 §6.5.6): an 8-byte ICC
/// unpredictable number for offline enciphered PIN.
#[must_use]
pub const fn get_challenge() -> CommandApdu<'static> {
    CommandApdu::new(0x00, 0x84, 0x00, 0x00).with_le(LE_MAX)
}

/// How VERIFY carries the PIN (Book 3 §6.5.12, P2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PinFormat {
    /// P2 `80`: plaintext PIN block.
    Plaintext,
    /// P2 `88`: PIN block enciphered with the ICC's public key.
    Enciphered,
}

/// VERIFY (`00 20 00 P2 Lc data`, Book 3 §6.5.12).
#[must_use]
pub const fn verify(format: PinFormat, pin_data: &[u8]) -> CommandApdu<'_> {
    let p2 = match format {
        PinFormat::Plaintext => 0x80,
        PinFormat::Enciphered => 0x88,
    };
    CommandApdu::new(0x00, 0x20, 0x00, p2).with_data(pin_data)
}

/// GET RESPONSE (`00 C0 00 00 Le`, Book 1 §11.1.3) after a `61xx`.
#[must_use]
pub const fn get_response(le: usize) -> CommandApdu<'static> {
    CommandApdu::new(0x00, 0xC0, 0x00, 0x00).with_le(le)
}

/// COMPUTE CRYPTOGRAPHIC CHECKSUM (`80 2A 8E 80 Lc UDOL-data 00`, Book
/// C-2 §5.3), mag-stripe mode of Kernel 2.
#[must_use]
pub const fn compute_cryptographic_checksum(udol_related_data: &[u8]) -> CommandApdu<'_> {
    CommandApdu::new(0x80, 0x2A, 0x8E, 0x80)
        .with_data(udol_related_data)
        .with_le(LE_MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::apdu::Encoding;

    fn bytes(c: CommandApdu<'_>) -> ([u8; 64], usize) {
        let mut b = [0u8; 64];
        let n = c.emit(&mut b, Encoding::Short).unwrap();
        (b, n)
    }

    #[test]
    fn commands_match_published_traces() {
        // contact-visa-in.txt and emv-facts.md §1.3.
        let (b, n) = bytes(select(b"1PAY.SYS.DDF01", Occurrence::First));
        assert_eq!(
            &b[..n],
            &[
                0x00, 0xA4, 0x04, 0x00, 0x0E, b'1', b'P', b'A', b'Y', b'.', b'S', b'Y', b'S', b'.',
                b'D', b'D', b'F', b'0', b'1', 0x00
            ]
        );
        let (b, n) = bytes(read_record(1, 1).unwrap());
        assert_eq!(&b[..n], &[0x00, 0xB2, 0x01, 0x0C, 0x00]);
        let (b, n) = bytes(read_record(3, 2).unwrap());
        assert_eq!(&b[..n], &[0x00, 0xB2, 0x02, 0x1C, 0x00]);
        assert!(read_record(0, 1).is_none());
        assert!(read_record(31, 1).is_none());
        assert!(read_record(1, 0).is_none());

        let mut data = [0u8; 8];
        let len = gpo_data(&[], &mut data).unwrap();
        let (b, n) = bytes(get_processing_options(&data[..len]));
        assert_eq!(&b[..n], &[0x80, 0xA8, 0x00, 0x00, 0x02, 0x83, 0x00, 0x00]);

        let (b, n) = bytes(get_data(Tag::new(0x9F17)).unwrap());
        assert_eq!(&b[..n], &[0x80, 0xCA, 0x9F, 0x17, 0x00]);
        let (b, n) = bytes(get_data(Tag::new(0x9F36)).unwrap());
        assert_eq!(&b[..n], &[0x80, 0xCA, 0x9F, 0x36, 0x00]);
        assert!(get_data(Tag::new(0xDF8129)).is_none());

        let (b, n) = bytes(select(&[0xA0, 0, 0, 0, 3], Occurrence::Next));
        assert_eq!(&b[..4], &[0x00, 0xA4, 0x04, 0x02]);
        assert_eq!(n, 11);

        let (b, n) = bytes(generate_ac(0x80, &[1, 2, 3]));
        assert_eq!(&b[..n], &[0x80, 0xAE, 0x80, 0x00, 0x03, 1, 2, 3, 0x00]);
        let (b, n) = bytes(verify(PinFormat::Plaintext, &[0x24, 0x12, 0x34, 0xFF]));
        assert_eq!(
            &b[..n],
            &[0x00, 0x20, 0x00, 0x80, 0x04, 0x24, 0x12, 0x34, 0xFF]
        );
        let (b, n) = bytes(get_challenge());
        assert_eq!(&b[..n], &[0x00, 0x84, 0x00, 0x00, 0x00]);
        let (b, n) = bytes(external_authenticate(&[9; 10]));
        assert_eq!(&b[..5], &[0x00, 0x82, 0x00, 0x00, 0x0A]);
        assert_eq!(n, 15);
        let (b, n) = bytes(get_response(0x1C));
        assert_eq!(&b[..n], &[0x00, 0xC0, 0x00, 0x00, 0x1C]);
        let (b, _) = bytes(compute_cryptographic_checksum(&[1, 2, 3, 4]));
        assert_eq!(&b[..5], &[0x80, 0x2A, 0x8E, 0x80, 0x04]);
        let (b, _) = bytes(internal_authenticate(&[1, 2, 3, 4]));
        assert_eq!(&b[..5], &[0x00, 0x88, 0x00, 0x00, 0x04]);
    }
}
