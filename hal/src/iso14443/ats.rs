//! Answer To Select (ATS) parsing and the ISO/IEC 14443-4 timing/size tables.
//!
//! Clauses: ISO/IEC 14443-4 §5.2 (ATS: TL, T0, TA1, TB1, TC1, historical bytes), §5.2.3
//! (FSCI → FSC, Table 1), §5.2.5 (FWI → FWT, SFGI → SFGT), §7.3 (FWT); EMV Book D (FSDI 8,
//! CID and NAD not used). The ATS given to [`Ats::parse`] has its CRC_A already checked and
//! removed.
//!
//! Confidence (emv-facts §0): the FSC table 0–8 and the defaults FSCI 2 / FWI 4 / SFGI 0 are
//! \[S\]; the 2016 extension of the FSC table (9–C) and the handling of the RFU values
//! (FSCI 9–F read as 8 by [`fsc_from_fsci`], FWI 15 read as 4, SFGI 15 read as 0) are \[M\].

/// Default FSCI when T0 is absent (ISO/IEC 14443-4 §5.2.3): FSC 32 bytes.
pub const DEFAULT_FSCI: u8 = 2;
/// Default FWI when TB1 is absent (ISO/IEC 14443-4 §5.2.5): FWT ≈ 4.8 ms.
pub const DEFAULT_FWI: u8 = 4;
/// Default SFGI when TB1 is absent (ISO/IEC 14443-4 §5.2.5): no extra guard time.
pub const DEFAULT_SFGI: u8 = 0;
/// Largest FWI (ISO/IEC 14443-4 §5.2.5): FWT ≈ 4.95 s, FWTmax.
pub const FWI_MAX: u8 = 14;
/// Largest ATS accepted, TL included: FSD − 2 with the EMV FSD of 256 (ISO/IEC 14443-4 §5.2.1).
pub const MAX_ATS_LEN: usize = 254;

/// The carrier frequency fc in Hz (ISO/IEC 14443-2 §6.1).
pub const FC_HZ: u64 = 13_560_000;

/// FSC (or FSD) in bytes for an FSCI (FSDI) code, ISO/IEC 14443-4:2008 Table 1:
/// 0:16, 1:24, 2:32, 3:40, 4:48, 5:64, 6:96, 7:128, 8:256. Codes 9–F (RFU in 2008, larger
/// sizes in 2016) are read as 8 (256), the largest frame this crate handles \[M\].
#[must_use]
pub const fn fsc_from_fsci(fsci: u8) -> u16 {
    match fsci {
        0 => 16,
        1 => 24,
        2 => 32,
        3 => 40,
        4 => 48,
        5 => 64,
        6 => 96,
        7 => 128,
        _ => 256,
    }
}

/// FSC in bytes for an FSCI code including the ISO/IEC 14443-4:2016 extension
/// (9:512, A:1024, B:2048, C:4096) \[M\]. `None` for the RFU codes D–F.
#[must_use]
pub const fn fsc_from_fsci_2016(fsci: u8) -> Option<u16> {
    match fsci {
        0..=8 => Some(fsc_from_fsci(fsci)),
        9 => Some(512),
        0xA => Some(1024),
        0xB => Some(2048),
        0xC => Some(4096),
        _ => None,
    }
}

/// `(256 × 16 / fc) × 2^exponent` in microseconds, rounded up: the time unit of FWT and SFGT
/// (≈ 302.1 µs × 2^exponent). Exponents above [`FWI_MAX`] are taken as [`FWI_MAX`].
const fn guard_unit_us(exponent: u8) -> u32 {
    let e = if exponent > FWI_MAX {
        FWI_MAX
    } else {
        exponent
    };
    let cycles = (256u64 * 16) << e;
    let us = (cycles * 1_000_000).div_ceil(FC_HZ);
    // At most 4_949_032 µs, fits u32.
    us as u32
}

