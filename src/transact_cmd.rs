//! `emv transact`: one contact transaction of the kernel against a
//! simulated card (built-in profile or file), with the built-in or a given
//! terminal configuration and the issuer host simulator.
//!
//! Exit codes: 0 approved (offline or online), 3 declined, 4 not accepted,
//! card blocked or terminated, 2 bad arguments or files.

use std::fmt::Write as _;

use emv_kernel::Tag;
use emv_kernel::contact::machine::{Outcome, TransactionInput};
use emv_kernel::data::cid::Cid;
use emv_kernel::data::explain::explain;
use emv_kernel::wire::apdu::CommandApdu;
use emv_kernel::wire::apdu::ResponseApdu;
use emv_kernel::wire::tlv::Mode;
use emv_terminal::config::TerminalConfig;
use emv_terminal::driver::{DriverError, Host, HostAnswer, Report, run};
use emv_terminal::trace_mask::traceable_command;
use emv_test_cards::card::{SimChannel, SimError};
use emv_test_cards::engine::EmvCard;
use emv_test_cards::host::{IssuerHost, Policy};
use emv_test_cards::profile::load::{Loaded, load};
use emv_test_cards::replay::ReplayCard;
use emv_test_cards::terminal_side::{ScriptedCardholder, SimulatedIssuer};
use emv_test_cards::trace::Trace;
use serde_json::json;

use crate::decode::rapdu;

/// How the online host behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum OnlineMode {
    /// The issuer host verifies the ARQC and approves a valid one (with a
    /// PC/SC reader: approves without checking it, no ARPC).
    Approve,
    /// The issuer host declines (after verifying the ARQC, except with a
    /// PC/SC reader).
    Decline,
    /// No host: unable to go online.
    Unable,
    /// Same as approve: the issuer host simulator decides.
    Issuer,
}

/// Transaction type names (tag 9C).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum TxType {
    /// Goods and services (00).
    Purchase,
    /// Cash (01).
    Cash,
    /// Purchase with cashback (09).
    Cashback,
    /// Refund (20).
    Refund,
}

/// Arguments of `emv transact`.
#[derive(Debug, Clone)]
pub struct Args {
    /// Card profile (built-in name or file).
    pub card: String,
    /// A recorded trace to replay instead of a simulated card.
    pub replay: Option<String>,
    /// A PC/SC reader to run the transaction through (the card in it is
    /// real, or a simulated one served by `emv card serve`); `card` then
    /// names the profile whose issuer keys the issuer host uses.
    pub reader: Option<String>,
    /// Amount in minor units.
    pub amount: u64,
    /// Other amount in minor units.
    pub other: u64,
    /// Type.
    pub tx_type: TxType,
    /// Terminal configuration file, or the built-in default.
    pub config: Option<String>,
    /// PIN digits, or `None` for bypass.
    pub pin: Option<String>,
    /// Online host behaviour.
    pub online: OnlineMode,
    /// Unpredictable number.
    pub un: [u8; 4],
    /// Date YYMMDD BCD.
    pub date: [u8; 3],
    /// Time HHMMSS BCD.
    pub time: [u8; 3],
    /// JSON output.
    pub json: bool,
    /// The candidate the cardholder picks (0-based), when the kernel asks.
    pub choose: usize,
    /// Random number for random transaction selection, 1–99.
    pub random: u8,
    /// Do not mask the PAN.
    pub show_pan: bool,
}

/// Parses "12.34" (or "12") into minor units with two decimals.
pub fn parse_amount(text: &str) -> Result<u64, String> {
    let (units, cents) = text.split_once('.').unwrap_or((text, ""));
    if units.is_empty()
        || !units.bytes().all(|b| b.is_ascii_digit())
        || cents.len() > 2
        || !cents.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(format!(
            "amount {text:?}: expected digits with up to two decimals, e.g. 10.00"
        ));
    }
    let cents = format!("{cents:0<2}");
    let value: u64 = format!("{units}{cents}")
        .parse()
        .map_err(|_| format!("amount {text:?} is too large"))?;
    if value > 999_999_999_999 {
        return Err(format!("amount {text:?} does not fit 12 digits"));
    }
    Ok(value)
}

