//! Session key derivation from an ICC master key:
//!
//! - the EMV common session key derivation, EMV 4.4 Book 2 Annex A1.3
//!   ([`common_session_key`]): for an 8-byte diversification value `R`,
//!   `SK = parity(3DES_MK(R₀ R₁ F0 R₃…R₇) ‖ 3DES_MK(R₀ R₁ 0F R₃…R₇))`, with
//!   `R = ATC ‖ 00…00` for AC keys, and `R = ARQC` for secure-messaging
//!   keys;
//! - the Mastercard M/Chip "SKD" session key
//!   ([`mastercard_skd_session_key`]): the same function with
//!   `R = ATC ‖ 00 00 ‖ UN`;
//! - the Visa VIS secure-messaging session key ([`visa_sm_session_key`]):
//!   `SK_L = MK_L ⊕ (00…00 ‖ ATC)`, `SK_R = MK_R ⊕ (00…00 ‖ ATC ⊕ FFFF)`,
//!   parity adjusted;
//! - the EMV 4.1 Book 2 Annex A1.3 tree derivation
//!   ([`emv2000_tree_session_key`]), withdrawn by EMVCo Specification
//!   Update Bulletin 46 and kept for old test vectors.

use zeroize::Zeroizing;

use super::cryptogram::AcInput;
use super::error::IssuerError;
use super::keys::{TdesKey, xor8};

/// What a session key derivation needs from the current transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionContext {
    /// Application Transaction Counter (tag `9F36`).
    pub atc: [u8; 2],
    /// Unpredictable Number (tag `9F37`) sent in the first GENERATE AC.
    pub unpredictable_number: [u8; 4],
}

impl From<&AcInput> for SessionContext {
    fn from(input: &AcInput) -> Self {
        Self {
            atc: input.atc,
            unpredictable_number: input.unpredictable_number,
        }
    }
}

/// The EMV common session key derivation (Book 2 Annex A1.3) of `mk` for
/// the diversification value `r`.
#[must_use]
pub fn common_session_key(mk: &TdesKey, r: &[u8; 8]) -> TdesKey {
    let mut r_left = *r;
    let mut r_right = *r;
    if let Some(b) = r_left.get_mut(2) {
        *b = 0xF0;
    }
    if let Some(b) = r_right.get_mut(2) {
        *b = 0x0F;
    }
    let left = Zeroizing::new(mk.encrypt_block(&r_left));
    let right = Zeroizing::new(mk.encrypt_block(&r_right));
    TdesKey::from_halves(&left, &right).with_odd_parity()
}

/// The EMV common session key for application cryptograms:
/// `R = ATC ‖ 00 00 00 00 00 00`.
#[must_use]
pub fn emv_ac_session_key(mk: &TdesKey, atc: [u8; 2]) -> TdesKey {
    let [a0, a1] = atc;
    common_session_key(mk, &[a0, a1, 0, 0, 0, 0, 0, 0])
}

/// The Mastercard M/Chip SKD session key: the common session key with
/// `R = ATC ‖ 00 00 ‖ UN`.
#[must_use]
pub fn mastercard_skd_session_key(mk: &TdesKey, atc: [u8; 2], un: [u8; 4]) -> TdesKey {
    let ([a0, a1], [u0, u1, u2, u3]) = (atc, un);
    common_session_key(mk, &[a0, a1, 0, 0, u0, u1, u2, u3])
}

/// The Visa VIS secure-messaging session key of `mk` for `atc`.
#[must_use]
pub fn visa_sm_session_key(mk: &TdesKey, atc: [u8; 2]) -> TdesKey {
    let (left, right) = mk.halves();
    let [a0, a1] = atc;
    let left = Zeroizing::new(xor8(&left, &[0, 0, 0, 0, 0, 0, a0, a1]));
    let right = Zeroizing::new(xor8(&right, &[0, 0, 0, 0, 0, 0, !a0, !a1]));
    TdesKey::from_halves(&left, &right).with_odd_parity()
}

