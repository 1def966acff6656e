//! Full contact transactions over `emv_hal::slot::UartContactSlot` and the UART smart-card
//! model (`emv_test_cards::chips::uart_card`), in T=0 and T=1, with and without line faults:
//! the outcome, TVR and cryptogram type must be those of the same transaction over the
//! in-process `SimChannel`, and every APDU the card executed must be one the kernel sent,
//! answered with what the kernel received.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use emv_hal::atr::{Convention, ResetKind};
use emv_hal::channel::CardChannel;
use emv_hal::slot::{
    AtrFault, ContactSlot, LineParams, PpsPolicy, ProtocolFault, SlotConfig, SlotError,
    UartContactSlot,
};
use emv_hal::t1::T1Error;
use emv_terminal::config::TerminalConfig;
use emv_terminal::driver::{Report, run};
use emv_test_cards::card::SimChannel;
use emv_test_cards::chips::uart_card::{
    CardConfig, LineFault, ModelDelay, ModelPin, ModelPresence, ModelUart, T0_ATR, T1_ATR,
    UartCard, inverse_atr, t1_atr_with_ifsc,
};
use emv_test_cards::engine::EmvCard;
use emv_test_cards::host::IssuerHost;
use emv_test_cards::profile::load::load_builtin;
use emv_test_cards::terminal_side::{ScriptedCardholder, SimulatedIssuer, fixed_input};
use proptest::prelude::*;

const CLOCK_HZ: u32 = 4_000_000;

type Slot = UartContactSlot<ModelUart, ModelPin, ModelPin, ModelDelay, ModelPresence>;

fn set_line(uart: &mut ModelUart, params: LineParams) -> Result<(), embedded_io::ErrorKind> {
    uart.set_line(params)
}

/// The board's convention hook (STM32: DATAINV + MSBFIRST).
fn set_convention(uart: &mut ModelUart, c: Convention) -> Result<(), embedded_io::ErrorKind> {
    uart.set_convention(c)
}

fn model(profile: &str, config: CardConfig) -> (UartCard, Slot) {
    model_with(profile, config, SlotConfig::emv(CLOCK_HZ))
}

fn model_with(profile: &str, config: CardConfig, slot_config: SlotConfig) -> (UartCard, Slot) {
    let loaded = load_builtin(profile).unwrap();
    let card = EmvCard::build(&loaded).unwrap();
    let model = UartCard::new(card, config, CLOCK_HZ);
    let slot = UartContactSlot::new(
        model.uart(),
        model.rst(),
        model.vcc(),
        model.delay(),
        slot_config,
    )
    .with_presence(model.presence(), true)
    .with_rate_control(set_line)
    .with_convention_control(set_convention);
    (model, slot)
}

fn transact_over<C: CardChannel>(
    profile: &str,
    amount: u64,
    channel: &mut C,
) -> Result<Report, String> {
    let config = TerminalConfig::builtin_default().unwrap();
    let loaded = load_builtin(profile).unwrap();
    let mut host = SimulatedIssuer(Some(IssuerHost::from_profile(&loaded).unwrap()));
    run(
        &config,
        fixed_input(amount),
        channel,
        &mut ScriptedCardholder::pin_1234(),
        &mut host,
    )
    .map_err(|e| format!("{e:?}"))
}

fn reference(profile: &str, amount: u64) -> Report {
    let loaded = load_builtin(profile).unwrap();
    let mut ch = SimChannel::new(EmvCard::build(&loaded).unwrap());
    transact_over(profile, amount, &mut ch).unwrap()
}

/// Powers up, runs the transaction; returns the report (or error) and the model.
fn over_uart(profile: &str, amount: u64, config: CardConfig) -> (Result<Report, String>, UartCard) {
    let (model, mut slot) = model(profile, config);
    let result = match slot.power_up() {
        Ok(_) => transact_over(profile, amount, &mut slot),
        Err(e) => Err(format!("power up: {e}")),
    };
    (result, model)
}

