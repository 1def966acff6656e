//! The EMV card engine: a simulated chip card that answers APDUs as an EMV
//! card does (EMV Books 1–3, ISO/IEC 7816-4), with real cryptography.
//!
//! - selection: PSE `1PAY.SYS.DDF01` and its directory records, SELECT by
//!   DF name with partial AID matching and SELECT next (Book 1 §11.3, §12);
//! - GET PROCESSING OPTIONS formats 1 and 2, READ RECORD, GET DATA (Book 3
//!   §6.5.7, §6.5.8, §6.5.11);
//! - GET CHALLENGE and VERIFY, plaintext and enciphered (Book 3 §6.5.6,
//!   §6.5.12; Book 2 §7);
//! - INTERNAL AUTHENTICATE, GENERATE AC with card risk management and CDA,
//!   EXTERNAL AUTHENTICATE (Book 3 §6.5.4, §6.5.5, §6.5.9; Book 2 §6, §8);
//! - issuer script commands with secure messaging (Book 3 §6.5.1–6.5.3,
//!   §6.5.10; Book 2 §9).
//!
//! Every misuse gets the status word ISO/IEC 7816-4 and EMV prescribe.
//! State that a real card keeps in non-volatile memory (counters, PIN try
//! counter, blocked flags, last-transaction flags) survives power cycles of
//! the same [`EmvCard`].

mod app;
pub mod crypto;
pub mod oda;
mod pin;
mod script;
mod tlv;
mod transaction;

use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};
use sha2::{Digest, Sha256};

pub use app::{App, RiskState};

use self::tlv::{respond, sw, template, tlv};

/// Encodes one data object (for host-side helpers that build TLV).
pub fn tlv_bytes(tag: u32, value: &[u8]) -> Vec<u8> {
    tlv(tag, value)
}
use crate::card::{Card, Reply};
use crate::profile::load::{Loaded, ProfileError, load};

/// The PSE's DF name (Book 1 §12.2.2).
pub const PSE_NAME: &[u8] = b"1PAY.SYS.DDF01";

/// Default ATR: T=1, direct convention, accepted by the EMV Level 1 rules
/// (`emv_hal::atr`): TC1 = FF (minimum guard time), TD1/TD2 T=1, TA3 IFSC
/// 254, TB3 BWI 4 / CWI 5, TCK.
pub const DEFAULT_ATR: [u8; 9] = [0x3B, 0xE0, 0x00, 0xFF, 0x81, 0x31, 0xFE, 0x45, 0x14];

/// Status words used by the engine.
pub(crate) mod status {
    pub(crate) const OK: u16 = 0x9000;
    pub(crate) const WRONG_LENGTH: u16 = 0x6700;
    pub(crate) const SELECTED_FILE_INVALIDATED: u16 = 0x6283;
    pub(crate) const VERIFY_FAILED: u16 = 0x6300;
    pub(crate) const SECURITY_NOT_SATISFIED: u16 = 0x6982;
    pub(crate) const AUTH_METHOD_BLOCKED: u16 = 0x6983;
    pub(crate) const CONDITIONS_NOT_SATISFIED: u16 = 0x6985;
    pub(crate) const SM_DATA_INCORRECT: u16 = 0x6988;
    pub(crate) const WRONG_DATA: u16 = 0x6A80;
    pub(crate) const FUNCTION_NOT_SUPPORTED: u16 = 0x6A81;
    pub(crate) const FILE_NOT_FOUND: u16 = 0x6A82;
    pub(crate) const RECORD_NOT_FOUND: u16 = 0x6A83;
    pub(crate) const WRONG_P1P2: u16 = 0x6A86;
    pub(crate) const DATA_NOT_FOUND: u16 = 0x6A88;
    pub(crate) const INS_NOT_SUPPORTED: u16 = 0x6D00;
    pub(crate) const CLA_NOT_SUPPORTED: u16 = 0x6E00;
}

