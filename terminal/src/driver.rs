//! A blocking driver: runs one contact transaction of the kernel
//! ([`emv_kernel::contact::machine::Transaction`]) over any
//! [`CardChannel`], with the terminal's configuration, a cardholder
//! interface and an online host, and records the APDU trace.
//!
//! It also plays the terminal transport layer of EMV Book 1 §11.1.3 for
//! transports that pass T=0 procedure status words through (PC/SC does):
//! `61xx` → GET RESPONSE with Le `xx`, `6Cxx` → the same command again with
//! Le `xx`.

use emv_hal::channel::CardChannel;
use emv_kernel::Tag;
use emv_kernel::contact::cvm::CvmOptions;
use emv_kernel::contact::machine::{
    AidParams, Event, ExceptionEntry, OnlineResponse, Outcome, PinEntry, PinKind, TerminalParams,
    Transaction, TransactionInput,
};
use emv_kernel::contact::taa::ActionCodes;
use emv_kernel::contact::trail::Phase;
use emv_kernel::contact::trm::RandomSelection;
use emv_kernel::crypto::SoftwareCrypto;
use emv_kernel::selection::candidate::Candidate;
use emv_kernel::selection::{Options, TerminalAid};

use crate::config::TerminalConfig;

/// The cardholder's side of the terminal: display and PIN pad.
pub trait Cardholder {
    /// Pick one of `candidates` (index).
    fn choose(&mut self, candidates: &[Candidate]) -> usize;
    /// Confirm `candidate`.
    fn confirm(&mut self, candidate: &Candidate) -> bool;
    /// Enter a PIN.
    fn pin(&mut self, kind: PinKind, tries_left: Option<u8>) -> PinEntry;
}

/// The issuer's answer as the driver hands it to the kernel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostAnswer {
    /// An authorisation response.
    Response {
        /// Authorisation Response Code.
        arc: [u8; 2],
        /// Issuer Authentication Data (`91`), empty if none.
        issuer_authentication_data: Vec<u8>,
        /// Issuer script templates, concatenated.
        scripts: Vec<u8>,
    },
    /// No answer: unable to go online.
    Unable,
}

/// The online host.
pub trait Host {
    /// Authorise the request (TLV data objects).
    fn authorise(&mut self, request: &[u8]) -> HostAnswer;
}

/// What happened, for reports.
#[derive(Clone, Debug)]
pub struct Report {
    /// The outcome.
    pub outcome: Outcome,
    /// The selected AID.
    pub aid: Vec<u8>,
    /// Final TVR.
    pub tvr: [u8; 5],
    /// Final TSI.
    pub tsi: [u8; 2],
    /// CVM Results.
    pub cvm_results: [u8; 3],
    /// CID of the last GENERATE AC.
    pub cid: Option<u8>,
    /// The CID of a cryptogram that asked for an advice (b4), if any
    /// (Book 3 §10.8).
    pub advice: Option<u8>,
    /// The last application cryptogram.
    pub cryptogram: Option<Vec<u8>>,
    /// The authorisation request sent online, if any.
    pub authorisation_request: Option<Vec<u8>>,
    /// Every exchange: command and response.
    pub apdus: Vec<(Vec<u8>, Vec<u8>)>,
    /// The transaction phase of each entry of `apdus` (same length).
    pub phases: Vec<Phase>,
    /// The decision trail, one line per entry.
    pub trail: Vec<String>,
    /// Every data object of the transaction, for traces.
    pub data: Vec<(Tag, Vec<u8>)>,
}

/// Why the driver stopped without an outcome.
#[derive(Debug, thiserror::Error)]
pub enum DriverError<E: core::fmt::Debug> {
    /// The transport failed.
    #[error("card transport: {0:?}")]
    Transport(E),
    /// The kernel was misused (a bug in the driver).
    #[error("kernel API misuse: {0:?}")]
    Kernel(emv_kernel::contact::machine::MachineError),
    /// The transaction did not end within the step budget.
    #[error("transaction did not end")]
    Stuck,
}

/// Owned terminal parameters built from a configuration.
struct OwnedParams {
    data: Vec<(Tag, Vec<u8>)>,
    aids: Vec<Vec<u8>>,
    partial: Vec<bool>,
    aid_params: Vec<(AidOwned, Option<RandomSelection>)>,
}

