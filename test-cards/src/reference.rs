//! The reference full contact transaction that the kernel bench
//! (`benches/kernel_transaction.rs`), the firmware recording
//! (`examples/fw_trace.rs`) and the in-place construction test
//! (`tests/kernel_in_place.rs`) share: profile `mc-cda` with offline
//! enciphered PIN first (CDA under the project's 1984-bit test CA, RID
//! `F000000999` index `01`), amount 250.00, PIN 1234, online approval by the
//! issuer host simulator, two GENERATE ACs.
//!
//! [`record`] runs it once against the card engine through the blocking
//! driver; [`drive`] then feeds the recorded responses to a bare kernel
//! [`Transaction`], the way firmware runs it.

use emv_kernel::contact::machine::{
    Event, OnlineResponse, Outcome, PinEntry, PinKind, Transaction, TransactionInput,
};
use emv_kernel::crypto::CryptoProvider;
use emv_kernel::oda::CapkStore;
use emv_kernel::selection::candidate::Candidate;
use emv_terminal::config::TerminalConfig;
use emv_terminal::driver::{Cardholder, Host, HostAnswer, Report, run};

use crate::card::SimChannel;
use crate::engine::EmvCard;
use crate::host::IssuerHost;
use crate::profile::load::load_str;

/// `mc-cda` (CDA, CA index `01`: 1984 bits) with offline enciphered PIN
/// first in its CVM list.
pub const PROFILE: &str = r#"
extends = "mc-cda"
name = "reference"
[app.main.records."2.1"]
"8E" = "000000000000000044031F03"
"#;

/// The PIN the cardholder enters.
pub const PIN: [u8; 4] = [1, 2, 3, 4];

/// The transaction inputs: a 250.00 purchase on 2026-11-28 12:00:00 with
/// this unpredictable number, random number 50.
#[must_use]
pub const fn input(unpredictable_number: [u8; 4]) -> TransactionInput {
    TransactionInput {
        amount: 25_000,
        amount_other: 0,
        transaction_type: 0,
        date: [0x26, 0x11, 0x28],
        time: [0x12, 0, 0],
        unpredictable_number,
        random_number: 50,
        sequence_counter: 1,
    }
}

/// The cardholder's PIN entry: [`PIN`].
#[must_use]
pub fn pin_entry() -> PinEntry {
    let mut digits = [0u8; 12];
    for (d, p) in digits.iter_mut().zip(PIN) {
        *d = p;
    }
    PinEntry::Digits {
        digits,
        len: PIN.len() as u8,
    }
}

/// A cardholder who takes the first application, confirms it and enters
/// [`PIN`].
#[derive(Debug, Clone, Copy, Default)]
pub struct EntersPin;

impl Cardholder for EntersPin {
    fn choose(&mut self, _: &[Candidate]) -> usize {
        0
    }
    fn confirm(&mut self, _: &Candidate) -> bool {
        true
    }
    fn pin(&mut self, _: PinKind, _: Option<u8>) -> PinEntry {
        pin_entry()
    }
}

/// The issuer host simulator, keeping its answer.
struct RecordingHost(IssuerHost, Option<HostAnswer>);

impl Host for RecordingHost {
    fn authorise(&mut self, request: &[u8]) -> HostAnswer {
        let answer = match self.0.authorise(request) {
            Ok(r) => HostAnswer::Response {
                arc: r.arc,
                issuer_authentication_data: r.issuer_authentication_data,
                scripts: r.scripts.concat(),
            },
            Err(_) => HostAnswer::Unable,
        };
        self.1 = Some(answer.clone());
        answer
    }
}

/// One recorded run of the reference transaction.
#[derive(Debug, Clone)]
pub struct Recording {
    /// The driver's report: every exchange, outcome, TVR, data.
    pub report: Report,
    /// What the issuer host answered.
    pub answer: HostAnswer,
}

