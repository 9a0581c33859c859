//! The Bot API objects for chats: `Chat`, `ChatFullInfo`, `ChatMember` (one variant per
//! status) and `ChatInviteLink`, built from the records in `chats`.

use serde_json::{json, Map, Value};

use super::{Chat, ChatKind, InviteLink, Member, Status};
use crate::state::{State, User};

/// `ChatMemberRestricted`'s permission fields, each present (false unless kept).
pub const RESTRICTED_PERMISSIONS: &[&str] = &[
    "can_send_messages",
    "can_send_audios",
    "can_send_documents",
    "can_send_photos",
    "can_send_videos",
    "can_send_video_notes",
    "can_send_voice_notes",
    "can_send_polls",
    "can_send_other_messages",
    "can_add_web_page_previews",
    "can_react_to_messages",
    "can_edit_tag",
    "can_change_info",
    "can_invite_users",
    "can_pin_messages",
    "can_manage_topics",
];

impl State {
    /// The `User` object for an id: the bot itself, a known user, or a placeholder.
    pub fn user_api(&self, id: i64) -> Value {
        if id == self.bot_id {
            return self.bot_user.clone();
        }
        self.users
            .get(&id)
            .cloned()
            .unwrap_or_else(|| User::placeholder(id))
            .to_api()
    }
}

/// The `Chat` object (what updates carry).
pub fn chat_api(chat: &Chat) -> Value {
    let mut v = json!({"id": chat.id, "type": chat.kind.name(), "title": chat.title});
    if let Some(u) = &chat.username {
        v["username"] = json!(u);
    }
    v
}

/// `ChatFullInfo` as an administrator bot sees it (`getChat`).
pub fn full_info(s: &State, chat: &Chat) -> Value {
    let mut v = chat_api(chat);
    v["accent_color_id"] = json!(chat.id.unsigned_abs() % 7);
    v["max_reaction_count"] = json!(11);
    v["accepted_gift_types"] = json!({
        "unlimited_gifts": false, "limited_gifts": false, "unique_gifts": false,
        "premium_subscription": false, "gifts_from_channels": false
    });
    let admin = chat.bot_rights(s.bot_id).is_some();
    if admin {
        if let Some(l) = chat.links.iter().find(|l| l.is_primary && !l.is_revoked) {
            v["invite_link"] = json!(l.invite_link);
        }
        if chat.guard_bot {
            v["guard_bot"] = s.bot_user.clone();
        }
    }
    if chat.kind == ChatKind::Supergroup {
        let all: Map<String, Value> = RESTRICTED_PERMISSIONS
            .iter()
            .filter(|p| **p != "can_edit_tag")
            .map(|p| (p.to_string(), json!(true)))
            .collect();
        v["permissions"] = Value::Object(all);
    }
    v
}

/// The `ChatMember` variant for the member's status.
pub fn member_api(s: &State, chat: &Chat, m: &Member) -> Value {
    let mut v = json!({"status": m.status.name(), "user": s.user_api(m.user_id)});
    let o = v.as_object_mut().expect("object");
    match m.status {
        Status::Creator => {
            o.insert("is_anonymous".into(), json!(false));
        }
        Status::Administrator => {
            o.insert("can_be_edited".into(), json!(false));
            o.extend(m.rights.to_api(chat.kind));
        }
        Status::Member => {
            if m.until_date > 0 {
                o.insert("until_date".into(), json!(m.until_date));
            }
        }
        Status::Restricted => {
            o.insert("is_member".into(), json!(m.is_member));
            for p in RESTRICTED_PERMISSIONS {
                let on = m.permissions.get(*p).copied().unwrap_or(false);
                o.insert(p.to_string(), json!(on));
            }
            o.insert("until_date".into(), json!(m.until_date));
        }
        Status::Kicked => {
            o.insert("until_date".into(), json!(m.until_date));
        }
        Status::Left => {}
    }
    if let Some(t) = m
        .custom_title
        .as_ref()
        .filter(|_| matches!(m.status, Status::Creator | Status::Administrator))
    {
        o.insert("custom_title".into(), json!(t));
    }
    v
}

/// `ChatInviteLink`. Optional fields appear only when set, as Telegram sends them.
pub fn link_api(s: &State, chat: &Chat, l: &InviteLink) -> Value {
    let mut v = json!({
        "invite_link": l.invite_link,
        "creator": s.user_api(l.creator_id),
        "creates_join_request": l.creates_join_request,
        "is_primary": l.is_primary,
        "is_revoked": l.is_revoked,
    });
    if let Some(n) = &l.name {
        v["name"] = json!(n);
    }
    if l.expire_date > 0 {
        v["expire_date"] = json!(l.expire_date);
    }
    if l.member_limit > 0 {
        v["member_limit"] = json!(l.member_limit);
    }
    if l.creates_join_request {
        let pending = chat
            .requests
            .iter()
            .filter(|r| r.invite_link.as_deref() == Some(&l.invite_link))
            .count();
        v["pending_join_request_count"] = json!(pending);
    }
    if l.is_subscription() {
        v["subscription_period"] = json!(l.subscription_period);
        v["subscription_price"] = json!(l.subscription_price);
    }
    v
}
