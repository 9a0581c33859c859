//! A payment as Telegram reports it (`successful_payment`), and what it makes
//! the bot owe: the receipt, the goods, a notice per operator chat.

use std::fmt;

use super::access;
use super::catalog::Catalog;
use super::checkout::{format_price, receipt};
use super::notice::{self, Operators};
use super::order::{Order, OrderStatus, Payload, Payment};
use super::outbox::{self, Outgoing};
use crate::telegram::types::{Message, SuccessfulPayment};

/// A `successful_payment`, read: the payment to store, and the product its
/// invoice payload names (`None` for payloads from before it named one).
#[derive(Debug, Clone, PartialEq)]
pub struct Reported<'a> {
    pub payment: Payment,
    pub product_id: Option<&'a str>,
    /// The chat the payment was made in, where the receipt goes.
    pub chat_id: i64,
}

/// Reads the payment in `msg`. `raw_update` is kept for audit; `now` stands
/// in for a message without a date.
pub fn reported<'a>(
    msg: &Message,
    paid: &'a SuccessfulPayment,
    raw_update: &[u8],
    now: u64,
) -> Reported<'a> {
    let payload = Payload::parse(&paid.invoice_payload);
    Reported {
        payment: Payment {
            telegram_payment_charge_id: paid.telegram_payment_charge_id.clone(),
            provider_payment_charge_id: paid.provider_payment_charge_id.clone(),
            order_id: payload.order_id.to_owned(),
            // The payer; a message without `from` is from its chat.
            user_id: msg.from.as_ref().map_or(msg.chat.id, |u| u.id),
            currency: paid.currency.clone(),
            amount: paid.total_amount,
            paid_at: u64::try_from(msg.date)
                .ok()
                .filter(|d| *d > 0)
                .unwrap_or(now),
            subscription_expiration_date: paid.subscription_expiration_date,
            is_recurring: paid.is_recurring,
            is_first_recurring: paid.is_first_recurring,
            refunded_at: None,
            raw_update: String::from_utf8_lossy(raw_update).into_owned(),
        },
        product_id: payload.product_id,
        chat_id: msg.chat.id,
    }
}

/// What a payment makes the bot owe.
#[derive(Debug, Clone, PartialEq)]
pub struct Owes {
    /// The receipt, which the goods message starts with.
    pub receipt: String,
    /// The goods (once per order, with the receipt) and a notice per operator chat.
    pub messages: Vec<Outgoing>,
    /// Whether `messages` has the goods (else the receipt is sent on its own).
    pub goods: bool,
}

/// What `payment` owes for `order` as it stands after the payment. `app_url`
/// is the page, for the buttons of later messages.
pub fn owed(
    operators: &Operators,
    catalog: &Catalog,
    order: Option<&Order>,
    payment: &Payment,
    app_url: &str,
) -> Owes {
    let renewal = payment.is_renewal();
    let receipt = receipt(order, catalog, &payment.currency, payment.amount, renewal);
    let paid = order.filter(|o| o.status == OrderStatus::Paid && !renewal);
    let goods = paid.and_then(|o| outbox::delivery(o, catalog.get(&o.product_id)?, &receipt));
    // Access: a personal link, and the join request query the buyer came from.
    let access = paid.into_iter().flat_map(|o| {
        let grant = catalog
            .get(&o.product_id)
            .and_then(|p| access::grant(o, p, app_url));
        grant.into_iter().chain(access::approve_query(o))
    });
    let title = order
        .and_then(|o| catalog.get(&o.product_id))
        .map_or("?", |p| p.title.as_str());
    let sale = notice::paid(
        operators.lang,
        title,
        &format_price(&payment.currency, payment.amount),
        payment.user_id,
        &payment.order_id,
        renewal,
    );
    let key = format!("paid:{}", payment.telegram_payment_charge_id);
    let notices = operators.notices(&key, &sale, Some(&payment.order_id));
    Owes {
        receipt,
        goods: goods.is_some(),
        messages: goods.into_iter().chain(access).chain(notices).collect(),
    }
}

/// What `payment` owes if its order is the one its invoice named, for
/// `product_id`, paid: known before the order is read, so that the payment's
/// own write can queue it. `None` when the catalog has no such product. A
/// join request query stored with the order is not known yet: the caller
/// queues its answer once the order is read (`access::approve_query`).
pub fn owed_if_as_named(
    operators: &Operators,
    catalog: &Catalog,
    payment: &Payment,
    product_id: &str,
    app_url: &str,
) -> Option<Owes> {
    let product = catalog.get(product_id)?;
    let mut order = Order::new(payment.order_id.clone(), payment.user_id, product, 0);
    order.status = OrderStatus::Paid;
    Some(owed(operators, catalog, Some(&order), payment, app_url))
}

/// How a stored payment does not fit its order; for reconciliation by hand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mismatch {
    UnknownOrder,
    /// Another buyer, currency or amount than the order's.
    DiffersFromOrder,
}

