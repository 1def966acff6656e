//! The HTML report of a run: one self-contained file (inline CSS and
//! script, nothing fetched) for people who read results in a browser.
//!
//! - a summary table of every case, with pass/fail buttons and a text
//!   filter (the script also fills in the counts and checks itself);
//! - per case and transaction: the inputs, expected against actual for
//!   every checked field (differences highlighted, with the bits named), the
//!   TVR, TSI and CVM Results as bit tables in the words of EMV Book 3
//!   Annex C5/C6 and Book 4 Annex A4 (from `emv_kernel::data::explain`), the
//!   APDU timeline with each response decoded as BER-TLV (names from the
//!   kernel's data dictionary, bit fields explained), and the kernel's
//!   decision trail.
//!
//! Card data is untrusted: every text is escaped. The PAN (`5A`, and the
//! PAN of Track 2 `57`) is masked everywhere, first six and last four
//! digits kept, unless [`HtmlOptions::show_pan`] is set.
//!
//! The script marks the document for automated checks: `data-js="ok"` on
//! `<html>` once it has run, `data-filter-check="ok"` once the filter has
//! been checked against the counts; an error anywhere sets `data-js="error"`
//! and shows its message in a red banner (`#js-error`). A `#filter=fail`
//! (or `pass`, `all`) fragment in the address selects the filter at load.

use std::collections::BTreeSet;
use std::fmt::Write;

use emv_kernel::Tag;
use emv_kernel::data::dictionary;
use emv_kernel::data::explain::explain;
use emv_kernel::wire::apdu::StatusWord;
use emv_kernel::wire::apdu::ins::instruction_name;
use emv_kernel::wire::tlv::{Mode, TlvIter};

use super::load::Masked;
use super::report::summary;
use super::run::{Actual, ApduRecord, CaseResult, Mismatch, TransactionResult};

/// How the report is written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HtmlOptions {
    /// The page title; default "EMV test deck report".
    pub title: Option<String>,
    /// Show the PAN in full (it is masked by default).
    pub show_pan: bool,
}

/// Deepest TLV nesting shown; deeper data is shown as hex.
const MAX_TLV_DEPTH: usize = 8;

/// HTML text escaping, for element content and quoted attribute values.
#[must_use]
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' && c != '\t' => {
                let _ = write!(out, "&#x{:X};", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out
}

/// The PANs of a case (digits, without `F` padding), as found in the
/// responses of its APDU traces.
/// `text` with every PAN the case's card returned masked to its first six
/// and last four digits (the other reports mask as the HTML one does).
pub(super) fn mask_pans(r: &CaseResult, text: &str) -> String {
    let mut s = text.to_string();
    for p in pans_of(r) {
        if let (Some(head), Some(tail)) = (p.get(..6), p.get(p.len() - 4..)) {
            let masked = format!("{head}{}{tail}", "*".repeat(p.len() - 10));
            s = s.replace(p.as_str(), &masked);
        }
    }
    s
}

fn pans_of(r: &CaseResult) -> Vec<String> {
    let mut pans = BTreeSet::new();
    for t in &r.transactions {
        for a in &t.apdus {
            let Ok(bytes) = hex::decode(&a.response) else {
                continue;
            };
            let data = bytes.get(..bytes.len().saturating_sub(2)).unwrap_or(&[]);
            collect_pans(data, 0, &mut pans);
        }
    }
    pans.into_iter().filter(|p| p.len() > 10).collect()
}

fn collect_pans(data: &[u8], depth: usize, out: &mut BTreeSet<String>) {
    if depth > MAX_TLV_DEPTH {
        return;
    }
    for tlv in TlvIter::new(data, Mode::Lenient) {
        let Ok(tlv) = tlv else {
            return;
        };
        let value = hex::encode_upper(tlv.value());
        match tlv.tag().raw() {
            0x5A => {
                out.insert(value.trim_end_matches('F').to_string());
            }
            0x57 => {
                if let Some((pan, _)) = value.split_once('D') {
                    out.insert(pan.to_string());
                }
            }
            _ if tlv.is_constructed() => collect_pans(tlv.value(), depth + 1, out),
            _ => {}
        }
    }
}

/// Writes text through PAN masking and HTML escaping.
struct Writer {
    out: String,
    pans: Vec<(String, String)>,
}

impl Writer {
    fn set_pans(&mut self, pans: Vec<String>, show: bool) {
        self.pans = if show {
            Vec::new()
        } else {
            pans.into_iter()
                .filter_map(|p| {
                    let head = p.get(..6)?;
                    let tail = p.get(p.len() - 4..)?;
                    let masked = format!("{head}{}{tail}", "*".repeat(p.len() - 10));
                    Some((p, masked))
                })
                .collect()
        };
    }

    /// Masked and escaped text.
    fn text(&self, s: &str) -> String {
        let mut s = s.to_string();
        for (pan, masked) in &self.pans {
            if s.contains(pan.as_str()) {
                s = s.replace(pan.as_str(), masked);
            }
        }
        escape(&s)
    }

    fn raw(&mut self, html: &str) {
        self.out.push_str(html);
    }

    /// Appends masked, escaped text.
    fn put(&mut self, s: &str) {
        let t = self.text(s);
        self.out.push_str(&t);
    }

