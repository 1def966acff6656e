//! Entry points shared by the `fuzz/` targets (cargo-fuzz, nightly) and the
//! ordinary tests that replay the committed seeds on stable.
//!
//! Each function feeds arbitrary bytes to a parser and checks the invariants
//! that must hold for any input: no panic, offsets inside the input, and
//! whatever parses re-encodes consistently. An invariant violation is a bug,
//! reported by `assert!` so the fuzzer records the input.

use crate::Tag;
use crate::data::explain::explain;
use crate::wire::apdu::{CommandApdu, ResponseApdu};
use crate::wire::dol;
use crate::wire::tlv::{Mode, TlvIter};
use crate::wire::walk::{MAX_DEPTH, Walk, find, validate};

/// A `fmt::Write` sink that discards text.
struct Sink;

impl core::fmt::Write for Sink {
    fn write_str(&mut self, _s: &str) -> core::fmt::Result {
        Ok(())
    }
}

/// BER-TLV: iterate, walk, find and explain in both modes.
pub fn tlv(data: &[u8]) {
    for mode in [Mode::Strict, Mode::Canonical, Mode::Lenient] {
        let mut end = 0;
        for tlv in TlvIter::new(data, mode).flatten() {
            assert!(tlv.offset() >= end, "objects are in order");
            end = tlv.offset() + tlv.encoded_len();
            assert!(end <= data.len(), "object inside the input");
        }
        let walked_ok = Walk::<MAX_DEPTH>::new(data, mode).all(|n| {
            if let Ok(n) = n {
                let _ = explain(n.tlv.tag(), n.tlv.value(), &mut Sink);
                n.tlv.offset() + n.tlv.encoded_len() <= data.len()
            } else {
                true
            }
        });
        assert!(walked_ok, "walked objects inside the input");
        let valid = validate(data, mode).is_ok();
        if valid {
            // A valid stream's first top-level tag is found.
            if let Some(Ok(first)) = TlvIter::new(data, mode).next() {
                assert!(matches!(find(data, first.tag(), mode), Ok(Some(_))));
            }
        }
    }
    if let (Some(&a), Some(&b)) = (data.first(), data.get(1)) {
        let _ = explain(Tag::new(u32::from(a) << 8 | u32::from(b)), data, &mut Sink);
        let _ = explain(Tag::new(u32::from(a)), data, &mut Sink);
    }
}

/// DOL: parse, build (from the input itself as every element), split.
pub fn dol(data: &[u8]) {
    let len = dol::related_data_len(data);
    let mut out = [0u8; 512];
    let source = [
        (Tag::new(0x9F02), data),
        (Tag::new(0x5A), data),
        (Tag::new(0x9F37), data),
        (Tag::new(0x50), data),
    ];
    let built = dol::build(data, &source, &mut out);
    assert!(
        !(len.is_err() && built.is_ok()),
        "DOL build succeeded on a DOL that does not parse"
    );
    match (len, built) {
        (Ok(n), Ok(m)) => assert_eq!(n, m, "built length equals the DOL's"),
        (Ok(n), Err(_)) => assert!(n > out.len(), "only a too-small buffer fails"),
        _ => {}
    }
    let mut total = 0;
    for part in dol::split(data, data).flatten() {
        total += part.1.len();
    }
    assert!(total <= data.len());
}

/// C-APDU and R-APDU parsing; what parses re-encodes to the same bytes.
pub fn apdu(data: &[u8]) {
    if let Ok((c, encoding)) = CommandApdu::parse(data) {
        let mut buf = [0u8; 65_544];
        let n = c.emit(&mut buf, encoding);
        assert_eq!(n.ok().and_then(|n| buf.get(..n)), Some(data), "re-encodes");
    }
    if let Ok(r) = ResponseApdu::parse(data) {
        assert_eq!(r.data.len() + 2, data.len());
        let _ = r.sw.meaning();
    }
}
