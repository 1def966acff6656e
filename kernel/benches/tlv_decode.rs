//! TLV decoding throughput over the response data of the public traces
//! (`vectors/traces`, provenance in `vectors/README.md`).
//!
//! Run with `cargo bench -p emv-kernel --bench tlv_decode`; criterion
//! reports MiB/s of response data walked (every object, nested ones
//! included).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use emv_kernel::wire::tlv::{Mode, TlvIter};
use emv_kernel::wire::walk::{MAX_DEPTH, Walk};

/// Response data (SW removed) of every R-APDU in the traces.
fn responses() -> Vec<Vec<u8>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../vectors/traces");
    let mut out = Vec::new();
    let mut push = |hex_text: &str| {
        if let Ok(bytes) = hex::decode(hex_text.trim())
            && bytes.len() > 2
            && matches!(bytes.first(), Some(0x6F | 0x70 | 0x77 | 0x80))
        {
            out.push(bytes[..bytes.len() - 2].to_vec());
        }
    };
    for dir in ["binaryfoo", "k2-k3-mocks"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        for entry in entries.flatten() {
            let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
            if dir == "binaryfoo" {
                text.lines().for_each(&mut push);
            } else {
                // "resp": "..." fields of the mock JSON files.
                for part in text.split("\"resp\"").skip(1) {
                    if let Some(value) = part.split('"').nth(1) {
                        push(value);
                    }
                }
            }
        }
    }
    out
}

fn bench(c: &mut Criterion) {
    let data = responses();
    assert!(data.len() > 50, "trace responses not found");
    let total: usize = data.iter().map(Vec::len).sum();
    let mut group = c.benchmark_group("tlv_decode");
    group.throughput(Throughput::Bytes(total as u64));
    group.bench_function("walk_all_levels", |b| {
        b.iter(|| {
            let mut objects = 0usize;
            for r in &data {
                for node in Walk::<MAX_DEPTH>::new(black_box(r), Mode::Strict) {
                    objects += usize::from(node.is_ok());
                }
            }
            objects
        });
    });
    group.bench_function("top_level_only", |b| {
        b.iter(|| {
            let mut objects = 0usize;
            for r in &data {
                objects += TlvIter::new(black_box(r), Mode::Strict).count();
            }
            objects
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