/// Frame waiting time FWT = (256 × 16 / fc) × 2^FWI in µs, rounded up (ISO/IEC 14443-4 §7.3):
/// FWI 0 → 303 µs, FWI 4 → 4834 µs, FWI 14 → 4_949_032 µs (FWTmax). FWI 15 (RFU) is read as
/// [`DEFAULT_FWI`] \[M\].
#[must_use]
pub const fn fwt_us(fwi: u8) -> u32 {
    guard_unit_us(normalize_fwi(fwi))
}

/// FWTmax: the FWT of FWI 14 in µs (ISO/IEC 14443-4 §7.3), the cap of FWT × WTXM.
pub const FWT_MAX_US: u32 = fwt_us(FWI_MAX);

/// Start-up frame guard time SFGT = (256 × 16 / fc) × 2^SFGI in µs, rounded up
/// (ISO/IEC 14443-4 §5.2.5); SFGI 0 means no SFGT (0 µs). SFGI 15 (RFU) is read as 0 \[M\].
#[must_use]
pub const fn sfgt_us(sfgi: u8) -> u32 {
    match normalize_sfgi(sfgi) {
        0 => 0,
        s => guard_unit_us(s),
    }
}

/// FWI as used: 0–14 unchanged, 15 (RFU) → [`DEFAULT_FWI`] \[M\].
#[must_use]
pub const fn normalize_fwi(fwi: u8) -> u8 {
    if fwi > FWI_MAX { DEFAULT_FWI } else { fwi }
}

/// SFGI as used: 0–14 unchanged, 15 (RFU) → 0 \[M\].
#[must_use]
pub const fn normalize_sfgi(sfgi: u8) -> u8 {
    if sfgi > FWI_MAX { 0 } else { sfgi }
}

/// Why [`Ats::parse`] refused an ATS (ISO/IEC 14443-4 §5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AtsError {
    /// No bytes at all.
    #[error("empty ATS")]
    Empty,
    /// TL (the length byte, which counts itself) differs from the number of bytes received.
    #[error("ATS length byte TL = {tl} but {len} byte(s) received")]
    LengthMismatch {
        /// The TL byte.
        tl: u8,
        /// Bytes received (CRC excluded).
        len: usize,
    },
    /// The interface bytes announced by T0 do not fit within TL.
    #[error("ATS truncated: T0 = {t0:02X} announces interface bytes beyond TL")]
    Truncated {
        /// The T0 byte.
        t0: u8,
    },
    /// T0 bit b8 is set (shall be 0, ISO/IEC 14443-4 §5.2.3).
    #[error("invalid ATS format byte T0 = {t0:02X}: b8 shall be 0")]
    InvalidT0 {
        /// The T0 byte.
        t0: u8,
    },
    /// The ATS is longer than [`MAX_ATS_LEN`].
    #[error("ATS of {len} bytes exceeds the maximum of {MAX_ATS_LEN}")]
    TooLong {
        /// Bytes received.
        len: usize,
    },
}

/// The ISO-DEP parameters an ATS announces, defaults applied (ISO/IEC 14443-4 §5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AtsParams {
    /// FSCI (T0 b4–b1), default 2.
    pub fsci: u8,
    /// FSC in bytes per [`fsc_from_fsci`] (at most 256).
    pub fsc: u16,
    /// TA1 (bit rate capabilities), if present.
    pub ta1: Option<u8>,
    /// FWI (TB1 b8–b5) after [`normalize_fwi`], default 4.
    pub fwi: u8,
    /// SFGI (TB1 b4–b1) after [`normalize_sfgi`], default 0.
    pub sfgi: u8,
    /// TC1 b2: the card supports CID.
    pub cid_supported: bool,
    /// TC1 b1: the card supports NAD.
    pub nad_supported: bool,
}

impl AtsParams {
    /// The parameters of an ATS consisting of TL only (every default).
    pub const DEFAULT: Self = Self {
        fsci: DEFAULT_FSCI,
        fsc: fsc_from_fsci(DEFAULT_FSCI),
        ta1: None,
        fwi: DEFAULT_FWI,
        sfgi: DEFAULT_SFGI,
        cid_supported: false,
        nad_supported: false,
    };

    /// FWT in µs ([`fwt_us`] of [`Self::fwi`]).
    #[must_use]
    pub const fn fwt_us(&self) -> u32 {
        fwt_us(self.fwi)
    }

