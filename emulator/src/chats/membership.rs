//! Membership changes and the `chat_member` update each one sends: set a status, ban, unban,
//! leave, and the sweep that ends subscriptions and bans whose `until_date` has passed.
//!
//! Telegram sends `chat_member` only to a bot that administers the chat, and only when the
//! bot listed it in `allowed_updates`; the first rule is applied here, the second by
//! `State::push_update` like for every other update.

use serde::Serialize;
use serde_json::json;

use super::objects::{chat_api, link_api, member_api};
use super::{Member, Status};
use crate::params::ApiError;
use crate::state::State;

pub const CANT_REMOVE_OWNER: &str = "can't remove chat owner";
pub const USER_IS_ADMIN: &str = "user is an administrator of the chat";

/// Bans shorter than this, or longer than [`FOREVER_AFTER`], are forever (`until_date` 0).
const SHORTEST_BAN: i64 = 30;
const FOREVER_AFTER: i64 = 366 * 86_400;

/// Stores `new` as the user's record and, when the `ChatMember` the bot would see changed,
/// queues `chat_member`. `from` performed the change; `invite_link` is the link the user
/// joined with, for joins by link.
pub fn set_member(s: &mut State, chat_id: i64, new: Member, from: i64, invite_link: Option<&str>) {
    let user_id = new.user_id;
    let chat = s.chat(chat_id);
    let old_api = member_api(s, chat, &chat.member(user_id));
    s.chat_mut(chat_id).members.insert(user_id, new);
    let chat = s.chat(chat_id);
    let new_api = member_api(s, chat, &chat.member(user_id));
    // The bot's own changes would be `my_chat_member`, which the emulator does not send.
    if old_api == new_api || user_id == s.bot_id || chat.bot_rights(s.bot_id).is_none() {
        return;
    }
    let mut update = json!({
        "chat": chat_api(chat),
        "from": s.user_api(from),
        "date": s.chat_now(),
        "old_chat_member": old_api,
        "new_chat_member": new_api,
    });
    if let Some(l) = invite_link.and_then(|l| chat.link(l)) {
        update["invite_link"] = link_api(s, chat, l);
    }
    s.push_update("chat_member", update);
}

/// Refuses to remove the chat's owner or an administrator (only their promoter could).
fn removable(m: &Member) -> Result<(), ApiError> {
    match m.status {
        Status::Creator => Err(ApiError::bad(CANT_REMOVE_OWNER)),
        Status::Administrator => Err(ApiError::bad(USER_IS_ADMIN)),
        _ => Ok(()),
    }
}

/// `until_date` as Telegram stores it: under thirty seconds or over a leap year from now
/// means forever (0).
pub fn ban_until(until_date: i64, now: i64) -> i64 {
    let left = until_date - now;
    if until_date <= 0 || !(SHORTEST_BAN..=FOREVER_AFTER).contains(&left) {
        0
    } else {
        until_date
    }
}

/// `banChatMember` by `by`: the user is removed (if in the chat) and cannot come back until
/// unbanned or `until_date`. A pending join request of theirs is dropped.
pub fn ban(
    s: &mut State,
    chat_id: i64,
    user_id: i64,
    until_date: i64,
    by: i64,
) -> Result<(), ApiError> {
    let old = s.chat(chat_id).member(user_id);
    removable(&old)?;
    let until = ban_until(until_date, s.chat_now());
    drop_request(s, chat_id, user_id);
    let new = Member {
        until_date: until,
        ..Member::new(user_id, Status::Kicked)
    };
    set_member(s, chat_id, new, by, None);
    Ok(())
}

/// `unbanChatMember`: a banned user becomes `left` (free to join again). Without
/// `only_if_banned` a user in the chat is removed too; with it, nobody else is touched.
pub fn unban(
    s: &mut State,
    chat_id: i64,
    user_id: i64,
    only_if_banned: bool,
    by: i64,
) -> Result<(), ApiError> {
    let old = s.chat(chat_id).member(user_id);
    match old.status {
        Status::Kicked => {}
        _ if only_if_banned => return Ok(()),
        Status::Left => return Ok(()),
        _ => removable(&old)?,
    }
    set_member(s, chat_id, Member::new(user_id, Status::Left), by, None);
    Ok(())
}

/// The user leaves on their own.
pub fn leave(s: &mut State, chat_id: i64, user_id: i64) -> Result<Status, String> {
    let old = s.chat(chat_id).member(user_id);
    if old.status == Status::Creator {
        return Err("the owner cannot leave the chat".into());
    }
    if !old.is_in_chat() {
        return Err(format!(
            "user {user_id} is not in the chat ({})",
            old.status.name()
        ));
    }
    set_member(
        s,
        chat_id,
        Member::new(user_id, Status::Left),
        user_id,
        None,
    );
    Ok(old.status)
}

pub(super) fn drop_request(s: &mut State, chat_id: i64, user_id: i64) {
    let chat = s.chat_mut(chat_id);
    let Some(i) = chat.requests.iter().position(|r| r.user_id == user_id) else {
        return;
    };
    let req = chat.requests.remove(i);
    if let Some(q) = req.query_id.and_then(|id| s.join_queries.get_mut(&id)) {
        if q.is_answerable() {
            q.state = super::QueryState::Closed;
        }
    }
}

/// One status change the sweep made.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Ended {
    pub chat_id: i64,
    pub user_id: i64,
    pub was: Status,
    pub now: Status,
}

/// Ends what ran out by the chats' clock: subscriptions (member → left), timed bans
/// (kicked → left) and timed restrictions (lifted). Each sends its `chat_member` update,
/// performed by the user (a subscription lapsing is the subscriber's own departure).
pub fn sweep(s: &mut State) -> Vec<Ended> {
    let now = s.chat_now();
    let due: Vec<(i64, Member)> = s
        .chats
        .values()
        .flat_map(|c| c.members.values().map(move |m| (c.id, m)))
        .filter(|(_, m)| m.until_date > 0 && m.until_date <= now)
        .filter(|(_, m)| {
            matches!(
                m.status,
                Status::Member | Status::Kicked | Status::Restricted
            )
        })
        .map(|(c, m)| (c, m.clone()))
        .collect();
    let mut ended = Vec::new();
    for (chat_id, old) in due {
        let new = match old.status {
            Status::Restricted if old.is_member => Member {
                invite_link: old.invite_link.clone(),
                ..Member::new(old.user_id, Status::Member)
            },
            _ => Member::new(old.user_id, Status::Left),
        };
        ended.push(Ended {
            chat_id,
            user_id: old.user_id,
            was: old.status,
            now: new.status,
        });
        set_member(s, chat_id, new, old.user_id, None);
    }
    ended
}
