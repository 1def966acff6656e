//! The public traces (`vectors/traces`, provenance in `vectors/README.md`)
//! load in every format, replay through `SimChannel<ReplayCard>` to exactly
//! their recorded responses, and survive a round trip through the project
//! format; broken files give `file:line` errors.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};

use emv_hal::atr::Atr;
use emv_hal::channel::CardChannel;
use emv_test_cards::card::{Card, Reply, SimChannel};
use emv_test_cards::replay::{DEFAULT_ATR, MatchMode, ReplayCard};
use emv_test_cards::trace::{
    Exchange, Trace, TraceError, TraceFormat, TraceProblem, looks_like_command,
};

fn traces_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../vectors/traces")
}

/// The binaryfoo alternating-lines traces: every `*-in.txt` and
/// `amex-msd-mobile.txt` (same format, no `-in` suffix upstream).
fn binaryfoo_files() -> Vec<PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(traces_dir().join("binaryfoo"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_str().unwrap();
            name.ends_with("-in.txt") || name == "amex-msd-mobile.txt"
        })
        .collect();
    files.sort();
    assert_eq!(files.len(), 7, "the 7 binaryfoo traces");
    files
}

fn mock_files() -> Vec<PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(traces_dir().join("k2-k3-mocks"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_str().unwrap();
            name.starts_with("mock-") && name.ends_with(".json")
        })
        .collect();
    files.sort();
    assert_eq!(files.len(), 6, "the 6 k2-k3 mocks");
    files
}

fn all_traces() -> Vec<(String, Trace)> {
    binaryfoo_files()
        .into_iter()
        .chain(mock_files())
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            let trace = Trace::load(&p).unwrap_or_else(|e| panic!("{e}"));
            (name, trace)
        })
        .collect()
}

fn exchange<C: Card>(channel: &mut SimChannel<C>, command: &[u8]) -> Vec<u8> {
    let mut buf = [0u8; 1024];
    let n = channel.exchange(command, &mut buf).unwrap();
    buf[..n].to_vec()
}

fn h(text: &str) -> Vec<u8> {
    hex::decode(text.replace(' ', "")).unwrap()
}

#[test]
fn binaryfoo_traces_load_and_account_for_every_line() {
    for path in binaryfoo_files() {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            TraceFormat::detect(&text),
            TraceFormat::Alternating,
            "{name}"
        );
        let trace = Trace::load(&path).unwrap_or_else(|e| panic!("{e}"));
        let lines: Vec<(usize, Vec<u8>)> = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| (i + 1, hex::decode(l.trim()).unwrap()))
            .collect();
        let commands: Vec<_> = lines
            .iter()
            .filter(|(_, b)| looks_like_command(b))
            .collect();
        assert_eq!(trace.exchanges.len(), commands.len(), "{name}");
        for (e, (line, bytes)) in trace.exchanges.iter().zip(&commands) {
            assert_eq!((e.line, &e.command), (*line, bytes), "{name}");
        }
        // Every other line is a response or the 00000000 placeholder.
        let responses = trace
            .exchanges
            .iter()
            .filter(|e| e.response.is_some())
            .count();
        let placeholders = lines.iter().filter(|(_, b)| b == &[0, 0, 0, 0]).count();
        assert_eq!(
            commands.len() + responses + placeholders,
            lines.len(),
            "{name}"
        );
    }
}

