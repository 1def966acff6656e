//! The transaction's data store: every data object the card returns and
//! the terminal supplies, in fixed capacity (no heap), with the rule of
//! EMV Book 3 §10.2 that a primitive data object may appear only once in
//! the card's data ("redundant primitive" → terminate).
//!
//! Values live in one byte arena; entries index into it. Capacity is set by
//! const generics so firmware sizes it; [`TransactionStore`] is the size the
//! contact kernel uses.

use crate::Tag;
use crate::wire::dol::DataSource;

/// Who supplied a data object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// The card (FCI, GPO, records, GENERATE AC…).
    Card,
    /// The terminal (configuration, transaction inputs, TVR…).
    Terminal,
    /// The issuer (authorisation response).
    Issuer,
}

/// Why a value could not be stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreError {
    /// The card sent a primitive data object it had already sent (Book 3
    /// §10.2: terminate the transaction).
    Redundant(Tag),
    /// No room left for the entry or its bytes.
    Full(Tag),
}

impl core::fmt::Display for StoreError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Redundant(t) => write!(f, "the card sent data object {t} twice"),
            Self::Full(t) => write!(f, "no room to store data object {t}"),
        }
    }
}

#[derive(Clone, Copy, Debug, Default)]
struct Entry {
    tag: u32,
    start: u16,
    len: u16,
    origin: u8,
}

/// A fixed-capacity tag → value store.
#[derive(Clone, Debug)]
pub struct Store<const BYTES: usize, const ENTRIES: usize> {
    arena: [u8; BYTES],
    used: usize,
    entries: [Entry; ENTRIES],
    count: usize,
}

/// The contact kernel's store: 4 KiB of values, 128 objects (certificates
/// of 248 bytes, records, terminal data; sized with room to spare).
pub type TransactionStore = Store<4096, 128>;

const fn origin_code(o: Origin) -> u8 {
    match o {
        Origin::Card => 0,
        Origin::Terminal => 1,
        Origin::Issuer => 2,
    }
}

impl<const BYTES: usize, const ENTRIES: usize> Default for Store<BYTES, ENTRIES> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const BYTES: usize, const ENTRIES: usize> Store<BYTES, ENTRIES> {
    /// An empty store.
    #[must_use]
    #[inline]
    pub const fn new() -> Self {
        Self {
            arena: [0; BYTES],
            used: 0,
            entries: [Entry {
                tag: 0,
                start: 0,
                len: 0,
                origin: 0,
            }; ENTRIES],
            count: 0,
        }
    }

    fn position(&self, tag: Tag) -> Option<usize> {
        self.entries
            .get(..self.count)?
            .iter()
            .position(|e| e.tag == tag.raw())
    }

    /// The value of `tag`, if stored.
    #[must_use]
    pub fn get(&self, tag: Tag) -> Option<&[u8]> {
        let e = self.entries.get(self.position(tag)?)?;
        let start = usize::from(e.start);
        self.arena.get(start..start + usize::from(e.len))
    }

    /// Who supplied `tag`.
    #[must_use]
    pub fn origin(&self, tag: Tag) -> Option<Origin> {
        let e = self.entries.get(self.position(tag)?)?;
        Some(match e.origin {
            0 => Origin::Card,
            1 => Origin::Terminal,
            _ => Origin::Issuer,
        })
    }

    /// True when `tag` is stored.
    #[must_use]
    pub fn contains(&self, tag: Tag) -> bool {
        self.position(tag).is_some()
    }

    /// Number of objects stored.
    #[must_use]
    pub const fn len(&self) -> usize {
        self.count
    }

    /// True when nothing is stored.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Bytes of values stored.
    #[must_use]
    pub const fn bytes_used(&self) -> usize {
        self.used
    }

    /// Removes every object, in place (the bytes used are zeroed: the
    /// store holds the PAN and Track 2).
    pub fn clear(&mut self) {
        if let Some(used) = self.arena.get_mut(..self.used) {
            used.fill(0);
        }
        self.used = 0;
        self.count = 0;
    }

    /// Stores a card data object; a second occurrence of the same tag is
    /// [`StoreError::Redundant`].
    pub fn insert_card(&mut self, tag: Tag, value: &[u8]) -> Result<(), StoreError> {
        if self.contains(tag) {
            return Err(StoreError::Redundant(tag));
        }
        self.set(tag, value, Origin::Card)
    }

    /// Stores or replaces a value (terminal data, issuer data, and card
    /// data the kernel updates, such as the TVR).
    pub fn set(&mut self, tag: Tag, value: &[u8], origin: Origin) -> Result<(), StoreError> {
        let len = u16::try_from(value.len()).map_err(|_| StoreError::Full(tag))?;
        if let Some(i) = self.position(tag) {
            let e = self.entries.get(i).copied().unwrap_or_default();
            if usize::from(e.len) == value.len() {
                // Same size: overwrite in place (TVR, TSI updates).
                let start = usize::from(e.start);
                if let Some(dst) = self.arena.get_mut(start..start + value.len()) {
                    dst.copy_from_slice(value);
                }
                if let Some(slot) = self.entries.get_mut(i) {
                    slot.origin = origin_code(origin);
                }
                return Ok(());
            }
            self.remove_at(i);
        }
        let start = self.used;
        let dst = self
            .arena
            .get_mut(start..start + value.len())
            .ok_or(StoreError::Full(tag))?;
        let slot = self
            .entries
            .get_mut(self.count)
            .ok_or(StoreError::Full(tag))?;
        dst.copy_from_slice(value);
        *slot = Entry {
            tag: tag.raw(),
            start: u16::try_from(start).map_err(|_| StoreError::Full(tag))?,
            len,
            origin: origin_code(origin),
        };
        self.used += value.len();
        self.count += 1;
        Ok(())
    }

