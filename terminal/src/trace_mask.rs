//! What of a C-APDU may appear in a trace. A VERIFY with a plaintext PIN
//! (INS `20`, P2 `80`: EMV Book 3 §6.5.12, the PIN block of Book 3 Table
//! 24: control field `2`, PIN length, digits, `F` filler) carries the
//! cardholder's PIN in clear; every trace this project writes (the CLI's
//! text and JSON, the test-deck reports) shows that PIN block as `FF`
//! bytes instead. The enciphered PIN (P2 `88`) is RSA ciphertext and is
//! shown as sent.

/// INS of VERIFY.
const INS_VERIFY: u8 = 0x20;
/// P2 of VERIFY with a plaintext PIN block.
const P2_PLAINTEXT_PIN: u8 = 0x80;

/// `command` as a trace may show it: a plaintext-PIN VERIFY with its data
/// field (the PIN block) replaced by `FF` bytes of the same length, any
/// other command unchanged.
#[must_use]
pub fn traceable_command(command: &[u8]) -> Vec<u8> {
    let mut out = command.to_vec();
    if let [_, INS_VERIFY, _, P2_PLAINTEXT_PIN, lc, rest @ ..] = command {
        let n = usize::from(*lc).min(rest.len());
        if let Some(data) = out.get_mut(5..5 + n) {
            data.fill(0xFF);
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::traceable_command;

    #[test]
    fn masks_the_plaintext_pin_block_only() {
        let verify = hex::decode("0020008008241234FFFFFFFFFF").unwrap();
        assert_eq!(
            hex::encode_upper(traceable_command(&verify)),
            "0020008008FFFFFFFFFFFFFFFF"
        );
        // Enciphered PIN, other commands, short or odd input: unchanged.
        for c in ["0020008803AABBCC", "00B2010C00", "0020", "", "00200080"] {
            let c = hex::decode(c).unwrap();
            assert_eq!(traceable_command(&c), c);
        }
        // A length byte longer than the data masks what is there.
        let short = hex::decode("002000800824").unwrap();
        assert_eq!(hex::encode_upper(traceable_command(&short)), "0020008008FF");
    }
}
