//! Everything the emulator remembers, in memory, behind one mutex.
//!
//! The mutex is a `std` one and is never held across an `.await`; whoever changes the update
//! queue, the webhook or a pending payment calls [`Ctx::bump`] so waiters (delivery loop,
//! long-polling `getUpdates`, `/control/wait`) look again.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::sync::{oneshot, watch};

use crate::chats::{Chat, JoinQuery};
use crate::config::Config;

pub fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A Telegram user as the emulator's client plays them.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct User {
    pub id: i64,
    pub first_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language_code: Option<String>,
    #[serde(default)]
    pub is_premium: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub photo_url: Option<String>,
}

impl User {
    /// A user the tests did not describe: named after the id so logs stay readable.
    pub fn placeholder(id: i64) -> User {
        User {
            id,
            first_name: format!("User{id}"),
            last_name: None,
            username: None,
            language_code: Some("en".into()),
            is_premium: false,
            photo_url: None,
        }
    }

    /// The Bot API `User` object (`is_premium` appears only when true, as Telegram does).
    pub fn to_api(&self) -> Value {
        let mut v = json!({"id": self.id, "is_bot": false, "first_name": self.first_name});
        let o = v.as_object_mut().expect("object");
        if let Some(s) = &self.last_name {
            o.insert("last_name".into(), json!(s));
        }
        if let Some(s) = &self.username {
            o.insert("username".into(), json!(s));
        }
        if let Some(s) = &self.language_code {
            o.insert("language_code".into(), json!(s));
        }
        if self.is_premium {
            o.insert("is_premium".into(), json!(true));
        }
        v
    }

    /// The private `Chat` object with this user.
    pub fn chat(&self) -> Value {
        let mut v = json!({"id": self.id, "type": "private", "first_name": self.first_name});
        let o = v.as_object_mut().expect("object");
        if let Some(s) = &self.last_name {
            o.insert("last_name".into(), json!(s));
        }
        if let Some(s) = &self.username {
            o.insert("username".into(), json!(s));
        }
        v
    }
}

/// The bot as `getMe` describes it.
pub fn bot_me(config: &Config) -> Value {
    json!({
        "id": config.bot_id(),
        "is_bot": true,
        "first_name": "tma-pay test bot",
        "username": "tma_pay_test_bot",
        "can_join_groups": true,
        "can_read_all_group_messages": false,
        "supports_inline_queries": false,
        "can_connect_to_business": false,
        "has_main_web_app": true,
        "supports_join_request_queries": true
    })
}

/// The bot as a `User` inside other objects (`Message.from`, `ChatMember.user`): the plain
/// fields only, without `getMe`'s capabilities.
pub fn bot_as_user(config: &Config) -> Value {
    let me = bot_me(config);
    json!({"id": me["id"], "is_bot": true, "first_name": me["first_name"], "username": me["username"]})
}

