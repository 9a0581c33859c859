//! The route table: which paths the worker answers, with which method, and how
//! large a body each may have. A `*` segment matches one non-empty segment (the
//! handler reads it from the path).

use crate::error::ApiError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Health,
    Page,
    Verify,
    VerifyThirdParty,
    LoginWidget,
    Products,
    CreateInvoice,
    Orders,
    Entitlements,
    CancelSubscription,
    ResumeSubscription,
    Webhook,
    AdminRefund,
    AdminSetup,
    AdminReconcile,
    AdminOrders,
    /// Test-only; see [`super::testing`].
    TestPanic,
}

const TABLE: &[(&str, &str, Route)] = &[
    ("/healthz", "GET", Route::Health),
    ("/", "GET", Route::Page),
    ("/index.html", "GET", Route::Page),
    ("/api/verify", "POST", Route::Verify),
    ("/api/verify/third-party", "POST", Route::VerifyThirdParty),
    ("/api/login-widget", "POST", Route::LoginWidget),
    ("/api/products", "GET", Route::Products),
    ("/api/invoices", "POST", Route::CreateInvoice),
    ("/api/orders", "GET", Route::Orders),
    ("/api/entitlements", "GET", Route::Entitlements),
    (
        "/api/subscriptions/*/cancel",
        "POST",
        Route::CancelSubscription,
    ),
    (
        "/api/subscriptions/*/resume",
        "POST",
        Route::ResumeSubscription,
    ),
    ("/telegram/webhook", "POST", Route::Webhook),
    ("/api/admin/refunds", "POST", Route::AdminRefund),
    ("/api/admin/setup", "POST", Route::AdminSetup),
    ("/api/admin/reconcile", "GET", Route::AdminReconcile),
    ("/api/admin/orders", "GET", Route::AdminOrders),
    ("/api/test/panic", "POST", Route::TestPanic),
];

fn matches(pattern: &str, path: &str) -> bool {
    // Equal strings first: most patterns are literal, and unequal lengths
    // settle it without a scan.
    pattern == path || (pattern.as_bytes().contains(&b'*') && wildcard(pattern, path))
}

fn wildcard(pattern: &str, path: &str) -> bool {
    let (mut p, mut q) = (pattern.split('/'), path.split('/'));
    loop {
        match (p.next(), q.next()) {
            (None, None) => return true,
            (Some("*"), Some(seg)) if !seg.is_empty() => {}
            (Some(a), Some(b)) if a == b => {}
            _ => return false,
        }
    }
}

impl Route {
    /// The largest body accepted. Telegram updates are small; API bodies tiny.
    pub fn body_limit(self) -> usize {
        match self {
            Route::Webhook => 256 * 1024,
            _ => 16 * 1024,
        }
    }
}

/// Finds the route, or the 404/405 error to answer with.
pub fn route(method: &str, path: &str) -> Result<Route, ApiError> {
    let path = if path.len() > 1 {
        path.trim_end_matches('/')
    } else {
        path
    };
    let mut allowed = None;
    for (p, m, r) in TABLE {
        if matches(p, path) {
            // HEAD is GET without a body; the runtime drops the body for us.
            if *m == method || (*m == "GET" && method == "HEAD") {
                return Ok(*r);
            }
            allowed = Some(*m);
        }
    }
    match allowed {
        Some(m) => Err(ApiError::new(
            405,
            "method_not_allowed",
            format!("{method} is not allowed here; use {m}"),
        )
        .with_header("allow", m)),
        None => Err(ApiError::not_found(format!(
            "no route for {}",
            truncate(path, 100)
        ))),
    }
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_routes_and_tolerates_a_trailing_slash() {
        assert_eq!(route("GET", "/healthz"), Ok(Route::Health));
        assert_eq!(route("HEAD", "/healthz"), Ok(Route::Health));
        assert_eq!(route("POST", "/api/verify/"), Ok(Route::Verify));
        assert_eq!(
            route("POST", "/api/verify/third-party"),
            Ok(Route::VerifyThirdParty)
        );
        assert_eq!(route("GET", "/"), Ok(Route::Page));
    }

    #[test]
    fn a_star_matches_one_segment() {
        assert_eq!(
            route("POST", "/api/subscriptions/abc_-1/cancel"),
            Ok(Route::CancelSubscription)
        );
        assert_eq!(
            route("POST", "/api/subscriptions/abc/resume/"),
            Ok(Route::ResumeSubscription)
        );
        for path in [
            "/api/subscriptions//cancel",
            "/api/subscriptions/a/b/cancel",
            "/api/subscriptions/a/pause",
        ] {
            assert_eq!(route("POST", path).unwrap_err().status, 404, "{path}");
        }
        assert_eq!(
            route("GET", "/api/subscriptions/a/cancel")
                .unwrap_err()
                .status,
            405
        );
    }

    #[test]
    fn unknown_paths_are_404_and_wrong_methods_405() {
        let e = route("GET", "/api/nothing").unwrap_err();
        assert_eq!((e.status, e.code), (404, "not_found"));
        let e = route("GET", "/api/verify").unwrap_err();
        assert_eq!((e.status, e.code), (405, "method_not_allowed"));
        assert!(e.message.ends_with("POST"));
        assert_eq!(e.headers, [("allow", "POST".to_string())]);
        let e = route("DELETE", "/telegram/webhook").unwrap_err();
        assert_eq!(e.status, 405);
    }

    #[test]
    fn long_unicode_paths_are_cut_safely() {
        let path = format!("/api/{}", "ж".repeat(500));
        let e = route("GET", &path).unwrap_err();
        assert!(e.message.chars().count() < 120);
    }
}
