//! The control API (`/control/…`): what tests and the client page use to play the user and to
//! look inside. JSON in, JSON out; errors are `{"error": "..."}` with a 4xx status.
//!
//! Here: users, launches, messages, payments, the call and update logs, faults, reset and
//! wait. `chats`: channels and supergroups, invite links, the chats' clock. `ton`: the TON
//! chain, payments and bounces, users' wallets and the TON Connect calls of the client page.

mod chats;
mod ton;
mod ton_wallet;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::botapi::{self, CallEnv, Via};
use crate::http::{fault_list, json_response, validate_fault};
use crate::ids;
use crate::launch::{self, LaunchParams};
use crate::params::Params;
use crate::payments::{self, PayError};
use crate::state::{default_user, now_unix, Ctx, Fault, UpdateStatus, User};

type Shared = State<Arc<Ctx>>;

pub struct CtlError(StatusCode, String);

impl IntoResponse for CtlError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({"error": self.1}))).into_response()
    }
}

fn bad(msg: impl Into<String>) -> CtlError {
    CtlError(StatusCode::BAD_REQUEST, msg.into())
}

fn not_found(msg: impl Into<String>) -> CtlError {
    CtlError(StatusCode::NOT_FOUND, msg.into())
}

type CtlResult = Result<Json<Value>, CtlError>;

pub fn router() -> Router<Arc<Ctx>> {
    Router::new()
        .route("/info", get(info))
        .route("/users", get(list_users).post(upsert_user))
        .route("/launch", get(launch_data))
        .route("/messages", post(user_message))
        .route("/chat", get(chat))
        .route("/sent", get(sent))
        .route("/invoices/{slug}", get(invoice))
        .route("/invoices/{slug}/pay", post(pay))
        .route("/invoices/{slug}/cancel", post(cancel))
        .route("/charges", get(charges))
        .route("/subscriptions/renew", post(renew))
        .route("/refunds", post(refund))
        .route("/affiliates", get(affiliates).post(set_affiliate))
        .route("/calls", get(calls))
        .route("/updates", get(updates))
        .route("/redeliver", post(redeliver))
        .route("/faults", get(faults).post(add_fault).delete(clear_faults))
        .route("/reset", post(reset))
        .route("/wait", get(wait))
        .merge(chats::router())
        .merge(ton::router())
        .merge(ton_wallet::router())
}

fn public_key_hex(ctx: &Ctx) -> Option<String> {
    crate::public_key_hex(&ctx.config)
}

