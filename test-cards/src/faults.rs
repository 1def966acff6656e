//! Fault injection: [`FaultyCard`] wraps any [`Card`] and, following
//! [`FaultRule`]s, changes what the terminal receives — error status words,
//! malformed or odd TLV, slow answers, card removal (tearing) and the T=0
//! transport procedures `61xx` and `6Cxx`.
//!
//! # Rules
//!
//! A rule is a [`Match`] saying which commands it hits and a
//! [`FaultAction`]. The wrapped card processes every command exactly once;
//! the rules then rewrite its reply, in declaration order, each working on
//! the result of the one before. Counting:
//!
//! - `cla`, `ins`, `p1`, `p2`: header bytes the command must have (each
//!   optional);
//! - `occurrence`: fire only on the Nth command (1-based) that has those
//!   header bytes; absent: on every one;
//! - `command_index`: fire only on the Nth command (1-based) the card
//!   received since the wrapper was made.
//!
//! Counters survive power cycles, so a tearing rule hitting the first
//! GENERATE AC does not tear the retry after the card is reinserted.
//! Commands answered by the wrapper itself during a `61xx` or `6Cxx`
//! procedure (the GET RESPONSE, the re-sent command) are not counted and not
//! matched.
//!
//! # Actions
//!
//! Response data means the R-APDU without its status word. Actions that
//! rewrite data leave a reply without data unchanged, and leave a reply
//! whose data does not parse as they need unchanged.
//!
//! | TOML `action` | [`FaultAction`] | effect |
//! |---|---|---|
//! | `status`, `sw = "6A83"` | [`StatusWord`](FaultAction::StatusWord) | the reply is this status word alone, no data |
//! | `malformed_tlv` | [`MalformedTlv`](FaultAction::MalformedTlv) | the first data object's length is re-encoded one byte longer than all the data after its header |
//! | `truncate`, `bytes = N` | [`Truncate`](FaultAction::Truncate) | the last N data bytes are dropped; the status word stays |
//! | `over_long`, `bytes = N` | [`OverLong`](FaultAction::OverLong) | N junk bytes `FF` are appended to the data, before the status word |
//! | `duplicate_tag` | [`DuplicateTag`](FaultAction::DuplicateTag) | the first primitive object (depth first: the first one inside the template) appears twice in a row; the lengths of the templates around it grow to match |
//! | `wrong_record_template` | [`WrongRecordTemplate`](FaultAction::WrongRecordTemplate) | a `70` template becomes `77` (same length and content) |
//! | `cid`, `cid = "0A"` | [`Cid`](FaultAction::Cid) | a GENERATE AC response carries this Cryptogram Information Data (format 1: the first value byte of `80`; format 2: the value of `9F27`) |
//! | `delay`, `ms = N` | [`Delay`](FaultAction::Delay) | the reply comes N milliseconds late ([`Reply::Delayed`]) |
//! | `remove` | [`Remove`](FaultAction::Remove) | the card is pulled out: [`Reply::Removed`] |
//! | `t0_get_response` | [`T0GetResponse`](FaultAction::T0GetResponse) | the reply is `61xx` (xx = data length, `00` for 256); `00 C0 00 00 xx` then gets the real reply; GET RESPONSE with another Le gets `6Cxx` |
//! | `t0_wrong_le` | [`T0WrongLe`](FaultAction::T0WrongLe) | the reply is `6Cxx` (xx = data length); the same command re-sent with Le = xx gets the real reply |
//!
//! After `61xx` or `6Cxx` any other command than the expected one cancels
//! the procedure and goes to the card as usual.
//!
//! # TOML
//!
//! Rules deserialise from flat tables (hex values are strings; unknown keys,
//! unknown actions, bad hex, a parameter missing or given to an action that
//! takes none are errors naming the key). Card profiles list them as
//! `[[faults]]`; [`rules_from_toml`] reads such a list:
//!
//! ```toml
//! # The second READ RECORD of record 1 answers "record not found".
//! [[faults]]
//! ins = "B2"
//! p1 = "01"
//! occurrence = 2
//! action = "status"
//! sw = "6A83"
//!
//! # The card is pulled out during the first GENERATE AC.
//! [[faults]]
//! ins = "AE"
//! occurrence = 1
//! action = "remove"
//!
//! # The fifth command overall is answered 1.5 s late.
//! [[faults]]
//! command_index = 5
//! action = "delay"
//! ms = 1500
//! ```

