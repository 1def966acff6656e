//! Issuer script commands with secure messaging for integrity (EMV Book 3
//! §6.5.1 APPLICATION BLOCK, §6.5.2 APPLICATION UNBLOCK, §6.5.3 CARD BLOCK,
//! §6.5.10 PIN CHANGE/UNBLOCK; ISO/IEC 7816-4 PUT DATA and UPDATE RECORD;
//! Book 2 §9.2 for the MAC).
//!
//! The MAC is the last 8 bytes of the command data (Book 2 allows 4 to 8;
//! the simulated cards always use 8), computed over the header with Lc, the
//! ATC and the ARQC of the current transaction and the plain data, with the
//! application's secure-messaging integrity key. A script command needs the
//! ARQC of the current transaction, so it is accepted after the 1st
//! GENERATE AC returned one (scripts before or after the 2nd GENERATE AC,
//! tags 71 and 72).

use emv_kernel::Tag;
use emv_kernel::wire::apdu::CommandApdu;
use emv_kernel::wire::tlv::{Mode, parse_one};

use super::pin::pin_block_digits;
use super::tlv::sw;
use super::{EmvCard, status};

/// Length of the script MAC the simulated cards expect.
pub(crate) const SCRIPT_MAC_LEN: usize = 8;

impl EmvCard {
    /// Verifies the MAC of a script command and applies it.
    pub(crate) fn script_command(&mut self, raw: &[u8], c: &CommandApdu<'_>) -> Vec<u8> {
        let Some(i) = self.selected_app() else {
            return sw(status::CONDITIONS_NOT_SATISFIED);
        };
        let Some(arqc) = self.session.arqc else {
            return sw(status::CONDITIONS_NOT_SATISFIED);
        };
        self.session.scripts_processed = self.session.scripts_processed.saturating_add(1);
        let Some(split) = c.data.len().checked_sub(SCRIPT_MAC_LEN) else {
            self.session.script_failed = true;
            return sw(status::WRONG_LENGTH);
        };
        let (plain, mac) = c.data.split_at(split);
        let Some(header) = raw.get(..5) else {
            return sw(status::WRONG_LENGTH);
        };
        let Some(app) = self.apps.get(i) else {
            return sw(status::CONDITIONS_NOT_SATISFIED);
        };
        let atc = app.risk.atc.to_be_bytes();
        if !app.crypto.verify_script_mac(atc, &arqc, header, plain, mac) {
            self.session.script_failed = true;
            return sw(status::SM_DATA_INCORRECT);
        }
        let result = self.apply_script(i, c, plain, atc, &arqc);
        if result != status::OK {
            self.session.script_failed = true;
        }
        sw(result)
    }

    fn apply_script(
        &mut self,
        i: usize,
        c: &CommandApdu<'_>,
        plain: &[u8],
        atc: [u8; 2],
        arqc: &[u8; 8],
    ) -> u16 {
        match (c.ins, c.p1, c.p2) {
            (0x1E, 0, 0) => {
                if let Some(app) = self.apps.get_mut(i) {
                    app.blocked = true;
                }
                status::OK
            }
            (0x18, 0, 0) => {
                if let Some(app) = self.apps.get_mut(i) {
                    app.blocked = false;
                }
                status::OK
            }
            (0x16, 0, 0) => {
                self.card_blocked = true;
                status::OK
            }
            (0x24, 0, 0) => {
                // PIN UNBLOCK: reset the PIN try counter.
                self.pin.tries_left = self.pin.try_limit;
                status::OK
            }
            (0x24, 0, 0x01 | 0x02) => {
                // PIN CHANGE: the new PIN block, enciphered with the
                // secure-messaging confidentiality session key [M: Book 2
                // §9.5 also XORs the block with ICC key material; the
                // simulated cards use the plain format-2 block].
                let Some(app) = self.apps.get(i) else {
                    return status::CONDITIONS_NOT_SATISFIED;
                };
                let Some(block) = app.crypto.decipher_pin_block(atc, arqc, plain) else {
                    return status::WRONG_DATA;
                };
                let Some(digits) = pin_block_digits(&block) else {
                    return status::WRONG_DATA;
                };
                self.pin.set_digits(digits);
                self.pin.tries_left = self.pin.try_limit;
                status::OK
            }
            (0x24, _, _) | (0x1E | 0x18 | 0x16, _, _) => status::WRONG_P1P2,
            (0xDA, p1, p2) => {
                let tag = Tag::new(u32::from(p1) << 8 | u32::from(p2));
                let Some(app) = self.apps.get_mut(i) else {
                    return status::CONDITIONS_NOT_SATISFIED;
                };
                let limit = plain.iter().fold(0u16, |acc, &b| {
                    acc.saturating_mul(256).saturating_add(u16::from(b))
                });
                match tag.raw() {
                    // Visa lower/upper consecutive offline limits.
                    0x9F58 => app.risk.lower_limit = limit,
                    0x9F59 => app.risk.upper_limit = limit,
                    _ => {}
                }
                app.get_data.insert(tag, plain.to_vec());
                status::OK
            }
            (0xDC, rec, p2) if p2 & 0x07 == 0x04 && rec != 0 => {
                let sfi = p2 >> 3;
                let Some(app) = self.apps.get_mut(i) else {
                    return status::CONDITIONS_NOT_SATISFIED;
                };
                let Some(slot) = app.records.get_mut(&(sfi, rec)) else {
                    return status::RECORD_NOT_FOUND;
                };
                match parse_one(plain, Mode::Strict) {
                    Ok(Some((t, rest))) if t.tag().raw() == 0x70 && rest.is_empty() => {
                        *slot = plain.to_vec();
                        status::OK
                    }
                    _ => status::WRONG_DATA,
                }
            }
            (0xDC, _, _) => status::WRONG_P1P2,
            _ => status::INS_NOT_SUPPORTED,
        }
    }
}

impl super::PinState {
    /// Replaces the PIN (PIN CHANGE).
    pub(crate) fn set_digits(&mut self, digits: Vec<u8>) {
        self.digits = zeroize::Zeroizing::new(digits);
    }
}
