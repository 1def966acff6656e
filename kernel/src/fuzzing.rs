//! Entry points shared by the `fuzz/` targets (cargo-fuzz, nightly) and the
//! ordinary tests that replay the committed seeds on stable.
//!
//! Each function feeds arbitrary bytes to a parser and checks the invariants
//! that must hold for any input: no panic, offsets inside the input, and
//! whatever parses re-encodes consistently. An invariant violation is a bug,
//! reported by `assert!` so the fuzzer records the input.

use crate::Tag;
use crate::data::explain::explain;
use crate::wire::apdu::{CommandApdu, ResponseApdu};
use crate::wire::dol;
use crate::wire::tlv::{Mode, TlvIter};
use crate::wire::walk::{MAX_DEPTH, Walk, find, validate};

/// A `fmt::Write` sink that discards text.
struct Sink;

impl core::fmt::Write for Sink {
    fn write_str(&mut self, _s: &str) -> core::fmt::Result {
        Ok(())
    }
}

/// BER-TLV: iterate, walk, find and explain in both modes.
pub fn tlv(data: &[u8]) {
    for mode in [Mode::Strict, Mode::Canonical, Mode::Lenient] {
        let mut end = 0;
        for tlv in TlvIter::new(data, mode).flatten() {
            assert!(tlv.offset() >= end, "objects are in order");
            end = tlv.offset() + tlv.encoded_len();
            assert!(end <= data.len(), "object inside the input");
        }
        let walked_ok = Walk::<MAX_DEPTH>::new(data, mode).all(|n| {
            if let Ok(n) = n {
                let _ = explain(n.tlv.tag(), n.tlv.value(), &mut Sink);
                n.tlv.offset() + n.tlv.encoded_len() <= data.len()
            } else {
                true
            }
        });
        assert!(walked_ok, "walked objects inside the input");
        let valid = validate(data, mode).is_ok();
        if valid {
            // A valid stream's first top-level tag is found.
            if let Some(Ok(first)) = TlvIter::new(data, mode).next() {
                assert!(matches!(find(data, first.tag(), mode), Ok(Some(_))));
            }
        }
    }
    if let (Some(&a), Some(&b)) = (data.first(), data.get(1)) {
        let _ = explain(Tag::new(u32::from(a) << 8 | u32::from(b)), data, &mut Sink);
        let _ = explain(Tag::new(u32::from(a)), data, &mut Sink);
    }
}

/// DOL: parse, build (from the input itself as every element), split.
pub fn dol(data: &[u8]) {
    let len = dol::related_data_len(data);
    let mut out = [0u8; 512];
    let source = [
        (Tag::new(0x9F02), data),
        (Tag::new(0x5A), data),
        (Tag::new(0x9F37), data),
        (Tag::new(0x50), data),
    ];
    let built = dol::build(data, &source, &mut out);
    assert!(
        !(len.is_err() && built.is_ok()),
        "DOL build succeeded on a DOL that does not parse"
    );
    match (len, built) {
        (Ok(n), Ok(m)) => assert_eq!(n, m, "built length equals the DOL's"),
        (Ok(n), Err(_)) => assert!(n > out.len(), "only a too-small buffer fails"),
        _ => {}
    }
    let mut total = 0;
    for part in dol::split(data, data).flatten() {
        total += part.1.len();
    }
    assert!(total <= data.len());
}

/// C-APDU and R-APDU parsing; what parses re-encodes to the same bytes.
pub fn apdu(data: &[u8]) {
    if let Ok((c, encoding)) = CommandApdu::parse(data) {
        let mut buf = [0u8; 65_544];
        let n = c.emit(&mut buf, encoding);
        assert_eq!(n.ok().and_then(|n| buf.get(..n)), Some(data), "re-encodes");
    }
    if let Ok(r) = ResponseApdu::parse(data) {
        assert_eq!(r.data.len() + 2, data.len());
        let _ = r.sw.meaning();
    }
}

/// A crypto provider for the `contact` target: a SHA-1 stand-in (a byte
/// fold, no real hash) and an RSA "public operation" that checks its inputs
/// like every provider must and then returns the input unchanged. With the
/// empty CA key store the target uses, offline data authentication fails
/// before either matters; the provider keeps the target free of the
/// `rustcrypto` feature and fast.
struct PermissiveCrypto;