use std::time::Duration;

use emv_kernel::wire::apdu::CommandApdu;
use emv_kernel::wire::tlv::{self, Mode, TlvIter};
use serde::{Deserialize, Serialize};

use crate::card::{Card, Reply};

/// Which commands a rule hits (see the module documentation). The default
/// matches every command.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawMatch", into = "RawMatch")]
pub struct Match {
    /// Required class byte.
    pub cla: Option<u8>,
    /// Required instruction byte.
    pub ins: Option<u8>,
    /// Required P1.
    pub p1: Option<u8>,
    /// Required P2.
    pub p2: Option<u8>,
    /// Only the Nth command (1-based) with the required header bytes;
    /// `None`: every one.
    pub occurrence: Option<usize>,
    /// Only the Nth command (1-based) the card receives.
    pub command_index: Option<usize>,
}

impl Match {
    /// Every command.
    #[must_use]
    pub const fn any() -> Self {
        Self {
            cla: None,
            ins: None,
            p1: None,
            p2: None,
            occurrence: None,
            command_index: None,
        }
    }

    /// Every command with this instruction byte.
    #[must_use]
    pub const fn ins(ins: u8) -> Self {
        Self {
            ins: Some(ins),
            ..Self::any()
        }
    }

    /// The same match also requiring this class byte.
    #[must_use]
    pub const fn with_cla(self, cla: u8) -> Self {
        Self {
            cla: Some(cla),
            ..self
        }
    }

    /// The same match also requiring this P1.
    #[must_use]
    pub const fn with_p1(self, p1: u8) -> Self {
        Self {
            p1: Some(p1),
            ..self
        }
    }

    /// The same match also requiring this P2.
    #[must_use]
    pub const fn with_p2(self, p2: u8) -> Self {
        Self {
            p2: Some(p2),
            ..self
        }
    }

    /// The same match restricted to the Nth matching command (1-based).
    #[must_use]
    pub const fn with_occurrence(self, n: usize) -> Self {
        Self {
            occurrence: Some(n),
            ..self
        }
    }

    /// The same match restricted to the Nth command overall (1-based).
    #[must_use]
    pub const fn with_command_index(self, n: usize) -> Self {
        Self {
            command_index: Some(n),
            ..self
        }
    }

    /// True when `command` has the required header bytes (occurrence and
    /// command index aside). A command shorter than its header matches
    /// only the header bytes it has.
    #[must_use]
    pub fn header_matches(&self, command: &[u8]) -> bool {
        [self.cla, self.ins, self.p1, self.p2]
            .iter()
            .enumerate()
            .all(|(i, want)| want.is_none_or(|w| command.get(i) == Some(&w)))
    }
}

/// What a rule does to the reply (see the table in the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawAction", into = "RawAction")]
pub enum FaultAction {
    /// Replace the reply by this status word, without data.
    StatusWord(u16),
    /// Make the first data object's length overrun the data.
    MalformedTlv,
    /// Drop this many bytes from the end of the data; keep the status word.
    Truncate(usize),
    /// Append this many junk bytes (`FF`) to the data, before the status
    /// word.
    OverLong(usize),
    /// Repeat the first primitive data object (a redundant primitive),
    /// adjusting the lengths of the templates around it.
    DuplicateTag,
    /// Re-tag a `70` record template as `77`.
    WrongRecordTemplate,
    /// Replace the Cryptogram Information Data of a GENERATE AC response.
    Cid(u8),
    /// Answer this much later.
    Delay(Duration),
    /// Tear: the card is removed while processing the command.
    Remove,
    /// T=0 case 4: answer `61xx`; serve the reply on GET RESPONSE.
    T0GetResponse,
    /// T=0 case 2: answer `6Cxx`; serve the reply when the command is re-sent
    /// with Le = xx.
    T0WrongLe,
}

