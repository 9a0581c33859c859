//! Messages the bot owes somebody: the goods to a buyer, a notice to the
//! operator. They are stored before they are sent, so a failed send is retried
//! by the scheduled job instead of being lost.
//!
//! Each message has a deterministic id (`delivery:<order>`,
//! `notice:paid:<charge>:<chat>`, …): queueing it again is a no-op, so a
//! redelivered update can repair a missed queueing without sending twice.
//! Sending takes a lease (the store moves the next attempt past [`LEASE`]), so
//! the webhook and the scheduled job never send the same message at once.
//!
//! The bot's Bot API quota is shared by every message: when Telegram asks the
//! bot to wait (429 with `retry_after`), the courier sends nothing more of its
//! batch and puts the rest off until then ([`Settle::Deferred`]), and every
//! retry time is [`spread`] over a few seconds by the message's id, so a burst
//! that failed together does not come back in the same second.

use sha2::{Digest, Sha256};

use super::catalog::{Delivery, Product};
use super::order::Order;
use crate::i18n::Lang;
use crate::telegram::client::BotError;
use crate::telegram::types::{InlineKeyboard, SendDocument, SendMessage};

/// How long a sender owns a message before somebody else may try it.
pub const LEASE: u64 = 120;
/// Attempts before a message is given up (about a day of back-off).
pub const MAX_ATTEMPTS: u32 = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The goods, to a buyer.
    Delivery,
    /// A message to an operator or a prospective buyer.
    Notice,
    /// Access to a chat: a personal invite link, an answered join request
    /// query, or a removal (see `shop::access`).
    Access,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Delivery => "delivery",
            Kind::Notice => "notice",
            Kind::Access => "access",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        match s {
            "delivery" => Some(Kind::Delivery),
            "notice" => Some(Kind::Notice),
            "access" => Some(Kind::Access),
            _ => None,
        }
    }
}

/// One Bot API call to make once.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    pub id: String,
    pub kind: Kind,
    pub order_id: Option<String>,
    pub chat_id: i64,
    /// `sendMessage` or `sendDocument`.
    pub method: String,
    /// The call's JSON parameters.
    pub params: String,
}

/// A stored message with its sending state.
#[derive(Debug, Clone, PartialEq)]
pub struct Queued {
    pub message: Outgoing,
    /// Attempts so far, counting the one in progress.
    pub attempts: u32,
}

/// A queued message with where it stands, for the operator's views.
#[derive(Debug, Clone, PartialEq)]
pub struct Tracked {
    pub message: Outgoing,
    /// `pending`, `sent` or `failed`.
    pub status: String,
    pub attempts: u32,
    pub last_error: Option<String>,
    /// When it was sent; none before, and on KV entries sent before it was kept.
    pub sent_at: Option<u64>,
}

/// What a send attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settle {
    Sent,
    /// Try again at this time.
    Retry {
        at: u64,
        error: String,
    },
    /// Stop trying.
    Failed {
        error: String,
    },
    /// Not attempted (Telegram asked the bot to wait): try at this time, and
    /// the lease's attempt does not count.
    Deferred {
        at: u64,
    },
}

/// Seconds over which the retries of one burst are spread.
pub const SPREAD: u64 = 30;

/// The message's offset within [`SPREAD`], from its id: the same on every
/// run (so a test can predict it), different between messages.
pub fn spread(id: &str) -> u64 {
    let digest = Sha256::digest(id.as_bytes());
    let first: [u8; 8] = digest[..8].try_into().expect("8 of 32 bytes");
    u64::from_be_bytes(first) % SPREAD
}

/// How long Telegram asked the bot to wait, when it did (429, or any answer
/// with `retry_after`): at least a second.
pub fn flood_wait(err: &BotError) -> Option<u64> {
    match err {
        BotError::Api {
            error_code: 429,
            retry_after,
            ..
        } => Some(retry_after.unwrap_or(1).max(1)),
        BotError::Api {
            retry_after: Some(s),
            ..
        } => Some((*s).max(1)),
        _ => None,
    }
}

/// Back-off after `attempts` failed attempts: 1, 2, 4 … minutes, at most 6 h.
pub fn backoff(attempts: u32) -> u64 {
    (60u64 << attempts.saturating_sub(1).min(9)).min(6 * 3600)
}

