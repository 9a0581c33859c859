//! The Workers edge: the only code that touches the runtime. It turns the
//! runtime's request into the core's, lends the core a [`WorkerPlatform`], and
//! turns the core's response back.
//!
//! It talks to the runtime through `web_sys` directly rather than through
//! `worker::Request`/`Response`: those read `request.cf` (a JS object built for
//! every request), cross into JS once or more per header, read bodies through a
//! stream reader and parse the URL with the `url` crate. Here a request costs a
//! fixed handful of crossings and the bodies are read with one `arrayBuffer()`.

#[cfg(target_arch = "wasm32")]
pub(crate) mod bindings;
#[cfg(target_arch = "wasm32")]
mod crypto;
#[cfg(target_arch = "wasm32")]
mod platform;
#[cfg(any(target_arch = "wasm32", test))]
mod task;
pub mod url;

#[cfg(target_arch = "wasm32")]
mod runtime {
    use js_sys::Uint8Array;
    use wasm_bindgen::prelude::wasm_bindgen;
    use wasm_bindgen::{JsCast, JsValue};
    use worker::web_sys;
    use worker::{event, Env};

    use super::platform::WorkerPlatform;
    use super::task;
    use crate::error::ApiError;
    use crate::http::{self, router, Request, Response};

    #[event(start)]
    fn start() {
        console_error_panic_hook::set_once();
    }

    // The entry points worker-build's shim calls, exported directly rather than
    // through `#[event(fetch)]`/`#[event(scheduled)]`: those wrap the handler
    // in `worker::Error` and its formatting (every variant's `Display`: I/O,
    // routing, serde errors), code this worker never needs.

    /// A request. The core answers every request with a response of its own,
    /// errors included; only a failure to build the runtime's `Response` fails.
    /// A request that waits on nothing (no body, storage or Bot API call:
    /// `/healthz`, `/api/verify`, the catalog) gets its `Response` from this
    /// call; any other gets a promise.
    #[wasm_bindgen]
    pub fn fetch(req: web_sys::Request, env: Env, _ctx: JsValue) -> Result<JsValue, JsValue> {
        task::spawn(async move {
            let response = match read_request(&req).await {
                Ok(req) => http::handle(&WorkerPlatform::new(env), req).await,
                Err(e) => Response::error(&e),
            };
            Ok(to_runtime(response)?.into())
        })
    }

    /// The Cron Trigger (`[triggers] crons` in wrangler.toml): housekeeping,
    /// retries and reconciliation; the report goes to the log.
    #[wasm_bindgen]
    pub fn scheduled(_event: JsValue, env: Env, _ctx: JsValue) -> Result<JsValue, JsValue> {
        task::spawn(async move {
            let platform = WorkerPlatform::new(env);
            let report = http::scheduled::run(&platform).await;
            let line = serde_json::to_string(&report).unwrap_or_default();
            http::Platform::log(&platform, &format!("scheduled: {line}"));
            Ok(JsValue::UNDEFINED)
        })
    }

    fn unreadable<T>(_: T) -> ApiError {
        ApiError::bad_request("bad_request", "the request could not be read")
    }

    #[wasm_bindgen(inline_js = r#"
    // The method, the URL and the named headers' values, a line each ("\0"
    // for a header not sent): none of them holds a NUL or a line break
    // (Fetch), so the lines are exact. `names` is the same string every time.
    let names, list;
    export function head(req, wanted) {
      if (wanted !== names) { names = wanted; list = wanted.split(","); }
      const h = req.headers;
      let out = req.method + "\n" + req.url;
      for (const n of list) out += "\n" + (h.get(n) ?? "\0");
      return out;
    }
    // A Response from its status, its headers as name and value lines, and
    // its body (copied by the constructor), in one crossing.
    export function response(status, lines, body) {
      const parts = lines.split("\n");
      const headers = [];
      for (let i = 1; i < parts.length; i += 2) headers.push([parts[i - 1], parts[i]]);
      return new Response(body, { status, headers });
    }
    "#)]
    extern "C" {
        fn head(req: &web_sys::Request, names: &JsValue) -> String;
        #[wasm_bindgen(catch)]
        fn response(
            status: u16,
            lines: &str,
            body: Option<&[u8]>,
        ) -> Result<web_sys::Response, JsValue>;
    }