/// The Mini App URL for this user: their chat's web_app menu button, else the default one,
/// else `--app-url`.
fn app_url_for(ctx: &Ctx, user_id: i64) -> String {
    let s = ctx.lock();
    let url_of = |b: &Value| {
        b.pointer("/web_app/url")
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    s.chat_menu_buttons
        .get(&user_id)
        .and_then(url_of)
        .or_else(|| s.default_menu_button.as_ref().and_then(url_of))
        .unwrap_or_else(|| ctx.config.app_url.clone())
}

async fn info(State(ctx): Shared) -> Json<Value> {
    let s = ctx.lock();
    Json(json!({
        "bot": botapi::bot_user(&ctx),
        "webhook": s.webhook,
        "public_key": public_key_hex(&ctx),
        "app_url": ctx.config.app_url,
        "web_app_version": launch::WEB_APP_VERSION,
        "default_user_id": default_user().id,
        "precheckout_timeout_ms": ctx.config.precheckout_timeout.as_millis() as u64,
    }))
}

async fn list_users(State(ctx): Shared) -> Json<Value> {
    Json(json!(ctx.lock().users.values().collect::<Vec<_>>()))
}

async fn upsert_user(State(ctx): Shared, Json(user): Json<User>) -> CtlResult {
    if user.first_name.is_empty() {
        return Err(bad("first_name must be non-empty"));
    }
    ctx.mutate(|s| s.users.insert(user.id, user.clone()));
    Ok(Json(json!(user)))
}

#[derive(Deserialize)]
struct LaunchQuery {
    user_id: Option<i64>,
    start_param: Option<String>,
    /// Launch a specific URL (a `web_app` button's) instead of the menu app.
    app_url: Option<String>,
}

async fn launch_data(State(ctx): Shared, Query(q): Query<LaunchQuery>) -> Json<Value> {
    let user_id = q.user_id.unwrap_or(default_user().id);
    let user = ctx.mutate(|s| s.user(user_id));
    let app_url = q.app_url.unwrap_or_else(|| app_url_for(&ctx, user_id));
    let params = LaunchParams {
        query_id: Some(ids::web_app_query_id()),
        // Stable per user, like a chat's chat_instance.
        chat_instance: Some(format!(
            "-{}",
            (user_id.unsigned_abs().wrapping_mul(2_654_435_761)) % 9_000_000_000_000_000_000
        )),
        chat_type: Some("sender".into()),
        auth_date: now_unix(),
        start_param: q.start_param.filter(|s| !s.is_empty()),
        ..LaunchParams::default()
    };
    let l = launch::open(&ctx, &user, &app_url, "menu", &params, None);
    Json(json!({
        "init_data": l.init_data,
        "url": l.url,
        "app_url": app_url,
        "user": user,
        "theme_params": launch::theme_params(),
        "public_key": public_key_hex(&ctx),
    }))
}

#[derive(Deserialize)]
struct UserMessage {
    user_id: Option<i64>,
    text: String,
}

/// A private text message from the user; a leading `/command` gets its `bot_command` entity.
async fn user_message(State(ctx): Shared, Json(m): Json<UserMessage>) -> CtlResult {
    if m.text.is_empty() {
        return Err(bad("text must be non-empty"));
    }
    let user_id = m.user_id.unwrap_or(default_user().id);
    let out = ctx.mutate(|s| {
        let user = s.user(user_id);
        let mut msg = json!({"from": user.to_api(), "chat": user.chat(), "date": now_unix(), "text": m.text});
        if m.text.starts_with('/') {
            let command = m.text.split_whitespace().next().unwrap_or("");
            msg["entities"] = json!([{"offset": 0, "length": command.encode_utf16().count(), "type": "bot_command"}]);
        }
        let msg = s.add_message(msg);
        let update_id = s.push_update("message", msg.clone());
        json!({"message": msg, "update_id": update_id})
    });
    Ok(Json(out))
}

#[derive(Deserialize)]
struct ChatQuery {
    user_id: Option<i64>,
    chat_id: Option<i64>,
}

/// The whole private chat with one user, both directions.
async fn chat(State(ctx): Shared, Query(q): Query<ChatQuery>) -> Json<Value> {
    let id = q.user_id.or(q.chat_id).unwrap_or(default_user().id);
    let s = ctx.lock();
    let list: Vec<&Value> = s
        .messages
        .iter()
        .filter(|m| m["chat"]["id"] == id)
        .collect();
    Json(json!(list))
}

/// Messages the bot sent, optionally to one chat.
async fn sent(State(ctx): Shared, Query(q): Query<ChatQuery>) -> Json<Value> {
    let s = ctx.lock();
    let list: Vec<&Value> = s
        .messages
        .iter()
        .filter(|m| m["from"]["is_bot"] == true)
        .filter(|m| {
            q.chat_id
                .or(q.user_id)
                .is_none_or(|id| m["chat"]["id"] == id)
        })
        .collect();
    Json(json!(list))
}

fn slug_of(raw: &str) -> &str {
    raw.trim_start_matches('$')
}

async fn invoice(State(ctx): Shared, Path(slug): Path<String>) -> CtlResult {
    let s = ctx.lock();
    let inv = s
        .invoices
        .get(slug_of(&slug))
        .ok_or_else(|| not_found("no such invoice"))?;
    Ok(Json(json!(inv)))
}

#[derive(Deserialize, Default)]
struct PayBody {
    user_id: Option<i64>,
}

async fn pay(
    State(ctx): Shared,
    Path(slug): Path<String>,
    body: Option<Json<PayBody>>,
) -> CtlResult {
    let user_id = body.and_then(|b| b.0.user_id).unwrap_or(default_user().id);
    match payments::pay(&ctx, slug_of(&slug), user_id).await {
        Ok(v) => Ok(Json(v)),
        Err(PayError::UnknownInvoice) => Err(not_found("no such invoice")),
        Err(PayError::Refused(m)) => Err(bad(m)),
    }
}

/// The user closed the sheet: nothing reaches the bot (as in Telegram).
async fn cancel(State(ctx): Shared, Path(slug): Path<String>) -> CtlResult {
    if !ctx.lock().invoices.contains_key(slug_of(&slug)) {
        return Err(not_found("no such invoice"));
    }
    Ok(Json(json!({"status": "cancelled"})))
}

async fn charges(State(ctx): Shared) -> Json<Value> {
    Json(json!(ctx.lock().charges))
}

#[derive(Deserialize)]
struct ChargeRef {
    user_id: Option<i64>,
    telegram_payment_charge_id: String,
}

async fn renew(State(ctx): Shared, Json(b): Json<ChargeRef>) -> CtlResult {
    match payments::renew(&ctx, &b.telegram_payment_charge_id) {
        Ok(v) => Ok(Json(v)),
        Err(PayError::UnknownInvoice) => Err(not_found("the subscription's invoice is gone")),
        Err(PayError::Refused(m)) => Err(bad(m)),
    }
}

/// As if the bot called refundStarPayment; answers exactly what the Bot API would.
async fn refund(State(ctx): Shared, Json(b): Json<ChargeRef>) -> Response {
    let params = Params::from_json(
        json!({"user_id": b.user_id, "telegram_payment_charge_id": b.telegram_payment_charge_id}),
    );
    let env = CallEnv {
        test_env: false,
        via: Via::Http,
    };
    let (status, body) = botapi::call_and_record(&ctx, "refundStarPayment", &params, env).await;
    json_response(status, &body)
}

#[derive(Deserialize)]
struct AffiliateBody {
    /// The buyer the affiliate referred.
    user_id: i64,
    affiliate_user_id: Option<i64>,
    /// 0 forgets the referral.
    commission_per_mille: i64,
}

/// The bot's affiliate program as Telegram runs it: from now on the buyer's Stars
/// payments give the affiliate `commission_per_mille` of each (see `payments::charge`).
async fn set_affiliate(State(ctx): Shared, Json(b): Json<AffiliateBody>) -> CtlResult {
    if !(0..=999).contains(&b.commission_per_mille) {
        return Err(bad("commission_per_mille must be 0-999"));
    }
    ctx.mutate(|s| {
        if b.commission_per_mille == 0 {
            s.affiliates.remove(&b.user_id);
        } else {
            let affiliate = crate::state::Affiliate {
                affiliate_user_id: b.affiliate_user_id.unwrap_or(default_user().id + 1000),
                commission_per_mille: b.commission_per_mille,
            };
            s.affiliates.insert(b.user_id, affiliate);
        }
    });
    Ok(affiliates(State(ctx)).await)
}

async fn affiliates(State(ctx): Shared) -> Json<Value> {
    let s = ctx.lock();
    let list: Vec<Value> = s
        .affiliates
        .iter()
        .map(|(user, a)| json!({"user_id": user, "affiliate_user_id": a.affiliate_user_id, "commission_per_mille": a.commission_per_mille}))
        .collect();
    Json(json!({ "affiliates": list }))
}

#[derive(Deserialize)]
struct MethodQuery {
    method: Option<String>,
}

async fn calls(State(ctx): Shared, Query(q): Query<MethodQuery>) -> Json<Value> {
    let s = ctx.lock();
    let list: Vec<_> = s
        .calls
        .iter()
        .filter(|c| {
            q.method
                .as_ref()
                .is_none_or(|m| c.method.eq_ignore_ascii_case(m))
        })
        .collect();
    Json(json!(list))
}

#[derive(Deserialize)]
struct KindQuery {
    kind: Option<String>,
}

async fn updates(State(ctx): Shared, Query(q): Query<KindQuery>) -> Json<Value> {
    let s = ctx.lock();
    let list: Vec<_> = s
        .updates
        .iter()
        .filter(|u| q.kind.as_ref().is_none_or(|k| &u.kind == k))
        .collect();
    Json(json!(list))
}

#[derive(Deserialize)]
struct UpdateRef {
    update_id: i64,
    timeout_ms: Option<u64>,
}

/// Sends an update again with the same update_id; with a webhook, returns once that delivery
/// is done (or has failed once and is being retried).
async fn redeliver(State(ctx): Shared, Json(b): Json<UpdateRef>) -> CtlResult {
    let attempts_before = ctx.mutate(|s| {
        let u = s
            .updates
            .iter_mut()
            .find(|u| u.update_id == b.update_id)
            .ok_or_else(|| not_found("no such update"))?;
        u.status = UpdateStatus::Pending;
        Ok::<_, CtlError>(u.attempts.len())
    })?;
    let deadline =
        tokio::time::Instant::now() + Duration::from_millis(b.timeout_ms.unwrap_or(30_000));
    let mut rx = ctx.watch();
    loop {
        {
            let s = ctx.lock();
            let u = s
                .updates
                .iter()
                .find(|u| u.update_id == b.update_id)
                .expect("kept");
            let tried = u.attempts.len() > attempts_before && s.delivering != Some(b.update_id);
            if s.webhook.is_none() || tried {
                return Ok(Json(json!(u)));
            }
        }
        tokio::select! {
            _ = tokio::time::sleep_until(deadline) => return Err(CtlError(StatusCode::REQUEST_TIMEOUT, "redelivery did not finish in time".into())),
            _ = rx.changed() => {}
        }
    }
}

async fn faults(State(ctx): Shared) -> Json<Value> {
    Json(fault_list(&ctx))
}

async fn add_fault(State(ctx): Shared, Json(f): Json<Fault>) -> CtlResult {
    validate_fault(&f).map_err(bad)?;
    ctx.mutate(|s| s.faults.push(f));
    Ok(Json(fault_list(&ctx)))
}

async fn clear_faults(State(ctx): Shared) -> Json<Value> {
    ctx.mutate(|s| s.faults.clear());
    Json(json!([]))
}

async fn reset(State(ctx): Shared) -> Json<Value> {
    ctx.reset();
    Json(json!({"ok": true}))
}

#[derive(Deserialize)]
struct WaitQuery {
    #[serde(rename = "for")]
    what: Option<String>,
    timeout_ms: Option<u64>,
}

/// `for=idle`: nothing pending or in flight for delivery and no payment awaiting its answer.
async fn wait(State(ctx): Shared, Query(q): Query<WaitQuery>) -> CtlResult {
    let what = q.what.unwrap_or_else(|| "idle".into());
    if what != "idle" {
        return Err(bad("for must be idle"));
    }
    let deadline =
        tokio::time::Instant::now() + Duration::from_millis(q.timeout_ms.unwrap_or(10_000));
    let mut rx = ctx.watch();
    loop {
        let (idle, pending) = {
            let s = ctx.lock();
            let pending = s.pending_count();
            (
                pending == 0 && s.delivering.is_none() && s.payments_in_flight == 0,
                pending,
            )
        };
        if idle {
            return Ok(Json(json!({"idle": true})));
        }
        tokio::select! {
            _ = tokio::time::sleep_until(deadline) => {
                return Err(CtlError(StatusCode::REQUEST_TIMEOUT, format!("not idle: {pending} update(s) pending")));
            }
            _ = rx.changed() => {}
        }
    }
}
