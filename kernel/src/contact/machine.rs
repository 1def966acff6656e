//! The contact transaction (EMV Book 3 §10, Book 4 §6.3) as one sans-IO
//! state machine over the phase modules of this crate: application
//! selection ([`crate::selection`]), initiate application processing, read
//! application data, offline data authentication ([`crate::oda`]),
//! processing restrictions, cardholder verification, terminal risk
//! management, terminal action analysis, card action analysis (GENERATE
//! AC), online processing, issuer scripts and completion.
//!
//! # Call order
//!
//! Loop until [`Event::Outcome`]:
//! 1. drain [`Transaction::poll_event`] and answer what needs an answer
//!    ([`Transaction::choose`], [`Transaction::confirm`],
//!    [`Transaction::handle_pin`], [`Transaction::handle_online`]);
//! 2. [`Transaction::poll_transmit`] writes the next C-APDU into the
//!    caller's buffer; send it and give the complete R-APDU (data and SW1
//!    SW2, after any `61xx`/`6Cxx` handling of the transport layer) to
//!    [`Transaction::handle_response`].
//!
//! The kernel never reads a clock or draws randomness: date, time,
//! unpredictable number and the random number of terminal risk management
//! are in [`TransactionInput`]. Decline, online, not accepted and
//! termination are [`Outcome`]s, not errors. No heap: the transaction's
//! data lives in the struct (see [`Transaction`]'s size in the README).

use core::mem::MaybeUninit;
use zeroize::Zeroize;

use crate::Tag;
use crate::contact::cvm::{
    ActionResult, CvmContext, CvmEvaluator, CvmOptions, CvmRequest, CvmStep, Verification,
};
use crate::contact::restrictions::{RestrictionsInput, processing_restrictions};
use crate::contact::taa::{
    ActionCodes, IssuerActionCodes, TaaInput, first_generate_ac, unable_to_go_online,
};
use crate::contact::trail::{Detail, Phase, Trail, TrailEntry, TrailSink};
use crate::contact::transaction::TransactionType;
use crate::contact::trm::{RandomSelection, TrmInput, Velocity, terminal_risk_management};
use crate::crypto::{CryptoProvider, MAX_MODULUS_LEN};
use crate::data::additional_terminal_capabilities::AdditionalTerminalCapabilities;
use crate::data::afl::Afl;
use crate::data::aip::Aip;
use crate::data::auc::Auc;
use crate::data::cid::{Cid, CryptogramType, ReasonCode};
use crate::data::cvm::CvmResults;
use crate::data::terminal_capabilities::TerminalCapabilities;
use crate::data::terminal_type::TerminalType;
use crate::data::tsi::Tsi;
use crate::data::tvr::Tvr;
use crate::oda::{
    CapkStore, IccCertificate, IccPublicKey, IssuerCertificate, IssuerPublicKey, OdaError,
    OdaMethod, date_from_9a, recover_icc_public_key, recover_issuer_public_key,
    static_data_of_record, transaction_data_hash_code, verify_cda, verify_dda, verify_static_data,
};
use crate::selection::{self, Selection, TerminalAid};
use crate::store::{Origin, TransactionStore};
use crate::wire::apdu::commands::{self, PinFormat};
use crate::wire::apdu::{CommandApdu, Encoding, ResponseApdu};
use crate::wire::dol;
use crate::wire::tlv::{Mode, TlvIter};
use crate::wire::walk::{MAX_DEPTH, Walk};

/// Bytes of ODA record data kept for the static data hash (records usually
/// come before the certificates, so they must be kept; see `crate::oda`).
pub const MAX_STATIC_DATA: usize = 2048;
/// Bytes of issuer script data kept from the online response.
pub const MAX_SCRIPT_DATA: usize = 512;
/// Decision trail entries kept (oldest dropped first).
pub const TRAIL_LEN: usize = 48;

/// Terminal parameters for one AID (Book 3 §10.6–10.7, Book 4 Annex A).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AidParams<'a> {
    /// Application Version Number (terminal), `9F09`.
    pub application_version: Option<[u8; 2]>,
    /// Terminal Floor Limit in minor units.
    pub floor_limit: u64,
    /// Terminal Action Codes.
    pub tac: ActionCodes,
    /// Random transaction selection, if used.
    pub random_selection: Option<RandomSelection>,
    /// Default DDOL (used when the card has no `9F49`).
    pub default_ddol: &'a [u8],
    /// Default TDOL (used when the card has no `97`).
    pub default_tdol: &'a [u8],
    /// Velocity checking is performed.
    pub velocity_checking: bool,
}

/// Terminal data for every transaction.
#[derive(Clone, Copy, Debug)]
pub struct TerminalParams<'a> {
    /// Terminal Type `9F35`.
    pub terminal_type: TerminalType,
    /// Terminal Capabilities `9F33`.
    pub capabilities: TerminalCapabilities,
    /// Additional Terminal Capabilities `9F40`.
    pub additional_capabilities: AdditionalTerminalCapabilities,
    /// Terminal Country Code `9F1A`.
    pub country_code: [u8; 2],
    /// Transaction Currency Code `5F2A`.
    pub currency_code: [u8; 2],
    /// Other terminal data objects offered to DOLs (`9F1E`, `9F16`, `9F1C`,
    /// `9F4E`, `9F15`, `9F01`, `9F39`, `5F36`…).
    pub data: &'a [(Tag, &'a [u8])],
    /// The terminal's AIDs, for selection.
    pub aids: &'a [TerminalAid<'a>],
    /// Parameters per AID, in the order of `aids`.
    pub aid_params: &'a [AidParams<'a>],
    /// Selection options.
    pub selection: selection::Options,
    /// CVM options.
    pub cvm: CvmOptions,
    /// The exception file (Book 3 §10.6.1).
    pub exception_file: &'a [ExceptionEntry<'a>],
}

/// One entry of the terminal exception file (Book 3 §10.6.1: the PAN and,
/// optionally, the PAN Sequence Number).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExceptionEntry<'a> {
    /// The PAN as the card encodes it in `5A` (cn: BCD, padded with `F`).
    pub pan: &'a [u8],
    /// The PAN Sequence Number (`5F34`) the entry is limited to; `None`:
    /// every card with this PAN.
    pub psn: Option<u8>,
}

impl ExceptionEntry<'_> {
    /// Whether the card with `pan` (`5A`) and `psn` (`5F34`, `None` when
    /// the card has none) is this entry.
    #[must_use]
    pub fn matches(&self, pan: &[u8], psn: Option<u8>) -> bool {
        self.pan == pan && (self.psn.is_none() || self.psn == psn)
    }
}

/// What the terminal knows when the transaction starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TransactionInput {
    /// Amount, Authorised, in minor units.
    pub amount: u64,
    /// Amount, Other (cashback), in minor units.
    pub amount_other: u64,
    /// Transaction Type `9C`.
    pub transaction_type: u8,
    /// Transaction Date `9A`, YYMMDD BCD.
    pub date: [u8; 3],
    /// Transaction Time `9F21`, HHMMSS BCD.
    pub time: [u8; 3],
    /// Unpredictable Number `9F37`.
    pub unpredictable_number: [u8; 4],
    /// Random number 1–99 for random transaction selection (Book 3
    /// §10.6.2).
    pub random_number: u8,
    /// Transaction Sequence Counter `9F41`.
    pub sequence_counter: u32,
}

/// How a transaction ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// TC from the 1st GENERATE AC.
    ApprovedOffline,
    /// AAC from the 1st GENERATE AC, or a failed check after it.
    DeclinedOffline,
    /// TC after online authorisation.
    OnlineApproved,
    /// AAC after online authorisation.
    OnlineDeclined,
    /// Unable to go online, then TC (default action).
    ApprovedUnableOnline,
    /// Unable to go online, then AAC.
    DeclinedUnableOnline,
    /// No application could be used ("Not accepted").
    NotAccepted,
    /// The card was blocked (`6A81`).
    CardBlocked,
    /// The transaction was terminated.
    Terminated(Termination),
}

/// Why a transaction was terminated (Book 3: "terminate the transaction").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Termination {
    /// A response the card must not send (format, status word).
    CardError,
    /// Mandatory data missing, or data sent twice (Book 3 §10.2).
    CardData,
    /// The card returned a higher cryptogram than requested, or an
    /// unknown one.
    CryptogramType,
    /// The card did not answer (transport failure or removal).
    CardRemoved,
    /// The card's cryptogram gave the reason "service not allowed" (CID
    /// b3–b1 `001`), Book 3 §10.8 [M: see
    /// [`SERVICE_NOT_ALLOWED_TERMINATES`]].
    ServiceNotAllowed,
    /// The kernel's fixed storage is too small for this card.
    Capacity,
}

/// A PIN the kernel asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PinKind {
    /// Offline plaintext PIN (VERIFY P2 `80`).
    OfflinePlaintext,
    /// Offline enciphered PIN (VERIFY P2 `88`).
    OfflineEnciphered,
    /// Online PIN: captured by the PIN pad for the host; the kernel only
    /// learns whether it was entered.
    Online,
}

/// The cardholder's answer to [`Event::NeedPin`].
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum PinEntry {
    /// PIN digits (4–12) for offline verification; zeroized by the kernel
    /// once used.
    Digits {
        /// The digits, each 0–9.
        digits: [u8; 12],
        /// How many.
        len: u8,
    },
    /// Online PIN captured and enciphered for the host.
    OnlineCaptured,
    /// PIN entry bypassed.
    Bypassed,
    /// PIN pad not present or not working.
    PinPadNotWorking,
}

impl core::fmt::Debug for PinEntry {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Digits { len, .. } => write!(f, "Digits(****, {len} digits)"),
            Self::OnlineCaptured => f.write_str("OnlineCaptured"),
            Self::Bypassed => f.write_str("Bypassed"),
            Self::PinPadNotWorking => f.write_str("PinPadNotWorking"),
        }
    }
}

/// The issuer's answer, or none (Book 3 §10.9).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnlineResponse<'a> {
    /// The authorisation response.
    Response {
        /// Authorisation Response Code `8A`.
        arc: [u8; 2],
        /// Issuer Authentication Data `91` (empty if none).
        issuer_authentication_data: &'a [u8],
        /// Issuer script templates `71`/`72`, concatenated as received.
        scripts: &'a [u8],
    },
    /// The terminal could not go online.
    Unable,
}