/// How a failed send settles. The user blocking the bot or an unknown chat
/// will not heal by retrying; flood control says when to come back.
pub fn after_failure(err: &BotError, attempts: u32, now: u64) -> Settle {
    let error = err.to_string();
    let permanent = match err {
        BotError::Api {
            error_code: 403, ..
        } => true,
        BotError::Api {
            error_code: 400,
            description,
            ..
        } => !description.contains("Too Many Requests"),
        _ => false,
    };
    if permanent || attempts >= MAX_ATTEMPTS {
        return Settle::Failed { error };
    }
    let wait = match err {
        BotError::Api {
            retry_after: Some(s),
            ..
        } => (*s).max(1),
        _ => backoff(attempts),
    };
    Settle::Retry {
        at: now + wait,
        error,
    }
}

/// The goods for a paid `order`, with the receipt first, in the buyer's `lang`.
pub fn delivery(order: &Order, product: &Product, receipt: &str, lang: Lang) -> Option<Outgoing> {
    let d: &Delivery = product.delivery.as_ref()?;
    let body = match &d.text {
        Some(t) => format!("{receipt}\n\n{}", t.get(lang)),
        None => receipt.to_owned(),
    };
    let button = d
        .url
        .as_deref()
        .map(|url| InlineKeyboard::link(lang.text("goods.open"), url));
    let (method, params) = match &d.document {
        Some(doc) => (
            "sendDocument",
            to_json(&SendDocument {
                chat_id: order.user_id,
                document: doc.clone(),
                caption: body,
                reply_markup: button,
            }),
        ),
        None => (
            "sendMessage",
            to_json(&SendMessage {
                chat_id: order.user_id,
                text: body,
                reply_markup: button,
            }),
        ),
    };
    Some(Outgoing {
        id: format!("delivery:{}", order.id),
        kind: Kind::Delivery,
        order_id: Some(order.id.clone()),
        chat_id: order.user_id,
        method: method.into(),
        params,
    })
}

/// A plain text notice to an operator chat. `key` makes it unique
/// (e.g. `paid:<charge>`).
pub fn notice(key: &str, chat_id: i64, text: &str, order_id: Option<&str>) -> Outgoing {
    let params = SendMessage {
        chat_id,
        text: text.into(),
        reply_markup: None,
    };
    Outgoing {
        id: format!("notice:{key}:{chat_id}"),
        kind: Kind::Notice,
        order_id: order_id.map(str::to_owned),
        chat_id,
        method: "sendMessage".into(),
        params: to_json(&params),
    }
}

