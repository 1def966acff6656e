//! The `emv` command-line tool. See README.md for the commands.

use std::io::{self, Read, Write};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use emv::decode::{self, DecodeError};
use emv::hexinput::parse_hex;
use emv_kernel::wire::tlv::Mode;

/// EMV kernel and card-reader tool.
#[derive(Parser, Debug)]
#[command(name = "emv", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Decode hex: a TLV stream (default), an R-APDU, a C-APDU, a DOL or an ATR.
    Decode(DecodeArgs),
    /// Simulated cards described by profiles.
    #[command(subcommand)]
    Card(CardCommand),
    /// Run one contact transaction against a simulated card, a recorded
    /// trace or the card in a PC/SC reader.
    Transact(TransactArgs),
    /// The PC/SC readers, the state of their slots and the ATR of each card
    /// with the EMV Level 1 verdict (needs a build with `--features pcsc`).
    Readers {
        /// Print `{"readers": [...]}` instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Test decks for certification labs (docs/decks.md).
    #[command(subcommand)]
    Deck(DeckCommand),
}

#[derive(Subcommand, Debug)]
enum DeckCommand {
    /// Run decks and write reports. Exit codes: 0 all passed, 1 a case
    /// failed, 2 a bad deck or argument.
    Run {
        /// Deck files, or directories whose `*.toml` files are decks.
        #[arg(required = true)]
        paths: Vec<String>,
        /// Worker threads (default: all cores).
        #[arg(long)]
        jobs: Option<usize>,
        /// Only the cases whose id or ref matches (substring, or a glob with `*` and `?`).
        #[arg(long)]
        filter: Option<String>,
        /// Write a JUnit XML report here.
        #[arg(long)]
        junit: Option<String>,
        /// Write a JSON Lines report (one object per case) here.
        #[arg(long)]
        json: Option<String>,
        /// Write a self-contained HTML report here.
        #[arg(long)]
        html: Option<String>,
    },
}

/// `emv transact` arguments. Exit codes: 0 approved, 3 declined,
/// 4 not accepted or terminated, 2 bad arguments or files.
#[derive(Args, Debug)]
struct TransactArgs {
    /// Amount, e.g. 10.00.
    #[arg(long)]
    amount: String,
    /// Other amount (cashback), e.g. 0.00.
    #[arg(long, default_value = "0.00")]
    other: String,
    /// Card profile: a built-in name (`emv card profiles`) or a `.toml` file.
    /// With `--reader`, the profile whose issuer keys the issuer host uses
    /// (the one `emv card serve` serves).
    #[arg(long, default_value = "baseline", conflicts_with = "replay")]
    card: String,
    /// Replay a recorded trace (project trace format, or a public trace
    /// format `emv decode` reads) instead of a simulated card.
    #[arg(long, conflicts_with = "reader")]
    replay: Option<String>,
    /// Run through the card in this PC/SC reader (`emv readers` lists them;
    /// needs a build with `--features pcsc`). With `--online issuer` (the
    /// default) the issuer host verifies the ARQC with the keys of `--card`
    /// (the profile `emv card serve` serves); with a real card use
    /// `--online approve|decline|unable`: the host then answers without
    /// checking the cryptogram and without ARPC.
    #[arg(long)]
    reader: Option<String>,
    /// Transaction type.
    #[arg(long = "type", value_enum, default_value = "purchase")]
    tx_type: emv::transact_cmd::TxType,
    /// Terminal configuration file (default: the built-in configuration).
    #[arg(long)]
    config: Option<String>,
    /// PIN to enter when the card asks for one.
    #[arg(long, default_value = "1234", conflicts_with = "pin_bypass")]
    pin: String,
    /// Bypass PIN entry.
    #[arg(long)]
    pin_bypass: bool,
    /// Online host behaviour.
    #[arg(long, value_enum, default_value = "issuer")]
    online: emv::transact_cmd::OnlineMode,
    /// Unpredictable number (4 bytes hex).
    #[arg(long, default_value = "11223344")]
    un: String,
    /// Transaction date YYMMDD.
    #[arg(long, default_value = "261128")]
    date: String,
    /// Transaction time HHMMSS.
    #[arg(long, default_value = "120000")]
    time: String,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
    /// Show the PAN unmasked.
    #[arg(long)]
    show_pan: bool,
    /// When the card offers several applications and the kernel lets the
    /// cardholder choose: pick this one (1 = the first, in priority order).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..))]
    choose: u8,
    /// Random number (1-99) for random transaction selection (Book 3
    /// §10.6.2); fixed by default so runs are reproducible.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u8).range(1..=99))]
    random: u8,
}

fn fixed<const N: usize>(name: &str, text: &str) -> Result<[u8; N], DecodeError> {
    parse_hex(text)
        .map_err(|e| DecodeError::new(format!("--{name}: {e}")))?
        .try_into()
        .map_err(|_| {
            DecodeError::new(format!(
                "--{name}: expected {N} bytes ({} hex digits)",
                2 * N
            ))
        })
}

fn run_transact(a: &TransactArgs) -> Result<(String, u8), DecodeError> {
    let args = emv::transact_cmd::Args {
        card: a.card.clone(),
        replay: a.replay.clone(),
        reader: a.reader.clone(),
        amount: emv::transact_cmd::parse_amount(&a.amount).map_err(DecodeError::new)?,
        other: emv::transact_cmd::parse_amount(&a.other).map_err(DecodeError::new)?,
        tx_type: a.tx_type,
        config: a.config.clone(),
        pin: (!a.pin_bypass).then(|| a.pin.clone()),
        online: a.online,
        un: fixed("un", &a.un)?,
        date: fixed("date", &a.date)?,
        time: fixed("time", &a.time)?,
        json: a.json,
        show_pan: a.show_pan,
        choose: usize::from(a.choose - 1),
        random: a.random,
    };
    if let Some(p) = &args.pin
        && (!(4..=12).contains(&p.len()) || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(DecodeError::new("--pin: 4 to 12 digits"));
    }
    emv::transact_cmd::transact(&args).map_err(DecodeError::new)
}

