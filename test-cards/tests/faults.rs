//! Every fault action of `FaultyCard` on a small card, byte for byte; rule
//! matching by header, occurrence and command index; tearing through
//! `SimChannel`; the T=0 `61xx` and `6Cxx` procedures; the TOML form.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::Duration;

use emv_hal::channel::CardChannel;
use emv_kernel::wire::tlv::{Mode, TlvErrorKind, TlvIter};
use emv_test_cards::card::{Card, Reply, SimChannel, SimError};
use emv_test_cards::faults::{
    ACTION_NAMES, FaultAction, FaultRule, FaultyCard, Fired, Match, rules_from_toml,
};

/// A minimal card: SELECT answers an FCI, READ RECORD records 1 and 2 of
/// any SFI (and a long record 3), GET DATA the ATC; anything else `6D00`.
#[derive(Debug, Default)]
struct MiniCard {
    /// Commands received.
    commands: Vec<Vec<u8>>,
    /// Cold resets.
    power_ons: usize,
}

const FCI: &str = "6F0F 8407A0000000031010 A504 50025649 9000";

fn record(n: u8) -> Vec<u8> {
    match n {
        1 | 2 => h(&format!("700B 5A03 47610{n} 5F2403251231 9000")),
        // 124 bytes of template content: one more object makes the length
        // field grow from `7C` to `81 81`.
        3 => {
            let mut r = h("707C 5A03476103 5375");
            r.extend([0xEE; 0x75]);
            r.extend(h("9000"));
            r
        }
        _ => h("6A83"),
    }
}

impl Card for MiniCard {
    fn atr(&self) -> Vec<u8> {
        vec![0x3B, 0x60, 0x00, 0x00]
    }

    fn power_on(&mut self) {
        self.power_ons += 1;
    }

    fn power_off(&mut self) {}

    fn transmit(&mut self, command: &[u8]) -> Reply {
        self.commands.push(command.to_vec());
        Reply::Response(match command.get(1) {
            Some(0xA4) => h(FCI),
            Some(0xB2) => record(command[2]),
            Some(0xCA) => h("9F36020001 9000"),
            _ => h("6D00"),
        })
    }
}

fn h(text: &str) -> Vec<u8> {
    hex::decode(text.replace(' ', "")).unwrap()
}

const SELECT: &str = "00A4040007A000000003101000";
const RR1: &str = "00B2010C00";
const RR2: &str = "00B2020C00";
const RR3: &str = "00B2030C00";
const GET_ATC: &str = "80CA9F3600";

fn faulty(rules: Vec<FaultRule>) -> FaultyCard<MiniCard> {
    FaultyCard::new(MiniCard::default(), rules)
}

fn send(card: &mut impl Card, command: &str) -> Reply {
    card.transmit(&h(command))
}

fn response(text: &str) -> Reply {
    Reply::Response(h(text))
}

fn one(when: Match, action: FaultAction) -> Vec<FaultRule> {
    vec![FaultRule::new(when, action)]
}

fn exchange<C: Card>(channel: &mut SimChannel<C>, command: &str) -> Result<Vec<u8>, SimError> {
    let mut buf = [0u8; 512];
    channel
        .exchange(&h(command), &mut buf)
        .map(|n| buf[..n].to_vec())
}

#[test]
fn the_card_without_faults() {
    let mut card = faulty(vec![]);
    assert_eq!(send(&mut card, SELECT), response(FCI));
    assert_eq!(
        send(&mut card, RR1),
        response("700B 5A03476101 5F2403251231 9000")
    );
    assert_eq!(send(&mut card, "00B2050C00"), response("6A83"));
    assert!(card.fired().is_empty());
    assert_eq!(card.commands(), 3);
}

#[test]
fn status_word_replaces_the_reply() {
    let rule = Match::ins(0xB2).with_p1(0x01).with_occurrence(2);
    let mut card = faulty(one(rule, FaultAction::StatusWord(0x6A83)));
    assert_eq!(
        send(&mut card, RR1),
        response("700B 5A03476101 5F2403251231 9000")
    );
    assert_eq!(
        send(&mut card, RR2),
        response("700B 5A03476102 5F2403251231 9000")
    );
    assert_eq!(send(&mut card, RR1), response("6A83"));
    assert_eq!(
        send(&mut card, RR1),
        response("700B 5A03476101 5F2403251231 9000")
    );
    assert_eq!(
        card.fired(),
        &[Fired {
            command_index: 3,
            rule: 0
        }]
    );
    // The card processed every command, the faulted one included.
    assert_eq!(card.inner().commands.len(), 4);
}

