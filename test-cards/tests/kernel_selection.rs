//! The kernel's application selection (EMV Book 1 §12) against the
//! simulated cards: PSE, list of AIDs, partial selection, priorities,
//! confirmation, blocked applications and cards, final SELECT failure and
//! GPO "conditions not satisfied".

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use emv_hal::channel::CardChannel;
use emv_kernel::selection::{Event, Options, Selection, TerminalAid};
use emv_test_cards::card::{Card, SimChannel};
use emv_test_cards::engine::EmvCard;
use emv_test_cards::faults::{FaultAction, FaultRule, FaultyCard, Match};
use emv_test_cards::profile::load::load_str;

const CREDIT: &str = "F0000009991010";
const DEBIT: &str = "F0000009991020";
const PREPAID: &str = "F0000009991030";

/// Runs selection to its end. `decide` answers the events that need an
/// answer. Returns the events seen and the selected AID (hex).
fn run<C: Card>(
    ch: &mut SimChannel<C>,
    sel: &mut Selection<'_>,
    mut decide: impl FnMut(Event, &Selection<'_>) -> Option<Answer>,
) -> (Vec<Event>, Option<String>) {
    let mut events = Vec::new();
    for _ in 0..100 {
        while let Some(e) = sel.poll_event() {
            events.push(e);
            match e {
                Event::Selected => {
                    return (
                        events,
                        sel.selected().map(|c| hex::encode_upper(c.aid.as_slice())),
                    );
                }
                Event::NotAccepted | Event::CardBlocked => return (events, None),
                // Informational (Book 4 message "Try again").
                Event::TryAgain => {}
                _ => match decide(e, sel) {
                    Some(Answer::Choose(i)) => sel.choose(i).unwrap(),
                    Some(Answer::Confirm(b)) => sel.confirm(b).unwrap(),
                    None => {}
                },
            }
        }
        let mut cmd = [0u8; 261];
        let Some(n) = sel.poll_transmit(&mut cmd).unwrap() else {
            continue;
        };
        let mut resp = [0u8; 258];
        let m = ch.exchange(&cmd[..n], &mut resp).unwrap();
        sel.handle_response(&resp[..m]).unwrap();
    }
    panic!("selection did not end: {events:?}");
}

enum Answer {
    Choose(usize),
    Confirm(bool),
}

fn terminal_aids() -> [TerminalAid<'static>; 3] {
    [
        TerminalAid {
            aid: &[0xF0, 0, 0, 0x09, 0x99, 0x10, 0x10],
            partial_selection: false,
        },
        TerminalAid {
            aid: &[0xF0, 0, 0, 0x09, 0x99, 0x10, 0x20],
            partial_selection: false,
        },
        TerminalAid {
            aid: &[0xF0, 0, 0, 0x09, 0x99, 0x10, 0x30],
            partial_selection: false,
        },
    ]
}

fn card(profile: &str) -> SimChannel<EmvCard> {
    SimChannel::new(EmvCard::from_profile(profile).unwrap())
}

#[test]
fn pse_candidates_in_priority_order_and_cardholder_choice() {
    let aids = terminal_aids();
    let mut ch = card("pse-three-apps");
    let mut sel = Selection::new(&aids, Options::default());
    let (events, aid) = run(&mut ch, &mut sel, |e, s| {
        assert_eq!(e, Event::ChooseApplication);
        let order: Vec<String> = s
            .candidates()
            .iter()
            .map(|c| hex::encode_upper(c.aid.as_slice()))
            .collect();
        assert_eq!(order, [DEBIT, CREDIT, PREPAID], "priority 1, 2, 3");
        assert!(s.candidates()[0].needs_confirmation());
        assert_eq!(s.candidates()[1].label.as_slice(), b"TEST CREDIT");
        Some(Answer::Choose(1))
    });
    assert_eq!(events, [Event::ChooseApplication, Event::Selected]);
    assert_eq!(aid.as_deref(), Some(CREDIT));
    assert_eq!(&sel.fci()[..2], &[0x6F, sel.fci()[1]]);
    // SELECT PSE, READ RECORD 1..4 (4 answers 6A83), final SELECT.
    let commands: Vec<String> = ch
        .log
        .iter()
        .map(|(c, _)| hex::encode_upper(&c[..4]))
        .collect();
    assert_eq!(
        commands,
        [
            "00A40400", "00B2010C", "00B2020C", "00B2030C", "00B2040C", "00A40400"
        ]
    );
}

#[test]
fn confirmation_refused_then_next_priority() {
    let aids = terminal_aids();
    let mut ch = card("pse-three-apps");
    let opts = Options {
        cardholder_selection: false,
        ..Options::default()
    };
    let mut sel = Selection::new(&aids, opts);
    let (events, aid) = run(&mut ch, &mut sel, |e, _| match e {
        Event::ConfirmApplication { index: 0 } => Some(Answer::Confirm(false)),
        other => panic!("{other:?}"),
    });
    assert_eq!(
        events,
        [Event::ConfirmApplication { index: 0 }, Event::Selected]
    );
    assert_eq!(aid.as_deref(), Some(CREDIT));
}

#[test]
fn without_confirmation_the_confirming_application_is_dropped() {
    let aids = terminal_aids();
    let mut ch = card("pse-three-apps");
    let opts = Options {
        cardholder_selection: false,
        cardholder_confirmation: false,
        use_pse: true,
    };
    let mut sel = Selection::new(&aids, opts);
    let (events, aid) = run(&mut ch, &mut sel, |e, _| panic!("{e:?}"));
    assert_eq!(events, [Event::Selected]);
    assert_eq!(aid.as_deref(), Some(CREDIT));
}

#[test]
fn no_pse_falls_back_to_the_list_of_aids() {
    let aids = terminal_aids();
    let mut ch = card("baseline");
    let mut sel = Selection::new(&aids, Options::default());
    let (events, aid) = run(&mut ch, &mut sel, |e, _| panic!("{e:?}"));
    assert_eq!(events, [Event::Selected]);
    assert_eq!(aid.as_deref(), Some(CREDIT));
    // PSE 6A82, then each terminal AID, then the final SELECT.
    assert_eq!(ch.log[0].1.as_deref(), Some(&[0x6A, 0x82][..]));
    assert_eq!(ch.log.len(), 5);
}

#[test]
fn partial_selection_walks_select_next() {
    let aids = [TerminalAid {
        aid: &[0xF0, 0, 0, 0x09, 0x99],
        partial_selection: true,
    }];
    let mut ch = card("pse-three-apps");
    let mut sel = Selection::new(
        &aids,
        Options {
            use_pse: false,
            ..Options::default()
        },
    );
    let (_, aid) = run(&mut ch, &mut sel, |_, s| {
        assert_eq!(s.candidates().len(), 3);
        Some(Answer::Choose(2))
    });
    assert_eq!(aid.as_deref(), Some(PREPAID));
    let p2: Vec<u8> = ch.log.iter().map(|(c, _)| c[3]).collect();
    assert_eq!(
        p2,
        [0x00, 0x02, 0x02, 0x02, 0x00],
        "first, next ×3 (the last 6A82), final"
    );

    // The same AID without partial selection matches nothing.
    let aids = [TerminalAid {
        aid: &[0xF0, 0, 0, 0x09, 0x99],
        partial_selection: false,
    }];
    let mut ch = card("pse-three-apps");
    let mut sel = Selection::new(
        &aids,
        Options {
            use_pse: false,
            ..Options::default()
        },
    );
    let (events, aid) = run(&mut ch, &mut sel, |e, _| panic!("{e:?}"));
    assert_eq!((events.as_slice(), aid), (&[Event::NotAccepted][..], None));
}

#[test]
fn blocked_application_and_blocked_card() {
    let aids = terminal_aids();
    let loaded = load_str(
        "blocked.toml",
        "extends = \"baseline\"\nname = \"b\"\n[app.main]\nblocked = true\n",
        None,
    )
    .unwrap();
    let mut ch = SimChannel::new(EmvCard::build(&loaded).unwrap());
    let mut sel = Selection::new(&aids, Options::default());
    let (events, _) = run(&mut ch, &mut sel, |e, _| panic!("{e:?}"));
    assert_eq!(events, [Event::NotAccepted], "6283 is not a candidate");

    let loaded = load_str(
        "card.toml",
        "extends = \"baseline\"\nname = \"c\"\n[card]\nblocked = true\n",
        None,
    )
    .unwrap();
    let mut ch = SimChannel::new(EmvCard::build(&loaded).unwrap());
    let mut sel = Selection::new(&aids, Options::default());
    let (events, _) = run(&mut ch, &mut sel, |e, _| panic!("{e:?}"));
    assert_eq!(events, [Event::CardBlocked]);
    assert_eq!(ch.log.len(), 1, "ends at the PSE's 6A81");
}

#[test]
fn failed_final_select_and_gpo_6985_try_again() {
    let aids = terminal_aids();
    // The debit application's first SELECT (the final one, after the PSE)
    // fails once.
    let rule = FaultRule::new(
        Match {
            ins: Some(0xA4),
            command_index: Some(6),
            ..Match::default()
        },
        FaultAction::StatusWord(0x6A82),
    );
    let card = FaultyCard::new(EmvCard::from_profile("pse-three-apps").unwrap(), vec![rule]);
    let mut ch = SimChannel::new(card);
    let mut sel = Selection::new(&aids, Options::default());
    let mut choices = 0;
    let (events, aid) = run(&mut ch, &mut sel, |e, s| {
        assert_eq!(e, Event::ChooseApplication);
        choices += 1;
        let first = hex::encode_upper(s.candidates()[0].aid.as_slice());
        if choices == 2 {
            assert_eq!(s.candidates().len(), 2, "the failed one was removed");
            assert_ne!(first, DEBIT);
        }
        Some(Answer::Choose(0))
    });
    assert_eq!(
        events,
        [
            Event::ChooseApplication,
            Event::TryAgain,
            Event::ChooseApplication,
            Event::Selected
        ]
    );
    assert_eq!(aid.as_deref(), Some(CREDIT));

    // GPO answered 6985: the application is removed, selection resumes.
    sel.not_accepted().unwrap();
    let (events, aid) = run(&mut ch, &mut sel, |_, s| {
        assert_eq!(s.candidates().len(), 1);
        Some(Answer::Choose(0))
    });
    assert_eq!(events[0], Event::TryAgain);
    assert_eq!(aid.as_deref(), Some(PREPAID));
    assert!(sel.not_accepted().is_ok());
    let (events, _) = run(&mut ch, &mut sel, |e, _| panic!("{e:?}"));
    assert_eq!(events, [Event::TryAgain, Event::NotAccepted]);
}

#[test]
fn misuse_is_an_error_not_a_panic() {
    let aids = terminal_aids();
    let mut sel = Selection::new(&aids, Options::default());
    assert!(
        sel.handle_response(&[0x90, 0x00]).is_err(),
        "nothing sent yet"
    );
    assert!(sel.choose(0).is_err());
    assert!(sel.confirm(true).is_err());
    assert!(sel.not_accepted().is_err());
    let mut tiny = [0u8; 4];
    assert!(sel.poll_transmit(&mut tiny).is_err());
}
