//! The framework shared by every bit view (EMV 4.4 Book 3 §4.3 "b" format
//! data elements whose bits each carry a meaning, e.g. Annex C5 TVR, C6 TSI).
//!
//! Bits are numbered as in the EMV books: byte 1 is the first byte
//! transmitted, `b8` is its most significant bit (`0x80`) and `b1` its least
//! significant (`0x01`).
//!
//! - [`Flag`]: one named bit of one view. The view type is part of the flag's
//!   type, so a TVR flag cannot be tested on a TSI.
//! - [`Field`]: a named group of bits that together hold a number or a code
//!   (e.g. the "number of issuer script commands" nibble of a CVR).
//! - [`BitView`]: what every generated view offers, so the `explain` module
//!   can print any of them generically.
//! - `bit_view!` (crate-internal): generates a view newtype, its flag and
//!   field constants, and the `BitView` implementation.

use core::fmt;
use core::marker::PhantomData;

use crate::wire::tag::Tag;

/// One named bit of the bit view `V`.
///
/// `byte` is 1-based as in the books; `mask` has exactly one bit set.
pub struct Flag<V> {
    /// Byte number, 1-based (byte 1 is the first byte of the value).
    pub byte: u8,
    /// The bit inside that byte (`0x80` is b8, `0x01` is b1).
    pub mask: u8,
    /// The meaning of the bit when it is set, as the specification names it.
    pub name: &'static str,
    /// False for a meaning taken from general knowledge or a single
    /// unverified public source, marked **\[M\]** in the docs: explanations
    /// show such meanings with an `[M]` suffix.
    pub confirmed: bool,
    _view: PhantomData<fn() -> V>,
}

impl<V> Flag<V> {
    /// A flag for bit `mask` of byte `byte` (1-based).
    #[must_use]
    pub const fn new(byte: u8, mask: u8, name: &'static str) -> Self {
        Self::with_confidence(byte, mask, name, true)
    }

    /// A flag whose meaning is confirmed (`true`) or not (`false`, **\[M\]**).
    #[must_use]
    pub const fn with_confidence(byte: u8, mask: u8, name: &'static str, confirmed: bool) -> Self {
        Self {
            byte,
            mask,
            name,
            confirmed,
            _view: PhantomData,
        }
    }

    /// The bit number as the books write it: 8 for `0x80` … 1 for `0x01`
    /// (the highest set bit of the mask; 0 for an empty mask).
    #[must_use]
    pub const fn bit(&self) -> u8 {
        bit_number(self.mask)
    }

    /// Whether this flag is set in `bytes` (a value of the view's element).
    /// A byte that is missing reads as zero.
    #[must_use]
    pub fn is_set_in(&self, bytes: &[u8]) -> bool {
        byte_at(bytes, self.byte) & self.mask != 0
    }
}

// Manual impls: a derive would demand `V: Clone` and so on, but the view type
// is only a marker.
impl<V> Clone for Flag<V> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<V> Copy for Flag<V> {}

impl<V> PartialEq for Flag<V> {
    fn eq(&self, other: &Self) -> bool {
        self.byte == other.byte && self.mask == other.mask
    }
}

impl<V> Eq for Flag<V> {}

impl<V> fmt::Debug for Flag<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "byte {} bit {}: {}", self.byte, self.bit(), self.name)
    }
}

impl<V> fmt::Display for Flag<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "byte {} bit {}: {}", self.byte, self.bit(), self.name)
    }
}

/// A named group of adjacent bits of the bit view `V` that holds a number or
/// a code rather than independent flags.
pub struct Field<V> {
    /// Byte number, 1-based.
    pub byte: u8,
    /// The bits of the group inside that byte (contiguous, e.g. `0xF0`).
    pub mask: u8,
    /// What the group holds.
    pub name: &'static str,
    /// False for a meaning marked **\[M\]** (unconfirmed), as for [`Flag`].
    pub confirmed: bool,
    _view: PhantomData<fn() -> V>,
}