/// What is selected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Selected {
    None,
    Pse,
    App(usize),
}

/// Issuer authentication in the current transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IssuerAuth {
    NotPerformed,
    Passed,
    Failed,
}

/// State of the transaction in progress; cleared at reset and at SELECT.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    selected: Selected,
    /// Name of the last SELECT and the index of the last match, for SELECT
    /// next.
    last_select: Option<(Vec<u8>, usize)>,
    pub(crate) gpo_done: bool,
    pub(crate) pdol_data: Vec<u8>,
    pub(crate) cdol1_data: Vec<u8>,
    /// Cryptogram types returned by the 1st and 2nd GENERATE AC.
    pub(crate) first_ac: Option<u8>,
    pub(crate) second_ac: Option<u8>,
    pub(crate) arqc: Option<[u8; 8]>,
    pub(crate) challenge: Option<[u8; 8]>,
    pub(crate) issuer_auth: IssuerAuth,
    pub(crate) offline_pin_performed: bool,
    pub(crate) offline_pin_failed: bool,
    pub(crate) scripts_processed: u8,
    pub(crate) script_failed: bool,
}

impl Session {
    fn new() -> Self {
        Self {
            selected: Selected::None,
            last_select: None,
            gpo_done: false,
            pdol_data: Vec::new(),
            cdol1_data: Vec::new(),
            first_ac: None,
            second_ac: None,
            arqc: None,
            challenge: None,
            issuer_auth: IssuerAuth::NotPerformed,
            offline_pin_performed: false,
            offline_pin_failed: false,
            scripts_processed: 0,
            script_failed: false,
        }
    }
}

/// The card's offline PIN (Book 3 §6.5.12); the digits are zeroized on drop.
#[derive(Clone)]
pub struct PinState {
    digits: zeroize::Zeroizing<Vec<u8>>,
    /// PIN Try Limit.
    pub try_limit: u8,
    /// PIN Try Counter.
    pub tries_left: u8,
}

impl std::fmt::Debug for PinState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PinState")
            .field("digits", &"****")
            .field("try_limit", &self.try_limit)
            .field("tries_left", &self.tries_left)
            .finish()
    }
}

/// A simulated EMV card built from a profile.
#[derive(Debug)]
pub struct EmvCard {
    name: String,
    atr: Vec<u8>,
    pse: Option<(u8, Option<String>)>,
    apps: Vec<App>,
    pin: PinState,
    card_blocked: bool,
    rng: ChaCha20Rng,
    session: Session,
    powered: bool,
}

impl EmvCard {
    /// Loads `spec` (a profile file path or a built-in profile name) and
    /// builds the card.
    pub fn from_profile(spec: &str) -> Result<Self, ProfileError> {
        Self::build(&load(spec)?)
    }

    /// Builds the card from a loaded profile.
    pub fn build(loaded: &Loaded) -> Result<Self, ProfileError> {
        let p = &loaded.profile;
        let atr = match &p.atr {
            Some(a) => crate::profile::values::hex_bytes(a, "ATR")
                .map_err(|e| loaded.error(&["atr"], e))?,
            None => DEFAULT_ATR.to_vec(),
        };
        let digits: Vec<u8> = p
            .pin
            .value
            .chars()
            .map(|c| c.to_digit(10).map(|d| d as u8))
            .collect::<Option<_>>()
            .filter(|d: &Vec<u8>| (4..=12).contains(&d.len()))
            .ok_or_else(|| loaded.error(&["pin", "value"], "the PIN is 4 to 12 digits"))?;
        if p.pin.try_limit == 0 || p.pin.try_limit > 15 {
            return Err(loaded.error(&["pin", "try_limit"], "the PIN try limit is 1 to 15"));
        }
        let tries_left = p.pin.tries_left.unwrap_or(p.pin.try_limit);
        if tries_left > p.pin.try_limit {
            return Err(loaded.error(&["pin", "tries_left"], "more tries left than the limit"));
        }
        let mut apps = Vec::new();
        for (name, app) in &p.app {
            apps.push(App::build(loaded, name, app)?);
        }
        let pse = p
            .pse
            .enabled
            .then(|| (p.pse.sfi.unwrap_or(1), p.pse.language.clone()));
        let seed: [u8; 32] = Sha256::digest(format!("emv-test-cards/card-rng/{}", p.seed)).into();
        Ok(Self {
            name: p.name.clone(),
            atr,
            pse,
            apps,
            pin: PinState {
                digits: zeroize::Zeroizing::new(digits),
                try_limit: p.pin.try_limit,
                tries_left,
            },
            card_blocked: p.card.blocked,
            rng: ChaCha20Rng::from_seed(seed),
            session: Session::new(),
            powered: false,
        })
    }

