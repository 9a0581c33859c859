//! The route table: which paths the worker answers, with which method, and how
//! large a body each may have. A `{name}` segment matches one non-empty
//! segment, which the handler reads by name from the match.

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
    AdminAccess,
    AdminOrder,
    AdminSummary,
    AdminExportLink,
    /// A signed export link's download (no other authentication).
    AdminOrdersCsv,
    TonManifest,
    TonProofPayload,
    /// Linking and unlinking a wallet.
    TonWallet,
    TonWalletRead,
    TonOrders,
    TonCheck,
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
        "/api/subscriptions/{order_id}/cancel",
        "POST",
        Route::CancelSubscription,
    ),
    (
        "/api/subscriptions/{order_id}/resume",
        "POST",
        Route::ResumeSubscription,
    ),
    ("/telegram/webhook", "POST", Route::Webhook),
    ("/api/admin/refunds", "POST", Route::AdminRefund),
    ("/api/admin/setup", "POST", Route::AdminSetup),
    ("/api/admin/reconcile", "GET", Route::AdminReconcile),
    ("/api/admin/orders", "GET", Route::AdminOrders),
    ("/api/admin/access", "GET", Route::AdminAccess),
    ("/api/admin/orders/{order_id}", "GET", Route::AdminOrder),
    ("/api/admin/summary", "GET", Route::AdminSummary),
    ("/api/admin/export-links", "POST", Route::AdminExportLink),
    ("/api/admin/orders.csv", "GET", Route::AdminOrdersCsv),
    ("/tonconnect-manifest.json", "GET", Route::TonManifest),
    ("/api/ton/proof-payload", "POST", Route::TonProofPayload),
    ("/api/ton/wallet", "GET", Route::TonWalletRead),
    ("/api/ton/wallet", "POST", Route::TonWallet),
    ("/api/ton/wallet", "DELETE", Route::TonWallet),
    ("/api/ton/orders", "POST", Route::TonOrders),
    ("/api/ton/orders/{order_id}/check", "POST", Route::TonCheck),
    ("/api/test/panic", "POST", Route::TestPanic),
];

/// The segments `pattern` captures from `path`, or `None` when it does not match.
fn matches<'a>(pattern: &'static str, path: &'a str) -> Option<Params<'a>> {
    let mut params = Params::default();
    // Equal strings first: most patterns are literal.
    if pattern == path {
        return Some(params);
    }
    if !pattern.contains('{') {
        return None;
    }
    let (mut p, mut q) = (pattern.split('/'), path.split('/'));
    loop {
        match (p.next(), q.next()) {
            (None, None) => return Some(params),
            (Some(name), Some(seg)) if name.starts_with('{') => {
                if seg.is_empty() {
                    return None;
                }
                params.0.push((name.trim_matches(['{', '}']), seg));
            }
            (Some(a), Some(b)) if a == b => {}
            _ => return None,
        }
    }
}

/// The path segments a route captured, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params<'a>(Vec<(&'static str, &'a str)>);

impl<'a> Params<'a> {
    /// The segment captured as `{name}`. Only names in the route's pattern are
    /// asked for, so a missing one is a bug in the table.
    pub fn get(&self, name: &str) -> &'a str {
        self.0
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| *v)
            .unwrap_or_else(|| panic!("the route has no {{{name}}} segment"))
    }
}

/// A request's route and what its path captured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matched<'a> {
    pub route: Route,
    pub params: Params<'a>,
}

impl Route {
    /// The largest body accepted. Telegram updates are small; API bodies tiny.
    pub fn body_limit(self) -> usize {
        match self {
            Route::Webhook => 256 * 1024,
            _ => DEFAULT_BODY_LIMIT,
        }
    }
}

/// The body limit of every route but the webhook, and of unknown paths.
pub const DEFAULT_BODY_LIMIT: usize = 16 * 1024;

/// Finds the route, or the 404/405 error to answer with.
pub fn route<'a>(method: &str, path: &'a str) -> Result<Matched<'a>, ApiError> {
    let path = if path.len() > 1 {
        path.trim_end_matches('/')
    } else {
        path
    };
    let mut allowed = None;
    for (pattern, m, route) in TABLE {
        if let Some(params) = matches(pattern, path) {
            // HEAD is GET without a body; the runtime drops the body for us.
            if *m == method || (*m == "GET" && method == "HEAD") {
                return Ok(Matched {
                    route: *route,
                    params,
                });
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

    fn found(method: &str, path: &str) -> Result<Route, ApiError> {
        route(method, path).map(|m| m.route)
    }

    #[test]
    fn finds_routes_and_tolerates_a_trailing_slash() {
        assert_eq!(found("GET", "/healthz"), Ok(Route::Health));
        assert_eq!(found("HEAD", "/healthz"), Ok(Route::Health));
        assert_eq!(found("POST", "/api/verify/"), Ok(Route::Verify));
        assert_eq!(
            found("POST", "/api/verify/third-party"),
            Ok(Route::VerifyThirdParty)
        );
        assert_eq!(found("GET", "/"), Ok(Route::Page));
    }

    #[test]
    fn a_named_segment_matches_one_segment_and_is_captured() {
        let m = route("POST", "/api/subscriptions/abc_-1/cancel").unwrap();
        assert_eq!(m.params.get("order_id"), "abc_-1");
        assert_eq!(
            found("POST", "/api/subscriptions/abc_-1/cancel"),
            Ok(Route::CancelSubscription)
        );
        assert_eq!(
            found("POST", "/api/subscriptions/abc/resume/"),
            Ok(Route::ResumeSubscription)
        );
        for path in [
            "/api/subscriptions//cancel",
            "/api/subscriptions/a/b/cancel",
            "/api/subscriptions/a/pause",
        ] {
            assert_eq!(found("POST", path).unwrap_err().status, 404, "{path}");
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
