//! One application of a simulated card, built from its profile: FCI
//! (Book 1 §11.3.4, Book 3 §6.5.11), records (Book 3 §7), AFL derived from
//! the records (Book 3 §10.2), the data to sign for ODA (Book 3 §10.3), and
//! the card risk management state (the card's side of Book 3 §10.6 and of
//! the scheme specifications).

use std::collections::BTreeMap;

use emv_kernel::Tag;
use emv_kernel::wire::tlv::{Mode, TlvIter};

use super::crypto::AppCrypto;
use super::oda::AppOda;
use super::tlv::{template, tlv};
use crate::profile::load::{Loaded, ProfileError};
use crate::profile::schema::{AppProfile, OdaMethod};
use crate::profile::values::{hex_bytes, record_key, tag, tag_value};

/// The card's counters and risk state for one application; persistent
/// across power cycles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskState {
    /// Application Transaction Counter.
    pub atc: u16,
    /// Last Online ATC Register.
    pub last_online_atc: u16,
    /// Offline approvals since the last online transaction.
    pub consecutive_offline: u16,
    /// Lower consecutive offline limit (ask to go online above it).
    pub lower_limit: u16,
    /// Upper consecutive offline limit.
    pub upper_limit: u16,
    /// Ask to go online while the card has never been online.
    pub new_card_goes_online: bool,
    /// Issuer authentication failed in the last online transaction.
    pub issuer_authentication_failed_last: bool,
    /// A script failed in the last online transaction.
    pub script_failed_last: bool,
    /// The last online transaction was not completed (no 2nd GENERATE AC).
    pub last_online_not_completed: bool,
    /// Approve offline when the terminal could not go online.
    pub approve_when_unable_to_go_online: bool,
    /// Decline when supported issuer authentication failed or was skipped.
    pub decline_if_issuer_authentication_fails: bool,
}

/// One application on the card.
#[derive(Debug)]
pub struct App {
    /// Profile name of the application.
    pub name: String,
    /// AID (DF name).
    pub aid: Vec<u8>,
    /// Application label (`50`).
    pub label: String,
    /// Application Priority Indicator (`87`), if any.
    pub priority_indicator: Option<u8>,
    /// The FCI the card returns to SELECT.
    pub fci: Vec<u8>,
    /// PDOL (may be empty).
    pub pdol: Vec<u8>,
    /// AIP.
    pub aip: [u8; 2],
    /// AFL.
    pub afl: Vec<u8>,
    /// Records by (SFI, record), each a complete `70` template.
    pub records: BTreeMap<(u8, u8), Vec<u8>>,
    /// GPO response format (1 or 2).
    pub gpo_format: u8,
    /// GENERATE AC response format (1 or 2).
    pub genac_format: u8,
    /// Application blocked (SELECT gives `6283`, GENERATE AC gives AAC).
    pub blocked: bool,
    /// CDOL1 and CDOL2 from the records.
    pub cdol1: Vec<u8>,
    /// CDOL2.
    pub cdol2: Vec<u8>,
    /// Extra GET DATA objects.
    pub get_data: BTreeMap<Tag, Vec<u8>>,
    /// Risk state.
    pub risk: RiskState,
    /// Issuer cryptography.
    pub crypto: AppCrypto,
    /// ODA keys (none for an application without ODA).
    pub oda: AppOda,
}

/// A record as written: its data objects and whether it takes part in ODA.
type ParsedRecord = (Vec<(Tag, Vec<u8>)>, bool);
/// Encoded records by (SFI, record), with their ODA flag.
type FlaggedRecords = BTreeMap<(u8, u8), (Vec<u8>, bool)>;

/// Longest record: the data of a short R-APDU (Le `00`).
pub(crate) const MAX_RECORD_LEN: usize = 256;

/// The next record number after `key` in its SFI that no record uses.
fn next_free_record(records: &FlaggedRecords, key: (u8, u8)) -> Option<(u8, u8)> {
    let (sfi, mut rec) = key;
    loop {
        rec = rec.checked_add(1)?;
        if !records.contains_key(&(sfi, rec)) {
            return Some((sfi, rec));
        }
    }
}

