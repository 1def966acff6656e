//! The configuration as a tree of TOML values that remember where they came
//! from, the `extends` chain, and the overlay merge.
//!
//! Every value keeps the file of the chain and the line that set it (the
//! line of its key; for array elements, the line of the element; for
//! `[[array]]` tables, their header). Overlays are merged on this tree, so
//! after the merge each value still points at the file and line that set it
//! last, and the validation in the sibling modules can name file, line and
//! field without re-serialising anything.
//!
//! Merge rules (documented in `docs/terminal-config.md`, "Overlays"):
//!
//! - tables merge key by key, recursively;
//! - the arrays of tables `aid`, `capk` and `revoked` merge entry by entry,
//!   matched by their key fields (`aid`; `rid` + `index`; `rid` + `index` +
//!   `serial`): a matching entry merges into the base's, a new one is
//!   appended, and an entry with `remove = true` deletes the base's;
//! - every other value, plain arrays included, replaces the base's.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use toml::de::{DeTable, DeValue};
use toml::value::Datetime;

use super::builtin;
use super::error::{ConfigError, ConfigErrorKind};

/// Longest `extends` chain, the loaded file included.
pub const MAX_CHAIN: usize = 8;

/// Deepest nesting of arrays and tables accepted.
const MAX_DEPTH: usize = 32;

/// The arrays of tables merged entry by entry, with their key fields.
const KEYED: &[(&str, &[&str])] = &[
    ("aid", &["aid"]),
    ("capk", &["rid", "index"]),
    ("revoked", &["rid", "index", "serial"]),
];

/// One file of the chain.
#[derive(Debug, Clone)]
pub(crate) struct Source {
    /// Path, or `builtin:NAME`.
    pub(crate) name: String,
    /// The file's path, for files.
    pub(crate) path: Option<PathBuf>,
    /// The text.
    pub(crate) text: String,
}

/// Where a value was set: index of the file in [`Chain::sources`] and the
/// 1-based line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct At {
    pub(crate) source: usize,
    pub(crate) line: Option<usize>,
}

/// A TOML value with its origin.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub(crate) value: Value,
    pub(crate) at: At,
}

/// A TOML value; floats are kept only as a type (no field takes one).
#[derive(Debug, Clone)]
pub(crate) enum Value {
    String(String),
    Integer(i64),
    Float,
    Boolean(bool),
    Datetime(Datetime),
    Array(Vec<Node>),
    Table(BTreeMap<String, Node>),
}

impl Value {
    /// The TOML type name, for messages.
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Self::String(_) => "a string",
            Self::Integer(_) => "an integer",
            Self::Float => "a float",
            Self::Boolean(_) => "a boolean",
            Self::Datetime(_) => "a date-time",
            Self::Array(_) => "an array",
            Self::Table(_) => "a table",
        }
    }
}

/// The files of a loaded configuration: the loaded file first, then the
/// file it extends, and so on.
#[derive(Debug, Clone, Default)]
pub(crate) struct Chain {
    pub(crate) sources: Vec<Source>,
}

impl Chain {
    /// An error located at `at`, about `field`.
    pub(crate) fn error(&self, at: At, field: &str, kind: ConfigErrorKind) -> ConfigError {
        ConfigError {
            file: self
                .sources
                .get(at.source)
                .map_or_else(String::new, |s| s.name.clone()),
            line: at.line,
            field: field.to_string(),
            kind,
        }
    }
}

/// 1-based line of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()
        .get(..offset.min(text.len()))
        .map_or(1, |t| t.iter().filter(|&&b| b == b'\n').count() + 1)
}

/// Parses one file into a tree whose nodes name `source` as their origin.
fn parse(chain: &Chain, source: usize) -> Result<Node, ConfigError> {
    let text = chain.sources.get(source).map_or("", |s| s.text.as_str());
    let root_at = At { source, line: None };
    let table = DeTable::parse(text).map_err(|e| {
        let at = At {
            source,
            line: e.span().map(|s| line_of(text, s.start)),
        };
        chain.error(at, "", ConfigErrorKind::Syntax(e.message().to_string()))
    })?;
    let converted = convert_table(chain, source, text, table.get_ref(), 0)?;
    Ok(Node {
        value: Value::Table(converted),
        at: root_at,
    })
}

fn convert_table(
    chain: &Chain,
    source: usize,
    text: &str,
    table: &DeTable<'_>,
    depth: usize,
) -> Result<BTreeMap<String, Node>, ConfigError> {
    let mut out = BTreeMap::new();
    for (key, value) in table {
        let line = line_of(text, key.span().start);
        let value = convert_value(chain, source, text, value.get_ref(), line, depth + 1)?;
        out.insert(key.get_ref().to_string(), value);
    }
    Ok(out)
}

