//! RSA keys for the test PKI: deterministic key pairs derived from a seed,
//! public keys as EMV carries them (modulus and exponent bytes), and the raw
//! RSA operations of EMV 4.4 Book 2 Annex A2.1.
//!
//! Book 2 Annex B2 fixes what EMV accepts: moduli of whole bytes, at most
//! 248 bytes (1984 bits), and the public exponents 3 and 2¹⁶ + 1. Keys are
//! generated from 768 to 1984 bits in steps of 8; public keys of 64 to 248
//! bytes (512 to 1984 bits) are accepted, so short legacy ICC keys recover.
//!
//! # Deterministic generation
//!
//! [`RsaKeyPair::from_seed`] seeds a ChaCha20 generator with
//! `SHA-256(LABEL ‖ seed ‖ bits (2 bytes, big endian) ‖ exponent (4 bytes,
//! big endian))`, where `LABEL` is [`SEED_LABEL`], and lets the `rsa` crate
//! generate a two-prime key from it. The same inputs give the same key for a
//! given `rsa` version; a unit test pins one key's fingerprint so that a
//! dependency update that changes generation is noticed.
//!
//! Generation takes 0.1–0.6 s on average for 1984 bits (up to a few seconds
//! with exponent 3, whose primes are rejected more often), so key pairs are
//! cached for the life of the process, keyed by the seed digest: tests that
//! ask for the same key pay once. Concurrent requests for the same key wait for one
//! generation; different keys generate in parallel.
//!
//! Private keys are wiped when the last handle goes away (the `rsa` crate
//! zeroizes its private components on drop); cached keys live until the
//! process ends. `Debug` never prints private material.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use rsa::BoxedUint;
use rsa::traits::PublicKeyParts;
use sha2::{Digest, Sha256};
use zeroize::ZeroizeOnDrop;

use super::PkiError;

/// Domain-separation label hashed in front of every seed.
pub const SEED_LABEL: &[u8] = b"emv-test-cards/pki/rsa-key-pair/v1\0";

/// Smallest key [`RsaKeyPair::from_seed`] generates, in bits.
pub const MIN_GENERATED_BITS: usize = 768;
/// Largest RSA modulus EMV carries, in bits (Book 2 Annex B2).
pub const MAX_BITS: usize = 1984;
/// Shortest public modulus accepted for recovery, in bytes (512 bits).
pub const MIN_MODULUS_LEN: usize = 64;
/// Longest public modulus EMV carries, in bytes (1984 bits).
pub const MAX_MODULUS_LEN: usize = MAX_BITS / 8;

/// An EMV public exponent (Book 2 Annex B2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Exponent {
    /// 3, encoded `03`.
    Three,
    /// 2¹⁶ + 1 = 65537, encoded `01 00 01`.
    F4,
}

impl Exponent {
    /// The exponent as a number.
    #[must_use]
    pub const fn value(self) -> u32 {
        match self {
            Self::Three => 3,
            Self::F4 => 65_537,
        }
    }

    /// The exponent as EMV encodes it (tags `9F32`, `9F47`, the CAPK).
    #[must_use]
    pub const fn bytes(self) -> &'static [u8] {
        match self {
            Self::Three => &[0x03],
            Self::F4 => &[0x01, 0x00, 0x01],
        }
    }

    /// Reads an encoded exponent: exactly `03` or `01 00 01`.
    ///
    /// # Errors
    /// [`PkiError::UnsupportedExponent`] for anything else.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, PkiError> {
        match bytes {
            [0x03] => Ok(Self::Three),
            [0x01, 0x00, 0x01] => Ok(Self::F4),
            _ => Err(PkiError::UnsupportedExponent {
                exponent: bytes.to_vec(),
            }),
        }
    }
}

/// An RSA public key as EMV carries it: modulus bytes and exponent.
#[derive(Clone)]
pub struct RsaPublicKey {
    modulus: Vec<u8>,
    exponent: Exponent,
    raw: rsa::PublicKey,
}

