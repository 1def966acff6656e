//! The engine's offline data authentication material, personalised from
//! the profile: the issuer certificate from the project's test CA, the
//! signed static data (SDA) or the ICC key and certificate (DDA, CDA), and
//! the card-side signing and deciphering (EMV Book 2 §5, §6, §7), delegated
//! to [`crate::pki`].

use emv_kernel::Tag;

use crate::pki::certificate::{CertificateExpiry, issue_icc_certificate};
use crate::pki::signing::{sign_dynamic_data_cda, sign_dynamic_data_dda, sign_static_data};
use crate::pki::{Exponent, PROJECT_RID, RsaKeyPair, TestCa};
use crate::profile::load::{Loaded, ProfileError};
use crate::profile::schema::{OdaMethod, OdaSettings};

/// Data Authentication Code the simulated cards sign into SDA (`9F45`).
pub const DATA_AUTHENTICATION_CODE: [u8; 2] = [0xDA, 0xC0];

/// Data objects for the certificate records.
pub type OdaObjects = Vec<(Tag, Vec<u8>)>;

/// An application's ODA keys (none when it does no ODA).
pub struct AppOda {
    method: OdaMethod,
    icc_key: Option<RsaKeyPair>,
}

impl std::fmt::Debug for AppOda {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppOda")
            .field("method", &self.method)
            .field(
                "icc_key_bits",
                &self.icc_key.as_ref().map(|k| k.modulus_len() * 8),
            )
            .finish()
    }
}

fn expiry(
    loaded: &Loaded,
    app: &str,
    field: &str,
    text: Option<&str>,
) -> Result<CertificateExpiry, ProfileError> {
    let text = text.unwrap_or("1235");
    let err = |m: String| loaded.error(&["app", app, "oda", field], m);
    let digits: Vec<u8> = text
        .chars()
        .map(|c| c.to_digit(10).map(|d| d as u8))
        .collect::<Option<_>>()
        .filter(|d: &Vec<u8>| d.len() == 4)
        .ok_or_else(|| err(format!("{text:?}: an expiry is MMYY")))?;
    let (month, year) = match digits.as_slice() {
        [m1, m2, y1, y2] => (m1 * 10 + m2, y1 * 10 + y2),
        _ => return Err(err(format!("{text:?}: an expiry is MMYY"))),
    };
    CertificateExpiry::new(month, year).map_err(|e| err(e.to_string()))
}

impl AppOda {
    /// No ODA.
    pub fn none() -> Self {
        Self {
            method: OdaMethod::None,
            icc_key: None,
        }
    }

