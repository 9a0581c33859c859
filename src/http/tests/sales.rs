//! What a sale leads to, natively: goods delivered through the outbox and
//! retried, operator notices, entitlements and subscriptions over time, deep
//! links, the orders export and the scheduled job.

use pollster::block_on;
use serde_json::{json, Value};

use super::*;
use crate::http::scheduled;
use crate::store::Store;
use crate::telegram::client::TransportError;

const DAY: u64 = 86_400;

fn subscribe(
    p: &TestPlatform,
    update_id: i64,
    user: i64,
    order: &str,
    charge: &str,
    first: bool,
) -> (u16, Value) {
    let mut u = paid(update_id, user, order, charge, 250);
    let sp = &mut u["message"]["successful_payment"];
    sp["subscription_expiration_date"] = json!(p.now.get() + 30 * DAY);
    sp["is_recurring"] = json!(true);
    if first {
        sp["is_first_recurring"] = json!(true);
    }
    webhook(p, u)
}

fn sent_to(p: &TestPlatform, chat: i64) -> Vec<Value> {
    p.bot
        .calls
        .borrow()
        .iter()
        .filter(|(u, v)| u.ends_with("/sendMessage") && v["chat_id"] == chat)
        .map(|(_, v)| v.clone())
        .collect()
}

/// The payload `createInvoiceLink` was given for `order`.
fn payload(p: &TestPlatform, order: &str) -> String {
    let calls = p.bot.calls.borrow();
    let (_, params) = calls
        .iter()
        .find(|(u, v)| {
            u.ends_with("/createInvoiceLink") && v["payload"].as_str().unwrap().starts_with(order)
        })
        .expect("an invoice for the order");
    params["payload"].as_str().unwrap().to_owned()
}

#[test]
fn the_goods_are_queued_by_the_payment_write_itself() {
    let mut p = platform();
    p.settings.insert("ADMIN_CHAT_IDS", "900".into());
    let order = buy(&p, 5, "sticker_pack");
    let payload = payload(&p, &order);
    assert_eq!(payload, format!("{order}:sticker_pack"));
    let before = p.db().round_trips.get();
    let (s, v) = webhook(&p, paid(2, 5, &payload, "stx_1", 50));
    assert_eq!(
        (s, v),
        (200, json!({})),
        "the receipt travels with the goods"
    );
    // One write for the payment and what it owes, then one per message sent.
    assert_eq!(p.db().round_trips.get() - before, 1 + 2);
    assert!(sent_to(&p, 5)[0]["text"]
        .as_str()
        .unwrap()
        .contains("Sticker pack"));
    assert!(sent_to(&p, 900)[0]["text"]
        .as_str()
        .unwrap()
        .contains("New sale"));
    let stored = block_on(p.store.order(&order)).unwrap().unwrap();
    assert_eq!(stored.telegram_payment_charge_id.as_deref(), Some("stx_1"));

    // A redelivery queues nothing new and sends nothing again.
    let before = p.db().round_trips.get();
    webhook(&p, paid(2, 5, &payload, "stx_1", 50));
    assert_eq!(p.db().round_trips.get() - before, 1);
    assert_eq!((sent_to(&p, 5).len(), sent_to(&p, 900).len()), (1, 1));

    // An invoice from before the product rode along takes a second round trip.
    let old = buy(&p, 6, "sticker_pack");
    let before = p.db().round_trips.get();
    webhook(&p, paid(3, 6, &old, "stx_2", 50));
    assert_eq!(p.db().round_trips.get() - before, 1 + 1 + 2);
    assert_eq!(sent_to(&p, 6).len(), 1);
}

#[test]
fn a_payload_that_does_not_fit_the_order_gets_what_the_order_calls_for() {
    let p = platform();
    let order = buy(&p, 5, "sticker_pack");
    // The payload names another product: the stored order decides.
    let (s, _) = webhook(&p, paid(2, 5, &format!("{order}:pro_monthly"), "stx_1", 50));
    assert_eq!(s, 200);
    let goods = sent_to(&p, 5);
    assert_eq!(goods.len(), 1);
    assert!(goods[0]["text"].as_str().unwrap().contains("Sticker pack"));
    assert_eq!(order_status(&p, &order), "paid");

    // Someone else pays the buyer's invoice: the goods go to the buyer.
    let gift = buy(&p, 7, "sticker_pack");
    let payload = payload(&p, &gift);
    let (s, _) = webhook(&p, paid(3, 8, &payload, "stx_2", 50));
    assert_eq!(s, 200);
    assert_eq!(sent_to(&p, 7).len(), 1);
    assert!(sent_to(&p, 8)
        .iter()
        .all(|m| !m["text"].as_str().unwrap().contains("Sticker pack")));
}