    /// `<tag class="class">text</tag>`.
    fn el(&mut self, tag: &str, class: &str, s: &str) {
        let t = self.text(s);
        if class.is_empty() {
            let _ = write!(self.out, "<{tag}>{t}</{tag}>");
        } else {
            let _ = write!(self.out, "<{tag} class=\"{class}\">{t}</{tag}>");
        }
    }
}

/// The HTML report of `results` (see the module documentation).
#[must_use]
pub fn html_report(results: &[CaseResult], options: &HtmlOptions) -> String {
    let mut w = Writer {
        out: String::with_capacity(64 * 1024 + results.len() * 24 * 1024),
        pans: Vec::new(),
    };
    let title = options
        .title
        .clone()
        .unwrap_or_else(|| "EMV test deck report".to_string());
    let (passed, failed) = summary(results);
    let mut decks: Vec<&str> = Vec::new();
    for r in results {
        if !decks.contains(&r.deck.as_str()) {
            decks.push(&r.deck);
        }
    }
    w.raw("<!DOCTYPE html>\n<html lang=\"en\" data-js=\"pending\">\n<head>\n<meta charset=\"utf-8\">\n");
    w.raw("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>");
    w.put(&title);
    w.raw("</title>\n<style>\n");
    w.raw(CSS);
    w.raw("</style>\n</head>\n");
    let _ = writeln!(
        w.out,
        "<body data-total=\"{}\" data-passed=\"{passed}\" data-failed=\"{failed}\">",
        results.len()
    );
    w.raw("<div id=\"js-error\" class=\"js-error\" hidden></div>\n<script>\n");
    w.raw(ERROR_CATCHER);
    w.raw("</script>\n<header>\n");
    w.el("h1", "", &title);
    w.raw("<p class=\"meta\">");
    let _ = write!(
        w.out,
        "{} case{} from {} deck file{}: ",
        results.len(),
        if results.len() == 1 { "" } else { "s" },
        decks.len(),
        if decks.len() == 1 { "" } else { "s" }
    );
    for (i, d) in decks.iter().enumerate() {
        if i > 0 {
            w.raw(", ");
        }
        w.el("code", "", d);
    }
    w.raw("</p>\n<div class=\"counts\">");
    let _ = write!(
        w.out,
        "<span class=\"count\">total <b id=\"count-total\">…</b></span>\
         <span class=\"count pass\">passed <b id=\"count-passed\">…</b></span>\
         <span class=\"count fail\">failed <b id=\"count-failed\">…</b></span>\
         <span class=\"count\">shown <b id=\"count-shown\">…</b></span>\
         <noscript>{} passed, {failed} failed</noscript>",
        passed
    );
    w.raw("</div>\n<div class=\"filters\" role=\"group\" aria-label=\"filter\">");
    w.raw("<button type=\"button\" data-filter=\"all\" class=\"active\">All</button>");
    w.raw("<button type=\"button\" data-filter=\"pass\">Passed</button>");
    w.raw("<button type=\"button\" data-filter=\"fail\">Failed</button>");
    w.raw("<input id=\"search\" type=\"search\" placeholder=\"id, ref, objective, deck…\" aria-label=\"text filter\">");
    w.raw("<button type=\"button\" id=\"expand\">Expand all</button>");
    w.raw("<button type=\"button\" id=\"collapse\">Collapse all</button>");
    w.raw("</div>\n</header>\n<main>\n");
    write_summary(&mut w, results, options.show_pan);
    w.raw("<section id=\"cases\">\n");
    for (k, r) in results.iter().enumerate() {
        w.set_pans(pans_of(r), options.show_pan);
        write_case(&mut w, k, r);
    }
    w.pans.clear();
    w.raw("</section>\n</main>\n<script>\n");
    w.raw(SCRIPT);
    w.raw("</script>\n</body>\n</html>\n");
    w.out
}

fn status_word(c: bool) -> &'static str {
    if c { "pass" } else { "fail" }
}

fn write_summary(w: &mut Writer, results: &[CaseResult], show_pan: bool) {
    w.raw("<table id=\"summary\" class=\"grid\">\n<thead><tr><th>#</th><th>status</th><th>case</th><th>ref</th><th>objective</th><th>deck</th><th>outcome</th><th>first difference</th><th>ms</th></tr></thead>\n<tbody>\n");
    for (k, r) in results.iter().enumerate() {
        w.set_pans(pans_of(r), show_pan);
        let search = format!(
            "{} {} {} {} {} {}",
            r.id,
            r.reference.as_deref().unwrap_or(""),
            r.objective.as_deref().unwrap_or(""),
            r.deck,
            r.terminal,
            r.card
        )
        .to_lowercase();
        let st = status_word(r.passed);
        let _ = write!(
            w.out,
            "<tr class=\"case-row {st}\" data-status=\"{st}\" data-target=\"case-{k}\" data-search=\"{}\">",
            w.text(&search)
        );
        let _ = write!(w.out, "<td>{}</td>", k + 1);
        let _ = write!(
            w.out,
            "<td><span class=\"badge {st}\">{}</span></td>",
            if r.passed { "PASS" } else { "FAIL" }
        );
        let _ = write!(
            w.out,
            "<td><a href=\"#case-{k}\" class=\"goto\">{}</a></td>",
            w.text(&r.id)
        );
        w.el("td", "", r.reference.as_deref().unwrap_or(""));
        w.el("td", "", r.objective.as_deref().unwrap_or(""));
        let _ = write!(
            w.out,
            "<td>{} #{}</td>",
            w.text(short_deck(&r.deck)),
            r.position
        );
        let outcomes: Vec<&str> = r
            .transactions
            .iter()
            .map(|t| t.actual.outcome.as_str())
            .collect();
        w.el("td", "mono", &outcomes.join(", "));
        let first = r
            .transactions
            .iter()
            .flat_map(|t| t.mismatches.first())
            .next()
            .map(|m| format!("{}: expected {}, actual {}", m.field, m.expected, m.actual))
            .unwrap_or_default();
        w.el("td", "mono small", &first);
        let _ = write!(
            w.out,
            "<td class=\"num\">{:.1}</td>",
            r.micros as f64 / 1000.0
        );
        w.raw("</tr>\n");
    }
    w.pans.clear();
    w.raw("</tbody>\n</table>\n");
}

