//! The operator's side of chat access: what setup checks and makes (each
//! access chat and the bot's rights in it; Telegram's subscription links),
//! and `GET /api/admin/access`, who holds access, who is in, who was removed.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::api::{catalog, storage_error};
use super::{auth, courier, Platform, Request, Response};
use crate::config::Settings;
use crate::error::ApiError;
use crate::i18n::Lang;
use crate::shop::access::{self, Removal};
use crate::shop::export::MAX_ROWS;
use crate::shop::{notice, Product};
use crate::store::Store;
use crate::telegram::client::{BotApi, BotError};
use crate::telegram::types::{ChatInfo, ChatInviteLink, ChatMember};

/// The rights the bot needs in an access chat: to make invite links and
/// approve requests, and to remove members.
const RIGHTS: [&str; 2] = ["can_invite_users", "can_restrict_members"];

/// An access chat as setup found it.
#[derive(Debug, Serialize)]
pub struct ChatCheck {
    pub chat_id: i64,
    pub title: Option<String>,
    pub ok: bool,
    pub missing_rights: Vec<&'static str>,
    /// Why the chat could not be checked (Telegram's answer), when it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// What setup learned of a chat, kept as a fact (`chat:<id>`).
#[derive(Debug, Serialize, Deserialize)]
struct ChatFact {
    title: Option<String>,
}

fn chat_key(chat_id: i64) -> String {
    format!("chat:{chat_id}")
}

fn sublink_key(product_id: &str) -> String {
    format!("sublink:{product_id}")
}

/// The title setup learned for `chat_id`, if it ran.
pub async fn chat_title<S: Store>(store: &S, chat_id: i64) -> Option<String> {
    let fact = store.fact(&chat_key(chat_id)).await.ok()??;
    serde_json::from_str::<ChatFact>(&fact).ok()?.title
}

/// The subscription invite link setup made for `product`, if it ran.
pub async fn subscription_link<S: Store>(store: &S, product: &Product) -> Option<String> {
    store.fact(&sublink_key(&product.id)).await.ok()?
}

#[derive(Serialize)]
struct ChatUser {
    chat_id: i64,
    user_id: i64,
}

#[derive(Serialize)]
struct ChatOnly {
    chat_id: i64,
}

async fn check_chat<P: Platform>(
    platform: &P,
    store: &P::Store,
    bot: &BotApi<'_, P>,
    chat_id: i64,
    bot_id: i64,
) -> ChatCheck {
    let failed = |e: BotError| ChatCheck {
        chat_id,
        title: None,
        ok: false,
        missing_rights: RIGHTS.to_vec(),
        problem: Some(e.to_string()),
    };
    let chat: ChatInfo = match bot.call("getChat", &ChatOnly { chat_id }).await {
        Ok(c) => c,
        Err(e) => return failed(e),
    };
    let me = ChatUser {
        chat_id,
        user_id: bot_id,
    };
    let member: ChatMember = match bot.call("getChatMember", &me).await {
        Ok(m) => m,
        Err(e) => return failed(e),
    };
    let admin = member.status == "administrator";
    let missing: Vec<&'static str> = RIGHTS
        .into_iter()
        .zip([member.can_invite_users, member.can_restrict_members])
        .filter(|(_, has)| !admin || *has != Some(true))
        .map(|(right, _)| right)
        .collect();
    let fact = serde_json::to_string(&ChatFact {
        title: chat.title.clone(),
    })
    .expect("a fact serializes");
    if let Err(e) = store
        .set_fact(&chat_key(chat_id), &fact, platform.now())
        .await
    {
        platform.log(&format!("setup: chat {chat_id}: {e}"));
    }
    ChatCheck {
        chat_id,
        title: chat.title,
        ok: missing.is_empty(),
        missing_rights: missing,
        problem: None,
    }
}

/// A Telegram subscription link as setup made (or found) it.
#[derive(Debug, Serialize)]
pub struct SubscriptionLink {
    pub product_id: String,
    pub chat_id: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invite_link: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

#[derive(Serialize)]
struct CreateSubscriptionLink<'a> {
    chat_id: i64,
    name: &'a str,
    subscription_period: u32,
    subscription_price: i64,
}

/// The link for a product sold through Telegram's subscription links: made
/// once, then kept and reused.
async fn subscription<P: Platform>(
    platform: &P,
    store: &P::Store,
    bot: &BotApi<'_, P>,
    product: &Product,
    chat_id: i64,
) -> SubscriptionLink {
    let mut out = SubscriptionLink {
        product_id: product.id.clone(),
        chat_id,
        invite_link: None,
        problem: None,
    };
    if let Some(link) = subscription_link(store, product).await {
        out.invite_link = Some(link);
        return out;
    }
    let create = CreateSubscriptionLink {
        chat_id,
        name: product.title.get(Lang::EN),
        subscription_period: product.subscription_period.unwrap_or_default(),
        subscription_price: product.amount,
    };
    match bot
        .call::<ChatInviteLink>("createChatSubscriptionInviteLink", &create)
        .await
    {
        Ok(link) => {
            let key = sublink_key(&product.id);
            match store
                .set_fact(&key, &link.invite_link, platform.now())
                .await
            {
                Ok(()) => out.invite_link = Some(link.invite_link),
                Err(e) => out.problem = Some(e.to_string()),
            }
        }
        Err(e) => out.problem = Some(e.to_string()),
    }
    out
}

/// Setup's part for access: each access chat checked (the operators are told
/// of any the bot cannot manage), each subscription link made or found.
pub async fn setup<P: Platform>(
    platform: &P,
    settings: &Settings,
    bot: &BotApi<'_, P>,
) -> Result<(Vec<ChatCheck>, Vec<SubscriptionLink>), ApiError> {
    let Ok(catalog) = catalog(settings) else {
        return Ok((Vec::new(), Vec::new()));
    };
    let chats = catalog.access_chats();
    if chats.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let store = platform.store(settings.storage)?;
    let bot_id = settings.bot_token()?.bot_id() as i64;
    let mut checks = Vec::new();
    for chat in chats {
        checks.push(check_chat(platform, store, bot, chat, bot_id).await);
    }
    let mut links = Vec::new();
    for p in &catalog.products {
        if let Some(a) = p.access.as_ref().filter(|a| a.telegram_subscription) {
            links.push(subscription(platform, store, bot, p, a.chat_id).await);
        }
    }
    let trouble: Vec<String> = checks
        .iter()
        .filter(|c| !c.ok)
        .map(|c| {
            let what = c
                .problem
                .clone()
                .unwrap_or_else(|| c.missing_rights.join(", "));
            format!(
                "{} ({}): {what}",
                c.chat_id,
                c.title.as_deref().unwrap_or("?")
            )
        })
        .collect();
    if !trouble.is_empty() {
        let text = notice::access_rights_missing(settings.admin_language, &trouble);
        // Each distinct set of problems is told once, however often setup runs.
        let digest = Sha256::digest(trouble.join("\n").as_bytes());
        let key = format!("access_rights:{}", &hex::encode(digest)[..16]);
        let notices = settings.operators().notices(&key, &text, None);
        courier::queue_and_send(platform, settings, store, &notices)
            .await
            .map_err(storage_error)?;
    }
    Ok((checks, links))
}

#[derive(Serialize)]
struct Holder<'a> {
    user_id: i64,
    order_id: &'a str,
    product_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    active_until: Option<i64>,
}

