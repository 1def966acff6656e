//! Running decks: every case on its own simulated card, cases in parallel,
//! results in deck order, each transaction compared with its expectations.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use emv_kernel::Tag;
use emv_kernel::contact::machine::{Outcome, PinEntry, PinKind, Termination, TransactionInput};
use emv_kernel::selection::candidate::Candidate;
use emv_kernel::wire::tlv::Mode;
use emv_kernel::wire::walk::{MAX_DEPTH, Walk};
use emv_terminal::driver::{self, Cardholder, DriverError, Host, HostAnswer, Report};
use emv_terminal::trace_mask::traceable_command;
use serde::{Deserialize, Serialize};

use super::load::{
    Deck, DeckCase, DeckError, Expectations, Inputs, Masked, Transaction, deck_paths, load_deck,
    parse_pattern,
};
use crate::card::{SimChannel, SimError};
use crate::engine::EmvCard;
use crate::faults::FaultyCard;
use crate::host::{IssuerHost, Policy, ScriptCommand};

/// The result of one case: stable and serialisable (JSON Lines, and the
/// input of other report formats).
///
/// Everything but the `micros` fields is reproducible: the same decks give
/// byte-identical results whatever the number of jobs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseResult {
    /// The deck file.
    pub deck: String,
    /// The deck's `[deck] id`.
    pub deck_id: Option<String>,
    /// Position of the case in its deck (1-based).
    pub position: usize,
    /// The case id.
    pub id: String,
    /// The lab's reference.
    #[serde(rename = "ref")]
    pub reference: Option<String>,
    /// What the case checks.
    pub objective: Option<String>,
    /// The terminal setting used.
    pub terminal: String,
    /// The card used.
    pub card: String,
    /// Every transaction passed.
    pub passed: bool,
    /// The transactions, in order.
    pub transactions: Vec<TransactionResult>,
    /// Wall time of the case in µs (not reproducible).
    pub micros: u64,
}

/// The result of one transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransactionResult {
    /// 1-based number within the case.
    pub number: usize,
    /// The inputs.
    pub inputs: Inputs,
    /// The expectations.
    pub expected: Expectations,
    /// What happened.
    pub actual: Actual,
    /// No mismatch.
    pub passed: bool,
    /// The differences between expected and actual.
    pub mismatches: Vec<Mismatch>,
    /// The APDU trace.
    pub apdus: Vec<ApduRecord>,
    /// The kernel's decision trail.
    pub trail: Vec<String>,
    /// Wall time of the transaction in µs (not reproducible).
    pub micros: u64,
}

/// What a transaction did; hex values upper case.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actual {
    /// Outcome name (see [`super::OUTCOMES`]).
    pub outcome: String,
    /// The driver's error, when the transaction had no outcome.
    pub error: Option<String>,
    /// The issuer host's error, if it could not process the request.
    pub host_error: Option<String>,
    /// The selected AID.
    pub aid: Option<String>,
    /// TVR.
    pub tvr: Option<String>,
    /// TSI.
    pub tsi: Option<String>,
    /// CVM Results.
    pub cvm_results: Option<String>,
    /// CID of the last GENERATE AC.
    pub cid: Option<String>,
    /// CID of a cryptogram that asked for an advice.
    pub advice: Option<String>,
    /// P1 of every GENERATE AC.
    pub genac: Vec<String>,
    /// The authorisation request (TLV).
    pub authorisation_request: Option<String>,
    /// Issuer Script Results `9F5B`.
    pub script_results: Option<String>,
}

/// One exchange of the trace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApduRecord {
    /// The transaction phase (Book 3 §10 title), when known.
    pub phase: Option<String>,
    /// C-APDU, hex.
    pub command: String,
    /// R-APDU, hex (empty when the card did not answer).
    pub response: String,
}

/// One difference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mismatch {
    /// The expectation (`tvr`, `outcome`, `apdus`, …).
    pub field: String,
    /// What the deck expects.
    pub expected: String,
    /// What happened.
    pub actual: String,
    /// Explanations: the bits that differ by name, the pattern not found…
    pub details: Vec<String>,
}

/// The default number of jobs: the available parallelism.
#[must_use]
pub fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

