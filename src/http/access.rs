//! Access to chats, where it meets Telegram: join requests and member updates
//! from the webhook, and the grant and removal the courier carries out. What
//! is owed and who holds access is the shop's (`shop::access`).

use serde::Serialize;
use serde_json::Value;

use super::api::{catalog, storage_error};
use super::webhook::{done, reply};
use super::{courier, faults, Platform, Response};
use crate::config::Settings;
use crate::error::ApiError;
use crate::i18n::Lang;
use crate::shop::access::{self, AccessLink, Ended, Grant, Member, QueryAnswer, Removal};
use crate::shop::outbox::{after_failure, backoff, flood_wait, Outgoing, Queued, Settle};
use crate::shop::{Catalog, Order, Product};
use crate::store::{Store, StoreError};
use crate::telegram::client::{BotApi, BotError};
use crate::telegram::types::{ChatInviteLink, ChatJoinRequest, ChatMember, ChatMemberUpdated};

/// How many of a user's orders are read to say whether they hold access.
const USER_ORDERS: usize = 1000;
/// How long a join request waits for the user's orders: Telegram wants a
/// join request query answered within 10 s, with the trip there and back.
const JOIN_REQUEST_STORAGE_MS: u64 = 5_000;

/// The products that let their buyer into `chat_id` through the bot.
fn sold_by_the_bot(catalog: &Catalog, chat_id: i64) -> Vec<&Product> {
    catalog
        .granting(chat_id)
        .filter(|p| p.access.as_ref().is_some_and(|a| !a.telegram_subscription))
        .collect()
}

#[derive(Serialize)]
struct ChatUser {
    chat_id: i64,
    user_id: i64,
}

#[derive(Serialize)]
struct OpenWebApp<'a> {
    chat_join_request_query_id: &'a str,
    web_app_url: &'a str,
}

/// A `chat_join_request`: a requester who holds access is let in, anyone else
/// is declined and offered the product (or, for a join request query, shown
/// the page on it). A request to a chat the bot does not sell is left alone.
/// When the orders cannot be read in time, the request is declined rather
/// than left hanging.
pub async fn join_request<P: Platform>(
    platform: &P,
    settings: &Settings,
    store: &P::Store,
    app_url: &str,
    update_id: i64,
    jr: &ChatJoinRequest,
) -> Result<Response, ApiError> {
    let Ok(catalog) = catalog(settings) else {
        return Ok(done());
    };
    let products = sold_by_the_bot(catalog, jr.chat.id);
    let Some(product) = products.first() else {
        return Ok(done());
    };
    let lookup = store.orders_for_user(jr.from.id, USER_ORDERS);
    let holds = match faults::within(platform, JOIN_REQUEST_STORAGE_MS, lookup).await {
        Some(Ok(orders)) => {
            Some(access::granting(catalog, &orders, jr.chat.id, platform.now()).is_some())
        }
        Some(Err(e)) => {
            platform.log(&format!("chat_join_request {update_id}: {e}"));
            None
        }
        None => {
            platform.log(&format!(
                "chat_join_request {update_id}: storage took over {JOIN_REQUEST_STORAGE_MS} ms"
            ));
            None
        }
    };
    let who = ChatUser {
        chat_id: jr.chat.id,
        user_id: jr.from.id,
    };
    let answer = |result| QueryAnswer {
        chat_join_request_query_id: jr.query_id.as_deref().unwrap_or_default(),
        result,
    };
    Ok(match (holds, jr.query_id.as_deref()) {
        (Some(true), None) => reply("approveChatJoinRequest", who),
        (Some(true), Some(_)) => reply("answerChatJoinRequestQuery", answer("approve")),
        (Some(false), Some(query)) => {
            let page = access::product_page(app_url, product);
            let open = OpenWebApp {
                chat_join_request_query_id: query,
                web_app_url: &page,
            };
            reply("sendChatJoinRequestWebApp", open)
        }
        (Some(false), None) => {
            // The offer is worth a try, not a retry of the whole update.
            let lang = Lang::of(jr.from.language_code.as_deref());
            let offer = access::offer(product, jr.user_chat_id, app_url, update_id, lang);
            if let Err(e) = courier::queue_and_send(platform, settings, store, &[offer]).await {
                platform.log(&format!("chat_join_request {update_id}: the offer: {e}"));
            }
            reply("declineChatJoinRequest", who)
        }
        (None, None) => reply("declineChatJoinRequest", who),
        (None, Some(_)) => reply("answerChatJoinRequestQuery", answer("decline")),
    })
}