/// The host for a replayed trace: it cannot verify the card's cryptogram
/// (no issuer keys), so it answers as `--online` says, with the Issuer
/// Authentication Data the trace's EXTERNAL AUTHENTICATE carried, if any.
struct RecordedIssuer {
    mode: OnlineMode,
    issuer_authentication_data: Vec<u8>,
}

impl RecordedIssuer {
    fn new(trace: &Trace, mode: OnlineMode) -> Self {
        let issuer_authentication_data = trace
            .exchanges
            .iter()
            .find(|e| e.command.get(1) == Some(&0x82))
            .and_then(|e| CommandApdu::parse(&e.command).ok())
            .map(|(c, _)| c.data.to_vec())
            .unwrap_or_default();
        Self {
            mode,
            issuer_authentication_data,
        }
    }
}

impl Host for RecordedIssuer {
    fn authorise(&mut self, _: &[u8]) -> HostAnswer {
        match self.mode {
            OnlineMode::Unable => HostAnswer::Unable,
            OnlineMode::Decline => HostAnswer::Response {
                arc: *b"05",
                issuer_authentication_data: Vec::new(),
                scripts: Vec::new(),
            },
            OnlineMode::Approve | OnlineMode::Issuer => HostAnswer::Response {
                arc: *b"00",
                issuer_authentication_data: self.issuer_authentication_data.clone(),
                scripts: Vec::new(),
            },
        }
    }
}

/// The issuer host simulator with the issuer keys of `loaded`, answering
/// as `online` says (`Unable`: no host).
fn issuer_for(loaded: &Loaded, online: OnlineMode) -> Result<SimulatedIssuer, String> {
    let mut host = IssuerHost::from_profile(loaded).map_err(|e| e.to_string())?;
    host.policy = if online == OnlineMode::Decline {
        Policy::Decline
    } else {
        Policy::Approve
    };
    Ok(SimulatedIssuer(
        (online != OnlineMode::Unable).then_some(host),
    ))
}

/// Runs the transaction with the card in PC/SC reader `name` (shared
/// access, T=0 or T=1 as the card offers): a cold reset first, with the
/// EMV ATR rules applied (one warm reset if the ATR is rejected; Book 1
/// §8), then the kernel; the driver handles `61xx`/`6Cxx` above the reader.
#[cfg(feature = "pcsc")]
fn through_reader(
    name: &str,
    config: &TerminalConfig,
    input: TransactionInput,
    person: &mut ScriptedCardholder<'_>,
    issuer: &mut impl Host,
) -> Result<Report, String> {
    use emv_readers::pcsc::{ConnectOptions, PcscReaders};
    let mut readers = PcscReaders::establish().map_err(|e| e.to_string())?;
    let mut card = readers
        .connect(name, ConnectOptions::default())
        .map_err(|e| e.to_string())?;
    emv_hal::slot::ContactSlot::power_up(&mut card).map_err(|e| e.to_string())?;
    let report = run(config, input, &mut card, person, issuer).map_err(|e| e.to_string());
    // Leave the card powered for the next application, as a terminal does
    // after a completed transaction; a failed disconnect changes nothing.
    let _ = card.disconnect(emv_readers::pcsc::Disposition::LeaveCard);
    report
}

/// Without the `pcsc` feature: an error saying how to rebuild.
#[cfg(not(feature = "pcsc"))]
fn through_reader(
    _name: &str,
    _config: &TerminalConfig,
    _input: TransactionInput,
    _person: &mut ScriptedCardholder<'_>,
    _issuer: &mut impl Host,
) -> Result<Report, String> {
    Err(
        "--reader: this emv binary was built without PC/SC support: rebuild with \
         `cargo build --release --features pcsc` (needs libpcsclite-dev and pkg-config)"
            .to_owned(),
    )
}

