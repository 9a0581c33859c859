//! Access to private chats as goods: who holds it, when it ends, and the work
//! it makes the bot owe (a personal invite link, an answered join request
//! query, a removal), queued in the outbox like every other message owed.
//!
//! - A one-time product grants access while its order is `paid`; a subscription
//!   while its `subscription_expiration_date` is in the future.
//! - Access ends for good when the order is refunded, or when a subscription
//!   lapsed more than the grace period ago (`ACCESS_GRACE`); then the member is
//!   removed, once, unless another product still grants the same chat.
//! - Products sold through Telegram's own subscription links
//!   (`telegram_subscription`) are Telegram's to bill and to remove.

use serde::{Deserialize, Serialize};

use super::catalog::{Catalog, Product};
use super::checkout::format_price;
use super::order::{Order, OrderStatus};
use super::outbox::{Kind, Outgoing};
use crate::i18n::Lang;
use crate::telegram::types::{InlineKeyboard, SendMessage};

/// The bot's composite calls for access, carried out by the courier.
pub const GRANT: &str = "grantAccess";
pub const REMOVE: &str = "removeAccess";

/// The product of `order`, when it lets its buyer into a chat itself (not
/// through Telegram's subscription link).
pub fn product_of<'a>(catalog: &'a Catalog, order: &Order) -> Option<&'a Product> {
    catalog
        .get(&order.product_id)
        .filter(|p| p.access.as_ref().is_some_and(|a| !a.telegram_subscription))
}

/// The chat `order` lets its buyer into, if any.
pub fn chat_of(catalog: &Catalog, order: &Order) -> Option<i64> {
    Some(product_of(catalog, order)?.access.as_ref()?.chat_id)
}

/// Whether `order` grants access at `now`.
pub fn grants_now(order: &Order, now: u64) -> bool {
    order.status == OrderStatus::Paid
        && order
            .subscription_expiration_date
            .is_none_or(|until| until > now as i64)
}

/// Which of one user's `orders` grants access to `chat_id` at `now`: the paid
/// one that lasts longest (a one-time purchase lasts for ever).
pub fn granting<'a>(
    catalog: &Catalog,
    orders: &'a [Order],
    chat_id: i64,
    now: u64,
) -> Option<&'a Order> {
    orders
        .iter()
        .filter(|o| chat_of(catalog, o) == Some(chat_id) && grants_now(o, now))
        .max_by_key(|o| o.subscription_expiration_date.unwrap_or(i64::MAX))
}

/// Why access ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ended {
    Refunded,
    Lapsed,
}

/// Whether the access `order` granted has ended for good at `now`: refunded,
/// or a subscription lapsed more than `grace` seconds ago.
pub fn ended(order: &Order, now: u64, grace: u64) -> Option<Ended> {
    match (order.status, order.subscription_expiration_date) {
        (OrderStatus::Refunded, _) => Some(Ended::Refunded),
        (OrderStatus::Paid, Some(until)) if until.saturating_add(grace as i64) < now as i64 => {
            Some(Ended::Lapsed)
        }
        _ => None,
    }
}

/// What the courier needs to let a buyer in: a personal invite link that
/// asks to join (so only the buyer gets through), then a message with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Grant {
    pub chat_id: i64,
    pub user_id: i64,
    pub order_id: String,
    pub product_id: String,
    /// The page, for the buttons in later messages (e.g. after a removal).
    pub app_url: String,
    /// The buyer's language, for the message with the link.
    #[serde(default)]
    pub lang: Lang,
}

/// What the courier needs to remove a member whose access ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Removal {
    pub chat_id: i64,
    pub user_id: i64,
    pub order_id: String,
    pub product_id: String,
    pub ended: Ended,
    pub app_url: String,
    /// The buyer's language (the order's), for the message that says why.
    #[serde(default)]
    pub lang: Lang,
}

fn to_json(params: &impl Serialize) -> String {
    serde_json::to_string(params).expect("access parameters serialize")
}

/// The grant a paid `order` of `product` owes: once per order. Its message
/// will be in `lang`, the buyer's.
pub fn grant(order: &Order, product: &Product, app_url: &str, lang: Lang) -> Option<Outgoing> {
    let access = product
        .access
        .as_ref()
        .filter(|a| !a.telegram_subscription)?;
    let params = Grant {
        chat_id: access.chat_id,
        user_id: order.user_id,
        order_id: order.id.clone(),
        product_id: product.id.clone(),
        app_url: app_url.to_owned(),
        lang,
    };
    Some(Outgoing {
        id: format!("access:{}", order.id),
        kind: Kind::Access,
        order_id: Some(order.id.clone()),
        chat_id: order.user_id,
        method: GRANT.into(),
        params: to_json(&params),
    })
}

