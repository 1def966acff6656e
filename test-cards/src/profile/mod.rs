//! Card profiles: TOML files that describe a simulated card, written the way
//! certification labs write card settings: a baseline card, and overlays
//! that state only their differences from it (`extends = "baseline"`).
//!
//! - [`schema`]: the profile's fields (documented for users in
//!   `docs/card-profiles.md`).
//! - [`load`]: reading files, resolving `extends` chains by deep merge,
//!   and errors that name file, line and field.
//! - [`values`]: how tag values are written (text for `a`/`an`/`ans`
//!   elements, hex otherwise) and the small typed value parsers.
//! - [`builtin`]: the profiles shipped in `test-cards/profiles/`, compiled
//!   in so the CLI works from any directory.

pub mod builtin;
pub mod load;
pub mod schema;
pub mod values;

pub use load::{ProfileError, load_file, load_str};
pub use schema::Profile;
