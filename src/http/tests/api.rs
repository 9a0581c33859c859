//! The Mini App's routes: health, identity checks, the catalog, invoices, the page.

use pollster::block_on;
use serde_json::json;

use super::*;

#[test]
fn health_needs_no_settings() {
    let mut p = platform();
    p.settings.clear();
    let (status, v) = send(&p, request("GET", "/healthz", &[], ""));
    assert_eq!(
        (status, v["ok"].clone(), v["version"].clone()),
        (200, json!(true), json!(crate::VERSION))
    );
}

#[test]
fn verify_returns_the_launch_data() {
    let p = platform();
    let (status, v) = as_user(&p, "POST", "/api/verify", 77, "");
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["user"]["id"], 77);
    assert_eq!(v["user"]["language_code"], "en");
    assert_eq!(v["query_id"], "Q1");
    assert_eq!(v["auth_date"], NOW);
    assert!(v["start_param"].is_null());
}

#[test]
fn verify_errors_are_401_json_with_distinct_codes() {
    let p = platform();
    let (s, v) = send(&p, request("POST", "/api/verify", &[], ""));
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (401, Some("missing_init_data"))
    );
    let bad = format!("tma {}", init_data(1).replace("Ann", "Bob"));
    let (s, v) = send(
        &p,
        request("POST", "/api/verify", &[("authorization", &bad)], ""),
    );
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (401, Some("invalid_hash"))
    );
    let (s, v) = send(
        &p,
        request("POST", "/api/verify", &[("authorization", "tma %%%")], ""),
    );
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (401, Some("malformed_init_data"))
    );
}

#[test]
fn third_party_verification_answers_through_the_platforms_ed25519() {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use ed25519_dalek::{Signer, SigningKey};

    let key = SigningKey::from_bytes(&[5; 32]);
    let mut p = platform();
    p.settings.insert(
        "TELEGRAM_PUBLIC_KEY",
        hex::encode(key.verifying_key().to_bytes()),
    );
    let lines = format!("auth_date={NOW}\nchat_type=private");
    let sig = URL_SAFE_NO_PAD.encode(
        key.sign(format!("77:WebAppData\n{lines}").as_bytes())
            .to_bytes(),
    );
    let raw = format!("auth_date={NOW}&chat_type=private&signature={sig}&hash=00");
    let flipped = if sig.starts_with('A') { 'B' } else { 'A' };
    let post = |init_data: &str, bot_id: u64| {
        let body = json!({ "init_data": init_data, "bot_id": bot_id }).to_string();
        let json = [("content-type", "application/json")];
        send(&p, request("POST", "/api/verify/third-party", &json, &body))
    };
    let (s, v) = post(&raw, 77);
    assert_eq!(
        (s, &v["valid"], &v["chat_type"]),
        (200, &json!(true), &json!("private"))
    );
    for (raw, bot_id) in [
        (raw.replace("private", "group"), 77),
        (raw.clone(), 78),
        (raw.replace(&sig, &format!("{flipped}{}", &sig[1..])), 77),
    ] {
        let (s, v) = post(&raw, bot_id);
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (401, Some("invalid_signature")),
            "{raw}"
        );
    }
}

#[test]
fn a_missing_bot_token_is_named_not_panicked() {
    let mut p = platform();
    p.settings.remove("BOT_TOKEN");
    let (s, v) = as_user(&p, "POST", "/api/verify", 1, "");
    assert_eq!(s, 503);
    assert_eq!(v["error"]["code"], "not_configured");
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("BOT_TOKEN"));
}

#[test]
fn unknown_routes_and_methods() {
    let p = platform();
    assert_eq!(send(&p, request("GET", "/api/nope", &[], "")).0, 404);
    assert_eq!(send(&p, request("GET", "/api/verify", &[], "")).0, 405);
    let big = "x".repeat(17 * 1024);
    let (s, v) = send(&p, request("POST", "/api/invoices", &[], &big));
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (413, Some("payload_too_large"))
    );
}

#[test]
fn products_are_listed_from_the_catalog() {
    let p = platform();
    let (s, v) = send(&p, request("GET", "/api/products", &[], ""));
    assert_eq!(s, 200);
    let ids: Vec<&str> = v["products"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["sticker_pack", "pro_monthly", "insiders"]);
    assert_eq!(v["products"][1]["subscription_period"], 2_592_000);
    assert!(v["products"][0].get("subscription_period").is_none());
}

