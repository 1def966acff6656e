//! Protocol and parameter selection, PPS (ISO/IEC 7816-3 §9).
//!
//! Clauses implemented:
//!
//! * ISO/IEC 7816-3:2006 §9.2 (the PPS request: `PPSS = FF`, `PPS0` with the protocol T in
//!   b4..b1 and the presence of PPS1/PPS2/PPS3 in b5/b6/b7, b8 reserved; `PPS1` coded like
//!   TA1 as FI/DI; `PCK` such that the XOR of all bytes PPSS..PCK is `00`) — in
//!   [`PpsRequest::encode`] and [`PpsFrame::parse`];
//! * §9.3 (successful exchange: the card echoes PPSS and the protocol; each of PPS1, PPS2,
//!   PPS3 is either echoed unchanged or absent, an absent PPS1 meaning the default
//!   Fd = 372, Dd = 1; anything else is an unsuccessful exchange) — in
//!   [`PpsRequest::check_response`].
//!
//! # When a terminal sends a PPS
//!
//! Only right after the ATR of a card in **negotiable mode** (no TA2), when the terminal
//! wants something other than the defaults: the Fi/Di of TA1 when TA1 ≠ `11`, or a protocol
//! other than the first one offered ([`PpsRequest::for_atr`] builds the usual request: the
//! first protocol with the TA1 values). A card in specific mode (TA2 present) gets no PPS.
//! If the exchange fails (wrong response, bad PCK, no answer within
//! [`PPS_RESPONSE_WAITING_TIME_ETU`]), the terminal deactivates the card (§9.1).
//!
//! **EMV terminals do not initiate PPS** \[M, `emv-facts.md` §5.1\]: EMV L1 accepts a card in
//! negotiable mode and then runs it at the default Fd/Dd with the first offered protocol;
//! faster rates reach EMV terminals through specific mode (TA2 with TA1 `11`..`13`). This
//! module is therefore for non-EMV use (ISO/IEC 7816 cards such as SIM or PIV) and for
//! readers that speed up EMV cards outside of certification.

use core::fmt;

use crate::atr::{Atr, DEFAULT_TA1, Mode, di_from_code, fi_from_code};

/// PPSS, the initial byte of a PPS request and response.
pub const PPSS: u8 = 0xFF;

/// Longest PPS frame: PPSS, PPS0, PPS1, PPS2, PPS3, PCK.
pub const MAX_PPS_LEN: usize = 6;

/// PPS0 b5: PPS1 present.
pub const PPS0_PPS1: u8 = 0x10;
/// PPS0 b6: PPS2 present.
pub const PPS0_PPS2: u8 = 0x20;
/// PPS0 b7: PPS3 present.
pub const PPS0_PPS3: u8 = 0x40;
/// PPS0 b8: reserved, must be 0.
pub const PPS0_RFU: u8 = 0x80;

/// How long the terminal waits for the first byte of the PPS response, in etu at the
/// default rate: the initial waiting time 9600 etu (ISO/IEC 7816-3 §9.1 refers to the
/// waiting time of §10.2 with WI = 10). **\[M\]**: unconfirmed value.
pub const PPS_RESPONSE_WAITING_TIME_ETU: u32 = 9_600;

/// PCK for the bytes before it: the XOR of `bytes`, so that the XOR of the whole frame is 0.
#[must_use]
pub fn pck(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0, |acc, b| acc ^ b)
}

/// Length of a whole PPS frame (PPSS to PCK) announced by its PPS0 byte: 3 + the number of
/// PPS1..PPS3 present. A UART driver reads 2 bytes, then the rest.
#[must_use]
pub const fn frame_len(pps0: u8) -> usize {
    3 + ((pps0 & PPS0_PPS1) != 0) as usize
        + ((pps0 & PPS0_PPS2) != 0) as usize
        + ((pps0 & PPS0_PPS3) != 0) as usize
}

/// One of the optional parameter bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PpsParam {
    /// PPS1: FI/DI.
    Pps1,
    /// PPS2: SPU (ISO/IEC 7816-3 §9.2).
    Pps2,
    /// PPS3: reserved for future use.
    Pps3,
}

