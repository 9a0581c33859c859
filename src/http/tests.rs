//! Every route and webhook branch, natively, against the memory store and a
//! recording fake Bot API.

use std::cell::Cell;
use std::collections::HashMap;

use hmac::{Hmac, Mac};
use pollster::block_on;
use serde_json::{json, Value};
use sha2::Sha256;

use super::{handle, Platform, Request, Response};
use crate::config::StorageKind;
use crate::error::ApiError;
use crate::store::d1::D1Store;
use crate::store::sqlite::Sqlite;
use crate::store::Store;
use crate::telegram::client::fake::FakeTransport;
use crate::telegram::client::{Transport, TransportError};
use crate::telegram::ed25519::{Dalek, Ed25519Verifier};
use crate::telegram::{BotKeys, BotToken};

pub(super) const TOKEN: &str = "4242:TEST_token";
pub(super) const NOW: u64 = 1_750_000_000;

pub(super) struct TestPlatform {
    pub settings: HashMap<&'static str, String>,
    pub store: D1Store<Sqlite>,
    pub bot: FakeTransport,
    pub counter: Cell<u8>,
    pub logs: std::cell::RefCell<Vec<String>>,
    /// The clock, settable so rules over time can be tested.
    pub now: Cell<u64>,
}

impl Transport for TestPlatform {
    async fn post_json(&self, url: &str, body: Vec<u8>) -> Result<(u16, Vec<u8>), TransportError> {
        self.bot.post_json(url, body).await
    }
}

impl Ed25519Verifier for TestPlatform {
    async fn verify_ed25519(&self, key: &[u8; 32], message: &[u8], sig: &[u8; 64]) -> bool {
        Dalek.verify_ed25519(key, message, sig).await
    }
}

impl Platform for TestPlatform {
    type Store = D1Store<Sqlite>;
    fn setting(&self, name: &str) -> Option<String> {
        self.settings.get(name).cloned()
    }
    fn now(&self) -> u64 {
        self.now.get()
    }
    fn random(&self) -> [u8; 16] {
        self.counter.set(self.counter.get() + 1);
        [self.counter.get(); 16]
    }
    fn store(&self, _: StorageKind) -> Result<&D1Store<Sqlite>, ApiError> {
        Ok(&self.store)
    }
    async fn asset(&self, path: &str) -> Option<Vec<u8>> {
        (path == "/").then(|| {
            br#"<script src="https://telegram.org/js/telegram-web-app.js"></script>"#.to_vec()
        })
    }
    fn log(&self, line: &str) {
        self.logs.borrow_mut().push(line.to_owned());
    }
}

impl TestPlatform {
    /// The SQLite database behind the store.
    pub fn db(&self) -> &Sqlite {
        self.store.database()
    }
}

pub(super) fn platform() -> TestPlatform {
    TestPlatform {
        settings: HashMap::from([
            ("BOT_TOKEN", TOKEN.to_string()),
            ("WEBHOOK_SECRET", "hook_secret".to_string()),
            ("ADMIN_TOKEN", "admin_secret".to_string()),
        ]),
        store: D1Store::new(Sqlite::new()),
        bot: FakeTransport::default(),
        counter: Cell::new(0),
        logs: Default::default(),
        now: Cell::new(NOW),
    }
}

