//! Chats and their members: `getChat`, `getChatMember`, `getChatAdministrators`,
//! `getChatMemberCount`, `banChatMember` and `unbanChatMember`.

use serde_json::{json, Value};

use super::join_requests::user_id;
use crate::chats::membership::{ban, sweep, unban};
use crate::chats::objects::{full_info, member_api};
use crate::chats::{chat_ref, ChatRef, Status};
use crate::params::{ApiError, ApiResult, Params};
use crate::state::{Ctx, State};

pub const NOT_ENOUGH_RESTRICT_RIGHTS: &str = "not enough rights to restrict/unrestrict chat member";

/// The chat from `chat_id` (after ending what ran out), when the bot is in it.
fn bot_chat(s: &mut State, p: &Params) -> Result<i64, ApiError> {
    let r = chat_ref(p)?;
    sweep(s);
    s.chat_id_for_bot(&r)
}

/// `getChat`: a channel or supergroup the bot is in, or the private chat with a known user.
pub(super) fn get_chat(ctx: &Ctx, p: &Params) -> ApiResult {
    let r = chat_ref(p)?;
    ctx.mutate(|s| {
        if let ChatRef::Id(id) = r {
            if let Some(u) = s.users.get(&id) {
                let mut v = u.chat();
                v["accent_color_id"] = json!(id.unsigned_abs() % 7);
                v["max_reaction_count"] = json!(11);
                v["accepted_gift_types"] = json!({
                    "unlimited_gifts": true, "limited_gifts": true, "unique_gifts": true,
                    "premium_subscription": true, "gifts_from_channels": true
                });
                return Ok(v);
            }
        }
        let id = bot_chat(s, p)?;
        Ok(full_info(s, s.chat(id)))
    })
}

pub(super) fn get_chat_member(ctx: &Ctx, p: &Params) -> ApiResult {
    ctx.mutate(|s| {
        let chat_id = bot_chat(s, p)?;
        let user = user_id(p)?;
        let chat = s.chat(chat_id);
        if user != s.bot_id && !s.users.contains_key(&user) && !chat.members.contains_key(&user) {
            return Err(ApiError::bad("user not found"));
        }
        Ok(member_api(s, chat, &chat.member(user)))
    })
}

/// The owner and the administrators (the bot among them when it is one).
pub(super) fn get_chat_administrators(ctx: &Ctx, p: &Params) -> ApiResult {
    ctx.mutate(|s| {
        let id = bot_chat(s, p)?;
        let chat = s.chat(id);
        let list: Vec<Value> = chat
            .members
            .values()
            .filter(|m| matches!(m.status, Status::Creator | Status::Administrator))
            .map(|m| member_api(s, chat, m))
            .collect();
        Ok(json!(list))
    })
}

pub(super) fn get_chat_member_count(ctx: &Ctx, p: &Params) -> ApiResult {
    ctx.mutate(|s| {
        let id = bot_chat(s, p)?;
        let chat = s.chat(id);
        Ok(json!(chat
            .members
            .values()
            .filter(|m| m.is_in_chat())
            .count()))
    })
}

/// (chat, user) of a ban or unban, once the bot is found to have `can_restrict_members`.
fn restrict_target(s: &mut State, p: &Params) -> Result<(i64, i64), ApiError> {
    let chat = bot_chat(s, p)?;
    let user = user_id(p)?;
    if !s.bot_may(chat, "can_restrict_members") {
        return Err(ApiError::bad(NOT_ENOUGH_RESTRICT_RIGHTS));
    }
    Ok((chat, user))
}

/// `revoke_messages` is read for its type only: these chats keep no messages.
pub(super) fn ban_chat_member(ctx: &Ctx, p: &Params) -> ApiResult {
    let until = p.int("until_date")?.unwrap_or(0);
    p.bool("revoke_messages")?;
    ctx.mutate(|s| {
        let (chat, user) = restrict_target(s, p)?;
        let bot = s.bot_id;
        ban(s, chat, user, until, bot).map(|_| json!(true))
    })
}

pub(super) fn unban_chat_member(ctx: &Ctx, p: &Params) -> ApiResult {
    let only_if_banned = p.bool("only_if_banned")?.unwrap_or(false);
    ctx.mutate(|s| {
        let (chat, user) = restrict_target(s, p)?;
        let bot = s.bot_id;
        unban(s, chat, user, only_if_banned, bot).map(|_| json!(true))
    })
}
