//! Property tests of the wire layer: encode → decode round trips, and "any
//! byte string parses or errors, never panics" for every parser.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use emv_kernel::Tag;
use emv_kernel::wire::apdu::{CommandApdu, ResponseApdu};
use emv_kernel::wire::dol;
use emv_kernel::wire::encode::TlvWriter;
use emv_kernel::wire::tlv::{Mode, TlvIter};
use emv_kernel::wire::walk::{MAX_DEPTH, Walk, validate};
use proptest::prelude::*;

/// An owned TLV tree for generation.
#[derive(Debug, Clone)]
enum Tree {
    Primitive(Tag, Vec<u8>),
    Constructed(Tag, Vec<Tree>),
}

/// A well-formed tag of 1–3 bytes with the given constructed bit.
fn tag(constructed: bool) -> impl Strategy<Value = Tag> {
    let c = if constructed { 0x20u32 } else { 0 };
    prop_oneof![
        // one byte: class bits free, low 5 bits not 1F, not 00 (padding)
        (0u32..4, 1u32..0x1F).prop_map(move |(class, n)| Tag::new(class << 6 | c | n)),
        // two bytes: 1F then 01..7F
        (0u32..4, 1u32..0x80)
            .prop_map(move |(class, n)| Tag::new((class << 6 | c | 0x1F) << 8 | n)),
        // three bytes: 1F, 81..FF, 00..7F
        (0u32..4, 0x81u32..0x100, 0u32..0x80)
            .prop_map(move |(class, a, b)| Tag::new(((class << 6 | c | 0x1F) << 16) | a << 8 | b)),
    ]
}

fn tree() -> impl Strategy<Value = Tree> {
    let leaf = (tag(false), prop::collection::vec(any::<u8>(), 0..300))
        .prop_map(|(t, v)| Tree::Primitive(t, v));
    leaf.prop_recursive(4, 64, 6, |inner| {
        (tag(true), prop::collection::vec(inner, 0..6))
            .prop_map(|(t, kids)| Tree::Constructed(t, kids))
    })
}

fn write(w: &mut TlvWriter<'_>, t: &Tree) {
    match t {
        Tree::Primitive(tag, v) => w.primitive(*tag, v),
        Tree::Constructed(tag, kids) => {
            w.constructed(*tag, |w| kids.iter().for_each(|k| write(w, k)))
        }
    }
}

fn flatten(t: &Tree, depth: usize, out: &mut Vec<(usize, Tag, Option<Vec<u8>>)>) {
    match t {
        Tree::Primitive(tag, v) => out.push((depth, *tag, Some(v.clone()))),
        Tree::Constructed(tag, kids) => {
            out.push((depth, *tag, None));
            kids.iter().for_each(|k| flatten(k, depth + 1, out));
        }
    }
}

fn encode(trees: &[Tree]) -> Vec<u8> {
    let mut w = TlvWriter::new(&mut []);
    trees.iter().for_each(|t| write(&mut w, t));
    let needed = w.len();
    let mut buf = vec![0u8; needed];
    let mut w = TlvWriter::new(&mut buf);
    trees.iter().for_each(|t| write(&mut w, t));
    assert_eq!(w.finish(), Ok(needed));
    buf
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn encode_then_walk_round_trips(trees in prop::collection::vec(tree(), 0..5), pad in 0usize..4) {
        let mut bytes = encode(&trees);
        // Padding before and after changes nothing.
        let mut padded = vec![0u8; pad];
        padded.extend_from_slice(&bytes);
        padded.extend(std::iter::repeat_n(0u8, pad));
        let mut expected = Vec::new();
        trees.iter().for_each(|t| flatten(t, 0, &mut expected));
        for (input, mode) in [(&bytes, Mode::Canonical), (&padded, Mode::Strict), (&bytes, Mode::Lenient)] {
            let got: Vec<_> = Walk::<MAX_DEPTH>::new(input, mode)
                .map(|n| {
                    let n = n.expect("encoded tree decodes");
                    let v = (!n.tlv.is_constructed()).then(|| n.tlv.value().to_vec());
                    (n.depth, n.tlv.tag(), v)
                })
                .collect();
            prop_assert_eq!(&got, &expected);
        }
        // Every strict prefix of a non-empty encoding is either a valid
        // shorter stream or an error, never a panic.
        bytes.truncate(bytes.len().saturating_sub(1));
        let _ = validate(&bytes, Mode::Strict);
    }

    #[test]
    fn too_small_buffer_reports_the_needed_length(trees in prop::collection::vec(tree(), 1..3), cut in 1usize..50) {
        let full = encode(&trees);
        let mut small = vec![0u8; full.len().saturating_sub(cut)];
        let small_len = small.len();
        let mut w = TlvWriter::new(&mut small);
        trees.iter().for_each(|t| write(&mut w, t));
        if full.len() > small_len {
            prop_assert_eq!(
                w.finish(),
                Err(emv_kernel::wire::encode::EncodeError::BufferTooSmall { needed: full.len() })
            );
        }
    }

    #[test]
    fn any_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        for mode in [Mode::Strict, Mode::Canonical, Mode::Lenient] {
            for t in TlvIter::new(&bytes, mode).flatten() {
                prop_assert!(t.offset() + t.encoded_len() <= bytes.len());
            }
            let _ = Walk::<MAX_DEPTH>::new(&bytes, mode).count();
            let _ = validate(&bytes, mode);
        }
        let _ = dol::related_data_len(&bytes);
        let _ = dol::split(&bytes, &bytes).count();
        let mut out = [0u8; 64];
        let _ = dol::build(&bytes, &[(Tag::new(0x9F02), &bytes[..])], &mut out);
        if let Ok((c, enc)) = CommandApdu::parse(&bytes) {
            // Whatever parses re-encodes to the same bytes.
            let mut buf = vec![0u8; bytes.len() + 8];
            let n = c.emit(&mut buf, enc).expect("re-encode");
            prop_assert_eq!(&buf[..n], &bytes[..]);
        }
        let _ = ResponseApdu::parse(&bytes);
    }

    #[test]
    fn dol_build_then_split(entries in prop::collection::vec((tag(false), 0usize..40), 0..12)) {
        let mut dol_bytes = Vec::new();
        for (t, len) in &entries {
            dol_bytes.extend_from_slice(&t.to_bytes()[..t.len()]);
            dol_bytes.push(*len as u8);
        }
        let total: usize = entries.iter().map(|e| e.1).sum();
        prop_assert_eq!(dol::related_data_len(&dol_bytes), Ok(total));
        let mut out = vec![0xAAu8; total];
        let src: [(Tag, &[u8]); 0] = [];
        prop_assert_eq!(dol::build(&dol_bytes, &src, &mut out), Ok(total));
        prop_assert!(out.iter().all(|&b| b == 0), "missing data is zeros");
        let parts: Vec<_> = dol::split(&dol_bytes, &out).collect::<Result<_, _>>().expect("split");
        prop_assert_eq!(parts.len(), entries.len());
        for ((entry, value), (t, len)) in parts.iter().zip(&entries) {
            prop_assert_eq!(entry.tag, *t);
            prop_assert_eq!(value.len(), *len);
        }
    }
}