impl fmt::Display for PpsParam {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Pps1 => "PPS1",
            Self::Pps2 => "PPS2",
            Self::Pps3 => "PPS3",
        })
    }
}

/// Why a PPS request could not be built or a PPS response is not a successful exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PpsError {
    /// The output buffer cannot hold the request.
    #[error("buffer of {len} byte(s) too small for a PPS request of {needed} bytes")]
    BufferTooSmall {
        /// Buffer length.
        len: usize,
        /// Request length.
        needed: usize,
    },
    /// The protocol is not 0..=14 (T=15 is no transmission protocol).
    #[error("T={protocol} cannot be selected by PPS: expected 0..14")]
    InvalidProtocol {
        /// The protocol requested.
        protocol: u8,
    },
    /// PPS1 holds an RFU FI or DI code (ISO/IEC 7816-3 Tables 7 and 8).
    #[error("PPS1 = {pps1:02X} has a reserved FI or DI code")]
    InvalidFiDi {
        /// The PPS1 value.
        pps1: u8,
    },
    /// The frame ends early.
    #[error("PPS frame truncated: {len} byte(s), at least {needed} expected")]
    Truncated {
        /// Bytes present.
        len: usize,
        /// Bytes needed, as far as known.
        needed: usize,
    },
    /// The first byte is not `FF`.
    #[error("PPSS = {found:02X}, expected FF")]
    InvalidPpss {
        /// The byte found.
        found: u8,
    },
    /// PPS0 b8 (reserved) is set.
    #[error("PPS0 = {pps0:02X} has the reserved bit b8 set")]
    Pps0Reserved {
        /// The PPS0 value.
        pps0: u8,
    },
    /// The XOR of PPSS..PCK is not zero.
    #[error("bad PCK {found:02X}: expected {expected:02X}")]
    BadPck {
        /// The PCK that makes the XOR zero.
        expected: u8,
        /// The PCK received.
        found: u8,
    },
    /// Bytes after PCK.
    #[error("{count} byte(s) after PCK")]
    TrailingBytes {
        /// Number of extra bytes.
        count: usize,
    },
    /// The response selects another protocol than requested.
    #[error("PPS response selects T={answered}, T={requested} was requested")]
    ProtocolMismatch {
        /// Protocol requested.
        requested: u8,
        /// Protocol in the response.
        answered: u8,
    },
    /// The response carries a parameter byte different from the request's.
    #[error("PPS response {param} = {answered:02X} does not echo the requested {requested:02X}")]
    ParameterMismatch {
        /// Which byte.
        param: PpsParam,
        /// Value requested.
        requested: u8,
        /// Value in the response.
        answered: u8,
    },
    /// The response carries a parameter byte the request did not have.
    #[error("PPS response has {param} = {answered:02X}, which was not requested")]
    UnrequestedParameter {
        /// Which byte.
        param: PpsParam,
        /// Value in the response.
        answered: u8,
    },
}

/// A parsed PPS frame, request or response (ISO/IEC 7816-3 §9.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PpsFrame {
    /// The protocol T (PPS0 b4..b1).
    pub protocol: u8,
    /// PPS1 (FI/DI), if present.
    pub pps1: Option<u8>,
    /// PPS2 (SPU), if present.
    pub pps2: Option<u8>,
    /// PPS3, if present.
    pub pps3: Option<u8>,
}

