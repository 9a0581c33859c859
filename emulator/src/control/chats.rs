//! The control API for channels and supergroups: create and read chats, set a member's
//! status, make a user tap an invite link or leave, move the chats' clock forward, and read a
//! user's last Mini App launch (what `sendChatJoinRequestWebApp` opened).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{bad, not_found, CtlResult, Shared};
use crate::chats::joining::{preview, tap};
use crate::chats::membership::{leave, set_member, sweep, Ended};
use crate::chats::objects::{link_api, member_api, RESTRICTED_PERMISSIONS};
use crate::chats::spec::ChatBody;
use crate::chats::{Chat, ChatKind, Member, QueryState, Rights, Status};
use crate::state::{default_user, Ctx, State as Emu};

pub fn router() -> Router<Arc<Ctx>> {
    Router::new()
        .route("/chats", get(list).post(create))
        .route("/chats/{chat_id}", get(read))
        .route("/chats/{chat_id}/members", post(set_status))
        .route("/chats/{chat_id}/leave", post(user_leaves))
        .route("/invite_links", get(link_preview))
        .route("/invite_links/tap", post(user_taps))
        .route("/clock", get(clock).post(advance_clock))
        .route("/users/{user_id}/chats", get(user_chats))
        .route("/launch/last", get(last_launch))
}

/// Everything about one chat, for tests to assert on.
fn view(s: &Emu, chat: &Chat) -> Value {
    let members: Vec<Value> = chat
        .members
        .values()
        .map(|m| {
            json!({
                "user_id": m.user_id,
                "status": m.status.name(),
                "until_date": (m.until_date > 0).then_some(m.until_date),
                "joined_with": m.invite_link,
                "chat_member": member_api(s, chat, m),
            })
        })
        .collect();
    let links: Vec<Value> = chat
        .links
        .iter()
        .map(|l| {
            let mut v = link_api(s, chat, l);
            v["joined"] = json!(chat.joined_with(&l.invite_link));
            v
        })
        .collect();
    let mut queries: Vec<Value> = s
        .join_queries
        .values()
        .filter(|q| q.chat_id == chat.id)
        .map(|q| {
            let (status, result) = match &q.state {
                QueryState::Open if q.is_expired() => ("expired", None),
                QueryState::Open => ("open", None),
                QueryState::WebAppSent => ("web_app_sent", None),
                QueryState::Answered { result } => ("answered", Some(result)),
                QueryState::Closed => ("closed", None),
            };
            json!({
                "id": q.id,
                "user_id": q.user_id,
                "created": q.created,
                "status": status,
                "result": result,
                "web_app_url": q.web_app_url,
            })
        })
        .collect();
    queries.sort_by_key(|q| q["created"].as_i64());
    json!({
        "id": chat.id,
        "type": chat.kind.name(),
        "title": chat.title,
        "username": chat.username,
        "owner_id": chat.owner_id,
        "guard_bot": chat.guard_bot,
        "bot": member_api(s, chat, &chat.member(s.bot_id)),
        "members": members,
        "invite_links": links,
        "join_requests": chat.requests,
        "queries": queries,
        "revenue": chat.revenue,
    })
}

async fn list(State(ctx): Shared) -> Json<Value> {
    ctx.mutate(|s| {
        sweep(s);
        let all: Vec<Value> = s.chats.values().map(|c| view(s, c)).collect();
        Json(json!(all))
    })
}

/// Creates a chat, or replaces the one with the same id (its members and links go).
async fn create(State(ctx): Shared, Json(body): Json<ChatBody>) -> CtlResult {
    let spec = body.into_spec().map_err(bad)?;
    spec.validate(ctx.config.bot_id()).map_err(bad)?;
    let out = ctx.mutate(|s| {
        s.user(spec.owner_id);
        s.join_queries.retain(|_, q| q.chat_id != spec.id);
        s.chats.insert(spec.id, spec.build(s.bot_id));
        view(s, s.chat(spec.id))
    });
    Ok(Json(out))
}

