//! The Bot API methods the emulator implements, with Telegram's validation.
//!
//! Validators are pure functions of the parameters (unit-tested below); `execute` applies them
//! to the state. Refusals the brief names use Telegram's exact descriptions; the rest say what
//! was wrong in Telegram's `Bad Request: …` shape.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::ids;
use crate::params::{ok_body, ApiError, ApiResult, Params};
use crate::payments;
use crate::state::{
    now_ms, now_unix, CallRecord, Ctx, Invoice, PreCheckoutAnswer, UpdateStatus, Webhook,
};

/// Where a call came from; decides the test-environment rules and what gets logged.
#[derive(Clone, Copy, Debug, Default)]
pub struct CallEnv {
    /// `/bot<token>/test/<method>`.
    pub test_env: bool,
    pub via: Via,
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum Via {
    #[default]
    Http,
    WebhookResponse,
}

impl Via {
    fn name(self) -> &'static str {
        match self {
            Via::Http => "http",
            Via::WebhookResponse => "webhook_response",
        }
    }
}

pub const GET_UPDATES_CONFLICT: &str =
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first";
pub const QUERY_TOO_OLD: &str =
    "query is too old and response timeout expired or query ID is invalid";
/// Subscription periods: 30 days, and on the test servers also 1 and 5 minutes.
pub const SUBSCRIPTION_PERIOD: i64 = 2_592_000;
pub const TEST_SUBSCRIPTION_PERIODS: [i64; 2] = [60, 300];
pub const MAX_SUBSCRIPTION_STARS: i64 = 10_000;

/// The bot's own `User` object (`getMe`).
pub fn bot_user(ctx: &Ctx) -> Value {
    json!({
        "id": ctx.config.bot_id(),
        "is_bot": true,
        "first_name": "tma-pay test bot",
        "username": "tma_pay_test_bot",
        "can_join_groups": true,
        "can_read_all_group_messages": false,
        "supports_inline_queries": false,
        "can_connect_to_business": false,
        "has_main_web_app": true
    })
}

/// Methods a webhook reply may not carry (Telegram ignores them there).
pub fn allowed_in_webhook_reply(method: &str) -> bool {
    let m = method.to_ascii_lowercase();
    !(m.starts_with("get") || m == "setwebhook" || m == "deletewebhook")
}

/// Runs one method and logs it in `/control/calls`; returns the HTTP status and Telegram's body.
pub async fn call_and_record(
    ctx: &Arc<Ctx>,
    method: &str,
    params: &Params,
    env: CallEnv,
) -> (u16, Value) {
    let (status, body) = match execute(ctx, method, params, env).await {
        Ok(result) => (200, ok_body(&result)),
        Err(e) => (e.code, e.body()),
    };
    record_call(ctx, method, params, env, status, &body, None);
    (status, body)
}

pub fn record_call(
    ctx: &Ctx,
    method: &str,
    params: &Params,
    env: CallEnv,
    status: u16,
    body: &Value,
    fault: Option<&str>,
) {
    let mut s = ctx.lock();
    let seq = s.next_call_seq;
    s.next_call_seq += 1;
    s.calls.push(CallRecord {
        seq,
        at_ms: now_ms(),
        method: method.to_string(),
        via: env.via.name().to_string(),
        test_env: env.test_env,
        params: params.to_value(),
        response: body.clone(),
        http_status: status,
        fault: fault.map(str::to_string),
    });
}