pub(super) fn init_data(user_id: i64) -> String {
    let user = format!(r#"{{"id":{user_id},"first_name":"Ann","language_code":"en"}}"#);
    let pairs = [
        ("auth_date", NOW.to_string()),
        ("query_id", "Q1".to_string()),
        ("user", user),
    ];
    let dcs: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let keys = BotKeys::derive(&BotToken::parse(TOKEN).unwrap());
    let mut mac = Hmac::<Sha256>::new_from_slice(&keys.init_data).unwrap();
    mac.update(dcs.join("\n").as_bytes());
    let mut raw: Vec<String> = pairs
        .iter()
        .map(|(k, v)| {
            let v: String = form_urlencoded::byte_serialize(v.as_bytes()).collect();
            format!("{k}={v}")
        })
        .collect();
    raw.push(format!("hash={}", hex::encode(mac.finalize().into_bytes())));
    raw.join("&")
}

pub(super) fn request(method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Request {
    Request {
        method: method.into(),
        path: path.into(),
        query: String::new(),
        origin: "https://shop.example".into(),
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        body: body.as_bytes().to_vec(),
    }
}

pub(super) fn send(p: &TestPlatform, req: Request) -> (u16, Value) {
    let r: Response = block_on(handle(p, req));
    let v = crate::json::from_bytes(&r.body).unwrap_or(Value::Null);
    (r.status, v)
}

pub(super) fn as_user(
    p: &TestPlatform,
    method: &str,
    path: &str,
    user: i64,
    body: &str,
) -> (u16, Value) {
    let auth = format!("tma {}", init_data(user));
    send(
        p,
        request(
            method,
            path,
            &[
                ("authorization", &auth),
                ("content-type", "application/json"),
            ],
            body,
        ),
    )
}

pub(super) fn webhook(p: &TestPlatform, update: Value) -> (u16, Value) {
    send(
        p,
        request(
            "POST",
            "/telegram/webhook",
            &[
                ("x-telegram-bot-api-secret-token", "hook_secret"),
                ("content-type", "application/json"),
            ],
            &update.to_string(),
        ),
    )
}

pub(super) fn admin(p: &TestPlatform, method: &str, path: &str, body: &str) -> (u16, Value) {
    send(
        p,
        request(
            method,
            path,
            &[
                ("authorization", "Bearer admin_secret"),
                ("content-type", "application/json"),
            ],
            body,
        ),
    )
}

pub(super) fn buy(p: &TestPlatform, user: i64, product: &str) -> String {
    p.bot
        .answer(200, json!({"ok": true, "result": "https://t.me/$slug"}));
    let (status, v) = as_user(
        p,
        "POST",
        "/api/invoices",
        user,
        &json!({ "product_id": product }).to_string(),
    );
    assert_eq!(status, 201, "{v}");
    v["order_id"].as_str().unwrap().to_owned()
}

pub(super) fn pre_checkout(user: i64, order: &str, currency: &str, amount: i64) -> Value {
    json!({"update_id": 1, "pre_checkout_query": {"id": "pcq1", "from": {"id": user, "first_name": "A"},
        "currency": currency, "total_amount": amount, "invoice_payload": order}})
}

pub(super) fn paid(update_id: i64, user: i64, order: &str, charge: &str, amount: i64) -> Value {
    json!({"update_id": update_id, "message": {"message_id": 9, "date": NOW, "chat": {"id": user, "type": "private"},
        "from": {"id": user, "first_name": "A"}, "successful_payment": {"currency": "XTR", "total_amount": amount,
        "invoice_payload": order, "telegram_payment_charge_id": charge, "provider_payment_charge_id": ""}}})
}

pub(super) fn order_status(p: &TestPlatform, id: &str) -> String {
    block_on(p.store.order(id))
        .unwrap()
        .unwrap()
        .status
        .as_str()
        .to_owned()
}

#[test]
fn health_needs_no_settings() {
    let mut p = platform();
    p.settings.clear();
    let (status, v) = send(&p, request("GET", "/healthz", &[], ""));
    assert_eq!(
        (status, v["ok"].clone(), v["version"].clone()),
        (200, json!(true), json!(crate::VERSION))
    );
}

#[test]
fn verify_returns_the_launch_data() {
    let p = platform();
    let (status, v) = as_user(&p, "POST", "/api/verify", 77, "");
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["user"]["id"], 77);
    assert_eq!(v["user"]["language_code"], "en");
    assert_eq!(v["query_id"], "Q1");
    assert_eq!(v["auth_date"], NOW);
    assert!(v["start_param"].is_null());
}

#[test]
fn verify_errors_are_401_json_with_distinct_codes() {
    let p = platform();
    let (s, v) = send(&p, request("POST", "/api/verify", &[], ""));
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (401, Some("missing_init_data"))
    );
    let bad = format!("tma {}", init_data(1).replace("Ann", "Bob"));
    let (s, v) = send(
        &p,
        request("POST", "/api/verify", &[("authorization", &bad)], ""),
    );
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (401, Some("invalid_hash"))
    );
    let (s, v) = send(
        &p,
        request("POST", "/api/verify", &[("authorization", "tma %%%")], ""),
    );
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (401, Some("malformed_init_data"))
    );
}

