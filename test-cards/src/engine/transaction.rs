//! INTERNAL AUTHENTICATE, GENERATE AC and EXTERNAL AUTHENTICATE, with the
//! card's risk management (EMV Book 3 §6.5.4, §6.5.5, §6.5.9, §9.3; Book 2
//! §6.5 (DDA), §6.6 (CDA), §8.1–8.2 (cryptograms, issuer authentication);
//! CVR layouts of Visa VIS and Mastercard M/Chip, as the kernel's
//! `data::iad` views define them).

use std::collections::BTreeMap;

use emv_kernel::Tag;
use emv_kernel::data::iad::{MastercardCvr, VisaCvr};
use emv_kernel::wire::dol;
use sha1::{Digest, Sha1};

use super::crypto::Scheme;
use super::tlv::{respond, sw, template, tlv};
use super::{EmvCard, IssuerAuth, status};

/// Cryptogram types (P1 b8–b7, CID b8–b7).
pub(crate) const AAC: u8 = 0x00;
pub(crate) const TC: u8 = 0x40;
pub(crate) const ARQC: u8 = 0x80;
/// P1 b5: CDA signature requested.
const CDA_REQUESTED: u8 = 0x10;

/// Authorisation Response Codes that approve (`an` 2: "00", "08", "10", "11").
const APPROVING_ARCS: [[u8; 2]; 4] = [*b"00", *b"08", *b"10", *b"11"];
/// ARCs the terminal sets when it could not go online (Book 4 §6.3.6).
const UNABLE_ONLINE_ARCS: [[u8; 2]; 2] = [*b"Y3", *b"Z3"];

/// CVR field coding of a cryptogram type: AAC 00, TC 01, ARQC 10.
const fn cvr_code(kind: u8) -> u8 {
    match kind {
        TC => 0b01,
        ARQC => 0b10,
        _ => 0b00,
    }
}

impl EmvCard {
    /// INTERNAL AUTHENTICATE (DDA): signs the DDOL data with an ICC dynamic
    /// number (Book 2 §6.5, Table 17); response format 1 (`80`).
    pub(crate) fn internal_authenticate(&mut self, p1: u8, p2: u8, data: &[u8]) -> Vec<u8> {
        if p1 != 0 || p2 != 0 {
            return sw(status::WRONG_P1P2);
        }
        let Some(i) = self.selected_app() else {
            return sw(status::CONDITIONS_NOT_SATISFIED);
        };
        if data.is_empty() {
            return sw(status::WRONG_LENGTH);
        }
        let idn: [u8; 8] = self.random_bytes();
        let Some(app) = self.apps.get(i) else {
            return sw(status::CONDITIONS_NOT_SATISFIED);
        };
        if app.aip[0] & 0x20 == 0 {
            return sw(status::CONDITIONS_NOT_SATISFIED);
        }
        match app.oda.sign_dda(&idn, data) {
            Some(sdad) => respond(tlv(0x80, &sdad), status::OK),
            None => sw(status::CONDITIONS_NOT_SATISFIED),
        }
    }

