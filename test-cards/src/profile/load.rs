//! Loading profiles: files, `extends` chains, deep merge, and errors that
//! name file, line and field.
//!
//! A profile may say `extends = "NAME"`: the base is `NAME.toml` in the same
//! folder, or else the built-in profile of that name. The base is loaded
//! first (recursively, at most [`MAX_CHAIN`] deep, cycles rejected), then the
//! overlay is merged into it: tables merge key by key, every other value
//! (arrays included) replaces the base's.
//!
//! Every error names the file and line that set the offending field, found
//! again in the file that set it last in the chain.

use std::fmt;
use std::path::{Path, PathBuf};

use super::builtin;
use super::schema::Profile;

/// Longest `extends` chain.
pub const MAX_CHAIN: usize = 8;

/// A profile that could not be loaded or built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileError {
    /// The file at fault (`builtin:NAME` for compiled-in profiles).
    pub file: String,
    /// Its 1-based line, when known.
    pub line: Option<usize>,
    /// The field, as a dotted path (`app.visa.records."1.1"."5A"`); empty
    /// for whole-file problems.
    pub field: String,
    /// What was wrong.
    pub message: String,
}

impl fmt::Display for ProfileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if !self.field.is_empty() {
            write!(f, ": field {}", self.field)?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ProfileError {}

/// One file of a chain: its name for messages and its text.
#[derive(Debug, Clone)]
pub struct Source {
    /// Path or `builtin:NAME`.
    pub name: String,
    /// The file's text.
    pub text: String,
}

/// A loaded profile with the files it came from (base first), so later
/// checks can point at the right line.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The merged profile.
    pub profile: Profile,
    /// The chain, base first.
    pub sources: Vec<Source>,
}

impl Loaded {
    /// An error about `field` (dotted path segments), located in the file
    /// that set it last.
    pub fn error(&self, field: &[&str], message: impl Into<String>) -> ProfileError {
        locate(&self.sources, field, message.into())
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset.min(text.len()))
        .map_or(1, |t| t.bytes().filter(|&b| b == b'\n').count() + 1)
}

/// Splits a dotted TOML key (`a."1.1".b`) into segments.
fn split_key(key: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    for c in key.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => quote = Some(c),
            (None, '.') => out.push(std::mem::take(&mut cur)),
            (None, c) if c.is_whitespace() => {}
            (None, c) => cur.push(c),
        }
    }
    out.push(cur);
    out
}

/// For every `key = value` line and every `[table]` header of a TOML text:
/// (line, full dotted path).
fn key_lines(text: &str) -> Vec<(usize, Vec<String>)> {
    let mut out = Vec::new();
    let mut table: Vec<String> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.starts_with('[') {
            table = split_key(t.trim_start_matches('[').trim_end_matches(']'));
            out.push((i + 1, table.clone()));
        } else if let Some((k, _)) = t.split_once('=')
            && !t.starts_with('#')
        {
            let mut path = table.clone();
            path.extend(split_key(k));
            out.push((i + 1, path));
        }
    }
    out
}