/// Reads a record table into (tag, value) pairs in the order written, plus
/// the `oda` flag. `false` removes a tag.
fn record_objects(
    loaded: &Loaded,
    app: &str,
    key: &str,
    spec: &crate::profile::schema::RecordSpec,
) -> Result<ParsedRecord, ProfileError> {
    let mut oda = false;
    let mut objects = Vec::new();
    for (name, value) in spec {
        let field = ["app", app, "records", key, name.as_str()];
        if name == "oda" {
            oda = value
                .as_bool()
                .ok_or_else(|| loaded.error(&field, "must be true or false"))?;
            continue;
        }
        let t = tag(name).map_err(|e| loaded.error(&field, e))?;
        match value {
            toml::Value::Boolean(false) => {}
            toml::Value::String(s) => {
                let bytes = tag_value(t, s).map_err(|e| loaded.error(&field, e))?;
                objects.push((t, bytes));
            }
            _ => {
                return Err(loaded.error(
                    &field,
                    "a tag's value is a string (text or hex), or false to remove it",
                ));
            }
        }
    }
    Ok((objects, oda))
}

/// Derives the AFL from the records: one entry per run of consecutive
/// records of an SFI, the ODA records of each entry first (Book 3 §10.2).
fn derive_afl(records: &FlaggedRecords) -> Vec<u8> {
    let mut afl = Vec::new();
    let mut entry: Option<(u8, u8, u8, u8, bool)> = None; // sfi, first, last, oda count, non-oda seen
    let flush = |afl: &mut Vec<u8>, e: Option<(u8, u8, u8, u8, bool)>| {
        if let Some((sfi, first, last, oda, _)) = e {
            afl.extend_from_slice(&[sfi << 3, first, last, oda]);
        }
    };
    for (&(sfi, rec), (_, oda)) in records {
        let extends = matches!(entry, Some((s, _, last, _, plain_seen))
            if s == sfi && rec == last.wrapping_add(1) && !(plain_seen && *oda));
        if extends {
            if let Some(e) = entry.as_mut() {
                e.2 = rec;
                if *oda {
                    e.3 += 1;
                } else {
                    e.4 = true;
                }
            }
        } else {
            flush(&mut afl, entry.take());
            entry = Some((sfi, rec, rec, u8::from(*oda), !*oda));
        }
    }
    flush(&mut afl, entry);
    afl
}

/// The static data to authenticate, in AFL order (Book 3 §10.3): the
/// value of each ODA record's `70` template for SFI 1–10, the whole record
/// for SFI 11–30, then the AIP when `sign_aip` is set.
pub(crate) fn static_data(
    afl: &[u8],
    records: &BTreeMap<(u8, u8), Vec<u8>>,
    aip: Option<[u8; 2]>,
) -> Vec<u8> {
    let mut out = Vec::new();
    for entry in afl.chunks_exact(4) {
        let &[sfi, first, _, count] = entry else {
            continue;
        };
        let sfi = sfi >> 3;
        for rec in first..first.saturating_add(count) {
            if let Some(record) = records.get(&(sfi, rec)) {
                if sfi <= 10 {
                    if let Some(Ok(t)) = TlvIter::new(record, Mode::Strict).next() {
                        out.extend_from_slice(t.value());
                    }
                } else {
                    out.extend_from_slice(record);
                }
            }
        }
    }
    if let Some(aip) = aip {
        out.extend_from_slice(&aip);
    }
    out
}

fn find(objects: &[(Tag, Vec<u8>)], t: u32) -> Option<&[u8]> {
    objects
        .iter()
        .find(|(tag, _)| tag.raw() == t)
        .map(|(_, v)| v.as_slice())
}

