//! Getting into a chat: a user taps an invite link (joins, pays a subscription, or sends a
//! join request), and the bot approves or declines requests, directly or by answering the
//! join request query its guard-bot role gives it.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::membership::{drop_request, set_member};
use super::objects::{chat_api, link_api};
use super::{JoinQuery, JoinRequest, Member, QueryState, Status};
use crate::ids;
use crate::params::ApiError;
use crate::state::State;

/// Telegram's answer to approving or declining a user with no pending request.
pub const HIDE_REQUESTER_MISSING: &str = "HIDE_REQUESTER_MISSING";

/// The canonical form `https://t.me/+<hash>` of an invite link in any of the forms a client
/// opens (`t.me/+…`, `t.me/joinchat/…`, `telegram.me/…`, `tg://join?invite=…`).
pub fn canonical_link(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let hash = if let Some(q) = raw.strip_prefix("tg://join?invite=") {
        q
    } else {
        let rest = raw
            .strip_prefix("https://")
            .or_else(|| raw.strip_prefix("http://"))
            .unwrap_or(raw);
        let path = rest
            .strip_prefix("t.me/")
            .or_else(|| rest.strip_prefix("telegram.me/"))?;
        path.strip_prefix('+')
            .or_else(|| path.strip_prefix("joinchat/"))?
    };
    let hash = hash.split(['?', '#', '&', '/']).next().unwrap_or("");
    let ok = !hash.is_empty()
        && hash
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    ok.then(|| format!("https://t.me/+{hash}"))
}

/// A fresh invite link, `https://t.me/+` and sixteen base64url characters as Telegram's are.
pub fn new_link() -> String {
    format!("https://t.me/+{}", ids::token(16))
}

/// The chat holding this link (any form; see [`canonical_link`]).
pub fn find_link(s: &State, raw: &str) -> Option<(i64, String)> {
    let link = canonical_link(raw)?;
    s.chats
        .values()
        .find(|c| c.link(&link).is_some())
        .map(|c| (c.id, link))
}

fn failed(reason: &str, error: &str) -> Value {
    json!({"result": "failed", "reason": reason, "error": error})
}

/// Why this user cannot use this link now, if they cannot.
fn refusal(s: &State, chat_id: i64, link: &str, user_id: i64) -> Option<Value> {
    let chat = s.chat(chat_id);
    let l = chat.link(link).expect("found before");
    if l.is_revoked {
        return Some(failed("revoked", "INVITE_HASH_EXPIRED"));
    }
    if l.expire_date > 0 && l.expire_date <= s.chat_now() {
        return Some(failed("expired", "INVITE_HASH_EXPIRED"));
    }
    if l.member_limit > 0 && chat.joined_with(link) >= l.member_limit {
        return Some(failed("limit_reached", "USERS_TOO_MUCH"));
    }
    if chat.member(user_id).status == Status::Kicked {
        return Some(failed("banned", "USER_BANNED_IN_CHANNEL"));
    }
    None
}

/// What a client shows before joining: the chat, the link, the user's status there, and
/// whether they could use it now (`refusal` says why not).
pub fn preview(s: &State, raw: &str, user_id: i64) -> Option<Value> {
    let (chat_id, link) = find_link(s, raw)?;
    let chat = s.chat(chat_id);
    let refusal = refusal(s, chat_id, &link, user_id);
    Some(json!({
        "chat": chat_api(chat),
        "invite_link": link_api(s, chat, chat.link(&link)?),
        "status": chat.member(user_id).status.name(),
        "usable": refusal.is_none(),
        "refusal": refusal,
    }))
}

/// The user taps an invite link. Answers `{result: joined | requested | already_member |
/// failed, …}`; a subscription link is paid at once (the client showed its price first).
pub fn tap(s: &mut State, user_id: i64, raw: &str, query_timeout: Duration) -> Value {
    s.user(user_id);
    let Some((chat_id, link)) = find_link(s, raw) else {
        return failed("invalid", "INVITE_HASH_INVALID");
    };
    let chat = s.chat(chat_id);
    let me = chat.member(user_id);
    if me.is_in_chat() {
        return json!({"result": "already_member", "chat_id": chat_id, "status": me.status.name()});
    }
    if let Some(no) = refusal(s, chat_id, &link, user_id) {
        return no;
    }
    let l = chat.link(&link).expect("found").clone();
    if l.creates_join_request {
        return request(s, chat_id, user_id, &link, query_timeout);
    }
    let now = s.chat_now();
    let mut member = Member {
        invite_link: Some(link.clone()),
        ..Member::new(user_id, Status::Member)
    };
    let mut out = json!({"result": "joined", "chat_id": chat_id, "status": "member"});
    if l.is_subscription() {
        member.until_date = now + l.subscription_period;
        let charge = json!({
            "id": ids::stars_charge_id(),
            "amount": l.subscription_price,
            "date": now,
            "user": s.user_api(user_id),
            "invite_link": link,
            "subscription_period": l.subscription_period,
        });
        s.chat_mut(chat_id).revenue.push(charge.clone());
        out["until_date"] = json!(member.until_date);
        out["paid"] = charge;
    }
    // In by another link: a request still pending elsewhere is moot.
    drop_request(s, chat_id, user_id);
    set_member(s, chat_id, member, user_id, Some(&link));
    out
}