fn render_path(path: &[String]) -> String {
    path.iter()
        .map(|s| {
            if s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                && !s.is_empty()
            {
                s.clone()
            } else {
                format!("\"{s}\"")
            }
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// Finds the last file in the chain that sets `field` (or the longest
/// prefix of it) and builds the error there.
pub fn locate(sources: &[Source], field: &[&str], message: String) -> ProfileError {
    let want: Vec<String> = field.iter().map(|s| (*s).to_string()).collect();
    let rendered = render_path(&want);
    for prefix_len in (1..=want.len()).rev() {
        let prefix = want.get(..prefix_len).unwrap_or_default();
        for source in sources.iter().rev() {
            if let Some((line, _)) = key_lines(&source.text)
                .into_iter()
                .find(|(_, p)| p.as_slice() == prefix)
            {
                return ProfileError {
                    file: source.name.clone(),
                    line: Some(line),
                    field: rendered,
                    message,
                };
            }
        }
    }
    ProfileError {
        file: sources.last().map_or_else(String::new, |s| s.name.clone()),
        line: None,
        field: rendered,
        message,
    }
}

fn merge(base: &mut toml::Table, overlay: toml::Table) {
    for (key, value) in overlay {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

fn parse_table(source: &Source) -> Result<toml::Table, ProfileError> {
    source
        .text
        .parse::<toml::Table>()
        .map_err(|e| ProfileError {
            file: source.name.clone(),
            line: e.span().map(|s| line_of(&source.text, s.start)),
            field: String::new(),
            message: e.message().to_string(),
        })
}

fn read_source(name: &str, dir: Option<&Path>, from: &Source) -> Result<Source, ProfileError> {
    if let Some(dir) = dir {
        let path = dir.join(format!("{name}.toml"));
        if path.is_file() {
            return read_path(&path);
        }
    }
    builtin::text(name)
        .map(|text| Source {
            name: format!("builtin:{name}"),
            text: text.to_string(),
        })
        .ok_or_else(|| {
            locate(
                std::slice::from_ref(from),
                &["extends"],
                format!(
                    "no profile {name:?}: not a file {name}.toml next to it, nor a built-in profile ({})",
                    builtin::names().join(", ")
                ),
            )
        })
}

fn read_path(path: &Path) -> Result<Source, ProfileError> {
    let text = std::fs::read_to_string(path).map_err(|e| ProfileError {
        file: path.display().to_string(),
        line: None,
        field: String::new(),
        message: format!("cannot read: {e}"),
    })?;
    Ok(Source {
        name: path.display().to_string(),
        text,
    })
}

fn resolve(top: Source, dir: Option<&Path>) -> Result<(toml::Table, Vec<Source>), ProfileError> {
    let mut chain = vec![top];
    let mut tables = Vec::new();
    while let Some(current) = chain.last() {
        let table = parse_table(current)?;
        let extends = match table.get("extends") {
            None => None,
            Some(toml::Value::String(s)) => Some(s.clone()),
            Some(_) => {
                return Err(locate(
                    std::slice::from_ref(current),
                    &["extends"],
                    "must be a profile name (a string)".into(),
                ));
            }
        };
        tables.push(table);
        let Some(base) = extends else {
            break;
        };
        if chain.len() >= MAX_CHAIN {
            return Err(locate(
                std::slice::from_ref(current),
                &["extends"],
                format!("extends chain longer than {MAX_CHAIN} profiles"),
            ));
        }
        let next = read_source(&base, dir, current)?;
        if chain.iter().any(|s| s.name == next.name) {
            return Err(locate(
                std::slice::from_ref(current),
                &["extends"],
                format!("extends cycle through {}", next.name),
            ));
        }
        chain.push(next);
    }
    chain.reverse();
    tables.reverse();
    let mut merged = toml::Table::new();
    for table in tables {
        merge(&mut merged, table);
    }
    Ok((merged, chain))
}

fn deserialize(merged: toml::Table, sources: Vec<Source>) -> Result<Loaded, ProfileError> {
    // Deserialise from text so the error carries a span; map the span back
    // to the field and from the field to the file that set it.
    let text = toml::to_string(&merged).map_err(|e| ProfileError {
        file: sources.last().map_or_else(String::new, |s| s.name.clone()),
        line: None,
        field: String::new(),
        message: e.to_string(),
    })?;
    match toml::from_str::<Profile>(&text) {
        Ok(profile) => Ok(Loaded { profile, sources }),
        Err(e) => {
            let line = e.span().map(|s| line_of(&text, s.start));
            let path = line
                .and_then(|l| key_lines(&text).into_iter().rfind(|(k, _)| *k <= l))
                .map(|(_, p)| p)
                .unwrap_or_default();
            let refs: Vec<&str> = path.iter().map(String::as_str).collect();
            Err(locate(&sources, &refs, e.message().to_string()))
        }
    }
}

/// Loads a profile file and the chain it extends.
pub fn load_file(path: &Path) -> Result<Loaded, ProfileError> {
    let top = read_path(path)?;
    let (merged, sources) = resolve(top, path.parent())?;
    deserialize(merged, sources)
}

/// Loads a profile from text (`name` is used in messages); `extends`
/// resolves to files in `dir`, then to built-in profiles.
pub fn load_str(name: &str, text: &str, dir: Option<&Path>) -> Result<Loaded, ProfileError> {
    let top = Source {
        name: name.to_string(),
        text: text.to_string(),
    };
    let (merged, sources) = resolve(top, dir)?;
    deserialize(merged, sources)
}

/// Loads a built-in profile by name.
pub fn load_builtin(name: &str) -> Result<Loaded, ProfileError> {
    let text = builtin::text(name).ok_or_else(|| ProfileError {
        file: format!("builtin:{name}"),
        line: None,
        field: String::new(),
        message: format!(
            "no built-in profile {name:?} (have: {})",
            builtin::names().join(", ")
        ),
    })?;
    load_str(&format!("builtin:{name}"), text, None)
}

/// Loads `spec`: a path to a `.toml` file, or a built-in profile name.
pub fn load(spec: &str) -> Result<Loaded, ProfileError> {
    let path = PathBuf::from(spec);
    if path.extension().is_some_and(|e| e == "toml") || path.is_file() {
        load_file(&path)
    } else {
        load_builtin(spec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_tables_are_located() {
        let text =
            "name = \"x\"\n[app.visa]\naid = \"A0\"\n[app.visa.records.\"1.1\"]\n\"5A\" = \"47\"\n";
        let lines = key_lines(text);
        assert!(lines.contains(&(3, vec!["app".into(), "visa".into(), "aid".into()])));
        assert!(lines.contains(&(
            5,
            vec![
                "app".into(),
                "visa".into(),
                "records".into(),
                "1.1".into(),
                "5A".into()
            ]
        )));
    }

    #[test]
    fn merge_is_deep_and_replaces_leaves() {
        let mut base: toml::Table = "[a]\nx = 1\ny = [1]\n[a.b]\nz = 1\n".parse().unwrap();
        let overlay: toml::Table = "[a]\ny = [2]\n[a.b]\nw = 2\n".parse().unwrap();
        merge(&mut base, overlay);
        let expected: toml::Table = "[a]\nx = 1\ny = [2]\n[a.b]\nz = 1\nw = 2\n"
            .parse()
            .unwrap();
        assert_eq!(base, expected);
    }
}
