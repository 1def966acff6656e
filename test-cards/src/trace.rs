//! APDU traces: recorded command/response exchanges between a terminal and a
//! card, read from three text formats and written in the project's own.
//!
//! A [`Trace`] is a list of [`Exchange`]s: a C-APDU (ISO/IEC 7816-4 §5.1:
//! header, optional Lc and data, optional Le), the R-APDU the card answered
//! (response data ‖ SW1 SW2), or no response when none was recorded, and
//! the line of the file the command came from. [`Trace::parse`] recognises
//! the format by its first meaningful line; [`Trace::parse_as`] takes it
//! from the caller.
//!
//! # Project format ([`TraceFormat::Project`])
//!
//! Text, one APDU per line: `>` then the C-APDU in hex, `<` then the
//! R-APDU in hex. Hex is upper or lower case and may contain spaces and
//! tabs between bytes (not inside one). `#` starts a comment, on its own
//! line or after an APDU; blank lines are ignored. A `<` line answers the
//! `>` line before it; a `>` line with no `<` line after it is an exchange
//! without a recorded response. [`Trace::to_project_format`] writes this
//! format, with a comment naming each instruction:
//!
//! ```text
//! # SELECT
//! > 00 A4 04 00 07 A0000000031010 00
//! < 6F168407A0000000031010A50B5009564953412054455354 9000
//! # READ RECORD
//! > 00 B2 01 0C 00
//! < 6A83
//! ```
//!
//! # Alternating-lines format ([`TraceFormat::Alternating`])
//!
//! The format of public trace collections (`vectors/traces/binaryfoo`):
//! one APDU per line in hex, a C-APDU followed by its R-APDU. The files
//! are not strictly alternating (`vectors/README.md`), so each line is
//! classified by its content: it is a command when it reads as an EMV
//! C-APDU ([`looks_like_command`]: CLA `00`, `80`, `84`, `0C` or `8C`, an
//! instruction EMV names, and length fields consistent with the line's
//! length); otherwise it is the response to the command before it. A
//! command followed directly by another command has no recorded response.
//! A line of only zero bytes (`00000000`, a placeholder some recorders
//! write for a missing response) closes the pending command without a
//! response. `#` comments and blank lines are ignored, as in the project
//! format; a missing final newline is fine.
//!
//! ```text
//! 00a4040007a000000003101000
//! 6f168407a0000000031010a50b50095649534120544553549000
//! 80a8000002830000
//! 00b2010c00
//! 00000000
//! ```
//!
//! Here the GET PROCESSING OPTIONS command and the READ RECORD command have
//! no recorded response.
//!
//! # JSON mock format ([`TraceFormat::JsonMock`])
//!
//! The scripted-card files of `vectors/traces/k2-k3-mocks`: a JSON object
//! whose `apdus` member lists `{"cmd": "<C-APDU hex>", "resp": "<R-APDU
//! hex>"}` objects (a missing `resp` means no recorded response). Other
//! members (`not-found`, `randoms`, `date`, …) are ignored. A small JSON
//! reader in this module parses it, so no JSON library is needed at run
//! time; an exchange's line is the line of its `cmd` string.
//!
//! # Errors
//!
//! Every [`TraceError::Syntax`] names the file, the 1-based line, what was
//! wrong and the offending text, as `file:line: problem: \`text\``.

use std::fmt::{self, Write as _};
use std::path::Path;

use emv_kernel::wire::apdu::ins::instruction_name;
use emv_kernel::wire::apdu::{CommandApdu, Encoding};

/// One recorded exchange: a command and the card's response, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    /// The C-APDU as sent.
    pub command: Vec<u8>,
    /// The R-APDU (response data ‖ SW1 SW2), or `None` when the trace has
    /// no response for this command.
    pub response: Option<Vec<u8>>,
    /// 1-based line of the command in the file it was read from (0 for
    /// exchanges built in code).
    pub line: usize,
}