impl<V> Field<V> {
    /// A field made of the bits `mask` of byte `byte` (1-based).
    #[must_use]
    pub const fn new(byte: u8, mask: u8, name: &'static str) -> Self {
        Self::with_confidence(byte, mask, name, true)
    }

    /// A field whose meaning is confirmed (`true`) or not (`false`, **\[M\]**).
    #[must_use]
    pub const fn with_confidence(byte: u8, mask: u8, name: &'static str, confirmed: bool) -> Self {
        Self {
            byte,
            mask,
            name,
            confirmed,
            _view: PhantomData,
        }
    }

    /// Highest bit number of the group (8 for `0xF0`).
    #[must_use]
    pub const fn high_bit(&self) -> u8 {
        bit_number(self.mask)
    }

    /// Lowest bit number of the group (5 for `0xF0`; 0 for an empty mask).
    #[must_use]
    pub const fn low_bit(&self) -> u8 {
        if self.mask == 0 {
            0
        } else {
            // `trailing_zeros` of a non-zero u8 is at most 7.
            (self.mask.trailing_zeros() as u8) + 1
        }
    }

    /// The group's value in `bytes`, shifted down to start at bit 0. A byte
    /// that is missing reads as zero.
    #[must_use]
    pub fn value_in(&self, bytes: &[u8]) -> u8 {
        let shift = self.low_bit().saturating_sub(1);
        (byte_at(bytes, self.byte) & self.mask) >> shift
    }
}

impl<V> Clone for Field<V> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<V> Copy for Field<V> {}

impl<V> PartialEq for Field<V> {
    fn eq(&self, other: &Self) -> bool {
        self.byte == other.byte && self.mask == other.mask
    }
}

impl<V> Eq for Field<V> {}

impl<V> fmt::Debug for Field<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "byte {} bits {}-{}: {}",
            self.byte,
            self.high_bit(),
            self.low_bit(),
            self.name
        )
    }
}

/// The position of one bit: byte number (1-based) and bit number (8 = b8).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BitPos {
    /// Byte number, 1-based.
    pub byte: u8,
    /// Bit number, 1 (`0x01`) to 8 (`0x80`).
    pub bit: u8,
}

impl BitPos {
    /// The bit as a mask inside its byte (`0x80` for bit 8).
    #[must_use]
    pub const fn mask(self) -> u8 {
        if self.bit == 0 || self.bit > 8 {
            0
        } else {
            1 << (self.bit - 1)
        }
    }
}

impl fmt::Display for BitPos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "byte {} bit {}", self.byte, self.bit)
    }
}

/// What every bit view offers, for code that handles views generically
/// (the `explain` module, tests).
pub trait BitView: Sized + Copy + 'static {
    /// The data element's tag, or `None` for a view of part of another
    /// element (e.g. the CVR inside Issuer Application Data).
    const TAG: Option<Tag>;
    /// The value's length in bytes.
    const LEN: usize;
    /// The element's name, e.g. "Terminal Verification Results".
    const NAME: &'static str;
    /// Every named bit, in byte order then from b8 down to b1.
    const FLAGS: &'static [Flag<Self>];
    /// Every multi-bit group (empty for pure flag views).
    const FIELDS: &'static [Field<Self>];

    /// The view over `bytes`, or `None` when `bytes.len() != LEN`.
    fn from_bytes(bytes: &[u8]) -> Option<Self>;

    /// The value bytes.
    fn as_bytes(&self) -> &[u8];
}

/// The set bits of `bytes` that no flag and no field of `V` names (RFU or
/// unknown bits). Works on a value of any length; bytes past `V::LEN` are
/// reported bit by bit too.
pub fn rfu_bits<V: BitView>(bytes: &[u8]) -> impl Iterator<Item = BitPos> + '_ {
    bytes.iter().zip(1u8..).flat_map(|(&b, byte)| {
        let named = named_mask::<V>(byte);
        (1u8..=8).rev().filter_map(move |bit| {
            let pos = BitPos { byte, bit };
            let m = pos.mask();
            (b & m != 0 && named & m == 0).then_some(pos)
        })
    })
}