impl App {
    /// Builds the application `name` of a loaded profile.
    pub fn build(loaded: &Loaded, name: &str, profile: &AppProfile) -> Result<Self, ProfileError> {
        let field = |f: &str| ["app", name, f].map(str::to_string);
        let err = |f: &str, m: String| {
            let path = field(f);
            let refs: Vec<&str> = path.iter().map(String::as_str).collect();
            loaded.error(&refs, m)
        };
        let aid = hex_bytes(&profile.aid, "AID").map_err(|e| err("aid", e))?;
        if !(5..=16).contains(&aid.len()) {
            return Err(err(
                "aid",
                format!("an AID is 5 to 16 bytes, this one {}", aid.len()),
            ));
        }
        let aip: [u8; 2] = hex_bytes(&profile.aip, "AIP")
            .map_err(|e| err("aip", e))?
            .try_into()
            .map_err(|_| err("aip", "the AIP is 2 bytes".into()))?;
        let pdol = match &profile.pdol {
            Some(p) => hex_bytes(p, "PDOL").map_err(|e| err("pdol", e))?,
            None => Vec::new(),
        };
        let gpo_format = profile.gpo_format.unwrap_or(1);
        let genac_format = profile.genac_format.unwrap_or(1);
        for (f, v) in [("gpo_format", gpo_format), ("genac_format", genac_format)] {
            if !(1..=2).contains(&v) {
                return Err(err(f, format!("{v}: the response format is 1 or 2")));
            }
        }
        let priority_indicator = match profile.priority {
            Some(p) if (1..=15).contains(&p) => Some(
                p | if profile.confirmation_required {
                    0x80
                } else {
                    0
                },
            ),
            Some(p) => return Err(err("priority", format!("{p}: priority is 1 to 15"))),
            None if profile.confirmation_required => Some(0x80),
            None => None,
        };

        // Records, as written.
        let mut parsed: BTreeMap<(u8, u8), ParsedRecord> = BTreeMap::new();
        for (key, spec) in &profile.records {
            let k = record_key(key)
                .map_err(|e| loaded.error(&["app", name, "records", key.as_str()], e))?;
            parsed.insert(k, record_objects(loaded, name, key, spec)?);
        }
        let all: Vec<(Tag, Vec<u8>)> = parsed.values().flat_map(|(o, _)| o.clone()).collect();
        let pan = find(&all, 0x5A)
            .map(hex::encode_upper)
            .ok_or_else(|| err("records", "no PAN (5A) in any record".into()))?;
        let pan_digits: String = pan.trim_end_matches('F').to_string();
        let psn = profile.psn.unwrap_or_else(|| {
            find(&all, 0x5F34)
                .and_then(|v| v.first().copied())
                .unwrap_or(0)
        });
        let cdol1 = find(&all, 0x8C).map(<[u8]>::to_vec).unwrap_or_default();
        let cdol2 = find(&all, 0x8D).map(<[u8]>::to_vec).unwrap_or_default();

        let crypto = AppCrypto::new(loaded, name, &profile.crypto, &pan_digits, psn)?;

        // ODA: certificates go into their own record, outside ODA.
        let oda_key = profile.oda.record.clone().unwrap_or_else(|| "3.1".into());
        let oda_record =
            record_key(&oda_key).map_err(|e| loaded.error(&["app", name, "oda", "record"], e))?;
        let encode = |objects: &[(Tag, Vec<u8>)]| {
            template(
                0x70,
                &objects
                    .iter()
                    .map(|(t, v)| tlv(t.raw(), v))
                    .collect::<Vec<_>>(),
            )
        };
        let mut with_flags: FlaggedRecords = parsed
            .iter()
            .map(|(k, (o, oda))| (*k, (encode(o), *oda)))
            .collect();
        let mut oda = AppOda::none();
        if profile.oda.method != OdaMethod::None {
            // The certificate record must exist in the AFL before we sign, but
            // its content is not signed: reserve it, derive the AFL, sign.
            with_flags
                .entry(oda_record)
                .or_insert_with(|| (Vec::new(), false));
            let afl = derive_afl(&with_flags);
            let records: BTreeMap<(u8, u8), Vec<u8>> = with_flags
                .iter()
                .map(|(k, (r, _))| (*k, r.clone()))
                .collect();
            let static_data = static_data(&afl, &records, profile.oda.sign_aip.then_some(aip));
            let (keys, mut objects) =
                AppOda::build(loaded, name, &profile.oda, &pan, &static_data)?;
            oda = keys;
            if profile.oda.sign_aip {
                objects.push((Tag::new(0x9F4A), vec![0x82]));
            }
            // Certificates are long: spread them over as many records as
            // needed, from the certificate record on, each record fitting a
            // short response (Book 3 §6.5.11: at most 256 data bytes).
            let mut current = parsed
                .get(&oda_record)
                .map(|(o, _)| o.clone())
                .unwrap_or_default();
            let mut key = oda_record;
            for object in objects {
                let mut trial = current.clone();
                trial.push(object.clone());
                if encode(&trial).len() <= MAX_RECORD_LEN || current.is_empty() {
                    current = trial;
                    continue;
                }
                with_flags.insert(key, (encode(&current), false));
                key = next_free_record(&with_flags, key).ok_or_else(|| {
                    loaded.error(
                        &["app", name, "oda", "record"],
                        "no free record number for the certificates",
                    )
                })?;
                current = vec![object];
            }
            with_flags.insert(key, (encode(&current), false));
        }
        if let Some(((sfi, rec), (r, _))) = with_flags
            .iter()
            .find(|(_, (r, _))| r.len() > MAX_RECORD_LEN)
        {
            return Err(loaded.error(
                &["app", name, "records", &format!("{sfi}.{rec}")],
                format!(
                    "record is {} bytes; a READ RECORD response carries at most {MAX_RECORD_LEN}",
                    r.len()
                ),
            ));
        }
        let afl = match &profile.afl {
            Some(a) => hex_bytes(a, "AFL").map_err(|e| err("afl", e))?,
            None => derive_afl(&with_flags),
        };
        let records = with_flags.into_iter().map(|(k, (r, _))| (k, r)).collect();

        // FCI (Book 1 §11.3.4 Table 43).
        let mut proprietary = vec![tlv(0x50, profile.label.as_bytes())];
        if let Some(p) = priority_indicator {
            proprietary.push(tlv(0x87, &[p]));
        }
        if !pdol.is_empty() {
            proprietary.push(tlv(0x9F38, &pdol));
        }
        if let Some(lang) = &profile.language {
            proprietary.push(tlv(0x5F2D, lang.as_bytes()));
        }
        if let Some(pref) = &profile.preferred_name {
            proprietary.push(tlv(0x9F11, &[0x01]));
            proprietary.push(tlv(0x9F12, pref.as_bytes()));
        }
        if !profile.fci_discretionary.is_empty() {
            let mut inner = Vec::new();
            for (k, v) in &profile.fci_discretionary {
                let f = ["app", name, "fci_discretionary", k.as_str()];
                let t = tag(k).map_err(|e| loaded.error(&f, e))?;
                inner.push(tlv(
                    t.raw(),
                    &tag_value(t, v).map_err(|e| loaded.error(&f, e))?,
                ));
            }
            proprietary.push(template(0xBF0C, &inner));
        }
        let fci = template(0x6F, &[tlv(0x84, &aid), template(0xA5, &proprietary)]);

        let mut get_data = BTreeMap::new();
        for (k, v) in &profile.get_data {
            let f = ["app", name, "get_data", k.as_str()];
            let t = tag(k).map_err(|e| loaded.error(&f, e))?;
            get_data.insert(t, tag_value(t, v).map_err(|e| loaded.error(&f, e))?);
        }

        let r = &profile.risk;
        let risk = RiskState {
            atc: r.atc.unwrap_or(1),
            last_online_atc: r.last_online_atc.unwrap_or(0),
            consecutive_offline: r.consecutive_offline.unwrap_or(0),
            lower_limit: r.lower_consecutive_offline_limit.unwrap_or(u16::MAX),
            upper_limit: r.upper_consecutive_offline_limit.unwrap_or(u16::MAX),
            new_card_goes_online: r.new_card_goes_online.unwrap_or(true),
            issuer_authentication_failed_last: r.issuer_authentication_failed_last,
            script_failed_last: r.script_failed_last,
            last_online_not_completed: false,
            approve_when_unable_to_go_online: r.approve_when_unable_to_go_online,
            decline_if_issuer_authentication_fails: r
                .decline_if_issuer_authentication_fails
                .unwrap_or(false),
        };

        Ok(Self {
            name: name.to_string(),
            aid,
            label: profile.label.clone(),
            priority_indicator,
            fci,
            pdol,
            aip,
            afl,
            records,
            gpo_format,
            genac_format,
            blocked: profile.blocked,
            cdol1,
            cdol2,
            get_data,
            risk,
            crypto,
            oda,
        })
    }