#[derive(Subcommand, Debug)]
enum CardCommand {
    /// List the built-in card profiles.
    Profiles,
    /// Serve a simulated card to a real pcscd through vsmartcard's vpcd driver.
    Serve {
        /// A built-in profile name (see `emv card profiles`) or a profile `.toml` file.
        profile: String,
        /// TCP port vpcd listens on.
        #[arg(long, default_value_t = 35963)]
        reader_port: u16,
        /// Answer To Reset to send instead of the profile's (hex).
        #[arg(long)]
        atr: Option<String>,
    },
}

#[derive(Args, Debug)]
#[command(group = clap::ArgGroup::new("kind").multiple(false))]
struct DecodeArgs {
    /// The bytes in hex; spaces, colons and dashes between bytes are fine.
    /// Several arguments are joined. `-` (or nothing) reads standard input.
    hex: Vec<String>,
    /// The input is a response APDU: data followed by SW1 SW2.
    #[arg(long, group = "kind")]
    rapdu: bool,
    /// The input is a command APDU.
    #[arg(long, group = "kind")]
    capdu: bool,
    /// The input is a Data Object List (tag and length pairs).
    #[arg(long, group = "kind")]
    dol: bool,
    /// The input is an Answer To Reset; checked against the EMV Level 1 rules.
    #[arg(long, group = "kind")]
    atr: bool,
    /// Print machine-readable JSON instead of text.
    #[arg(long)]
    json: bool,
    /// Accept BER encodings EMV does not use (4-byte tags, non-minimal and
    /// 4-byte lengths).
    #[arg(long)]
    lenient: bool,
}

fn read_input(args: &[String]) -> Result<Vec<u8>, DecodeError> {
    let text = if args.is_empty() || args == ["-"] {
        let mut s = String::new();
        io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| DecodeError::new(format!("reading standard input: {e}")))?;
        s
    } else {
        args.join(" ")
    };
    parse_hex(&text).map_err(DecodeError::new)
}

fn run_decode(args: &DecodeArgs) -> Result<String, DecodeError> {
    let bytes = read_input(&args.hex)?;
    let mode = if args.lenient {
        Mode::Lenient
    } else {
        Mode::Strict
    };
    let pretty = |v: serde_json::Value| {
        let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
        s.push('\n');
        s
    };
    Ok(if args.rapdu {
        let d = decode::rapdu::decode(&bytes, mode)?;
        if args.json {
            pretty(decode::rapdu::to_json(&d))
        } else {
            decode::rapdu::to_text(&d)
        }
    } else if args.capdu {
        let d = decode::capdu::decode(&bytes)?;
        if args.json {
            pretty(decode::capdu::to_json(&d))
        } else {
            decode::capdu::to_text(&d)
        }
    } else if args.dol {
        let d = decode::dol::decode(&bytes)?;
        if args.json {
            pretty(decode::dol::to_json(&d))
        } else {
            decode::dol::to_text(&d)
        }
    } else if args.atr {
        if args.json {
            pretty(decode::atr::to_json(&bytes)?)
        } else {
            decode::atr::to_text(&bytes)?
        }
    } else {
        let nodes = decode::tree::parse_or_explain(&bytes, mode)?;
        if args.json {
            pretty(decode::tree::to_json(&nodes))
        } else {
            let mut out = String::new();
            decode::tree::to_text(&nodes, 0, &mut out);
            out
        }
    })
}

fn main() -> ExitCode {
    // Card data must never crash the tool; if a bug does, say so in one line
    // instead of printing a backtrace.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("emv: internal error: {info} (please report this input)");
    }));
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Transact(args) => run_transact(args),
        Command::Decode(args) => run_decode(args).map(|t| (t, 0)),
        Command::Readers { json } => emv::readers_cmd::list_readers(*json)
            .map(|t| (t, 0))
            .map_err(DecodeError::new),
        Command::Deck(DeckCommand::Run {
            paths,
            jobs,
            filter,
            junit,
            json,
            html,
        }) => emv::deck_cmd::run(
            paths,
            *jobs,
            filter.as_deref(),
            junit.as_deref(),
            json.as_deref(),
            html.as_deref(),
        )
        .map_err(DecodeError::new),
        Command::Card(CardCommand::Profiles) => emv::card_cmd::profiles()
            .map(|t| (t, 0))
            .map_err(DecodeError::new),
        Command::Card(CardCommand::Serve {
            profile,
            reader_port,
            atr,
        }) => atr
            .as_deref()
            .map(parse_hex)
            .transpose()
            .map_err(|e| DecodeError::new(format!("--atr: {e}")))
            .and_then(|atr| {
                emv::card_cmd::serve(profile, *reader_port, atr).map_err(DecodeError::new)
            })
            .map(|t| (t, 0)),
    };
    match result {
        Ok((text, code)) => {
            let mut out = io::stdout().lock();
            match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
                Ok(()) => ExitCode::from(code),
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("emv: error: writing output: {e}");
                    ExitCode::from(1)
                }
            }
        }
        Err(e) => {
            eprintln!("emv: error: {e}");
            ExitCode::from(2)
        }
    }
}