/// A join request through a `creates_join_request` link. The bot hears of it only with
/// `can_invite_users`; as the chat's guard bot it also gets a query to answer in time.
fn request(s: &mut State, chat_id: i64, user_id: i64, link: &str, timeout: Duration) -> Value {
    if let Some(r) = s.chat(chat_id).request(user_id) {
        return json!({"result": "requested", "chat_id": chat_id, "query_id": r.query_id, "repeated": true});
    }
    let chat = s.chat(chat_id);
    let told = chat
        .bot_rights(s.bot_id)
        .is_some_and(|r| r.has("can_invite_users"));
    let query_id = (told && chat.guard_bot).then(|| ids::digits(19));
    let now = s.chat_now();
    s.chat_mut(chat_id).requests.push(JoinRequest {
        user_id,
        date: now,
        invite_link: Some(link.to_string()),
        query_id: query_id.clone(),
    });
    if let Some(id) = &query_id {
        s.join_queries.insert(
            id.clone(),
            JoinQuery {
                id: id.clone(),
                chat_id,
                user_id,
                created: now,
                deadline: Instant::now() + timeout,
                state: QueryState::Open,
                web_app_url: None,
            },
        );
    }
    if told {
        let chat = s.chat(chat_id);
        let mut update = json!({
            "chat": chat_api(chat),
            "from": s.user_api(user_id),
            "user_chat_id": user_id,
            "date": now,
            "invite_link": link_api(s, chat, chat.link(link).expect("found")),
        });
        if let Some(id) = &query_id {
            update["query_id"] = json!(id);
        }
        s.push_update("chat_join_request", update);
    }
    json!({"result": "requested", "chat_id": chat_id, "query_id": query_id})
}

/// `approveChatJoinRequest` by `by`: the requester becomes a member through the request's link.
pub fn approve(s: &mut State, chat_id: i64, user_id: i64, by: i64) -> Result<(), ApiError> {
    let req = s
        .chat(chat_id)
        .request(user_id)
        .cloned()
        .ok_or_else(|| ApiError::bad(HIDE_REQUESTER_MISSING))?;
    drop_request(s, chat_id, user_id);
    if s.chat(chat_id).member(user_id).is_in_chat() {
        return Err(ApiError::bad("USER_ALREADY_PARTICIPANT"));
    }
    let member = Member {
        invite_link: req.invite_link.clone(),
        ..Member::new(user_id, Status::Member)
    };
    set_member(s, chat_id, member, by, req.invite_link.as_deref());
    Ok(())
}

/// `declineChatJoinRequest`: the request goes away; the user stays out.
pub fn decline(s: &mut State, chat_id: i64, user_id: i64) -> Result<(), ApiError> {
    if s.chat(chat_id).request(user_id).is_none() {
        return Err(ApiError::bad(HIDE_REQUESTER_MISSING));
    }
    drop_request(s, chat_id, user_id);
    Ok(())
}

/// Telegram's refusal for a join request query that is unknown, answered or past its deadline
/// (the same words as for a late pre-checkout answer).
pub fn query_too_old() -> ApiError {
    ApiError::bad(crate::botapi::QUERY_TOO_OLD)
}

/// The open query with this id: (chat, user).
fn answerable(s: &State, id: &str) -> Result<(i64, i64), ApiError> {
    s.join_queries
        .get(id)
        .filter(|q| q.is_answerable())
        .map(|q| (q.chat_id, q.user_id))
        .ok_or_else(query_too_old)
}

/// `answerChatJoinRequestQuery`: `approve` and `decline` settle the request as the bot;
/// `queue` leaves it pending for the chat's other administrators.
pub fn answer_query(s: &mut State, id: &str, result: &str) -> Result<(), ApiError> {
    let (chat_id, user_id) = answerable(s, id)?;
    let bot = s.bot_id;
    let outcome = match result {
        "approve" => approve(s, chat_id, user_id, bot),
        "decline" => decline(s, chat_id, user_id),
        _ => Ok(()),
    };
    if let Some(q) = s.join_queries.get_mut(id) {
        q.state = QueryState::Answered {
            result: result.to_string(),
        };
    }
    outcome
}

/// `sendChatJoinRequestWebApp`: the query now waits for the user in the Mini App, with no
/// deadline. Returns (chat, user) so the caller can launch the app for them.
pub fn show_web_app(s: &mut State, id: &str, url: &str) -> Result<(i64, i64), ApiError> {
    let found = answerable(s, id)?;
    if let Some(q) = s.join_queries.get_mut(id) {
        q.state = QueryState::WebAppSent;
        q.web_app_url = Some(url.to_string());
    }
    Ok(found)
}
