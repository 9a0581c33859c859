//! The wallet's side of TON Connect: `connect` (with `ton_addr` and `ton_proof`),
//! `restoreConnection`, `disconnect` and `sendTransaction`, for the Telegram user the client
//! page plays. The injected script (`assets`) forwards the Mini App's calls to the client page
//! with `postMessage`; the page calls the control API, which lands here.
//!
//! Like a real wallet, `connect` fetches the app's manifest and signs the proof for the host of
//! the manifest's `url`; a `sendTransaction` waits for the user (Confirm / Reject on the page, or
//! the control API) before anything reaches the chain.

use std::collections::BTreeMap;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::Serialize;
use serde_json::{json, Value};

use super::cells::{boc_b64, friendly, raw_lower};
use super::ledger::Ledger;
use super::TonConfig;
use crate::state::{now_ms, now_unix, Ctx};

pub mod parse;

pub use parse::{parse_transaction, WalletMessage};

/// The wallet's `app_name` (TON Connect's wallet identifier) and display name.
pub const APP_NAME: &str = "tma-emulator-wallet";
pub const WALLET_NAME: &str = "Emulator Wallet";
/// The key of `window` the injected wallet sits under.
pub const JS_BRIDGE_KEY: &str = "tmaEmulatorWallet";
/// The SDK's limit, in bytes, on the proof's payload and on its domain.
const MAX_PROOF_PART: usize = 128;

/// TON Connect's error codes (connect events and RPC answers).
pub const BAD_REQUEST: u32 = 1;
pub const MANIFEST_NOT_FOUND: u32 = 2;
pub const MANIFEST_CONTENT: u32 = 3;
pub const UNKNOWN_APP: u32 = 100;
pub const USER_REJECTS: u32 = 300;
pub const METHOD_NOT_SUPPORTED: u32 = 400;

/// One app a user connected, by the origin of the page that asked.
#[derive(Clone, Debug, Serialize)]
pub struct Connection {
    pub user_id: i64,
    pub origin: String,
    pub manifest_url: String,
    pub app_name: String,
    /// What the proof was (or would be) signed for.
    pub domain: String,
    pub connected_at: i64,
    /// What a stricter wallet might refuse in the manifest.
    pub warnings: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    Pending,
    Confirmed,
    Rejected,
    Expired,
}

/// A `sendTransaction` and what became of it.
#[derive(Clone, Debug, Serialize)]
pub struct SendRequest {
    pub id: String,
    /// The app's RPC id, echoed in the answer.
    pub rpc_id: String,
    pub user_id: i64,
    pub origin: String,
    pub valid_until: Option<i64>,
    pub created_ms: i64,
    pub status: RequestStatus,
    /// What the confirm panel shows: each message decoded, the total, the balance.
    pub summary: Value,
    /// The wallet's answer to the app once decided (`{id, result}` or `{id, error}`).
    pub response: Option<Value>,
    /// Hashes (base64) of the transactions a confirmation made.
    pub transactions: Vec<String>,
    #[serde(skip)]
    pub messages: Vec<WalletMessage>,
}

#[derive(Default)]
pub struct Sessions {
    pub connections: BTreeMap<(i64, String), Connection>,
    pub requests: Vec<SendRequest>,
    next_event_id: u64,
    next_request: u64,
}

impl Sessions {
    fn event_id(&mut self) -> u64 {
        self.next_event_id += 1;
        self.next_event_id
    }

    pub fn request(&self, id: &str) -> Option<&SendRequest> {
        self.requests.iter().find(|r| r.id == id)
    }
}

/// `DeviceInfo`: what the wallet says about itself in every connect event.
pub fn device_info(config: &TonConfig) -> Value {
    json!({
        "platform": "browser",
        "appName": APP_NAME,
        "appVersion": env!("CARGO_PKG_VERSION"),
        "maxProtocolVersion": 2,
        "features": [
            "SendTransaction",
            {"name": "SendTransaction", "maxMessages": config.wallet.max_messages()},
        ],
    })
}

