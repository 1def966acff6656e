//! `emv decode --rapdu`: response data plus SW1 SW2.

use emv_kernel::wire::apdu::ResponseApdu;
use emv_kernel::wire::tlv::Mode;
use serde_json::{Value, json};

use super::DecodeError;
use super::tree::{self, Node};

/// A decoded response.
#[derive(Debug, Clone)]
pub struct Decoded {
    /// SW1 SW2.
    pub sw: emv_kernel::wire::apdu::StatusWord,
    /// The response data as a TLV tree.
    pub tlv: Vec<Node>,
}

/// Splits and decodes an R-APDU. The data must be BER-TLV (all EMV
/// responses are, except GET CHALLENGE, whose 8 random bytes are reported as
/// malformed TLV).
pub fn decode(bytes: &[u8], mode: Mode) -> Result<Decoded, DecodeError> {
    let r = ResponseApdu::parse(bytes)
        .map_err(|_| DecodeError::new("byte 0: a response needs at least SW1 SW2 (2 bytes)"))?;
    let tlv = tree::parse(r.data, mode)
        .map_err(|e| DecodeError::new(format!("malformed response data at {e}")))?;
    Ok(Decoded { sw: r.sw, tlv })
}

/// `{"sw":"9000","sw_meaning":"...","tlv":[nodes]}`.
pub fn to_json(d: &Decoded) -> Value {
    json!({
        "sw": format!("{:04X}", d.sw.value()),
        "sw_meaning": d.sw.meaning(),
        "tlv": tree::to_json(&d.tlv),
    })
}

/// Text: the status line, then the tree.
pub fn to_text(d: &Decoded) -> String {
    let mut out = format!("SW {}\n", d.sw);
    tree::to_text(&d.tlv, 0, &mut out);
    out
}
