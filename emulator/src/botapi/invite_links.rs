//! Invite links: `createChatInviteLink`, `editChatInviteLink`, `revokeChatInviteLink`,
//! `exportChatInviteLink`, `createChatSubscriptionInviteLink` and
//! `editChatSubscriptionInviteLink`. Every one needs the bot to administer the chat with
//! `can_invite_users`.

use serde_json::{json, Value};

use super::{CallEnv, MAX_SUBSCRIPTION_STARS, SUBSCRIPTION_PERIOD, TEST_SUBSCRIPTION_PERIODS};
use crate::chats::joining::{canonical_link, new_link};
use crate::chats::membership::sweep;
use crate::chats::objects::link_api;
use crate::chats::{chat_ref, ChatKind, InviteLink};
use crate::params::{ApiError, ApiResult, Params};
use crate::state::{Ctx, State};

pub const NOT_ENOUGH_LINK_RIGHTS: &str = "not enough rights to manage chat invite links";
const LINK_NOT_FOUND: &str = "invite link not found in this chat";
pub const MAX_MEMBER_LIMIT: i64 = 99_999;

/// What `createChatInviteLink` and `editChatInviteLink` set (0 = none).
#[derive(Debug, PartialEq)]
pub struct LinkSettings {
    pub name: Option<String>,
    pub expire_date: i64,
    pub member_limit: i64,
    pub creates_join_request: bool,
}

/// `name`: 0-32 characters; an empty one is no name.
fn link_name(p: &Params) -> Result<Option<String>, ApiError> {
    let name = p.str("name")?.filter(|n| !n.is_empty());
    if name.as_ref().is_some_and(|n| n.chars().count() > 32) {
        return Err(ApiError::bad(
            "invite link name is too long (0-32 characters)",
        ));
    }
    Ok(name)
}

/// Parameters of a plain link, checked against the chats' clock `now`. An absent field means
/// none: `editChatInviteLink` replaces all of them, as Telegram does.
pub fn validate_link_settings(p: &Params, now: i64) -> Result<LinkSettings, ApiError> {
    let name = link_name(p)?;
    let expire_date = p.int("expire_date")?.unwrap_or(0);
    if expire_date < 0 {
        return Err(ApiError::bad("invalid expire_date specified"));
    }
    if expire_date > 0 && expire_date <= now {
        return Err(ApiError::bad(
            "EXPIRE_DATE_INVALID: expire_date must be in the future",
        ));
    }
    let member_limit = p.int("member_limit")?.unwrap_or(0);
    if !(0..=MAX_MEMBER_LIMIT).contains(&member_limit) {
        return Err(ApiError::bad("member_limit must be between 1 and 99999"));
    }
    let creates_join_request = p.bool("creates_join_request")?.unwrap_or(false);
    if creates_join_request && member_limit > 0 {
        return Err(ApiError::bad(
            "member_limit can't be specified for links requiring administrator approval",
        ));
    }
    Ok(LinkSettings {
        name,
        expire_date,
        member_limit,
        creates_join_request,
    })
}

/// `createChatSubscriptionInviteLink`: (name, period, price). The period is 30 days, or on
/// the `/test/` path also one or five minutes, as for subscription invoices.
pub fn validate_subscription_link(
    p: &Params,
    test_env: bool,
) -> Result<(Option<String>, i64, i64), ApiError> {
    let name = link_name(p)?;
    let period = p
        .int("subscription_period")?
        .ok_or_else(|| ApiError::missing("subscription_period"))?;
    if !(period == SUBSCRIPTION_PERIOD || (test_env && TEST_SUBSCRIPTION_PERIODS.contains(&period)))
    {
        return Err(ApiError::bad("SUBSCRIPTION_PERIOD_INVALID"));
    }
    let price = p
        .int("subscription_price")?
        .ok_or_else(|| ApiError::missing("subscription_price"))?;
    if !(1..=MAX_SUBSCRIPTION_STARS).contains(&price) {
        return Err(ApiError::bad(
            "SUBSCRIPTION_PRICE_INVALID: subscription_price must be 1-10000 Telegram Stars",
        ));
    }
    Ok((name, period, price))
}

/// The chat from `chat_id`, once the bot is found to manage its links.
fn managed_chat(s: &mut State, p: &Params) -> Result<i64, ApiError> {
    let r = chat_ref(p)?;
    sweep(s);
    let id = s.chat_id_for_bot(&r)?;
    if !s.bot_may(id, "can_invite_users") {
        return Err(ApiError::bad(NOT_ENOUGH_LINK_RIGHTS));
    }
    Ok(id)
}

/// The `invite_link` parameter, as stored in this chat.
fn existing_link(s: &State, chat_id: i64, p: &Params) -> Result<InviteLink, ApiError> {
    let raw = p.str_req("invite_link")?;
    canonical_link(&raw)
        .and_then(|l| s.chat(chat_id).link(&l).cloned())
        .ok_or_else(|| ApiError::bad(LINK_NOT_FOUND))
}

fn answer(s: &State, chat_id: i64, link: &str) -> Value {
    let chat = s.chat(chat_id);
    link_api(s, chat, chat.link(link).expect("stored"))
}