/// A recorded APDU trace.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trace {
    /// The exchanges in the order they happened.
    pub exchanges: Vec<Exchange>,
}

/// The text formats a trace can be read from (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraceFormat {
    /// `> C-APDU` / `< R-APDU` lines.
    Project,
    /// One APDU per line, commands recognised by their header.
    Alternating,
    /// A JSON object with an `apdus` list of `cmd`/`resp` pairs.
    JsonMock,
}

impl TraceFormat {
    /// Guesses the format of `text`: JSON when it starts with `{`, the
    /// project format when its first line that is neither blank nor a
    /// comment starts with `>` or `<`, the alternating format otherwise.
    #[must_use]
    pub fn detect(text: &str) -> Self {
        if text.trim_start().starts_with('{') {
            return Self::JsonMock;
        }
        let first = text
            .lines()
            .map(strip_comment)
            .map(str::trim)
            .find(|l| !l.is_empty());
        match first {
            Some(l) if l.starts_with('>') || l.starts_with('<') => Self::Project,
            _ => Self::Alternating,
        }
    }
}

/// What was wrong with a line of a trace file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TraceProblem {
    /// A character that is neither a hex digit nor a space or tab.
    #[error("column {column}: {found:?} is not a hex digit")]
    BadHexDigit {
        /// 1-based column of the character in the line.
        column: usize,
        /// The character.
        found: char,
    },
    /// A byte split by a space, or an odd number of hex digits.
    #[error("column {column}: lone hex digit (a byte needs two digits)")]
    LoneHexDigit {
        /// 1-based column of the digit in the line.
        column: usize,
    },
    /// A C-APDU shorter than its 4-byte header.
    #[error("a C-APDU needs at least the 4 header bytes, found {len}")]
    CommandTooShort {
        /// Bytes present.
        len: usize,
    },
    /// An R-APDU shorter than its 2-byte status word.
    #[error("an R-APDU needs at least SW1 SW2, found {len} bytes")]
    ResponseTooShort {
        /// Bytes present.
        len: usize,
    },
    /// A response with no command waiting for it.
    #[error("R-APDU with no C-APDU before it")]
    ResponseWithoutCommand,
    /// A line of the project format that is not an APDU, comment or blank.
    #[error("expected `> C-APDU`, `< R-APDU`, a `#` comment or a blank line")]
    UnknownLine,
    /// A line of the alternating format that does not read as a C-APDU
    /// where one is expected (the command before already has its response).
    #[error(
        "not a C-APDU (CLA 00/80/84/0C/8C, a known INS, consistent lengths), \
         and no command is waiting for a response"
    )]
    NotACommand,
    /// The JSON text is not well formed.
    #[error("JSON: {0}")]
    Json(String),
    /// Well-formed JSON that is not a mock (missing `apdus`, `cmd` not a
    /// string, …).
    #[error("mock: {0}")]
    Mock(String),
}

/// Why a trace could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TraceError {
    /// The file could not be read.
    #[error("{path}: cannot read trace: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A line of the file is wrong.
    #[error("{file}:{line}: {problem}: `{text}`")]
    Syntax {
        /// The file (or the source name given to [`Trace::parse`]).
        file: String,
        /// 1-based line number.
        line: usize,
        /// What was wrong.
        problem: TraceProblem,
        /// The offending line, trimmed and shortened to 64 characters.
        text: String,
    },
}

impl TraceError {
    /// The line the error is on (`None` for I/O errors).
    #[must_use]
    pub fn line(&self) -> Option<usize> {
        match self {
            Self::Io { .. } => None,
            Self::Syntax { line, .. } => Some(*line),
        }
    }

    /// What was wrong with the line (`None` for I/O errors).
    #[must_use]
    pub fn problem(&self) -> Option<&TraceProblem> {
        match self {
            Self::Io { .. } => None,
            Self::Syntax { problem, .. } => Some(problem),
        }
    }
}

