//! The HTML report of `emv deck run --html` in a real browser: Debian's
//! headless Chromium loads it (script executed), and the test checks the
//! DOM it ends with and takes a screenshot.
//!
//! Needs `/usr/bin/chromium` (Debian package `chromium`). Without it the
//! test is skipped with a message, unless `EMV_REQUIRE_CHROMIUM=1`, which
//! makes a missing browser a failure (CI sets it).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CHROMIUM: &str = "/usr/bin/chromium";

/// Two passing cases, one failing on purpose, and card-free text that
/// tries to inject markup (it must come out escaped).
const DECK: &str = r#"
[deck]
id = "HTML-CHECK"
title = "HTML report check <b>not bold</b>"

[defaults]
amount = "10.00"
date = 2026-11-28

[[case]]
id = "HTML.PASS.001"
ref = "plain <img src=x onerror=alert(1)>"
objective = "Offline approval with plaintext PIN <script>document.title='owned'</script>"
card = "baseline"
[[case.transaction]]
[case.transaction.expect]
outcome = "approved_offline"
tvr = "0200000000"
tsi = "E800"
cvm_results = "410302"

[[case]]
id = "HTML.PASS.002"
objective = "Floor limit exceeded: online"
card = "baseline"
[[case.transaction]]
amount = "100.00"
[case.transaction.expect]
outcome = "online_approved"
tvr = "0200008000"

[[case]]
id = "HTML.FAIL.001"
objective = "Deliberately wrong: the floor limit bit is forgotten"
card = "baseline"
[[case.transaction]]
amount = "100.00"
[case.transaction.expect]
outcome = "online_approved"
tvr = "0200000000"
tsi = "E800"
"#;

fn scratch() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("emv-deck-html-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs Chromium headless with `args` on `url`, returns its standard
/// output. A browser that hangs is killed after two minutes (a guard, not
/// a check of speed).
fn chromium(profile: &Path, args: &[&str], url: &str) -> String {
    let out_path = profile.with_extension("stdout");
    let out = std::fs::File::create(&out_path).unwrap();
    let mut child = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--hide-scrollbars",
            &format!("--user-data-dir={}", profile.display()),
        ])
        .args(args)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {CHROMIUM}: {e}"));
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            panic!("{CHROMIUM} did not finish");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{CHROMIUM} {args:?}: {status}");
    std::fs::read_to_string(&out_path).unwrap()
}

fn browser_available() -> bool {
    if Path::new(CHROMIUM).exists() {
        return true;
    }
    if std::env::var("EMV_REQUIRE_CHROMIUM").as_deref() == Ok("1") {
        panic!("EMV_REQUIRE_CHROMIUM=1 but {CHROMIUM} is missing (Debian package `chromium`)");
    }
    eprintln!(
        "SKIPPED deck_html: {CHROMIUM} not found (apt-get install chromium; set EMV_REQUIRE_CHROMIUM=1 to make this a failure)"
    );
    false
}

/// The opening tag of the element with `id`.
fn tag_with_id<'a>(dom: &'a str, id: &str) -> &'a str {
    let needle = format!("id=\"{id}\"");
    let at = dom
        .find(&needle)
        .unwrap_or_else(|| panic!("no #{id} in the DOM"));
    let start = dom[..at].rfind('<').unwrap();
    let end = at + dom[at..].find('>').unwrap();
    &dom[start..=end]
}

/// The text of the element with `id` (no nested markup expected).
fn text_of<'a>(dom: &'a str, id: &str) -> &'a str {
    let open = tag_with_id(dom, id);
    let at = dom.find(open).unwrap() + open.len();
    &dom[at..at + dom[at..].find('<').unwrap()]
}

