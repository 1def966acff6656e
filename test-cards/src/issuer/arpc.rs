//! The Authorisation Response Cryptogram, EMV 4.4 Book 2 §8.2:
//!
//! - method 1 (§8.2.1): `ARPC = 3DES_K(ARQC ⊕ (ARC ‖ 00 00 00 00 00 00))`,
//!   8 bytes; Issuer Authentication Data (tag `91`) = `ARPC ‖ ARC`;
//! - method 2 (§8.2.2): `ARPC` = the leftmost 4 bytes of ISO/IEC 9797-1 MAC
//!   algorithm 3 under `K` over `ARQC ‖ CSU ‖ Proprietary Authentication
//!   Data` (0 to 8 bytes) with padding method 2; tag `91` =
//!   `ARPC ‖ CSU ‖ Proprietary Authentication Data`.
//!
//! Verification (what the card does in EXTERNAL AUTHENTICATE or the second
//! GENERATE AC) recomputes the ARPC and compares in constant time.

use subtle::ConstantTimeEq;

use super::error::IssuerError;
use super::keys::{TdesKey, xor8};
use super::mac::{Padding, mac_algorithm_3};

/// Largest Proprietary Authentication Data of ARPC method 2, in bytes.
pub const MAX_PROP_AUTH_DATA_LEN: usize = 8;

/// The ARPC method of Book 2 §8.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArpcMethod {
    /// Method 1: 3DES of the ARQC XOR the ARC.
    Method1,
    /// Method 2: MAC over ARQC, CSU and proprietary authentication data.
    Method2,
}

impl ArpcMethod {
    /// The method number, 1 or 2.
    #[must_use]
    pub fn number(self) -> u8 {
        match self {
            Self::Method1 => 1,
            Self::Method2 => 2,
        }
    }
}

/// The issuer's response data an ARPC is computed over.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ArpcInput {
    /// Method 1: the Authorisation Response Code (tag `8A`, 2 bytes).
    Method1 {
        /// Authorisation Response Code.
        arc: [u8; 2],
    },
    /// Method 2: the Card Status Update and optional proprietary data.
    Method2 {
        /// Card Status Update (4 bytes).
        csu: [u8; 4],
        /// Proprietary Authentication Data (0 to 8 bytes).
        prop_auth_data: Vec<u8>,
    },
}

impl ArpcInput {
    /// The method this input is for.
    #[must_use]
    pub fn method(&self) -> ArpcMethod {
        match self {
            Self::Method1 { .. } => ArpcMethod::Method1,
            Self::Method2 { .. } => ArpcMethod::Method2,
        }
    }
}

/// ARPC method 1: `3DES_key(ARQC ⊕ (ARC ‖ 00…00))`.
#[must_use]
pub fn arpc_method_1(key: &TdesKey, arqc: &[u8; 8], arc: [u8; 2]) -> [u8; 8] {
    let [c0, c1] = arc;
    key.encrypt_block(&xor8(arqc, &[c0, c1, 0, 0, 0, 0, 0, 0]))
}

/// ARPC method 2: leftmost 4 bytes of MAC algorithm 3 (padding method 2)
/// over `ARQC ‖ CSU ‖ prop_auth_data`.
///
/// # Errors
/// [`IssuerError::PropAuthDataTooLong`] if `prop_auth_data` exceeds 8
/// bytes.
pub fn arpc_method_2(
    key: &TdesKey,
    arqc: &[u8; 8],
    csu: [u8; 4],
    prop_auth_data: &[u8],
) -> Result<[u8; 4], IssuerError> {
    if prop_auth_data.len() > MAX_PROP_AUTH_DATA_LEN {
        return Err(IssuerError::PropAuthDataTooLong {
            actual: prop_auth_data.len(),
        });
    }
    let mut data = Vec::with_capacity(12 + prop_auth_data.len());
    data.extend_from_slice(arqc);
    data.extend_from_slice(&csu);
    data.extend_from_slice(prop_auth_data);
    let [a, b, c, d, ..] = mac_algorithm_3(key, &data, Padding::Method2);
    Ok([a, b, c, d])
}

