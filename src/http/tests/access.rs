//! Access to chats sold as goods: the personal link after a payment, join
//! requests (with and without a query), members tracked, removals when access
//! ends, the operator's setup and view.

use pollster::block_on;
use serde_json::{json, Value};

use super::*;
use crate::http::scheduled;
use crate::store::Store;

const CHAT: i64 = -1_001_234_567_890;
const CLUB: i64 = -1_009_876_543_210;
const DAY: u64 = 86_400;
const LINK: &str = "https://t.me/+personal_link";

const CATALOG: &str = r#"[
  {"id":"insiders","title":"Insiders","description":"The private channel","currency":"XTR","amount":100,
   "access":{"chat_id":-1001234567890}},
  {"id":"insiders_monthly","title":"Insiders monthly","description":"30 days","currency":"XTR","amount":30,
   "subscription_period":2592000,"access":{"chat_id":-1001234567890}},
  {"id":"club","title":"Club","description":"Telegram bills it","currency":"XTR","amount":25,
   "subscription_period":2592000,"access":{"chat_id":-1009876543210,"telegram_subscription":true}},
  {"id":"sticker_pack","title":"Sticker pack","description":"Stickers","currency":"XTR","amount":50}
]"#;

fn shop() -> TestPlatform {
    let mut p = platform();
    p.settings.insert("CATALOG", CATALOG.into());
    p.settings.insert("ADMIN_CHAT_IDS", "900".into());
    p
}

/// Buys `product` as `user` and delivers its payment (payload `order:product`).
fn buy_and_pay(p: &TestPlatform, update_id: i64, user: i64, product: &str, amount: i64) -> String {
    let order = buy(p, user, product);
    let mut u = paid(
        update_id,
        user,
        &format!("{order}:{product}"),
        &format!("stx_{order}"),
        amount,
    );
    if product.ends_with("monthly") {
        let sp = &mut u["message"]["successful_payment"];
        sp["subscription_expiration_date"] = json!(p.now.get() + 30 * DAY);
        sp["is_recurring"] = json!(true);
        sp["is_first_recurring"] = json!(true);
    }
    p.bot.on(
        "createChatInviteLink",
        200,
        json!({"ok": true, "result": {"invite_link": LINK}}),
    );
    assert_eq!(webhook(p, u).0, 200);
    order
}

fn join_request(update_id: i64, user: i64, chat: i64, query: Option<&str>) -> Value {
    let mut jr = json!({"chat": {"id": chat, "type": "channel", "title": "Insiders"},
        "from": {"id": user, "first_name": "A"}, "user_chat_id": user, "date": NOW});
    if let Some(q) = query {
        jr["query_id"] = json!(q);
    }
    json!({"update_id": update_id, "chat_join_request": jr})
}

fn member_update(update_id: i64, user: i64, chat: i64, status: &str, date: u64) -> Value {
    json!({"update_id": update_id, "chat_member": {"chat": {"id": chat, "type": "channel"},
        "from": {"id": user, "first_name": "A"}, "date": date,
        "old_chat_member": {"status": "left", "user": {"id": user, "first_name": "A"}},
        "new_chat_member": {"status": status, "user": {"id": user, "first_name": "A"}}}})
}

fn chat_member(status: &str) -> Value {
    json!({"ok": true, "result": {"status": status, "user": {"id": 5, "first_name": "A"}}})
}

#[test]
fn a_buyer_gets_a_personal_link_that_asks_to_join_and_sees_it_on_the_order() {
    let p = shop();
    let order = buy_and_pay(&p, 10, 5, "insiders", 100);
    let created = p.bot.called("createChatInviteLink");
    assert_eq!(
        created,
        [json!({"chat_id": CHAT, "name": format!("order {order}"), "creates_join_request": true})]
    );
    let joins: Vec<Value> = p
        .bot
        .called("sendMessage")
        .into_iter()
        .filter(|m| m["chat_id"] == 5 && m["reply_markup"].is_object())
        .collect();
    assert_eq!(joins.len(), 1, "the link, once");
    assert_eq!(
        joins[0]["reply_markup"]["inline_keyboard"][0][0]["url"],
        LINK
    );
    let (_, v) = as_user(&p, "GET", "/api/orders", 5, "");
    assert_eq!(
        v["orders"][0]["access"],
        json!({"chat_id": CHAT, "title": null, "invite_link": LINK})
    );
    let (_, v) = as_user(&p, "GET", "/api/entitlements", 5, "");
    assert_eq!(v["entitlements"][0]["access"]["invite_link"], LINK);
    // Telegram redelivers the payment: no second link, no second message.
    let u = paid(
        10,
        5,
        &format!("{order}:insiders"),
        &format!("stx_{order}"),
        100,
    );
    webhook(&p, u);
    assert_eq!(p.bot.called("createChatInviteLink").len(), 1);
}

