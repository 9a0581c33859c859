//! Every route and webhook branch, natively: the D1 store on SQLite and a
//! recording fake Bot API. This file holds the test platform and the helpers;
//! the tests are by area: `api` (identity, catalog, invoices, the page),
//! `webhook`, `admin`, and `sales` (what a sale leads to over time).

mod access;
mod admin;
mod api;
mod languages;
mod limits;
mod operator;
mod sales;
mod ton;
mod webhook;

use std::cell::Cell;
use std::collections::HashMap;

use hmac::{Hmac, Mac};
use pollster::block_on;
use serde_json::{json, Value};
use sha2::Sha256;

use super::limits::Limit;
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
    /// Each rate limit's requests per period, as a `[[ratelimits]]` binding
    /// has them; a limit left out is a missing binding.
    pub limits: std::cell::RefCell<HashMap<Limit, u32>>,
    /// Every request counted, in order: the limit and the key.
    pub counted: std::cell::RefCell<Vec<(Limit, String)>>,
    /// Requests so far per limit, key and period (a fixed window, as Miniflare keeps it).
    pub windows: std::cell::RefCell<HashMap<(Limit, String, u64), u32>>,
}

impl Transport for TestPlatform {
    async fn post_json(&self, url: &str, body: Vec<u8>) -> Result<(u16, Vec<u8>), TransportError> {
        self.bot.post_json(url, body).await
    }
    async fn get(
        &self,
        url: &str,
        headers: &[(&str, &str)],
    ) -> Result<(u16, Vec<u8>), TransportError> {
        self.bot.get(url, headers).await
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
    async fn allow(&self, limit: Limit, key: &str) -> Result<bool, ApiError> {
        self.counted.borrow_mut().push((limit, key.to_owned()));
        let Some(max) = self.limits.borrow().get(&limit).copied() else {
            return Err(ApiError::new(503, "not_configured", limit.binding()));
        };
        let window = (limit, key.to_owned(), self.now() / limit.period());
        let mut windows = self.windows.borrow_mut();
        let n = windows.entry(window).or_insert(0);
        if *n >= max {
            return Ok(false);
        }
        *n += 1;
        Ok(true)
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
        // High enough for every test but those of the limits themselves.
        limits: std::cell::RefCell::new(Limit::ALL.into_iter().map(|l| (l, 1000)).collect()),
        counted: Default::default(),
        windows: Default::default(),
    }
}

pub(super) fn init_data(user_id: i64) -> String {
    init_data_with(user_id, &[])
}

/// Launch data signed with the test bot's key, with `extra` fields too.
pub(super) fn init_data_with(user_id: i64, extra: &[(&str, &str)]) -> String {
    init_data_in(user_id, "en", extra)
}

/// Launch data of a user whose Telegram speaks `language_code`.
pub(super) fn init_data_in(user_id: i64, language_code: &str, extra: &[(&str, &str)]) -> String {
    let user =
        format!(r#"{{"id":{user_id},"first_name":"Ann","language_code":"{language_code}"}}"#);
    signed_launch(&user, extra)
}

/// Launch data for the user JSON `user`, signed with the test bot's key.
pub(super) fn signed_launch(user: &str, extra: &[(&str, &str)]) -> String {
    let user = user.to_owned();
    let mut pairs = vec![
        ("auth_date", NOW.to_string()),
        ("query_id", "Q1".to_string()),
        ("user", user),
    ];
    pairs.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
    let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    signed(&pairs)
}

/// Launch data with exactly these fields, signed with the test bot's key.
pub(super) fn signed(pairs: &[(&str, &str)]) -> String {
    let mut sorted = pairs.to_vec();
    sorted.sort();
    let dcs: Vec<String> = sorted.iter().map(|(k, v)| format!("{k}={v}")).collect();
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

/// A request as the edge hands it over: `target` is the path and query.
pub(super) fn request(method: &str, target: &str, headers: &[(&str, &str)], body: &str) -> Request {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    Request {
        method: method.into(),
        path: path.into(),
        query: query.into(),
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