/// The Issuer Authentication Data (tag `91`) for `response`: `ARPC ‖ ARC`
/// (method 1) or `ARPC ‖ CSU ‖ proprietary data` (method 2).
///
/// # Errors
/// [`IssuerError::PropAuthDataTooLong`] for method 2 with more than 8
/// bytes of proprietary data.
pub fn issuer_authentication_data(
    key: &TdesKey,
    arqc: &[u8; 8],
    response: &ArpcInput,
) -> Result<Vec<u8>, IssuerError> {
    match response {
        ArpcInput::Method1 { arc } => {
            let mut out = arpc_method_1(key, arqc, *arc).to_vec();
            out.extend_from_slice(arc);
            Ok(out)
        }
        ArpcInput::Method2 {
            csu,
            prop_auth_data,
        } => {
            let mut out = arpc_method_2(key, arqc, *csu, prop_auth_data)?.to_vec();
            out.extend_from_slice(csu);
            out.extend_from_slice(prop_auth_data);
            Ok(out)
        }
    }
}

/// Checks Issuer Authentication Data (tag `91`) received by the card: parses
/// it for `method`, recomputes the ARPC and compares in constant time.
/// Returns `false` for a malformed length.
#[must_use]
pub fn verify_issuer_authentication_data(
    key: &TdesKey,
    arqc: &[u8; 8],
    method: ArpcMethod,
    tag_91: &[u8],
) -> bool {
    match method {
        ArpcMethod::Method1 => {
            let Some((arpc, arc)) = tag_91.split_first_chunk::<8>() else {
                return false;
            };
            let Ok(arc) = <[u8; 2]>::try_from(arc) else {
                return false;
            };
            arpc_method_1(key, arqc, arc)
                .as_slice()
                .ct_eq(arpc.as_slice())
                .into()
        }
        ArpcMethod::Method2 => {
            let Some((arpc, rest)) = tag_91.split_first_chunk::<4>() else {
                return false;
            };
            let Some((csu, prop)) = rest.split_first_chunk::<4>() else {
                return false;
            };
            match arpc_method_2(key, arqc, *csu, prop) {
                Ok(expected) => expected.as_slice().ct_eq(arpc.as_slice()).into(),
                Err(_) => false,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> TdesKey {
        TdesKey::from_hex("29B33180E567CE38EA4CBC9D753B0E61").unwrap()
    }
    const ARQC: [u8; 8] = [0xFA, 0x62, 0x42, 0x50, 0xB0, 0x08, 0xB5, 0x9A];

    #[test]
    fn method_1_vector_a2_and_tag_91() {
        let arpc = arpc_method_1(&key(), &ARQC, [0, 0]);
        assert_eq!(hex::encode_upper(arpc), "45D4255EEF10C920");
        let tag91 =
            issuer_authentication_data(&key(), &ARQC, &ArpcInput::Method1 { arc: [0, 0] }).unwrap();
        assert_eq!(hex::encode_upper(&tag91), "45D4255EEF10C9200000");
        assert!(verify_issuer_authentication_data(
            &key(),
            &ARQC,
            ArpcMethod::Method1,
            &tag91
        ));
    }

    #[test]
    fn method_2_vector_a3_and_tag_91() {
        let arpc = arpc_method_2(&key(), &ARQC, [0; 4], &[]).unwrap();
        assert_eq!(hex::encode_upper(arpc), "CB56FA40");
        let input = ArpcInput::Method2 {
            csu: [0; 4],
            prop_auth_data: vec![],
        };
        let tag91 = issuer_authentication_data(&key(), &ARQC, &input).unwrap();
        assert_eq!(hex::encode_upper(&tag91), "CB56FA4000000000");
    }

    #[test]
    fn method_2_prop_data_limits() {
        assert!(arpc_method_2(&key(), &ARQC, [0; 4], &[0x55; 8]).is_ok());
        assert_eq!(
            arpc_method_2(&key(), &ARQC, [0; 4], &[0x55; 9]),
            Err(IssuerError::PropAuthDataTooLong { actual: 9 })
        );
        let input = ArpcInput::Method2 {
            csu: [1, 2, 3, 4],
            prop_auth_data: vec![9; 8],
        };
        let tag91 = issuer_authentication_data(&key(), &ARQC, &input).unwrap();
        assert_eq!(tag91.len(), 16);
        assert!(verify_issuer_authentication_data(
            &key(),
            &ARQC,
            ArpcMethod::Method2,
            &tag91
        ));
    }

    #[test]
    fn malformed_tag_91_is_rejected() {
        for len in [0usize, 1, 7, 8, 9, 11, 12] {
            assert!(!verify_issuer_authentication_data(
                &key(),
                &ARQC,
                ArpcMethod::Method1,
                &vec![0; len]
            ));
        }
        for len in [0usize, 3, 4, 7, 17, 20] {
            assert!(!verify_issuer_authentication_data(
                &key(),
                &ARQC,
                ArpcMethod::Method2,
                &vec![0; len]
            ));
        }
    }
}
