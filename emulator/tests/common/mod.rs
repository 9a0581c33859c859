//! What the integration tests share: the emulator started in-process on an ephemeral port,
//! a tiny webhook server playing the bot, and small helpers, everything over loopback HTTP.
// Each test file uses a different part of this module.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde_json::{json, Value};
use tma_pay_emulator::{serve, Config};

pub const TOKEN: &str = "4242:TEST";

pub struct Emu {
    pub base: String,
    pub http: reqwest::Client,
}

impl Emu {
    pub async fn start(config: Config) -> Emu {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(serve(config, listener));
        Emu {
            base,
            http: reqwest::Client::new(),
        }
    }

    /// A Bot API call with a JSON body: (HTTP status, Telegram's body).
    pub async fn bot(&self, method: &str, params: Value) -> (u16, Value) {
        let r = self
            .http
            .post(format!("{}/bot{TOKEN}/{method}", self.base))
            .json(&params)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    }

    pub async fn get(&self, path: &str) -> Value {
        self.http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// A page as text (the client page is `/`).
    pub async fn text(&self, path: &str) -> String {
        self.http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .json(&body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    }

    /// Pays the invoice `slug` as `user_id`, the way the client page's Pay button does.
    pub async fn pay(&self, slug: &str, user_id: i64) -> (u16, Value) {
        self.post(
            &format!("/control/invoices/{slug}/pay"),
            json!({ "user_id": user_id }),
        )
        .await
    }

    pub async fn idle(&self) {
        let (status, body) = {
            let r = self
                .http
                .get(format!(
                    "{}/control/wait?for=idle&timeout_ms=5000",
                    self.base
                ))
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        };
        assert_eq!(status, 200, "not idle: {body}");
    }

    pub async fn stars_invoice(&self, extra: Value) -> String {
        let mut params = json!({"title": "Gold pass", "description": "A month of gold", "payload": "order-7",
            "currency": "XTR", "prices": [{"label": "Gold", "amount": 50}]});
        for (k, v) in extra.as_object().unwrap() {
            params[k] = v.clone();
        }
        let (status, body) = self.bot("createInvoiceLink", params).await;
        assert_eq!(status, 200, "{body}");
        let link = body["result"].as_str().unwrap().to_string();
        link.strip_prefix("https://t.me/$")
            .expect("Telegram-style link")
            .to_string()
    }
}

pub type Behavior = Box<dyn Fn(&Value) -> (u16, Value) + Send + Sync>;

/// The bot's webhook: records what arrives (update, secret header), answers per `behavior`.
pub struct Hook {
    pub received: Mutex<Vec<(Value, Option<String>)>>,
    pub behavior: Behavior,
}

impl Hook {
    pub async fn start(behavior: Behavior) -> (String, Arc<Hook>) {
        let hook = Arc::new(Hook {
            received: Mutex::new(Vec::new()),
            behavior,
        });
        let app = Router::new()
            .fallback(hook_handler)
            .with_state(hook.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/telegram/webhook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (url, hook)
    }

    pub fn updates(&self) -> Vec<Value> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .map(|(u, _)| u.clone())
            .collect()
    }

    pub fn of_kind(&self, kind: &str) -> Vec<Value> {
        self.updates()
            .into_iter()
            .filter(|u| u.get(kind).is_some())
            .collect()
    }
}

async fn hook_handler(
    State(h): State<Arc<Hook>>,
    headers: HeaderMap,
    Json(update): Json<Value>,
) -> Response {
    let secret = headers
        .get("x-telegram-bot-api-secret-token")
        .map(|v| v.to_str().unwrap().to_string());
    h.received.lock().unwrap().push((update.clone(), secret));
    let (status, body) = (h.behavior)(&update);
    let mut resp = (StatusCode::from_u16(status).unwrap(), Json(body.clone())).into_response();
    // A 429 body's retry_after becomes a Retry-After header, as a rate-limited server sends.
    if let (429, Some(n)) = (status, body["retry_after"].as_u64()) {
        resp.headers_mut()
            .insert("retry-after", n.to_string().parse().unwrap());
    }
    resp
}

pub fn config(webhook: Option<&str>) -> Config {
    Config {
        bot_token: TOKEN.into(),
        webhook_url: webhook.map(str::to_string),
        webhook_secret: Some("s3cret_-X".into()),
        retry_base: Duration::from_millis(20),
        retry_cap: Duration::from_millis(80),
        precheckout_timeout: Duration::from_secs(3),
        ..Config::default()
    }
}

pub fn chrono_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

pub fn form_pairs(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap();
            let v = percent_decode(v);
            (k.to_string(), v)
        })
        .collect()
}

pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(if b[i] == b'+' { b' ' } else { b[i] });
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}
