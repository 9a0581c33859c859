//! Telegram's updates: the purchase, pre-checkout, payments, refunds, commands.

use pollster::block_on;
use serde_json::json;

use super::*;

#[test]
fn the_whole_purchase_and_refund() {
    let p = platform();
    let order = buy(&p, 5, "sticker_pack");

    // Pre-checkout is answered in the webhook response.
    let (s, v) = webhook(&p, pre_checkout(5, &order, "XTR", 50));
    assert_eq!(s, 200);
    assert_eq!(
        v,
        json!({"method": "answerPreCheckoutQuery", "pre_checkout_query_id": "pcq1", "ok": true})
    );

    // The payment is stored, the order paid, and the goods (with the receipt)
    // sent by a call of its own, so that a failed send can be retried.
    let (s, v) = webhook(&p, paid(2, 5, &order, "stx_1", 50));
    assert_eq!((s, v), (200, json!({})));
    let (url, sent) = p.bot.calls.borrow().last().cloned().unwrap();
    assert!(url.ends_with("/sendMessage"), "{url}");
    assert_eq!(sent["chat_id"], 5);
    assert!(sent["text"].as_str().unwrap().contains("Sticker pack"));
    assert!(sent["reply_markup"].to_string().contains("addstickers"));
    assert_eq!(order_status(&p, &order), "paid");
    let sends = p
        .bot
        .methods()
        .iter()
        .filter(|m| *m == "sendMessage")
        .count();

    // Redelivered or re-sent with a new update id: nothing changes, no second receipt.
    assert_eq!(
        webhook(&p, paid(2, 5, &order, "stx_1", 50)),
        (200, json!({}))
    );
    assert_eq!(
        webhook(&p, paid(3, 5, &order, "stx_1", 50)),
        (200, json!({}))
    );
    assert_eq!(p.db().count("payments"), 1);
    assert_eq!(
        p.bot
            .methods()
            .iter()
            .filter(|m| *m == "sendMessage")
            .count(),
        sends,
        "the goods are sent once"
    );

    // Orders list shows it, with the goods, to its owner only.
    let (_, v) = as_user(&p, "GET", "/api/orders", 5, "");
    assert_eq!(v["orders"][0]["status"], "paid");
    assert_eq!(v["orders"][0]["telegram_payment_charge_id"], "stx_1");
    assert!(v["orders"][0]["delivery"]["url"]
        .as_str()
        .unwrap()
        .contains("addstickers"));
    assert_eq!(
        as_user(&p, "GET", "/api/orders", 6, "").1,
        json!({"orders": []})
    );

    // A second pre-checkout for the paid order is declined.
    let (_, v) = webhook(&p, pre_checkout(5, &order, "XTR", 50));
    assert_eq!(v["ok"], false);

    // Admin refund calls Telegram and marks it refunded; the refund update is a no-op.
    let (s, v) = admin(
        &p,
        "POST",
        "/api/admin/refunds",
        &json!({"order_id": order}).to_string(),
    );
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["order"]["status"], "refunded");
    let (_, params) = p.bot.calls.borrow().last().cloned().unwrap();
    assert_eq!(
        params,
        json!({"user_id": 5, "telegram_payment_charge_id": "stx_1"})
    );
    let refund_update = json!({"update_id": 4, "message": {"message_id": 10, "date": NOW, "chat": {"id": 5, "type": "private"},
        "refunded_payment": {"currency": "XTR", "total_amount": 50, "invoice_payload": order, "telegram_payment_charge_id": "stx_1"}}});
    assert_eq!(webhook(&p, refund_update), (200, json!({})));
    assert_eq!(order_status(&p, &order), "refunded");
    // A refunded order stays refunded when the old payment is delivered again.
    webhook(&p, paid(2, 5, &order, "stx_1", 50));
    assert_eq!(order_status(&p, &order), "refunded");
}

#[test]
fn pre_checkout_declines_mismatches_in_words() {
    let p = platform();
    let order = buy(&p, 5, "sticker_pack");
    for (user, cur, amount, order_id) in [
        (6, "XTR", 50, order.as_str()),
        (5, "XTR", 1, &order),
        (5, "XTR", 50, "unknown"),
    ] {
        let (s, v) = webhook(&p, pre_checkout(user, order_id, cur, amount));
        assert_eq!(s, 200);
        assert_eq!(v["ok"], false);
        assert!(v["error_message"].as_str().unwrap().len() > 10);
    }
    // Storage down: still an answer (no), in time.
    p.db().broken.set(true);
    let (s, v) = webhook(&p, pre_checkout(5, &order, "XTR", 50));
    assert_eq!((s, v["ok"].clone()), (200, json!(false)));
}