/// Maps `items` through `f` on `jobs` threads; results in input order.
fn par_map<T: Send, R: Send>(items: Vec<T>, jobs: usize, f: impl Fn(T) -> R + Sync) -> Vec<R> {
    let n = items.len();
    let slots: Vec<Mutex<Option<T>>> = items.into_iter().map(|t| Mutex::new(Some(t))).collect();
    let results: Vec<Mutex<Option<R>>> = (0..n).map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let workers = jobs.clamp(1, n.max(1));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(slot) = slots.get(i) else {
                        break;
                    };
                    let item = slot
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .take();
                    if let (Some(item), Some(out)) = (item, results.get(i)) {
                        let r = f(item);
                        *out.lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(r);
                    }
                }
            });
        }
    });
    results
        .into_iter()
        .filter_map(|m| {
            m.into_inner()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        })
        .collect()
}

/// Whether `text` matches the glob `pattern` (`*` any run, `?` any one
/// character).
fn glob(pattern: &[char], text: &[char]) -> bool {
    match (pattern.split_first(), text.split_first()) {
        (None, None) => true,
        (Some(('*', rest)), _) => {
            glob(rest, text) || text.split_first().is_some_and(|(_, t)| glob(pattern, t))
        }
        (Some(('?', rest)), Some((_, t))) => glob(rest, t),
        (Some((p, rest)), Some((c, t))) => p == c && glob(rest, t),
        _ => false,
    }
}

/// Whether a case is selected by `filter`: a glob (with `*` or `?`)
/// matching the whole id or ref, else a substring of either.
#[must_use]
pub fn selected(filter: Option<&str>, id: &str, reference: Option<&str>) -> bool {
    let Some(filter) = filter else {
        return true;
    };
    let candidates = std::iter::once(id).chain(reference);
    if filter.contains('*') || filter.contains('?') {
        let p: Vec<char> = filter.chars().collect();
        candidates
            .into_iter()
            .any(|s| glob(&p, &s.chars().collect::<Vec<_>>()))
    } else {
        candidates.into_iter().any(|s| s.contains(filter))
    }
}

/// Loads every deck (a directory stands for the `*.toml` files in it, see
/// [`deck_paths`]), then runs the selected cases on `jobs` threads.
///
/// # Errors
/// The first deck problem (file, line, field); nothing runs then.
pub fn run_decks<P: AsRef<Path>>(
    paths: &[P],
    jobs: usize,
    filter: Option<&str>,
) -> Result<Vec<CaseResult>, DeckError> {
    run_decks_with_progress(paths, jobs, filter, &|_, _| {})
}

