//! The buyer's language, end to end through the routes: the catalog, the
//! invoice, the bot's replies, pre-checkout refusals, the receipt and the
//! goods, and what the bot says later from the language kept with the order.

use pollster::block_on;
use serde_json::{json, Value};

use super::*;
use crate::http::scheduled;

const DAY: u64 = 86_400;

/// A request with `user`'s launch data, their Telegram in `language_code`.
fn as_user_in(
    p: &TestPlatform,
    method: &str,
    path: &str,
    user: i64,
    language_code: &str,
    body: &str,
) -> (u16, Value) {
    let auth = format!("tma {}", init_data_in(user, language_code, &[]));
    let headers = [
        ("authorization", auth.as_str()),
        ("content-type", "application/json"),
    ];
    send(p, request(method, path, &headers, body))
}

fn buy_in(p: &TestPlatform, user: i64, language_code: &str, product: &str) -> String {
    p.bot
        .answer(200, json!({"ok": true, "result": "https://t.me/$slug"}));
    let body = json!({ "product_id": product }).to_string();
    let (s, v) = as_user_in(p, "POST", "/api/invoices", user, language_code, &body);
    assert_eq!(s, 201, "{v}");
    v["order_id"].as_str().unwrap().to_owned()
}

/// An update's `from`, speaking `language_code` (none when empty).
fn from(user: i64, language_code: &str) -> Value {
    let mut u = json!({"id": user, "first_name": "A"});
    if !language_code.is_empty() {
        u["language_code"] = json!(language_code);
    }
    u
}

fn command(update_id: i64, user: i64, language_code: &str, text: &str) -> Value {
    json!({"update_id": update_id, "message": {"message_id": 1, "date": NOW,
        "chat": {"id": user, "type": "private"}, "from": from(user, language_code), "text": text}})
}