/// What the kernel reports to the terminal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// Show the candidates ([`Transaction::candidates`]) and call
    /// [`Transaction::choose`].
    ChooseApplication,
    /// Ask the cardholder to confirm candidate `index`; call
    /// [`Transaction::confirm`].
    ConfirmApplication {
        /// Index in [`Transaction::candidates`].
        index: usize,
    },
    /// Book 4 message "Try again".
    TryAgain,
    /// Ask for a PIN; answer with [`Transaction::handle_pin`].
    NeedPin {
        /// Which PIN.
        kind: PinKind,
        /// PIN Try Counter, when the card gave it.
        tries_left: Option<u8>,
    },
    /// Send [`Transaction::authorisation_request`] to the issuer and answer
    /// with [`Transaction::handle_online`].
    GoOnline,
    /// The transaction ended.
    Outcome(Outcome),
}

/// Whether a cryptogram whose CID gives the reason "service not allowed"
/// (b3–b1 `001`) ends the transaction ([`Termination::ServiceNotAllowed`])
/// rather than being processed by its cryptogram type. **\[M\]**: our
/// reading of Book 3 §10.8 ("the terminal shall terminate"), not confirmed
/// against the licensed text.
pub const SERVICE_NOT_ALLOWED_TERMINATES: bool = true;

/// API misuse.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MachineError {
    /// Input that was not asked for.
    Unexpected,
    /// A caller buffer is too small.
    BufferTooSmall,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Selecting,
    Gpo,
    ReadRecord { entry: usize, record: u8 },
    GetData { tag: u32 },
    InternalAuthenticate,
    Cvm,
    AwaitPin { kind: PinKind },
    GetChallenge,
    Verify { kind: PinKind },
    GenAc1,
    AwaitOnline,
    ExternalAuthenticate,
    Script { after: bool, offset: usize },
    GenAc2,
    Done,
}

/// Why a DOL could not be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DolProblem {
    /// Neither the card nor the terminal has one.
    Missing,
    /// It does not parse, or its data does not fit.
    Malformed,
}

/// Where the transaction is in the pure (no card exchange) phases.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    None,
    AfterRecords,
    AfterOda,
}

/// The static data to authenticate (Book 3 §10.3): the ODA records as read,
/// kept from the first record to offline data authentication.
struct StaticData {
    data: [u8; MAX_STATIC_DATA],
    len: usize,
    /// Some record could not be kept: ODA fails.
    overflow: bool,
}

impl StaticData {
    const fn new() -> Self {
        Self {
            data: [0; MAX_STATIC_DATA],
            len: 0,
            overflow: false,
        }
    }

    fn keep(&mut self, part: &[u8]) {
        let end = self.len + part.len();
        match self.data.get_mut(self.len..end) {
            Some(dst) => {
                dst.copy_from_slice(part);
                self.len = end;
            }
            None => self.overflow = true,
        }
    }
}

/// The issuer scripts of the authorisation response (Book 3 §10.10),
/// at most [`MAX_SCRIPT_DATA`] bytes of them.
struct Scripts {
    data: [u8; MAX_SCRIPT_DATA],
    len: usize,
}

impl Scripts {
    const fn new() -> Self {
        Self {
            data: [0; MAX_SCRIPT_DATA],
            len: 0,
        }
    }

    /// Keeps the first [`MAX_SCRIPT_DATA`] bytes of `scripts`.
    fn keep(&mut self, scripts: &[u8]) {
        let n = scripts.len().min(MAX_SCRIPT_DATA);
        if let (Some(d), Some(s)) = (self.data.get_mut(..n), scripts.get(..n)) {
            d.copy_from_slice(s);
        }
        self.len = n;
    }

    fn as_slice(&self) -> &[u8] {
        self.data.get(..self.len).unwrap_or_default()
    }
}

/// The memory of phases that never overlap, shared: the largest decides
/// the size. Application selection (candidates, FCI) lasts until GET
/// PROCESSING OPTIONS is accepted (a `6985` goes back to it); the static
/// data to authenticate is read with the records and used up by offline
/// data authentication, before any GENERATE AC; the issuer scripts arrive
/// with the online response, after it.
// The variants differ in size by design: sharing one place is the point,
// and there is no heap to box the large one into.
#[allow(clippy::large_enum_variant)]
enum Work<'a> {
    /// Application selection (Book 1 §12).
    Selection(Selection<'a>),
    /// Read application data and ODA (Book 3 §10.2–10.3).
    Records(StaticData),
    /// Online processing and issuer scripts (Book 3 §10.9–10.10).
    Online(Scripts),
}

/// One contact transaction.
///
/// # Memory
///
/// About 11 KiB (`size_of::<Transaction>()`; the data store, the decision
/// trail and the phase memory [`MAX_STATIC_DATA`] dominate): place it in a
/// `static` and construct it there with [`Transaction::init`], or reuse one
/// with [`Transaction::reset`]. The phases' buffers that never coexist
/// (selection, static data, issuer scripts) share one place.
///
/// Each phase handler is a function of its own (`#[inline(never)]`), so
/// the stack holds the frame of one phase at a time rather than the sum of
/// all of them; the deepest stack is offline data authentication (two
/// certificates recovered with the RSA public operation).
pub struct Transaction<'a, P: CryptoProvider, S: CapkStore> {
    params: TerminalParams<'a>,
    input: TransactionInput,
    crypto: &'a P,
    capks: &'a S,
    work: Work<'a>,
    store: TransactionStore,
    tvr: Tvr,
    tsi: Tsi,
    trail: Trail<TRAIL_LEN>,
    state: State,
    step: Step,
    awaiting: bool,
    events: [Option<Event>; 4],
    aid_index: usize,
    aip: Aip,
    pdol_data: [u8; 64],
    pdol_len: usize,
    cdol1_data: [u8; 128],
    cdol1_len: usize,
    oda: Option<OdaMethod>,
    icc_modulus: [u8; MAX_MODULUS_LEN],
    icc_key: Option<IccPublicKey>,
    cvm: Option<CvmEvaluator>,
    pin: Option<PinEntry>,
    challenge: [u8; 8],
    tries_left: Option<u8>,
    cvm_results: CvmResults,
    requested: CryptogramType,
    advice: Option<Cid>,
    online_arc: Option<[u8; 2]>,
    unable_online: bool,
    script_results: [u8; 40],
    script_results_len: usize,
    pending_command: [u8; 261],
    pending_len: usize,
    cdol2_data: [u8; 128],
    cdol2_len: usize,
    pending_outcome: Option<Outcome>,
    current_script: ScriptCursor,
}

/// Where the issuer script command being sent sits in its script (Book 3
/// §10.10, Book 4 Annex A5 Issuer Script Results).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct ScriptCursor {
    /// The Script Identifier (`9F18`), zeros when absent.
    id: [u8; 4],
    /// The command's sequence number in its script, from 1.
    sequence: usize,
    /// Whether it is the last command of its script.
    last: bool,
    /// The `offset` of the first command of the next script of the same
    /// template kind: where processing goes on when this command fails.
    next_script: usize,
}

fn bcd_amount(minor: u64) -> [u8; 6] {
    let mut out = [0u8; 6];
    let mut v = minor;
    for b in out.iter_mut().rev() {
        let lo = (v % 10) as u8;
        v /= 10;
        let hi = (v % 10) as u8;
        v /= 10;
        *b = hi << 4 | lo;
    }
    out
}

fn is_approving_arc(arc: [u8; 2]) -> bool {
    matches!(&arc, b"00" | b"08" | b"10" | b"11")
}

/// A transaction dropped in the middle of cardholder verification leaves no
/// PIN digits and no VERIFY command behind.
impl<P: CryptoProvider, S: CapkStore> Drop for Transaction<'_, P, S> {
    fn drop(&mut self) {
        self.forget_pin();
        self.pending_command.zeroize();
    }
}

impl<'a, P: CryptoProvider, S: CapkStore> Transaction<'a, P, S> {
    /// Starts a transaction, returned by value.
    ///
    /// The value is large (see [`Transaction`]); where the stack is small,
    /// construct it in place with [`Transaction::init`] instead, or reuse
    /// one with [`Transaction::reset`].
    pub fn new(
        params: TerminalParams<'a>,
        input: TransactionInput,
        crypto: &'a P,
        capks: &'a S,
    ) -> Self {
        let mut t = Self::empty(params, input, crypto, capks);
        t.set_terminal_data();
        t
    }