/// Method names are case-insensitive, as in Telegram.
pub async fn execute(ctx: &Arc<Ctx>, method: &str, p: &Params, env: CallEnv) -> ApiResult {
    match method.to_ascii_lowercase().as_str() {
        "getme" => Ok(bot_user(ctx)),
        "sendmessage" => send_message(ctx, p),
        "senddocument" => send_document(ctx, p),
        "createinvoicelink" => create_invoice_link(ctx, p, env),
        "answerprecheckoutquery" => answer_pre_checkout_query(ctx, p),
        "refundstarpayment" => {
            let user_id = p
                .int("user_id")?
                .ok_or_else(|| ApiError::bad("invalid user_id specified"))?;
            let charge = p.str_req("telegram_payment_charge_id")?;
            payments::refund(ctx, user_id, &charge).map(|_| json!(true))
        }
        "getstartransactions" => {
            let offset = p.int_clamped("offset", 0, 0, i64::MAX)? as usize;
            let limit = p.int_clamped("limit", 100, 1, 100)? as usize;
            let s = ctx.lock();
            let list: Vec<Value> = s
                .star_transactions
                .iter()
                .skip(offset)
                .take(limit)
                .cloned()
                .collect();
            Ok(json!({"transactions": list}))
        }
        "edituserstarsubscription" => {
            let user_id = p
                .int("user_id")?
                .ok_or_else(|| ApiError::bad("invalid user_id specified"))?;
            let charge = p.str_req("telegram_payment_charge_id")?;
            let canceled = p
                .bool("is_canceled")?
                .ok_or_else(|| ApiError::missing("is_canceled"))?;
            payments::edit_subscription(ctx, user_id, &charge, canceled).map(|_| json!(true))
        }
        "setwebhook" => {
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
        "deletewebhook" => {
            let drop = p.bool("drop_pending_updates")?.unwrap_or(false);
            ctx.mutate(|s| {
                if drop {
                    s.drop_pending();
                }
                s.webhook = None;
            });
            Ok(json!(true))
        }
        "getwebhookinfo" => Ok(webhook_info(ctx)),
        "setmycommands" => {
            let commands = validate_commands(p)?;
            ctx.mutate(|s| s.commands = commands);
            Ok(json!(true))
        }
        "getmycommands" => Ok(ctx.lock().commands.clone()),
        "deletemycommands" => {
            ctx.mutate(|s| s.commands = json!([]));
            Ok(json!(true))
        }
        "setchatmenubutton" => {
            let button = validate_menu_button(p)?;
            let chat_id = p.int("chat_id")?;
            let mut s = ctx.lock();
            match chat_id {
                Some(id) if !s.users.contains_key(&id) => {
                    return Err(ApiError::bad("chat not found"))
                }
                Some(id) => {
                    s.chat_menu_buttons.insert(id, button);
                }
                None => s.default_menu_button = Some(button),
            }
            Ok(json!(true))
        }
        "getchatmenubutton" => {
            let chat_id = p.int("chat_id")?;
            let s = ctx.lock();
            let b = chat_id
                .and_then(|id| s.chat_menu_buttons.get(&id).cloned())
                .or_else(|| s.default_menu_button.clone())
                .unwrap_or_else(|| json!({"type": "commands"}));
            Ok(b)
        }
        "getupdates" => get_updates(ctx, p).await,
        _ => Err(ApiError::method_not_found()),
    }
}

/// `sendMessage` parameters checked; returns (chat_id, text, entities, reply_markup).
/// The `chat_id` of a send. Bots cannot start chats by @username with users;
/// only numeric ids of known users work.
fn chat_id(p: &Params) -> Result<i64, ApiError> {
    let chat = p
        .str("chat_id")?
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::bad("chat_id is empty"))?;
    chat.trim()
        .parse()
        .map_err(|_| ApiError::bad("chat not found"))
}

