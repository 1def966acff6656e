//! GET CHALLENGE and VERIFY (EMV Book 3 §6.5.6 and §6.5.12; Book 2 §7 for
//! offline PIN encipherment; ISO 9564-1 format 2 PIN block).

use subtle::ConstantTimeEq;

use super::tlv::sw;
use super::{EmvCard, status};

/// Parses an ISO 9564 format 2 PIN block: `2N` then N digits, `F`-padded to
/// 8 bytes. `None` when malformed.
pub(crate) fn pin_block_digits(block: &[u8]) -> Option<Vec<u8>> {
    let (&first, _) = block.split_first()?;
    if block.len() != 8 || first >> 4 != 0x2 {
        return None;
    }
    let n = usize::from(first & 0x0F);
    if !(4..=12).contains(&n) {
        return None;
    }
    let nibbles: Vec<u8> = block
        .iter()
        .skip(1)
        .flat_map(|b| [b >> 4, b & 0x0F])
        .collect();
    let (digits, pad) = nibbles.split_at(n);
    (digits.iter().all(|&d| d <= 9) && pad.iter().all(|&f| f == 0xF)).then(|| digits.to_vec())
}

impl EmvCard {
    /// GET CHALLENGE: 8 unpredictable bytes, remembered for one enciphered
    /// VERIFY.
    pub(crate) fn get_challenge(&mut self, p1: u8, p2: u8) -> Vec<u8> {
        if p1 != 0 || p2 != 0 {
            return sw(status::WRONG_P1P2);
        }
        let challenge: [u8; 8] = self.random_bytes();
        self.session.challenge = Some(challenge);
        super::tlv::respond(challenge.to_vec(), status::OK)
    }

    /// VERIFY: P2 `80` plaintext PIN block, `88` enciphered PIN data.
    pub(crate) fn verify(&mut self, p1: u8, p2: u8, data: &[u8]) -> Vec<u8> {
        if p1 != 0 || !matches!(p2, 0x80 | 0x88) {
            return sw(status::WRONG_P1P2);
        }
        let Some(app) = self.selected_app() else {
            return sw(status::CONDITIONS_NOT_SATISFIED);
        };
        if self.pin.tries_left == 0 {
            return sw(status::AUTH_METHOD_BLOCKED);
        }
        let block = if p2 == 0x80 {
            if data.len() != 8 {
                return sw(status::WRONG_LENGTH);
            }
            data.to_vec()
        } else {
            // Enciphered: 7F ‖ PIN block ‖ ICC unpredictable number ‖ padding,
            // under the ICC (PIN encipherment) public key.
            let Some(challenge) = self.session.challenge.take() else {
                return sw(status::CONDITIONS_NOT_SATISFIED);
            };
            let Some(plain) = self.apps.get(app).and_then(|a| a.oda.decrypt(data)) else {
                return sw(status::WRONG_DATA);
            };
            if plain.first() != Some(&0x7F) || plain.get(9..17) != Some(challenge.as_slice()) {
                return sw(status::WRONG_DATA);
            }
            plain.get(1..9).map(<[u8]>::to_vec).unwrap_or_default()
        };
        let Some(digits) = pin_block_digits(&block) else {
            return sw(status::WRONG_DATA);
        };
        self.session.offline_pin_performed = true;
        let matches = digits.len() == self.pin.digits.len()
            && bool::from(digits.as_slice().ct_eq(self.pin.digits.as_slice()));
        if matches {
            self.pin.tries_left = self.pin.try_limit;
            self.session.offline_pin_failed = false;
            sw(status::OK)
        } else {
            self.pin.tries_left = self.pin.tries_left.saturating_sub(1);
            self.session.offline_pin_failed = true;
            sw(0x63C0 | u16::from(self.pin.tries_left))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::card::Card;

    fn transmit(card: &mut EmvCard, hex_cmd: &str) -> Vec<u8> {
        match card.transmit(&hex::decode(hex_cmd).unwrap()) {
            crate::card::Reply::Response(r) => r,
            other => panic!("{other:?}"),
        }
    }

    /// Enciphers a PIN as the terminal does (Book 2 §7.1): 7F ‖ PIN block ‖
    /// ICC challenge ‖ padding, under the ICC public key.
    fn encipher(card: &EmvCard, pin_block: &str, challenge: &[u8]) -> Vec<u8> {
        let key = card.apps()[0].oda.icc_public_key().unwrap();
        let mut plain = vec![0x7F];
        plain.extend(hex::decode(pin_block).unwrap());
        plain.extend_from_slice(challenge);
        plain.resize(key.modulus_len(), 0x55);
        key.public_op(&plain).unwrap()
    }

    #[test]
    fn enciphered_offline_pin() {
        let mut card = EmvCard::from_profile("visa-cvn18-dda").unwrap();
        card.power_on();
        assert!(transmit(&mut card, "00A4040007F000000999101000").ends_with(&[0x90, 0]));
        // Without a challenge first: conditions not satisfied.
        let stale = encipher(&card, "241234FFFFFFFFFF", &[0; 8]);
        let cmd = |data: &[u8]| format!("00200088{:02X}{}", data.len(), hex::encode(data));
        assert_eq!(transmit(&mut card, &cmd(&stale)), [0x69, 0x85]);
        // Right PIN with the current challenge.
        let r = transmit(&mut card, "0084000000");
        let challenge = r[..8].to_vec();
        let good = encipher(&card, "241234FFFFFFFFFF", &challenge);
        assert_eq!(transmit(&mut card, &cmd(&good)), [0x90, 0x00]);
        // A replayed block (old challenge) is refused.
        transmit(&mut card, "0084000000");
        assert_eq!(transmit(&mut card, &cmd(&good)), [0x6A, 0x80]);
        // Wrong PIN: counter goes down.
        let r = transmit(&mut card, "0084000000");
        let wrong = encipher(&card, "240000FFFFFFFFFF", &r[..8]);
        assert_eq!(transmit(&mut card, &cmd(&wrong)), [0x63, 0xC2]);
    }

    #[test]
    fn pin_blocks() {
        assert_eq!(
            pin_block_digits(&[0x24, 0x12, 0x34, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]),
            Some(vec![1, 2, 3, 4])
        );
        assert_eq!(
            pin_block_digits(&[0x24, 0x12, 0x34, 0xFF, 0xFF, 0xFF, 0xFF]),
            None
        );
        assert_eq!(
            pin_block_digits(&[0x14, 0x12, 0x34, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]),
            None
        );
        assert_eq!(
            pin_block_digits(&[0x24, 0x12, 0x3A, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]),
            None
        );
        assert_eq!(
            pin_block_digits(&[0x24, 0x12, 0x34, 0xF0, 0xFF, 0xFF, 0xFF, 0xFF]),
            None
        );
        assert_eq!(
            pin_block_digits(&[0x23, 0x12, 0x3F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]),
            None
        );
    }
}
