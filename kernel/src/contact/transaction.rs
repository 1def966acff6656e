//! The Transaction Type `9C` (n 2; Book 3 Annex A, values from ISO 8583
//! processing codes) as Processing Restrictions (Book 3 §10.4.2) and the CV
//! Rule conditions (Book 3 Annex C3, Table 44) classify it: cash, purchase
//! of goods or services, purchase with cashback.
//!
//! **\[M\]** Book 3 also treats a purchase with an Amount, Other (`9F03`)
//! other than zero as a purchase with cashback; [`AMOUNT_OTHER_MEANS_CASHBACK`]
//! turns that on (facts §1.6).

use crate::wire::tag::Tag;

/// **\[M\]** A goods/services transaction (`9C` = `00`) with a non-zero
/// Amount, Other counts as a purchase with cashback.
pub const AMOUNT_OTHER_MEANS_CASHBACK: bool = true;

/// Transaction Type (`9C`), the first two digits of the ISO 8583 processing
/// code, as one BCD byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct TransactionType(pub u8);

impl TransactionType {
    /// The element's tag, `9C`.
    pub const TAG: Tag = Tag::new(0x9C);
    /// `00`: purchase of goods or services.
    pub const GOODS_AND_SERVICES: Self = Self(0x00);
    /// `01`: cash (withdrawal, advance).
    pub const CASH: Self = Self(0x01);
    /// `09`: purchase with cashback.
    pub const CASHBACK: Self = Self(0x09);
    /// `20`: refund.
    pub const REFUND: Self = Self(0x20);

    /// A cash transaction.
    #[must_use]
    pub const fn is_cash(self) -> bool {
        self.0 == Self::CASH.0
    }

    /// A purchase of goods or services, with or without cashback.
    #[must_use]
    pub const fn is_purchase(self) -> bool {
        self.0 == Self::GOODS_AND_SERVICES.0 || self.0 == Self::CASHBACK.0
    }

    /// A purchase with cashback: type `09`, or **\[M\]** type `00` with a
    /// non-zero Amount, Other when [`AMOUNT_OTHER_MEANS_CASHBACK`].
    #[must_use]
    pub const fn is_cashback(self, amount_other: u64) -> bool {
        self.0 == Self::CASHBACK.0
            || (AMOUNT_OTHER_MEANS_CASHBACK
                && self.0 == Self::GOODS_AND_SERVICES.0
                && amount_other != 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification() {
        assert!(TransactionType::CASH.is_cash());
        assert!(!TransactionType::CASH.is_purchase());
        assert!(!TransactionType::CASH.is_cashback(100));
        assert!(TransactionType::GOODS_AND_SERVICES.is_purchase());
        assert!(!TransactionType::GOODS_AND_SERVICES.is_cashback(0));
        assert!(TransactionType::GOODS_AND_SERVICES.is_cashback(1));
        assert!(TransactionType::CASHBACK.is_purchase());
        assert!(TransactionType::CASHBACK.is_cashback(0));
        assert!(!TransactionType::REFUND.is_purchase());
        assert!(!TransactionType::REFUND.is_cashback(5));
        assert!(!TransactionType::REFUND.is_cash());
    }
}
