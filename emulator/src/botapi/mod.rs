//! The Bot API methods the emulator implements, with Telegram's validation.
//!
//! Here: the dispatch (`execute`), the call log (`call_and_record`, `record_call`), where a call
//! came from (`CallEnv`, `Via`), `getMe` and which methods a webhook reply may carry. Each
//! method lives in the file of its concern:
//! - `messages`: `sendMessage`, `sendDocument`, message and `reply_markup` checks;
//! - `invoices`: `createInvoiceLink`, `answerPreCheckoutQuery`;
//! - `stars`: `refundStarPayment`, `getStarTransactions`, `getMyStarBalance`, `editUserStarSubscription`;
//! - `webhook`: `setWebhook`, `deleteWebhook`, `getWebhookInfo`, `getUpdates`;
//! - `commands`: `setMyCommands`, `getMyCommands`, `deleteMyCommands`, `setChatMenuButton`,
//!   `getChatMenuButton`;
//! - `invite_links`: `createChatInviteLink`, `editChatInviteLink`, `revokeChatInviteLink`,
//!   `exportChatInviteLink`, `createChatSubscriptionInviteLink`,
//!   `editChatSubscriptionInviteLink`;
//! - `join_requests`: `approveChatJoinRequest`, `declineChatJoinRequest`,
//!   `answerChatJoinRequestQuery`, `sendChatJoinRequestWebApp`;
//! - `members`: `getChat`, `getChatMember`, `getChatAdministrators`, `getChatMemberCount`,
//!   `banChatMember`, `unbanChatMember`.
//!
//! The chats these change, and the updates that follow, are kept by `crate::chats`.
//!
//! Validators are pure functions of the parameters (unit-tested in `tests.rs`); the methods
//! apply them to the state. Refusals the brief names use Telegram's exact descriptions; the rest
//! say what was wrong in Telegram's `Bad Request: …` shape.

mod commands;
mod invite_links;
mod invoices;
mod join_requests;
mod members;
mod messages;
mod stars;
mod webhook;

#[cfg(test)]
mod access_tests;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use serde_json::Value;

use crate::params::{ok_body, ApiError, ApiResult, Params};
use crate::state::{now_ms, CallRecord, Ctx};

pub use commands::{command_list_key, validate_commands, validate_menu_button};
pub use invite_links::{validate_link_settings, validate_subscription_link, LinkSettings};
pub use invoices::{
    validate_invoice, validate_pre_checkout_answer, MAX_SUBSCRIPTION_STARS, QUERY_TOO_OLD,
    SUBSCRIPTION_PERIOD, TEST_SUBSCRIPTION_PERIODS,
};
pub use join_requests::{validate_join_web_app, validate_query_answer};
pub use messages::validate_message;
pub use webhook::{validate_webhook, GET_UPDATES_CONFLICT};

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

/// The bot's own `User` object (`getMe`).
pub fn bot_user(ctx: &Ctx) -> Value {
    crate::state::bot_me(&ctx.config)
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
        "sendmessage" => messages::send_message(ctx, p),
        "senddocument" => messages::send_document(ctx, p),
        "createinvoicelink" => invoices::create_invoice_link(ctx, p, env),
        "answerprecheckoutquery" => invoices::answer_pre_checkout_query(ctx, p),
        "refundstarpayment" => stars::refund_star_payment(ctx, p),
        "getstartransactions" => stars::get_star_transactions(ctx, p),
        "getmystarbalance" => stars::get_my_star_balance(ctx),
        "edituserstarsubscription" => stars::edit_user_star_subscription(ctx, p),
        "setwebhook" => webhook::set_webhook(ctx, p),
        "deletewebhook" => webhook::delete_webhook(ctx, p),
        "getwebhookinfo" => Ok(webhook::webhook_info(ctx)),
        "setmycommands" => commands::set_my_commands(ctx, p),
        "getmycommands" => commands::get_my_commands(ctx, p),
        "deletemycommands" => commands::delete_my_commands(ctx, p),
        "setchatmenubutton" => commands::set_chat_menu_button(ctx, p),
        "getchatmenubutton" => commands::get_chat_menu_button(ctx, p),
        "getupdates" => webhook::get_updates(ctx, p).await,
        "createchatinvitelink" => invite_links::create_chat_invite_link(ctx, p),
        "editchatinvitelink" => invite_links::edit_chat_invite_link(ctx, p),
        "revokechatinvitelink" => invite_links::revoke_chat_invite_link(ctx, p),
        "exportchatinvitelink" => invite_links::export_chat_invite_link(ctx, p),
        "createchatsubscriptioninvitelink" => {
            invite_links::create_chat_subscription_invite_link(ctx, p, env)
        }
        "editchatsubscriptioninvitelink" => {
            invite_links::edit_chat_subscription_invite_link(ctx, p)
        }
        "approvechatjoinrequest" => join_requests::approve_chat_join_request(ctx, p),
        "declinechatjoinrequest" => join_requests::decline_chat_join_request(ctx, p),
        "answerchatjoinrequestquery" => join_requests::answer_chat_join_request_query(ctx, p),
        "sendchatjoinrequestwebapp" => join_requests::send_chat_join_request_web_app(ctx, p),
        "getchat" => members::get_chat(ctx, p),
        "getchatmember" => members::get_chat_member(ctx, p),
        "getchatadministrators" => members::get_chat_administrators(ctx, p),
        "getchatmembercount" => members::get_chat_member_count(ctx, p),
        "banchatmember" => members::ban_chat_member(ctx, p),
        "unbanchatmember" => members::unban_chat_member(ctx, p),
        _ => Err(ApiError::method_not_found()),
    }
}
