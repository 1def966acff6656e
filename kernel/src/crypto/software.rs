//! [`SoftwareCrypto`]: the crypto provider in software (Book 2 Annex A2.1,
//! B2, B3): RSA public operation with a small Montgomery multiplication over
//! machine words, SHA-1 with the `sha1` crate. No heap, no `unsafe`.
//!
//! The RSA operation works on fixed word arrays as long as the longest EMV
//! modulus (248 bytes, [`MAX_MODULUS_LEN`]) and uses only as many words as
//! the modulus has, so a 1152-bit key costs what 1152 bits cost. Its whole
//! working set is four numbers and one double-length product, about
//! 1.5 KiB of stack: the values are updated in place, never copied, so that
//! a terminal with a small stack can run it.

use sha1::Digest as _;
use zeroize::Zeroize;

use super::{CryptoError, CryptoProvider, MAX_MODULUS_LEN, SHA1_LEN, Sha1State, check_rsa_public};

/// The software crypto provider: RSA public operation by Montgomery
/// multiplication, SHA-1 with `sha1`.
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

/// A machine word of the multi-precision numbers, and its double.
#[cfg(target_pointer_width = "64")]
type Word = u64;
#[cfg(target_pointer_width = "64")]
type Wide = u128;
#[cfg(not(target_pointer_width = "64"))]
type Word = u32;
#[cfg(not(target_pointer_width = "64"))]
type Wide = u64;

const WORD_BYTES: usize = core::mem::size_of::<Word>();
const WORD_BITS: u32 = Word::BITS;
/// Words of the longest modulus.
const MAX_WORDS: usize = MAX_MODULUS_LEN.div_ceil(WORD_BYTES);

/// `x` of `w` words, least significant word first.
type Num = [Word; MAX_WORDS];

/// `bytes` (big-endian) into the words of `out`, least significant first;
/// `out` is as long as needed to hold `bytes`.
fn load(bytes: &[u8], out: &mut [Word]) {
    out.fill(0);
    for (i, byte) in bytes.iter().rev().enumerate() {
        if let Some(w) = out.get_mut(i / WORD_BYTES) {
            *w |= Word::from(*byte) << (8 * (i % WORD_BYTES));
        }
    }
}

/// The words of `x` as big-endian bytes into `out` (as many low bytes as
/// `out` holds).
fn store(x: &[Word], out: &mut [u8]) {
    for (i, byte) in out.iter_mut().rev().enumerate() {
        let w = x.get(i / WORD_BYTES).copied().unwrap_or(0);
        *byte = (w >> (8 * (i % WORD_BYTES))) as u8;
    }
}

/// `a >= b`, both of the same length.
fn ge(a: &[Word], b: &[Word]) -> bool {
    for (x, y) in a.iter().rev().zip(b.iter().rev()) {
        if x != y {
            return x > y;
        }
    }
    true
}

/// `a -= b` (same length), returning the borrow.
fn sub_assign(a: &mut [Word], b: &[Word]) -> bool {
    let mut borrow = false;
    for (x, &y) in a.iter_mut().zip(b) {
        let (d, b1) = x.overflowing_sub(y);
        let (d, b2) = d.overflowing_sub(Word::from(borrow));
        *x = d;
        borrow = b1 || b2;
    }
    borrow
}

/// `-n⁻¹ mod 2^WORD_BITS` for an odd `n0` (Newton's iteration: each step
/// doubles the correct low bits, starting from 3 bits).
fn neg_inverse(n0: Word) -> Word {
    let mut inv = n0;
    for _ in 0..6 {
        inv = inv.wrapping_mul((2 as Word).wrapping_sub(n0.wrapping_mul(inv)));
    }
    inv.wrapping_neg()
}

/// The modulus and what Montgomery multiplication needs of it.
struct Modulus<'n> {
    n: &'n [Word],
    /// `-n⁻¹ mod 2^WORD_BITS`.
    n_inv: Word,
}

