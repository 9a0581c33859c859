//! Unit tests of the access methods' validators: invite links, subscription links, join
//! request queries, and which of them a webhook reply may carry.

use serde_json::{json, Value};

use super::*;
use crate::params::Params;

fn p(v: Value) -> Params {
    Params::from_json(v)
}

const NOW: i64 = 1_800_000_000;

fn settings(v: Value) -> Result<LinkSettings, String> {
    validate_link_settings(&p(v), NOW).map_err(|e| {
        assert_eq!(e.code, 400);
        e.description
    })
}

#[test]
fn link_settings_take_the_spec_limits() {
    let ok =
        settings(json!({"name": "é".repeat(32), "expire_date": NOW + 60, "member_limit": 99999}))
            .unwrap();
    assert_eq!(
        ok,
        LinkSettings {
            name: Some("é".repeat(32)),
            expire_date: NOW + 60,
            member_limit: 99999,
            creates_join_request: false
        }
    );
    // Absent and empty mean none: an edit without them clears them.
    assert_eq!(
        settings(json!({"name": "", "member_limit": 0})).unwrap(),
        LinkSettings {
            name: None,
            expire_date: 0,
            member_limit: 0,
            creates_join_request: false
        }
    );
    let form = settings(json!({"member_limit": "5", "creates_join_request": "false"})).unwrap();
    assert_eq!(form.member_limit, 5);
}

#[test]
fn each_link_refusal() {
    assert!(settings(json!({"name": "n".repeat(33)}))
        .unwrap_err()
        .contains("name is too long"));
    assert!(settings(json!({"member_limit": 100000}))
        .unwrap_err()
        .contains("between 1 and 99999"));
    assert!(settings(json!({"member_limit": -1}))
        .unwrap_err()
        .contains("between 1 and 99999"));
    assert_eq!(
        settings(json!({"member_limit": 10, "creates_join_request": true})).unwrap_err(),
        "Bad Request: member_limit can't be specified for links requiring administrator approval"
    );
    assert!(settings(json!({"expire_date": NOW}))
        .unwrap_err()
        .contains("EXPIRE_DATE_INVALID"));
    assert!(settings(json!({"expire_date": -5}))
        .unwrap_err()
        .contains("invalid expire_date"));
    assert!(settings(json!({"member_limit": "many"}))
        .unwrap_err()
        .contains("invalid member_limit"));
    assert!(settings(json!({"creates_join_request": "perhaps"}))
        .unwrap_err()
        .contains("invalid creates_join_request"));
}

#[test]
fn subscription_link_rules() {
    let sub =
        |v: Value, test: bool| validate_subscription_link(&p(v), test).map_err(|e| e.description);
    let month = json!({"subscription_period": 2592000, "subscription_price": 10000, "name": "VIP"});
    assert_eq!(
        sub(month, false).unwrap(),
        (Some("VIP".to_string()), 2592000, 10000)
    );
    assert!(sub(
        json!({"subscription_period": 60, "subscription_price": 5}),
        true
    )
    .is_ok());
    assert!(sub(
        json!({"subscription_period": 300, "subscription_price": 5}),
        true
    )
    .is_ok());
    assert!(sub(
        json!({"subscription_period": 60, "subscription_price": 5}),
        false
    )
    .unwrap_err()
    .contains("SUBSCRIPTION_PERIOD_INVALID"));
    assert!(sub(
        json!({"subscription_period": 86400, "subscription_price": 5}),
        true
    )
    .unwrap_err()
    .contains("SUBSCRIPTION_PERIOD_INVALID"));
    for price in [0, 10001] {
        assert!(sub(
            json!({"subscription_period": 2592000, "subscription_price": price}),
            false
        )
        .unwrap_err()
        .contains("SUBSCRIPTION_PRICE_INVALID"));
    }
    assert!(sub(json!({"subscription_price": 5}), false)
        .unwrap_err()
        .contains("\"subscription_period\" is required"));
    assert!(sub(json!({"subscription_period": 2592000}), false)
        .unwrap_err()
        .contains("\"subscription_price\" is required"));
}

#[test]
fn join_request_query_answers_and_web_apps() {
    let a = |v: Value| validate_query_answer(&p(v)).map_err(|e| e.description);
    for result in ["approve", "decline", "queue"] {
        assert_eq!(
            a(json!({"chat_join_request_query_id": "7", "result": result})).unwrap(),
            ("7".to_string(), result.to_string())
        );
    }
    assert!(
        a(json!({"chat_join_request_query_id": "7", "result": "accept"}))
            .unwrap_err()
            .contains("\"approve\", \"decline\" or \"queue\"")
    );
    assert!(a(json!({"result": "approve"}))
        .unwrap_err()
        .contains("chat_join_request_query_id"));
    assert!(a(json!({"chat_join_request_query_id": "7"}))
        .unwrap_err()
        .contains("\"result\" is required"));

    let w = |v: Value| validate_join_web_app(&p(v)).map_err(|e| e.description);
    assert!(w(
        json!({"chat_join_request_query_id": "7", "web_app_url": "https://shop.example/join"})
    )
    .is_ok());
    assert!(
        w(json!({"chat_join_request_query_id": "7", "web_app_url": "http://127.0.0.1:8787/"}))
            .is_ok()
    );
    for bad in ["javascript:alert(1)", "https://", "ftp://x/"] {
        assert!(
            w(json!({"chat_join_request_query_id": "7", "web_app_url": bad}))
                .unwrap_err()
                .contains("web_app_url"),
            "{bad}"
        );
    }
    assert!(w(json!({"chat_join_request_query_id": "7"}))
        .unwrap_err()
        .contains("\"web_app_url\" is required"));
}

#[test]
fn access_methods_may_ride_a_webhook_reply_but_getters_may_not() {
    for m in [
        "createChatInviteLink",
        "editChatInviteLink",
        "revokeChatInviteLink",
        "createChatSubscriptionInviteLink",
        "editChatSubscriptionInviteLink",
        "approveChatJoinRequest",
        "declineChatJoinRequest",
        "answerChatJoinRequestQuery",
        "sendChatJoinRequestWebApp",
        "banChatMember",
        "unbanChatMember",
    ] {
        assert!(allowed_in_webhook_reply(m), "{m}");
    }
    for m in ["getChat", "getChatMember", "getChatAdministrators"] {
        assert!(!allowed_in_webhook_reply(m), "{m}");
    }
}