/// True when `bytes` reads as an EMV C-APDU: CLA `00`, `80`, `84`, `0C` or
/// `8C`, an instruction [`instruction_name`] knows, and length fields that
/// [`CommandApdu::parse`] accepts. Used to tell commands from responses in
/// the alternating-lines format.
#[must_use]
pub fn looks_like_command(bytes: &[u8]) -> bool {
    let (Some(&cla), Some(&ins)) = (bytes.first(), bytes.get(1)) else {
        return false;
    };
    matches!(cla, 0x00 | 0x80 | 0x84 | 0x0C | 0x8C)
        && instruction_name(cla, ins).is_some()
        && CommandApdu::parse(bytes).is_ok()
}

impl Trace {
    /// Parses a trace, detecting its format with [`TraceFormat::detect`].
    /// `source_name` (usually the file name) appears in errors.
    ///
    /// # Errors
    /// [`TraceError::Syntax`] for the first line that is wrong.
    ///
    /// ```
    /// use emv_test_cards::trace::Trace;
    ///
    /// let trace = Trace::parse("> 00 B2 01 0C 00\n< 6A83\n", "example.trace").unwrap();
    /// assert_eq!(trace.exchanges[0].response.as_deref(), Some(&[0x6A, 0x83][..]));
    /// ```
    pub fn parse(text: &str, source_name: &str) -> Result<Self, TraceError> {
        Self::parse_as(text, source_name, TraceFormat::detect(text))
    }

    /// Parses a trace in the given format.
    ///
    /// # Errors
    /// [`TraceError::Syntax`] for the first line that is wrong.
    pub fn parse_as(
        text: &str,
        source_name: &str,
        format: TraceFormat,
    ) -> Result<Self, TraceError> {
        let result = match format {
            TraceFormat::Project => parse_project(text),
            TraceFormat::Alternating => parse_alternating(text),
            TraceFormat::JsonMock => parse_json_mock(text),
        };
        result.map_err(|e| TraceError::Syntax {
            file: source_name.to_owned(),
            line: e.line,
            text: excerpt(text.lines().nth(e.line.saturating_sub(1)).unwrap_or("")),
            problem: e.problem,
        })
    }

    /// Reads and parses a trace file; errors name the file as given.
    ///
    /// # Errors
    /// [`TraceError::Io`] when the file cannot be read, [`TraceError::Syntax`]
    /// when a line is wrong.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, TraceError> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| TraceError::Io {
            path: name.clone(),
            source,
        })?;
        Self::parse(&text, &name)
    }

    /// The trace in the project format, each exchange preceded by a comment
    /// naming its instruction. Parsing the result gives the same commands
    /// and responses (the line numbers are those of the new text).
    #[must_use]
    pub fn to_project_format(&self) -> String {
        let mut out = String::from("# APDU trace (emv-test-cards project format)\n");
        for e in &self.exchanges {
            let name = match (e.command.first(), e.command.get(1)) {
                (Some(&cla), Some(&ins)) => instruction_name(cla, ins)
                    .map_or_else(|| format!("INS {ins:02X}"), str::to_owned),
                _ => "malformed command".to_owned(),
            };
            let missing = if e.response.is_none() {
                " (no response recorded)"
            } else {
                ""
            };
            let _ = writeln!(out, "# {name}{missing}");
            let _ = writeln!(out, "> {}", CommandHex(&e.command));
            if let Some(r) = &e.response {
                let _ = writeln!(out, "< {}", ResponseHex(r));
            }
        }
        out
    }
}

/// A C-APDU written as header bytes, then Lc, data and Le as groups.
struct CommandHex<'a>(&'a [u8]);

