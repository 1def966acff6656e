//! How values are written in profiles.
//!
//! - Tag values in records and FCI tables: text for elements whose format
//!   is `a`, `an` or `ans` in the data dictionary (`"50" = "VISA CREDIT"`),
//!   hex otherwise (`"5F24" = "271231"`); spaces allowed in hex. `false`
//!   removes a tag an earlier layer set.
//! - Record keys: `"SFI.RECORD"`, both decimal (`"1.2"`).

use emv_kernel::Tag;
use emv_kernel::data::dictionary;

/// Parses hex with optional spaces. `what` names the field for the error.
pub fn hex_bytes(text: &str, what: &str) -> Result<Vec<u8>, String> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    hex::decode(&compact).map_err(|e| format!("{what}: {text:?} is not hex ({e})"))
}

/// Parses a tag written in hex (`"9F02"`), checking its BER form.
pub fn tag(text: &str) -> Result<Tag, String> {
    let bytes = hex_bytes(text, "tag")?;
    if bytes.is_empty() || bytes.len() > 3 {
        return Err(format!("tag {text:?} must be 1 to 3 bytes of hex"));
    }
    let raw = bytes.iter().fold(0u32, |acc, &b| acc << 8 | u32::from(b));
    let tag = Tag::new(raw);
    if !tag.is_well_formed() {
        return Err(format!("{text:?} is not a well-formed BER tag"));
    }
    Ok(tag)
}

/// The bytes of a tag's value as written in a profile: text for `a`, `an`,
/// `ans` elements, hex otherwise.
pub fn tag_value(tag: Tag, text: &str) -> Result<Vec<u8>, String> {
    let is_text = dictionary::lookup(tag).is_some_and(|e| e.format.is_text());
    if is_text {
        if !text.is_ascii() {
            return Err(format!("tag {tag}: {text:?} is not ASCII"));
        }
        Ok(text.as_bytes().to_vec())
    } else {
        hex_bytes(text, &format!("tag {tag}"))
    }
}

/// Parses a record key `"SFI.RECORD"`.
pub fn record_key(text: &str) -> Result<(u8, u8), String> {
    let (sfi, rec) = text
        .split_once('.')
        .ok_or_else(|| format!("record key {text:?} must be \"SFI.RECORD\", e.g. \"1.1\""))?;
    let sfi: u8 = sfi
        .parse()
        .map_err(|_| format!("record key {text:?}: SFI {sfi:?} is not a number"))?;
    let rec: u8 = rec
        .parse()
        .map_err(|_| format!("record key {text:?}: record {rec:?} is not a number"))?;
    if !(1..=30).contains(&sfi) {
        return Err(format!("record key {text:?}: SFI must be 1 to 30"));
    }
    if rec == 0 {
        return Err(format!("record key {text:?}: record numbers start at 1"));
    }
    Ok((sfi, rec))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_follow_the_dictionary_format() {
        assert_eq!(tag_value(Tag::new(0x50), "VISA").unwrap(), b"VISA");
        assert_eq!(
            tag_value(Tag::new(0x5F24), "27 12 31").unwrap(),
            [0x27, 0x12, 0x31]
        );
        assert!(tag_value(Tag::new(0x5F24), "2712X1").is_err());
        assert_eq!(record_key("2.10").unwrap(), (2, 10));
        assert!(record_key("31.1").is_err());
        assert!(record_key("1").is_err());
        assert!(tag("1F").is_err());
        assert_eq!(tag("9f02").unwrap(), Tag::new(0x9F02));
    }
}
