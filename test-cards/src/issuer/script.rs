//! The issuer script command MAC for secure messaging in integrity mode,
//! EMV 4.4 Book 2 §9.2 (format 1 and 2 command MAC, Annex A1.2 MAC
//! algorithm 3 with padding method 2):
//!
//! the MAC covers the command header `CLA INS P1 P2 Lc` (with `Lc`
//! already counting the MAC), then — for Visa VIS and Mastercard M/Chip —
//! the ATC and the Application Cryptogram of the transaction, then the
//! command data (plain or enciphered) without the MAC. Interac CVN 133
//! MACs the header and data only. The MAC key is a secure-messaging
//! integrity session key derived from the card's MK-SMI
//! ([`ScriptMacKeySource`](super::cvn::ScriptMacKeySource)).

use subtle::ConstantTimeEq;

use super::error::IssuerError;
use super::keys::TdesKey;
use super::mac::{Padding, mac_algorithm_3};

/// Shortest script command MAC, in bytes (Book 2 §9.2.1: 4 to 8).
pub const MIN_SCRIPT_MAC_LEN: usize = 4;
/// Longest script command MAC, in bytes.
pub const MAX_SCRIPT_MAC_LEN: usize = 8;

/// What the script command MAC is computed over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScriptMacInput {
    /// `CLA INS P1 P2 Lc ‖ ATC ‖ ARQC ‖ data` (Visa, Mastercard).
    HeaderAtcArqcData,
    /// `CLA INS P1 P2 Lc ‖ data` (Interac CVN 133).
    HeaderAndData,
}

/// The data a script command MAC covers, and the MAC length the command's
/// `Lc` leaves room for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptMacData {
    /// The MAC input, before padding method 2.
    pub input: Vec<u8>,
    /// `Lc` minus the data length: the number of MAC bytes the command
    /// carries (4 to 8).
    pub mac_len: usize,
}

/// Builds the MAC input for `command` = `CLA INS P1 P2 Lc ‖ data` (without
/// the MAC; `Lc` counts the data and a MAC of 4 to 8 bytes).
///
/// # Errors
/// [`IssuerError::CommandTooShort`] for fewer than 5 bytes;
/// [`IssuerError::ScriptLc`] if `Lc` minus the data length is not 4 to 8.
pub fn script_mac_input(
    layout: ScriptMacInput,
    command: &[u8],
    atc: [u8; 2],
    arqc: &[u8; 8],
) -> Result<ScriptMacData, IssuerError> {
    let Some((header, data)) = command.split_first_chunk::<5>() else {
        return Err(IssuerError::CommandTooShort {
            actual: command.len(),
        });
    };
    let [.., lc] = *header;
    let mac_len = usize::from(lc)
        .checked_sub(data.len())
        .filter(|n| (MIN_SCRIPT_MAC_LEN..=MAX_SCRIPT_MAC_LEN).contains(n))
        .ok_or(IssuerError::ScriptLc {
            lc,
            data_len: data.len(),
        })?;
    let mut input = Vec::with_capacity(command.len() + 10);
    input.extend_from_slice(header);
    if layout == ScriptMacInput::HeaderAtcArqcData {
        input.extend_from_slice(&atc);
        input.extend_from_slice(arqc);
    }
    input.extend_from_slice(data);
    Ok(ScriptMacData { input, mac_len })
}

/// The full 8-byte script command MAC: MAC algorithm 3 with padding
/// method 2 under the secure-messaging session key `key` over `mac_input`.
#[must_use]
pub fn script_command_mac(key: &TdesKey, mac_input: &[u8]) -> [u8; 8] {
    mac_algorithm_3(key, mac_input, Padding::Method2)
}

