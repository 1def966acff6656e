//! The configurations shipped in `terminal/config/`, compiled in so that
//! `extends = "default"` and [`TerminalConfig::builtin`] work from any
//! directory.
//!
//! [`TerminalConfig::builtin`]: super::TerminalConfig::builtin

/// (name, text) of every built-in configuration.
const CONFIGS: &[(&str, &str)] = &[("default", include_str!("../../config/default.toml"))];

/// The text of the built-in configuration `name`.
#[must_use]
pub fn text(name: &str) -> Option<&'static str> {
    CONFIGS.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// The names of the built-in configurations.
#[must_use]
pub fn names() -> Vec<&'static str> {
    CONFIGS.iter().map(|(n, _)| *n).collect()
}