#[derive(Serialize)]
struct MemberView {
    user_id: i64,
    status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    until_date: Option<i64>,
}

#[derive(Serialize)]
struct Removed {
    user_id: i64,
    order_id: String,
    reason: access::Ended,
    /// `pending` (being tried), `sent` (done) or `failed` (given up).
    status: String,
    attempts: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_error: Option<String>,
}

#[derive(Serialize)]
struct ChatAccess<'a> {
    chat_id: i64,
    title: Option<String>,
    holders: Vec<Holder<'a>>,
    members: Vec<MemberView>,
    removed: Vec<Removed>,
}

/// `GET /api/admin/access?chat_id=`: per access chat (or the one named), who
/// holds access, who is a member, who was removed and why.
pub async fn list<P: Platform>(
    platform: &P,
    settings: &Settings,
    req: &Request,
) -> Result<Response, ApiError> {
    auth::operator(platform, settings, req)?;
    let catalog = catalog(settings)?;
    let asked = form_urlencoded::parse(req.query.as_bytes())
        .find(|(k, _)| k == "chat_id")
        .map(|(_, v)| {
            v.parse::<i64>().map_err(|_| {
                ApiError::bad_request("invalid_query", "chat_id must be a chat id (a number)")
            })
        })
        .transpose()?;
    let chats: Vec<i64> = match asked {
        Some(c) if catalog.granting(c).next().is_some() => vec![c],
        Some(_) => {
            return Err(ApiError::new(
                404,
                "chat_not_found",
                "no product sells access to that chat",
            ))
        }
        None => catalog.access_chats(),
    };
    let store = platform.store(settings.storage)?;
    let now = platform.now();
    let orders = super::admin::paid_orders(store).await?;
    let removals: Vec<(Removal, _)> = store
        .queued("removal:", MAX_ROWS)
        .await
        .map_err(storage_error)?
        .into_iter()
        .filter_map(|t| Some((serde_json::from_str(&t.message.params).ok()?, t)))
        .collect();
    let mut out = Vec::new();
    for chat in chats {
        let holders = orders
            .iter()
            .filter(|o| access::chat_of(catalog, o) == Some(chat) && access::grants_now(o, now))
            .map(|o| Holder {
                user_id: o.user_id,
                order_id: &o.id,
                product_id: &o.product_id,
                active_until: o.subscription_expiration_date,
            })
            .collect();
        let members = store
            .members(chat)
            .await
            .map_err(storage_error)?
            .into_iter()
            .map(|m| MemberView {
                user_id: m.user_id,
                status: m.status,
                until_date: m.until_date,
            })
            .collect();
        let removed = removals
            .iter()
            .filter(|(r, _)| r.chat_id == chat)
            .map(|(r, t)| Removed {
                user_id: r.user_id,
                order_id: r.order_id.clone(),
                reason: r.ended,
                status: t.status.clone(),
                attempts: t.attempts,
                last_error: t.last_error.clone(),
            })
            .collect();
        out.push(ChatAccess {
            chat_id: chat,
            title: chat_title(store, chat).await,
            holders,
            members,
            removed,
        });
    }
    Ok(Response::json(200, &serde_json::json!({ "chats": out })))
}