/// One fault: which commands, and what happens to their replies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawRule", into = "RawRule")]
pub struct FaultRule {
    /// The commands the rule hits.
    pub when: Match,
    /// What happens to their replies.
    pub action: FaultAction,
}

impl FaultRule {
    /// A rule doing `action` on the commands `when` selects.
    #[must_use]
    pub const fn new(when: Match, action: FaultAction) -> Self {
        Self { when, action }
    }
}

/// Why a fault description is invalid. The messages name the TOML key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FaultSpecError {
    /// A hex field with the wrong number of digits or a non-hex character.
    #[error("field `{field}`: {value:?} is not {expected}")]
    BadHex {
        /// The key.
        field: &'static str,
        /// The value given.
        value: String,
        /// What was expected.
        expected: &'static str,
    },
    /// `occurrence` or `command_index` of 0 (they count from 1).
    #[error("field `{field}`: counts start at 1, 0 never matches")]
    ZeroCount {
        /// The key.
        field: &'static str,
    },
    /// An `action` name that is not known.
    #[error("field `action`: unknown action {name:?}; expected one of {}", ACTION_NAMES.join(", "))]
    UnknownAction {
        /// The name given.
        name: String,
    },
    /// An action without the parameter it needs.
    #[error("action `{action}` needs field `{field}`")]
    MissingField {
        /// The action.
        action: &'static str,
        /// The missing key.
        field: &'static str,
    },
    /// A parameter given to an action that does not take it.
    #[error("field `{field}` does not apply to action `{action}`")]
    UnexpectedField {
        /// The action.
        action: &'static str,
        /// The key that does not belong.
        field: &'static str,
    },
}

/// The TOML names of the actions.
pub const ACTION_NAMES: [&str; 11] = [
    "status",
    "cid",
    "malformed_tlv",
    "truncate",
    "over_long",
    "duplicate_tag",
    "wrong_record_template",
    "delay",
    "remove",
    "t0_get_response",
    "t0_wrong_le",
];

/// The serialised form of [`Match`]: hex bytes as strings.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cla: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ins: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    p1: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    p2: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    occurrence: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    command_index: Option<usize>,
}

/// The serialised form of [`FaultAction`]: a name and its parameter.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAction {
    action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sw: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    bytes: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ms: Option<u64>,
}

/// The serialised form of [`FaultRule`]: one flat table. (Not built with
/// `#[serde(flatten)]`, which cannot reject unknown keys.)
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cla: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ins: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    p1: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    p2: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    occurrence: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    command_index: Option<usize>,
    action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sw: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    bytes: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cid: Option<String>,
}

/// Exactly `digits` hex digits (upper or lower case).
fn hex_value(field: &'static str, value: &str, digits: usize) -> Result<u32, FaultSpecError> {
    let bad = || FaultSpecError::BadHex {
        field,
        value: value.to_owned(),
        expected: if digits == 2 {
            "one byte in hex (two digits, e.g. \"B2\")"
        } else {
            "a status word in hex (four digits, e.g. \"6A83\")"
        },
    };
    if value.len() != digits || !value.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(bad());
    }
    u32::from_str_radix(value, 16).map_err(|_| bad())
}

fn hex_byte(field: &'static str, value: Option<&str>) -> Result<Option<u8>, FaultSpecError> {
    value
        .map(|v| hex_value(field, v, 2).map(|n| n as u8))
        .transpose()
}

fn count(field: &'static str, value: Option<usize>) -> Result<Option<usize>, FaultSpecError> {
    match value {
        Some(0) => Err(FaultSpecError::ZeroCount { field }),
        other => Ok(other),
    }
}

impl TryFrom<RawMatch> for Match {
    type Error = FaultSpecError;

    fn try_from(raw: RawMatch) -> Result<Self, FaultSpecError> {
        Ok(Self {
            cla: hex_byte("cla", raw.cla.as_deref())?,
            ins: hex_byte("ins", raw.ins.as_deref())?,
            p1: hex_byte("p1", raw.p1.as_deref())?,
            p2: hex_byte("p2", raw.p2.as_deref())?,
            occurrence: count("occurrence", raw.occurrence)?,
            command_index: count("command_index", raw.command_index)?,
        })
    }
}

