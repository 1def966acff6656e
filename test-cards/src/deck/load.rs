//! Loading a deck: parse, resolve terminal settings and card profiles
//! through their own loaders, check every input and expectation, and
//! report the first problem with the deck's file, line and field.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use emv_terminal::config::{ConfigError, TerminalConfig};
use serde::{Deserialize, Serialize};

use super::schema::{CaseSpec, DeckFile, DeckMeta, ExpectSpec, InputSpec, TransactionSpec};
use super::spans::{self, Index, Seg, keys};
use crate::host::IssuerHost;
use crate::profile::load::{Loaded, ProfileError, load_builtin, load_file, load_str};

/// A deck that could not be loaded: where, and what was wrong.
///
/// Displays as `FILE:LINE: field FIELD: MESSAGE`, like the card-profile and
/// terminal-configuration errors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeckError {
    /// The file at fault: the deck, or a profile/configuration file it uses
    /// (`builtin:NAME` for built-in ones).
    pub file: String,
    /// The 1-based line, when known.
    pub line: Option<usize>,
    /// The field as a dotted path (`case[CVM.001].transaction[1].expect.tvr`,
    /// `terminal.uk.terminal.country_code`); empty for whole-file problems.
    pub field: String,
    /// What was wrong.
    pub message: String,
}

impl fmt::Display for DeckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if !self.field.is_empty() {
            write!(f, ": field {}", self.field)?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for DeckError {}

/// A loaded, checked deck.
#[derive(Debug, Clone)]
pub struct Deck {
    /// The deck file as named to the loader.
    pub file: String,
    /// `[deck]`.
    pub meta: DeckMeta,
    /// The cases, in file order.
    pub cases: Vec<DeckCase>,
    /// Re-rendered blocks handed to the profile/configuration loaders: the
    /// source name they were given → where the block is in the deck.
    origins: HashMap<String, Origin>,
    index: Index,
    ids: Vec<Option<String>>,
}

/// Where a block handed to another loader came from.
#[derive(Debug, Clone)]
struct Origin {
    prefix: Vec<Seg>,
    index: Index,
}

/// One `[[case]]`, resolved.
#[derive(Debug, Clone)]
pub struct DeckCase {
    /// Position in the deck (1-based).
    pub position: usize,
    /// The case's unique identifier.
    pub id: String,
    /// The lab's own reference.
    pub reference: Option<String>,
    /// What the case checks.
    pub objective: Option<String>,
    /// The terminal setting's name (`default`, a deck name, a path, or
    /// `inline`).
    pub terminal_name: String,
    /// The card's name (a built-in profile, a deck name, a path, or the
    /// name of an inline overlay's base).
    pub card_name: String,
    /// The terminal configuration.
    pub terminal: Arc<TerminalConfig>,
    /// The card profile.
    pub card: Loaded,
    /// The issuer host of the card.
    pub(crate) host: IssuerHost,
    /// The transactions, run in order against the same card.
    pub transactions: Vec<Transaction>,
}

/// One transaction of a case: resolved inputs and expectations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transaction {
    /// The inputs.
    pub inputs: Inputs,
    /// What must be observed.
    pub expect: Expectations,
}

/// The inputs of one transaction, resolved (deck value, else `[defaults]`,
/// else the built-in default).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inputs {
    /// Transaction Type `9C`, hex.
    pub transaction_type: String,
    /// Amount, Authorised, minor units.
    pub amount: u64,
    /// Amount, Other, minor units.
    pub amount_other: u64,
    /// Transaction Date `9A` (YYMMDD).
    pub date: String,
    /// Transaction Time `9F21` (HHMMSS).
    pub time: String,
    /// Unpredictable Number `9F37`, hex.
    pub unpredictable_number: String,
    /// Random number 1–99 for random transaction selection.
    pub random: u8,
    /// Transaction Sequence Counter.
    pub sequence_counter: u32,
    /// `"1234"` (digits), `"bypass"` or `"not_working"`.
    pub pin: String,
    /// `approve`, `decline`, `unable` or `bad_arpc`.
    pub host: String,
    /// Issuer script commands the host sends.
    pub scripts: Vec<Script>,
    /// The candidate the cardholder picks (1-based).
    pub application: usize,
    /// Whether the cardholder confirms an application that asks for it.
    pub confirm: bool,
}

/// One issuer script command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Script {
    /// `71` (before the final GENERATE AC) or `72` (after).
    pub template: String,
    /// CLA INS P1 P2, hex.
    pub header: String,
    /// Command data before the MAC, hex.
    pub data: String,
    /// The MAC is corrupted (one bit flipped).
    pub bad_mac: bool,
}

/// A value compared under a mask.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Masked {
    /// Expected value, hex.
    pub value: String,
    /// Bits compared, hex (all ones by default).
    pub mask: String,
}

