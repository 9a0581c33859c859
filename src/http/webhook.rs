//! `POST /telegram/webhook`: updates from Telegram.
//!
//! Telegram retries any non-2xx, so a 2xx means "durably handled": a payment is
//! stored before it is acknowledged, and a storage failure answers 5xx. Replies
//! ride in the response body (one Bot API call per update), which saves a round
//! trip and keeps pre-checkout answers well inside Telegram's 10 s. What a
//! payment makes the bot owe (goods, operator notices) goes through the outbox
//! (see `courier`), because those sends must be retried, not just attempted.

use serde::Serialize;
use serde_json::{json, Value};

use super::api::{catalog, storage_error};
use super::{auth, courier, Platform, Request, Response};
use crate::config::Settings;
use crate::error::ApiError;
use crate::shop::checkout::{decide_pre_checkout, format_price, receipt};
use crate::shop::outbox::Outgoing;
use crate::shop::{bot, notice, outbox, Catalog, Order, OrderStatus, Payload, Payment};
use crate::store::{Outcome, Owed, Store};
use crate::telegram::client::send_message_params;
use crate::telegram::types::{Message, PreCheckoutQuery, Update};

/// A 200 that tells Telegram to make one more Bot API call.
fn call(method: &str, mut params: Value) -> Response {
    params["method"] = method.into();
    Response::json(200, &params)
}

fn done() -> Response {
    Response::json(200, &json!({}))
}

pub async fn receive<P: Platform>(
    platform: &P,
    settings: &Settings,
    req: &Request,
) -> Result<Response, ApiError> {
    auth::telegram(settings, req)?;
    let update: Update = crate::json::from_bytes(&req.body).map_err(|_| {
        ApiError::bad_request("invalid_update", "the body is not a Telegram Update")
    })?;
    let store = platform.store(settings.storage)?;

    if let Some(q) = &update.pre_checkout_query {
        return Ok(pre_checkout(platform, store, q).await);
    }
    let Some(msg) = &update.message else {
        return Ok(done());
    };
    if let Some(p) = &msg.successful_payment {
        let payload = Payload::parse(&p.invoice_payload);
        let payment = Payment {
            telegram_payment_charge_id: p.telegram_payment_charge_id.clone(),
            provider_payment_charge_id: p.provider_payment_charge_id.clone(),
            order_id: payload.order_id.to_owned(),
            user_id: msg.from.as_ref().map_or(msg.chat.id, |u| u.id),
            currency: p.currency.clone(),
            amount: p.total_amount,
            paid_at: if msg.date > 0 {
                msg.date as u64
            } else {
                platform.now()
            },
            subscription_expiration_date: p.subscription_expiration_date,
            is_recurring: p.is_recurring,
            is_first_recurring: p.is_first_recurring,
            refunded_at: None,
            raw_update: String::from_utf8_lossy(&req.body).into_owned(),
        };
        let paid = Paid {
            msg,
            payment: &payment,
            product_id: payload.product_id,
            update_id: update.update_id,
        };
        return successful_payment(platform, settings, store, paid).await;
    }
    if let Some(r) = &msg.refunded_payment {
        store
            .record_refund(&r.telegram_payment_charge_id, platform.now())
            .await
            .map_err(storage_error)?;
        let charge = &r.telegram_payment_charge_id;
        let order_id = Payload::parse(&r.invoice_payload).order_id;
        let text = notice::refunded(settings.admin_language, order_id, charge);
        let notices =
            courier::notices(settings, &format!("refund:{charge}"), &text, Some(order_id));
        courier::queue_and_send(platform, settings, store, &notices)
            .await
            .map_err(storage_error)?;
        return Ok(done());
    }
    if let Some((command, arg)) = msg.text.as_deref().and_then(bot::command_of) {
        if !store
            .claim_update(update.update_id, platform.now())
            .await
            .map_err(storage_error)?
        {
            return Ok(done());
        }
        let catalog = catalog(settings).unwrap_or(&NO_CATALOG);
        let (text, keyboard) = bot::reply(&command, arg, &req.app_url()?, catalog);
        return Ok(call(
            "sendMessage",
            send_message_params(msg.chat.id, &text, keyboard.as_ref()),
        ));
    }
    Ok(done())
}

/// How long pre-checkout waits for the order. Telegram gives the whole answer
/// 10 s, counted from its side; this leaves room for the trip there and back.
const PRE_CHECKOUT_STORAGE_MS: u64 = 5_000;

/// What a refused `CATALOG` leaves the bot: it still answers and records.
static NO_CATALOG: Catalog = Catalog {
    products: Vec::new(),
};

async fn pre_checkout<P: Platform>(
    platform: &P,
    store: &P::Store,
    q: &PreCheckoutQuery,
) -> Response {
    let unavailable = "The shop is briefly unavailable. Please try again in a minute.";
    let lookup = store.order(Payload::parse(&q.invoice_payload).order_id);
    let decision = match super::faults::within(platform, PRE_CHECKOUT_STORAGE_MS, lookup).await {
        Some(Ok(order)) => decide_pre_checkout(order.as_ref(), q),
        // Without the order we cannot say yes; saying no now beats a retry or
        // a late answer that misses Telegram's 10 s.
        Some(Err(e)) => {
            platform.log(&format!("pre_checkout_query {}: {e}", q.id));
            Err(unavailable)
        }
        None => {
            platform.log(&format!(
                "pre_checkout_query {}: storage took over {PRE_CHECKOUT_STORAGE_MS} ms",
                q.id
            ));
            Err(unavailable)
        }
    };
    Response::json(
        200,
        &PreCheckoutAnswer {
            method: "answerPreCheckoutQuery",
            pre_checkout_query_id: &q.id,
            ok: decision.is_ok(),
            error_message: decision.err(),
        },
    )
}

