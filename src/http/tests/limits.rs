//! Abuse limits: which limit and key each route counts under, the 429 and
//! what it leaves undone, the pending-order cap, and the courier keeping to
//! the bot's own Bot API quota.

use pollster::block_on;
use serde_json::json;

use super::*;
use crate::http::courier;
use crate::http::limits::{self, Limit};
use crate::http::router::Route;
use crate::shop::outbox::{self, spread};
use crate::store::Store;

const IP: &str = "203.0.113.7";

/// A request from the client at `ip`, as the user `user` when given.
fn from(ip: &str, method: &str, path: &str, user: Option<i64>, body: &str) -> Request {
    let auth = user.map(|u| format!("tma {}", init_data(u)));
    let mut headers = vec![
        ("cf-connecting-ip", ip),
        ("content-type", "application/json"),
    ];
    if let Some(a) = &auth {
        headers.push(("authorization", a));
    }
    request(method, path, &headers, body)
}

fn answer(p: &TestPlatform, req: Request) -> Response {
    block_on(handle(p, req))
}

fn counted(p: &TestPlatform) -> Vec<(Limit, String)> {
    p.counted.borrow_mut().drain(..).collect()
}

fn set_limit(p: &TestPlatform, limit: Limit, per_period: u32) {
    p.limits.borrow_mut().insert(limit, per_period);
}

#[test]
fn the_table_gives_each_route_its_limit_and_leaves_the_webhook_and_admin_alone() {
    use Limit::*;
    for (route, limit) in [
        (Route::CreateInvoice, Some(Invoices)),
        (Route::CancelSubscription, Some(Changes)),
        (Route::ResumeSubscription, Some(Changes)),
        (Route::Verify, Some(Reads)),
        (Route::Orders, Some(Reads)),
        (Route::Entitlements, Some(Reads)),
        (Route::Page, Some(Public)),
        (Route::Products, Some(Public)),
        (Route::VerifyThirdParty, Some(Public)),
        (Route::LoginWidget, Some(Public)),
        (Route::Webhook, None),
        (Route::AdminRefund, None),
        (Route::AdminSetup, None),
        (Route::AdminReconcile, None),
        (Route::AdminOrders, None),
        (Route::AdminAccess, None),
        (Route::Health, None),
        (Route::TestPanic, None),
    ] {
        assert_eq!(limits::of(route), limit, "{route:?}");
    }
    assert_eq!(Public.by(), limits::By::Client);
    for l in [Invoices, Changes, Reads] {
        assert_eq!(l.by(), limits::By::User);
    }
}

/// Every route, called as the Mini App (or anyone) calls it: the limit and
/// the key it was counted under, or nothing.
#[test]
fn each_route_counts_under_its_limit_and_key() {
    use Limit::*;
    let p = platform();
    let order = buy(&p, 77, "sticker_pack");
    counted(&p);
    let ip_key = format!("ip:{IP}");
    // Method, path, as which user, body: what was counted.
    type Case<'a> = (&'a str, &'a str, Option<i64>, &'a str, Vec<(Limit, String)>);
    let cases: Vec<Case> = vec![
        ("GET", "/", None, "", vec![(Public, ip_key.clone())]),
        (
            "GET",
            "/api/products",
            None,
            "",
            vec![(Public, ip_key.clone())],
        ),
        (
            "POST",
            "/api/verify/third-party",
            None,
            r#"{"init_data":"a=b","bot_id":1}"#,
            vec![(Public, ip_key.clone())],
        ),
        (
            "POST",
            "/api/login-widget",
            None,
            "{}",
            vec![(Public, ip_key.clone())],
        ),
        (
            "POST",
            "/api/verify",
            Some(77),
            "",
            vec![(Reads, "user:77".into())],
        ),
        (
            "GET",
            "/api/orders",
            Some(77),
            "",
            vec![(Reads, "user:77".into())],
        ),
        (
            "GET",
            "/api/entitlements",
            Some(77),
            "",
            vec![(Reads, "user:77".into())],
        ),
        (
            "POST",
            "/api/invoices",
            Some(77),
            r#"{"product_id":"sticker_pack"}"#,
            vec![(Invoices, "user:77".into())],
        ),
        (
            "POST",
            "/api/subscriptions/x/cancel",
            Some(77),
            "",
            vec![(Changes, "user:77".into())],
        ),
        (
            "POST",
            "/api/subscriptions/x/resume",
            Some(77),
            "",
            vec![(Changes, "user:77".into())],
        ),
        ("GET", "/healthz", None, "", vec![]),
    ];
    for (method, path, user, body, expected) in cases {
        answer(&p, from(IP, method, path, user, body));
        assert_eq!(counted(&p), expected, "{method} {path}");
    }
    // The webhook and the admin routes count nowhere.
    webhook(&p, paid(5, 77, &order, "stx_1", 50));
    webhook(
        &p,
        json!({"update_id": 6, "message": {"message_id": 1, "date": NOW,
        "chat": {"id": 77, "type": "private"}, "from": {"id": 77, "first_name": "A"}, "text": "/start"}}),
    );
    admin(&p, "GET", "/api/admin/orders", "");
    admin(
        &p,
        "POST",
        "/api/admin/refunds",
        &json!({ "order_id": order }).to_string(),
    );
    assert_eq!(counted(&p), []);
}

