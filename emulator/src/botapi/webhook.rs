//! How the bot receives updates: `setWebhook`, `deleteWebhook`, `getWebhookInfo` and the
//! `getUpdates` long poll, with the `allowed_updates` filter both of them take.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use crate::params::{ApiError, ApiResult, Params};
use crate::state::{Ctx, UpdateRecord, UpdateStatus, Webhook};

pub const GET_UPDATES_CONFLICT: &str =
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first";

/// `setWebhook`; with `drop_pending_updates` the waiting updates are discarded first.
pub(super) fn set_webhook(ctx: &Ctx, p: &Params) -> ApiResult {
    let hook = validate_webhook(p)?;
    let drop = p.bool("drop_pending_updates")?.unwrap_or(false);
    ctx.mutate(|s| {
        if drop {
            s.drop_pending();
        }
        s.webhook = hook;
    });
    Ok(json!(true))
}

/// `deleteWebhook`; with `drop_pending_updates` the waiting updates are discarded too.
pub(super) fn delete_webhook(ctx: &Ctx, p: &Params) -> ApiResult {
    let drop = p.bool("drop_pending_updates")?.unwrap_or(false);
    ctx.mutate(|s| {
        if drop {
            s.drop_pending();
        }
        s.webhook = None;
    });
    Ok(json!(true))
}

/// `setWebhook` arguments; `None` means "remove the webhook" (empty url).
pub fn validate_webhook(p: &Params) -> Result<Option<Webhook>, ApiError> {
    let url = p.str("url")?.ok_or_else(|| ApiError::missing("url"))?;
    if url.is_empty() {
        return Ok(None);
    }
    // Real Telegram wants HTTPS on a public host; a local emulator must accept loopback HTTP.
    let scheme_ok = url.starts_with("https://") || url.starts_with("http://");
    if !scheme_ok || url.split("://").nth(1).is_none_or(|rest| rest.is_empty()) {
        return Err(ApiError::bad(
            "bad webhook: An HTTPS URL must be provided for webhook",
        ));
    }
    let secret_token = p.str("secret_token")?.filter(|s| !s.is_empty());
    if let Some(s) = &secret_token {
        if s.len() > 256 {
            return Err(ApiError::bad("secret token is too long"));
        }
        if !s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err(ApiError::bad("secret token contains unallowed characters"));
        }
    }
    let allowed_updates = parse_allowed_updates(p)?.unwrap_or_default();
    Ok(Some(Webhook {
        url,
        secret_token,
        max_connections: p.int_clamped("max_connections", 40, 1, 100)?,
        allowed_updates,
        last_error_date: None,
        last_error_message: None,
    }))
}

fn parse_allowed_updates(p: &Params) -> Result<Option<Vec<String>>, ApiError> {
    match p.json("allowed_updates")? {
        None => Ok(None),
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .map(Some)
            .ok_or_else(|| ApiError::bad("can't parse allowed_updates JSON object")),
        Some(_) => Err(ApiError::bad("can't parse allowed_updates JSON object")),
    }
}

/// `getWebhookInfo`: the webhook, its last delivery error and the pending update count.
pub(super) fn webhook_info(ctx: &Ctx) -> Value {
    let s = ctx.lock();
    let pending = s.pending_count();
    match &s.webhook {
        None => {
            json!({"url": "", "has_custom_certificate": false, "pending_update_count": pending})
        }
        Some(w) => {
            let mut v = json!({
                "url": w.url,
                "has_custom_certificate": false,
                "pending_update_count": pending,
                "ip_address": "127.0.0.1",
                "max_connections": w.max_connections,
            });
            if let (Some(date), Some(msg)) = (w.last_error_date, &w.last_error_message) {
                v["last_error_date"] = json!(date);
                v["last_error_message"] = json!(msg);
            }
            if !w.allowed_updates.is_empty() {
                v["allowed_updates"] = json!(w.allowed_updates);
            }
            v
        }
    }
}

/// `getUpdates`: refused while a webhook is set; otherwise confirms the updates before
/// `offset` and returns the waiting ones, holding the request up to `timeout` seconds.
pub(super) async fn get_updates(ctx: &Arc<Ctx>, p: &Params) -> ApiResult {
    let offset = p.int("offset")?.unwrap_or(0);
    let limit = p.int_clamped("limit", 100, 1, 100)? as usize;
    let timeout = p.int_clamped("timeout", 0, 0, 50)? as u64;
    let allowed = parse_allowed_updates(p)?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(timeout);
    let mut rx = ctx.watch();
    loop {
        let batch = {
            let mut s = ctx.lock();
            if s.webhook.is_some() {
                return Err(ApiError::new(409, GET_UPDATES_CONFLICT));
            }
            if let Some(a) = &allowed {
                s.poll_allowed_updates = a.clone();
            }
            let waiting =
                |st: &UpdateStatus| matches!(st, UpdateStatus::Pending | UpdateStatus::Polled);
            // A positive offset confirms everything before it; a negative one keeps the last -offset.
            let first = if offset < 0 {
                let mut ids: Vec<i64> = s
                    .updates
                    .iter()
                    .filter(|u| waiting(&u.status))
                    .map(|u| u.update_id)
                    .collect();
                ids.sort_unstable();
                let keep = (-offset) as usize;
                ids.len()
                    .checked_sub(keep)
                    .and_then(|i| ids.get(i).copied())
                    .unwrap_or(i64::MIN)
            } else {
                offset
            };
            for u in s.updates.iter_mut() {
                if waiting(&u.status) && u.update_id < first {
                    u.status = UpdateStatus::Confirmed;
                }
            }
            let mut out: Vec<&mut UpdateRecord> = s
                .updates
                .iter_mut()
                .filter(|u| waiting(&u.status))
                .collect();
            out.sort_by_key(|u| u.update_id);
            out.truncate(limit);
            out.iter_mut()
                .map(|u| {
                    u.status = UpdateStatus::Polled;
                    u.update.clone()
                })
                .collect::<Vec<Value>>()
        };
        if !batch.is_empty() {
            ctx.bump();
            return Ok(Value::Array(batch));
        }
        if tokio::time::Instant::now() >= deadline {
            ctx.bump();
            return Ok(json!([]));
        }
        tokio::select! {
            _ = tokio::time::sleep_until(deadline) => {}
            r = rx.changed() => { if r.is_err() { return Ok(json!([])); } }
        }
    }
}
