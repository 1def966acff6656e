//! emv-kernel on a Cortex-M4F without an allocator: one full EMV contact
//! transaction (selection, records, CDA under a 1984-bit CA, offline
//! enciphered PIN, online approval, two GENERATE ACs) replayed from a
//! recording of the simulated card (`data/`, made by
//! `cargo run -p emv-test-cards --example fw_trace -- firmware/data`).
//!
//! The kernel does all of its work here (certificate recovery and CDA
//! verification with `SoftwareCrypto`, PIN encipherment, every decision
//! phase); only the card is a recording: each command the kernel sends must
//! equal the recorded one, and the recorded response is handed back.
//!
//! Prints the outcome, TVR, CVM Results, `size_of::<Transaction>()` and the
//! stack high-water mark (cortex-m-rt `paint-stack`), then exits through
//! semihosting:
//!
//! | status | meaning |
//! |---|---|
//! | 0 | OnlineApproved, and state + peak stack < 16 KiB |
//! | 1 | panic (panic-semihosting) |
//! | 2 | another outcome, or the kernel left the recording (command mismatch, API error) |
//! | 3 | OnlineApproved, but state + peak stack >= 16 KiB (over budget) |
//!
//! By default the `Transaction` lives in a `static` (`.bss`, via
//! `StaticCell`), built there in place by `Transaction::init`; with
//! `--features on-stack` it lives (again built in place) in `main`'s frame
//! and the high-water mark includes it.

#![no_std]
#![no_main]

use core::fmt;
use core::mem::size_of;

use cortex_m_rt::entry;
use cortex_m_semihosting::hprintln;
use emv_kernel::Tag;
use emv_kernel::contact::cvm::CvmOptions;
use emv_kernel::contact::machine::{
    AidParams, Event, ExceptionEntry, MachineError, OnlineResponse, Outcome, PinEntry, PinKind, TerminalParams,
    Transaction, TransactionInput,
};
use emv_kernel::contact::taa::ActionCodes;
use emv_kernel::contact::trm::RandomSelection;
use emv_kernel::crypto::SoftwareCrypto;
use emv_kernel::data::additional_terminal_capabilities::AdditionalTerminalCapabilities;
use emv_kernel::data::terminal_capabilities::TerminalCapabilities;
use emv_kernel::data::terminal_type::TerminalType;
use emv_kernel::oda::{Capk, StaticCapkStore, capk_checksum};
use emv_kernel::selection::{Options, TerminalAid};
use panic_semihosting as _; // panic => message on the host's stderr + exit status 1

/// Terminal parameters recorded from the builtin configuration
/// (`terminal/config/default.toml` via `emv_terminal::driver::with_params`).
#[allow(dead_code)]
mod terminal {
    include!("../data/terminal.rs");
}

/// The recorded exchanges: u16 BE command length, command, u16 BE response
/// length, response.
static EXCHANGES: &[u8] = include_bytes!("../data/exchanges.bin");
/// The issuer host's answer: ARC, u16 + IAD, u16 + scripts.
static HOST: &[u8] = include_bytes!("../data/host.bin");
/// The PIN: length, digits.
static PIN: &[u8] = include_bytes!("../data/pin.bin");
const INPUT_BIN: &[u8; 32] = include_bytes!("../data/input.bin");
static CAPK_BIN: &[u8] = include_bytes!("../data/capk.bin");

/// The whole budget: transaction state plus peak stack.
const BUDGET: usize = 16 * 1024;

// ---------------------------------------------------------------------------
// The kernel's parameters, built at compile time.

const fn be(b: &[u8], at: usize, n: usize) -> u64 {
    let mut v = 0u64;
    let mut i = 0;
    while i < n {
        v = (v << 8) | b[at + i] as u64;
        i += 1;
    }
    v
}

const fn parse_input(b: &[u8; 32]) -> TransactionInput {
    TransactionInput {
        amount: be(b, 0, 8),
        amount_other: be(b, 8, 8),
        transaction_type: b[16],
        date: [b[17], b[18], b[19]],
        time: [b[20], b[21], b[22]],
        unpredictable_number: [b[23], b[24], b[25], b[26]],
        random_number: b[27],
        sequence_counter: be(b, 28, 4) as u32,
    }
}