impl PpsFrame {
    /// Parses a complete PPS frame and checks PPSS, PPS0 b8 and PCK. `bytes` must be
    /// exactly one frame.
    ///
    /// # Errors
    ///
    /// [`PpsError::Truncated`], [`PpsError::InvalidPpss`], [`PpsError::Pps0Reserved`],
    /// [`PpsError::BadPck`], [`PpsError::TrailingBytes`].
    pub fn parse(bytes: &[u8]) -> Result<Self, PpsError> {
        let len = bytes.len();
        let Some(&ppss) = bytes.first() else {
            return Err(PpsError::Truncated { len, needed: 3 });
        };
        if ppss != PPSS {
            return Err(PpsError::InvalidPpss { found: ppss });
        }
        let Some(&pps0) = bytes.get(1) else {
            return Err(PpsError::Truncated { len, needed: 3 });
        };
        if pps0 & PPS0_RFU != 0 {
            return Err(PpsError::Pps0Reserved { pps0 });
        }
        let needed = frame_len(pps0);
        if len < needed {
            return Err(PpsError::Truncated { len, needed });
        }
        if len > needed {
            return Err(PpsError::TrailingBytes {
                count: len - needed,
            });
        }
        let body = bytes.get(..needed - 1).unwrap_or(&[]);
        let found = bytes.get(needed - 1).copied().unwrap_or(0);
        let expected = pck(body);
        if expected != found {
            return Err(PpsError::BadPck { expected, found });
        }
        let mut params = body.iter().skip(2).copied();
        let mut next_if = |bit: u8| {
            if pps0 & bit != 0 { params.next() } else { None }
        };
        let pps1 = next_if(PPS0_PPS1);
        let pps2 = next_if(PPS0_PPS2);
        let pps3 = next_if(PPS0_PPS3);
        Ok(Self {
            protocol: pps0 & 0x0F,
            pps1,
            pps2,
            pps3,
        })
    }

    /// PPS0 for this frame.
    #[must_use]
    pub const fn pps0(&self) -> u8 {
        (self.protocol & 0x0F)
            | if self.pps1.is_some() { PPS0_PPS1 } else { 0 }
            | if self.pps2.is_some() { PPS0_PPS2 } else { 0 }
            | if self.pps3.is_some() { PPS0_PPS3 } else { 0 }
    }

    /// Frame length, PPSS to PCK.
    #[must_use]
    pub const fn len(&self) -> usize {
        frame_len(self.pps0())
    }

    /// Always `false`: a frame has at least PPSS, PPS0 and PCK.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        false
    }

    /// Writes the frame with its PCK into `out`; returns its length.
    ///
    /// # Errors
    ///
    /// [`PpsError::BufferTooSmall`].
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, PpsError> {
        let needed = self.len();
        let Some(frame) = out.get_mut(..needed) else {
            return Err(PpsError::BufferTooSmall {
                len: out.len(),
                needed,
            });
        };
        let bytes = [
            Some(PPSS),
            Some(self.pps0()),
            self.pps1,
            self.pps2,
            self.pps3,
        ];
        let mut check = 0u8;
        for (dst, b) in frame.iter_mut().zip(bytes.iter().flatten()) {
            *dst = *b;
            check ^= *b;
        }
        if let Some(last) = frame.last_mut() {
            *last = check;
        }
        Ok(needed)
    }
}

/// A PPS request the terminal sends (ISO/IEC 7816-3 §9.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PpsRequest {
    frame: PpsFrame,
}

/// What a successful PPS exchange selected (ISO/IEC 7816-3 §9.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PpsAccepted {
    /// The protocol T.
    pub protocol: u8,
    /// FI/DI in use from now on: the requested PPS1 if the card echoed it, `11` (Fd, Dd)
    /// if the card left PPS1 out.
    pub fi_di: u8,
    /// Whether the card accepted PPS1 (echoed it).
    pub pps1_accepted: bool,
    /// PPS2 if the card echoed it.
    pub pps2: Option<u8>,
    /// PPS3 if the card echoed it.
    pub pps3: Option<u8>,
}

impl PpsRequest {
    /// A request for `protocol` without parameter bytes (keeps Fd/Dd).
    ///
    /// # Errors
    ///
    /// [`PpsError::InvalidProtocol`] for T ≥ 15.
    pub const fn new(protocol: u8) -> Result<Self, PpsError> {
        if protocol >= 15 {
            return Err(PpsError::InvalidProtocol { protocol });
        }
        Ok(Self {
            frame: PpsFrame {
                protocol,
                pps1: None,
                pps2: None,
                pps3: None,
            },
        })
    }