impl fmt::Display for CommandHex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some((header, body)) = self.0.split_at_checked(4) else {
            return f.write_str(&hex::encode_upper(self.0));
        };
        for (i, b) in header.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{b:02X}")?;
        }
        match CommandApdu::parse(self.0) {
            Ok((c, encoding)) if !c.data.is_empty() => {
                let le_len = match (c.le, encoding) {
                    (None, _) => 0,
                    (Some(_), Encoding::Extended) => 2,
                    (Some(_), _) => 1,
                };
                let data_start = body.len().saturating_sub(c.data.len() + le_len);
                let (lc, rest) = body.split_at(data_start);
                let (data, le) = rest.split_at(c.data.len().min(rest.len()));
                write!(f, " {}", hex::encode_upper(lc))?;
                write!(f, " {}", hex::encode_upper(data))?;
                if !le.is_empty() {
                    write!(f, " {}", hex::encode_upper(le))?;
                }
                Ok(())
            }
            _ if body.is_empty() => Ok(()),
            _ => write!(f, " {}", hex::encode_upper(body)),
        }
    }
}

/// An R-APDU written as data, a space, and the status word.
struct ResponseHex<'a>(&'a [u8]);

impl fmt::Display for ResponseHex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.split_at_checked(self.0.len().saturating_sub(2)) {
            Some((data, sw)) if !data.is_empty() => {
                write!(f, "{} {}", hex::encode_upper(data), hex::encode_upper(sw))
            }
            _ => f.write_str(&hex::encode_upper(self.0)),
        }
    }
}

/// A problem on a line, before the file name is attached.
struct LineError {
    line: usize,
    problem: TraceProblem,
}

impl LineError {
    fn new(line: usize, problem: TraceProblem) -> Self {
        Self { line, problem }
    }
}

/// The line, trimmed, cut to 64 characters for error messages.
fn excerpt(line: &str) -> String {
    let line = line.trim();
    if line.chars().count() <= 64 {
        line.to_owned()
    } else {
        let mut s: String = line.chars().take(64).collect();
        s.push('…');
        s
    }
}

/// The line without a trailing `#` comment.
fn strip_comment(line: &str) -> &str {
    line.split_once('#').map_or(line, |(before, _)| before)
}

/// Decodes hex with optional spaces and tabs between bytes. `column0` is
/// the 0-based column of `text` in its line, for error positions.
fn decode_hex(text: &str, column0: usize) -> Result<Vec<u8>, TraceProblem> {
    let mut out = Vec::with_capacity(text.len() / 2);
    let mut high: Option<(usize, u8)> = None;
    for (i, c) in text.chars().enumerate() {
        let column = column0 + i + 1;
        if let Some(d) = c.to_digit(16) {
            let d = d as u8;
            match high.take() {
                None => high = Some((column, d)),
                Some((_, h)) => out.push(h << 4 | d),
            }
        } else if c == ' ' || c == '\t' {
            if let Some((column, _)) = high {
                return Err(TraceProblem::LoneHexDigit { column });
            }
        } else {
            return Err(TraceProblem::BadHexDigit { column, found: c });
        }
    }
    match high {
        Some((column, _)) => Err(TraceProblem::LoneHexDigit { column }),
        None => Ok(out),
    }
}

/// Meaningful lines: 1-based number, the 0-based column where the content
/// starts, and the content without comment and surrounding blanks.
fn content_lines(text: &str) -> impl Iterator<Item = (usize, usize, &str)> {
    text.lines().enumerate().filter_map(|(i, raw)| {
        let body = strip_comment(raw);
        let trimmed = body.trim();
        if trimmed.is_empty() {
            return None;
        }
        let column0 = body.len() - body.trim_start().len();
        Some((i + 1, column0, trimmed))
    })
}

fn check_command(bytes: Vec<u8>, line: usize) -> Result<Vec<u8>, LineError> {
    if bytes.len() < 4 {
        return Err(LineError::new(
            line,
            TraceProblem::CommandTooShort { len: bytes.len() },
        ));
    }
    Ok(bytes)
}

fn check_response(bytes: Vec<u8>, line: usize) -> Result<Vec<u8>, LineError> {
    if bytes.len() < 2 {
        return Err(LineError::new(
            line,
            TraceProblem::ResponseTooShort { len: bytes.len() },
        ));
    }
    Ok(bytes)
}

