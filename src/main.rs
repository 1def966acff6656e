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
        Command::Decode(args) => run_decode(args),
        Command::Card(CardCommand::Profiles) => emv::card_cmd::profiles().map_err(DecodeError::new),
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
            }),
    };
    match result {
        Ok(text) => {
            let mut out = io::stdout().lock();
            match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
                Ok(()) => ExitCode::SUCCESS,
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
