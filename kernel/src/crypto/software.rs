//! [`SoftwareCrypto`]: the crypto provider in software (Book 2 Annex A2.1,
//! B2, B3), with `crypto-bigint` fixed-size integers for RSA and the `sha1`
//! crate. No heap; the largest value on the stack is a handful of 2048-bit
//! integers (a 1984-bit modulus fits 2048 bits). Each modulus is worked in
//! the narrowest width, in 128-bit steps, that holds it.

use crypto_bigint::modular::{FixedMontyForm, FixedMontyParams};
use crypto_bigint::{Limb, Odd, Uint, Word, nlimbs};
use sha1::Digest as _;

use super::{CryptoError, CryptoProvider, SHA1_LEN, Sha1State, check_rsa_public};

/// The software crypto provider: RSA public operation with `crypto-bigint`,
/// SHA-1 with `sha1`.
///
/// The RSA operation is variable-time in the exponent, which is public, and
/// works only on public data (certificates and signatures).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SoftwareCrypto;

/// The incremental SHA-1 state of [`SoftwareCrypto`].
#[derive(Clone, Debug, Default)]
pub struct SoftwareSha1(sha1::Sha1);

impl Sha1State for SoftwareSha1 {
    fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    fn finalize(self) -> [u8; SHA1_LEN] {
        self.0.finalize().into()
    }
}

/// `bytes` (at most `L` limbs long) as a big-endian integer.
fn uint_from_be<const L: usize>(bytes: &[u8]) -> Option<Uint<L>> {
    let mut limbs = [Limb::ZERO; L];
    for (i, byte) in bytes.iter().rev().enumerate() {
        let limb = limbs.get_mut(i / Limb::BYTES)?;
        limb.0 |= Word::from(*byte) << (8 * (i % Limb::BYTES));
    }
    Some(Uint::new(limbs))
}

/// `x^e mod n` with integers of `L` limbs, the result written big-endian
/// into `output` (as long as the modulus).
fn rsa_public_sized<const L: usize>(
    modulus: &[u8],
    e: u32,
    input: &[u8],
    output: &mut [u8],
) -> Result<(), CryptoError> {
    let len = modulus.len();
    let n = uint_from_be::<L>(modulus).ok_or(CryptoError::ModulusLength { len })?;
    let x = uint_from_be::<L>(input).ok_or(CryptoError::InputLength {
        expected: len,
        actual: input.len(),
    })?;
    let n = Option::<Odd<Uint<L>>>::from(Odd::new(n)).ok_or(CryptoError::EvenModulus)?;
    let params = FixedMontyParams::new_vartime(n);
    let base = FixedMontyForm::new(&x, &params);
    // Left-to-right square and multiply; `e` is 3 or 65537, so this is a
    // few Montgomery products and no precomputed table.
    let mut acc = base;
    let top = u32::BITS - 1 - e.leading_zeros();
    for bit in (0..top).rev() {
        acc = acc.square();
        if (e >> bit) & 1 == 1 {
            acc *= base;
        }
    }
    let y = acc.retrieve().to_be_bytes();
    let y = y.as_ref();
    let src = y
        .get(y.len().saturating_sub(len)..)
        .ok_or(CryptoError::ModulusLength { len })?;
    output.copy_from_slice(src);
    Ok(())
}

/// Runs [`rsa_public_sized`] with the smallest integer width, in steps of
/// 128 bits, that holds a modulus of `$len` bytes: the cost of a Montgomery
/// product grows with the square of the width, so a 1152-bit ICC key in a
/// 2048-bit integer would cost three times what it needs.
macro_rules! dispatch_by_width {
    ($len:expr, ($m:expr, $e:expr, $x:expr, $y:expr), $($bits:literal)*) => {{
        let bits = $len * 8;
        $(
            if bits <= $bits {
                return rsa_public_sized::<{ nlimbs($bits) }>($m, $e, $x, $y);
            }
        )*
        Err(CryptoError::ModulusLength { len: $len })
    }};
}