#[test]
fn binaryfoo_quirks_are_read_as_documented() {
    let dir = traces_dir().join("binaryfoo");
    // contact-mastercard-in.txt line 3: the first GPO has no response line.
    let mc = Trace::load(dir.join("contact-mastercard-in.txt")).unwrap();
    let gpo = &mc.exchanges[1];
    assert_eq!((gpo.line, gpo.command.clone()), (3, h("80a8000002830000")));
    assert_eq!(gpo.response, None);
    assert_eq!(mc.exchanges[2].line, 4);
    assert_eq!(
        mc.exchanges.iter().filter(|e| e.response.is_none()).count(),
        1
    );
    // contact-visa-in.txt line 6: the 00000000 placeholder after READ RECORD.
    let visa = Trace::load(dir.join("contact-visa-in.txt")).unwrap();
    let rr = &visa.exchanges[2];
    assert_eq!((rr.line, rr.command.clone()), (5, h("00b2010c00")));
    assert_eq!(rr.response, None);
    assert_eq!(visa.exchanges[3].line, 7);
    // The last exchange of a file without a trailing newline keeps its
    // response.
    let last = visa.exchanges.last().unwrap();
    assert_eq!(
        last.response.as_deref(),
        Some(&h("8012400029bb31d191bced0cf206010a0364bc009000")[..])
    );
    // Responses in format 1 (tag 80) start with a class byte EMV uses but
    // are not commands: contact-upi-in.txt INTERNAL AUTHENTICATE.
    let upi = Trace::load(dir.join("contact-upi-in.txt")).unwrap();
    let ia = upi.exchanges.iter().find(|e| e.command[1] == 0x88).unwrap();
    assert_eq!(&ia.response.as_ref().unwrap()[..3], &[0x80, 0x81, 0xB0]);
}

#[test]
fn k2_k3_mocks_load_like_serde_json_reads_them() {
    for path in mock_files() {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(TraceFormat::detect(&text), TraceFormat::JsonMock, "{name}");
        let trace = Trace::load(&path).unwrap_or_else(|e| panic!("{e}"));
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        let apdus = json["apdus"].as_array().unwrap();
        assert_eq!(trace.exchanges.len(), apdus.len(), "{name}");
        for (e, a) in trace.exchanges.iter().zip(apdus) {
            assert_eq!(e.command, h(a["cmd"].as_str().unwrap()), "{name}");
            assert_eq!(
                e.response.as_deref(),
                Some(&h(a["resp"].as_str().unwrap())[..]),
                "{name}"
            );
            // The line is that of the `cmd` string.
            let line = text.lines().nth(e.line - 1).unwrap();
            assert!(line.contains("\"cmd\""), "{name}:{}: {line}", e.line);
        }
    }
}

#[test]
fn every_trace_replays_to_its_recorded_responses() {
    let mut replayed = 0;
    for (name, trace) in all_traces() {
        for mode in [MatchMode::Strict, MatchMode::Lenient] {
            let card = ReplayCard::new(trace.clone()).with_mode(mode);
            let mut channel = SimChannel::new(card);
            // Commands without a recorded response are not sent: the card
            // has nothing to answer them with.
            for e in trace.exchanges.iter().filter(|e| e.response.is_some()) {
                let got = exchange(&mut channel, &e.command);
                assert_eq!(
                    Some(&got),
                    e.response.as_ref(),
                    "{name}:{} ({mode:?})",
                    e.line
                );
                replayed += 1;
            }
            let card = channel.card();
            assert!(card.unmatched().is_empty(), "{name} ({mode:?})");
            assert!(card.remaining().is_empty(), "{name} ({mode:?})");
            assert_eq!(
                card.consumed().len(),
                trace
                    .exchanges
                    .iter()
                    .filter(|e| e.response.is_some())
                    .count()
            );
        }
    }
    assert!(replayed >= 2 * 120, "only {replayed} exchanges replayed");
}

