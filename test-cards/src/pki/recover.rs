//! RSA signatures with message recovery as EMV uses them: EMV 4.4 Book 2
//! Annex A2.1 (RSA) with the ISO/IEC 9796-2 digital signature scheme giving
//! message recovery, in the form of Book 2 Tables 6, 7, 14 and 17.
//!
//! Every EMV certificate and signature is one RSA block as long as the
//! signer's modulus (`N` bytes). Recovered, it reads
//!
//! ```text
//! 6A | format | … (N − 22 bytes in all, format included) | SHA-1 (20) | BC
//! ```
//!
//! and the hash covers the bytes from the format up to the hash, followed by
//! data that is not in the block (remainders, exponents, static or dynamic
//! data). [`recover`] is the raw public operation with the header and
//! trailer checks (Book 2 §5.3 steps 1–3, §6.4, §6.5.2); the per-format
//! checks are in [`super::certificate`] and [`super::signing`].

use sha1::{Digest, Sha1};

use super::PkiError;
use super::keys::{RsaKeyPair, RsaPublicKey};

/// Recovered data header (Book 2 Tables 6, 7, 14, 17).
pub const HEADER: u8 = 0x6A;
/// Recovered data trailer.
pub const TRAILER: u8 = 0xBC;
/// Padding byte for unused space in the recovered data.
pub const PAD: u8 = 0xBB;
/// Length of the SHA-1 hash result.
pub const HASH_LEN: usize = 20;
/// Hash algorithm indicator `01`: SHA-1.
pub const HASH_SHA1: u8 = 0x01;
/// Public key algorithm indicator `01`: RSA.
pub const ALGORITHM_RSA: u8 = 0x01;

/// Header, hash and trailer: the bytes of every block that carry no data.
pub(crate) const OVERHEAD: usize = 1 + HASH_LEN + 1;

/// Recovers signed data with `public_key`: `signed^e mod n`, as many bytes
/// as the modulus, after checking that `signed` is as long as the modulus
/// and that the result starts with `6A` and ends with `BC`.
///
/// Returns the whole recovered block, header and trailer included, so Book 2
/// table offsets apply unchanged.
///
/// # Errors
/// [`PkiError::SignatureLength`], [`PkiError::SignatureOutOfRange`],
/// [`PkiError::BadTrailer`], [`PkiError::BadHeader`].
pub fn recover(public_key: &impl AsRef<RsaPublicKey>, signed: &[u8]) -> Result<Vec<u8>, PkiError> {
    let public_key = public_key.as_ref();
    let expected = public_key.modulus_len();
    if signed.len() != expected {
        return Err(PkiError::SignatureLength {
            expected,
            actual: signed.len(),
        });
    }
    let recovered = public_key.public_op(signed)?;
    match recovered.last() {
        Some(&TRAILER) => {}
        other => return Err(PkiError::BadTrailer(other.copied().unwrap_or_default())),
    }
    match recovered.first() {
        Some(&HEADER) => {}
        other => return Err(PkiError::BadHeader(other.copied().unwrap_or_default())),
    }
    Ok(recovered)
}

/// Signs `6A ‖ body ‖ SHA-1(body ‖ hashed_after…) ‖ BC` with `key`.
///
/// `body` starts with the format byte and must be exactly `N − 22` bytes.
pub(crate) fn sign_block(
    key: &RsaKeyPair,
    body: &[u8],
    hashed_after: &[&[u8]],
) -> Result<Vec<u8>, PkiError> {
    let modulus = key.modulus_len();
    let needed = body.len() + OVERHEAD;
    if needed != modulus {
        return Err(PkiError::DataTooLong { needed, modulus });
    }
    let mut block = Vec::with_capacity(modulus);
    block.push(HEADER);
    block.extend_from_slice(body);
    block.extend_from_slice(&hash(body, hashed_after));
    block.push(TRAILER);
    key.private_op(&block)
}

