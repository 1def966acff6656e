#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! End to end through a real PC/SC stack: a simulated card served by
//! [`VpcdServer`] to vsmartcard's vpcd driver inside a running `pcscd`, driven
//! with the `pcsc` crate exactly as an application drives a physical reader.
//!
//! The test does not start `pcscd` (CI does, with `scripts/pcscd.sh start`).
//! Without a reachable `pcscd` or a vpcd reader it prints why and passes,
//! unless `EMV_REQUIRE_PCSC=1`, in which case it fails.
//!
//! Run it here:
//! `bash scripts/pcscd.sh start && EMV_REQUIRE_PCSC=1 cargo test -p emv-test-cards --test pcscd_vpcd -- --nocapture; bash scripts/pcscd.sh stop`

use std::ffi::{CStr, CString};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use emv_test_cards::card::{Card, Reply};
use emv_test_cards::vpcd::{DEFAULT_ATR, RunEnd, VpcdError, VpcdServer};
use pcsc::{Context, Disposition, Protocol, Protocols, ReaderState, Scope, ShareMode, State};

/// Name prefix of the readers vsmartcard's vpcd driver creates.
const VPCD_READER_PREFIX: &str = "Virtual PCD";
/// TCP port of slot 0 of the default vpcd configuration; slot n listens on this + n.
const VPCD_FIRST_PORT: u16 = 35963;
/// Upper bound of every wait on pcscd (it polls card presence every ~0.4 s).
const WAIT: Duration = Duration::from_secs(10);
/// Timed exchanges for the round-trip measurement.
const TIMED_EXCHANGES: usize = 200;

/// The application the test card knows.
const AID: [u8; 7] = [0xA0, 0x00, 0x00, 0x00, 0x04, 0x10, 0x10];
/// Its FCI: 6F { 84 AID, A5 { 50 "VPCD TEST" } }.
const FCI: [u8; 24] = [
    0x6F, 0x16, 0x84, 0x07, 0xA0, 0x00, 0x00, 0x00, 0x04, 0x10, 0x10, 0xA5, 0x0B, 0x50, 0x09, b'V',
    b'P', b'C', b'D', b' ', b'T', b'E', b'S', b'T',
];
/// SELECT by DF name of [`AID`].
const SELECT_AID: [u8; 13] = [
    0x00, 0xA4, 0x04, 0x00, 0x07, 0xA0, 0x00, 0x00, 0x00, 0x04, 0x10, 0x10, 0x00,
];
/// SELECT of an AID the card does not have.
const SELECT_OTHER: [u8; 13] = [
    0x00, 0xA4, 0x04, 0x00, 0x07, 0xA0, 0x00, 0x00, 0x00, 0x03, 0x10, 0x10, 0x00,
];
/// GET CHALLENGE for 8 bytes.
const GET_CHALLENGE: [u8; 5] = [0x00, 0x84, 0x00, 0x00, 0x08];
/// An instruction the card does not know.
const UNKNOWN_INS: [u8; 5] = [0x00, 0x42, 0x00, 0x00, 0x00];
/// Makes the test card tear (answer [`Reply::Removed`]).
const TEAR: [u8; 4] = [0x00, 0xEE, 0x00, 0x00];

/// The `n`th challenge (1-based) the test card hands out: deterministic, so the test can
/// check it byte for byte; the counter survives power cycles and reinsertion.
fn challenge(n: u64) -> [u8; 8] {
    n.wrapping_mul(0x9E37_79B9_7F4A_7C15).to_be_bytes()
}

/// The simulated card: [`AID`] selectable, GET CHALLENGE, a tear command, `6D00` otherwise.
#[derive(Debug, Default)]
struct TestCard {
    challenges: u64,
}

impl Card for TestCard {
    fn atr(&self) -> Vec<u8> {
        DEFAULT_ATR.to_vec()
    }
    fn power_on(&mut self) {}
    fn power_off(&mut self) {}
    fn transmit(&mut self, command: &[u8]) -> Reply {
        let ok = |mut data: Vec<u8>| {
            data.extend_from_slice(&[0x90, 0x00]);
            Reply::Response(data)
        };
        match command {
            [0x00, 0xA4, 0x04, 0x00, lc, rest @ ..] => {
                let name = rest.get(..usize::from(*lc));
                if name == Some(&AID[..]) {
                    ok(FCI.to_vec())
                } else {
                    Reply::Response(vec![0x6A, 0x82])
                }
            }
            [0x00, 0x84, 0x00, 0x00, 0x08] => {
                self.challenges += 1;
                ok(challenge(self.challenges).to_vec())
            }
            [0x00, 0xEE, ..] => Reply::Removed,
            _ => Reply::Response(vec![0x6D, 0x00]),
        }
    }
}