    /// SFGT in µs ([`sfgt_us`] of [`Self::sfgi`]): the PCD waits this long after the ATS before
    /// its first block (ISO/IEC 14443-4 §5.2.5).
    #[must_use]
    pub const fn sfgt_us(&self) -> u32 {
        sfgt_us(self.sfgi)
    }

    /// TA1 b8: the same divisor is required in both directions.
    #[must_use]
    pub const fn same_bit_rate_both_directions(&self) -> bool {
        matches!(self.ta1, Some(ta1) if ta1 & 0x80 != 0)
    }
}

/// A parsed ATS borrowing its bytes (ISO/IEC 14443-4 §5.2): `TL T0 [TA1] [TB1] [TC1] T1…Tk`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ats<'a> {
    raw: &'a [u8],
    t0: Option<u8>,
    tb1: Option<u8>,
    tc1: Option<u8>,
    params: AtsParams,
    historical: &'a [u8],
}

impl<'a> Ats<'a> {
    /// Parses an ATS without its CRC. TL must equal the number of bytes; T0 b7/b6/b5 announce
    /// TC1/TB1/TA1; the remaining bytes up to TL are historical bytes.
    ///
    /// # Errors
    /// [`AtsError`].
    pub fn parse(bytes: &'a [u8]) -> Result<Self, AtsError> {
        let (&tl, rest) = bytes.split_first().ok_or(AtsError::Empty)?;
        if bytes.len() > MAX_ATS_LEN {
            return Err(AtsError::TooLong { len: bytes.len() });
        }
        if usize::from(tl) != bytes.len() {
            return Err(AtsError::LengthMismatch {
                tl,
                len: bytes.len(),
            });
        }
        let mut params = AtsParams::DEFAULT;
        let Some((&t0, mut rest)) = rest.split_first() else {
            return Ok(Self {
                raw: bytes,
                t0: None,
                tb1: None,
                tc1: None,
                params,
                historical: &[],
            });
        };
        if t0 & 0x80 != 0 {
            return Err(AtsError::InvalidT0 { t0 });
        }
        params.fsci = t0 & 0x0F;
        params.fsc = fsc_from_fsci(params.fsci);
        let mut take = |present: bool| -> Result<Option<u8>, AtsError> {
            if !present {
                return Ok(None);
            }
            let (&b, tail) = rest.split_first().ok_or(AtsError::Truncated { t0 })?;
            rest = tail;
            Ok(Some(b))
        };
        let ta1 = take(t0 & 0x10 != 0)?;
        let tb1 = take(t0 & 0x20 != 0)?;
        let tc1 = take(t0 & 0x40 != 0)?;
        params.ta1 = ta1;
        if let Some(tb1) = tb1 {
            params.fwi = normalize_fwi(tb1 >> 4);
            params.sfgi = normalize_sfgi(tb1 & 0x0F);
        }
        if let Some(tc1) = tc1 {
            params.cid_supported = tc1 & 0x02 != 0;
            params.nad_supported = tc1 & 0x01 != 0;
        }
        Ok(Self {
            raw: bytes,
            t0: Some(t0),
            tb1,
            tc1,
            params,
            historical: rest,
        })
    }

    /// The whole ATS as parsed (TL first, no CRC).
    #[must_use]
    pub const fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// T0, absent when TL = 1.
    #[must_use]
    pub const fn t0(&self) -> Option<u8> {
        self.t0
    }

    /// TA1, if present.
    #[must_use]
    pub const fn ta1(&self) -> Option<u8> {
        self.params.ta1
    }

    /// TB1, if present.
    #[must_use]
    pub const fn tb1(&self) -> Option<u8> {
        self.tb1
    }

    /// TC1, if present.
    #[must_use]
    pub const fn tc1(&self) -> Option<u8> {
        self.tc1
    }

    /// The historical bytes T1…Tk.
    #[must_use]
    pub const fn historical_bytes(&self) -> &'a [u8] {
        self.historical
    }

    /// The ISO-DEP parameters with defaults applied.
    #[must_use]
    pub const fn params(&self) -> AtsParams {
        self.params
    }
}

