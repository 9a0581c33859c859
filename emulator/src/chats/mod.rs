//! Channels and supergroups the bot sells access to: their members (status, rights,
//! `until_date`), invite links, pending join requests and join request queries.
//!
//! - this file: the records and how a Bot API `chat_id` finds one;
//! - `rights`: `ChatAdministratorRights`, parsed and serialized;
//! - `objects`: the Bot API JSON (`Chat`, `ChatFullInfo`, `ChatMember`, `ChatInviteLink`);
//! - `membership`: status changes (ban, unban, leave, expiry) and the `chat_member` update
//!   each of them sends;
//! - `joining`: tapping an invite link, join requests and their queries;
//! - `spec`: chats described in the configuration (`--chat`).
//!
//! Every time here is on the chats' clock ([`State::chat_now`]), which the control API can
//! move forward so that subscriptions and bans run out without waiting.

pub mod joining;
pub mod membership;
pub mod objects;
pub mod rights;
pub mod spec;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::params::{ApiError, Params};
use crate::state::State;
pub use rights::Rights;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChatKind {
    Channel,
    Supergroup,
}

impl ChatKind {
    pub fn name(self) -> &'static str {
        match self {
            ChatKind::Channel => "channel",
            ChatKind::Supergroup => "supergroup",
        }
    }
}

/// A `ChatMember` status, named as the Bot API names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Creator,
    Administrator,
    Member,
    Restricted,
    Left,
    Kicked,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Creator => "creator",
            Status::Administrator => "administrator",
            Status::Member => "member",
            Status::Restricted => "restricted",
            Status::Left => "left",
            Status::Kicked => "kicked",
        }
    }
}

/// One user's standing in a chat. A user the chat has no record of is `left`.
#[derive(Clone, Debug, PartialEq)]
pub struct Member {
    pub user_id: i64,
    pub status: Status,
    /// Administrators only.
    pub rights: Rights,
    pub custom_title: Option<String>,
    /// 0 = none. Members: when a subscription ends; restricted and kicked: when it is lifted
    /// (0 = never).
    pub until_date: i64,
    /// Restricted users only: whether they are in the chat right now.
    pub is_member: bool,
    /// Restricted users only: the `can_*` permissions they keep (all others are false).
    pub permissions: BTreeMap<String, bool>,
    /// The invite link the user joined with, which `member_limit` counts against.
    pub invite_link: Option<String>,
}

impl Member {
    pub fn new(user_id: i64, status: Status) -> Member {
        Member {
            user_id,
            status,
            rights: Rights::default(),
            custom_title: None,
            until_date: 0,
            is_member: false,
            permissions: BTreeMap::new(),
            invite_link: None,
        }
    }

    /// Whether the user is in the chat now (can read it).
    pub fn is_in_chat(&self) -> bool {
        match self.status {
            Status::Creator | Status::Administrator | Status::Member => true,
            Status::Restricted => self.is_member,
            Status::Left | Status::Kicked => false,
        }
    }
}

#[derive(Clone, Debug)]
pub struct InviteLink {
    /// `https://t.me/+<hash>`.
    pub invite_link: String,
    pub creator_id: i64,
    pub name: Option<String>,
    /// 0 = never.
    pub expire_date: i64,
    /// 0 = no limit.
    pub member_limit: i64,
    pub creates_join_request: bool,
    pub is_primary: bool,
    pub is_revoked: bool,
    /// 0 = not a subscription link.
    pub subscription_period: i64,
    pub subscription_price: i64,
}