fn short_deck(deck: &str) -> &str {
    deck.rsplit(['/', '\\']).next().unwrap_or(deck)
}

fn write_case(w: &mut Writer, k: usize, r: &CaseResult) {
    let st = status_word(r.passed);
    let _ = writeln!(
        w.out,
        "<article class=\"case {st}\" id=\"case-{k}\" data-status=\"{st}\">"
    );
    let _ = write!(
        w.out,
        "<details class=\"case-body\"{}><summary><span class=\"badge {st}\">{}</span> ",
        if r.passed { "" } else { " open" },
        if r.passed { "PASS" } else { "FAIL" }
    );
    w.el("b", "case-id", &r.id);
    if let Some(o) = &r.objective {
        w.raw(" — ");
        w.put(o);
    }
    w.raw("</summary>\n<table class=\"kv\">");
    let rows: [(&str, String); 6] = [
        ("reference", r.reference.clone().unwrap_or_default()),
        ("deck", format!("{} (case {})", r.deck, r.position)),
        ("deck id", r.deck_id.clone().unwrap_or_default()),
        ("terminal", r.terminal.clone()),
        ("card", r.card.clone()),
        (
            "time",
            format!("{:.1} ms (not reproducible)", r.micros as f64 / 1000.0),
        ),
    ];
    for (key, value) in rows {
        if value.is_empty() {
            continue;
        }
        let _ = write!(w.out, "<tr><th>{key}</th><td>{}</td></tr>", w.text(&value));
    }
    w.raw("</table>\n");
    for t in &r.transactions {
        write_transaction(w, k, t, r.transactions.len() > 1);
    }
    w.raw("</details>\n</article>\n");
}

fn write_transaction(w: &mut Writer, k: usize, t: &TransactionResult, many: bool) {
    let st = status_word(t.passed);
    let _ = write!(
        w.out,
        "<section class=\"tx {st}\" id=\"case-{k}-tx-{}\"><h3>",
        t.number
    );
    if many {
        let _ = write!(w.out, "Transaction {} — ", t.number);
    }
    let _ = writeln!(
        w.out,
        "<span class=\"badge {st}\">{}</span> outcome <code>{}</code></h3>",
        if t.passed { "PASS" } else { "FAIL" },
        w.text(&t.actual.outcome)
    );
    write_inputs(w, t);
    write_comparison(w, t);
    if !t.mismatches.is_empty() {
        w.raw("<div class=\"diff\"><h4>Differences</h4><ul>");
        for m in &t.mismatches {
            write_mismatch(w, m);
        }
        w.raw("</ul></div>\n");
    }
    w.raw("<div class=\"bits\">");
    write_bit_table(
        w,
        "TVR (95)",
        0x95,
        t.expected.tvr.as_ref(),
        t.actual.tvr.as_deref(),
        5,
    );
    write_bit_table(
        w,
        "TSI (9B)",
        0x9B,
        t.expected.tsi.as_ref(),
        t.actual.tsi.as_deref(),
        2,
    );
    write_cvm_results(
        w,
        t.expected.cvm_results.as_ref(),
        t.actual.cvm_results.as_deref(),
    );
    w.raw("</div>\n");
    write_timeline(w, &t.apdus, !t.passed);
    write_trail(w, &t.trail, !t.passed);
    w.raw("</section>\n");
}

fn write_inputs(w: &mut Writer, t: &TransactionResult) {
    let i = &t.inputs;
    w.raw("<details class=\"inputs\"><summary>Inputs</summary><table class=\"kv\">");
    let amount = |v: u64| format!("{v} (minor units)");
    let mut rows = vec![
        ("type (9C)", i.transaction_type.clone()),
        ("amount (9F02)", amount(i.amount)),
        ("other (9F03)", amount(i.amount_other)),
        ("date (9A)", i.date.clone()),
        ("time (9F21)", i.time.clone()),
        (
            "unpredictable number (9F37)",
            i.unpredictable_number.clone(),
        ),
        ("random number", i.random.to_string()),
        ("sequence counter", i.sequence_counter.to_string()),
        (
            "PIN",
            if i.pin.chars().all(|c| c.is_ascii_digit()) {
                format!("{} digits", i.pin.len())
            } else {
                i.pin.clone()
            },
        ),
        ("host", i.host.clone()),
        ("application", i.application.to_string()),
        ("confirm", i.confirm.to_string()),
    ];
    for (n, s) in i.scripts.iter().enumerate() {
        rows.push((
            "script",
            format!(
                "{}: template {} header {} data {}{}",
                n + 1,
                s.template,
                s.header,
                if s.data.is_empty() { "-" } else { &s.data },
                if s.bad_mac { " (bad MAC)" } else { "" }
            ),
        ));
    }
    for (key, value) in rows {
        let _ = write!(
            w.out,
            "<tr><th>{key}</th><td class=\"mono\">{}</td></tr>",
            w.text(&value)
        );
    }
    w.raw("</table></details>\n");
}