fn connect_error(id: u64, code: u32, message: impl Into<String>) -> Value {
    json!({"event": "connect_error", "id": id, "payload": {"code": code, "message": message.into()}})
}

/// `rpc answer` with an error.
pub fn rpc_error(rpc_id: &str, code: u32, message: impl Into<String>) -> Value {
    json!({"id": rpc_id, "error": {"code": code, "message": message.into()}})
}

/// The manifest as a wallet reads it: where its app lives, its name, what looks wrong.
struct Manifest {
    url: String,
    name: String,
    warnings: Vec<String>,
}

/// Fetches and checks the manifest; the error is a connect event's code and message.
async fn fetch_manifest(ctx: &Ctx, manifest_url: &str) -> Result<Manifest, (u32, String)> {
    let not_found = |m: String| (MANIFEST_NOT_FOUND, m);
    let resp = ctx
        .http
        .get(manifest_url)
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .map_err(|e| not_found(format!("manifest {manifest_url} unreachable: {e}")))?;
    if !resp.status().is_success() {
        return Err(not_found(format!(
            "manifest {manifest_url} answered {}",
            resp.status()
        )));
    }
    let mut warnings = Vec::new();
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    if header("access-control-allow-origin") != "*" {
        warnings.push("the manifest is served without Access-Control-Allow-Origin: *".into());
    }
    if !header("content-type").contains("json") {
        warnings.push("the manifest is not served as application/json".into());
    }
    let body: Value = resp
        .json()
        .await
        .map_err(|_| (MANIFEST_CONTENT, "the manifest is not JSON".to_string()))?;
    let field = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_string);
    let (Some(url), Some(name), Some(icon)) = (field("url"), field("name"), field("iconUrl"))
    else {
        return Err((
            MANIFEST_CONTENT,
            "the manifest needs url, name and iconUrl".into(),
        ));
    };
    if url.ends_with('/') {
        warnings.push("the manifest's url ends with a slash".into());
    }
    if icon.to_ascii_lowercase().ends_with(".svg") {
        warnings.push("the manifest's iconUrl is an SVG, which wallets refuse".into());
    }
    Ok(Manifest {
        url,
        name,
        warnings,
    })
}

/// The host (with a port that is not the scheme's default) of an http(s) URL.
pub fn host_of(url: &str) -> Option<String> {
    let u = reqwest::Url::parse(url).ok()?;
    let host = u.host_str()?.to_string();
    Some(match u.port() {
        Some(p) => format!("{host}:{p}"),
        None => host,
    })
}

/// `ton_addr`'s reply for the user's wallet.
fn ton_addr(l: &mut Ledger, user_id: i64) -> Value {
    let w = l.user_wallet(user_id);
    json!({
        "name": "ton_addr",
        "address": raw_lower(w.address()),
        "network": w.network.chain_id(),
        "publicKey": hex::encode(w.public_key()),
        "walletStateInit": boc_b64(&w.state_init()),
    })
}