async fn read(State(ctx): Shared, Path(chat_id): Path<i64>) -> CtlResult {
    ctx.mutate(|s| {
        sweep(s);
        let chat = s
            .chats
            .get(&chat_id)
            .ok_or_else(|| not_found("no such chat"))?;
        Ok(Json(view(s, chat)))
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MemberBody {
    user_id: i64,
    status: Status,
    rights: Option<Value>,
    custom_title: Option<String>,
    until_date: Option<i64>,
    is_member: Option<bool>,
    permissions: Option<BTreeMap<String, bool>>,
}

/// The record a control call describes; the owner's is fixed at creation.
fn member_from(b: MemberBody, chat: &Chat, bot_id: i64) -> Result<Member, String> {
    if b.status == Status::Creator || b.user_id == chat.owner_id {
        return Err("the owner is set when the chat is created (owner_id)".into());
    }
    if b.user_id == bot_id
        && (matches!(b.status, Status::Restricted | Status::Kicked)
            || (chat.kind == ChatKind::Channel && b.status == Status::Member))
    {
        return Err("the bot can be an administrator, a member (supergroups) or left".into());
    }
    if b.rights.is_some() && b.status != Status::Administrator {
        return Err("rights are for administrators".into());
    }
    if let Some(bad) = b
        .permissions
        .iter()
        .flatten()
        .map(|(k, _)| k)
        .find(|k| !RESTRICTED_PERMISSIONS.contains(&k.as_str()))
    {
        return Err(format!("unknown permission {bad:?}"));
    }
    let mut m = Member::new(b.user_id, b.status);
    m.rights = match &b.rights {
        Some(r) => Rights::parse(r)?,
        None if b.status == Status::Administrator => Rights::of(&["can_manage_chat"]),
        None => Rights::default(),
    };
    m.custom_title = b.custom_title;
    if matches!(
        b.status,
        Status::Member | Status::Restricted | Status::Kicked
    ) {
        m.until_date = b.until_date.unwrap_or(0).max(0);
    }
    m.is_member = b.status == Status::Restricted && b.is_member.unwrap_or(true);
    m.permissions = b.permissions.unwrap_or_default();
    if b.status == Status::Member || m.is_member {
        m.invite_link = chat.member(b.user_id).invite_link;
    }
    Ok(m)
}

/// Adds a member or changes one's status, as an administrator or the user would; answers the
/// new `ChatMember` and the `chat_member` update's id when one was sent.
async fn set_status(
    State(ctx): Shared,
    Path(chat_id): Path<i64>,
    Json(body): Json<MemberBody>,
) -> CtlResult {
    ctx.mutate(|s| {
        let chat = s
            .chats
            .get(&chat_id)
            .ok_or_else(|| not_found("no such chat"))?;
        let member = member_from(body, chat, s.bot_id).map_err(bad)?;
        let user_id = member.user_id;
        // Joining and leaving are the user's doing; the rest an administrator's (the owner).
        let by = match member.status {
            Status::Member | Status::Left => user_id,
            _ => chat.owner_id,
        };
        s.user(user_id);
        let before = s.next_update_id;
        set_member(s, chat_id, member, by, None);
        let chat = s.chat(chat_id);
        Ok(Json(json!({
            "chat_member": member_api(s, chat, &chat.member(user_id)),
            "update_id": (s.next_update_id > before).then_some(before),
        })))
    })
}

#[derive(Deserialize)]
struct UserRef {
    user_id: Option<i64>,
}

async fn user_leaves(
    State(ctx): Shared,
    Path(chat_id): Path<i64>,
    Json(b): Json<UserRef>,
) -> CtlResult {
    let user_id = b.user_id.unwrap_or(default_user().id);
    ctx.mutate(|s| {
        if !s.chats.contains_key(&chat_id) {
            return Err(not_found("no such chat"));
        }
        let was = leave(s, chat_id, user_id).map_err(bad)?;
        Ok(Json(json!({"status": "left", "was": was.name()})))
    })
}

#[derive(Deserialize)]
struct LinkQuery {
    invite_link: String,
    user_id: Option<i64>,
}

/// What a client shows before joining: the chat, the link, and whether this user can use it.
async fn link_preview(State(ctx): Shared, Query(q): Query<LinkQuery>) -> CtlResult {
    let user_id = q.user_id.unwrap_or(default_user().id);
    ctx.mutate(|s| {
        sweep(s);
        preview(s, &q.invite_link, user_id)
            .map(Json)
            .ok_or_else(|| not_found("no chat has this invite link"))
    })
}

#[derive(Deserialize)]
struct TapBody {
    user_id: Option<i64>,
    invite_link: String,
}

/// The user taps the link: `{result: joined | requested | already_member | failed, …}`.
async fn user_taps(State(ctx): Shared, Json(b): Json<TapBody>) -> CtlResult {
    let user_id = b.user_id.unwrap_or(default_user().id);
    let timeout = ctx.config.join_query_timeout;
    Ok(Json(ctx.mutate(|s| {
        sweep(s);
        tap(s, user_id, &b.invite_link, timeout)
    })))
}

fn clock_view(s: &Emu, ended: &[Ended]) -> Value {
    json!({"now": s.chat_now(), "offset_secs": s.clock_offset, "ended": ended})
}

async fn clock(State(ctx): Shared) -> Json<Value> {
    Json(clock_view(&ctx.lock(), &[]))
}

#[derive(Deserialize)]
struct Advance {
    seconds: i64,
}

/// Moves the chats' clock forward and ends what ran out by then.
async fn advance_clock(State(ctx): Shared, Json(b): Json<Advance>) -> CtlResult {
    if b.seconds < 0 {
        return Err(bad(
            "seconds must not be negative: the clock only moves forward",
        ));
    }
    Ok(Json(ctx.mutate(|s| {
        s.clock_offset += b.seconds;
        let ended = sweep(s);
        clock_view(s, &ended)
    })))
}

/// The chats a user has a record in or asked to join, for the client page's panel.
async fn user_chats(State(ctx): Shared, Path(user_id): Path<i64>) -> Json<Value> {
    ctx.mutate(|s| {
        sweep(s);
        let list: Vec<Value> = s
            .chats
            .values()
            .filter_map(|c| {
                let requested = c.request(user_id).is_some();
                let m = c.members.get(&user_id);
                if m.is_none() && !requested {
                    return None;
                }
                let m = c.member(user_id);
                Some(json!({
                    "chat_id": c.id,
                    "title": c.title,
                    "type": c.kind.name(),
                    "status": m.status.name(),
                    "until_date": (m.until_date > 0).then_some(m.until_date),
                    "requested": requested,
                }))
            })
            .collect();
        Json(json!(list))
    })
}

#[derive(Deserialize)]
struct LaunchFilter {
    user_id: Option<i64>,
    source: Option<String>,
    /// Answer `null` (200) rather than 404 when there is none: for pollers.
    #[serde(default)]
    or_null: bool,
}

/// The user's latest Mini App launch (optionally of one `source`); 404 when there is none.
async fn last_launch(State(ctx): Shared, Query(q): Query<LaunchFilter>) -> CtlResult {
    let user_id = q.user_id.unwrap_or(default_user().id);
    let s = ctx.lock();
    s.launches
        .iter()
        .rev()
        .find(|l| l.user_id == user_id && q.source.as_ref().is_none_or(|x| &l.source == x))
        .map(|l| Json(json!(l)))
        .or_else(|| q.or_null.then_some(Json(Value::Null)))
        .ok_or_else(|| not_found("no launch for this user"))
}