pub fn validate_message(
    p: &Params,
) -> Result<(i64, String, Option<Value>, Option<Value>), ApiError> {
    let chat_id = chat_id(p)?;
    let text = p.str("text")?.unwrap_or_default();
    if text.trim().is_empty() {
        return Err(ApiError::bad("message text is empty"));
    }
    if text.encode_utf16().count() > 4096 {
        return Err(ApiError::bad("message is too long"));
    }
    if let Some(mode) = p.str("parse_mode")?.filter(|m| !m.is_empty()) {
        if !["html", "markdown", "markdownv2"].contains(&mode.to_ascii_lowercase().as_str()) {
            return Err(ApiError::bad(format!("unsupported parse_mode \"{mode}\"")));
        }
    }
    let entities = p.json("entities")?;
    if entities.as_ref().is_some_and(|e| !e.is_array()) {
        return Err(ApiError::bad("can't parse entities JSON object"));
    }
    let markup = p.json("reply_markup")?;
    if let Some(m) = &markup {
        validate_reply_markup(m)?;
    }
    Ok((chat_id, text, entities, markup))
}

fn validate_reply_markup(m: &Value) -> Result<(), ApiError> {
    let unparsable = || ApiError::bad("can't parse reply keyboard markup JSON object");
    let o = m.as_object().ok_or_else(unparsable)?;
    if let Some(rows) = o.get("inline_keyboard") {
        let rows = rows.as_array().ok_or_else(|| {
            ApiError::bad("field \"inline_keyboard\" of the InlineKeyboardMarkup must be an Array")
        })?;
        for row in rows {
            for button in row.as_array().ok_or_else(unparsable)? {
                if !button.get("text").is_some_and(Value::is_string) {
                    return Err(ApiError::bad("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"));
                }
                if let Some(w) = button.get("web_app") {
                    if !w.get("url").is_some_and(Value::is_string) {
                        return Err(ApiError::bad("can't parse inline keyboard button: Field \"url\" must be of type String"));
                    }
                }
                if let Some(cb) = button.get("callback_data").and_then(Value::as_str) {
                    if cb.is_empty() || cb.len() > 64 {
                        return Err(ApiError::bad("BUTTON_DATA_INVALID"));
                    }
                }
            }
        }
    } else if !["keyboard", "remove_keyboard", "force_reply"]
        .iter()
        .any(|k| o.contains_key(*k))
    {
        return Err(unparsable());
    }
    Ok(())
}

fn send_message(ctx: &Arc<Ctx>, p: &Params) -> ApiResult {
    let (chat_id, text, entities, markup) = validate_message(p)?;
    let mut content = json!({ "text": text });
    if let Some(e) = entities {
        content["entities"] = e;
    }
    post_as_bot(ctx, chat_id, content, markup)
}

/// Adds a message from the bot to a known user's chat: `content` plus the
/// sender, chat and date, and the inline keyboard if any.
fn post_as_bot(
    ctx: &Arc<Ctx>,
    chat_id: i64,
    mut content: Value,
    markup: Option<Value>,
) -> ApiResult {
    // Message.from carries only the plain User fields, not getMe's capabilities.
    let me = bot_user(ctx);
    let bot = json!({"id": me["id"], "is_bot": true, "first_name": me["first_name"], "username": me["username"]});
    ctx.mutate(|s| {
        let user = s
            .users
            .get(&chat_id)
            .cloned()
            .ok_or_else(|| ApiError::bad("chat not found"))?;
        content["from"] = bot;
        content["chat"] = user.chat();
        content["date"] = now_unix().into();
        // Only inline keyboards are part of the Message object; the others change the client UI.
        if let Some(m) = markup.filter(|m| m.get("inline_keyboard").is_some()) {
            content["reply_markup"] = m;
        }
        Ok(s.add_message(content))
    })
}

/// `sendDocument` with a `file_id` or an HTTP URL (uploads are not emulated): the message
/// carries a `document` whose `file_id` is what was sent, and the caption.
fn send_document(ctx: &Arc<Ctx>, p: &Params) -> ApiResult {
    let chat_id = chat_id(p)?;
    let document = p
        .str("document")?
        .filter(|d| !d.trim().is_empty())
        .ok_or_else(|| ApiError::bad("there is no document in the request"))?;
    let caption = p.str("caption")?;
    if caption
        .as_ref()
        .is_some_and(|c| c.encode_utf16().count() > 1024)
    {
        return Err(ApiError::bad("message caption is too long"));
    }
    let markup = p.json("reply_markup")?;
    if let Some(m) = &markup {
        validate_reply_markup(m)?;
    }
    let unique: String = document
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(16)
        .collect();
    let mut content = json!({"document": {"file_id": document, "file_unique_id": unique}});
    if let Some(c) = caption.filter(|c| !c.is_empty()) {
        content["caption"] = c.into();
    }
    post_as_bot(ctx, chat_id, content, markup)
}

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