/// An ATS copied into a fixed buffer, for keeping after the receive buffer is reused.
#[derive(Clone, PartialEq, Eq)]
pub struct OwnedAts {
    bytes: [u8; MAX_ATS_LEN],
    len: u8,
    historical_at: u8,
    params: AtsParams,
}

impl core::fmt::Debug for OwnedAts {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("OwnedAts")
            .field("raw", &self.raw())
            .field("params", &self.params)
            .finish()
    }
}

impl OwnedAts {
    /// Copies a parsed ATS.
    #[must_use]
    pub fn new(ats: &Ats<'_>) -> Self {
        let mut bytes = [0u8; MAX_ATS_LEN];
        let raw = ats.raw();
        // `Ats::parse` guarantees raw.len() <= MAX_ATS_LEN (< 256).
        let len = raw.len().min(MAX_ATS_LEN);
        if let (Some(dst), Some(src)) = (bytes.get_mut(..len), raw.get(..len)) {
            dst.copy_from_slice(src);
        }
        let historical_at = len.saturating_sub(ats.historical_bytes().len());
        Self {
            bytes,
            len: u8::try_from(len).unwrap_or(u8::MAX),
            historical_at: u8::try_from(historical_at).unwrap_or(u8::MAX),
            params: ats.params(),
        }
    }

    /// The ATS bytes (TL first, no CRC).
    #[must_use]
    pub fn raw(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or(&[])
    }

    /// The historical bytes.
    #[must_use]
    pub fn historical_bytes(&self) -> &[u8] {
        self.raw()
            .get(usize::from(self.historical_at)..)
            .unwrap_or(&[])
    }

