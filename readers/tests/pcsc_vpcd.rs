#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! The PC/SC back-end against a real `pcscd`: simulated cards are served to
//! vsmartcard's vpcd reader driver with [`VpcdServer`], and [`emv_readers::pcsc`]
//! talks to them exactly as to a card in a physical reader. No mocks.
//!
//! The tests do not start `pcscd` (CI does, with `bash scripts/pcscd.sh start`).
//! Without a reachable `pcscd` or a vpcd reader they print why and pass, unless
//! `EMV_REQUIRE_PCSC=1`, in which case they fail.
//!
//! Run them here:
//! `bash scripts/pcscd.sh start && EMV_REQUIRE_PCSC=1 cargo test -p emv-readers --features pcsc-tests -- --nocapture; bash scripts/pcscd.sh stop`
//!
//! The vpcd slots are shared with `test-cards/tests/pcscd_vpcd.rs`: each test takes a
//! slot without a card (preferring `"Virtual PCD 00 00"`), and the tests of this file run
//! one at a time.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use emv_hal::channel::CardChannel;
use emv_hal::slot::ContactSlot;
use emv_kernel::contact::machine::Outcome;
use emv_readers::pcsc::{
    Blame, CardState, ConnectOptions, PcscError, PcscReaders, Protocol, ProtocolPreference,
    ResetKind, Sharing,
};
use emv_terminal::config::TerminalConfig;
use emv_terminal::driver::{Report, run};
use emv_test_cards::card::{Card, Reply, SimChannel};
use emv_test_cards::engine::EmvCard;
use emv_test_cards::host::IssuerHost;
use emv_test_cards::profile::load::load_builtin;
use emv_test_cards::terminal_side::{ScriptedCardholder, SimulatedIssuer, fixed_input};
use emv_test_cards::vpcd::{Event, VpcdServer};

/// Name prefix of the readers vsmartcard's vpcd driver creates.
const VPCD_READER_PREFIX: &str = "Virtual PCD";
/// The reader the tests prefer.
const PREFERRED_READER: &str = "Virtual PCD 00 00";
/// TCP port of slot 0 of the default vpcd configuration; slot n listens on this + n.
const VPCD_FIRST_PORT: u16 = 35963;
/// Upper bound of every wait on pcscd (it polls card presence every ~0.4 s).
const WAIT: Duration = Duration::from_secs(10);
/// The profile of the full-transaction card.
const PROFILE: &str = "baseline";
/// A profile with a PSE (three applications).
const PSE_PROFILE: &str = "pse-three-apps";
/// Makes [`Tearable`] tear (answer [`Reply::Removed`]).
const TEAR: [u8; 4] = [0x00, 0xEE, 0x00, 0x00];
/// SELECT 1PAY.SYS.DDF01.
const SELECT_PSE: &[u8] = b"\x00\xA4\x04\x00\x0E1PAY.SYS.DDF01\x00";
/// SELECT of the baseline card's application.
const SELECT_AID: [u8; 13] = [
    0x00, 0xA4, 0x04, 0x00, 0x07, 0xF0, 0x00, 0x00, 0x09, 0x99, 0x10, 0x10, 0x00,
];

/// The tests of this file share the vpcd slots: one at a time.
static SLOTS: std::sync::Mutex<()> = std::sync::Mutex::new(());

// ---------------------------------------------------------------------------------------
// Fixture: pcscd, a free vpcd slot, a card served to it.

/// Fails when `EMV_REQUIRE_PCSC=1`, else prints why the test is skipped.
fn skip_or_fail(why: &str) {
    if std::env::var("EMV_REQUIRE_PCSC").is_ok_and(|v| v == "1") {
        panic!("{why} (EMV_REQUIRE_PCSC=1; start pcscd with `bash scripts/pcscd.sh start`)");
    }
    eprintln!(
        "SKIPPED pcsc_vpcd: {why}; start it with `bash scripts/pcscd.sh start` \
         (set EMV_REQUIRE_PCSC=1 to make this a failure)"
    );
}

