//! `emv decode --capdu`: explain a command APDU field by field.

use emv_kernel::Tag;
use emv_kernel::data::dictionary;
use emv_kernel::wire::apdu::ins::instruction_name;
use emv_kernel::wire::apdu::{Case, CommandApdu, Encoding};
use emv_kernel::wire::tlv::Mode;
use serde_json::{Value, json};

use super::tree::{self, Node};
use super::{DecodeError, printable};
use crate::hexinput::to_hex;

/// A decoded command.
#[derive(Debug, Clone)]
pub struct Decoded {
    /// CLA.
    pub cla: u8,
    /// INS.
    pub ins: u8,
    /// P1.
    pub p1: u8,
    /// P2.
    pub p2: u8,
    /// Command data.
    pub data: Vec<u8>,
    /// Le, if present.
    pub le: Option<usize>,
    /// Case 1–4.
    pub case: u8,
    /// Short or extended length fields.
    pub extended: bool,
    /// What P1 and P2 mean for this instruction.
    pub parameters: Option<String>,
    /// The data as TLV, for commands whose data is TLV (GET PROCESSING
    /// OPTIONS, PUT DATA…).
    pub tlv: Option<Vec<Node>>,
}

fn parameters(cla: u8, ins: u8, p1: u8, p2: u8) -> Option<String> {
    let _ = cla;
    Some(match ins {
        0xA4 => {
            let by = match p1 {
                0x04 => "select by DF name".to_string(),
                0x00 => "select MF, DF or EF by identifier".to_string(),
                other => format!("P1 {other:02X}"),
            };
            let which = match p2 & 0x03 {
                0x00 => "first or only occurrence",
                0x02 => "next occurrence",
                0x01 => "last occurrence",
                _ => "previous occurrence",
            };
            format!("{by}, {which}")
        }
        0xB2 => {
            let sfi = p2 >> 3;
            if p2 & 0x07 == 0x04 {
                format!("record {p1} of SFI {sfi}")
            } else {
                format!("record {p1}, P2 {p2:02X} (not the EMV 'P1 is a record number' form)")
            }
        }
        0xAE => {
            let kind = match p1 & 0xC0 {
                0x00 => "AAC",
                0x40 => "TC",
                0x80 => "ARQC",
                _ => "RFU cryptogram type",
            };
            let cda = if p1 & 0x10 != 0 {
                ", CDA signature requested"
            } else {
                ""
            };
            format!("request {kind}{cda}")
        }
        0xCA => {
            // P1 P2 is the tag; P1 00 leaves a one-byte tag.
            let tag = Tag::new(u32::from(p1) << 8 | u32::from(p2));
            let name = dictionary::lookup(tag).map_or("unknown tag", |e| e.name);
            format!("tag {tag}: {name}")
        }
        0x20 => match p2 {
            0x80 => "plaintext PIN".into(),
            0x88 => "enciphered PIN".into(),
            other => format!("P2 {other:02X}: qualifier of the reference data"),
        },
        0x2A if p1 == 0x8E && p2 == 0x80 => "compute cryptographic checksum".into(),
        _ => return None,
    })
}

/// Decodes a C-APDU.
pub fn decode(bytes: &[u8]) -> Result<Decoded, DecodeError> {
    let (c, encoding) = CommandApdu::parse(bytes)
        .map_err(|e| DecodeError::new(format!("malformed C-APDU: {e}")))?;
    let tlv_data = matches!(c.ins, 0xA8 | 0xDA | 0xDB) && !c.data.is_empty();
    let tlv = if tlv_data {
        Some(tree::parse(c.data, Mode::Strict).map_err(|e| {
            // Offsets count from the start of the data; the header is 5
            // bytes in the short form, 7 in the extended.
            let header = if encoding == Encoding::Extended { 7 } else { 5 };
            DecodeError::new(format!(
                "malformed command data (data starts at byte {header}) at {e}"
            ))
        })?)
    } else {
        None
    };
    Ok(Decoded {
        cla: c.cla,
        ins: c.ins,
        p1: c.p1,
        p2: c.p2,
        data: c.data.to_vec(),
        le: c.le,
        case: match c.case() {
            Case::Case1 => 1,
            Case::Case2 => 2,
            Case::Case3 => 3,
            Case::Case4 => 4,
        },
        extended: encoding == Encoding::Extended,
        parameters: parameters(c.cla, c.ins, c.p1, c.p2),
        tlv,
    })
}

/// JSON form of a command.
pub fn to_json(d: &Decoded) -> Value {
    let mut v = json!({
        "cla": format!("{:02X}", d.cla),
        "ins": format!("{:02X}", d.ins),
        "name": instruction_name(d.cla, d.ins),
        "p1": format!("{:02X}", d.p1),
        "p2": format!("{:02X}", d.p2),
        "parameters": d.parameters,
        "case": d.case,
        "extended": d.extended,
        "lc": d.data.len(),
        "data": to_hex(&d.data),
        "le": d.le,
    });
    if let (Some(tlv), Value::Object(map)) = (&d.tlv, &mut v) {
        map.insert("tlv".into(), tree::to_json(tlv));
    }
    v
}

/// Text form of a command.
pub fn to_text(d: &Decoded) -> String {
    let name = instruction_name(d.cla, d.ins).unwrap_or("unknown instruction");
    let mut out = format!(
        "CLA {:02X}  INS {:02X}  {name}\nP1 {:02X}  P2 {:02X}",
        d.cla, d.ins, d.p1, d.p2
    );
    if let Some(p) = &d.parameters {
        out.push_str(&format!("  {p}"));
    }
    out.push('\n');
    let form = if d.extended { "extended" } else { "short" };
    out.push_str(&format!("case {} ({form})\n", d.case));
    if !d.data.is_empty() {
        out.push_str(&format!("Lc {}  data: {}", d.data.len(), to_hex(&d.data)));
        if let Some(text) = printable(&d.data) {
            out.push_str(&format!(" \"{text}\""));
        }
        out.push('\n');
    }
    if let Some(tlv) = &d.tlv {
        tree::to_text(tlv, 1, &mut out);
    }
    if let Some(le) = d.le {
        out.push_str(&format!("Le {le}\n"));
    }
    out
}