    /// The CVR of the current transaction, in the scheme's layout.
    fn cvr(&self, i: usize, first: u8, second: Option<u8>) -> Vec<u8> {
        let Some(app) = self.apps.get(i) else {
            return Vec::new();
        };
        let s = &self.session;
        let r = &app.risk;
        let velocity = r.consecutive_offline >= r.lower_limit;
        let new_card = r.last_online_atc == 0;
        let ia_failed = s.issuer_auth == IssuerAuth::Failed;
        let second_code = second.map_or(0b10, cvr_code);
        match app.crypto.scheme() {
            Scheme::Visa => {
                let mut c = VisaCvr::new([0x03, 0, 0, 0]);
                c.set_field(VisaCvr::FIRST_GENERATE_AC, cvr_code(first));
                c.set_field(VisaCvr::SECOND_GENERATE_AC, second_code);
                let flags = [
                    (ia_failed, VisaCvr::ISSUER_AUTHENTICATION_FAILED),
                    (s.offline_pin_performed, VisaCvr::OFFLINE_PIN_PERFORMED),
                    (s.offline_pin_failed, VisaCvr::OFFLINE_PIN_FAILED),
                    (
                        r.last_online_not_completed,
                        VisaCvr::LAST_ONLINE_NOT_COMPLETED,
                    ),
                    (self.pin.tries_left == 0, VisaCvr::PIN_TRY_LIMIT_EXCEEDED),
                    (velocity, VisaCvr::VELOCITY_EXCEEDED),
                    (new_card, VisaCvr::NEW_CARD),
                    (
                        s.script_failed || r.script_failed_last,
                        VisaCvr::ISSUER_SCRIPT_FAILED,
                    ),
                    (app.oda.has_icc_key(), VisaCvr::DDA_PERFORMED),
                ];
                for (on, flag) in flags {
                    if on {
                        c.set(flag);
                    }
                }
                c.set_field(VisaCvr::ISSUER_SCRIPT_COMMANDS, s.scripts_processed.min(15));
                c.to_bytes().to_vec()
            }
            Scheme::Mastercard => {
                let mut c = MastercardCvr::new([0; 6]);
                c.set_field(MastercardCvr::FIRST_GENERATE_AC, cvr_code(first));
                c.set_field(MastercardCvr::SECOND_GENERATE_AC, second_code);
                let flags = [
                    (
                        s.offline_pin_performed,
                        MastercardCvr::OFFLINE_PIN_PERFORMED,
                    ),
                    (
                        s.offline_pin_performed && !s.offline_pin_failed,
                        MastercardCvr::OFFLINE_PIN_SUCCESSFUL,
                    ),
                    (
                        !s.offline_pin_performed,
                        MastercardCvr::OFFLINE_PIN_NOT_PERFORMED,
                    ),
                    (s.offline_pin_failed, MastercardCvr::OFFLINE_PIN_FAILED),
                    (
                        self.pin.tries_left == 0,
                        MastercardCvr::PIN_TRY_LIMIT_EXCEEDED,
                    ),
                    (
                        s.issuer_auth != IssuerAuth::NotPerformed,
                        MastercardCvr::ISSUER_AUTHENTICATION_PERFORMED,
                    ),
                    (
                        ia_failed || r.issuer_authentication_failed_last,
                        MastercardCvr::ISSUER_AUTHENTICATION_FAILED,
                    ),
                    (
                        r.last_online_not_completed,
                        MastercardCvr::LAST_ONLINE_NOT_COMPLETED,
                    ),
                    (
                        velocity,
                        MastercardCvr::LOWER_CONSECUTIVE_OFFLINE_LIMIT_EXCEEDED,
                    ),
                    (
                        r.consecutive_offline >= r.upper_limit,
                        MastercardCvr::UPPER_CONSECUTIVE_OFFLINE_LIMIT_EXCEEDED,
                    ),
                    (s.scripts_processed > 0, MastercardCvr::SCRIPT_RECEIVED),
                    (
                        s.script_failed || r.script_failed_last,
                        MastercardCvr::SCRIPT_FAILED,
                    ),
                ];
                for (on, flag) in flags {
                    if on {
                        c.set(flag);
                    }
                }
                c.to_bytes().to_vec()
            }
        }
    }

    /// The card's decision for the 1st GENERATE AC (its risk management):
    /// never more than the terminal asked for (AAC < TC < ARQC), and ARQC
    /// instead of TC when any reason to go online holds.
    fn first_decision(&self, i: usize, requested: u8) -> u8 {
        let Some(app) = self.apps.get(i) else {
            return AAC;
        };
        if requested == AAC {
            return AAC;
        }
        if requested == ARQC {
            // Online: the issuer decides (and may unblock a blocked
            // application with a script).
            return ARQC;
        }
        if app.blocked {
            return AAC;
        }
        let r = &app.risk;
        let go_online = (r.new_card_goes_online && r.last_online_atc == 0)
            || r.consecutive_offline >= r.lower_limit
            || r.issuer_authentication_failed_last
            || r.script_failed_last
            || r.last_online_not_completed
            || self.pin.tries_left == 0
            || self.session.offline_pin_failed;
        if go_online { ARQC } else { TC }
    }

