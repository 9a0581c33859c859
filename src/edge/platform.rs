//! [`Platform`] for Workers: settings from vars or secrets, the clock, the
//! CSPRNG, fetch with a timeout, the `ASSETS`, `DB` and `KV` bindings.

use std::cell::OnceCell;
use std::time::Duration;

use futures_util::future::{select, Either};
use worker::{AbortController, Delay, Env, Fetch, Headers, Method, Request, RequestInit};

use crate::config::{self, StorageKind};
use crate::error::ApiError;
use crate::http::Platform;
use crate::store::d1::D1Store;
use crate::store::kv::KvBackend;
use crate::store::EitherStore;
use crate::telegram::client::{Transport, TransportError};

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

impl Transport for WorkerPlatform {
    async fn post_json(&self, url: &str, body: Vec<u8>) -> Result<(u16, Vec<u8>), TransportError> {
        let headers = Headers::new();
        headers
            .set("content-type", "application/json")
            .map_err(|_| TransportError::Network)?;
        let mut init = RequestInit::new();
        init.with_method(Method::Post)
            .with_headers(headers)
            .with_body(Some(js_sys::Uint8Array::from(body.as_slice()).into()));
        let req = Request::new_with_init(url, &init).map_err(|_| TransportError::Network)?;
        let controller = AbortController::default();
        let signal = controller.signal();
        let fetch = Fetch::Request(req);
        let send = std::pin::pin!(fetch.send_with_signal(&signal));
        // Outbound calls give up well inside a request's budget. A malformed
        // setting was already refused (503) by `Settings::parse`.
        let ms = config::bot_api_timeout_ms(self.setting("BOT_API_TIMEOUT_MS"))
            .unwrap_or(config::BOT_API_TIMEOUT_MS);
        let timeout = std::pin::pin!(Delay::from(Duration::from_millis(ms)));
        match select(send, timeout).await {
            Either::Left((Ok(mut resp), _)) => {
                let status = resp.status_code();
                let body = resp.bytes().await.map_err(|_| TransportError::Network)?;
                Ok((status, body))
            }
            Either::Left((Err(_), _)) => Err(TransportError::Network),
            Either::Right(_) => {
                controller.abort();
                Err(TransportError::Timeout)
            }
        }
    }
}

impl Platform for WorkerPlatform {
    type Store = EitherStore<D1Store, KvBackend>;

    fn setting(&self, name: &str) -> Option<String> {
        // Vars and secrets are both plain strings on `env`; `var` reads either.
        self.env.var(name).ok().map(|v| v.to_string())
    }

    fn now(&self) -> u64 {
        worker::Date::now().as_millis() / 1000
    }

    fn random(&self) -> [u8; 16] {
        let mut b = [0u8; 16];
        getrandom::getrandom(&mut b).expect("crypto.getRandomValues is available in Workers");
        b
    }

    fn store(&self, kind: StorageKind) -> Result<&Self::Store, ApiError> {
        if let Some(s) = self.store.get() {
            return Ok(s);
        }
        let store = match kind {
            StorageKind::D1 => EitherStore::D1(D1Store::new(
                self.env.d1("DB").map_err(|_| binding_missing("DB"))?,
            )),
            StorageKind::Kv => EitherStore::Kv(KvBackend::new(
                self.env.kv("KV").map_err(|_| binding_missing("KV"))?,
            )),
        };
        Ok(self.store.get_or_init(|| store))
    }

    async fn asset(&self, path: &str) -> Option<Vec<u8>> {
        let assets = self.env.assets("ASSETS").ok()?;
        let mut resp = assets
            .fetch(format!("https://assets.local{path}"), None)
            .await
            .ok()?;
        if resp.status_code() != 200 {
            return None;
        }
        resp.bytes().await.ok()
    }

    fn log(&self, line: &str) {
        worker::console_log!("{line}");
    }

    async fn sleep(&self, ms: u64) {
        Delay::from(Duration::from_millis(ms)).await
    }
}