    /// Personalises the ODA data: keys from the profile seed, certificates
    /// and, for SDA, the signed static data. Returns the keys and the data
    /// objects for the certificate record.
    pub fn build(
        loaded: &Loaded,
        app: &str,
        settings: &OdaSettings,
        pan_hex: &str,
        static_data: &[u8],
    ) -> Result<(Self, OdaObjects), ProfileError> {
        let err = |field: &str, m: String| loaded.error(&["app", app, "oda", field], m);
        let seed = &loaded.profile.seed;
        let exponent = match settings.exponent.unwrap_or(3) {
            3 => Exponent::Three,
            65537 => Exponent::F4,
            other => {
                return Err(err(
                    "exponent",
                    format!("{other}: the exponent is 3 or 65537"),
                ));
            }
        };
        let ca_index = settings.ca_index.unwrap_or(1);
        let ca = match TestCa::shipped(ca_index) {
            Ok(ca) => ca,
            // An index with no shipped CA: a CA no terminal configuration
            // carries, for "unknown CA" tests.
            Err(_) => {
                let key = RsaKeyPair::from_seed(
                    format!("emv-test-cards/unlisted-ca/{ca_index:02X}").as_bytes(),
                    1408,
                    Exponent::Three,
                )
                .map_err(|e| err("ca_index", e.to_string()))?;
                TestCa::new(PROJECT_RID, ca_index, key, crate::pki::ca::SHIPPED_EXPIRY)
                    .map_err(|e| err("ca_index", e.to_string()))?
            }
        };
        let ca_bits = ca.key().modulus_len() * 8;
        let issuer_bits = usize::from(settings.issuer_key_bits.unwrap_or(1024));
        if issuer_bits > ca_bits || issuer_bits % 8 != 0 {
            return Err(err(
                "issuer_key_bits",
                format!("{issuer_bits}: a multiple of 8, at most the CA's {ca_bits} bits"),
            ));
        }
        let issuer = RsaKeyPair::from_seed(
            format!("{seed}/{app}/issuer").as_bytes(),
            issuer_bits,
            exponent,
        )
        .map_err(|e| err("issuer_key_bits", e.to_string()))?;
        let pan = hex::decode(pan_hex).map_err(|e| err("method", format!("PAN: {e}")))?;
        let issuer_id = {
            let digits: String = pan_hex.chars().take(6).collect();
            let padded = format!("{digits:F<8}");
            let bytes = hex::decode(padded).unwrap_or_default();
            <[u8; 4]>::try_from(bytes.as_slice()).unwrap_or([0xFF; 4])
        };
        let issuer_cert = ca
            .issue_issuer_certificate(
                &issuer,
                issuer_id,
                expiry(
                    loaded,
                    app,
                    "issuer_cert_expiry",
                    settings.issuer_cert_expiry.as_deref(),
                )?,
                [0x00, 0x00, 0x01],
            )
            .map_err(|e| err("issuer_key_bits", e.to_string()))?;
        let mut objects = vec![
            (Tag::new(0x8F), vec![ca_index]),
            (Tag::new(0x90), issuer_cert.certificate),
        ];
        if !issuer_cert.remainder.is_empty() {
            objects.push((Tag::new(0x92), issuer_cert.remainder));
        }
        objects.push((Tag::new(0x9F32), issuer_cert.exponent));

        let mut icc_key = None;
        match settings.method {
            OdaMethod::None => {}
            OdaMethod::Sda => {
                let ssad = sign_static_data(&issuer, DATA_AUTHENTICATION_CODE, static_data)
                    .map_err(|e| err("method", e.to_string()))?;
                objects.push((Tag::new(0x93), ssad));
            }
            OdaMethod::Dda | OdaMethod::Cda => {
                let icc_bits = usize::from(settings.icc_key_bits.unwrap_or(1024));
                if icc_bits > issuer_bits || icc_bits % 8 != 0 {
                    return Err(err(
                        "icc_key_bits",
                        format!(
                            "{icc_bits}: a multiple of 8, at most the issuer's {issuer_bits} bits"
                        ),
                    ));
                }
                let icc = RsaKeyPair::from_seed(
                    format!("{seed}/{app}/icc").as_bytes(),
                    icc_bits,
                    exponent,
                )
                .map_err(|e| err("icc_key_bits", e.to_string()))?;
                let cert = issue_icc_certificate(
                    &issuer,
                    &icc,
                    &pan,
                    expiry(
                        loaded,
                        app,
                        "icc_cert_expiry",
                        settings.icc_cert_expiry.as_deref(),
                    )?,
                    [0x00, 0x00, 0x02],
                    static_data,
                )
                .map_err(|e| err("icc_key_bits", e.to_string()))?;
                objects.push((Tag::new(0x9F46), cert.certificate));
                if !cert.remainder.is_empty() {
                    objects.push((Tag::new(0x9F48), cert.remainder));
                }
                objects.push((Tag::new(0x9F47), cert.exponent));
                icc_key = Some(icc);
            }
        }
        Ok((
            Self {
                method: settings.method,
                icc_key,
            },
            objects,
        ))
    }

    /// True when the application has an ICC key pair (DDA or CDA).
    pub fn has_icc_key(&self) -> bool {
        self.icc_key.is_some()
    }

    /// The ICC public key (what the terminal recovers from the ICC
    /// certificate and enciphers the PIN with).
    pub fn icc_public_key(&self) -> Option<&crate::pki::RsaPublicKey> {
        self.icc_key.as_ref().map(RsaKeyPair::public_key)
    }

    /// The method.
    pub fn method(&self) -> OdaMethod {
        self.method
    }

    /// Signed Dynamic Application Data for INTERNAL AUTHENTICATE.
    pub fn sign_dda(&self, icc_dynamic_number: &[u8], ddol_data: &[u8]) -> Option<Vec<u8>> {
        sign_dynamic_data_dda(self.icc_key.as_ref()?, icc_dynamic_number, ddol_data).ok()
    }

    /// Signed Dynamic Application Data for CDA.
    pub fn sign_cda(
        &self,
        icc_dynamic_number: &[u8],
        cid: u8,
        ac: &[u8; 8],
        transaction_data_hash: &[u8; 20],
        unpredictable_number: &[u8; 4],
    ) -> Option<Vec<u8>> {
        sign_dynamic_data_cda(
            self.icc_key.as_ref()?,
            icc_dynamic_number,
            cid,
            *ac,
            *transaction_data_hash,
            *unpredictable_number,
        )
        .ok()
    }

    /// The ICC private-key operation on enciphered PIN data (Book 2 §7.2).
    pub fn decrypt(&self, data: &[u8]) -> Option<Vec<u8>> {
        self.icc_key.as_ref()?.private_op(data).ok()
    }
}