/// The mismatches of `field` (itself or its sub-fields).
fn mismatches_of<'a>(t: &'a TransactionResult, field: &str) -> Vec<&'a Mismatch> {
    t.mismatches
        .iter()
        .filter(|m| {
            m.field == field
                || m.field
                    .strip_prefix(field)
                    .is_some_and(|rest| rest.starts_with('.'))
        })
        .collect()
}

fn masked_text(m: &Masked) -> String {
    if m.mask.chars().all(|c| c == 'F') {
        m.value.clone()
    } else {
        format!("{} (mask {})", m.value, m.mask)
    }
}

fn opt(v: Option<&String>) -> String {
    v.cloned().unwrap_or_else(|| "none".into())
}

/// One row of the expected-vs-actual table. `expected` is `None` when the
/// field is not checked.
fn compare_row(
    w: &mut Writer,
    t: &TransactionResult,
    field: &str,
    expected: Option<String>,
    actual: &str,
) {
    let ms = mismatches_of(t, field);
    let (class, mark) = match (&expected, ms.is_empty()) {
        (None, _) => ("unchecked", "not checked"),
        (Some(_), true) => ("match", "✓"),
        (Some(_), false) => ("mismatch", "✗"),
    };
    let actual = if ms.is_empty() {
        actual.to_string()
    } else {
        ms.iter()
            .map(|m| m.actual.clone())
            .collect::<Vec<_>>()
            .join("; ")
    };
    let _ = write!(
        w.out,
        "<tr class=\"{class}\"><th>{}</th><td class=\"mono\">{}</td><td class=\"mono\">{}</td><td class=\"mark\">{mark}</td></tr>",
        w.text(field),
        w.text(expected.as_deref().unwrap_or("—")),
        w.text(&actual)
    );
}

fn write_comparison(w: &mut Writer, t: &TransactionResult) {
    let e = &t.expected;
    let a: &Actual = &t.actual;
    w.raw("<table class=\"grid compare\"><thead><tr><th>field</th><th>expected</th><th>actual</th><th></th></tr></thead><tbody>");
    let mut outcome = a.outcome.clone();
    if let Some(err) = &a.error {
        let _ = write!(outcome, " ({err})");
    }
    compare_row(w, t, "outcome", e.outcome.clone(), &outcome);
    compare_row(w, t, "aid", e.aid.clone(), &opt(a.aid.as_ref()));
    compare_row(
        w,
        t,
        "tvr",
        e.tvr.as_ref().map(masked_text),
        &opt(a.tvr.as_ref()),
    );
    compare_row(
        w,
        t,
        "tsi",
        e.tsi.as_ref().map(masked_text),
        &opt(a.tsi.as_ref()),
    );
    compare_row(
        w,
        t,
        "cvm_results",
        e.cvm_results.as_ref().map(masked_text),
        &opt(a.cvm_results.as_ref()),
    );
    compare_row(w, t, "cid", e.cid.clone(), &opt(a.cid.as_ref()));
    compare_row(
        w,
        t,
        "genac",
        e.genac.as_ref().map(|g| format!("[{}]", g.join(", "))),
        &format!("[{}]", a.genac.join(", ")),
    );
    let sent = format!("{} commands sent", t.apdus.len());
    if let Some(p) = &e.apdus {
        compare_row(
            w,
            t,
            "apdus",
            Some(format!("in order: {}", p.join(", "))),
            &sent,
        );
    }
    if !e.forbid.is_empty() {
        compare_row(
            w,
            t,
            "forbid",
            Some(format!("none of: {}", e.forbid.join(", "))),
            "none sent",
        );
    }
    compare_row(
        w,
        t,
        "online",
        e.online.map(|o| o.to_string()),
        &a.authorisation_request.is_some().to_string(),
    );
    if !e.request_tags.is_empty() {
        compare_row(
            w,
            t,
            "request_tags",
            Some(e.request_tags.join(" ")),
            "all present",
        );
    }
    if !e.request_absent.is_empty() {
        compare_row(
            w,
            t,
            "request_absent",
            Some(e.request_absent.join(" ")),
            "none present",
        );
    }
    for (tag, value) in &e.request_values {
        compare_row(
            w,
            t,
            &format!("request_values.{tag}"),
            Some(value.clone()),
            value,
        );
    }
    compare_row(
        w,
        t,
        "script_results",
        e.script_results.clone(),
        &opt(a.script_results.as_ref()),
    );
    compare_row(
        w,
        t,
        "advice",
        e.advice.map(|v| v.to_string()),
        &a.advice
            .as_ref()
            .map_or_else(|| "false".to_string(), |c| format!("true (CID {c})")),
    );
    for (tag, value) in &e.data {
        compare_row(w, t, &format!("data.{tag}"), Some(value.clone()), value);
    }
    if !e.trail.is_empty() {
        let wanted = e
            .trail
            .iter()
            .map(|s| format!("{s:?}"))
            .collect::<Vec<_>>()
            .join(", ");
        compare_row(w, t, "trail", Some(wanted), "all found");
    }
    if let Some(h) = &a.host_error {
        compare_row(w, t, "host", Some("an authorisation response".into()), h);
    }
    w.raw("</tbody></table>\n");
    if let Some(req) = &a.authorisation_request {
        w.raw("<details class=\"request\"><summary>Authorisation request</summary>");
        if let Ok(bytes) = hex::decode(req) {
            write_tlv(w, &bytes, 0);
        }
        w.raw("</details>\n");
    }
}