#[test]
fn a_payment_is_never_acknowledged_before_it_is_stored() {
    let p = platform();
    let order = buy(&p, 5, "sticker_pack");
    p.db().broken.set(true);
    let (s, v) = webhook(&p, paid(2, 5, &order, "stx_1", 50));
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (503, Some("storage_unavailable"))
    );
    assert!(
        !v.to_string().contains("the store is down"),
        "internal detail leaked: {v}"
    );
    assert!(p
        .logs
        .borrow()
        .iter()
        .any(|l| l.contains("the store is down")));
    // Telegram retries once storage is back: stored once, the goods sent.
    p.db().broken.set(false);
    assert_eq!(webhook(&p, paid(2, 5, &order, "stx_1", 50)).0, 200);
    assert_eq!(p.bot.methods().last().unwrap(), "sendMessage");
    assert_eq!(order_status(&p, &order), "paid");
    assert_eq!(p.db().count("payments"), 1);
}

#[test]
fn a_payment_for_an_unknown_order_is_still_stored() {
    let p = platform();
    let (s, _) = webhook(&p, paid(2, 5, "ghost", "stx_9", 50));
    assert_eq!(s, 200);
    assert_eq!(p.db().count("payments"), 1);
    assert!(p.logs.borrow().iter().any(|l| l.contains("unknown order")));
}

#[test]
fn subscription_renewals_extend_the_order() {
    let p = platform();
    let order = buy(&p, 5, "pro_monthly");
    let mut first = paid(2, 5, &order, "stx_a", 250);
    first["message"]["successful_payment"]["subscription_expiration_date"] = json!(NOW + 2_592_000);
    first["message"]["successful_payment"]["is_recurring"] = json!(true);
    first["message"]["successful_payment"]["is_first_recurring"] = json!(true);
    webhook(&p, first);
    let mut renewal = paid(3, 5, &order, "stx_b", 250);
    renewal["message"]["successful_payment"]["subscription_expiration_date"] =
        json!(NOW + 2 * 2_592_000);
    renewal["message"]["successful_payment"]["is_recurring"] = json!(true);
    let (_, v) = webhook(&p, renewal);
    assert!(v["text"].as_str().unwrap().contains("renewed"));
    let o = block_on(p.store.order(&order)).unwrap().unwrap();
    assert_eq!(
        o.subscription_expiration_date,
        Some((NOW + 2 * 2_592_000) as i64)
    );
    assert_eq!(o.telegram_payment_charge_id.as_deref(), Some("stx_b"));
    assert_eq!(p.db().count("payments"), 2);
}

#[test]
fn webhook_secret_and_body_are_checked() {
    let p = platform();
    let body = paid(2, 5, "o", "stx", 1).to_string();
    for headers in [vec![], vec![("x-telegram-bot-api-secret-token", "wrong")]] {
        let (s, v) = send(&p, request("POST", "/telegram/webhook", &headers, &body));
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (401, Some("invalid_webhook_secret"))
        );
    }
    assert_eq!(
        p.db().count("payments"),
        0,
        "nothing processed without the secret"
    );
    let (s, v) = send(
        &p,
        request(
            "POST",
            "/telegram/webhook",
            &[("x-telegram-bot-api-secret-token", "hook_secret")],
            "{nope",
        ),
    );
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (400, Some("invalid_update"))
    );
    // Updates we do not handle are acknowledged and ignored.
    assert_eq!(
        webhook(&p, json!({"update_id": 8, "edited_message": {}})),
        (200, json!({}))
    );
}

#[test]
fn commands_reply_once_per_update() {
    let p = platform();
    let start = json!({"update_id": 50, "message": {"message_id": 1, "date": NOW, "chat": {"id": 5, "type": "private"},
        "from": {"id": 5, "first_name": "A"}, "text": "/start"}});
    let (s, v) = webhook(&p, start.clone());
    assert_eq!(s, 200);
    assert_eq!(v["method"], "sendMessage");
    assert_eq!(
        v["reply_markup"]["inline_keyboard"][0][0]["web_app"]["url"],
        "https://shop.example/"
    );
    assert_eq!(
        webhook(&p, start),
        (200, json!({})),
        "a redelivered /start has no second effect"
    );
    for (id, cmd, word) in [
        (51, "/paysupport", "payment"),
        (52, "/terms", "Terms"),
        (53, "/help", "/start"),
    ] {
        let u = json!({"update_id": id, "message": {"message_id": 1, "date": NOW, "chat": {"id": 5, "type": "private"}, "text": cmd}});
        assert!(
            webhook(&p, u).1["text"].as_str().unwrap().contains(word),
            "{cmd}"
        );
    }
}
