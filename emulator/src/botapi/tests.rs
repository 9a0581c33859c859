//! Unit tests of the validators (each refusal) and of the webhook-reply rule.

use super::*;
use crate::state::Invoice;
use serde_json::json;

fn p(v: Value) -> Params {
    Params::from_json(v)
}

fn stars_invoice() -> Value {
    json!({"title": "Gold", "description": "One gold pass", "payload": "order-1", "currency": "XTR", "prices": [{"label": "Gold", "amount": 50}]})
}

fn with(mut base: Value, key: &str, value: Value) -> Params {
    if value.is_null() {
        base.as_object_mut().unwrap().remove(key);
    } else {
        base[key] = value;
    }
    p(base)
}

fn refusal(r: Result<Invoice, ApiError>) -> String {
    let e = r.expect_err("should be refused");
    assert_eq!(e.code, 400);
    e.description
}

#[test]
fn valid_stars_and_card_invoices_pass() {
    let inv = validate_invoice(&p(stars_invoice()), false).unwrap();
    assert_eq!((inv.total_amount, inv.currency.as_str()), (50, "XTR"));
    let card = json!({"title": "T", "description": "D", "payload": "x", "currency": "USD", "provider_token": "284685063:TEST:abc",
        "prices": [{"label": "Item", "amount": 1000}, {"label": "Discount", "amount": -100}]});
    assert_eq!(validate_invoice(&p(card), false).unwrap().total_amount, 900);
    let form_prices = with(
        stars_invoice(),
        "prices",
        json!(r#"[{"label":"Gold","amount":50}]"#),
    );
    assert_eq!(
        validate_invoice(&form_prices, false).unwrap().total_amount,
        50
    );
    let sub = with(stars_invoice(), "subscription_period", json!(2592000));
    assert_eq!(
        validate_invoice(&sub, false).unwrap().subscription_period,
        Some(2592000)
    );
}

#[test]
fn each_invoice_refusal() {
    let inv = stars_invoice();
    assert!(refusal(validate_invoice(
        &with(inv.clone(), "title", json!("")),
        false
    ))
    .contains("title"));
    assert!(refusal(validate_invoice(
        &with(inv.clone(), "title", json!("x".repeat(33))),
        false
    ))
    .contains("title"));
    assert!(validate_invoice(&with(inv.clone(), "title", json!("é".repeat(32))), false).is_ok());
    assert!(refusal(validate_invoice(
        &with(inv.clone(), "description", Value::Null),
        false
    ))
    .contains("description"));
    assert!(refusal(validate_invoice(
        &with(inv.clone(), "description", json!("d".repeat(256))),
        false
    ))
    .contains("description"));
    assert!(refusal(validate_invoice(
        &with(inv.clone(), "payload", json!("")),
        false
    ))
    .contains("PAYLOAD"));
    // 128 bytes is the limit, counted in bytes: 65 two-byte characters are 130 bytes.
    assert!(validate_invoice(&with(inv.clone(), "payload", json!("p".repeat(128))), false).is_ok());
    assert!(refusal(validate_invoice(
        &with(inv.clone(), "payload", json!("é".repeat(65))),
        false
    ))
    .contains("PAYLOAD"));
    assert!(refusal(validate_invoice(
        &with(inv.clone(), "currency", json!("XT")),
        false
    ))
    .contains("CURRENCY_INVALID"));
    assert!(refusal(validate_invoice(
        &with(inv.clone(), "currency", json!("xtr")),
        false
    ))
    .contains("CURRENCY_INVALID"));
    assert!(refusal(validate_invoice(
        &with(inv.clone(), "prices", json!([])),
        false
    ))
    .contains("non-empty"));
    assert!(refusal(validate_invoice(
        &with(inv.clone(), "prices", Value::Null),
        false
    ))
    .contains("\"prices\" is required"));
    assert!(refusal(validate_invoice(
        &with(inv.clone(), "prices", json!("[1,")),
        false
    ))
    .contains("can't parse prices"));
    assert!(refusal(validate_invoice(
        &with(inv.clone(), "prices", json!([{"label": "x"}])),
        false
    ))
    .contains("can't parse prices"));
    assert!(refusal(validate_invoice(
        &with(inv.clone(), "prices", json!([{"label": "x", "amount": 0}])),
        false
    ))
    .contains("AMOUNT"));
    assert!(refusal(validate_invoice(
        &with(inv.clone(), "prices", json!([{"label": "x", "amount": -5}])),
        false
    ))
    .contains("AMOUNT"));
    let two = json!([{"label": "a", "amount": 1}, {"label": "b", "amount": 2}]);
    assert!(
        refusal(validate_invoice(&with(inv.clone(), "prices", two), false))
            .contains("exactly one price")
    );
    assert!(refusal(validate_invoice(
        &with(inv.clone(), "provider_token", json!("284685063:TEST:abc")),
        false
    ))
    .contains("PAYMENT_PROVIDER_INVALID"));
    let card = with(inv.clone(), "currency", json!("USD"));
    assert!(refusal(validate_invoice(&card, false)).contains("provider_token is required"));
}

#[test]
fn subscription_rules() {
    let inv = stars_invoice();
    let period = |v: i64, test: bool| {
        validate_invoice(&with(inv.clone(), "subscription_period", json!(v)), test)
    };
    assert!(refusal(period(86400, false)).contains("SUBSCRIPTION_PERIOD_INVALID"));
    assert!(refusal(period(60, false)).contains("SUBSCRIPTION_PERIOD_INVALID"));
    assert!(period(60, true).is_ok() && period(300, true).is_ok() && period(2592000, true).is_ok());
    assert!(refusal(period(120, true)).contains("SUBSCRIPTION_PERIOD_INVALID"));
    let mut card = inv.clone();
    card["currency"] = json!("USD");
    card["provider_token"] = json!("tok");
    assert!(refusal(validate_invoice(
        &with(card, "subscription_period", json!(2592000)),
        false
    ))
    .contains("only for payments in Telegram Stars"));
    let mut pricey = inv.clone();
    pricey["prices"] = json!([{"label": "x", "amount": 10001}]);
    assert!(refusal(validate_invoice(
        &with(pricey.clone(), "subscription_period", json!(2592000)),
        false
    ))
    .contains("10000"));
    pricey["prices"] = json!([{"label": "x", "amount": 10000}]);
    assert!(validate_invoice(&with(pricey, "subscription_period", json!(2592000)), false).is_ok());
}

#[test]
fn message_refusals() {
    let d = |v: Value| validate_message(&p(v)).unwrap_err().description;
    assert_eq!(d(json!({"text": "hi"})), "Bad Request: chat_id is empty");
    assert_eq!(
        d(json!({"chat_id": 1})),
        "Bad Request: message text is empty"
    );
    assert_eq!(
        d(json!({"chat_id": 1, "text": "x".repeat(4097)})),
        "Bad Request: message is too long"
    );
    assert_eq!(
        d(json!({"chat_id": "@someone", "text": "x"})),
        "Bad Request: chat not found"
    );
    assert!(d(json!({"chat_id": 1, "text": "x", "parse_mode": "BBCode"})).contains("parse_mode"));
    assert!(d(json!({"chat_id": 1, "text": "x", "reply_markup": "{"}))
        .contains("can't parse reply_markup"));
    assert!(d(
        json!({"chat_id": 1, "text": "x", "reply_markup": {"inline_keyboard": [[{"url": "x"}]]}})
    )
    .contains("inline keyboard button"));
    assert!(d(json!({"chat_id": 1, "text": "x", "reply_markup": {"inline_keyboard": [[{"text": "a", "callback_data": ""}]]}})).contains("BUTTON_DATA_INVALID"));
    let kb = json!({"inline_keyboard": [[{"text": "Open", "web_app": {"url": "http://127.0.0.1:8787/"}}]]});
    let (chat, text, _, markup) = validate_message(&p(
        json!({"chat_id": "10001", "text": "x".repeat(4096), "reply_markup": kb.to_string()}),
    ))
    .unwrap();
    assert_eq!((chat, text.len()), (10001, 4096));
    assert_eq!(markup.unwrap(), kb);
}

#[test]
fn pre_checkout_answer_refusals() {
    let d = |v: Value| validate_pre_checkout_answer(&p(v)).unwrap_err().description;
    assert!(d(json!({"ok": true})).contains("pre_checkout_query_id"));
    assert!(d(json!({"pre_checkout_query_id": "1"})).contains("\"ok\" is required"));
    assert!(d(json!({"pre_checkout_query_id": "1", "ok": false})).contains("error_message"));
    assert!(
        d(json!({"pre_checkout_query_id": "1", "ok": "false", "error_message": " "}))
            .contains("error_message")
    );
    let (_, a) = validate_pre_checkout_answer(&p(
        json!({"pre_checkout_query_id": "1", "ok": false, "error_message": "Sold out"}),
    ))
    .unwrap();
    assert_eq!(
        (a.ok, a.error_message.as_deref()),
        (false, Some("Sold out"))
    );
}

#[test]
fn webhook_refusals() {
    let d = |v: Value| validate_webhook(&p(v)).unwrap_err().description;
    assert!(d(json!({})).contains("\"url\" is required"));
    assert!(d(json!({"url": "ftp://x"})).contains("HTTPS URL"));
    assert!(
        d(json!({"url": "http://127.0.0.1/h", "secret_token": "bad token!"}))
            .contains("unallowed characters")
    );
    assert!(
        d(json!({"url": "http://127.0.0.1/h", "secret_token": "a".repeat(257)}))
            .contains("too long")
    );
    assert!(
        d(json!({"url": "http://127.0.0.1/h", "allowed_updates": "[1]"}))
            .contains("allowed_updates")
    );
    assert!(validate_webhook(&p(json!({"url": ""}))).unwrap().is_none());
    let w = validate_webhook(&p(json!({"url": "http://127.0.0.1/h", "secret_token": "Ab_9-z", "max_connections": 500, "allowed_updates": "[\"message\"]"})))
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            w.max_connections,
            w.allowed_updates,
            w.secret_token.as_deref()
        ),
        (100, vec!["message".to_string()], Some("Ab_9-z"))
    );
}