fn write_mismatch(w: &mut Writer, m: &Mismatch) {
    let _ = write!(
        w.out,
        "<li><b>{}</b>: expected <code class=\"exp\">{}</code>, actual <code class=\"act\">{}</code>",
        w.text(&m.field),
        w.text(&m.expected),
        w.text(&m.actual)
    );
    if !m.details.is_empty() {
        w.raw("<ul>");
        for d in &m.details {
            w.el("li", "detail", d);
        }
        w.raw("</ul>");
    }
    w.raw("</li>");
}

/// The name of bit `bit` (8 = b8) of byte `byte` (0-based) of `tag`, in
/// the kernel's words.
fn bit_name(tag: u32, len: usize, byte: usize, bit: u8) -> String {
    let mut only = vec![0u8; len];
    if let Some(x) = only.get_mut(byte) {
        *x = 1 << (bit - 1);
    }
    let mut s = String::new();
    let _ = explain(Tag::new(tag), &only, &mut s);
    let prefix = format!("byte {} bit {bit}: ", byte + 1);
    s.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map_or_else(|| "RFU".to_string(), str::to_string)
}

fn write_bit_table(
    w: &mut Writer,
    title: &str,
    tag: u32,
    expected: Option<&Masked>,
    actual: Option<&str>,
    len: usize,
) {
    let act = actual.and_then(|a| hex::decode(a).ok());
    let exp =
        expected.and_then(|m| Some((hex::decode(&m.value).ok()?, hex::decode(&m.mask).ok()?)));
    let _ = write!(
        w.out,
        "<table class=\"bittable\"><caption>{} — expected <code>{}</code>, actual <code>{}</code></caption>",
        w.text(title),
        w.text(&expected.map_or_else(|| "not checked".into(), masked_text)),
        w.text(actual.unwrap_or("none"))
    );
    w.raw("<thead><tr><th></th>");
    for bit in (1..=8).rev() {
        let _ = write!(w.out, "<th>b{bit}</th>");
    }
    w.raw("</tr></thead><tbody>");
    for byte in 0..len {
        let _ = write!(w.out, "<tr><th>byte {}</th>", byte + 1);
        for bit in (1..=8u8).rev() {
            let m = 1u8 << (bit - 1);
            let a_set = act.as_ref().and_then(|a| a.get(byte)).map(|b| b & m != 0);
            let e_set = exp.as_ref().and_then(|(v, mask)| {
                let compared = mask.get(byte).is_some_and(|x| x & m != 0);
                compared.then(|| v.get(byte).is_some_and(|x| x & m != 0))
            });
            let mut classes = vec![];
            if a_set == Some(true) {
                classes.push("on");
            }
            match (e_set, a_set) {
                (Some(e), Some(a)) if e != a => classes.push("diff"),
                (Some(e), None) if e => classes.push("diff"),
                (None, _) if exp.is_some() => classes.push("nc"),
                _ => {}
            }
            let name = bit_name(tag, len, byte, bit);
            let state = |v: Option<bool>| match v {
                Some(true) => "set",
                Some(false) => "clear",
                None => "-",
            };
            let title = format!(
                "byte {} bit {bit}: {name} — expected {}, actual {}",
                byte + 1,
                if exp.is_some() {
                    state(e_set)
                } else {
                    "not checked"
                },
                state(a_set)
            );
            let _ = write!(
                w.out,
                "<td class=\"{}\" title=\"{}\">{}",
                classes.join(" "),
                w.text(&title),
                w.text(&name)
            );
            if classes.contains(&"diff") {
                let _ = write!(
                    w.out,
                    "<span class=\"why\">expected {}, actual {}</span>",
                    state(e_set),
                    state(a_set)
                );
            }
            w.raw("</td>");
        }
        w.raw("</tr>");
    }
    w.raw("</tbody></table>\n");
}

fn explain_lines(tag: u32, hex_text: &str) -> Vec<String> {
    let Ok(bytes) = hex::decode(hex_text) else {
        return Vec::new();
    };
    let mut s = String::new();
    let _ = explain(Tag::new(tag), &bytes, &mut s);
    s.lines().map(str::to_string).collect()
}