#[test]
fn a_join_request_is_approved_for_a_holder_and_declined_with_an_offer_for_anyone_else() {
    let p = shop();
    buy_and_pay(&p, 10, 5, "insiders", 100);
    let (s, v) = webhook(&p, join_request(20, 5, CHAT, None));
    assert_eq!(
        (s, v),
        (
            200,
            json!({"method": "approveChatJoinRequest", "chat_id": CHAT, "user_id": 5})
        )
    );
    let (s, v) = webhook(&p, join_request(21, 6, CHAT, None));
    assert_eq!(
        (s, v),
        (
            200,
            json!({"method": "declineChatJoinRequest", "chat_id": CHAT, "user_id": 6})
        )
    );
    let offers: Vec<Value> = p
        .bot
        .called("sendMessage")
        .into_iter()
        .filter(|m| m["chat_id"] == 6)
        .collect();
    assert_eq!(offers.len(), 1);
    assert!(offers[0]["text"].as_str().unwrap().contains("Insiders"));
    let button = &offers[0]["reply_markup"]["inline_keyboard"][0][0];
    assert_eq!(
        button["web_app"]["url"],
        "https://shop.example/?product=insiders"
    );
    // Redelivered: declined again, offered once.
    webhook(&p, join_request(21, 6, CHAT, None));
    let offers = p
        .bot
        .called("sendMessage")
        .into_iter()
        .filter(|m| m["chat_id"] == 6)
        .count();
    assert_eq!(offers, 1);
}

#[test]
fn a_join_request_query_opens_the_page_and_is_approved_once_the_buyer_has_paid() {
    let p = shop();
    let (_, v) = webhook(&p, join_request(20, 6, CHAT, Some("jrq1")));
    assert_eq!(
        v,
        json!({"method": "sendChatJoinRequestWebApp", "chat_join_request_query_id": "jrq1",
               "web_app_url": "https://shop.example/?product=insiders"})
    );
    // The page opened from the query buys with launch data that carries it.
    p.bot
        .answer(200, json!({"ok": true, "result": "https://t.me/$slug"}));
    let auth = format!(
        "tma {}",
        init_data_with(6, &[("chat_join_request_query_id", "jrq1")])
    );
    let headers = [
        ("authorization", auth.as_str()),
        ("content-type", "application/json"),
    ];
    let body = json!({"product_id": "insiders"}).to_string();
    let (s, v) = send(&p, request("POST", "/api/invoices", &headers, &body));
    assert_eq!(s, 201, "{v}");
    let order = v["order_id"].as_str().unwrap();
    let stored = block_on(p.store.order(order)).unwrap().unwrap();
    assert_eq!(stored.join_request_query_id.as_deref(), Some("jrq1"));
    p.bot.on(
        "createChatInviteLink",
        200,
        json!({"ok": true, "result": {"invite_link": LINK}}),
    );
    webhook(&p, paid(30, 6, &format!("{order}:insiders"), "stx_q", 100));
    assert_eq!(
        p.bot.called("answerChatJoinRequestQuery"),
        [json!({"chat_join_request_query_id": "jrq1", "result": "approve"})]
    );
    // A holder's next query is approved in the webhook's answer.
    let (_, v) = webhook(&p, join_request(31, 6, CHAT, Some("jrq2")));
    assert_eq!(
        v,
        json!({"method": "answerChatJoinRequestQuery", "chat_join_request_query_id": "jrq2", "result": "approve"})
    );
}

#[test]
fn without_its_orders_a_join_request_is_declined_rather_than_left_hanging() {
    let p = shop();
    p.db().broken.set(true);
    let (_, v) = webhook(&p, join_request(20, 5, CHAT, None));
    assert_eq!(v["method"], "declineChatJoinRequest");
    let (_, v) = webhook(&p, join_request(21, 5, CHAT, Some("jrq")));
    assert_eq!(
        v,
        json!({"method": "answerChatJoinRequestQuery", "chat_join_request_query_id": "jrq", "result": "decline"})
    );
}