    /// This request with PPS1 = `fi_di` (coded like TA1).
    ///
    /// # Errors
    ///
    /// [`PpsError::InvalidFiDi`] if FI or DI is an RFU code.
    pub fn with_fi_di(mut self, fi_di: u8) -> Result<Self, PpsError> {
        if fi_from_code(fi_di >> 4).is_none() || di_from_code(fi_di & 0x0F).is_none() {
            return Err(PpsError::InvalidFiDi { pps1: fi_di });
        }
        self.frame.pps1 = Some(fi_di);
        Ok(self)
    }

    /// This request with PPS2 = `spu` (ISO/IEC 7816-3 §9.2; not used by EMV).
    #[must_use]
    pub const fn with_pps2(mut self, spu: u8) -> Self {
        self.frame.pps2 = Some(spu);
        self
    }

    /// This request with PPS3 = `value` (reserved for future use by ISO/IEC 7816-3).
    #[must_use]
    pub const fn with_pps3(mut self, value: u8) -> Self {
        self.frame.pps3 = Some(value);
        self
    }

    /// The PPS a terminal would send after this ATR, or `None` if none is needed: in
    /// negotiable mode (TA2 absent) with TA1 present and ≠ `11`, request the first offered
    /// protocol with PPS1 = TA1. `None` in specific mode, with TA1 absent or `11`, or with a
    /// TA1 carrying RFU codes (the terminal then keeps the defaults). EMV terminals do not
    /// send it (see the [module documentation](self)).
    #[must_use]
    pub fn for_atr(atr: &Atr<'_>) -> Option<Self> {
        if atr.mode() != Mode::Negotiable {
            return None;
        }
        let ta1 = atr.ta(1)?;
        if ta1 == DEFAULT_TA1 {
            return None;
        }
        Self::new(atr.first_protocol()).ok()?.with_fi_di(ta1).ok()
    }

    /// The request's content.
    #[must_use]
    pub const fn frame(&self) -> PpsFrame {
        self.frame
    }

    /// Writes the request (PPSS..PCK) into `out`; returns its length (3..=6).
    ///
    /// # Errors
    ///
    /// [`PpsError::BufferTooSmall`].
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, PpsError> {
        self.frame.encode(out)
    }