#[test]
fn unknown_commands_get_6d00_and_are_reported() {
    let trace = Trace::load(traces_dir().join("binaryfoo/contact-visa-in.txt")).unwrap();
    let mut channel = SimChannel::new(ReplayCard::strict(trace.clone()));
    let get_challenge = h("0084000008");
    assert_eq!(exchange(&mut channel, &get_challenge), h("6D00"));
    // A GPO with other PDOL data: strict mode does not know it...
    let other_gpo = h("80a800000483020000 00");
    assert_eq!(exchange(&mut channel, &other_gpo), h("6D00"));
    assert_eq!(
        channel.card().unmatched(),
        &[get_challenge.clone(), other_gpo.clone()]
    );
    // ...lenient mode answers it by its header.
    let mut lenient = SimChannel::new(ReplayCard::new(trace));
    assert_eq!(
        exchange(&mut lenient, &other_gpo),
        h("800e1c000801010010010100180304009000")
    );
    assert_eq!(exchange(&mut lenient, &get_challenge), h("6D00"));
    assert_eq!(lenient.card().unmatched(), &[get_challenge]);
    assert_eq!(lenient.card().consumed().len(), 1);
}

#[test]
fn matching_consumes_in_order_and_prefers_identical_commands() {
    let text = "\
        > 00 A4 04 00 0E 325041592E5359532E4444463031 00\n\
        < 6F 00 9000\n\
        > 00 A4 04 00 07 A0000000041010 00\n\
        < 6F 01 9000\n\
        > 00 B2 01 0C 00\n\
        > 00 B2 01 0C 00\n\
        < 70 00 9000\n\
        > 00 B2 01 0C 00\n\
        < 70 01 9000\n";
    let trace = Trace::parse(text, "inline").unwrap();
    assert_eq!(trace.exchanges[2].response, None);
    let mut card = ReplayCard::new(trace.clone());
    // The second SELECT first: found by its whole command even in lenient mode.
    assert_eq!(
        card.transmit(&h("00A4040007A000000004101000")),
        Reply::Response(h("6F019000"))
    );
    // A SELECT of another DF name: its answer belongs to that name, so
    // even lenient matching finds nothing.
    assert_eq!(
        card.transmit(&h("00A4040007A000000003101000")),
        Reply::Response(h("6D00"))
    );
    assert_eq!(
        card.transmit(&h("00A404000E325041592E5359532E444446303100")),
        Reply::Response(h("6F009000"))
    );
    // Record 1 twice: the exchange without a response is skipped.
    assert_eq!(
        card.transmit(&h("00B2010C00")),
        Reply::Response(h("70009000"))
    );
    assert_eq!(
        card.transmit(&h("00B2010C00")),
        Reply::Response(h("70019000"))
    );
    assert_eq!(card.transmit(&h("00B2010C00")), Reply::Response(h("6D00")));
    assert!(card.remaining().is_empty());
    assert_eq!(card.consumed().len(), 4);
    // The SELECT of another DF name and the third record 1.
    assert_eq!(card.unmatched().len(), 2);
    // Power cycles keep the position; rewind starts over.
    card.power_off();
    card.power_on();
    assert_eq!(card.transmit(&h("00B2010C00")), Reply::Response(h("6D00")));
    card.rewind();
    assert_eq!(card.remaining().len(), 4);
    assert!(card.unmatched().is_empty());
    // Strict mode: the SELECT of another AID is unknown.
    let mut strict = ReplayCard::strict(trace);
    assert_eq!(strict.mode(), MatchMode::Strict);
    assert_eq!(
        strict.transmit(&h("00A4040007A000000003101000")),
        Reply::Response(h("6D00"))
    );
    assert_eq!(strict.remaining().len(), 4);
}

#[test]
fn mocks_can_answer_unknown_commands_like_upstream() {
    let trace = Trace::load(traces_dir().join("k2-k3-mocks/mock-visa-online.json")).unwrap();
    let mut channel = SimChannel::new(ReplayCard::strict(trace).with_unmatched_status(0x6700));
    assert_eq!(exchange(&mut channel, &h("00B2011400")), h("6700"));
}

#[test]
fn default_atr_is_an_emv_atr() {
    let card = ReplayCard::new(Trace::default());
    assert_eq!(card.atr(), DEFAULT_ATR);
    let atr = Atr::parse(&DEFAULT_ATR).unwrap();
    atr.emv_check().unwrap();
    let custom = ReplayCard::new(Trace::default()).with_atr(vec![0x3B, 0x00]);
    assert_eq!(custom.atr(), [0x3B, 0x00]);
}