struct AidOwned {
    version: [u8; 2],
    floor_limit: u64,
    tac: ActionCodes,
    ddol: Vec<u8>,
    tdol: Vec<u8>,
    velocity: bool,
}

fn owned(config: &TerminalConfig) -> OwnedParams {
    OwnedParams {
        data: config.terminal.data_elements(),
        aids: config.aids.iter().map(|a| a.aid.clone()).collect(),
        partial: config.aids.iter().map(|a| a.partial_selection).collect(),
        aid_params: config
            .aids
            .iter()
            .map(|a| {
                (
                    AidOwned {
                        version: a.application_version,
                        floor_limit: u64::from(a.floor_limit),
                        tac: ActionCodes {
                            denial: a.tac_denial,
                            online: a.tac_online,
                            default: a.tac_default,
                        },
                        ddol: a.default_ddol.clone().unwrap_or_default(),
                        tdol: a.default_tdol.clone().unwrap_or_default(),
                        velocity: a.velocity_checking,
                    },
                    a.random_selection.map(|r| RandomSelection {
                        threshold: u64::from(r.threshold),
                        target_percent: r.target_percent,
                        max_target_percent: r.max_target_percent,
                    }),
                )
            })
            .collect(),
    }
}

/// Exchanges one command, handling `61xx` and `6Cxx` (Book 1 §11.1.3).
fn exchange<C: CardChannel>(
    channel: &mut C,
    command: &[u8],
    log: &mut Vec<(Vec<u8>, Vec<u8>)>,
) -> Result<Vec<u8>, DriverError<C::Error>> {
    let mut cmd = command.to_vec();
    let mut collected = Vec::new();
    for _ in 0..16 {
        let mut buf = [0u8; 258];
        let n = channel
            .exchange(&cmd, &mut buf)
            .map_err(DriverError::Transport)?;
        let resp = buf.get(..n).unwrap_or_default().to_vec();
        log.push((cmd.clone(), resp.clone()));
        match resp.as_slice() {
            [data @ .., 0x61, xx] => {
                collected.extend_from_slice(data);
                cmd = vec![0x00, 0xC0, 0x00, 0x00, *xx];
            }
            [.., 0x6C, xx] => {
                // Resend with Le = xx: replace the Le of a case 2/4
                // command, append one to a case 1/3 command.
                let has_le = emv_kernel::wire::apdu::CommandApdu::parse(&cmd)
                    .is_ok_and(|(c, _)| c.le.is_some());
                if has_le {
                    if let Some(le) = cmd.last_mut() {
                        *le = *xx;
                    }
                } else {
                    cmd.push(*xx);
                }
            }
            _ => {
                collected.extend_from_slice(&resp);
                return Ok(collected);
            }
        }
    }
    Ok(vec![0x6F, 0x00])
}

