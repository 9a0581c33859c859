//! The operator's view: who may use the operator routes (the admin token or
//! an operator's launch data), and what those routes answer.

use serde_json::json;

use super::*;

/// Every operator route, with a body it accepts: a new one goes here so the
/// checks below cover it.
const ROUTES: &[(&str, &str, &str)] = &[
    ("POST", "/api/admin/refunds", r#"{"order_id":"nope"}"#),
    ("POST", "/api/admin/setup", ""),
    ("GET", "/api/admin/reconcile", ""),
    ("GET", "/api/admin/orders", ""),
    ("GET", "/api/admin/access", ""),
    ("GET", "/api/admin/orders/nope", ""),
    ("GET", "/api/admin/summary", ""),
    (
        "POST",
        "/api/admin/export-links",
        r#"{"query":"status=paid"}"#,
    ),
];

fn operator_platform() -> TestPlatform {
    let p = platform();
    let mut p = p;
    p.settings.insert("ADMIN_CHAT_IDS", "900,-100123".into());
    p
}

#[test]
fn a_buyer_with_valid_launch_data_is_refused_on_every_operator_route() {
    let p = operator_platform();
    for (method, path, body) in ROUTES {
        let (s, v) = as_user(&p, method, path, 5, body);
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (403, Some("not_operator")),
            "{method} {path}: {v}"
        );
    }
    // A group's id in ADMIN_CHAT_IDS is no user's.
    let (s, _) = as_user(&p, "GET", "/api/admin/orders", -100123, "");
    assert_eq!(s, 403);
    assert!(p.bot.methods().is_empty(), "nothing reached Telegram");
}

#[test]
fn launch_data_that_fails_its_check_is_401_not_403() {
    let p = operator_platform();
    let forged = init_data(900).replace("Ann", "Bob");
    for (method, path, body) in ROUTES {
        let auth = format!("tma {forged}");
        let (s, v) = send(&p, request(method, path, &[("authorization", &auth)], body));
        assert_eq!(s, 401, "{method} {path}: {v}");
    }
}

#[test]
fn an_operator_passes_with_launch_data_even_without_an_admin_token() {
    let mut p = operator_platform();
    p.settings.remove("ADMIN_TOKEN");
    let (s, v) = as_user(&p, "GET", "/api/admin/orders", 900, "");
    assert_eq!(s, 200, "{v}");
    let (s, v) = as_user(
        &p,
        "POST",
        "/api/admin/refunds",
        900,
        r#"{"order_id":"nope"}"#,
    );
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (404, Some("order_not_found"))
    );
    // The bearer stays closed without a token.
    let (s, v) = admin(&p, "GET", "/api/admin/orders", "");
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (403, Some("admin_disabled"))
    );
}

#[test]
fn the_operator_reads_the_same_answers_by_launch_data_and_by_token() {
    let p = operator_platform();
    let order = buy(&p, 5, "sticker_pack");
    webhook(&p, paid(2, 5, &order, "ch_1", 50));
    for path in [
        "/api/admin/orders",
        "/api/admin/orders?format=csv&status=paid",
    ] {
        let by_token = admin(&p, "GET", path, "");
        let by_launch = as_user(&p, "GET", path, 900, "");
        assert_eq!(by_token.0, 200, "{path}");
        assert_eq!(by_token, by_launch, "{path}");
    }
}

#[test]
fn verify_says_whether_the_user_is_an_operator() {
    let p = operator_platform();
    let (s, v) = as_user(&p, "POST", "/api/verify", 900, "");
    assert_eq!((s, &v["operator"]), (200, &json!(true)), "{v}");
    let (_, v) = as_user(&p, "POST", "/api/verify", 5, "");
    assert_eq!(v["operator"], json!(false));
}

