//! Chats described up front, by `--chat` at start (and again after `/control/reset`) or by
//! `POST /control/chats`: checked once into a [`ChatSpec`], then built into a [`Chat`].

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use super::{Chat, ChatKind, Member, Rights, Status};
use crate::ids;

/// The owner of a chat whose description names none.
pub const DEFAULT_OWNER_ID: i64 = 10000;

/// The bot's place in a chat.
#[derive(Clone, Debug, PartialEq)]
pub enum BotRole {
    Administrator(Rights),
    Member,
    Absent,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ChatSpec {
    pub id: i64,
    pub kind: ChatKind,
    pub title: String,
    pub username: Option<String>,
    pub owner_id: i64,
    pub bot: BotRole,
    /// The bot processes join requests (they carry a `query_id`).
    pub guard_bot: bool,
}

impl ChatSpec {
    /// A channel owned by [`DEFAULT_OWNER_ID`] where the bot may invite and remove users.
    pub fn new(id: i64, title: &str) -> ChatSpec {
        ChatSpec {
            id,
            kind: ChatKind::Channel,
            title: title.to_string(),
            username: None,
            owner_id: DEFAULT_OWNER_ID,
            bot: BotRole::Administrator(Rights::access_seller()),
            guard_bot: false,
        }
    }

    /// Telegram's rules for the chat itself; the bot's id is needed so it is not the owner.
    pub fn validate(&self, bot_id: i64) -> Result<(), String> {
        let text = self.id.to_string();
        if !(text.len() > 4 && text.starts_with("-100")) {
            return Err(format!(
                "chat id {} must be -100 followed by digits, as channel and supergroup ids are",
                self.id
            ));
        }
        let n = self.title.chars().count();
        if n == 0 || n > 128 {
            return Err("title must be 1-128 characters".into());
        }
        if let Some(u) = &self.username {
            let ok = (4..=32).contains(&u.len())
                && u.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                && u.as_bytes()[0].is_ascii_alphabetic();
            if !ok {
                return Err(format!(
                    "username {u:?} must be 4-32 of A-Z a-z 0-9 _, starting with a letter"
                ));
            }
        }
        if self.owner_id <= 0 || self.owner_id == bot_id {
            return Err("owner_id must be a user's id (not the bot's)".into());
        }
        if self.kind == ChatKind::Channel && self.bot == BotRole::Member {
            return Err("in a channel a bot can only be an administrator (or absent)".into());
        }
        Ok(())
    }

    /// `--chat <id>:<title>[:<options>]`; options are comma-separated: `channel` or
    /// `supergroup`, `owner=<user id>`, `bot=admin|member|none`, `rights=<right>+<right>…`
    /// (the bot's, when an administrator), `username=<name>`, `guard` (the bot is the guard bot).
    pub fn parse_flag(text: &str) -> Result<ChatSpec, String> {
        let mut parts = text.splitn(3, ':');
        let id_text = parts.next().unwrap_or("").trim();
        let id: i64 = id_text
            .parse()
            .map_err(|_| format!("--chat {text}: {id_text:?} is not a chat id"))?;
        let title = parts.next().unwrap_or("").trim();
        let mut spec = ChatSpec::new(id, title);
        let mut rights = None;
        let mut role = "admin";
        for opt in parts.next().unwrap_or("").split(',').map(str::trim) {
            let (key, value) = opt.split_once('=').unwrap_or((opt, ""));
            match key {
                "" => {}
                "channel" => spec.kind = ChatKind::Channel,
                "supergroup" => spec.kind = ChatKind::Supergroup,
                "guard" => spec.guard_bot = true,
                "owner" => {
                    spec.owner_id = value
                        .parse()
                        .map_err(|_| format!("--chat {text}: owner must be a user id"))?
                }
                "username" => spec.username = Some(value.to_string()),
                "bot" => role = value,
                "rights" => {
                    rights =
                        Some(Rights::parse_list(value).map_err(|e| format!("--chat {text}: {e}"))?)
                }
                _ => return Err(format!("--chat {text}: unknown option {opt:?}")),
            }
        }
        spec.bot = match (role, rights) {
            ("admin", r) => BotRole::Administrator(r.unwrap_or_else(Rights::access_seller)),
            ("member", None) => BotRole::Member,
            ("none", None) => BotRole::Absent,
            ("member" | "none", Some(_)) => {
                return Err(format!("--chat {text}: rights need bot=admin"))
            }
            (other, _) => {
                return Err(format!(
                    "--chat {text}: bot must be admin, member or none, not {other:?}"
                ))
            }
        };
        Ok(spec)
    }

    pub fn build(&self, bot_id: i64) -> Chat {
        let mut members = BTreeMap::new();
        members.insert(self.owner_id, Member::new(self.owner_id, Status::Creator));
        let bot = match &self.bot {
            BotRole::Administrator(r) => Some(Member {
                rights: r.clone(),
                ..Member::new(bot_id, Status::Administrator)
            }),
            BotRole::Member => Some(Member::new(bot_id, Status::Member)),
            BotRole::Absent => None,
        };
        if let Some(b) = bot {
            members.insert(bot_id, b);
        }
        Chat {
            id: self.id,
            kind: self.kind,
            title: self.title.clone(),
            username: self.username.clone(),
            owner_id: self.owner_id,
            guard_bot: self.guard_bot,
            members,
            links: Vec::new(),
            requests: Vec::new(),
            revenue: Vec::new(),
        }
    }
}

/// `POST /control/chats`: a chat described in JSON (see the README for the fields).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatBody {
    pub id: Option<i64>,
    #[serde(rename = "type")]
    pub kind: Option<ChatKind>,
    pub title: String,
    pub username: Option<String>,
    pub owner_id: Option<i64>,
    /// `administrator` (default), `member` or `left`.
    pub bot_status: Option<String>,
    pub bot_rights: Option<Value>,
    pub guard_bot: Option<bool>,
}

impl ChatBody {
    /// The description, with a fresh `-100…` id when none was given.
    pub fn into_spec(self) -> Result<ChatSpec, String> {
        let id = match self.id {
            Some(id) => id,
            None => format!("-100{}", ids::digits(10)).parse().expect("digits"),
        };
        let rights = self.bot_rights.as_ref().map(Rights::parse).transpose()?;
        let bot = match (
            self.bot_status.as_deref().unwrap_or("administrator"),
            rights,
        ) {
            ("administrator", r) => BotRole::Administrator(r.unwrap_or_else(Rights::access_seller)),
            ("member", None) => BotRole::Member,
            ("left", None) => BotRole::Absent,
            ("member" | "left", Some(_)) => {
                return Err("bot_rights need bot_status administrator".into())
            }
            (other, _) => {
                return Err(format!(
                    "bot_status must be administrator, member or left, not {other:?}"
                ))
            }
        };
        Ok(ChatSpec {
            id,
            kind: self.kind.unwrap_or(ChatKind::Channel),
            title: self.title,
            username: self.username,
            owner_id: self.owner_id.unwrap_or(DEFAULT_OWNER_ID),
            bot,
            guard_bot: self.guard_bot.unwrap_or(false),
        })
    }
}