fn to_json(params: &impl serde::Serialize) -> String {
    serde_json::to_string(params).expect("Bot API parameters serialize")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shop::catalog::Text;
    use crate::telegram::client::TransportError;
    use serde_json::{json, Value};

    fn api(code: i64, description: &str, retry_after: Option<u64>) -> BotError {
        BotError::Api {
            error_code: code,
            description: description.into(),
            retry_after,
        }
    }

    #[test]
    fn backoff_doubles_up_to_six_hours() {
        assert_eq!([1, 2, 3].map(backoff), [60, 120, 240], "1, 2, 4 minutes");
        assert_eq!(backoff(30), 6 * 3600);
    }

    #[test]
    fn spread_is_fixed_per_id_and_covers_the_window() {
        assert_eq!(spread("delivery:o1"), spread("delivery:o1"));
        let offsets: std::collections::HashSet<u64> = (0..200)
            .map(|i| spread(&format!("delivery:o{i}")))
            .collect();
        assert!(offsets.iter().all(|s| *s < SPREAD));
        // 200 ids land on most of the 30 seconds, not on one.
        assert!(offsets.len() > SPREAD as usize * 2 / 3, "{offsets:?}");
    }

    #[test]
    fn telegram_asking_to_wait_is_told_apart() {
        assert_eq!(flood_wait(&api(429, "Too Many Requests", Some(7))), Some(7));
        assert_eq!(flood_wait(&api(429, "Too Many Requests", None)), Some(1));
        assert_eq!(flood_wait(&api(429, "Too Many Requests", Some(0))), Some(1));
        assert_eq!(flood_wait(&api(400, "Too Many Requests", Some(3))), Some(3));
        assert_eq!(flood_wait(&api(500, "Internal", None)), None);
        assert_eq!(
            flood_wait(&BotError::Transport(TransportError::Timeout)),
            None
        );
    }

    #[test]
    fn failures_retry_unless_they_cannot_heal() {
        let now = 1000;
        assert_eq!(
            after_failure(&BotError::Transport(TransportError::Timeout), 1, now),
            Settle::Retry {
                at: now + 60,
                error: "Telegram did not answer in time".into()
            }
        );
        let flood = after_failure(
            &api(429, "Too Many Requests: retry after 7", Some(7)),
            3,
            now,
        );
        assert!(matches!(flood, Settle::Retry { at, .. } if at == now + 7));
        let blocked = api(403, "Forbidden: bot was blocked by the user", None);
        assert!(matches!(
            after_failure(&blocked, 1, now),
            Settle::Failed { .. }
        ));
        assert!(matches!(
            after_failure(&api(400, "Bad Request: chat not found", None), 1, now),
            Settle::Failed { .. }
        ));
        assert!(matches!(
            after_failure(&api(500, "Internal Server Error", None), MAX_ATTEMPTS, now),
            Settle::Failed { .. }
        ));
    }

    fn product(delivery: Option<Delivery>) -> Product {
        Product {
            delivery,
            ..Product::stars("p", 5, None)
        }
    }

    #[test]
    fn deliveries_carry_the_receipt_and_the_goods() {
        let order = Order::new("o1".into(), 7, &product(None), 0);
        assert_eq!(delivery(&order, &product(None), "R", Lang::EN), None);
        let text = product(Some(Delivery {
            text: Some("code 42".into()),
            url: Some("https://x/y".into()),
            document: None,
        }));
        let m = delivery(&order, &text, "Paid.", Lang::EN).unwrap();
        assert_eq!(
            (m.id.as_str(), m.method.as_str(), m.chat_id),
            ("delivery:o1", "sendMessage", 7)
        );
        let p: Value = serde_json::from_str(&m.params).unwrap();
        assert_eq!(p["text"], "Paid.\n\ncode 42");
        assert_eq!(
            p["reply_markup"]["inline_keyboard"][0][0]["url"],
            "https://x/y"
        );
        let doc = product(Some(Delivery {
            text: None,
            url: None,
            document: Some("BQAC".into()),
        }));
        let m = delivery(&order, &doc, "Paid.", Lang::EN).unwrap();
        let p: Value = serde_json::from_str(&m.params).unwrap();
        assert_eq!(
            (m.method.as_str(), &p["document"], &p["caption"]),
            ("sendDocument", &json!("BQAC"), &json!("Paid."))
        );
    }

    #[test]
    fn the_goods_come_in_the_buyers_language() {
        let order = Order::new("o1".into(), 7, &product(None), 0);
        let goods = product(Some(Delivery {
            text: Some(Text::ByLanguage(vec![
                ("en".into(), "code 42".into()),
                ("zh".into(), "兑换码 42".into()),
            ])),
            url: Some("https://x/y".into()),
            document: None,
        }));
        let zh = delivery(&order, &goods, "已付款。", Lang::ZH).unwrap();
        let p: Value = serde_json::from_str(&zh.params).unwrap();
        assert_eq!(p["text"], "已付款。\n\n兑换码 42");
        assert_eq!(p["reply_markup"]["inline_keyboard"][0][0]["text"], "打开");
        let en = delivery(&order, &goods, "Paid.", Lang::EN).unwrap();
        let p: Value = serde_json::from_str(&en.params).unwrap();
        assert_eq!(p["text"], "Paid.\n\ncode 42");
        assert_eq!(p["reply_markup"]["inline_keyboard"][0][0]["text"], "Open");
    }

    #[test]
    fn notices_are_keyed_per_chat() {
        let a = notice("paid:c1", 1, "hi", Some("o1"));
        let b = notice("paid:c1", 2, "hi", Some("o1"));
        assert_eq!(a.id, "notice:paid:c1:1");
        assert_ne!(a.id, b.id);
    }
}
