//! `emv card`: simulated cards from profiles: list them, describe them,
//! serve one to a real `pcscd` through vsmartcard's vpcd driver.

use std::fmt::Write as _;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use emv_test_cards::card::Card;
use emv_test_cards::engine::EmvCard;
use emv_test_cards::profile::builtin;
use emv_test_cards::profile::load::load_builtin;
use emv_test_cards::vpcd::{RunEnd, VpcdServer};

/// The built-in profiles with their descriptions, one per line.
pub fn profiles() -> Result<String, String> {
    let mut out = String::new();
    for name in builtin::names() {
        let loaded = load_builtin(name).map_err(|e| e.to_string())?;
        let _ = writeln!(out, "{name:<16} {}", loaded.profile.description);
    }
    Ok(out)
}

/// Serves the card of `profile` (a built-in name or a `.toml` path) to vpcd
/// at `127.0.0.1:port` until vpcd goes away. Progress goes to stderr.
pub fn serve(profile: &str, port: u16, atr: Option<Vec<u8>>) -> Result<String, String> {
    let card = EmvCard::with_profile_faults(profile).map_err(|e| e.to_string())?;
    let card = match atr {
        Some(atr) => Box::new(WithAtr { card, atr }) as Box<dyn Card + Send>,
        None => Box::new(card) as Box<dyn Card + Send>,
    };
    let addr = format!("127.0.0.1:{port}");
    let mut server = VpcdServer::connect(card, addr.as_str()).map_err(|e| e.to_string())?;
    eprintln!(
        "emv: serving profile {profile:?} (ATR {}) to vpcd at {addr}; Ctrl-C to stop",
        hex::encode_upper(server.card().atr())
    );
    let stop = AtomicBool::new(false);
    loop {
        match server.run(&stop).map_err(|e| e.to_string())? {
            RunEnd::Stopped => return Ok(String::new()),
            RunEnd::PeerClosed => {
                return Ok(format!(
                    "vpcd at {addr} closed the connection; card withdrawn\n"
                ));
            }
            RunEnd::CardRemoved => {
                // Tearing fault: the card is out for a moment, then back.
                eprintln!("emv: card removed (tearing); reinserting");
                std::thread::sleep(Duration::from_secs(1));
                server.reinsert().map_err(|e| e.to_string())?;
            }
        }
    }
}

/// A card answering with another ATR (`--atr`).
struct WithAtr {
    card: emv_test_cards::faults::FaultyCard<EmvCard>,
    atr: Vec<u8>,
}

impl Card for WithAtr {
    fn atr(&self) -> Vec<u8> {
        self.atr.clone()
    }
    fn power_on(&mut self) {
        self.card.power_on();
    }
    fn power_off(&mut self) {
        self.card.power_off();
    }
    fn reset(&mut self) {
        self.card.reset();
    }
    fn transmit(&mut self, command: &[u8]) -> emv_test_cards::card::Reply {
        self.card.transmit(command)
    }
}