/// Every APDU the card executed is one the kernel sent, with the response the kernel got,
/// in order (the card may have executed a prefix only if the transaction failed).
fn assert_no_wrong_apdu(report_apdus: &[(Vec<u8>, Vec<u8>)], card_log: &[(Vec<u8>, Vec<u8>)]) {
    assert!(card_log.len() <= report_apdus.len() + 1);
    for (i, (sent, got)) in report_apdus.iter().enumerate() {
        let (executed, answered) = &card_log[i];
        assert_eq!(
            sent, executed,
            "APDU #{i}: the card executed another command"
        );
        assert_eq!(
            got, answered,
            "APDU #{i}: the kernel received another response"
        );
    }
}

fn assert_same(reference: &Report, got: &Report) {
    assert_eq!(got.outcome, reference.outcome);
    assert_eq!(got.tvr, reference.tvr);
    assert_eq!(got.tsi, reference.tsi);
    assert_eq!(got.cid, reference.cid);
    assert_eq!(got.cryptogram, reference.cryptogram);
    assert_eq!(got.apdus, reference.apdus);
}

fn check(profile: &str, amount: u64, config: CardConfig) -> UartCard {
    let want = reference(profile, amount);
    let (got, model) = over_uart(profile, amount, config);
    let got = got.unwrap();
    assert_same(&want, &got);
    assert_no_wrong_apdu(&got.apdus, &model.log());
    assert_eq!(model.log().len(), got.apdus.len());
    assert!(model.violations().is_empty(), "{:?}", model.violations());
    model
}

fn t0(faults: Vec<LineFault>) -> CardConfig {
    CardConfig {
        atr: Some(T0_ATR.to_vec()),
        faults,
        ..CardConfig::default()
    }
}

fn t1(faults: Vec<LineFault>) -> CardConfig {
    CardConfig {
        atr: Some(T1_ATR.to_vec()),
        faults,
        ..CardConfig::default()
    }
}

/// The same card in the inverse convention (TS = 3F).
fn inverse(mut config: CardConfig) -> CardConfig {
    config.atr = config.atr.map(|atr| inverse_atr(&atr));
    config.convention = Convention::Inverse;
    config
}

// ---- clean transactions ----

#[test]
fn t1_transaction_matches_the_in_process_one() {
    let (model, mut slot) = model("baseline", t1(vec![]));
    assert_eq!(slot.power_up().unwrap(), &T1_ATR[..]);
    assert_eq!(slot.t1().unwrap().ifsd(), 254);
    drop(slot);
    drop(model);
    check("baseline", 10_000, t1(vec![]));
}

#[test]
fn t0_transaction_matches_the_in_process_one() {
    check("baseline", 10_000, t0(vec![]));
}

#[test]
fn offline_and_cda_cards_over_both_protocols() {
    for profile in ["baseline", "mc-cda"] {
        for amount in [1000, 10_000] {
            check(profile, amount, t0(vec![]));
            check(profile, amount, t1(vec![]));
        }
    }
}

// ---- inverse convention (ISO/IEC 7816-3 §8.1, EMV L1 §8.1) ----

#[test]
fn inverse_convention_t0_and_t1_transactions_match_the_in_process_ones() {
    for (config, protocol) in [(t0(vec![]), 0), (t1(vec![]), 1)] {
        let config = inverse(config);
        let (model, mut slot) = model("baseline", config.clone());
        let atr = slot.power_up().unwrap().to_vec();
        assert_eq!(atr[0], 0x3F, "TS recorded decoded");
        assert_eq!(&atr[1..], &config.atr.as_ref().unwrap()[1..]);
        let params = slot.active_params().unwrap();
        assert_eq!(params.convention, Convention::Inverse);
        assert_eq!(slot.t1().is_some(), protocol == 1);
        assert_eq!(model.uart().convention(), Convention::Inverse);
        slot.power_down().unwrap();
        assert_eq!(model.uart().convention(), Convention::Direct);
        drop(slot);
        for profile in ["baseline", "mc-cda"] {
            check(profile, 10_000, config.clone());
        }
    }
}