/// [`run_decks`], calling `progress(done, total)` after each case.
///
/// # Errors
/// The first deck problem (file, line, field); nothing runs then.
pub fn run_decks_with_progress<P: AsRef<Path>>(
    paths: &[P],
    jobs: usize,
    filter: Option<&str>,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<Vec<CaseResult>, DeckError> {
    let decks = deck_paths(paths)?
        .iter()
        .map(|p| load_deck(p))
        .collect::<Result<Vec<_>, _>>()?;
    run_loaded(&decks, jobs, filter, progress)
}

/// Runs the selected cases of loaded decks on `jobs` threads. Every card of
/// every case is built first, so a card that cannot be built is a deck
/// error before any case runs.
///
/// # Errors
/// A card that cannot be built, placed in its deck.
pub fn run_loaded(
    decks: &[Deck],
    jobs: usize,
    filter: Option<&str>,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<Vec<CaseResult>, DeckError> {
    let all: Vec<(&Deck, &DeckCase)> = decks
        .iter()
        .flat_map(|d| d.cases.iter().map(move |c| (d, c)))
        .collect();
    let built = par_map(all.clone(), jobs, |(deck, case)| {
        EmvCard::build_with_faults(&case.card).map_err(|e| {
            let mut err = deck.profile_error(e);
            if err.file != deck.file {
                err.message = format!("{} (card of case {})", err.message, case.id);
            }
            err
        })
    });
    let mut work = Vec::new();
    for ((deck, case), card) in all.into_iter().zip(built) {
        let card = card?;
        if selected(filter, &case.id, case.reference.as_deref()) {
            work.push((deck, case, card));
        }
    }
    let total = work.len();
    let done = AtomicUsize::new(0);
    Ok(par_map(work, jobs, |(deck, case, card)| {
        let r = run_case(deck, case, card);
        progress(done.fetch_add(1, Ordering::Relaxed) + 1, total);
        r
    }))
}

/// The cardholder at the PIN pad and the application menu.
struct Person {
    pin: String,
    application: usize,
    confirm: bool,
}

impl Cardholder for Person {
    fn choose(&mut self, candidates: &[Candidate]) -> usize {
        self.application
            .saturating_sub(1)
            .min(candidates.len().saturating_sub(1))
    }
    fn confirm(&mut self, _: &Candidate) -> bool {
        self.confirm
    }
    fn pin(&mut self, kind: PinKind, _: Option<u8>) -> PinEntry {
        match (kind, self.pin.as_str()) {
            (_, "bypass") => PinEntry::Bypassed,
            (_, "not_working") => PinEntry::PinPadNotWorking,
            (PinKind::Online, _) => PinEntry::OnlineCaptured,
            (_, p) => {
                let mut digits = [0u8; 12];
                for (d, c) in digits.iter_mut().zip(p.bytes()) {
                    *d = c.wrapping_sub(b'0');
                }
                PinEntry::Digits {
                    digits,
                    len: u8::try_from(p.len()).unwrap_or(0),
                }
            }
        }
    }
}

/// The issuer host as the deck says it behaves.
struct Issuer {
    host: IssuerHost,
    mode: String,
    bad_mac: Vec<bool>,
    error: Option<String>,
}

impl Host for Issuer {
    fn authorise(&mut self, request: &[u8]) -> HostAnswer {
        if self.mode == "unable" {
            return HostAnswer::Unable;
        }
        let r = match self.host.authorise(request) {
            Ok(r) => r,
            Err(e) => {
                self.error = Some(e.to_string());
                return HostAnswer::Unable;
            }
        };
        let mut iad = r.issuer_authentication_data;
        if self.mode == "bad_arpc"
            && let Some(b) = iad.first_mut()
        {
            *b ^= 0x01;
        }
        let mut scripts = Vec::new();
        for (mut s, bad) in r.scripts.into_iter().zip(self.bad_mac.iter()) {
            if *bad && let Some(b) = s.last_mut() {
                *b ^= 0x01;
            }
            scripts.extend(s);
        }
        HostAnswer::Response {
            arc: r.arc,
            issuer_authentication_data: iad,
            scripts,
        }
    }
}

fn micros(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_micros()).unwrap_or(u64::MAX)
}

fn bcd3(hex_text: &str) -> [u8; 3] {
    let mut out = [0u8; 3];
    if let Ok(b) = hex::decode(hex_text) {
        for (o, v) in out.iter_mut().zip(b) {
            *o = v;
        }
    }
    out
}

fn run_case(deck: &Deck, case: &DeckCase, card: FaultyCard<EmvCard>) -> CaseResult {
    let start = Instant::now();
    let mut channel = SimChannel::new(card);
    let mut transactions = Vec::new();
    for (n, tx) in case.transactions.iter().enumerate() {
        if n > 0 {
            channel.reinsert();
        }
        transactions.push(run_transaction(case, tx, n + 1, &mut channel));
    }
    CaseResult {
        deck: deck.file.clone(),
        deck_id: deck.meta.id.clone(),
        position: case.position,
        id: case.id.clone(),
        reference: case.reference.clone(),
        objective: case.objective.clone(),
        terminal: case.terminal_name.clone(),
        card: case.card_name.clone(),
        passed: transactions.iter().all(|t| t.passed),
        transactions,
        micros: micros(start),
    }
}

fn run_transaction(
    case: &DeckCase,
    tx: &Transaction,
    number: usize,
    channel: &mut SimChannel<FaultyCard<EmvCard>>,
) -> TransactionResult {
    let start = Instant::now();
    let i = &tx.inputs;
    let un = hex::decode(&i.unpredictable_number).unwrap_or_default();
    let input = TransactionInput {
        amount: i.amount,
        amount_other: i.amount_other,
        transaction_type: u8::from_str_radix(&i.transaction_type, 16).unwrap_or(0),
        date: bcd3(&i.date),
        time: bcd3(&i.time),
        unpredictable_number: <[u8; 4]>::try_from(un.as_slice()).unwrap_or([0; 4]),
        random_number: i.random,
        sequence_counter: i.sequence_counter,
    };
    let mut host = case.host.clone();
    if i.host == "decline" {
        host.policy = Policy::Decline;
    }
    host.scripts = i
        .scripts
        .iter()
        .map(|s| {
            let header = hex::decode(&s.header).unwrap_or_default();
            ScriptCommand {
                template: u8::from_str_radix(&s.template, 16).unwrap_or(0x71),
                header: <[u8; 4]>::try_from(header.as_slice()).unwrap_or([0; 4]),
                data: hex::decode(&s.data).unwrap_or_default(),
            }
        })
        .collect();
    let mut issuer = Issuer {
        host,
        mode: i.host.clone(),
        bad_mac: i.scripts.iter().map(|s| s.bad_mac).collect(),
        error: None,
    };
    let mut person = Person {
        pin: i.pin.clone(),
        application: i.application,
        confirm: i.confirm,
    };
    let log_start = channel.log.len();
    let result = driver::run(&case.terminal, input, channel, &mut person, &mut issuer);
    let (actual, apdus, trail, report) = match result {
        Ok(report) => {
            let actual = actual_of(&report, issuer.error.clone());
            let apdus = report
                .apdus
                .iter()
                .zip(
                    report
                        .phases
                        .iter()
                        .map(|p| Some(p.name().to_string()))
                        .chain(std::iter::repeat(None)),
                )
                .map(|((c, r), phase)| ApduRecord {
                    phase,
                    command: hex::encode_upper(c),
                    response: hex::encode_upper(r),
                })
                .collect();
            let trail = report.trail.clone();
            (actual, apdus, trail, Some(report))
        }
        Err(e) => {
            let outcome = match &e {
                DriverError::Transport(_) => "transport_error",
                DriverError::Kernel(_) => "kernel_error",
                DriverError::Stuck => "stuck",
            };
            let apdus: Vec<ApduRecord> = channel
                .log
                .get(log_start..)
                .unwrap_or_default()
                .iter()
                .map(|(c, r)| ApduRecord {
                    phase: None,
                    command: hex::encode_upper(c),
                    response: r.as_ref().map(hex::encode_upper).unwrap_or_default(),
                })
                .collect();
            let genac = apdus
                .iter()
                .filter(|a| a.command.get(2..4) == Some("AE"))
                .filter_map(|a| a.command.get(4..6).map(str::to_string))
                .collect();
            let actual = Actual {
                outcome: outcome.to_string(),
                error: Some(driver_error_text(&e)),
                host_error: issuer.error.clone(),
                genac,
                ..Actual::default()
            };
            (actual, apdus, Vec::new(), None)
        }
    };
    let mismatches = compare(&tx.expect, &actual, report.as_ref(), &apdus, &trail);
    // Patterns were matched on what was sent; the reports show no
    // plaintext PIN.
    let apdus = apdus
        .into_iter()
        .map(|mut a| {
            if let Ok(c) = hex::decode(&a.command) {
                a.command = hex::encode_upper(traceable_command(&c));
            }
            a
        })
        .collect();
    TransactionResult {
        number,
        inputs: tx.inputs.clone(),
        expected: tx.expect.clone(),
        passed: mismatches.is_empty(),
        actual,
        mismatches,
        apdus,
        trail,
        micros: micros(start),
    }
}

fn driver_error_text(e: &DriverError<SimError>) -> String {
    e.to_string()
}

/// The deck's name of an outcome.
#[must_use]
pub fn outcome_name(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::ApprovedOffline => "approved_offline",
        Outcome::DeclinedOffline => "declined_offline",
        Outcome::OnlineApproved => "online_approved",
        Outcome::OnlineDeclined => "online_declined",
        Outcome::ApprovedUnableOnline => "approved_unable_online",
        Outcome::DeclinedUnableOnline => "declined_unable_online",
        Outcome::NotAccepted => "not_accepted",
        Outcome::CardBlocked => "card_blocked",
        Outcome::Terminated(t) => match t {
            Termination::CardError => "terminated:card_error",
            Termination::CardData => "terminated:card_data",
            Termination::CryptogramType => "terminated:cryptogram_type",
            Termination::CardRemoved => "terminated:card_removed",
            Termination::ServiceNotAllowed => "terminated:service_not_allowed",
            Termination::Capacity => "terminated:capacity",
        },
    }
}