/// The bits of byte `byte` (1-based) that a flag or a field of `V` names.
#[must_use]
pub fn named_mask<V: BitView>(byte: u8) -> u8 {
    let flags = V::FLAGS
        .iter()
        .filter(|f| f.byte == byte)
        .fold(0u8, |acc, f| acc | f.mask);
    V::FIELDS
        .iter()
        .filter(|f| f.byte == byte)
        .fold(flags, |acc, f| acc | f.mask)
}

/// The flags of `V` that are set in `bytes`.
pub fn set_flags_in<V: BitView>(bytes: &[u8]) -> impl Iterator<Item = &'static Flag<V>> + '_ {
    V::FLAGS.iter().filter(move |f| f.is_set_in(bytes))
}

/// The byte with 1-based number `byte`, or 0 when it is not there.
fn byte_at(bytes: &[u8], byte: u8) -> u8 {
    usize::from(byte)
        .checked_sub(1)
        .and_then(|i| bytes.get(i))
        .copied()
        .unwrap_or(0)
}

/// Bit number (1–8) of the highest set bit of `mask`; 0 for 0.
const fn bit_number(mask: u8) -> u8 {
    // `leading_zeros` of a u8 is at most 8.
    8 - (mask.leading_zeros() as u8)
}

/// Generates a bit view: a `Copy` newtype over the element's bytes with named
/// [`Flag`] (and optionally [`Field`]) constants and a [`BitView`]
/// implementation. A flag or field followed by `[M]` is unconfirmed
/// (`confirmed: false`).
///
/// ```text
/// bit_view! {
///     /// Doc of the type.
///     pub struct Tsi([u8; 2]);
///     tag: Some(Tag::new(0x9B));
///     name: "Transaction Status Information";
///     flags {
///         ODA_PERFORMED = (1, 0x80, "Offline data authentication was performed");
///         GUESSED = (1, 0x01, "A meaning from one unverified source") [M];
///     }
///     fields {}
/// }
/// ```
macro_rules! bit_view {
    (@confirmed) => {
        true
    };
    (@confirmed M) => {
        false
    };
    (
        $(#[$meta:meta])*
        $vis:vis struct $view:ident([u8; $len:literal]);
        tag: $tag:expr;
        name: $name:literal;
        flags {
            $(
                $(#[$fmeta:meta])*
                $flag:ident = ($fbyte:literal, $fmask:literal, $fname:literal) $([$fm:ident])?;
            )*
        }
        fields {
            $(
                $(#[$dmeta:meta])*
                $field:ident = ($dbyte:literal, $dmask:literal, $dname:literal) $([$dm:ident])?;
            )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Hash)]
        $vis struct $view(pub [u8; $len]);

        #[allow(dead_code)]
        impl $view {
            /// Length of the value in bytes.
            pub const LEN: usize = $len;

            $(
                #[doc = concat!("Byte ", stringify!($fbyte), ", mask `", stringify!($fmask), "`: ", $fname, ".")]
                $(#[$fmeta])*
                $(#[doc = concat!("\n\n**\\[", stringify!($fm), "\\]** unconfirmed meaning.")])?
                pub const $flag: $crate::data::bits::Flag<Self> =
                    $crate::data::bits::Flag::with_confidence(
                        $fbyte,
                        $fmask,
                        $fname,
                        $crate::data::bits::bit_view!(@confirmed $($fm)?),
                    );
            )*

            $(
                #[doc = concat!("Byte ", stringify!($dbyte), ", bits `", stringify!($dmask), "`: ", $dname, ".")]
                $(#[$dmeta])*
                $(#[doc = concat!("\n\n**\\[", stringify!($dm), "\\]** unconfirmed meaning.")])?
                pub const $field: $crate::data::bits::Field<Self> =
                    $crate::data::bits::Field::with_confidence(
                        $dbyte,
                        $dmask,
                        $dname,
                        $crate::data::bits::bit_view!(@confirmed $($dm)?),
                    );
            )*

            /// Every named bit, in byte order then from b8 down to b1.
            pub const FLAGS: &'static [$crate::data::bits::Flag<Self>] = &[$(Self::$flag),*];

            /// Every multi-bit group of the view.
            pub const FIELDS: &'static [$crate::data::bits::Field<Self>] = &[$(Self::$field),*];

            /// The view over these bytes.
            #[must_use]
            pub const fn new(bytes: [u8; $len]) -> Self {
                Self(bytes)
            }

            /// The view over `bytes`, or `None` unless `bytes` has exactly
            #[doc = concat!(stringify!($len), " bytes.")]
            #[must_use]
            pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
                <[u8; $len]>::try_from(bytes).ok().map(Self)
            }

            /// The value bytes.
            #[must_use]
            pub const fn as_bytes(&self) -> &[u8; $len] {
                &self.0
            }

            /// The value bytes, by value.
            #[must_use]
            pub const fn to_bytes(self) -> [u8; $len] {
                self.0
            }

            /// True when `flag` is set.
            #[must_use]
            pub fn contains(&self, flag: $crate::data::bits::Flag<Self>) -> bool {
                flag.is_set_in(&self.0)
            }

            /// Sets `flag`.
            pub fn set(&mut self, flag: $crate::data::bits::Flag<Self>) {
                if let Some(b) = usize::from(flag.byte)
                    .checked_sub(1)
                    .and_then(|i| self.0.get_mut(i))
                {
                    *b |= flag.mask;
                }
            }

            /// Clears `flag`.
            pub fn clear(&mut self, flag: $crate::data::bits::Flag<Self>) {
                if let Some(b) = usize::from(flag.byte)
                    .checked_sub(1)
                    .and_then(|i| self.0.get_mut(i))
                {
                    *b &= !flag.mask;
                }
            }

            /// A copy with `flag` set.
            #[must_use]
            pub fn with(mut self, flag: $crate::data::bits::Flag<Self>) -> Self {
                self.set(flag);
                self
            }

            /// A copy with `flag` cleared.
            #[must_use]
            pub fn without(mut self, flag: $crate::data::bits::Flag<Self>) -> Self {
                self.clear(flag);
                self
            }

            /// True when no bit at all is set.
            #[must_use]
            pub fn is_empty(&self) -> bool {
                self.0.iter().all(|&b| b == 0)
            }

            /// The named flags that are set, in byte order then b8 to b1.
            pub fn set_flags(
                &self,
            ) -> impl Iterator<Item = &'static $crate::data::bits::Flag<Self>> + 'static {
                let v = *self;
                Self::FLAGS.iter().filter(move |f| v.contains(**f))
            }

            /// The set bits that neither a flag nor a field names (RFU).
            pub fn rfu_bits_set(
                &self,
            ) -> impl Iterator<Item = $crate::data::bits::BitPos> + 'static {
                let v = *self;
                (1u8..=$len).flat_map(move |byte| {
                    let b = v.0.get(usize::from(byte) - 1).copied().unwrap_or(0);
                    let named = $crate::data::bits::named_mask::<Self>(byte);
                    (1u8..=8).rev().filter_map(move |bit| {
                        let pos = $crate::data::bits::BitPos { byte, bit };
                        (b & pos.mask() != 0 && named & pos.mask() == 0).then_some(pos)
                    })
                })
            }

            /// The value of a multi-bit `field`.
            #[must_use]
            pub fn field(&self, field: $crate::data::bits::Field<Self>) -> u8 {
                field.value_in(&self.0)
            }

            /// Stores `value` (shifted into place, excess bits dropped) in a
            /// multi-bit `field`.
            pub fn set_field(&mut self, field: $crate::data::bits::Field<Self>, value: u8) {
                let shift = field.low_bit().saturating_sub(1);
                if let Some(b) = usize::from(field.byte)
                    .checked_sub(1)
                    .and_then(|i| self.0.get_mut(i))
                {
                    *b = (*b & !field.mask) | ((value << shift) & field.mask);
                }
            }
        }

        impl $crate::data::bits::BitView for $view {
            const TAG: Option<$crate::wire::tag::Tag> = $tag;
            const LEN: usize = $len;
            const NAME: &'static str = $name;
            const FLAGS: &'static [$crate::data::bits::Flag<Self>] = $view::FLAGS;
            const FIELDS: &'static [$crate::data::bits::Field<Self>] = $view::FIELDS;

            fn from_bytes(bytes: &[u8]) -> Option<Self> {
                $view::from_bytes(bytes)
            }

            fn as_bytes(&self) -> &[u8] {
                &self.0
            }
        }

        impl From<[u8; $len]> for $view {
            fn from(bytes: [u8; $len]) -> Self {
                Self(bytes)
            }
        }

        impl From<$view> for [u8; $len] {
            fn from(view: $view) -> Self {
                view.0
            }
        }
    };
}

pub(crate) use bit_view;

/// Checks that a view's tables are sane: flag and field bytes within
/// `1..=LEN`, single-bit flag masks, no bit named twice. Used by every view's
/// tests.
#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::panic)]
pub(crate) fn check_tables<V: BitView>() {
    let mut seen = [0u8; 64];
    for f in V::FLAGS {
        assert!(
            f.byte >= 1 && usize::from(f.byte) <= V::LEN,
            "{}: {f:?}",
            V::NAME
        );
        assert_eq!(f.mask.count_ones(), 1, "{}: {f:?}", V::NAME);
        assert!(!f.name.is_empty());
        let slot = &mut seen[usize::from(f.byte) - 1];
        assert_eq!(*slot & f.mask, 0, "{}: bit named twice: {f:?}", V::NAME);
        *slot |= f.mask;
    }
    for d in V::FIELDS {
        assert!(
            d.byte >= 1 && usize::from(d.byte) <= V::LEN,
            "{}: {d:?}",
            V::NAME
        );
        assert!(d.mask.count_ones() >= 2, "{}: {d:?}", V::NAME);
        // Contiguous: shifting the mask down leaves 2^k - 1.
        let low = d.mask >> d.mask.trailing_zeros();
        assert_eq!(low & (low.wrapping_add(1)), 0, "{}: {d:?}", V::NAME);
        let slot = &mut seen[usize::from(d.byte) - 1];
        assert_eq!(*slot & d.mask, 0, "{}: bit named twice: {d:?}", V::NAME);
        *slot |= d.mask;
    }
    // Flags come in byte order, then from b8 to b1.
    for w in V::FLAGS.windows(2) {
        let (a, b) = (&w[0], &w[1]);
        assert!(
            (a.byte, !a.mask) < (b.byte, !b.mask),
            "{}: order {a:?} {b:?}",
            V::NAME
        );
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
mod tests {
    extern crate std;

    use super::*;

    bit_view! {
        /// A two-byte view used only by these tests.
        pub struct Demo([u8; 2]);
        tag: Some(Tag::new(0xDF01));
        name: "Demo";
        flags {
            A = (1, 0x80, "first");
            B = (1, 0x01, "second");
            C = (2, 0x40, "third") [M];
        }
        fields {
            NIBBLE = (2, 0x0F, "low nibble");
        }
    }

    bit_view! {
        /// A second view, to check flags do not mix across views.
        pub struct Other([u8; 1]);
        tag: None;
        name: "Other";
        flags {
            X = (1, 0x80, "x");
        }
        fields {}
    }

    #[test]
    fn tables_are_sane() {
        check_tables::<Demo>();
        check_tables::<Other>();
        assert_eq!(<Demo as BitView>::TAG, Some(Tag::new(0xDF01)));
        assert_eq!(<Other as BitView>::TAG, None);
        assert_eq!(<Demo as BitView>::LEN, 2);
        assert_eq!(Demo::FLAGS.len(), 3);
        const { assert!(Demo::A.confirmed) };
        const { assert!(!Demo::C.confirmed) };
        const { assert!(Demo::NIBBLE.confirmed) };
    }

    #[test]
    fn flag_bit_numbers() {
        assert_eq!(Demo::A.bit(), 8);
        assert_eq!(Demo::B.bit(), 1);
        assert_eq!(Demo::C.bit(), 7);
        assert_eq!(Demo::NIBBLE.high_bit(), 4);
        assert_eq!(Demo::NIBBLE.low_bit(), 1);
        assert_eq!(BitPos { byte: 1, bit: 8 }.mask(), 0x80);
        assert_eq!(BitPos { byte: 1, bit: 0 }.mask(), 0);
        assert_eq!(BitPos { byte: 1, bit: 9 }.mask(), 0);
    }

    #[test]
    fn set_clear_with_contains() {
        let mut d = Demo::default();
        assert!(d.is_empty());
        d.set(Demo::C);
        assert_eq!(d.0, [0x00, 0x40]);
        assert!(d.contains(Demo::C));
        assert!(!d.contains(Demo::A));
        let d2 = d.with(Demo::A).with(Demo::B);
        assert_eq!(d2.0, [0x81, 0x40]);
        let names: std::vec::Vec<&str> = d2.set_flags().map(|f| f.name).collect();
        assert_eq!(names, ["first", "second", "third"]);
        let mut d3 = d2;
        d3.clear(Demo::A);
        assert_eq!(d3.0, [0x01, 0x40]);
        assert_eq!(d3.without(Demo::C).0, [0x01, 0x00]);
        assert_eq!(
            Other::from_bytes(&[0x80]).map(|o| o.contains(Other::X)),
            Some(true)
        );
    }

    #[test]
    fn rfu_bits_exclude_flags_and_fields() {
        let d = Demo::new([0xFF, 0xFF]);
        let rfu: std::vec::Vec<BitPos> = d.rfu_bits_set().collect();
        assert_eq!(
            rfu,
            [
                BitPos { byte: 1, bit: 7 },
                BitPos { byte: 1, bit: 6 },
                BitPos { byte: 1, bit: 5 },
                BitPos { byte: 1, bit: 4 },
                BitPos { byte: 1, bit: 3 },
                BitPos { byte: 1, bit: 2 },
                BitPos { byte: 2, bit: 8 },
                BitPos { byte: 2, bit: 6 },
                BitPos { byte: 2, bit: 5 },
            ]
        );
        let generic: std::vec::Vec<BitPos> = rfu_bits::<Demo>(&[0xFF, 0xFF, 0x01]).collect();
        assert_eq!(generic.len(), 10);
        assert_eq!(generic[9], BitPos { byte: 3, bit: 1 });
        assert_eq!(named_mask::<Demo>(1), 0x81);
        assert_eq!(named_mask::<Demo>(2), 0x4F);
    }

    #[test]
    fn fields_read_and_write() {
        let mut d = Demo::new([0, 0x4A]);
        assert_eq!(d.field(Demo::NIBBLE), 0x0A);
        d.set_field(Demo::NIBBLE, 0x13);
        assert_eq!(d.0, [0, 0x43]);
        assert!(d.contains(Demo::C));
    }

    #[test]
    fn from_bytes_needs_exact_length() {
        assert_eq!(Demo::from_bytes(&[1, 2]), Some(Demo([1, 2])));
        assert_eq!(Demo::from_bytes(&[1]), None);
        assert_eq!(Demo::from_bytes(&[1, 2, 3]), None);
        assert_eq!(<[u8; 2]>::from(Demo::from([5, 6])), [5, 6]);
    }

    #[test]
    fn flag_display() {
        use std::format;
        assert_eq!(format!("{}", Demo::C), "byte 2 bit 7: third");
        assert_eq!(format!("{}", BitPos { byte: 3, bit: 2 }), "byte 3 bit 2");
    }

    #[test]
    fn short_values_read_as_zero() {
        assert!(!Demo::C.is_set_in(&[0xFF]));
        assert_eq!(Demo::NIBBLE.value_in(&[]), 0);
        let bad: Flag<Demo> = Flag::new(0, 0x80, "byte zero");
        assert!(!bad.is_set_in(&[0xFF]));
    }
}
