//! Orders and payments: the records, and the rules for moving between states.
//!
//! ```text
//! pending ──successful_payment──▶ paid ──refund──▶ refunded
//!    ├──createInvoiceLink failed──▶ failed
//!    └──unpaid after PENDING_ORDER_TTL (cron)──▶ expired
//! ```
//!
//! Telegram's word is final: a payment that arrives for an `expired` (or
//! `failed`) order still makes it `paid`. A subscription stays `paid` while it
//! renews; whether it is active is its `subscription_expiration_date`.

use super::catalog::Product;
use crate::i18n::Lang;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderStatus {
    Pending,
    Paid,
    Refunded,
    Failed,
    Expired,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Pending => "pending",
            OrderStatus::Paid => "paid",
            OrderStatus::Refunded => "refunded",
            OrderStatus::Failed => "failed",
            OrderStatus::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<OrderStatus> {
        Some(match s {
            "pending" => OrderStatus::Pending,
            "paid" => OrderStatus::Paid,
            "refunded" => OrderStatus::Refunded,
            "failed" => OrderStatus::Failed,
            "expired" => OrderStatus::Expired,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    pub id: String,
    pub user_id: i64,
    pub product_id: String,
    pub status: OrderStatus,
    pub currency: String,
    pub amount: i64,
    pub created_at: u64,
    pub paid_at: Option<u64>,
    pub telegram_payment_charge_id: Option<String>,
    pub subscription_expiration_date: Option<i64>,
    /// The first charge of a subscription: what `editUserStarSubscription` names.
    pub subscription_charge_id: Option<String>,
    /// The buyer (or the bot) turned renewal off; access lasts to the end date.
    pub renewal_canceled: bool,
    /// The join request query the buyer opened the page from (Bot API 10.1):
    /// answered `approve` once the order is paid.
    pub join_request_query_id: Option<String>,
    /// The buyer's language when they ordered (their launch data's
    /// `language_code`), for what the bot tells them later without an
    /// update of theirs at hand: a TON payment found on chain, a removal.
    pub language: Lang,
    /// The buyer's Telegram username (no `@`) when they ordered, if they had
    /// one: how the operator finds and names them.
    pub username: Option<String>,
}

impl Order {
    /// A new pending order for `product`, priced from the catalog.
    pub fn new(id: String, user_id: i64, product: &Product, now: u64) -> Order {
        Order {
            id,
            user_id,
            product_id: product.id.clone(),
            status: OrderStatus::Pending,
            currency: product.currency.clone(),
            amount: product.amount,
            created_at: now,
            paid_at: None,
            telegram_payment_charge_id: None,
            subscription_expiration_date: None,
            subscription_charge_id: None,
            renewal_canceled: false,
            join_request_query_id: None,
            language: Lang::EN,
            username: None,
        }
    }

    /// The order after `payment` is applied. A store applies exactly this, so
    /// that every backend agrees: the first payment makes it paid; a renewal
    /// moves the charge and the subscription end forward; a refunded order
    /// stays refunded.
    pub fn with_payment(&self, payment: &Payment) -> Order {
        let mut o = self.clone();
        if o.status == OrderStatus::Refunded {
            return o;
        }
        if o.status != OrderStatus::Paid {
            o.status = OrderStatus::Paid;
            o.paid_at = Some(payment.paid_at);
        }
        // The order points at its latest charge. Renewals can arrive out of order
        // (redeliveries), so an older period never takes the pointer back.
        let older = matches!(
            (payment.subscription_expiration_date, o.subscription_expiration_date),
            (Some(exp), Some(current)) if exp < current
        );
        if !older {
            o.telegram_payment_charge_id = Some(payment.telegram_payment_charge_id.clone());
        }
        if let Some(exp) = payment.subscription_expiration_date {
            o.subscription_expiration_date =
                Some(o.subscription_expiration_date.map_or(exp, |e| e.max(exp)));
            // The first charge names the subscription, even if a renewal came first.
            if payment.is_first_recurring || o.subscription_charge_id.is_none() {
                o.subscription_charge_id = Some(payment.telegram_payment_charge_id.clone());
            }
        }
        o
    }
}

impl Payment {
    /// A subscription's second or later charge.
    pub fn is_renewal(&self) -> bool {
        self.is_recurring && !self.is_first_recurring
    }
}

/// What refunding an order comes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refund<'a> {
    /// Refunded before: nothing to do.
    Done,
    /// Refund this Stars charge.
    Charge(&'a str),
}

/// Why an order cannot be refunded here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundRefused {
    /// Only paid orders are refunded; this is its status.
    NotPaid(OrderStatus),
    /// Card payments are refunded through the payment provider.
    NotStars,
}

impl Order {
    /// Whether the bot can refund this order, and which charge.
    pub fn refund(&self) -> Result<Refund<'_>, RefundRefused> {
        let charge = match (self.status, &self.telegram_payment_charge_id) {
            (OrderStatus::Refunded, _) => return Ok(Refund::Done),
            (OrderStatus::Paid, Some(charge)) => charge,
            (status, _) => return Err(RefundRefused::NotPaid(status)),
        };
        if self.currency != "XTR" {
            return Err(RefundRefused::NotStars);
        }
        Ok(Refund::Charge(charge))
    }
}

/// An invoice payload as Telegram hands it back: `<order id>:<product id>`,
/// the product riding along so that a payment's goods can be queued in the
/// same write that records it, before the order is read. Payloads not of
/// that shape (invoices made before it, or not by us) are a bare order id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Payload<'a> {
    pub order_id: &'a str,
    pub product_id: Option<&'a str>,
}

