//! [`Platform`] for Workers: settings from vars or secrets, the clock, the
//! CSPRNG, fetch with a timeout, the `ASSETS`, `DB` and `KV` bindings.

use std::cell::OnceCell;
use std::rc::Rc;

use js_sys::{Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use worker::{web_sys, Env};

use super::bindings::{Kv, D1};
use super::task::wait;
use crate::config::{self, ConfigError, Settings, StorageKind};
use crate::error::ApiError;
use crate::http::Platform;
use crate::store::d1::D1Store;
use crate::store::kv::KvBackend;
use crate::store::EitherStore;
use crate::telegram::client::{Transport, TransportError};
use crate::telegram::ed25519::Ed25519Verifier;

thread_local! {
    /// The settings, parsed on the first request. Vars and secrets are fixed
    /// for the life of an isolate (changing one deploys a new version, in new
    /// isolates), so they are read from `env` and parsed once, not per request.
    static SETTINGS: OnceCell<Result<Rc<Settings>, ConfigError>> = const { OnceCell::new() };
}

pub struct WorkerPlatform {
    env: Env,
    store: OnceCell<EitherStore<D1Store, KvBackend>>,
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

/// Whether a rejected fetch was `AbortSignal.timeout` firing.
fn is_timeout(e: &JsValue) -> bool {
    Reflect::get(e, &"name".into())
        .ok()
        .and_then(|n| n.as_string())
        .is_some_and(|n| n == "TimeoutError")
}

impl Transport for WorkerPlatform {
    async fn post_json(&self, url: &str, body: Vec<u8>) -> Result<(u16, Vec<u8>), TransportError> {
        let fail = |e: JsValue| {
            if is_timeout(&e) {
                TransportError::Timeout
            } else {
                TransportError::Network
            }
        };
        let init = web_sys::RequestInit::new();
        init.set_method("POST");
        init.set_headers(
            &js_sys::JSON::parse(r#"{"content-type":"application/json"}"#).map_err(fail)?,
        );
        init.set_body(&Uint8Array::from(body.as_slice()));
        // The signal covers the response body too.
        // Outbound calls give up well inside a request's budget. A malformed
        // setting was already refused (503) by `Settings::parse`.
        let ms = self
            .settings()
            .map_or(config::BOT_API_TIMEOUT_MS, |s| s.bot_api_timeout_ms);
        init.set_signal(Some(&web_sys::AbortSignal::timeout_with_u32(ms as u32)));
        let global: web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
        let resp: web_sys::Response = wait(global.fetch_with_str_and_init(url, &init))
            .await
            .map_err(fail)?
            .unchecked_into();
        let body = super::runtime::body(resp.array_buffer())
            .await
            .map_err(fail)?;
        Ok((resp.status(), body))
    }
}

impl Ed25519Verifier for WorkerPlatform {
    async fn verify_ed25519(&self, key: &[u8; 32], message: &[u8], sig: &[u8; 64]) -> bool {
        super::crypto::verify_ed25519(key, message, sig).await
    }
}

impl Platform for WorkerPlatform {
    type Store = EitherStore<D1Store, KvBackend>;

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
        if super::crypto::random_bytes(&mut b).is_err() {
            panic!("crypto.getRandomValues failed");
        }
        b
    }

    fn store(&self, kind: StorageKind) -> Result<&Self::Store, ApiError> {
        if let Some(s) = self.store.get() {
            return Ok(s);
        }
        let binding = |name: &str| {
            Reflect::get(&self.env, &name.into())
                .ok()
                .filter(JsValue::is_object)
                .ok_or_else(|| binding_missing(name))
        };
        let store = match kind {
            StorageKind::D1 => EitherStore::D1(D1Store::new(D1(binding("DB")?))),
            StorageKind::Kv => EitherStore::Kv(KvBackend::new(Kv(binding("KV")?))),
        };
        Ok(self.store.get_or_init(|| store))
    }

    async fn asset(&self, path: &str) -> Option<Vec<u8>> {
        let assets = Reflect::get(&self.env, &"ASSETS".into())
            .ok()
            .filter(JsValue::is_object)?;
        // `ASSETS` is a Fetcher: `fetch(url)` like the global one.
        let fetch = Reflect::get(&assets, &"fetch".into())
            .ok()?
            .dyn_into::<js_sys::Function>()
            .ok()?;
        let url = JsValue::from(format!("https://assets.local{path}"));
        let promise: js_sys::Promise = fetch.call1(&assets, &url).ok()?.dyn_into().ok()?;
        let resp: web_sys::Response = wait(promise).await.ok()?.dyn_into().ok()?;
        if resp.status() != 200 {
            return None;
        }
        super::runtime::body(resp.array_buffer()).await.ok()
    }

    fn log(&self, line: &str) {
        worker::console_log!("{line}");
    }

    async fn sleep(&self, ms: u64) {
        super::task::sleep(ms).await
    }
}
