//! Whether the terminal recognises and supports a CVM (Book 3 §10.5 and
//! Annex C3 Table 43 for the codes; Book 4 Annex A2 Table 26, Terminal
//! Capabilities byte 2, for what the terminal supports).
//!
//! - Codes `00`–`05`, `1E`, `1F` are recognised; supported when the
//!   matching capability bits are set (both for the "PIN and signature"
//!   codes). Code `00` (Fail CVM) follows the ICS option
//!   [`CvmOptions::fail_cvm_supported`].
//! - Codes `06`–`0F` (EMV 4.4 biometrics) are recognised but this kernel
//!   has no biometric flow: never supported, whatever `9F33` says.
//! - `3F` (valid only in CVM Results), the payment-system (`20`–`2F`),
//!   issuer (`30`–`3E`) and RFU codes are not recognised.
//! - **\[M\]** Enciphered offline PIN counts as supported with either the
//!   RSA (b5) or the EMV 4.4 ECC (b1) capability bit.

use crate::contact::cvm::context::CvmOptions;
use crate::data::cvm::CvmMethod;
use crate::data::terminal_capabilities::TerminalCapabilities as Caps;

/// Whether the terminal recognises and supports a CVM.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Support {
    /// Recognised and supported.
    Supported,
    /// Recognised, not supported by this terminal.
    NotSupported,
    /// Not recognised.
    Unrecognised,
}

/// How the terminal stands towards `method`.
#[must_use]
pub fn terminal_support(method: CvmMethod, caps: Caps, options: &CvmOptions) -> Support {
    let has = |flag| caps.contains(flag);
    let enciphered_offline =
        has(Caps::ENCIPHERED_PIN_OFFLINE_RSA) || has(Caps::ENCIPHERED_PIN_OFFLINE_ECC);
    let supported = match method {
        CvmMethod::FailCvm => options.fail_cvm_supported,
        CvmMethod::PlaintextPinByIcc => has(Caps::PLAINTEXT_PIN_FOR_ICC),
        CvmMethod::EncipheredPinOnline => has(Caps::ENCIPHERED_PIN_ONLINE),
        CvmMethod::PlaintextPinByIccAndSignature => {
            has(Caps::PLAINTEXT_PIN_FOR_ICC) && has(Caps::SIGNATURE)
        }
        CvmMethod::EncipheredPinByIcc => enciphered_offline,
        CvmMethod::EncipheredPinByIccAndSignature => enciphered_offline && has(Caps::SIGNATURE),
        CvmMethod::Biometric { .. } => false,
        CvmMethod::Signature => has(Caps::SIGNATURE),
        CvmMethod::NoCvmRequired => has(Caps::NO_CVM_REQUIRED),
        CvmMethod::NoCvmPerformed
        | CvmMethod::PaymentSystem(_)
        | CvmMethod::Issuer(_)
        | CvmMethod::Rfu(_) => return Support::Unrecognised,
    };
    if supported {
        Support::Supported
    } else {
        Support::NotSupported
    }
}

/// True for the CVMs that need PIN entry (offline or online).
#[must_use]
pub const fn needs_pin(method: CvmMethod) -> bool {
    method.is_offline_pin() || matches!(method, CvmMethod::EncipheredPinOnline)
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

    fn support(code: u8, caps2: u8) -> Support {
        terminal_support(
            CvmMethod::from_code(code),
            Caps([0x20, caps2, 0]),
            &CvmOptions::DEFAULT,
        )
    }

    #[test]
    fn each_code_against_its_capability_bit() {
        use Support::*;
        // (code, capability byte 2 that supports it, one that does not)
        let table: [(u8, u8, u8); 8] = [
            (0x01, 0x80, 0x7F),
            (0x02, 0x40, 0xBF),
            (0x03, 0xA0, 0x80),
            (0x04, 0x10, 0xEE),
            (0x05, 0x30, 0x10),
            (0x1E, 0x20, 0xDF),
            (0x1F, 0x08, 0xF7),
            (0x04, 0x01, 0x00),
        ];
        for (code, yes, no) in table {
            assert_eq!(support(code, yes), Supported, "{code:02X} with {yes:02X}");
            assert_eq!(support(code, no), NotSupported, "{code:02X} with {no:02X}");
        }
        // Signature alone does not make PIN + signature supported.
        assert_eq!(support(0x03, 0x20), NotSupported);
    }

    #[test]
    fn fail_cvm_follows_the_option() {
        assert_eq!(support(0x00, 0x00), Support::Supported);
        let off = CvmOptions {
            fail_cvm_supported: false,
            ..CvmOptions::DEFAULT
        };
        assert_eq!(
            terminal_support(CvmMethod::FailCvm, Caps([0; 3]), &off),
            Support::NotSupported
        );
    }

    #[test]
    fn biometrics_never_supported_others_unrecognised() {
        for code in 0x06..=0x0F {
            assert_eq!(support(code, 0xFF), Support::NotSupported, "{code:02X}");
        }
        for code in (0x10..=0x1D).chain(0x20..=0x3F) {
            assert_eq!(support(code, 0xFF), Support::Unrecognised, "{code:02X}");
        }
    }

    #[test]
    fn pin_methods() {
        for code in [0x01, 0x02, 0x03, 0x04, 0x05] {
            assert!(needs_pin(CvmMethod::from_code(code)));
        }
        for code in [0x00, 0x1E, 0x1F, 0x06] {
            assert!(!needs_pin(CvmMethod::from_code(code)));
        }
    }
}
