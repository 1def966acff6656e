//! The terminal's side of a transaction in tests: a cardholder who follows a
//! script, the issuer host simulator behind the driver's `Host` trait, and
//! the fixed transaction inputs the test suites share (2026-11-28 12:00:00,
//! unpredictable number `11223344`, random number 99).

use emv_kernel::contact::machine::{PinEntry, PinKind, TransactionInput};
use emv_kernel::selection::candidate::Candidate;
use emv_terminal::driver::{Cardholder, Host, HostAnswer};

use crate::host::IssuerHost;

/// A cardholder who picks the application at `choice` (0-based, clamped to
/// the list), confirms it, and at a PIN prompt enters `pin` (offline), lets
/// the PIN pad capture it (online PIN), or bypasses when `pin` is `None`.
#[derive(Debug, Clone, Copy)]
pub struct ScriptedCardholder<'a> {
    /// The PIN digits as text (`"1234"`), or `None` to bypass.
    pub pin: Option<&'a str>,
    /// The application to choose when asked.
    pub choice: usize,
}

impl ScriptedCardholder<'static> {
    /// Chooses the first application and enters 1234.
    #[must_use]
    pub const fn pin_1234() -> Self {
        Self {
            pin: Some("1234"),
            choice: 0,
        }
    }
}

impl Cardholder for ScriptedCardholder<'_> {
    fn choose(&mut self, candidates: &[Candidate]) -> usize {
        self.choice.min(candidates.len().saturating_sub(1))
    }
    fn confirm(&mut self, _: &Candidate) -> bool {
        true
    }
    fn pin(&mut self, kind: PinKind, _: Option<u8>) -> PinEntry {
        match (kind, self.pin) {
            (_, None) => PinEntry::Bypassed,
            (PinKind::Online, Some(_)) => PinEntry::OnlineCaptured,
            (_, Some(p)) => {
                let mut digits = [0u8; 12];
                for (d, c) in digits.iter_mut().zip(p.bytes()) {
                    *d = c.wrapping_sub(b'0');
                }
                PinEntry::Digits {
                    digits,
                    len: u8::try_from(p.len().min(12)).unwrap_or(12),
                }
            }
        }
    }
}

/// The issuer host simulator as the driver's online host; `None`: the
/// terminal cannot go online. A request the host cannot read is declined
/// (ARC `05`, no ARPC).
#[derive(Debug)]
pub struct SimulatedIssuer(pub Option<IssuerHost>);

impl Host for SimulatedIssuer {
    fn authorise(&mut self, request: &[u8]) -> HostAnswer {
        match self.0.as_ref().map(|h| h.authorise(request)) {
            None => HostAnswer::Unable,
            Some(Ok(r)) => HostAnswer::Response {
                arc: r.arc,
                issuer_authentication_data: r.issuer_authentication_data,
                scripts: r.scripts.concat(),
            },
            Some(Err(_)) => HostAnswer::Response {
                arc: *b"05",
                issuer_authentication_data: Vec::new(),
                scripts: Vec::new(),
            },
        }
    }
}

/// A purchase of `amount` (minor units) with the suites' fixed date, time,
/// unpredictable number `11223344` and random number 99.
#[must_use]
pub const fn fixed_input(amount: u64) -> TransactionInput {
    TransactionInput {
        amount,
        amount_other: 0,
        transaction_type: 0x00,
        date: [0x26, 0x11, 0x28],
        time: [0x12, 0x00, 0x00],
        unpredictable_number: [0x11, 0x22, 0x33, 0x44],
        random_number: 99,
        sequence_counter: 1,
    }
}