#[test]
fn command_and_menu_refusals() {
    let c = |v: Value| validate_commands(&p(json!({"commands": v}))).map_err(|e| e.description);
    assert!(c(json!([{"command": "start", "description": "Start"}])).is_ok());
    assert!(c(json!([{"command": "Start", "description": "x"}]))
        .unwrap_err()
        .contains("BOT_COMMAND_INVALID"));
    assert!(c(json!([{"command": "a".repeat(33), "description": "x"}]))
        .unwrap_err()
        .contains("BOT_COMMAND_INVALID"));
    assert!(c(json!([{"command": "start", "description": ""}]))
        .unwrap_err()
        .contains("DESCRIPTION"));
    let many: Vec<Value> = (0..101)
        .map(|i| json!({"command": format!("c{i}"), "description": "x"}))
        .collect();
    assert!(c(json!(many)).unwrap_err().contains("too many"));
    let m =
        |v: Value| validate_menu_button(&p(json!({"menu_button": v}))).map_err(|e| e.description);
    assert!(m(
        json!({"type": "web_app", "text": "Shop", "web_app": {"url": "http://127.0.0.1:8787/"}})
    )
    .is_ok());
    assert!(m(json!({"type": "web_app", "text": "", "web_app": {"url": "http://x/"}})).is_err());
    assert!(
        m(json!({"type": "web_app", "text": "Shop", "web_app": {"url": "javascript:1"}})).is_err()
    );
    assert!(m(json!({"type": "bogus"})).is_err());
}