/// State of [`PermissiveCrypto`]'s hash stand-in.
struct FoldSha1([u8; crate::crypto::SHA1_LEN], usize);

impl crate::crypto::Sha1State for FoldSha1 {
    fn update(&mut self, data: &[u8]) {
        for &b in data {
            let i = self.1 % crate::crypto::SHA1_LEN;
            if let Some(slot) = self.0.get_mut(i) {
                *slot = slot.rotate_left(3) ^ b;
            }
            self.1 = self.1.wrapping_add(1);
        }
    }

    fn finalize(self) -> [u8; crate::crypto::SHA1_LEN] {
        self.0
    }
}

impl crate::crypto::CryptoProvider for PermissiveCrypto {
    type Sha1 = FoldSha1;

    fn sha1_start(&self) -> FoldSha1 {
        FoldSha1([0; crate::crypto::SHA1_LEN], 0)
    }

    fn rsa_public(
        &self,
        modulus: &[u8],
        exponent: &[u8],
        input: &[u8],
        output: &mut [u8],
    ) -> Result<(), crate::crypto::CryptoError> {
        crate::crypto::check_rsa_public(modulus, exponent, input, output)?;
        output.copy_from_slice(input);
        Ok(())
    }
}

/// The R-APDUs of the `contact` target: a length then that many bytes,
/// repeated (a short last one takes what is left). The length is one byte
/// `00`..=`FE`, or `FF` and two more bytes (big-endian) for longer
/// responses (up to 258 bytes in a short R-APDU, more to test the limits).
struct Responses<'a>(&'a [u8]);

impl<'a> Iterator for Responses<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let (&len, rest) = self.0.split_first()?;
        let (len, rest) = match (len, rest) {
            (0xFF, [hi, lo, rest @ ..]) => (u16::from_be_bytes([*hi, *lo]), rest),
            (len, rest) => (u16::from(len), rest),
        };
        let (item, rest) = rest.split_at(usize::from(len).min(rest.len()));
        self.0 = rest;
        Some(item)
    }
}

/// Most commands (and so card responses) one `contact` run may take beyond
/// the responses in the input: once the input is used up every command is
/// answered `6F 00`, which ends the transaction within a few more commands.
const CONTACT_EXTRA_STEPS: usize = 300;

