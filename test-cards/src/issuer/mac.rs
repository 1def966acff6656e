//! ISO/IEC 9797-1 MACs with DES as the block cipher, as used by EMV 4.4
//! Book 2 Annex A1.2 (MAC computation) for application cryptograms
//! (§8.1), ARPC method 2 (§8.2.2) and secure messaging (§9.2):
//!
//! - padding method 1 (append `00` up to a multiple of 8; empty data gives
//!   one zero block) and padding method 2 (append `80`, then `00` up to a
//!   multiple of 8; always at least one byte). The padding is done here,
//!   never by a cipher-mode helper, so that an input that is already a
//!   multiple of 8 gets exactly the bytes the method says.
//! - MAC algorithm 1: CBC-MAC, IV zero, with 2-key triple DES as the block
//!   cipher on every block.
//! - MAC algorithm 3 ("retail MAC", ANSI X9.19): single-DES CBC under `KL`
//!   over all blocks, then the last chaining value `h` is transformed to
//!   `DES_KL(DES⁻¹_KR(h))`.
//!
//! Both return the full 8-byte MAC; callers take the leftmost bytes they
//! need (8 for an AC, 4 for ARPC method 2).

use cipher::{Array, BlockCipherDecrypt, BlockCipherEncrypt};

use super::keys::{TdesKey, xor8};

/// ISO/IEC 9797-1 padding method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Padding {
    /// Padding method 1: append `00` bytes up to a multiple of 8 (none if
    /// the data already is one; empty data becomes one zero block). Visa
    /// CVN 10.
    Method1,
    /// Padding method 2: append `80`, then `00` bytes up to a multiple of
    /// 8 (always at least one byte). EMV ACs, ARPC method 2, script MACs.
    Method2,
}

/// Pads `data` to a multiple of the DES block size (8) with `method`.
#[must_use]
pub fn pad(data: &[u8], method: Padding) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 8);
    out.extend_from_slice(data);
    match method {
        Padding::Method1 => {
            if out.is_empty() {
                out.resize(8, 0);
            }
        }
        Padding::Method2 => out.push(0x80),
    }
    let rem = out.len() % 8;
    if rem != 0 {
        out.resize(out.len() + (8 - rem), 0);
    }
    out
}

/// Iterates the padded data as 8-byte blocks.
fn blocks(padded: &[u8]) -> impl Iterator<Item = [u8; 8]> + '_ {
    padded.chunks_exact(8).map(|chunk| {
        let mut block = [0u8; 8];
        block.copy_from_slice(chunk);
        block
    })
}

/// ISO/IEC 9797-1 MAC algorithm 1 (CBC-MAC, IV zero) with 2-key triple
/// DES as the block cipher and the given padding. Full 8-byte output.
#[must_use]
pub fn mac_algorithm_1(key: &TdesKey, data: &[u8], padding: Padding) -> [u8; 8] {
    let padded = pad(data, padding);
    blocks(&padded).fold([0u8; 8], |chain, block| {
        key.encrypt_block(&xor8(&chain, &block))
    })
}

/// ISO/IEC 9797-1 MAC algorithm 3 (retail MAC) with key `KL ‖ KR` and the
/// given padding: DES-CBC under `KL` (IV zero), last chaining value `h`
/// transformed to `DES_KL(DES⁻¹_KR(h))`. Full 8-byte output.
#[must_use]
pub fn mac_algorithm_3(key: &TdesKey, data: &[u8], padding: Padding) -> [u8; 8] {
    let (left, right) = key.ciphers();
    let padded = pad(data, padding);
    let h = blocks(&padded).fold([0u8; 8], |chain, block| {
        let mut b = Array::from(xor8(&chain, &block));
        left.encrypt_block(&mut b);
        b.into()
    });
    let mut b = Array::from(h);
    right.decrypt_block(&mut b);
    left.encrypt_block(&mut b);
    b.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_method_1() {
        assert_eq!(pad(&[], Padding::Method1), vec![0; 8]);
        assert_eq!(pad(&[1], Padding::Method1), vec![1, 0, 0, 0, 0, 0, 0, 0]);
        let eight = [1, 2, 3, 4, 5, 6, 7, 8];
        assert_eq!(pad(&eight, Padding::Method1), eight.to_vec());
        let nine = [9u8; 9];
        assert_eq!(pad(&nine, Padding::Method1).len(), 16);
    }

    #[test]
    fn padding_method_2() {
        assert_eq!(pad(&[], Padding::Method2), vec![0x80, 0, 0, 0, 0, 0, 0, 0]);
        let seven = [7u8; 7];
        let mut expected = seven.to_vec();
        expected.push(0x80);
        assert_eq!(pad(&seven, Padding::Method2), expected);
        // An exact multiple of 8 still gets a whole block of padding.
        let eight = [1, 2, 3, 4, 5, 6, 7, 8];
        let padded = pad(&eight, Padding::Method2);
        assert_eq!(padded.len(), 16);
        assert_eq!(padded[8..], [0x80, 0, 0, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn mac_3_vector_a1() {
        // A1 of vectors/crypto-vectors.json.
        let key = TdesKey::from_hex("29B33180E567CE38EA4CBC9D753B0E61").unwrap();
        let data = hex::decode("0123456789ABCDEF0123456789ABCDEF").unwrap();
        assert_eq!(
            hex::encode_upper(mac_algorithm_3(&key, &data, Padding::Method2)),
            "FA624250B008B59A"
        );
    }

    #[test]
    fn mac_3_single_block_is_3des() {
        // One block: retail MAC = E_KL(D_KR(E_KL(x))) = 3DES(x).
        let key = TdesKey::from_hex("0123456789ABCDEFFEDCBA9876543210").unwrap();
        let data = [0x11; 8];
        let padded: [u8; 8] = pad(&data[..5], Padding::Method1).try_into().unwrap();
        assert_eq!(
            mac_algorithm_3(&key, &data[..5], Padding::Method1),
            key.encrypt_block(&padded)
        );
        assert_eq!(
            mac_algorithm_1(&key, &data, Padding::Method1),
            key.encrypt_block(&data)
        );
    }

    #[test]
    fn mac_1_and_3_agree_for_single_length_key() {
        // KL = KR: both algorithms are single-DES CBC-MAC.
        let key = TdesKey::from_hex("133457799BBCDFF1133457799BBCDFF1").unwrap();
        for len in [0usize, 1, 7, 8, 9, 16, 31] {
            let data: Vec<u8> = (0..len as u8).collect();
            for padding in [Padding::Method1, Padding::Method2] {
                assert_eq!(
                    mac_algorithm_1(&key, &data, padding),
                    mac_algorithm_3(&key, &data, padding)
                );
            }
        }
    }

    #[test]
    fn empty_input_macs() {
        let key = TdesKey::from_hex("0123456789ABCDEFFEDCBA9876543210").unwrap();
        assert_eq!(
            mac_algorithm_3(&key, &[], Padding::Method1),
            key.encrypt_block(&[0; 8])
        );
        assert_eq!(
            mac_algorithm_3(&key, &[], Padding::Method2),
            key.encrypt_block(&[0x80, 0, 0, 0, 0, 0, 0, 0])
        );
        // Method 1 cannot tell "" from "00"; method 2 can.
        assert_eq!(
            mac_algorithm_3(&key, &[], Padding::Method1),
            mac_algorithm_3(&key, &[0], Padding::Method1)
        );
        assert_ne!(
            mac_algorithm_3(&key, &[], Padding::Method2),
            mac_algorithm_3(&key, &[0], Padding::Method2)
        );
    }
}