#[test]
fn third_party_verification_answers_through_the_platforms_ed25519() {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use ed25519_dalek::{Signer, SigningKey};

    let key = SigningKey::from_bytes(&[5; 32]);
    let mut p = platform();
    p.settings.insert(
        "TELEGRAM_PUBLIC_KEY",
        hex::encode(key.verifying_key().to_bytes()),
    );
    let lines = format!("auth_date={NOW}\nchat_type=private");
    let sig = URL_SAFE_NO_PAD.encode(
        key.sign(format!("77:WebAppData\n{lines}").as_bytes())
            .to_bytes(),
    );
    let raw = format!("auth_date={NOW}&chat_type=private&signature={sig}&hash=00");
    let flipped = if sig.starts_with('A') { 'B' } else { 'A' };
    let post = |init_data: &str, bot_id: u64| {
        let body = json!({ "init_data": init_data, "bot_id": bot_id }).to_string();
        let json = [("content-type", "application/json")];
        send(&p, request("POST", "/api/verify/third-party", &json, &body))
    };
    let (s, v) = post(&raw, 77);
    assert_eq!(
        (s, &v["valid"], &v["chat_type"]),
        (200, &json!(true), &json!("private"))
    );
    for (raw, bot_id) in [
        (raw.replace("private", "group"), 77),
        (raw.clone(), 78),
        (raw.replace(&sig, &format!("{flipped}{}", &sig[1..])), 77),
    ] {
        let (s, v) = post(&raw, bot_id);
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (401, Some("invalid_signature")),
            "{raw}"
        );
    }
}

#[test]
fn a_missing_bot_token_is_named_not_panicked() {
    let mut p = platform();
    p.settings.remove("BOT_TOKEN");
    let (s, v) = as_user(&p, "POST", "/api/verify", 1, "");
    assert_eq!(s, 503);
    assert_eq!(v["error"]["code"], "not_configured");
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("BOT_TOKEN"));
}

#[test]
fn unknown_routes_and_methods() {
    let p = platform();
    assert_eq!(send(&p, request("GET", "/api/nope", &[], "")).0, 404);
    assert_eq!(send(&p, request("GET", "/api/verify", &[], "")).0, 405);
    let big = "x".repeat(17 * 1024);
    let (s, v) = send(&p, request("POST", "/api/invoices", &[], &big));
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (413, Some("payload_too_large"))
    );
}

#[test]
fn products_are_listed_from_the_catalog() {
    let p = platform();
    let (s, v) = send(&p, request("GET", "/api/products", &[], ""));
    assert_eq!(s, 200);
    let ids: Vec<&str> = v["products"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["sticker_pack", "pro_monthly"]);
    assert_eq!(v["products"][1]["subscription_period"], 2_592_000);
    assert!(v["products"][0].get("subscription_period").is_none());
}

#[test]
fn a_bad_catalog_is_refused_with_its_reason() {
    let mut p = platform();
    p.settings.insert(
        "CATALOG",
        r#"[{"id":"x","title":"","description":"d","currency":"XTR","amount":1}]"#.into(),
    );
    let (s, v) = send(&p, request("GET", "/api/products", &[], ""));
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (503, Some("invalid_catalog"))
    );
    assert!(v["error"]["message"].as_str().unwrap().contains("title"));
    // Only the routes that sell need the catalog: the webhook still answers.
    let (s, v) = webhook(&p, pre_checkout(5, "o_unknown", "XTR", 50));
    assert_eq!(
        (s, &v["method"], &v["ok"]),
        (200, &json!("answerPreCheckoutQuery"), &json!(false))
    );
}

#[test]
fn an_invoice_is_priced_from_the_catalog_and_stored_pending_first() {
    let p = platform();
    let order = buy(&p, 5, "pro_monthly");
    let (url, params) = p.bot.calls.borrow()[0].clone();
    assert!(url.ends_with("/bot4242:TEST_token/createInvoiceLink"));
    assert_eq!(params["currency"], "XTR");
    assert_eq!(params["provider_token"], "");
    assert_eq!(
        params["prices"],
        json!([{"label": "Pro membership", "amount": 250}])
    );
    assert_eq!(params["subscription_period"], 2_592_000);
    assert_eq!(params["payload"], format!("{order}:pro_monthly"));
    assert_eq!(order_status(&p, &order), "pending");
    assert_eq!(order.len(), 22, "128 random bits, base64url");
}