fn parse_project(text: &str) -> Result<Trace, LineError> {
    let mut trace = Trace::default();
    // True while the last exchange has no response and can take one.
    let mut open = false;
    for (line, column0, content) in content_lines(text) {
        let mut chars = content.chars();
        let marker = chars.next();
        let hex_text = chars.as_str();
        let hex_column = column0 + 1;
        let at = |problem| LineError::new(line, problem);
        match marker {
            Some('>') => {
                let bytes = decode_hex(hex_text, hex_column).map_err(at)?;
                let command = check_command(bytes, line)?;
                trace.exchanges.push(Exchange {
                    command,
                    response: None,
                    line,
                });
                open = true;
            }
            Some('<') => {
                let bytes = decode_hex(hex_text, hex_column).map_err(at)?;
                let response = check_response(bytes, line)?;
                match trace.exchanges.last_mut() {
                    Some(e) if open => e.response = Some(response),
                    _ => return Err(at(TraceProblem::ResponseWithoutCommand)),
                }
                open = false;
            }
            _ => return Err(at(TraceProblem::UnknownLine)),
        }
    }
    Ok(trace)
}

fn parse_alternating(text: &str) -> Result<Trace, LineError> {
    let mut trace = Trace::default();
    let mut open = false;
    for (line, column0, content) in content_lines(text) {
        let bytes = decode_hex(content, column0).map_err(|p| LineError::new(line, p))?;
        if looks_like_command(&bytes) {
            trace.exchanges.push(Exchange {
                command: bytes,
                response: None,
                line,
            });
            open = true;
            continue;
        }
        let last = match trace.exchanges.last_mut() {
            Some(e) if open => e,
            _ => return Err(LineError::new(line, TraceProblem::NotACommand)),
        };
        open = false;
        if !bytes.is_empty() && bytes.iter().all(|&b| b == 0) {
            // Placeholder for a response the recorder did not keep.
            continue;
        }
        last.response = Some(check_response(bytes, line)?);
    }
    Ok(trace)
}

fn parse_json_mock(text: &str) -> Result<Trace, LineError> {
    let root = json::parse(text)?;
    let shape = |line, what: &str| LineError::new(line, TraceProblem::Mock(what.to_owned()));
    let json::Kind::Object(members) = &root.kind else {
        return Err(shape(root.line, "the top level is not a JSON object"));
    };
    let apdus =
        json::member(members, "apdus").ok_or_else(|| shape(root.line, "no `apdus` member"))?;
    let json::Kind::Array(items) = &apdus.kind else {
        return Err(shape(apdus.line, "`apdus` is not a list"));
    };
    let mut trace = Trace::default();
    for item in items {
        let json::Kind::Object(fields) = &item.kind else {
            return Err(shape(item.line, "an `apdus` entry is not an object"));
        };
        let cmd = json::member(fields, "cmd")
            .ok_or_else(|| shape(item.line, "an `apdus` entry has no `cmd`"))?;
        let json::Kind::String(cmd_text) = &cmd.kind else {
            return Err(shape(cmd.line, "`cmd` is not a string"));
        };
        let bytes = decode_hex(cmd_text, cmd.column).map_err(|p| LineError::new(cmd.line, p))?;
        let command = check_command(bytes, cmd.line)?;
        let response = match json::member(fields, "resp") {
            None => None,
            Some(resp) => {
                let json::Kind::String(resp_text) = &resp.kind else {
                    return Err(shape(resp.line, "`resp` is not a string"));
                };
                let bytes =
                    decode_hex(resp_text, resp.column).map_err(|p| LineError::new(resp.line, p))?;
                Some(check_response(bytes, resp.line)?)
            }
        };
        trace.exchanges.push(Exchange {
            command,
            response,
            line: cmd.line,
        });
    }
    Ok(trace)
}

/// A minimal JSON reader (RFC 8259) keeping the line of every value: enough
/// for the mock files, without a JSON dependency at run time.
mod json {
    use super::{LineError, TraceProblem};