fn data_value(report: &Report, tag: u32) -> Option<&[u8]> {
    report
        .data
        .iter()
        .find(|(t, _)| t.raw() == tag)
        .map(|(_, v)| v.as_slice())
}

fn actual_of(report: &Report, host_error: Option<String>) -> Actual {
    Actual {
        outcome: outcome_name(report.outcome).to_string(),
        error: None,
        host_error,
        aid: (!report.aid.is_empty()).then(|| hex::encode_upper(&report.aid)),
        tvr: Some(hex::encode_upper(report.tvr)),
        tsi: Some(hex::encode_upper(report.tsi)),
        cvm_results: Some(hex::encode_upper(report.cvm_results)),
        cid: report.cid.map(|c| format!("{c:02X}")),
        advice: report.advice.map(|c| format!("{c:02X}")),
        genac: report
            .apdus
            .iter()
            .filter(|(c, _)| c.get(1) == Some(&0xAE))
            .filter_map(|(c, _)| c.get(2).map(|p1| format!("{p1:02X}")))
            .collect(),
        authorisation_request: report.authorisation_request.as_ref().map(hex::encode_upper),
        script_results: data_value(report, 0x9F5B).map(hex::encode_upper),
    }
}

/// The top-level data objects of a TLV string, (tag, value), tags as
/// upper-case hex.
fn objects(tlv: &[u8]) -> Vec<(String, String)> {
    Walk::<MAX_DEPTH>::new(tlv, Mode::Lenient)
        .filter_map(Result::ok)
        .map(|n| {
            (
                format!("{:X}", n.tlv.tag().raw()),
                hex::encode_upper(n.tlv.value()),
            )
        })
        .collect()
}

