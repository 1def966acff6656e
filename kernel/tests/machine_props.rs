//! The contact transaction fed arbitrary card responses: it never panics,
//! always ends within a bounded number of exchanges, and reports an offline
//! approval only when the card's last cryptogram was a TC.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use emv_kernel::Tag;
use emv_kernel::contact::cvm::CvmOptions;
use emv_kernel::contact::machine::{
    AidParams, Event, OnlineResponse, Outcome, PinEntry, TerminalParams, Transaction,
    TransactionInput,
};
use emv_kernel::contact::taa::ActionCodes;
use emv_kernel::crypto::SoftwareCrypto;
use emv_kernel::data::additional_terminal_capabilities::AdditionalTerminalCapabilities;
use emv_kernel::data::terminal_capabilities::TerminalCapabilities;
use emv_kernel::data::terminal_type::TerminalType;
use emv_kernel::oda::StaticCapkStore;
use emv_kernel::selection::{Options, TerminalAid};
use proptest::prelude::*;

const AID: &[u8] = &[0xA0, 0, 0, 0, 3, 0x10, 0x10];

fn response() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..64),
        Just(vec![0x90, 0x00]),
        Just(vec![0x6A, 0x82]),
        Just(vec![0x69, 0x85]),
        // FCI of the AID
        Just(vec![
            0x6F, 0x09, 0x84, 0x07, 0xA0, 0, 0, 0, 3, 0x10, 0x10, 0x90, 0x00
        ]),
        // GPO format 1: AIP 7C00 (SDA, DDA, CVM, TRM, IA), AFL SFI 1 rec 1
        Just(vec![
            0x80, 0x06, 0x7C, 0x00, 0x08, 0x01, 0x01, 0x01, 0x90, 0x00
        ]),
        // a record with the mandatory data
        Just(vec![
            0x70, 0x1C, 0x5A, 0x02, 0x47, 0x61, 0x5F, 0x24, 0x03, 0x30, 0x12, 0x31, 0x8C, 0x03,
            0x9F, 0x37, 0x04, 0x8D, 0x02, 0x8A, 0x02, 0x8E, 0x0A, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
            0x00, 0x90, 0x00
        ]),
        // GENERATE AC format 1: TC / ARQC / AAC
        Just(vec![
            0x80, 0x0B, 0x40, 0x00, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 0x90, 0x00
        ]),
        Just(vec![
            0x80, 0x0B, 0x80, 0x00, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 0x90, 0x00
        ]),
        Just(vec![
            0x80, 0x0B, 0x00, 0x00, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 0x90, 0x00
        ]),
        Just(vec![0x63, 0xC2]),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn arbitrary_card(responses in prop::collection::vec(response(), 1..40), online in any::<u8>(), tac_online in any::<u8>()) {
        let aids = [TerminalAid { aid: AID, partial_selection: false }];
        let aid_params = [AidParams {
            application_version: None,
            floor_limit: 1000,
            tac: ActionCodes { denial: [0; 5], online: [tac_online, 0, 0, 0, 0], default: [0; 5] },
            random_selection: None,
            default_ddol: &[0x9F, 0x37, 0x04],
            default_tdol: &[],
            velocity_checking: true,
        }];
        let data: [(Tag, &[u8]); 0] = [];
        let params = TerminalParams {
            terminal_type: TerminalType::from_byte(0x22).unwrap(),
            capabilities: TerminalCapabilities::new([0xE0, 0xF8, 0xC8]),
            additional_capabilities: AdditionalTerminalCapabilities::new([0x60, 0, 0xF0, 0xA0, 0x01]),
            country_code: [0x08, 0x40],
            currency_code: [0x08, 0x40],
            data: &data,
            aids: &aids,
            aid_params: &aid_params,
            selection: Options::default(),
            cvm: CvmOptions::DEFAULT,
            exception_file: &[],
        };
        let input = TransactionInput {
            amount: 500, amount_other: 0, transaction_type: 0, date: [0x26, 0x11, 0x28],
            time: [0x12, 0, 0], unpredictable_number: [1, 2, 3, 4], random_number: 50, sequence_counter: 1,
        };
        let store = StaticCapkStore::default();
        let crypto = SoftwareCrypto;
        let mut t = Transaction::new(params, input, &crypto, &store);
        let mut responses = responses.into_iter();
        let mut last_cid = None;
        let mut ended = None;
        for _ in 0..300 {
            while let Some(e) = t.poll_event() {
                match e {
                    Event::ChooseApplication => t.choose(0).unwrap(),
                    Event::ConfirmApplication { .. } => t.confirm(true).unwrap(),
                    Event::TryAgain => {}
                    Event::NeedPin { .. } => {
                        let _ = t.handle_pin(PinEntry::Digits { digits: [1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0], len: 4 })
                            .or_else(|_| t.handle_pin(PinEntry::OnlineCaptured));
                    }
                    Event::GoOnline => {
                        let r = if online % 2 == 0 {
                            OnlineResponse::Unable
                        } else {
                            OnlineResponse::Response { arc: *b"00", issuer_authentication_data: &[1; 10], scripts: &[0x71, 0x04, 0x86, 0x02, 0x84, 0x1E] }
                        };
                        t.handle_online(r).unwrap();
                    }
                    Event::Outcome(o) => ended = Some(o),
                }
            }
            if ended.is_some() {
                break;
            }
            let mut cmd = [0u8; 261];
            if t.poll_transmit(&mut cmd).unwrap().is_some() {
                let r = responses.next().unwrap_or_else(|| vec![0x6F, 0x00]);
                t.handle_response(&r).unwrap();
                last_cid = t.store().get(Tag::new(0x9F27)).and_then(|v| v.first().copied());
            }
        }
        let outcome = ended.expect("the transaction must end");
        if outcome == Outcome::ApprovedOffline {
            prop_assert_eq!(last_cid.map(|c| c & 0xC0), Some(0x40), "offline approval without a TC");
        }
    }
}