/// A whole contact transaction ([`crate::contact::machine::Transaction`]),
/// driven as `kernel/tests/machine_props.rs` drives it, with the card's
/// R-APDUs taken from `data`.
///
/// Layout: byte 0 = bit 0 online response (0: unable to go online, 1: an
/// approving ARC with issuer authentication data and a script), bit 1 PIN
/// bypassed instead of entered; byte 1 = TAC-online byte 1; the rest is
/// R-APDUs, each a length and that many bytes (the length is one byte
/// `00`..=`FE`, or `FF` and two bytes big-endian); after the last, every
/// command gets `6F 00`. The terminal knows three AIDs: Visa, Mastercard
/// (exact match) and UnionPay `A0 00 00 03 33 01 01` (partial selection).
///
/// Invariants: no panic; the API calls a correct terminal makes are accepted;
/// the transaction ends within (number of responses + 300) commands; an
/// approval outcome (offline, online, or unable-online) only when the card's
/// last cryptogram (`9F27` in the store after the last response) is a TC —
/// the oracle of `machine_props.rs`, extended to the online approvals
/// (EMV Book 3 §9.3: the terminal approves only with a TC from the card).
/// Returns the outcome (for the seed replay's sanity checks).
pub fn contact(data: &[u8]) -> Option<crate::contact::machine::Outcome> {
    use crate::contact::cvm::CvmOptions;
    use crate::contact::machine::{
        AidParams, Event, OnlineResponse, Outcome, PinEntry, TerminalParams, Transaction,
        TransactionInput,
    };
    use crate::contact::taa::ActionCodes;
    use crate::data::additional_terminal_capabilities::AdditionalTerminalCapabilities;
    use crate::data::terminal_capabilities::TerminalCapabilities;
    use crate::data::terminal_type::TerminalType;
    use crate::oda::StaticCapkStore;
    use crate::selection::{Options, TerminalAid};

    // Visa, Mastercard and UnionPay credit: the AIDs of the public traces in
    // vectors/traces/binaryfoo that the seeds were made from.
    const AIDS: [&[u8]; 3] = [
        &[0xA0, 0, 0, 0, 3, 0x10, 0x10],
        &[0xA0, 0, 0, 0, 4, 0x10, 0x10],
        &[0xA0, 0, 0, 3, 0x33, 0x01, 0x01],
    ];
    let (flags, tac_online, rest) = match data {
        [a, b, rest @ ..] => (*a, *b, rest),
        _ => return None,
    };
    let aids = AIDS.map(|aid| TerminalAid {
        aid,
        partial_selection: aid.len() < 8 && aid.get(4) == Some(&0x33),
    });
    let aid_params = [AidParams {
        application_version: None,
        floor_limit: 1000,
        tac: ActionCodes {
            denial: [0; 5],
            online: [tac_online, 0, 0, 0, 0],
            default: [0; 5],
        },
        random_selection: None,
        default_ddol: &[0x9F, 0x37, 0x04],
        default_tdol: &[],
        velocity_checking: true,
    }; 3];
    let Ok(terminal_type) = TerminalType::from_byte(0x22) else {
        return None;
    };
    let params = TerminalParams {
        terminal_type,
        capabilities: TerminalCapabilities::new([0xE0, 0xF8, 0xC8]),
        additional_capabilities: AdditionalTerminalCapabilities::new([0x60, 0, 0xF0, 0xA0, 0x01]),
        country_code: [0x08, 0x40],
        currency_code: [0x08, 0x40],
        data: &[],
        aids: &aids,
        aid_params: &aid_params,
        selection: Options::default(),
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
    let crypto = PermissiveCrypto;
    let mut t = Transaction::new(params, input, &crypto, &store);
    let mut responses = Responses(rest);
    let bound = rest.len().saturating_add(CONTACT_EXTRA_STEPS);
    let mut last_cid = None;
    let mut outcome = None;
    let mut steps = 0usize;
    let mut idle = 0u8;
    while outcome.is_none() {
        let mut events = 0usize;
        while let Some(e) = t.poll_event() {
            events += 1;
            assert!(events <= 64, "the kernel reports events without end");
            match e {
                Event::ChooseApplication => assert!(t.choose(0).is_ok(), "choose(0)"),
                Event::ConfirmApplication { .. } => assert!(t.confirm(true).is_ok(), "confirm"),
                Event::TryAgain => {}
                Event::NeedPin { .. } => {
                    let entry = if flags & 2 == 0 {
                        PinEntry::Digits {
                            digits: [1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0],
                            len: 4,
                        }
                    } else {
                        PinEntry::Bypassed
                    };
                    // Not every PIN kind takes digits; the online capture
                    // is then the answer, as in machine_props.rs.
                    let _ = t
                        .handle_pin(entry)
                        .or_else(|_| t.handle_pin(PinEntry::OnlineCaptured));
                }
                Event::GoOnline => {
                    let r = if flags & 1 == 0 {
                        OnlineResponse::Unable
                    } else {
                        OnlineResponse::Response {
                            arc: *b"00",
                            issuer_authentication_data: &[1; 10],
                            scripts: &[0x71, 0x04, 0x86, 0x02, 0x84, 0x1E],
                        }
                    };
                    assert!(t.handle_online(r).is_ok(), "handle_online after GoOnline");
                }
                Event::Outcome(o) => outcome = Some(o),
            }
        }
        if outcome.is_some() {
            break;
        }
        let mut cmd = [0u8; 261];
        let sent = t.poll_transmit(&mut cmd);
        assert!(sent.is_ok(), "a 261-byte buffer holds any short command");
        if let Ok(Some(_)) = sent {
            steps += 1;
            assert!(steps <= bound, "the transaction does not end");
            let r = responses.next().unwrap_or(&[0x6F, 0x00]);
            assert!(t.handle_response(r).is_ok(), "response to a sent command");
            last_cid = t
                .store()
                .get(Tag::new(0x9F27))
                .and_then(|v| v.first().copied());
        } else {
            // Nothing to send and no event twice in a row: the machine is stuck.
            idle = if events == 0 { idle + 1 } else { 0 };
            assert!(idle < 2, "no command, no event and no outcome");
        }
    }
    if matches!(
        outcome,
        Some(Outcome::ApprovedOffline | Outcome::OnlineApproved | Outcome::ApprovedUnableOnline)
    ) {
        assert_eq!(
            last_cid.map(|c| c & 0xC0),
            Some(0x40),
            "approval without a TC: {outcome:?}"
        );
    }
    outcome
}
