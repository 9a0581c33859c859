//! Reconciliation: our Stars payments against Telegram's own record of the
//! bot's Star transactions (`getStarTransactions`).

use std::collections::HashMap;

use serde::Serialize;

use super::Payment;
use crate::telegram::types::{StarTransaction, TransactionPartner, NANOSTARS};

/// An amount of Stars held in nanostars, shown in Stars: a whole number when
/// it is one, else a decimal (`48.125`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stars(pub i64);

impl Serialize for Stars {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.0 % NANOSTARS == 0 {
            s.serialize_i64(self.0 / NANOSTARS)
        } else {
            s.serialize_f64(self.0 as f64 / NANOSTARS as f64)
        }
    }
}

impl std::fmt::Display for Stars {
    /// Exact: `48`, `48.125`, `-0.5`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (sign, n) = if self.0 < 0 {
            ("-", -self.0)
        } else {
            ("", self.0)
        };
        let (whole, frac) = (n / NANOSTARS, n % NANOSTARS);
        if frac == 0 {
            return write!(f, "{sign}{whole}");
        }
        let frac = format!("{frac:09}");
        write!(f, "{sign}{whole}.{}", frac.trim_end_matches('0'))
    }
}

/// What Telegram's record says one of our Stars charges brought the bot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Settled {
    /// The user partner's `transaction_type` (`invoice_payment`).
    pub transaction_type: String,
    /// What an affiliate of the bot's affiliate program received from it.
    pub affiliate_commission: Stars,
    /// What the bot kept.
    pub net_amount: Stars,
}

/// The net revenue rule. The Bot API says `StarTransaction.amount` is the
/// Stars "transferred by the transaction" and `AffiliateInfo.amount` what the
/// affiliate "received from the transaction"; it does not say whether the
/// first already leaves out the second. So the net is the charge (what the
/// buyer paid, `successful_payment.total_amount`) less the commission, and
/// never more than Telegram says the transaction transferred: the same
/// figure whichever way Telegram reports `amount`.
pub fn settled(charged: i64, t: &StarTransaction) -> Settled {
    let commission = t.affiliate().map_or(0, |a| a.nanostars().abs());
    Settled {
        transaction_type: t.transaction_type().to_owned(),
        affiliate_commission: Stars(commission),
        net_amount: Stars((charged * NANOSTARS - commission).min(t.nanostars())),
    }
}

/// Whether Telegram's amount agrees with a charge of `charged` Stars: it is
/// the charge, or the charge less the affiliate's commission.
fn amount_agrees(charged: i64, t: &StarTransaction) -> bool {
    let commission = t.affiliate().map_or(0, |a| a.nanostars().abs());
    let n = t.nanostars();
    n == charged * NANOSTARS || n == charged * NANOSTARS - commission
}

/// Payments by invoice and their refunds: Star transactions of other kinds
/// (withdrawals, ads, an affiliate program's commissions to this bot, gifts
/// the bot bought) are not orders of ours.
fn is_invoice(p: Option<&TransactionPartner>) -> bool {
    p.is_some_and(|p| {
        p.kind == "user"
            && matches!(
                p.transaction_type.as_deref(),
                None | Some("invoice_payment")
            )
    })
}

/// Telegram's incoming invoice payments, by charge id.
pub fn incoming(telegram: &[StarTransaction]) -> HashMap<&str, &StarTransaction> {
    telegram
        .iter()
        .filter(|t| is_invoice(t.source.as_ref()))
        .map(|t| (t.id.as_str(), t))
        .collect()
}

