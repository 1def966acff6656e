//! `emv readers`: the PC/SC readers, the state of their slots and the ATR of each card,
//! explained in one line with the EMV Level 1 verdict (EMV Contact Interface
//! Specification v1.0 §8.3, checked by `emv_hal::atr`).
//!
//! Needs the root feature `pcsc` (which enables `emv-readers/pcsc` and so links
//! libpcsclite); without it [`list_readers`] says how to rebuild.

use emv_hal::atr::{Atr, EmvTransmission};

/// One line about `atr`: convention, offered protocols, historical bytes, and the EMV
/// verdict (`EMV: accepted T=1 (…)` or `EMV: rejected: <rule and clause>`).
#[must_use]
pub fn explain_atr_line(atr: &[u8]) -> String {
    let parsed = match Atr::parse(atr) {
        Ok(parsed) => parsed,
        Err(e) => return format!("unparsable ATR: {e}; EMV: rejected"),
    };
    let convention = match parsed.convention() {
        emv_hal::atr::Convention::Direct => "direct",
        emv_hal::atr::Convention::Inverse => "inverse",
    };
    let k = parsed.k();
    let mut line = format!(
        "{convention} convention, offers {}, {k} historical byte{}; ",
        parsed.offered_protocols(),
        if k == 1 { "" } else { "s" }
    );
    line.push_str(&emv_verdict(&parsed).1);
    line
}

/// The EMV verdict: `(accepted protocol, text)`.
fn emv_verdict(atr: &Atr<'_>) -> (Option<u8>, String) {
    match atr.emv_check() {
        Ok(p) => {
            let t = p.protocol().number();
            let details = match p.transmission {
                EmvTransmission::T0 { wi } => format!("WI={wi}"),
                EmvTransmission::T1 { ifsc, bwi, cwi, .. } => {
                    format!("IFSC={ifsc}, BWI={bwi}, CWI={cwi}")
                }
            };
            (
                Some(t),
                format!(
                    "EMV: accepted T={t} (Fi={} Di={}, N={}, {details})",
                    p.fi, p.di, p.extra_guard_time
                ),
            )
        }
        Err(rejection) => (None, format!("EMV: rejected: {rejection}")),
    }
}

/// Lists the PC/SC readers: name, slot state, ATR in hex and the ATR explained in one
/// line. `json` gives `{"readers": [{"name", "state", "atr", "explanation",
/// "emv_accepted", "emv_protocol"}]}` instead of text.
///
/// # Errors
/// The PC/SC failure, as a message saying what to do (start pcscd, …).
#[cfg(feature = "pcsc")]
pub fn list_readers(json: bool) -> Result<String, String> {
    use emv_readers::pcsc::PcscReaders;
    use std::fmt::Write as _;

    let mut readers = PcscReaders::establish().map_err(|e| e.to_string())?;
    let list = readers.list().map_err(|e| e.to_string())?;
    if json {
        let entries: Vec<serde_json::Value> = list
            .iter()
            .map(|r| {
                let (protocol, explanation) = if r.atr.is_empty() {
                    (None, None)
                } else {
                    let protocol = Atr::parse(&r.atr).ok().and_then(|a| emv_verdict(&a).0);
                    (protocol, Some(explain_atr_line(&r.atr)))
                };
                serde_json::json!({
                    "name": r.name,
                    "state": r.state.as_str(),
                    "atr": hex::encode_upper(&r.atr),
                    "explanation": explanation,
                    "emv_accepted": if r.atr.is_empty() { None } else { Some(protocol.is_some()) },
                    "emv_protocol": protocol,
                })
            })
            .collect();
        let doc = serde_json::json!({ "readers": entries });
        return serde_json::to_string_pretty(&doc)
            .map(|s| s + "\n")
            .map_err(|e| e.to_string());
    }
    if list.is_empty() {
        return Ok("no PC/SC readers\n".to_owned());
    }
    let mut out = String::new();
    for r in &list {
        let _ = writeln!(out, "{}: card {}", r.name, r.state);
        if !r.atr.is_empty() {
            let _ = writeln!(out, "  ATR {}", hex::encode_upper(&r.atr));
            let _ = writeln!(out, "  {}", explain_atr_line(&r.atr));
        }
    }
    Ok(out)
}

/// Without the `pcsc` feature: an error saying how to rebuild.
///
/// # Errors
/// Always.
#[cfg(not(feature = "pcsc"))]
pub fn list_readers(_json: bool) -> Result<String, String> {
    Err(
        "this emv binary was built without PC/SC support: rebuild with \
         `cargo build --features pcsc` (needs libpcsclite-dev and pkg-config)"
            .to_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::explain_atr_line;

    #[test]
    fn explains_accepted_and_rejected_atrs() {
        let line = explain_atr_line(&[0x3B, 0xE0, 0x00, 0x00, 0x81, 0x31, 0xFE, 0x45, 0xEB]);
        assert!(line.contains("EMV: accepted T=1"), "{line}");
        assert!(line.contains("IFSC=254"), "{line}");
        // TB1 = 01 in a cold ATR.
        let line = explain_atr_line(&[0x3B, 0x20, 0x01]);
        assert!(line.contains("EMV: rejected: TB1 = 01"), "{line}");
        let line = explain_atr_line(&[0x12]);
        assert!(line.starts_with("unparsable ATR"), "{line}");
    }
}
