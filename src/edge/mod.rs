//! The Workers edge: the only code that touches the `worker` crate. It turns the
//! runtime's request into the core's, lends the core a [`WorkerPlatform`], and
//! turns the core's response back.

mod platform;

use futures_util::StreamExt;

use worker::{
    event, Context, Env, Headers, Request as WorkerRequest, Response as WorkerResponse, Result,
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
        _ => read_body(&mut req, limit).await?,
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

/// Reads the body chunk by chunk and stops with a 413 as soon as it passes
/// `limit`, so a huge or endless body (no length declared) is never held whole.
async fn read_body(
    req: &mut WorkerRequest,
    limit: usize,
) -> std::result::Result<Vec<u8>, crate::error::ApiError> {
    let bad = |_| crate::error::ApiError::bad_request("bad_request", "the body could not be read");
    if req.inner().body().is_none() {
        return Ok(Vec::new());
    }
    let mut stream = req.stream().map_err(bad)?;
    let mut body = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(bad)?;
        if body.len() + chunk.len() > limit {
            return Err(http::too_large(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
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
