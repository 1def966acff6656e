//! Property test: the engine against a correct simulated card over a line that corrupts (one
//! byte per block) or loses blocks in both directions. Every run ends within a bounded number
//! of blocks, with either the exact response or an error — never a panic, never a wrong
//! response. Single-byte corruption is what LRC always detects (with a whole-block delivery,
//! a corrupted LEN shows up as trailing bytes or a character timeout); multi-byte corruption
//! can defeat an LRC by design of ISO/IEC 7816-3 and is not modelled.

extern crate std;

use std::collections::VecDeque;
use std::vec::Vec;

use proptest::prelude::*;

use super::super::*;
use super::sim::*;

fn arb_fate() -> impl Strategy<Value = Fate> {
    prop_oneof![
        8 => Just(Fate::Deliver),
        1 => (any::<usize>(), 1u8..=255).prop_map(|(pos, xor)| Fate::Corrupt { pos, xor }),
        1 => Just(Fate::Drop),
    ]
}

fn arb_script() -> impl Strategy<Value = Vec<SBlock>> {
    proptest::collection::vec(
        prop_oneof![
            (1u8..=5).prop_map(SBlock::WtxRequest),
            (16u8..=254).prop_map(SBlock::IfsRequest),
        ],
        0..3,
    )
}

/// Bound on terminal blocks per exchange: every recovery step is bounded by the retry count,
/// every progress step moves at least one byte.
const MAX_STEPS: usize = 4_000;

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn lossy_line_never_yields_a_wrong_response(
        ifsc in 16u8..=254,
        negotiate in any::<bool>(),
        exchanges in proptest::collection::vec((4usize..=261, 0usize..=256, arb_script()), 1..4),
        to_card in proptest::collection::vec(arb_fate(), 0..80),
        to_terminal in proptest::collection::vec(arb_fate(), 0..80),
        resynch in any::<bool>(),
    ) {
        let lens: Vec<usize> = exchanges.iter().map(|e| e.1).collect();
        let mut n = 0usize;
        let mut card = SimCard::new(ifsc, std::boxed::Box::new(move |cmd: &[u8]| {
            let len = lens.get(n).copied().unwrap_or(0);
            n += 1;
            response_for(cmd, len)
        }));
        card.script = exchanges.iter().map(|e| e.2.clone()).collect();
        let mut t1 = T1::new(T1Config { resynch, ..T1Config::emv(ifsc, 15_371, 13, 1) }).unwrap();
        let mut line = Line::perfect();
        line.to_card = VecDeque::from(to_card);
        line.to_terminal = VecDeque::from(to_terminal);

        if negotiate {
            t1.start_ifsd_negotiation().unwrap();
            match line.run(&mut t1, &mut card, MAX_STEPS) {
                Outcome::Ifsd(v) => prop_assert_eq!(v, 254),
                Outcome::Error(e) => {
                    prop_assert!(e.requires_deactivation() || e == T1Error::Resynchronised);
                    return Ok(());
                }
                Outcome::Response(_) => prop_assert!(false, "response to S(IFS)"),
            }
        }
        for (k, (cmd_len, resp_len, _)) in exchanges.iter().enumerate() {
            let cmd = command(*cmd_len, k as u8);
            t1.start(&cmd).unwrap();
            match line.run(&mut t1, &mut card, MAX_STEPS) {
                Outcome::Response(r) => {
                    prop_assert_eq!(&r, &response_for(&cmd, *resp_len));
                    prop_assert_eq!(card.commands.last(), Some(&cmd));
                }
                Outcome::Error(T1Error::Resynchronised) => {
                    prop_assert!(resynch);
                    prop_assert!(t1.is_idle());
                    return Ok(());
                }
                Outcome::Error(e) => {
                    prop_assert!(
                        matches!(
                            e,
                            T1Error::RetriesExhausted { .. } | T1Error::ResynchFailed
                        ),
                        "unexpected error {e:?}"
                    );
                    prop_assert!(t1.is_dead());
                    return Ok(());
                }
                Outcome::Ifsd(_) => prop_assert!(false, "IFS event for an APDU"),
            }
        }
    }

    #[test]
    fn perfect_line_in_any_chunking_always_succeeds(
        ifsc in 16u8..=254,
        cmd_len in 4usize..=261,
        resp_len in 0usize..=256,
        chunk in 1usize..=300,
        script in arb_script(),
    ) {
        let mut card = fixed_len_card(ifsc, resp_len);
        card.script = std::vec![script];
        let mut t1 = T1::new(T1Config::emv(ifsc, 15_371, 13, 1)).unwrap();
        let mut line = Line::perfect();
        line.chunk = chunk;
        t1.start_ifsd_negotiation().unwrap();
        prop_assert_eq!(line.run(&mut t1, &mut card, 10), Outcome::Ifsd(254));
        let cmd = command(cmd_len, 1);
        t1.start(&cmd).unwrap();
        prop_assert_eq!(line.run(&mut t1, &mut card, 100), Outcome::Response(response_for(&cmd, resp_len)));
        prop_assert_eq!(line.timeouts, 0);
    }

    #[test]
    fn arbitrary_card_bytes_never_panic(
        cmd_len in 1usize..=261,
        chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 0..20),
        timeouts in proptest::collection::vec(any::<bool>(), 0..20),
        parity in proptest::collection::vec(any::<bool>(), 0..20),
    ) {
        let mut t1 = T1::new(T1Config::emv(16, 100, 10, 1)).unwrap();
        t1.start(&std::vec![0x5A; cmd_len]).unwrap();
        let mut buf = [0u8; MAX_BLOCK_LEN];
        for (i, chunk) in chunks.iter().enumerate() {
            let _ = t1.poll_transmit(&mut buf);
            if parity.get(i).copied().unwrap_or(false) {
                t1.handle_parity_error();
            }
            t1.handle_received(chunk);
            if timeouts.get(i).copied().unwrap_or(false) {
                t1.handle_timeout();
            }
            let _ = t1.poll_timeout();
            if let Some(T1Event::Complete { len }) = t1.poll_event() {
                prop_assert_eq!(t1.response().map(<[u8]>::len), Some(len));
                prop_assert!(len <= MAX_RESPONSE_LEN);
            }
        }
    }
}
