//! `[terminal]`: the terminal's own data elements (EMV 4.4 Book 4 Annex A:
//! Terminal Type A1, Terminal Capabilities A2, Additional Terminal
//! Capabilities A3; Book 3 Annex A for the others).
//!
//! Each key is a readable name for one data element; its value is written
//! as the element's format wants (hex for `b`, two decimal digits per byte
//! for `n`, text for `an`/`ans`) and its length is checked against the data
//! dictionary ([`emv_kernel::data::dictionary`]).

use emv_kernel::Tag;
use emv_kernel::data::additional_terminal_capabilities::AdditionalTerminalCapabilities;
use emv_kernel::data::bits::{BitView, rfu_bits};
use emv_kernel::data::terminal_capabilities::TerminalCapabilities;
use emv_kernel::data::terminal_type::TerminalType;

use super::error::{ConfigError, ConfigErrorKind};
use super::reader::Field;

/// Terminal Country Code.
const COUNTRY_CODE: Tag = Tag::new(0x9F1A);
/// Transaction Currency Code.
const CURRENCY_CODE: Tag = Tag::new(0x5F2A);
/// Transaction Currency Exponent.
const CURRENCY_EXPONENT: Tag = Tag::new(0x5F36);
/// Terminal Capabilities.
const CAPABILITIES: Tag = Tag::new(0x9F33);
/// Additional Terminal Capabilities.
const ADDITIONAL_CAPABILITIES: Tag = Tag::new(0x9F40);
/// Merchant Category Code.
const MERCHANT_CATEGORY_CODE: Tag = Tag::new(0x9F15);
/// Merchant Identifier.
const MERCHANT_IDENTIFIER: Tag = Tag::new(0x9F16);
/// Terminal Identification.
const TERMINAL_IDENTIFICATION: Tag = Tag::new(0x9F1C);
/// Interface Device (IFD) Serial Number.
const IFD_SERIAL_NUMBER: Tag = Tag::new(0x9F1E);
/// Merchant Name and Location.
const MERCHANT_NAME_LOCATION: Tag = Tag::new(0x9F4E);
/// Acquirer Identifier.
const ACQUIRER_IDENTIFIER: Tag = Tag::new(0x9F01);
/// Point-of-Service (POS) Entry Mode.
const POS_ENTRY_MODE: Tag = Tag::new(0x9F39);

/// The keys of `[terminal]`.
pub(crate) const FIELDS: &[&str] = &[
    "country_code",
    "currency_code",
    "currency_exponent",
    "terminal_type",
    "capabilities",
    "additional_capabilities",
    "merchant_category_code",
    "merchant_identifier",
    "terminal_identification",
    "ifd_serial_number",
    "merchant_name_location",
    "acquirer_identifier",
    "pos_entry_mode",
];

/// The terminal's data elements, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TerminalData {
    /// `9F1A` Terminal Country Code (n3, ISO 3166-1 numeric), BCD:
    /// `08 40`.
    pub country_code: [u8; 2],
    /// `5F2A` Transaction Currency Code (n3, ISO 4217 numeric), BCD.
    pub currency_code: [u8; 2],
    /// `5F36` Transaction Currency Exponent (n1): decimals of the currency,
    /// 0–9 (the element's byte has the same value).
    pub currency_exponent: u8,
    /// `9F35` Terminal Type.
    pub terminal_type: TerminalType,
    /// `9F33` Terminal Capabilities.
    pub capabilities: TerminalCapabilities,
    /// `9F40` Additional Terminal Capabilities.
    pub additional_capabilities: AdditionalTerminalCapabilities,
    /// `9F15` Merchant Category Code (n4, ISO 18245), BCD.
    pub merchant_category_code: Option<[u8; 2]>,
    /// `9F16` Merchant Identifier (ans 15).
    pub merchant_identifier: Option<String>,
    /// `9F1C` Terminal Identification (an 8).
    pub terminal_identification: Option<String>,
    /// `9F1E` Interface Device (IFD) Serial Number (an 8).
    pub ifd_serial_number: Option<String>,
    /// `9F4E` Merchant Name and Location (ans).
    pub merchant_name_location: Option<String>,
    /// `9F01` Acquirer Identifier (n 6–11), BCD, 6 bytes.
    pub acquirer_identifier: Option<[u8; 6]>,
    /// `9F39` Point-of-Service (POS) Entry Mode (n2), BCD: `05` = read
    /// from the chip.
    pub pos_entry_mode: Option<u8>,
}

