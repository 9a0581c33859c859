//! The Workers edge: the only code that touches the `worker` crate. It turns the
//! runtime's request into the core's, lends the core a [`WorkerPlatform`], and
//! turns the core's response back.

mod platform;

use worker::{
    event, Context, Env, Headers, Request as WorkerRequest, Response as WorkerResponse, Result,
    ScheduleContext, ScheduledEvent,
};

use crate::http::{self, router, Request, Response};
use platform::WorkerPlatform;

#[event(start)]
fn start() {
    console_error_panic_hook::set_once();
}

#[event(fetch)]
async fn fetch(req: WorkerRequest, env: Env, _ctx: Context) -> Result<WorkerResponse> {
    let response = match read_request(req).await {
        Ok(req) => http::handle(&WorkerPlatform::new(env), req).await,
        Err(e) => Response::error(&e),
    };
    to_worker(response)
}

/// The Cron Trigger (`[triggers] crons` in wrangler.toml): housekeeping,
/// retries and reconciliation; the report goes to the log.
#[event(scheduled)]
async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    let platform = WorkerPlatform::new(env);
    let report = http::scheduled::run(&platform).await;
    let line = serde_json::to_string(&report).unwrap_or_default();
    crate::http::Platform::log(&platform, &format!("scheduled: {line}"));
}

/// Reads the request, refusing an oversized body before reading it when the
/// client declared its length.
async fn read_request(
    mut req: WorkerRequest,
) -> std::result::Result<Request, crate::error::ApiError> {
    let bad =
        |_| crate::error::ApiError::bad_request("bad_request", "the request could not be read");
    let url = req.url().map_err(bad)?;
    let method = req.method().to_string();
    let limit = router::route(&method, url.path()).map_or(16 * 1024, |r| r.body_limit());
    let declared: Option<usize> = req
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.parse().ok());
    let body = match declared {
        Some(n) if n > limit => return Err(http::too_large(limit)),
        _ if method == "GET" || method == "HEAD" => Vec::new(),
        _ => req.bytes().await.map_err(bad)?,
    };
    Ok(Request {
        method,
        path: url.path().to_owned(),
        query: url.query().unwrap_or("").to_owned(),
        origin: url.origin().ascii_serialization(),
        headers: req
            .headers()
            .entries()
            .map(|(k, v)| (k.to_ascii_lowercase(), v))
            .collect(),
        body,
    })
}

fn to_worker(r: Response) -> Result<WorkerResponse> {
    let headers = Headers::new();
    for (k, v) in &r.headers {
        headers.set(k, v)?;
    }
    Ok(WorkerResponse::from_bytes(r.body)?
        .with_status(r.status)
        .with_headers(headers))
}