impl CryptoProvider for SoftwareCrypto {
    type Sha1 = SoftwareSha1;

    fn sha1_start(&self) -> SoftwareSha1 {
        SoftwareSha1::default()
    }

    fn rsa_public(
        &self,
        modulus: &[u8],
        exponent: &[u8],
        input: &[u8],
        output: &mut [u8],
    ) -> Result<(), CryptoError> {
        let e = check_rsa_public(modulus, exponent, input, output)?;
        dispatch_by_width!(
            modulus.len(),
            (modulus, e, input, output),
            512 640 768 896 1024 1152 1280 1408 1536 1664 1792 1920 2048
        )
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
mod tests {
    extern crate std;

    use std::vec;
    use std::vec::Vec;

    use proptest::prelude::*;

    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        hex::decode(s.replace([' ', '\n'], "")).unwrap()
    }

    /// Mastercard test CA `F3` (1152 bits, exponent 3), public test key.
    const MC_F3: &str = "98F0C770F23864C2E766DF02D1E833DFF4FFE92D696E1642F0A88C5694C6479D
16DB1537BFE29E4FDC6E6E8AFD1B0EB7EA0124723C333179BF19E93F10658B2F
776E829E87DAEDA9C94A8B3382199A350C077977C97AFF08FD11310AC950A72C
3CA5002EF513FCCC286E646E3C5387535D509514B3B326E1234F9CB48C36DDD4
4B416D23654034A66F403BA511C5EFA3";

    /// Mastercard test CA `F5` (1984 bits, exponent 65537), public test key.
    const MC_F5: &str = "A6E6FB72179506F860CCCA8C27F99CECD94C7D4F3191D303BBEE37481C7AA15F
233BA755E9E4376345A9A67E7994BDC1C680BB3522D8C93EB0CCC91AD31AD450
DA30D337662D19AC03E2B4EF5F6EC18282D491E19767D7B24542DFDEFF6F6218
5503532069BBB369E3BB9FB19AC6F1C30B97D249EEE764E0BAC97F25C873D973
953E5153A42064BBFABFD06A4BB486860BF6637406C9FC36813A4A75F75C31CC
A9F69F8DE59ADECEF6BDE7E07800FCBE035D3176AF8473E23E9AA3DFEE221196
D1148302677C720CFE2544A03DB553E7F1B8427BA1CC72B0F29B12DFEF4C081D
076D353E71880AADFF386352AF0AB7B28ED49E1E672D11F9";

    /// Mastercard test CA `F8` (1024 bits, exponent 3), public test key.
    const MC_F8: &str = "A1F5E1C9BD8650BD43AB6EE56B891EF7459C0A24FA84F9127D1A6C79D4930F6D
B1852E2510F18B61CD354DB83A356BD190B88AB8DF04284D02A4204A7B6CB7C5
551977A9B36379CA3DE1A08E69F301C95CC1C20506959275F41723DD5D292529
0579E5A95B0DF6323FC8E9273D6F849198C4996209166D9BFC973C361CC826E1";

    /// Issuer Public Key Certificate (tag `90`) of the public trace
    /// `mock-msc-offline.json`, signed by Mastercard test CA `F3`.
    const TRACE_ISSUER_CERT: &str =
        "21EC0FC6E1810DFEEA26545127494B40F5F12FA8670877C4B47516BBCD67EDF5
F0652B437B4D3E4E83999E7B8245E2A18A7968E7C3E1C16B5609036E65E0F4AF
2C4383AF19F1679DD59726C5D315B21967F5A3E526E645724B61F4C8ABCE98BE
B8DF1FD64237DBE356B1F96C73EBA3206AAA4C818518E58E17F0E4265A0A5D7E
2196E983C6DA78FC5C73F64E6F3AFF5A";

    #[test]
    fn sha1_known_answers() {
        let p = SoftwareCrypto;
        assert_eq!(
            p.sha1(&[b"abc"]).to_vec(),
            hex("A9993E364706816ABA3E25717850C26C9CD0D89D")
        );
        assert_eq!(
            p.sha1(&[]).to_vec(),
            hex("DA39A3EE5E6B4B0D3255BFEF95601890AFD80709")
        );
        assert_eq!(p.sha1(&[b"", b"a", b"", b"bc"]), p.sha1(&[b"abc"]));
        assert_eq!(
            p.sha1(&[b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"])
                .to_vec(),
            hex("84983E441C3BD26EBAAE4AA1F95129E5E54670F1")
        );
        let mut s = p.sha1_start();
        let chunk = [b'a'; 1000];
        for _ in 0..1000 {
            s.update(&chunk);
        }
        assert_eq!(
            s.finalize().to_vec(),
            hex("34AA973CD4C4DAA4F61EEB2BDBAD27316534016F")
        );
    }

    #[test]
    fn recovers_the_issuer_certificate_of_a_public_trace() {
        let m = hex(MC_F3);
        let cert = hex(TRACE_ISSUER_CERT);
        let mut out = vec![0u8; m.len()];
        SoftwareCrypto
            .rsa_public(&m, &[3], &cert, &mut out)
            .unwrap();
        assert_eq!(out.len(), 144);
        assert_eq!(&out[..2], &[0x6A, 0x02]);
        assert_eq!(out[143], 0xBC);
        // Issuer identifier 54133390, expiry 12/20, serial 000001, SHA-1, RSA,
        // NI 0x90, exponent length 1.
        assert_eq!(&out[2..15], &hex("54133390 1220 000001 01 01 90 01")[..]);
        // Exponent with leading zero bytes gives the same result.
        let mut again = vec![0u8; m.len()];
        SoftwareCrypto
            .rsa_public(&m, &[0, 0, 3], &cert, &mut again)
            .unwrap();
        assert_eq!(out, again);
    }

    #[test]
    fn exponent_65537_known_answer() {
        let m = hex(MC_F5);
        let x = hex(&"0123456789ABCDEF".repeat(31));
        let mut out = vec![0u8; 248];
        SoftwareCrypto
            .rsa_public(&m, &[1, 0, 1], &x, &mut out)
            .unwrap();
        assert_eq!(
            out,
            hex(
                "18920FC076DD0C800A16B55FC7A32C15C8DD5CC879B548C10E5BCD3DA93B3202\
                 EECCD43CEB6EE033C0B84BCF71CF9F3C269DBD962308151D64B4E508EC58862C\
                 6A293C09942A72EB1B8E88DBC1A2F7E12CE980F5EA7326499E00A8822B4FC5D4\
                 157C4465AABE2B768276AAC61AE507136421CCEE01C4F85F0D93726A902FE5A6\
                 1BEBE415F38822C872EFB383E1B62F2E5C7178F3EAD9B062B0418F02AC93CA18\
                 DB1F58AC9315BB66F234A4620B5A096F5010B015EC05BA3429A91B5363E46AFA\
                 942A798D650AA454B1CF2287B28E74E4B7B02FA3D147850A922DF38C1ECCDA67\
                 FC3B839073733B1520BB43C6890CCC62737E2812D40C298F"
            )
        );
    }

    #[test]
    fn exponent_3_known_answer_with_leading_zero_input() {
        let m = hex(MC_F8);
        let mut x = vec![0x55u8; 128];
        x[0] = 0;
        let mut out = vec![0u8; 128];
        SoftwareCrypto.rsa_public(&m, &[3], &x, &mut out).unwrap();
        assert_eq!(
            out,
            hex(
                "447C98C96B9BC796F96830533F55478C98F16AC329C0626E8868D1DEA982E5E7\
                 5DAEDF581C84658EEB37DE7D2256B594A86FB3D35038A2294F65066F4DCB39C1\
                 D601847B6E9BCDA413B00EB09E410C80B4F36EA51320404570B931E3297ABFC6\
                 92327DD16F571AF23F409F37DEC802412D5C6452B2A8D9420C1002EBB4F45E10"
            )
        );
        // Small values: 0 and 1 are fixed points, 2^3 = 8.
        let mut small = vec![0u8; 128];
        SoftwareCrypto
            .rsa_public(&m, &[3], &small.clone(), &mut out)
            .unwrap();
        assert!(out.iter().all(|&b| b == 0));
        small[127] = 2;
        SoftwareCrypto
            .rsa_public(&m, &[3], &small, &mut out)
            .unwrap();
        assert_eq!(out[127], 8);
        assert!(out[..127].iter().all(|&b| b == 0));
    }

    #[test]
    fn refuses_bad_inputs() {
        let m = hex(MC_F8);
        let mut out = vec![0u8; 128];
        assert_eq!(
            SoftwareCrypto.rsa_public(&m, &[3], &m, &mut out),
            Err(CryptoError::InputOutOfRange)
        );
        assert_eq!(
            SoftwareCrypto.rsa_public(&m, &[2], &[0; 128], &mut out),
            Err(CryptoError::UnsupportedExponent)
        );
        assert_eq!(
            SoftwareCrypto.rsa_public(&m[..127], &[3], &[0; 127], &mut out),
            Err(CryptoError::EvenModulus)
        );
        assert_eq!(
            SoftwareCrypto.rsa_public(&[0xFF; 249], &[3], &[0; 249], &mut [0; 249]),
            Err(CryptoError::ModulusLength { len: 249 })
        );
    }

    #[test]
    fn largest_modulus() {
        // 248 bytes of FF: odd, the largest value allowed.
        let m = [0xFFu8; 248];
        let mut x = [0u8; 248];
        x[247] = 3;
        let mut out = [0u8; 248];
        SoftwareCrypto
            .rsa_public(&m, &[1, 0, 1], &x, &mut out)
            .unwrap();
        SoftwareCrypto.rsa_public(&m, &[3], &x, &mut out).unwrap();
        assert_eq!(out[247], 27);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn rsa_never_panics(
            modulus in proptest::collection::vec(any::<u8>(), 0..260),
            exponent in proptest::collection::vec(any::<u8>(), 0..6),
            input in proptest::collection::vec(any::<u8>(), 0..260),
            out_len in 0usize..260,
        ) {
            let mut out = vec![0u8; out_len];
            let _ = SoftwareCrypto.rsa_public(&modulus, &exponent, &input, &mut out);
        }

        #[test]
        fn rsa_matches_the_checks_and_is_multiplicative(
            mut modulus in proptest::collection::vec(any::<u8>(), 64..=248),
            e in prop_oneof![Just(vec![3u8]), Just(vec![1u8, 0, 1])],
            a in any::<u8>(),
        ) {
            // An odd modulus with a non-zero top byte: (x·y)^e = x^e·y^e mod n,
            // checked through small values: x = a, y = 1.
            modulus[0] |= 0x80;
            let last = modulus.len() - 1;
            modulus[last] |= 1;
            let len = modulus.len();
            let mut x = vec![0u8; len];
            x[len - 1] = a;
            let mut out = vec![0u8; len];
            SoftwareCrypto.rsa_public(&modulus, &e, &x, &mut out).unwrap();
            let one = {
                let mut v = vec![0u8; len];
                v[len - 1] = 1;
                v
            };
            let mut out1 = vec![0u8; len];
            SoftwareCrypto.rsa_public(&modulus, &e, &one, &mut out1).unwrap();
            prop_assert_eq!(out1, one);
            if e == [3] {
                // a^3 < 2^24 is far below any 64-byte modulus.
                let cube = u32::from(a).pow(3);
                prop_assert_eq!(&out[len - 4..], &cube.to_be_bytes()[..]);
                prop_assert!(out[..len - 4].iter().all(|&b| b == 0));
            }
        }
    }
}