#[test]
fn a_failed_delivery_is_retried_later_reported_and_never_sent_twice() {
    let mut p = platform();
    p.settings.insert("ADMIN_CHAT_IDS", "900".into());
    let order = buy(&p, 5, "sticker_pack");
    // Telegram is down for the goods; the sale notice to the operator gets through.
    p.bot.fail(TransportError::Timeout);
    let (s, _) = webhook(&p, paid(2, 5, &order, "stx_1", 50));
    assert_eq!(s, 200, "the payment is stored: acknowledged");
    assert!(sent_to(&p, 5).len() == 1, "one attempt so far");
    let to_operator = sent_to(&p, 900);
    assert!(to_operator
        .iter()
        .any(|m| m["text"].as_str().unwrap().contains("New sale")));
    assert!(to_operator
        .iter()
        .any(|m| m["text"].as_str().unwrap().contains("retrying")));

    // A redelivery of the update does not send again while the retry is pending.
    webhook(&p, paid(2, 5, &order, "stx_1", 50));
    assert_eq!(sent_to(&p, 5).len(), 1);

    // Before the back-off, the job leaves it; after, it sends it, once.
    assert_eq!(block_on(scheduled::run(&p)).sent, 0);
    p.now.set(p.now.get() + 10 * 60);
    let report = block_on(scheduled::run(&p));
    assert_eq!(report.sent, 1, "{report:?}");
    let goods = sent_to(&p, 5);
    assert_eq!(goods.len(), 2);
    assert!(goods[1]["text"].as_str().unwrap().contains("Sticker pack"));
    p.now.set(p.now.get() + DAY);
    assert_eq!(block_on(scheduled::run(&p)).sent, 0, "nothing left to send");
    assert_eq!(sent_to(&p, 5).len(), 2);
    assert!(p
        .db()
        .query("SELECT status FROM outbox")
        .iter()
        .all(|m| m["status"] == "sent"));
}

#[test]
fn a_user_who_blocked_the_bot_is_not_retried_and_the_operator_is_told() {
    let mut p = platform();
    p.settings.insert("ADMIN_CHAT_IDS", "900".into());
    p.settings.insert("ADMIN_LANGUAGE", "zh".into());
    let order = buy(&p, 5, "sticker_pack");
    p.bot.answer(403, json!({"ok": false, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}));
    webhook(&p, paid(2, 5, &order, "stx_1", 50));
    let delivery = p.db().query(&format!(
        "SELECT status FROM outbox WHERE id = 'delivery:{order}'"
    ));
    assert_eq!(delivery[0]["status"], "failed");
    let texts: Vec<String> = sent_to(&p, 900)
        .iter()
        .map(|m| m["text"].as_str().unwrap().to_owned())
        .collect();
    assert!(texts.iter().any(|t| t.contains("新订单")), "{texts:?}");
    assert!(texts.iter().any(|t| t.contains("最终失败")), "{texts:?}");
    p.now.set(p.now.get() + 30 * DAY);
    assert_eq!(block_on(scheduled::run(&p)).sent, 0);
}

#[test]
fn the_goods_are_never_shown_to_anyone_who_has_not_paid() {
    let p = platform();
    let (_, v) = send(&p, request("GET", "/api/products", &[], ""));
    assert!(!v.to_string().contains("addstickers"), "{v}");
    let order = buy(&p, 5, "sticker_pack");
    let (_, v) = as_user(&p, "GET", "/api/orders", 5, "");
    assert_eq!(v["orders"][0]["status"], "pending");
    assert!(v["orders"][0].get("delivery").is_none());
    webhook(&p, paid(2, 5, &order, "stx_1", 50));
    let (_, v) = as_user(&p, "GET", "/api/orders", 5, "");
    assert!(v["orders"][0]["delivery"]["url"].is_string());
    assert_eq!(
        as_user(&p, "GET", "/api/orders", 6, "").1,
        json!({"orders": []})
    );
}

