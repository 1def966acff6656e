//! An issuer host simulator: what answers an online authorisation (EMV
//! Book 3 §10.9, Book 4 §6.3.6–6.3.7 for the terminal's side).
//!
//! It knows the issuer master keys of the cards it issued (from their
//! profiles), derives a card's keys from the PAN and PAN Sequence Number of
//! the request, verifies the ARQC over the request data, and answers with an
//! Authorisation Response Code, the Issuer Authentication Data (tag `91`,
//! ARPC method 1 or 2 as the cryptogram version prescribes) and optional
//! issuer scripts (templates `71`/`72`) whose commands carry secure-messaging
//! MACs. A wrong ARQC is declined.

use emv_kernel::Tag;
use emv_kernel::wire::tlv::{Mode, Tlv};
use emv_kernel::wire::walk::{MAX_DEPTH, Walk};

use crate::issuer::{
    AcInput, ArpcInput, ArpcMethod, Cvn, IccKeys, IssuerMasterKeys, KeyDerivation, SessionContext,
};
use crate::profile::load::{Loaded, ProfileError};

/// What the host decides when the ARQC is valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// Approve (ARC `00`).
    Approve,
    /// Decline (ARC `05`, "do not honour").
    Decline,
}

/// An issuer script command for the host to send, before (`71`) or after
/// (`72`) the final GENERATE AC; the host adds the MAC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptCommand {
    /// `71` (before) or `72` (after the 2nd GENERATE AC).
    pub template: u8,
    /// CLA INS P1 P2.
    pub header: [u8; 4],
    /// Plain command data (the MAC is appended).
    pub data: Vec<u8>,
}

/// The host's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostResponse {
    /// Authorisation Response Code (`8A`), two ASCII characters.
    pub arc: [u8; 2],
    /// Issuer Authentication Data (`91`).
    pub issuer_authentication_data: Vec<u8>,
    /// Encoded script templates (`71…`, `72…`), in order.
    pub scripts: Vec<Vec<u8>>,
    /// Whether the ARQC verified.
    pub arqc_valid: bool,
}

/// Why the host could not process a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostError {
    /// A data object the host needs is missing or has the wrong length.
    #[error("authorisation request: {0} missing or malformed")]
    Missing(&'static str),
    /// The request's TLV data is malformed.
    #[error("authorisation request is not valid TLV: {0}")]
    Malformed(String),
    /// No card of this host has the request's AID.
    #[error("no issuer keys for AID {0}")]
    UnknownAid(String),
    /// Key derivation or MAC computation failed.
    #[error("issuer cryptography: {0}")]
    Crypto(String),
}

/// Issuer keys of one application.
#[derive(Debug, Clone)]
struct Issued {
    aid: Vec<u8>,
    cvn: Cvn,
    imks: IssuerMasterKeys,
    derivation: KeyDerivation,
}

/// The issuer host for the cards of one profile.
#[derive(Debug, Clone)]
pub struct IssuerHost {
    issued: Vec<Issued>,
    /// Decision for a valid ARQC.
    pub policy: Policy,
    /// Scripts to send with every response.
    pub scripts: Vec<ScriptCommand>,
}