    /// Loads `spec` and builds the card with the faults its profile
    /// declares (`[[faults]]`) wrapped around it.
    pub fn with_profile_faults(
        spec: &str,
    ) -> Result<crate::faults::FaultyCard<Self>, ProfileError> {
        Self::build_with_faults(&load(spec)?)
    }

    /// Builds the card of a loaded profile with the faults it declares
    /// (`[[faults]]`) wrapped around it.
    pub fn build_with_faults(
        loaded: &Loaded,
    ) -> Result<crate::faults::FaultyCard<Self>, ProfileError> {
        let mut rules = Vec::new();
        for (i, value) in loaded.profile.faults.iter().enumerate() {
            let rule: crate::faults::FaultRule =
                value.clone().try_into().map_err(|e: toml::de::Error| {
                    loaded.error(&["faults"], format!("rule {}: {}", i + 1, e.message()))
                })?;
            rules.push(rule);
        }
        Ok(crate::faults::FaultyCard::new(Self::build(loaded)?, rules))
    }

    /// The profile name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The applications.
    pub fn apps(&self) -> &[App] {
        &self.apps
    }

    /// The applications, mutably: personalisation changes between
    /// transactions (tests and benches reset counters this way).
    pub fn apps_mut(&mut self) -> &mut [App] {
        &mut self.apps
    }

    /// The PIN state.
    pub fn pin(&self) -> &PinState {
        &self.pin
    }

    /// True once CARD BLOCK has been applied.
    pub fn is_blocked(&self) -> bool {
        self.card_blocked
    }

