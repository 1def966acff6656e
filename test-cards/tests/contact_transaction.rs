//! Full contact transactions: the kernel's state machine, driven by
//! `emv_terminal::driver` with the built-in terminal configuration, against
//! every shipped simulated card, online through the issuer host simulator.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use emv_kernel::contact::machine::Outcome;
use emv_terminal::config::TerminalConfig;
use emv_terminal::driver::{Report, run};
use emv_test_cards::card::SimChannel;
use emv_test_cards::engine::EmvCard;
use emv_test_cards::host::{IssuerHost, Policy};
use emv_test_cards::profile::load::load_builtin;
use emv_test_cards::terminal_side::{ScriptedCardholder, SimulatedIssuer, fixed_input};

fn transact(profile: &str, amount: u64, pin: Option<&'static str>, online: bool) -> Report {
    let config = TerminalConfig::builtin_default().unwrap();
    let loaded = load_builtin(profile).unwrap();
    let mut ch = SimChannel::new(EmvCard::build(&loaded).unwrap());
    let mut host = SimulatedIssuer(online.then(|| IssuerHost::from_profile(&loaded).unwrap()));
    run(
        &config,
        fixed_input(amount),
        &mut ch,
        &mut ScriptedCardholder { pin, choice: 0 },
        &mut host,
    )
    .unwrap()
}

fn show(r: &Report) -> String {
    format!(
        "{:?} TVR {} TSI {} CVM {} trail {:#?}",
        r.outcome,
        hex::encode_upper(r.tvr),
        hex::encode_upper(r.tsi),
        hex::encode_upper(r.cvm_results),
        r.trail
    )
}

#[test]
fn baseline_sda_offline_approval_under_the_floor_limit() {
    let r = transact("baseline", 1000, Some("1234"), true);
    assert_eq!(r.outcome, Outcome::ApprovedOffline, "{}", show(&r));
    assert_eq!(
        r.tvr[0] & 0xC2,
        0x02,
        "SDA selected, not failed: {}",
        show(&r)
    );
    assert_ne!(r.tsi[0] & 0x80, 0, "ODA performed");
    assert_eq!(
        r.cvm_results,
        [0x41, 0x03, 0x02],
        "offline plaintext PIN succeeded"
    );
}

#[test]
fn above_the_floor_limit_goes_online_and_is_approved() {
    let r = transact("baseline", 10_000, Some("1234"), true);
    assert_eq!(r.outcome, Outcome::OnlineApproved, "{}", show(&r));
    assert_ne!(r.tvr[3] & 0x80, 0, "floor limit exceeded");
    assert_ne!(r.tsi[0] & 0x10, 0, "issuer authentication performed");
    assert!(r.authorisation_request.is_some());
}

#[test]
fn unable_to_go_online_declines_by_default() {
    let r = transact("baseline", 10_000, Some("1234"), false);
    assert!(
        matches!(
            r.outcome,
            Outcome::DeclinedUnableOnline | Outcome::ApprovedUnableOnline
        ),
        "{}",
        show(&r)
    );
}

#[test]
fn dda_and_cda_cards_complete() {
    let r = transact("visa-cvn18-dda", 1000, Some("1234"), true);
    assert!(
        matches!(
            r.outcome,
            Outcome::ApprovedOffline | Outcome::OnlineApproved
        ),
        "{}",
        show(&r)
    );
    assert_eq!(r.tvr[0] & 0x08, 0, "DDA not failed: {}", show(&r));
    let r = transact("mc-cda", 10_000, None, true);
    assert_eq!(r.outcome, Outcome::OnlineApproved, "{}", show(&r));
    assert_eq!(r.tvr[0] & 0x04, 0, "CDA not failed: {}", show(&r));
}

#[test]
fn failing_cards() {
    let r = transact("expired", 1000, Some("1234"), true);
    assert_ne!(r.tvr[1] & 0x40, 0, "expired application: {}", show(&r));
    assert_ne!(r.outcome, Outcome::ApprovedOffline, "{}", show(&r));
    let r = transact("unknown-ca", 1000, Some("1234"), true);
    assert_ne!(r.tvr[0] & 0x40, 0, "SDA failed: {}", show(&r));
    assert_ne!(r.outcome, Outcome::ApprovedOffline, "{}", show(&r));
    let r = transact("blocked-pin", 1000, Some("1234"), true);
    assert_ne!(r.tvr[2] & 0x20, 0, "PIN try limit exceeded: {}", show(&r));
    let r = transact("pse-three-apps", 1000, Some("1234"), true);
    assert!(!matches!(r.outcome, Outcome::Terminated(_)), "{}", show(&r));
}

#[test]
fn wrong_pin_then_declined_by_issuer() {
    let config = TerminalConfig::builtin_default().unwrap();
    let loaded = load_builtin("baseline").unwrap();
    let mut ch = SimChannel::new(EmvCard::build(&loaded).unwrap());
    let mut host = IssuerHost::from_profile(&loaded).unwrap();
    host.policy = Policy::Decline;
    let mut issuer = SimulatedIssuer(Some(host));
    let r = run(
        &config,
        fixed_input(10_000),
        &mut ch,
        &mut ScriptedCardholder {
            pin: Some("0000"),
            choice: 0,
        },
        &mut issuer,
    )
    .unwrap();
    assert_eq!(r.outcome, Outcome::OnlineDeclined, "{}", show(&r));
    assert_ne!(
        r.tvr[2] & 0x20,
        0,
        "three wrong PINs: PIN try limit exceeded: {}",
        show(&r)
    );
}

#[test]
fn exception_file_hit_goes_online() {
    let config = TerminalConfig::load_str(
        "shop.toml",
        "extends = \"default\"\n[exception_file]\npans = [\"4999990000000015\"]\n",
        None,
    )
    .unwrap();
    let loaded = load_builtin("baseline").unwrap();
    let mut ch = SimChannel::new(EmvCard::build(&loaded).unwrap());
    let mut host = SimulatedIssuer(Some(IssuerHost::from_profile(&loaded).unwrap()));
    let r = run(
        &config,
        fixed_input(1000),
        &mut ch,
        &mut ScriptedCardholder {
            pin: Some("1234"),
            choice: 0,
        },
        &mut host,
    )
    .unwrap();
    assert_ne!(r.tvr[0] & 0x10, 0, "card on exception file: {}", show(&r));
    assert_ne!(r.outcome, Outcome::ApprovedOffline, "{}", show(&r));
}
