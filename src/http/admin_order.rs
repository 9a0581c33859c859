//! `GET /api/admin/orders/{id}`: one order as the operator looks into it:
//! the order, its charges, the messages it made the bot owe and where they
//! stand, the chat access it grants, and whether the bot can refund it.

use serde::Serialize;
use serde_json::json;

use super::api::{catalog, storage_error};
use super::views::OrderView;
use super::{auth, Platform, Request, Response};
use crate::config::Settings;
use crate::error::ApiError;
use crate::shop::access;
use crate::shop::export::Filter;
use crate::shop::order::{Payment, Refund};
use crate::shop::outbox::Tracked;
use crate::store::Store;

#[derive(Serialize)]
struct Charge<'a> {
    charge_id: &'a str,
    provider_charge_id: &'a str,
    amount: i64,
    currency: &'a str,
    charged_at: u64,
    is_recurring: bool,
    refunded_at: Option<u64>,
    /// TON and USDT payments are found on chain: their charge id is the
    /// transaction's hash.
    #[serde(skip_serializing_if = "Option::is_none")]
    transaction_hash: Option<&'a str>,
}

impl<'a> Charge<'a> {
    fn of(p: &'a Payment) -> Charge<'a> {
        let on_chain = matches!(p.currency.as_str(), "TON" | "USDT");
        Charge {
            charge_id: &p.telegram_payment_charge_id,
            provider_charge_id: &p.provider_payment_charge_id,
            amount: p.amount,
            currency: &p.currency,
            charged_at: p.paid_at,
            is_recurring: p.is_recurring,
            refunded_at: p.refunded_at,
            transaction_hash: on_chain.then_some(p.telegram_payment_charge_id.as_str()),
        }
    }
}

#[derive(Serialize)]
struct Delivery<'a> {
    /// `delivery`, `access` or `notice`.
    kind: &'static str,
    /// What the message is: its id's first part (`delivery`, `access`,
    /// `join`, `removal`, `granted`, `notice`, …).
    what: &'a str,
    /// `pending`, `sent` or `failed`.
    state: &'a str,
    attempts: u32,
    sent_at: Option<u64>,
    /// Telegram's error code (`403`), or `timeout`, `unreachable`, `other`.
    last_error_code: Option<String>,
    last_error: Option<&'a str>,
}

impl<'a> Delivery<'a> {
    fn of(t: &'a Tracked) -> Delivery<'a> {
        Delivery {
            kind: t.message.kind.as_str(),
            what: t.message.id.split(':').next().unwrap_or_default(),
            state: &t.status,
            attempts: t.attempts,
            sent_at: t.sent_at,
            last_error_code: t.last_error.as_deref().map(error_code),
            last_error: t.last_error.as_deref(),
        }
    }
}

/// The short code of a stored send error (see `BotError`'s text).
fn error_code(text: &str) -> String {
    if let Some(rest) = text.strip_prefix("Telegram answered ") {
        let code: String = rest.chars().take_while(char::is_ascii_digit).collect();
        if !code.is_empty() {
            return code;
        }
    }
    if text.contains("did not answer in time") {
        "timeout".into()
    } else if text.contains("could not be reached") {
        "unreachable".into()
    } else {
        "other".into()
    }
}

/// `GET /api/admin/orders/{id}`.
pub async fn detail<P: Platform>(
    platform: &P,
    settings: &Settings,
    req: &Request,
    order_id: &str,
) -> Result<Response, ApiError> {
    auth::operator(platform, settings, req)?;
    let store = platform.store(settings.storage)?;
    let filter = Filter {
        order_id: Some(order_id.to_owned()),
        limit: 1,
        ..Filter::default()
    };
    let found = store
        .export(&filter)
        .await
        .map_err(storage_error)?
        .pop()
        .ok_or_else(|| ApiError::new(404, "order_not_found", "no order with that id"))?;
    let order = &found.order;
    let mut payments = found.payments.clone();
    payments.sort_by(|a, b| {
        (a.paid_at, &a.telegram_payment_charge_id).cmp(&(b.paid_at, &b.telegram_payment_charge_id))
    });
    let outbox = store
        .outbox_for_order(order_id)
        .await
        .map_err(storage_error)?;
    let catalog = catalog(settings).ok();
    let product = catalog.and_then(|c| c.get(&order.product_id));
    let chat_id = catalog
        .and_then(|c| access::chat_of(c, order))
        .or(found.link.as_ref().map(|l| l.chat_id));
    let access = match chat_id {
        None => serde_json::Value::Null,
        Some(chat_id) => {
            let member = store
                .member(chat_id, order.user_id)
                .await
                .map_err(storage_error)?;
            let link = found.link.as_ref();
            json!({
                "chat_id": chat_id,
                "invite_link": link.map(|l| &l.invite_link),
                "joined_at": member.filter(|m| m.is_in()).map(|m| m.updated_at),
                "revoked_at": link.and_then(|l| l.revoked_at),
            })
        }
    };
    // The order as buyers' routes show it, with what the operator needs more:
    // the product's title (in the operator's language) while the catalog has it.
    let mut detail = json!(OrderView::of(order));
    detail["username"] = json!(order.username);
    detail["language"] = json!(order.language.code());
    detail["product_title"] = json!(product.map(|p| p.title.get(settings.admin_language)));
    Ok(Response::json(
        200,
        &json!({
            "order": detail,
            "charges": payments.iter().map(Charge::of).collect::<Vec<_>>(),
            "deliveries": outbox.iter().map(Delivery::of).collect::<Vec<_>>(),
            "access": access,
            "refundable": matches!(order.refund(), Ok(Refund::Charge(_))),
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::error_code;

    #[test]
    fn send_errors_read_as_short_codes() {
        assert_eq!(
            error_code("Telegram answered 403: Forbidden: bot was blocked"),
            "403"
        );
        assert_eq!(error_code("Telegram did not answer in time"), "timeout");
        assert_eq!(error_code("Telegram could not be reached"), "unreachable");
        assert_eq!(error_code("stored parameters are not JSON"), "other");
    }
}
