//! `createInvoiceLink` and `answerPreCheckoutQuery`: an invoice's checks (Stars and card,
//! subscriptions) and the bot's answer to a pre-checkout query. The payment flow around them
//! (queries, charges, renewals) lives in `crate::payments`.

use std::sync::Arc;
use std::time::Instant;

use serde_json::{json, Value};

use super::CallEnv;
use crate::ids;
use crate::params::{ApiError, ApiResult, Params};
use crate::state::{now_unix, Ctx, Invoice, PreCheckoutAnswer};

pub const QUERY_TOO_OLD: &str =
    "query is too old and response timeout expired or query ID is invalid";
/// Subscription periods: 30 days, and on the test servers also 1 and 5 minutes.
pub const SUBSCRIPTION_PERIOD: i64 = 2_592_000;
pub const TEST_SUBSCRIPTION_PERIODS: [i64; 2] = [60, 300];
pub const MAX_SUBSCRIPTION_STARS: i64 = 10_000;

/// `createInvoiceLink` parameters checked into an invoice (slug and link still empty).
pub fn validate_invoice(p: &Params, test_env: bool) -> Result<Invoice, ApiError> {
    let title = p.str("title")?.unwrap_or_default();
    let n = title.chars().count();
    if n == 0 || n > 32 {
        return Err(ApiError::bad(if n == 0 {
            "INVOICE_TITLE_EMPTY: title must be 1-32 characters"
        } else {
            "INVOICE_TITLE_INVALID: title must be 1-32 characters"
        }));
    }
    let description = p.str("description")?.unwrap_or_default();
    let n = description.chars().count();
    if n == 0 || n > 255 {
        return Err(ApiError::bad(
            "INVOICE_DESCRIPTION_INVALID: description must be 1-255 characters",
        ));
    }
    let payload = p.str("payload")?.unwrap_or_default();
    if payload.is_empty() || payload.len() > 128 {
        return Err(ApiError::bad(
            "INVOICE_PAYLOAD_INVALID: payload must be 1-128 bytes",
        ));
    }
    let currency = p.str("currency")?.unwrap_or_default();
    if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(ApiError::bad("CURRENCY_INVALID"));
    }
    let stars = currency == "XTR";
    let prices = match p.json("prices")? {
        Some(Value::Array(a)) => a,
        Some(_) => return Err(ApiError::bad("can't parse prices JSON object")),
        None => return Err(ApiError::missing("prices")),
    };
    if prices.is_empty() {
        return Err(ApiError::bad("prices must be non-empty"));
    }
    let mut total: i64 = 0;
    for price in &prices {
        let label_ok = price.get("label").is_some_and(Value::is_string);
        let amount = price.get("amount").and_then(Value::as_i64);
        let (true, Some(amount)) = (label_ok, amount) else {
            return Err(ApiError::bad("can't parse prices JSON object"));
        };
        // Card invoices may carry negative lines (discounts); Stars take one positive price.
        if amount == 0 || (stars && amount < 0) {
            return Err(ApiError::bad(
                "CURRENCY_TOTAL_AMOUNT_INVALID: amounts must be positive",
            ));
        }
        total += amount;
    }
    if total <= 0 {
        return Err(ApiError::bad("CURRENCY_TOTAL_AMOUNT_INVALID"));
    }
    let provider_token = p.str("provider_token")?.unwrap_or_default();
    if stars {
        if prices.len() != 1 {
            return Err(ApiError::bad("STARS_INVOICE_INVALID: exactly one price must be specified for payments in Telegram Stars"));
        }
        if !provider_token.is_empty() {
            return Err(ApiError::bad("PAYMENT_PROVIDER_INVALID: provider_token must be empty for payments in Telegram Stars"));
        }
        if p.int("max_tip_amount")?.unwrap_or(0) != 0 {
            return Err(ApiError::bad(
                "tips are not supported for payments in Telegram Stars",
            ));
        }
    } else if provider_token.is_empty() {
        return Err(ApiError::bad("PAYMENT_PROVIDER_INVALID: provider_token is required for payments not in Telegram Stars"));
    }
    let subscription_period = p.int("subscription_period")?;
    if let Some(period) = subscription_period {
        if !stars {
            return Err(ApiError::bad("SUBSCRIPTION_PERIOD_INVALID: subscriptions are supported only for payments in Telegram Stars"));
        }
        let allowed = period == SUBSCRIPTION_PERIOD
            || (test_env && TEST_SUBSCRIPTION_PERIODS.contains(&period));
        if !allowed {
            return Err(ApiError::bad("SUBSCRIPTION_PERIOD_INVALID"));
        }
        if total > MAX_SUBSCRIPTION_STARS {
            return Err(ApiError::bad("SUBSCRIPTION_PRICE_INVALID: subscription price must not exceed 10000 Telegram Stars"));
        }
    }
    Ok(Invoice {
        slug: String::new(),
        link: String::new(),
        title,
        description,
        payload,
        currency,
        prices,
        total_amount: total,
        subscription_period,
        provider_token,
        photo_url: p.str("photo_url")?,
        test_env,
        created: now_unix(),
    })
}

pub(super) fn create_invoice_link(ctx: &Arc<Ctx>, p: &Params, env: CallEnv) -> ApiResult {
    let mut invoice = validate_invoice(p, env.test_env)?;
    invoice.slug = ids::invoice_slug();
    invoice.link = format!("https://t.me/${}", invoice.slug);
    let link = invoice.link.clone();
    ctx.mutate(|s| s.invoices.insert(invoice.slug.clone(), invoice));
    Ok(json!(link))
}

/// `answerPreCheckoutQuery` arguments: (query id, answer).
pub fn validate_pre_checkout_answer(p: &Params) -> Result<(String, PreCheckoutAnswer), ApiError> {
    let id = p.str_req("pre_checkout_query_id")?;
    let ok = p.bool("ok")?.ok_or_else(|| ApiError::missing("ok"))?;
    let error_message = p.str("error_message")?.filter(|m| !m.trim().is_empty());
    if !ok && error_message.is_none() {
        return Err(ApiError::bad(
            "ERROR_MESSAGE_EMPTY: error_message is required when ok is false",
        ));
    }
    Ok((id, PreCheckoutAnswer { ok, error_message }))
}

pub(super) fn answer_pre_checkout_query(ctx: &Arc<Ctx>, p: &Params) -> ApiResult {
    let (id, answer) = validate_pre_checkout_answer(p)?;
    ctx.mutate(|s| {
        let tx = s
            .queries
            .get_mut(&id)
            .filter(|q| Instant::now() <= q.deadline)
            .and_then(|q| q.answer_tx.take())
            .ok_or_else(|| ApiError::bad(QUERY_TOO_OLD))?;
        // The payer may have just given up; then the answer is simply too late.
        tx.send(answer).map_err(|_| ApiError::bad(QUERY_TOO_OLD))?;
        Ok(json!(true))
    })
}