fn write_cvm_results(w: &mut Writer, expected: Option<&Masked>, actual: Option<&str>) {
    let e = expected
        .map(|m| explain_lines(0x9F34, &m.value))
        .unwrap_or_default();
    let a = actual.map(|v| explain_lines(0x9F34, v)).unwrap_or_default();
    let (ev, mask) = expected
        .and_then(|m| Some((hex::decode(&m.value).ok()?, hex::decode(&m.mask).ok()?)))
        .unwrap_or_default();
    let av = actual.and_then(|v| hex::decode(v).ok()).unwrap_or_default();
    let _ = write!(
        w.out,
        "<table class=\"bittable cvm\"><caption>CVM Results (9F34) — expected <code>{}</code>, actual <code>{}</code></caption>",
        w.text(&expected.map_or_else(|| "not checked".into(), masked_text)),
        w.text(actual.unwrap_or("none"))
    );
    w.raw("<thead><tr><th>byte</th><th>expected</th><th>actual</th></tr></thead><tbody>");
    for (n, label) in ["1 (method)", "2 (condition)", "3 (result)"]
        .iter()
        .enumerate()
    {
        let differs = expected.is_some()
            && match (ev.get(n), av.get(n), mask.get(n)) {
                (Some(x), Some(y), Some(m)) => (x ^ y) & m != 0,
                (_, None, _) => true,
                _ => false,
            };
        let _ = write!(
            w.out,
            "<tr class=\"{}\"><th>{label}</th><td>{}</td><td>{}</td></tr>",
            if differs { "diff" } else { "" },
            w.text(e.get(n).map_or("—", String::as_str)),
            w.text(a.get(n).map_or("—", String::as_str))
        );
    }
    w.raw("</tbody></table>\n");
}

fn write_timeline(w: &mut Writer, apdus: &[ApduRecord], open: bool) {
    let _ = write!(
        w.out,
        "<details class=\"timeline\"{}><summary>APDU timeline ({} exchanges)</summary><ol class=\"apdus\">",
        if open { " open" } else { "" },
        apdus.len()
    );
    let mut phase: Option<&str> = None;
    for (n, a) in apdus.iter().enumerate() {
        if a.phase.as_deref() != phase && a.phase.is_some() {
            phase = a.phase.as_deref();
            w.el("li", "phase", phase.unwrap_or(""));
        }
        let command = hex::decode(&a.command).unwrap_or_default();
        let response = hex::decode(&a.response).unwrap_or_default();
        let name = match (command.first(), command.get(1)) {
            (Some(&cla), Some(&ins)) => instruction_name(cla, ins).unwrap_or("?"),
            _ => "?",
        };
        let sw = (response.len() >= 2).then(|| {
            let n = response.len();
            StatusWord::from_bytes(
                response.get(n - 2).copied().unwrap_or(0),
                response.get(n - 1).copied().unwrap_or(0),
            )
        });
        let sw_class = match sw {
            Some(s) if s.is_success() => "ok",
            Some(s) if s.is_warning() => "warn",
            _ => "err",
        };
        let _ = write!(
            w.out,
            "<li class=\"apdu\" value=\"{}\"><div class=\"cmd\">",
            n + 1
        );
        w.el("span", "ins", name);
        w.raw(" <span class=\"dir\">C</span> ");
        w.el("code", "hex", &spaced(&a.command));
        w.raw("</div><div class=\"rsp\"><span class=\"dir\">R</span> ");
        if response.is_empty() {
            w.el("span", "sw err", "no answer");
        } else {
            w.el("code", "hex", &spaced(&a.response));
            if let Some(sw) = sw {
                w.raw(" ");
                w.el("span", &format!("sw {sw_class}"), &sw.to_string());
            }
        }
        w.raw("</div>");
        // GET PROCESSING OPTIONS carries a `83` template.
        if command.get(1) == Some(&0xA8)
            && let Some(&lc) = command.get(4)
        {
            let data = command.get(5..5 + usize::from(lc)).unwrap_or(&[]);
            w.raw("<div class=\"decoded\">");
            write_tlv(w, data, 0);
            w.raw("</div>");
        }
        let data = response
            .get(..response.len().saturating_sub(2))
            .unwrap_or(&[]);
        if !data.is_empty() {
            w.raw("<div class=\"decoded\">");
            write_tlv(w, data, 0);
            w.raw("</div>");
        }
        w.raw("</li>");
    }
    w.raw("</ol></details>\n");
}