/// The user the client page starts as.
pub fn default_user() -> User {
    User {
        id: 10001,
        first_name: "Ada".into(),
        last_name: Some("Lovelace".into()),
        username: Some("ada".into()),
        language_code: Some("en".into()),
        is_premium: false,
        photo_url: None,
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Invoice {
    pub slug: String,
    pub link: String,
    pub title: String,
    pub description: String,
    pub payload: String,
    pub currency: String,
    pub prices: Vec<Value>,
    pub total_amount: i64,
    pub subscription_period: Option<i64>,
    pub provider_token: String,
    pub photo_url: Option<String>,
    /// Created through `/bot<token>/test/…`.
    pub test_env: bool,
    pub created: i64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Subscription {
    pub period: i64,
    pub expiration_date: i64,
    pub is_canceled: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct Charge {
    pub telegram_payment_charge_id: String,
    pub provider_payment_charge_id: String,
    pub user_id: i64,
    pub slug: String,
    pub currency: String,
    pub total_amount: i64,
    pub invoice_payload: String,
    pub date: i64,
    pub refunded: bool,
    pub subscription: Option<Subscription>,
    /// For a renewal: the charge that started the subscription.
    pub renews: Option<String>,
}

/// The bot's answer to a pre-checkout query.
#[derive(Debug)]
pub struct PreCheckoutAnswer {
    pub ok: bool,
    pub error_message: Option<String>,
}

pub struct PendingQuery {
    pub deadline: Instant,
    /// Taken when answered or when the payer gives up; a query without it cannot be answered.
    pub answer_tx: Option<oneshot::Sender<PreCheckoutAnswer>>,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum UpdateStatus {
    /// Waiting for the webhook or `getUpdates`.
    Pending,
    /// POSTed to the webhook, answered 2xx.
    Delivered,
    /// Handed out by `getUpdates`, not yet confirmed by a higher offset.
    Polled,
    /// Confirmed by a `getUpdates` offset.
    Confirmed,
    /// Not in `allowed_updates`: never sent (Telegram does not create it).
    Filtered,
    /// Removed by `drop_pending_updates`.
    Dropped,
}

#[derive(Clone, Debug, Serialize)]
pub struct Attempt {
    pub at_ms: i64,
    pub url: String,
    pub http_status: Option<u16>,
    pub error: Option<String>,
    pub response_body: Option<String>,
    /// Delay chosen before the next try, when this one failed.
    pub retry_in_ms: Option<u64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct UpdateRecord {
    pub update_id: i64,
    pub kind: String,
    pub update: Value,
    pub status: UpdateStatus,
    pub attempts: Vec<Attempt>,
    pub created_ms: i64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Webhook {
    pub url: String,
    pub secret_token: Option<String>,
    pub max_connections: i64,
    pub allowed_updates: Vec<String>,
    pub last_error_date: Option<i64>,
    pub last_error_message: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct CallRecord {
    pub seq: u64,
    pub at_ms: i64,
    pub method: String,
    /// `http`, `webhook_response` or `control`.
    pub via: String,
    pub test_env: bool,
    pub params: Value,
    /// The JSON body Telegram would answer (`{"ok":…}`).
    pub response: Value,
    pub http_status: u16,
    /// The injected fault kind, when `/control/faults` shaped this answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault: Option<String>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Fault {
    /// Bot API method name (case-insensitive) or `*`.
    pub method: String,
    /// `error`, `rate_limit`, `slow` or `drop`.
    pub kind: String,
    pub error_code: Option<u16>,
    pub description: Option<String>,
    pub retry_after: Option<u64>,
    pub delay_ms: Option<u64>,
    /// How many calls it hits; absent = until `DELETE /control/faults`.
    pub times: Option<u32>,
}

/// One Mini App launch: by the client page or a test (`/control/launch`), or opened for a
/// join request by `sendChatJoinRequestWebApp`.
#[derive(Clone, Debug, Serialize)]
pub struct LaunchRecord {
    pub seq: u64,
    pub at_ms: i64,
    pub user_id: i64,
    /// `menu` (`/control/launch`) or `chat_join_request`.
    pub source: String,
    pub app_url: String,
    pub url: String,
    pub init_data: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chat_join_request_query_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chat_id: Option<i64>,
}

/// The affiliate who referred a buyer, and the commission the program pays them.
#[derive(Debug, Clone, Serialize)]
pub struct Affiliate {
    pub affiliate_user_id: i64,
    /// Stars to the affiliate for each 1000 Stars the bot receives from the buyer.
    pub commission_per_mille: i64,
}

#[derive(Default)]
pub struct State {
    pub users: BTreeMap<i64, User>,
    /// Every message of every private chat, both directions, in order.
    pub messages: Vec<Value>,
    pub next_message_id: i64,
    pub invoices: HashMap<String, Invoice>,
    pub charges: Vec<Charge>,
    pub star_transactions: Vec<Value>,
    /// Buyers who came through an affiliate of the bot's affiliate program, by user id:
    /// their Stars payments give the affiliate a commission (`/control/affiliates`).
    pub affiliates: HashMap<i64, Affiliate>,
    pub queries: HashMap<String, PendingQuery>,
    pub updates: Vec<UpdateRecord>,
    pub next_update_id: i64,
    pub webhook: Option<Webhook>,
    /// The bot-wide filter when no webhook is set (last `getUpdates` `allowed_updates`).
    pub poll_allowed_updates: Vec<String>,
    pub calls: Vec<CallRecord>,
    pub next_call_seq: u64,
    pub faults: Vec<Fault>,
    /// The bot's command lists by `(scope, language_code)`: see `botapi::commands`.
    pub commands: BTreeMap<(String, String), Value>,
    pub default_menu_button: Option<Value>,
    pub chat_menu_buttons: HashMap<i64, Value>,
    /// Update being POSTed right now.
    pub delivering: Option<i64>,
    /// Payments waiting for the bot's pre-checkout answer.
    pub payments_in_flight: usize,
    /// The bot's id and its plain `User` object.
    pub bot_id: i64,
    pub bot_user: Value,
    /// Channels and supergroups, by id.
    pub chats: BTreeMap<i64, Chat>,
    /// Join request queries (guard bot), by id, kept after they are answered.
    pub join_queries: HashMap<String, JoinQuery>,
    /// Seconds `/control/clock` moved the chats' clock forward.
    pub clock_offset: i64,
    pub launches: Vec<LaunchRecord>,
    /// Kept across resets, like `next_update_id`, so a page watching for new launches is not
    /// fooled by numbers starting over.
    pub next_launch_seq: u64,
    /// The TON chain and the wallet's sessions with apps.
    pub ton: crate::ton::TonState,
}

/// Update types a bot gets when `allowed_updates` is empty.
const NOT_BY_DEFAULT: &[&str] = &["chat_member", "message_reaction", "message_reaction_count"];

impl State {
    pub fn new(config: &Config, first_update_id: i64) -> State {
        let mut s = State {
            next_message_id: 1,
            next_update_id: first_update_id,
            bot_id: config.bot_id(),
            bot_user: bot_as_user(config),
            ton: crate::ton::TonState::new(&config.ton),
            ..State::default()
        };
        let u = default_user();
        s.users.insert(u.id, u);
        for spec in &config.chats {
            s.user(spec.owner_id);
            s.chats.insert(spec.id, spec.build(s.bot_id));
        }
        if let Some(url) = &config.webhook_url {
            s.webhook = Some(Webhook {
                url: url.clone(),
                secret_token: config.webhook_secret.clone(),
                max_connections: 40,
                allowed_updates: Vec::new(),
                last_error_date: None,
                last_error_message: None,
            });
        }
        s
    }

    /// The user with this id, made up on first sight so tests need not register users.
    pub fn user(&mut self, id: i64) -> User {
        self.users
            .entry(id)
            .or_insert_with(|| User::placeholder(id))
            .clone()
    }

    fn allows(&self, kind: &str) -> bool {
        let list = match &self.webhook {
            Some(w) => &w.allowed_updates,
            None => &self.poll_allowed_updates,
        };
        if list.is_empty() {
            !NOT_BY_DEFAULT.contains(&kind)
        } else {
            list.iter().any(|k| k == kind)
        }
    }

    /// Queues `{"update_id": n, kind: payload}`; returns its update_id.
    pub fn push_update(&mut self, kind: &str, payload: Value) -> i64 {
        let id = self.next_update_id;
        self.next_update_id += 1;
        let status = if self.allows(kind) {
            UpdateStatus::Pending
        } else {
            UpdateStatus::Filtered
        };
        let mut update = serde_json::Map::new();
        update.insert("update_id".into(), json!(id));
        update.insert(kind.into(), payload);
        self.updates.push(UpdateRecord {
            update_id: id,
            kind: kind.into(),
            update: Value::Object(update),
            status,
            attempts: Vec::new(),
            created_ms: now_ms(),
        });
        id
    }

    pub fn pending_count(&self) -> usize {
        self.updates
            .iter()
            .filter(|u| u.status == UpdateStatus::Pending)
            .count()
    }

    pub fn drop_pending(&mut self) {
        for u in &mut self.updates {
            if u.status == UpdateStatus::Pending {
                u.status = UpdateStatus::Dropped;
            }
        }
    }

    /// Stores a message in its chat and returns it with a fresh message_id.
    pub fn add_message(&mut self, mut message: Value) -> Value {
        message["message_id"] = json!(self.next_message_id);
        self.next_message_id += 1;
        self.messages.push(message.clone());
        message
    }

    pub fn charge_mut(&mut self, id: &str) -> Option<&mut Charge> {
        self.charges
            .iter_mut()
            .find(|c| c.telegram_payment_charge_id == id)
    }
}

/// Shared by every handler and background task.
pub struct Ctx {
    pub config: Config,
    pub http: reqwest::Client,
    state: Mutex<State>,
    changed: watch::Sender<u64>,
}

impl Ctx {
    pub fn new(config: Config) -> Ctx {
        // Start update ids from the clock (centiseconds, kept below 2^31) so a bot that stored
        // the ids it processed does not mistake a restarted emulator's updates for duplicates.
        let first_update_id = 1 + (now_ms() / 10) % 2_000_000_000;
        let state = State::new(&config, first_update_id);
        let http = reqwest::Client::builder()
            .timeout(config.webhook_timeout)
            .build()
            .expect("http client");
        Ctx {
            config,
            http,
            state: Mutex::new(state),
            changed: watch::channel(0).0,
        }
    }

    pub fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves plain data behind; keep serving it.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` on the state, then wakes everyone waiting for a change.
    pub fn mutate<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let out = f(&mut self.lock());
        self.bump();
        out
    }

    pub fn bump(&self) {
        self.changed.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// A receiver whose `changed()` resolves after the next `bump`.
    pub fn watch(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }

    /// Back to the start state; the update id and launch counters keep increasing (see `new`).
    pub fn reset(&self) {
        self.mutate(|s| {
            let next = s.next_update_id;
            let launch_seq = s.next_launch_seq;
            for q in s.queries.values_mut() {
                q.answer_tx.take();
            }
            *s = State::new(&self.config, next);
            s.next_launch_seq = launch_seq;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowed_updates_filter_applies_at_creation() {
        let mut s = State::new(&Config::default(), 1);
        s.poll_allowed_updates = vec!["pre_checkout_query".into()];
        let a = s.push_update("message", json!({}));
        let b = s.push_update("pre_checkout_query", json!({}));
        assert_eq!(s.updates[0].status, UpdateStatus::Filtered);
        assert_eq!(s.updates[1].status, UpdateStatus::Pending);
        assert_eq!(b, a + 1);
        s.poll_allowed_updates.clear();
        s.push_update("message_reaction", json!({}));
        assert_eq!(s.updates[2].status, UpdateStatus::Filtered);
        assert_eq!(s.pending_count(), 1);
    }
}