/// `connect(protocolVersion, request)`: the `ConnectEvent` the wallet answers.
pub async fn connect(ctx: &Ctx, user_id: i64, origin: &str, request: &Value) -> Value {
    let event_id = ctx.mutate(|s| s.ton.sessions.event_id());
    let Some(manifest_url) = request.get("manifestUrl").and_then(Value::as_str) else {
        return connect_error(event_id, BAD_REQUEST, "manifestUrl is required");
    };
    let items: Vec<&Value> = request
        .get("items")
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let named = |n: &str| items.iter().find(|i| i["name"] == n).copied();
    if named("ton_addr").is_none() {
        return connect_error(event_id, BAD_REQUEST, "items must include ton_addr");
    }
    let manifest = match fetch_manifest(ctx, manifest_url).await {
        Ok(m) => m,
        Err((code, message)) => return connect_error(event_id, code, message),
    };
    let Some(domain) = host_of(&manifest.url) else {
        return connect_error(
            event_id,
            MANIFEST_CONTENT,
            "the manifest's url is not a URL",
        );
    };
    let mut warnings = manifest.warnings;
    if host_of(manifest_url).as_deref() != Some(domain.as_str()) {
        warnings.push(format!(
            "the manifest is served from another host than its url's ({domain})"
        ));
    }
    let proof_payload = named("ton_proof").map(|i| i["payload"].as_str().unwrap_or(""));
    if proof_payload.is_some_and(|p| p.len() > MAX_PROOF_PART) || domain.len() > MAX_PROOF_PART {
        return connect_error(
            event_id,
            BAD_REQUEST,
            "ton_proof payload or domain over 128 bytes",
        );
    }
    ctx.mutate(|s| {
        let l = &mut s.ton.ledger;
        let mut replies = vec![ton_addr(l, user_id)];
        if let Some(payload) = proof_payload {
            let w = l.user_wallet(user_id);
            let timestamp = now_unix() as u64;
            let signature = w.sign_proof(&domain, timestamp, payload);
            replies.push(json!({"name": "ton_proof", "proof": {
                "timestamp": timestamp,
                "domain": {"lengthBytes": domain.len(), "value": domain},
                "payload": payload,
                "signature": STANDARD.encode(signature),
            }}));
        }
        let connection = Connection {
            user_id,
            origin: origin.to_string(),
            manifest_url: manifest_url.to_string(),
            app_name: manifest.name.clone(),
            domain: domain.clone(),
            connected_at: now_unix(),
            warnings,
        };
        s.ton
            .sessions
            .connections
            .insert((user_id, origin.to_string()), connection);
        let device = device_info(&l.config);
        json!({"event": "connect", "id": event_id, "payload": {"items": replies, "device": device}})
    })
}

/// `restoreConnection()`: the connect event (address only) when this app is connected.
pub fn restore(ctx: &Ctx, user_id: i64, origin: &str) -> Value {
    ctx.mutate(|s| {
        let id = s.ton.sessions.event_id();
        let key = (user_id, origin.to_string());
        if !s.ton.sessions.connections.contains_key(&key) {
            return connect_error(id, UNKNOWN_APP, "this app is not connected");
        }
        let item = ton_addr(&mut s.ton.ledger, user_id);
        let device = device_info(&s.ton.ledger.config);
        json!({"event": "connect", "id": id, "payload": {"items": [item], "device": device}})
    })
}

pub fn disconnect(ctx: &Ctx, user_id: i64, origin: &str) -> bool {
    ctx.mutate(|s| {
        s.ton
            .sessions
            .connections
            .remove(&(user_id, origin.to_string()))
            .is_some()
    })
}

/// What `send` leads to: an answer at once, or a request waiting for the user.
pub enum Sent {
    Answer(Value),
    Pending(SendRequest),
}

/// `send(request)`: `sendTransaction` waits for the user; `disconnect` answers at once.
pub fn send(ctx: &Ctx, user_id: i64, origin: &str, request: &Value) -> Sent {
    let rpc_id = match &request["id"] {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    };
    let method = request["method"].as_str().unwrap_or("");
    let connected = ctx
        .lock()
        .ton
        .sessions
        .connections
        .contains_key(&(user_id, origin.to_string()));
    match method {
        "disconnect" => {
            disconnect(ctx, user_id, origin);
            return Sent::Answer(json!({"id": rpc_id, "result": {}}));
        }
        "sendTransaction" => {}
        _ => {
            return Sent::Answer(rpc_error(
                &rpc_id,
                METHOD_NOT_SUPPORTED,
                format!("method {method:?} is not supported"),
            ))
        }
    }
    if !connected {
        return Sent::Answer(rpc_error(&rpc_id, UNKNOWN_APP, "this app is not connected"));
    }
    let tx: Value = match request["params"][0].as_str().map(serde_json::from_str) {
        Some(Ok(v)) => v,
        _ => {
            return Sent::Answer(rpc_error(
                &rpc_id,
                BAD_REQUEST,
                "params[0] must be the transaction as a JSON string",
            ))
        }
    };
    ctx.mutate(|s| {
        let l = &mut s.ton.ledger;
        let wallet = l.user_wallet(user_id);
        let parsed = match parse_transaction(&tx, &wallet, now_unix()) {
            Ok(p) => p,
            Err(e) => return Sent::Answer(rpc_error(&rpc_id, BAD_REQUEST, e)),
        };
        let summary = parse::summary(l, user_id, &parsed.messages);
        let sessions = &mut s.ton.sessions;
        sessions.next_request += 1;
        let request = SendRequest {
            id: format!("tx-{}", sessions.next_request),
            rpc_id,
            user_id,
            origin: origin.to_string(),
            valid_until: parsed.valid_until,
            created_ms: now_ms(),
            status: RequestStatus::Pending,
            summary,
            response: None,
            transactions: Vec::new(),
            messages: parsed.messages,
        };
        sessions.requests.push(request.clone());
        Sent::Pending(request)
    })
}