impl From<Match> for RawMatch {
    fn from(m: Match) -> Self {
        let hex = |b: Option<u8>| b.map(|b| format!("{b:02X}"));
        Self {
            cla: hex(m.cla),
            ins: hex(m.ins),
            p1: hex(m.p1),
            p2: hex(m.p2),
            occurrence: m.occurrence,
            command_index: m.command_index,
        }
    }
}

impl TryFrom<RawAction> for FaultAction {
    type Error = FaultSpecError;

    fn try_from(raw: RawAction) -> Result<Self, FaultSpecError> {
        let name = ACTION_NAMES
            .iter()
            .find(|n| **n == raw.action)
            .copied()
            .ok_or_else(|| FaultSpecError::UnknownAction {
                name: raw.action.clone(),
            })?;
        let (needs, given): (Option<&'static str>, [(&'static str, bool); 4]) = (
            match name {
                "status" => Some("sw"),
                "cid" => Some("cid"),
                "truncate" | "over_long" => Some("bytes"),
                "delay" => Some("ms"),
                _ => None,
            },
            [
                ("sw", raw.sw.is_some()),
                ("bytes", raw.bytes.is_some()),
                ("ms", raw.ms.is_some()),
                ("cid", raw.cid.is_some()),
            ],
        );
        for (field, present) in given {
            if present && needs != Some(field) {
                return Err(FaultSpecError::UnexpectedField {
                    action: name,
                    field,
                });
            }
        }
        let missing = |field| FaultSpecError::MissingField {
            action: name,
            field,
        };
        Ok(match name {
            "status" => {
                let sw = raw.sw.as_deref().ok_or_else(|| missing("sw"))?;
                Self::StatusWord(hex_value("sw", sw, 4)? as u16)
            }
            "cid" => {
                let cid = raw.cid.as_deref().ok_or_else(|| missing("cid"))?;
                Self::Cid(hex_value("cid", cid, 2)? as u8)
            }
            "truncate" => Self::Truncate(raw.bytes.ok_or_else(|| missing("bytes"))?),
            "over_long" => Self::OverLong(raw.bytes.ok_or_else(|| missing("bytes"))?),
            "delay" => Self::Delay(Duration::from_millis(raw.ms.ok_or_else(|| missing("ms"))?)),
            "malformed_tlv" => Self::MalformedTlv,
            "duplicate_tag" => Self::DuplicateTag,
            "wrong_record_template" => Self::WrongRecordTemplate,
            "remove" => Self::Remove,
            "t0_get_response" => Self::T0GetResponse,
            _ => Self::T0WrongLe,
        })
    }
}

impl From<FaultAction> for RawAction {
    fn from(a: FaultAction) -> Self {
        let named = |name: &str| Self {
            action: name.to_owned(),
            ..Self::default()
        };
        match a {
            FaultAction::StatusWord(sw) => Self {
                sw: Some(format!("{sw:04X}")),
                ..named("status")
            },
            FaultAction::MalformedTlv => named("malformed_tlv"),
            FaultAction::Truncate(n) => Self {
                bytes: Some(n),
                ..named("truncate")
            },
            FaultAction::OverLong(n) => Self {
                bytes: Some(n),
                ..named("over_long")
            },
            FaultAction::DuplicateTag => named("duplicate_tag"),
            FaultAction::WrongRecordTemplate => named("wrong_record_template"),
            FaultAction::Delay(d) => Self {
                ms: Some(u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
                ..named("delay")
            },
            FaultAction::Remove => named("remove"),
            FaultAction::Cid(cid) => Self {
                cid: Some(format!("{cid:02X}")),
                ..named("cid")
            },
            FaultAction::T0GetResponse => named("t0_get_response"),
            FaultAction::T0WrongLe => named("t0_wrong_le"),
        }
    }
}

impl TryFrom<RawRule> for FaultRule {
    type Error = FaultSpecError;