/// The removal an ended access owes: once per order and cause (a renewed and
/// later lapsed subscription is removed again, with its new end date).
pub fn removal(order: &Order, chat_id: i64, why: Ended, app_url: &str) -> Outgoing {
    let cause = match why {
        Ended::Refunded => "refunded".to_owned(),
        Ended::Lapsed => format!("lapsed:{}", order.subscription_expiration_date.unwrap_or(0)),
    };
    let params = Removal {
        chat_id,
        user_id: order.user_id,
        order_id: order.id.clone(),
        product_id: order.product_id.clone(),
        ended: why,
        app_url: app_url.to_owned(),
        lang: order.language,
    };
    Outgoing {
        id: format!("removal:{}:{cause}", order.id),
        kind: Kind::Access,
        order_id: Some(order.id.clone()),
        chat_id: order.user_id,
        method: REMOVE.into(),
        params: to_json(&params),
    }
}

/// `answerChatJoinRequestQuery` parameters.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct QueryAnswer<'a> {
    pub chat_join_request_query_id: &'a str,
    /// `approve`, `decline` or `queue`.
    pub result: &'static str,
}

/// Approving the join request query the buyer bought from, once paid.
pub fn approve_query(order: &Order) -> Option<Outgoing> {
    let query = order.join_request_query_id.as_deref()?;
    let params = QueryAnswer {
        chat_join_request_query_id: query,
        result: "approve",
    };
    Some(Outgoing {
        id: format!("join:{}", order.id),
        kind: Kind::Access,
        order_id: Some(order.id.clone()),
        chat_id: order.user_id,
        method: "answerChatJoinRequestQuery".into(),
        params: to_json(&params),
    })
}

/// The page opened on `product`.
pub fn product_page(app_url: &str, product: &Product) -> String {
    let mut url = url::Url::parse(app_url).expect("the page's URL is a URL");
    url.query_pairs_mut().append_pair("product", &product.id);
    url.into()
}

/// What a requester who holds no access is told, in their `lang`: the
/// product, its price and a button that opens the page on it. `update_id`
/// makes it once per request.
pub fn offer(
    product: &Product,
    user_chat_id: i64,
    app_url: &str,
    update_id: i64,
    lang: Lang,
) -> Outgoing {
    let price = format_price(&product.currency, product.amount);
    let args = [
        ("title", product.title.get(lang)),
        ("price", &price),
        ("description", product.description.get(lang)),
    ];
    let params = SendMessage {
        chat_id: user_chat_id,
        text: lang.fill("access.offer", &args),
        reply_markup: Some(InlineKeyboard::web_app(
            &lang.fill("bot.buy_for", &[("price", &price)]),
            &product_page(app_url, product),
        )),
    };
    Outgoing {
        id: format!("offer:{update_id}"),
        kind: Kind::Notice,
        order_id: None,
        chat_id: user_chat_id,
        method: "sendMessage".into(),
        params: to_json(&params),
    }
}

/// The message that carries a buyer's personal link, in their `lang`.
pub fn granted_message(
    user_id: i64,
    product: &Product,
    invite_link: &str,
    lang: Lang,
) -> SendMessage {
    SendMessage {
        chat_id: user_id,
        text: lang.fill("access.granted", &[("title", product.title.get(lang))]),
        reply_markup: Some(InlineKeyboard::link(lang.text("access.join"), invite_link)),
    }
}

/// The message that tells a removed member why, with a way back, in the
/// buyer's language.
pub fn removed_message(r: &Removal, product: Option<&Product>) -> SendMessage {
    let lang = r.lang;
    let why = lang.text(match r.ended {
        Ended::Refunded => "access.why_refunded",
        Ended::Lapsed => "access.why_lapsed",
    });
    let text = match product {
        Some(p) => lang.fill(
            "access.ended",
            &[("title", p.title.get(lang)), ("why", why)],
        ),
        None => lang.fill("access.ended_chat", &[("why", why)]),
    };
    SendMessage {
        chat_id: r.user_id,
        text,
        reply_markup: product.map(|p| {
            InlineKeyboard::web_app(lang.text("access.buy_again"), &product_page(&r.app_url, p))
        }),
    }
}

/// A buyer's personal invite link to an access chat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessLink {
    pub order_id: String,
    pub chat_id: i64,
    pub user_id: i64,
    pub invite_link: String,
    /// The page, for the "buy again" button when access ends.
    pub app_url: String,
    pub created_at: u64,
    /// Set once the member was removed (or never let in) and the link revoked.
    pub revoked_at: Option<u64>,
}

/// A member of an access chat as the last `chat_member` update left them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub chat_id: i64,
    pub user_id: i64,
    /// `creator`, `administrator`, `member`, `restricted`, `left` or `kicked`.
    pub status: String,
    /// For members who joined through a subscription link: paid until then.
    pub until_date: Option<i64>,
    /// The update's date: an older update never overwrites a newer one.
    pub updated_at: u64,
}

impl Member {
    /// In the chat now (a restricted member is still in it).
    pub fn is_in(&self) -> bool {
        matches!(
            self.status.as_str(),
            "creator" | "administrator" | "member" | "restricted"
        )
    }
}

/// Chat statuses the bot never removes.
pub fn is_staff(status: &str) -> bool {
    matches!(status, "creator" | "administrator")
}

#[cfg(test)]
mod tests;
