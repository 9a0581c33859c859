//! The operator's routes: refunds, setup, reconciliation.

use serde_json::json;

use super::*;

#[test]
fn admin_routes_need_the_token() {
    let mut p = platform();
    let (s, _) = send(
        &p,
        request(
            "POST",
            "/api/admin/setup",
            &[("authorization", "Bearer nope")],
            "",
        ),
    );
    assert_eq!(s, 401);
    p.settings.remove("ADMIN_TOKEN");
    let (s, v) = admin(&p, "POST", "/api/admin/setup", "");
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (403, Some("admin_disabled"))
    );
}

#[test]
fn refunding_an_unpaid_order_is_a_conflict() {
    let p = platform();
    let order = buy(&p, 5, "sticker_pack");
    let (s, v) = admin(
        &p,
        "POST",
        "/api/admin/refunds",
        &json!({"order_id": order}).to_string(),
    );
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (409, Some("order_not_paid"))
    );
    let (s, _) = admin(&p, "POST", "/api/admin/refunds", r#"{"order_id":"nope"}"#);
    assert_eq!(s, 404);
}

#[test]
fn setup_registers_webhook_commands_and_menu() {
    let p = platform();
    let (s, v) = admin(&p, "POST", "/api/admin/setup", "");
    assert_eq!(s, 200, "{v}");
    // Then the default catalog's access chat is checked (see tests/access.rs).
    assert_eq!(
        p.bot.methods()[..4],
        [
            "setWebhook",
            "setMyCommands",
            "setMyCommands",
            "setChatMenuButton"
        ]
    );
    let calls = p.bot.calls.borrow();
    // The default list, in English, then the Chinese one for `zh` users.
    assert!(calls[1].1.get("language_code").is_none());
    assert_eq!(calls[1].1["commands"][0]["description"], "Open the shop");
    assert_eq!(calls[2].1["language_code"], "zh");
    assert_eq!(calls[2].1["commands"][0]["description"], "进入商店");
    assert_eq!(
        calls[1].1["commands"].as_array().unwrap().len(),
        calls[2].1["commands"].as_array().unwrap().len()
    );
    assert_eq!(v["commands_by_language"]["zh"][0]["command"], "start");
    assert_eq!(calls[0].1["url"], "https://shop.example/telegram/webhook");
    assert_eq!(calls[0].1["secret_token"], "hook_secret");
    assert!(calls[0].1["allowed_updates"]
        .as_array()
        .unwrap()
        .contains(&json!("pre_checkout_query")));
    assert_eq!(
        calls[3].1["menu_button"]["web_app"]["url"],
        "https://shop.example/"
    );
}

#[test]
fn reconcile_reports_differences() {
    let p = platform();
    let a = buy(&p, 5, "sticker_pack");
    let b = buy(&p, 5, "sticker_pack");
    webhook(&p, paid(2, 5, &a, "stx_a", 50));
    webhook(&p, paid(3, 5, &b, "stx_b", 50));
    p.bot.answer(
        200,
        json!({"ok": true, "result": {"transactions": [
            {"id": "stx_a", "amount": 50, "date": 1, "source": {"type": "user"}},
            {"id": "stx_z", "amount": 10, "date": 1, "source": {"type": "user"}}
        ]}}),
    );
    let (s, v) = admin(&p, "GET", "/api/admin/reconcile", "");
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["in_sync"], false);
    let problems: Vec<(String, String)> = v["differences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["charge_id"].as_str().unwrap().into(),
                d["problem"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert!(problems.contains(&("stx_b".into(), "missing_at_telegram".into())));
    assert!(problems.contains(&("stx_z".into(), "missing_in_store".into())));
    assert_eq!(problems.len(), 2);
}