impl RsaPublicKey {
    /// A public key from its modulus (big endian, 64 to 248 bytes, no
    /// leading zero byte) and encoded exponent (`03` or `01 00 01`).
    ///
    /// # Errors
    /// [`PkiError::InvalidModulus`] or [`PkiError::UnsupportedExponent`].
    pub fn new(modulus: &[u8], exponent: &[u8]) -> Result<Self, PkiError> {
        let exponent = Exponent::from_bytes(exponent)?;
        let len = modulus.len();
        let invalid = |reason| PkiError::InvalidModulus { len, reason };
        if !(MIN_MODULUS_LEN..=MAX_MODULUS_LEN).contains(&len) {
            return Err(invalid("length outside 64..=248 bytes"));
        }
        match modulus.first() {
            Some(0) | None => return Err(invalid("leading zero byte")),
            Some(_) => {}
        }
        if modulus.last().is_none_or(|b| b & 1 == 0) {
            return Err(invalid("even"));
        }
        let n = BoxedUint::from_be_slice_vartime(modulus);
        let e = BoxedUint::from(u64::from(exponent.value()));
        let raw = rsa::PublicKey::new_with_size_limits(n, e, 1..=MAX_BITS)
            .map_err(|_| invalid("rejected by the RSA library"))?;
        Ok(Self {
            modulus: modulus.to_vec(),
            exponent,
            raw,
        })
    }

    fn from_raw(raw: rsa::PublicKey, exponent: Exponent) -> Self {
        let modulus = raw.n_bytes().into_vec();
        Self {
            modulus,
            exponent,
            raw,
        }
    }

    /// The modulus, big endian, as long as the key (`N` bytes).
    #[must_use]
    pub fn modulus(&self) -> &[u8] {
        &self.modulus
    }

    /// The public exponent.
    #[must_use]
    pub const fn exponent(&self) -> Exponent {
        self.exponent
    }

    /// Modulus length in bytes: `NCA`, `NI` or `NIC` in Book 2.
    #[must_use]
    pub fn modulus_len(&self) -> usize {
        self.modulus.len()
    }

    /// Modulus length in bits.
    #[must_use]
    pub fn bits(&self) -> usize {
        self.raw.n().bit_width() as usize
    }

    /// `signed^e mod n`, as many bytes as the modulus. The caller checks
    /// the length; this checks the range.
    pub(crate) fn public_op(&self, signed: &[u8]) -> Result<Vec<u8>, PkiError> {
        let precision = self.raw.n_bits_precision();
        let s = BoxedUint::from_be_slice(signed, precision)
            .map_err(|_| PkiError::SignatureOutOfRange)?;
        if s >= *self.raw.n().as_ref() {
            return Err(PkiError::SignatureOutOfRange);
        }
        let x = rsa::hazmat::rsa_encrypt(&self.raw, &s).map_err(rsa_error)?;
        fixed_be(&x, self.modulus.len())
    }
}

impl AsRef<Self> for RsaPublicKey {
    fn as_ref(&self) -> &Self {
        self
    }
}

impl PartialEq for RsaPublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.modulus == other.modulus && self.exponent == other.exponent
    }
}

impl Eq for RsaPublicKey {}

impl fmt::Debug for RsaPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RsaPublicKey")
            .field("bits", &self.bits())
            .field("exponent", &self.exponent)
            .field("modulus", &hex::encode_upper(&self.modulus))
            .finish()
    }
}

/// An RSA key pair. Cheap to clone: clones share one private key.
#[derive(Clone)]
pub struct RsaKeyPair {
    inner: Arc<KeyPairInner>,
}

struct KeyPairInner {
    private: rsa::PrivateKey,
    public: RsaPublicKey,
}

// The only secret field is the `rsa` private key, which zeroizes its
// components on drop.
impl ZeroizeOnDrop for KeyPairInner {}
const _: fn() = || {
    fn wipes_on_drop<T: ZeroizeOnDrop>() {}
    wipes_on_drop::<rsa::PrivateKey>();
};

type Slot = Arc<OnceLock<Result<RsaKeyPair, PkiError>>>;

fn cache() -> &'static Mutex<HashMap<[u8; 32], Slot>> {
    static CACHE: OnceLock<Mutex<HashMap<[u8; 32], Slot>>> = OnceLock::new();
    CACHE.get_or_init(Mutex::default)
}

impl RsaKeyPair {
    /// The key pair derived from `seed` (see the module documentation),
    /// `bits` long (768 to 1984, a multiple of 8), with public exponent
    /// `exponent`. Cached per process.
    ///
    /// # Errors
    /// [`PkiError::UnsupportedKeySize`], or [`PkiError::Rsa`] if generation
    /// fails.
    pub fn from_seed(seed: &[u8], bits: usize, exponent: Exponent) -> Result<Self, PkiError> {
        let digest = seed_digest(seed, bits, exponent)?;
        let slot = {
            let mut map = cache().lock().unwrap_or_else(PoisonError::into_inner);
            Arc::clone(map.entry(digest).or_default())
        };
        slot.get_or_init(|| Self::generate(digest, bits, exponent))
            .clone()
    }