#[test]
fn inverse_ts_seen_as_a_parity_error_is_read_after_the_repetition() {
    for config in [t0(vec![]), t1(vec![])] {
        let mut config = inverse(config);
        config.uart_checks_parity = true;
        let (model, mut slot) = model("baseline", config.clone());
        assert_eq!(slot.power_up().unwrap()[0], 0x3F);
        assert_eq!(slot.active_params().unwrap().reset, ResetKind::Cold);
        drop((model, slot));
        check("baseline", 10_000, config);
    }
}

#[test]
fn inverse_convention_with_line_faults_is_recovered() {
    let parity = (0..20)
        .map(|i| LineFault::Parity {
            byte: i * 41,
            times: 2,
        })
        .collect();
    check("baseline", 10_000, inverse(t0(parity)));
    check(
        "baseline",
        10_000,
        inverse(t1(vec![
            LineFault::Corrupt { byte: 30 },
            LineFault::LoseCardBlock { block: 3 },
            LineFault::Wtx {
                command: 2,
                multiplier: 2,
            },
        ])),
    );
}

#[test]
fn a_hook_that_does_not_switch_the_uart_garbles_the_atr() {
    fn pretend(_: &mut ModelUart, _: Convention) -> Result<(), embedded_io::ErrorKind> {
        Ok(())
    }
    let loaded = load_builtin("baseline").unwrap();
    let model = UartCard::new(
        EmvCard::build(&loaded).unwrap(),
        inverse(t0(vec![])),
        CLOCK_HZ,
    );
    let mut slot = UartContactSlot::new(
        model.uart(),
        model.rst(),
        model.vcc(),
        model.delay(),
        SlotConfig::emv(CLOCK_HZ),
    )
    .with_convention_control(pretend);
    // The model's UART stays direct: T0 `60` reads as `F9`, the ATR is not acceptable.
    let err = slot.power_up().unwrap_err();
    assert!(
        matches!(
            err,
            SlotError::AtrRejected {
                cold: Some(AtrFault::Invalid(_)),
                ..
            } | SlotError::AtrCharacterTimeout { .. }
        ),
        "{err:?}"
    );
    assert!(model.log().is_empty());
}

