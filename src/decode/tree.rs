//! TLV streams as trees: the owned tree, its text rendering and its JSON
//! form (the shape other tools consume; see README).

use emv_kernel::Tag;
use emv_kernel::data::dictionary;
use emv_kernel::data::explain::explain;
use emv_kernel::wire::tlv::{Mode, TlvError, TlvErrorKind, TlvIter};
use emv_kernel::wire::walk::MAX_DEPTH;
use serde_json::{Value, json};

use super::{DecodeError, printable};
use crate::hexinput::to_hex;

/// One decoded data object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// The tag.
    pub tag: Tag,
    /// Offset of the tag in the input.
    pub offset: usize,
    /// The value bytes (for a constructed object, its encoded children).
    pub value: Vec<u8>,
    /// Children of a constructed object, empty for a primitive one.
    pub children: Vec<Node>,
}

fn parse_level(iter: TlvIter<'_>, mode: Mode, depth: usize) -> Result<Vec<Node>, TlvError> {
    let mut nodes = Vec::new();
    for tlv in iter {
        let tlv = tlv?;
        let children = if tlv.is_constructed() {
            if depth + 1 >= MAX_DEPTH {
                return Err(TlvError {
                    offset: tlv.offset(),
                    kind: TlvErrorKind::DepthExceeded { max: MAX_DEPTH },
                });
            }
            parse_level(tlv.children(mode), mode, depth + 1)?
        } else {
            Vec::new()
        };
        nodes.push(Node {
            tag: tlv.tag(),
            offset: tlv.offset(),
            value: tlv.value().to_vec(),
            children,
        });
    }
    Ok(nodes)
}

/// Decodes a whole TLV stream, constructed objects included.
pub fn parse(input: &[u8], mode: Mode) -> Result<Vec<Node>, TlvError> {
    parse_level(TlvIter::new(input, mode), mode, 0)
}

/// Decodes `input` as TLV, mapping the error to a message.
pub fn parse_or_explain(input: &[u8], mode: Mode) -> Result<Vec<Node>, DecodeError> {
    parse(input, mode).map_err(|e| DecodeError::new(format!("malformed TLV at {e}")))
}

/// The JSON form of a tree: an array of
/// `{"tag","name","constructed","length","value"[,"children"]}`.
pub fn to_json(nodes: &[Node]) -> Value {
    Value::Array(nodes.iter().map(node_json).collect())
}

fn node_json(node: &Node) -> Value {
    let name = dictionary::lookup(node.tag).map(|e| e.name);
    let mut obj = json!({
        "tag": node.tag.to_string(),
        "name": name,
        "constructed": node.tag.is_constructed(),
        "length": node.value.len(),
        "value": to_hex(&node.value),
    });
    if node.tag.is_constructed()
        && let Value::Object(map) = &mut obj
    {
        map.insert("children".into(), to_json(&node.children));
    }
    obj
}

/// Renders a tree as indented text: one line per object with its name and
/// value, then one line per meaning for bit-field elements.
pub fn to_text(nodes: &[Node], indent: usize, out: &mut String) {
    for node in nodes {
        let pad = "  ".repeat(indent);
        let entry = dictionary::lookup(node.tag);
        let name = entry.map_or("(unknown tag)", |e| e.name);
        let len = node.value.len();
        let unit = if len == 1 { "byte" } else { "bytes" };
        if node.tag.is_constructed() {
            out.push_str(&format!("{pad}{}  {name} ({len} {unit})\n", node.tag));
            to_text(&node.children, indent + 1, out);
            continue;
        }
        let mut line = format!("{pad}{}  {name} ({len} {unit})", node.tag);
        if !node.value.is_empty() {
            line.push_str(&format!(": {}", to_hex(&node.value)));
        }
        let text_format = entry.is_some_and(|e| e.format.is_text());
        if let Some(text) = printable(&node.value).filter(|_| text_format) {
            line.push_str(&format!(" \"{text}\""));
        }
        out.push_str(&line);
        out.push('\n');
        let mut meaning = String::new();
        if explain(node.tag, &node.value, &mut meaning).unwrap_or(false) {
            for l in meaning.lines() {
                out.push_str(&format!("{pad}    - {l}\n"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hexinput::parse_hex;

    #[test]
    fn json_shape_matches_the_contract() {
        let bytes = parse_hex("9F02 06 000000001000").unwrap();
        let json = to_json(&parse(&bytes, Mode::Strict).unwrap());
        assert_eq!(
            json.to_string(),
            r#"[{"tag":"9F02","name":"Amount, Authorised (Numeric)","constructed":false,"length":6,"value":"000000001000"}]"#
        );
    }

    #[test]
    fn constructed_nodes_carry_children_and_whole_value() {
        let bytes = parse_hex("70 07 5A 01 47 DF7F 01 00").unwrap();
        let json = to_json(&parse(&bytes, Mode::Strict).unwrap());
        assert_eq!(json[0]["value"], "5A0147DF7F0100");
        assert_eq!(json[0]["children"][0]["tag"], "5A");
        assert_eq!(json[0]["children"][1]["name"], Value::Null);
        assert!(json[0]["children"][1].get("children").is_none());
    }
}
