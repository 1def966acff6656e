//! Small host-side helpers to build BER-TLV responses (EMV Book 3 Annex B)
//! with the kernel's encoder.

use emv_kernel::Tag;
use emv_kernel::wire::encode::TlvWriter;

/// One primitive or pre-encoded constructed object.
pub(crate) fn tlv(tag: u32, value: &[u8]) -> Vec<u8> {
    let tag = Tag::new(tag);
    let mut probe = TlvWriter::new(&mut []);
    probe.primitive(tag, value);
    let mut out = vec![0u8; probe.len()];
    let mut w = TlvWriter::new(&mut out);
    w.primitive(tag, value);
    // Tags come from our own tables and values are bounded by APDU sizes;
    // an encoding error would leave a zero-filled buffer, which tests catch.
    let _ = w.finish();
    out
}

/// A constructed object around already-encoded children.
pub(crate) fn template(tag: u32, children: &[Vec<u8>]) -> Vec<u8> {
    tlv(tag, &children.concat())
}

/// Response data followed by a status word.
pub(crate) fn respond(mut data: Vec<u8>, sw: u16) -> Vec<u8> {
    data.extend_from_slice(&sw.to_be_bytes());
    data
}

/// A bare status word.
pub(crate) fn sw(sw: u16) -> Vec<u8> {
    sw.to_be_bytes().to_vec()
}