    fn try_from(raw: RawRule) -> Result<Self, FaultSpecError> {
        let when = Match::try_from(RawMatch {
            cla: raw.cla,
            ins: raw.ins,
            p1: raw.p1,
            p2: raw.p2,
            occurrence: raw.occurrence,
            command_index: raw.command_index,
        })?;
        let action = FaultAction::try_from(RawAction {
            action: raw.action,
            sw: raw.sw,
            bytes: raw.bytes,
            ms: raw.ms,
            cid: raw.cid,
        })?;
        Ok(Self { when, action })
    }
}

impl From<FaultRule> for RawRule {
    fn from(rule: FaultRule) -> Self {
        let m = RawMatch::from(rule.when);
        let a = RawAction::from(rule.action);
        Self {
            cla: m.cla,
            ins: m.ins,
            p1: m.p1,
            p2: m.p2,
            occurrence: m.occurrence,
            command_index: m.command_index,
            action: a.action,
            sw: a.sw,
            bytes: a.bytes,
            ms: a.ms,
            cid: a.cid,
        }
    }
}

/// A TOML document holding `[[faults]]` tables (other keys are ignored).
#[derive(Deserialize)]
struct FaultsDocument {
    #[serde(default)]
    faults: Vec<FaultRule>,
}

/// Reads the `[[faults]]` tables of a TOML document.
///
/// # Errors
/// The TOML error, which names the line and the key that is wrong.
pub fn rules_from_toml(text: &str) -> Result<Vec<FaultRule>, toml::de::Error> {
    toml::from_str::<FaultsDocument>(text).map(|d| d.faults)
}

/// A rule that fired: on which command, and which rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fired {
    /// The command's 1-based index (as [`Match::command_index`] counts).
    pub command_index: usize,
    /// Index of the rule in the list given to [`FaultyCard::new`].
    pub rule: usize,
}

/// A T=0 procedure in progress.
#[derive(Debug, Clone)]
enum Pending {
    /// `61xx` sent; GET RESPONSE gets this reply.
    GetResponse { reply: Vec<u8> },
    /// `6Cxx` sent; `command` re-sent with the right Le gets this reply.
    Resend { command: Vec<u8>, reply: Vec<u8> },
}

/// A [`Card`] whose replies are changed by [`FaultRule`]s.
#[derive(Debug, Clone)]
pub struct FaultyCard<C> {
    inner: C,
    rules: Vec<FaultRule>,
    /// Per rule: commands seen with the rule's header bytes.
    seen: Vec<usize>,
    commands: usize,
    pending: Option<Pending>,
    fired: Vec<Fired>,
}

impl<C: Card> FaultyCard<C> {
    /// Wraps `inner` with `rules`.
    pub fn new(inner: C, rules: impl Into<Vec<FaultRule>>) -> Self {
        let rules = rules.into();
        Self {
            seen: vec![0; rules.len()],
            inner,
            rules,
            commands: 0,
            pending: None,
            fired: Vec::new(),
        }
    }

    /// The wrapped card.
    #[must_use]
    pub fn inner(&self) -> &C {
        &self.inner
    }

    /// The wrapped card, mutably.
    #[must_use]
    pub fn inner_mut(&mut self) -> &mut C {
        &mut self.inner
    }

    /// Unwraps the card.
    #[must_use]
    pub fn into_inner(self) -> C {
        self.inner
    }

    /// The rules.
    #[must_use]
    pub fn rules(&self) -> &[FaultRule] {
        &self.rules
    }

    /// Every rule that fired, in order.
    #[must_use]
    pub fn fired(&self) -> &[Fired] {
        &self.fired
    }

    /// Commands counted so far (the last command's index).
    #[must_use]
    pub fn commands(&self) -> usize {
        self.commands
    }

