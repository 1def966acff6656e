//! The `pn532_frame` fuzz check, shared by the cargo-fuzz target
//! (`fuzz_targets/pn532_frame.rs`) and the stable seed replay
//! (`readers/tests/fuzz_seeds.rs`), both of which include this file with
//! `#[path]`.
//!
//! Invariants of `emv_readers::pn532::frame` (NXP UM0701-02 §6.2.1) for any
//! bytes: `decode` and `wire_len` never panic; a decoded frame lies inside the
//! input and `wire_len` announces exactly its length plus the postamble; an
//! information frame in the canonical form (normal frame for a PD of up to
//! 254 bytes, extended above) re-encodes to the same bytes (start code to
//! DCS), and every encodable frame decodes back to itself.

use emv_readers::pn532::frame::{
    ACK, Frame, MAX_EXTENDED_PD, MAX_FRAME_LEN, MAX_NORMAL_PD, NACK, decode, encode, frame_len,
    wire_len,
};

/// Runs every check on `data`.
pub(crate) fn pn532_frame(data: &[u8]) {
    let _ = wire_len(data);
    let Ok((frame, used)) = decode(data) else {
        return;
    };
    assert!(used <= data.len(), "frame inside the input");
    assert_eq!(
        wire_len(data),
        Some(used + 1),
        "wire_len = frame + postamble"
    );
    // Where the frame starts: the `00` of the first start code `00 FF`.
    let start = data
        .windows(2)
        .position(|w| w == [0x00, 0xFF])
        .expect("a decoded frame has a start code");
    let wire = &data[start..used];
    match frame {
        Frame::Ack => assert_eq!(wire, &ACK[1..5]),
        Frame::Nack => assert_eq!(wire, &NACK[1..5]),
        // TFI 7F with no PD, in the normal form `00 FF 01 FF 7F 81` or the extended
        // form `00 FF FF FF 00 01 FF 7F 81` (which the decoder also accepts).
        Frame::SyntaxError => assert!(wire.ends_with(&[0x01, 0xFF, 0x7F, 0x81])),
        Frame::Information { tfi, pd } => {
            assert!(pd.len() <= MAX_EXTENDED_PD, "PD within the PN532 limit");
            let mut out = [0u8; MAX_FRAME_LEN];
            match encode(tfi, pd, &mut out) {
                Ok(n) => {
                    assert_eq!(n, frame_len(pd.len()));
                    let encoded = &out[..n];
                    let extended = wire.get(2..4) == Some(&[0xFF, 0xFF][..]);
                    if extended == (pd.len() > MAX_NORMAL_PD) {
                        assert_eq!(&encoded[1..n - 1], wire, "re-encodes to the same bytes");
                    }
                    let again = decode(encoded);
                    assert_eq!(
                        again,
                        Ok((Frame::Information { tfi, pd }, n - 1)),
                        "encoded frame decodes back"
                    );
                }
                // Only an empty PD (LEN = 1, TFI alone) cannot be encoded.
                Err(_) => assert!(pd.is_empty(), "a decoded PD of {} bytes", pd.len()),
            }
        }
    }
}
