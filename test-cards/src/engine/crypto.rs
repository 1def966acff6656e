//! The engine's view of its issuer cryptography: key derivation at
//! personalisation, the Issuer Application Data layout per cryptogram
//! version, and the card-side operations (application cryptogram, ARPC and
//! script MAC checks, PIN change deciphering), all delegated to
//! [`crate::issuer`].

use std::collections::BTreeMap;

use emv_kernel::Tag;

use crate::issuer::{AcInput, Cvn, IccKeys, SessionContext};
use crate::profile::load::{Loaded, ProfileError};
use crate::profile::schema::CryptoSettings;

/// The scheme family, which decides the CVR and IAD layouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// Visa VIS-style IAD: `06 DKI CVN 03 CVR(3)`.
    Visa,
    /// Mastercard M/Chip-style IAD: `DKI CVN CVR(6) DAC(2) counters(8)`.
    Mastercard,
}

/// An application's issuer keys and recipe.
pub struct AppCrypto {
    cvn: Cvn,
    keys: IccKeys,
    dki: u8,
    /// Unpredictable number of the 1st GENERATE AC of the current
    /// transaction (Mastercard session keys use it).
    first_un: std::cell::Cell<[u8; 4]>,
}

impl std::fmt::Debug for AppCrypto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppCrypto")
            .field("cvn", &self.cvn)
            .field("dki", &self.dki)
            .finish_non_exhaustive()
    }
}

impl AppCrypto {
    /// Derives the ICC master keys from the profile's issuer master keys.
    pub fn new(
        loaded: &Loaded,
        app: &str,
        settings: &CryptoSettings,
        pan_digits: &str,
        psn: u8,
    ) -> Result<Self, ProfileError> {
        let imks = settings
            .master_keys()
            .map_err(|(field, e)| loaded.error(&["app", app, "crypto", field], e))?;
        let keys =
            IccKeys::derive(&imks, pan_digits, psn, settings.derivation.into()).map_err(|e| {
                loaded.error(
                    &["app", app, "records"],
                    format!("deriving the card keys from the PAN: {e}"),
                )
            })?;
        let cvn = Cvn::from(settings.cvn);
        Ok(Self {
            cvn,
            keys,
            dki: settings.dki.unwrap_or(1),
            first_un: std::cell::Cell::new([0; 4]),
        })
    }

    /// The cryptogram version.
    pub fn cvn(&self) -> Cvn {
        self.cvn
    }

    /// The ICC master keys (for the issuer host simulation in tests).
    pub fn keys(&self) -> &IccKeys {
        &self.keys
    }

    /// The scheme family.
    pub fn scheme(&self) -> Scheme {
        match self.cvn {
            Cvn::Mastercard16 | Cvn::Mastercard17 | Cvn::Mastercard20 | Cvn::Mastercard21 => {
                Scheme::Mastercard
            }
            _ => Scheme::Visa,
        }
    }

    /// The Issuer Application Data around `cvr`.
    pub fn iad(&self, cvr: &[u8]) -> Vec<u8> {
        let cvn = self.cvn.number();
        match self.scheme() {
            Scheme::Visa => [&[0x06, self.dki, cvn][..], cvr].concat(),
            Scheme::Mastercard => [&[self.dki, cvn][..], cvr, &[0u8; 10]].concat(),
        }
    }

    /// The application cryptogram over the terminal data of the CDOL and
    /// the card's AIP, ATC and IAD.
    pub fn cryptogram(
        &self,
        terminal: &BTreeMap<Tag, Vec<u8>>,
        aip: [u8; 2],
        atc: [u8; 2],
        iad: &[u8],
    ) -> Result<[u8; 8], crate::issuer::IssuerError> {
        fn get<const N: usize>(t: &BTreeMap<Tag, Vec<u8>>, tag: u32) -> [u8; N] {
            t.get(&Tag::new(tag))
                .and_then(|v| <[u8; N]>::try_from(v.as_slice()).ok())
                .unwrap_or([0; N])
        }
        let input = AcInput {
            amount_authorised: get(terminal, 0x9F02),
            amount_other: get(terminal, 0x9F03),
            terminal_country_code: get(terminal, 0x9F1A),
            tvr: get(terminal, 0x95),
            transaction_currency_code: get(terminal, 0x5F2A),
            transaction_date: get(terminal, 0x9A),
            transaction_type: get::<1>(terminal, 0x9C)[0],
            unpredictable_number: get(terminal, 0x9F37),
            aip,
            atc,
            iad: iad.to_vec(),
        };
        // Only the 1st GENERATE AC sets the session's unpredictable number;
        // the 2nd reuses it (same session key).
        self.cvn
            .application_cryptogram(&self.keys, &input)
            .inspect(|_| {
                if !terminal.contains_key(&Tag::new(0x8A)) {
                    self.first_un.set(input.unpredictable_number);
                }
            })
    }

    fn session(&self, atc: [u8; 2]) -> SessionContext {
        SessionContext {
            atc,
            unpredictable_number: self.first_un.get(),
        }
    }

    /// Whether `tag_91` carries the right ARPC for `arqc`.
    pub fn verify_arpc(&self, atc: [u8; 2], arqc: &[u8; 8], tag_91: &[u8]) -> bool {
        self.cvn
            .verify_arpc(&self.keys, &self.session(atc), arqc, tag_91)
    }

    /// Whether `mac` is right for the script command `header` (5 bytes,
    /// with Lc) and `plain` data.
    pub fn verify_script_mac(
        &self,
        atc: [u8; 2],
        arqc: &[u8; 8],
        header: &[u8],
        plain: &[u8],
        mac: &[u8],
    ) -> bool {
        let command = [header, plain].concat();
        self.cvn
            .verify_script_mac(&self.keys, atc, arqc, &command, mac)
    }

    /// Deciphers an 8-byte PIN block sent by PIN CHANGE, enciphered with the
    /// secure-messaging confidentiality session key (same derivation as the
    /// integrity key, from MK-SMC) \[M\].
    pub fn decipher_pin_block(&self, atc: [u8; 2], arqc: &[u8; 8], data: &[u8]) -> Option<[u8; 8]> {
        let block: [u8; 8] = data.try_into().ok()?;
        let smc_keys = IccKeys {
            ac: self.keys.smc.clone(),
            smi: self.keys.smc.clone(),
            smc: self.keys.smc.clone(),
        };
        let key = self.cvn.script_mac_key(&smc_keys, atc, arqc);
        Some(key.decrypt_block(&block))
    }
}
