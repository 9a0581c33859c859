//! The Workers edge: the only code that touches the runtime. It reads the
//! runtime's request into the core's, lends the core a [`WorkerPlatform`]
//! (settings, fetch, D1, KV, assets, WebCrypto), and writes the core's
//! response back. Async work runs on `wasm-bindgen-futures`, as in `worker`.
//!
//! The request is read through `web_sys` rather than `worker::Request`, which
//! builds `request.cf` and parses the URL for every request; the core needs
//! neither.

#[cfg(target_arch = "wasm32")]
mod crypto;
#[cfg(target_arch = "wasm32")]
mod d1;
#[cfg(target_arch = "wasm32")]
mod kv;
#[cfg(target_arch = "wasm32")]
mod platform;
#[cfg(target_arch = "wasm32")]
mod request;
pub mod url;

#[cfg(target_arch = "wasm32")]
mod runtime {
    use wasm_bindgen::prelude::wasm_bindgen;
    use wasm_bindgen::JsValue;
    use wasm_bindgen_futures::future_to_promise;
    use worker::{event, web_sys, Env};

    use super::platform::WorkerPlatform;
    use super::request;
    use crate::http::{self, Response};

    #[event(start)]
    fn start() {
        console_error_panic_hook::set_once();
    }

    // The entry points worker-build's shim calls, exported directly rather than
    // through `#[event(fetch)]`/`#[event(scheduled)]`, which would hand us a
    // `worker::Request` (see the module doc).

    /// A request. The core answers every request with a response of its own,
    /// errors included; only a failure to build the runtime's `Response` fails.
    #[wasm_bindgen]
    pub fn fetch(req: web_sys::Request, env: Env, _ctx: JsValue) -> js_sys::Promise {
        future_to_promise(async move {
            let response = match request::read(&req).await {
                Ok(req) => http::handle(&WorkerPlatform::new(env), req).await,
                Err(e) => Response::error(&e),
            };
            request::to_runtime(response).map(JsValue::from)
        })
    }

    /// The Cron Trigger (`[triggers] crons` in wrangler.toml): housekeeping,
    /// retries and reconciliation; the report goes to the log.
    #[wasm_bindgen]
    pub fn scheduled(_event: JsValue, env: Env, _ctx: JsValue) -> js_sys::Promise {
        future_to_promise(async move {
            let platform = WorkerPlatform::new(env);
            let report = http::scheduled::run(&platform).await;
            let line = serde_json::to_string(&report).unwrap_or_default();
            http::Platform::log(&platform, &format!("scheduled: {line}"));
            Ok(JsValue::UNDEFINED)
        })
    }
}