/// The EMV 4.1 tree session key derivation (Book 2 Annex A1.3 of EMV 4.1,
/// withdrawn by SU-46) for branch factor `b`, height `H` and initial value
/// `iv`.
///
/// With `IK(0) = MK`, `IK(−1) = IV`, and on the path to the leaf `ATC`,
/// `j(i) = ATC / bᴴ⁻ⁱ`:
/// `IK(i) = F(IK(i−1), IK(i−2), j(i) mod b)` for `i = 1 … H−1`, and
/// `SK = F(IK(H−1), IK(H−2), ATC mod b) ⊕ IK(H−2)`, parity adjusted, where
/// `F(X, Y, j) = 3DES_X(Y_L ⊕ j) ‖ 3DES_X(Y_R ⊕ j ⊕ F0)` (`j` and `F0` in
/// the rightmost byte).
///
/// # Errors
/// [`IssuerError::TreeParameters`] if `b` is not 2 to 16, `H` is 0, or the
/// tree has fewer than `ATC + 1` leaves (`bᴴ ≤ ATC`).
pub fn emv2000_tree_session_key(
    mk: &TdesKey,
    atc: [u8; 2],
    branch_factor: u8,
    height: u8,
    iv: &[u8; 16],
) -> Result<TdesKey, IssuerError> {
    let atc_value = u16::from_be_bytes(atc);
    let error = IssuerError::TreeParameters {
        branch_factor,
        height,
        atc: atc_value,
    };
    let b = u64::from(branch_factor);
    if !(2..=16).contains(&branch_factor) || height == 0 {
        return Err(error);
    }
    let leaves = b.checked_pow(u32::from(height)).unwrap_or(u64::MAX);
    if leaves <= u64::from(atc_value) {
        return Err(error);
    }
    let atc_u64 = u64::from(atc_value);
    // The two most recent levels of the path: IK(i-2), IK(i-1).
    let mut grandparent = TdesKey::new(*iv);
    let mut parent = mk.clone();
    for level in 1..u32::from(height) {
        let divisor = b.checked_pow(u32::from(height) - level).unwrap_or(u64::MAX);
        let index = atc_u64.checked_div(divisor).unwrap_or(0);
        let child = tree_f(&parent, &grandparent, digit(index, b));
        grandparent = parent;
        parent = child;
    }
    let leaf = tree_f(&parent, &grandparent, digit(atc_u64, b));
    let (leaf_l, leaf_r) = leaf.halves();
    let (gp_l, gp_r) = grandparent.halves();
    let left = Zeroizing::new(xor8(&leaf_l, &gp_l));
    let right = Zeroizing::new(xor8(&leaf_r, &gp_r));
    Ok(TdesKey::from_halves(&left, &right).with_odd_parity())
}

/// `index mod b` as a byte (b ≤ 16).
fn digit(index: u64, b: u64) -> u8 {
    u8::try_from(index.checked_rem(b).unwrap_or(0)).unwrap_or(0)
}

/// The tree function `F(X, Y, j)`.
fn tree_f(x: &TdesKey, y: &TdesKey, j: u8) -> TdesKey {
    let (y_left, y_right) = y.halves();
    let left = Zeroizing::new(x.encrypt_block(&xor8(&y_left, &[0, 0, 0, 0, 0, 0, 0, j])));
    let right = Zeroizing::new(x.encrypt_block(&xor8(&y_right, &[0, 0, 0, 0, 0, 0, 0, j ^ 0xF0])));
    TdesKey::from_halves(&left, &right)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mk() -> TdesKey {
        TdesKey::from_hex("0123456789ABCDEFFEDCBA9876543210").unwrap()
    }

    #[test]
    fn common_session_key_vector_k5() {
        let sk = common_session_key(&mk(), &[0x00, 0x1C, 0, 0, 0, 0, 0, 0]);
        assert_eq!(
            sk,
            TdesKey::from_hex("E9FB384AF807B940FEDCEA613461B0C4").unwrap()
        );
        assert_eq!(emv_ac_session_key(&mk(), [0x00, 0x1C]), sk);
    }

    #[test]
    fn visa_sm_vector_k8() {
        assert_eq!(
            visa_sm_session_key(&mk(), [0x00, 0x1C]),
            TdesKey::from_hex("0123456789ABCDF2FEDCBA987654CDF2").unwrap()
        );
    }

    #[test]
    fn tree_vector_k9() {
        let sk = emv2000_tree_session_key(&mk(), [0x00, 0x1C], 4, 8, &[0; 16]).unwrap();
        assert_eq!(
            sk,
            TdesKey::from_hex("E5BF6D1067F194B0A89B7F5D83BC64A2").unwrap()
        );
    }

    #[test]
    fn tree_bad_parameters() {
        let iv = [0; 16];
        for (b, h, atc) in [(1, 8, 0), (17, 4, 0), (4, 0, 0), (2, 4, 16), (4, 8, 0xFFFF)] {
            let result = emv2000_tree_session_key(&mk(), u16::to_be_bytes(atc), b, h, &iv);
            if b == 4 && h == 8 {
                // 4^8 = 65536 leaves: every ATC fits.
                assert!(result.is_ok());
            } else {
                assert_eq!(
                    result,
                    Err(IssuerError::TreeParameters {
                        branch_factor: b,
                        height: h,
                        atc
                    })
                );
            }
        }
        assert!(emv2000_tree_session_key(&mk(), [0, 15], 2, 4, &iv).is_ok());
        assert!(emv2000_tree_session_key(&mk(), [0, 0], 16, 1, &iv).is_ok());
    }
}