impl Modulus<'_> {
    /// Montgomery product `a·b·R⁻¹ mod n` (R = 2^(WORD_BITS·w), w words of
    /// `n`), computed in `t` (at least 2w + 1 words) and returned as a part
    /// of it, so that the caller copies it where it wants (even over `a`).
    /// `a` and `b` are below `n`, and so is the result.
    fn mul<'t>(&self, a: &[Word], b: &[Word], t: &'t mut [Word]) -> &'t [Word] {
        let w = self.n.len();
        let Some(t) = t.get_mut(..2 * w + 1) else {
            return &[];
        };
        t.fill(0);
        // t = a·b (schoolbook, row by row).
        for (i, &ai) in a.iter().enumerate() {
            add_mul_at(t, i, ai, b);
        }
        self.reduce(t)
    }

    /// [`Modulus::mul`] of `a` by itself, with each cross product
    /// `a_i·a_j` computed once and doubled.
    fn square<'t>(&self, a: &[Word], t: &'t mut [Word]) -> &'t [Word] {
        let w = self.n.len();
        let Some(t) = t.get_mut(..2 * w + 1) else {
            return &[];
        };
        t.fill(0);
        // The cross products a_i·a_j, i < j, at i + j.
        for (i, &ai) in a.iter().enumerate() {
            add_mul_at(t, 2 * i + 1, ai, a.get(i + 1..).unwrap_or_default());
        }
        // Doubled (a² < 2^(2w·WORD_BITS): nothing is shifted out), plus the
        // squares a_i² at 2i.
        shl1(t);
        let mut carry: Wide = 0;
        let (pairs, rest) = t.split_at_mut(2 * w);
        for (pair, &ai) in pairs.chunks_exact_mut(2).zip(a) {
            if let [lo, hi] = pair {
                let p = Wide::from(ai) * Wide::from(ai);
                let s = Wide::from(*lo) + (p & Wide::from(Word::MAX)) + carry;
                *lo = s as Word;
                let s = Wide::from(*hi) + (p >> WORD_BITS) + (s >> WORD_BITS);
                *hi = s as Word;
                carry = s >> WORD_BITS;
            }
        }
        if let Some(last) = rest.first_mut() {
            *last = last.wrapping_add(carry as Word);
        }
        self.reduce(t)
    }

    /// Montgomery reduction of the product `t` (2w + 1 words): `t·R⁻¹ mod
    /// n`, returned as a part of `t`.
    fn reduce<'t>(&self, t: &'t mut [Word]) -> &'t [Word] {
        let w = self.n.len();
        // Make the low w words zero by adding multiples of n, word by word.
        for i in 0..w {
            let m = t.get(i).copied().unwrap_or(0).wrapping_mul(self.n_inv);
            add_mul_at(t, i, m, self.n);
        }
        // t / R < 2n: at most one subtraction.
        let (_, high) = t.split_at_mut(w);
        let (value, top) = high.split_at_mut(w);
        if top.first().copied().unwrap_or(0) != 0 || ge(value, self.n) {
            sub_assign(value, self.n);
        }
        value
    }

    /// `R² mod n` into `out` (w words), with `t` (at least w + 1 words) as
    /// scratch: `R mod n` by doubling from the modulus' top bit (at most a
    /// word and a byte of doublings: EMV moduli are whole bytes), then w
    /// times `v·2^WORD_BITS mod n`, each a step of schoolbook division
    /// (Knuth, TAOCP vol. 2, §4.3.1, algorithm D: the quotient word
    /// estimated from the top words of the normalised numbers is at most
    /// two too large).
    fn r_squared(&self, t: &mut [Word], out: &mut [Word]) {
        let w = self.n.len();
        let bits = self.bit_len();
        out.fill(0);
        // 2^(bits - 1) < n.
        let top = bits.saturating_sub(1);
        if let Some(word) = out.get_mut(top / WORD_BITS as usize) {
            *word = 1 << (top % WORD_BITS as usize);
        }
        for _ in top..w * WORD_BITS as usize {
            let carry = shl1(out);
            if carry || ge(out, self.n) {
                sub_assign(out, self.n);
            }
        }
        // The top word of n shifted left until its top bit is set.
        let shift = self.n.last().map_or(0, |x| x.leading_zeros());
        let top_of = |hi: Word, lo: Word| -> Word {
            (hi << shift) | lo.checked_shr(WORD_BITS - shift).unwrap_or(0)
        };
        let word = |x: &[Word], i: Option<usize>| -> Word {
            i.and_then(|i| x.get(i)).copied().unwrap_or(0)
        };
        let n_top = top_of(
            word(self.n, w.checked_sub(1)),
            word(self.n, w.checked_sub(2)),
        );
        if n_top == 0 {
            return;
        }
        let Some(u) = t.get_mut(..=w) else {
            return;
        };
        for _ in 0..w {
            // u = v·2^WORD_BITS (w + 1 words) < n·2^WORD_BITS.
            let (low, high) = u.split_at_mut(1);
            low.fill(0);
            high.copy_from_slice(out);
            // Estimate the quotient from the top two words of u and the
            // top word of n, both normalised.
            let hi = top_of(word(u, Some(w)), word(u, w.checked_sub(1)));
            let lo = top_of(word(u, w.checked_sub(1)), word(u, w.checked_sub(2)));
            let estimate = ((Wide::from(hi) << WORD_BITS) | Wide::from(lo)) / Wide::from(n_top);
            let q = Word::try_from(estimate).unwrap_or(Word::MAX);
            // u -= q·n; add n back while negative (at most twice).
            let mut negative = sub_mul(u, q, self.n);
            for _ in 0..3 {
                if !negative {
                    break;
                }
                negative = !add_back(u, self.n);
            }
            if let Some(v) = u.get(..w) {
                out.copy_from_slice(v);
            }
        }
    }

    /// Significant bits of `n`.
    fn bit_len(&self) -> usize {
        let top = self.n.iter().rposition(|&x| x != 0).unwrap_or(0);
        let lead = self.n.get(top).map_or(WORD_BITS, |x| x.leading_zeros());
        (top + 1) * WORD_BITS as usize - lead as usize
    }
}

