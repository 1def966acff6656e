//! `emv decode --dol`: the entries of a Data Object List.

use emv_kernel::data::dictionary;
use emv_kernel::wire::dol::{DolEntry, entries};
use serde_json::{Value, json};

use super::DecodeError;

/// Parses a DOL into its entries.
pub fn decode(bytes: &[u8]) -> Result<Vec<DolEntry>, DecodeError> {
    entries(bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| DecodeError::new(format!("malformed DOL at {e}")))
}

/// `[{"tag","name","length"}]`.
pub fn to_json(list: &[DolEntry]) -> Value {
    Value::Array(
        list.iter()
            .map(|e| {
                json!({
                    "tag": e.tag.to_string(),
                    "name": dictionary::lookup(e.tag).map(|d| d.name),
                    "length": e.length,
                })
            })
            .collect(),
    )
}

/// One line per entry, then the total.
pub fn to_text(list: &[DolEntry]) -> String {
    let mut out = String::new();
    for e in list {
        let (name, format) = dictionary::lookup(e.tag)
            .map_or(("(unknown tag)", String::new()), |d| {
                (d.name, format!(", format {}", d.format))
            });
        let unit = if e.length == 1 { "byte" } else { "bytes" };
        out.push_str(&format!("{}  {name}: {} {unit}{format}\n", e.tag, e.length));
    }
    let total: usize = list.iter().map(|e| e.length).sum();
    let unit = if total == 1 { "byte" } else { "bytes" };
    out.push_str(&format!("related data: {total} {unit}\n"));
    out
}