fn create_invoice_link(ctx: &Arc<Ctx>, p: &Params, env: CallEnv) -> ApiResult {
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

fn answer_pre_checkout_query(ctx: &Arc<Ctx>, p: &Params) -> ApiResult {
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

fn webhook_info(ctx: &Ctx) -> Value {
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

/// `setMyCommands`: at most 100 of `{command: [a-z0-9_]{1,32}, description: 1-256 chars}`.
pub fn validate_commands(p: &Params) -> Result<Value, ApiError> {
    let list = match p.json("commands")? {
        Some(Value::Array(a)) => a,
        Some(_) => return Err(ApiError::bad("can't parse commands JSON object")),
        None => return Err(ApiError::missing("commands")),
    };
    if list.len() > 100 {
        return Err(ApiError::bad("too many commands specified"));
    }
    for c in &list {
        let command = c
            .get("command")
            .and_then(Value::as_str)
            .ok_or_else(|| ApiError::bad("can't parse BotCommand"))?;
        let command = command.strip_prefix('/').unwrap_or(command);
        if command.is_empty()
            || command.len() > 32
            || !command
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(ApiError::bad("BOT_COMMAND_INVALID"));
        }
        let d = c.get("description").and_then(Value::as_str).unwrap_or("");
        if d.is_empty() || d.chars().count() > 256 {
            return Err(ApiError::bad("BOT_COMMAND_DESCRIPTION_INVALID"));
        }
    }
    Ok(Value::Array(list))
}

/// `setChatMenuButton`'s `menu_button` (default: `{"type":"default"}`).
pub fn validate_menu_button(p: &Params) -> Result<Value, ApiError> {
    let b = p
        .json("menu_button")?
        .unwrap_or_else(|| json!({"type": "default"}));
    match b.get("type").and_then(Value::as_str) {
        Some("default") | Some("commands") => Ok(b),
        Some("web_app") => {
            let text_ok = b
                .get("text")
                .and_then(Value::as_str)
                .is_some_and(|t| !t.is_empty());
            let url_ok = b
                .pointer("/web_app/url")
                .and_then(Value::as_str)
                .is_some_and(|u| u.starts_with("http://") || u.starts_with("https://"));
            if !text_ok {
                return Err(ApiError::bad(
                    "can't parse menu button: Field \"text\" must be non-empty",
                ));
            }
            if !url_ok {
                return Err(ApiError::bad(
                    "can't parse menu button: Web App URL is invalid",
                ));
            }
            Ok(b)
        }
        _ => Err(ApiError::bad(
            "can't parse menu button: Unsupported type specified",
        )),
    }
}

async fn get_updates(ctx: &Arc<Ctx>, p: &Params) -> ApiResult {
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
            let mut out: Vec<&mut crate::state::UpdateRecord> = s
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

#[cfg(test)]
mod tests {
    use super::*;

    fn p(v: Value) -> Params {
        Params::from_json(v)
    }

    fn stars_invoice() -> Value {
        json!({"title": "Gold", "description": "One gold pass", "payload": "order-1", "currency": "XTR", "prices": [{"label": "Gold", "amount": 50}]})
    }

    fn with(mut base: Value, key: &str, value: Value) -> Params {
        if value.is_null() {
            base.as_object_mut().unwrap().remove(key);
        } else {
            base[key] = value;
        }
        p(base)
    }

    fn refusal(r: Result<Invoice, ApiError>) -> String {
        let e = r.expect_err("should be refused");
        assert_eq!(e.code, 400);
        e.description
    }

    #[test]
    fn valid_stars_and_card_invoices_pass() {
        let inv = validate_invoice(&p(stars_invoice()), false).unwrap();
        assert_eq!((inv.total_amount, inv.currency.as_str()), (50, "XTR"));
        let card = json!({"title": "T", "description": "D", "payload": "x", "currency": "USD", "provider_token": "284685063:TEST:abc",
            "prices": [{"label": "Item", "amount": 1000}, {"label": "Discount", "amount": -100}]});
        assert_eq!(validate_invoice(&p(card), false).unwrap().total_amount, 900);
        let form_prices = with(
            stars_invoice(),
            "prices",
            json!(r#"[{"label":"Gold","amount":50}]"#),
        );
        assert_eq!(
            validate_invoice(&form_prices, false).unwrap().total_amount,
            50
        );
        let sub = with(stars_invoice(), "subscription_period", json!(2592000));
        assert_eq!(
            validate_invoice(&sub, false).unwrap().subscription_period,
            Some(2592000)
        );
    }

    #[test]
    fn each_invoice_refusal() {
        let inv = stars_invoice();
        assert!(refusal(validate_invoice(
            &with(inv.clone(), "title", json!("")),
            false
        ))
        .contains("title"));
        assert!(refusal(validate_invoice(
            &with(inv.clone(), "title", json!("x".repeat(33))),
            false
        ))
        .contains("title"));
        assert!(
            validate_invoice(&with(inv.clone(), "title", json!("é".repeat(32))), false).is_ok()
        );
        assert!(refusal(validate_invoice(
            &with(inv.clone(), "description", Value::Null),
            false
        ))
        .contains("description"));
        assert!(refusal(validate_invoice(
            &with(inv.clone(), "description", json!("d".repeat(256))),
            false
        ))
        .contains("description"));
        assert!(refusal(validate_invoice(
            &with(inv.clone(), "payload", json!("")),
            false
        ))
        .contains("PAYLOAD"));
        // 128 bytes is the limit, counted in bytes: 65 two-byte characters are 130 bytes.
        assert!(
            validate_invoice(&with(inv.clone(), "payload", json!("p".repeat(128))), false).is_ok()
        );
        assert!(refusal(validate_invoice(
            &with(inv.clone(), "payload", json!("é".repeat(65))),
            false
        ))
        .contains("PAYLOAD"));
        assert!(refusal(validate_invoice(
            &with(inv.clone(), "currency", json!("XT")),
            false
        ))
        .contains("CURRENCY_INVALID"));
        assert!(refusal(validate_invoice(
            &with(inv.clone(), "currency", json!("xtr")),
            false
        ))
        .contains("CURRENCY_INVALID"));
        assert!(refusal(validate_invoice(
            &with(inv.clone(), "prices", json!([])),
            false
        ))
        .contains("non-empty"));
        assert!(refusal(validate_invoice(
            &with(inv.clone(), "prices", Value::Null),
            false
        ))
        .contains("\"prices\" is required"));
        assert!(refusal(validate_invoice(
            &with(inv.clone(), "prices", json!("[1,")),
            false
        ))
        .contains("can't parse prices"));
        assert!(refusal(validate_invoice(
            &with(inv.clone(), "prices", json!([{"label": "x"}])),
            false
        ))
        .contains("can't parse prices"));
        assert!(refusal(validate_invoice(
            &with(inv.clone(), "prices", json!([{"label": "x", "amount": 0}])),
            false
        ))
        .contains("AMOUNT"));
        assert!(refusal(validate_invoice(
            &with(inv.clone(), "prices", json!([{"label": "x", "amount": -5}])),
            false
        ))
        .contains("AMOUNT"));
        let two = json!([{"label": "a", "amount": 1}, {"label": "b", "amount": 2}]);
        assert!(
            refusal(validate_invoice(&with(inv.clone(), "prices", two), false))
                .contains("exactly one price")
        );
        assert!(refusal(validate_invoice(
            &with(inv.clone(), "provider_token", json!("284685063:TEST:abc")),
            false
        ))
        .contains("PAYMENT_PROVIDER_INVALID"));
        let card = with(inv.clone(), "currency", json!("USD"));
        assert!(refusal(validate_invoice(&card, false)).contains("provider_token is required"));
    }

    #[test]
    fn subscription_rules() {
        let inv = stars_invoice();
        let period = |v: i64, test: bool| {
            validate_invoice(&with(inv.clone(), "subscription_period", json!(v)), test)
        };
        assert!(refusal(period(86400, false)).contains("SUBSCRIPTION_PERIOD_INVALID"));
        assert!(refusal(period(60, false)).contains("SUBSCRIPTION_PERIOD_INVALID"));
        assert!(
            period(60, true).is_ok() && period(300, true).is_ok() && period(2592000, true).is_ok()
        );
        assert!(refusal(period(120, true)).contains("SUBSCRIPTION_PERIOD_INVALID"));
        let mut card = inv.clone();
        card["currency"] = json!("USD");
        card["provider_token"] = json!("tok");
        assert!(refusal(validate_invoice(
            &with(card, "subscription_period", json!(2592000)),
            false
        ))
        .contains("only for payments in Telegram Stars"));
        let mut pricey = inv.clone();
        pricey["prices"] = json!([{"label": "x", "amount": 10001}]);
        assert!(refusal(validate_invoice(
            &with(pricey.clone(), "subscription_period", json!(2592000)),
            false
        ))
        .contains("10000"));
        pricey["prices"] = json!([{"label": "x", "amount": 10000}]);
        assert!(
            validate_invoice(&with(pricey, "subscription_period", json!(2592000)), false).is_ok()
        );
    }

    #[test]
    fn message_refusals() {
        let d = |v: Value| validate_message(&p(v)).unwrap_err().description;
        assert_eq!(d(json!({"text": "hi"})), "Bad Request: chat_id is empty");
        assert_eq!(
            d(json!({"chat_id": 1})),
            "Bad Request: message text is empty"
        );
        assert_eq!(
            d(json!({"chat_id": 1, "text": "x".repeat(4097)})),
            "Bad Request: message is too long"
        );
        assert_eq!(
            d(json!({"chat_id": "@someone", "text": "x"})),
            "Bad Request: chat not found"
        );
        assert!(
            d(json!({"chat_id": 1, "text": "x", "parse_mode": "BBCode"})).contains("parse_mode")
        );
        assert!(d(json!({"chat_id": 1, "text": "x", "reply_markup": "{"}))
            .contains("can't parse reply_markup"));
        assert!(d(json!({"chat_id": 1, "text": "x", "reply_markup": {"inline_keyboard": [[{"url": "x"}]]}})).contains("inline keyboard button"));
        assert!(d(json!({"chat_id": 1, "text": "x", "reply_markup": {"inline_keyboard": [[{"text": "a", "callback_data": ""}]]}})).contains("BUTTON_DATA_INVALID"));
        let kb = json!({"inline_keyboard": [[{"text": "Open", "web_app": {"url": "http://127.0.0.1:8787/"}}]]});
        let (chat, text, _, markup) = validate_message(&p(
            json!({"chat_id": "10001", "text": "x".repeat(4096), "reply_markup": kb.to_string()}),
        ))
        .unwrap();
        assert_eq!((chat, text.len()), (10001, 4096));
        assert_eq!(markup.unwrap(), kb);
    }

    #[test]
    fn pre_checkout_answer_refusals() {
        let d = |v: Value| validate_pre_checkout_answer(&p(v)).unwrap_err().description;
        assert!(d(json!({"ok": true})).contains("pre_checkout_query_id"));
        assert!(d(json!({"pre_checkout_query_id": "1"})).contains("\"ok\" is required"));
        assert!(d(json!({"pre_checkout_query_id": "1", "ok": false})).contains("error_message"));
        assert!(
            d(json!({"pre_checkout_query_id": "1", "ok": "false", "error_message": " "}))
                .contains("error_message")
        );
        let (_, a) = validate_pre_checkout_answer(&p(
            json!({"pre_checkout_query_id": "1", "ok": false, "error_message": "Sold out"}),
        ))
        .unwrap();
        assert_eq!(
            (a.ok, a.error_message.as_deref()),
            (false, Some("Sold out"))
        );
    }

    #[test]
    fn webhook_refusals() {
        let d = |v: Value| validate_webhook(&p(v)).unwrap_err().description;
        assert!(d(json!({})).contains("\"url\" is required"));
        assert!(d(json!({"url": "ftp://x"})).contains("HTTPS URL"));
        assert!(
            d(json!({"url": "http://127.0.0.1/h", "secret_token": "bad token!"}))
                .contains("unallowed characters")
        );
        assert!(
            d(json!({"url": "http://127.0.0.1/h", "secret_token": "a".repeat(257)}))
                .contains("too long")
        );
        assert!(
            d(json!({"url": "http://127.0.0.1/h", "allowed_updates": "[1]"}))
                .contains("allowed_updates")
        );
        assert!(validate_webhook(&p(json!({"url": ""}))).unwrap().is_none());
        let w = validate_webhook(&p(json!({"url": "http://127.0.0.1/h", "secret_token": "Ab_9-z", "max_connections": 500, "allowed_updates": "[\"message\"]"})))
            .unwrap()
            .unwrap();
        assert_eq!(
            (
                w.max_connections,
                w.allowed_updates,
                w.secret_token.as_deref()
            ),
            (100, vec!["message".to_string()], Some("Ab_9-z"))
        );
    }

    #[test]
    fn command_and_menu_refusals() {
        let c = |v: Value| validate_commands(&p(json!({"commands": v}))).map_err(|e| e.description);
        assert!(c(json!([{"command": "start", "description": "Start"}])).is_ok());
        assert!(c(json!([{"command": "Start", "description": "x"}]))
            .unwrap_err()
            .contains("BOT_COMMAND_INVALID"));
        assert!(c(json!([{"command": "a".repeat(33), "description": "x"}]))
            .unwrap_err()
            .contains("BOT_COMMAND_INVALID"));
        assert!(c(json!([{"command": "start", "description": ""}]))
            .unwrap_err()
            .contains("DESCRIPTION"));
        let many: Vec<Value> = (0..101)
            .map(|i| json!({"command": format!("c{i}"), "description": "x"}))
            .collect();
        assert!(c(json!(many)).unwrap_err().contains("too many"));
        let m = |v: Value| {
            validate_menu_button(&p(json!({"menu_button": v}))).map_err(|e| e.description)
        };
        assert!(m(
            json!({"type": "web_app", "text": "Shop", "web_app": {"url": "http://127.0.0.1:8787/"}})
        )
        .is_ok());
        assert!(
            m(json!({"type": "web_app", "text": "", "web_app": {"url": "http://x/"}})).is_err()
        );
        assert!(
            m(json!({"type": "web_app", "text": "Shop", "web_app": {"url": "javascript:1"}}))
                .is_err()
        );
        assert!(m(json!({"type": "bogus"})).is_err());
    }

    #[test]
    fn webhook_reply_methods() {
        assert!(allowed_in_webhook_reply("answerPreCheckoutQuery"));
        assert!(allowed_in_webhook_reply("sendMessage"));
        assert!(!allowed_in_webhook_reply("getMe"));
        assert!(!allowed_in_webhook_reply("setWebhook"));
        assert!(!allowed_in_webhook_reply("deletewebhook"));
    }
}
