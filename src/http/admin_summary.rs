//! `GET /api/admin/summary?days=30|90`: the operator's figures for the last
//! days (see `shop::summary`), the bot's Stars balance and how our record
//! and Telegram's agree. Telegram failing costs only its parts: they are
//! null with the error's code beside them, and the rest is answered.

use serde_json::{json, Map, Value};

use super::admin::{reconciled_payments, reconciliation, star_transactions};
use super::api::storage_error;
use super::{auth, Platform, Request, Response};
use crate::config::Settings;
use crate::error::ApiError;
use crate::shop::{reconcile, summary};
use crate::store::Store;

/// Charges read for the window: far beyond a small shop's 90 days.
const MAX_CHARGES: usize = 50_000;

fn days(query: &str) -> Result<u32, ApiError> {
    let asked = form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == "days");
    let Some((_, v)) = asked else {
        return Ok(summary::WINDOWS[0]);
    };
    v.parse::<u32>()
        .ok()
        .filter(|d| summary::WINDOWS.contains(d))
        .ok_or_else(|| ApiError::bad_request("invalid_query", "days must be 30 or 90"))
}

pub async fn summary<P: Platform>(
    platform: &P,
    settings: &Settings,
    req: &Request,
) -> Result<Response, ApiError> {
    auth::operator(platform, settings, req)?;
    let days = days(&req.query)?;
    let now = platform.now();
    let window = summary::Window::ending(now, days);
    let store = platform.store(settings.storage)?;
    let charges = store
        .payments_since(window.since, MAX_CHARGES)
        .await
        .map_err(storage_error)?;
    let orders = super::admin::paid_orders(store).await?;

    let mut out = Map::new();
    // Telegram's record: the Stars net and the reconciliation both need it.
    let (settled, reconciliation) = match star_transactions(platform, settings).await {
        Ok(telegram) => {
            let ours = reconciled_payments(store).await?;
            let check = reconciliation(&ours, &telegram);
            (Some(reconcile::settlements(&charges, &telegram)), check)
        }
        Err(e) => {
            out.insert("reconciliation_error".into(), json!(e.code));
            (None, Value::Null)
        }
    };
    let balance = match super::bot(platform, settings) {
        Ok(bot) => bot
            .get_my_star_balance()
            .await
            .map_err(|e| super::faults::telegram_failure("getMyStarBalance failed", &e).code),
        Err(e) => Err(e.code),
    };
    let balance = balance.map_or_else(
        |code| {
            out.insert("star_balance_error".into(), json!(code));
            Value::Null
        },
        |b| json!(b),
    );
    out.insert("days".into(), json!(days));
    out.insert("since".into(), json!(window.since));
    out.insert("until".into(), json!(window.until));
    out.insert(
        "currencies".into(),
        json!(summary::currencies(&charges, &window, settled.as_ref())),
    );
    out.insert(
        "subscriptions".into(),
        json!(summary::subscriptions(&orders, now)),
    );
    out.insert("star_balance".into(), balance);
    out.insert("reconciliation".into(), reconciliation);
    Ok(Response::json(200, &Value::Object(out)))
}