/// A `chat_member` update for an access chat: who is in it now.
pub async fn member_update<P: Platform>(
    settings: &Settings,
    store: &P::Store,
    update: &ChatMemberUpdated,
) -> Result<Response, ApiError> {
    let sold = catalog(settings).is_ok_and(|c| c.granting(update.chat.id).next().is_some());
    if !sold {
        return Ok(done());
    }
    let m = &update.new_chat_member;
    let member = Member {
        chat_id: update.chat.id,
        user_id: m.user.id,
        status: m.status.clone(),
        until_date: m.until_date.filter(|d| *d > 0),
        updated_at: u64::try_from(update.date).unwrap_or(0),
    };
    store.record_member(&member).await.map_err(storage_error)?;
    Ok(done())
}

/// The removal `order`'s access owes now that it ended `why`, if its product
/// lets its buyer into a chat through the bot.
pub fn removal_for(
    catalog: &Catalog,
    order: &Order,
    why: Ended,
    app_url: &str,
) -> Option<Outgoing> {
    let chat = access::chat_of(catalog, order)?;
    Some(access::removal(order, chat, why, app_url))
}

/// Queues and sends the removal a refunded `order` owes, if any.
pub async fn remove_refunded<P: Platform>(
    platform: &P,
    settings: &Settings,
    store: &P::Store,
    order: &Order,
    app_url: &str,
) -> Result<(), StoreError> {
    let Ok(catalog) = catalog(settings) else {
        return Ok(());
    };
    let removal = removal_for(catalog, order, Ended::Refunded, app_url);
    courier::queue_and_send(platform, settings, store, removal.as_slice()).await?;
    Ok(())
}

/// What carrying out access work came to, and the messages it leaves owed.
pub struct Done {
    pub settle: Settle,
    pub then: Vec<Outgoing>,
    /// Seconds Telegram asked the bot to wait (a 429), when it did: the
    /// courier sends nothing more until then.
    pub wait: Option<u64>,
}

impl Done {
    pub fn settled(settle: Settle) -> Done {
        Done {
            settle,
            then: Vec::new(),
            wait: None,
        }
    }
}

/// Why a step could not be done: Telegram's answer, or storage.
enum Failure {
    Bot(BotError),
    Store(StoreError),
}

impl From<BotError> for Failure {
    fn from(e: BotError) -> Failure {
        Failure::Bot(e)
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Failure {
        Failure::Store(e)
    }
}

fn settle_failure<P: Platform>(platform: &P, q: &Queued, f: Failure) -> Done {
    let now = platform.now();
    match f {
        Failure::Bot(e) => {
            platform.log(&format!("outbox {}: {e}", q.message.id));
            Done {
                wait: flood_wait(&e),
                ..Done::settled(after_failure(&e, q.attempts, now))
            }
        }
        Failure::Store(e) => {
            platform.log(&format!("outbox {}: {e}", q.message.id));
            Done::settled(Settle::Retry {
                at: now + backoff(q.attempts),
                error: "storage is unavailable".into(),
            })
        }
    }
}

fn unreadable(what: &str) -> Done {
    Done::settled(Settle::Failed {
        error: format!("stored {what} parameters do not read"),
    })
}

#[derive(Serialize)]
struct CreateLink<'a> {
    chat_id: i64,
    name: &'a str,
    creates_join_request: bool,
}

/// Lets a buyer in: their personal invite link (made once: a retry reuses the
/// stored one), then a message with it.
pub async fn grant<P: Platform>(
    platform: &P,
    settings: &Settings,
    store: &P::Store,
    bot: &BotApi<'_, P>,
    q: &Queued,
) -> Done {
    let Ok(g) = serde_json::from_str::<Grant>(&q.message.params) else {
        return unreadable("grant");
    };
    match make_link(platform, settings, store, bot, &g).await {
        Ok(None) => Done::settled(Settle::Sent),
        Ok(Some((link, product))) => Done {
            then: vec![granted(&g, &product, &link)],
            ..Done::settled(Settle::Sent)
        },
        Err(f) => settle_failure(platform, q, f),
    }
}

/// The link for `g`, and its product; `None` when access ended before it was
/// made (a refund came first) or the product is gone from the catalog.
async fn make_link<P: Platform>(
    platform: &P,
    settings: &Settings,
    store: &P::Store,
    bot: &BotApi<'_, P>,
    g: &Grant,
) -> Result<Option<(AccessLink, Product)>, Failure> {
    let Some(product) = catalog(settings).ok().and_then(|c| c.get(&g.product_id)) else {
        return Ok(None);
    };
    if let Some(link) = store.access_link(&g.order_id).await? {
        return Ok(Some((link, product.clone())));
    }
    let order = store.order(&g.order_id).await?;
    if !order.is_some_and(|o| access::grants_now(&o, platform.now())) {
        return Ok(None);
    }
    let name = format!("order {}", g.order_id);
    let created: ChatInviteLink = bot
        .call(
            "createChatInviteLink",
            &CreateLink {
                chat_id: g.chat_id,
                name: &name,
                creates_join_request: true,
            },
        )
        .await?;
    let link = AccessLink {
        order_id: g.order_id.clone(),
        chat_id: g.chat_id,
        user_id: g.user_id,
        invite_link: created.invite_link,
        app_url: g.app_url.clone(),
        created_at: platform.now(),
        revoked_at: None,
    };
    Ok(Some((
        store.save_access_link(&link).await?,
        product.clone(),
    )))
}