/// Launch data of a user with a username.
fn named(user_id: i64, username: &str) -> String {
    let user = format!(r#"{{"id":{user_id},"first_name":"Ann","username":"{username}"}}"#);
    format!("tma {}", signed_launch(&user, &[]))
}

/// Buys `product` as the user of `auth` (launch data); the order's id.
fn buy_as(p: &TestPlatform, auth: &str, product: &str) -> String {
    p.bot
        .answer(200, json!({"ok": true, "result": "https://t.me/$slug"}));
    let body = json!({ "product_id": product }).to_string();
    let (s, v) = send(
        p,
        request(
            "POST",
            "/api/invoices",
            &[
                ("authorization", auth),
                ("content-type", "application/json"),
            ],
            &body,
        ),
    );
    assert_eq!(s, 201, "{v}");
    v["order_id"].as_str().unwrap().to_owned()
}

#[test]
fn an_order_keeps_the_buyers_username() {
    let p = operator_platform();
    let id = buy_as(&p, &named(6, "Ann_B"), "sticker_pack");
    let order = block_on(p.store.order(&id)).unwrap().unwrap();
    assert_eq!(order.username.as_deref(), Some("Ann_B"));
    let id = buy(&p, 5, "sticker_pack");
    assert_eq!(
        block_on(p.store.order(&id)).unwrap().unwrap().username,
        None
    );
}

#[test]
fn the_order_list_filters_by_q_product_and_currency() {
    let p = operator_platform();
    let a = buy_as(&p, &named(6, "Ann_B"), "sticker_pack");
    let b = buy(&p, 5, "sticker_pack");
    webhook(&p, paid(2, 6, &a, "ch_a", 50));
    let ids = |query: &str| -> Vec<String> {
        let (s, v) = admin(&p, "GET", &format!("/api/admin/orders?{query}"), "");
        assert_eq!(s, 200, "{query}: {v}");
        v["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["order_id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(ids("q=%40ann_b"), [a.as_str()]);
    assert_eq!(ids("q=6"), [a.as_str()]);
    assert_eq!(ids(&format!("q={b}")), [b.as_str()]);
    assert_eq!(ids("q=5&status=paid"), Vec::<String>::new());
    assert_eq!(ids("product=sticker_pack&currency=XTR").len(), 2);
    assert!(ids("currency=TON").is_empty());
    let (_, v) = admin(&p, "GET", "/api/admin/orders?q=ann_b", "");
    assert_eq!(v["rows"][0]["username"], "Ann_B");
    let (s, v) = admin(&p, "GET", "/api/admin/orders?currency=1", "");
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (400, Some("invalid_query"))
    );
}

#[test]
fn an_orders_detail_shows_charges_deliveries_and_whether_it_is_refundable() {
    let p = operator_platform();
    let (s, v) = admin(&p, "GET", "/api/admin/orders/nope", "");
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (404, Some("order_not_found"))
    );
    let id = buy_as(&p, &named(6, "Ann_B"), "sticker_pack");
    let path = format!("/api/admin/orders/{id}");
    let (s, v) = admin(&p, "GET", &path, "");
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["order"]["status"], "pending");
    assert_eq!(v["order"]["username"], "Ann_B");
    assert_eq!(v["order"]["language"], "en");
    assert_eq!(v["order"]["product_title"], "Sticker pack");
    assert_eq!(v["charges"], json!([]));
    assert_eq!(v["refundable"], false);
    assert_eq!(v["access"], Value::Null);

    webhook(&p, paid(2, 6, &id, "ch_1", 50));
    let (_, v) = admin(&p, "GET", &path, "");
    assert_eq!(v["order"]["status"], "paid");
    assert_eq!(v["refundable"], true);
    let charge = &v["charges"][0];
    assert_eq!(
        (&charge["charge_id"], &charge["amount"], &charge["currency"]),
        (&json!("ch_1"), &json!(50), &json!("XTR"))
    );
    assert!(charge.get("transaction_hash").is_none());
    assert_eq!(charge["refunded_at"], Value::Null);
    let deliveries = v["deliveries"].as_array().unwrap();
    let goods = deliveries
        .iter()
        .find(|d| d["what"] == "delivery")
        .unwrap_or_else(|| panic!("the goods are listed: {v}"));
    assert_eq!(
        (&goods["kind"], &goods["state"]),
        (&json!("delivery"), &json!("sent"))
    );
    assert_eq!(goods["sent_at"], json!(NOW));
    assert_eq!(goods["attempts"], 1);

    let (s, _) = admin(
        &p,
        "POST",
        "/api/admin/refunds",
        &json!({"order_id": id}).to_string(),
    );
    assert_eq!(s, 200);
    let (_, v) = admin(&p, "GET", &path, "");
    assert_eq!(v["order"]["status"], "refunded");
    assert_eq!(v["refundable"], false);
    assert_eq!(v["charges"][0]["refunded_at"], json!(NOW));
    // The operator's launch data reads the same.
    assert_eq!(as_user(&p, "GET", &path, 900, ""), (200, v));
}