    /// Starts a transaction in `slot`, in place: the transaction is written
    /// into the caller's storage (a `static`, a `StaticCell`, a frame that
    /// outlives the transaction) rather than returned by value as
    /// [`Transaction::new`] does, which costs a copy (or two) of it on the
    /// stack. Safe code: the large parts are constants (`const` blocks) that
    /// the optimiser writes straight into `slot` (on the Cortex-M4F the
    /// construction takes well under 1 KiB of stack; `scripts/fw-check.sh`
    /// measures it). Returns the initialised transaction; a later
    /// [`Transaction::reset`] starts the next one in the same place.
    ///
    /// ```
    /// # use core::mem::MaybeUninit;
    /// # use emv_kernel::contact::machine::{Transaction, TerminalParams, TransactionInput};
    /// # use emv_kernel::crypto::SoftwareCrypto;
    /// # use emv_kernel::oda::StaticCapkStore;
    /// # fn run(params: TerminalParams<'_>, input: TransactionInput) {
    /// let capks = StaticCapkStore::default();
    /// let mut slot = MaybeUninit::uninit();
    /// let t = Transaction::init(&mut slot, params, input, &SoftwareCrypto, &capks);
    /// let _ = t.poll_event();
    /// # }
    /// ```
    pub fn init<'s>(
        slot: &'s mut MaybeUninit<Self>,
        params: TerminalParams<'a>,
        input: TransactionInput,
        crypto: &'a P,
        capks: &'a S,
    ) -> &'s mut Self {
        let t = slot.write(Self::empty(params, input, crypto, capks));
        t.set_terminal_data();
        t
    }

    /// Ends this transaction (whatever its state) and starts the next one
    /// in place, with the same terminal parameters, crypto provider and
    /// CA keys and the new `input`: the same as a new
    /// [`Transaction::new`], without a second transaction on the stack.
    pub fn reset(&mut self, input: TransactionInput) {
        let params = self.params;
        self.input = input;
        match &mut self.work {
            Work::Selection(s) => s.reset(params.aids, params.selection),
            w => *w = Work::Selection(Selection::new(params.aids, params.selection)),
        }
        self.store.clear();
        self.trail.clear();
        self.tvr = Tvr::default();
        self.tsi = Tsi::default();
        self.state = State::Selecting;
        self.step = Step::None;
        self.awaiting = false;
        self.events = [None; 4];
        self.aid_index = 0;
        self.aip = Aip::default();
        self.pdol_len = 0;
        self.cdol1_len = 0;
        self.oda = None;
        self.icc_key = None;
        self.cvm = None;
        self.forget_pin();
        self.pending_command.zeroize();
        self.challenge = [0; 8];
        self.tries_left = None;
        self.cvm_results = CvmResults::no_cvm_performed(crate::data::cvm::CvmResult::Unknown);
        self.requested = CryptogramType::Aac;
        self.advice = None;
        self.online_arc = None;
        self.unable_online = false;
        self.script_results_len = 0;
        self.pending_len = 0;
        self.cdol2_len = 0;
        self.pending_outcome = None;
        self.current_script = ScriptCursor::default();
        self.set_terminal_data();
    }

    /// Every field of a transaction before its terminal data is stored:
    /// inlined into [`Transaction::init`] so that it is built in place.
    #[inline(always)]
    fn empty(
        params: TerminalParams<'a>,
        input: TransactionInput,
        crypto: &'a P,
        capks: &'a S,
    ) -> Self {
        Self {
            params,
            input,
            crypto,
            capks,
            work: Work::Selection(Selection::new(params.aids, params.selection)),
            store: const { TransactionStore::new() },
            tvr: Tvr::default(),
            tsi: Tsi::default(),
            trail: const { Trail::new() },
            state: State::Selecting,
            step: Step::None,
            awaiting: false,
            events: [None; 4],
            aid_index: 0,
            aip: Aip::default(),
            pdol_data: [0; 64],
            pdol_len: 0,
            cdol1_data: [0; 128],
            cdol1_len: 0,
            oda: None,
            icc_modulus: [0; MAX_MODULUS_LEN],
            icc_key: None,
            cvm: None,
            pin: None,
            challenge: [0; 8],
            tries_left: None,
            cvm_results: CvmResults::no_cvm_performed(crate::data::cvm::CvmResult::Unknown),
            requested: CryptogramType::Aac,
            advice: None,
            online_arc: None,
            unable_online: false,
            script_results: [0; 40],
            script_results_len: 0,
            pending_command: [0; 261],
            pending_len: 0,
            cdol2_data: [0; 128],
            cdol2_len: 0,
            pending_outcome: None,
            current_script: ScriptCursor {
                id: [0; 4],
                sequence: 0,
                last: false,
                next_script: 0,
            },
        }
    }

    fn set(&mut self, tag: u32, value: &[u8]) {
        if self
            .store
            .set(Tag::new(tag), value, Origin::Terminal)
            .is_err()
        {
            self.end(Outcome::Terminated(Termination::Capacity));
        }
    }

    #[inline(never)]
    fn set_terminal_data(&mut self) {
        let i = self.input;
        let p = self.params;
        for (tag, value) in p.data {
            let _ = self.store.set(*tag, value, Origin::Terminal);
        }
        self.set(0x9F02, &bcd_amount(i.amount));
        self.set(0x9F03, &bcd_amount(i.amount_other));
        self.set(0x9C, &[i.transaction_type]);
        self.set(0x9A, &i.date);
        self.set(0x9F21, &i.time);
        self.set(0x9F37, &i.unpredictable_number);
        self.set(0x9F41, &i.sequence_counter.to_be_bytes());
        self.set(0x9F1A, &p.country_code);
        self.set(0x5F2A, &p.currency_code);
        self.set(0x9F35, &[p.terminal_type.to_byte()]);
        self.set(0x9F33, &p.capabilities.to_bytes());
        self.set(0x9F40, &p.additional_capabilities.to_bytes());
        self.sync_status();
    }

    fn sync_status(&mut self) {
        let tvr = self.tvr.to_bytes();
        let tsi = self.tsi.to_bytes();
        let cvm = self.cvm_results.to_bytes();
        self.set(0x95, &tvr);
        self.set(0x9B, &tsi);
        self.set(0x9F34, &cvm);
    }

    fn push_event(&mut self, e: Event) {
        if let Some(slot) = self.events.iter_mut().find(|s| s.is_none()) {
            *slot = Some(e);
        }
    }

    fn end(&mut self, outcome: Outcome) {
        if self.state != State::Done {
            self.state = State::Done;
            self.push_event(Event::Outcome(outcome));
        }
    }

    /// The next event, oldest first.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.advance();
        let first = self.events.first_mut()?.take();
        self.events.rotate_left(1);
        first
    }

    /// The candidate list (while choosing an application).
    ///
    /// Empty once the application is selected (GET PROCESSING OPTIONS
    /// accepted): the selection's memory is then reused by later phases.
    pub fn candidates(&self) -> &[selection::candidate::Candidate] {
        match &self.work {
            Work::Selection(s) => s.candidates(),
            _ => &[],
        }
    }

    fn selection_mut(&mut self) -> Option<&mut Selection<'a>> {
        match &mut self.work {
            Work::Selection(s) => Some(s),
            _ => None,
        }
    }

    /// The cardholder chose candidate `index`.
    pub fn choose(&mut self, index: usize) -> Result<(), MachineError> {
        self.selection_mut()
            .ok_or(MachineError::Unexpected)?
            .choose(index)
            .map_err(|_| MachineError::Unexpected)
    }

    /// The cardholder accepted or refused the application asked about.
    pub fn confirm(&mut self, accepted: bool) -> Result<(), MachineError> {
        self.selection_mut()
            .ok_or(MachineError::Unexpected)?
            .confirm(accepted)
            .map_err(|_| MachineError::Unexpected)
    }

    /// Terminal Verification Results so far.
    pub fn tvr(&self) -> Tvr {
        self.tvr
    }

    /// Transaction Status Information so far.
    pub fn tsi(&self) -> Tsi {
        self.tsi
    }

    /// CVM Results.
    pub fn cvm_results(&self) -> CvmResults {
        self.cvm_results
    }

    /// The data store: every object the card and terminal supplied.
    pub fn store(&self) -> &TransactionStore {
        &self.store
    }

    /// The Cryptogram Information Data of the last GENERATE AC whose
    /// advice bit (b4) was set: the terminal should create an advice
    /// message for the acquirer (Book 3 §10.8, Book 4 §6.3.7), with
    /// [`Cid::reason`] saying why. `None` if no cryptogram asked for one.
    #[must_use]
    pub fn advice(&self) -> Option<Cid> {
        self.advice
    }

    /// The phase the transaction is in: the phase of the command that
    /// [`Transaction::poll_transmit`] gives next, or of the last one while
    /// the transaction waits for an answer.
    #[must_use]
    pub fn phase(&self) -> Phase {
        match self.state {
            State::Selecting => Phase::ApplicationSelection,
            State::Gpo => Phase::InitiateApplicationProcessing,
            State::ReadRecord { .. } => Phase::ReadApplicationData,
            State::InternalAuthenticate => Phase::OfflineDataAuthentication,
            // The PIN Try Counter is read for cardholder verification; the
            // ATC and last online ATC for velocity checking (§10.6.3).
            State::GetData { tag: 0x9F17 }
            | State::Cvm
            | State::AwaitPin { .. }
            | State::GetChallenge
            | State::Verify { .. } => Phase::CardholderVerification,
            State::GetData { .. } => Phase::TerminalRiskManagement,
            State::GenAc1 => Phase::CardActionAnalysis,
            State::AwaitOnline | State::ExternalAuthenticate => Phase::OnlineProcessing,
            State::Script { .. } => Phase::IssuerScriptProcessing,
            State::GenAc2 | State::Done => Phase::Completion,
        }
    }

    /// The decision trail.
    pub fn trail(&self) -> &Trail<TRAIL_LEN> {
        &self.trail
    }

    /// The ODA method performed, if any.
    pub fn oda_method(&self) -> Option<OdaMethod> {
        self.oda
    }

    /// Writes the authorisation request data (the data objects an acquirer
    /// puts in ISO 8583 DE 55, plus PAN `5A` and PAN sequence number
    /// `5F34` for the issuer host) into `out`.
    pub fn authorisation_request(&self, out: &mut [u8]) -> Result<usize, MachineError> {
        const TAGS: [u32; 22] = [
            0x9F26, 0x9F27, 0x9F10, 0x9F37, 0x9F36, 0x95, 0x9A, 0x9C, 0x9F02, 0x5F2A, 0x82, 0x9F1A,
            0x9F03, 0x9F33, 0x9F34, 0x9F35, 0x9F1E, 0x84, 0x9F09, 0x9F41, 0x5A, 0x5F34,
        ];
        let mut w = crate::wire::encode::TlvWriter::new(out);
        for t in TAGS {
            if let Some(v) = self.store.get(Tag::new(t)) {
                w.primitive(Tag::new(t), v);
            }
        }
        w.finish().map_err(|_| MachineError::BufferTooSmall)
    }

    fn aid_params(&self) -> Option<AidParams<'a>> {
        self.params.aid_params.get(self.aid_index).copied()
    }

    /// Writes the next command into `buf`.
    pub fn poll_transmit(&mut self, buf: &mut [u8]) -> Result<Option<usize>, MachineError> {
        self.advance();
        if self.awaiting || self.state == State::Done {
            return Ok(None);
        }
        if self.state == State::Selecting {
            let Some(selection) = self.selection_mut() else {
                return Ok(None);
            };
            let n = selection
                .poll_transmit(buf)
                .map_err(|_| MachineError::BufferTooSmall)?;
            if n.is_some() {
                self.awaiting = true;
            }
            return Ok(n);
        }
        if self.pending_len == 0 {
            return Ok(None);
        }
        let cmd = self
            .pending_command
            .get(..self.pending_len)
            .unwrap_or_default();
        let dst = buf
            .get_mut(..cmd.len())
            .ok_or(MachineError::BufferTooSmall)?;
        dst.copy_from_slice(cmd);
        self.awaiting = true;
        Ok(Some(cmd.len()))
    }

    fn queue(&mut self, c: CommandApdu<'_>) {
        match c.emit(&mut self.pending_command, Encoding::Short) {
            Ok(n) => self.pending_len = n,
            Err(_) => self.end(Outcome::Terminated(Termination::Capacity)),
        }
    }

    /// Feeds the R-APDU of the last command.
    pub fn handle_response(&mut self, response: &[u8]) -> Result<(), MachineError> {
        if !self.awaiting {
            return Err(MachineError::Unexpected);
        }
        self.awaiting = false;
        self.pending_len = 0;
        if self.state == State::Selecting {
            self.selection_mut()
                .ok_or(MachineError::Unexpected)?
                .handle_response(response)
                .map_err(|_| MachineError::Unexpected)?;
            return Ok(());
        }
        let Ok(r) = ResponseApdu::parse(response) else {
            self.end(Outcome::Terminated(Termination::CardError));
            return Ok(());
        };
        let sw = r.sw.value();
        match self.state {
            State::Gpo => self.on_gpo(r.data, sw),
            State::ReadRecord { entry, record } => self.on_record(entry, record, r.data, sw),
            State::GetData { tag } => self.on_get_data(tag, r.data, sw),
            State::InternalAuthenticate => self.on_internal_authenticate(r.data, sw),
            State::GetChallenge => self.on_challenge(r.data, sw),
            State::Verify { kind } => self.on_verify(kind, sw),
            State::GenAc1 => self.on_genac(false, r.data, sw),
            State::ExternalAuthenticate => {
                self.tsi.set(Tsi::ISSUER_AUTHENTICATION_PERFORMED);
                if sw != 0x9000 {
                    self.tvr.set(Tvr::ISSUER_AUTHENTICATION_FAILED);
                }
                self.state = State::Script {
                    after: false,
                    offset: 0,
                };
                self.advance_scripts();
            }
            State::Script { after, offset } => self.on_script(after, offset, sw),
            State::GenAc2 => self.on_genac(true, r.data, sw),
            _ => return Err(MachineError::Unexpected),
        }
        Ok(())
    }

    /// Moves through the phases that need no card exchange, and relays
    /// selection events.
    fn advance(&mut self) {
        for _ in 0..16 {
            if self.state == State::Selecting {
                while let Some(e) = self.selection_mut().and_then(Selection::poll_event) {
                    match e {
                        selection::Event::ChooseApplication => {
                            self.push_event(Event::ChooseApplication);
                        }
                        selection::Event::ConfirmApplication { index } => {
                            self.push_event(Event::ConfirmApplication { index });
                        }
                        selection::Event::TryAgain => self.push_event(Event::TryAgain),
                        selection::Event::NotAccepted => self.end(Outcome::NotAccepted),
                        selection::Event::CardBlocked => self.end(Outcome::CardBlocked),
                        selection::Event::Selected => self.start_gpo(),
                    }
                }
                return;
            }
            match self.step {
                Step::AfterRecords => {
                    self.step = Step::None;
                    self.after_records();
                }
                Step::AfterOda => {
                    self.step = Step::None;
                    self.after_oda();
                }
                Step::None => {}
            }
            if self.state == State::Cvm {
                self.run_cvm();
            }
            if self.step == Step::None && self.state != State::Cvm {
                return;
            }
        }
    }

    // ----- Initiate application processing (Book 3 §10.1) -----

    #[inline(never)]
    fn start_gpo(&mut self) {
        let Some(sel) = self.selection_mut().and_then(|s| s.selected().copied()) else {
            self.end(Outcome::Terminated(Termination::CardError));
            return;
        };
        self.aid_index = sel.terminal_aid;
        self.store.clear();
        self.tvr = Tvr::default();
        self.tsi = Tsi::default();
        self.set_terminal_data();
        let Work::Selection(selection) = &self.work else {
            self.end(Outcome::Terminated(Termination::CardError));
            return;
        };
        let fci = crate::selection::fci::Fci::parse(selection.fci());
        let (df_name, pdol) = match fci {
            Some(f) => (f.df_name, f.get(0x9F38).unwrap_or_default()),
            None => (sel.aid.as_slice(), &[][..]),
        };
        let mut df = [0u8; 16];
        let n = df_name.len().min(16);
        if let (Some(d), Some(s)) = (df.get_mut(..n), df_name.get(..n)) {
            d.copy_from_slice(s);
        }
        let mut pdol_copy = [0u8; 64];
        let pl = pdol.len().min(64);
        if let (Some(d), Some(s)) = (pdol_copy.get_mut(..pl), pdol.get(..pl)) {
            d.copy_from_slice(s);
        }
        let df = df.get(..n).unwrap_or_default();
        self.set(0x84, df);
        self.set(0x9F06, df);
        if let Some(ap) = self.aid_params()
            && let Some(v) = ap.application_version
        {
            self.set(0x9F09, &v);
        }
        let pdol = pdol_copy.get(..pl).unwrap_or_default();
        match dol::build(pdol, &self.store, &mut self.pdol_data) {
            Ok(n) => self.pdol_len = n,
            Err(_) => {
                self.end(Outcome::Terminated(Termination::CardData));
                return;
            }
        }
        let mut data = [0u8; 68];
        let len = commands::gpo_data(
            self.pdol_data.get(..self.pdol_len).unwrap_or_default(),
            &mut data,
        );
        match len {
            Ok(len) => {
                let d = data;
                self.queue(commands::get_processing_options(
                    d.get(..len).unwrap_or_default(),
                ));
                self.state = State::Gpo;
            }
            Err(_) => self.end(Outcome::Terminated(Termination::Capacity)),
        }
    }

    #[inline(never)]
    fn on_gpo(&mut self, data: &[u8], sw: u16) {
        if sw == 0x6985 {
            // Book 3 §10.1: back to selection without this application.
            if self
                .selection_mut()
                .is_some_and(|s| s.not_accepted().is_ok())
            {
                self.state = State::Selecting;
            } else {
                self.end(Outcome::NotAccepted);
            }
            return;
        }
        if sw != 0x9000 {
            self.end(Outcome::Terminated(Termination::CardError));
            return;
        }
        let parsed = match crate::wire::tlv::parse_one(data, Mode::Strict) {
            Ok(Some((t, rest))) if rest.iter().all(|&b| b == 0) => Some(t),
            _ => None,
        };
        // Format 1: 80 [AIP ‖ AFL]; format 2: 77 {82 AIP, 94 AFL, …}.
        match parsed {
            Some(t) if t.tag().raw() == 0x80 => {
                let v = t.value();
                let (Some(aip), Some(afl)) = (v.get(..2), v.get(2..)) else {
                    self.end(Outcome::Terminated(Termination::CardError));
                    return;
                };
                let stored = self.store.insert_card(Tag::new(0x82), aip).is_ok()
                    && self.store.insert_card(Tag::new(0x94), afl).is_ok();
                if !stored {
                    self.end(Outcome::Terminated(Termination::CardData));
                    return;
                }
            }
            Some(t) if t.tag().raw() == 0x77 => {
                if self.store_template(t.value()).is_err() {
                    return;
                }
            }
            _ => {
                self.end(Outcome::Terminated(Termination::CardError));
                return;
            }
        }
        match self.store.get(Tag::new(0x82)) {
            Some(&[a, b]) => self.aip = Aip::new([a, b]),
            _ => {
                self.end(Outcome::Terminated(Termination::CardData));
                return;
            }
        }
        self.start_records();
    }

    /// Stores every primitive object of a template; a duplicate ends the
    /// transaction (Book 3 §10.2).
    #[inline(never)]
    fn store_template(&mut self, data: &[u8]) -> Result<(), ()> {
        for node in Walk::<MAX_DEPTH>::new(data, Mode::Strict) {
            let Ok(node) = node else {
                self.end(Outcome::Terminated(Termination::CardError));
                return Err(());
            };
            if node.tlv.is_constructed() {
                continue;
            }
            if let Err(e) = self.store.insert_card(node.tlv.tag(), node.tlv.value()) {
                let t = match e {
                    crate::store::StoreError::Redundant(_) => Termination::CardData,
                    crate::store::StoreError::Full(_) => Termination::Capacity,
                };
                self.end(Outcome::Terminated(t));
                return Err(());
            }
        }
        Ok(())
    }

    // ----- Read application data (Book 3 §10.2) -----

    /// Entry `index` of the AFL (validated when the records start).
    fn afl_entry(&self, index: usize) -> Option<crate::data::afl::AflEntry> {
        Afl::parse(self.store.get(Tag::new(0x94))?)
            .ok()?
            .entries()
            .nth(index)
    }

    fn start_records(&mut self) {
        // The application is selected for good: the selection's memory
        // now keeps the static data to authenticate.
        self.work = Work::Records(StaticData::new());
        // AFL present and valid (Book 3 §10.2), else terminate.
        let valid = self
            .store
            .get(Tag::new(0x94))
            .is_some_and(|afl| Afl::parse(afl).is_ok());
        if !valid {
            self.end(Outcome::Terminated(Termination::CardData));
            return;
        }
        self.next_record(0, 0);
    }

    /// Queues READ RECORD for the record after (`entry`, `record`).
    fn next_record(&mut self, entry: usize, record: u8) {
        let mut index = entry;
        while let Some(e) = self.afl_entry(index) {
            let next = if record == 0 || index != entry {
                Some(e.first_record)
            } else if record < e.last_record {
                Some(record + 1)
            } else {
                None
            };
            if let Some(rec) = next {
                let sfi = e.sfi;
                match commands::read_record(sfi, rec) {
                    Some(c) => self.queue(c),
                    None => {
                        self.end(Outcome::Terminated(Termination::CardData));
                        return;
                    }
                }
                self.state = State::ReadRecord {
                    entry: index,
                    record: rec,
                };
                return;
            }
            index += 1;
        }
        self.step = Step::AfterRecords;
    }

    #[inline(never)]
    fn on_record(&mut self, entry: usize, record: u8, data: &[u8], sw: u16) {
        if sw != 0x9000 {
            self.end(Outcome::Terminated(Termination::CardError));
            return;
        }
        let Some(e) = self.afl_entry(entry) else {
            self.end(Outcome::Terminated(Termination::CardError));
            return;
        };
        let sfi = e.sfi;
        let template = match crate::wire::tlv::parse_one(data, Mode::Strict) {
            Ok(Some((t, rest))) if t.tag().raw() == 0x70 && rest.iter().all(|&b| b == 0) => t,
            _ if sfi > 10 => {
                // Proprietary files: not EMV-coded data; ODA on them fails.
                if e.is_oda_record(record) {
                    self.static_failed();
                }
                return self.next_record(entry, record);
            }
            _ => {
                self.end(Outcome::Terminated(Termination::CardData));
                return;
            }
        };
        if e.is_oda_record(record) {
            match static_data_of_record(sfi, data) {
                Ok(part) => self.keep_static(part),
                Err(_) => self.static_failed(),
            }
        }
        if self.store_template(template.value()).is_err() {
            return;
        }
        self.next_record(entry, record);
    }

    fn keep_static(&mut self, part: &[u8]) {
        if let Work::Records(d) = &mut self.work {
            d.keep(part);
        }
    }

    /// The static data cannot be authenticated (too long, or in a record
    /// that is not EMV-coded).
    fn static_failed(&mut self) {
        if let Work::Records(d) = &mut self.work {
            d.overflow = true;
        }
    }

    #[inline(never)]
    fn after_records(&mut self) {
        // Mandatory data (Book 3 §10.2, §7.2).
        for tag in [0x5F24, 0x5A, 0x8C, 0x8D] {
            if !self.store.contains(Tag::new(tag)) {
                self.end(Outcome::Terminated(Termination::CardData));
                return;
            }
        }
        self.perform_oda();
    }

    // ----- Offline data authentication (Book 3 §10.3) -----

    fn today(&self) -> (u16, u8) {
        date_from_9a(&self.input.date).unwrap_or((2000, 1))
    }

    #[inline(never)]
    fn issuer_key(&self, buf: &mut [u8; MAX_MODULUS_LEN]) -> Result<IssuerPublicKey, OdaError> {
        let g = |t: u32| self.store.get(Tag::new(t)).unwrap_or_default();
        let rid = {
            let aid = g(0x84);
            let mut r = [0u8; 5];
            for (d, s) in r.iter_mut().zip(aid) {
                *d = *s;
            }
            r
        };
        let ca_index = match g(0x8F) {
            &[i] => i,
            _ => return Err(OdaError::MissingData(Tag::new(0x8F))),
        };
        let cert = IssuerCertificate {
            rid,
            ca_index,
            certificate: g(0x90),
            remainder: g(0x92),
            exponent: g(0x9F32),
        };
        recover_issuer_public_key(self.crypto, self.capks, &cert, g(0x5A), self.today(), buf)
    }

    /// The records' static data, unless it could not be kept.
    fn static_records(&self) -> Option<&[u8]> {
        match &self.work {
            Work::Records(d) if !d.overflow => d.data.get(..d.len),
            _ => None,
        }
    }

    fn static_parts(&self) -> Result<([u8; 2], bool), OdaError> {
        if self.static_records().is_none() {
            return Err(OdaError::RecordFormat);
        }
        let with_aip = match self.store.get(Tag::new(0x9F4A)) {
            Some(list) => crate::oda::sda_tag_list_includes_aip(list)?,
            None => false,
        };
        Ok((self.aip.to_bytes(), with_aip))
    }

    #[inline(never)]
    fn perform_oda(&mut self) {
        let caps = self.params.capabilities;
        let aip = self.aip;
        let method = if aip.contains(Aip::CDA_SUPPORTED) && caps.contains(TerminalCapabilities::CDA)
        {
            Some(OdaMethod::Cda)
        } else if aip.contains(Aip::DDA_SUPPORTED) && caps.contains(TerminalCapabilities::DDA) {
            Some(OdaMethod::Dda)
        } else if aip.contains(Aip::SDA_SUPPORTED) && caps.contains(TerminalCapabilities::SDA) {
            Some(OdaMethod::Sda)
        } else {
            None
        };
        self.oda = method;
        let Some(method) = method else {
            self.tvr.set(Tvr::ODA_NOT_PERFORMED);
            self.step = Step::AfterOda;
            return;
        };
        if method == OdaMethod::Sda {
            self.tvr.set(Tvr::SDA_SELECTED);
        }
        let result = self.oda_keys(method);
        match result {
            Err(e) => {
                e.set_tvr(method, &mut self.tvr);
                self.tsi.set(Tsi::ODA_PERFORMED);
                self.step = Step::AfterOda;
            }
            Ok(()) if method == OdaMethod::Dda => {
                // INTERNAL AUTHENTICATE with the card's DDOL or the default.
                let mut data = [0u8; 64];
                match self.dol_data(0x9F49, |p| p.default_ddol, &mut data) {
                    Ok((n, _)) => {
                        self.queue(commands::internal_authenticate(
                            data.get(..n).unwrap_or_default(),
                        ));
                        self.state = State::InternalAuthenticate;
                    }
                    Err(problem) => {
                        if problem == DolProblem::Missing {
                            self.tvr.set(Tvr::ICC_DATA_MISSING);
                        }
                        self.tvr.set(Tvr::DDA_FAILED);
                        self.tsi.set(Tsi::ODA_PERFORMED);
                        self.step = Step::AfterOda;
                    }
                }
            }
            Ok(()) => {
                // SDA done; CDA's signature is checked at GENERATE AC.
                if method == OdaMethod::Sda {
                    self.tsi.set(Tsi::ODA_PERFORMED);
                }
                self.step = Step::AfterOda;
            }
        }
    }

    /// Recovers the keys (and for SDA checks the signed static data).
    #[inline(never)]
    fn oda_keys(&mut self, method: OdaMethod) -> Result<(), OdaError> {
        let mut issuer_buf = [0u8; MAX_MODULUS_LEN];
        let issuer = self.issuer_key(&mut issuer_buf)?;
        let (aip, with_aip) = self.static_parts()?;
        // The field, not `static_records()`: `icc_modulus` is borrowed
        // mutably below.
        let records = match &self.work {
            Work::Records(d) => d.data.get(..d.len).unwrap_or_default(),
            _ => &[],
        };
        let aip_part: &[u8] = if with_aip { &aip } else { &[] };
        let g = |t: u32| self.store.get(Tag::new(t)).unwrap_or_default();
        if method == OdaMethod::Sda {
            verify_static_data(
                self.crypto,
                issuer.public_key(&issuer_buf),
                g(0x93),
                &[records, aip_part],
            )?;
            return Ok(());
        }
        let cert = IccCertificate {
            certificate: g(0x9F46),
            remainder: g(0x9F48),
            exponent: g(0x9F47),
        };
        let today = self.today();
        // Straight into `icc_modulus` (no copy on the stack); it is read only
        // through `icc_key`, which stays `None` when the recovery fails.
        let key = recover_icc_public_key(
            self.crypto,
            issuer.public_key(&issuer_buf),
            &cert,
            &[records, aip_part],
            g(0x5A),
            today,
            &mut self.icc_modulus,
        )?;
        self.icc_key = Some(key);
        Ok(())
    }

    #[inline(never)]
    fn on_internal_authenticate(&mut self, data: &[u8], sw: u16) {
        self.tsi.set(Tsi::ODA_PERFORMED);
        let sdad = match crate::wire::tlv::parse_one(data, Mode::Strict) {
            Ok(Some((t, _))) if sw == 0x9000 && t.tag().raw() == 0x80 => Some(t.value()),
            Ok(Some((t, _))) if sw == 0x9000 && t.tag().raw() == 0x77 => {
                crate::wire::walk::find(t.value(), Tag::new(0x9F4B), Mode::Strict)
                    .ok()
                    .flatten()
                    .map(|x| x.value())
            }
            _ => None,
        };
        // The DDOL data the command carried: the store has not changed since.
        let mut ddol_data = [0u8; 64];
        let ddol_len = self
            .dol_data(0x9F49, |p| p.default_ddol, &mut ddol_data)
            .map_or(0, |(n, _)| n);
        let ddol = ddol_data.get(..ddol_len).unwrap_or_default();
        let ok = match (sdad, self.icc_key) {
            (Some(sdad), Some(key)) => {
                match verify_dda(self.crypto, key.public_key(&self.icc_modulus), sdad, ddol) {
                    Ok(idn) => {
                        let _ = self
                            .store
                            .set(Tag::new(0x9F4C), idn.as_bytes(), Origin::Card);
                        true
                    }
                    Err(_) => false,
                }
            }
            _ => false,
        };
        if !ok {
            self.tvr.set(Tvr::DDA_FAILED);
        }
        self.step = Step::AfterOda;
        self.state = State::Cvm;
    }

    // ----- Restrictions, CVM, TRM (Book 3 §10.4–10.6) -----

    #[inline(never)]
    fn after_oda(&mut self) {
        let g = |t: u32| self.store.get(Tag::new(t));
        let two = |v: Option<&[u8]>| v.and_then(|v| <[u8; 2]>::try_from(v).ok());
        let three = |v: Option<&[u8]>| v.and_then(|v| <[u8; 3]>::try_from(v).ok());
        let input = RestrictionsInput {
            card_version: two(g(0x9F08)),
            terminal_version: self.aid_params().and_then(|p| p.application_version),
            auc: g(0x9F07).and_then(Auc::from_bytes),
            issuer_country: two(g(0x5F28)),
            terminal_country: self.params.country_code,
            transaction_type: TransactionType(self.input.transaction_type),
            amount_other: self.input.amount_other,
            terminal_type: self.params.terminal_type,
            additional_capabilities: self.params.additional_capabilities,
            effective_date: three(g(0x5F25)),
            expiration_date: three(g(0x5F24)),
            transaction_date: self.input.date,
        };
        let status = processing_restrictions(&input, &mut self.trail);
        status.apply_to(&mut self.tvr, &mut self.tsi);
        let ctx = CvmContext {
            aip: self.aip,
            capabilities: self.params.capabilities,
            terminal_type: self.params.terminal_type,
            transaction_type: TransactionType(self.input.transaction_type),
            amount_authorised: self.input.amount,
            amount_other: self.input.amount_other,
            transaction_currency: self.params.currency_code,
            application_currency: two(g(0x9F42)),
        };
        let list = g(0x8E);
        self.cvm = Some(CvmEvaluator::new(ctx, list, self.params.cvm));
        self.state = State::Cvm;
    }

    #[inline(never)]
    fn run_cvm(&mut self) {
        let Some(mut cvm) = self.cvm.take() else {
            return self.risk_management();
        };
        let step = cvm.poll(&mut self.trail);
        match step {
            CvmStep::Done(outcome) => {
                outcome.status.apply_to(&mut self.tvr, &mut self.tsi);
                if outcome.verification != Verification::NotPerformed {
                    self.tsi.set(Tsi::CARDHOLDER_VERIFICATION_PERFORMED);
                }
                self.cvm_results = outcome.results;
                self.risk_management();
            }
            CvmStep::Need(request) => {
                self.cvm = Some(cvm);
                let kind = match request {
                    CvmRequest::NeedOfflinePlaintextPin => PinKind::OfflinePlaintext,
                    CvmRequest::NeedOfflineEncipheredPin => PinKind::OfflineEnciphered,
                    CvmRequest::NeedOnlinePin => PinKind::Online,
                };
                if kind != PinKind::Online && self.tries_left.is_none() {
                    // Read the PIN Try Counter first (Book 3 §10.5.1).
                    if let Some(c) = commands::get_data(Tag::new(0x9F17)) {
                        self.queue(c);
                        self.state = State::GetData { tag: 0x9F17 };
                        return;
                    }
                }
                if self.tries_left == Some(0) && kind != PinKind::Online {
                    self.cvm_result(ActionResult::PinTryLimitExceeded);
                    return;
                }
                self.state = State::AwaitPin { kind };
                self.push_event(Event::NeedPin {
                    kind,
                    tries_left: self.tries_left,
                });
            }
        }
    }

    fn cvm_result(&mut self, r: ActionResult) {
        if let Some(mut cvm) = self.cvm.take() {
            let _ = cvm.provide(r, &mut self.trail);
            self.cvm = Some(cvm);
        }
        self.state = State::Cvm;
    }

    /// The cardholder's PIN entry.
    pub fn handle_pin(&mut self, entry: PinEntry) -> Result<(), MachineError> {
        let State::AwaitPin { kind } = self.state else {
            return Err(MachineError::Unexpected);
        };
        match entry {
            PinEntry::Bypassed => self.cvm_result(ActionResult::Bypassed),
            PinEntry::PinPadNotWorking => self.cvm_result(ActionResult::PinPadNotWorking),
            PinEntry::OnlineCaptured if kind == PinKind::Online => {
                self.cvm_result(ActionResult::Success);
            }
            PinEntry::Digits { .. } if kind != PinKind::Online => {
                self.pin = Some(entry);
                if kind == PinKind::OfflineEnciphered {
                    self.queue(commands::get_challenge());
                    self.state = State::GetChallenge;
                } else {
                    self.send_verify(kind);
                }
            }
            _ => return Err(MachineError::Unexpected),
        }
        Ok(())
    }

    /// Wipes the PIN digits (Book 2 §7 / PCI practice: a PIN does not
    /// outlive its use) and forgets the entry.
    fn forget_pin(&mut self) {
        if let Some(PinEntry::Digits { digits, len }) = &mut self.pin {
            digits.zeroize();
            len.zeroize();
        }
        self.pin = None;
    }

    fn pin_block(&self) -> Option<[u8; 8]> {
        let Some(PinEntry::Digits { digits, len }) = self.pin else {
            return None;
        };
        if !(4..=12).contains(&len) {
            return None;
        }
        let mut nibbles = [0x0Fu8; 14];
        for (n, d) in nibbles.iter_mut().zip(digits.iter().take(usize::from(len))) {
            *n = d & 0x0F;
        }
        let mut block = [0u8; 8];
        block[0] = 0x20 | len;
        for (i, b) in block.iter_mut().skip(1).enumerate() {
            let hi = nibbles.get(2 * i).copied().unwrap_or(0x0F);
            let lo = nibbles.get(2 * i + 1).copied().unwrap_or(0x0F);
            *b = hi << 4 | lo;
        }
        nibbles.zeroize();
        Some(block)
    }

    #[inline(never)]
    fn send_verify(&mut self, kind: PinKind) {
        let Some(mut block) = self.pin_block() else {
            self.forget_pin();
            self.cvm_result(ActionResult::Failed);
            return;
        };
        if kind == PinKind::OfflinePlaintext {
            self.queue(commands::verify(PinFormat::Plaintext, &block));
            block.zeroize();
        } else {
            // 7F ‖ PIN block ‖ ICC challenge ‖ padding, under the ICC key
            // (Book 2 §7.1). The padding is derived from the unpredictable
            // number: the kernel draws no randomness itself [M].
            let Some(key) = self.icc_key else {
                block.zeroize();
                self.forget_pin();
                self.cvm_result(ActionResult::Failed);
                return;
            };
            let pk = key.public_key(&self.icc_modulus);
            let n = pk.modulus.len();
            let mut plain = [0u8; MAX_MODULUS_LEN];
            let mut out = [0u8; MAX_MODULUS_LEN];
            if let Some(p) = plain.get_mut(..n) {
                for (i, b) in p.iter_mut().enumerate() {
                    *b = self
                        .input
                        .unpredictable_number
                        .get(i % 4)
                        .copied()
                        .unwrap_or(0)
                        ^ (i as u8);
                }
                let header = [0x7F].iter().chain(&block).chain(&self.challenge);
                for (dst, src) in p.iter_mut().zip(header) {
                    *dst = *src;
                }
            }
            let ok = self
                .crypto
                .rsa_public(
                    pk.modulus,
                    pk.exponent,
                    plain.get(..n).unwrap_or_default(),
                    out.get_mut(..n).unwrap_or_default(),
                )
                .is_ok();
            block.zeroize();
            plain.zeroize();
            if !ok {
                self.forget_pin();
                self.cvm_result(ActionResult::Failed);
                return;
            }
            let enciphered = out;
            self.queue(commands::verify(
                PinFormat::Enciphered,
                enciphered.get(..n).unwrap_or_default(),
            ));
        }
        self.state = State::Verify { kind };
    }

    fn on_challenge(&mut self, data: &[u8], sw: u16) {
        match (sw, <[u8; 8]>::try_from(data)) {
            (0x9000, Ok(c)) => {
                self.challenge = c;
                self.send_verify(PinKind::OfflineEnciphered);
            }
            _ => {
                self.forget_pin();
                self.cvm_result(ActionResult::Failed);
            }
        }
    }

    fn on_verify(&mut self, kind: PinKind, sw: u16) {
        self.forget_pin();
        // The VERIFY command (plaintext PIN block, or the enciphered one)
        // has been answered: wipe it.
        self.pending_command.zeroize();
        match sw {
            0x9000 => self.cvm_result(ActionResult::Success),
            0x6983 | 0x6984 | 0x63C0 => {
                self.tries_left = Some(0);
                self.cvm_result(ActionResult::PinTryLimitExceeded);
            }
            s if s & 0xFFF0 == 0x63C0 => {
                // Wrong PIN, tries left: ask again.
                let left = (s & 0x0F) as u8;
                self.tries_left = Some(left);
                self.state = State::AwaitPin { kind };
                self.push_event(Event::NeedPin {
                    kind,
                    tries_left: Some(left),
                });
            }
            _ => self.cvm_result(ActionResult::Failed),
        }
    }

    fn on_get_data(&mut self, tag: u32, data: &[u8], sw: u16) {
        let value = crate::wire::tlv::parse_one(data, Mode::Strict)
            .ok()
            .flatten()
            .filter(|(t, _)| sw == 0x9000 && t.tag().raw() == tag)
            .map(|(t, _)| t.value());
        match tag {
            0x9F17 => {
                self.tries_left = Some(value.and_then(|v| v.first().copied()).unwrap_or(0xFF));
                if self.tries_left == Some(0xFF) {
                    self.tries_left = Some(3);
                }
                self.state = State::Cvm;
            }
            0x9F36 | 0x9F13 => {
                if let Some(v) = value {
                    let _ = self.store.set(Tag::new(tag), v, Origin::Card);
                }
                if tag == 0x9F36
                    && let Some(c) = commands::get_data(Tag::new(0x9F13))
                {
                    self.queue(c);
                    self.state = State::GetData { tag: 0x9F13 };
                    return;
                }
                self.finish_risk_management();
            }
            _ => self.finish_risk_management(),
        }
    }

    fn risk_management(&mut self) {
        // Book 3 §10.6.3: velocity checking only when the card has both
        // consecutive offline limits; otherwise no GET DATA at all.
        let velocity = self.aid_params().is_some_and(|p| p.velocity_checking)
            && self.store.contains(Tag::new(0x9F14))
            && self.store.contains(Tag::new(0x9F23));
        if crate::contact::trm::is_requested_by_card(self.aip)
            && velocity
            && let Some(c) = commands::get_data(Tag::new(0x9F36))
        {
            self.queue(c);
            self.state = State::GetData { tag: 0x9F36 };
            return;
        }
        self.finish_risk_management();
    }

    #[inline(never)]
    fn finish_risk_management(&mut self) {
        if crate::contact::trm::is_requested_by_card(self.aip) {
            let g = |t: u32| self.store.get(Tag::new(t));
            let u16_of = |v: Option<&[u8]>| {
                v.and_then(|v| <[u8; 2]>::try_from(v).ok())
                    .map(u16::from_be_bytes)
            };
            let params = self.aid_params();
            let pan = g(0x5A).unwrap_or_default();
            let psn = g(0x5F34).and_then(|v| v.first().copied());
            let input = TrmInput {
                amount: self.input.amount,
                floor_limit: params.map_or(0, |p| p.floor_limit),
                random_selection: params.and_then(|p| p.random_selection),
                random_number: self.input.random_number,
                velocity: if params.is_some_and(|p| p.velocity_checking) {
                    Velocity {
                        lower_limit: g(0x9F14).and_then(|v| v.first().copied()),
                        upper_limit: g(0x9F23).and_then(|v| v.first().copied()),
                        atc: u16_of(g(0x9F36)),
                        last_online_atc: u16_of(g(0x9F13)),
                    }
                } else {
                    Velocity::default()
                },
                in_exception_file: self
                    .params
                    .exception_file
                    .iter()
                    .any(|e| e.matches(pan, psn)),
            };
            let outcome = terminal_risk_management(&input, &mut self.trail);
            outcome.status.apply_to(&mut self.tvr, &mut self.tsi);
        }
        self.action_analysis();
    }

    // ----- Terminal and card action analysis (Book 3 §10.7–10.8) -----

    fn taa_input(&self) -> TaaInput {
        let g = |t: u32| {
            self.store
                .get(Tag::new(t))
                .and_then(|v| <[u8; 5]>::try_from(v).ok())
        };
        TaaInput {
            tvr: self.tvr,
            tac: self.aid_params().map_or(
                ActionCodes {
                    denial: [0; 5],
                    online: [0; 5],
                    default: [0; 5],
                },
                |p| p.tac,
            ),
            iac: IssuerActionCodes {
                denial: g(0x9F0E),
                online: g(0x9F0F),
                default: g(0x9F0D),
            },
            terminal_type: self.params.terminal_type,
        }
    }

    #[inline(never)]
    fn action_analysis(&mut self) {
        let decision = first_generate_ac(&self.taa_input(), &mut self.trail);
        self.requested = decision.cryptogram;
        self.send_genac(false, decision.cryptogram);
    }

    /// Builds the related data of the card's DOL `tag`, or of the AID's
    /// default DOL (`default`) when the card has none. Returns the length
    /// and whether the default was used.
    fn dol_data(
        &self,
        tag: u32,
        default: fn(&AidParams<'a>) -> &'a [u8],
        out: &mut [u8],
    ) -> Result<(usize, bool), DolProblem> {
        let card = self.store.get(Tag::new(tag));
        let default_used = card.is_none();
        let list = card
            .or_else(|| self.aid_params().map(|p| default(&p)))
            .filter(|l| !l.is_empty())
            .ok_or(DolProblem::Missing)?;
        let n = dol::build(list, &self.store, out).map_err(|_| DolProblem::Malformed)?;
        Ok((n, default_used))
    }

    #[inline(never)]
    fn tdol_hash(&mut self, cdol: &[u8]) {
        // TC Hash Value (98) when the CDOL asks for it (Book 3 §10.8).
        if !dol::entries(cdol).flatten().any(|e| e.tag.raw() == 0x98) {
            return;
        }
        let mut data = [0u8; 128];
        let n = match self.dol_data(0x97, |p| p.default_tdol, &mut data) {
            Ok((n, default_used)) => {
                if default_used {
                    self.tvr.set(Tvr::DEFAULT_TDOL_USED);
                }
                n
            }
            // No TDOL at all: the hash of empty data (Book 3 §10.8) [M].
            Err(_) => 0,
        };
        let hash = self.crypto.sha1(&[data.get(..n).unwrap_or_default()]);
        self.set(0x98, &hash);
    }

    #[inline(never)]
    fn send_genac(&mut self, second: bool, kind: CryptogramType) {
        self.sync_status();
        let cdol_tag = if second { 0x8D } else { 0x8C };
        let mut cdol = [0u8; 252];
        let src = self.store.get(Tag::new(cdol_tag)).unwrap_or_default();
        let cl = src.len().min(252);
        if let (Some(d), Some(s)) = (cdol.get_mut(..cl), src.get(..cl)) {
            d.copy_from_slice(s);
        }
        let cdol = cdol.get(..cl).unwrap_or_default();
        self.tdol_hash(cdol);
        self.sync_status();
        let mut data = [0u8; 128];
        let n = match dol::build(cdol, &self.store, &mut data) {
            Ok(n) => n,
            Err(_) => {
                self.end(Outcome::Terminated(Termination::CardData));
                return;
            }
        };
        let cda = self.oda == Some(OdaMethod::Cda) && kind != CryptogramType::Aac;
        let p1 = kind.bits() | if cda { 0x10 } else { 0 };
        if !second {
            self.cdol1_data = data;
            self.cdol1_len = n;
        }
        self.queue(commands::generate_ac(p1, data.get(..n).unwrap_or_default()));
        if second {
            self.cdol2_data = data;
            self.cdol2_len = n;
        }
        self.state = if second { State::GenAc2 } else { State::GenAc1 };
        self.tsi.set(Tsi::CARD_RISK_MANAGEMENT_PERFORMED);
    }

    #[inline(never)]
    fn on_genac(&mut self, second: bool, data: &[u8], sw: u16) {
        if sw != 0x9000 {
            self.end(Outcome::Terminated(Termination::CardError));
            return;
        }
        let Ok(Some((t, rest))) = crate::wire::tlv::parse_one(data, Mode::Strict) else {
            self.end(Outcome::Terminated(Termination::CardError));
            return;
        };
        if !rest.iter().all(|&b| b == 0) {
            self.end(Outcome::Terminated(Termination::CardError));
            return;
        }
        // Format 1: 80 [CID ATC AC IAD]; format 2: 77 template.
        for tag in [0x9F27, 0x9F36, 0x9F26, 0x9F10, 0x9F4B] {
            self.store.remove(Tag::new(tag));
        }
        match t.tag().raw() {
            0x80 => {
                let v = t.value();
                let (Some(&cid), Some(atc), Some(ac)) = (v.first(), v.get(1..3), v.get(3..11))
                else {
                    self.end(Outcome::Terminated(Termination::CardError));
                    return;
                };
                let iad = v.get(11..).unwrap_or_default();
                let _ = self.store.set(Tag::new(0x9F27), &[cid], Origin::Card);
                let _ = self.store.set(Tag::new(0x9F36), atc, Origin::Card);
                let _ = self.store.set(Tag::new(0x9F26), ac, Origin::Card);
                if !iad.is_empty() {
                    let _ = self.store.set(Tag::new(0x9F10), iad, Origin::Card);
                }
            }
            0x77 => {
                for node in TlvIter::new(t.value(), Mode::Strict) {
                    let Ok(o) = node else {
                        self.end(Outcome::Terminated(Termination::CardError));
                        return;
                    };
                    let _ = self.store.set(o.tag(), o.value(), Origin::Card);
                }
            }
            _ => {
                self.end(Outcome::Terminated(Termination::CardError));
                return;
            }
        }
        let Some(&[cid]) = self.store.get(Tag::new(0x9F27)) else {
            self.end(Outcome::Terminated(Termination::CardData));
            return;
        };
        let kind = CryptogramType::from_code(cid >> 6);
        let requested = self.requested;
        // The card may not return more than was asked (AAC < TC < ARQC).
        let rank = |k: CryptogramType| match k {
            CryptogramType::Aac => 0,
            CryptogramType::Tc => 1,
            CryptogramType::Arqc => 2,
            CryptogramType::Rfu => 3,
        };
        if kind == CryptogramType::Rfu
            || (rank(kind) > rank(requested)
                && !(kind == CryptogramType::Arqc && requested == CryptogramType::Tc && !second))
        {
            self.end(Outcome::Terminated(Termination::CryptogramType));
            return;
        }
        // Book 3 §10.8: the CID's advice bit and reason code.
        let cid_view = Cid(cid);
        if cid_view.advice_required() || cid_view.reason() != ReasonCode::NoInformation {
            self.trail.record(TrailEntry::new(
                Phase::CardActionAnalysis,
                if cid_view.advice_required() {
                    "advice required"
                } else {
                    "reason code"
                },
                Detail::Cid(cid),
            ));
        }
        if cid_view.advice_required() {
            self.advice = Some(cid_view);
        }
        if SERVICE_NOT_ALLOWED_TERMINATES && cid_view.reason() == ReasonCode::ServiceNotAllowed {
            self.sync_status();
            self.end(Outcome::Terminated(Termination::ServiceNotAllowed));
            return;
        }
        // CDA (Book 2 §6.6): the AC is inside the signature.
        let mut cda_failed = false;
        if self.oda == Some(OdaMethod::Cda) && kind != CryptogramType::Aac {
            self.tsi.set(Tsi::ODA_PERFORMED);
            cda_failed = !self.check_cda(second, data, cid);
            if cda_failed {
                self.tvr.set(Tvr::CDA_FAILED);
            }
        }
        self.sync_status();
        if second {
            // The AAC asked for after CDA failed on an ARQC: declined
            // offline, nothing went online.
            let offline_decline = self.online_arc == Some(*b"Z1");
            let outcome = match (kind, self.unable_online, cda_failed) {
                _ if offline_decline => Outcome::DeclinedOffline,
                (CryptogramType::Tc, false, false) => Outcome::OnlineApproved,
                (CryptogramType::Tc, true, false) => Outcome::ApprovedUnableOnline,
                (_, true, _) => Outcome::DeclinedUnableOnline,
                _ => Outcome::OnlineDeclined,
            };
            self.pending_outcome = Some(outcome);
            self.state = State::Script {
                after: true,
                offset: 0,
            };
            self.advance_scripts();
            return;
        }
        match (kind, cda_failed) {
            (CryptogramType::Tc, false) => self.end(Outcome::ApprovedOffline),
            (CryptogramType::Arqc, false) => {
                self.state = State::AwaitOnline;
                self.push_event(Event::GoOnline);
            }
            (CryptogramType::Arqc, true) => {
                // Book 3 §10.8: CDA failed on an ARQC: decline offline
                // (ARC Z1) with an AAC.
                self.online_arc = Some(*b"Z1");
                self.requested = CryptogramType::Aac;
                self.send_genac(true, CryptogramType::Aac);
            }
            _ => self.end(Outcome::DeclinedOffline),
        }
    }

    #[inline(never)]
    fn check_cda(&mut self, second: bool, response: &[u8], cid: u8) -> bool {
        let Some(key) = self.icc_key else {
            return false;
        };
        let Ok(Some((t, _))) = crate::wire::tlv::parse_one(response, Mode::Strict) else {
            return false;
        };
        let Some(sdad) = self.store.get(Tag::new(0x9F4B)) else {
            return false;
        };
        let pdol = self.pdol_data.get(..self.pdol_len).unwrap_or_default();
        let cdol1 = self.cdol1_data.get(..self.cdol1_len).unwrap_or_default();
        let cdol2 = second.then(|| self.cdol2_data.get(..self.cdol2_len).unwrap_or_default());
        let Ok(tdhc) = transaction_data_hash_code(
            self.crypto,
            pdol,
            cdol1,
            cdol2,
            response.get(..t.encoded_len()).unwrap_or_default(),
        ) else {
            return false;
        };
        match verify_cda(
            self.crypto,
            key.public_key(&self.icc_modulus),
            sdad,
            self.input.unpredictable_number,
            cid,
            &tdhc,
        ) {
            Ok(r) => {
                let (ac, idn) = (r.ac, r.idn);
                let _ = self.store.set(Tag::new(0x9F26), &ac, Origin::Card);
                let _ = self
                    .store
                    .set(Tag::new(0x9F4C), idn.as_bytes(), Origin::Card);
                true
            }
            Err(_) => false,
        }
    }

    // ----- Online processing, scripts, completion (Book 3 §10.9–10.11) -----

    /// The issuer's answer, or [`OnlineResponse::Unable`].
    pub fn handle_online(&mut self, response: OnlineResponse<'_>) -> Result<(), MachineError> {
        if self.state != State::AwaitOnline {
            return Err(MachineError::Unexpected);
        }
        match response {
            OnlineResponse::Unable => {
                self.unable_online = true;
                self.online_arc = Some(*b"Z3");
                let decision = unable_to_go_online(&self.taa_input(), &mut self.trail);
                self.requested = decision.cryptogram;
                self.set(0x8A, b"Z3");
                self.send_genac(true, decision.cryptogram);
            }
            OnlineResponse::Response {
                arc,
                issuer_authentication_data,
                scripts,
            } => {
                self.online_arc = Some(arc);
                let _ = self.store.set(Tag::new(0x8A), &arc, Origin::Issuer);
                if !issuer_authentication_data.is_empty() {
                    let _ =
                        self.store
                            .set(Tag::new(0x91), issuer_authentication_data, Origin::Issuer);
                }
                // ODA is over: the static data's memory keeps the scripts.
                self.work = Work::Online(Scripts::new());
                if let Work::Online(kept) = &mut self.work {
                    kept.keep(scripts);
                }
                if scripts.len() > MAX_SCRIPT_DATA {
                    self.tvr.set(Tvr::SCRIPT_FAILED_BEFORE_FINAL_GENERATE_AC);
                }
                // Issuer authentication by EXTERNAL AUTHENTICATE unless
                // the card takes it in the 2nd GENERATE AC (91 in CDOL2).
                let in_cdol2 = self
                    .store
                    .get(Tag::new(0x8D))
                    .is_some_and(|c| dol::entries(c).flatten().any(|e| e.tag.raw() == 0x91));
                if self.aip.contains(Aip::ISSUER_AUTHENTICATION_SUPPORTED)
                    && !issuer_authentication_data.is_empty()
                {
                    if in_cdol2 {
                        self.tsi.set(Tsi::ISSUER_AUTHENTICATION_PERFORMED);
                        self.state = State::Script {
                            after: false,
                            offset: 0,
                        };
                    } else {
                        let mut d = [0u8; 16];
                        let n = issuer_authentication_data.len().min(16);
                        if let (Some(dst), Some(src)) =
                            (d.get_mut(..n), issuer_authentication_data.get(..n))
                        {
                            dst.copy_from_slice(src);
                        }
                        self.queue(commands::external_authenticate(
                            d.get(..n).unwrap_or_default(),
                        ));
                        self.state = State::ExternalAuthenticate;
                    }
                } else {
                    self.state = State::Script {
                        after: false,
                        offset: 0,
                    };
                }
            }
        }
        self.advance_scripts();
        Ok(())
    }

    /// Sends the next script command of the right template, or moves on.
    #[inline(never)]
    fn advance_scripts(&mut self) {
        let after = loop {
            let State::Script { after, offset } = self.state else {
                return;
            };
            match self.script_command(after, offset) {
                None => break after,
                Some((Ok(n), cursor)) => {
                    self.tsi.set(Tsi::SCRIPT_PROCESSING_PERFORMED);
                    self.pending_len = n;
                    self.current_script = cursor;
                    return;
                }
                Some((Err(()), cursor)) => {
                    // A command that cannot be sent fails its script there.
                    self.tsi.set(Tsi::SCRIPT_PROCESSING_PERFORMED);
                    self.current_script = cursor;
                    self.script_result(after, false);
                }
            }
        };
        // All of this template sent.
        if after {
            let outcome = self.pending_outcome.unwrap_or(Outcome::OnlineDeclined);
            self.sync_status();
            self.end(outcome);
        } else {
            let approve = self.online_arc.is_some_and(is_approving_arc);
            let kind = if approve {
                CryptogramType::Tc
            } else {
                CryptogramType::Aac
            };
            self.requested = kind;
            self.send_genac(true, kind);
        }
    }

    /// Copies the issuer script command number `offset` (counting the `86`
    /// commands of the templates `72` when `after`, else `71`) into the
    /// pending command: its length, or `Err` when it cannot be a command
    /// (shorter than 4 bytes or too long), with its place in its script;
    /// `None` when all were sent.
    fn script_command(
        &mut self,
        after: bool,
        offset: usize,
    ) -> Option<(Result<usize, ()>, ScriptCursor)> {
        let Work::Online(scripts) = &self.work else {
            return None;
        };
        let wanted = if after { 0x72 } else { 0x71 };
        // Walk the templates and their 86 commands; `offset` counts commands
        // already sent (or skipped) of this template kind.
        let mut seen = 0usize;
        for template in TlvIter::new(scripts.as_slice(), Mode::Strict).map_while(Result::ok) {
            if template.tag().raw() != wanted {
                continue;
            }
            let commands = || {
                TlvIter::new(template.value(), Mode::Strict)
                    .map_while(Result::ok)
                    .filter(|c| c.tag().raw() == 0x86)
            };
            let count = commands().count();
            if offset >= seen + count {
                seen += count;
                continue;
            }
            let sequence = offset - seen + 1;
            let cmd = commands().nth(sequence - 1)?;
            let cursor = ScriptCursor {
                id: crate::wire::walk::find(template.value(), Tag::new(0x9F18), Mode::Strict)
                    .ok()
                    .flatten()
                    .and_then(|t| <[u8; 4]>::try_from(t.value()).ok())
                    .unwrap_or([0; 4]),
                sequence,
                last: sequence == count,
                next_script: seen + count,
            };
            let n = cmd.value().len();
            return Some((
                match self.pending_command.get_mut(..n) {
                    Some(dst) if n >= 4 => {
                        dst.copy_from_slice(cmd.value());
                        Ok(n)
                    }
                    _ => Err(()),
                },
                cursor,
            ));
        }
        None
    }

    /// Records the result of the script at [`Self::current_script`] in the
    /// Issuer Script Results (`9F5B`, Book 4 Annex A5: 5 bytes per script:
    /// result in b8–b5, 0 not performed, 1 failed, 2 successful; in b4–b1
    /// the sequence number of the failing command, 0 when not specified
    /// (success), F for 15 and above; then the Script Identifier) and moves
    /// to the next script.
    fn script_result(&mut self, after: bool, ok: bool) {
        let cursor = self.current_script;
        let result = if ok {
            0x20
        } else {
            self.script_failed(after);
            0x10 | u8::try_from(cursor.sequence).unwrap_or(0x0F).min(0x0F)
        };
        let at = self.script_results_len;
        if let Some(dst) = self.script_results.get_mut(at..at + 5) {
            let entry = [result].into_iter().chain(cursor.id);
            for (d, v) in dst.iter_mut().zip(entry) {
                *d = v;
            }
            self.script_results_len += 5;
            let r = self.script_results;
            let _ = self.store.set(
                Tag::new(0x9F5B),
                r.get(..self.script_results_len).unwrap_or_default(),
                Origin::Terminal,
            );
        }
        self.state = State::Script {
            after,
            offset: cursor.next_script,
        };
    }

    fn script_failed(&mut self, after: bool) {
        if after {
            self.tvr.set(Tvr::SCRIPT_FAILED_AFTER_FINAL_GENERATE_AC);
        } else {
            self.tvr.set(Tvr::SCRIPT_FAILED_BEFORE_FINAL_GENERATE_AC);
        }
    }

    #[inline(never)]
    fn on_script(&mut self, after: bool, offset: usize, sw: u16) {
        // Book 3 §10.10: SW1 90, 62 or 63 is success; anything else ends
        // that script (its remaining commands are not sent) and processing
        // goes on with the next script.
        let ok = sw == 0x9000 || sw >> 8 == 0x62 || sw >> 8 == 0x63;
        if ok && !self.current_script.last {
            self.state = State::Script {
                after,
                offset: offset + 1,
            };
        } else {
            self.script_result(after, ok);
        }
        self.advance_scripts();
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod pin_hygiene_tests {
    //! The PIN leaves nothing behind once VERIFY has been answered.

    use super::*;
    use crate::crypto::SoftwareCrypto;
    use crate::data::terminal_type::TerminalType;
    use crate::oda::StaticCapkStore;

    #[test]
    fn verify_command_and_digits_are_wiped_after_the_answer() {
        let data: [(Tag, &[u8]); 0] = [];
        let params = TerminalParams {
            terminal_type: TerminalType::from_byte(0x22).unwrap(),
            capabilities: TerminalCapabilities::new([0xE0, 0xF8, 0xC8]),
            additional_capabilities: AdditionalTerminalCapabilities::new([0x60, 0, 0xF0, 0xA0, 1]),
            country_code: [0x08, 0x40],
            currency_code: [0x08, 0x40],
            data: &data,
            aids: &[],
            aid_params: &[],
            selection: selection::Options::default(),
            cvm: CvmOptions::DEFAULT,
            exception_file: &[],
        };
        let input = TransactionInput {
            amount: 500,
            amount_other: 0,
            transaction_type: 0,
            date: [0x26, 0x11, 0x28],
            time: [0x12, 0, 0],
            unpredictable_number: [1, 2, 3, 4],
            random_number: 50,
            sequence_counter: 1,
        };
        let store = StaticCapkStore::default();
        let crypto = SoftwareCrypto;
        let mut t = Transaction::new(params, input, &crypto, &store);
        t.pin = Some(PinEntry::Digits {
            digits: [1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0],
            len: 4,
        });
        t.send_verify(PinKind::OfflinePlaintext);
        let block = [0x24, 0x12, 0x34, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF];
        let holds_block = |t: &Transaction<'_, SoftwareCrypto, StaticCapkStore<'_>>| {
            t.pending_command.windows(8).any(|w| w == block)
        };
        assert!(holds_block(&t), "VERIFY carries the plaintext PIN block");
        t.on_verify(PinKind::OfflinePlaintext, 0x9000);
        assert!(!holds_block(&t), "the PIN block outlived VERIFY");
        assert!(t.pin.is_none());
        // A transaction reset before VERIFY is answered wipes it too.
        t.pin = Some(PinEntry::Digits {
            digits: [1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0],
            len: 4,
        });
        t.send_verify(PinKind::OfflinePlaintext);
        assert!(holds_block(&t));
        t.reset(input);
        assert!(!holds_block(&t));
        assert!(t.pin.is_none());
    }
}