impl<'a> Payload<'a> {
    /// The payload for `order`'s invoice (at most 71 bytes of Telegram's 128:
    /// a 22-character id and a product id of at most 48).
    pub fn of(order: &Order) -> String {
        format!("{}:{}", order.id, order.product_id)
    }

    pub fn parse(s: &'a str) -> Payload<'a> {
        // Order ids are base64url and product ids are held to the same
        // characters, so `:` splits them unambiguously.
        let id = |p: &str| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        };
        match s.split_once(':') {
            Some((o, p)) if id(o) && id(p) => Payload {
                order_id: o,
                product_id: Some(p),
            },
            _ => Payload {
                order_id: s,
                product_id: None,
            },
        }
    }
}

/// A payment Telegram reported (`successful_payment`), kept for audit and
/// reconciliation. `telegram_payment_charge_id` is unique.
#[derive(Debug, Clone, PartialEq)]
pub struct Payment {
    pub telegram_payment_charge_id: String,
    pub provider_payment_charge_id: String,
    /// The order the invoice payload names ([`Payload`]).
    pub order_id: String,
    pub user_id: i64,
    pub currency: String,
    pub amount: i64,
    pub paid_at: u64,
    pub subscription_expiration_date: Option<i64>,
    pub is_recurring: bool,
    pub is_first_recurring: bool,
    pub refunded_at: Option<u64>,
    /// The update as received, for audit.
    pub raw_update: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product() -> Product {
        Product::stars("p", 5, Some(2_592_000))
    }

    fn payment(charge: &str, at: u64, exp: Option<i64>) -> Payment {
        Payment {
            telegram_payment_charge_id: charge.into(),
            provider_payment_charge_id: String::new(),
            order_id: "o".into(),
            user_id: 1,
            currency: "XTR".into(),
            amount: 5,
            paid_at: at,
            subscription_expiration_date: exp,
            is_recurring: exp.is_some(),
            is_first_recurring: false,
            refunded_at: None,
            raw_update: "{}".into(),
        }
    }

    #[test]
    fn first_payment_pays_and_renewals_extend() {
        let o = Order::new("o".into(), 1, &product(), 100);
        assert_eq!(o.status, OrderStatus::Pending);
        let paid = o.with_payment(&payment("c1", 200, Some(1000)));
        assert_eq!((paid.status, paid.paid_at), (OrderStatus::Paid, Some(200)));
        let renewed = paid.with_payment(&payment("c2", 900, Some(2000)));
        assert_eq!(renewed.paid_at, Some(200), "paid_at is the first payment");
        assert_eq!(renewed.telegram_payment_charge_id.as_deref(), Some("c2"));
        assert_eq!(renewed.subscription_expiration_date, Some(2000));
        assert_eq!(
            renewed.subscription_charge_id.as_deref(),
            Some("c1"),
            "the subscription keeps its first charge"
        );
        // A late, older renewal never moves the end backwards.
        let late = renewed.with_payment(&payment("c1", 200, Some(1000)));
        assert_eq!(late.subscription_expiration_date, Some(2000));
        assert_eq!(late.telegram_payment_charge_id.as_deref(), Some("c2"));
    }

    #[test]
    fn a_refunded_order_stays_refunded() {
        let mut o = Order::new("o".into(), 1, &product(), 100);
        o.status = OrderStatus::Refunded;
        assert_eq!(
            o.with_payment(&payment("c9", 300, None)).status,
            OrderStatus::Refunded
        );
    }

    #[test]
    fn only_paid_stars_orders_are_refunded() {
        let mut o = Order::new("o".into(), 1, &product(), 100);
        assert_eq!(
            o.refund(),
            Err(RefundRefused::NotPaid(OrderStatus::Pending))
        );
        let paid = o.with_payment(&payment("c1", 200, None));
        assert_eq!(paid.refund(), Ok(Refund::Charge("c1")));
        o.status = OrderStatus::Refunded;
        assert_eq!(o.refund(), Ok(Refund::Done));
        let mut card = paid.clone();
        card.currency = "EUR".into();
        assert_eq!(card.refund(), Err(RefundRefused::NotStars));
    }

    #[test]
    fn a_late_payment_revives_an_expired_order() {
        let mut o = Order::new("o".into(), 1, &product(), 100);
        o.status = OrderStatus::Expired;
        assert_eq!(
            o.with_payment(&payment("c1", 300, None)).status,
            OrderStatus::Paid
        );
    }

    #[test]
    fn payloads_carry_the_product_and_old_ones_still_name_the_order() {
        let o = Order::new("AbC-_9".into(), 1, &product(), 100);
        let payload = Payload::of(&o);
        assert_eq!(
            Payload::parse(&payload),
            Payload {
                order_id: "AbC-_9",
                product_id: Some("p")
            }
        );
        // A bare id (an invoice from before), or anything else, is all order id.
        for s in ["AbC-_9", "a:b:c", ":p", "o:", "o#1:p", "o:p q", ""] {
            assert_eq!(
                Payload::parse(s),
                Payload {
                    order_id: s,
                    product_id: None
                },
                "{s:?}"
            );
        }
    }

    #[test]
    fn statuses_round_trip() {
        for s in [
            OrderStatus::Pending,
            OrderStatus::Paid,
            OrderStatus::Refunded,
            OrderStatus::Failed,
            OrderStatus::Expired,
        ] {
            assert_eq!(OrderStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(OrderStatus::parse("PAID"), None);
    }
}