/// Fails when `EMV_REQUIRE_PCSC=1`, else prints why the test is skipped.
fn skip_or_fail(why: &str) {
    if std::env::var("EMV_REQUIRE_PCSC").is_ok_and(|v| v == "1") {
        panic!("{why} (EMV_REQUIRE_PCSC=1; start pcscd with `bash scripts/pcscd.sh start`)");
    }
    eprintln!(
        "SKIPPED pcscd_vpcd: {why}; start it with `bash scripts/pcscd.sh start` \
         (set EMV_REQUIRE_PCSC=1 to make this a failure)"
    );
}

/// Current state of `reader`, without waiting.
fn reader_state(ctx: &Context, reader: &CStr) -> State {
    let mut states = [ReaderState::new(reader.to_owned(), State::UNAWARE)];
    match ctx.get_status_change(Duration::ZERO, &mut states) {
        Ok(()) | Err(pcsc::Error::Timeout) => states[0].event_state(),
        Err(e) => panic!("get_status_change({reader:?}): {e:?}"),
    }
}

/// Waits (bounded by [`WAIT`]) until `reader` has a responsive card (`present`) or none.
fn wait_for_card(ctx: &Context, reader: &CStr, present: bool) -> ReaderState {
    let deadline = Instant::now() + WAIT;
    let mut states = [ReaderState::new(reader.to_owned(), State::UNAWARE)];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(
            !left.is_zero(),
            "timeout ({WAIT:?}) waiting for {reader:?} to become {}; last state {:?}",
            if present { "present" } else { "empty" },
            states[0].event_state()
        );
        match ctx.get_status_change(left.min(Duration::from_millis(500)), &mut states) {
            Ok(()) | Err(pcsc::Error::Timeout) => {}
            Err(e) => panic!("get_status_change({reader:?}): {e:?}"),
        }
        let state = states[0].event_state();
        let has_card = state.contains(State::PRESENT) && !state.contains(State::MUTE);
        if has_card == present {
            return states.into_iter().next().unwrap();
        }
        states[0].sync_current_state();
    }
}

/// A vpcd reader with no card in it, and the TCP port of its slot; `None` when skipped.
fn free_vpcd_slot(ctx: &Context) -> Option<(CString, u16)> {
    let readers = match ctx.list_readers_owned() {
        Ok(readers) => readers,
        Err(pcsc::Error::NoReadersAvailable) => Vec::new(),
        Err(e) => panic!("list_readers: {e:?}"),
    };
    let vpcd: Vec<CString> = readers
        .into_iter()
        .filter(|r| r.to_string_lossy().starts_with(VPCD_READER_PREFIX))
        .collect();
    if vpcd.is_empty() {
        skip_or_fail("pcscd runs but has no vpcd reader (\"Virtual PCD 00 00\")");
        return None;
    }
    for reader in &vpcd {
        // pcsc-lite names readers "<FRIENDLYNAME> <reader index> <slot>"; the default
        // vpcd configuration puts slot n on port 35963 + n.
        let name = reader.to_string_lossy();
        let Some(slot) = name
            .rsplit(' ')
            .next()
            .and_then(|s| u16::from_str_radix(s, 16).ok())
        else {
            continue;
        };
        if !reader_state(ctx, reader).contains(State::PRESENT) {
            return Some((reader.clone(), VPCD_FIRST_PORT + slot));
        }
        eprintln!("{name}: already holds a card, trying the next slot");
    }
    skip_or_fail(&format!("every vpcd slot already holds a card: {vpcd:?}"));
    None
}

/// Serves the card until stopped; after a removal, waits for a reinsert request.
fn serve<C: Card>(
    mut server: VpcdServer<C>,
    stop: &AtomicBool,
    reinsert: &Receiver<()>,
) -> Result<C, VpcdError> {
    loop {
        match server.run(stop)? {
            RunEnd::Stopped | RunEnd::PeerClosed => return Ok(server.into_card()),
            RunEnd::CardRemoved => loop {
                if stop.load(Ordering::Relaxed) {
                    return Ok(server.into_card());
                }
                match reinsert.recv_timeout(Duration::from_millis(100)) {
                    Ok(()) => {
                        server.reinsert()?;
                        break;
                    }
                    Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => return Ok(server.into_card()),
                }
            },
        }
    }
}

/// Sets the stop flag when the test ends, even by a panic, so the server thread exits.
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Sends `command`, checks the response byte for byte.
fn exchange(card: &pcsc::Card, command: &[u8], expected: &[u8]) {
    let mut buf = [0u8; pcsc::MAX_BUFFER_SIZE];
    let response = card
        .transmit(command, &mut buf)
        .unwrap_or_else(|e| panic!("transmit {}: {e:?}", hex(command)));
    assert_eq!(hex(response), hex(expected), "response to {}", hex(command));
}