#[test]
fn launch_data_without_a_user_counts_by_the_client_and_forged_data_nowhere() {
    let p = platform();
    let no_user = format!(
        "tma {}",
        signed(&[("auth_date", &NOW.to_string()), ("query_id", "Q")])
    );
    let headers = [
        ("cf-connecting-ip", IP),
        ("authorization", no_user.as_str()),
    ];
    let r = answer(&p, request("POST", "/api/verify", &headers, ""));
    assert_eq!(r.status, 200);
    assert_eq!(counted(&p), [(Limit::Reads, format!("ip:{IP}"))]);

    let forged = format!("tma {}", init_data(77).replace("Ann", "Bob"));
    for path in ["/api/verify", "/api/invoices", "/api/orders"] {
        let method = if path == "/api/orders" { "GET" } else { "POST" };
        let headers = [
            ("authorization", forged.as_str()),
            ("content-type", "application/json"),
        ];
        let r = answer(&p, request(method, path, &headers, "{}"));
        assert_eq!(r.status, 401, "{path}");
    }
    assert_eq!(counted(&p), [], "refused by the check, counted nowhere");
}

#[test]
fn past_the_limit_an_invoice_is_429_with_retry_after_and_nothing_is_stored_or_called() {
    let p = platform();
    set_limit(&p, Limit::Invoices, 2);
    buy(&p, 77, "sticker_pack");
    buy(&p, 77, "sticker_pack");
    let rows = p.db().count("orders");
    let calls = p.bot.methods().len();

    let body = r#"{"product_id":"sticker_pack"}"#;
    let r = answer(&p, from(IP, "POST", "/api/invoices", Some(77), body));
    assert_eq!(r.status, 429);
    assert_eq!(r.header("retry-after"), Some("60"));
    let v: serde_json::Value = crate::json::from_bytes(&r.body).unwrap();
    assert_eq!(v["error"]["code"], "rate_limited");
    assert!(v["error"]["message"].as_str().unwrap().contains("60 s"));
    assert_eq!(v.as_object().unwrap().len(), 1);
    assert_eq!(p.db().count("orders"), rows, "nothing stored");
    assert_eq!(p.bot.methods().len(), calls, "Telegram not called");

    // Even a request that would fail later is refused first: it did no work.
    let r = answer(&p, from(IP, "POST", "/api/invoices", Some(77), "{"));
    assert_eq!(r.status, 429);

    // Another user is not held back; the user is let in again next period.
    buy(&p, 78, "sticker_pack");
    p.now.set(NOW + Limit::Invoices.period());
    buy(&p, 77, "sticker_pack");
}

