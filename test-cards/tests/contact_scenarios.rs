//! Contact transaction scenarios: one card difference (or terminal
//! difference, cardholder action, host behaviour, card fault) per case, and
//! the exact TVR, TSI, CVM Results, first GENERATE AC request and outcome
//! that EMV Book 3 §10 and Book 4 §6.3 prescribe for it.
//!
//! The expectations were worked out from the books, not read off the
//! kernel: each case's comment gives the reasoning. Shared facts:
//!
//! - Terminal (built-in `default`): type 22, capabilities `E0F8C8`
//!   (plaintext PIN, enciphered online PIN, signature, enciphered offline
//!   PIN, no CVM; SDA, DDA, CDA), floor limit 50.00, random selection
//!   threshold 10.00 at 25 % rising to 50 %, TAC denial `0010000000`,
//!   online `DC4004F800`, default `DC4000A800`, velocity checking on.
//! - Card (`baseline`): SDA, AIP `5C00` (SDA, CVM, TRM, issuer
//!   authentication), CVM list `4103 4203 1E03 1F03` (X = Y = 0), IACs equal
//!   to the TACs, ATC 16 (17 after GPO), last online ATC 15, LCOL 3, UCOL 5,
//!   PIN 1234, issuer country = terminal country (domestic).
//! - Inputs: 26-11-28 12:00:00, UN `11223344`, random number 99 (never
//!   randomly selected) unless a case says otherwise.
//!
//! TVR bytes (Book 3 Annex C5): b1 `80` ODA not performed, `40` SDA
//! failed, `10` exception file, `08` DDA failed, `04` CDA failed, `02` SDA
//! selected; b2 `80` versions differ, `40` expired, `20` not yet effective,
//! `10` service not allowed, `08` new card; b3 `80` CV not successful, `40`
//! unrecognised CVM, `20` PIN try limit exceeded, `08` PIN not entered, `04`
//! online PIN entered; b4 `80` floor limit, `40` LCOL, `20` UCOL, `10`
//! random selection; b5 `40` issuer authentication failed, `20`/`10` script
//! failed before/after the final GENERATE AC. TSI b1 (Annex C6): `80` ODA,
//! `40` CV, `20` card risk management, `10` issuer authentication, `08`
//! TRM, `04` script processing performed.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use emv_kernel::contact::machine::SERVICE_NOT_ALLOWED_TERMINATES;
use emv_kernel::contact::machine::{Outcome, PinEntry, PinKind, Termination, TransactionInput};
use emv_kernel::contact::trm::VELOCITY_MISSING_SETS_ICC_DATA_MISSING;
use emv_kernel::selection::candidate::Candidate;
use emv_terminal::config::TerminalConfig;
use emv_terminal::driver::{Cardholder, DriverError, Host, HostAnswer, Report, run};
use emv_test_cards::card::SimChannel;
use emv_test_cards::engine::EmvCard;
use emv_test_cards::host::{IssuerHost, Policy, ScriptCommand};
use emv_test_cards::profile::load::load_str;

/// What the cardholder does at the PIN pad.
#[derive(Clone, Copy)]
enum Pin {
    /// Enters these digits (offline), or captures them for online PIN.
    Enter(&'static str),
    /// Presses bypass.
    Bypass,
}

/// How the host answers.
#[derive(Clone, Copy, PartialEq)]
enum HostMode {
    Approve,
    Decline,
    Unable,
    /// Approves, with one byte of the ARPC flipped.
    BadArpc,
    /// Approves and sends APPLICATION UNBLOCK in template `71` or `72`.
    Script(u8),
    /// As `Script`, with the script's MAC corrupted.
    BadScript(u8),
}

struct Case {
    name: &'static str,
    /// Card profile overlay, `extends` the base.
    card: &'static str,
    base: &'static str,
    /// Terminal configuration overlay, `extends = "default"`.
    terminal: &'static str,
    amount: u64,
    other: u64,
    tx_type: u8,
    random: u8,
    pin: Pin,
    host: HostMode,
    choice: usize,
    expect: Expect,
}

#[derive(Clone, Copy)]
struct Expect {
    outcome: Outcome,
    tvr: [u8; 5],
    tsi: Option<[u8; 2]>,
    cvm: Option<[u8; 3]>,
    /// P1 of the first GENERATE AC.
    genac1: Option<u8>,
    /// Commands (by their first bytes) that must not be sent.
    forbid: &'static [&'static [u8]],
    /// The selected AID.
    aid: Option<&'static str>,
}

const fn case(name: &'static str, expect: Expect) -> Case {
    Case {
        name,
        card: "",
        base: "baseline",
        terminal: "",
        amount: 1000,
        other: 0,
        tx_type: 0,
        random: 99,
        pin: Pin::Enter("1234"),
        host: HostMode::Approve,
        choice: 0,
        expect,
    }
}

const fn expect(outcome: Outcome, tvr: [u8; 5]) -> Expect {
    Expect {
        outcome,
        tvr,
        tsi: None,
        cvm: None,
        genac1: None,
        forbid: &[],
        aid: None,
    }
}

impl Expect {
    const fn tsi(mut self, tsi: u8) -> Self {
        self.tsi = Some([tsi, 0]);
        self
    }
    const fn cvm(mut self, cvm: [u8; 3]) -> Self {
        self.cvm = Some(cvm);
        self
    }
    const fn genac1(mut self, p1: u8) -> Self {
        self.genac1 = Some(p1);
        self
    }
    const fn forbid(mut self, commands: &'static [&'static [u8]]) -> Self {
        self.forbid = commands;
        self
    }
    const fn aid(mut self, aid: &'static str) -> Self {
        self.aid = Some(aid);
        self
    }
}