#[test]
fn html_report_renders_in_headless_chromium() {
    // The report itself, written by the CLI's deck runner.
    let dir = scratch();
    let deck = dir.join("html-check.toml");
    std::fs::write(&deck, DECK).unwrap();
    let html_path = dir.join("report.html");
    let (text, code) = emv::deck_cmd::run(
        &[deck.display().to_string()],
        Some(2),
        None,
        None,
        None,
        Some(&html_path.display().to_string()),
    )
    .unwrap();
    assert_eq!(code, 1, "{text}");
    assert!(text.ends_with("2 passed, 1 failed\n"), "{text}");
    let html = std::fs::read_to_string(&html_path).unwrap();

    // Self-contained: nothing fetched.
    for external in ["http://", "https://", "<link", "src=\""] {
        assert!(!html.contains(external), "{external} in the report");
    }
    // Untrusted text escaped, PAN masked.
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
    assert!(html.contains("&lt;script&gt;document.title="));
    assert!(!html.contains("<img src=x"));
    assert!(!html.contains("4999990000000015"), "the PAN is not masked");
    assert!(html.contains("499999******0015"));
    // The failing case: expected vs actual with the bit named, bit tables,
    // decoded TLV and the trail.
    for needle in [
        "Transaction exceeds floor limit",
        "expected clear, actual set",
        "Issuer authentication was performed",
        "Application Interchange Profile",
        "Decision trail",
        "APDU timeline",
        "GENERATE AC",
    ] {
        assert!(html.contains(needle), "{needle:?} not in the report");
    }

    if !browser_available() {
        return;
    }
    let url = format!("file://{}", html_path.display());

    // Loaded with its script run: counts filled in, self-check passed, no
    // error caught.
    let dom = chromium(&dir.join("profile-1"), &["--dump-dom"], &url);
    let root = &dom[dom.find("<html").unwrap()..];
    let root = &root[..root.find('>').unwrap()];
    assert!(
        root.contains("data-js=\"ok\""),
        "script did not finish: {root}"
    );
    assert!(root.contains("data-filter-check=\"ok\""), "{root}");
    assert!(!root.contains("data-js-error"), "script error: {root}");
    assert!(
        tag_with_id(&dom, "js-error").contains("hidden"),
        "the error banner is shown"
    );
    assert_eq!(text_of(&dom, "count-total"), "3");
    assert_eq!(text_of(&dom, "count-passed"), "2");
    assert_eq!(text_of(&dom, "count-failed"), "1");
    assert_eq!(text_of(&dom, "count-shown"), "3");
    assert!(!dom.contains("<title>owned"), "injected script ran");

    // The filter: `#filter=fail` at load hides the passing cases.
    let dom = chromium(
        &dir.join("profile-2"),
        &["--dump-dom"],
        &format!("{url}#filter=fail"),
    );
    let root = &dom[dom.find("<html").unwrap()..];
    let root = &root[..root.find('>').unwrap()];
    assert!(root.contains("data-js=\"ok\""), "{root}");
    assert!(root.contains("data-filter=\"fail\""), "{root}");
    assert_eq!(text_of(&dom, "count-shown"), "1");
    let rows: Vec<&str> = dom
        .match_indices("<tr class=\"case-row")
        .map(|(i, _)| &dom[i..i + dom[i..].find('>').unwrap()])
        .collect();
    assert_eq!(rows.len(), 3, "{rows:?}");
    for row in rows {
        let hidden = row.contains(" hidden");
        if row.contains("data-status=\"pass\"") {
            assert!(hidden, "a passing row is shown: {row}");
        } else {
            assert!(!hidden, "the failing row is hidden: {row}");
        }
    }

    // A screenshot: a real PNG of the window's size.
    let png = dir.join("report.png");
    let _ = std::fs::remove_file(&png);
    chromium(
        &dir.join("profile-3"),
        &[
            &format!("--screenshot={}", png.display()),
            "--window-size=1280,1600",
        ],
        &url,
    );
    let bytes = std::fs::read(&png).expect("no screenshot written");
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    let width = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    assert_eq!((width, height), (1280, 1600));
    assert!(
        bytes.len() > 20_000,
        "a {}-byte screenshot is too small to show the report",
        bytes.len()
    );
    println!("screenshot: {}", png.display());
    let _ = std::fs::remove_dir_all(dir.join("profile-1"));
    let _ = std::fs::remove_dir_all(dir.join("profile-2"));
    let _ = std::fs::remove_dir_all(dir.join("profile-3"));
}