    /// The card's decision for the 2nd GENERATE AC.
    fn second_decision(
        &self,
        i: usize,
        requested: u8,
        arc: Option<[u8; 2]>,
        ia_supported: bool,
    ) -> u8 {
        let Some(app) = self.apps.get(i) else {
            return AAC;
        };
        if requested != TC || app.blocked {
            return AAC;
        }
        let r = &app.risk;
        match arc {
            Some(arc) if UNABLE_ONLINE_ARCS.contains(&arc) => {
                let within = r.consecutive_offline < r.upper_limit;
                if r.approve_when_unable_to_go_online && within {
                    TC
                } else {
                    AAC
                }
            }
            Some(arc) if APPROVING_ARCS.contains(&arc) => {
                let ia_bad = ia_supported && self.session.issuer_auth != IssuerAuth::Passed;
                if ia_bad && r.decline_if_issuer_authentication_fails {
                    AAC
                } else {
                    TC
                }
            }
            _ => AAC,
        }
    }

    /// GENERATE AC (Book 3 §6.5.5): first after GPO, second after an ARQC.
    pub(crate) fn generate_ac(&mut self, p1: u8, p2: u8, data: &[u8]) -> Vec<u8> {
        let requested = p1 & 0xC0;
        if p2 != 0 || requested == 0xC0 || p1 & 0x2F != 0 {
            return sw(status::WRONG_P1P2);
        }
        let Some(i) = self.selected_app() else {
            return sw(status::CONDITIONS_NOT_SATISFIED);
        };
        if !self.session.gpo_done || self.session.second_ac.is_some() {
            return sw(status::CONDITIONS_NOT_SATISFIED);
        }
        let second = match self.session.first_ac {
            None => false,
            Some(ARQC) => true,
            Some(_) => return sw(status::CONDITIONS_NOT_SATISFIED),
        };
        let Some(app) = self.apps.get(i) else {
            return sw(status::CONDITIONS_NOT_SATISFIED);
        };
        let cdol = if second { &app.cdol2 } else { &app.cdol1 };
        if dol::related_data_len(cdol).ok() != Some(data.len()) {
            return sw(status::WRONG_LENGTH);
        }
        let mut terminal: BTreeMap<Tag, Vec<u8>> = BTreeMap::new();
        for part in dol::split(cdol, data).flatten() {
            terminal.insert(part.0.tag, part.1.to_vec());
        }
        let ia_supported = app.aip[0] & 0x04 != 0;
        let cda = p1 & CDA_REQUESTED != 0 && app.aip[0] & 0x01 != 0 && app.oda.has_icc_key();
        let atc = app.risk.atc.to_be_bytes();

        let kind = if second {
            // Issuer authentication data in CDOL2 (tag 91): verify it here
            // when EXTERNAL AUTHENTICATE was not used.
            if self.session.issuer_auth == IssuerAuth::NotPerformed
                && let Some(iad) = terminal
                    .get(&Tag::new(0x91))
                    .filter(|v| v.iter().any(|&b| b != 0))
                && let Some(arqc) = self.session.arqc
            {
                self.session.issuer_auth = if app.crypto.verify_arpc(atc, &arqc, iad) {
                    IssuerAuth::Passed
                } else {
                    IssuerAuth::Failed
                };
            }
            let arc = terminal
                .get(&Tag::new(0x8A))
                .and_then(|v| <[u8; 2]>::try_from(v.as_slice()).ok());
            self.second_decision(i, requested, arc, ia_supported)
        } else {
            self.first_decision(i, requested)
        };
        let (first, second_kind) = if second {
            (self.session.first_ac.unwrap_or(ARQC), Some(kind))
        } else {
            (kind, None)
        };
        let cvr = self.cvr(i, first, second_kind);
        let Some(app) = self.apps.get(i) else {
            return sw(status::CONDITIONS_NOT_SATISFIED);
        };
        let iad = app.crypto.iad(&cvr);
        let ac = match app.crypto.cryptogram(&terminal, app.aip, atc, &iad) {
            Ok(ac) => ac,
            Err(_) => return sw(status::CONDITIONS_NOT_SATISFIED),
        };
        let cid = kind;
        let genac_format = app.genac_format;

        let body = if cda && kind != AAC {
            // CDA (Book 2 §6.6): the AC goes inside the signature; the
            // transaction data hash covers PDOL data, CDOL1 data (and CDOL2
            // data for the 2nd GENERATE AC) and the response objects.
            let objects = [tlv(0x9F27, &[cid]), tlv(0x9F36, &atc), tlv(0x9F10, &iad)];
            let mut h = Sha1::new();
            h.update(&self.session.pdol_data);
            if second {
                h.update(&self.session.cdol1_data);
            }
            h.update(data);
            for o in &objects {
                h.update(o);
            }
            let tdhc: [u8; 20] = h.finalize().into();
            let un = terminal
                .get(&Tag::new(0x9F37))
                .and_then(|v| <[u8; 4]>::try_from(v.as_slice()).ok())
                .unwrap_or_default();
            let idn: [u8; 8] = self.random_bytes();
            let Some(app) = self.apps.get(i) else {
                return sw(status::CONDITIONS_NOT_SATISFIED);
            };
            let Some(sdad) = app.oda.sign_cda(&idn, cid, &ac, &tdhc, &un) else {
                return sw(status::CONDITIONS_NOT_SATISFIED);
            };
            let [o1, o2, o3] = objects;
            template(0x77, &[o1, o2, tlv(0x9F4B, &sdad), o3])
        } else if genac_format == 2 || cda {
            template(
                0x77,
                &[
                    tlv(0x9F27, &[cid]),
                    tlv(0x9F36, &atc),
                    tlv(0x9F26, &ac),
                    tlv(0x9F10, &iad),
                ],
            )
        } else {
            tlv(0x80, &[&[cid][..], &atc, &ac, &iad].concat())
        };

        // State after the command.
        let online_completed = second && kind == TC;
        let ia = self.session.issuer_auth;
        if second {
            self.session.second_ac = Some(kind);
        } else {
            self.session.first_ac = Some(kind);
            self.session.cdol1_data = data.to_vec();
            if kind == ARQC {
                self.session.arqc = Some(ac);
            }
        }
        let scripts_failed = self.session.script_failed;
        if let Some(app) = self.apps.get_mut(i) {
            let r = &mut app.risk;
            match (second, kind) {
                (false, TC) => r.consecutive_offline = r.consecutive_offline.saturating_add(1),
                (false, _) => {}
                (true, _) => {
                    r.last_online_not_completed = false;
                    if online_completed && ia != IssuerAuth::Failed {
                        r.last_online_atc = r.atc;
                        r.consecutive_offline = 0;
                    }
                    r.issuer_authentication_failed_last = ia == IssuerAuth::Failed;
                    r.script_failed_last = scripts_failed;
                }
            }
            if !second && kind == ARQC {
                // Until the 2nd GENERATE AC arrives, the online transaction
                // counts as not completed (tearing, power loss).
                r.last_online_not_completed = true;
            }
        }
        respond(body, status::OK)
    }