impl Case {
    const fn card(mut self, overlay: &'static str) -> Self {
        self.card = overlay;
        self
    }
    const fn base(mut self, base: &'static str) -> Self {
        self.base = base;
        self
    }
    const fn terminal(mut self, overlay: &'static str) -> Self {
        self.terminal = overlay;
        self
    }
    const fn amount(mut self, amount: u64) -> Self {
        self.amount = amount;
        self
    }
    const fn kind(mut self, tx_type: u8, other: u64) -> Self {
        self.tx_type = tx_type;
        self.other = other;
        self
    }
    const fn random(mut self, random: u8) -> Self {
        self.random = random;
        self
    }
    const fn pin(mut self, pin: Pin) -> Self {
        self.pin = pin;
        self
    }
    const fn host(mut self, host: HostMode) -> Self {
        self.host = host;
        self
    }
    const fn choice(mut self, choice: usize) -> Self {
        self.choice = choice;
        self
    }
}

struct Person {
    pin: Pin,
    choice: usize,
}

impl Cardholder for Person {
    fn choose(&mut self, candidates: &[Candidate]) -> usize {
        self.choice.min(candidates.len() - 1)
    }
    fn confirm(&mut self, _: &Candidate) -> bool {
        true
    }
    fn pin(&mut self, kind: PinKind, _: Option<u8>) -> PinEntry {
        match (kind, self.pin) {
            (_, Pin::Bypass) => PinEntry::Bypassed,
            (PinKind::Online, Pin::Enter(_)) => PinEntry::OnlineCaptured,
            (_, Pin::Enter(p)) => {
                let mut digits = [0u8; 12];
                for (d, c) in digits.iter_mut().zip(p.bytes()) {
                    *d = c - b'0';
                }
                PinEntry::Digits {
                    digits,
                    len: p.len() as u8,
                }
            }
        }
    }
}

struct Issuer {
    host: IssuerHost,
    mode: HostMode,
}

impl Host for Issuer {
    fn authorise(&mut self, request: &[u8]) -> HostAnswer {
        if self.mode == HostMode::Unable {
            return HostAnswer::Unable;
        }
        let r = self.host.authorise(request).unwrap();
        let mut iad = r.issuer_authentication_data;
        let mut scripts = r.scripts.concat();
        match self.mode {
            HostMode::BadArpc => iad[0] ^= 0x01,
            HostMode::BadScript(_) => *scripts.last_mut().unwrap() ^= 0x01,
            _ => {}
        }
        HostAnswer::Response {
            arc: r.arc,
            issuer_authentication_data: iad,
            scripts,
        }
    }
}

fn execute(c: &Case) -> Result<Report, DriverError<emv_test_cards::card::SimError>> {
    let config = TerminalConfig::load_str(
        "terminal.toml",
        &format!("extends = \"default\"\n{}", c.terminal),
        None,
    )
    .unwrap_or_else(|e| panic!("{}: {e}", c.name));
    let loaded = load_str(
        "card.toml",
        &format!(
            "extends = \"{}\"\nname = \"{}\"\n{}",
            c.base, c.name, c.card
        ),
        None,
    )
    .unwrap_or_else(|e| panic!("{}: {e}", c.name));
    let mut ch = SimChannel::new(EmvCard::build_with_faults(&loaded).unwrap());
    let mut host = IssuerHost::from_profile(&loaded).unwrap();
    match c.host {
        HostMode::Decline => host.policy = Policy::Decline,
        HostMode::Script(t) | HostMode::BadScript(t) => host.scripts.push(ScriptCommand {
            template: t,
            header: [0x84, 0x18, 0x00, 0x00],
            data: Vec::new(),
        }),
        _ => {}
    }
    let input = TransactionInput {
        amount: c.amount,
        amount_other: c.other,
        transaction_type: c.tx_type,
        date: [0x26, 0x11, 0x28],
        time: [0x12, 0x00, 0x00],
        unpredictable_number: [0x11, 0x22, 0x33, 0x44],
        random_number: c.random,
        sequence_counter: 1,
    };
    run(
        &config,
        input,
        &mut ch,
        &mut Person {
            pin: c.pin,
            choice: c.choice,
        },
        &mut Issuer { host, mode: c.host },
    )
}

fn check(c: &Case) -> Result<(), String> {
    let r = execute(c).map_err(|e| format!("{}: driver error {e}", c.name))?;
    let e = &c.expect;
    let mut problems = Vec::new();
    if r.outcome != e.outcome {
        problems.push(format!("outcome {:?}, expected {:?}", r.outcome, e.outcome));
    }
    if r.tvr != e.tvr {
        problems.push(format!(
            "TVR {}, expected {}",
            hex::encode_upper(r.tvr),
            hex::encode_upper(e.tvr)
        ));
    }
    if let Some(tsi) = e.tsi
        && r.tsi != tsi
    {
        problems.push(format!(
            "TSI {}, expected {}",
            hex::encode_upper(r.tsi),
            hex::encode_upper(tsi)
        ));
    }
    if let Some(cvm) = e.cvm
        && r.cvm_results != cvm
    {
        problems.push(format!(
            "CVM Results {}, expected {}",
            hex::encode_upper(r.cvm_results),
            hex::encode_upper(cvm)
        ));
    }
    let genacs: Vec<u8> = r
        .apdus
        .iter()
        .filter(|(c, _)| c.get(1) == Some(&0xAE))
        .map(|(c, _)| c[2])
        .collect();
    if let Some(p1) = e.genac1
        && genacs.first() != Some(&p1)
    {
        problems.push(format!(
            "GENERATE AC P1s {genacs:02X?}, expected the first {p1:02X}"
        ));
    }
    for prefix in e.forbid {
        if r.apdus.iter().any(|(c, _)| c.starts_with(prefix)) {
            problems.push(format!("{} sent", hex::encode_upper(prefix)));
        }
    }
    if let Some(aid) = e.aid
        && hex::encode_upper(&r.aid) != aid
    {
        problems.push(format!("AID {}, expected {aid}", hex::encode_upper(&r.aid)));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{}: {}\n  trail: {:#?}",
            c.name,
            problems.join("; "),
            r.trail
        ))
    }
}

