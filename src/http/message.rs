//! The request and response as the core sees them.

use serde::Serialize;
use url::Url;

use crate::error::ApiError;

/// The request headers the core reads. The edge reads only these from the
/// runtime (walking all of them, the dozen a CDN adds included, cost more than
/// the rest of `/api/verify`'s edge work), so a handler that reads another
/// must add it here; `header` checks that in every native test.
pub const REQUEST_HEADERS: [&str; 4] = [
    "authorization",
    "content-type",
    "x-telegram-bot-api-secret-token",
    // The client's address, set by Cloudflare: the key of `limits::Limit::Public`.
    "cf-connecting-ip",
];

#[derive(Debug, Clone, Default)]
pub struct Request {
    pub method: String,
    /// The path without the query string.
    pub path: String,
    pub query: String,
    /// `scheme://host[:port]` of the request, for links back to this deployment.
    pub origin: String,
    /// Header names in lower case; those of [`REQUEST_HEADERS`] that came.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    /// `<origin>/`: this deployment's page, the base of links back to it.
    pub fn app_url(&self) -> Result<Url, ApiError> {
        Url::parse(&self.origin).map_err(|_| {
            ApiError::bad_request("invalid_origin", "the request's origin is not a URL")
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        debug_assert!(
            REQUEST_HEADERS.contains(&name),
            "{name} is not in REQUEST_HEADERS, so the edge never reads it"
        );
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON of type `T`, after checking the content type.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, ApiError> {
        let ct = self.header("content-type").unwrap_or("");
        let mime = ct.split(';').next().unwrap_or("").trim();
        if !mime.eq_ignore_ascii_case("application/json") {
            return Err(ApiError::new(
                415,
                "unsupported_media_type",
                "send the body as application/json",
            ));
        }
        crate::json::from_bytes(&self.body).map_err(|e| {
            ApiError::bad_request(
                "invalid_json",
                format!("the body is not the expected JSON: {}", json_problem(&e)),
            )
        })
    }
}

/// serde's message without the echo of input it sometimes includes.
fn json_problem(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    match e.classify() {
        Category::Syntax | Category::Eof => {
            format!("syntax error at line {} column {}", e.line(), e.column())
        }
        Category::Data => {
            let msg = e.to_string();
            // "invalid type: …, expected … at line 1 column 9": keep the part before " at line".
            msg.split(" at line")
                .next()
                .unwrap_or("wrong field types")
                .chars()
                .take(200)
                .collect()
        }
        Category::Io => "unreadable body".into(),
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn json(status: u16, value: &impl Serialize) -> Response {
        Response {
            status,
            headers: vec![("content-type", "application/json".into())],
            body: serde_json::to_vec(value).expect("serializable response"),
        }
    }

    pub fn error(e: &ApiError) -> Response {
        let mut headers = vec![("content-type", "application/json".to_string())];
        headers.extend(e.headers.iter().cloned());
        Response {
            status: e.status,
            headers,
            body: e.to_json().into_bytes(),
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Response {
        self.headers.push((name, value.into()));
        self
    }
}