#[test]
fn entitlements_follow_payments_refunds_and_time() {
    let mut p = platform();
    p.settings.insert("INIT_DATA_MAX_AGE", "0".into()); // the clock moves a month
    let ent =
        |p: &TestPlatform| as_user(p, "GET", "/api/entitlements", 5, "").1["entitlements"].clone();
    assert_eq!(ent(&p), json!([]));
    let pack = buy(&p, 5, "sticker_pack");
    let sub = buy(&p, 5, "pro_monthly");
    webhook(&p, paid(2, 5, &pack, "stx_p", 50));
    subscribe(&p, 3, 5, &sub, "stx_s1", true);
    let e = ent(&p);
    assert_eq!(e[0]["product_id"], "pro_monthly");
    assert_eq!(e[0]["kind"], "subscription");
    assert_eq!(e[0]["active_until"], NOW + 30 * DAY);
    assert_eq!(e[0]["renews"], true);
    assert_eq!(
        e[1],
        json!({"product_id": "sticker_pack", "kind": "one_time", "order_id": pack, "since": NOW})
    );
    // Another user owns nothing.
    assert_eq!(
        as_user(&p, "GET", "/api/entitlements", 6, "").1["entitlements"],
        json!([])
    );

    // Day 31 without renewal: the subscription lapsed.
    p.now.set(NOW + 31 * DAY);
    assert_eq!(ent(&p).as_array().unwrap().len(), 1);
    // Renewed (late, as Telegram may deliver it): active again until day 61.
    subscribe(&p, 4, 5, &sub, "stx_s2", false);
    assert_eq!(ent(&p)[0]["active_until"], NOW + 61 * DAY);

    // A refund of the pack removes it.
    let refund = json!({"update_id": 5, "message": {"message_id": 10, "date": NOW, "chat": {"id": 5, "type": "private"},
        "refunded_payment": {"currency": "XTR", "total_amount": 50, "invoice_payload": pack, "telegram_payment_charge_id": "stx_p"}}});
    webhook(&p, refund);
    let e = ent(&p);
    assert_eq!(e.as_array().unwrap().len(), 1);
    assert_eq!(e[0]["product_id"], "pro_monthly");
}

#[test]
fn subscriptions_are_cancelled_and_resumed_at_telegram() {
    let mut p = platform();
    p.settings.insert("INIT_DATA_MAX_AGE", "0".into()); // the clock moves months
    let sub = buy(&p, 5, "pro_monthly");
    subscribe(&p, 2, 5, &sub, "stx_s1", true);
    subscribe(&p, 3, 5, &sub, "stx_s2", false);
    let path = |action| format!("/api/subscriptions/{sub}/{action}");

    let (s, v) = as_user(&p, "POST", &path("cancel"), 5, "");
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["subscription"]["renews"], false);
    let (url, params) = p.bot.calls.borrow().last().cloned().unwrap();
    assert!(url.ends_with("/editUserStarSubscription"));
    assert_eq!(
        params,
        json!({"user_id": 5, "telegram_payment_charge_id": "stx_s1", "is_canceled": true}),
        "the subscription is named by its first charge"
    );
    // Cancelling again: already so, no call.
    let calls = p.bot.calls.borrow().len();
    assert_eq!(as_user(&p, "POST", &path("cancel"), 5, "").0, 200);
    assert_eq!(p.bot.calls.borrow().len(), calls);
    assert_eq!(
        as_user(&p, "GET", "/api/entitlements", 5, "").1["entitlements"][0]["renews"],
        false
    );

    // Telegram refuses: 502, the stored state is unchanged.
    p.bot.answer(400, json!({"ok": false, "error_code": 400, "description": "Bad Request: SUBSCRIPTION_NOT_ACTIVE"}));
    let (s, v) = as_user(&p, "POST", &path("resume"), 5, "");
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (502, Some("telegram_error"))
    );
    assert!(
        !v.to_string().contains("SUBSCRIPTION_NOT_ACTIVE"),
        "Telegram's words stay in the log"
    );
    assert!(
        block_on(p.store.order(&sub))
            .unwrap()
            .unwrap()
            .renewal_canceled
    );

    let (s, v) = as_user(&p, "POST", &path("resume"), 5, "");
    assert_eq!((s, &v["subscription"]["renews"]), (200, &json!(true)));
    assert_eq!(p.bot.calls.borrow().last().unwrap().1["is_canceled"], false);

    // Somebody else's, a one-time order, an unknown id, and after the end.
    assert_eq!(
        as_user(&p, "POST", &path("cancel"), 6, "").1["error"]["code"],
        "subscription_not_found"
    );
    let pack = buy(&p, 5, "sticker_pack");
    webhook(&p, paid(9, 5, &pack, "stx_p", 50));
    let (s, v) = as_user(
        &p,
        "POST",
        &format!("/api/subscriptions/{pack}/cancel"),
        5,
        "",
    );
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (409, Some("not_a_subscription"))
    );
    assert_eq!(
        as_user(&p, "POST", "/api/subscriptions/nope/cancel", 5, "").0,
        404
    );
    p.now.set(NOW + 90 * DAY);
    assert_eq!(
        as_user(&p, "POST", &path("cancel"), 5, "").1["error"]["code"],
        "subscription_not_active"
    );
    // Without initData: 401.
    assert_eq!(send(&p, request("POST", &path("cancel"), &[], "")).0, 401);
}

