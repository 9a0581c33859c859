//! `ChatAdministratorRights`: which rights an administrator holds, read from the control API
//! or the configuration and written out as the Bot API's fields for the chat's type.

use std::collections::BTreeSet;

use serde_json::{json, Map, Value};

use super::ChatKind;

/// Rights every `ChatAdministratorRights` carries, in the spec's order.
const REQUIRED: &[&str] = &[
    "is_anonymous",
    "can_manage_chat",
    "can_delete_messages",
    "can_manage_video_chats",
    "can_restrict_members",
    "can_promote_members",
    "can_change_info",
    "can_invite_users",
    "can_post_stories",
    "can_edit_stories",
    "can_delete_stories",
];
/// Rights only channels have.
const CHANNEL_ONLY: &[&str] = &[
    "can_post_messages",
    "can_edit_messages",
    "can_manage_direct_messages",
];
/// Rights only supergroups have.
const SUPERGROUP_ONLY: &[&str] = &["can_pin_messages", "can_manage_topics", "can_manage_tags"];

/// The rights an administrator holds (the ones set to true).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Rights(BTreeSet<String>);

impl Rights {
    /// What a bot gets by default when made an administrator to sell access.
    pub fn access_seller() -> Rights {
        Rights::of(&[
            "can_manage_chat",
            "can_invite_users",
            "can_restrict_members",
        ])
    }

    pub fn of(names: &[&str]) -> Rights {
        Rights(names.iter().map(|n| n.to_string()).collect())
    }

    pub fn has(&self, name: &str) -> bool {
        self.0.contains(name)
    }

    /// `{"can_invite_users": true, …}`: unknown names and non-boolean values are refused so a
    /// typo in a test fails loudly instead of silently granting nothing.
    pub fn parse(v: &Value) -> Result<Rights, String> {
        let o = v
            .as_object()
            .ok_or("rights must be an object of booleans")?;
        let mut set = BTreeSet::new();
        for (k, v) in o {
            if !is_right(k) {
                return Err(format!("unknown administrator right {k:?}"));
            }
            match v.as_bool() {
                Some(true) => {
                    set.insert(k.clone());
                }
                Some(false) => {}
                None => return Err(format!("right {k:?} must be a boolean")),
            }
        }
        Ok(Rights(set))
    }

    /// `can_a+can_b` (the `--chat` option's form).
    pub fn parse_list(s: &str) -> Result<Rights, String> {
        let mut set = BTreeSet::new();
        for name in s.split('+').map(str::trim).filter(|n| !n.is_empty()) {
            if !is_right(name) {
                return Err(format!("unknown administrator right {name:?}"));
            }
            set.insert(name.to_string());
        }
        Ok(Rights(set))
    }

    /// The fields of `ChatAdministratorRights` for this chat type: every required one, and the
    /// type's optional ones. `can_manage_chat` is implied by any other right, as in Telegram.
    pub fn to_api(&self, kind: ChatKind) -> Map<String, Value> {
        let only = match kind {
            ChatKind::Channel => CHANNEL_ONLY,
            ChatKind::Supergroup => SUPERGROUP_ONLY,
        };
        let implied = self.0.iter().any(|r| r != "is_anonymous");
        REQUIRED
            .iter()
            .chain(only)
            .map(|name| {
                let on = self.has(name) || (*name == "can_manage_chat" && implied);
                (name.to_string(), json!(on))
            })
            .collect()
    }
}

fn is_right(name: &str) -> bool {
    REQUIRED
        .iter()
        .chain(CHANNEL_ONLY)
        .chain(SUPERGROUP_ONLY)
        .any(|r| *r == name)
}