#[test]
fn project_format_round_trips_every_trace() {
    for (name, trace) in all_traces() {
        let text = trace.to_project_format();
        assert_eq!(TraceFormat::detect(&text), TraceFormat::Project, "{name}");
        let back = Trace::parse(&text, &name).unwrap_or_else(|e| panic!("{e}\n{text}"));
        let pairs = |t: &Trace| -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
            t.exchanges
                .iter()
                .map(|e| (e.command.clone(), e.response.clone()))
                .collect()
        };
        assert_eq!(pairs(&back), pairs(&trace), "{name}");
        // Written again, the text is the same.
        assert_eq!(back.to_project_format(), text, "{name}");
    }
}

#[test]
fn project_format_writes_readable_lines() {
    let trace = Trace {
        exchanges: vec![
            Exchange {
                command: h("00A4040007A000000003101000"),
                response: Some(h("6F07840500112233449000")),
                line: 0,
            },
            Exchange {
                command: h("80A8000002830000"),
                response: None,
                line: 0,
            },
            Exchange {
                command: h("00B2010C00"),
                response: Some(h("6A83")),
                line: 0,
            },
            Exchange {
                command: h("00AB0000"),
                response: Some(h("6D00")),
                line: 0,
            },
        ],
    };
    assert_eq!(
        trace.to_project_format(),
        "# APDU trace (emv-test-cards project format)\n\
         # SELECT\n\
         > 00 A4 04 00 07 A0000000031010 00\n\
         < 6F0784050011223344 9000\n\
         # GET PROCESSING OPTIONS (no response recorded)\n\
         > 80 A8 00 00 02 8300 00\n\
         # READ RECORD\n\
         > 00 B2 01 0C 00\n\
         < 6A83\n\
         # INS AB\n\
         > 00 AB 00 00\n\
         < 6D00\n"
    );
}

#[test]
fn project_format_accepts_spaces_comments_and_case() {
    let text = "\n# a comment\n  > 00 a4 04 00 02 3F00   # SELECT MF\n\t< 6a82\n\n>00B2010C00\n";
    let trace = Trace::parse(text, "hand.trace").unwrap();
    assert_eq!(
        trace.exchanges,
        vec![
            Exchange {
                command: h("00A40400023F00"),
                response: Some(h("6A82")),
                line: 3,
            },
            Exchange {
                command: h("00B2010C00"),
                response: None,
                line: 6,
            },
        ]
    );
}

fn syntax_error(text: &str, name: &str) -> (usize, TraceProblem, String) {
    match Trace::parse(text, name).unwrap_err() {
        e @ TraceError::Syntax { .. } => {
            let message = e.to_string();
            assert!(message.starts_with(&format!("{name}:")), "{message}");
            (e.line().unwrap(), e.problem().unwrap().clone(), message)
        }
        e => panic!("not a syntax error: {e}"),
    }
}

