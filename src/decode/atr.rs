//! `emv decode --atr`: every byte of an Answer To Reset explained, then the
//! EMV Level 1 verdict (ISO/IEC 7816-3 §8; EMV Contact Interface
//! Specification §8.3). The parsing and the rules live in `emv_hal::atr`.

use emv_hal::atr::{Atr, Convention, EmvTransmission, InterfaceKind, explain};
use serde_json::{Value, json};

use super::DecodeError;
use crate::hexinput::to_hex;

fn parse(bytes: &[u8]) -> Result<Atr<'_>, DecodeError> {
    Atr::parse(bytes).map_err(|e| DecodeError::new(format!("malformed ATR: {e}")))
}

/// Text: one line per element and the EMV verdict (from `emv_hal`).
pub fn to_text(bytes: &[u8]) -> Result<String, DecodeError> {
    let atr = parse(bytes)?;
    let mut out = String::new();
    explain(&atr, &mut out).map_err(|_| DecodeError::new("formatting the ATR failed"))?;
    Ok(out)
}

/// JSON: the ATR's fields, interface bytes by name and the EMV verdict.
pub fn to_json(bytes: &[u8]) -> Result<Value, DecodeError> {
    let atr = parse(bytes)?;
    let mut interface = Vec::new();
    for (i, group) in atr.groups() {
        for (kind, letter) in [
            (InterfaceKind::A, 'A'),
            (InterfaceKind::B, 'B'),
            (InterfaceKind::C, 'C'),
            (InterfaceKind::D, 'D'),
        ] {
            if let Some(v) = group.get(kind) {
                interface
                    .push(json!({"name": format!("T{letter}{i}"), "value": format!("{v:02X}")}));
            }
        }
    }
    let emv = match atr.emv_check() {
        Ok(p) => {
            let mut v = json!({
                "accepted": true,
                "protocol": format!("T={}", p.protocol().number()),
                "specific_mode": p.specific_mode,
                "fi": p.fi,
                "di": p.di,
                "extra_guard_time": p.extra_guard_time,
            });
            if let Value::Object(map) = &mut v {
                match p.transmission {
                    EmvTransmission::T0 { wi } => {
                        map.insert("wi".into(), wi.into());
                    }
                    EmvTransmission::T1 { ifsc, bwi, cwi, .. } => {
                        map.insert("ifsc".into(), ifsc.into());
                        map.insert("bwi".into(), bwi.into());
                        map.insert("cwi".into(), cwi.into());
                    }
                }
            }
            v
        }
        Err(rejection) => json!({"accepted": false, "reason": rejection.to_string()}),
    };
    Ok(json!({
        "atr": to_hex(atr.raw()),
        "convention": match atr.convention() {
            Convention::Direct => "direct",
            Convention::Inverse => "inverse",
        },
        "interface_bytes": interface,
        "protocols": atr.indicated_protocols().iter().collect::<Vec<_>>(),
        "historical_bytes": to_hex(atr.historical_bytes()),
        "tck": atr.tck().map(|t| format!("{t:02X}")),
        "emv": emv,
    }))
}