/// The user confirms or rejects a pending request. Confirming sends it; refused (with the
/// reason) when the wallet cannot pay, leaving the request pending.
pub fn decide(ctx: &Ctx, id: &str, confirm: bool) -> Result<SendRequest, String> {
    ctx.mutate(|s| {
        let r = s
            .ton
            .sessions
            .request(id)
            .cloned()
            .ok_or("no such request")?;
        if r.status != RequestStatus::Pending {
            return Err(format!("the request is already {:?}", r.status).to_lowercase());
        }
        let (status, response, hashes) = if !confirm {
            let e = rpc_error(&r.rpc_id, USER_REJECTS, "User declined the transaction");
            (RequestStatus::Rejected, e, Vec::new())
        } else if r.valid_until.is_some_and(|t| t < now_unix()) {
            let e = rpc_error(
                &r.rpc_id,
                BAD_REQUEST,
                "the transaction's validUntil has passed",
            );
            (RequestStatus::Expired, e, Vec::new())
        } else {
            let valid_until = r.valid_until.unwrap_or(now_unix() + 300) as u32;
            let outs = r.messages.iter().map(WalletMessage::out).collect();
            let (boc, txs) = s
                .ton
                .ledger
                .send_from_wallet(r.user_id, outs, valid_until)?;
            let hashes = txs.iter().map(super::cells::hash_b64).collect();
            (
                RequestStatus::Confirmed,
                json!({"id": r.rpc_id, "result": boc}),
                hashes,
            )
        };
        let stored = s
            .ton
            .sessions
            .requests
            .iter_mut()
            .find(|q| q.id == id)
            .expect("found above");
        stored.status = status;
        stored.response = Some(response);
        stored.transactions = hashes;
        Ok(stored.clone())
    })
}

/// The user's wallet as the control API shows it.
pub fn wallet_view(l: &mut Ledger, user_id: i64) -> Value {
    let w = l.user_wallet(user_id);
    let testnet = w.network.is_testnet();
    let account = l.account_mut(w.address()).clone();
    let usdt = l.usdt_master();
    let usdt_wallet = super::ledger::jetton_wallet_address(&usdt, w.address());
    json!({
        "user_id": user_id,
        "version": w.kind.interface().trim_start_matches("wallet_"),
        "network": w.network.chain_id(),
        "address_raw": raw_lower(w.address()),
        "address": friendly(w.address(), true, testnet),
        "address_non_bounceable": friendly(w.address(), false, testnet),
        "public_key": hex::encode(w.public_key()),
        "wallet_id": w.wallet_id(),
        "state_init": boc_b64(&w.state_init()),
        "status": account.status.name(),
        "seqno": account.seqno,
        "balance": account.balance.to_string(),
        "usdt_balance": l.jetton_balance(&usdt, w.address()).to_string(),
        "usdt_wallet": super::cells::raw(&usdt_wallet),
    })
}