    /// EXTERNAL AUTHENTICATE (Book 3 §6.5.4): the issuer's ARPC, once, after
    /// an ARQC and before the 2nd GENERATE AC.
    pub(crate) fn external_authenticate(&mut self, p1: u8, p2: u8, data: &[u8]) -> Vec<u8> {
        if p1 != 0 || p2 != 0 {
            return sw(status::WRONG_P1P2);
        }
        let Some(i) = self.selected_app() else {
            return sw(status::CONDITIONS_NOT_SATISFIED);
        };
        if !(8..=16).contains(&data.len()) {
            return sw(status::WRONG_LENGTH);
        }
        let (Some(ARQC), None, IssuerAuth::NotPerformed, Some(arqc)) = (
            self.session.first_ac,
            self.session.second_ac,
            self.session.issuer_auth,
            self.session.arqc,
        ) else {
            return sw(status::CONDITIONS_NOT_SATISFIED);
        };
        let Some(app) = self.apps.get(i) else {
            return sw(status::CONDITIONS_NOT_SATISFIED);
        };
        let atc = app.risk.atc.to_be_bytes();
        if app.crypto.verify_arpc(atc, &arqc, data) {
            self.session.issuer_auth = IssuerAuth::Passed;
            sw(status::OK)
        } else {
            self.session.issuer_auth = IssuerAuth::Failed;
            sw(status::VERIFY_FAILED)
        }
    }
}
