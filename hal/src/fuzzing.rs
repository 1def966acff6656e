//! Entry points shared by the `fuzz/` targets (cargo-fuzz, nightly) and the
//! ordinary tests that replay the committed seeds on stable. An invariant
//! violation is reported by `assert!` so the fuzzer records the input.

use crate::atr::{Atr, EmvCheckOptions, NegotiableTa1Policy, Tc1Policy, explain_with};

/// A `fmt::Write` sink that discards text.
struct Sink;

impl core::fmt::Write for Sink {
    fn write_str(&mut self, _s: &str) -> core::fmt::Result {
        Ok(())
    }
}

/// ATR: parse, check against the EMV rules with every option set, explain.
pub fn atr(data: &[u8]) {
    let Ok(atr) = Atr::parse(data) else {
        return;
    };
    assert_eq!(atr.raw(), data, "a parsed ATR spans the whole input");
    assert!(atr.historical_bytes().len() <= 15);
    for options in [
        EmvCheckOptions::COLD,
        EmvCheckOptions::WARM,
        EmvCheckOptions {
            tc1: Tc1Policy::Any,
            negotiable_ta1: NegotiableTa1Policy::FiNonZeroDiAtLeast3,
            cold_tb1_must_be_zero: false,
            reject_tb2: false,
            ..EmvCheckOptions::COLD
        },
    ] {
        let _ = atr.emv_check_with(&options);
        let _ = explain_with(&atr, &options, &mut Sink);
    }
}
