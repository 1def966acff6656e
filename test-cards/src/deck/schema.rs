//! The deck file as written (users' documentation: `docs/decks.md`).
//! Every table rejects unknown keys. Card and terminal blocks stay plain
//! TOML tables here: their own loaders check them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A whole deck file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DeckFile {
    #[serde(default)]
    pub(crate) deck: DeckMeta,
    #[serde(default)]
    pub(crate) defaults: InputSpec,
    #[serde(default)]
    pub(crate) terminal: BTreeMap<String, toml::Table>,
    #[serde(default)]
    pub(crate) card: BTreeMap<String, toml::Table>,
    #[serde(default)]
    pub(crate) case: Vec<CaseSpec>,
}

/// `[deck]`: who and what.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct DeckMeta {
    /// The deck's identifier (`ACME-L2-CT-001`).
    pub id: Option<String>,
    /// A title.
    pub title: Option<String>,
    /// Free text.
    pub description: Option<String>,
    /// Specification versions the deck was written against.
    pub spec: Option<String>,
}

/// `[[case]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CaseSpec {
    pub(crate) id: String,
    #[serde(rename = "ref")]
    pub(crate) reference: Option<String>,
    pub(crate) objective: Option<String>,
    /// A terminal name, or an inline overlay table.
    pub(crate) terminal: Option<toml::Value>,
    /// A card name or path, or an inline overlay table.
    pub(crate) card: Option<toml::Value>,
    #[serde(default)]
    pub(crate) transaction: Vec<TransactionSpec>,
}

/// The inputs of a transaction (`[defaults]` has only these).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct InputSpec {
    #[serde(rename = "type")]
    pub(crate) kind: Option<String>,
    pub(crate) amount: Option<toml::Value>,
    pub(crate) other: Option<toml::Value>,
    pub(crate) date: Option<toml::Value>,
    pub(crate) time: Option<toml::Value>,
    pub(crate) unpredictable_number: Option<String>,
    pub(crate) random: Option<i64>,
    pub(crate) sequence_counter: Option<i64>,
    pub(crate) pin: Option<String>,
    pub(crate) host: Option<String>,
    pub(crate) application: Option<i64>,
    pub(crate) confirm: Option<bool>,
}

/// `[[case.transaction]]`: inputs, scripts and expectations.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TransactionSpec {
    #[serde(rename = "type")]
    pub(crate) kind: Option<String>,
    pub(crate) amount: Option<toml::Value>,
    pub(crate) other: Option<toml::Value>,
    pub(crate) date: Option<toml::Value>,
    pub(crate) time: Option<toml::Value>,
    pub(crate) unpredictable_number: Option<String>,
    pub(crate) random: Option<i64>,
    pub(crate) sequence_counter: Option<i64>,
    pub(crate) pin: Option<String>,
    pub(crate) host: Option<String>,
    pub(crate) application: Option<i64>,
    pub(crate) confirm: Option<bool>,
    #[serde(default)]
    pub(crate) script: Vec<ScriptSpec>,
    #[serde(default)]
    pub(crate) expect: ExpectSpec,
}

/// `[[case.transaction.script]]`: one issuer script command.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ScriptSpec {
    pub(crate) template: String,
    pub(crate) header: String,
    #[serde(default)]
    pub(crate) data: String,
    #[serde(default)]
    pub(crate) bad_mac: bool,
}

/// `[case.transaction.expect]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExpectSpec {
    pub(crate) outcome: Option<String>,
    pub(crate) aid: Option<String>,
    pub(crate) tvr: Option<String>,
    pub(crate) tvr_mask: Option<String>,
    pub(crate) tsi: Option<String>,
    pub(crate) tsi_mask: Option<String>,
    pub(crate) cvm_results: Option<String>,
    pub(crate) cvm_results_mask: Option<String>,
    pub(crate) cid: Option<String>,
    pub(crate) genac: Option<Vec<String>>,
    pub(crate) apdus: Option<Vec<String>>,
    #[serde(default)]
    pub(crate) forbid: Vec<String>,
    pub(crate) online: Option<bool>,
    #[serde(default)]
    pub(crate) request_tags: Vec<String>,
    #[serde(default)]
    pub(crate) request_absent: Vec<String>,
    #[serde(default)]
    pub(crate) request_values: BTreeMap<String, String>,
    pub(crate) script_results: Option<String>,
    pub(crate) advice: Option<bool>,
    #[serde(default)]
    pub(crate) data: BTreeMap<String, String>,
    #[serde(default)]
    pub(crate) trail: Vec<String>,
}