    /// Answers `command` from a pending T=0 procedure, or cancels it.
    fn continue_t0(&mut self, command: &[u8]) -> Option<Reply> {
        match self.pending.take()? {
            Pending::GetResponse { reply } => {
                let &[0x00, 0xC0, 0x00, 0x00, le] = command else {
                    return None;
                };
                let want = le_byte(&reply);
                if le == want {
                    Some(Reply::Response(reply))
                } else {
                    self.pending = Some(Pending::GetResponse { reply });
                    Some(Reply::Response(vec![0x6C, want]))
                }
            }
            Pending::Resend {
                command: original,
                reply,
            } => {
                let (Ok((was, _)), Ok((now, _))) =
                    (CommandApdu::parse(&original), CommandApdu::parse(command))
                else {
                    return None;
                };
                let resent = (was.cla, was.ins, was.p1, was.p2, was.data)
                    == (now.cla, now.ins, now.p1, now.p2, now.data)
                    && now.le == Some(data_len(&reply));
                resent.then_some(Reply::Response(reply))
            }
        }
    }

    fn apply(&mut self, action: FaultAction, command: &[u8], reply: Reply) -> Reply {
        match action {
            FaultAction::Remove => Reply::Removed,
            FaultAction::Cid(cid) => map_data(reply, |data| {
                let mut out = data.to_vec();
                let at = match data {
                    // Format 1: 80 L CID ATC AC [IAD] (L below 128).
                    [0x80, _, ..] => 2,
                    // Format 2: the value of 9F27 inside the 77 template.
                    [0x77, ..] => data.windows(3).position(|w| w == [0x9F, 0x27, 0x01])? + 3,
                    _ => return None,
                };
                *out.get_mut(at)? = cid;
                Some(out)
            }),
            FaultAction::Delay(d) => match reply {
                Reply::Response(r) => Reply::Delayed(d, r),
                Reply::Delayed(d0, r) => Reply::Delayed(d0.saturating_add(d), r),
                Reply::Removed => Reply::Removed,
            },
            FaultAction::StatusWord(sw) => map_bytes(reply, |_| Some(sw.to_be_bytes().to_vec())),
            FaultAction::Truncate(n) => map_data(reply, |data| {
                let keep = data.len().saturating_sub(n);
                data.get(..keep).map(<[u8]>::to_vec)
            }),
            FaultAction::OverLong(n) => map_data(reply, |data| {
                let mut out = data.to_vec();
                out.resize(data.len() + n, 0xFF);
                Some(out)
            }),
            FaultAction::MalformedTlv => map_data(reply, malformed_tlv),
            FaultAction::DuplicateTag => map_data(reply, duplicate_first_primitive),
            FaultAction::WrongRecordTemplate => map_data(reply, |data| {
                // The first byte after any `00` padding is the tag; only the
                // tag byte is looked at, so this also works on data other
                // rules have already broken.
                let at = data.iter().position(|&b| b != 0x00)?;
                let mut out = data.to_vec();
                let tag = out.get_mut(at)?;
                if *tag != 0x70 {
                    return None;
                }
                *tag = 0x77;
                Some(out)
            }),
            FaultAction::T0GetResponse => map_bytes(reply, |r| {
                if data_len(r) == 0 {
                    return None;
                }
                let answer = vec![0x61, le_byte(r)];
                self.pending = Some(Pending::GetResponse { reply: r.to_vec() });
                Some(answer)
            }),
            FaultAction::T0WrongLe => map_bytes(reply, |r| {
                if data_len(r) == 0 || CommandApdu::parse(command).is_err() {
                    return None;
                }
                let answer = vec![0x6C, le_byte(r)];
                self.pending = Some(Pending::Resend {
                    command: command.to_vec(),
                    reply: r.to_vec(),
                });
                Some(answer)
            }),
        }
    }
}

/// Response data length of an R-APDU.
fn data_len(reply: &[u8]) -> usize {
    reply.len().saturating_sub(2)
}

/// The `xx` of `61xx`/`6Cxx` for this reply: its data length, `00` for 256.
fn le_byte(reply: &[u8]) -> u8 {
    (data_len(reply) % 256) as u8
}

/// Rewrites the R-APDU bytes of a reply; `None` from `f` leaves it as is.
fn map_bytes(reply: Reply, f: impl FnOnce(&[u8]) -> Option<Vec<u8>>) -> Reply {
    match reply {
        Reply::Response(r) => Reply::Response(f(&r).unwrap_or(r)),
        Reply::Delayed(d, r) => Reply::Delayed(d, f(&r).unwrap_or(r)),
        Reply::Removed => Reply::Removed,
    }
}