fn with_sw(data: &[u8]) -> Vec<u8> {
    [data, &[0x90, 0x00]].concat()
}

/// The vpcd slots are shared: one test at a time.
static SLOTS: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn simulated_card_through_pcscd_and_vpcd() {
    let _slots = SLOTS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let ctx = match Context::establish(Scope::User) {
        Ok(ctx) => ctx,
        Err(pcsc::Error::NoService) => {
            skip_or_fail("pcscd is not running (pcsc::Error::NoService)");
            return;
        }
        Err(e) => panic!("Context::establish: {e:?}"),
    };
    let Some((reader, port)) = free_vpcd_slot(&ctx) else {
        return;
    };
    eprintln!("using reader {reader:?}, vpcd port {port}");

    let server = VpcdServer::connect(TestCard::default(), ("127.0.0.1", port))
        .unwrap_or_else(|e| panic!("{e}"));
    let stop = Arc::new(AtomicBool::new(false));
    let _stop_guard = StopOnDrop(Arc::clone(&stop));
    let (reinsert_tx, reinsert_rx) = mpsc::channel();
    let (done_tx, done_rx) = mpsc::channel();
    let thread_stop = Arc::clone(&stop);
    thread::spawn(move || {
        let result = serve(server, &thread_stop, &reinsert_rx);
        let _ = done_tx.send(result);
    });

    // Inserted: pcscd powers the card on and reads the ATR.
    let state = wait_for_card(&ctx, &reader, true);
    assert_eq!(
        hex(state.atr()),
        hex(&DEFAULT_ATR),
        "ATR in the reader state"
    );
    let card = ctx
        .connect(&reader, ShareMode::Shared, Protocols::ANY)
        .unwrap_or_else(|e| panic!("connect {reader:?}: {e:?}"));
    let status = card.status2_owned().unwrap();
    assert_eq!(
        hex(status.atr()),
        hex(&DEFAULT_ATR),
        "ATR reported by the reader"
    );
    assert_eq!(
        status.protocol2(),
        Some(Protocol::T1),
        "protocol from the T=1 ATR"
    );

    // Functional exchanges, byte for byte.
    let mut challenges = 0;
    exchange(&card, &SELECT_AID, &with_sw(&FCI));
    exchange(&card, &SELECT_OTHER, &[0x6A, 0x82]);
    exchange(&card, &UNKNOWN_INS, &[0x6D, 0x00]);
    challenges += 1;
    exchange(&card, &GET_CHALLENGE, &with_sw(&challenge(challenges)));

    // Round trip: application -> pcscd -> vpcd -> card and back.
    for _ in 0..10 {
        exchange(&card, &SELECT_AID, &with_sw(&FCI));
    }
    let mut times = Vec::with_capacity(TIMED_EXCHANGES);
    let mut buf = [0u8; pcsc::MAX_BUFFER_SIZE];
    for _ in 0..TIMED_EXCHANGES {
        challenges += 1;
        let start = Instant::now();
        let response = card.transmit(&GET_CHALLENGE, &mut buf).unwrap();
        times.push(start.elapsed());
        assert_eq!(response, with_sw(&challenge(challenges)));
    }
    times.sort_unstable();
    eprintln!(
        "round trip over {TIMED_EXCHANGES} GET CHALLENGE exchanges: median {} µs, p95 {} µs, max {} µs",
        times[TIMED_EXCHANGES / 2].as_micros(),
        times[TIMED_EXCHANGES * 95 / 100].as_micros(),
        times[TIMED_EXCHANGES - 1].as_micros(),
    );

    // Tearing: the card vanishes mid-command and the server closes the connection. vpcd
    // reads end of stream, so the torn transmit "succeeds" with no status word (newer vpcd
    // builds may report an error instead); later transmits fail and the reader empties.
    // Reinserted, the card works again and has kept its challenge counter.
    let mut buf = [0u8; pcsc::MAX_BUFFER_SIZE];
    let torn = card.transmit(&TEAR, &mut buf).map(<[u8]>::to_vec);
    eprintln!("transmit during tearing: {torn:?}");
    assert!(
        torn.as_ref().map_or(true, |r| r.len() < 2),
        "a torn card answered: {torn:?}"
    );
    let after = card.transmit(&SELECT_AID, &mut buf).map(<[u8]>::to_vec);
    eprintln!("transmit after tearing: {after:?}");
    assert!(after.is_err(), "a removed card answered: {after:?}");
    drop(card);
    wait_for_card(&ctx, &reader, false);
    reinsert_tx.send(()).unwrap();
    wait_for_card(&ctx, &reader, true);
    let card = ctx
        .connect(&reader, ShareMode::Shared, Protocols::ANY)
        .unwrap_or_else(|e| panic!("connect {reader:?} after reinsertion: {e:?}"));
    exchange(&card, &SELECT_AID, &with_sw(&FCI));
    challenges += 1;
    exchange(&card, &GET_CHALLENGE, &with_sw(&challenge(challenges)));
    card.disconnect(Disposition::LeaveCard)
        .map_err(|(_, e)| e)
        .unwrap();

    stop.store(true, Ordering::Relaxed);
    let card = done_rx
        .recv_timeout(WAIT)
        .expect("server thread did not stop")
        .unwrap_or_else(|e| panic!("server: {e}"));
    assert_eq!(card.challenges, challenges);
}