#[test]
fn invoice_failures() {
    let p = platform();
    let (s, v) = as_user(&p, "POST", "/api/invoices", 5, r#"{"product_id":"nope"}"#);
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (404, Some("product_not_found"))
    );
    let (s, _) = as_user(&p, "POST", "/api/invoices", 5, r#"{"product":"x"}"#);
    assert_eq!(s, 400);

    // Telegram refuses: the order is failed, not left pending.
    p.bot.answer(
        400,
        json!({"ok": false, "error_code": 400, "description": "Bad Request: nope"}),
    );
    let (s, v) = as_user(
        &p,
        "POST",
        "/api/invoices",
        5,
        r#"{"product_id":"sticker_pack"}"#,
    );
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (502, Some("telegram_error"))
    );
    p.bot.fail(TransportError::Timeout);
    assert_eq!(
        as_user(
            &p,
            "POST",
            "/api/invoices",
            5,
            r#"{"product_id":"sticker_pack"}"#
        )
        .0,
        502
    );
    let (_, v) = as_user(&p, "GET", "/api/orders", 5, "");
    let statuses: Vec<&str> = v["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["failed", "failed"]);
}

#[test]
fn card_products_need_the_provider_token() {
    let mut p = platform();
    p.settings.insert(
        "CATALOG",
        r#"[{"id":"eur","title":"T","description":"D","currency":"EUR","amount":199}]"#.into(),
    );
    let (s, v) = as_user(&p, "POST", "/api/invoices", 5, r#"{"product_id":"eur"}"#);
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (503, Some("payment_provider_not_configured"))
    );
    p.settings
        .insert("PAYMENT_PROVIDER_TOKEN", "284685063:TEST:abc".into());
    buy(&p, 5, "eur");
    assert_eq!(
        p.bot.calls.borrow()[0].1["provider_token"],
        "284685063:TEST:abc"
    );
}

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

#[test]
fn admin_routes_need_the_token() {
    let mut p = platform();
    let (s, _) = send(
        &p,
        request(
            "POST",
            "/api/admin/setup",
            &[("authorization", "Bearer nope")],
            "",
        ),
    );
    assert_eq!(s, 401);
    p.settings.remove("ADMIN_TOKEN");
    let (s, v) = admin(&p, "POST", "/api/admin/setup", "");
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (403, Some("admin_disabled"))
    );
}

#[test]
fn refunding_an_unpaid_order_is_a_conflict() {
    let p = platform();
    let order = buy(&p, 5, "sticker_pack");
    let (s, v) = admin(
        &p,
        "POST",
        "/api/admin/refunds",
        &json!({"order_id": order}).to_string(),
    );
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (409, Some("order_not_paid"))
    );
    let (s, _) = admin(&p, "POST", "/api/admin/refunds", r#"{"order_id":"nope"}"#);
    assert_eq!(s, 404);
}

#[test]
fn setup_registers_webhook_commands_and_menu() {
    let p = platform();
    let (s, v) = admin(&p, "POST", "/api/admin/setup", "");
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        p.bot.methods(),
        ["setWebhook", "setMyCommands", "setChatMenuButton"]
    );
    let calls = p.bot.calls.borrow();
    assert_eq!(calls[0].1["url"], "https://shop.example/telegram/webhook");
    assert_eq!(calls[0].1["secret_token"], "hook_secret");
    assert!(calls[0].1["allowed_updates"]
        .as_array()
        .unwrap()
        .contains(&json!("pre_checkout_query")));
    assert_eq!(
        calls[2].1["menu_button"]["web_app"]["url"],
        "https://shop.example/"
    );
}

#[test]
fn reconcile_reports_differences() {
    let p = platform();
    let a = buy(&p, 5, "sticker_pack");
    let b = buy(&p, 5, "sticker_pack");
    webhook(&p, paid(2, 5, &a, "stx_a", 50));
    webhook(&p, paid(3, 5, &b, "stx_b", 50));
    p.bot.answer(
        200,
        json!({"ok": true, "result": {"transactions": [
            {"id": "stx_a", "amount": 50, "date": 1, "source": {"type": "user"}},
            {"id": "stx_z", "amount": 10, "date": 1, "source": {"type": "user"}}
        ]}}),
    );
    let (s, v) = admin(&p, "GET", "/api/admin/reconcile", "");
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["in_sync"], false);
    let problems: Vec<(String, String)> = v["differences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["charge_id"].as_str().unwrap().into(),
                d["problem"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert!(problems.contains(&("stx_b".into(), "missing_at_telegram".into())));
    assert!(problems.contains(&("stx_z".into(), "missing_in_store".into())));
    assert_eq!(problems.len(), 2);
}

#[test]
fn the_page_has_a_csp_and_the_configured_script() {
    let mut p = platform();
    let r = block_on(handle(&p, request("GET", "/", &[], "")));
    assert!(r
        .header("content-security-policy")
        .unwrap()
        .contains("https://telegram.org"));
    assert!(
        String::from_utf8_lossy(&r.body).contains("https://telegram.org/js/telegram-web-app.js")
    );
    p.settings.insert(
        "TELEGRAM_WEB_APP_JS",
        "http://127.0.0.1:8081/telegram-web-app.js".into(),
    );
    let r = block_on(handle(&p, request("GET", "/", &[], "")));
    assert!(String::from_utf8_lossy(&r.body).contains("http://127.0.0.1:8081/telegram-web-app.js"));
}