#[test]
fn reads_and_changes_have_limits_of_their_own() {
    let p = platform();
    set_limit(&p, Limit::Reads, 3);
    set_limit(&p, Limit::Changes, 1);
    for _ in 0..3 {
        assert_eq!(as_user(&p, "GET", "/api/orders", 77, "").0, 200);
    }
    let (s, v) = as_user(&p, "GET", "/api/entitlements", 77, "");
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (429, Some("rate_limited"))
    );
    assert_eq!(as_user(&p, "POST", "/api/verify", 77, "").0, 429);
    // Creating an invoice is counted apart from reading.
    buy(&p, 77, "sticker_pack");

    assert_eq!(
        as_user(&p, "POST", "/api/subscriptions/x/cancel", 77, "").0,
        404
    );
    let r = answer(
        &p,
        from(IP, "POST", "/api/subscriptions/x/resume", Some(77), ""),
    );
    assert_eq!((r.status, r.header("retry-after")), (429, Some("60")));
}

#[test]
fn public_routes_are_limited_per_client_address() {
    let p = platform();
    set_limit(&p, Limit::Public, 2);
    let other = "2001:db8:1:2::5";
    assert_eq!(answer(&p, from(IP, "GET", "/", None, "")).status, 200);
    assert_eq!(
        answer(&p, from(IP, "GET", "/api/products", None, "")).status,
        200
    );
    for (method, path, body) in [
        ("GET", "/", ""),
        ("GET", "/api/products", ""),
        ("POST", "/api/login-widget", "{}"),
        ("POST", "/api/verify/third-party", "{}"),
    ] {
        let r = answer(&p, from(IP, method, path, None, body));
        assert_eq!(
            (r.status, r.header("retry-after")),
            (429, Some("10")),
            "{path}"
        );
    }
    // Another address, and another address in another /64, still pass; one in
    // the same /64 is the same subscriber.
    assert_eq!(answer(&p, from(other, "GET", "/", None, "")).status, 200);
    assert_eq!(answer(&p, from(other, "GET", "/", None, "")).status, 200);
    let same_64 = "2001:db8:1:2:ffff::1";
    assert_eq!(answer(&p, from(same_64, "GET", "/", None, "")).status, 429);
    assert_eq!(
        answer(&p, from("2001:db8:1:3::1", "GET", "/", None, "")).status,
        200
    );
    // A user's requests are not counted by address.
    assert_eq!(as_user(&p, "GET", "/api/orders", 77, "").0, 200);
}

#[test]
fn the_webhook_and_admin_routes_are_never_limited_even_with_every_limit_spent() {
    let p = platform();
    let order = buy(&p, 77, "sticker_pack");
    for l in Limit::ALL {
        set_limit(&p, l, 0);
    }
    assert_eq!(as_user(&p, "GET", "/api/orders", 77, "").0, 429);
    for i in 0..50 {
        let (s, _) = webhook(&p, paid(100 + i, 77, &order, &format!("stx_{i}"), 50));
        assert_eq!(s, 200);
    }
    assert_eq!(order_status(&p, &order), "paid");
    assert_eq!(admin(&p, "GET", "/api/admin/orders", "").0, 200);
    assert_eq!(send(&p, request("GET", "/healthz", &[], "")).0, 200);
}

#[test]
fn a_missing_binding_is_named_in_a_503_and_nothing_is_done() {
    let p = platform();
    p.limits.borrow_mut().remove(&Limit::Invoices);
    let (s, v) = as_user(
        &p,
        "POST",
        "/api/invoices",
        77,
        r#"{"product_id":"sticker_pack"}"#,
    );
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (503, Some("not_configured"))
    );
    assert_eq!(p.db().count("orders"), 0);
    assert!(p.bot.methods().is_empty());
    // Other limits still work, and the webhook never asks.
    assert_eq!(as_user(&p, "GET", "/api/orders", 77, "").0, 200);
}

