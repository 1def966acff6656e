//! CA public keys as the terminal holds them (Book 2 §5.2, §6.2, §11.2):
//! the lookup trait, a slice-backed store and the key check sum.

use crate::crypto::{CryptoProvider, SHA1_LEN};

use super::PublicKey;

/// A certification authority public key (CAPK), borrowed from wherever the
/// terminal keeps it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capk<'a> {
    /// Registered application provider identifier (first 5 bytes of the
    /// AID).
    pub rid: [u8; 5],
    /// CA public key index (tag `8F` on the card).
    pub index: u8,
    /// The modulus, big-endian, 64 to 248 bytes.
    pub modulus: &'a [u8],
    /// The public exponent (`03` or `01 00 01`).
    pub exponent: &'a [u8],
    /// The key's expiry (year, month), valid through the end of that month;
    /// `None` when not known (the public test keys have none).
    pub expiry: Option<(u16, u8)>,
}

impl<'a> Capk<'a> {
    /// The key as a [`PublicKey`].
    #[must_use]
    pub const fn public_key(&self) -> PublicKey<'a> {
        PublicKey {
            modulus: self.modulus,
            exponent: self.exponent,
        }
    }

    /// Whether the key is past its expiry on `today` (year, month). A key
    /// without an expiry never expires here.
    #[must_use]
    pub fn is_expired(&self, today: (u16, u8)) -> bool {
        self.expiry.is_some_and(|expiry| expiry < today)
    }
}

/// Where the kernel finds CA public keys and the issuer certificate
/// revocation list (Book 2 §5.2, §5.3 step 10).
///
/// Load keys only after checking their [`capk_checksum`].
pub trait CapkStore {
    /// The key for this RID and index, if the terminal has it.
    fn capk(&self, rid: [u8; 5], index: u8) -> Option<Capk<'_>>;

    /// Whether the issuer certificate with this serial number, certified by
    /// the CA key `rid`/`index`, has been revoked (Book 2 §5.3 step 10: the
    /// list holds RID ‖ CA index ‖ certificate serial number).
    fn is_revoked(&self, rid: [u8; 5], index: u8, certificate_serial: [u8; 3]) -> bool;
}

/// A [`CapkStore`] over caller-owned slices: the keys, and the revocation
/// list as (RID, CA index, certificate serial number) entries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StaticCapkStore<'a> {
    /// The CA public keys.
    pub keys: &'a [Capk<'a>],
    /// Revoked issuer certificates.
    pub revoked: &'a [([u8; 5], u8, [u8; 3])],
}

impl CapkStore for StaticCapkStore<'_> {
    fn capk(&self, rid: [u8; 5], index: u8) -> Option<Capk<'_>> {
        self.keys
            .iter()
            .find(|k| k.rid == rid && k.index == index)
            .copied()
    }

    fn is_revoked(&self, rid: [u8; 5], index: u8, certificate_serial: [u8; 3]) -> bool {
        self.revoked.contains(&(rid, index, certificate_serial))
    }
}

/// The CA public key check sum: SHA-1(RID ‖ index ‖ modulus ‖ exponent)
/// (Book 2 §11.2). A terminal compares it with the one delivered with the
/// key before loading the key.
#[must_use]
pub fn capk_checksum<P: CryptoProvider + ?Sized>(
    provider: &P,
    rid: [u8; 5],
    index: u8,
    modulus: &[u8],
    exponent: &[u8],
) -> [u8; SHA1_LEN] {
    provider.sha1(&[&rid, &[index], modulus, exponent])
}

#[cfg(all(test, feature = "rustcrypto"))]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
mod tests {
    use super::*;
    use crate::crypto::SoftwareCrypto;
    use crate::oda::test_support::{MC_F3_MODULUS, MC_F5_MODULUS, hex};

    #[test]
    fn checksums_of_public_test_keys() {
        let f3 = hex(MC_F3_MODULUS);
        assert_eq!(
            capk_checksum(&SoftwareCrypto, [0xA0, 0, 0, 0, 4], 0xF3, &f3, &[3]).to_vec(),
            hex("A69AC7603DAF566E972DEDC2CB433E07E8B01A9A")
        );
        let f5 = hex(MC_F5_MODULUS);
        assert_eq!(
            capk_checksum(&SoftwareCrypto, [0xA0, 0, 0, 0, 4], 0xF5, &f5, &[1, 0, 1]).to_vec(),
            hex("C2239804C8098170BE52D6D5D4159E81CE8466BF")
        );
    }

    #[test]
    fn static_store() {
        let m = [0xC1u8; 64];
        let keys = [
            Capk {
                rid: [0xA0, 0, 0, 0, 4],
                index: 0xF3,
                modulus: &m,
                exponent: &[3],
                expiry: Some((2030, 6)),
            },
            Capk {
                rid: [0xA0, 0, 0, 0, 3],
                index: 0x92,
                modulus: &m[..32],
                exponent: &[3],
                expiry: None,
            },
        ];
        let revoked = [([0xA0, 0, 0, 0, 4], 0xF3, [0, 0, 1])];
        let store = StaticCapkStore {
            keys: &keys,
            revoked: &revoked,
        };
        assert_eq!(
            store.capk([0xA0, 0, 0, 0, 4], 0xF3).unwrap().modulus.len(),
            64
        );
        assert_eq!(
            store.capk([0xA0, 0, 0, 0, 3], 0x92).unwrap().modulus.len(),
            32
        );
        assert!(store.capk([0xA0, 0, 0, 0, 4], 0x92).is_none());
        assert!(store.is_revoked([0xA0, 0, 0, 0, 4], 0xF3, [0, 0, 1]));
        assert!(!store.is_revoked([0xA0, 0, 0, 0, 4], 0xF3, [0, 0, 2]));
        assert!(!store.is_revoked([0xA0, 0, 0, 0, 3], 0xF3, [0, 0, 1]));
        assert!(!keys[0].is_expired((2030, 6)));
        assert!(keys[0].is_expired((2030, 7)));
        assert!(!keys[1].is_expired((2099, 12)));
        assert!(StaticCapkStore::default().capk([0; 5], 0).is_none());
    }
}
