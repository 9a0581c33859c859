//! Reconciliation: our Stars payments against Telegram's own record of the
//! bot's Star transactions (`getStarTransactions`).

use std::collections::HashMap;

use serde::Serialize;

use super::Payment;
use crate::telegram::types::StarTransaction;

/// One way the two records disagree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum Difference {
    /// We stored a payment Telegram does not list.
    MissingAtTelegram { charge_id: String, order_id: String },
    AmountDiffers {
        charge_id: String,
        stored: i64,
        telegram: i64,
    },
    /// Telegram refunded a charge we hold as paid.
    RefundNotRecorded { charge_id: String, order_id: String },
    /// We hold a charge as refunded that Telegram does not.
    RefundMissingAtTelegram { charge_id: String, order_id: String },
    /// Telegram lists a payment we never stored.
    MissingInStore { charge_id: String, telegram: i64 },
}

impl Difference {
    pub fn charge_id(&self) -> &str {
        match self {
            Difference::MissingAtTelegram { charge_id, .. }
            | Difference::AmountDiffers { charge_id, .. }
            | Difference::RefundNotRecorded { charge_id, .. }
            | Difference::RefundMissingAtTelegram { charge_id, .. }
            | Difference::MissingInStore { charge_id, .. } => charge_id,
        }
    }

    fn problem(&self) -> &'static str {
        match self {
            Difference::MissingAtTelegram { .. } => "missing_at_telegram",
            Difference::AmountDiffers { .. } => "amount_differs",
            Difference::RefundNotRecorded { .. } => "refund_not_recorded",
            Difference::RefundMissingAtTelegram { .. } => "refund_missing_at_telegram",
            Difference::MissingInStore { .. } => "missing_in_store",
        }
    }

    /// `<problem> <charge id>`, a line of the operator's notice.
    pub fn line(&self) -> String {
        format!("{} {}", self.problem(), self.charge_id())
    }
}

/// Where `ours` (stored payments, any currency) and `telegram` (transactions)
/// disagree. Telegram lists an incoming payment with a `source` and a refund
/// with a `receiver`; only Stars payments are in its record.
pub fn differences(ours: &[Payment], telegram: &[StarTransaction]) -> Vec<Difference> {
    let mut paid: HashMap<&str, i64> = HashMap::new();
    let mut refunded: HashMap<&str, i64> = HashMap::new();
    for t in telegram {
        if t.receiver.is_some() {
            refunded.insert(&t.id, t.amount);
        } else if t.source.is_some() {
            paid.insert(&t.id, t.amount);
        }
    }
    let mut out = Vec::new();
    for p in ours.iter().filter(|p| p.currency == "XTR") {
        let charge_id = p.telegram_payment_charge_id.clone();
        match paid.remove(p.telegram_payment_charge_id.as_str()) {
            None => out.push(Difference::MissingAtTelegram {
                charge_id: charge_id.clone(),
                order_id: p.order_id.clone(),
            }),
            Some(amount) if amount != p.amount => out.push(Difference::AmountDiffers {
                charge_id: charge_id.clone(),
                stored: p.amount,
                telegram: amount,
            }),
            Some(_) => {}
        }
        let telegram_refunded = refunded
            .remove(p.telegram_payment_charge_id.as_str())
            .is_some();
        let order_id = p.order_id.clone();
        match (telegram_refunded, p.refunded_at.is_some()) {
            (true, false) => out.push(Difference::RefundNotRecorded {
                charge_id,
                order_id,
            }),
            (false, true) => out.push(Difference::RefundMissingAtTelegram {
                charge_id,
                order_id,
            }),
            _ => {}
        }
    }
    let mut missing: Vec<_> = paid.into_iter().collect();
    missing.sort();
    out.extend(
        missing
            .into_iter()
            .map(|(charge, amount)| Difference::MissingInStore {
                charge_id: charge.to_owned(),
                telegram: amount,
            }),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn payment(charge: &str, currency: &str, amount: i64, refunded: bool) -> Payment {
        Payment {
            telegram_payment_charge_id: charge.into(),
            provider_payment_charge_id: String::new(),
            order_id: format!("o_{charge}"),
            user_id: 7,
            currency: currency.into(),
            amount,
            paid_at: 1,
            subscription_expiration_date: None,
            is_recurring: false,
            is_first_recurring: false,
            refunded_at: refunded.then_some(2),
            raw_update: String::new(),
        }
    }

    fn incoming(id: &str, amount: i64) -> StarTransaction {
        StarTransaction {
            id: id.into(),
            amount,
            date: 1,
            source: Some(json!({"type": "user"})),
            receiver: None,
        }
    }

    fn refund(id: &str, amount: i64) -> StarTransaction {
        StarTransaction {
            source: None,
            receiver: Some(json!({"type": "user"})),
            ..incoming(id, amount)
        }
    }

    #[test]
    fn each_kind_of_difference_is_found_and_agreement_is_silent() {
        let ours = [
            payment("ok", "XTR", 5, false),
            payment("gone", "XTR", 5, false),
            payment("price", "XTR", 5, false),
            payment("tg_refunded", "XTR", 5, false),
            payment("we_refunded", "XTR", 5, true),
            payment("card", "EUR", 500, false),
        ];
        let telegram = [
            incoming("ok", 5),
            incoming("price", 6),
            incoming("tg_refunded", 5),
            refund("tg_refunded", 5),
            incoming("we_refunded", 5),
            incoming("stranger", 9),
        ];
        let lines: Vec<String> = differences(&ours, &telegram)
            .iter()
            .map(Difference::line)
            .collect();
        assert_eq!(
            lines,
            [
                "missing_at_telegram gone",
                "amount_differs price",
                "refund_not_recorded tg_refunded",
                "refund_missing_at_telegram we_refunded",
                "missing_in_store stranger",
            ]
        );
        let json = serde_json::to_value(&differences(&ours[2..3], &telegram[1..2])[0]).unwrap();
        assert_eq!(
            json,
            json!({"problem": "amount_differs", "charge_id": "price", "stored": 5, "telegram": 6})
        );
        assert!(differences(&ours[..1], &telegram[..1]).is_empty());
    }
}