    pub(crate) fn random_bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        self.rng.fill_bytes(&mut out);
        out
    }

    pub(crate) fn selected_app(&self) -> Option<usize> {
        match self.session.selected {
            Selected::App(i) => Some(i),
            _ => None,
        }
    }

    fn pse_fci(&self) -> Vec<u8> {
        let (sfi, lang) = self.pse.clone().unwrap_or((1, None));
        let mut prop = vec![tlv(0x88, &[sfi])];
        if let Some(l) = lang {
            prop.push(tlv(0x5F2D, l.as_bytes()));
        }
        template(0x6F, &[tlv(0x84, PSE_NAME), template(0xA5, &prop)])
    }

    /// SELECT by DF name (Book 1 §11.3): the PSE, or an application whose AID
    /// starts with the given name (partial selection, §12.3.3).
    fn select(&mut self, p1: u8, p2: u8, name: &[u8]) -> Vec<u8> {
        if p1 != 0x04 || !matches!(p2, 0x00 | 0x02) {
            return sw(status::WRONG_P1P2);
        }
        if name.is_empty() || name.len() > 16 {
            return sw(status::WRONG_LENGTH);
        }
        if self.card_blocked {
            return sw(status::FUNCTION_NOT_SUPPORTED);
        }
        let next = p2 == 0x02;
        // A new SELECT ends any transaction in progress (an ARQC without
        // its 2nd GENERATE AC stays recorded as not completed).
        let last = self.session.last_select.take();
        self.session = Session::new();
        if name == PSE_NAME && self.pse.is_some() && !next {
            self.session.selected = Selected::Pse;
            return respond(self.pse_fci(), status::OK);
        }
        let start = match (&last, next) {
            (Some((prev, idx)), true) if prev.as_slice() == name => idx + 1,
            _ => 0,
        };
        let found = self
            .apps
            .iter()
            .enumerate()
            .skip(start)
            .find(|(_, a)| a.aid.starts_with(name))
            .map(|(i, _)| i);
        let Some(i) = found else {
            return sw(status::FILE_NOT_FOUND);
        };
        self.session.last_select = Some((name.to_vec(), i));
        let Some(app) = self.apps.get(i) else {
            return sw(status::FILE_NOT_FOUND);
        };
        let fci = app.fci.clone();
        let blocked = app.blocked;
        self.session.selected = Selected::App(i);
        if blocked {
            // Book 1 §12.3.2: a blocked application answers 6283 with its FCI;
            // a payment terminal drops it, but an issuer's terminal may go on
            // to reach it with APPLICATION UNBLOCK (it never approves).
            return respond(fci, status::SELECTED_FILE_INVALIDATED);
        }
        respond(fci, status::OK)
    }

    /// READ RECORD (Book 1 §11.2, Book 3 §6.5.11): PSE directory records, or
    /// the selected application's records.
    fn read_record(&self, p1: u8, p2: u8) -> Vec<u8> {
        if p2 & 0x07 != 0x04 || p1 == 0 {
            return sw(status::WRONG_P1P2);
        }
        let sfi = p2 >> 3;
        match self.session.selected {
            Selected::Pse => {
                let dir_sfi = self.pse.as_ref().map_or(1, |(s, _)| *s);
                if sfi != dir_sfi {
                    return sw(status::FILE_NOT_FOUND);
                }
                // One application per directory record.
                match self.apps.get(usize::from(p1) - 1) {
                    Some(app) => respond(template(0x70, &[app.directory_entry(None)]), status::OK),
                    None => sw(status::RECORD_NOT_FOUND),
                }
            }
            Selected::App(i) => {
                let Some(app) = self.apps.get(i) else {
                    return sw(status::CONDITIONS_NOT_SATISFIED);
                };
                if !app.records.keys().any(|(s, _)| *s == sfi) {
                    return sw(status::FILE_NOT_FOUND);
                }
                match app.records.get(&(sfi, p1)) {
                    Some(r) => respond(r.clone(), status::OK),
                    None => sw(status::RECORD_NOT_FOUND),
                }
            }
            Selected::None => sw(status::CONDITIONS_NOT_SATISFIED),
        }
    }

    /// GET DATA (Book 3 §6.5.7): ATC, Last Online ATC Register, PIN Try
    /// Counter, and the profile's extra objects.
    fn get_data(&self, p1: u8, p2: u8) -> Vec<u8> {
        let Some(i) = self.selected_app() else {
            return sw(status::CONDITIONS_NOT_SATISFIED);
        };
        let Some(app) = self.apps.get(i) else {
            return sw(status::CONDITIONS_NOT_SATISFIED);
        };
        let t = u32::from(p1) << 8 | u32::from(p2);
        let value = match t {
            0x9F36 => app.risk.atc.to_be_bytes().to_vec(),
            0x9F13 => app.risk.last_online_atc.to_be_bytes().to_vec(),
            0x9F17 => vec![self.pin.tries_left],
            _ => match app.get_data.get(&emv_kernel::Tag::new(t)) {
                Some(v) => v.clone(),
                None => return sw(status::DATA_NOT_FOUND),
            },
        };
        respond(tlv(t, &value), status::OK)
    }

    /// GET PROCESSING OPTIONS (Book 3 §6.5.8).
    fn gpo(&mut self, p1: u8, p2: u8, data: &[u8]) -> Vec<u8> {
        if p1 != 0 || p2 != 0 {
            return sw(status::WRONG_P1P2);
        }
        let Some(i) = self.selected_app() else {
            return sw(status::CONDITIONS_NOT_SATISFIED);
        };
        if self.session.gpo_done {
            return sw(status::CONDITIONS_NOT_SATISFIED);
        }
        let Some(app) = self.apps.get_mut(i) else {
            return sw(status::CONDITIONS_NOT_SATISFIED);
        };
        // Command data is the 83 template around PDOL-related data of the
        // length the PDOL asks for.
        let expected = emv_kernel::wire::dol::related_data_len(&app.pdol).unwrap_or(0);
        let pdol_data =
            match emv_kernel::wire::tlv::parse_one(data, emv_kernel::wire::tlv::Mode::Strict) {
                Ok(Some((t, rest))) if t.tag().raw() == 0x83 && rest.is_empty() => {
                    t.value().to_vec()
                }
                _ => return sw(status::WRONG_DATA),
            };
        if pdol_data.len() != expected {
            return sw(status::WRONG_LENGTH);
        }
        if app.risk.atc == u16::MAX {
            // The ATC cannot wrap: the application is exhausted.
            return sw(status::CONDITIONS_NOT_SATISFIED);
        }
        app.risk.atc += 1;
        let body = if app.gpo_format == 1 {
            tlv(0x80, &[app.aip.as_slice(), &app.afl].concat())
        } else {
            template(0x77, &[tlv(0x82, &app.aip), tlv(0x94, &app.afl)])
        };
        self.session.gpo_done = true;
        self.session.pdol_data = pdol_data;
        respond(body, status::OK)
    }

    fn dispatch(&mut self, command: &[u8]) -> Vec<u8> {
        use emv_kernel::wire::apdu::CommandApdu;
        let Ok((c, _)) = CommandApdu::parse(command) else {
            return sw(status::WRONG_LENGTH);
        };
        let proprietary = c.cla & 0x80 != 0;
        let sm = c.cla & 0x0C != 0;
        match (c.ins, proprietary) {
            (0xA4, false) => self.select(c.p1, c.p2, c.data),
            (0xB2, false) => self.read_record(c.p1, c.p2),
            (0xCA, true) => self.get_data(c.p1, c.p2),
            (0xA8, true) => self.gpo(c.p1, c.p2, c.data),
            (0x84, false) => self.get_challenge(c.p1, c.p2),
            (0x20, false) => self.verify(c.p1, c.p2, c.data),
            (0x88, false) => self.internal_authenticate(c.p1, c.p2, c.data),
            (0xAE, true) => self.generate_ac(c.p1, c.p2, c.data),
            (0x82, false) => self.external_authenticate(c.p1, c.p2, c.data),
            (0x1E | 0x18 | 0x16 | 0x24, true) if sm => self.script_command(command, &c),
            (0xDA | 0xDC, _) if sm => self.script_command(command, &c),
            (0x1E | 0x18 | 0x16 | 0x24 | 0xDA | 0xDC, _) => sw(status::SECURITY_NOT_SATISFIED),
            (0xA4 | 0xB2 | 0x84 | 0x20 | 0x88 | 0x82, true) | (0xCA | 0xA8 | 0xAE, false) => {
                sw(status::CLA_NOT_SUPPORTED)
            }
            _ => sw(status::INS_NOT_SUPPORTED),
        }
    }
}

impl Card for EmvCard {
    fn atr(&self) -> Vec<u8> {
        self.atr.clone()
    }

    fn power_on(&mut self) {
        self.session = Session::new();
        self.powered = true;
    }

    fn power_off(&mut self) {
        self.power_on();
        self.powered = false;
    }

    fn transmit(&mut self, command: &[u8]) -> Reply {
        if !self.powered {
            // An unpowered card does not answer; model as removed.
            return Reply::Removed;
        }
        Reply::Response(self.dispatch(command))
    }
}