fn plain_link(s: &State, settings: LinkSettings, primary: bool) -> InviteLink {
    InviteLink {
        invite_link: new_link(),
        creator_id: s.bot_id,
        name: settings.name,
        expire_date: settings.expire_date,
        member_limit: settings.member_limit,
        creates_join_request: settings.creates_join_request,
        is_primary: primary,
        is_revoked: false,
        subscription_period: 0,
        subscription_price: 0,
    }
}

pub(super) fn create_chat_invite_link(ctx: &Ctx, p: &Params) -> ApiResult {
    ctx.mutate(|s| {
        let chat_id = managed_chat(s, p)?;
        let link = plain_link(s, validate_link_settings(p, s.chat_now())?, false);
        let url = link.invite_link.clone();
        s.chat_mut(chat_id).links.push(link);
        Ok(answer(s, chat_id, &url))
    })
}

pub(super) fn edit_chat_invite_link(ctx: &Ctx, p: &Params) -> ApiResult {
    ctx.mutate(|s| {
        let chat_id = managed_chat(s, p)?;
        let old = existing_link(s, chat_id, p)?;
        if old.is_primary {
            return Err(ApiError::bad("the primary invite link can't be edited"));
        }
        if old.is_revoked {
            return Err(ApiError::bad("a revoked invite link can't be edited"));
        }
        if old.is_subscription() {
            return Err(ApiError::bad(
                "use editChatSubscriptionInviteLink to edit a subscription invite link",
            ));
        }
        let set = validate_link_settings(p, s.chat_now())?;
        let l = s
            .chat_mut(chat_id)
            .link_mut(&old.invite_link)
            .expect("found");
        l.name = set.name;
        l.expire_date = set.expire_date;
        l.member_limit = set.member_limit;
        l.creates_join_request = set.creates_join_request;
        Ok(answer(s, chat_id, &old.invite_link))
    })
}

/// Revokes a link (a revoked link stays revoked: revoking it again answers the same). A
/// revoked primary link is replaced by a new one, as Telegram does.
pub(super) fn revoke_chat_invite_link(ctx: &Ctx, p: &Params) -> ApiResult {
    ctx.mutate(|s| {
        let chat_id = managed_chat(s, p)?;
        let old = existing_link(s, chat_id, p)?;
        let was_live_primary = old.is_primary && !old.is_revoked;
        s.chat_mut(chat_id)
            .link_mut(&old.invite_link)
            .expect("found")
            .is_revoked = true;
        let revoked = answer(s, chat_id, &old.invite_link);
        if was_live_primary {
            let fresh = plain_link(s, no_settings(), true);
            s.chat_mut(chat_id).links.push(fresh);
        }
        Ok(revoked)
    })
}

fn no_settings() -> LinkSettings {
    LinkSettings {
        name: None,
        expire_date: 0,
        member_limit: 0,
        creates_join_request: false,
    }
}

/// A new primary link (the previous one is revoked); answers the link as a string.
pub(super) fn export_chat_invite_link(ctx: &Ctx, p: &Params) -> ApiResult {
    ctx.mutate(|s| {
        let chat_id = managed_chat(s, p)?;
        for l in s
            .chat_mut(chat_id)
            .links
            .iter_mut()
            .filter(|l| l.is_primary)
        {
            l.is_revoked = true;
        }
        let fresh = plain_link(s, no_settings(), true);
        let url = fresh.invite_link.clone();
        s.chat_mut(chat_id).links.push(fresh);
        Ok(json!(url))
    })
}

pub(super) fn create_chat_subscription_invite_link(
    ctx: &Ctx,
    p: &Params,
    env: CallEnv,
) -> ApiResult {
    ctx.mutate(|s| {
        let chat_id = managed_chat(s, p)?;
        if s.chat(chat_id).kind != ChatKind::Channel {
            return Err(ApiError::bad(
                "subscription invite links can be created only in channels",
            ));
        }
        let (name, period, price) = validate_subscription_link(p, env.test_env)?;
        let link = InviteLink {
            name,
            subscription_period: period,
            subscription_price: price,
            ..plain_link(s, no_settings(), false)
        };
        let url = link.invite_link.clone();
        s.chat_mut(chat_id).links.push(link);
        Ok(answer(s, chat_id, &url))
    })
}

/// Only the name of a subscription link can change (its price and period are fixed).
pub(super) fn edit_chat_subscription_invite_link(ctx: &Ctx, p: &Params) -> ApiResult {
    ctx.mutate(|s| {
        let chat_id = managed_chat(s, p)?;
        let old = existing_link(s, chat_id, p)?;
        if !old.is_subscription() {
            return Err(ApiError::bad("the invite link is not a subscription link"));
        }
        if old.is_revoked {
            return Err(ApiError::bad("a revoked invite link can't be edited"));
        }
        let name = link_name(p)?;
        s.chat_mut(chat_id)
            .link_mut(&old.invite_link)
            .expect("found")
            .name = name;
        Ok(answer(s, chat_id, &old.invite_link))
    })
}
