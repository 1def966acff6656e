//! Shared helpers for the end-to-end tests: reading the public traces in
//! `vectors/traces` (provenance in `vectors/README.md`).
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::path::{Path, PathBuf};

use emv_kernel::wire::apdu::CommandApdu;
use emv_kernel::wire::apdu::ins::instruction_name;

/// One line of a trace: file, 1-based line number, bytes, and whether it is
/// a command.
#[derive(Debug, Clone)]
pub struct TraceLine {
    pub file: String,
    pub line: usize,
    pub bytes: Vec<u8>,
    pub is_command: bool,
}

pub fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("vectors/traces")
}

/// True when `bytes` reads as an EMV C-APDU: an ISO or EMV-proprietary
/// class, a known instruction and consistent length fields. The alternating
/// line files are not strictly alternating (see vectors/README.md), so lines
/// are classified by content.
pub fn looks_like_command(bytes: &[u8]) -> bool {
    let Some((&cla, rest)) = bytes.split_first() else {
        return false;
    };
    let Some(&ins) = rest.first() else {
        return false;
    };
    matches!(cla, 0x00 | 0x80 | 0x84 | 0x0C | 0x8C)
        && instruction_name(cla, ins).is_some()
        && CommandApdu::parse(bytes).is_ok()
}

/// Every line of every trace: the binaryfoo `*-in.txt` and
/// `amex-msd-mobile.txt` files, and the `cmd`/`resp` pairs of the k2-k3
/// mocks.
pub fn all_trace_lines() -> Vec<TraceLine> {
    let mut out = Vec::new();
    let bf = vectors_dir().join("binaryfoo");
    let mut files: Vec<_> = std::fs::read_dir(&bf)
        .expect("vectors/traces/binaryfoo")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name.ends_with("-in.txt") || name == "amex-msd-mobile.txt"
        })
        .collect();
    files.sort();
    for path in files {
        let text = std::fs::read_to_string(&path).expect("trace file");
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let bytes = hex::decode(line).unwrap_or_else(|e| panic!("{file}:{}: {e}", i + 1));
            let is_command = looks_like_command(&bytes);
            out.push(TraceLine {
                file: file.clone(),
                line: i + 1,
                bytes,
                is_command,
            });
        }
    }
    let mocks = vectors_dir().join("k2-k3-mocks");
    let mut files: Vec<_> = std::fs::read_dir(&mocks)
        .expect("vectors/traces/k2-k3-mocks")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("mock-"))
        })
        .collect();
    files.sort();
    for path in files {
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("mock file"))
                .expect("mock JSON");
        for (i, apdu) in json["apdus"].as_array().expect("apdus").iter().enumerate() {
            for (key, is_command) in [("cmd", true), ("resp", false)] {
                let hex_text = apdu[key].as_str().expect("hex string");
                out.push(TraceLine {
                    file: file.clone(),
                    line: i + 1,
                    bytes: hex::decode(hex_text).expect("mock hex"),
                    is_command,
                });
            }
        }
    }
    out
}