/// Calls `f` with the kernel's [`TerminalParams`] for `config`: terminal
/// data, the AID list and per-AID parameters, the exception file. The
/// parameters borrow storage that lives only for the call.
pub fn with_params<R>(config: &TerminalConfig, f: impl FnOnce(TerminalParams<'_>) -> R) -> R {
    let o = owned(config);
    let data: Vec<(Tag, &[u8])> = o.data.iter().map(|(t, v)| (*t, v.as_slice())).collect();
    let aids: Vec<TerminalAid<'_>> = o
        .aids
        .iter()
        .zip(&o.partial)
        .map(|(aid, partial)| TerminalAid {
            aid,
            partial_selection: *partial,
        })
        .collect();
    let aid_params: Vec<AidParams<'_>> = o
        .aid_params
        .iter()
        .map(|(a, random)| AidParams {
            application_version: Some(a.version),
            floor_limit: a.floor_limit,
            tac: a.tac,
            random_selection: *random,
            default_ddol: &a.ddol,
            default_tdol: &a.tdol,
            velocity_checking: a.velocity,
        })
        .collect();
    // The exception file's PANs in the card's `5A` encoding (cn, padded
    // with F), with the PSN an entry is limited to.
    let exception: Vec<(Vec<u8>, Option<u8>)> = config
        .exception_file
        .entries
        .iter()
        .filter_map(|e| {
            let mut digits = e.pan.digits().to_string();
            if digits.len() % 2 == 1 {
                digits.push('F');
            }
            hex::decode(digits).ok().map(|pan| (pan, e.psn))
        })
        .collect();
    let exception_refs: Vec<ExceptionEntry<'_>> = exception
        .iter()
        .map(|(pan, psn)| ExceptionEntry { pan, psn: *psn })
        .collect();
    let params = TerminalParams {
        terminal_type: config.terminal.terminal_type,
        capabilities: config.terminal.capabilities,
        additional_capabilities: config.terminal.additional_capabilities,
        country_code: config.terminal.country_code,
        currency_code: config.terminal.currency_code,
        data: &data,
        aids: &aids,
        aid_params: &aid_params,
        selection: Options::default(),
        cvm: CvmOptions::DEFAULT,
        exception_file: &exception_refs,
    };
    f(params)
}

/// Runs one transaction to its outcome.
pub fn run<C: CardChannel>(
    config: &TerminalConfig,
    input: TransactionInput,
    channel: &mut C,
    cardholder: &mut impl Cardholder,
    host: &mut impl Host,
) -> Result<Report, DriverError<C::Error>> {
    with_params(config, |params| {
        drive(params, config, input, channel, cardholder, host)
    })
}

/// [`run`] with prepared parameters.
fn drive<C: CardChannel>(
    params: TerminalParams<'_>,
    config: &TerminalConfig,
    input: TransactionInput,
    channel: &mut C,
    cardholder: &mut impl Cardholder,
    host: &mut impl Host,
) -> Result<Report, DriverError<C::Error>> {
    let crypto = SoftwareCrypto;
    // In place (no second transaction on the stack while it is built).
    let mut slot = core::mem::MaybeUninit::uninit();
    let t = Transaction::init(&mut slot, params, input, &crypto, config);
    let mut apdus = Vec::new();
    let mut phases = Vec::new();
    let mut request = None;
    let mut cmd = [0u8; 261];
    for _ in 0..500 {
        while let Some(event) = t.poll_event() {
            match event {
                Event::ChooseApplication => {
                    let i = cardholder.choose(t.candidates());
                    t.choose(i).map_err(DriverError::Kernel)?;
                }
                Event::ConfirmApplication { index } => {
                    let ok = t
                        .candidates()
                        .get(index)
                        .is_some_and(|c| cardholder.confirm(c));
                    t.confirm(ok).map_err(DriverError::Kernel)?;
                }
                Event::TryAgain => {}
                Event::NeedPin { kind, tries_left } => {
                    let entry = cardholder.pin(kind, tries_left);
                    t.handle_pin(entry).map_err(DriverError::Kernel)?;
                }
                Event::GoOnline => {
                    let mut buf = [0u8; 512];
                    let n = t
                        .authorisation_request(&mut buf)
                        .map_err(DriverError::Kernel)?;
                    let req = buf.get(..n).unwrap_or_default().to_vec();
                    let answer = host.authorise(&req);
                    request = Some(req);
                    match &answer {
                        HostAnswer::Unable => t.handle_online(OnlineResponse::Unable),
                        HostAnswer::Response {
                            arc,
                            issuer_authentication_data,
                            scripts,
                        } => t.handle_online(OnlineResponse::Response {
                            arc: *arc,
                            issuer_authentication_data,
                            scripts,
                        }),
                    }
                    .map_err(DriverError::Kernel)?;
                }
                Event::Outcome(outcome) => {
                    let s = t.store();
                    let get = |tag: u32| s.get(Tag::new(tag)).map(<[u8]>::to_vec);
                    return Ok(Report {
                        outcome,
                        aid: get(0x84).unwrap_or_default(),
                        tvr: t.tvr().to_bytes(),
                        tsi: t.tsi().to_bytes(),
                        cvm_results: t.cvm_results().to_bytes(),
                        cid: get(0x9F27).and_then(|v| v.first().copied()),
                        advice: t.advice().map(|c| c.0),
                        cryptogram: get(0x9F26),
                        authorisation_request: request,
                        apdus,
                        phases,
                        trail: t.trail().iter().map(|e| e.to_string()).collect(),
                        data: s.iter().map(|(t, v, _)| (t, v.to_vec())).collect(),
                    });
                }
            }
        }
        let Some(n) = t.poll_transmit(&mut cmd).map_err(DriverError::Kernel)? else {
            continue;
        };
        let response = exchange(channel, cmd.get(..n).unwrap_or_default(), &mut apdus)?;
        phases.resize(apdus.len(), t.phase());
        t.handle_response(&response).map_err(DriverError::Kernel)?;
    }
    Err(DriverError::Stuck)
}