/// The context and a vpcd reader without a card with the TCP port of its slot; `None`
/// when skipped. Waits (bounded) for a slot to empty: a card of a previous test may still
/// be registered until pcscd's next presence poll.
fn fixture() -> Option<(PcscReaders, String, u16)> {
    let mut readers = match PcscReaders::establish() {
        Ok(r) => r,
        Err(e @ PcscError::NoService) => {
            skip_or_fail(&format!("pcscd is not reachable: {e}"));
            return None;
        }
        Err(e) => panic!("establish: {e}"),
    };
    // The card of a previous test stays registered until pcscd's next presence poll.
    let _ = readers.wait_for_removal(PREFERRED_READER, Duration::from_secs(2));
    let deadline = Instant::now() + WAIT;
    loop {
        let list = readers.list().unwrap_or_else(|e| panic!("list: {e}"));
        let mut vpcd: Vec<_> = list
            .iter()
            .filter(|r| r.name.starts_with(VPCD_READER_PREFIX))
            .collect();
        if vpcd.is_empty() {
            skip_or_fail(&format!(
                "pcscd runs but has no vpcd reader ({PREFERRED_READER:?}); readers: {list:?}"
            ));
            return None;
        }
        vpcd.sort_by_key(|r| r.name != PREFERRED_READER);
        for r in &vpcd {
            // pcsc-lite names readers "<FRIENDLYNAME> <reader index> <slot>"; the default
            // vpcd configuration puts slot n on port 35963 + n.
            let slot = r
                .name
                .rsplit(' ')
                .next()
                .and_then(|s| u16::from_str_radix(s, 16).ok());
            if let (Some(slot), CardState::Absent) = (slot, r.state) {
                return Some((readers, r.name.clone(), VPCD_FIRST_PORT + slot));
            }
        }
        if Instant::now() > deadline {
            skip_or_fail(&format!("every vpcd slot holds a card: {vpcd:?}"));
            return None;
        }
        thread::sleep(Duration::from_millis(100));
    }
}

/// Commands to the thread serving a card.
enum Ctl {
    /// Pull the card out between commands.
    Remove,
    /// Put it back.
    Reinsert,
}

/// A card served to vpcd on a thread until dropped.
struct Served {
    stop: Arc<AtomicBool>,
    ctl: Sender<Ctl>,
    handle: Option<JoinHandle<()>>,
}

impl Served {
    fn start<C: Card + Send + 'static>(card: C, port: u16) -> Self {
        let mut server = VpcdServer::connect(card, ("127.0.0.1", port))
            .unwrap_or_else(|e| panic!("vpcd port {port}: {e}"));
        let stop = Arc::new(AtomicBool::new(false));
        let (ctl, rx): (Sender<Ctl>, Receiver<Ctl>) = mpsc::channel();
        let thread_stop = Arc::clone(&stop);
        let handle = thread::spawn(move || {
            while !thread_stop.load(Ordering::Relaxed) {
                match rx.try_recv() {
                    Ok(Ctl::Remove) => server.remove(),
                    Ok(Ctl::Reinsert) => server.reinsert().unwrap(),
                    Err(_) => {}
                }
                if !server.is_connected() {
                    thread::sleep(Duration::from_millis(20));
                    continue;
                }
                match server.serve_one() {
                    Ok(Event::PeerClosed) => return,
                    Ok(_) => {}
                    Err(e) => panic!("vpcd server: {e}"),
                }
            }
        });
        Self {
            stop,
            ctl,
            handle: Some(handle),
        }
    }

    fn send(&self, ctl: Ctl) {
        self.ctl.send(ctl).unwrap();
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
    }
}

/// An EMV card that tears on [`TEAR`].
struct Tearable(EmvCard);