fn run_all(cases: &[Case]) {
    let failures: Vec<String> = cases.iter().filter_map(|c| check(c).err()).collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

use Outcome::*;

/// TSI of an offline transaction with every phase: ODA, CV, card risk
/// management, TRM.
const OFFLINE_TSI: u8 = 0xE8;
/// … and issuer authentication after going online.
const ONLINE_TSI: u8 = 0xF8;
const AAC: u8 = 0x00;
const VERIFY: &[u8] = &[0x00, 0x20];
const EXTERNAL_AUTHENTICATE: &[u8] = &[0x00, 0x82];
const GET_ATC: &[u8] = &[0x80, 0xCA, 0x9F, 0x36];
const GET_LAST_ONLINE_ATC: &[u8] = &[0x80, 0xCA, 0x9F, 0x13];
const TC: u8 = 0x40;
const ARQC: u8 = 0x80;
/// GENERATE AC P1 b5: CDA signature requested.
const CDA_REQUEST: u8 = 0x10;

#[test]
fn cardholder_verification() {
    run_all(&[
        // Rule 1 `4103`: plaintext PIN if supported → verified, result 02.
        case(
            "plaintext PIN verified",
            expect(ApprovedOffline, [0x02, 0, 0, 0, 0])
                .tsi(OFFLINE_TSI)
                .cvm([0x41, 0x03, 0x02])
                .genac1(TC),
        ),
        // `1F00`: no CVM required, always → successful.
        case(
            "no CVM required",
            expect(ApprovedOffline, [0x02, 0, 0, 0, 0])
                .tsi(OFFLINE_TSI)
                .cvm([0x1F, 0x00, 0x02])
                .forbid(&[VERIFY]),
        )
        .card("[app.main.records.\"2.1\"]\n\"8E\" = \"00000000000000001F00\"\n"),
        // Signature: result unknown (00), Book 4 §6.3.4.
        case(
            "signature",
            expect(ApprovedOffline, [0x02, 0, 0, 0, 0])
                .tsi(OFFLINE_TSI)
                .cvm([0x1E, 0x00, 0x00]),
        )
        .card("[app.main.records.\"2.1\"]\n\"8E\" = \"00000000000000001E00\"\n"),
        // `0000`: fail CVM processing → CV not successful; no action code
        // has b3 `80`, so the TC stands.
        case(
            "fail CVM, no action code cares",
            expect(ApprovedOffline, [0x02, 0, 0x80, 0, 0])
                .tsi(OFFLINE_TSI)
                .cvm([0x00, 0x00, 0x01]),
        )
        .card("[app.main.records.\"2.1\"]\n\"8E\" = \"00000000000000000000\"\n"),
        // … and with IAC-online b3 `80` it goes online.
        case(
            "fail CVM with IAC-online on CV failure",
            expect(OnlineApproved, [0x02, 0, 0x80, 0, 0])
                .tsi(ONLINE_TSI)
                .cvm([0x00, 0x00, 0x01])
                .genac1(ARQC),
        )
        .card(
            "[app.main.records.\"2.1\"]\n\"8E\" = \"00000000000000000000\"\n\"9F0F\" = \"DC4084F800\"\n",
        ),
        // X = 20.00: `4106` under X applies at 10.00.
        case(
            "PIN under X",
            expect(ApprovedOffline, [0x02, 0, 0, 0, 0]).cvm([0x41, 0x06, 0x02]),
        )
        .card("[app.main.records.\"2.1\"]\n\"8E\" = \"000007D00000000041061F00\"\n"),
        // … and not at 30.00: the next rule, no CVM.
        case(
            "PIN under X skipped above X",
            expect(ApprovedOffline, [0x02, 0, 0, 0, 0])
                .cvm([0x1F, 0x00, 0x02])
                .forbid(&[VERIFY]),
        )
        .card("[app.main.records.\"2.1\"]\n\"8E\" = \"000007D00000000041061F00\"\n")
        .amount(3000),
        case(
            "PIN over X",
            expect(ApprovedOffline, [0x02, 0, 0, 0, 0]).cvm([0x41, 0x07, 0x02]),
        )
        .card("[app.main.records.\"2.1\"]\n\"8E\" = \"000007D00000000041071F00\"\n")
        .amount(3000),
        case(
            "PIN under Y",
            expect(ApprovedOffline, [0x02, 0, 0, 0, 0]).cvm([0x41, 0x08, 0x02]),
        )
        .card("[app.main.records.\"2.1\"]\n\"8E\" = \"00000000000007D041081F00\"\n"),
        case(
            "PIN over Y",
            expect(ApprovedOffline, [0x02, 0, 0, 0, 0]).cvm([0x41, 0x09, 0x02]),
        )
        .card("[app.main.records.\"2.1\"]\n\"8E\" = \"00000000000007D041091F00\"\n")
        .amount(3000),
        // `5D00`: code 1D is RFU → unrecognised CVM; b7 set → next rule.
        case(
            "unrecognised CVM then no CVM",
            expect(ApprovedOffline, [0x02, 0, 0x40, 0, 0]).cvm([0x1F, 0x00, 0x02]),
        )
        .card("[app.main.records.\"2.1\"]\n\"8E\" = \"00000000000000005D001F00\"\n"),
        // The terminal has no plaintext PIN: `4103` (if supported) is
        // skipped, `4203` online PIN applies → online PIN entered, and
        // TAC-online b3 `04` sends it online.
        case(
            "terminal without plaintext PIN: online PIN",
            expect(OnlineApproved, [0x02, 0, 0x04, 0, 0])
                .tsi(ONLINE_TSI)
                .cvm([0x42, 0x03, 0x00])
                .genac1(ARQC)
                .forbid(&[VERIFY]),
        )
        .terminal("[terminal]\ncapabilities = \"E078C8\"\n"),
        // PIN try counter 0: PIN try limit exceeded, no VERIFY, next rule
        // online PIN → online.
        case(
            "PIN blocked: online PIN instead",
            expect(OnlineApproved, [0x02, 0, 0x24, 0, 0])
                .tsi(ONLINE_TSI)
                .cvm([0x42, 0x03, 0x00])
                .forbid(&[VERIFY]),
        )
        .base("blocked-pin"),
        // Three wrong PINs: the card counts down to 63C0, try limit
        // exceeded, next rule online PIN.
        case(
            "wrong PIN three times",
            expect(OnlineApproved, [0x02, 0, 0x24, 0, 0])
                .tsi(ONLINE_TSI)
                .cvm([0x42, 0x03, 0x00]),
        )
        .pin(Pin::Enter("0000")),
        // PIN bypassed at the plaintext PIN rule: "PIN not entered"; the
        // online PIN rule is bypassed as well [M: Book 4 §6.3.4.3 reading],
        // and signature applies.
        case(
            "PIN bypass",
            expect(ApprovedOffline, [0x02, 0, 0x08, 0, 0])
                .cvm([0x1E, 0x03, 0x00])
                .forbid(&[VERIFY]),
        )
        .pin(Pin::Bypass),
        // Enciphered offline PIN on a DDA card (GET CHALLENGE, VERIFY 88).
        case(
            "enciphered offline PIN",
            expect(ApprovedOffline, [0, 0, 0, 0, 0])
                .tsi(OFFLINE_TSI)
                .cvm([0x44, 0x03, 0x02]),
        )
        .base("visa-cvn18-dda")
        .card("[app.main.records.\"2.1\"]\n\"8E\" = \"000000000000000044031F03\"\n"),
        // Plaintext PIN and signature: the signature makes the result
        // unknown (00).
        case(
            "plaintext PIN and signature",
            expect(ApprovedOffline, [0x02, 0, 0, 0, 0]).cvm([0x43, 0x03, 0x00]),
        )
        .card("[app.main.records.\"2.1\"]\n\"8E\" = \"000000000000000043031F03\"\n"),
    ]);
}

#[test]
fn processing_restrictions() {
    run_all(&[
        case(
            "application versions differ",
            expect(ApprovedOffline, [0x02, 0x80, 0, 0, 0]).genac1(TC),
        )
        .card("[app.main.records.\"2.1\"]\n\"9F08\" = \"008D\"\n"),
        // Expired: TAC-online b2 `40` → online.
        case(
            "expired application",
            expect(OnlineApproved, [0x02, 0x40, 0, 0, 0])
                .tsi(ONLINE_TSI)
                .genac1(ARQC),
        )
        .card("[app.main.records.\"2.1\"]\n\"5F24\" = \"251130\"\n"),
        case(
            "not yet effective",
            expect(ApprovedOffline, [0x02, 0x20, 0, 0, 0]),
        )
        .card("[app.main.records.\"2.1\"]\n\"5F25\" = \"270101\"\n"),
        // AUC `C300`: cash only, no goods or services → service not
        // allowed; TAC-denial b2 `10` → AAC at once.
        case(
            "AUC: no goods or services",
            expect(DeclinedOffline, [0x02, 0x10, 0, 0, 0])
                .tsi(OFFLINE_TSI)
                .genac1(AAC),
        )
        .card("[app.main.records.\"2.1\"]\n\"9F07\" = \"C300\"\n"),
        // AUC `FE00`: not valid at terminals other than ATMs.
        case(
            "AUC: not valid at this terminal",
            expect(DeclinedOffline, [0x02, 0x10, 0, 0, 0]).genac1(AAC),
        )
        .card("[app.main.records.\"2.1\"]\n\"9F07\" = \"FE00\"\n"),
        // Cash (9C 01) with no cash bits.
        case(
            "AUC: cash not allowed",
            expect(DeclinedOffline, [0x02, 0x10, 0, 0, 0]).genac1(AAC),
        )
        .card("[app.main.records.\"2.1\"]\n\"9F07\" = \"3F00\"\n")
        .kind(0x01, 0),
        // Cashback (9C 09) with AUC byte 2 `00`.
        case(
            "AUC: cashback not allowed",
            expect(DeclinedOffline, [0x02, 0x10, 0, 0, 0]).genac1(AAC),
        )
        .kind(0x09, 500),
        // Domestic-only AUC `A900` at a terminal in another country.
        case(
            "AUC: domestic only, used abroad",
            expect(DeclinedOffline, [0x02, 0x10, 0, 0, 0]).genac1(AAC),
        )
        .card("[app.main.records.\"2.1\"]\n\"9F07\" = \"A900\"\n")
        .terminal("[terminal]\ncountry_code = \"0826\"\n"),
        case(
            "AUC: domestic only, used at home",
            expect(ApprovedOffline, [0x02, 0, 0, 0, 0]).genac1(TC),
        )
        .card("[app.main.records.\"2.1\"]\n\"9F07\" = \"A900\"\n"),
        // No AUC: nothing to check.
        case("AUC absent", expect(ApprovedOffline, [0x02, 0, 0, 0, 0]))
            .card("[app.main.records.\"2.1\"]\n\"9F07\" = false\n"),
    ]);
}

#[test]
fn offline_data_authentication() {
    run_all(&[
        // No CAPK for index 77: SDA failed; TAC-online b1 `40`.
        case(
            "SDA: unknown CA",
            expect(OnlineApproved, [0x42, 0, 0, 0, 0])
                .tsi(ONLINE_TSI)
                .genac1(ARQC),
        )
        .base("unknown-ca"),
        // The issuer certificate expired in October 2025.
        case(
            "SDA: expired issuer certificate",
            expect(OnlineApproved, [0x42, 0, 0, 0, 0]).genac1(ARQC),
        )
        .card("[app.main.oda]\nissuer_cert_expiry = \"1025\"\n"),
        // The card supports no ODA method: ODA not performed.
        case(
            "card without ODA",
            expect(OnlineApproved, [0x80, 0, 0, 0, 0])
                .tsi(0x78)
                .genac1(ARQC),
        )
        .card("[app.main]\naip = \"1C00\"\n"),
        // The terminal supports none: the same.
        case(
            "terminal without ODA",
            expect(OnlineApproved, [0x80, 0, 0, 0, 0])
                .tsi(0x78)
                .genac1(ARQC),
        )
        .terminal("[terminal]\ncapabilities = \"E0F800\"\n"),
        // DDA verified: no TVR bit at all.
        case(
            "DDA verified",
            expect(ApprovedOffline, [0, 0, 0, 0, 0]).tsi(OFFLINE_TSI),
        )
        .base("visa-cvn18-dda"),
        // DDA with the issuer certificate expired: DDA failed.
        case(
            "DDA: expired issuer certificate",
            expect(OnlineApproved, [0x08, 0, 0, 0, 0]).genac1(ARQC),
        )
        .base("visa-cvn18-dda")
        .card("[app.main.oda]\nissuer_cert_expiry = \"1025\"\n"),
        // The ICC certificate expired.
        case(
            "DDA: expired ICC certificate",
            expect(OnlineApproved, [0x08, 0, 0, 0, 0]).genac1(ARQC),
        )
        .base("visa-cvn18-dda")
        .card("[app.main.oda]\nicc_cert_expiry = \"1025\"\n"),
        // The INTERNAL AUTHENTICATE answer is cut: DDA failed.
        case(
            "DDA: truncated signature",
            expect(OnlineApproved, [0x08, 0, 0, 0, 0]).genac1(ARQC),
        )
        .base("visa-cvn18-dda")
        .card("[[faults]]\nins = \"88\"\naction = \"truncate\"\nbytes = 1\n"),
    ]);
}

#[test]
fn terminal_risk_management() {
    run_all(&[
        case(
            "floor limit exceeded",
            expect(OnlineApproved, [0x02, 0, 0, 0x80, 0])
                .tsi(ONLINE_TSI)
                .cvm([0x41, 0x03, 0x02])
                .genac1(ARQC),
        )
        .amount(10_000),
        // Below the threshold the target is 25 %: 10 ≤ 25 → selected.
        case(
            "randomly selected below the threshold",
            expect(OnlineApproved, [0x02, 0, 0, 0x10, 0]).genac1(ARQC),
        )
        .amount(500)
        .random(10),
        case(
            "not selected below the threshold",
            expect(ApprovedOffline, [0x02, 0, 0, 0, 0]).genac1(TC),
        )
        .amount(500)
        .random(30),
        // 30.00 between 10.00 and 50.00: target 25 + 25 × 20/40 = 37.5 %.
        case(
            "biased selection: selected",
            expect(OnlineApproved, [0x02, 0, 0, 0x10, 0]).genac1(ARQC),
        )
        .amount(3000)
        .random(30),
        case(
            "biased selection: not selected",
            expect(ApprovedOffline, [0x02, 0, 0, 0, 0]).genac1(TC),
        )
        .amount(3000)
        .random(45),
        // ATC 19 after GPO, last online 15: 4 > LCOL 3, not > UCOL 5.
        case(
            "lower consecutive offline limit exceeded",
            expect(OnlineApproved, [0x02, 0, 0, 0x40, 0]).genac1(ARQC),
        )
        .card("[app.main.risk]\natc = 18\n"),
        // ATC 26: 11 > both limits.
        case(
            "upper consecutive offline limit exceeded",
            expect(OnlineApproved, [0x02, 0, 0, 0x60, 0]).genac1(ARQC),
        )
        .card("[app.main.risk]\natc = 25\n"),
        // Last online ATC 0: new card, and both limits exceeded.
        case(
            "new card",
            expect(OnlineApproved, [0x02, 0x08, 0, 0x60, 0]).genac1(ARQC),
        )
        .card("[app.main.risk]\nlast_online_atc = 0\n"),
        // Velocity checking off: no GET DATA, no bits.
        case(
            "velocity checking off",
            expect(ApprovedOffline, [0x02, 0, 0, 0, 0])
                .tsi(OFFLINE_TSI)
                .forbid(&[GET_ATC, GET_LAST_ONLINE_ATC]),
        )
        .terminal("[[aid]]\naid = \"F0000009991010\"\napplication_version = \"008C\"\nfloor_limit = \"50.00\"\ntac_denial = \"0010000000\"\ntac_online = \"DC4004F800\"\ntac_default = \"DC4000A800\"\nvelocity_checking = false\n"),
        // The card does not return the last online ATC: both limits
        // count as exceeded (Book 3 §10.6.3), and [M] ICC data missing.
        case(
            "last online ATC not returned",
            expect(
                OnlineApproved,
                [
                    if VELOCITY_MISSING_SETS_ICC_DATA_MISSING {
                        0x22
                    } else {
                        0x02
                    },
                    0,
                    0,
                    0x60,
                    0,
                ],
            )
            .genac1(ARQC),
        )
        .card("[[faults]]\nins = \"CA\"\np2 = \"13\"\naction = \"status\"\nsw = \"6A88\"\n"),
        case(
            "exception file",
            expect(OnlineApproved, [0x12, 0, 0, 0, 0]).genac1(ARQC),
        )
        .terminal("[exception_file]\npans = [\"4999990000000015\"]\n"),
        // Book 3 §10.6.1: an entry may name the PSN; the baseline card's
        // PSN (5F34) is 00.
        case(
            "exception file entry with the card's PSN",
            expect(OnlineApproved, [0x12, 0, 0, 0, 0]).genac1(ARQC),
        )
        .terminal("[exception_file]\npans = [\"4999990000000015-00\"]\n"),
        case(
            "exception file entry with another PSN",
            expect(ApprovedOffline, [0x02, 0, 0, 0, 0]).genac1(TC),
        )
        .terminal("[exception_file]\npans = [\"4999990000000015-01\"]\n"),
    ]);
}

#[test]
fn action_analysis_and_online() {
    run_all(&[
        // IAC-denial on floor limit exceeded: AAC without going online.
        case(
            "IAC-denial",
            expect(DeclinedOffline, [0x02, 0, 0, 0x80, 0])
                .tsi(OFFLINE_TSI)
                .genac1(AAC),
        )
        .card("[app.main.records.\"2.1\"]\n\"9F0E\" = \"0000008000\"\n")
        .amount(10_000),
        case(
            "TAC-denial",
            expect(DeclinedOffline, [0x02, 0, 0, 0x80, 0]).genac1(AAC),
        )
        .terminal("[[aid]]\naid = \"F0000009991010\"\napplication_version = \"008C\"\nfloor_limit = \"50.00\"\ntac_denial = \"0000008000\"\ntac_online = \"DC4004F800\"\ntac_default = \"DC4000A800\"\n")
        .amount(10_000),
        // Issuer declines.
        case(
            "online declined",
            expect(OnlineDeclined, [0x02, 0, 0, 0x80, 0])
                .tsi(ONLINE_TSI)
                .genac1(ARQC),
        )
        .amount(10_000)
        .host(HostMode::Decline),
        // Unable to go online: TAC-default b4 `80` → AAC.
        case(
            "unable to go online, default declines",
            expect(DeclinedUnableOnline, [0x02, 0, 0, 0x80, 0])
                .tsi(OFFLINE_TSI)
                .genac1(ARQC),
        )
        .amount(10_000)
        .host(HostMode::Unable),
        // … with empty default codes: TC, and a card that approves
        // offline when the terminal cannot go online.
        case(
            "unable to go online, default approves",
            expect(ApprovedUnableOnline, [0x02, 0, 0, 0x80, 0]).genac1(ARQC),
        )
        .card("[app.main.records.\"2.1\"]\n\"9F0D\" = \"0000000000\"\n[app.main.risk]\napprove_when_unable_to_go_online = true\n")
        .terminal("[[aid]]\naid = \"F0000009991010\"\napplication_version = \"008C\"\nfloor_limit = \"50.00\"\ntac_denial = \"0010000000\"\ntac_online = \"DC4004F800\"\ntac_default = \"0000000000\"\n")
        .amount(10_000)
        .host(HostMode::Unable),
        // A wrong ARPC: EXTERNAL AUTHENTICATE fails, the card (which
        // declines when issuer authentication fails) answers the TC
        // request with an AAC.
        case(
            "issuer authentication failed",
            expect(OnlineDeclined, [0x02, 0, 0, 0x80, 0x40])
                .tsi(ONLINE_TSI)
                .genac1(ARQC),
        )
        .amount(10_000)
        .host(HostMode::BadArpc),
        // Scripts before and after the final GENERATE AC.
        case(
            "script before the final GENERATE AC",
            expect(OnlineApproved, [0x02, 0, 0, 0x80, 0]).tsi(ONLINE_TSI | 0x04),
        )
        .amount(10_000)
        .host(HostMode::Script(0x71)),
        case(
            "script after the final GENERATE AC",
            expect(OnlineApproved, [0x02, 0, 0, 0x80, 0]).tsi(ONLINE_TSI | 0x04),
        )
        .amount(10_000)
        .host(HostMode::Script(0x72)),
        case(
            "script before fails (bad MAC)",
            expect(OnlineApproved, [0x02, 0, 0, 0x80, 0x20]).tsi(ONLINE_TSI | 0x04),
        )
        .amount(10_000)
        .host(HostMode::BadScript(0x71)),
        case(
            "script after fails (bad MAC)",
            expect(OnlineApproved, [0x02, 0, 0, 0x80, 0x10]).tsi(ONLINE_TSI | 0x04),
        )
        .amount(10_000)
        .host(HostMode::BadScript(0x72)),
        // The card's ARQC carries a CID other than the one it signed: CDA
        // fails on the 1st GENERATE AC and the terminal asks for an AAC
        // at once (Book 3 §10.8), without going online.
        case(
            "CDA failed on the 1st GENERATE AC",
            expect(DeclinedOffline, [0x04, 0, 0x04, 0x80, 0])
                .genac1(ARQC | CDA_REQUEST)
                .forbid(&[EXTERNAL_AUTHENTICATE]),
        )
        .base("mc-cda")
        .card("[[faults]]\nins = \"AE\"\noccurrence = 1\naction = \"cid\"\ncid = \"90\"\n")
        .amount(10_000),
        // The same on the TC of the 2nd GENERATE AC: declined.
        case(
            "CDA failed on the 2nd GENERATE AC",
            expect(OnlineDeclined, [0x04, 0, 0x04, 0x80, 0]).genac1(ARQC | CDA_REQUEST),
        )
        .base("mc-cda")
        .card("[[faults]]\nins = \"AE\"\noccurrence = 2\naction = \"cid\"\ncid = \"50\"\n")
        .amount(10_000),
        // CDA card online: CDA verified on both GENERATE ACs.
        case(
            "CDA online",
            expect(OnlineApproved, [0, 0, 0x04, 0x80, 0]).genac1(ARQC | CDA_REQUEST),
        )
        .base("mc-cda")
        .amount(10_000),
    ]);
}

#[test]
fn selection_and_card_faults() {
    run_all(&[
        // The only application is blocked (6283): no candidate.
        case("blocked application", expect(NotAccepted, [0; 5]))
            .card("[app.main]\nblocked = true\n"),
        // GPO 6985: the application is removed, nothing is left.
        case("GPO conditions not satisfied", expect(NotAccepted, [0; 5]))
            .card("[[faults]]\nins = \"A8\"\naction = \"status\"\nsw = \"6985\"\n"),
        // A record the AFL names is missing: terminate (Book 3 §10.2),
        // before ODA sets any bit.
        case(
            "record not found",
            expect(Terminated(Termination::CardError), [0; 5]),
        )
        .card("[[faults]]\nins = \"B2\"\np1 = \"01\"\np2 = \"14\"\naction = \"status\"\nsw = \"6A83\"\n"),
        case(
            "malformed record",
            expect(Terminated(Termination::CardData), [0; 5]),
        )
        .card("[[faults]]\nins = \"B2\"\np1 = \"01\"\np2 = \"14\"\naction = \"malformed_tlv\"\n"),
        // A data object twice in the records (redundant primitive):
        // terminate (Book 3 §10.2).
        case(
            "redundant data object",
            expect(Terminated(Termination::CardData), [0; 5]),
        )
        .card("[[faults]]\nins = \"B2\"\np1 = \"01\"\np2 = \"14\"\naction = \"duplicate_tag\"\n"),
        // Mandatory data missing (expiry date 5F24, CDOL1 8C): terminate.
        case(
            "expiry date missing",
            expect(Terminated(Termination::CardData), [0; 5]),
        )
        .card("[app.main.records.\"2.1\"]\n\"5F24\" = false\n"),
        case(
            "CDOL1 missing",
            expect(Terminated(Termination::CardData), [0; 5]),
        )
        .card("[app.main.records.\"2.1\"]\n\"8C\" = false\n"),
        // Every answer through 61xx: the transport layer gets it all.
        case(
            "61xx on every command",
            expect(ApprovedOffline, [0x02, 0, 0, 0, 0]).cvm([0x41, 0x03, 0x02]),
        )
        .card("[[faults]]\naction = \"t0_get_response\"\n"),
        // The PSE lists debit (priority 1), credit (2), prepaid (3); the
        // cardholder picks the second: the SDA credit application.
        case(
            "cardholder chooses the second application",
            expect(ApprovedOffline, [0x02, 0, 0, 0, 0]).aid("F0000009991010"),
        )
        .base("pse-three-apps")
        .choice(1),
    ]);
}

#[test]
fn card_pulled_out_during_generate_ac_is_a_transport_error() {
    let c = case("torn", expect(ApprovedOffline, [0; 5]))
        .card("[[faults]]\nins = \"AE\"\naction = \"remove\"\n");
    let err = execute(&c).unwrap_err();
    assert!(matches!(err, DriverError::Transport(_)), "{err}");
}

#[test]
fn cryptogram_information_data() {
    run_all(&[
        // The card sets the advice bit on its TC: approved, advice kept.
        case(
            "advice requested",
            expect(ApprovedOffline, [0x02, 0, 0, 0, 0]).genac1(TC),
        )
        .card("[[faults]]\nins = \"AE\"\naction = \"cid\"\ncid = \"48\"\n"),
        // An AAC with reason "service not allowed" ends the transaction
        // [M: SERVICE_NOT_ALLOWED_TERMINATES].
        case(
            "service not allowed",
            expect(
                if SERVICE_NOT_ALLOWED_TERMINATES {
                    Terminated(Termination::ServiceNotAllowed)
                } else {
                    DeclinedOffline
                },
                [0x02, 0, 0, 0, 0],
            ),
        )
        .card("[[faults]]\nins = \"AE\"\naction = \"cid\"\ncid = \"09\"\n"),
        // A TC where the terminal asked for an AAC: more than requested.
        case(
            "TC when an AAC was requested",
            expect(Terminated(Termination::CryptogramType), [0x02, 0x10, 0, 0, 0]).genac1(AAC),
        )
        .card("[app.main.records.\"2.1\"]\n\"9F07\" = \"C300\"\n[[faults]]\nins = \"AE\"\naction = \"cid\"\ncid = \"40\"\n"),
        // Cryptogram type 11 is RFU.
        case(
            "RFU cryptogram type",
            expect(Terminated(Termination::CryptogramType), [0x02, 0, 0, 0, 0]),
        )
        .card("[[faults]]\nins = \"AE\"\naction = \"cid\"\ncid = \"C0\"\n"),
    ]);
    let c = case("advice", expect(ApprovedOffline, [0; 5]))
        .card("[[faults]]\nins = \"AE\"\naction = \"cid\"\ncid = \"4A\"\n");
    let r = execute(&c).unwrap();
    assert_eq!(r.advice, Some(0x4A));
    assert!(
        r.trail
            .iter()
            .any(|t| t.contains("advice required") && t.contains("PIN Try Limit exceeded")),
        "{:#?}",
        r.trail
    );
}

/// The host of [`a_failing_command_ends_its_script_only`]: script 1 holds a
/// command with a corrupted MAC followed by a PIN UNBLOCK, script 2 an
/// APPLICATION UNBLOCK, both before the final GENERATE AC.
struct TwoScripts(IssuerHost);

impl Host for TwoScripts {
    fn authorise(&mut self, request: &[u8]) -> HostAnswer {
        use emv_kernel::wire::tlv::{Mode, TlvIter};
        let r = self.0.authorise(request).unwrap();
        // The host made three one-command scripts (ids 1, 2, 3): take the
        // 86 command of each.
        let commands: Vec<Vec<u8>> = r
            .scripts
            .iter()
            .map(|template| {
                let t = TlvIter::new(template, Mode::Strict)
                    .next()
                    .unwrap()
                    .unwrap();
                let cmd = TlvIter::new(t.value(), Mode::Strict)
                    .map(Result::unwrap)
                    .find(|c| c.tag().raw() == 0x86)
                    .unwrap();
                cmd.value().to_vec()
            })
            .collect();
        let mut bad = commands[0].clone();
        *bad.last_mut().unwrap() ^= 0x01;
        let tlv = |tag: &[u8], value: &[u8]| {
            let mut v = tag.to_vec();
            v.push(u8::try_from(value.len()).unwrap());
            v.extend_from_slice(value);
            v
        };
        let script1 = [
            tlv(&[0x9F, 0x18], &[0, 0, 0, 1]),
            tlv(&[0x86], &bad),
            tlv(&[0x86], &commands[1]),
        ]
        .concat();
        let script2 = [
            tlv(&[0x9F, 0x18], &[0, 0, 0, 3]),
            tlv(&[0x86], &commands[2]),
        ]
        .concat();
        HostAnswer::Response {
            arc: r.arc,
            issuer_authentication_data: r.issuer_authentication_data,
            scripts: [tlv(&[0x71], &script1), tlv(&[0x71], &script2)].concat(),
        }
    }
}

/// Book 3 §10.10: a command that fails ends its script (the PIN UNBLOCK
/// after it is never sent), processing goes on with the next script, and
/// the Issuer Script Results hold one 5-byte entry per script: `11` (failed
/// at command 1) ‖ id 1, then `20` (successful) ‖ id 3.
#[test]
fn a_failing_command_ends_its_script_only() {
    let config = TerminalConfig::builtin_default().unwrap();
    let loaded = load_str(
        "card.toml",
        "extends = \"baseline\"\nname = \"two-scripts\"\n",
        None,
    )
    .unwrap();
    let mut ch = SimChannel::new(EmvCard::build(&loaded).unwrap());
    let mut host = IssuerHost::from_profile(&loaded).unwrap();
    for header in [[0x84, 0x18, 0, 0], [0x84, 0x24, 0, 0], [0x84, 0x18, 0, 0]] {
        host.scripts.push(ScriptCommand {
            template: 0x71,
            header,
            data: Vec::new(),
        });
    }
    let input = TransactionInput {
        amount: 10_000,
        amount_other: 0,
        transaction_type: 0,
        date: [0x26, 0x11, 0x28],
        time: [0x12, 0x00, 0x00],
        unpredictable_number: [0x11, 0x22, 0x33, 0x44],
        random_number: 99,
        sequence_counter: 1,
    };
    let report = run(
        &config,
        input,
        &mut ch,
        &mut Person {
            pin: Pin::Enter("1234"),
            choice: 0,
        },
        &mut TwoScripts(host),
    )
    .unwrap();
    let scripts: Vec<String> = report
        .apdus
        .iter()
        .filter(|(c, _)| c.first() == Some(&0x84))
        .map(|(c, r)| {
            format!(
                "{}:{}",
                hex::encode_upper(&c[..2]),
                hex::encode_upper(&r[r.len() - 2..])
            )
        })
        .collect();
    assert_eq!(scripts, ["8418:6988", "8418:9000"], "script commands sent");
    let results = report
        .data
        .iter()
        .find(|(t, _)| t.raw() == 0x9F5B)
        .map(|(_, v)| hex::encode_upper(v));
    assert_eq!(results.as_deref(), Some("11000000012000000003"));
    assert_eq!(
        report.tvr[4], 0x20,
        "script failed before the final GENERATE AC"
    );
    assert_eq!(report.outcome, Outcome::OnlineApproved);
}
