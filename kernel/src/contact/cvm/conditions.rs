//! CV Rule conditions (Book 3 Annex C3, Table 44; Book 3 §10.5; facts
//! §1.7).
//!
//! | code | satisfied when |
//! |---|---|
//! | `00` | always |
//! | `01` | unattended terminal (type x4–x6) and cash |
//! | `02` | not unattended cash, not manual cash, not purchase with cashback |
//! | `03` | the terminal recognises and supports the CVM |
//! | `04` | attended terminal (type x1–x3) and cash ("manual cash") |
//! | `05` | purchase with cashback |
//! | `06`/`07` | transaction currency = application currency and amount < X / > X |
//! | `08`/`09` | same with Y |
//! | `0A`–`FF` | not understood: the rule is skipped |
//!
//! X and Y come from the CVM List, in the application currency; the amount
//! is Amount, Authorised. **\[M\]** With the Application Currency Code
//! absent, the currency cannot be shown equal, so `06`–`09` are not
//! satisfied. "Under" and "over" are strict: an amount equal to X is
//! neither under nor over X.

use crate::contact::cvm::context::CvmContext;
use crate::contact::cvm::support::Support;
use crate::data::cvm::CvmCondition;

/// The outcome of checking a CV Rule's condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConditionCheck {
    /// The condition holds: the rule applies.
    Satisfied,
    /// The condition does not hold: skip the rule.
    NotSatisfied,
    /// RFU or payment-system-specific condition this terminal does not
    /// understand: skip the rule.
    NotUnderstood,
}

/// True when the transaction is in the application currency.
#[must_use]
pub fn in_application_currency(ctx: &CvmContext) -> bool {
    ctx.application_currency == Some(ctx.transaction_currency)
}

/// Cash at an unattended terminal.
#[must_use]
pub fn is_unattended_cash(ctx: &CvmContext) -> bool {
    ctx.terminal_type.is_unattended() && ctx.transaction_type.is_cash()
}

/// Cash at an attended terminal ("manual cash").
#[must_use]
pub fn is_manual_cash(ctx: &CvmContext) -> bool {
    ctx.terminal_type.is_attended() && ctx.transaction_type.is_cash()
}

/// A purchase with cashback.
#[must_use]
pub fn is_purchase_with_cashback(ctx: &CvmContext) -> bool {
    ctx.transaction_type.is_cashback(ctx.amount_other)
}