    /// The ISO-DEP parameters with defaults applied.
    #[must_use]
    pub const fn params(&self) -> AtsParams {
        self.params
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn fsc_table() {
        let expect = [16u16, 24, 32, 40, 48, 64, 96, 128, 256];
        for (code, size) in expect.iter().enumerate() {
            assert_eq!(fsc_from_fsci(code as u8), *size);
        }
        for code in 9..=15 {
            assert_eq!(fsc_from_fsci(code), 256);
        }
        assert_eq!(fsc_from_fsci_2016(9), Some(512));
        assert_eq!(fsc_from_fsci_2016(0xC), Some(4096));
        assert_eq!(fsc_from_fsci_2016(0xD), None);
        assert_eq!(fsc_from_fsci_2016(8), Some(256));
    }

    #[test]
    fn fwt_values() {
        // 4096 / 13.56 MHz = 302.06 µs.
        assert_eq!(fwt_us(0), 303);
        assert_eq!(fwt_us(4), 4834); // 4833.03 µs, rounded up
        assert_eq!(fwt_us(14), 4_949_032);
        assert_eq!(FWT_MAX_US, 4_949_032);
        assert_eq!(fwt_us(15), fwt_us(4));
        assert_eq!(sfgt_us(0), 0);
        assert_eq!(sfgt_us(1), 605);
        assert_eq!(sfgt_us(15), 0);
    }

    /// `05 78 80 70 02`: TL 5; T0 78 → TA1, TB1, TC1 present, FSCI 8 (256); TA1 80 (same D both
    /// ways, 106 kbit/s only); TB1 70 → FWI 7, SFGI 0; TC1 02 → CID supported, NAD not; no
    /// historical bytes. (Expectations from ISO/IEC 14443-4 §5.2 by hand.)
    #[test]
    fn ats_full() {
        let ats = Ats::parse(&[0x05, 0x78, 0x80, 0x70, 0x02]).unwrap();
        let p = ats.params();
        assert_eq!(ats.t0(), Some(0x78));
        assert_eq!(p.fsci, 8);
        assert_eq!(p.fsc, 256);
        assert_eq!(p.ta1, Some(0x80));
        assert!(p.same_bit_rate_both_directions());
        assert_eq!(p.fwi, 7);
        assert_eq!(p.sfgi, 0);
        assert_eq!(p.fwt_us(), 38_665);
        assert!(p.cid_supported);
        assert!(!p.nad_supported);
        assert!(ats.historical_bytes().is_empty());
    }

    /// A typical payment card ATS: `0D 78 77 B1 02 4A 43 4F 50 76 32 34 31` style —
    /// TB1 B1 → FWI 11, SFGI 1; historical bytes "JCOPv241".
    #[test]
    fn ats_with_historical() {
        let bytes = [
            0x0D, 0x78, 0x77, 0xB1, 0x02, 0x4A, 0x43, 0x4F, 0x50, 0x76, 0x32, 0x34, 0x31,
        ];
        let ats = Ats::parse(&bytes).unwrap();
        let p = ats.params();
        assert_eq!((p.fwi, p.sfgi, p.fsc), (11, 1, 256));
        assert_eq!(ats.historical_bytes(), b"JCOPv241");
        let owned = OwnedAts::new(&ats);
        assert_eq!(owned.raw(), &bytes[..]);
        assert_eq!(owned.historical_bytes(), b"JCOPv241");
        assert_eq!(owned.params(), p);
    }

    #[test]
    fn ats_defaults_and_partial() {
        let ats = Ats::parse(&[0x01]).unwrap();
        assert_eq!(ats.params(), AtsParams::DEFAULT);
        assert_eq!(ats.params().fsc, 32);
        assert_eq!(ats.params().fwi, 4);
        // T0 = 05: no interface bytes, FSCI 5 → 64; two historical bytes.
        let ats = Ats::parse(&[0x04, 0x05, 0xAA, 0xBB]).unwrap();
        assert_eq!(ats.params().fsc, 64);
        assert_eq!(ats.params().fwi, 4);
        assert_eq!(ats.historical_bytes(), &[0xAA, 0xBB]);
        // Only TB1 = F F: FWI 15 → 4, SFGI 15 → 0 (RFU handling, [M]).
        let ats = Ats::parse(&[0x03, 0x28, 0xFF]).unwrap();
        assert_eq!((ats.params().fwi, ats.params().sfgi), (4, 0));
        assert_eq!(ats.tb1(), Some(0xFF));
        assert_eq!(ats.ta1(), None);
    }

    #[test]
    fn ats_errors() {
        assert_eq!(Ats::parse(&[]), Err(AtsError::Empty));
        assert_eq!(
            Ats::parse(&[0x05, 0x78, 0x80]),
            Err(AtsError::LengthMismatch { tl: 5, len: 3 })
        );
        assert_eq!(
            Ats::parse(&[0x00]),
            Err(AtsError::LengthMismatch { tl: 0, len: 1 })
        );
        assert_eq!(
            Ats::parse(&[0x03, 0x78, 0x80]),
            Err(AtsError::Truncated { t0: 0x78 })
        );
        assert_eq!(
            Ats::parse(&[0x02, 0x88]),
            Err(AtsError::InvalidT0 { t0: 0x88 })
        );
        let long = [0u8; 255];
        assert_eq!(Ats::parse(&long), Err(AtsError::TooLong { len: 255 }));
    }

    proptest! {
        #[test]
        fn ats_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            if let Ok(ats) = Ats::parse(&bytes) {
                prop_assert_eq!(ats.raw(), &bytes[..]);
                prop_assert!(ats.params().fwi <= FWI_MAX);
                prop_assert!(ats.params().fsc <= 256);
                let owned = OwnedAts::new(&ats);
                prop_assert_eq!(owned.raw(), &bytes[..]);
                prop_assert_eq!(owned.historical_bytes(), ats.historical_bytes());
            }
        }

        #[test]
        fn ats_with_valid_tl(mut bytes in proptest::collection::vec(any::<u8>(), 1..40)) {
            bytes[0] = bytes.len() as u8;
            if bytes.len() > 1 { bytes[1] &= 0x7F; }
            let ats = Ats::parse(&bytes);
            let t0 = bytes.get(1).copied().unwrap_or(0);
            let needed = 2 + ((t0 >> 4) & 7).count_ones() as usize;
            prop_assert_eq!(ats.is_ok(), bytes.len() == 1 || bytes.len() >= needed);
        }
    }
}