impl Card for Tearable {
    fn atr(&self) -> Vec<u8> {
        self.0.atr()
    }
    fn power_on(&mut self) {
        self.0.power_on();
    }
    fn power_off(&mut self) {
        self.0.power_off();
    }
    fn transmit(&mut self, command: &[u8]) -> Reply {
        if command.starts_with(&TEAR) {
            Reply::Removed
        } else {
            self.0.transmit(command)
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    hex::encode_upper(bytes)
}

fn exchange<C: CardChannel>(ch: &mut C, command: &[u8]) -> Vec<u8>
where
    C::Error: std::fmt::Debug,
{
    let mut buf = [0u8; 258];
    let n = ch
        .exchange(command, &mut buf)
        .unwrap_or_else(|e| panic!("exchange {}: {e:?}", hex(command)));
    buf[..n].to_vec()
}

// ---------------------------------------------------------------------------------------
// The terminal side of a transaction (`emv_test_cards::terminal_side`).

fn transact<C: CardChannel>(channel: &mut C, amount: u64) -> Report
where
    C::Error: std::fmt::Debug,
{
    let config = TerminalConfig::builtin_default().unwrap();
    let loaded = load_builtin(PROFILE).unwrap();
    let mut host = SimulatedIssuer(Some(IssuerHost::from_profile(&loaded).unwrap()));
    run(
        &config,
        fixed_input(amount),
        channel,
        &mut ScriptedCardholder::pin_1234(),
        &mut host,
    )
    .unwrap_or_else(|e| panic!("transaction: {e}"))
}

fn show(r: &Report) -> String {
    format!(
        "{:?} TVR {} TSI {} CVM {}",
        r.outcome,
        hex(&r.tvr),
        hex(&r.tsi),
        hex(&r.cvm_results)
    )
}

// ---------------------------------------------------------------------------------------
// Tests.

/// Listing shows the vpcd reader with the card and its ATR; waiting for insertion works;
/// after connecting the reader shows the card in use.
#[test]
fn lists_the_vpcd_reader_with_its_card_and_atr() {
    let _slots = SLOTS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let Some((mut readers, reader, port)) = fixture() else {
        return;
    };
    eprintln!("using {reader:?} (vpcd port {port})");
    let card = EmvCard::from_profile(PSE_PROFILE).unwrap();
    let atr = card.atr();
    let _served = Served::start(card, port);

    let info = readers.wait_for_card(&reader, WAIT).unwrap();
    assert_eq!(info.name, reader);
    assert_eq!(hex(&info.atr), hex(&atr));

    let list = readers.list().unwrap();
    eprintln!("readers: {list:#?}");
    let listed = list.iter().find(|r| r.name == reader).unwrap();
    assert_eq!(listed.state, CardState::Present, "{listed:?}");
    assert_eq!(hex(&listed.atr), hex(&atr));
    assert!(readers.reader_names().unwrap().contains(&reader));
    assert!(readers.is_card_present(&reader).unwrap());

    let mut card = readers.connect(&reader, ConnectOptions::default()).unwrap();
    assert_eq!(hex(card.atr()), hex(&atr));
    assert_eq!(
        card.protocol(),
        Protocol::T1,
        "the profile's ATR offers T=1"
    );
    // SELECT PSE answers with the PSE's FCI, as the same card in process.
    let mut local = SimChannel::new(EmvCard::from_profile(PSE_PROFILE).unwrap());
    let expected = exchange(&mut local, SELECT_PSE);
    let got = exchange(&mut card, SELECT_PSE);
    eprintln!("C: {}\nR: {}", hex(SELECT_PSE), hex(&got));
    assert_eq!(hex(&got), hex(&expected));
    assert_eq!(got[0], 0x6F, "FCI template");
    assert_eq!(got[got.len() - 2..], [0x90, 0x00]);
    assert!(card.is_present().unwrap());
    let state = readers.reader(&reader).unwrap().state;
    assert!(
        matches!(state, CardState::InUse | CardState::Present),
        "{state:?}"
    );
    drop(card);
    // An exclusive connection shows as such, and blocks a second one.
    let exclusive = ConnectOptions {
        sharing: Sharing::Exclusive,
        protocols: ProtocolPreference::T1,
    };
    let card = readers.connect(&reader, exclusive).unwrap();
    assert_eq!(readers.reader(&reader).unwrap().state, CardState::Exclusive);
    let second = readers
        .connect(&reader, ConnectOptions::default())
        .unwrap_err();
    assert!(matches!(second, PcscError::CardInUse { .. }), "{second}");
    drop(card);
}

/// SELECT PSE and SELECT AID answer byte for byte as in process, then a full transaction
/// through pcscd ends with the same outcome, TVR, TSI (and the same APDUs) as over
/// `SimChannel`; its wall time is printed.
#[test]
fn emv_transaction_through_pcscd_matches_in_process() {
    let _slots = SLOTS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let Some((mut readers, reader, port)) = fixture() else {
        return;
    };
    let _served = Served::start(EmvCard::from_profile(PROFILE).unwrap(), port);
    readers.wait_for_card(&reader, WAIT).unwrap();
    let mut card = readers.connect(&reader, ConnectOptions::default()).unwrap();
    let mut local = SimChannel::new(EmvCard::from_profile(PROFILE).unwrap());

    for command in [SELECT_PSE, &SELECT_AID[..]] {
        let expected = exchange(&mut local, command);
        let got = exchange(&mut card, command);
        eprintln!("C: {}\nR: {}", hex(command), hex(&got));
        assert_eq!(hex(&got), hex(&expected), "response to {}", hex(command));
    }
    // The baseline card has no PSE (6A82, selection falls back to the AID list); its
    // application answers with its FCI.
    let fci = exchange(&mut card, &SELECT_AID);
    assert_eq!(fci[fci.len() - 2..], [0x90, 0x00]);
    assert_eq!(fci[0], 0x6F, "FCI template");

    for amount in [1_000, 10_000] {
        let expected = transact(&mut local, amount);
        let start = Instant::now();
        let got = {
            let mut tx = card.transaction().unwrap();
            let report = transact(&mut tx, amount);
            tx.end().unwrap();
            report
        };
        let wall = start.elapsed();
        eprintln!(
            "full transaction (amount {amount}) through pcscd: {} APDUs in {:.1} ms; {}",
            got.apdus.len(),
            wall.as_secs_f64() * 1e3,
            show(&got)
        );
        assert_eq!(
            got.outcome,
            expected.outcome,
            "{} vs {}",
            show(&got),
            show(&expected)
        );
        assert_eq!(hex(&got.tvr), hex(&expected.tvr), "TVR");
        assert_eq!(hex(&got.tsi), hex(&expected.tsi), "TSI");
        assert_eq!(got.apdus, expected.apdus, "APDU trace");
        assert!(
            !matches!(got.outcome, Outcome::Terminated(_)),
            "{}",
            show(&got)
        );
    }
    // The same transaction over the plain card (no PC/SC transaction lock) as well.
    let expected = transact(&mut local, 10_000);
    let got = transact(&mut card, 10_000);
    assert_eq!(got.outcome, expected.outcome);
    assert_eq!(got.tvr, expected.tvr);
    assert_eq!(got.tsi, expected.tsi);
}

/// A card torn out during a command, and one pulled out between commands, give
/// `CardRemoved` (also for every later exchange); power up after reinsertion works.
#[test]
fn card_removed_mid_session() {
    let _slots = SLOTS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let Some((mut readers, reader, port)) = fixture() else {
        return;
    };
    let served = Served::start(Tearable(EmvCard::from_profile(PROFILE).unwrap()), port);
    readers.wait_for_card(&reader, WAIT).unwrap();
    let mut card = readers.connect(&reader, ConnectOptions::default()).unwrap();
    let fci = exchange(&mut card, &SELECT_AID);
    assert_eq!(fci[fci.len() - 2..], [0x90, 0x00]);

    // Torn during the command.
    let mut buf = [0u8; 258];
    let start = Instant::now();
    let err = card.transmit(&TEAR, &mut buf).unwrap_err();
    eprintln!("torn: {err} (after {:?})", start.elapsed());
    assert!(
        matches!(err, PcscError::CardRemoved { reader: ref r } if *r == reader),
        "{err:?}"
    );
    assert_eq!(err.blame(), Blame::Card);
    assert!(err.to_string().contains("card removed"), "{err}");
    let again = card.transmit(&SELECT_AID, &mut buf).unwrap_err();
    assert!(matches!(again, PcscError::CardRemoved { .. }), "{again:?}");
    readers.wait_for_removal(&reader, WAIT).unwrap();
    assert!(!card.is_present().unwrap());

    // Reinserted: a new power-up works on the same PcscCard.
    served.send(Ctl::Reinsert);
    readers.wait_for_card(&reader, WAIT).unwrap();
    let atr = card.power_up().unwrap();
    assert_eq!(hex(&atr), hex(card.atr()));
    let fci2 = exchange(&mut card, &SELECT_AID);
    assert_eq!(fci2, fci);

    // Pulled out between commands.
    served.send(Ctl::Remove);
    readers.wait_for_removal(&reader, WAIT).unwrap();
    let err = card.transmit(&SELECT_AID, &mut buf).unwrap_err();
    eprintln!("removed between commands: {err}");
    assert!(matches!(err, PcscError::CardRemoved { .. }), "{err:?}");
    // Through the driver: the transport error surfaces as the driver's Transport error.
    let config = TerminalConfig::builtin_default().unwrap();
    let loaded = load_builtin(PROFILE).unwrap();
    let mut host = SimulatedIssuer(Some(IssuerHost::from_profile(&loaded).unwrap()));
    let err = run(
        &config,
        fixed_input(1_000),
        &mut card,
        &mut ScriptedCardholder::pin_1234(),
        &mut host,
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            emv_terminal::driver::DriverError::Transport(PcscError::CardRemoved { .. })
        ),
        "{err:?}"
    );
    // Connecting to the empty reader says there is no card.
    let err = readers
        .connect(&reader, ConnectOptions::default())
        .unwrap_err();
    assert!(matches!(err, PcscError::NoCard { .. }), "{err:?}");
}

/// Power down, power up (cold reset) and warm reset over PC/SC dispositions; the card
/// keeps answering and returns its ATR each time.
#[test]
fn power_cycle_and_reset() {
    let _slots = SLOTS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let Some((mut readers, reader, port)) = fixture() else {
        return;
    };
    let served_card = EmvCard::from_profile(PROFILE).unwrap();
    let atr = served_card.atr();
    let _served = Served::start(served_card, port);
    readers.wait_for_card(&reader, WAIT).unwrap();
    let mut card = readers.connect(&reader, ConnectOptions::default()).unwrap();
    let fci = exchange(&mut card, &SELECT_AID);

    card.power_down().unwrap();
    assert!(!card.is_powered());
    let mut buf = [0u8; 258];
    let err = card.transmit(&SELECT_AID, &mut buf).unwrap_err();
    assert!(matches!(err, PcscError::CardUnpowered { .. }), "{err:?}");
    assert!(card.is_present().unwrap(), "powered down is still present");

    assert_eq!(hex(&card.power_up().unwrap()), hex(&atr));
    assert_eq!(exchange(&mut card, &SELECT_AID), fci);
    assert_eq!(hex(&card.reset(ResetKind::Warm).unwrap()), hex(&atr));
    assert_eq!(
        hex(&card.power_up().unwrap()),
        hex(&atr),
        "cold reset while powered"
    );
    assert_eq!(exchange(&mut card, &SELECT_AID), fci);

    // A too small buffer is reported, not truncated.
    let mut small = [0u8; 4];
    let err = card.transmit(&SELECT_AID, &mut small).unwrap_err();
    assert!(
        matches!(err, PcscError::ResponseTooLong { capacity: 4, .. }),
        "{err:?}"
    );
    card.disconnect(emv_readers::pcsc::Disposition::LeaveCard)
        .unwrap();
}

/// Asking for T=0 from a T=1-only card is a protocol mismatch naming the ATR; waits time
/// out cleanly.
#[test]
fn protocol_mismatch_and_timeouts() {
    let _slots = SLOTS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let Some((mut readers, reader, port)) = fixture() else {
        return;
    };
    let served_card = EmvCard::from_profile(PROFILE).unwrap();
    let atr = served_card.atr();
    let _served = Served::start(served_card, port);
    readers.wait_for_card(&reader, WAIT).unwrap();

    let t0 = ConnectOptions {
        sharing: Sharing::Shared,
        protocols: ProtocolPreference::T0,
    };
    let err = readers.connect(&reader, t0).unwrap_err();
    eprintln!("T=0 on a T=1 card: {err}");
    match &err {
        PcscError::ProtocolMismatch {
            requested,
            atr: seen,
            ..
        } => {
            assert_eq!(*requested, ProtocolPreference::T0);
            assert_eq!(hex(seen), hex(&atr));
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains(&hex(&atr)), "{err}");

    let start = Instant::now();
    let err = readers
        .wait_for_removal(&reader, Duration::from_millis(300))
        .unwrap_err();
    assert!(
        matches!(
            err,
            PcscError::Timeout {
                what: "card removal",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(start.elapsed() < WAIT);
    assert_eq!(err.blame(), Blame::Caller);
}

/// A card whose ATR breaks the EMV rules (TB1 = 01 in a cold ATR: EMV Book 1 §8.3)
/// and that counts its resets.
struct BadAtr(EmvCard, Arc<std::sync::atomic::AtomicUsize>);

/// T=0 only, TB1 = 01: EMV rejects it (VPP must not be used).
const BAD_ATR: [u8; 3] = [0x3B, 0x20, 0x01];

impl Card for BadAtr {
    fn atr(&self) -> Vec<u8> {
        BAD_ATR.to_vec()
    }
    fn power_on(&mut self) {
        self.1.fetch_add(1, Ordering::Relaxed);
        self.0.power_on();
    }
    fn power_off(&mut self) {
        self.0.power_off();
    }
    fn transmit(&mut self, command: &[u8]) -> Reply {
        self.0.transmit(command)
    }
}

/// The reader as an EMV `ContactSlot`: a good ATR is accepted at the cold reset; a card
/// whose ATR the EMV rules reject gets one warm reset and then `AtrRejected`, naming
/// both ATRs and the rule, with the card powered down.
#[test]
fn contact_slot_applies_the_emv_atr_rules() {
    let _slots = SLOTS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let Some((mut readers, reader, port)) = fixture() else {
        return;
    };
    let served_card = EmvCard::from_profile(PROFILE).unwrap();
    let atr = served_card.atr();
    let served = Served::start(served_card, port);
    readers.wait_for_card(&reader, WAIT).unwrap();
    let mut card = readers.connect(&reader, ConnectOptions::default()).unwrap();
    assert!(card.card_present().unwrap());
    assert_eq!(hex(ContactSlot::power_up(&mut card).unwrap()), hex(&atr));
    assert_eq!(ContactSlot::atr(&card).map(hex), Some(hex(&atr)));
    let _ = exchange(&mut card, &SELECT_AID);
    ContactSlot::power_down(&mut card).unwrap();
    assert_eq!(ContactSlot::atr(&card), None);
    drop(card);
    drop(served);
    let _ = readers.wait_for_removal(&reader, WAIT);

    let resets = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let bad = BadAtr(EmvCard::from_profile(PROFILE).unwrap(), Arc::clone(&resets));
    let _served = Served::start(bad, port);
    readers.wait_for_card(&reader, WAIT).unwrap();
    let mut card = readers.connect(&reader, ConnectOptions::default()).unwrap();
    let before = resets.load(Ordering::Relaxed);
    let err = ContactSlot::power_up(&mut card).unwrap_err();
    eprintln!("{err}");
    match &err {
        PcscError::AtrRejected {
            cold_atr, warm_atr, ..
        } => {
            assert_eq!(hex(cold_atr), hex(&BAD_ATR));
            assert_eq!(hex(warm_atr), hex(&BAD_ATR));
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("TB1"), "{err}");
    assert_eq!(err.blame(), Blame::Card);
    assert!(
        resets.load(Ordering::Relaxed) > before,
        "the card saw no reset"
    );
    assert_eq!(
        ContactSlot::atr(&card),
        None,
        "powered down after rejection"
    );
}

/// A reader name that does not exist gives `ReaderNotFound` listing the real readers,
/// from every entry point.
#[test]
fn unknown_reader_lists_the_real_ones() {
    let _slots = SLOTS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let Some((mut readers, reader, _port)) = fixture() else {
        return;
    };
    let bogus = "No Such Reader 42 00";
    let errors = [
        readers
            .connect(bogus, ConnectOptions::default())
            .map(|_| ())
            .unwrap_err(),
        readers.reader(bogus).map(|_| ()).unwrap_err(),
        readers
            .wait_for_card(bogus, Duration::from_millis(100))
            .map(|_| ())
            .unwrap_err(),
    ];
    for err in errors {
        eprintln!("{err}");
        match &err {
            PcscError::ReaderNotFound { name, available } => {
                assert_eq!(name, bogus);
                assert!(available.contains(&reader), "{available:?}");
            }
            other => panic!("{other:?}"),
        }
        assert!(err.to_string().contains(&format!("{reader:?}")), "{err}");
        assert_eq!(err.blame(), Blame::Reader);
    }
    let err = readers.reader("bad\0name").unwrap_err();
    assert!(
        matches!(err, PcscError::InvalidReaderName { .. }),
        "{err:?}"
    );
}

/// Restarting pcscd under a live context: the next operations re-establish it. Opt-in
/// (`EMV_PCSC_RESTART_TEST=1`), because it restarts the daemon other tests may use; needs
/// a pcscd started by `scripts/pcscd.sh`.
#[test]
fn survives_a_pcscd_restart() {
    if std::env::var("EMV_PCSC_RESTART_TEST").is_ok_and(|v| v == "1") {
        let _slots = SLOTS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let Some((mut readers, reader, _port)) = fixture() else {
            return;
        };
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/pcscd.sh");
        let sh = |arg: &str| {
            let status = std::process::Command::new("bash")
                .args([script, arg])
                .status()
                .unwrap();
            assert!(status.success(), "pcscd.sh {arg}");
        };
        sh("stop");
        let err = readers.list().unwrap_err();
        assert_eq!(err, PcscError::NoService);
        eprintln!("while stopped: {err}");
        sh("start");
        let list = readers.list().unwrap();
        assert!(list.iter().any(|r| r.name == reader), "{list:?}");
    } else {
        eprintln!("survives_a_pcscd_restart: set EMV_PCSC_RESTART_TEST=1 to run it");
    }
}