#[test]
fn command_lists_are_named_by_scope_and_a_two_letter_language() {
    let key = |v: Value| command_list_key(&p(v)).map_err(|e| e.description);
    assert_eq!(key(json!({})), Ok(("default".into(), String::new())));
    assert_eq!(
        key(json!({"language_code": "zh"})),
        Ok(("default".into(), "zh".into()))
    );
    assert_eq!(
        key(json!({"scope": {"type": "default"}, "language_code": ""})),
        key(json!({}))
    );
    assert_eq!(
        key(json!({"scope": "{\"type\":\"all_private_chats\"}"})),
        Ok(("all_private_chats".into(), String::new()))
    );
    assert_eq!(
        key(json!({"scope": {"type": "chat", "chat_id": 7}, "language_code": "en"})),
        Ok(("chat:7".into(), "en".into()))
    );
    // Telegram takes ISO 639-1 codes only: a region, a script or capitals are refused.
    for bad in ["zh-hans", "zh_CN", "ZH", "z", "zho", "e1"] {
        assert_eq!(
            key(json!({"language_code": bad})),
            Err("Bad Request: invalid language code specified".into()),
            "{bad}"
        );
    }
    assert!(key(json!({"scope": {"type": "everyone"}}))
        .unwrap_err()
        .contains("Unsupported type specified"));
}

#[test]
fn webhook_reply_methods() {
    assert!(allowed_in_webhook_reply("answerPreCheckoutQuery"));
    assert!(allowed_in_webhook_reply("sendMessage"));
    assert!(!allowed_in_webhook_reply("getMe"));
    assert!(!allowed_in_webhook_reply("setWebhook"));
    assert!(!allowed_in_webhook_reply("deletewebhook"));
}