/// SHA-1 over `first ‖ rest…`.
pub(crate) fn hash(first: &[u8], rest: &[&[u8]]) -> [u8; HASH_LEN] {
    let mut sha = Sha1::new();
    sha.update(first);
    for part in rest {
        sha.update(part);
    }
    sha.finalize().into()
}

/// The bytes the hash covers inside a recovered block: format up to the
/// hash. Empty if the block is too short to hold header, hash and trailer.
pub(crate) fn body(recovered: &[u8]) -> &[u8] {
    let end = recovered.len().saturating_sub(1 + HASH_LEN);
    recovered.get(1..end).unwrap_or_default()
}

/// Checks the recovered format byte.
pub(crate) fn check_format(recovered: &[u8], expected: u8) -> Result<(), PkiError> {
    let found = recovered.get(1).copied().unwrap_or_default();
    if found == expected {
        Ok(())
    } else {
        Err(PkiError::BadFormat { expected, found })
    }
}

/// Checks a hash algorithm indicator.
pub(crate) fn check_hash_algorithm(indicator: u8) -> Result<(), PkiError> {
    if indicator == HASH_SHA1 {
        Ok(())
    } else {
        Err(PkiError::UnsupportedHashAlgorithm(indicator))
    }
}

/// Checks the hash of a recovered block against `SHA-1(body ‖ hashed_after…)`.
pub(crate) fn check_hash(recovered: &[u8], hashed_after: &[&[u8]]) -> Result<(), PkiError> {
    let end = recovered.len().saturating_sub(1);
    let start = end.saturating_sub(HASH_LEN);
    let stored = recovered.get(start..end).unwrap_or_default();
    if stored == hash(body(recovered), hashed_after) {
        Ok(())
    } else {
        Err(PkiError::HashMismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::keys::Exponent;

    fn key() -> RsaKeyPair {
        RsaKeyPair::from_seed(b"recover", 768, Exponent::Three).unwrap()
    }

    #[test]
    fn signs_and_recovers_a_block() {
        let key = key();
        let data = vec![0x05; 96 - OVERHEAD];
        let signed = sign_block(&key, &data, &[b"after"]).unwrap();
        let recovered = recover(key.public_key(), &signed).unwrap();
        assert_eq!(recovered[0], HEADER);
        assert_eq!(recovered[95], TRAILER);
        assert_eq!(body(&recovered), &data[..]);
        check_format(&recovered, 0x05).unwrap();
        check_hash(&recovered, &[b"after"]).unwrap();
        assert_eq!(
            check_hash(&recovered, &[b"other"]),
            Err(PkiError::HashMismatch)
        );
        assert_eq!(
            check_format(&recovered, 0x04),
            Err(PkiError::BadFormat {
                expected: 4,
                found: 5
            })
        );
    }

    #[test]
    fn body_length_must_fit_exactly() {
        let key = key();
        assert_eq!(
            sign_block(&key, &[0; 75], &[]),
            Err(PkiError::DataTooLong {
                needed: 97,
                modulus: 96
            })
        );
    }

    #[test]
    fn recover_rejects_wrong_lengths_and_framing() {
        let key = key();
        assert_eq!(
            recover(key.public_key(), &[1; 95]),
            Err(PkiError::SignatureLength {
                expected: 96,
                actual: 95
            })
        );
        // A block with the right trailer but no header.
        let mut block = vec![0x11; 96];
        block[95] = TRAILER;
        let signed = key.private_op(&block).unwrap();
        assert_eq!(
            recover(key.public_key(), &signed),
            Err(PkiError::BadHeader(0x11))
        );
        block[0] = HEADER;
        block[95] = 0x00;
        let signed = key.private_op(&block).unwrap();
        assert_eq!(
            recover(key.public_key(), &signed),
            Err(PkiError::BadTrailer(0x00))
        );
    }

    #[test]
    fn short_blocks_do_not_panic() {
        assert_eq!(body(&[]), &[] as &[u8]);
        assert_eq!(check_hash(&[1, 2], &[]), Err(PkiError::HashMismatch));
        assert!(check_format(&[], 2).is_err());
    }
}
