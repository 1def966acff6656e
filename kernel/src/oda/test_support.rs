//! Test helpers: an identity "RSA" provider, so certificates can be written
//! as the plaintext they recover to, and builders for every recovered
//! format.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

extern crate std;

use std::boxed::Box;
use std::vec;
use std::vec::Vec;

use crate::crypto::{CryptoError, CryptoProvider, SoftwareCrypto, SoftwareSha1};
use crate::oda::{Capk, StaticCapkStore};

/// The project test RID.
pub(crate) const RID: [u8; 5] = [0xF0, 0x00, 0x00, 0x09, 0x99];
/// PAN `4761739001010119`.
pub(crate) const PAN: [u8; 8] = [0x47, 0x61, 0x73, 0x90, 0x01, 0x01, 0x01, 0x19];
/// The transaction month of the tests.
pub(crate) const TODAY: (u16, u8) = (2026, 8);

/// Mastercard test CA `F3` (1152 bits, exponent 3), a public test key.
pub(crate) const MC_F3_MODULUS: &str =
    "98F0C770F23864C2E766DF02D1E833DFF4FFE92D696E1642F0A88C5694C6479D
16DB1537BFE29E4FDC6E6E8AFD1B0EB7EA0124723C333179BF19E93F10658B2F
776E829E87DAEDA9C94A8B3382199A350C077977C97AFF08FD11310AC950A72C
3CA5002EF513FCCC286E646E3C5387535D509514B3B326E1234F9CB48C36DDD4
4B416D23654034A66F403BA511C5EFA3";

/// Mastercard test CA `F5` (1984 bits, exponent 65537), a public test key.
pub(crate) const MC_F5_MODULUS: &str =
    "A6E6FB72179506F860CCCA8C27F99CECD94C7D4F3191D303BBEE37481C7AA15F
233BA755E9E4376345A9A67E7994BDC1C680BB3522D8C93EB0CCC91AD31AD450
DA30D337662D19AC03E2B4EF5F6EC18282D491E19767D7B24542DFDEFF6F6218
5503532069BBB369E3BB9FB19AC6F1C30B97D249EEE764E0BAC97F25C873D973
953E5153A42064BBFABFD06A4BB486860BF6637406C9FC36813A4A75F75C31CC
A9F69F8DE59ADECEF6BDE7E07800FCBE035D3176AF8473E23E9AA3DFEE221196
D1148302677C720CFE2544A03DB553E7F1B8427BA1CC72B0F29B12DFEF4C081D
076D353E71880AADFF386352AF0AB7B28ED49E1E672D11F9";

pub(crate) fn hex(s: &str) -> Vec<u8> {
    hex::decode(s.replace([' ', '\n'], "")).unwrap()
}

/// A provider whose "RSA" is the identity: the recovered data is the input.
/// SHA-1 is the real one.
pub(crate) struct Plain;

impl CryptoProvider for Plain {
    type Sha1 = SoftwareSha1;

    fn sha1_start(&self) -> SoftwareSha1 {
        SoftwareCrypto.sha1_start()
    }

    fn rsa_public(
        &self,
        modulus: &[u8],
        _exponent: &[u8],
        input: &[u8],
        output: &mut [u8],
    ) -> Result<(), CryptoError> {
        let len = modulus.len();
        if len == 0 || len > 248 {
            return Err(CryptoError::ModulusLength { len });
        }
        if input.len() != len {
            return Err(CryptoError::InputLength {
                expected: len,
                actual: input.len(),
            });
        }
        if output.len() != len {
            return Err(CryptoError::OutputLength {
                expected: len,
                actual: output.len(),
            });
        }
        output.copy_from_slice(input);
        Ok(())
    }
}

/// A store with one CA key `RID`/`01` of `len` bytes of `FF` (odd, so the
/// software provider accepts it too), exponent 3.
pub(crate) fn plain_store(len: usize) -> StaticCapkStore<'static> {
    let modulus: &'static [u8] = Box::leak(vec![0xFFu8; len].into_boxed_slice());
    let keys: &'static [Capk<'static>] = Box::leak(Box::new([Capk {
        rid: RID,
        index: 1,
        modulus,
        exponent: &[3],
        expiry: None,
    }]));
    StaticCapkStore { keys, revoked: &[] }
}

/// `6A ‖ body ‖ SHA-1(body ‖ extra…) ‖ BC`.
pub(crate) fn seal(body: &[u8], extra: &[&[u8]]) -> Vec<u8> {
    let mut parts: Vec<&[u8]> = vec![body];
    parts.extend_from_slice(extra);
    let hash = SoftwareCrypto.sha1(&parts);
    let mut out = vec![0x6A];
    out.extend_from_slice(body);
    out.extend_from_slice(&hash);
    out.push(0xBC);
    out
}