#[test]
fn deep_links_open_a_product() {
    let mut p = platform();
    let (_, v) = send(&p, request("GET", "/api/products", &[], ""));
    assert!(
        v["products"][0].get("link").is_none(),
        "no bot name, no link"
    );
    p.settings.insert("BOT_USERNAME", "ShopBot".into());
    let (_, v) = send(&p, request("GET", "/api/products", &[], ""));
    assert_eq!(
        v["products"][0]["link"],
        "https://t.me/ShopBot?start=buy_sticker_pack"
    );
    p.settings.insert("MINI_APP_NAME", "shop".into());
    let (_, v) = send(&p, request("GET", "/api/products", &[], ""));
    assert_eq!(
        v["products"][1]["link"],
        "https://t.me/ShopBot/shop?startapp=pro_monthly"
    );

    let start = json!({"update_id": 50, "message": {"message_id": 1, "date": NOW, "chat": {"id": 5, "type": "private"},
        "from": {"id": 5, "first_name": "A"}, "text": "/start buy_pro_monthly"}});
    let (_, v) = webhook(&p, start);
    assert_eq!(v["method"], "sendMessage");
    assert!(v["text"]
        .as_str()
        .unwrap()
        .starts_with("Pro membership, ⭐ 250"));
    assert_eq!(
        v["reply_markup"]["inline_keyboard"][0][0]["web_app"]["url"],
        "https://shop.example/?product=pro_monthly"
    );
}

#[test]
fn operators_hear_of_sales_and_refunds_once() {
    let mut p = platform();
    p.settings.insert("ADMIN_CHAT_IDS", "900,901".into());
    let order = buy(&p, 5, "sticker_pack");
    webhook(&p, paid(2, 5, &order, "stx_1", 50));
    webhook(&p, paid(3, 5, &order, "stx_1", 50));
    for chat in [900, 901] {
        let texts: Vec<Value> = sent_to(&p, chat)
            .into_iter()
            .map(|m| m["text"].clone())
            .collect();
        assert_eq!(texts.len(), 1, "{texts:?}");
        assert!(texts[0].as_str().unwrap().contains(&order));
    }
    // The admin refund and Telegram's refunded_payment both report it: once.
    assert_eq!(
        admin(
            &p,
            "POST",
            "/api/admin/refunds",
            &json!({"order_id": order}).to_string()
        )
        .0,
        200
    );
    let refund = json!({"update_id": 4, "message": {"message_id": 10, "date": NOW, "chat": {"id": 5, "type": "private"},
        "refunded_payment": {"currency": "XTR", "total_amount": 50, "invoice_payload": order, "telegram_payment_charge_id": "stx_1"}}});
    webhook(&p, refund);
    let refunds = sent_to(&p, 900)
        .iter()
        .filter(|m| m["text"].as_str().unwrap().contains("Refunded"))
        .count();
    assert_eq!(refunds, 1);
}

