//! Join requests: `approveChatJoinRequest`, `declineChatJoinRequest`, and for the chat's guard
//! bot `answerChatJoinRequestQuery` and `sendChatJoinRequestWebApp`, which opens the Mini App
//! for the requester with launch data that carries `chat_join_request_query_id`.

use serde_json::json;

use crate::chats::chat_ref;
use crate::chats::joining::{answer_query, approve, decline, show_web_app};
use crate::chats::membership::sweep;
use crate::launch::{self, LaunchParams};
use crate::params::{ApiError, ApiResult, Params};
use crate::state::{now_unix, Ctx, State};

pub const NOT_ENOUGH_REQUEST_RIGHTS: &str = "not enough rights to manage join requests";
pub const QUERY_RESULTS: [&str; 3] = ["approve", "decline", "queue"];

/// `user_id`, required for every member and request method.
pub(super) fn user_id(p: &Params) -> Result<i64, ApiError> {
    p.int("user_id")?
        .filter(|id| *id > 0)
        .ok_or_else(|| ApiError::bad("invalid user_id specified"))
}

/// (chat, user) of an approve or decline, once the bot is found to have `can_invite_users`.
fn request_target(s: &mut State, p: &Params) -> Result<(i64, i64), ApiError> {
    let r = chat_ref(p)?;
    let user = user_id(p)?;
    sweep(s);
    let chat = s.chat_id_for_bot(&r)?;
    if !s.bot_may(chat, "can_invite_users") {
        return Err(ApiError::bad(NOT_ENOUGH_REQUEST_RIGHTS));
    }
    Ok((chat, user))
}

pub(super) fn approve_chat_join_request(ctx: &Ctx, p: &Params) -> ApiResult {
    ctx.mutate(|s| {
        let (chat, user) = request_target(s, p)?;
        let bot = s.bot_id;
        approve(s, chat, user, bot).map(|_| json!(true))
    })
}

pub(super) fn decline_chat_join_request(ctx: &Ctx, p: &Params) -> ApiResult {
    ctx.mutate(|s| {
        let (chat, user) = request_target(s, p)?;
        decline(s, chat, user).map(|_| json!(true))
    })
}

/// `answerChatJoinRequestQuery` arguments: (query id, result).
pub fn validate_query_answer(p: &Params) -> Result<(String, String), ApiError> {
    let id = p.str_req("chat_join_request_query_id")?;
    let result = p.str_req("result")?;
    if !QUERY_RESULTS.contains(&result.as_str()) {
        return Err(ApiError::bad(format!(
            "result must be \"approve\", \"decline\" or \"queue\", not \"{result}\""
        )));
    }
    Ok((id, result))
}

pub(super) fn answer_chat_join_request_query(ctx: &Ctx, p: &Params) -> ApiResult {
    let (id, result) = validate_query_answer(p)?;
    ctx.mutate(|s| answer_query(s, &id, &result).map(|_| json!(true)))
}

/// `sendChatJoinRequestWebApp` arguments: (query id, Mini App URL). Telegram wants HTTPS; a
/// local emulator also takes loopback HTTP, as for webhooks.
pub fn validate_join_web_app(p: &Params) -> Result<(String, String), ApiError> {
    let id = p.str_req("chat_join_request_query_id")?;
    let url = p.str_req("web_app_url")?;
    let host = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    if host.is_none_or(|h| h.is_empty() || h.starts_with('/')) {
        return Err(ApiError::bad(
            "web_app_url must be an HTTPS URL of the Mini App",
        ));
    }
    Ok((id, url))
}

/// Opens the Mini App for the requester (as their client would), signed like every launch;
/// `/control/launch/last` and the client page show it.
pub(super) fn send_chat_join_request_web_app(ctx: &Ctx, p: &Params) -> ApiResult {
    let (id, url) = validate_join_web_app(p)?;
    let (chat_id, user, chat_type) = ctx.mutate(|s| {
        let (chat_id, user_id) = show_web_app(s, &id, &url)?;
        Ok::<_, ApiError>((chat_id, s.user(user_id), s.chat(chat_id).kind))
    })?;
    let params = LaunchParams {
        chat_type: Some(chat_type.name().to_string()),
        chat_join_request_query_id: Some(id),
        auth_date: now_unix(),
        ..LaunchParams::default()
    };
    launch::open(
        ctx,
        &user,
        &url,
        "chat_join_request",
        &params,
        Some(chat_id),
    );
    Ok(json!(true))
}