/// `capk.bin` (see data/README.md); the trailing check sum is checked at
/// run time before the key is used.
const fn parse_capk(b: &'static [u8]) -> (Capk<'static>, &'static [u8]) {
    let rid = [b[0], b[1], b[2], b[3], b[4]];
    let index = b[5];
    let mlen = be(b, 6, 2) as usize;
    let (_, rest) = b.split_at(8);
    let (modulus, rest) = rest.split_at(mlen);
    let elen = rest[0] as usize;
    let (_, rest) = rest.split_at(1);
    let (exponent, rest) = rest.split_at(elen);
    let year = be(rest, 0, 2) as u16;
    let month = rest[2];
    let (_, checksum) = rest.split_at(3);
    let expiry = if year == 0 { None } else { Some((year, month)) };
    (
        Capk {
            rid,
            index,
            modulus,
            exponent,
            expiry,
        },
        checksum,
    )
}

const fn tags<const N: usize>(d: [(u32, &'static [u8]); N]) -> [(Tag, &'static [u8]); N] {
    let mut out: [(Tag, &'static [u8]); N] = [(Tag::new(0), &[]); N];
    let mut i = 0;
    while i < N {
        out[i] = (Tag::new(d[i].0), d[i].1);
        i += 1;
    }
    out
}

const fn exception_file<const N: usize>(
    d: [(&'static [u8], Option<u8>); N],
) -> [ExceptionEntry<'static>; N] {
    let mut out = [ExceptionEntry { pan: &[], psn: None }; N];
    let mut i = 0;
    while i < N {
        out[i] = ExceptionEntry {
            pan: d[i].0,
            psn: d[i].1,
        };
        i += 1;
    }
    out
}

const fn aids<const N: usize>(d: [(&'static [u8], bool); N]) -> [TerminalAid<'static>; N] {
    let mut out = [TerminalAid {
        aid: &[],
        partial_selection: false,
    }; N];
    let mut i = 0;
    while i < N {
        out[i] = TerminalAid {
            aid: d[i].0,
            partial_selection: d[i].1,
        };
        i += 1;
    }
    out
}

type AidRow = (
    [u8; 2],
    u64,
    [u8; 5],
    [u8; 5],
    [u8; 5],
    Option<(u64, u8, u8)>,
    &'static [u8],
    &'static [u8],
    bool,
);

const fn aid_params<const N: usize>(d: [AidRow; N]) -> [AidParams<'static>; N] {
    let empty = AidParams {
        application_version: None,
        floor_limit: 0,
        tac: ActionCodes {
            denial: [0; 5],
            online: [0; 5],
            default: [0; 5],
        },
        random_selection: None,
        default_ddol: &[],
        default_tdol: &[],
        velocity_checking: false,
    };
    let mut out = [empty; N];
    let mut i = 0;
    while i < N {
        let r = d[i];
        out[i] = AidParams {
            application_version: Some(r.0),
            floor_limit: r.1,
            tac: ActionCodes {
                denial: r.2,
                online: r.3,
                default: r.4,
            },
            random_selection: match r.5 {
                Some((threshold, target_percent, max_target_percent)) => Some(RandomSelection {
                    threshold,
                    target_percent,
                    max_target_percent,
                }),
                None => None,
            },
            default_ddol: r.6,
            default_tdol: r.7,
            velocity_checking: r.8,
        };
        i += 1;
    }
    out
}

const TERMINAL_TYPE: TerminalType = match TerminalType::from_byte(terminal::TERMINAL_TYPE) {
    Ok(t) => t,
    Err(_) => panic!("invalid terminal type in data/terminal.rs"),
};

static DATA: [(Tag, &[u8]); terminal::DATA.len()] = tags(terminal::DATA);
static AIDS: [TerminalAid<'static>; terminal::AIDS.len()] = aids(terminal::AIDS);
static AID_PARAMS: [AidParams<'static>; terminal::AID_PARAMS.len()] =
    aid_params(terminal::AID_PARAMS);
static EXCEPTION_FILE: [ExceptionEntry<'static>; terminal::EXCEPTION_FILE.len()] =
    exception_file(terminal::EXCEPTION_FILE);

static PARAMS: TerminalParams<'static> = TerminalParams {
    terminal_type: TERMINAL_TYPE,
    capabilities: TerminalCapabilities(terminal::CAPABILITIES),
    additional_capabilities: AdditionalTerminalCapabilities(terminal::ADDITIONAL_CAPABILITIES),
    country_code: terminal::COUNTRY_CODE,
    currency_code: terminal::CURRENCY_CODE,
    data: &DATA,
    aids: &AIDS,
    aid_params: &AID_PARAMS,
    selection: Options {
        use_pse: terminal::SELECTION_USE_PSE,
        cardholder_selection: terminal::SELECTION_CARDHOLDER_SELECTION,
        cardholder_confirmation: terminal::SELECTION_CARDHOLDER_CONFIRMATION,
    },
    cvm: CvmOptions {
        subsequent_pin_bypass: terminal::CVM_SUBSEQUENT_PIN_BYPASS,
        fail_cvm_supported: terminal::CVM_FAIL_CVM_SUPPORTED,
    },
    exception_file: &EXCEPTION_FILE,
};

static INPUT: TransactionInput = parse_input(INPUT_BIN);
static CAPK: (Capk<'static>, &[u8]) = parse_capk(CAPK_BIN);
static CAPKS: [Capk<'static>; 1] = [CAPK.0];
static STORE: StaticCapkStore<'static> = StaticCapkStore {
    keys: &CAPKS,
    revoked: &[],
};
static CRYPTO: SoftwareCrypto = SoftwareCrypto;

type Tx = Transaction<'static, SoftwareCrypto, StaticCapkStore<'static>>;

// ---------------------------------------------------------------------------
// The recording.

/// The recorded exchanges, in order.
struct Recording {
    rest: &'static [u8],
    count: usize,
}

impl Recording {
    fn take<'a>(b: &mut &'a [u8]) -> Option<&'a [u8]> {
        let (len, rest) = b.split_at_checked(2)?;
        let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
        let (v, rest) = rest.split_at_checked(len)?;
        *b = rest;
        Some(v)
    }

    fn next(&mut self) -> Option<(&'static [u8], &'static [u8])> {
        let mut b = self.rest;
        let c = Self::take(&mut b)?;
        let r = Self::take(&mut b)?;
        self.rest = b;
        self.count += 1;
        Some((c, r))
    }
}

struct HostAnswer {
    arc: [u8; 2],
    iad: &'static [u8],
    scripts: &'static [u8],
}

fn host_answer() -> HostAnswer {
    let mut b = HOST.get(2..).unwrap_or(&[]);
    let iad = Recording::take(&mut b).unwrap_or(&[]);
    let scripts = Recording::take(&mut b).unwrap_or(&[]);
    HostAnswer {
        arc: [HOST[0], HOST[1]],
        iad,
        scripts,
    }
}

fn pin() -> PinEntry {
    let mut digits = [0u8; 12];
    let len = PIN[0];
    digits[..usize::from(len)].copy_from_slice(&PIN[1..=usize::from(len)]);
    PinEntry::Digits { digits, len }
}

#[derive(Debug)]
#[allow(dead_code)] // read through Debug only
enum Failure {
    /// The kernel's command number `n` (1-based) differs from the recording.
    CommandMismatch(usize),
    /// The kernel sent more commands than were recorded.
    RecordingExhausted,
    /// The outcome came with recorded exchanges left over.
    ExchangesLeft(usize),
    /// API misuse reported by the kernel.
    Kernel(MachineError),
    /// No outcome within the step budget.
    Stuck,
    /// A PIN of another kind than recorded.
    PinKind(PinKind),
}

impl From<MachineError> for Failure {
    fn from(e: MachineError) -> Self {
        Self::Kernel(e)
    }
}

struct Stats {
    exchanges: usize,
    request_len: usize,
    /// Stack high-water mark after each kernel call, and the call that
    /// first reached the final peak.
    peak: usize,
    peak_at: (&'static str, usize, u8),
}

impl Stats {
    /// After a kernel call: `what`, exchange number, INS of the last command.
    fn probe(&mut self, what: &'static str, exchange: usize, ins: u8) {
        let hw = stack_high_water();
        if hw > self.peak {
            self.peak = hw;
            self.peak_at = (what, exchange, ins);
        }
    }
}

/// The minimal terminal loop (as `emv_terminal::driver::drive` and the
/// bench's kernel-only loop): events first, then the next command.
#[inline(never)]
fn run(t: &mut Tx, stats: &mut Stats) -> Result<Outcome, Failure> {
    let mut rec = Recording {
        rest: EXCHANGES,
        count: 0,
    };
    let host = host_answer();
    let mut cmd = [0u8; 261];
    let mut request = [0u8; 512];
    let mut ins = 0u8;
    for _ in 0..1000 {
        loop {
            let event = t.poll_event();
            stats.probe("poll_event", rec.count, ins);
            let Some(event) = event else { break };
            match event {
                Event::ChooseApplication => t.choose(0)?,
                Event::ConfirmApplication { .. } => t.confirm(true)?,
                Event::TryAgain => {}
                Event::NeedPin { kind, .. } => {
                    if kind != PinKind::OfflineEnciphered {
                        return Err(Failure::PinKind(kind));
                    }
                    t.handle_pin(pin())?;
                    stats.probe("handle_pin", rec.count, ins);
                }
                Event::GoOnline => {
                    stats.request_len = t.authorisation_request(&mut request)?;
                    stats.probe("authorisation_request", rec.count, ins);
                    t.handle_online(OnlineResponse::Response {
                        arc: host.arc,
                        issuer_authentication_data: host.iad,
                        scripts: host.scripts,
                    })?;
                    stats.probe("handle_online", rec.count, ins);
                }
                Event::Outcome(outcome) => {
                    stats.exchanges = rec.count;
                    let mut left = 0;
                    while rec.next().is_some() {
                        left += 1;
                    }
                    if left > 0 {
                        return Err(Failure::ExchangesLeft(left));
                    }
                    return Ok(outcome);
                }
            }
        }
        let sent = t.poll_transmit(&mut cmd)?;
        stats.probe("poll_transmit", rec.count + 1, ins);
        if let Some(n) = sent {
            let (c, r) = rec.next().ok_or(Failure::RecordingExhausted)?;
            if cmd.get(..n) != Some(c) {
                return Err(Failure::CommandMismatch(rec.count));
            }
            ins = c.get(1).copied().unwrap_or(0);
            t.handle_response(r)?;
            stats.probe("handle_response", rec.count, ins);
        }
    }
    Err(Failure::Stuck)
}

/// Constructs the transaction in its `static`, in place
/// (`Transaction::init` into `StaticCell::uninit`); its frame is gone once
/// it returns.
#[cfg(not(feature = "on-stack"))]
#[inline(never)]
fn init_static() -> &'static mut Tx {
    static TX: static_cell::StaticCell<Tx> = static_cell::StaticCell::new();
    Transaction::init(TX.uninit(), PARAMS, INPUT, &CRYPTO, &STORE)
}

// ---------------------------------------------------------------------------
// Stack measurement and exit.

unsafe extern "C" {
    static _stack_start: u32;
    static _stack_end: u32;
}

const PAINT: u32 = 0xCCCC_CCCC;

fn stack_region() -> (usize, usize) {
    (
        &raw const _stack_end as usize,
        &raw const _stack_start as usize,
    )
}

/// Bytes of stack ever used since the (last) painting: scans up from the
/// bottom to the first overwritten word.
fn stack_high_water() -> usize {
    let (bottom, top) = stack_region();
    let mut p = bottom;
    while p < top && unsafe { core::ptr::read_volatile(p as *const u32) } == PAINT {
        p += 4;
    }
    top - p
}

/// Paints the unused stack again (below the current stack pointer, less a
/// margin for this function's own frame), so that the next
/// [`stack_high_water`] measures only what runs after this call.
#[inline(never)]
fn repaint_stack() {
    let (bottom, _) = stack_region();
    let sp = cortex_m::register::msp::read() as usize;
    let limit = (sp - 64) & !3;
    let mut p = bottom;
    while p < limit {
        unsafe { core::ptr::write_volatile(p as *mut u32, PAINT) };
        p += 4;
    }
}

fn current_stack_depth() -> usize {
    let (_, top) = stack_region();
    top - cortex_m::register::msp::read() as usize
}

/// SYS_EXIT_EXTENDED (0x20): stop QEMU with an arbitrary status code.
fn exit_with(code: u32) -> ! {
    const SYS_EXIT_EXTENDED: usize = 0x20;
    const ADP_STOPPED_APPLICATION_EXIT: usize = 0x20026;
    let block = [ADP_STOPPED_APPLICATION_EXIT, code as usize];
    unsafe { cortex_m_semihosting::syscall(SYS_EXIT_EXTENDED, &block) };
    loop {
        cortex_m::asm::bkpt();
    }
}

struct Hex<'a>(&'a [u8]);

impl fmt::Display for Hex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02X}")?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------

#[entry]
fn main() -> ! {
    let (bottom, top) = stack_region();
    hprintln!("fw: emv-kernel on {}", env!("TARGET_DESC"));
    hprintln!(
        "fw: stack region {} bytes; recording: {} bytes of exchanges, CAPK {}/{:02X} ({} bits)",
        top - bottom,
        EXCHANGES.len(),
        Hex(&CAPK.0.rid),
        CAPK.0.index,
        CAPK.0.modulus.len() * 8
    );

    // Load the CA key only after checking its check sum (Book 2 §11.2).
    let k = &CAPK.0;
    let sum = capk_checksum(&CRYPTO, k.rid, k.index, k.modulus, k.exponent);
    if sum.as_slice() != CAPK.1 {
        hprintln!("fw: CAPK check sum mismatch: {}", Hex(&sum));
        exit_with(2);
    }

    let state = size_of::<Tx>();
    let mut stats = Stats {
        exchanges: 0,
        request_len: 0,
        peak: 0,
        peak_at: ("", 0, 0),
    };
    let before = stack_high_water();

    // Construction, in its own frame, measured on its own.
    #[cfg(not(feature = "on-stack"))]
    let (t, placement) = (init_static(), "a static (.bss, StaticCell + Transaction::init)");
    #[cfg(feature = "on-stack")]
    let mut slot = core::mem::MaybeUninit::<Tx>::uninit();
    #[cfg(feature = "on-stack")]
    let (t, placement) = (
        Transaction::init(&mut slot, PARAMS, INPUT, &CRYPTO, &STORE),
        "main's stack frame",
    );
    let init_peak = stack_high_water();
    let main_depth = current_stack_depth();

    // The transaction, measured from a freshly painted stack.
    repaint_stack();
    let result = run(t, &mut stats);
    let run_peak = stack_high_water();
    let peak = run_peak.max(init_peak);

    hprintln!(
        "fw: outcome {:?} after {} exchanges; authorisation request {} bytes",
        result,
        stats.exchanges,
        stats.request_len
    );
    hprintln!(
        "fw: TVR {}  TSI {}  CVM Results {}  ODA {:?}",
        Hex(&t.tvr().to_bytes()),
        Hex(&t.tsi().to_bytes()),
        Hex(&t.cvm_results().to_bytes()),
        t.oda_method()
    );
    hprintln!(
        "fw: size_of::<Transaction>() = {} bytes, in {}",
        state,
        placement
    );
    hprintln!(
        "fw: stack high-water mark: {} bytes peak = max(transaction run {}, startup + construction {})",
        peak,
        run_peak,
        init_peak
    );
    hprintln!(
        "fw:   run: main's frame {} bytes + kernel calls {} bytes; deepest in {} (exchange {}, INS {:02X})",
        main_depth,
        run_peak - main_depth,
        stats.peak_at.0,
        stats.peak_at.1,
        stats.peak_at.2
    );
    hprintln!(
        "fw:   before the transaction (startup, printing, CAPK check sum): {} bytes",
        before
    );

    let ok = matches!(result, Ok(Outcome::OnlineApproved));
    #[cfg(not(feature = "on-stack"))]
    let total = state + peak;
    #[cfg(feature = "on-stack")]
    let total = peak; // the stack already holds the transaction
    let within = total < BUDGET;
    #[cfg(not(feature = "on-stack"))]
    hprintln!(
        "fw: budget: state {} + peak stack {} = {} bytes {} {} bytes: {}",
        state,
        peak,
        total,
        if within { "<" } else { ">=" },
        BUDGET,
        if within {
            "WITHIN BUDGET"
        } else {
            "OVER BUDGET"
        }
    );
    #[cfg(feature = "on-stack")]
    hprintln!(
        "fw: budget: peak stack incl. state {} bytes {} {} bytes: {}",
        total,
        if within { "<" } else { ">=" },
        BUDGET,
        if within {
            "WITHIN BUDGET"
        } else {
            "OVER BUDGET"
        }
    );

    let code = match (ok, within) {
        (true, true) => 0,
        (true, false) => 3,
        (false, _) => 2,
    };
    hprintln!("fw: exiting with status {}", code);
    exit_with(code)
}
