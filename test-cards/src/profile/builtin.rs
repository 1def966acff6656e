//! The profiles shipped in `test-cards/profiles/`, compiled in so that
//! `emv card serve baseline` works from any directory.

/// (name, text) of every built-in profile.
const PROFILES: &[(&str, &str)] = &[
    ("baseline", include_str!("../../profiles/baseline.toml")),
    (
        "blocked-pin",
        include_str!("../../profiles/blocked-pin.toml"),
    ),
    ("expired", include_str!("../../profiles/expired.toml")),
    ("mc-cda", include_str!("../../profiles/mc-cda.toml")),
    (
        "pse-three-apps",
        include_str!("../../profiles/pse-three-apps.toml"),
    ),
    ("unknown-ca", include_str!("../../profiles/unknown-ca.toml")),
    (
        "visa-cvn10-sda",
        include_str!("../../profiles/visa-cvn10-sda.toml"),
    ),
    (
        "visa-cvn18-dda",
        include_str!("../../profiles/visa-cvn18-dda.toml"),
    ),
];

/// The text of a built-in profile.
pub fn text(name: &str) -> Option<&'static str> {
    PROFILES.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// The names of the built-in profiles.
pub fn names() -> Vec<&'static str> {
    PROFILES.iter().map(|(n, _)| *n).collect()
}
