//! Reading the selection data a card returns: the FCI of the PSE and of an
//! ADF, and the PSE directory records (EMV Book 1 §11.3.4, §12.2.2–12.2.3).
//! Zero-copy; malformed data gives `None` or skips the entry, as Book 1
//! §12.3.2 prescribes.

use crate::wire::tlv::{Mode, Tlv, TlvIter};

/// The only top-level object of `data` with `tag`, if `data` is valid TLV.
fn child<'a>(data: &'a [u8], tag: u32) -> Option<Tlv<'a>> {
    let mut found = None;
    for item in TlvIter::new(data, Mode::Strict) {
        let tlv = item.ok()?;
        if tlv.tag().raw() == tag && found.is_none() {
            found = Some(tlv);
        }
    }
    found
}

/// The FCI template `6F` of a SELECT response, with its DF name (`84`) and
/// proprietary template (`A5`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fci<'a> {
    /// DF name (`84`).
    pub df_name: &'a [u8],
    /// Content of the FCI Proprietary Template (`A5`); empty if absent.
    pub proprietary: &'a [u8],
}

impl<'a> Fci<'a> {
    /// Parses response data as an FCI: a single `6F` holding `84`.
    #[must_use]
    pub fn parse(data: &'a [u8]) -> Option<Self> {
        let fci = child(data, 0x6F)?;
        let df_name = child(fci.value(), 0x84)?.value();
        let proprietary = child(fci.value(), 0xA5).map_or(&[][..], |t| t.value());
        Some(Self {
            df_name,
            proprietary,
        })
    }

    /// A primitive object of the proprietary template (`50`, `87`, `9F38`,
    /// `5F2D`, `9F11`, `9F12`, `88`).
    #[must_use]
    pub fn get(&self, tag: u32) -> Option<&'a [u8]> {
        child(self.proprietary, tag).map(|t| t.value())
    }

    /// The SFI of the PSE directory (`88`), when it is one byte in 1–30.
    #[must_use]
    pub fn directory_sfi(&self) -> Option<u8> {
        match self.get(0x88)? {
            &[sfi] if (1..=30).contains(&sfi) => Some(sfi),
            _ => None,
        }
    }
}

/// One ADF entry (`61`) of a PSE directory record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DirectoryEntry<'a> {
    /// ADF name (`4F`).
    pub aid: &'a [u8],
    /// Application Label (`50`).
    pub label: &'a [u8],
    /// Application Preferred Name (`9F12`).
    pub preferred_name: &'a [u8],
    /// Application Priority Indicator (`87`).
    pub priority_indicator: Option<u8>,
}

/// The ADF entries of a directory record `70 { 61 {…} 61 {…} }`. Entries
/// without a valid `4F` are skipped; other objects are ignored.
pub fn directory_entries(record: &[u8]) -> impl Iterator<Item = DirectoryEntry<'_>> {
    let body = child(record, 0x70).map_or(&[][..], |t| t.value());
    TlvIter::new(body, Mode::Strict)
        .map_while(Result::ok)
        .filter(|t| t.tag().raw() == 0x61)
        .filter_map(|entry| {
            let v = entry.value();
            let aid = child(v, 0x4F)?.value();
            if !(5..=16).contains(&aid.len()) {
                return None;
            }
            Some(DirectoryEntry {
                aid,
                label: child(v, 0x50).map_or(&[][..], |t| t.value()),
                preferred_name: child(v, 0x9F12).map_or(&[][..], |t| t.value()),
                priority_indicator: child(v, 0x87).and_then(|t| match t.value() {
                    &[p] => Some(p),
                    _ => None,
                }),
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pse_fci_and_directory() {
        // 6F 1A 84 0E "1PAY.SYS.DDF01" A5 08 88 01 01 5F2D 02 "en"
        let mut fci = alloc_free(&[0x6F, 0x1A, 0x84, 0x0E]);
        fci.extend(b"1PAY.SYS.DDF01".iter().copied());
        fci.extend([0xA5, 0x08, 0x88, 0x01, 0x01, 0x5F, 0x2D, 0x02, b'e', b'n']);
        let f = Fci::parse(fci.as_slice()).unwrap();
        assert_eq!(f.df_name, b"1PAY.SYS.DDF01");
        assert_eq!(f.directory_sfi(), Some(1));
        assert_eq!(f.get(0x5F2D), Some(&b"en"[..]));

        // Two entries, one invalid (AID too short), one with 87.
        let rec = [
            0x70, 0x19, 0x61, 0x04, 0x4F, 0x02, 0xA0, 0x00, 0x61, 0x11, 0x4F, 0x07, 0xA0, 0, 0, 0,
            3, 0x10, 0x10, 0x50, 0x03, b'V', b'I', b'S', 0x87, 0x01, 0x81,
        ];
        let mut it = directory_entries(&rec);
        let e = it.next().unwrap();
        assert_eq!(e.aid, &[0xA0, 0, 0, 0, 3, 0x10, 0x10]);
        assert_eq!(e.label, b"VIS");
        assert_eq!(e.priority_indicator, Some(0x81));
        assert!(it.next().is_none());
    }

    #[test]
    fn bad_data_gives_none() {
        assert_eq!(Fci::parse(&[0x6F, 0x02, 0x50, 0x00]), None, "no 84");
        assert_eq!(Fci::parse(&[0x6F, 0x05, 0x84]), None, "malformed");
        let f = Fci::parse(&[0x6F, 0x07, 0x84, 0x01, 0xAA, 0xA5, 0x02, 0x88, 0x00]).unwrap();
        assert_eq!(f.directory_sfi(), None, "SFI must be one byte");
        assert_eq!(directory_entries(&[0x70, 0x05, 0x61]).count(), 0);
    }

    /// A tiny fixed buffer so the test needs no allocator.
    struct Buf {
        data: [u8; 64],
        len: usize,
    }
    impl Buf {
        fn extend(&mut self, bytes: impl IntoIterator<Item = u8>) {
            for b in bytes {
                self.data[self.len] = b;
                self.len += 1;
            }
        }
        fn as_slice(&self) -> &[u8] {
            &self.data[..self.len]
        }
    }
    fn alloc_free(start: &[u8]) -> Buf {
        let mut b = Buf {
            data: [0; 64],
            len: 0,
        };
        b.extend(start.iter().copied());
        b
    }
}