    /// Generates without the cache.
    fn generate(digest: [u8; 32], bits: usize, exponent: Exponent) -> Result<Self, PkiError> {
        let mut rng = ChaCha20Rng::from_seed(digest);
        let e = BoxedUint::from(u64::from(exponent.value()));
        let private =
            rsa::PrivateKey::new_with_exp_unchecked(&mut rng, bits, e).map_err(rsa_error)?;
        let public = RsaPublicKey::from_raw(private.to_public_key(), exponent);
        if public.modulus_len() * 8 != bits {
            return Err(PkiError::Rsa("generated modulus has the wrong size".into()));
        }
        Ok(Self {
            inner: Arc::new(KeyPairInner { private, public }),
        })
    }

    /// The public half.
    #[must_use]
    pub fn public_key(&self) -> &RsaPublicKey {
        &self.inner.public
    }

    /// The modulus, big endian.
    #[must_use]
    pub fn modulus(&self) -> &[u8] {
        self.inner.public.modulus()
    }

    /// The public exponent.
    #[must_use]
    pub fn exponent(&self) -> Exponent {
        self.inner.public.exponent()
    }

    /// Modulus length in bytes.
    #[must_use]
    pub fn modulus_len(&self) -> usize {
        self.inner.public.modulus_len()
    }

    /// The raw private operation `block^d mod n` (no padding), as many bytes
    /// as the modulus; `block` must be exactly that long and smaller than
    /// the modulus. The result is checked with the public operation.
    pub(crate) fn private_op(&self, block: &[u8]) -> Result<Vec<u8>, PkiError> {
        let len = self.modulus_len();
        if block.len() != len {
            return Err(PkiError::SignatureLength {
                expected: len,
                actual: block.len(),
            });
        }
        let private = &self.inner.private;
        let c = BoxedUint::from_be_slice(block, private.n_bits_precision())
            .map_err(|_| PkiError::SignatureOutOfRange)?;
        if c >= *private.n().as_ref() {
            return Err(PkiError::SignatureOutOfRange);
        }
        // No blinding (no RNG): deterministic, and these are test keys.
        // The check recomputes `m^e` to catch a faulty CRT result.
        let m = rsa::hazmat::rsa_decrypt_and_check::<ChaCha20Rng>(private, None, &c)
            .map_err(rsa_error)?;
        fixed_be(&m, len)
    }
}

impl AsRef<RsaPublicKey> for RsaKeyPair {
    fn as_ref(&self) -> &RsaPublicKey {
        self.public_key()
    }
}

impl PartialEq for RsaKeyPair {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner) || self.inner.private == other.inner.private
    }
}

impl Eq for RsaKeyPair {}

impl fmt::Debug for RsaKeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RsaKeyPair")
            .field("public", &self.inner.public)
            .field("private", &"<redacted>")
            .finish()
    }
}

/// The ChaCha20 seed for a key: `SHA-256(SEED_LABEL ‖ seed ‖ bits ‖ exponent)`.
fn seed_digest(seed: &[u8], bits: usize, exponent: Exponent) -> Result<[u8; 32], PkiError> {
    let unsupported = PkiError::UnsupportedKeySize { bits };
    if !(MIN_GENERATED_BITS..=MAX_BITS).contains(&bits) || !bits.is_multiple_of(8) {
        return Err(unsupported);
    }
    let bits16 = u16::try_from(bits).map_err(|_| unsupported)?;
    let digest = Sha256::new()
        .chain_update(SEED_LABEL)
        .chain_update(seed)
        .chain_update(bits16.to_be_bytes())
        .chain_update(exponent.value().to_be_bytes())
        .finalize();
    Ok(digest.into())
}

/// `x` as exactly `len` big-endian bytes.
fn fixed_be(x: &BoxedUint, len: usize) -> Result<Vec<u8>, PkiError> {
    let bytes = x.to_be_bytes();
    let skip = bytes.len().checked_sub(len).ok_or(PkiError::Rsa(
        "result shorter than the modulus storage".into(),
    ))?;
    let (high, low) = bytes.split_at(skip);
    if high.iter().any(|&b| b != 0) {
        return Err(PkiError::Rsa("result longer than the modulus".into()));
    }
    Ok(low.to_vec())
}

