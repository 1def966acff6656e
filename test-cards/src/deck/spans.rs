//! Where things are in a deck file: every key and array element of the
//! TOML text with its line, so that errors found after parsing (and errors
//! of the card-profile and terminal-configuration loaders, which see a
//! re-rendered block) can name the deck's own file, line and field.

use toml::de::{DeTable, DeValue};

/// One step of a path into the TOML tree.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Seg {
    /// A table key.
    Key(String),
    /// An array position (0-based).
    Index(usize),
}

/// A path of [`Seg`]s.
pub(crate) type Path = Vec<Seg>;

/// Builds a path from keys (`&["case"]`) quickly.
pub(crate) fn keys(keys: &[&str]) -> Path {
    keys.iter().map(|k| Seg::Key((*k).to_string())).collect()
}

/// Every key (and array element) of a text with its 1-based line.
#[derive(Debug, Clone, Default)]
pub(crate) struct Index {
    entries: Vec<(Path, usize)>,
}

/// 1-based line of byte `offset` in `text`.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()
        .get(..offset.min(text.len()))
        .map_or(1, |t| t.iter().filter(|&&b| b == b'\n').count() + 1)
}

impl Index {
    /// Indexes `text`; a text that does not parse gives an empty index (the
    /// parser's own error is reported instead).
    pub(crate) fn new(text: &str) -> Self {
        let mut entries = Vec::new();
        if let Ok(table) = DeTable::parse(text) {
            walk(table.get_ref(), text, &mut Vec::new(), &mut entries);
        }
        Self { entries }
    }

    /// The line of `path`, or of its longest prefix that has one.
    pub(crate) fn line(&self, path: &[Seg]) -> Option<usize> {
        (1..=path.len()).rev().find_map(|n| {
            let prefix = path.get(..n)?;
            self.entries
                .iter()
                .filter(|(p, _)| p.as_slice() == prefix)
                .map(|(_, l)| *l)
                .min()
        })
    }

    /// The deepest path set on `line`, else the last one before it.
    pub(crate) fn path_at(&self, line: usize) -> Path {
        let on_line = self
            .entries
            .iter()
            .filter(|(_, l)| *l == line)
            .max_by_key(|(p, _)| p.len());
        if let Some((p, _)) = on_line {
            return p.clone();
        }
        self.entries
            .iter()
            .filter(|(_, l)| *l < line)
            .max_by_key(|(p, l)| (*l, p.len()))
            .map(|(p, _)| p.clone())
            .unwrap_or_default()
    }
}

fn walk(table: &DeTable<'_>, text: &str, path: &mut Path, out: &mut Vec<(Path, usize)>) {
    for (key, value) in table {
        path.push(Seg::Key(key.get_ref().to_string()));
        let key_line = line_of(text, key.span().start);
        // A table header `[a.b]` names `a` on the header line too; the
        // value's own span is the better line for tables made by headers.
        out.push((path.clone(), key_line));
        match value.get_ref() {
            DeValue::Table(t) => walk(t, text, path, out),
            DeValue::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    path.push(Seg::Index(i));
                    out.push((path.clone(), line_of(text, item.span().start)));
                    if let DeValue::Table(t) = item.get_ref() {
                        walk(t, text, path, out);
                    }
                    path.pop();
                }
            }
            _ => {}
        }
        path.pop();
    }
}

/// Renders a path for messages: `case[CVM.001].transaction[2].expect.tvr`.
/// Cases are named by their `id` when `ids` knows it; other array
/// positions are 1-based.
pub(crate) fn render(path: &[Seg], ids: &[Option<String>]) -> String {
    let mut out = String::new();
    let mut previous: Option<&str> = None;
    for (n, seg) in path.iter().enumerate() {
        match seg {
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                if !k.is_empty()
                    && k.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                {
                    out.push_str(k);
                } else {
                    out.push_str(&format!("{k:?}"));
                }
                previous = Some(k);
            }
            Seg::Index(i) => {
                let id = (n == 1 && previous == Some("case"))
                    .then(|| ids.get(*i).cloned().flatten())
                    .flatten();
                match id {
                    Some(id) => out.push_str(&format!("[{id}]")),
                    None => out.push_str(&format!("[{}]", i + 1)),
                }
                previous = None;
            }
        }
    }
    out
}
