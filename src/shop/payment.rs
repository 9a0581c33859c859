//! A payment as Telegram reports it (`successful_payment`), and what it makes
//! the bot owe: the receipt, the goods, a notice per operator chat.

use std::fmt;

use super::access;
use super::catalog::Catalog;
use super::checkout::{format_price, receipt};
use super::notice::{self, Operators};
use super::order::{Order, OrderStatus, Payload, Payment};
use super::outbox::{self, Outgoing};
use crate::i18n::Lang;
use crate::telegram::types::{Message, SuccessfulPayment};

/// A `successful_payment`, read: the payment to store, and the product its
/// invoice payload names (`None` for payloads from before it named one).
#[derive(Debug, Clone, PartialEq)]
pub struct Reported<'a> {
    pub payment: Payment,
    pub product_id: Option<&'a str>,
    /// The chat the payment was made in, where the receipt goes.
    pub chat_id: i64,
    /// The payer's language (`from.language_code`): the receipt's and the goods'.
    pub lang: Lang,
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
        lang: Lang::of(msg.from.as_ref().and_then(|u| u.language_code.as_deref())),
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
/// is the page, for the buttons of later messages; what the buyer reads is
/// written in `lang`, theirs, now (the outbox keeps it as written).
pub fn owed(
    operators: &Operators,
    catalog: &Catalog,
    order: Option<&Order>,
    payment: &Payment,
    app_url: &str,
    lang: Lang,
) -> Owes {
    let renewal = payment.is_renewal();
    let receipt = receipt(
        order,
        catalog,
        &payment.currency,
        payment.amount,
        renewal,
        lang,
    );
    let paid = order.filter(|o| o.status == OrderStatus::Paid && !renewal);
    let goods = paid.and_then(|o| outbox::delivery(o, catalog.get(&o.product_id)?, &receipt, lang));
    // Access: a personal link, and the join request query the buyer came from.
    let access = paid.into_iter().flat_map(|o| {
        let grant = catalog
            .get(&o.product_id)
            .and_then(|p| access::grant(o, p, app_url, lang));
        grant.into_iter().chain(access::approve_query(o))
    });
    let title = order
        .and_then(|o| catalog.get(&o.product_id))
        .map_or("?", |p| p.title.get(operators.lang));
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
    lang: Lang,
) -> Option<Owes> {
    let product = catalog.get(product_id)?;
    let mut order = Order::new(payment.order_id.clone(), payment.user_id, product, 0);
    order.status = OrderStatus::Paid;
    Some(owed(
        operators,
        catalog,
        Some(&order),
        payment,
        app_url,
        lang,
    ))
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
    use crate::shop::catalog::{Delivery, Product, Text};
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
                language_code: Some("zh-hans".into()),
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
        assert_eq!(r.lang, Lang::ZH, "the payer's language_code");
        // No sender: the chat paid; no date: now; no language: English.
        let bare = paid("ord1");
        let r = reported(&message(None, 0), &bare, b"{}", 5_000);
        assert_eq!((r.payment.user_id, r.payment.paid_at), (99, 5_000));
        assert_eq!(r.product_id, None);
        assert_eq!(r.lang, Lang::EN);
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
            lang: Lang::EN,
        };
        let owes = owed_if_as_named(&ops, &catalog(), &payment(), "pack", APP, Lang::EN).unwrap();
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
        assert!(owed_if_as_named(&ops, &catalog(), &payment(), "gone", APP, Lang::EN).is_none());
    }

    #[test]
    fn a_chinese_buyer_gets_receipt_and_goods_in_chinese_and_operators_theirs() {
        let ops = Operators {
            chats: &[900],
            lang: Lang::EN,
        };
        let mut c = catalog();
        c.products[0].title = Text::ByLanguage(vec![
            ("en".into(), "Pack".into()),
            ("zh".into(), "贴纸包".into()),
        ]);
        c.products[0].delivery.as_mut().unwrap().text = Some(Text::ByLanguage(vec![
            ("en".into(), "code 42".into()),
            ("zh".into(), "兑换码 42".into()),
        ]));
        let owes = owed_if_as_named(&ops, &c, &payment(), "pack", APP, Lang::ZH).unwrap();
        assert!(
            owes.receipt.starts_with("✅ 付款成功：贴纸包，⭐ 50"),
            "{}",
            owes.receipt
        );
        let goods: serde_json::Value = serde_json::from_str(&owes.messages[0].params).unwrap();
        assert_eq!(goods["text"], format!("{}\n\n兑换码 42", owes.receipt));
        let notice: serde_json::Value = serde_json::from_str(&owes.messages[1].params).unwrap();
        assert!(
            notice["text"]
                .as_str()
                .unwrap()
                .starts_with("💰 New sale: Pack"),
            "{notice}"
        );
    }

    #[test]
    fn an_unpaid_order_or_a_renewal_owes_no_goods() {
        let ops = Operators {
            chats: &[],
            lang: Lang::EN,
        };
        let order = Order::new("ord1".into(), 7, &catalog().products[0], 0);
        let owes = owed(&ops, &catalog(), Some(&order), &payment(), APP, Lang::EN);
        assert!(!owes.goods && owes.messages.is_empty());
        let mut renewal = payment();
        renewal.subscription_expiration_date = Some(9);
        (renewal.is_recurring, renewal.is_first_recurring) = (true, false);
        let mut paid_order = order.clone();
        paid_order.status = OrderStatus::Paid;
        let owes = owed(&ops, &catalog(), Some(&paid_order), &renewal, APP, Lang::EN);
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