#[test]
fn the_export_has_orders_and_transactions_as_json_and_csv() {
    let p = platform();
    let a = buy(&p, 5, "sticker_pack");
    p.now.set(NOW + 100);
    let b = buy(&p, 6, "pro_monthly");
    webhook(&p, paid(2, 5, &a, "stx_a", 50));
    let (s, v) = admin(&p, "GET", "/api/admin/orders", "");
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["count"], 2);
    assert_eq!(v["rows"][0]["order_id"], b.as_str(), "newest first");
    assert_eq!(v["rows"][1]["charge_id"], "stx_a");

    let mut req = request(
        "GET",
        "/api/admin/orders",
        &[("authorization", "Bearer admin_secret")],
        "",
    );
    req.query = "format=csv&status=paid".into();
    let r = block_on(super::handle(&p, req));
    assert_eq!(r.header("content-type"), Some("text/csv; charset=utf-8"));
    let text = String::from_utf8(r.body).unwrap();
    let lines: Vec<&str> = text.trim_end().split("\r\n").collect();
    assert!(lines[0].starts_with("order_id,user_id,product_id,status"));
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[1].starts_with(&format!("{a},5,sticker_pack,paid,XTR,50,")));

    let mut req = request(
        "GET",
        "/api/admin/orders",
        &[("authorization", "Bearer admin_secret")],
        "",
    );
    req.query = format!("since={}", NOW + 50);
    let (_, v) = {
        let r = block_on(super::handle(&p, req));
        (r.status, crate::json::from_bytes::<Value>(&r.body).unwrap())
    };
    assert_eq!(v["count"], 1);
    let mut req = request(
        "GET",
        "/api/admin/orders",
        &[("authorization", "Bearer admin_secret")],
        "",
    );
    req.query = "status=lost".into();
    let r = block_on(super::handle(&p, req));
    assert_eq!(r.status, 400);
    assert_eq!(
        send(&p, request("GET", "/api/admin/orders", &[], "")).0,
        401
    );
}

#[test]
fn the_scheduled_job_expires_prunes_and_reports_differences_once() {
    let mut p = platform();
    p.settings.insert("ADMIN_CHAT_IDS", "900".into());
    let old = buy(&p, 5, "sticker_pack");
    p.now.set(NOW + DAY - 10);
    let fresh = buy(&p, 5, "sticker_pack");
    webhook(&p, paid(2, 5, &fresh, "stx_f", 50));
    p.now.set(NOW + DAY + 1);
    let ours = json!({"ok": true, "result": {"transactions": [
        {"id": "stx_f", "amount": 50, "date": 1, "source": {"type": "user"}},
        {"id": "stx_x", "amount": 9, "date": 1, "source": {"type": "user"}}]}});
    p.bot.answer(200, ours.clone());
    let report = block_on(scheduled::run(&p));
    assert_eq!(
        (report.expired, report.differences),
        (1, Some(1)),
        "{report:?}"
    );
    assert!(report.errors.is_empty(), "{report:?}");
    assert_eq!(order_status(&p, &old), "expired");
    assert_eq!(order_status(&p, &fresh), "paid");
    let reports = |p: &TestPlatform| {
        sent_to(p, 900)
            .iter()
            .filter(|m| m["text"].as_str().unwrap().contains("Reconciliation"))
            .count()
    };
    assert_eq!(reports(&p), 1);
    assert!(sent_to(&p, 900)
        .iter()
        .any(|m| m["text"].as_str().unwrap().contains("stx_x")));
    // The same differences next run: not reported again.
    p.bot.answer(200, ours);
    block_on(scheduled::run(&p));
    assert_eq!(reports(&p), 1);
    // An expired order can't be paid, and update ids older than 24 h are forgotten.
    let (_, v) = webhook(&p, pre_checkout(5, &old, "XTR", 50));
    assert_eq!(v["ok"], false);
    assert_eq!(p.db().count("processed_updates"), 1);
    p.now.set(NOW + 3 * DAY);
    assert_eq!(block_on(scheduled::run(&p)).pruned, 1);
    assert_eq!(p.db().count("processed_updates"), 0);
}

#[test]
fn the_scheduled_job_reports_a_broken_store_without_stopping() {
    let p = platform();
    p.db().broken.set(true);
    let report = block_on(scheduled::run(&p));
    assert!(report.errors.len() >= 3, "{report:?}");
    assert!(report.errors.iter().all(|e| !e.contains(TOKEN)));
}