fn outcome_matches(expected: &str, actual: &str) -> bool {
    match expected {
        "approved" => matches!(
            actual,
            "approved_offline" | "online_approved" | "approved_unable_online"
        ),
        "declined" => matches!(
            actual,
            "declined_offline" | "online_declined" | "declined_unable_online"
        ),
        e => e == actual,
    }
}

/// The names of the bits of `tag` that differ between `expected` and
/// `actual` under `mask`, from the kernel's explanations.
fn bit_details(tag: u32, expected: &[u8], actual: &[u8], mask: &[u8]) -> Vec<String> {
    let explain = |value: &[u8]| {
        let mut s = String::new();
        let _ = emv_kernel::data::explain::explain(Tag::new(tag), value, &mut s);
        s
    };
    if tag == 0x9F34 {
        // CVM Results are three coded bytes: name what each side means.
        let e = explain(expected);
        let a = explain(actual);
        let mut out = Vec::new();
        for (n, (el, al)) in e.lines().zip(a.lines()).enumerate() {
            let m = mask.get(n).copied().unwrap_or(0);
            let differ = expected
                .get(n)
                .zip(actual.get(n))
                .is_some_and(|(x, y)| (x ^ y) & m != 0);
            if differ {
                out.push(format!("expected {el}; actual {al}"));
            }
        }
        return out;
    }
    let mut out = Vec::new();
    for (b, ((e, a), m)) in expected.iter().zip(actual).zip(mask).enumerate() {
        let diff = (e ^ a) & m;
        for bit in (1..=8u8).rev() {
            let bm = 1u8 << (bit - 1);
            if diff & bm == 0 {
                continue;
            }
            let mut only = vec![0u8; expected.len()];
            if let Some(x) = only.get_mut(b) {
                *x = bm;
            }
            let prefix = format!("byte {} bit {bit}:", b + 1);
            let name = explain(&only)
                .lines()
                .find(|l| l.starts_with(&prefix))
                .map_or_else(|| format!("byte {} bit {bit}", b + 1), str::to_string);
            let (want, got) = if e & bm != 0 {
                ("set", "clear")
            } else {
                ("clear", "set")
            };
            out.push(format!("{name}: expected {want}, actual {got}"));
        }
    }
    out
}