/// Checks a received MAC of 4 to 8 bytes (the leftmost bytes of the full
/// MAC) in constant time. `false` for any other length.
#[must_use]
pub fn verify_script_command_mac(key: &TdesKey, mac_input: &[u8], mac: &[u8]) -> bool {
    if !(MIN_SCRIPT_MAC_LEN..=MAX_SCRIPT_MAC_LEN).contains(&mac.len()) {
        return false;
    }
    let full = script_command_mac(key, mac_input);
    full.get(..mac.len())
        .is_some_and(|expected| expected.ct_eq(mac).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ATC: [u8; 2] = [0x00, 0x1C];
    const ARQC: [u8; 8] = [1, 2, 3, 4, 5, 6, 7, 8];

    fn build(layout: ScriptMacInput, cmd: &[u8]) -> Result<ScriptMacData, IssuerError> {
        script_mac_input(layout, cmd, ATC, &ARQC)
    }

    #[test]
    fn input_layouts() {
        let cmd = [0x84, 0x18, 0x00, 0x00, 0x08];
        let full = build(ScriptMacInput::HeaderAtcArqcData, &cmd).unwrap();
        assert_eq!(
            hex::encode_upper(&full.input),
            "8418000008001C0102030405060708"
        );
        assert_eq!(full.mac_len, 8);
        let short = build(ScriptMacInput::HeaderAndData, &cmd).unwrap();
        assert_eq!(short.input, cmd.to_vec());
        let with_data = [0x04, 0xDA, 0x9F, 0x58, 0x09, 0x03];
        let data = build(ScriptMacInput::HeaderAtcArqcData, &with_data).unwrap();
        assert_eq!(data.input.last(), Some(&0x03));
        assert_eq!(data.input.len(), 16);
        assert_eq!(data.mac_len, 8);
        // Lc 05 with one data byte: a 4-byte MAC.
        let four = build(ScriptMacInput::HeaderAndData, &[0x84, 0x18, 0, 0, 5, 0xAA]).unwrap();
        assert_eq!(four.mac_len, 4);
    }

    #[test]
    fn bad_commands() {
        for len in 0..5 {
            assert_eq!(
                build(ScriptMacInput::HeaderAndData, &[0x84; 5][..len]),
                Err(IssuerError::CommandTooShort { actual: len })
            );
        }
        // Lc 08 with five data bytes leaves 3 bytes of MAC.
        assert_eq!(
            build(
                ScriptMacInput::HeaderAndData,
                &[0x84, 0x18, 0, 0, 0x08, 1, 2, 3, 4, 5]
            ),
            Err(IssuerError::ScriptLc { lc: 8, data_len: 5 })
        );
        // Lc smaller than the data.
        assert_eq!(
            build(
                ScriptMacInput::HeaderAtcArqcData,
                &[0x84, 0x18, 0, 0, 0x01, 1, 2]
            ),
            Err(IssuerError::ScriptLc { lc: 1, data_len: 2 })
        );
        // Lc leaves 9 bytes of MAC.
        assert_eq!(
            build(ScriptMacInput::HeaderAndData, &[0x84, 0x18, 0, 0, 9]),
            Err(IssuerError::ScriptLc { lc: 9, data_len: 0 })
        );
        assert_eq!(
            build(ScriptMacInput::HeaderAndData, &[0x84, 0x18, 0, 0, 0xFF]),
            Err(IssuerError::ScriptLc {
                lc: 0xFF,
                data_len: 0
            })
        );
    }

    #[test]
    fn truncated_mac_verifies() {
        let key = TdesKey::from_hex("0123456789ABCDEFFEDCBA9876543210").unwrap();
        let input = [0x84, 0x18, 0, 0, 0x04];
        let mac = script_command_mac(&key, &input);
        assert!(verify_script_command_mac(&key, &input, &mac));
        assert!(verify_script_command_mac(&key, &input, &mac[..4]));
        assert!(!verify_script_command_mac(&key, &input, &mac[..3]));
        assert!(!verify_script_command_mac(&key, &input, &[]));
        let mut bad = mac;
        bad[7] ^= 1;
        assert!(!verify_script_command_mac(&key, &input, &bad));
    }
}