#[test]
fn malformed_tlv_makes_the_first_length_overrun() {
    let mut card = faulty(one(Match::any(), FaultAction::MalformedTlv));
    let Reply::Response(r) = send(&mut card, RR1) else {
        panic!()
    };
    assert_eq!(r, h("700C 5A03476101 5F2403251231 9000"));
    let data = &r[..r.len() - 2];
    let err = TlvIter::new(data, Mode::Strict)
        .next()
        .unwrap()
        .unwrap_err();
    assert!(
        matches!(
            err.kind,
            TlvErrorKind::ValueOverrun {
                length: 12,
                available: 11,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(
        send(&mut card, SELECT),
        response("6F10 8407A0000000031010 A504 50025649 9000")
    );
    // The long record: 124 bytes after the header, so the length is 125.
    let Reply::Response(r) = send(&mut card, RR3) else {
        panic!()
    };
    assert_eq!(&r[..2], &[0x70, 0x7D]);
    assert_eq!(r.len(), record(3).len());
    // No data: nothing to corrupt.
    assert_eq!(send(&mut card, "00B2090C00"), response("6A83"));
}

#[test]
fn truncate_drops_data_and_keeps_the_status() {
    let mut card = faulty(one(Match::ins(0xB2), FaultAction::Truncate(3)));
    assert_eq!(
        send(&mut card, RR1),
        response("700B 5A03476101 5F2403 9000")
    );
    assert_eq!(send(&mut card, "00B2090C00"), response("6A83"));
    let mut card = faulty(one(Match::ins(0xB2), FaultAction::Truncate(100)));
    assert_eq!(send(&mut card, RR1), response("9000"));
}

#[test]
fn over_long_appends_junk_before_the_status() {
    let mut card = faulty(one(Match::ins(0xB2), FaultAction::OverLong(2)));
    assert_eq!(
        send(&mut card, RR1),
        response("700B 5A03476101 5F2403251231 FFFF 9000")
    );
}

#[test]
fn duplicate_tag_repeats_the_first_primitive_and_fixes_lengths() {
    let mut card = faulty(one(Match::any(), FaultAction::DuplicateTag));
    assert_eq!(
        send(&mut card, RR1),
        response("7010 5A03476101 5A03476101 5F2403251231 9000")
    );
    assert_eq!(
        send(&mut card, SELECT),
        response("6F18 8407A0000000031010 8407A0000000031010 A504 50025649 9000")
    );
    // A primitive at the top level is repeated there.
    assert_eq!(
        send(&mut card, GET_ATC),
        response("9F36020001 9F36020001 9000")
    );
    // 124 + 5 = 129 content bytes: the length field grows to `81 81`.
    let Reply::Response(r) = send(&mut card, RR3) else {
        panic!()
    };
    let mut want = h("708181 5A03476103 5A03476103 5375");
    want.extend([0xEE; 0x75]);
    want.extend(h("9000"));
    assert_eq!(r, want);
    // The result is well-formed TLV with the tag twice.
    let record = TlvIter::new(&r[..r.len() - 2], Mode::Canonical)
        .next()
        .unwrap()
        .unwrap();
    let tags: Vec<u32> = record
        .children(Mode::Canonical)
        .map(|c| c.unwrap().tag().raw())
        .collect();
    assert_eq!(tags, [0x5A, 0x5A, 0x53]);
}

#[test]
fn wrong_record_template_retags_70_as_77() {
    let mut card = faulty(one(Match::any(), FaultAction::WrongRecordTemplate));
    assert_eq!(
        send(&mut card, RR1),
        response("770B 5A03476101 5F2403251231 9000")
    );
    // Not a record template: unchanged.
    assert_eq!(send(&mut card, SELECT), response(FCI));
}

#[test]
fn delay_is_reported_to_the_channel_and_adds_up() {
    let rules = vec![
        FaultRule::new(
            Match::ins(0xA4),
            FaultAction::Delay(Duration::from_millis(250)),
        ),
        FaultRule::new(
            Match::ins(0xA4),
            FaultAction::Delay(Duration::from_millis(50)),
        ),
    ];
    let mut card = faulty(rules.clone());
    assert_eq!(
        send(&mut card, SELECT),
        Reply::Delayed(Duration::from_millis(300), h(FCI))
    );
    let mut channel = SimChannel::new(faulty(rules));
    assert_eq!(exchange(&mut channel, SELECT).unwrap(), h(FCI));
    assert_eq!(exchange(&mut channel, RR1).unwrap().len(), 15);
    assert_eq!(channel.waited, Duration::from_millis(300));
}

#[test]
fn tearing_removes_the_card_until_reinserted() {
    let rule = Match::ins(0xB2).with_occurrence(2);
    let mut channel = SimChannel::new(faulty(one(rule, FaultAction::Remove)));
    assert!(exchange(&mut channel, RR1).is_ok());
    assert_eq!(exchange(&mut channel, RR2), Err(SimError::CardRemoved));
    // Gone: nothing reaches the card.
    assert_eq!(exchange(&mut channel, RR2), Err(SimError::CardRemoved));
    assert_eq!(channel.log.last().unwrap(), &(h(RR2), None));
    assert_eq!(channel.card().inner().commands.len(), 2);
    // Reinserted: the rule has fired and stays quiet.
    channel.reinsert();
    assert_eq!(channel.card().inner().power_ons, 2);
    assert_eq!(
        exchange(&mut channel, RR2).unwrap(),
        h("700B 5A03476102 5F2403251231 9000")
    );
    assert_eq!(channel.card().fired().len(), 1);
}

#[test]
fn t0_get_response_serves_the_reply_on_get_response() {
    let mut channel = SimChannel::new(faulty(one(Match::ins(0xA4), FaultAction::T0GetResponse)));
    // 17 bytes of FCI.
    assert_eq!(exchange(&mut channel, SELECT).unwrap(), h("6111"));
    // Wrong Le: told the right one, the procedure continues.
    assert_eq!(exchange(&mut channel, "00C0000010").unwrap(), h("6C11"));
    assert_eq!(exchange(&mut channel, "00C0000011").unwrap(), h(FCI));
    // Only SELECT reached the card; GET RESPONSE was answered by the wrapper
    // and not counted.
    assert_eq!(channel.card().inner().commands, vec![h(SELECT)]);
    assert_eq!(channel.card().commands(), 1);
    // Nothing pending any more: GET RESPONSE goes to the card.
    assert_eq!(exchange(&mut channel, "00C0000011").unwrap(), h("6D00"));

    // Another command cancels the procedure and is processed normally.
    let mut card = faulty(one(Match::ins(0xA4), FaultAction::T0GetResponse));
    assert_eq!(send(&mut card, SELECT), response("6111"));
    assert_eq!(
        send(&mut card, RR1),
        response("700B 5A03476101 5F2403251231 9000")
    );
    assert_eq!(send(&mut card, "00C0000011"), response("6D00"));
    // A power cycle cancels it too.
    assert_eq!(send(&mut card, SELECT), response("6111"));
    card.power_on();
    assert_eq!(send(&mut card, "00C0000011"), response("6D00"));
    // A reply without data has nothing to fetch.
    let mut card = faulty(one(Match::any(), FaultAction::T0GetResponse));
    assert_eq!(send(&mut card, "00B2090C00"), response("6A83"));
}

#[test]
fn t0_wrong_le_serves_the_reply_to_the_resent_command() {
    let mut channel = SimChannel::new(faulty(one(Match::ins(0xB2), FaultAction::T0WrongLe)));
    // 13 bytes of record.
    assert_eq!(exchange(&mut channel, RR1).unwrap(), h("6C0D"));
    assert_eq!(
        exchange(&mut channel, "00B2010C0D").unwrap(),
        h("700B 5A03476101 5F2403251231 9000")
    );
    assert_eq!(channel.card().inner().commands, vec![h(RR1)]);
    // The next READ RECORD is faulted again (every occurrence).
    assert_eq!(exchange(&mut channel, RR2).unwrap(), h("6C0D"));
    // Re-sent with another Le: the procedure is cancelled, the command goes
    // to the card (and the rule fires on it again).
    assert_eq!(exchange(&mut channel, "00B2020C05").unwrap(), h("6C0D"));
    assert_eq!(channel.card().inner().commands.len(), 3);
    assert_eq!(channel.card().commands(), 3);
    // Data-less replies are left alone.
    assert_eq!(exchange(&mut channel, "00B2090C00").unwrap(), h("6A83"));
}

#[test]
fn occurrence_and_command_index_select_commands() {
    // Command index alone: the third command, whatever it is.
    let mut card = faulty(one(
        Match::any().with_command_index(3),
        FaultAction::StatusWord(0x6985),
    ));
    let got: Vec<Reply> = [SELECT, RR1, RR2, RR1]
        .iter()
        .map(|c| send(&mut card, c))
        .collect();
    assert_eq!(got[2], response("6985"));
    assert_ne!(got[1], response("6985"));
    assert_ne!(got[3], response("6985"));

    // Header and command index: only when both hold.
    let mut card = faulty(one(
        Match::ins(0xB2).with_command_index(2),
        FaultAction::StatusWord(0x6985),
    ));
    assert_ne!(send(&mut card, RR1), response("6985"));
    assert_ne!(send(&mut card, SELECT), response("6985"));
    assert_ne!(send(&mut card, RR1), response("6985"));
    assert!(card.fired().is_empty());

    // Occurrence counts only commands with the rule's header bytes: the
    // second record 2 read, with SELECTs and record 1 reads in between.
    let rule = Match::ins(0xB2)
        .with_p1(0x02)
        .with_p2(0x0C)
        .with_occurrence(2);
    let mut card = faulty(one(rule, FaultAction::StatusWord(0x6A83)));
    for c in [RR2, SELECT, RR1, RR1] {
        assert_ne!(send(&mut card, c), response("6A83"));
    }
    assert_eq!(send(&mut card, RR2), response("6A83"));
    assert_ne!(send(&mut card, RR2), response("6A83"));
    assert_eq!(card.fired()[0].command_index, 5);

    // CLA: the EMV proprietary class only.
    let mut card = faulty(one(
        Match::any().with_cla(0x80),
        FaultAction::StatusWord(0x6A88),
    ));
    assert_eq!(send(&mut card, GET_ATC), response("6A88"));
    assert_eq!(send(&mut card, SELECT), response(FCI));
    assert!(Match::ins(0xB2).header_matches(&h(RR1)));
    assert!(!Match::ins(0xB2).with_p1(2).header_matches(&h(RR1)));
    assert!(Match::any().header_matches(&[]));
}

#[test]
fn rules_apply_in_order() {
    let rules = vec![
        FaultRule::new(Match::ins(0xB2), FaultAction::Truncate(6)),
        FaultRule::new(Match::ins(0xB2), FaultAction::WrongRecordTemplate),
        FaultRule::new(
            Match::ins(0xB2),
            FaultAction::Delay(Duration::from_millis(10)),
        ),
    ];
    let mut card = faulty(rules);
    assert_eq!(
        send(&mut card, RR1),
        Reply::Delayed(Duration::from_millis(10), h("770B 5A03476101 9000"))
    );
    assert_eq!(card.fired().len(), 3);
}

const EVERY_ACTION: &str = r#"
name = "a card profile with other keys"

[[faults]]
ins = "B2"
p1 = "01"
occurrence = 2
action = "status"
sw = "6A83"

[[faults]]
cla = "80"
ins = "ae"
p1 = "80"
p2 = "00"
action = "malformed_tlv"

[[faults]]
command_index = 4
action = "truncate"
bytes = 3

[[faults]]
action = "over_long"
bytes = 2

[[faults]]
ins = "A4"
action = "duplicate_tag"

[[faults]]
ins = "B2"
action = "wrong_record_template"

[[faults]]
ins = "A4"
action = "delay"
ms = 1500

[[faults]]
ins = "AE"
occurrence = 1
action = "remove"

[[faults]]
action = "t0_get_response"

[[faults]]
action = "t0_wrong_le"

[[faults]]
ins = "AE"
action = "cid"
cid = "0A"
"#;

fn every_action() -> Vec<FaultRule> {
    vec![
        FaultRule::new(
            Match::ins(0xB2).with_p1(0x01).with_occurrence(2),
            FaultAction::StatusWord(0x6A83),
        ),
        FaultRule::new(
            Match::ins(0xAE).with_cla(0x80).with_p1(0x80).with_p2(0x00),
            FaultAction::MalformedTlv,
        ),
        FaultRule::new(Match::any().with_command_index(4), FaultAction::Truncate(3)),
        FaultRule::new(Match::any(), FaultAction::OverLong(2)),
        FaultRule::new(Match::ins(0xA4), FaultAction::DuplicateTag),
        FaultRule::new(Match::ins(0xB2), FaultAction::WrongRecordTemplate),
        FaultRule::new(
            Match::ins(0xA4),
            FaultAction::Delay(Duration::from_millis(1500)),
        ),
        FaultRule::new(Match::ins(0xAE).with_occurrence(1), FaultAction::Remove),
        FaultRule::new(Match::any(), FaultAction::T0GetResponse),
        FaultRule::new(Match::any(), FaultAction::T0WrongLe),
        FaultRule::new(Match::ins(0xAE), FaultAction::Cid(0x0A)),
    ]
}

#[test]
fn toml_reads_every_action() {
    let rules = rules_from_toml(EVERY_ACTION).unwrap();
    assert_eq!(rules, every_action());
    assert_eq!(rules.len(), ACTION_NAMES.len());
    // No `[[faults]]`: no rules.
    assert!(rules_from_toml("name = \"plain\"").unwrap().is_empty());
}

#[test]
fn toml_round_trips() {
    #[derive(serde::Serialize)]
    struct Doc {
        faults: Vec<FaultRule>,
    }
    let text = toml::to_string(&Doc {
        faults: every_action(),
    })
    .unwrap();
    assert!(text.contains("ins = \"B2\""), "{text}");
    assert!(text.contains("sw = \"6A83\""), "{text}");
    assert_eq!(rules_from_toml(&text).unwrap(), every_action());
}

#[test]
fn match_and_action_deserialise_on_their_own() {
    let m: Match = toml::from_str("ins = \"B2\"\noccurrence = 2").unwrap();
    assert_eq!(m, Match::ins(0xB2).with_occurrence(2));
    let a: FaultAction = toml::from_str("action = \"delay\"\nms = 20").unwrap();
    assert_eq!(a, FaultAction::Delay(Duration::from_millis(20)));
    let a: FaultAction = serde_json::from_str(r#"{"action": "status", "sw": "9000"}"#).unwrap();
    assert_eq!(a, FaultAction::StatusWord(0x9000));
}

fn toml_error(rule: &str) -> String {
    let text = format!("[[faults]]\n{rule}\n");
    let e = rules_from_toml(&text).unwrap_err().to_string();
    assert!(e.contains("line "), "no line in: {e}");
    e
}

#[test]
fn bad_toml_names_the_field() {
    let e = toml_error("action = \"explode\"");
    assert!(
        e.contains("field `action`: unknown action \"explode\""),
        "{e}"
    );
    assert!(e.contains("t0_wrong_le"), "{e}");

    let e = toml_error("ins = \"B\"\naction = \"remove\"");
    assert!(
        e.contains("field `ins`: \"B\" is not one byte in hex"),
        "{e}"
    );
    let e = toml_error("p2 = \"0x0C\"\naction = \"remove\"");
    assert!(e.contains("field `p2`"), "{e}");
    let e = toml_error("action = \"status\"\nsw = \"6A8\"");
    assert!(
        e.contains("field `sw`: \"6A8\" is not a status word in hex"),
        "{e}"
    );
    let e = toml_error("action = \"status\"\nsw = \"6A8G\"");
    assert!(e.contains("field `sw`"), "{e}");

    let e = toml_error("action = \"status\"");
    assert!(e.contains("action `status` needs field `sw`"), "{e}");
    let e = toml_error("action = \"truncate\"");
    assert!(e.contains("action `truncate` needs field `bytes`"), "{e}");
    let e = toml_error("action = \"remove\"\nms = 3");
    assert!(
        e.contains("field `ms` does not apply to action `remove`"),
        "{e}"
    );
    let e = toml_error("action = \"status\"\nsw = \"6A83\"\nbytes = 1");
    assert!(
        e.contains("field `bytes` does not apply to action `status`"),
        "{e}"
    );

    let e = toml_error("occurrence = 0\naction = \"remove\"");
    assert!(e.contains("field `occurrence`: counts start at 1"), "{e}");
    let e = toml_error("occurence = 2\naction = \"remove\"");
    assert!(e.contains("occurence"), "{e}");
    let e = toml_error("ins = \"B2\"");
    assert!(e.contains("action"), "{e}");
    let e = toml_error("ins = 178\naction = \"remove\"");
    assert!(e.contains("ins") || e.contains("string"), "{e}");
}