#[test]
fn updates_for_chats_the_shop_does_not_sell_change_nothing() {
    let p = shop();
    let before = p.db().round_trips.get();
    assert_eq!(
        webhook(&p, join_request(20, 5, -1_005_555_555_555, None)),
        (200, json!({}))
    );
    assert_eq!(
        webhook(&p, member_update(21, 5, -1_005_555_555_555, "member", NOW)),
        (200, json!({}))
    );
    // Telegram's subscription chat: Telegram lets members in itself.
    assert_eq!(
        webhook(&p, join_request(22, 5, CLUB, None)),
        (200, json!({}))
    );
    assert_eq!(p.db().round_trips.get(), before, "not even a read");
    assert!(p.bot.calls.borrow().is_empty());
    // A join request without its required fields is not an update we read.
    let (s, v) = webhook(
        &p,
        json!({"update_id": 23, "chat_join_request": {"chat": {"id": CHAT}}}),
    );
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (400, Some("invalid_update"))
    );
}

#[test]
fn members_are_tracked_and_an_older_update_never_wins() {
    let p = shop();
    webhook(&p, member_update(1, 5, CHAT, "member", NOW + 10));
    webhook(&p, member_update(2, 5, CHAT, "left", NOW + 5));
    webhook(&p, member_update(3, 6, CHAT, "kicked", NOW));
    let members = block_on(p.store.members(CHAT)).unwrap();
    let statuses: Vec<(i64, &str)> = members
        .iter()
        .map(|m| (m.user_id, m.status.as_str()))
        .collect();
    assert_eq!(statuses, [(5, "member"), (6, "kicked")]);
}

/// The Bot API calls a removal makes, in order.
fn removal_calls(p: &TestPlatform) -> Vec<String> {
    p.bot
        .methods()
        .into_iter()
        .filter(|m| {
            [
                "getChatMember",
                "banChatMember",
                "unbanChatMember",
                "revokeChatInviteLink",
            ]
            .contains(&m.as_str())
        })
        .collect()
}

#[test]
fn a_refund_removes_the_member_at_once_lets_them_back_later_and_revokes_their_link() {
    let p = shop();
    let order = buy_and_pay(&p, 10, 5, "insiders", 100);
    p.bot.on("getChatMember", 200, chat_member("member"));
    let refund = json!({"update_id": 11, "message": {"message_id": 3, "date": NOW, "chat": {"id": 5, "type": "private"},
        "refunded_payment": {"currency": "XTR", "total_amount": 100, "invoice_payload": format!("{order}:insiders"),
        "telegram_payment_charge_id": format!("stx_{order}")}}});
    assert_eq!(webhook(&p, refund.clone()).0, 200);
    assert_eq!(
        removal_calls(&p),
        [
            "getChatMember",
            "banChatMember",
            "unbanChatMember",
            "revokeChatInviteLink"
        ]
    );
    assert_eq!(p.bot.called("unbanChatMember")[0]["only_if_banned"], true);
    assert_eq!(p.bot.called("revokeChatInviteLink")[0]["invite_link"], LINK);
    let told = p
        .bot
        .called("sendMessage")
        .into_iter()
        .rfind(|m| m["chat_id"] == 5)
        .unwrap();
    assert!(
        told["text"].as_str().unwrap().contains("refunded"),
        "{told}"
    );
    assert_eq!(
        told["reply_markup"]["inline_keyboard"][0][0]["web_app"]["url"],
        "https://shop.example/?product=insiders"
    );
    let link = block_on(p.store.access_link(&order)).unwrap().unwrap();
    assert_eq!(link.revoked_at, Some(NOW));
    let (_, v) = as_user(&p, "GET", "/api/orders", 5, "");
    assert!(
        v["orders"][0].get("access").is_none(),
        "access ends with the refund"
    );
    // The refund redelivered: removed once.
    webhook(&p, refund);
    assert_eq!(p.bot.called("banChatMember").len(), 1);
}

