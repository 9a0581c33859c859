//! HTTP routing: the Bot API under `/bot<token>/…`, the control API, the client page, and for
//! TON: toncenter's API under `/toncenter/…` and the TON Connect wallet's scripts.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use percent_encoding::percent_decode_str;
use serde_json::{json, Value};

use crate::botapi::{self, CallEnv, Via};
use crate::params::{ApiError, Params};
use crate::state::{Ctx, Fault};
use crate::{client_page, control, ton};

pub fn router(ctx: Arc<Ctx>) -> Router {
    Router::new()
        .route("/", get(client_page::page))
        .route("/telegram-web-app.js", get(web_app_js))
        .route("/tonconnect-wallet.js", get(ton::assets::wallet_script))
        .route("/tonconnect-client.js", get(ton::assets::page_script))
        .route("/tonconnect-wallet.png", get(ton::assets::icon))
        .nest("/control", control::router())
        .nest("/toncenter", ton::toncenter::router())
        .fallback(bot_api)
        .with_state(ctx)
}

pub fn json_response(status: u16, body: &Value) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        code,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

async fn web_app_js(State(ctx): State<Arc<Ctx>>) -> Response {
    let Some(path) = &ctx.config.web_app_js else {
        return (
            StatusCode::NOT_FOUND,
            "start the emulator with --web-app-js <file>",
        )
            .into_response();
    };
    match tokio::fs::read(path).await {
        Ok(bytes) => (
            [(
                header::CONTENT_TYPE,
                "application/javascript; charset=utf-8",
            )],
            bytes,
        )
            .into_response(),
        Err(e) => (StatusCode::NOT_FOUND, format!("{}: {e}", path.display())).into_response(),
    }
}

/// Query string, then body (JSON or form); form values stay strings, as Telegram receives them.
fn read_params(uri: &Uri, headers: &HeaderMap, body: &[u8]) -> Result<Params, ApiError> {
    let mut p = Params::default();
    if let Some(q) = uri.query() {
        p.extend_pairs(form_urlencoded::parse(q.as_bytes()).into_owned());
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(p);
    }
    let ctype = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if ctype.starts_with("multipart/") {
        return Err(ApiError::bad(
            "multipart/form-data is not supported by the emulator; send JSON or a form",
        ));
    }
    let as_json = ctype.starts_with("application/json")
        || (!ctype.contains("urlencoded") && body.first() == Some(&b'{'));
    if as_json {
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(m)) => p.0.extend(m),
            _ => {
                return Err(ApiError::bad(
                    "can't parse JSON object from the request body",
                ))
            }
        }
    } else {
        p.extend_pairs(form_urlencoded::parse(body).into_owned());
    }
    Ok(p)
}

/// First matching fault, counting down its `times`.
fn take_fault(ctx: &Ctx, method: &str) -> Option<Fault> {
    let mut s = ctx.lock();
    let i = s
        .faults
        .iter()
        .position(|f| f.method == "*" || f.method.eq_ignore_ascii_case(method))?;
    let f = s.faults[i].clone();
    if let Some(t) = s.faults[i].times.as_mut() {
        *t = t.saturating_sub(1);
        if *t == 0 {
            s.faults.remove(i);
        }
    }
    Some(f)
}

/// `/bot<token>/<method>` and `/bot<token>/test/<method>`, any HTTP method.
async fn bot_api(
    State(ctx): State<Arc<Ctx>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path();
    let Some(rest) = path.strip_prefix("/bot") else {
        return json_response(404, &ApiError::new(404, "Not Found").body());
    };
    let (token, rest) = rest.split_once('/').unwrap_or((rest, ""));
    if percent_decode_str(token).decode_utf8_lossy() != ctx.config.bot_token {
        return json_response(401, &ApiError::unauthorized().body());
    }
    let (test_env, method) = match rest.strip_prefix("test/") {
        Some(m) => (true, m),
        None => (false, rest),
    };
    if method.is_empty() || method.contains('/') {
        return json_response(404, &ApiError::method_not_found().body());
    }
    let env = CallEnv {
        test_env,
        via: Via::Http,
    };
    let params = match read_params(&uri, &headers, &body) {
        Ok(p) => p,
        Err(e) => {
            botapi::record_call(
                &ctx,
                method,
                &Params::default(),
                env,
                e.code,
                &e.body(),
                None,
            );
            return json_response(e.code, &e.body());
        }
    };
    let fault = take_fault(&ctx, method);
    match fault.as_ref().map(|f| f.kind.as_str()) {
        Some("error") => {
            let f = fault.as_ref().expect("matched");
            let e = ApiError::new(
                f.error_code.unwrap_or(500),
                f.description
                    .clone()
                    .unwrap_or_else(|| "Internal Server Error".into()),
            );
            botapi::record_call(&ctx, method, &params, env, e.code, &e.body(), Some("error"));
            return json_response(e.code, &e.body());
        }
        Some("rate_limit") => {
            let f = fault.as_ref().expect("matched");
            let mut e = ApiError::too_many_requests(f.retry_after.unwrap_or(1));
            if let Some(d) = &f.description {
                e.description = d.clone();
            }
            botapi::record_call(
                &ctx,
                method,
                &params,
                env,
                e.code,
                &e.body(),
                Some("rate_limit"),
            );
            return json_response(e.code, &e.body());
        }
        Some("slow") => {
            let ms = fault.as_ref().and_then(|f| f.delay_ms).unwrap_or(1000);
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
        _ => {}
    }
    let (status, body) = botapi::call_and_record(&ctx, method, &params, env).await;
    if fault.as_ref().is_some_and(|f| f.kind == "drop") {
        // Executed, but the answer is lost: headers go out, then the connection breaks.
        if let Some(c) = ctx.lock().calls.last_mut() {
            c.fault = Some("drop".into());
        }
        return Response::builder()
            .status(StatusCode::OK)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::new(BrokenBody))
            .expect("valid response");
    }
    json_response(status, &body)
}

/// A body that fails at once, making hyper abort the connection mid-response.
struct BrokenBody;

impl http_body::Body for BrokenBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, io::Error>>> {
        Poll::Ready(Some(Err(io::Error::new(
            io::ErrorKind::ConnectionAborted,
            "emulator fault: response dropped",
        ))))
    }
}

/// Faults are validated when registered so a typo fails the test that set it up.
pub fn validate_fault(f: &Fault) -> Result<(), String> {
    if !["error", "rate_limit", "slow", "drop"].contains(&f.kind.as_str()) {
        return Err(format!(
            "kind must be error, rate_limit, slow or drop, not {:?}",
            f.kind
        ));
    }
    if f.method.is_empty() {
        return Err("method is required (a Bot API method name or *)".into());
    }
    if f.times == Some(0) {
        return Err("times must be at least 1 (leave it out for no limit)".into());
    }
    if f.error_code.is_some_and(|c| !(400..=599).contains(&c)) {
        return Err("error_code must be 400-599".into());
    }
    Ok(())
}

pub fn fault_list(ctx: &Ctx) -> Value {
    json!(ctx.lock().faults)
}
