//! Application selection fed arbitrary card responses: it never panics,
//! always ends within a bounded number of exchanges, and only reports
//! `Selected` for a candidate matching a terminal AID.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use emv_kernel::selection::{Event, Options, Selection, TerminalAid};
use proptest::prelude::*;

const AID: &[u8] = &[0xA0, 0, 0, 0, 3, 0x10, 0x10];

/// Responses that look like EMV selection data often enough to go deep.
fn response() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..40),
        Just(vec![0x6A, 0x82]),
        Just(vec![0x6A, 0x83]),
        // FCI with the terminal AID and 9000
        Just(vec![
            0x6F, 0x09, 0x84, 0x07, 0xA0, 0, 0, 0, 3, 0x10, 0x10, 0x90, 0x00
        ]),
        // PSE FCI with SFI 1
        Just(vec![
            0x6F, 0x05, 0x84, 0x00, 0xA5, 0x03, 0x88, 0x01, 0x01, 0x90, 0x00
        ]),
        // directory record with the AID
        Just(vec![
            0x70, 0x0B, 0x61, 0x09, 0x4F, 0x07, 0xA0, 0, 0, 0, 3, 0x10, 0x10, 0x90, 0x00
        ]),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_responses(responses in prop::collection::vec(response(), 1..60), partial: bool, choices: Vec<u8>, opts in (any::<bool>(), any::<bool>(), any::<bool>())) {
        let aids = [TerminalAid { aid: &AID[..5], partial_selection: partial }, TerminalAid { aid: AID, partial_selection: false }];
        let options = Options { use_pse: opts.0, cardholder_selection: opts.1, cardholder_confirmation: opts.2 };
        let mut sel = Selection::new(&aids, options);
        let mut responses = responses.into_iter();
        let mut choices = choices.into_iter();
        let mut ended = false;
        for _ in 0..200 {
            while let Some(e) = sel.poll_event() {
                match e {
                    Event::Selected => {
                        let c = sel.selected().unwrap();
                        prop_assert!(c.aid.as_slice().starts_with(&AID[..5]));
                        ended = true;
                    }
                    Event::NotAccepted | Event::CardBlocked => ended = true,
                    Event::ChooseApplication => {
                        let n = sel.candidates().len();
                        let pick = usize::from(choices.next().unwrap_or(0)) % n.max(1);
                        sel.choose(pick).unwrap();
                    }
                    Event::ConfirmApplication { .. } => sel.confirm(choices.next().unwrap_or(1) % 2 == 0).unwrap(),
                    Event::TryAgain => {}
                }
            }
            if ended {
                break;
            }
            let mut cmd = [0u8; 261];
            if sel.poll_transmit(&mut cmd).unwrap().is_some() {
                let r = responses.next().unwrap_or_else(|| vec![0x6A, 0x82]);
                sel.handle_response(&r).unwrap();
            }
        }
        prop_assert!(ended, "selection must end");
    }
}

/// A card answering every SELECT with the same longer DF name: selection
/// must not loop.
#[test]
fn a_card_repeating_itself_on_select_next_does_not_loop() {
    let aids = [TerminalAid {
        aid: &AID[..5],
        partial_selection: true,
    }];
    let mut sel = Selection::new(
        &aids,
        Options {
            use_pse: false,
            ..Options::default()
        },
    );
    let fci = [
        0x6F, 0x09, 0x84, 0x07, 0xA0, 0, 0, 0, 3, 0x10, 0x10, 0x90, 0x00,
    ];
    let mut sent = 0;
    loop {
        if let Some(e) = sel.poll_event() {
            assert_eq!(e, Event::Selected);
            break;
        }
        let mut cmd = [0u8; 64];
        if sel.poll_transmit(&mut cmd).unwrap().is_some() {
            sent += 1;
            assert!(sent < 10, "looping");
            sel.handle_response(&fci).unwrap();
        }
    }
    assert_eq!(sent, 3, "SELECT, SELECT next (repeat: stop), final SELECT");
}
