//! The runtime's request into the core's, and the core's response back.

use js_sys::Uint8Array;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use worker::web_sys;

use crate::error::ApiError;
use crate::http::{self, router, Request, Response};

fn unreadable<T>(_: T) -> ApiError {
    ApiError::bad_request("bad_request", "the request could not be read")
}

/// The headers read: those the core reads, and `content-length`.
fn header_names() -> impl Iterator<Item = &'static str> {
    http::message::REQUEST_HEADERS
        .into_iter()
        .chain(["content-length"])
}

/// The request without its body. Headers are asked for by name: the core
/// reads a few, and walking all of them (a CDN adds a dozen) costs more.
fn read_head(req: &web_sys::Request) -> Option<Request> {
    let url = req.url();
    let parts = super::url::split(&url)?;
    let runtime_headers = req.headers();
    let headers = header_names()
        .filter_map(|name| {
            let value = runtime_headers.get(name).ok().flatten()?;
            Some((name.to_owned(), value))
        })
        .collect();
    Some(Request {
        path: parts.path.to_owned(),
        query: parts.query.to_owned(),
        origin: parts.origin,
        method: req.method(),
        headers,
        body: Vec::new(),
    })
}

/// Reads the request, refusing an oversized body before reading it when the
/// client declared its length.
pub async fn read(req: &web_sys::Request) -> Result<Request, ApiError> {
    let mut head = read_head(req).ok_or_else(|| unreadable(()))?;
    let limit = router::route(&head.method, &head.path)
        .map_or(http::DEFAULT_BODY_LIMIT, |r| r.route.body_limit());
    let declared: Option<usize> = head
        .headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok());
    head.body = match declared {
        Some(n) if n > limit => return Err(http::too_large(limit)),
        _ if head.method == "GET" || head.method == "HEAD" => Vec::new(),
        Some(0) => Vec::new(),
        // The runtime holds a declared length to its word: one arrayBuffer().
        Some(_) => {
            let buffer = JsFuture::from(req.array_buffer().map_err(unreadable)?)
                .await
                .map_err(unreadable)?;
            Uint8Array::new(&buffer).to_vec()
        }
        None => match req.body() {
            Some(stream) => read_capped(stream, limit).await?,
            None => Vec::new(),
        },
    };
    Ok(head)
}

/// A body of undeclared length, chunk by chunk: a 413 as soon as it passes
/// `limit`, so a huge or endless body is never held whole.
async fn read_capped(stream: web_sys::ReadableStream, limit: usize) -> Result<Vec<u8>, ApiError> {
    let reader: web_sys::ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
    let mut out = Vec::new();
    loop {
        let step = JsFuture::from(reader.read()).await.map_err(unreadable)?;
        let field = |name: &str| js_sys::Reflect::get(&step, &JsValue::from_str(name));
        if field("done").map_err(unreadable)?.is_truthy() {
            return Ok(out);
        }
        let chunk = Uint8Array::new(&field("value").map_err(unreadable)?);
        if out.len() + chunk.length() as usize > limit {
            // Not awaited: the 413 goes out at once, the stream is dropped.
            let _ = reader.cancel();
            return Err(http::too_large(limit));
        }
        out.extend(chunk.to_vec());
    }
}

/// The runtime's response.
pub fn to_runtime(r: Response) -> Result<web_sys::Response, JsValue> {
    let headers = web_sys::Headers::new()?;
    for (name, value) in &r.headers {
        headers.append(name, value)?;
    }
    let init = web_sys::ResponseInit::new();
    init.set_status(r.status);
    init.set_headers(&headers);
    // 204 and 304 must not have a body, not even an empty one.
    let mut body = r.body;
    let body = (!body.is_empty()).then_some(body.as_mut_slice());
    web_sys::Response::new_with_opt_u8_array_and_init(body, &init)
}