/// Fixed-size value of `tag` in the request.
fn get<const N: usize>(
    objects: &[Tlv<'_>],
    tag: u32,
    name: &'static str,
) -> Result<[u8; N], HostError> {
    objects
        .iter()
        .find(|t| t.tag().raw() == tag)
        .and_then(|t| <[u8; N]>::try_from(t.value()).ok())
        .ok_or(HostError::Missing(name))
}

impl IssuerHost {
    /// The host that issued the cards of `loaded`'s applications.
    pub fn from_profile(loaded: &Loaded) -> Result<Self, ProfileError> {
        let mut issued = Vec::new();
        for (name, app) in &loaded.profile.app {
            issued.push(Issued {
                aid: hex::decode(&app.aid)
                    .map_err(|e| loaded.error(&["app", name, "aid"], e.to_string()))?,
                cvn: app.crypto.cvn.into(),
                imks: app
                    .crypto
                    .master_keys()
                    .map_err(|(field, e)| loaded.error(&["app", name, "crypto", field], e))?,
                derivation: app.crypto.derivation.into(),
            });
        }
        Ok(Self {
            issued,
            policy: Policy::Approve,
            scripts: Vec::new(),
        })
    }

    /// Answers an authorisation request: the TLV data objects a terminal
    /// sends (ISO 8583 DE 55): at least `9F26`, `9F27`, `9F36`, `9F10`,
    /// `82`, `9F02`, `9F03`, `9F1A`, `95`, `5F2A`, `9A`, `9C`, `9F37`, the
    /// PAN (`5A`) and the AID (`4F` or `84`/`9F06`), optionally `5F34`.
    pub fn authorise(&self, request: &[u8]) -> Result<HostResponse, HostError> {
        let objects: Vec<Tlv<'_>> = Walk::<MAX_DEPTH>::new(request, Mode::Strict)
            .map(|n| n.map(|n| n.tlv))
            .collect::<Result<_, _>>()
            .map_err(|e| HostError::Malformed(e.to_string()))?;
        let find = |tag: u32| {
            objects
                .iter()
                .find(|t| t.tag().raw() == tag)
                .map(|t| t.value())
        };
        let aid = find(0x4F)
            .or_else(|| find(0x84))
            .or_else(|| find(0x9F06))
            .ok_or(HostError::Missing("AID (4F, 84 or 9F06)"))?;
        let issued = self
            .issued
            .iter()
            .find(|i| i.aid == aid)
            .ok_or_else(|| HostError::UnknownAid(hex::encode_upper(aid)))?;
        let pan = find(0x5A).ok_or(HostError::Missing("PAN (5A)"))?;
        let pan_digits: String = hex::encode_upper(pan).trim_end_matches('F').to_string();
        let psn = find(0x5F34).and_then(|v| v.first().copied()).unwrap_or(0);
        let keys = IccKeys::derive(&issued.imks, &pan_digits, psn, issued.derivation)
            .map_err(|e| HostError::Crypto(e.to_string()))?;
        let arqc: [u8; 8] = get(&objects, 0x9F26, "ARQC (9F26)")?;
        let atc: [u8; 2] = get(&objects, 0x9F36, "ATC (9F36)")?;
        let cid: [u8; 1] = get(&objects, 0x9F27, "CID (9F27)")?;
        let un: [u8; 4] = get(&objects, 0x9F37, "unpredictable number (9F37)")?;
        let input = AcInput {
            amount_authorised: get(&objects, 0x9F02, "amount (9F02)")?,
            amount_other: get(&objects, 0x9F03, "other amount (9F03)").unwrap_or([0; 6]),
            terminal_country_code: get(&objects, 0x9F1A, "terminal country (9F1A)")?,
            tvr: get(&objects, 0x95, "TVR (95)")?,
            transaction_currency_code: get(&objects, 0x5F2A, "currency (5F2A)")?,
            transaction_date: get(&objects, 0x9A, "date (9A)")?,
            transaction_type: get::<1>(&objects, 0x9C, "type (9C)")?[0],
            unpredictable_number: un,
            aip: get(&objects, 0x82, "AIP (82)")?,
            atc,
            iad: find(0x9F10)
                .ok_or(HostError::Missing("IAD (9F10)"))?
                .to_vec(),
        };
        let arqc_valid = cid[0] & 0xC0 == 0x80
            && issued
                .cvn
                .verify_application_cryptogram(&keys, &input, &arqc)
                .map_err(|e| HostError::Crypto(e.to_string()))?;
        let approve = arqc_valid && self.policy == Policy::Approve;
        let arc = if approve { *b"00" } else { *b"05" };
        let session = SessionContext {
            atc,
            unpredictable_number: un,
        };
        let response = match issued.cvn.recipe().arpc_method {
            ArpcMethod::Method1 => ArpcInput::Method1 { arc },
            // Card Status Update: byte 2 b8 "approve" [M: Visa CSU layout].
            ArpcMethod::Method2 => ArpcInput::Method2 {
                csu: if approve {
                    [0x00, 0x80, 0x00, 0x00]
                } else {
                    [0; 4]
                },
                prop_auth_data: Vec::new(),
            },
        };
        let issuer_authentication_data = issued
            .cvn
            .arpc(&keys, &session, &arqc, &response)
            .map_err(|e| HostError::Crypto(e.to_string()))?;
        let mut scripts = Vec::new();
        for (n, s) in self.scripts.iter().enumerate() {
            let lc = u8::try_from(s.data.len() + 8)
                .map_err(|_| HostError::Crypto("script data too long".into()))?;
            let mut command = s.header.to_vec();
            command.push(lc);
            command.extend_from_slice(&s.data);
            let mac = issued
                .cvn
                .script_mac(&keys, atc, &arqc, &command)
                .map_err(|e| HostError::Crypto(e.to_string()))?;
            command.extend_from_slice(&mac);
            let id = u32::try_from(n + 1).unwrap_or(0).to_be_bytes();
            let body = [
                crate::engine::tlv_bytes(0x9F18, &id),
                crate::engine::tlv_bytes(0x86, &command),
            ]
            .concat();
            scripts.push(crate::engine::tlv_bytes(u32::from(s.template), &body));
        }
        Ok(HostResponse {
            arc,
            issuer_authentication_data,
            scripts,
            arqc_valid,
        })
    }
}

/// The Tag of the Issuer Authentication Data, for callers building CDOL2
/// data or EXTERNAL AUTHENTICATE.
pub const ISSUER_AUTHENTICATION_DATA: Tag = Tag::new(0x91);