fn masked_mismatch(field: &str, tag: u32, m: &Masked, actual: Option<&str>) -> Option<Mismatch> {
    let expected = hex::decode(&m.value).unwrap_or_default();
    let mask = hex::decode(&m.mask).unwrap_or_default();
    let Some(actual_hex) = actual else {
        return Some(Mismatch {
            field: field.into(),
            expected: m.value.clone(),
            actual: "none (no outcome)".into(),
            details: Vec::new(),
        });
    };
    let actual = hex::decode(actual_hex).unwrap_or_default();
    let same = expected.len() == actual.len()
        && expected
            .iter()
            .zip(&actual)
            .zip(&mask)
            .all(|((e, a), m)| (e ^ a) & m == 0);
    if same {
        return None;
    }
    let all_ones = mask.iter().all(|&b| b == 0xFF);
    Some(Mismatch {
        field: field.into(),
        expected: if all_ones {
            m.value.clone()
        } else {
            format!("{} (mask {})", m.value, m.mask)
        },
        actual: actual_hex.to_string(),
        details: bit_details(tag, &expected, &actual, &mask),
    })
}

fn pattern_matches(pattern: &[Option<u8>], command: &[u8]) -> bool {
    command.len() >= pattern.len()
        && pattern
            .iter()
            .zip(command)
            .all(|(p, c)| p.is_none_or(|p| p == *c))
}