fn granted(g: &Grant, product: &Product, link: &AccessLink) -> Outgoing {
    let message = access::granted_message(g.user_id, product, &link.invite_link, g.lang);
    Outgoing {
        id: format!("granted:{}", g.order_id),
        kind: crate::shop::outbox::Kind::Notice,
        order_id: Some(g.order_id.clone()),
        chat_id: g.user_id,
        method: "sendMessage".into(),
        params: serde_json::to_string(&message).expect("a message serializes"),
    }
}

#[derive(Serialize)]
struct Unban {
    chat_id: i64,
    user_id: i64,
    only_if_banned: bool,
}

#[derive(Serialize)]
struct Revoke<'a> {
    chat_id: i64,
    invite_link: &'a str,
}

/// Removes a member whose access ended: never the chat's owner or an
/// administrator, never someone another order still lets in. A ban then an
/// unban (`only_if_banned`) takes them out and lets them come back after
/// buying again; their personal link is revoked. Each step may be done twice
/// without harm, so a retry starts over.
pub async fn remove<P: Platform>(
    platform: &P,
    settings: &Settings,
    store: &P::Store,
    bot: &BotApi<'_, P>,
    q: &Queued,
) -> Done {
    let Ok(r) = serde_json::from_str::<Removal>(&q.message.params) else {
        return unreadable("removal");
    };
    match removal_steps(platform, settings, store, bot, &r).await {
        Ok(true) => {
            let catalog = catalog(settings).ok();
            let product = catalog.and_then(|c| c.get(&r.product_id));
            let message = access::removed_message(&r, product);
            Done {
                then: vec![Outgoing {
                    id: format!("removed:{}", q.message.id),
                    kind: crate::shop::outbox::Kind::Notice,
                    order_id: Some(r.order_id.clone()),
                    chat_id: r.user_id,
                    method: "sendMessage".into(),
                    params: serde_json::to_string(&message).expect("a message serializes"),
                }],
                ..Done::settled(Settle::Sent)
            }
        }
        Ok(false) => Done::settled(Settle::Sent),
        Err(f) => settle_failure(platform, q, f),
    }
}

/// The removal's steps; `false` when the member keeps their place.
async fn removal_steps<P: Platform>(
    platform: &P,
    settings: &Settings,
    store: &P::Store,
    bot: &BotApi<'_, P>,
    r: &Removal,
) -> Result<bool, Failure> {
    let link = store.access_link(&r.order_id).await?;
    let revoke_link = async {
        if let Some(l) = link.as_ref().filter(|l| l.revoked_at.is_none()) {
            let revoke = Revoke {
                chat_id: r.chat_id,
                invite_link: &l.invite_link,
            };
            bot.call::<Value>("revokeChatInviteLink", &revoke).await?;
            store
                .revoke_access_link(&r.order_id, platform.now())
                .await?;
        }
        Ok::<(), Failure>(())
    };
    let orders = store.orders_for_user(r.user_id, USER_ORDERS).await?;
    let still = catalog(settings)
        .ok()
        .and_then(|c| access::granting(c, &orders, r.chat_id, platform.now()));
    if still.is_some() {
        // Another order lets them in: this one's link goes, they stay.
        revoke_link.await?;
        return Ok(false);
    }
    let who = ChatUser {
        chat_id: r.chat_id,
        user_id: r.user_id,
    };
    let member: ChatMember = bot.call("getChatMember", &who).await?;
    if access::is_staff(&member.status) {
        revoke_link.await?;
        return Ok(false);
    }
    if member.status != "left" {
        if member.status != "kicked" {
            bot.call::<Value>("banChatMember", &who).await?;
        }
        let unban = Unban {
            chat_id: r.chat_id,
            user_id: r.user_id,
            only_if_banned: true,
        };
        bot.call::<Value>("unbanChatMember", &unban).await?;
    }
    revoke_link.await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shop::catalog::Access;

    #[test]
    fn only_products_the_bot_sells_itself_answer_join_requests() {
        let access = |telegram_subscription| {
            Some(Access {
                chat_id: -1_001_000_000_001,
                telegram_subscription,
            })
        };
        let c = Catalog {
            products: vec![
                Product {
                    access: access(true),
                    ..Product::stars("tg", 5, Some(2_592_000))
                },
                Product {
                    access: access(false),
                    ..Product::stars("bot", 5, None)
                },
            ],
        };
        let ids: Vec<&str> = sold_by_the_bot(&c, -1_001_000_000_001)
            .iter()
            .map(|p| p.id.as_str())
            .collect();
        assert_eq!(ids, ["bot"]);
        assert!(sold_by_the_bot(&c, -1_001_000_000_002).is_empty());
    }
}