/// Runs the reference transaction with `input` against a fresh card engine
/// and the issuer host, and checks that it is what the reference promises:
/// online approved, offline enciphered PIN, CDA verified, two GENERATE ACs.
///
/// # Errors
/// What went wrong, in words.
pub fn record(config: &TerminalConfig, input: TransactionInput) -> Result<Recording, String> {
    let loaded = load_str("reference.toml", PROFILE, None).map_err(|e| e.to_string())?;
    let mut ch = SimChannel::new(EmvCard::build(&loaded).map_err(|e| e.to_string())?);
    let host = IssuerHost::from_profile(&loaded).map_err(|e| e.to_string())?;
    let mut host = RecordingHost(host, None);
    let report =
        run(config, input, &mut ch, &mut EntersPin, &mut host).map_err(|e| e.to_string())?;
    let genacs = report
        .apdus
        .iter()
        .filter(|(c, _)| c.get(1) == Some(&0xAE))
        .count();
    if report.outcome != Outcome::OnlineApproved
        || report.cvm_results.first().map(|b| b & 0x3F) != Some(0x04)
        || report.tvr.first().is_some_and(|b| b & 0x04 != 0)
        || genacs != 2
    {
        return Err(format!(
            "not the reference transaction: {:?}, CVM Results {}, TVR {}, {genacs} GENERATE AC; trail {:#?}",
            report.outcome,
            hex::encode_upper(report.cvm_results),
            hex::encode_upper(report.tvr),
            report.trail
        ));
    }
    let answer = host.1.ok_or("the transaction did not go online")?;
    Ok(Recording { report, answer })
}

/// Drives the bare kernel `t` to its outcome over `exchanges` (command,
/// response; in order) with the host `answer`, as firmware does: events
/// answered, commands sent, responses fed. A command that differs from the
/// recorded one gets `6D00` (instruction not supported), so leaving the
/// recording shows in the outcome. `on_command` sees every command sent;
/// the authorisation request is written into `request`.
///
/// Returns the outcome and the length of the authorisation request.
///
/// # Errors
/// The kernel refused a call, the recording ran out, or no outcome after
/// 200 commands.
pub fn drive<P: CryptoProvider, S: CapkStore>(
    t: &mut Transaction<'_, P, S>,
    exchanges: &[(Vec<u8>, Vec<u8>)],
    answer: &HostAnswer,
    request: &mut [u8],
    mut on_command: impl FnMut(&[u8]),
) -> Result<(Outcome, usize), String> {
    let err = |e: emv_kernel::contact::machine::MachineError| format!("{e:?}");
    let mut cmd = [0u8; 261];
    let mut request_len = 0;
    let mut next = exchanges.iter();
    for _ in 0..200 {
        while let Some(event) = t.poll_event() {
            match event {
                Event::ChooseApplication => t.choose(0).map_err(err)?,
                Event::ConfirmApplication { .. } => t.confirm(true).map_err(err)?,
                Event::TryAgain => {}
                Event::NeedPin { .. } => t.handle_pin(pin_entry()).map_err(err)?,
                Event::GoOnline => {
                    request_len = t.authorisation_request(request).map_err(err)?;
                    let response = match answer {
                        HostAnswer::Response {
                            arc,
                            issuer_authentication_data,
                            scripts,
                        } => OnlineResponse::Response {
                            arc: *arc,
                            issuer_authentication_data,
                            scripts,
                        },
                        HostAnswer::Unable => OnlineResponse::Unable,
                    };
                    t.handle_online(response).map_err(err)?;
                }
                Event::Outcome(outcome) => return Ok((outcome, request_len)),
            }
        }
        if let Some(n) = t.poll_transmit(&mut cmd).map_err(err)? {
            let sent = cmd.get(..n).unwrap_or_default();
            on_command(sent);
            let (c, r) = next.next().ok_or("the kernel sent more commands")?;
            if c.as_slice() == sent {
                t.handle_response(r).map_err(err)?;
            } else {
                t.handle_response(&[0x6D, 0x00]).map_err(err)?;
            }
        }
    }
    Err("no outcome after 200 commands".into())
}