/// What a transaction must show; absent fields are not checked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expectations {
    /// Outcome name, or the groups `approved` / `declined`.
    pub outcome: Option<String>,
    /// The selected AID, hex.
    pub aid: Option<String>,
    /// TVR `95`.
    pub tvr: Option<Masked>,
    /// TSI `9B`.
    pub tsi: Option<Masked>,
    /// CVM Results `9F34`.
    pub cvm_results: Option<Masked>,
    /// CID `9F27` of the last GENERATE AC, hex.
    pub cid: Option<String>,
    /// P1 of every GENERATE AC, in order, hex.
    pub genac: Option<Vec<String>>,
    /// Command patterns that must appear in this order.
    pub apdus: Option<Vec<String>>,
    /// Command patterns that must not appear.
    pub forbid: Vec<String>,
    /// Whether an authorisation request was sent.
    pub online: Option<bool>,
    /// Tags the authorisation request must carry.
    pub request_tags: Vec<String>,
    /// Tags it must not carry.
    pub request_absent: Vec<String>,
    /// Tag → value it must carry.
    pub request_values: BTreeMap<String, String>,
    /// Issuer Script Results `9F5B`, hex.
    pub script_results: Option<String>,
    /// Whether the card asked for an advice.
    pub advice: Option<bool>,
    /// Tag → value of the transaction's data store.
    pub data: BTreeMap<String, String>,
    /// Texts that must appear in the decision trail.
    pub trail: Vec<String>,
}

/// The outcome names a deck may expect.
pub const OUTCOMES: &[&str] = &[
    "approved_offline",
    "declined_offline",
    "online_approved",
    "online_declined",
    "approved_unable_online",
    "declined_unable_online",
    "not_accepted",
    "card_blocked",
    "terminated:card_error",
    "terminated:card_data",
    "terminated:cryptogram_type",
    "terminated:card_removed",
    "terminated:service_not_allowed",
    "terminated:capacity",
    "transport_error",
    "kernel_error",
    "stuck",
    "approved",
    "declined",
];

/// Loading context: the deck's text index and case ids.
struct Ctx<'a> {
    file: &'a str,
    index: Index,
    ids: Vec<Option<String>>,
}

impl Ctx<'_> {
    fn at(&self, path: &[Seg], message: impl Into<String>) -> DeckError {
        DeckError {
            file: self.file.to_string(),
            line: self.index.line(path),
            field: spans::render(path, &self.ids),
            message: message.into(),
        }
    }
}

/// A temporary folder for the deck's named blocks, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> std::io::Result<Self> {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir = std::env::temp_dir().join(format!("emv-deck-{}-{n}-{nanos}", std::process::id()));
        std::fs::create_dir_all(dir.join("terminal"))?;
        std::fs::create_dir_all(dir.join("card"))?;
        Ok(Self(dir))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Loads a deck file.
///
/// # Errors
/// The first problem found, with file, line and field.
pub fn load_deck(path: &Path) -> Result<Deck, DeckError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| DeckError {
        file: name.clone(),
        line: None,
        field: String::new(),
        message: format!("cannot read: {e}"),
    })?;
    load_deck_str(&name, &text, path.parent())
}

/// The deck files that `paths` name: a file as it is, a directory as the
/// `*.toml` files directly in it, sorted by name (sub-directories are not
/// searched, so cards and terminal settings that decks refer to by path can
/// live in one). Order: the paths as given, each directory's files sorted.
///
/// # Errors
/// A path that does not exist, or a directory that cannot be read or holds
/// no `*.toml` file.
pub fn deck_paths<P: AsRef<Path>>(paths: &[P]) -> Result<Vec<PathBuf>, DeckError> {
    let mut out = Vec::new();
    for p in paths {
        let p = p.as_ref();
        let fail = |message: String| DeckError {
            file: p.display().to_string(),
            line: None,
            field: String::new(),
            message,
        };
        if !p.is_dir() {
            if !p.exists() {
                return Err(fail("cannot read: no such file or directory".into()));
            }
            out.push(p.to_path_buf());
            continue;
        }
        let mut files: Vec<PathBuf> = std::fs::read_dir(p)
            .map_err(|e| fail(format!("cannot read the directory: {e}")))?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|f| f.is_file() && f.extension().is_some_and(|x| x == "toml"))
            .collect();
        if files.is_empty() {
            return Err(fail("the directory holds no *.toml deck".into()));
        }
        files.sort();
        out.extend(files);
    }
    Ok(out)
}