fn titles(v: &Value) -> Vec<String> {
    v["products"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["title"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn the_catalog_answers_in_the_callers_language() {
    let p = platform();
    let (s, zh) = as_user_in(&p, "GET", "/api/products", 5, "zh-hans", "");
    assert_eq!(s, 200, "{zh}");
    assert_eq!(zh["language"], "zh");
    assert_eq!(titles(&zh)[..3], ["贴纸包", "Pro 会员", "内部频道"]);
    assert!(zh["products"][0]["description"]
        .as_str()
        .unwrap()
        .starts_with("十二张手绘贴纸"));
    // Without launch data, with launch data in another language, or with
    // launch data that fails its check: English (the catalog is public).
    let (_, plain) = send(&p, request("GET", "/api/products", &[], ""));
    assert_eq!(plain["language"], "en");
    assert_eq!(titles(&plain)[0], "Sticker pack");
    let (_, fr) = as_user_in(&p, "GET", "/api/products", 5, "fr", "");
    assert_eq!(
        (fr["language"].clone(), titles(&fr)[0].clone()),
        (json!("en"), "Sticker pack".into())
    );
    let forged = init_data_in(5, "zh", &[]).replace("hash=", "hash=00");
    let auth = format!("tma {forged}");
    let (s, bad) = send(
        &p,
        request("GET", "/api/products", &[("authorization", &auth)], ""),
    );
    assert_eq!((s, bad["language"].clone()), (200, json!("en")));
    // `?lang=` names the language outright.
    let (_, asked) = send(&p, request("GET", "/api/products?lang=zh-CN", &[], ""));
    assert_eq!(titles(&asked)[0], "贴纸包");
    let (_, asked) = as_user_in(&p, "GET", "/api/products?lang=en", 5, "zh", "");
    assert_eq!(titles(&asked)[0], "Sticker pack");
}

#[test]
fn the_invoice_is_in_the_buyers_language_and_the_order_keeps_it() {
    let p = platform();
    let zh = buy_in(&p, 5, "zh-hans", "sticker_pack");
    let en = buy_in(&p, 6, "fr", "sticker_pack");
    let invoices = p.bot.called("createInvoiceLink");
    assert_eq!(
        (
            &invoices[0]["title"],
            &invoices[0]["description"],
            &invoices[0]["prices"][0]["label"]
        ),
        (
            &json!("贴纸包"),
            &json!("十二张手绘贴纸，买了就永久属于你。"),
            &json!("贴纸包")
        )
    );
    assert_eq!(invoices[1]["title"], "Sticker pack");
    assert_eq!(invoices[1]["prices"][0]["label"], "Sticker pack");
    let stored = p
        .db()
        .query("SELECT id, language FROM orders ORDER BY user_id");
    assert_eq!(
        Value::Object(stored[0].clone()),
        json!({"id": zh, "language": "zh"})
    );
    assert_eq!(
        Value::Object(stored[1].clone()),
        json!({"id": en, "language": "en"})
    );
}

#[test]
fn the_bot_answers_each_user_in_their_language() {
    let p = platform();
    let reply = |update_id, lang: &str, text: &str| {
        let (s, v) = webhook(&p, command(update_id, 5, lang, text));
        assert_eq!(s, 200);
        v
    };
    let v = reply(1, "zh-hans", "/start");
    assert!(v["text"].as_str().unwrap().starts_with("欢迎光临"), "{v}");
    assert_eq!(
        v["reply_markup"]["inline_keyboard"][0][0]["text"],
        "🛍 进入商店"
    );
    let v = reply(2, "zh_TW", "/start buy_pro_monthly");
    assert!(
        v["text"]
            .as_str()
            .unwrap()
            .starts_with("Pro 会员，⭐ 250\n30 天内"),
        "{v}"
    );
    assert_eq!(
        v["reply_markup"]["inline_keyboard"][0][0]["text"],
        "购买 · ⭐ 250"
    );
    assert!(reply(3, "zh", "/terms")["text"]
        .as_str()
        .unwrap()
        .starts_with("购买须知"));
    assert!(reply(4, "zh", "/paysupport")["text"]
        .as_str()
        .unwrap()
        .contains("订单号"));
    for (id, lang) in [(5, "fr"), (6, ""), (7, "en-GB")] {
        let v = reply(id, lang, "/start");
        assert!(
            v["text"].as_str().unwrap().starts_with("Welcome!"),
            "{lang}: {v}"
        );
    }
}

#[test]
fn pre_checkout_refusals_are_in_the_buyers_language() {
    let p = platform();
    let order = buy_in(&p, 5, "zh", "sticker_pack");
    let mut q = pre_checkout(5, &order, "XTR", 49);
    q["pre_checkout_query"]["from"] = from(5, "zh-hans");
    let (_, v) = webhook(&p, q.clone());
    assert_eq!(
        (v["ok"].clone(), v["error_message"].clone()),
        (json!(false), json!("订单价格有变动，请重新下单。"))
    );
    q["pre_checkout_query"]["from"] = from(5, "fr");
    let (_, v) = webhook(&p, q);
    assert_eq!(
        v["error_message"],
        "The price of this order has changed. Please start a new purchase."
    );
}

#[test]
fn a_chinese_buyer_gets_the_receipt_and_the_goods_in_chinese() {
    let p = platform();
    let order = buy_in(&p, 5, "zh", "sticker_pack");
    let mut u = paid(2, 5, &format!("{order}:sticker_pack"), "stx_1", 50);
    u["message"]["from"] = from(5, "zh-hans");
    assert_eq!(webhook(&p, u), (200, json!({})));
    let goods = p.bot.called("sendMessage").pop().unwrap();
    assert_eq!(
        goods["text"],
        format!("✅ 付款成功：贴纸包，⭐ 50。\n订单号 {order}。谢谢惠顾！\n\n谢谢！点下方按钮添加贴纸。")
    );
    assert_eq!(
        goods["reply_markup"]["inline_keyboard"][0][0]["text"],
        "打开"
    );
    // The page shows the goods again, in the language of whoever asks.
    let (_, v) = as_user_in(&p, "GET", "/api/orders", 5, "zh", "");
    assert_eq!(
        v["orders"][0]["delivery"]["text"],
        "谢谢！点下方按钮添加贴纸。"
    );
    let (_, v) = as_user_in(&p, "GET", "/api/orders", 5, "en", "");
    assert_eq!(
        v["orders"][0]["delivery"]["text"],
        "Thank you! Add your stickers with the button below."
    );

    // Without goods, the receipt rides in the webhook's answer, in Chinese too.
    let sub = buy_in(&p, 5, "zh", "pro_monthly");
    let mut u = paid(3, 5, &format!("{sub}:pro_monthly"), "stx_2", 250);
    u["message"]["from"] = from(5, "zh");
    let (_, v) = webhook(&p, u);
    assert_eq!(
        v["text"],
        format!("✅ 付款成功：Pro 会员，⭐ 250。\n订单号 {sub}。谢谢惠顾！")
    );
}

#[test]
fn setup_registers_the_commands_for_chinese_users_too() {
    let p = platform();
    let (s, v) = admin(&p, "POST", "/api/admin/setup", "");
    assert_eq!(s, 200, "{v}");
    let sets = p.bot.called("setMyCommands");
    assert_eq!(sets.len(), 2);
    assert_eq!(sets[1]["language_code"], "zh");
    let described: Vec<&str> = sets[1]["commands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["description"].as_str().unwrap())
        .collect();
    assert_eq!(described, ["进入商店", "付款帮助", "购买须知", "使用帮助"]);
}

/// What the bot says when no update of the buyer's is at hand comes in the
/// language kept with the order: here the removal after a lapsed subscription.
#[test]
fn a_removal_the_scheduled_job_makes_speaks_the_orders_language() {
    let mut p = platform();
    p.settings.insert(
        "CATALOG",
        r#"[{"id":"club","title":{"en":"Club","zh":"俱乐部"},"description":"30 days","currency":"XTR",
            "amount":30,"subscription_period":2592000,"access":{"chat_id":-1001234567890}}]"#
            .into(),
    );
    let order = buy_in(&p, 5, "zh-hans", "club");
    let mut u = paid(2, 5, &format!("{order}:club"), "stx_1", 30);
    let sp = &mut u["message"]["successful_payment"];
    sp["subscription_expiration_date"] = json!(NOW + 30 * DAY);
    sp["is_recurring"] = json!(true);
    sp["is_first_recurring"] = json!(true);
    // The payment's update says nothing of a language: the receipt is English,
    u["message"]["from"] = from(5, "");
    p.bot.on(
        "createChatInviteLink",
        200,
        json!({"ok": true, "result": {"invite_link": "https://t.me/+abc"}}),
    );
    assert_eq!(webhook(&p, u).0, 200);
    // but the order was made in Chinese, and the job speaks it.
    p.now.set(NOW + 32 * DAY);
    p.bot.on(
        "getChatMember",
        200,
        json!({"ok": true, "result": {"status": "member", "user": {"id": 5, "first_name": "A"}}}),
    );
    assert_eq!(block_on(scheduled::run(&p)).removals, 1);
    let told = p
        .bot
        .called("sendMessage")
        .into_iter()
        .rfind(|m| m["chat_id"] == 5)
        .unwrap();
    assert_eq!(
        told["text"],
        "「俱乐部」的入群资格已结束：订阅已到期。随时可以再次购买。"
    );
    assert_eq!(
        told["reply_markup"]["inline_keyboard"][0][0]["text"],
        "再次购买"
    );
}
