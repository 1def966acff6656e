//! `emv deck run`: run test decks (`docs/decks.md`) and write reports.

use std::fmt::Write as _;
use std::io::{IsTerminal, Write as _};

use emv_test_cards::deck::{self, CaseResult};

/// Runs the decks at `paths` on `jobs` threads (default: the available
/// parallelism), keeping the cases whose id or ref matches `filter` (a
/// substring, or a glob with `*` / `?`), and writes the JUnit XML and JSON
/// Lines reports when asked.
///
/// Returns the text to print on standard output and the exit code: 0 when
/// every case passed, 1 when any failed, 2 when a deck is bad (the text is
/// then the deck error, `FILE:LINE: field FIELD: MESSAGE`, and nothing
/// ran). Failures are printed as expected vs actual with bit names, then
/// the APDU trace; the last line is `N passed, N failed`. A progress count
/// goes to standard error only when it is a terminal.
///
/// `html` writes one self-contained HTML page (summary with a pass/fail
/// filter, per case the APDU timeline with decoded TLV, TVR/TSI/CVM bit
/// tables, expected vs actual and the decision trail; the PAN masked).
///
/// # Errors
/// A report that cannot be written.
pub fn run(
    paths: &[String],
    jobs: Option<usize>,
    filter: Option<&str>,
    junit: Option<&str>,
    json: Option<&str>,
    html: Option<&str>,
) -> Result<(String, u8), String> {
    if paths.is_empty() {
        return Ok(("emv deck run: no deck given\n".into(), 2));
    }
    let jobs = jobs.filter(|&j| j > 0).unwrap_or_else(deck::default_jobs);
    let tty = std::io::stderr().is_terminal();
    let progress = |done: usize, total: usize| {
        if tty {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r{done}/{total} cases");
            if done == total {
                let _ = write!(err, "\r\x1b[K");
            }
            let _ = err.flush();
        }
    };
    let results = match deck::run_decks_with_progress(paths, jobs, filter, &progress) {
        Ok(r) => r,
        Err(e) => return Ok((format!("{e}\n"), 2)),
    };
    if let Some(path) = junit {
        std::fs::write(path, deck::junit_xml(&results))
            .map_err(|e| format!("writing {path}: {e}"))?;
    }
    if let Some(path) = json {
        let text = deck::json_lines(&results).map_err(|e| e.to_string())?;
        std::fs::write(path, text).map_err(|e| format!("writing {path}: {e}"))?;
    }
    if let Some(path) = html {
        let title = format!("EMV deck run: {}", paths.join(" "));
        let page = deck::html_report(
            &results,
            &deck::HtmlOptions {
                title: Some(title),
                show_pan: false,
            },
        );
        std::fs::write(path, page).map_err(|e| format!("writing {path}: {e}"))?;
    }
    Ok(render(&results))
}

/// The text and exit code for `results`.
#[must_use]
pub fn render(results: &[CaseResult]) -> (String, u8) {
    let mut out = String::new();
    for r in results.iter().filter(|r| !r.passed) {
        out.push_str(&deck::failure_text(r));
        out.push('\n');
    }
    let (passed, failed) = deck::summary(results);
    let _ = writeln!(out, "{passed} passed, {failed} failed");
    (out, u8::from(failed > 0))
}