/// The EMV card engine behind the real pcscd answers exactly as the same
/// card does in process: SELECT, GPO, every record of the AFL, INTERNAL
/// AUTHENTICATE and GENERATE AC, byte for byte (the card is seeded, so its
/// random numbers and signatures repeat).
#[test]
fn emv_card_engine_through_pcscd_matches_in_process() {
    use emv_test_cards::engine::EmvCard;
    let _slots = SLOTS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let ctx = match Context::establish(Scope::User) {
        Ok(ctx) => ctx,
        Err(pcsc::Error::NoService) => {
            skip_or_fail("pcscd is not running (pcsc::Error::NoService)");
            return;
        }
        Err(e) => panic!("Context::establish: {e:?}"),
    };
    let Some((reader, port)) = free_vpcd_slot(&ctx) else {
        return;
    };
    let served = EmvCard::from_profile("visa-cvn18-dda").unwrap();
    let atr = served.atr();
    let server = VpcdServer::connect(served, ("127.0.0.1", port)).unwrap_or_else(|e| panic!("{e}"));
    let stop = Arc::new(AtomicBool::new(false));
    let _stop_guard = StopOnDrop(Arc::clone(&stop));
    let (_reinsert_tx, reinsert_rx) = mpsc::channel();
    let thread_stop = Arc::clone(&stop);
    let handle = thread::spawn(move || serve(server, &thread_stop, &reinsert_rx));

    let state = wait_for_card(&ctx, &reader, true);
    assert_eq!(hex(state.atr()), hex(&atr));
    let card = ctx
        .connect(&reader, ShareMode::Shared, Protocols::ANY)
        .unwrap_or_else(|e| panic!("connect {reader:?}: {e:?}"));

    let mut local = EmvCard::from_profile("visa-cvn18-dda").unwrap();
    local.power_on();
    let mut both = |command: &[u8]| -> Vec<u8> {
        let expected = match local.transmit(command) {
            emv_test_cards::card::Reply::Response(r) => r,
            other => panic!("{other:?}"),
        };
        exchange(&card, command, &expected);
        expected
    };
    let select = both(&[
        0x00, 0xA4, 0x04, 0x00, 0x07, 0xF0, 0x00, 0x00, 0x09, 0x99, 0x10, 0x10, 0x00,
    ]);
    assert_eq!(select[select.len() - 2..], [0x90, 0x00]);
    let gpo = both(&[0x80, 0xA8, 0x00, 0x00, 0x02, 0x83, 0x00, 0x00]);
    // Format 2: 77 L 82 02 AIP 94 L AFL 90 00.
    let afl_at = gpo.windows(1).position(|w| w == [0x94]).unwrap();
    let afl = gpo[afl_at + 2..afl_at + 2 + usize::from(gpo[afl_at + 1])].to_vec();
    let mut records = 0;
    for entry in afl.chunks(4) {
        for rec in entry[1]..=entry[2] {
            let r = both(&[0x00, 0xB2, rec, entry[0] | 0x04, 0x00]);
            assert_eq!(r[r.len() - 2..], [0x90, 0x00]);
            records += 1;
        }
    }
    assert!(records >= 3);
    let ia = both(&[0x00, 0x88, 0x00, 0x00, 0x04, 0xDE, 0xAD, 0xBE, 0xEF, 0x00]);
    assert_eq!(ia[0], 0x80, "DDA signature");
    let mut genac = vec![0x80, 0xAE, 0x80, 0x00, 29];
    genac.extend_from_slice(&[0; 29]);
    genac.push(0x00);
    let ac = both(&genac);
    assert_eq!(ac[0], 0x77);
    drop(card);
    stop.store(true, Ordering::Relaxed);
    handle.join().unwrap().unwrap();
}