#[test]
fn an_administrator_or_someone_another_order_lets_in_is_never_removed() {
    let p = shop();
    let first = buy_and_pay(&p, 10, 5, "insiders", 100);
    p.bot.on("getChatMember", 200, chat_member("administrator"));
    let admin = block_on(crate::http::access::remove_refunded(
        &p,
        &p.settings().unwrap(),
        &p.store,
        &refunded(&p, &first),
        "https://shop.example/",
    ));
    assert!(admin.is_ok());
    assert!(
        p.bot.called("banChatMember").is_empty(),
        "an administrator stays"
    );
    assert_eq!(
        p.bot.called("revokeChatInviteLink").len(),
        1,
        "only the link goes"
    );

    // A buyer of two products that let them in keeps their place when one is refunded.
    let p = shop();
    let once = buy_and_pay(&p, 10, 5, "insiders", 100);
    buy_and_pay(&p, 11, 5, "insiders_monthly", 30);
    block_on(crate::http::access::remove_refunded(
        &p,
        &p.settings().unwrap(),
        &p.store,
        &refunded(&p, &once),
        "https://shop.example/",
    ))
    .unwrap();
    assert!(p.bot.called("getChatMember").is_empty());
    assert!(p.bot.called("banChatMember").is_empty());
}

/// `order` refunded in the store, as the refund paths leave it.
fn refunded(p: &TestPlatform, order: &str) -> crate::shop::Order {
    block_on(p.store.record_refund(&format!("stx_{order}"), NOW)).unwrap();
    block_on(p.store.order(order)).unwrap().unwrap()
}

#[test]
fn a_lapsed_subscription_is_removed_once_after_the_grace_and_a_renewal_keeps_the_member() {
    let p = shop();
    let lapsing = buy_and_pay(&p, 10, 5, "insiders_monthly", 30);
    let renewing = buy_and_pay(&p, 11, 7, "insiders_monthly", 30);
    // User 7 renews on day 30.
    p.now.set(NOW + 30 * DAY);
    let mut u = paid(
        12,
        7,
        &format!("{renewing}:insiders_monthly"),
        "stx_renewal",
        30,
    );
    let sp = &mut u["message"]["successful_payment"];
    sp["subscription_expiration_date"] = json!(NOW + 60 * DAY);
    sp["is_recurring"] = json!(true);
    webhook(&p, u);
    // Within the grace (a day): nobody is removed.
    p.now.set(NOW + 30 * DAY + 3600);
    assert_eq!(block_on(scheduled::run(&p)).removals, 0);
    p.now.set(NOW + 31 * DAY + 60);
    p.bot.on("getChatMember", 200, chat_member("member"));
    let report = block_on(scheduled::run(&p));
    assert_eq!(report.removals, 1, "{report:?}");
    let banned = p.bot.called("banChatMember");
    assert_eq!(banned, [json!({"chat_id": CHAT, "user_id": 5})]);
    let _ = lapsing;
    // The next run finds nothing new to do.
    assert_eq!(block_on(scheduled::run(&p)).removals, 0);
    assert_eq!(p.bot.called("banChatMember").len(), 1);
}