#[test]
fn the_summary_adds_up_sales_refunds_commissions_and_survives_telegram_failing() {
    let p = operator_platform();
    let mut orders = Vec::new();
    for (i, charge) in ["stx_a", "stx_b", "stx_c"].iter().enumerate() {
        let id = buy(&p, 5, "sticker_pack");
        webhook(&p, paid(10 + i as i64, 5, &id, charge, 50));
        orders.push(id);
    }
    let (s, _) = admin(
        &p,
        "POST",
        "/api/admin/refunds",
        &json!({"order_id": orders[2]}).to_string(),
    );
    assert_eq!(s, 200);
    // stx_a came through an affiliate at 100 per mille.
    p.bot.on(
        "getStarTransactions",
        200,
        json!({"ok": true, "result": {"transactions": [
            {"id": "stx_a", "amount": 45, "date": NOW, "source": {"type": "user", "transaction_type": "invoice_payment",
             "user": {"id": 5}, "affiliate": {"affiliate_user": {"id": 9}, "commission_per_mille": 100, "amount": 5}}},
            {"id": "stx_b", "amount": 50, "date": NOW, "source": {"type": "user", "transaction_type": "invoice_payment", "user": {"id": 5}}},
            {"id": "stx_c", "amount": 50, "date": NOW, "source": {"type": "user", "transaction_type": "invoice_payment", "user": {"id": 5}}},
            {"id": "stx_c", "amount": 50, "date": NOW, "receiver": {"type": "user", "transaction_type": "invoice_payment", "user": {"id": 5}}},
            {"id": "wd1", "amount": 10, "date": NOW, "receiver": {"type": "fragment"}}
        ]}}),
    );
    p.bot.on(
        "getMyStarBalance",
        200,
        json!({"ok": true, "result": {"amount": 85}}),
    );
    let (s, v) = admin(&p, "GET", "/api/admin/summary", "");
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        (v["days"].as_u64(), v["until"].as_u64()),
        (Some(30), Some(NOW))
    );
    let xtr = &v["currencies"][0];
    assert_eq!(xtr["currency"], "XTR");
    assert_eq!(
        (
            &xtr["gross"],
            &xtr["refunded"],
            &xtr["paid_orders"],
            &xtr["refunds"]
        ),
        (&json!(150), &json!(50), &json!(3), &json!(1))
    );
    assert!((xtr["refund_rate"].as_f64().unwrap() - 1.0 / 3.0).abs() < 1e-9);
    // 45 + 50 + 50 paid, 50 refunded.
    assert_eq!(xtr["net"], 95);
    let days = xtr["per_day"].as_array().unwrap();
    assert_eq!(days.len(), 30);
    assert_eq!(
        days[29],
        json!({"date": "2025-06-15", "gross": 150, "refunded": 50, "orders": 3})
    );
    assert_eq!(v["star_balance"], json!({"amount": 85}));
    assert!(v.get("star_balance_error").is_none());
    assert_eq!(v["reconciliation"]["in_sync"], true, "{v}");
    assert_eq!(v["subscriptions"]["active"], 0);

    // Telegram down: its parts are null with a code, the rest stands.
    let (s, v) = as_user(&p, "GET", "/api/admin/summary?days=90", 900, "");
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["currencies"][0]["per_day"].as_array().unwrap().len(), 90);
    assert_eq!(v["currencies"][0]["gross"], 150);
    assert_eq!(v["currencies"][0]["net"], Value::Null);
    assert_eq!(
        (&v["star_balance"], &v["reconciliation"]),
        (&Value::Null, &Value::Null)
    );
    assert_eq!(v["star_balance_error"], "telegram_error");
    assert_eq!(v["reconciliation_error"], "telegram_error");

    let (s, v) = admin(&p, "GET", "/api/admin/summary?days=7", "");
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (400, Some("invalid_query"))
    );
}