/// A modulus of `len` bytes: odd, top byte set, otherwise a pattern.
pub(crate) fn modulus(len: usize, seed: u8) -> Vec<u8> {
    let mut m: Vec<u8> = (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect();
    m[0] |= 0x80;
    m[len - 1] |= 1;
    m
}

/// An Issuer (Table 6) or ICC (Table 14) Public Key Certificate as it
/// recovers, with knobs to break each field.
#[derive(Clone, Debug)]
pub(crate) struct CertBuilder {
    /// Length of the signing key (NCA or NI).
    pub signer_len: usize,
    /// The certified key.
    pub modulus: Vec<u8>,
    pub exponent: Vec<u8>,
    pub format: u8,
    /// Issuer identifier (4 bytes) or PAN (10 bytes).
    pub ident: Vec<u8>,
    pub expiry: [u8; 2],
    pub serial: [u8; 3],
    pub hash_algorithm: u8,
    pub key_algorithm: u8,
    pub key_len_override: Option<u8>,
    pub exp_len_override: Option<u8>,
    /// Static data (ICC certificate only).
    pub static_data: Vec<u8>,
    pub truncate: Option<usize>,
    pub patch: Vec<(usize, u8)>,
    pub drop_remainder: bool,
    pub remainder_extra: usize,
    pub flip_after_signing: Option<usize>,
    pub flip_remainder: bool,
    pub flip_hash: bool,
}

/// The issuer certificate builder.
pub(crate) type IssuerCertBuilder = CertBuilder;

impl CertBuilder {
    /// An issuer certificate for PAN [`PAN`]: NCA `nca`, NI `ni`, exponent 3,
    /// expiry 12/35, serial 001234.
    pub(crate) fn new(nca: usize, ni: usize) -> Self {
        Self {
            signer_len: nca,
            modulus: modulus(ni, 7),
            exponent: vec![3],
            format: 0x02,
            ident: vec![0x47, 0x61, 0x73, 0x90],
            expiry: [0x12, 0x35],
            serial: [0x00, 0x12, 0x34],
            hash_algorithm: 1,
            key_algorithm: 1,
            key_len_override: None,
            exp_len_override: None,
            static_data: Vec::new(),
            truncate: None,
            patch: Vec::new(),
            drop_remainder: false,
            remainder_extra: 0,
            flip_after_signing: None,
            flip_remainder: false,
            flip_hash: false,
        }
    }

    /// An ICC certificate for PAN [`PAN`] (F-padded), NI `ni`, NIC `nic`,
    /// signing `static_data`.
    pub(crate) fn icc(ni: usize, nic: usize, static_data: &[u8]) -> Self {
        let mut pan = PAN.to_vec();
        pan.resize(10, 0xFF);
        Self {
            modulus: modulus(nic, 11),
            format: 0x04,
            ident: pan,
            static_data: static_data.to_vec(),
            ..Self::new(ni, nic)
        }
    }

    /// (certificate, remainder).
    pub(crate) fn build(&self) -> (Vec<u8>, Vec<u8>) {
        let n = self.signer_len;
        let field_len = n - 32 - self.ident.len();
        let ni = self.modulus.len();
        let mut body = vec![self.format];
        body.extend_from_slice(&self.ident);
        body.extend_from_slice(&self.expiry);
        body.extend_from_slice(&self.serial);
        body.push(self.hash_algorithm);
        body.push(self.key_algorithm);
        body.push(self.key_len_override.unwrap_or(ni as u8));
        body.push(self.exp_len_override.unwrap_or(self.exponent.len() as u8));
        let mut field = self.modulus[..ni.min(field_len)].to_vec();
        field.resize(field_len, 0xBB);
        body.extend_from_slice(&field);
        let mut remainder = if ni > field_len {
            self.modulus[field_len..].to_vec()
        } else {
            Vec::new()
        };
        remainder.extend(core::iter::repeat_n(0x42, self.remainder_extra));
        let mut cert = seal(&body, &[&remainder, &self.exponent, &self.static_data]);
        assert_eq!(cert.len(), n);
        if let Some(at) = self.flip_after_signing {
            cert[at] ^= 1;
        }
        if self.flip_hash {
            cert[n - 21] ^= 1;
        }
        for &(at, v) in &self.patch {
            cert[at] = v;
        }
        if let Some(len) = self.truncate {
            cert.truncate(len);
        }
        if self.drop_remainder {
            remainder.clear();
        }
        if self.flip_remainder {
            remainder[0] ^= 1;
        }
        (cert, remainder)
    }
}

/// Signed Static Application Data (Table 7) as it recovers, for a key of
/// `ni` bytes.
pub(crate) fn ssad(ni: usize, dac: [u8; 2], static_data: &[&[u8]]) -> Vec<u8> {
    let mut body = vec![0x03, 0x01, dac[0], dac[1]];
    body.resize(ni - 22, 0xBB);
    seal(&body, static_data)
}

/// Signed Dynamic Application Data (Table 17) as it recovers, for a key of
/// `nic` bytes.
pub(crate) fn sdad(nic: usize, dynamic_data: &[u8], terminal_data: &[u8]) -> Vec<u8> {
    let mut body = vec![0x05, 0x01, dynamic_data.len() as u8];
    body.extend_from_slice(dynamic_data);
    body.resize(nic - 22, 0xBB);
    seal(&body, &[terminal_data])
}