    /// Removes entry `i`, compacting the arena.
    fn remove_at(&mut self, i: usize) {
        let Some(e) = self.entries.get(i).copied() else {
            return;
        };
        let (start, len) = (usize::from(e.start), usize::from(e.len));
        if let Some(tail) = self.arena.get_mut(start..self.used) {
            tail.rotate_left(len);
        }
        self.used -= len;
        if let Some(rest) = self.entries.get_mut(i..self.count) {
            rest.rotate_left(1);
        }
        self.count -= 1;
        for e in self.entries.iter_mut().take(self.count) {
            if usize::from(e.start) > start {
                e.start -= len as u16;
            }
        }
    }

    /// Removes `tag` if present.
    pub fn remove(&mut self, tag: Tag) {
        if let Some(i) = self.position(tag) {
            self.remove_at(i);
        }
    }

    /// Every stored object, in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (Tag, &[u8], Origin)> + '_ {
        self.entries.iter().take(self.count).map(|e| {
            let start = usize::from(e.start);
            let value = self
                .arena
                .get(start..start + usize::from(e.len))
                .unwrap_or_default();
            let origin = match e.origin {
                0 => Origin::Card,
                1 => Origin::Terminal,
                _ => Origin::Issuer,
            };
            (Tag::new(e.tag), value, origin)
        })
    }
}

impl<const BYTES: usize, const ENTRIES: usize> DataSource for Store<BYTES, ENTRIES> {
    fn value(&self, tag: Tag) -> Option<&[u8]> {
        self.get(tag)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_get_and_redundant() {
        let mut s = Store::<64, 4>::new();
        s.insert_card(Tag::new(0x5A), &[0x47, 0x61]).unwrap();
        s.set(Tag::new(0x95), &[0; 5], Origin::Terminal).unwrap();
        assert_eq!(s.get(Tag::new(0x5A)), Some(&[0x47, 0x61][..]));
        assert_eq!(s.origin(Tag::new(0x95)), Some(Origin::Terminal));
        assert_eq!(
            s.insert_card(Tag::new(0x5A), &[1]),
            Err(StoreError::Redundant(Tag::new(0x5A)))
        );
        assert_eq!(s.get(Tag::new(0x9F02)), None);
    }

    #[test]
    fn replace_resize_and_remove_keep_other_values() {
        let mut s = Store::<64, 8>::new();
        s.set(Tag::new(0x01), &[1, 1, 1], Origin::Terminal).unwrap();
        s.set(Tag::new(0x02), &[2, 2], Origin::Terminal).unwrap();
        s.set(Tag::new(0x03), &[3], Origin::Terminal).unwrap();
        s.set(Tag::new(0x01), &[9, 9, 9], Origin::Terminal).unwrap();
        assert_eq!(s.get(Tag::new(0x01)), Some(&[9, 9, 9][..]));
        s.set(Tag::new(0x02), &[7, 7, 7, 7], Origin::Issuer)
            .unwrap();
        assert_eq!(s.get(Tag::new(0x02)), Some(&[7, 7, 7, 7][..]));
        assert_eq!(s.get(Tag::new(0x03)), Some(&[3][..]));
        assert_eq!(s.get(Tag::new(0x01)), Some(&[9, 9, 9][..]));
        assert_eq!(s.bytes_used(), 8);
        s.remove(Tag::new(0x01));
        assert_eq!(s.get(Tag::new(0x03)), Some(&[3][..]));
        assert_eq!(s.get(Tag::new(0x02)), Some(&[7, 7, 7, 7][..]));
        assert_eq!(s.len(), 2);
        let tags: [u32; 2] = {
            let mut it = s.iter().map(|(t, _, _)| t.raw());
            [it.next().unwrap(), it.next().unwrap()]
        };
        assert_eq!(tags, [0x03, 0x02]);
    }

    #[test]
    fn full() {
        let mut s = Store::<4, 2>::new();
        s.set(Tag::new(0x01), &[1, 2, 3], Origin::Card).unwrap();
        assert_eq!(
            s.set(Tag::new(0x02), &[1, 2], Origin::Card),
            Err(StoreError::Full(Tag::new(0x02)))
        );
        s.set(Tag::new(0x02), &[1], Origin::Card).unwrap();
        assert_eq!(
            s.set(Tag::new(0x03), &[], Origin::Card),
            Err(StoreError::Full(Tag::new(0x03)))
        );
    }

    #[test]
    fn serves_dol_data() {
        let mut s = TransactionStore::new();
        s.set(Tag::new(0x9F02), &[0, 0, 0, 0, 0x10, 0], Origin::Terminal)
            .unwrap();
        let mut out = [0u8; 8];
        let n =
            crate::wire::dol::build(&[0x9F, 0x02, 0x06, 0x9F, 0x37, 0x02], &s, &mut out).unwrap();
        assert_eq!(&out[..n], &[0, 0, 0, 0, 0x10, 0, 0, 0]);
    }
}