impl TerminalData {
    /// Every element the configuration sets, as (tag, value) in the
    /// encoding the card and the kernel see, for the transaction's data
    /// store.
    #[must_use]
    pub fn data_elements(&self) -> Vec<(Tag, Vec<u8>)> {
        let mut out = vec![
            (COUNTRY_CODE, self.country_code.to_vec()),
            (CURRENCY_CODE, self.currency_code.to_vec()),
            (CURRENCY_EXPONENT, vec![self.currency_exponent]),
            (TerminalType::TAG, vec![self.terminal_type.to_byte()]),
            (CAPABILITIES, self.capabilities.as_bytes().to_vec()),
            (
                ADDITIONAL_CAPABILITIES,
                self.additional_capabilities.as_bytes().to_vec(),
            ),
        ];
        let optional: [(Tag, Option<Vec<u8>>); 7] = [
            (
                MERCHANT_CATEGORY_CODE,
                self.merchant_category_code.map(|v| v.to_vec()),
            ),
            (
                MERCHANT_IDENTIFIER,
                self.merchant_identifier
                    .as_ref()
                    .map(|s| s.as_bytes().to_vec()),
            ),
            (
                TERMINAL_IDENTIFICATION,
                self.terminal_identification
                    .as_ref()
                    .map(|s| s.as_bytes().to_vec()),
            ),
            (
                IFD_SERIAL_NUMBER,
                self.ifd_serial_number
                    .as_ref()
                    .map(|s| s.as_bytes().to_vec()),
            ),
            (
                MERCHANT_NAME_LOCATION,
                self.merchant_name_location
                    .as_ref()
                    .map(|s| s.as_bytes().to_vec()),
            ),
            (
                ACQUIRER_IDENTIFIER,
                self.acquirer_identifier.map(|v| v.to_vec()),
            ),
            (POS_ENTRY_MODE, self.pos_entry_mode.map(|v| vec![v])),
        ];
        out.extend(
            optional
                .into_iter()
                .filter_map(|(tag, value)| value.map(|v| (tag, v))),
        );
        out
    }
}

/// Reads and validates `[terminal]`.
pub(crate) fn read(field: &Field<'_>) -> Result<TerminalData, ConfigError> {
    let table = field.table(FIELDS)?;

    let f = table.req("country_code")?;
    let country_code = f.fixed(f.element(COUNTRY_CODE)?)?;
    let f = table.req("currency_code")?;
    let currency_code = f.fixed(f.element(CURRENCY_CODE)?)?;
    let f = table.req("currency_exponent")?;
    let [currency_exponent] = f.fixed(f.element(CURRENCY_EXPONENT)?)?;
    if currency_exponent > 9 {
        return Err(f.error(ConfigErrorKind::OutOfRange(format!(
            "currency exponent {currency_exponent:02X} is not one digit (n1)"
        ))));
    }

    let f = table.req("terminal_type")?;
    let [code] = f.fixed(f.element(TerminalType::TAG)?)?;
    let terminal_type = TerminalType::from_byte(code)
        .map_err(|_| f.error(ConfigErrorKind::InvalidTerminalType(code)))?;

    let f = table.req("capabilities")?;
    let capabilities = TerminalCapabilities::new(f.fixed(f.element(CAPABILITIES)?)?);
    no_rfu_bits(&f, &capabilities)?;
    let f = table.req("additional_capabilities")?;
    let additional_capabilities =
        AdditionalTerminalCapabilities::new(f.fixed(f.element(ADDITIONAL_CAPABILITIES)?)?);
    no_rfu_bits(&f, &additional_capabilities)?;

    let merchant_category_code = match table.get("merchant_category_code") {
        Some(f) => Some(f.fixed(f.element(MERCHANT_CATEGORY_CODE)?)?),
        None => None,
    };
    let text = |key: &str, tag: Tag| -> Result<Option<String>, ConfigError> {
        table
            .get(key)
            .map(|f| {
                f.element(tag)?;
                f.str().map(str::to_string)
            })
            .transpose()
    };
    let merchant_identifier = text("merchant_identifier", MERCHANT_IDENTIFIER)?;
    let terminal_identification = text("terminal_identification", TERMINAL_IDENTIFICATION)?;
    let ifd_serial_number = text("ifd_serial_number", IFD_SERIAL_NUMBER)?;
    let merchant_name_location = text("merchant_name_location", MERCHANT_NAME_LOCATION)?;
    let acquirer_identifier = match table.get("acquirer_identifier") {
        Some(f) => Some(f.fixed(f.element(ACQUIRER_IDENTIFIER)?)?),
        None => None,
    };
    let pos_entry_mode = match table.get("pos_entry_mode") {
        Some(f) => {
            let [b] = f.fixed(f.element(POS_ENTRY_MODE)?)?;
            Some(b)
        }
        None => None,
    };

    Ok(TerminalData {
        country_code,
        currency_code,
        currency_exponent,
        terminal_type,
        capabilities,
        additional_capabilities,
        merchant_category_code,
        merchant_identifier,
        terminal_identification,
        ifd_serial_number,
        merchant_name_location,
        acquirer_identifier,
        pos_entry_mode,
    })
}

/// Rejects a value with a bit the element reserves (RFU): usually a typo.
fn no_rfu_bits<V: BitView>(f: &Field<'_>, value: &V) -> Result<(), ConfigError> {
    match rfu_bits::<V>(value.as_bytes()).next() {
        Some(bit) => Err(f.error(ConfigErrorKind::RfuBitSet {
            element: V::NAME,
            bit: bit.to_string(),
        })),
        None => Ok(()),
    }
}