#[test]
fn a_bad_catalog_is_refused_with_its_reason() {
    let mut p = platform();
    p.settings.insert(
        "CATALOG",
        r#"[{"id":"x","title":"","description":"d","currency":"XTR","amount":1}]"#.into(),
    );
    let (s, v) = send(&p, request("GET", "/api/products", &[], ""));
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (503, Some("invalid_catalog"))
    );
    assert!(v["error"]["message"].as_str().unwrap().contains("title"));
    // Only the routes that sell need the catalog: the webhook still answers.
    let (s, v) = webhook(&p, pre_checkout(5, "o_unknown", "XTR", 50));
    assert_eq!(
        (s, &v["method"], &v["ok"]),
        (200, &json!("answerPreCheckoutQuery"), &json!(false))
    );
}

#[test]
fn an_invoice_is_priced_from_the_catalog_and_stored_pending_first() {
    let p = platform();
    let order = buy(&p, 5, "pro_monthly");
    let (url, params) = p.bot.calls.borrow()[0].clone();
    assert!(url.ends_with("/bot4242:TEST_token/createInvoiceLink"));
    assert_eq!(params["currency"], "XTR");
    assert_eq!(params["provider_token"], "");
    assert_eq!(
        params["prices"],
        json!([{"label": "Pro membership", "amount": 250}])
    );
    assert_eq!(params["subscription_period"], 2_592_000);
    assert_eq!(params["payload"], format!("{order}:pro_monthly"));
    assert_eq!(order_status(&p, &order), "pending");
    assert_eq!(order.len(), 22, "128 random bits, base64url");
}

#[test]
fn invoice_failures() {
    let p = platform();
    let (s, v) = as_user(&p, "POST", "/api/invoices", 5, r#"{"product_id":"nope"}"#);
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (404, Some("product_not_found"))
    );
    let (s, _) = as_user(&p, "POST", "/api/invoices", 5, r#"{"product":"x"}"#);
    assert_eq!(s, 400);

    // Telegram refuses: the order is failed, not left pending.
    p.bot.answer(
        400,
        json!({"ok": false, "error_code": 400, "description": "Bad Request: nope"}),
    );
    let (s, v) = as_user(
        &p,
        "POST",
        "/api/invoices",
        5,
        r#"{"product_id":"sticker_pack"}"#,
    );
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (502, Some("telegram_error"))
    );
    p.bot.fail(TransportError::Timeout);
    assert_eq!(
        as_user(
            &p,
            "POST",
            "/api/invoices",
            5,
            r#"{"product_id":"sticker_pack"}"#
        )
        .0,
        502
    );
    let (_, v) = as_user(&p, "GET", "/api/orders", 5, "");
    let statuses: Vec<&str> = v["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["failed", "failed"]);
}

#[test]
fn card_products_need_the_provider_token() {
    let mut p = platform();
    p.settings.insert(
        "CATALOG",
        r#"[{"id":"eur","kind":"service","title":"T","description":"D","currency":"EUR","amount":199}]"#.into(),
    );
    let (s, v) = as_user(&p, "POST", "/api/invoices", 5, r#"{"product_id":"eur"}"#);
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (503, Some("payment_provider_not_configured"))
    );
    p.settings
        .insert("PAYMENT_PROVIDER_TOKEN", "284685063:TEST:abc".into());
    buy(&p, 5, "eur");
    assert_eq!(
        p.bot.calls.borrow()[0].1["provider_token"],
        "284685063:TEST:abc"
    );
}

#[test]
fn the_page_has_a_csp_and_the_configured_script() {
    let mut p = platform();
    let r = block_on(handle(&p, request("GET", "/", &[], "")));
    assert!(r
        .header("content-security-policy")
        .unwrap()
        .contains("https://telegram.org"));
    assert!(
        String::from_utf8_lossy(&r.body).contains("https://telegram.org/js/telegram-web-app.js")
    );
    p.settings.insert(
        "TELEGRAM_WEB_APP_JS",
        "http://127.0.0.1:8081/telegram-web-app.js".into(),
    );
    let r = block_on(handle(&p, request("GET", "/", &[], "")));
    assert!(String::from_utf8_lossy(&r.body).contains("http://127.0.0.1:8081/telegram-web-app.js"));
}