    /// Nesting limit, so hostile input cannot exhaust the stack.
    const MAX_DEPTH: usize = 64;

    pub(super) struct Value {
        /// 1-based line where the value starts.
        pub(super) line: usize,
        /// 0-based column just inside the value (after the opening quote
        /// for strings), for hex error positions.
        pub(super) column: usize,
        pub(super) kind: Kind,
    }

    pub(super) enum Kind {
        Null,
        Bool,
        Number,
        String(String),
        Array(Vec<Value>),
        Object(Vec<(String, Value)>),
    }

    /// The first member named `name`.
    pub(super) fn member<'a>(members: &'a [(String, Value)], name: &str) -> Option<&'a Value> {
        members.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    pub(super) fn parse(text: &str) -> Result<Value, LineError> {
        let mut p = Parser {
            bytes: text.as_bytes(),
            pos: 0,
            line: 1,
            line_start: 0,
            last_line: text.lines().count().max(1),
        };
        p.skip_ws();
        let v = p.value(0)?;
        p.skip_ws();
        if p.pos < p.bytes.len() {
            return Err(p.error("text after the JSON value"));
        }
        Ok(v)
    }

    struct Parser<'a> {
        bytes: &'a [u8],
        pos: usize,
        line: usize,
        line_start: usize,
        last_line: usize,
    }

    impl Parser<'_> {
        fn error(&self, what: &str) -> LineError {
            // At the end of the text, blame its last line rather than the
            // empty one after a final newline.
            let line = if self.pos >= self.bytes.len() {
                self.last_line
            } else {
                self.line
            };
            LineError::new(line, TraceProblem::Json(what.to_owned()))
        }

        fn peek(&self) -> Option<u8> {
            self.bytes.get(self.pos).copied()
        }

        fn bump(&mut self) -> Option<u8> {
            let b = self.peek()?;
            self.pos += 1;
            if b == b'\n' {
                self.line += 1;
                self.line_start = self.pos;
            }
            Some(b)
        }

        fn skip_ws(&mut self) {
            while matches!(self.peek(), Some(b' ' | b'\t' | b'\r' | b'\n')) {
                self.bump();
            }
        }

        fn expect(&mut self, b: u8) -> Result<(), LineError> {
            if self.bump() == Some(b) {
                Ok(())
            } else {
                Err(self.error(&format!("expected `{}`", char::from(b))))
            }
        }

        fn literal(&mut self, word: &str) -> Result<(), LineError> {
            for &b in word.as_bytes() {
                if self.bump() != Some(b) {
                    return Err(self.error(&format!("expected `{word}`")));
                }
            }
            Ok(())
        }

        fn value(&mut self, depth: usize) -> Result<Value, LineError> {
            if depth > MAX_DEPTH {
                return Err(self.error("nested too deeply"));
            }
            let line = self.line;
            let column = self.pos - self.line_start;
            let kind = match self.peek() {
                Some(b'{') => self.object(depth)?,
                Some(b'[') => self.array(depth)?,
                Some(b'"') => {
                    return Ok(Value {
                        line,
                        column: column + 1,
                        kind: Kind::String(self.string()?),
                    });
                }
                Some(b't') => {
                    self.literal("true")?;
                    Kind::Bool
                }
                Some(b'f') => {
                    self.literal("false")?;
                    Kind::Bool
                }
                Some(b'n') => {
                    self.literal("null")?;
                    Kind::Null
                }
                Some(b'-' | b'0'..=b'9') => {
                    self.number()?;
                    Kind::Number
                }
                Some(_) => return Err(self.error("expected a value")),
                None => return Err(self.error("unexpected end of text")),
            };
            Ok(Value { line, column, kind })
        }

        fn object(&mut self, depth: usize) -> Result<Kind, LineError> {
            self.expect(b'{')?;
            let mut members = Vec::new();
            self.skip_ws();
            if self.peek() == Some(b'}') {
                self.bump();
                return Ok(Kind::Object(members));
            }
            loop {
                self.skip_ws();
                if self.peek() != Some(b'"') {
                    return Err(self.error("expected a member name in quotes"));
                }
                let name = self.string()?;
                self.skip_ws();
                self.expect(b':')?;
                self.skip_ws();
                let v = self.value(depth + 1)?;
                members.push((name, v));
                self.skip_ws();
                match self.bump() {
                    Some(b',') => {}
                    Some(b'}') => return Ok(Kind::Object(members)),
                    _ => return Err(self.error("expected `,` or `}` after a member")),
                }
            }
        }

        fn array(&mut self, depth: usize) -> Result<Kind, LineError> {
            self.expect(b'[')?;
            let mut items = Vec::new();
            self.skip_ws();
            if self.peek() == Some(b']') {
                self.bump();
                return Ok(Kind::Array(items));
            }
            loop {
                self.skip_ws();
                items.push(self.value(depth + 1)?);
                self.skip_ws();
                match self.bump() {
                    Some(b',') => {}
                    Some(b']') => return Ok(Kind::Array(items)),
                    _ => return Err(self.error("expected `,` or `]` after a list item")),
                }
            }
        }

        fn number(&mut self) -> Result<(), LineError> {
            let start = self.pos;
            while matches!(
                self.peek(),
                Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
            ) {
                self.bump();
            }
            let text = self.bytes.get(start..self.pos).unwrap_or_default();
            let valid = std::str::from_utf8(text)
                .ok()
                .is_some_and(|t| t.parse::<f64>().is_ok());
            if valid {
                Ok(())
            } else {
                Err(self.error("malformed number"))
            }
        }

        fn hex4(&mut self) -> Result<u32, LineError> {
            let mut v = 0;
            for _ in 0..4 {
                let d = self
                    .bump()
                    .and_then(|b| char::from(b).to_digit(16))
                    .ok_or_else(|| self.error("`\\u` needs four hex digits"))?;
                v = v << 4 | d;
            }
            Ok(v)
        }

        fn string(&mut self) -> Result<String, LineError> {
            self.expect(b'"')?;
            let mut out: Vec<u8> = Vec::new();
            loop {
                match self.bump() {
                    None => return Err(self.error("unterminated string")),
                    Some(b'"') => break,
                    Some(b'\\') => {
                        let c = match self.bump() {
                            Some(b'"') => '"',
                            Some(b'\\') => '\\',
                            Some(b'/') => '/',
                            Some(b'b') => '\u{8}',
                            Some(b'f') => '\u{c}',
                            Some(b'n') => '\n',
                            Some(b'r') => '\r',
                            Some(b't') => '\t',
                            Some(b'u') => self.unicode_escape()?,
                            _ => return Err(self.error("unknown escape in string")),
                        };
                        let mut buf = [0u8; 4];
                        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                    }
                    Some(b) if b < 0x20 => {
                        return Err(self.error("control character in string"));
                    }
                    Some(b) => out.push(b),
                }
            }
            // The input is a `&str` and escapes are written as UTF-8, so
            // this cannot fail; map it to an error all the same.
            String::from_utf8(out).map_err(|_| self.error("invalid UTF-8 in string"))
        }

        fn unicode_escape(&mut self) -> Result<char, LineError> {
            let first = self.hex4()?;
            let code = if (0xD800..0xDC00).contains(&first) {
                if self.bump() != Some(b'\\') || self.bump() != Some(b'u') {
                    return Err(self.error("high surrogate without its low half"));
                }
                let second = self.hex4()?;
                if !(0xDC00..0xE000).contains(&second) {
                    return Err(self.error("high surrogate without its low half"));
                }
                0x1_0000 + ((first - 0xD800) << 10) + (second - 0xDC00)
            } else {
                first
            };
            char::from_u32(code).ok_or_else(|| self.error("`\\u` escape is not a character"))
        }
    }
}