#[test]
fn bad_project_files_name_file_line_and_text() {
    let (line, problem, message) =
        syntax_error("# t\n> 00 B2 01 0C 00\n< 70 0G 9000\n", "bad.trace");
    assert_eq!(line, 3);
    assert_eq!(
        problem,
        TraceProblem::BadHexDigit {
            column: 7,
            found: 'G'
        }
    );
    assert_eq!(
        message,
        "bad.trace:3: column 7: 'G' is not a hex digit: `< 70 0G 9000`"
    );

    let (line, problem, _) = syntax_error("> 00 B2 01 0C 0 0\n", "bad.trace");
    assert_eq!(
        (line, problem),
        (1, TraceProblem::LoneHexDigit { column: 15 })
    );

    let (line, problem, _) = syntax_error("> 00B2010C00\n< 9000\n< 9000\n", "bad.trace");
    assert_eq!((line, problem), (3, TraceProblem::ResponseWithoutCommand));

    let (line, problem, message) = syntax_error("> 00B2010C00\nhello\n", "bad.trace");
    assert_eq!((line, problem), (2, TraceProblem::UnknownLine));
    assert!(message.ends_with(": `hello`"), "{message}");

    let (line, problem, _) = syntax_error("> 00B2\n", "bad.trace");
    assert_eq!(
        (line, problem),
        (1, TraceProblem::CommandTooShort { len: 2 })
    );

    let (line, problem, _) = syntax_error("> 00B2010C00\n< 90\n", "bad.trace");
    assert_eq!(
        (line, problem),
        (2, TraceProblem::ResponseTooShort { len: 1 })
    );

    // Long lines are shortened in the message.
    let long = format!("> 00B2010C00\n< {}ZZ\n", "AB".repeat(100));
    let (_, _, message) = syntax_error(&long, "bad.trace");
    assert!(message.ends_with("ABAB…`"), "{message}");
}

#[test]
fn bad_alternating_files_name_file_line_and_text() {
    // Two responses in a row: the second is not a command.
    let (line, problem, message) = syntax_error(
        "00a4040007a000000003101000\n6a82\n6a82\n",
        "two-responses-in.txt",
    );
    assert_eq!((line, problem), (3, TraceProblem::NotACommand));
    assert!(
        message.starts_with("two-responses-in.txt:3: not a C-APDU"),
        "{message}"
    );
    // A response first.
    let (line, problem, _) = syntax_error("9000\n", "r.txt");
    assert_eq!((line, problem), (1, TraceProblem::NotACommand));
    // Not hex.
    let (line, problem, _) = syntax_error("00a4040007a000000003101000\nnot hex\n", "x.txt");
    assert_eq!(
        (line, problem),
        (
            2,
            TraceProblem::BadHexDigit {
                column: 1,
                found: 'n'
            }
        )
    );
}

#[test]
fn bad_json_mocks_name_file_line_and_text() {
    let (line, problem, _) = syntax_error("{\n  \"apdus\": [\n    {\"cmd\": \"00B2\" \n", "m.json");
    assert_eq!(line, 3);
    assert!(matches!(problem, TraceProblem::Json(_)), "{problem:?}");

    let (line, problem, message) = syntax_error("{\n  \"randoms\": \"00\"\n}\n", "m.json");
    assert_eq!(line, 1);
    assert_eq!(problem, TraceProblem::Mock("no `apdus` member".into()));
    assert_eq!(message, "m.json:1: mock: no `apdus` member: `{`");

    let text = "{ \"apdus\": [\n  { \"cmd\": \"00B2010C00\",\n    \"resp\": \"70XX9000\" } ] }";
    let (line, problem, _) = syntax_error(text, "m.json");
    assert_eq!(
        (line, problem),
        (
            3,
            TraceProblem::BadHexDigit {
                column: 16,
                found: 'X'
            }
        )
    );

    let (line, problem, _) = syntax_error("{ \"apdus\": [ { \"cmd\": 5 } ] }", "m.json");
    assert_eq!(
        (line, problem),
        (1, TraceProblem::Mock("`cmd` is not a string".into()))
    );

    // JSON escapes and other members are fine.
    let trace = Trace::parse(
        "{\"x\": [1.5e3, true, null, \"\\u00e9\\n\"], \"apdus\": [{\"cmd\": \"00B2010C00\"}]}",
        "m.json",
    )
    .unwrap();
    assert_eq!(trace.exchanges[0].response, None);
}

#[test]
fn missing_file_names_the_path() {
    let path = traces_dir().join("does-not-exist.trace");
    let e = Trace::load(&path).unwrap_err();
    assert!(matches!(e, TraceError::Io { .. }));
    assert!(
        e.to_string().starts_with(&path.display().to_string()),
        "{e}"
    );
}
