//! [`Platform`] for Workers: settings from vars or secrets, the clock, the
//! CSPRNG, fetch with a timeout, the `ASSETS`, `DB` and `KV` bindings, and
//! the Rate Limiting bindings (`LIMIT_*`).

use std::cell::OnceCell;
use std::rc::Rc;
use std::time::Duration;

use js_sys::Uint8Array;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use worker::{web_sys, Env};

use super::d1::WorkerD1;
use super::kv::WorkerKv;
use crate::config::{self, ConfigError, Settings, StorageKind};
use crate::error::ApiError;
use crate::http::limits::Limit;
use crate::http::Platform;
use crate::store::d1::D1Store;
use crate::store::kv::KvStore;
use crate::store::EitherStore;
use crate::telegram::client::{Transport, TransportError};
use crate::telegram::ed25519::Ed25519Verifier;

thread_local! {
    /// The settings, parsed on the first request. Vars and secrets are fixed
    /// for the life of an isolate (changing one deploys a new version, in new
    /// isolates), so they are read from `env` and parsed once, not per request.
    static SETTINGS: OnceCell<Result<Rc<Settings>, ConfigError>> = const { OnceCell::new() };
}

type WorkerStore = EitherStore<D1Store<WorkerD1>, KvStore<WorkerKv>>;

pub struct WorkerPlatform {
    env: Env,
    store: OnceCell<WorkerStore>,
}

impl WorkerPlatform {
    pub fn new(env: Env) -> Self {
        WorkerPlatform {
            env,
            store: OnceCell::new(),
        }
    }
}

fn binding_missing(name: &str) -> ApiError {
    ApiError::new(
        503,
        "not_configured",
        format!("the {name} binding is missing from wrangler.toml"),
    )
}

/// A request through the runtime's `fetch`, and the answer's status and
/// body. Through `web_sys` rather than `worker::Fetch`: `worker::Response`
/// reads a body chunk by chunk through a stream adapter, which took
/// `/api/invoices` below the guard in `make bench-ab` (BENCHMARKS.md).
async fn send(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
    signal: &web_sys::AbortSignal,
) -> Result<(u16, Vec<u8>), JsValue> {
    let request_headers = web_sys::Headers::new()?;
    for (name, value) in headers {
        request_headers.set(name, value)?;
    }
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    init.set_headers(&request_headers);
    if let Some(body) = body {
        init.set_body(&Uint8Array::from(body));
    }
    init.set_signal(Some(signal));
    let global: web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
    let response: web_sys::Response = JsFuture::from(global.fetch_with_str_and_init(url, &init))
        .await?
        .unchecked_into();
    let buffer = JsFuture::from(response.array_buffer()?).await?;
    Ok((response.status(), Uint8Array::new(&buffer).to_vec()))
}

impl WorkerPlatform {
    /// `send` within the outbound timeout: calls give up well inside a
    /// request's budget (a malformed setting was already refused, 503, by
    /// `Settings::parse`). The signal covers the response body too.
    async fn timed(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Result<(u16, Vec<u8>), TransportError> {
        let ms = self
            .settings()
            .map_or(config::BOT_API_TIMEOUT_MS, |s| s.bot_api_timeout_ms);
        let signal = web_sys::AbortSignal::timeout_with_u32(ms as u32);
        send(method, url, headers, body, &signal)
            .await
            .map_err(|_| {
                if signal.aborted() {
                    TransportError::Timeout
                } else {
                    TransportError::Network
                }
            })
    }
}

impl Transport for WorkerPlatform {
    async fn post_json(&self, url: &str, body: Vec<u8>) -> Result<(u16, Vec<u8>), TransportError> {
        let json = [("content-type", "application/json")];
        self.timed("POST", url, &json, Some(&body)).await
    }

    async fn get(
        &self,
        url: &str,
        headers: &[(&str, &str)],
    ) -> Result<(u16, Vec<u8>), TransportError> {
        self.timed("GET", url, headers, None).await
    }
}

impl Ed25519Verifier for WorkerPlatform {
    async fn verify_ed25519(&self, key: &[u8; 32], message: &[u8], sig: &[u8; 64]) -> bool {
        super::crypto::verify_ed25519(key, message, sig).await
    }
}

impl Platform for WorkerPlatform {
    type Store = WorkerStore;

    fn setting(&self, name: &str) -> Option<String> {
        // Vars and secrets are both plain strings on `env`; `var` reads either.
        self.env.var(name).ok().map(|v| v.to_string())
    }

    fn settings(&self) -> Result<Rc<Settings>, ConfigError> {
        SETTINGS.with(|s| {
            s.get_or_init(|| Settings::parse(|name| self.setting(name)).map(Rc::new))
                .clone()
        })
    }

    fn now(&self) -> u64 {
        (js_sys::Date::now() / 1000.0) as u64
    }

    fn random(&self) -> [u8; 16] {
        let mut b = [0u8; 16];
        // Workers always has `crypto.getRandomValues`; without it there is no
        // safe id to make, so failing loudly is right.
        getrandom::fill(&mut b).expect("the runtime's CSPRNG");
        b
    }

    fn store(&self, kind: StorageKind) -> Result<&Self::Store, ApiError> {
        if let Some(s) = self.store.get() {
            return Ok(s);
        }
        let store = match kind {
            StorageKind::D1 => {
                let db = self.env.d1("DB").map_err(|_| binding_missing("DB"))?;
                EitherStore::D1(D1Store::new(WorkerD1(db)))
            }
            StorageKind::Kv => {
                let kv = self.env.kv("KV").map_err(|_| binding_missing("KV"))?;
                EitherStore::Kv(KvStore::new(WorkerKv(kv)))
            }
        };
        Ok(self.store.get_or_init(|| store))
    }

    async fn asset(&self, path: &str) -> Option<Vec<u8>> {
        let assets = self.env.assets("ASSETS").ok()?;
        let mut response = assets
            .fetch(format!("https://assets.local{path}"), None)
            .await
            .ok()?;
        if response.status_code() != 200 {
            return None;
        }
        response.bytes().await.ok()
    }

    fn log(&self, line: &str) {
        worker::console_log!("{line}");
    }

    async fn sleep(&self, ms: u64) {
        worker::Delay::from(Duration::from_millis(ms)).await
    }

    /// `env.LIMIT_*.limit({key})` through `worker`'s `RateLimiter`. A missing
    /// binding refuses the request (503 naming it): a deployment never runs
    /// without its limits unnoticed. A binding that fails to answer lets the
    /// request through (and logs it): the limits guard the shop, they must not
    /// take it down.
    async fn allow(&self, limit: Limit, key: &str) -> Result<bool, ApiError> {
        let name = limit.binding();
        let limiter = self
            .env
            .rate_limiter(name)
            .map_err(|_| binding_missing(name))?;
        match limiter.limit(key.to_owned()).await {
            Ok(outcome) => Ok(outcome.success),
            Err(e) => {
                self.log(&format!(
                    "{name}: the rate limiter failed, request let through: {e}"
                ));
                Ok(true)
            }
        }
    }
}