/// Hex in groups of two digits.
fn spaced(hex_text: &str) -> String {
    let mut out = String::with_capacity(hex_text.len() * 3 / 2);
    for (i, c) in hex_text.chars().enumerate() {
        if i > 0 && i % 2 == 0 {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// A TLV stream as a nested list; what does not parse is shown as hex with
/// the parser's message.
fn write_tlv(w: &mut Writer, data: &[u8], depth: usize) {
    w.raw("<ul class=\"tlv\">");
    let mut iter = TlvIter::new(data, Mode::Lenient);
    for item in iter.by_ref() {
        let tlv = match item {
            Ok(t) => t,
            Err(e) => {
                w.el("li", "bad", &format!("not BER-TLV: {e}"));
                break;
            }
        };
        let tag = tlv.tag();
        let entry = dictionary::lookup(tag);
        let value = tlv.value();
        w.raw("<li>");
        w.el("code", "tag", &tag.to_string());
        w.raw(" ");
        w.el("span", "name", entry.map_or("(unknown tag)", |e| e.name));
        let _ = write!(w.out, " <span class=\"len\">({})</span>", value.len());
        if tlv.is_constructed() && depth < MAX_TLV_DEPTH {
            write_tlv(w, value, depth + 1);
        } else {
            if !value.is_empty() {
                w.raw(" ");
                w.el("code", "val", &hex::encode_upper(value));
            }
            let text_format = entry.is_some_and(|e| e.format.is_text());
            if text_format && value.iter().all(|b| (0x20..0x7F).contains(b)) && !value.is_empty() {
                let text: String = value.iter().map(|&b| char::from(b)).collect();
                w.el("span", "txt", &format!("\"{text}\""));
            }
            let mut meaning = String::new();
            if explain(tag, value, &mut meaning).unwrap_or(false) {
                w.raw("<ul class=\"explain\">");
                for l in meaning.lines() {
                    w.el("li", "", l);
                }
                w.raw("</ul>");
            }
        }
        w.raw("</li>");
    }
    w.raw("</ul>");
}

fn write_trail(w: &mut Writer, trail: &[String], open: bool) {
    let _ = write!(
        w.out,
        "<details class=\"trail\"{}><summary>Decision trail ({} lines)</summary><ol>",
        if open { " open" } else { "" },
        trail.len()
    );
    for l in trail {
        w.el("li", "", l);
    }
    w.raw("</ol></details>\n");
}

const CSS: &str = r#"
:root { --pass: #1a7f37; --fail: #cf222e; --bg: #fff; --fg: #1f2328; --muted: #656d76; --line: #d0d7de; --soft: #f6f8fa; }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); margin: 0; }
header { position: sticky; top: 0; background: var(--soft); border-bottom: 1px solid var(--line); padding: 8px 16px; z-index: 2; }
h1 { font-size: 20px; margin: 0 0 4px; }
h3 { font-size: 15px; margin: 8px 0; }
h4 { margin: 4px 0; }
main { padding: 8px 16px 40px; }
code, .mono { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12.5px; }
.meta { color: var(--muted); margin: 0 0 6px; }
.counts { display: flex; gap: 12px; margin-bottom: 6px; }
.count b { font-size: 16px; }
.count.pass b { color: var(--pass); }
.count.fail b { color: var(--fail); }
.filters { display: flex; gap: 6px; flex-wrap: wrap; }
.filters button { border: 1px solid var(--line); background: #fff; border-radius: 6px; padding: 3px 10px; cursor: pointer; }
.filters button.active { background: #0969da; color: #fff; border-color: #0969da; }
#search { min-width: 260px; padding: 3px 8px; border: 1px solid var(--line); border-radius: 6px; }
.js-error { background: var(--fail); color: #fff; padding: 8px 16px; font-weight: bold; }
table.grid { border-collapse: collapse; width: 100%; margin: 8px 0; }
table.grid th, table.grid td { border: 1px solid var(--line); padding: 3px 6px; text-align: left; vertical-align: top; }
table.grid thead th { background: var(--soft); }
td.num { text-align: right; }
.small { font-size: 11.5px; }
tr.case-row.fail { background: #ffebe9; }
.badge { display: inline-block; min-width: 40px; text-align: center; border-radius: 10px; padding: 0 6px; color: #fff; font-size: 11px; font-weight: bold; }
.badge.pass { background: var(--pass); }
.badge.fail { background: var(--fail); }
article.case { border: 1px solid var(--line); border-left: 5px solid var(--pass); border-radius: 6px; margin: 10px 0; padding: 4px 10px; }
article.case.fail { border-left-color: var(--fail); }
article.case > details > summary { cursor: pointer; font-size: 15px; padding: 4px 0; }
table.kv { border-collapse: collapse; margin: 4px 0; }
table.kv th { text-align: left; color: var(--muted); font-weight: normal; padding: 1px 12px 1px 0; vertical-align: top; }
section.tx { border-top: 1px dashed var(--line); margin-top: 6px; padding-top: 4px; }
table.compare tr.mismatch td { background: #ffebe9; }
table.compare tr.mismatch td.mark { color: var(--fail); font-weight: bold; }
table.compare tr.match td.mark { color: var(--pass); }
table.compare tr.unchecked td { color: var(--muted); }
.diff { background: #fff8f8; border: 1px solid #ffcecb; border-radius: 6px; padding: 4px 10px; }
.diff li.detail { font-family: ui-monospace, monospace; font-size: 12.5px; }
code.exp { background: #dafbe1; }
code.act { background: #ffebe9; }
.bits { display: flex; flex-wrap: wrap; gap: 12px; align-items: flex-start; }
table.bittable { border-collapse: collapse; margin: 6px 0; font-size: 11px; }
table.bittable caption { text-align: left; font-size: 13px; font-weight: bold; padding-bottom: 2px; }
table.bittable th, table.bittable td { border: 1px solid var(--line); padding: 2px 4px; }
table.bittable td { width: 92px; height: 40px; vertical-align: top; color: #8c959f; }
table.bittable td.on { background: #ddf4ff; color: var(--fg); font-weight: 600; }
table.bittable td.diff, table.bittable tr.diff td { outline: 2px solid var(--fail); outline-offset: -2px; background: #ffebe9; color: var(--fg); }
table.bittable td.nc { background-image: repeating-linear-gradient(45deg, transparent 0 4px, #f0f0f0 4px 8px); }
table.bittable.cvm td { width: 260px; height: auto; color: var(--fg); }
.why { display: block; color: var(--fail); font-weight: bold; }
details.timeline, details.trail, details.inputs, details.request { margin: 6px 0; }
details > summary { cursor: pointer; }
ol.apdus { padding-left: 36px; }
ol.apdus li.phase { list-style: none; margin: 8px 0 2px -30px; font-weight: bold; color: #0969da; }
li.apdu { margin: 3px 0; }
.ins { display: inline-block; min-width: 190px; font-weight: 600; }
.dir { color: var(--muted); font-weight: bold; }
.hex { word-break: break-all; }
.sw.ok { color: var(--pass); }
.sw.warn { color: #9a6700; }
.sw.err { color: var(--fail); font-weight: bold; }
ul.tlv { margin: 1px 0; padding-left: 18px; list-style: square; }
ul.tlv code.tag { color: #8250df; }
ul.tlv .len { color: var(--muted); }
ul.tlv code.val { word-break: break-all; }
ul.tlv .txt { color: #0a3069; margin-left: 4px; }
ul.explain { color: #57606a; font-size: 12px; margin: 0; padding-left: 16px; list-style: circle; }
li.bad { color: var(--fail); }
details.trail ol { font-family: ui-monospace, monospace; font-size: 12.5px; }
"#;

const ERROR_CATCHER: &str = r#"(function () {
  function report(message) {
    var root = document.documentElement;
    root.setAttribute('data-js', 'error');
    root.setAttribute('data-js-error', String(message));
    var box = document.getElementById('js-error');
    if (box) { box.textContent = 'Script error: ' + message; box.hidden = false; }
  }
  window.onerror = function (message, source, line) { report(message + ' (line ' + line + ')'); };
  window.addEventListener('unhandledrejection', function (e) { report(e.reason); });
})();
"#;

const SCRIPT: &str = r#"(function () {
  'use strict';
  var root = document.documentElement;
  var body = document.body;
  var rows = Array.prototype.slice.call(document.querySelectorAll('#summary tbody tr.case-row'));
  var buttons = Array.prototype.slice.call(document.querySelectorAll('.filters button[data-filter]'));
  var search = document.getElementById('search');
  function set(id, value) { document.getElementById(id).textContent = String(value); }
  function count(status) { return rows.filter(function (r) { return r.getAttribute('data-status') === status; }).length; }
  var total = rows.length, passed = count('pass'), failed = count('fail');
  if (String(total) !== body.getAttribute('data-total') || String(passed) !== body.getAttribute('data-passed') ||
      String(failed) !== body.getAttribute('data-failed')) {
    throw new Error('the summary table disagrees with the results');
  }
  set('count-total', total);
  set('count-passed', passed);
  set('count-failed', failed);
  var state = { filter: 'all', text: '' };
  function apply() {
    var shown = 0;
    rows.forEach(function (r) {
      var ok = (state.filter === 'all' || r.getAttribute('data-status') === state.filter) &&
        (state.text === '' || r.getAttribute('data-search').indexOf(state.text) >= 0);
      r.hidden = !ok;
      var article = document.getElementById(r.getAttribute('data-target'));
      if (article) { article.hidden = !ok; }
      if (ok) { shown += 1; }
    });
    buttons.forEach(function (b) { b.classList.toggle('active', b.getAttribute('data-filter') === state.filter); });
    root.setAttribute('data-filter', state.filter);
    set('count-shown', shown);
    return shown;
  }
  // Check the filter against the counts before handing it to the reader.
  state.filter = 'fail';
  var f = apply();
  state.filter = 'pass';
  var p = apply();
  state.filter = 'all';
  var a = apply();
  if (f !== failed || p !== passed || a !== total) {
    throw new Error('filter check failed: ' + f + '/' + p + '/' + a);
  }
  root.setAttribute('data-filter-check', 'ok');
  buttons.forEach(function (b) {
    b.addEventListener('click', function () {
      state.filter = b.getAttribute('data-filter');
      apply();
      if (window.history && history.replaceState) { history.replaceState(null, '', '#filter=' + state.filter); }
    });
  });
  search.addEventListener('input', function () { state.text = search.value.trim().toLowerCase(); apply(); });
  function openAll(open) {
    document.querySelectorAll('article.case > details').forEach(function (d) { d.open = open; });
  }
  document.getElementById('expand').addEventListener('click', function () { openAll(true); });
  document.getElementById('collapse').addEventListener('click', function () { openAll(false); });
  document.querySelectorAll('a.goto').forEach(function (link) {
    link.addEventListener('click', function () {
      var target = document.getElementById(link.getAttribute('href').slice(1));
      if (target) { target.querySelector('details').open = true; }
    });
  });
  var m = /filter=(all|pass|fail)/.exec(window.location.hash);
  if (m) { state.filter = m[1]; apply(); }
  root.setAttribute('data-js', 'ok');
})();
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_and_quotes() {
        assert_eq!(
            escape("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
        assert_eq!(escape("a\u{0}b"), "a&#x0;b");
    }

    #[test]
    fn bit_names_come_from_the_kernel() {
        assert!(bit_name(0x95, 5, 3, 8).contains("floor limit"));
        assert!(
            bit_name(0x9B, 2, 0, 8)
                .to_lowercase()
                .contains("offline data authentication")
        );
    }

    #[test]
    fn spaced_hex() {
        assert_eq!(spaced("00A40400"), "00 A4 04 00");
    }
}