fn outcome_name(o: Outcome) -> &'static str {
    match o {
        Outcome::ApprovedOffline | Outcome::ApprovedUnableOnline => "approved",
        Outcome::DeclinedOffline | Outcome::DeclinedUnableOnline => "declined",
        Outcome::OnlineApproved => "online_approved",
        Outcome::OnlineDeclined => "online_declined",
        Outcome::NotAccepted | Outcome::CardBlocked => "not_accepted",
        Outcome::Terminated(_) => "terminated",
    }
}

/// The exit code for an outcome (see the module documentation).
pub fn exit_code(o: Outcome) -> u8 {
    match outcome_name(o) {
        "approved" | "online_approved" => 0,
        "declined" | "online_declined" => 3,
        _ => 4,
    }
}

/// Masks the PAN (and its appearance in Track 2) in hex text: keeps the
/// first six and last four digits.
fn masker(report: &Report, show: bool) -> impl Fn(&str) -> String {
    let pan = report
        .data
        .iter()
        .find(|(t, _)| t.raw() == 0x5A)
        .map(|(_, v)| hex::encode_upper(v).trim_end_matches('F').to_string())
        .filter(|p| p.len() > 10 && !show);
    move |text: &str| match &pan {
        Some(p) => {
            let masked = format!(
                "{}{}{}",
                &p[..6],
                "*".repeat(p.len() - 10),
                &p[p.len() - 4..]
            );
            text.replace(p.as_str(), &masked)
        }
        None => text.to_string(),
    }
}