/// The webhook's answer to a `pre_checkout_query`, written straight from its
/// fields: Telegram waits on it, and a `Value` would be a map built per answer.
#[derive(Serialize)]
struct PreCheckoutAnswer<'a> {
    method: &'static str,
    pre_checkout_query_id: &'a str,
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_message: Option<&'a str>,
}

/// A `successful_payment` update, read.
struct Paid<'a> {
    msg: &'a Message,
    payment: &'a Payment,
    /// The product the invoice payload names, if it names one.
    product_id: Option<&'a str>,
    update_id: i64,
}

async fn successful_payment<P: Platform>(
    platform: &P,
    settings: &Settings,
    store: &P::Store,
    paid: Paid<'_>,
) -> Result<Response, ApiError> {
    let payment = paid.payment;
    // A bad catalog must not turn a stored payment into a retry.
    let catalog = catalog(settings).unwrap_or(&NO_CATALOG);
    let renewal = payment.is_recurring && !payment.is_first_recurring;
    // What the payment owes if the order is the one the payload names, paid:
    // queued by the payment's own write, so one round trip records both.
    let expected = paid.product_id.and_then(|id| {
        let mut order = Order::new(
            payment.order_id.clone(),
            payment.user_id,
            catalog.get(id)?,
            0,
        );
        order.status = OrderStatus::Paid;
        Some((id, owed(settings, catalog, Some(&order), payment, renewal)))
    });
    let guess = expected.as_ref().map(|(product_id, e)| Owed {
        product_id,
        user_id: payment.user_id,
        messages: &e.messages,
    });
    let recorded = store
        .record_payment(payment, paid.update_id, platform.now(), guess)
        .await
        .map_err(storage_error)?;
    let order = recorded.order.as_ref();
    if recorded.outcome == Outcome::Applied {
        check_matches(platform, payment, order);
    }
    let held = guess.is_some_and(|g| g.holds_for(order));
    let (owes, leased) = match expected {
        Some((_, e)) if held => (e, recorded.leased),
        // Not the order the payload named (or an older payload): queue what
        // the order as stored calls for. On every delivery of the update, so
        // a redelivery repairs a queueing that failed; ids make it once.
        _ => {
            let owes = owed(settings, catalog, order, payment, renewal);
            let leased = store
                .enqueue(&owes.messages, platform.now())
                .await
                .map_err(storage_error)?;
            (owes, leased)
        }
    };
    courier::send(platform, settings, store, leased).await;
    if recorded.outcome == Outcome::AlreadyDone || owes.goods {
        return Ok(done());
    }
    Ok(call(
        "sendMessage",
        send_message_params(paid.msg.chat.id, &owes.receipt, None),
    ))
}

/// What a payment makes the bot owe.
struct Owes {
    /// The receipt, which the goods message starts with.
    receipt: String,
    /// The goods (once per order, with the receipt) and a notice per operator chat.
    messages: Vec<Outgoing>,
    /// Whether `messages` has the goods (else the receipt is the webhook's reply).
    goods: bool,
}

fn owed(
    settings: &Settings,
    catalog: &Catalog,
    order: Option<&Order>,
    payment: &Payment,
    renewal: bool,
) -> Owes {
    let receipt = receipt(order, catalog, &payment.currency, payment.amount, renewal);
    let goods = order
        .filter(|o| o.status == OrderStatus::Paid && !renewal)
        .and_then(|o| outbox::delivery(o, catalog.get(&o.product_id)?, &receipt));
    let title = order
        .and_then(|o| catalog.get(&o.product_id))
        .map_or("?", |p| p.title.as_str());
    let sale = notice::paid(
        settings.admin_language,
        title,
        &format_price(&payment.currency, payment.amount),
        payment.user_id,
        &payment.order_id,
        renewal,
    );
    let key = format!("paid:{}", payment.telegram_payment_charge_id);
    let notices = courier::notices(settings, &key, &sale, Some(&payment.order_id));
    Owes {
        receipt,
        goods: goods.is_some(),
        messages: goods.into_iter().chain(notices).collect(),
    }
}

/// Logs a stored payment that does not fit its order, for reconciliation.
fn check_matches<P: Platform>(platform: &P, payment: &Payment, order: Option<&crate::shop::Order>) {
    match order {
        None => platform.log(&format!(
            "payment {} is for unknown order {:?}: stored for reconciliation",
            payment.telegram_payment_charge_id, payment.order_id
        )),
        Some(o)
            if o.user_id != payment.user_id
                || o.currency != payment.currency
                || o.amount != payment.amount =>
        {
            platform.log(&format!(
                "payment {} does not match order {}",
                payment.telegram_payment_charge_id, o.id
            ))
        }
        Some(_) => {}
    }
}