    /// Checks the card's PPS response against this request (ISO/IEC 7816-3 §9.3) and
    /// returns what was selected.
    ///
    /// # Errors
    ///
    /// The errors of [`PpsFrame::parse`], [`PpsError::ProtocolMismatch`],
    /// [`PpsError::ParameterMismatch`], [`PpsError::UnrequestedParameter`]. Any error means
    /// the exchange failed and the card is to be deactivated.
    pub fn check_response(&self, response: &[u8]) -> Result<PpsAccepted, PpsError> {
        let answer = PpsFrame::parse(response)?;
        if answer.protocol != self.frame.protocol {
            return Err(PpsError::ProtocolMismatch {
                requested: self.frame.protocol,
                answered: answer.protocol,
            });
        }
        for (param, requested, answered) in [
            (PpsParam::Pps1, self.frame.pps1, answer.pps1),
            (PpsParam::Pps2, self.frame.pps2, answer.pps2),
            (PpsParam::Pps3, self.frame.pps3, answer.pps3),
        ] {
            match (requested, answered) {
                (_, None) => {}
                (None, Some(answered)) => {
                    return Err(PpsError::UnrequestedParameter { param, answered });
                }
                (Some(requested), Some(answered)) if requested != answered => {
                    return Err(PpsError::ParameterMismatch {
                        param,
                        requested,
                        answered,
                    });
                }
                (Some(_), Some(_)) => {}
            }
        }
        Ok(PpsAccepted {
            protocol: answer.protocol,
            fi_di: answer.pps1.unwrap_or(DEFAULT_TA1),
            pps1_accepted: answer.pps1.is_some(),
            pps2: answer.pps2,
            pps3: answer.pps3,
        })
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
    use super::*;
    use proptest::prelude::*;

    fn encoded(req: &PpsRequest) -> ([u8; MAX_PPS_LEN], usize) {
        let mut out = [0u8; MAX_PPS_LEN];
        let n = req.encode(&mut out).unwrap();
        (out, n)
    }

    // Hand-computed frames: PCK = XOR of the preceding bytes.
    //   FF 00 -> FF ^ 00 = FF                      T=0, no PPS1
    //   FF 01 -> FF ^ 01 = FE                      T=1, no PPS1
    //   FF 10 13 -> FF ^ 10 = EF, EF ^ 13 = FC     T=0, Fi 372 / Di 4
    //   FF 11 96 -> FF ^ 11 = EE, EE ^ 96 = 78     T=1, Fi 512 / Di 32
    //   FF 11 18 -> EE ^ 18 = F6                   T=1, Fi 372 / Di 12
    //   FF 71 96 AA 55 -> FF^71 = 8E, ^96 = 18, ^AA = B2, ^55 = E7
    #[test]
    fn hand_computed_requests() {
        let cases: [(PpsRequest, &[u8]); 5] = [
            (PpsRequest::new(0).unwrap(), &[0xFF, 0x00, 0xFF]),
            (PpsRequest::new(1).unwrap(), &[0xFF, 0x01, 0xFE]),
            (
                PpsRequest::new(0).unwrap().with_fi_di(0x13).unwrap(),
                &[0xFF, 0x10, 0x13, 0xFC],
            ),
            (
                PpsRequest::new(1).unwrap().with_fi_di(0x96).unwrap(),
                &[0xFF, 0x11, 0x96, 0x78],
            ),
            (
                PpsRequest::new(1)
                    .unwrap()
                    .with_fi_di(0x96)
                    .unwrap()
                    .with_pps2(0xAA)
                    .with_pps3(0x55),
                &[0xFF, 0x71, 0x96, 0xAA, 0x55, 0xE7],
            ),
        ];
        for (req, frame) in cases {
            let (out, n) = encoded(&req);
            assert_eq!(&out[..n], frame);
            assert_eq!(req.frame().len(), frame.len());
            assert_eq!(PpsFrame::parse(frame), Ok(req.frame()));
            assert_eq!(pck(frame), 0);
        }
        let (out, n) = encoded(&PpsRequest::new(1).unwrap().with_fi_di(0x18).unwrap());
        assert_eq!(&out[..n], &[0xFF, 0x11, 0x18, 0xF6]);
    }

    #[test]
    fn echo_is_accepted() {
        let req = PpsRequest::new(1).unwrap().with_fi_di(0x96).unwrap();
        assert_eq!(
            req.check_response(&[0xFF, 0x11, 0x96, 0x78]),
            Ok(PpsAccepted {
                protocol: 1,
                fi_di: 0x96,
                pps1_accepted: true,
                pps2: None,
                pps3: None
            })
        );
    }

    #[test]
    fn pps1_left_out_means_default_rates() {
        let req = PpsRequest::new(1).unwrap().with_fi_di(0x96).unwrap();
        assert_eq!(
            req.check_response(&[0xFF, 0x01, 0xFE]),
            Ok(PpsAccepted {
                protocol: 1,
                fi_di: 0x11,
                pps1_accepted: false,
                pps2: None,
                pps3: None
            })
        );
        // PPS2 dropped, PPS1 echoed: FF 11 96 78.
        let req = req.with_pps2(0x01);
        let accepted = req.check_response(&[0xFF, 0x11, 0x96, 0x78]).unwrap();
        assert_eq!(accepted.pps2, None);
        assert!(accepted.pps1_accepted);
    }

    #[test]
    fn every_rejection() {
        let req = PpsRequest::new(1).unwrap().with_fi_di(0x96).unwrap();
        let check = |r: &[u8]| req.check_response(r);
        assert_eq!(check(&[]), Err(PpsError::Truncated { len: 0, needed: 3 }));
        assert_eq!(
            check(&[0xFF]),
            Err(PpsError::Truncated { len: 1, needed: 3 })
        );
        assert_eq!(
            check(&[0xFF, 0x11, 0x96]),
            Err(PpsError::Truncated { len: 3, needed: 4 })
        );
        assert_eq!(
            check(&[0xFE, 0x11, 0x96, 0x78]),
            Err(PpsError::InvalidPpss { found: 0xFE })
        );
        assert_eq!(
            check(&[0xFF, 0x91, 0x96, 0xF8]),
            Err(PpsError::Pps0Reserved { pps0: 0x91 })
        );
        assert_eq!(
            check(&[0xFF, 0x11, 0x96, 0x79]),
            Err(PpsError::BadPck {
                expected: 0x78,
                found: 0x79
            })
        );
        assert_eq!(
            check(&[0xFF, 0x11, 0x96, 0x78, 0x00]),
            Err(PpsError::TrailingBytes { count: 1 })
        );
        // T=0 answered to a T=1 request: FF 10 96 -> FF^10 = EF, ^96 = 79.
        assert_eq!(
            check(&[0xFF, 0x10, 0x96, 0x79]),
            Err(PpsError::ProtocolMismatch {
                requested: 1,
                answered: 0
            })
        );
        // Different PPS1: FF 11 95 -> EE ^ 95 = 7B.
        assert_eq!(
            check(&[0xFF, 0x11, 0x95, 0x7B]),
            Err(PpsError::ParameterMismatch {
                param: PpsParam::Pps1,
                requested: 0x96,
                answered: 0x95
            })
        );
        // PPS2 not requested: FF 31 96 01 -> FF^31 = CE, ^96 = 58, ^01 = 59.
        assert_eq!(
            check(&[0xFF, 0x31, 0x96, 0x01, 0x59]),
            Err(PpsError::UnrequestedParameter {
                param: PpsParam::Pps2,
                answered: 0x01
            })
        );
        // PPS1 not requested: request FF 01 FE, answer FF 11 96 78.
        let plain = PpsRequest::new(1).unwrap();
        assert_eq!(
            plain.check_response(&[0xFF, 0x11, 0x96, 0x78]),
            Err(PpsError::UnrequestedParameter {
                param: PpsParam::Pps1,
                answered: 0x96
            })
        );
        // PPS3 changed: request FF 41 07 B9 (FF^41 = BE, ^07 = B9), answer FF 41 08 B6.
        let p3 = PpsRequest::new(1).unwrap().with_pps3(0x07);
        let (out, n) = encoded(&p3);
        assert_eq!(&out[..n], &[0xFF, 0x41, 0x07, 0xB9]);
        assert_eq!(
            p3.check_response(&[0xFF, 0x41, 0x08, 0xB6]),
            Err(PpsError::ParameterMismatch {
                param: PpsParam::Pps3,
                requested: 0x07,
                answered: 0x08
            })
        );
    }

    #[test]
    fn request_rejections() {
        assert_eq!(
            PpsRequest::new(15),
            Err(PpsError::InvalidProtocol { protocol: 15 })
        );
        assert_eq!(
            PpsRequest::new(16),
            Err(PpsError::InvalidProtocol { protocol: 16 })
        );
        let t0 = PpsRequest::new(0).unwrap();
        for bad in [0x71, 0x81, 0xE1, 0xF1, 0x10, 0x1A, 0x1F] {
            assert_eq!(t0.with_fi_di(bad), Err(PpsError::InvalidFiDi { pps1: bad }));
        }
        let mut small = [0u8; 3];
        assert_eq!(
            t0.with_fi_di(0x13).unwrap().encode(&mut small),
            Err(PpsError::BufferTooSmall { len: 3, needed: 4 })
        );
        assert_eq!(t0.encode(&mut small), Ok(3));
    }

    #[test]
    fn for_atr_only_in_negotiable_mode_with_non_default_ta1() {
        // Negotiable, TA1 = 96, T=1: 3B 90 96 01 TCK (TA1, TD1 = T=1, no historical bytes).
        let body = [0x90, 0x96, 0x01];
        let tck = pck(&body);
        let atr = [0x3B, 0x90, 0x96, 0x01, tck];
        let atr = Atr::parse(&atr).unwrap();
        let req = PpsRequest::for_atr(&atr).unwrap();
        let (out, n) = encoded(&req);
        assert_eq!(&out[..n], &[0xFF, 0x11, 0x96, 0x78]);
        // TA1 = 11: nothing to negotiate.
        let atr = Atr::parse(&[0x3B, 0x10, 0x11]).unwrap();
        assert_eq!(PpsRequest::for_atr(&atr), None);
        // TA1 absent.
        let atr = Atr::parse(&[0x3B, 0x60, 0x00, 0x00]).unwrap();
        assert_eq!(PpsRequest::for_atr(&atr), None);
        // Specific mode (TA2 = 00: T=0): no PPS. 3B 90 13 10 00 -> T0 = 90 (TA1, TD1),
        // TD1 = 10 (TA2 present, T=0), TA2 = 00.
        let atr = Atr::parse(&[0x3B, 0x90, 0x13, 0x10, 0x00]).unwrap();
        assert!(matches!(atr.mode(), Mode::Specific(_)));
        assert_eq!(PpsRequest::for_atr(&atr), None);
        // Negotiable, T=0, TA1 = 13.
        let atr = Atr::parse(&[0x3B, 0x10, 0x13]).unwrap();
        let (out, n) = encoded(&PpsRequest::for_atr(&atr).unwrap());
        assert_eq!(&out[..n], &[0xFF, 0x10, 0x13, 0xFC]);
    }

    #[test]
    fn frame_lengths() {
        assert_eq!(frame_len(0x00), 3);
        assert_eq!(frame_len(0x10), 4);
        assert_eq!(frame_len(0x30), 5);
        assert_eq!(frame_len(0x7F), 6);
        assert!(!PpsRequest::new(0).unwrap().frame().is_empty());
    }

    #[test]
    fn error_messages() {
        extern crate std;
        use std::string::ToString;
        assert_eq!(
            PpsError::BadPck {
                expected: 0x78,
                found: 0x79
            }
            .to_string(),
            "bad PCK 79: expected 78"
        );
        assert_eq!(
            PpsError::ParameterMismatch {
                param: PpsParam::Pps1,
                requested: 0x96,
                answered: 0x95
            }
            .to_string(),
            "PPS response PPS1 = 95 does not echo the requested 96"
        );
    }

    proptest! {
        /// encode/parse round trip, and the echo of any request is accepted as requested.
        #[test]
        fn round_trip_and_echo(
            protocol in 0u8..15,
            pps1 in prop::option::of(prop::sample::select(&[0x11u8, 0x12, 0x13, 0x18, 0x94, 0x96, 0xD7][..])),
            pps2 in prop::option::of(any::<u8>()),
            pps3 in prop::option::of(any::<u8>()),
        ) {
            let mut req = PpsRequest::new(protocol).unwrap();
            if let Some(p) = pps1 { req = req.with_fi_di(p).unwrap(); }
            if let Some(p) = pps2 { req = req.with_pps2(p); }
            if let Some(p) = pps3 { req = req.with_pps3(p); }
            let (out, n) = encoded(&req);
            prop_assert_eq!(pck(&out[..n]), 0);
            prop_assert_eq!(PpsFrame::parse(&out[..n]), Ok(req.frame()));
            let acc = req.check_response(&out[..n]).unwrap();
            prop_assert_eq!(acc.fi_di, pps1.unwrap_or(0x11));
            prop_assert_eq!(acc.pps2, pps2);
            prop_assert_eq!(acc.pps3, pps3);
        }

        /// No input makes parsing or checking panic.
        #[test]
        fn arbitrary_response(bytes in prop::collection::vec(any::<u8>(), 0..8)) {
            let req = PpsRequest::new(1).unwrap().with_fi_di(0x96).unwrap();
            let _ = PpsFrame::parse(&bytes);
            if let Ok(acc) = req.check_response(&bytes) {
                prop_assert_eq!(acc.protocol, 1);
                prop_assert!(acc.fi_di == 0x96 || acc.fi_di == 0x11);
            }
        }
    }
}