fn compare(
    e: &Expectations,
    actual: &Actual,
    report: Option<&Report>,
    apdus: &[ApduRecord],
    trail: &[String],
) -> Vec<Mismatch> {
    let mut out = Vec::new();
    let mut push = |field: &str, expected: String, actual: String, details: Vec<String>| {
        out.push(Mismatch {
            field: field.into(),
            expected,
            actual,
            details,
        });
    };
    let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "none".into());
    if let Some(h) = &actual.host_error {
        push(
            "host",
            "an authorisation response".into(),
            format!("host error: {h}"),
            Vec::new(),
        );
    }
    if let Some(o) = &e.outcome
        && !outcome_matches(o, &actual.outcome)
    {
        let details = actual.error.iter().cloned().collect();
        push("outcome", o.clone(), actual.outcome.clone(), details);
    }
    if let Some(aid) = &e.aid
        && actual.aid.as_ref() != Some(aid)
    {
        push("aid", aid.clone(), show(&actual.aid), Vec::new());
    }
    for (field, tag, m, a) in [
        ("tvr", 0x95, &e.tvr, &actual.tvr),
        ("tsi", 0x9B, &e.tsi, &actual.tsi),
        ("cvm_results", 0x9F34, &e.cvm_results, &actual.cvm_results),
    ] {
        if let Some(m) = m
            && let Some(mm) = masked_mismatch(field, tag, m, a.as_deref())
        {
            out.push(mm);
        }
    }
    let mut push = |field: &str, expected: String, actual: String, details: Vec<String>| {
        out.push(Mismatch {
            field: field.into(),
            expected,
            actual,
            details,
        });
    };
    if let Some(cid) = &e.cid
        && actual.cid.as_ref() != Some(cid)
    {
        let mut details = Vec::new();
        for (side, v) in [("expected", Some(cid)), ("actual", actual.cid.as_ref())] {
            if let Some(b) = v.and_then(|v| hex::decode(v).ok()) {
                let mut s = String::new();
                let _ = emv_kernel::data::explain::explain(Tag::new(0x9F27), &b, &mut s);
                details.push(format!("{side}: {}", s.trim_end().replace('\n', "; ")));
            }
        }
        push("cid", cid.clone(), show(&actual.cid), details);
    }
    if let Some(genac) = &e.genac
        && *genac != actual.genac
    {
        push(
            "genac",
            format!("[{}]", genac.join(", ")),
            format!("[{}]", actual.genac.join(", ")),
            Vec::new(),
        );
    }
    let commands: Vec<Vec<u8>> = apdus
        .iter()
        .map(|a| hex::decode(&a.command).unwrap_or_default())
        .collect();
    if let Some(patterns) = &e.apdus {
        let mut cursor = 0usize;
        let mut details = Vec::new();
        for (k, p) in patterns.iter().enumerate() {
            let parsed = parse_pattern(p).unwrap_or_default();
            let found = commands
                .iter()
                .enumerate()
                .skip(cursor)
                .find(|(_, c)| pattern_matches(&parsed, c));
            match found {
                Some((i, _)) => cursor = i + 1,
                None => {
                    details.push(format!(
                        "pattern {} `{p}` not found after command {cursor}",
                        k + 1
                    ));
                    break;
                }
            }
        }
        if !details.is_empty() {
            push(
                "apdus",
                format!("[{}]", patterns.join(", ")),
                format!("{} commands sent", commands.len()),
                details,
            );
        }
    }
    for p in &e.forbid {
        let parsed = parse_pattern(p).unwrap_or_default();
        let hits: Vec<String> = commands
            .iter()
            .zip(apdus)
            .enumerate()
            .filter(|(_, (c, _))| pattern_matches(&parsed, c))
            .map(|(i, (_, a))| {
                format!(
                    "command {} {}{}",
                    i + 1,
                    a.command,
                    a.phase
                        .as_ref()
                        .map_or_else(String::new, |p| format!(" [{p}]"))
                )
            })
            .collect();
        if !hits.is_empty() {
            push(
                "forbid",
                format!("no `{p}`"),
                format!("{} sent", hits.len()),
                hits,
            );
        }
    }
    if let Some(online) = e.online
        && online != actual.authorisation_request.is_some()
    {
        push(
            "online",
            online.to_string(),
            actual.authorisation_request.is_some().to_string(),
            Vec::new(),
        );
    }
    let request = actual
        .authorisation_request
        .as_ref()
        .and_then(|r| hex::decode(r).ok())
        .map(|r| objects(&r));
    let checks_request =
        !e.request_tags.is_empty() || !e.request_values.is_empty() || !e.request_absent.is_empty();
    if checks_request {
        match &request {
            None if !e.request_tags.is_empty() || !e.request_values.is_empty() => {
                push(
                    "request_tags",
                    "an authorisation request".into(),
                    "none sent".into(),
                    Vec::new(),
                );
            }
            None => {}
            Some(objs) => {
                let has = |t: &str| objs.iter().any(|(tag, _)| tag == t);
                let missing: Vec<String> =
                    e.request_tags.iter().filter(|t| !has(t)).cloned().collect();
                if !missing.is_empty() {
                    push(
                        "request_tags",
                        e.request_tags.join(" "),
                        format!("missing {}", missing.join(" ")),
                        Vec::new(),
                    );
                }
                let present: Vec<String> = e
                    .request_absent
                    .iter()
                    .filter(|t| has(t))
                    .cloned()
                    .collect();
                if !present.is_empty() {
                    push(
                        "request_absent",
                        e.request_absent.join(" "),
                        format!("present {}", present.join(" ")),
                        Vec::new(),
                    );
                }
                for (tag, value) in &e.request_values {
                    let got = objs.iter().find(|(t, _)| t == tag).map(|(_, v)| v.clone());
                    if got.as_ref() != Some(value) {
                        push(
                            &format!("request_values.{tag}"),
                            value.clone(),
                            show(&got),
                            Vec::new(),
                        );
                    }
                }
            }
        }
    }
    if let Some(s) = &e.script_results
        && actual.script_results.as_ref() != Some(s)
    {
        push(
            "script_results",
            s.clone(),
            show(&actual.script_results),
            Vec::new(),
        );
    }
    if let Some(advice) = e.advice
        && advice != actual.advice.is_some()
    {
        push(
            "advice",
            advice.to_string(),
            show(&actual.advice),
            Vec::new(),
        );
    }
    let store: BTreeMap<String, String> = report
        .map(|r| {
            r.data
                .iter()
                .map(|(t, v)| (format!("{:X}", t.raw()), hex::encode_upper(v)))
                .collect()
        })
        .unwrap_or_default();
    for (tag, value) in &e.data {
        let got = store.get(tag).cloned();
        if got.as_ref() != Some(value) {
            push(
                &format!("data.{tag}"),
                value.clone(),
                show(&got),
                Vec::new(),
            );
        }
    }
    for text in &e.trail {
        if !trail.iter().any(|l| l.contains(text.as_str())) {
            push(
                "trail",
                format!("a line containing {text:?}"),
                "none".into(),
                Vec::new(),
            );
        }
    }
    out
}