/// `t[at..] += m·x`, carrying to the end of `t`.
fn add_mul_at(t: &mut [Word], at: usize, m: Word, x: &[Word]) {
    let mut carry: Wide = 0;
    let mut rest = t.iter_mut().skip(at);
    // `x` first: a zip stops on it without taking a word of `rest`.
    for (&xj, tj) in x.iter().zip(&mut rest) {
        let s = Wide::from(*tj) + Wide::from(m) * Wide::from(xj) + carry;
        *tj = s as Word;
        carry = s >> WORD_BITS;
    }
    for tj in rest {
        if carry == 0 {
            break;
        }
        let s = Wide::from(*tj) + carry;
        *tj = s as Word;
        carry = s >> WORD_BITS;
    }
}

/// `u -= q·n` over the words of `u` (one more than `n`), returning whether
/// the result is negative (a borrow out of the top word).
fn sub_mul(u: &mut [Word], q: Word, n: &[Word]) -> bool {
    let mut carry: Word = 0;
    let mut borrow = false;
    let mut words = u.iter_mut();
    for (&nj, uj) in n.iter().zip(&mut words) {
        let p = Wide::from(q) * Wide::from(nj) + Wide::from(carry);
        carry = (p >> WORD_BITS) as Word;
        let (d, b1) = uj.overflowing_sub(p as Word);
        let (d, b2) = d.overflowing_sub(Word::from(borrow));
        *uj = d;
        borrow = b1 || b2;
    }
    for uj in words {
        let (d, b1) = uj.overflowing_sub(carry);
        let (d, b2) = d.overflowing_sub(Word::from(borrow));
        *uj = d;
        carry = 0;
        borrow = b1 || b2;
    }
    borrow
}

/// `u += n` over the words of `u` (one more than `n`), returning the carry
/// out of the top word (set when a negative `u` becomes non-negative).
fn add_back(u: &mut [Word], n: &[Word]) -> bool {
    let mut carry = false;
    let mut words = u.iter_mut();
    for (&nj, uj) in n.iter().zip(&mut words) {
        let (d, c1) = uj.overflowing_add(nj);
        let (d, c2) = d.overflowing_add(Word::from(carry));
        *uj = d;
        carry = c1 || c2;
    }
    for uj in words {
        let (d, c) = uj.overflowing_add(Word::from(carry));
        *uj = d;
        carry = c;
    }
    carry
}

/// `x <<= 1`, returning the bit shifted out.
fn shl1(x: &mut [Word]) -> bool {
    let mut carry = 0;
    for v in x.iter_mut() {
        let next = *v >> (WORD_BITS - 1);
        *v = (*v << 1) | carry;
        carry = next;
    }
    carry != 0
}

/// `input^e mod modulus` into `output`, all big-endian and as long as the
/// modulus (checked by [`check_rsa_public`] before). Three numbers and the
/// double-length product: everything is updated in place.
fn rsa_public_words(modulus: &[u8], e: u32, input: &[u8], output: &mut [u8]) {
    let w = modulus.len().div_ceil(WORD_BYTES).min(MAX_WORDS);
    let mut n: Num = [0; MAX_WORDS];
    let mut base: Num = [0; MAX_WORDS];
    let mut acc: Num = [0; MAX_WORDS];
    let mut t = [0 as Word; 2 * MAX_WORDS + 1];
    let (Some(n), Some(base), Some(acc)) = (n.get_mut(..w), base.get_mut(..w), acc.get_mut(..w))
    else {
        return;
    };
    load(modulus, n);
    let n_inv = neg_inverse(n.first().copied().unwrap_or(1));
    let m = Modulus { n, n_inv };
    // base = input·R mod n (Montgomery form) = input·R²·R⁻¹.
    m.r_squared(&mut t, base);
    load(input, acc);
    let x = m.mul(acc, base, &mut t);
    base.copy_from_slice(x);
    // Left-to-right square and multiply; `e` is 3 or 65537, so this is a
    // few Montgomery products and no precomputed table.
    acc.copy_from_slice(base);
    let top = u32::BITS - 1 - e.leading_zeros();
    for bit in (0..top).rev() {
        let square = m.square(acc, &mut t);
        acc.copy_from_slice(square);
        if (e >> bit) & 1 == 1 {
            let product = m.mul(acc, base, &mut t);
            acc.copy_from_slice(product);
        }
    }
    // Out of Montgomery form: acc·1·R⁻¹.
    base.fill(0);
    if let Some(one) = base.first_mut() {
        *one = 1;
    }
    store(m.mul(acc, base, &mut t), output);
    // The input may be a PIN block under encipherment (Book 2 §7.1): leave
    // nothing of it on the stack.
    base.zeroize();
    acc.zeroize();
    t.zeroize();
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
        rsa_public_words(modulus, e, input, output);
        Ok(())
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