#[test]
fn a_removal_the_bot_has_no_rights_for_fails_and_the_operator_is_told() {
    let p = shop();
    let order = buy_and_pay(&p, 10, 5, "insiders", 100);
    p.bot.on("getChatMember", 200, chat_member("member"));
    p.bot.on(
        "banChatMember",
        400,
        json!({"ok": false, "error_code": 400, "description": "Bad Request: not enough rights to restrict/unrestrict chat member"}),
    );
    block_on(crate::http::access::remove_refunded(
        &p,
        &p.settings().unwrap(),
        &p.store,
        &refunded(&p, &order),
        "https://shop.example/",
    ))
    .unwrap();
    let told: Vec<String> = p
        .bot
        .called("sendMessage")
        .into_iter()
        .filter(|m| m["chat_id"] == 900)
        .map(|m| m["text"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        told.iter()
            .any(|t| t.contains("Removing 5") && t.contains("for good")),
        "{told:?}"
    );
    let (_, v) = admin(&p, "GET", "/api/admin/access?chat_id=-1001234567890", "");
    let removed = &v["chats"][0]["removed"][0];
    assert_eq!(
        (&removed["user_id"], &removed["reason"], &removed["status"]),
        (&json!(5), &json!("refunded"), &json!("failed"))
    );
    assert!(removed["last_error"]
        .as_str()
        .unwrap()
        .contains("not enough rights"));
}

#[test]
fn setup_asks_for_member_updates_checks_the_rights_and_makes_the_subscription_link_once() {
    let p = shop();
    // The chats are checked in id order: the club's first.
    p.bot.on(
        "getChat",
        400,
        json!({"ok": false, "error_code": 400, "description": "Bad Request: chat not found"}),
    );
    p.bot.on(
        "getChat",
        200,
        json!({"ok": true, "result": {"id": CHAT, "type": "channel", "title": "Insiders"}}),
    );
    p.bot.on(
        "getChatMember",
        200,
        json!({"ok": true, "result": {"status": "administrator", "user": {"id": 4242},
        "can_invite_users": true, "can_restrict_members": false}}),
    );
    p.bot.on(
        "createChatSubscriptionInviteLink",
        200,
        json!({"ok": true, "result": {"invite_link": "https://t.me/+club"}}),
    );
    let (s, v) = admin(&p, "POST", "/api/admin/setup", "");
    assert_eq!(s, 200, "{v}");
    let allowed = &p.bot.called("setWebhook")[0]["allowed_updates"];
    assert_eq!(
        allowed,
        &json!([
            "message",
            "pre_checkout_query",
            "chat_member",
            "chat_join_request"
        ])
    );
    assert_eq!(
        v["access"][0],
        json!({"chat_id": CLUB, "title": null, "ok": false, "missing_rights": ["can_invite_users", "can_restrict_members"],
               "problem": "Telegram answered 400: Bad Request: chat not found"})
    );
    assert_eq!(
        v["access"][1],
        json!({"chat_id": CHAT, "title": "Insiders", "ok": false, "missing_rights": ["can_restrict_members"]})
    );
    assert_eq!(
        p.bot.called("createChatSubscriptionInviteLink"),
        [
            json!({"chat_id": CLUB, "name": "Club", "subscription_period": 2592000, "subscription_price": 25})
        ]
    );
    assert_eq!(
        v["subscription_links"][0]["invite_link"],
        "https://t.me/+club"
    );
    let told = p
        .bot
        .called("sendMessage")
        .into_iter()
        .filter(|m| m["chat_id"] == 900)
        .count();
    assert_eq!(told, 1, "the operator hears which chats need rights");
    // The page offers the subscription link; the bot never invoices it.
    let (_, v) = send(&p, request("GET", "/api/products", &[], ""));
    let club = v["products"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == "club")
        .unwrap()
        .clone();
    assert_eq!(club["join_link"], "https://t.me/+club");
    let (s, v) = as_user(&p, "POST", "/api/invoices", 5, r#"{"product_id":"club"}"#);
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (409, Some("join_by_link"))
    );
    // Setup again: the link is reused, and the chat title is known to buyers.
    admin(&p, "POST", "/api/admin/setup", "");
    assert_eq!(p.bot.called("createChatSubscriptionInviteLink").len(), 1);
    buy_and_pay(&p, 40, 5, "insiders", 100);
    let (_, v) = as_user(&p, "GET", "/api/orders", 5, "");
    assert_eq!(v["orders"][0]["access"]["title"], "Insiders");
}

#[test]
fn a_telegram_subscription_member_owns_it_and_the_operator_sees_who_is_where() {
    let p = shop();
    let mut joined = member_update(1, 5, CLUB, "member", NOW);
    joined["chat_member"]["new_chat_member"]["until_date"] = json!(NOW + 30 * DAY);
    webhook(&p, joined);
    let (_, v) = as_user(&p, "GET", "/api/entitlements", 5, "");
    let e = &v["entitlements"][0];
    assert_eq!(
        (&e["product_id"], &e["kind"], &e["active_until"]),
        (
            &json!("club"),
            &json!("telegram_subscription"),
            &json!(NOW + 30 * DAY)
        )
    );
    assert!(e.get("order_id").is_none());
    buy_and_pay(&p, 10, 6, "insiders", 100);
    webhook(&p, member_update(11, 6, CHAT, "member", NOW + 1));
    let (s, v) = admin(&p, "GET", "/api/admin/access", "");
    assert_eq!(s, 200, "{v}");
    let chats = v["chats"].as_array().unwrap();
    let insiders = chats.iter().find(|c| c["chat_id"] == CHAT).unwrap();
    assert_eq!(insiders["holders"][0]["user_id"], 6);
    assert_eq!(
        insiders["members"],
        json!([{"user_id": 6, "status": "member"}])
    );
    let club = chats.iter().find(|c| c["chat_id"] == CLUB).unwrap();
    assert_eq!(club["members"][0]["until_date"], NOW + 30 * DAY);
    let (s, v) = admin(&p, "GET", "/api/admin/access?chat_id=-100", "");
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (404, Some("chat_not_found"))
    );
    let (s, _) = admin(&p, "GET", "/api/admin/access?chat_id=abc", "");
    assert_eq!(s, 400);
}
