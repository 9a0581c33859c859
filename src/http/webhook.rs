//! `POST /telegram/webhook`: updates from Telegram.
//!
//! Telegram retries any non-2xx, so a 2xx means "durably handled": a payment is
//! stored before it is acknowledged, and a storage failure answers 5xx. Replies
//! ride in the response body (one Bot API call per update), which saves a round
//! trip and keeps pre-checkout answers well inside Telegram's 10 s. What a
//! payment makes the bot owe (goods, operator notices) goes through the outbox
//! (see `courier`), because those sends must be retried, not just attempted.
//! The decisions themselves are the shop's (`shop::checkout`, `shop::payment`).

use serde::Serialize;

use super::api::{catalog, storage_error};
use super::{access, auth, courier, Platform, Request, Response};
use crate::config::Settings;
use crate::error::ApiError;
use crate::i18n::Lang;
use crate::shop::checkout::{decide_pre_checkout, Declined};
use crate::shop::payment::{self, Reported};
use crate::shop::{bot, notice, Catalog, Payload};
use crate::store::{Outcome, Owed, Store};
use crate::telegram::types::{PreCheckoutQuery, SendMessage, Update};

/// A 200 that tells Telegram to make one more Bot API call.
#[derive(Serialize)]
struct Reply<T> {
    method: &'static str,
    #[serde(flatten)]
    params: T,
}

pub(super) fn reply<T: Serialize>(method: &'static str, params: T) -> Response {
    Response::json(200, &Reply { method, params })
}

pub(super) fn done() -> Response {
    Response::json(200, &serde_json::Map::new())
}

/// What a refused `CATALOG` leaves the bot: it still answers and records.
static NO_CATALOG: Catalog = Catalog {
    products: Vec::new(),
};

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
    if let Some(jr) = &update.chat_join_request {
        let app_url = req.app_url()?;
        return access::join_request(
            platform,
            settings,
            store,
            app_url.as_str(),
            update.update_id,
            jr,
        )
        .await;
    }
    if let Some(m) = &update.chat_member {
        return access::member_update::<P>(settings, store, m).await;
    }
    let Some(msg) = &update.message else {
        return Ok(done());
    };
    if let Some(paid) = &msg.successful_payment {
        let reported = payment::reported(msg, paid, &req.body, platform.now());
        let app_url = req.app_url()?;
        return successful_payment(
            platform,
            settings,
            store,
            reported,
            update.update_id,
            app_url.as_str(),
        )
        .await;
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
            settings
                .operators()
                .notices(&format!("refund:{charge}"), &text, Some(order_id));
        courier::queue_and_send(platform, settings, store, &notices)
            .await
            .map_err(storage_error)?;
        if let Some(order) = store.order(order_id).await.map_err(storage_error)? {
            let app_url = req.app_url()?;
            access::remove_refunded(platform, settings, store, &order, app_url.as_str())
                .await
                .map_err(storage_error)?;
        }
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
        let lang = Lang::of(msg.from.as_ref().and_then(|u| u.language_code.as_deref()));
        let (text, reply_markup) = bot::reply(&command, arg, &req.app_url()?, catalog, lang);
        let params = SendMessage {
            chat_id: msg.chat.id,
            text,
            reply_markup,
        };
        return Ok(reply("sendMessage", params));
    }
    Ok(done())
}

/// How long pre-checkout waits for the order. Telegram gives the whole answer
/// 10 s, counted from its side; this leaves room for the trip there and back.
const PRE_CHECKOUT_STORAGE_MS: u64 = 5_000;

/// The answer to a `pre_checkout_query`.
#[derive(Serialize)]
struct PreCheckoutAnswer<'a> {
    pre_checkout_query_id: &'a str,
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_message: Option<&'static str>,
}

async fn pre_checkout<P: Platform>(
    platform: &P,
    store: &P::Store,
    q: &PreCheckoutQuery,
) -> Response {
    let lookup = store.order(Payload::parse(&q.invoice_payload).order_id);
    let decision = match super::faults::within(platform, PRE_CHECKOUT_STORAGE_MS, lookup).await {
        Some(Ok(order)) => decide_pre_checkout(order.as_ref(), q),
        // Without the order we cannot say yes; saying no now beats a retry or
        // a late answer that misses Telegram's 10 s.
        Some(Err(e)) => {
            platform.log(&format!("pre_checkout_query {}: {e}", q.id));
            Err(Declined::Unavailable)
        }
        None => {
            platform.log(&format!(
                "pre_checkout_query {}: storage took over {PRE_CHECKOUT_STORAGE_MS} ms",
                q.id
            ));
            Err(Declined::Unavailable)
        }
    };
    let answer = PreCheckoutAnswer {
        pre_checkout_query_id: &q.id,
        ok: decision.is_ok(),
        // In the buyer's language: Telegram shows it on the payment sheet.
        error_message: decision
            .err()
            .map(|why| why.message(Lang::of(q.from.language_code.as_deref()))),
    };
    reply("answerPreCheckoutQuery", answer)
}

async fn successful_payment<P: Platform>(
    platform: &P,
    settings: &Settings,
    store: &P::Store,
    reported: Reported<'_>,
    update_id: i64,
    app_url: &str,
) -> Result<Response, ApiError> {
    let payment = &reported.payment;
    // A bad catalog must not turn a stored payment into a retry.
    let catalog = catalog(settings).unwrap_or(&NO_CATALOG);
    let operators = settings.operators();
    // What the payment owes if the order is the one the payload names: queued
    // by the payment's own write, so one round trip records both.
    let expected = reported.product_id.and_then(|id| {
        let owes =
            payment::owed_if_as_named(&operators, catalog, payment, id, app_url, reported.lang)?;
        Some((id, owes))
    });
    let owed = expected.as_ref().map(|(product_id, owes)| Owed {
        product_id,
        user_id: payment.user_id,
        messages: &owes.messages,
    });
    let recorded = store
        .record_payment(payment, Some(update_id), platform.now(), owed)
        .await
        .map_err(storage_error)?;
    let order = recorded.order.as_ref();
    if recorded.outcome == Outcome::Applied {
        if let Some(m) = payment::mismatch(payment, order) {
            platform.log(&format!(
                "payment {} {m}",
                payment.telegram_payment_charge_id
            ));
        }
    }
    let (owes, leased) = match (expected, recorded.owed) {
        // The join request query stored with the order was not known when
        // the batch queued what the payment owes: its answer is queued now.
        (Some((_, owes)), Some(mut leased)) => {
            let query = order.and_then(crate::shop::access::approve_query);
            if let Some(answer) = query {
                let more = store
                    .enqueue(&[answer], platform.now())
                    .await
                    .map_err(storage_error)?;
                leased.extend(more);
            }
            (owes, leased)
        }
        // Not the order the payload named (or an older payload): queue what
        // the order as stored calls for. On every delivery of the update, so
        // a redelivery repairs a queueing that failed; ids make it once.
        _ => {
            let owes = payment::owed(&operators, catalog, order, payment, app_url, reported.lang);
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
    let receipt = SendMessage {
        chat_id: reported.chat_id,
        text: owes.receipt,
        reply_markup: None,
    };
    Ok(reply("sendMessage", receipt))
}