/// Runs the transaction; returns the text to print and the exit code.
pub fn transact(args: &Args) -> Result<(String, u8), String> {
    let config = match &args.config {
        Some(path) => TerminalConfig::load(path),
        None => TerminalConfig::builtin_default(),
    }
    .map_err(|e| e.to_string())?;
    let input = TransactionInput {
        amount: args.amount,
        amount_other: args.other,
        transaction_type: match args.tx_type {
            TxType::Purchase => 0x00,
            TxType::Cash => 0x01,
            TxType::Cashback => 0x09,
            TxType::Refund => 0x20,
        },
        date: args.date,
        time: args.time,
        unpredictable_number: args.un,
        random_number: args.random,
        sequence_counter: 1,
    };
    let mut person = ScriptedCardholder {
        pin: args.pin.as_deref(),
        choice: args.choose,
    };
    let fail = |e: DriverError<SimError>| e.to_string();
    let (report, title, unmatched) = match (&args.replay, &args.reader) {
        (Some(path), _) => {
            let trace = Trace::load(path).map_err(|e| e.to_string())?;
            let mut host = RecordedIssuer::new(&trace, args.online);
            let title = format!("replay of {path} ({} exchanges)", trace.exchanges.len());
            let mut channel = SimChannel::new(ReplayCard::new(trace));
            let report = run(&config, input, &mut channel, &mut person, &mut host).map_err(fail)?;
            (report, title, channel.card().unmatched().to_vec())
        }
        (None, Some(reader)) if args.online == OnlineMode::Issuer => {
            let loaded = load(&args.card).map_err(|e| e.to_string())?;
            let mut issuer = issuer_for(&loaded, args.online)?;
            let title = format!(
                "PC/SC reader {reader:?} (issuer host with the keys of profile {})",
                loaded.profile.name
            );
            let report = through_reader(reader, &config, input, &mut person, &mut issuer)?;
            (report, title, Vec::new())
        }
        (None, Some(reader)) => {
            // A real card's keys are unknown: the host answers without
            // checking the ARQC and without an ARPC.
            let mut host = RecordedIssuer {
                mode: args.online,
                issuer_authentication_data: Vec::new(),
            };
            let title = format!("PC/SC reader {reader:?} (host answers {:?})", args.online);
            let report = through_reader(reader, &config, input, &mut person, &mut host)?;
            (report, title, Vec::new())
        }
        (None, None) => {
            let loaded = load(&args.card).map_err(|e| e.to_string())?;
            let card = EmvCard::build(&loaded).map_err(|e| e.to_string())?;
            let mut issuer = issuer_for(&loaded, args.online)?;
            let title = format!("{} ({})", loaded.profile.name, loaded.profile.description);
            let mut channel = SimChannel::new(card);
            let report =
                run(&config, input, &mut channel, &mut person, &mut issuer).map_err(fail)?;
            (report, title, Vec::new())
        }
    };
    let mask = masker(&report, args.show_pan);
    let code = exit_code(report.outcome);
    let h = |b: &[u8]| hex::encode_upper(b);
    if args.json {
        let v = json!({
            "outcome": outcome_name(report.outcome),
            "aid": h(&report.aid),
            "tvr": h(&report.tvr),
            "tsi": h(&report.tsi),
            "cvm_results": h(&report.cvm_results),
            "cid": report.cid.map(|c| format!("{c:02X}")),
            "advice": report.advice.map(|c| Cid(c).reason().name()),
            "cryptogram": report.cryptogram.as_deref().map(h),
            "authorization_request": report.authorisation_request.as_deref().map(|r| mask(&h(r))),
            "apdus": report.apdus.iter().map(|(c, r)| json!({"c": mask(&h(&traceable_command(c))), "r": mask(&h(r))})).collect::<Vec<_>>(),
            "trail": report.trail,
        });
        return Ok((
            format!("{}\n", serde_json::to_string_pretty(&v).unwrap_or_default()),
            code,
        ));
    }
    let mut out = String::new();
    let _ = writeln!(out, "card: {title}");
    let _ = writeln!(
        out,
        "amount: {}.{:02}",
        args.amount / 100,
        args.amount % 100
    );
    let mut phase = None;
    for ((c, r), p) in report.apdus.iter().zip(&report.phases) {
        if phase != Some(*p) {
            phase = Some(*p);
            let _ = writeln!(out, "\n== {} (Book {} §{}) ==", p, p.book(), p.clause());
        }
        let name = emv_kernel::wire::apdu::ins::instruction_name(
            c.first().copied().unwrap_or(0),
            c.get(1).copied().unwrap_or(0),
        )
        .unwrap_or("?");
        let _ = writeln!(out, "> {:<32} {}", name, mask(&h(&traceable_command(c))));
        let _ = writeln!(out, "< {}", mask(&h(r)));
        match rapdu::decode(r, Mode::Lenient) {
            Ok(d) => {
                for line in rapdu::to_text(&d).lines() {
                    let _ = writeln!(out, "    {}", mask(line));
                }
            }
            Err(_) => {
                let sw = ResponseApdu::parse(r).map(|r| r.sw.to_string());
                let _ = writeln!(
                    out,
                    "    SW {} (data is not BER-TLV)",
                    sw.unwrap_or_default()
                );
            }
        }
    }
    let _ = writeln!(out);
    for (label, tag, bytes) in [
        ("TVR", 0x95u32, report.tvr.to_vec()),
        ("TSI", 0x9B, report.tsi.to_vec()),
        ("CVM Results", 0x9F34, report.cvm_results.to_vec()),
    ] {
        let _ = writeln!(out, "{label}: {}", h(&bytes));
        let mut lines = String::new();
        if explain(Tag::new(tag), &bytes, &mut lines).unwrap_or(false) {
            for l in lines.lines() {
                let _ = writeln!(out, "    - {l}");
            }
        }
    }
    if let Some(c) = report.cryptogram.as_deref() {
        let _ = writeln!(
            out,
            "cryptogram: {} (CID {:02X})",
            h(c),
            report.cid.unwrap_or(0)
        );
    }
    if let Some(c) = report.advice {
        let _ = writeln!(
            out,
            "advice required: {} (CID {c:02X})",
            Cid(c).reason().name()
        );
    }
    if !report.trail.is_empty() {
        let _ = writeln!(out, "decision trail:");
        for t in &report.trail {
            let _ = writeln!(out, "    {t}");
        }
    }
    if !unmatched.is_empty() {
        let _ = writeln!(
            out,
            "replay: {} command(s) had no recorded answer (the card answered 6D00):",
            unmatched.len()
        );
        for c in &unmatched {
            let _ = writeln!(out, "    {}", mask(&h(c)));
        }
    }
    let _ = writeln!(
        out,
        "outcome: {} ({:?})",
        outcome_name(report.outcome),
        report.outcome
    );
    Ok((out, code))
}