fn convert_value(
    chain: &Chain,
    source: usize,
    text: &str,
    value: &DeValue<'_>,
    line: usize,
    depth: usize,
) -> Result<Node, ConfigError> {
    let at = At {
        source,
        line: Some(line),
    };
    if depth > MAX_DEPTH {
        return Err(chain.error(
            at,
            "",
            ConfigErrorKind::Syntax(format!("nested deeper than {MAX_DEPTH} levels")),
        ));
    }
    let value = match value {
        DeValue::String(s) => Value::String(s.to_string()),
        DeValue::Integer(i) => {
            Value::Integer(i64::from_str_radix(i.as_str(), i.radix()).map_err(|_| {
                chain.error(
                    at,
                    "",
                    ConfigErrorKind::Syntax("integer out of range".to_string()),
                )
            })?)
        }
        DeValue::Float(_) => Value::Float,
        DeValue::Boolean(b) => Value::Boolean(*b),
        DeValue::Datetime(d) => Value::Datetime(*d),
        DeValue::Array(items) => {
            let mut out = Vec::new();
            for item in items.iter() {
                let item_line = line_of(text, item.span().start);
                out.push(convert_value(
                    chain,
                    source,
                    text,
                    item.get_ref(),
                    item_line,
                    depth + 1,
                )?);
            }
            Value::Array(out)
        }
        DeValue::Table(t) => Value::Table(convert_table(chain, source, text, t, depth)?),
    };
    Ok(Node { value, at })
}

/// Reads a file.
pub(crate) fn read_path(path: &Path) -> Result<Source, ConfigError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        file: name.clone(),
        line: None,
        field: String::new(),
        kind: ConfigErrorKind::Io(e.to_string()),
    })?;
    Ok(Source {
        name,
        path: Some(path.to_path_buf()),
        text,
    })
}