#[test]
fn the_pending_cap_refuses_a_new_invoice_without_storing_or_calling() {
    let mut p = platform();
    p.settings.insert("MAX_PENDING_ORDERS", "2".into());
    // The launch data must outlive the clock moving on to expiry below.
    p.settings.insert("INIT_DATA_MAX_AGE", "0".into());
    let first = buy(&p, 77, "sticker_pack");
    buy(&p, 77, "pro_monthly");
    let calls = p.bot.methods().len();
    let (s, v) = as_user(
        &p,
        "POST",
        "/api/invoices",
        77,
        r#"{"product_id":"sticker_pack"}"#,
    );
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (409, Some("too_many_pending_orders"))
    );
    assert!(v["error"]["message"].as_str().unwrap().contains('2'));
    assert_eq!(p.db().count("orders"), 2, "nothing stored");
    assert_eq!(p.bot.methods().len(), calls, "Telegram not called");
    // Another user has a cap of their own.
    buy(&p, 78, "sticker_pack");
    // Paying one frees a place; so does a failed invoice never taking one.
    webhook(&p, paid(2, 77, &first, "stx_1", 50));
    p.bot.answer(
        400,
        json!({"ok": false, "error_code": 400, "description": "Bad Request"}),
    );
    let (s, _) = as_user(
        &p,
        "POST",
        "/api/invoices",
        77,
        r#"{"product_id":"sticker_pack"}"#,
    );
    assert_eq!(
        s, 502,
        "the invoice failed: the order is `failed`, not pending"
    );
    buy(&p, 77, "sticker_pack");
    assert_eq!(
        as_user(
            &p,
            "POST",
            "/api/invoices",
            77,
            r#"{"product_id":"sticker_pack"}"#
        )
        .0,
        409
    );
    // Expired orders do not count either.
    p.now.set(NOW + 2 * 86_400);
    block_on(crate::http::scheduled::run(&p));
    buy(&p, 77, "sticker_pack");
}

/// Five messages due, and Telegram answers the first with 429.
fn flooded(p: &TestPlatform) -> Vec<String> {
    let ids: Vec<String> = (0..5).map(|i| format!("c{i}")).collect();
    let messages: Vec<_> = ids
        .iter()
        .map(|k| outbox::notice(k, 900, "hello", None))
        .collect();
    let leased = block_on(p.store.enqueue(&messages, NOW)).unwrap();
    assert_eq!(leased.len(), 5);
    p.bot.answer(
        429,
        json!({"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 30",
               "parameters": {"retry_after": 30}}),
    );
    let settings = p.settings().unwrap();
    let tally = block_on(courier::send(p, &settings, &p.store, leased));
    assert_eq!((tally.sent, tally.retrying, tally.failed), (0, 5, 0));
    messages.into_iter().map(|m| m.id).collect()
}

#[test]
fn after_a_429_the_rest_of_the_batch_waits_for_retry_after_spread_by_id() {
    let p = platform();
    let ids = flooded(&p);
    assert_eq!(p.bot.methods(), ["sendMessage"], "one attempt, then none");
    let rows = p
        .db()
        .query("SELECT id, status, attempts, next_attempt_at FROM outbox ORDER BY created_at, id");
    let mut due = Vec::new();
    for (id, row) in ids.iter().zip(&rows) {
        assert_eq!(row["id"], json!(id));
        assert_eq!(row["status"], "pending");
        let at = row["next_attempt_at"].as_u64().unwrap();
        // Never before Telegram said, each at its own offset.
        assert_eq!(at, NOW + 30 + spread(id), "{id}");
        due.push(at);
        // Only the message that was sent used an attempt.
        let attempts = if id == &ids[0] { 1 } else { 0 };
        assert_eq!(row["attempts"], attempts, "{id}");
    }
    due.sort();
    due.dedup();
    assert!(due.len() > 1, "not all due at the same second: {due:?}");

    // Before the wait is over nothing is sent; after it, all of them, once.
    p.now.set(NOW + 29);
    assert_eq!(block_on(crate::http::scheduled::run(&p)).sent, 0);
    p.now.set(NOW + 30 + outbox::SPREAD);
    let report = block_on(crate::http::scheduled::run(&p));
    assert_eq!(report.sent, 5, "{report:?}");
    let sent = p
        .bot
        .methods()
        .iter()
        .filter(|m| *m == "sendMessage")
        .count();
    assert_eq!(sent, 1 + 5);
}