fn rsa_error(e: rsa::Error) -> PkiError {
    PkiError::Rsa(format!("{e:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_key_without_the_cache() {
        let digest = seed_digest(b"determinism", 768, Exponent::Three).unwrap();
        let a = RsaKeyPair::generate(digest, 768, Exponent::Three).unwrap();
        let b = RsaKeyPair::generate(digest, 768, Exponent::Three).unwrap();
        assert!(!Arc::ptr_eq(&a.inner, &b.inner));
        assert_eq!(a, b);
        assert_eq!(a.modulus(), b.modulus());
        assert_eq!(a.modulus_len(), 96);
        assert_eq!(a.public_key().bits(), 768);
    }

    /// Pins the derivation: if this changes, every seeded key (and every
    /// certificate in fixtures built from them) changes too.
    #[test]
    fn derivation_is_pinned() {
        let key = RsaKeyPair::from_seed(b"determinism", 768, Exponent::Three).unwrap();
        let fingerprint = Sha256::digest(key.modulus());
        assert_eq!(
            hex::encode_upper(fingerprint.as_slice()),
            "FA5B142B507238DAD8E0DF5C6052524D978030231A48A44C14CF1D9139F96372",
            "the seeded key derivation changed (rsa crate update?)"
        );
    }

    #[test]
    fn cache_returns_the_same_key() {
        let a = RsaKeyPair::from_seed(b"cache", 768, Exponent::F4).unwrap();
        let b = RsaKeyPair::from_seed(b"cache", 768, Exponent::F4).unwrap();
        assert!(Arc::ptr_eq(&a.inner, &b.inner));
        assert_eq!(a.exponent(), Exponent::F4);
        assert_eq!(a.public_key().exponent().bytes(), &[1, 0, 1]);
    }

    #[test]
    fn inputs_separate_keys() {
        let base = RsaKeyPair::from_seed(b"sep", 768, Exponent::Three).unwrap();
        let other_seed = RsaKeyPair::from_seed(b"sep2", 768, Exponent::Three).unwrap();
        let other_exp = RsaKeyPair::from_seed(b"sep", 768, Exponent::F4).unwrap();
        let other_bits = RsaKeyPair::from_seed(b"sep", 776, Exponent::Three).unwrap();
        assert_ne!(base.modulus(), other_seed.modulus());
        assert_ne!(base.modulus(), other_exp.modulus());
        assert_eq!(other_bits.modulus_len(), 97);
    }

    #[test]
    fn key_sizes_are_checked() {
        for bits in [0, 512, 760, 769, 1990, 1992, 2048] {
            assert_eq!(
                RsaKeyPair::from_seed(b"x", bits, Exponent::Three),
                Err(PkiError::UnsupportedKeySize { bits })
            );
        }
    }

    #[test]
    fn debug_hides_the_private_key() {
        let key = RsaKeyPair::from_seed(b"determinism", 768, Exponent::Three).unwrap();
        let text = format!("{key:?}");
        assert!(text.contains("<redacted>"));
        assert!(!text.contains("primes"));
        assert!(!text.contains(" d:"));
    }

    #[test]
    fn private_then_public_round_trips() {
        let key = RsaKeyPair::from_seed(b"determinism", 768, Exponent::Three).unwrap();
        let mut block = vec![0x6A; key.modulus_len()];
        block[5] = 0;
        let signed = key.private_op(&block).unwrap();
        assert_eq!(signed.len(), 96);
        assert_eq!(key.public_key().public_op(&signed).unwrap(), block);
        // Not smaller than the modulus.
        assert_eq!(
            key.public_key().public_op(key.modulus()),
            Err(PkiError::SignatureOutOfRange)
        );
        assert_eq!(
            key.private_op(&[0xFF; 96]),
            Err(PkiError::SignatureOutOfRange)
        );
    }

    #[test]
    fn public_keys_are_validated() {
        let mut n = vec![0xC1; 64];
        assert!(RsaPublicKey::new(&n, &[3]).is_ok());
        assert!(matches!(
            RsaPublicKey::new(&n, &[5]),
            Err(PkiError::UnsupportedExponent { .. })
        ));
        assert!(matches!(
            RsaPublicKey::new(&n[..63], &[3]),
            Err(PkiError::InvalidModulus { .. })
        ));
        n[63] = 0xC2;
        assert!(matches!(
            RsaPublicKey::new(&n, &[3]),
            Err(PkiError::InvalidModulus { .. })
        ));
        n[63] = 0xC1;
        n[0] = 0;
        assert!(matches!(
            RsaPublicKey::new(&n, &[3]),
            Err(PkiError::InvalidModulus { .. })
        ));
        assert!(RsaPublicKey::new(&[0xC1; 248], &[1, 0, 1]).is_ok());
        assert!(RsaPublicKey::new(&[0xC1; 249], &[1, 0, 1]).is_err());
        assert!(RsaPublicKey::new(&[], &[3]).is_err());
    }
}