/// The base configuration `name`: `NAME.toml` in `dir` (unless that is the
/// file asking), else the built-in configuration.
fn find_base(name: &str, dir: Option<&Path>, asking: Option<&Path>) -> Option<Source> {
    if let Some(dir) = dir {
        let path = dir.join(format!("{name}.toml"));
        let is_asking = asking.is_some_and(|a| same_file(a, &path));
        if !is_asking && path.is_file() {
            return read_path(&path).ok();
        }
    }
    builtin::text(name).map(|text| Source {
        name: format!("builtin:{name}"),
        path: None,
        text: text.to_string(),
    })
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// Loads `top` and the chain it extends, and merges it (base first).
/// `dir` is where `extends` looks for `NAME.toml` for the top file; each
/// base file looks in its own folder.
pub(crate) fn load_chain(top: Source, dir: Option<&Path>) -> Result<(Chain, Node), ConfigError> {
    let mut chain = Chain::default();
    let mut trees = Vec::new();
    let mut next = Some((top, dir.map(Path::to_path_buf)));
    while let Some((source, dir)) = next.take() {
        let index = chain.sources.len();
        chain.sources.push(source);
        let mut tree = parse(&chain, index)?;
        let extends = take_extends(&chain, &mut tree)?;
        trees.push(tree);
        let Some((base, at)) = extends else {
            break;
        };
        let current = chain.sources.get(index);
        let asking = current.and_then(|s| s.path.as_deref());
        let Some(found) = find_base(&base, dir.as_deref(), asking) else {
            return Err(chain.error(
                at,
                "extends",
                ConfigErrorKind::Extends(format!(
                    "no configuration {base:?}: not a file {base}.toml next to this one, nor a built-in configuration ({})",
                    builtin::names().join(", ")
                )),
            ));
        };
        if chain.sources.iter().any(|s| s.name == found.name) {
            return Err(chain.error(
                at,
                "extends",
                ConfigErrorKind::Extends(format!("extends cycle through {}", found.name)),
            ));
        }
        if chain.sources.len() >= MAX_CHAIN {
            return Err(chain.error(
                at,
                "extends",
                ConfigErrorKind::Extends(format!("extends chain longer than {MAX_CHAIN} files")),
            ));
        }
        let base_dir = found
            .path
            .as_deref()
            .and_then(Path::parent)
            .map(Path::to_path_buf);
        next = Some((found, base_dir));
    }
    let mut merged = BTreeMap::new();
    let root_at = At {
        source: 0,
        line: None,
    };
    for tree in trees.into_iter().rev() {
        if let Value::Table(table) = tree.value {
            merge_root(&chain, &mut merged, table)?;
        }
    }
    Ok((
        chain,
        Node {
            value: Value::Table(merged),
            at: root_at,
        },
    ))
}

/// Removes `extends` from a file's root table: the base's name and where it
/// was given.
fn take_extends(chain: &Chain, tree: &mut Node) -> Result<Option<(String, At)>, ConfigError> {
    let Value::Table(table) = &mut tree.value else {
        return Ok(None);
    };
    match table.remove("extends") {
        None => Ok(None),
        Some(Node {
            value: Value::String(name),
            at,
        }) => Ok(Some((name, at))),
        Some(node) => Err(chain.error(
            node.at,
            "extends",
            ConfigErrorKind::WrongType {
                expected: "a configuration name (a string)",
                found: node.value.type_name(),
            },
        )),
    }
}

/// Merges one file's root table into the configuration so far.
fn merge_root(
    chain: &Chain,
    base: &mut BTreeMap<String, Node>,
    overlay: BTreeMap<String, Node>,
) -> Result<(), ConfigError> {
    for (key, node) in overlay {
        let keyed = KEYED
            .iter()
            .find(|(name, _)| *name == key)
            .map(|(_, fields)| *fields);
        match (keyed, node) {
            (
                Some(fields),
                Node {
                    value: Value::Array(entries),
                    at,
                },
            ) => {
                let mut base_entries = match base.remove(&key) {
                    Some(Node {
                        value: Value::Array(b),
                        ..
                    }) => b,
                    _ => Vec::new(),
                };
                merge_keyed(chain, &key, fields, &mut base_entries, entries)?;
                base.insert(
                    key,
                    Node {
                        value: Value::Array(base_entries),
                        at,
                    },
                );
            }
            (_, node) => merge_node(base, key, node),
        }
    }
    Ok(())
}

/// Merges `node` into `base[key]`: tables key by key, other values replace.
fn merge_node(base: &mut BTreeMap<String, Node>, key: String, node: Node) {
    match (base.get_mut(&key), node) {
        (
            Some(Node {
                value: Value::Table(b),
                at,
            }),
            Node {
                value: Value::Table(o),
                at: overlay_at,
            },
        ) => {
            *at = overlay_at;
            for (k, v) in o {
                merge_node(b, k, v);
            }
        }
        (_, node) => {
            base.insert(key, node);
        }
    }
}

/// The key of an array-of-tables entry: its key fields' strings, upper
/// case, joined by `:`; `None` when one is absent or not a string.
pub(crate) fn entry_key(node: &Node, fields: &[&str]) -> Option<String> {
    let Value::Table(table) = &node.value else {
        return None;
    };
    let mut parts = Vec::new();
    for field in fields {
        match table.get(*field) {
            Some(Node {
                value: Value::String(s),
                ..
            }) => parts.push(s.trim().to_ascii_uppercase()),
            _ => return None,
        }
    }
    Some(parts.join(":"))
}

/// The field-path name of entry `position` of array `array`:
/// `aid[F0000009991010]`, or `aid[3]` when it has no usable key.
pub(crate) fn entry_path(array: &str, node: &Node, position: usize) -> String {
    let fields = KEYED
        .iter()
        .find(|(name, _)| *name == array)
        .map_or(&[][..], |(_, f)| *f);
    match entry_key(node, fields) {
        Some(key) => format!("{array}[{key}]"),
        None => format!("{array}[{position}]"),
    }
}

/// Merges the entries of one file's `[[name]]` array into the base's.
fn merge_keyed(
    chain: &Chain,
    name: &str,
    fields: &[&str],
    base: &mut Vec<Node>,
    overlay: Vec<Node>,
) -> Result<(), ConfigError> {
    let mut seen: Vec<String> = Vec::new();
    for (position, mut entry) in overlay.into_iter().enumerate() {
        let path = entry_path(name, &entry, position);
        let remove = take_remove(chain, &path, &mut entry)?;
        let key = entry_key(&entry, fields);
        if let Some(key) = &key {
            if seen.contains(key) {
                return Err(chain.error(
                    entry.at,
                    &path,
                    ConfigErrorKind::Duplicate(format!(
                        "[[{name}]] entry {key} (each may appear once per file)"
                    )),
                ));
            }
            seen.push(key.clone());
        }
        if remove {
            check_remove_only_keys(chain, &path, fields, &entry)?;
        }
        let found = key.as_ref().and_then(|k| {
            base.iter()
                .position(|b| entry_key(b, fields).as_ref() == Some(k))
        });
        match (found, remove) {
            (Some(i), true) => {
                base.remove(i);
            }
            (None, true) => {
                return Err(chain.error(entry.at, &path, ConfigErrorKind::NothingToRemove));
            }
            (Some(i), false) => {
                if let (
                    Some(Node {
                        value: Value::Table(b),
                        at,
                    }),
                    Value::Table(o),
                ) = (base.get_mut(i), entry.value)
                {
                    *at = entry.at;
                    for (k, v) in o {
                        merge_node(b, k, v);
                    }
                }
            }
            (None, false) => base.push(entry),
        }
    }
    Ok(())
}

/// Takes `remove` out of an entry: `true` when the entry deletes the base's.
fn take_remove(chain: &Chain, path: &str, entry: &mut Node) -> Result<bool, ConfigError> {
    let Value::Table(table) = &mut entry.value else {
        return Ok(false);
    };
    match table.remove("remove") {
        None => Ok(false),
        Some(Node {
            value: Value::Boolean(b),
            ..
        }) => Ok(b),
        Some(node) => Err(chain.error(
            node.at,
            &format!("{path}.remove"),
            ConfigErrorKind::WrongType {
                expected: "a boolean",
                found: node.value.type_name(),
            },
        )),
    }
}

fn check_remove_only_keys(
    chain: &Chain,
    path: &str,
    fields: &[&str],
    entry: &Node,
) -> Result<(), ConfigError> {
    if let Value::Table(table) = &entry.value
        && let Some((key, node)) = table.iter().find(|(k, _)| !fields.contains(&k.as_str()))
    {
        return Err(chain.error(
            node.at,
            &format!("{path}.{key}"),
            ConfigErrorKind::OutOfRange(format!(
                "an entry with remove = true names only its key ({})",
                fields.join(", ")
            )),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain_of(texts: &[&str]) -> Chain {
        Chain {
            sources: texts
                .iter()
                .enumerate()
                .map(|(i, t)| Source {
                    name: format!("f{i}"),
                    path: None,
                    text: (*t).to_string(),
                })
                .collect(),
        }
    }

    #[test]
    fn lines_are_recorded() {
        let chain = chain_of(&["a = 1\n\n[t]\nb = \"x\"\n[[aid]]\naid = \"A0\"\n"]);
        let root = parse(&chain, 0).unwrap();
        let Value::Table(t) = &root.value else {
            panic!()
        };
        assert_eq!(t["a"].at.line, Some(1));
        assert_eq!(t["t"].at.line, Some(3));
        let Value::Table(tt) = &t["t"].value else {
            panic!()
        };
        assert_eq!(tt["b"].at.line, Some(4));
        let Value::Array(entries) = &t["aid"].value else {
            panic!()
        };
        assert_eq!(entries[0].at.line, Some(5));
    }

    #[test]
    fn keyed_arrays_merge_by_key() {
        let chain = chain_of(&[
            "[[aid]]\naid = \"A1\"\nx = 1\n[[aid]]\naid = \"A2\"\nx = 2\n",
            "[[aid]]\naid = \"a1\"\nx = 10\n[[aid]]\naid = \"A3\"\n[[aid]]\naid = \"A2\"\nremove = true\n",
        ]);
        let mut merged = BTreeMap::new();
        for i in 0..2 {
            let Value::Table(t) = parse(&chain, i).unwrap().value else {
                panic!()
            };
            merge_root(&chain, &mut merged, t).unwrap();
        }
        let Value::Array(entries) = &merged["aid"].value else {
            panic!()
        };
        let keys: Vec<_> = entries
            .iter()
            .map(|e| entry_key(e, &["aid"]).unwrap())
            .collect();
        assert_eq!(keys, ["A1", "A3"]);
        let Value::Table(first) = &entries[0].value else {
            panic!()
        };
        assert!(matches!(first["x"].value, Value::Integer(10)));
        assert_eq!(first["x"].at.source, 1);
    }

    #[test]
    fn duplicates_in_one_file_are_rejected() {
        let chain = chain_of(&["[[aid]]\naid = \"A1\"\n[[aid]]\naid = \"A1\"\n"]);
        let Value::Table(t) = parse(&chain, 0).unwrap().value else {
            panic!()
        };
        let err = merge_root(&chain, &mut BTreeMap::new(), t).unwrap_err();
        assert_eq!(err.line, Some(3));
        assert!(matches!(err.kind, ConfigErrorKind::Duplicate(_)));
    }
}