/// Whether `payment` fits `order` (its buyer, currency and amount). A
/// transfer on chain may carry more than the price; an invoice cannot.
pub fn mismatch(payment: &Payment, order: Option<&Order>) -> Option<Mismatch> {
    let on_chain = matches!(payment.currency.as_str(), "TON" | "USDT");
    match order {
        None => Some(Mismatch::UnknownOrder),
        Some(o)
            if o.user_id != payment.user_id
                || o.currency != payment.currency
                || (o.amount != payment.amount && !(on_chain && payment.amount > o.amount)) =>
        {
            Some(Mismatch::DiffersFromOrder)
        }
        Some(_) => None,
    }
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Mismatch::UnknownOrder => "is for an unknown order: stored for reconciliation",
            Mismatch::DiffersFromOrder => "does not match its order",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shop::catalog::{Delivery, Product};
    use crate::shop::notice::Lang;
    use crate::telegram::types::{Chat, User};

    fn message(from: Option<i64>, date: i64) -> Message {
        Message {
            message_id: 1,
            from: from.map(|id| User {
                id,
                is_bot: false,
                first_name: "A".into(),
                last_name: None,
                username: None,
                language_code: None,
            }),
            chat: Chat {
                id: 99,
                kind: "private".into(),
                title: None,
            },
            date,
            text: None,
            successful_payment: None,
            refunded_payment: None,
        }
    }

    fn paid(payload: &str) -> SuccessfulPayment {
        SuccessfulPayment {
            currency: "XTR".into(),
            total_amount: 50,
            invoice_payload: payload.into(),
            telegram_payment_charge_id: "stx1".into(),
            provider_payment_charge_id: String::new(),
            subscription_expiration_date: None,
            is_recurring: false,
            is_first_recurring: false,
        }
    }

    #[test]
    fn an_update_becomes_the_payment_it_reports() {
        let p = paid("ord1:pack");
        let r = reported(&message(Some(7), 1_000), &p, b"{}", 5_000);
        assert_eq!(r.product_id, Some("pack"));
        assert_eq!(
            (
                r.payment.order_id.as_str(),
                r.payment.user_id,
                r.payment.paid_at
            ),
            ("ord1", 7, 1_000)
        );
        assert_eq!(r.payment.raw_update, "{}");
        // No sender: the chat paid; no date: now.
        let bare = paid("ord1");
        let r = reported(&message(None, 0), &bare, b"{}", 5_000);
        assert_eq!((r.payment.user_id, r.payment.paid_at), (99, 5_000));
        assert_eq!(r.product_id, None);
    }

    const APP: &str = "https://shop.example/";

    fn catalog() -> Catalog {
        Catalog {
            products: vec![Product {
                title: "Pack".into(),
                delivery: Some(Delivery {
                    text: Some("code 42".into()),
                    url: None,
                    document: None,
                }),
                ..Product::stars("pack", 50, None)
            }],
        }
    }

    fn payment() -> Payment {
        let p = paid("ord1:pack");
        reported(&message(Some(7), 1_000), &p, b"{}", 0).payment
    }

    #[test]
    fn a_paid_order_owes_its_goods_and_a_notice_per_operator() {
        let ops = Operators {
            chats: &[900, 901],
            lang: Lang::En,
        };
        let owes = owed_if_as_named(&ops, &catalog(), &payment(), "pack", APP).unwrap();
        assert!(owes.goods);
        let ids: Vec<&str> = owes.messages.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "delivery:ord1",
                "notice:paid:stx1:900",
                "notice:paid:stx1:901"
            ]
        );
        assert!(owes.messages[0].params.contains("code 42"));
        assert!(owed_if_as_named(&ops, &catalog(), &payment(), "gone", APP).is_none());
    }

    #[test]
    fn an_unpaid_order_or_a_renewal_owes_no_goods() {
        let ops = Operators {
            chats: &[],
            lang: Lang::En,
        };
        let order = Order::new("ord1".into(), 7, &catalog().products[0], 0);
        let owes = owed(&ops, &catalog(), Some(&order), &payment(), APP);
        assert!(!owes.goods && owes.messages.is_empty());
        let mut renewal = payment();
        renewal.subscription_expiration_date = Some(9);
        (renewal.is_recurring, renewal.is_first_recurring) = (true, false);
        let mut paid_order = order.clone();
        paid_order.status = OrderStatus::Paid;
        let owes = owed(&ops, &catalog(), Some(&paid_order), &renewal, APP);
        assert!(!owes.goods);
        assert!(owes.receipt.contains("renewed"), "{}", owes.receipt);
    }

    #[test]
    fn a_payment_that_does_not_fit_its_order_is_named() {
        let p = payment();
        let mut order = Order::new("ord1".into(), 7, &catalog().products[0], 0);
        assert_eq!(mismatch(&p, Some(&order)), None);
        assert_eq!(mismatch(&p, None), Some(Mismatch::UnknownOrder));
        order.amount = 49;
        assert_eq!(mismatch(&p, Some(&order)), Some(Mismatch::DiffersFromOrder));
    }

    #[test]
    fn a_transfer_on_chain_may_pay_more_but_not_less() {
        let mut p = payment();
        p.currency = "TON".into();
        let mut order = Order::new("ord1".into(), 7, &catalog().products[0], 0);
        order.currency = "TON".into();
        order.amount = 49;
        assert_eq!(mismatch(&p, Some(&order)), None);
        order.amount = 51;
        assert_eq!(mismatch(&p, Some(&order)), Some(Mismatch::DiffersFromOrder));
    }
}
