//! Baseline 3, the floor for a Rust worker: workers-rs with the same glue
//! (worker-build, wasm-bindgen) and release profile as tma-pay, reading the
//! request and answering a constant, like bench/workers/empty.mjs. The distance
//! from it to the empty JS worker is what any workers-rs worker pays per request.

use worker::{event, js_sys, wasm_bindgen_futures::JsFuture, web_sys, Context, Env};

#[event(fetch)]
async fn fetch(
    req: web_sys::Request,
    _env: Env,
    _ctx: Context,
) -> worker::Result<web_sys::Response> {
    if req.body().is_some() {
        JsFuture::from(req.array_buffer()?).await?;
    }
    let init = web_sys::ResponseInit::new();
    init.set_headers(&js_sys::JSON::parse(
        r#"[["content-type","application/json"]]"#,
    )?);
    Ok(web_sys::Response::new_with_opt_str_and_init(
        Some(r#"{"ok":true}"#),
        &init,
    )?)
}