    /// The headers read: those the core reads, and `content-length`.
    fn header_names() -> impl Iterator<Item = &'static str> {
        http::message::REQUEST_HEADERS
            .into_iter()
            .chain(["content-length"])
    }

    thread_local! {
        /// [`header_names`] as one JS string, made once rather than per request.
        static NAMES: JsValue = JsValue::from_str(&header_names().collect::<Vec<_>>().join(","));
    }

    /// The request without its body: the method, the URL and the headers
    /// read, in one crossing. Asking for the headers by name is cheaper than
    /// iterating every header the runtime has.
    fn read_head(req: &web_sys::Request) -> Option<Request> {
        let head = NAMES.with(|names| head(req, names));
        let mut lines = head.split('\n');
        let method = lines.next()?.to_owned();
        let parts = super::url::split(lines.next()?)?;
        let headers = header_names()
            .zip(lines)
            .filter(|(_, v)| *v != "\0")
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        Some(Request {
            path: parts.path.to_owned(),
            query: parts.query.to_owned(),
            origin: parts.origin,
            method,
            headers,
            body: Vec::new(),
        })
    }

    /// The body of a request or response, with one `arrayBuffer()`.
    pub(super) async fn body(
        promise: Result<js_sys::Promise, JsValue>,
    ) -> Result<Vec<u8>, JsValue> {
        let buf = task::wait(promise?).await?;
        Ok(Uint8Array::new(&buf).to_vec())
    }

    /// Reads the request, refusing an oversized body before reading it when the
    /// client declared its length.
    async fn read_request(req: &web_sys::Request) -> Result<Request, ApiError> {
        let mut head = read_head(req).ok_or_else(|| unreadable(()))?;
        let limit = router::route(&head.method, &head.path).map_or(16 * 1024, |r| r.body_limit());
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
            Some(_) => body(req.array_buffer()).await.map_err(unreadable)?,
            // `body` makes a stream object: only asked for when it may be read.
            None => match req.body() {
                Some(stream) => read_capped(stream, limit).await?,
                None => Vec::new(),
            },
        };
        Ok(head)
    }

    /// A body of undeclared length, chunk by chunk: a 413 as soon as it passes
    /// `limit`, so a huge or endless body is never held whole.
    async fn read_capped(
        stream: web_sys::ReadableStream,
        limit: usize,
    ) -> Result<Vec<u8>, ApiError> {
        let reader: web_sys::ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
        let mut out = Vec::new();
        loop {
            let step = task::wait(reader.read()).await.map_err(unreadable)?;
            if js_sys::Reflect::get(&step, &"done".into())
                .map_err(unreadable)?
                .is_truthy()
            {
                return Ok(out);
            }
            let chunk =
                Uint8Array::new(&js_sys::Reflect::get(&step, &"value".into()).map_err(unreadable)?);
            if out.len() + chunk.length() as usize > limit {
                let _ = reader.cancel();
                return Err(http::too_large(limit));
            }
            out.extend(chunk.to_vec());
        }
    }

    /// The runtime's response, in one crossing. Header names and values hold
    /// no line breaks (Fetch), so they travel as lines.
    fn to_runtime(r: Response) -> Result<web_sys::Response, JsValue> {
        let mut lines = String::new();
        for (name, value) in &r.headers {
            lines.push_str(name);
            lines.push('\n');
            lines.push_str(value);
            lines.push('\n');
        }
        // 204 and 304 must not have a body, not even an empty one.
        let body = (!r.body.is_empty()).then_some(r.body.as_slice());
        response(r.status, &lines, body)
    }
}