/// Rewrites the response data of a reply with data, keeping the status word.
fn map_data(reply: Reply, f: impl FnOnce(&[u8]) -> Option<Vec<u8>>) -> Reply {
    map_bytes(reply, |r| {
        let (data, sw) = r.split_at_checked(data_len(r))?;
        if data.is_empty() {
            return None;
        }
        let mut out = f(data)?;
        out.extend_from_slice(sw);
        Some(out)
    })
}

/// Appends a minimally encoded BER length.
fn push_length(out: &mut Vec<u8>, len: usize) {
    let be = (len as u32).to_be_bytes();
    match len {
        0..0x80 => out.push(be[3]),
        0x80..=0xFF => out.extend_from_slice(&[0x81, be[3]]),
        0x100..=0xFFFF => out.extend_from_slice(&[0x82, be[2], be[3]]),
        _ => out.extend_from_slice(&[0x83, be[1], be[2], be[3]]),
    }
}

/// The data with the first object's length one more than the bytes after
/// its header.
fn malformed_tlv(data: &[u8]) -> Option<Vec<u8>> {
    let (first, _) = tlv::parse_one(data, Mode::Lenient).ok()??;
    let start = first.offset();
    let after_header = data.get(start + first.header_len()..)?;
    let mut out = data.get(..start + first.tag().len())?.to_vec();
    push_length(&mut out, after_header.len() + 1);
    out.extend_from_slice(after_header);
    Some(out)
}

/// The TLV stream with its first primitive object (depth first) repeated,
/// and the lengths of the constructed objects holding it re-encoded.
fn duplicate_first_primitive(stream: &[u8]) -> Option<Vec<u8>> {
    duplicate_in(stream, 0)
}

fn duplicate_in(stream: &[u8], depth: usize) -> Option<Vec<u8>> {
    if depth > 16 {
        return None;
    }
    for object in TlvIter::new(stream, Mode::Lenient) {
        let object = object.ok()?;
        let start = object.offset();
        let end = start + object.encoded_len();
        let before = stream.get(..start)?;
        let after = stream.get(end..)?;
        let encoded = stream.get(start..end)?;
        if !object.is_constructed() {
            let mut out = before.to_vec();
            out.extend_from_slice(encoded);
            out.extend_from_slice(encoded);
            out.extend_from_slice(after);
            return Some(out);
        }
        if let Some(value) = duplicate_in(object.value(), depth + 1) {
            let mut out = before.to_vec();
            out.extend_from_slice(stream.get(start..start + object.tag().len())?);
            push_length(&mut out, value.len());
            out.extend_from_slice(&value);
            out.extend_from_slice(after);
            return Some(out);
        }
    }
    None
}

impl<C: Card> Card for FaultyCard<C> {
    fn atr(&self) -> Vec<u8> {
        self.inner.atr()
    }

    fn power_on(&mut self) {
        self.pending = None;
        self.inner.power_on();
    }

    fn power_off(&mut self) {
        self.pending = None;
        self.inner.power_off();
    }

    fn reset(&mut self) {
        self.pending = None;
        self.inner.reset();
    }

    fn transmit(&mut self, command: &[u8]) -> Reply {
        if let Some(reply) = self.continue_t0(command) {
            return reply;
        }
        self.commands += 1;
        let mut reply = self.inner.transmit(command);
        for i in 0..self.rules.len() {
            let (Some(rule), Some(seen)) = (self.rules.get(i).copied(), self.seen.get_mut(i))
            else {
                continue;
            };
            if !rule.when.header_matches(command) {
                continue;
            }
            *seen += 1;
            let fires = rule.when.occurrence.is_none_or(|n| n == *seen)
                && rule.when.command_index.is_none_or(|n| n == self.commands);
            if fires {
                self.fired.push(Fired {
                    command_index: self.commands,
                    rule: i,
                });
                reply = self.apply(rule.action, command, reply);
            }
        }
        reply
    }
}