impl InviteLink {
    pub fn is_subscription(&self) -> bool {
        self.subscription_period > 0
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct JoinRequest {
    pub user_id: i64,
    pub date: i64,
    pub invite_link: Option<String>,
    /// Set when the chat's guard bot (this bot) must process the request.
    pub query_id: Option<String>,
}

/// Where a join request query stands.
#[derive(Clone, Debug, PartialEq)]
pub enum QueryState {
    /// Waiting for `sendChatJoinRequestWebApp` or `answerChatJoinRequestQuery`.
    Open,
    /// The Mini App was shown; open until answered, without the deadline.
    WebAppSent,
    /// `answerChatJoinRequestQuery` was called.
    Answered { result: String },
    /// The request was approved or declined some other way before the query was answered.
    Closed,
}

#[derive(Clone, Debug)]
pub struct JoinQuery {
    pub id: String,
    pub chat_id: i64,
    pub user_id: i64,
    pub created: i64,
    pub deadline: Instant,
    pub state: QueryState,
    /// The Mini App `sendChatJoinRequestWebApp` showed, if it was called.
    pub web_app_url: Option<String>,
}

impl JoinQuery {
    /// Open past its deadline: neither method was called in time.
    pub fn is_expired(&self) -> bool {
        self.state == QueryState::Open && Instant::now() > self.deadline
    }

    /// Still answerable: open within the deadline, or showing the Mini App.
    pub fn is_answerable(&self) -> bool {
        match self.state {
            QueryState::Open => !self.is_expired(),
            QueryState::WebAppSent => true,
            _ => false,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Chat {
    pub id: i64,
    pub kind: ChatKind,
    pub title: String,
    pub username: Option<String>,
    pub owner_id: i64,
    /// The bot is the chat's guard bot: join requests carry a `query_id` it must answer.
    pub guard_bot: bool,
    pub members: BTreeMap<i64, Member>,
    pub links: Vec<InviteLink>,
    pub requests: Vec<JoinRequest>,
    /// Stars subscribers paid for subscription links: the chat's income, not the bot's.
    pub revenue: Vec<Value>,
}

impl Chat {
    pub fn member(&self, user_id: i64) -> Member {
        self.members
            .get(&user_id)
            .cloned()
            .unwrap_or_else(|| Member::new(user_id, Status::Left))
    }

    pub fn link(&self, link: &str) -> Option<&InviteLink> {
        self.links.iter().find(|l| l.invite_link == link)
    }

    pub fn link_mut(&mut self, link: &str) -> Option<&mut InviteLink> {
        self.links.iter_mut().find(|l| l.invite_link == link)
    }

    pub fn request(&self, user_id: i64) -> Option<&JoinRequest> {
        self.requests.iter().find(|r| r.user_id == user_id)
    }

    /// The bot's rights when it is an administrator here.
    pub fn bot_rights(&self, bot_id: i64) -> Option<&Rights> {
        self.members
            .get(&bot_id)
            .filter(|m| m.status == Status::Administrator)
            .map(|m| &m.rights)
    }

    /// Users in the chat now who joined with `link` (what `member_limit` caps).
    pub fn joined_with(&self, link: &str) -> i64 {
        self.members
            .values()
            .filter(|m| m.is_in_chat() && m.invite_link.as_deref() == Some(link))
            .count() as i64
    }
}

/// A Bot API `chat_id`: a number, or `@username` for public chats.
#[derive(Clone, Debug, PartialEq)]
pub enum ChatRef {
    Id(i64),
    Username(String),
}

/// Reads `chat_id` (required).
pub fn chat_ref(p: &Params) -> Result<ChatRef, ApiError> {
    let raw = p
        .str("chat_id")?
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::bad("chat_id is empty"))?;
    if let Some(name) = raw.strip_prefix('@') {
        return Ok(ChatRef::Username(name.to_ascii_lowercase()));
    }
    raw.parse()
        .map(ChatRef::Id)
        .map_err(|_| ApiError::bad("chat not found"))
}

pub const CHAT_NOT_FOUND: &str = "chat not found";

impl State {
    /// Now on the chats' clock: real time plus what `/control/clock` added.
    pub fn chat_now(&self) -> i64 {
        crate::state::now_unix() + self.clock_offset
    }

    /// The chat's id, if the bot is in it (a chat the bot is not in is "not found" to it).
    pub fn chat_id_for_bot(&self, r: &ChatRef) -> Result<i64, ApiError> {
        let found = self.chats.values().find(|c| match r {
            ChatRef::Id(id) => c.id == *id,
            ChatRef::Username(name) => c
                .username
                .as_deref()
                .is_some_and(|u| u.eq_ignore_ascii_case(name)),
        });
        match found {
            Some(c) if c.member(self.bot_id).is_in_chat() => Ok(c.id),
            Some(_) => Err(ApiError::bad(CHAT_NOT_FOUND)),
            None => match r {
                ChatRef::Id(id) if self.users.contains_key(id) => Err(ApiError::bad(
                    "method is available for supergroup and channel chats only",
                )),
                _ => Err(ApiError::bad(CHAT_NOT_FOUND)),
            },
        }
    }

    /// Whether the bot administers the chat with this right.
    pub fn bot_may(&self, chat_id: i64, right: &str) -> bool {
        self.chat(chat_id)
            .bot_rights(self.bot_id)
            .is_some_and(|r| r.has(right))
    }

    pub fn chat(&self, id: i64) -> &Chat {
        self.chats.get(&id).expect("looked up before")
    }

    pub fn chat_mut(&mut self, id: i64) -> &mut Chat {
        self.chats.get_mut(&id).expect("looked up before")
    }
}