/// The ids of the cases, read leniently (for messages about a deck that
/// does not deserialise).
fn case_ids(text: &str) -> Vec<Option<String>> {
    let Ok(table) = text.parse::<toml::Table>() else {
        return Vec::new();
    };
    match table.get("case") {
        Some(toml::Value::Array(cases)) => cases
            .iter()
            .map(|c| c.get("id").and_then(|v| v.as_str()).map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

/// Loads a deck from text; `name` is used in messages, `dir` resolves paths
/// and `NAME.toml` files of cards and terminals.
///
/// # Errors
/// The first problem found, with file, line and field.
pub fn load_deck_str(name: &str, text: &str, dir: Option<&Path>) -> Result<Deck, DeckError> {
    let ctx = Ctx {
        file: name,
        index: Index::new(text),
        ids: case_ids(text),
    };
    let file: DeckFile = toml::from_str(text).map_err(|e| {
        let line = e.span().map(|s| spans::line_of(text, s.start));
        let path = line.map(|l| ctx.index.path_at(l)).unwrap_or_default();
        DeckError {
            file: name.to_string(),
            line,
            field: spans::render(&path, &ctx.ids),
            message: e.message().to_string(),
        }
    })?;
    Loader::new(ctx, dir)?.load(file)
}

struct Loader<'a> {
    ctx: Ctx<'a>,
    dir: Option<PathBuf>,
    tmp: TempDir,
    origins: HashMap<String, Origin>,
    terminals: HashMap<String, Arc<TerminalConfig>>,
    terminal_names: Vec<String>,
    card_names: Vec<String>,
}

fn safe_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
        && !name.starts_with('.')
}

impl<'a> Loader<'a> {
    fn new(ctx: Ctx<'a>, dir: Option<&Path>) -> Result<Self, DeckError> {
        let tmp = TempDir::new().map_err(|e| DeckError {
            file: ctx.file.to_string(),
            line: None,
            field: String::new(),
            message: format!("cannot create a temporary folder: {e}"),
        })?;
        Ok(Self {
            ctx,
            dir: dir.map(Path::to_path_buf),
            tmp,
            origins: HashMap::new(),
            terminals: HashMap::new(),
            terminal_names: Vec::new(),
            card_names: Vec::new(),
        })
    }

    /// `extends` of a block: deck blocks of the same kind stay (they are
    /// files in the temporary folder); `NAME.toml` next to the deck becomes
    /// its absolute path; anything else is a built-in name.
    fn rewrite_extends(&self, table: &mut toml::Table, deck_names: &[String]) {
        let Some(toml::Value::String(base)) = table.get("extends") else {
            return;
        };
        if deck_names.contains(base) {
            return;
        }
        if let Some(dir) = &self.dir {
            let file = dir.join(format!("{base}.toml"));
            if file.is_file() {
                let absolute = std::fs::canonicalize(&file).unwrap_or(file);
                let without = absolute.with_extension("");
                table.insert(
                    "extends".into(),
                    toml::Value::String(without.display().to_string()),
                );
            }
        }
    }

    fn render(&self, table: &toml::Table, path: &[Seg]) -> Result<String, DeckError> {
        toml::to_string(table).map_err(|e| self.ctx.at(path, e.to_string()))
    }

    /// Writes a named block to the temporary folder.
    fn write_block(
        &mut self,
        kind: &str,
        name: &str,
        table: &toml::Table,
    ) -> Result<(), DeckError> {
        let path = keys(&[kind, name]);
        if !safe_name(name) {
            return Err(self.ctx.at(
                &path,
                "names of terminal settings and cards are letters, digits, '-', '_' and '.'",
            ));
        }
        let names = if kind == "terminal" {
            self.terminal_names.clone()
        } else {
            self.card_names.clone()
        };
        let mut table = table.clone();
        self.rewrite_extends(&mut table, &names);
        let text = self.render(&table, &path)?;
        let file = self.tmp.0.join(kind).join(format!("{name}.toml"));
        std::fs::write(&file, &text).map_err(|e| self.ctx.at(&path, e.to_string()))?;
        self.origins.insert(
            file.display().to_string(),
            Origin {
                prefix: path,
                index: Index::new(&text),
            },
        );
        Ok(())
    }

    fn load(mut self, file: DeckFile) -> Result<Deck, DeckError> {
        self.terminal_names = file.terminal.keys().cloned().collect();
        self.card_names = file.card.keys().cloned().collect();
        for (name, table) in &file.terminal {
            self.write_block("terminal", name, table)?;
        }
        for (name, table) in &file.card {
            self.write_block("card", name, table)?;
        }
        // Named terminal settings are checked even when no case uses them.
        for name in file.terminal.keys() {
            self.terminal_by_name(name, &keys(&["terminal", name]))?;
        }
        for name in file.card.keys() {
            let path = self.tmp.0.join("card").join(format!("{name}.toml"));
            let loaded = load_file(&path).map_err(|e| self.profile_error(e))?;
            IssuerHost::from_profile(&loaded).map_err(|e| self.profile_error(e))?;
        }
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut cases = Vec::new();
        for (i, case) in file.case.iter().enumerate() {
            let base = vec![Seg::Key("case".into()), Seg::Index(i)];
            let mut id_path = base.clone();
            id_path.push(Seg::Key("id".into()));
            if case.id.trim().is_empty() {
                return Err(self.ctx.at(&id_path, "the case id is empty"));
            }
            if let Some(first) = seen.insert(case.id.clone(), i) {
                let line = self.ctx.index.line(&[
                    Seg::Key("case".into()),
                    Seg::Index(first),
                    Seg::Key("id".into()),
                ]);
                return Err(self.ctx.at(
                    &id_path,
                    format!(
                        "duplicate case id {:?} (first used{})",
                        case.id,
                        line.map_or_else(String::new, |l| format!(" at line {l}"))
                    ),
                ));
            }
            cases.push(self.case(i, case, &file.defaults)?);
        }
        Ok(Deck {
            file: self.ctx.file.to_string(),
            meta: file.deck.clone(),
            cases,
            origins: self.origins,
            index: self.ctx.index,
            ids: self.ctx.ids,
        })
    }

    fn config_error(&self, e: ConfigError) -> DeckError {
        relocate(
            &self.origins,
            &self.ctx,
            e.file,
            e.line,
            e.field,
            e.kind.to_string(),
        )
    }

    fn profile_error(&self, e: ProfileError) -> DeckError {
        relocate(&self.origins, &self.ctx, e.file, e.line, e.field, e.message)
    }

    fn terminal_by_name(
        &mut self,
        name: &str,
        path: &[Seg],
    ) -> Result<Arc<TerminalConfig>, DeckError> {
        if let Some(c) = self.terminals.get(name) {
            return Ok(Arc::clone(c));
        }
        let config = if self.terminal_names.iter().any(|n| n == name) {
            let file = self.tmp.0.join("terminal").join(format!("{name}.toml"));
            TerminalConfig::load_file(&file).map_err(|e| self.config_error(e))?
        } else if name.ends_with(".toml") {
            let file = self.dir.clone().unwrap_or_default().join(name);
            TerminalConfig::load_file(&file).map_err(|e| self.config_error(e))?
        } else if emv_terminal::config::builtin::names().contains(&name) {
            TerminalConfig::builtin(name).map_err(|e| self.config_error(e))?
        } else {
            return Err(self.ctx.at(
                path,
                format!(
                    "unknown terminal setting {name:?}: the deck defines [{}]; built-in: {}; or a path ending in .toml",
                    self.terminal_names.join(", "),
                    emv_terminal::config::builtin::names().join(", ")
                ),
            ));
        };
        let config = Arc::new(config);
        self.terminals.insert(name.to_string(), Arc::clone(&config));
        Ok(config)
    }

    fn case(
        &mut self,
        i: usize,
        spec: &CaseSpec,
        defaults: &InputSpec,
    ) -> Result<DeckCase, DeckError> {
        let base = vec![Seg::Key("case".into()), Seg::Index(i)];
        let sub = |k: &str| {
            let mut p = base.clone();
            p.push(Seg::Key(k.into()));
            p
        };
        let id = spec.id.clone();
        // Terminal.
        let terminal_path = sub("terminal");
        let (terminal_name, terminal) = match &spec.terminal {
            None => (
                "default".to_string(),
                self.terminal_by_name("default", &terminal_path)?,
            ),
            Some(toml::Value::String(name)) => {
                (name.clone(), self.terminal_by_name(name, &terminal_path)?)
            }
            Some(toml::Value::Table(table)) => {
                let mut table = table.clone();
                let names = self.terminal_names.clone();
                self.rewrite_extends(&mut table, &names);
                let text = self.render(&table, &terminal_path)?;
                let source = format!("{}#case[{id}].terminal", self.ctx.file);
                self.origins.insert(
                    source.clone(),
                    Origin {
                        prefix: terminal_path.clone(),
                        index: Index::new(&text),
                    },
                );
                let config =
                    TerminalConfig::load_str(&source, &text, Some(&self.tmp.0.join("terminal")))
                        .map_err(|e| self.config_error(e))?;
                ("inline".to_string(), Arc::new(config))
            }
            Some(other) => {
                return Err(self.ctx.at(
                    &terminal_path,
                    format!(
                        "a terminal setting name (a string) or an overlay table, not {}",
                        other.type_str()
                    ),
                ));
            }
        };
        // Card.
        let card_path = sub("card");
        let (card_name, card) = match &spec.card {
            None => return Err(self.ctx.at(&base, "missing field `card`")),
            Some(toml::Value::String(name)) => (name.clone(), self.card_by_name(name, &card_path)?),
            Some(toml::Value::Table(table)) => {
                let mut table = table.clone();
                let names = self.card_names.clone();
                self.rewrite_extends(&mut table, &names);
                let base_name = spec_card_name(spec).unwrap_or_else(|| "inline".to_string());
                let text = self.render(&table, &card_path)?;
                let source = format!("{}#case[{id}].card", self.ctx.file);
                self.origins.insert(
                    source.clone(),
                    Origin {
                        prefix: card_path.clone(),
                        index: Index::new(&text),
                    },
                );
                let loaded = load_str(&source, &text, Some(&self.tmp.0.join("card")))
                    .map_err(|e| self.profile_error(e))?;
                (base_name, loaded)
            }
            Some(other) => {
                return Err(self.ctx.at(
                    &card_path,
                    format!(
                        "a card name or path (a string) or an overlay table, not {}",
                        other.type_str()
                    ),
                ));
            }
        };
        let host = IssuerHost::from_profile(&card).map_err(|e| self.profile_error(e))?;
        if spec.transaction.is_empty() {
            return Err(self
                .ctx
                .at(&base, "a case needs at least one [[case.transaction]]"));
        }
        let mut transactions = Vec::new();
        for (t, tx) in spec.transaction.iter().enumerate() {
            let mut path = sub("transaction");
            path.push(Seg::Index(t));
            transactions.push(self.transaction(&path, t, tx, defaults, &terminal)?);
        }
        Ok(DeckCase {
            position: i + 1,
            id,
            reference: spec.reference.clone(),
            objective: spec.objective.clone(),
            terminal_name,
            card_name,
            terminal,
            card,
            host,
            transactions,
        })
    }

    fn card_by_name(&mut self, name: &str, path: &[Seg]) -> Result<Loaded, DeckError> {
        if self.card_names.iter().any(|n| n == name) {
            let file = self.tmp.0.join("card").join(format!("{name}.toml"));
            return load_file(&file).map_err(|e| self.profile_error(e));
        }
        if name.ends_with(".toml") {
            let file = self.dir.clone().unwrap_or_default().join(name);
            return load_file(&file).map_err(|e| self.profile_error(e));
        }
        if let Some(dir) = &self.dir {
            let file = dir.join(format!("{name}.toml"));
            if file.is_file() {
                return load_file(&file).map_err(|e| self.profile_error(e));
            }
        }
        if crate::profile::builtin::text(name).is_some() {
            return load_builtin(name).map_err(|e| self.profile_error(e));
        }
        Err(self.ctx.at(
            path,
            format!(
                "unknown card {name:?}: the deck defines [{}]; built-in: {}; or a path ending in .toml",
                self.card_names.join(", "),
                crate::profile::builtin::names().join(", ")
            ),
        ))
    }

    fn transaction(
        &self,
        path: &[Seg],
        number: usize,
        tx: &TransactionSpec,
        defaults: &InputSpec,
        terminal: &TerminalConfig,
    ) -> Result<Transaction, DeckError> {
        let at = |k: &str, from_tx: bool| {
            if from_tx {
                let mut p = path.to_vec();
                p.push(Seg::Key(k.into()));
                p
            } else {
                keys(&["defaults", k])
            }
        };
        // (value, path) of a field: the transaction's, else `[defaults]`'s.
        macro_rules! pick {
            ($field:ident) => {
                match (&tx.$field, &defaults.$field) {
                    (Some(v), _) => Some((v.clone(), at(stringify!($field), true))),
                    (None, Some(v)) => Some((v.clone(), at(stringify!($field), false))),
                    (None, None) => None,
                }
            };
        }
        let exponent = u32::from(terminal.terminal.currency_exponent);
        let kind = match pick!(kind) {
            None => 0x00,
            Some((v, mut p)) => {
                p.pop();
                p.push(Seg::Key("type".into()));
                transaction_type(&v).map_err(|m| self.ctx.at(&p, m))?
            }
        };
        let amount = match pick!(amount) {
            None => {
                return Err(self.ctx.at(
                    path,
                    "missing field `amount` (here or in [defaults]), e.g. amount = \"10.00\"",
                ));
            }
            Some((v, p)) => parse_amount(&v, exponent).map_err(|m| self.ctx.at(&p, m))?,
        };
        let other = match pick!(other) {
            None => 0,
            Some((v, p)) => parse_amount(&v, exponent).map_err(|m| self.ctx.at(&p, m))?,
        };
        let date = match pick!(date) {
            None => [0x26, 0x11, 0x28],
            Some((v, p)) => parse_date(&v).map_err(|m| self.ctx.at(&p, m))?,
        };
        let time = match pick!(time) {
            None => [0x12, 0x00, 0x00],
            Some((v, p)) => parse_time(&v).map_err(|m| self.ctx.at(&p, m))?,
        };
        let un = match pick!(unpredictable_number) {
            None => vec![0x11, 0x22, 0x33, 0x44],
            Some((v, p)) => {
                fixed_hex(&v, 4, "the unpredictable number").map_err(|m| self.ctx.at(&p, m))?
            }
        };
        let random = match pick!(random) {
            None => 99,
            Some((v, p)) => u8::try_from(v)
                .ok()
                .filter(|r| (1..=99).contains(r))
                .ok_or_else(|| self.ctx.at(&p, format!("random is 1 to 99, not {v}")))?,
        };
        let sequence_counter = match pick!(sequence_counter) {
            None => u32::try_from(number + 1).unwrap_or(1),
            Some((v, p)) => u32::try_from(v)
                .ok()
                .filter(|&n| n <= 99_999_999)
                .ok_or_else(|| {
                    self.ctx
                        .at(&p, format!("sequence_counter is 0 to 99999999, not {v}"))
                })?,
        };
        let pin = match pick!(pin) {
            None => "1234".to_string(),
            Some((v, p)) => {
                let ok = v == "bypass"
                    || v == "not_working"
                    || ((4..=12).contains(&v.len()) && v.chars().all(|c| c.is_ascii_digit()));
                if !ok {
                    return Err(self.ctx.at(
                        &p,
                        format!("pin is 4 to 12 digits, \"bypass\" or \"not_working\", not {v:?}"),
                    ));
                }
                v
            }
        };
        let host = match pick!(host) {
            None => "approve".to_string(),
            Some((v, p)) => {
                if !["approve", "decline", "unable", "bad_arpc"].contains(&v.as_str()) {
                    return Err(self.ctx.at(
                        &p,
                        format!("host is approve, decline, unable or bad_arpc, not {v:?}"),
                    ));
                }
                v
            }
        };
        let application = match pick!(application) {
            None => 1,
            Some((v, p)) => usize::try_from(v).ok().filter(|&a| a >= 1).ok_or_else(|| {
                self.ctx.at(
                    &p,
                    "application is the 1-based number of the candidate the cardholder picks",
                )
            })?,
        };
        let confirm = pick!(confirm).is_none_or(|(v, _)| v);
        let mut scripts = Vec::new();
        for (n, s) in tx.script.iter().enumerate() {
            let mut sp = path.to_vec();
            sp.push(Seg::Key("script".into()));
            sp.push(Seg::Index(n));
            let field = |k: &str| {
                let mut p = sp.clone();
                p.push(Seg::Key(k.into()));
                p
            };
            let template = fixed_hex(&s.template, 1, "the template")
                .map_err(|m| self.ctx.at(&field("template"), m))?;
            if template != [0x71] && template != [0x72] {
                return Err(self.ctx.at(
                    &field("template"),
                    "the template is \"71\" (before the final GENERATE AC) or \"72\" (after)",
                ));
            }
            let header = fixed_hex(&s.header, 4, "the header (CLA INS P1 P2)")
                .map_err(|m| self.ctx.at(&field("header"), m))?;
            let data = any_hex(&s.data, "the data").map_err(|m| self.ctx.at(&field("data"), m))?;
            if data.len() > 239 {
                return Err(self
                    .ctx
                    .at(&field("data"), "at most 239 bytes (the MAC takes 8 more)"));
            }
            scripts.push(Script {
                template: hex::encode_upper(template),
                header: hex::encode_upper(header),
                data: hex::encode_upper(data),
                bad_mac: s.bad_mac,
            });
        }
        let mut ep = path.to_vec();
        ep.push(Seg::Key("expect".into()));
        let expect = self.expectations(&ep, &tx.expect)?;
        Ok(Transaction {
            inputs: Inputs {
                transaction_type: format!("{kind:02X}"),
                amount,
                amount_other: other,
                date: hex::encode_upper(date),
                time: hex::encode_upper(time),
                unpredictable_number: hex::encode_upper(un),
                random,
                sequence_counter,
                pin,
                host,
                scripts,
                application,
                confirm,
            },
            expect,
        })
    }

    fn expectations(&self, path: &[Seg], e: &ExpectSpec) -> Result<Expectations, DeckError> {
        let field = |k: &str| {
            let mut p = path.to_vec();
            p.push(Seg::Key(k.into()));
            p
        };
        let item = |k: &str, i: usize| {
            let mut p = field(k);
            p.push(Seg::Index(i));
            p
        };
        if let Some(o) = &e.outcome
            && !OUTCOMES.contains(&o.as_str())
        {
            return Err(self.ctx.at(
                &field("outcome"),
                format!("unknown outcome {o:?} (one of: {})", OUTCOMES.join(", ")),
            ));
        }
        let aid = e
            .aid
            .as_ref()
            .map(|a| {
                any_hex(a, "the AID")
                    .and_then(|b| {
                        if (5..=16).contains(&b.len()) {
                            Ok(hex::encode_upper(b))
                        } else {
                            Err(format!("an AID is 5 to 16 bytes, not {}", b.len()))
                        }
                    })
                    .map_err(|m| self.ctx.at(&field("aid"), m))
            })
            .transpose()?;
        let masked = |name: &str,
                      len: usize,
                      value: &Option<String>,
                      mask: &Option<String>|
         -> Result<Option<Masked>, DeckError> {
            let mask_name = format!("{name}_mask");
            let Some(v) = value else {
                if mask.is_some() {
                    return Err(self
                        .ctx
                        .at(&field(&mask_name), format!("a mask without `{name}`")));
                }
                return Ok(None);
            };
            let v = fixed_hex(v, len, name).map_err(|m| self.ctx.at(&field(name), m))?;
            let m = match mask {
                None => vec![0xFF; len],
                Some(m) => fixed_hex(m, len, &mask_name)
                    .map_err(|msg| self.ctx.at(&field(&mask_name), msg))?,
            };
            if v.iter().zip(&m).any(|(v, m)| v & !m != 0) {
                return Err(self.ctx.at(
                    &field(&mask_name),
                    format!(
                        "{name} {} sets bits that mask {} does not compare",
                        hex::encode_upper(&v),
                        hex::encode_upper(&m)
                    ),
                ));
            }
            Ok(Some(Masked {
                value: hex::encode_upper(v),
                mask: hex::encode_upper(m),
            }))
        };
        let tvr = masked("tvr", 5, &e.tvr, &e.tvr_mask)?;
        let tsi = masked("tsi", 2, &e.tsi, &e.tsi_mask)?;
        let cvm_results = masked("cvm_results", 3, &e.cvm_results, &e.cvm_results_mask)?;
        let cid = e
            .cid
            .as_ref()
            .map(|c| {
                fixed_hex(c, 1, "the CID")
                    .map(hex::encode_upper)
                    .map_err(|m| self.ctx.at(&field("cid"), m))
            })
            .transpose()?;
        let genac = e
            .genac
            .as_ref()
            .map(|list| {
                list.iter()
                    .enumerate()
                    .map(|(i, p1)| {
                        fixed_hex(p1, 1, "a GENERATE AC P1")
                            .map(hex::encode_upper)
                            .map_err(|m| self.ctx.at(&item("genac", i), m))
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?;
        let patterns = |k: &str, list: &[String]| -> Result<Vec<String>, DeckError> {
            list.iter()
                .enumerate()
                .map(|(i, p)| {
                    parse_pattern(p)
                        .map(|_| normalise_pattern(p))
                        .map_err(|m| self.ctx.at(&item(k, i), m))
                })
                .collect()
        };
        let apdus = e.apdus.as_ref().map(|l| patterns("apdus", l)).transpose()?;
        let forbid = patterns("forbid", &e.forbid)?;
        let tags = |k: &str, list: &[String]| -> Result<Vec<String>, DeckError> {
            list.iter()
                .enumerate()
                .map(|(i, t)| normalise_tag(t).map_err(|m| self.ctx.at(&item(k, i), m)))
                .collect()
        };
        let request_tags = tags("request_tags", &e.request_tags)?;
        let request_absent = tags("request_absent", &e.request_absent)?;
        let values = |k: &str,
                      map: &BTreeMap<String, String>|
         -> Result<BTreeMap<String, String>, DeckError> {
            map.iter()
                .map(|(t, v)| {
                    let mut p = field(k);
                    p.push(Seg::Key(t.clone()));
                    let tag = normalise_tag(t).map_err(|m| self.ctx.at(&p, m))?;
                    let value = any_hex(v, &format!("the value of {tag}"))
                        .map_err(|m| self.ctx.at(&p, m))?;
                    Ok((tag, hex::encode_upper(value)))
                })
                .collect()
        };
        let request_values = values("request_values", &e.request_values)?;
        let data = values("data", &e.data)?;
        let script_results = e
            .script_results
            .as_ref()
            .map(|s| {
                any_hex(s, "the script results")
                    .map(hex::encode_upper)
                    .map_err(|m| self.ctx.at(&field("script_results"), m))
            })
            .transpose()?;
        Ok(Expectations {
            outcome: e.outcome.clone(),
            aid,
            tvr,
            tsi,
            cvm_results,
            cid,
            genac,
            apdus,
            forbid,
            online: e.online,
            request_tags,
            request_absent,
            request_values,
            script_results,
            advice: e.advice,
            data,
            trail: e.trail.clone(),
        })
    }
}

/// The name to report for an inline card overlay: its `extends` as
/// written in the deck (not the rewritten absolute path).
fn spec_card_name(spec: &CaseSpec) -> Option<String> {
    spec.card
        .as_ref()
        .and_then(|c| c.get("extends"))
        .and_then(|v| v.as_str())
        .map(str::to_string)
}

/// Maps an error of a profile/configuration loader back into the deck when
/// it is about a block of the deck.
fn relocate(
    origins: &HashMap<String, Origin>,
    ctx: &Ctx<'_>,
    file: String,
    line: Option<usize>,
    field: String,
    message: String,
) -> DeckError {
    let Some(origin) = origins.get(&file) else {
        return DeckError {
            file,
            line,
            field,
            message,
        };
    };
    let mut full = origin.prefix.clone();
    if let Some(l) = line {
        full.extend(origin.index.path_at(l));
    }
    let prefix = spans::render(&origin.prefix, &ctx.ids);
    DeckError {
        file: ctx.file.to_string(),
        line: ctx.index.line(&full),
        field: if field.is_empty() {
            spans::render(&full, &ctx.ids)
        } else {
            format!("{prefix}.{field}")
        },
        message,
    }
}

impl Deck {
    /// An error of the card-profile loader or card builder, placed in the
    /// deck when it is about one of the deck's blocks.
    pub fn profile_error(&self, e: ProfileError) -> DeckError {
        let ctx = Ctx {
            file: &self.file,
            index: self.index.clone(),
            ids: self.ids.clone(),
        };
        relocate(&self.origins, &ctx, e.file, e.line, e.field, e.message)
    }
}

fn any_hex(text: &str, what: &str) -> Result<Vec<u8>, String> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    hex::decode(&compact).map_err(|e| format!("{what}: {text:?} is not hex ({e})"))
}

fn fixed_hex(text: &str, len: usize, what: &str) -> Result<Vec<u8>, String> {
    let bytes = any_hex(text, what)?;
    if bytes.len() == len {
        Ok(bytes)
    } else {
        Err(format!(
            "{what}: {text:?} is {} bytes, expected {len}",
            bytes.len()
        ))
    }
}

fn normalise_tag(text: &str) -> Result<String, String> {
    crate::profile::values::tag(text).map(|t| format!("{:X}", t.raw()))
}

fn transaction_type(text: &str) -> Result<u8, String> {
    Ok(match text {
        "purchase" => 0x00,
        "cash" => 0x01,
        "cashback" => 0x09,
        "refund" => 0x20,
        other => fixed_hex(other, 1, "type")
            .ok()
            .and_then(|b| b.first().copied())
            .ok_or_else(|| {
                format!(
                    "type is purchase, cash, cashback, refund or two hex digits (9C), not {other:?}"
                )
            })?,
    })
}

/// A decimal amount in major units (`"10.00"`) → minor units.
fn parse_amount(value: &toml::Value, exponent: u32) -> Result<u64, String> {
    let toml::Value::String(text) = value else {
        return Err(format!(
            "amounts are decimal strings in major units, e.g. \"10.00\", not {}",
            value.type_str()
        ));
    };
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(frac) {
        return Err(format!(
            "{text:?} is not a decimal amount such as \"10.00\""
        ));
    }
    let exp = usize::try_from(exponent).unwrap_or(0);
    if frac.len() > exp {
        return Err(format!(
            "{text:?} has more decimals than the currency exponent ({exponent}) allows"
        ));
    }
    let padded = format!("{whole}{frac:0<exp$}");
    let minor: u64 = padded
        .parse()
        .map_err(|_| format!("{text:?} is too large"))?;
    if minor > 999_999_999_999 {
        return Err(format!("{text:?} does not fit n12"));
    }
    Ok(minor)
}

fn bcd(n: u8) -> u8 {
    ((n / 10) << 4) | (n % 10)
}

fn datetime(value: &toml::Value) -> Result<toml::value::Datetime, String> {
    match value {
        toml::Value::Datetime(d) => Ok(*d),
        toml::Value::String(s) => s
            .parse::<toml::value::Datetime>()
            .map_err(|e| format!("{s:?}: {e}")),
        other => Err(format!(
            "a TOML date/time or a string, not {}",
            other.type_str()
        )),
    }
}

fn parse_date(value: &toml::Value) -> Result<[u8; 3], String> {
    let d = datetime(value)?;
    let (Some(date), None) = (d.date, d.time) else {
        return Err("a date without time: 2026-11-28".into());
    };
    if !(2000..=2099).contains(&date.year) {
        return Err(format!("year {} is not 2000-2099", date.year));
    }
    let yy = u8::try_from(date.year - 2000).unwrap_or(0);
    Ok([bcd(yy), bcd(date.month), bcd(date.day)])
}

fn parse_time(value: &toml::Value) -> Result<[u8; 3], String> {
    let d = datetime(value)?;
    let (None, Some(time)) = (d.date, d.time) else {
        return Err("a time without date: 12:00:00".into());
    };
    Ok([
        bcd(time.hour),
        bcd(time.minute),
        bcd(time.second.unwrap_or(0)),
    ])
}

/// A command pattern: hex bytes, `..` for any byte, spaces ignored. It
/// matches a command that starts with it.
pub(crate) fn parse_pattern(text: &str) -> Result<Vec<Option<u8>>, String> {
    let compact: Vec<char> = text.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.is_empty() {
        return Err("an empty command pattern".into());
    }
    if !compact.len().is_multiple_of(2) {
        return Err(format!(
            "command pattern {text:?}: an odd number of hex digits (write bytes as two digits, `..` for any byte)"
        ));
    }
    compact
        .chunks(2)
        .map(|pair| {
            let s: String = pair.iter().collect();
            if s == ".." {
                Ok(None)
            } else {
                u8::from_str_radix(&s, 16)
                    .map(Some)
                    .map_err(|_| format!("command pattern {text:?}: {s:?} is neither hex nor `..`"))
            }
        })
        .collect()
}

fn normalise_pattern(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_uppercase()
}