#[test]
fn the_export_and_reconciliation_show_an_affiliates_commission_and_the_net() {
    let p = operator_platform();
    let id = buy(&p, 5, "sticker_pack");
    webhook(&p, paid(2, 5, &id, "stx_a", 50));
    let transactions = json!({"ok": true, "result": {"transactions": [
        {"id": "stx_a", "amount": 43, "nanostar_amount": 750_000_000, "date": NOW, "source": {"type": "user",
         "transaction_type": "invoice_payment", "user": {"id": 5},
         "affiliate": {"commission_per_mille": 125, "amount": 6, "nanostar_amount": 250_000_000}}}
    ]}});
    for _ in 0..3 {
        p.bot.on("getStarTransactions", 200, transactions.clone());
    }
    // `net=false` leaves Telegram alone: the three answers are still queued.
    let mut req = request(
        "GET",
        "/api/admin/orders",
        &[("authorization", "Bearer admin_secret")],
        "",
    );
    req.query = "net=false".into();
    let v: Value = crate::json::from_bytes(&block_on(super::handle(&p, req)).body).unwrap();
    assert_eq!(v["rows"][0]["net_amount"], Value::Null, "{v}");
    let (_, v) = admin(&p, "GET", "/api/admin/orders", "");
    let row = &v["rows"][0];
    assert_eq!(
        (
            &row["transaction_type"],
            &row["affiliate_commission"],
            &row["net_amount"]
        ),
        (&json!("invoice_payment"), &json!(6.25), &json!(43.75)),
        "{v}"
    );
    let mut req = request(
        "GET",
        "/api/admin/orders",
        &[("authorization", "Bearer admin_secret")],
        "",
    );
    req.query = "format=csv".into();
    let text = String::from_utf8(block_on(super::handle(&p, req)).body).unwrap();
    assert!(text.contains(",invoice_payment,6.25,43.75\r\n"), "{text}");
    let (s, v) = admin(&p, "GET", "/api/admin/reconcile", "");
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["in_sync"], true);
    assert_eq!(v["payments"][0]["net_amount"], 43.75);
    assert_eq!(v["payments"][0]["order_id"], json!(id));
    // Telegram unreachable: the export stands, without Telegram's figures.
    let (s, v) = admin(&p, "GET", "/api/admin/orders", "");
    assert_eq!((s, &v["rows"][0]["net_amount"]), (200, &Value::Null));
}

#[test]
fn an_export_link_downloads_its_filters_csv_until_it_expires() {
    let p = operator_platform();
    let a = buy_as(&p, &named(6, "Ann_B"), "sticker_pack");
    let b = buy(&p, 5, "sticker_pack");
    webhook(&p, paid(2, 6, &a, "ch_a", 50));
    let body = json!({"query": "status=paid&q=%40ann_b"}).to_string();
    let (s, v) = as_user(&p, "POST", "/api/admin/export-links", 900, &body);
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["expires_at"], NOW + 300);
    assert_eq!(v["file_name"], "orders-2025-06-15.csv");
    let url = v["url"].as_str().unwrap();
    let target = url.strip_prefix("https://shop.example").unwrap();
    assert!(target.starts_with("/api/admin/orders.csv?status=paid&q=%40ann_b&expires="));
    let get = |target: &str| block_on(super::handle(&p, request("GET", target, &[], "")));
    let r = get(target);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/csv; charset=utf-8"));
    let text = String::from_utf8(r.body).unwrap();
    assert!(text.contains(&a) && !text.contains(&b), "{text}");
    for tampered in [
        target.replace("status=paid", "status=pending"),
        target.replace("ann_b", "bob"),
        target.replace("&sig=", "&sig=00"),
    ] {
        let (s, v) = send(&p, request("GET", &tampered, &[], ""));
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (403, Some("invalid_export_link"))
        );
    }
    p.now.set(NOW + 301);
    let (s, v) = send(&p, request("GET", target, &[], ""));
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (403, Some("export_link_expired"))
    );
    for bad in [r#"{"query":"status=lost"}"#, r#"{"query":"sig=1"}"#] {
        let (s, v) = admin(&p, "POST", "/api/admin/export-links", bad);
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (400, Some("invalid_query")),
            "{bad}"
        );
    }
}