#[test]
fn a_failed_send_is_retried_at_its_backoff_plus_its_own_offset() {
    let p = platform();
    let m = outbox::notice("x", 900, "hi", None);
    let leased = block_on(p.store.enqueue(std::slice::from_ref(&m), NOW)).unwrap();
    p.bot.fail(crate::telegram::client::TransportError::Timeout);
    let settings = p.settings().unwrap();
    block_on(courier::send(&p, &settings, &p.store, leased));
    let row = &p.db().query("SELECT next_attempt_at FROM outbox")[0];
    assert_eq!(
        row["next_attempt_at"],
        NOW + outbox::backoff(1) + spread(&m.id)
    );
}

#[test]
fn a_429_on_the_goods_holds_back_the_operator_notices_of_that_payment() {
    let mut p = platform();
    p.settings.insert("ADMIN_CHAT_IDS", "900,901".into());
    let order = buy(&p, 5, "sticker_pack");
    let before = p.bot.methods().len();
    p.bot.answer(
        429,
        json!({"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 20",
               "parameters": {"retry_after": 20}}),
    );
    let (s, _) = webhook(&p, paid(2, 5, &order, "stx_1", 50));
    assert_eq!(s, 200, "the payment is stored: acknowledged");
    assert_eq!(
        p.bot.methods().len(),
        before + 1,
        "one send, then the bot waits"
    );
    // The goods, the sale notices and the report of the delay all wait their turn.
    let rows = p
        .db()
        .query("SELECT id, status, next_attempt_at FROM outbox ORDER BY id");
    // The goods, two sale notices, two reports of the delay.
    assert_eq!(rows.len(), 5, "{rows:?}");
    for row in &rows {
        assert_eq!(row["status"], "pending", "{row:?}");
        let at = row["next_attempt_at"].as_u64().unwrap();
        assert!(at >= NOW + 20, "{row:?}");
    }
    p.now.set(NOW + 20 + outbox::SPREAD);
    let report = block_on(crate::http::scheduled::run(&p));
    assert_eq!(
        report.sent,
        rows.len(),
        "{report:?}: each once, the goods again"
    );
}

#[test]
fn a_429_on_access_work_holds_back_the_rest_of_the_batch() {
    let mut p = platform();
    p.settings.insert(
        "CATALOG",
        r#"[{"id":"insiders","title":"Insiders","description":"The channel","currency":"XTR",
             "amount":100,"access":{"chat_id":-1001234567890}}]"#
            .into(),
    );
    p.settings.insert("ADMIN_CHAT_IDS", "900,901".into());
    let order = buy(&p, 5, "insiders");
    p.bot.on(
        "createChatInviteLink",
        429,
        json!({"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 15",
               "parameters": {"retry_after": 15}}),
    );
    let before = p.bot.methods().len();
    let (s, _) = webhook(&p, paid(2, 5, &format!("{order}:insiders"), "stx_1", 100));
    assert_eq!(s, 200);
    assert_eq!(
        p.bot.methods()[before..],
        ["createChatInviteLink"],
        "the access work got 429: nothing else was sent"
    );
    // The sale notices and the reports of the delay wait, each at its own
    // second, with the lease's attempt given back; the access work retries.
    let rows = p
        .db()
        .query("SELECT id, status, attempts, next_attempt_at FROM outbox ORDER BY id");
    assert_eq!(rows.len(), 5, "{rows:?}");
    for row in &rows {
        let id = row["id"].as_str().unwrap();
        assert_eq!(row["status"], "pending", "{id}");
        assert_eq!(row["next_attempt_at"], NOW + 15 + spread(id), "{id}");
        let attempts = if id.starts_with("access:") { 1 } else { 0 };
        assert_eq!(row["attempts"], attempts, "{id}");
    }
}