/// What each of our Stars charges that Telegram lists brought the bot.
pub fn settlements(ours: &[Payment], telegram: &[StarTransaction]) -> HashMap<String, Settled> {
    let paid = incoming(telegram);
    ours.iter()
        .filter(|p| p.currency == "XTR")
        .filter_map(|p| {
            let t = paid.get(p.telegram_payment_charge_id.as_str())?;
            Some((p.telegram_payment_charge_id.clone(), settled(p.amount, t)))
        })
        .collect()
}

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
    let mut paid = incoming(telegram);
    let mut refunded: HashMap<&str, i64> = HashMap::new();
    for t in telegram {
        if is_invoice(t.receiver.as_ref()) {
            refunded.insert(&t.id, t.amount);
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
            Some(t) if !amount_agrees(p.amount, t) => out.push(Difference::AmountDiffers {
                charge_id: charge_id.clone(),
                stored: p.amount,
                telegram: t.amount,
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
    missing.sort_by_key(|(charge, _)| *charge);
    out.extend(
        missing
            .into_iter()
            .map(|(charge, t)| Difference::MissingInStore {
                charge_id: charge.to_owned(),
                telegram: t.amount,
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

    fn user(kind: &str) -> TransactionPartner {
        TransactionPartner::user(kind)
    }

    /// A payment of a referred buyer: Telegram lists `amount` (+ nanostars)
    /// and the affiliate's commission.
    fn referred(id: &str, amount: i64, nano: i64, commission: i64, cnano: i64) -> StarTransaction {
        let mut t = incoming(id, amount);
        t.nanostar_amount = nano;
        t.source = Some(TransactionPartner {
            affiliate: Some(crate::telegram::types::AffiliateInfo {
                commission_per_mille: 125,
                amount: commission,
                nanostar_amount: cnano,
            }),
            ..TransactionPartner::user("invoice_payment")
        });
        t
    }

    #[test]
    fn the_net_is_the_charge_less_the_commission_however_telegram_reports_amount() {
        let pay = [payment("a", "XTR", 55, false)];
        // Telegram's amount already without the commission (48.125 of 55)…
        let net = referred("a", 48, 125_000_000, 6, 875_000_000);
        // …or the whole charge beside the commission.
        let gross = referred("a", 55, 0, 6, 875_000_000);
        for t in [&net, &gross] {
            let s = settled(55, t);
            assert_eq!(s.net_amount, Stars(48_125_000_000));
            assert_eq!(s.affiliate_commission, Stars(6_875_000_000));
            assert_eq!(s.transaction_type, "invoice_payment");
            assert!(differences(&pay, std::slice::from_ref(t)).is_empty());
        }
        assert_eq!(
            serde_json::to_value(settled(55, &net)).unwrap(),
            json!({"transaction_type": "invoice_payment", "affiliate_commission": 6.875, "net_amount": 48.125})
        );
        // No affiliate: the whole charge, as a whole number.
        let plain = settled(50, &incoming("b", 50));
        assert_eq!(serde_json::to_value(plain.net_amount).unwrap(), json!(50));
        // Telegram says less reached the bot than the rule gives: its figure.
        assert_eq!(
            settled(50, &incoming("b", 40)).net_amount,
            Stars(40 * NANOSTARS)
        );
        assert_eq!(Stars(-500_000_000).to_string(), "-0.5");
        assert_eq!(Stars(48_125_000_000).to_string(), "48.125");
        assert_eq!(Stars(7 * NANOSTARS).to_string(), "7");
    }

    #[test]
    fn transactions_that_are_no_invoice_are_not_orders_of_ours() {
        let mut withdrawal = refund("w", 100);
        withdrawal.receiver = Some(TransactionPartner {
            kind: "fragment".into(),
            ..Default::default()
        });
        let mut commission = incoming("c", 3);
        commission.source = Some(TransactionPartner {
            kind: "affiliate_program".into(),
            ..Default::default()
        });
        let mut gift = refund("g", 2);
        gift.receiver = Some(user("gift_purchase"));
        assert!(differences(&[], &[withdrawal, commission, gift]).is_empty());
    }

    fn incoming(id: &str, amount: i64) -> StarTransaction {
        StarTransaction {
            id: id.into(),
            amount,
            date: 1,
            source: Some(user("invoice_payment")),
            ..Default::default()
        }
    }

    fn refund(id: &str, amount: i64) -> StarTransaction {
        StarTransaction {
            source: None,
            receiver: Some(user("invoice_payment")),
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
