//! Reports of a run: JSON Lines, JUnit XML and readable failure text.

use std::fmt::Write;

use super::html::mask_pans;
use super::run::{CaseResult, TransactionResult};

/// One JSON object per case, one per line, in result order. The PANs the
/// cards returned are masked (first six and last four digits kept), in
/// the APDUs and everywhere else.
///
/// # Errors
/// A serialisation failure (none in practice).
pub fn json_lines(results: &[CaseResult]) -> Result<String, serde_json::Error> {
    let mut out = String::new();
    for r in results {
        out.push_str(&mask_pans(r, &serde_json::to_string(r)?));
        out.push('\n');
    }
    Ok(out)
}

/// The results with every timing set to zero: what two runs of the same
/// decks must agree on byte for byte.
#[must_use]
pub fn without_timing(results: &[CaseResult]) -> Vec<CaseResult> {
    results
        .iter()
        .cloned()
        .map(|mut r| {
            r.micros = 0;
            for t in &mut r.transactions {
                t.micros = 0;
            }
            r
        })
        .collect()
}

/// (passed, failed).
#[must_use]
pub fn summary(results: &[CaseResult]) -> (usize, usize) {
    let passed = results.iter().filter(|r| r.passed).count();
    (passed, results.len() - passed)
}

fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' && c != '\r' => {
                let _ = write!(out, "&#x{:X};", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

fn seconds(micros: u64) -> String {
    format!("{}.{:06}", micros / 1_000_000, micros % 1_000_000)
}

/// The differences of one case, one per line (no trace).
#[must_use]
pub fn diff_text(r: &CaseResult) -> String {
    let mut out = String::new();
    for t in r.transactions.iter().filter(|t| !t.passed) {
        write_transaction_diff(&mut out, t, r.transactions.len() > 1);
    }
    out
}

fn write_transaction_diff(out: &mut String, t: &TransactionResult, numbered: bool) {
    let indent = if numbered {
        let _ = writeln!(out, "transaction {}:", t.number);
        "  "
    } else {
        ""
    };
    for m in &t.mismatches {
        let _ = writeln!(
            out,
            "{indent}{}: expected {}, actual {}",
            m.field, m.expected, m.actual
        );
        for d in &m.details {
            let _ = writeln!(out, "{indent}  {d}");
        }
    }
}

/// JUnit XML: one `testsuite` per deck file (in result order), one
/// `testcase` per case; a failing case has a `failure` whose text is the
/// diff, and its APDU trace in `system-out` (PANs masked).
#[must_use]
pub fn junit_xml(results: &[CaseResult]) -> String {
    let mut decks: Vec<(&str, Option<&str>, Vec<&CaseResult>)> = Vec::new();
    for r in results {
        match decks.iter_mut().find(|(d, _, _)| *d == r.deck) {
            Some((_, _, cases)) => cases.push(r),
            None => decks.push((&r.deck, r.deck_id.as_deref(), vec![r])),
        }
    }
    let (passed, failed) = summary(results);
    let total_micros: u64 = results.iter().map(|r| r.micros).sum();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites tests=\"{}\" failures=\"{failed}\" time=\"{}\">",
        passed + failed,
        seconds(total_micros)
    );
    for (file, id, cases) in decks {
        let failures = cases.iter().filter(|c| !c.passed).count();
        let micros: u64 = cases.iter().map(|c| c.micros).sum();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" file=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\" time=\"{}\">",
            xml_escape(id.unwrap_or(file)),
            xml_escape(file),
            cases.len(),
            seconds(micros)
        );
        for c in cases {
            let mut name = c.id.clone();
            if let Some(o) = &c.objective {
                let _ = write!(name, ": {o}");
            }
            let _ = write!(
                out,
                "    <testcase classname=\"{}\" name=\"{}\" time=\"{}\"",
                xml_escape(id.unwrap_or(file)),
                xml_escape(&name),
                seconds(c.micros)
            );
            if c.passed {
                out.push_str("/>\n");
                continue;
            }
            out.push_str(">\n");
            let diff = mask_pans(c, &diff_text(c));
            let first = diff.lines().next().unwrap_or("failed");
            let _ = writeln!(
                out,
                "      <failure message=\"{}\" type=\"mismatch\">{}</failure>",
                xml_escape(first),
                xml_escape(&diff)
            );
            let _ = writeln!(
                out,
                "      <system-out>{}</system-out>",
                xml_escape(&mask_pans(c, &trace_text(c)))
            );
            out.push_str("    </testcase>\n");
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

/// The APDU trace of every transaction of a case, with phase names.
#[must_use]
pub fn trace_text(r: &CaseResult) -> String {
    let mut out = String::new();
    for t in &r.transactions {
        let _ = writeln!(out, "transaction {}:", t.number);
        for (i, a) in t.apdus.iter().enumerate() {
            let _ = writeln!(
                out,
                "  {:>3} [{}] C: {}",
                i + 1,
                a.phase.as_deref().unwrap_or("?"),
                a.command
            );
            let _ = writeln!(out, "      R: {}", a.response);
        }
    }
    out
}

/// A failing case for people: header, the diff with bit names, and the
/// APDU trace and decision trail of the failing transactions (PANs
/// masked).
#[must_use]
pub fn failure_text(r: &CaseResult) -> String {
    let mut out = String::new();
    let _ = write!(out, "FAIL {}", r.id);
    if let Some(reference) = &r.reference {
        let _ = write!(out, " (ref {reference})");
    }
    if let Some(o) = &r.objective {
        let _ = write!(out, ": {o}");
    }
    let _ = writeln!(out, "  [{} #{}]", r.deck, r.position);
    let _ = writeln!(out, "  terminal {}, card {}", r.terminal, r.card);
    for t in r.transactions.iter().filter(|t| !t.passed) {
        let _ = writeln!(out, "  transaction {}:", t.number);
        for m in &t.mismatches {
            let _ = writeln!(
                out,
                "    {}: expected {}, actual {}",
                m.field, m.expected, m.actual
            );
            for d in &m.details {
                let _ = writeln!(out, "      {d}");
            }
        }
        let _ = writeln!(out, "    trace:");
        for (i, a) in t.apdus.iter().enumerate() {
            let _ = writeln!(
                out,
                "      {:>3} [{}] C: {}  R: {}",
                i + 1,
                a.phase.as_deref().unwrap_or("?"),
                a.command,
                a.response
            );
        }
        if !t.trail.is_empty() {
            let _ = writeln!(out, "    trail:");
            for l in &t.trail {
                let _ = writeln!(out, "      {l}");
            }
        }
    }
    mask_pans(r, &out)
}