    /// The directory entry of this application for the PSE (Book 1 §12.2.3,
    /// template `61`).
    pub(crate) fn directory_entry(&self, preferred_name: Option<&[u8]>) -> Vec<u8> {
        let mut parts = vec![tlv(0x4F, &self.aid), tlv(0x50, self.label.as_bytes())];
        if let Some(name) = preferred_name {
            parts.push(tlv(0x9F12, name));
        }
        if let Some(p) = self.priority_indicator {
            parts.push(tlv(0x87, &[p]));
        }
        template(0x61, &parts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn afl_groups_runs_with_oda_records_first() {
        let mut r = BTreeMap::new();
        r.insert((1, 1), (vec![], true));
        r.insert((2, 1), (vec![], true));
        r.insert((2, 2), (vec![], false));
        r.insert((2, 3), (vec![], true)); // ODA after a plain record: new entry
        r.insert((3, 1), (vec![], false));
        r.insert((3, 3), (vec![], false)); // gap: new entry
        assert_eq!(
            derive_afl(&r),
            vec![
                0x08, 1, 1, 1, //
                0x10, 1, 2, 1, //
                0x10, 3, 3, 1, //
                0x18, 1, 1, 0, //
                0x18, 3, 3, 0,
            ]
        );
    }

    #[test]
    fn static_data_takes_template_values_and_aip() {
        let mut records = BTreeMap::new();
        records.insert((1, 1), vec![0x70, 0x03, 0x5A, 0x01, 0x47]);
        records.insert((2, 1), vec![0x70, 0x03, 0x9F, 0x07, 0x00]);
        let afl = [0x08, 1, 1, 1, 0x10, 1, 1, 0];
        assert_eq!(
            static_data(&afl, &records, Some([0x5C, 0x00])),
            vec![0x5A, 0x01, 0x47, 0x5C, 0x00]
        );
    }
}
