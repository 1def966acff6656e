//! Card-side ODA signing cost (EMV 4.4 Book 2): the CDA signature a card
//! computes in every GENERATE AC (Tables 19 and 22) with a 1984-bit ICC key,
//! and certificate issuance (Tables 6 and 14) with 1984-bit signers.
//!
//! Run with `cargo bench -p emv-test-cards --bench sign`. Keys come from
//! fixed seeds; generating them (a few seconds) happens once, before the
//! measurements.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use emv_test_cards::pki::certificate::{issue_icc_certificate, verify_icc_certificate};
use emv_test_cards::pki::signing::{
    sign_dynamic_data_cda, transaction_data_hash_code, verify_dynamic_data_cda,
};
use emv_test_cards::pki::{CertificateExpiry, Exponent, RsaKeyPair, TestCa};

const PAN: [u8; 8] = [0x54, 0x13, 0x33, 0x00, 0x89, 0x60, 0x00, 0x44];

fn bench(c: &mut Criterion) {
    let ca = TestCa::shipped(0x01).unwrap();
    let issuer = RsaKeyPair::from_seed(b"bench/issuer-1984", 1984, Exponent::Three).unwrap();
    let icc = RsaKeyPair::from_seed(b"bench/icc-1984", 1984, Exponent::Three).unwrap();
    let expiry = CertificateExpiry::new(12, 30).unwrap();
    let static_data = vec![0x5A; 200];

    let pdol = [0u8; 13];
    let cdol = [0u8; 66];
    let response = [
        0x9F, 0x27, 0x01, 0x40, 0x9F, 0x36, 0x02, 0x00, 0x10, 0x9F, 0x10, 0x07, 0x06, 0x01, 0x0A,
        0x03, 0xA0, 0x00, 0x00,
    ];
    let un = [0x33, 0xBC, 0xA4, 0x7D];
    let tdhc = transaction_data_hash_code(&pdol, &cdol, &response).unwrap();

    let mut group = c.benchmark_group("sign");
    group.bench_function("cda_sdad_1984", |b| {
        b.iter(|| {
            let tdhc = transaction_data_hash_code(
                black_box(&pdol),
                black_box(&cdol),
                black_box(&response),
            )
            .unwrap();
            sign_dynamic_data_cda(&icc, &[1, 2, 3, 4, 5, 6, 7, 8], 0x40, [0xAC; 8], tdhc, un)
                .unwrap()
        });
    });
    group.bench_function("issuer_certificate_1984", |b| {
        b.iter(|| {
            ca.issue_issuer_certificate(
                &issuer,
                [0x54, 0x13, 0x33, 0xFF],
                expiry,
                black_box([0, 0, 1]),
            )
            .unwrap()
        });
    });
    group.bench_function("icc_certificate_1984", |b| {
        b.iter(|| {
            issue_icc_certificate(
                &issuer,
                &icc,
                &PAN,
                expiry,
                [0, 0, 1],
                black_box(&static_data),
            )
            .unwrap()
        });
    });
    group.finish();

    // The terminal side of the same objects, for comparison (public
    // exponent 3: much cheaper than signing).
    let sdad = sign_dynamic_data_cda(&icc, &[1, 2, 3, 4], 0x40, [0xAC; 8], tdhc, un).unwrap();
    let icc_cert =
        issue_icc_certificate(&issuer, &icc, &PAN, expiry, [0, 0, 1], &static_data).unwrap();
    let mut group = c.benchmark_group("verify");
    group.bench_function("cda_sdad_1984", |b| {
        b.iter(|| verify_dynamic_data_cda(&icc, black_box(&sdad), un, &tdhc).unwrap());
    });
    group.bench_function("icc_certificate_1984", |b| {
        b.iter(|| verify_icc_certificate(&issuer, black_box(&icc_cert), &static_data).unwrap());
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