/// Checks `condition` for a rule whose CVM the terminal stands towards as
/// `support`, with the CVM List amounts `x` and `y`.
#[must_use]
pub fn check_condition(
    condition: CvmCondition,
    support: Support,
    ctx: &CvmContext,
    x: u32,
    y: u32,
) -> ConditionCheck {
    let amount = ctx.amount_authorised;
    let in_currency = in_application_currency(ctx);
    let holds = match condition {
        CvmCondition::Always => true,
        CvmCondition::UnattendedCash => is_unattended_cash(ctx),
        CvmCondition::NotCashNorCashback => {
            !is_unattended_cash(ctx) && !is_manual_cash(ctx) && !is_purchase_with_cashback(ctx)
        }
        CvmCondition::TerminalSupportsCvm => support == Support::Supported,
        CvmCondition::ManualCash => is_manual_cash(ctx),
        CvmCondition::PurchaseWithCashback => is_purchase_with_cashback(ctx),
        CvmCondition::UnderX => in_currency && amount < u64::from(x),
        CvmCondition::OverX => in_currency && amount > u64::from(x),
        CvmCondition::UnderY => in_currency && amount < u64::from(y),
        CvmCondition::OverY => in_currency && amount > u64::from(y),
        CvmCondition::Rfu(_) | CvmCondition::PaymentSystem(_) => {
            return ConditionCheck::NotUnderstood;
        }
    };
    if holds {
        ConditionCheck::Satisfied
    } else {
        ConditionCheck::NotSatisfied
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
    use crate::contact::transaction::TransactionType;
    use crate::data::aip::Aip;
    use crate::data::terminal_capabilities::TerminalCapabilities;
    use crate::data::terminal_type::TerminalType;

    use ConditionCheck::{NotSatisfied as No, NotUnderstood as Huh, Satisfied as Yes};

    const EUR: [u8; 2] = [0x09, 0x78];
    const USD: [u8; 2] = [0x08, 0x40];

    fn ctx(terminal: u8, tt: TransactionType, amount: u64, other: u64) -> CvmContext {
        CvmContext {
            aip: Aip([0x10, 0]),
            capabilities: TerminalCapabilities([0x20, 0xF8, 0]),
            terminal_type: TerminalType::from_byte(terminal).unwrap(),
            transaction_type: tt,
            amount_authorised: amount,
            amount_other: other,
            transaction_currency: EUR,
            application_currency: Some(EUR),
        }
    }

    fn check(code: u8, c: &CvmContext) -> ConditionCheck {
        check_condition(
            CvmCondition::from_code(code),
            Support::Supported,
            c,
            1000,
            5000,
        )
    }

    #[test]
    fn transaction_kind_conditions() {
        let pos_goods = ctx(0x22, TransactionType::GOODS_AND_SERVICES, 500, 0);
        let atm_cash = ctx(0x14, TransactionType::CASH, 500, 0);
        let teller_cash = ctx(0x11, TransactionType::CASH, 500, 0);
        let cashback = ctx(0x22, TransactionType::CASHBACK, 500, 100);
        let goods_with_other = ctx(0x22, TransactionType::GOODS_AND_SERVICES, 500, 100);
        // (code, pos goods, atm cash, teller cash, cashback 09, goods + other)
        let table = [
            (0x00, Yes, Yes, Yes, Yes, Yes),
            (0x01, No, Yes, No, No, No),
            (0x02, Yes, No, No, No, No),
            (0x04, No, No, Yes, No, No),
            (0x05, No, No, No, Yes, Yes),
        ];
        for (code, a, b, c, d, e) in table {
            assert_eq!(check(code, &pos_goods), a, "{code:02X} pos goods");
            assert_eq!(check(code, &atm_cash), b, "{code:02X} atm cash");
            assert_eq!(check(code, &teller_cash), c, "{code:02X} teller cash");
            assert_eq!(check(code, &cashback), d, "{code:02X} cashback");
            assert_eq!(check(code, &goods_with_other), e, "{code:02X} goods+other");
        }
    }

    #[test]
    fn amount_conditions_x_1000_y_5000() {
        // (amount, under X, over X, under Y, over Y)
        let table = [
            (999, Yes, No, Yes, No),
            (1000, No, No, Yes, No),
            (1001, No, Yes, Yes, No),
            (4999, No, Yes, Yes, No),
            (5000, No, Yes, No, No),
            (5001, No, Yes, No, Yes),
            (0, Yes, No, Yes, No),
        ];
        for (amount, ux, ox, uy, oy) in table {
            let c = ctx(0x22, TransactionType::GOODS_AND_SERVICES, amount, 0);
            assert_eq!(check(0x06, &c), ux, "under X {amount}");
            assert_eq!(check(0x07, &c), ox, "over X {amount}");
            assert_eq!(check(0x08, &c), uy, "under Y {amount}");
            assert_eq!(check(0x09, &c), oy, "over Y {amount}");
        }
    }

    #[test]
    fn amount_conditions_need_the_application_currency() {
        let mut c = ctx(0x22, TransactionType::GOODS_AND_SERVICES, 10, 0);
        assert_eq!(check(0x06, &c), Yes);
        c.transaction_currency = USD;
        for code in 0x06..=0x09 {
            assert_eq!(check(code, &c), No, "{code:02X} foreign currency");
        }
        // [M] application currency absent.
        c.transaction_currency = EUR;
        c.application_currency = None;
        for code in 0x06..=0x09 {
            assert_eq!(check(code, &c), No, "{code:02X} no 9F42");
        }
        // Other conditions do not care about the currency.
        assert_eq!(check(0x00, &c), Yes);
    }

    #[test]
    fn terminal_supports_the_cvm() {
        let c = ctx(0x22, TransactionType::GOODS_AND_SERVICES, 10, 0);
        let cond = CvmCondition::TerminalSupportsCvm;
        assert_eq!(check_condition(cond, Support::Supported, &c, 0, 0), Yes);
        assert_eq!(check_condition(cond, Support::NotSupported, &c, 0, 0), No);
        assert_eq!(check_condition(cond, Support::Unrecognised, &c, 0, 0), No);
    }

    #[test]
    fn rfu_and_payment_system_conditions_not_understood() {
        let c = ctx(0x22, TransactionType::GOODS_AND_SERVICES, 10, 0);
        for code in [0x0A, 0x10, 0x7F, 0x80, 0xFF] {
            assert_eq!(check(code, &c), Huh, "{code:02X}");
        }
    }
}
