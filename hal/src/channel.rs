//! The APDU transport between the kernel driver and a card: one command
//! APDU out, one response APDU back (EMV Book 1 §9–11 terminal transport
//! layer, above T=0/T=1 or ISO 14443-4).
//!
//! Implementations: PC/SC readers (`emv-readers`), the UART and RF protocol
//! engines of this crate, and the simulated cards of `emv-test-cards`. The
//! caller owns both buffers.

/// Largest short-APDU response: 256 data bytes and SW1 SW2.
pub const MAX_SHORT_RESPONSE: usize = 258;

/// One APDU exchange with a card.
pub trait CardChannel {
    /// The transport's own error (reader gone, card removed, timeout…),
    /// kept generic so it is never erased.
    type Error: core::fmt::Debug;

    /// Sends `command` (a complete C-APDU) and writes the complete R-APDU,
    /// data and SW1 SW2, into `response`. Returns the response length.
    ///
    /// Whether `61xx`/`6Cxx` procedure status words reach the caller depends
    /// on the transport; the kernel's transport layer handles them either way.
    fn exchange(&mut self, command: &[u8], response: &mut [u8]) -> Result<usize, Self::Error>;
}

impl<C: CardChannel + ?Sized> CardChannel for &mut C {
    type Error = C::Error;

    fn exchange(&mut self, command: &[u8], response: &mut [u8]) -> Result<usize, Self::Error> {
        (**self).exchange(command, response)
    }
}