#[test]
fn inverse_card_without_convention_control_is_a_clear_error() {
    let loaded = load_builtin("baseline").unwrap();
    let model = UartCard::new(
        EmvCard::build(&loaded).unwrap(),
        inverse(t0(vec![])),
        CLOCK_HZ,
    );
    let mut slot = UartContactSlot::new(
        model.uart(),
        model.rst(),
        model.vcc(),
        model.delay(),
        SlotConfig::emv(CLOCK_HZ),
    );
    let err = slot.power_up().unwrap_err();
    assert!(
        matches!(
            err,
            SlotError::AtrRejected {
                cold: Some(AtrFault::InverseConvention),
                warm: Some(AtrFault::InverseConvention),
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("with_convention_control"), "{err}");
    assert!(!model.powered());
    assert!(model.log().is_empty());
}

// ---- faults with recovery ----

#[test]
fn t0_parity_errors_are_repeated_by_the_card() {
    let faults = (0..40)
        .map(|i| LineFault::Parity {
            byte: i * 37,
            times: 3,
        })
        .collect();
    check("baseline", 10_000, t0(faults));
}

#[test]
fn t0_null_bytes_keep_a_slow_card_alive() {
    let faults = vec![
        LineFault::Wtx {
            command: 2,
            multiplier: 3,
        },
        LineFault::Wtx {
            command: 8,
            multiplier: 2,
        },
    ];
    check("baseline", 10_000, t0(faults));
}

#[test]
fn t1_bad_lrc_and_parity_are_recovered_with_r_blocks() {
    let faults = vec![
        LineFault::Corrupt { byte: 10 },
        LineFault::Corrupt { byte: 300 },
        LineFault::Parity {
            byte: 700,
            times: 1,
        },
        LineFault::CorruptToCard { byte: 40 },
    ];
    check("baseline", 10_000, t1(faults));
}

#[test]
fn t1_wtx_requests_extend_the_block_waiting_time() {
    let faults = vec![
        LineFault::Wtx {
            command: 1,
            multiplier: 2,
        },
        LineFault::Wtx {
            command: 5,
            multiplier: 4,
        },
    ];
    check("baseline", 10_000, t1(faults));
}

#[test]
fn t1_chaining_both_ways_with_a_small_ifsc() {
    let mut config = t1(vec![]);
    config.atr = Some(t1_atr_with_ifsc(0x10));
    config.max_inf = 20;
    check("baseline", 10_000, config);
}

#[test]
fn t1_lost_blocks_either_way_are_recovered() {
    let faults = vec![
        LineFault::LoseCardBlock { block: 2 },
        LineFault::LoseTerminalBlock { block: 5 },
        LineFault::LoseCardBlock { block: 9 },
    ];
    let mut config = t1(faults);
    config.atr = Some(t1_atr_with_ifsc(0x20));
    config.max_inf = 40;
    check("baseline", 10_000, config);
}

#[test]
fn t1_garbage_on_the_line_is_recovered() {
    let faults = vec![
        LineFault::Garbage {
            frame: 3,
            bytes: vec![0x12, 0x34],
        },
        LineFault::Garbage {
            frame: 7,
            bytes: vec![0xFF],
        },
    ];
    check("baseline", 10_000, t1(faults));
}

#[test]
fn slow_atr_within_the_limits_is_accepted() {
    let mut config = t0(vec![]);
    config.atr_delay_clocks = 39_000;
    config.atr_gap_etu = 6_000;
    check("baseline", 1000, config);
}

#[test]
fn atr_gaps_each_within_the_limit_but_too_long_in_total() {
    // Four characters 9 000 etu apart: every gap is below 10 080 etu, the whole ATR is
    // above 20 160 etu.
    let mut config = t0(vec![]);
    config.atr_gap_etu = 9_000;
    let (model, mut slot) = model("baseline", config);
    let err = slot.power_up().unwrap_err();
    assert!(
        matches!(
            err,
            SlotError::AtrDuration {
                received: 3,
                etu: 20_160,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(!model.powered());
}

#[test]
fn specific_mode_atr_with_d_4_runs_at_the_faster_rate() {
    // TA1 = 13 (Fi 372, Di 4), TB1 = TC1 = 00, TD1 = 10 (TA2 follows, T=0), TA2 = 00
    // (specific mode, T=0); no TCK as only T=0 is indicated.
    let mut config = t0(vec![]);
    config.atr = Some(vec![0x3B, 0xF0, 0x13, 0x00, 0x00, 0x10, 0x00]);
    let model = check("baseline", 1000, config);
    assert!(model.now_ns() > 0);
}

#[test]
fn negotiable_mode_runs_at_the_default_rate_or_after_a_pps() {
    // TA1 = 13 without TA2: negotiable mode. EMV (no PPS): Fd/Dd; with PPS: Di = 4.
    let mut config = t0(vec![]);
    config.atr = Some(vec![0x3B, 0x70, 0x13, 0x00, 0x00]);
    let want = reference("baseline", 10_000);
    for (policy, di) in [(PpsPolicy::Never, 1), (PpsPolicy::Negotiable, 4)] {
        let mut slot_config = SlotConfig::emv(CLOCK_HZ);
        slot_config.pps = policy;
        let (model, mut slot) = model_with("baseline", config.clone(), slot_config);
        slot.power_up().unwrap();
        assert_eq!(slot.active_params().unwrap().di, di);
        let got = transact_over("baseline", 10_000, &mut slot).unwrap();
        assert_same(&want, &got);
        assert_no_wrong_apdu(&got.apdus, &model.log());
    }
}

#[test]
fn half_duplex_echo_is_dropped() {
    for atr in [&T0_ATR[..], &T1_ATR[..]] {
        let config = CardConfig {
            atr: Some(atr.to_vec()),
            echo: true,
            ..CardConfig::default()
        };
        let mut slot_config = SlotConfig::emv(CLOCK_HZ);
        slot_config.echo = true;
        let want = reference("baseline", 10_000);
        let (card, mut slot) = model_with("baseline", config, slot_config);
        slot.power_up().unwrap();
        let got = transact_over("baseline", 10_000, &mut slot).unwrap();
        assert_same(&want, &got);
        assert_no_wrong_apdu(&got.apdus, &card.log());

        // The same line without echo handling does not work.
        let config = CardConfig {
            atr: Some(atr.to_vec()),
            echo: true,
            ..CardConfig::default()
        };
        let (_, mut slot) = model("baseline", config);
        let failed = match slot.power_up() {
            Err(_) => true,
            Ok(_) => transact_over("baseline", 10_000, &mut slot).is_err(),
        };
        assert!(failed);
    }
}

// ---- activation errors ----

#[test]
fn rejected_cold_atr_then_accepted_warm_atr() {
    let mut config = t1(vec![]);
    // TC1 = 05 is refused by EMV (TC1 must be 00 or FF).
    config.atr = Some(vec![0x3B, 0x40, 0x05]);
    config.warm_atr = Some(T1_ATR.to_vec());
    let (_model, mut slot) = model("baseline", config.clone());
    assert_eq!(slot.power_up().unwrap(), &T1_ATR[..]);
    assert_eq!(slot.active_params().unwrap().reset, ResetKind::Warm);
    drop(slot);
    check("baseline", 1000, config);
}

#[test]
fn atr_rejected_twice_deactivates_with_both_reasons() {
    let mut config = t1(vec![]);
    config.atr = Some(vec![0x3B, 0x40, 0x05]);
    let (model, mut slot) = model("baseline", config);
    let err = slot.power_up().unwrap_err();
    match &err {
        SlotError::AtrRejected {
            cold: Some(AtrFault::Rejected(_)),
            warm: Some(AtrFault::Rejected(_)),
        } => {}
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("TC1"), "{err}");
    assert!(!model.powered(), "deactivated");
    assert!(
        slot.exchange(&[0x00, 0xA4, 0x04, 0x00], &mut [0; 258])
            .is_err()
    );
}

#[test]
fn mute_card_is_a_clear_error_and_deactivated() {
    let mut config = t1(vec![]);
    config.mute = true;
    let (model, mut slot) = model("baseline", config);
    let err = slot.power_up().unwrap_err();
    assert!(
        matches!(
            err,
            SlotError::Mute {
                reset: ResetKind::Cold,
                clocks: 42_000
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("mute card"));
    assert!(!model.powered());
}

#[test]
fn too_slow_atr_is_mute_and_too_long_gaps_time_out() {
    let mut config = t0(vec![]);
    config.atr_delay_clocks = 50_000;
    let (_, mut slot) = model("baseline", config);
    assert!(matches!(slot.power_up(), Err(SlotError::Mute { .. })));

    let mut config = t0(vec![]);
    config.atr_gap_etu = 11_000;
    let (_, mut slot) = model("baseline", config);
    assert!(matches!(
        slot.power_up(),
        Err(SlotError::AtrCharacterTimeout { received: 1, .. })
    ));
}

#[test]
fn no_card_in_the_slot() {
    let (model, mut slot) = model("baseline", t1(vec![]));
    model.remove();
    assert!(!slot.card_present().unwrap());
    assert!(matches!(slot.power_up(), Err(SlotError::NoCard)));
}

#[test]
fn explicit_warm_reset_keeps_the_card_usable() {
    let (model, mut slot) = model("baseline", t1(vec![]));
    slot.power_up().unwrap();
    let select = hex::decode("00A404000E315041592E5359532E444446303100").unwrap();
    let mut r = [0u8; 258];
    let n = slot.exchange(&select, &mut r).unwrap();
    assert_eq!(&r[n - 2..n], &[0x6A, 0x82]);
    assert_eq!(slot.warm_reset().unwrap(), &T1_ATR[..]);
    assert_eq!(slot.active_params().unwrap().reset, ResetKind::Warm);
    // Sequence numbers start again at 0 after the reset.
    assert_eq!(slot.t1().unwrap().sequence_numbers(), (false, false));
    let n = slot.exchange(&select, &mut r).unwrap();
    assert_eq!(&r[n - 2..n], &[0x6A, 0x82]);
    assert!(model.powered());
    slot.power_down().unwrap();
    assert!(!model.powered());
    assert!(slot.atr().is_none());
}

#[test]
fn card_pulled_out_between_commands() {
    let (model, mut slot) = model("baseline", t0(vec![]));
    slot.power_up().unwrap();
    model.remove();
    let err = slot
        .exchange(&[0x00, 0xB2, 0x01, 0x0C, 0x00], &mut [0; 258])
        .unwrap_err();
    assert_eq!(err, SlotError::CardRemoved);
    assert!(!model.powered(), "deactivated");
}

// ---- protocol errors ----

#[test]
fn card_falling_silent_mid_transaction_is_a_protocol_error() {
    let (got, model) = over_uart(
        "baseline",
        10_000,
        t1(vec![LineFault::MuteFrom { frame: 6 }]),
    );
    let err = got.unwrap_err();
    assert!(err.contains("RetriesExhausted"), "{err}");
    assert!(!model.powered(), "deactivated after the protocol error");

    let (got, model) = over_uart(
        "baseline",
        10_000,
        t0(vec![LineFault::MuteFrom { frame: 4 }]),
    );
    let err = got.unwrap_err();
    assert!(err.contains("Timeout"), "{err}");
    assert!(!model.powered());
}

#[test]
fn t0_endless_parity_errors_give_up() {
    let (model, mut slot) = model(
        "baseline",
        t0(vec![LineFault::Parity { byte: 0, times: 9 }]),
    );
    slot.power_up().unwrap();
    let err = slot
        .exchange(
            &[0x00, 0xA4, 0x04, 0x00, 0x02, 0x3F, 0x00, 0x00],
            &mut [0; 258],
        )
        .unwrap_err();
    assert!(
        matches!(
            err,
            SlotError::Protocol {
                apdu: 0,
                fault: ProtocolFault::ParityRepetitions {
                    ins: 0xA4,
                    count: 5
                }
            }
        ),
        "{err:?}"
    );
    assert!(!model.powered());
}

#[test]
fn t1_lost_blocks_beyond_the_retry_limit() {
    let faults = (3..6)
        .map(|block| LineFault::LoseCardBlock { block })
        .collect();
    let (model, mut slot) = model("baseline", t1(faults));
    slot.power_up().unwrap();
    let mut r = [0u8; 258];
    let select = hex::decode("00A404000E315041592E5359532E444446303100").unwrap();
    for _ in 0..3 {
        if let Err(e) = slot.exchange(&select, &mut r) {
            assert!(
                matches!(
                    e,
                    SlotError::Protocol {
                        fault: ProtocolFault::T1(T1Error::RetriesExhausted { .. }),
                        ..
                    }
                ),
                "{e:?}"
            );
            assert!(!model.powered());
            return;
        }
    }
    panic!("three lost blocks in a row must exhaust the retries");
}

// ---- property: random fault schedules ----

fn fault_strategy(t1: bool) -> impl Strategy<Value = LineFault> {
    let parity = (0u64..3000, 1u8..6).prop_map(|(byte, times)| LineFault::Parity { byte, times });
    let wtx = (0u64..20, 1u8..4).prop_map(|(command, multiplier)| LineFault::Wtx {
        command,
        multiplier,
    });
    let mute = (0u64..40).prop_map(|frame| LineFault::MuteFrom { frame });
    if t1 {
        prop_oneof![
            parity,
            wtx,
            (0u64..3000).prop_map(|byte| LineFault::Corrupt { byte }),
            (0u64..60).prop_map(|block| LineFault::LoseCardBlock { block }),
            (0u64..60).prop_map(|block| LineFault::LoseTerminalBlock { block }),
            (0u64..800).prop_map(|byte| LineFault::CorruptToCard { byte }),
            // A first garbage byte other than 00 can never be read as the NAD of a block.
            (0u64..60, proptest::collection::vec(1u8..=0xFF, 1..4))
                .prop_map(|(frame, bytes)| LineFault::Garbage { frame, bytes }),
            mute,
        ]
        .boxed()
    } else {
        // In T=0 only parity protects the characters: faults are the detectable ones, and
        // garbage that no EMV INS turns into a procedure byte.
        prop_oneof![
            parity,
            wtx,
            (0u64..40, proptest::collection::vec(0u8..0x10, 1..3))
                .prop_map(|(frame, bytes)| LineFault::Garbage { frame, bytes }),
            mute,
        ]
        .boxed()
    }
}

/// Faults T=1 detects: the LRC catches any single corrupted character of a block, but two
/// flips of the same bit in one block cancel out (a limit of LRC, which EMV accepts), so a
/// schedule corrupts at most one character in each direction.
fn detectable(faults: &[LineFault]) -> bool {
    let count = |f: fn(&LineFault) -> bool| faults.iter().filter(|x| f(x)).count();
    count(|f| matches!(f, LineFault::Corrupt { .. })) <= 1
        && count(|f| matches!(f, LineFault::CorruptToCard { .. })) <= 1
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn random_fault_schedules_never_panic_hang_or_deliver_a_wrong_apdu(
        use_t1 in any::<bool>(),
        faults in proptest::collection::vec(fault_strategy(true), 0..6)
            .prop_filter("one corrupted character per direction", |v| detectable(v)),
        t0_faults in proptest::collection::vec(fault_strategy(false), 0..6),
        small_ifsc in any::<bool>(),
        inverse_convention in any::<bool>(),
    ) {
        let mut config = if use_t1 { t1(faults) } else { t0(t0_faults) };
        if use_t1 && small_ifsc {
            config.atr = Some(t1_atr_with_ifsc(0x10));
            config.max_inf = 16;
        }
        if inverse_convention {
            config = inverse(config);
        }
        let (got, model) = over_uart("baseline", 10_000, config);
        // Bounded by virtual time: a transaction with every retry and WTX stays far below
        // ten virtual minutes.
        prop_assert!(model.now_ns() < 600 * 1_000_000_000, "virtual time {}", model.now_ns());
        let log = model.log();
        match got {
            Ok(report) => {
                let want = reference("baseline", 10_000);
                assert_same(&want, &report);
                assert_no_wrong_apdu(&report.apdus, &log);
            }
            Err(_) => {
                // The card executed only commands the kernel sent (a prefix of the
                // reference transaction), each at most once.
                let want = reference("baseline", 10_000);
                prop_assert!(log.len() <= want.apdus.len());
                for (i, (cmd, resp)) in log.iter().enumerate() {
                    prop_assert_eq!(cmd, &want.apdus[i].0);
                    prop_assert_eq!(resp, &want.apdus[i].1);
                }
                prop_assert!(!model.powered(), "deactivated after the error");
            }
        }
    }
}
