//! End-to-end: selling access to channels and supergroups. The Bot API and the control API over
//! loopback HTTP, with a webhook server playing the bot where updates matter.

mod common;

use std::time::Duration;

use common::*;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use tma_pay_emulator::chats::spec::ChatSpec;
use tma_pay_emulator::Config;

const CHAT: i64 = -1001234567890;
const BOT_ID: i64 = 4242;
const OWNER: i64 = 10000;
const TOO_OLD: &str =
    "Bad Request: query is too old and response timeout expired or query ID is invalid";

impl Emu {
    /// Creates (or replaces) a chat through the control API.
    async fn chat(&self, body: Value) -> Value {
        let (status, chat) = self.post("/control/chats", body).await;
        assert_eq!(status, 200, "{chat}");
        chat
    }

    /// A Bot API call expected to succeed: its result.
    async fn ok(&self, method: &str, params: Value) -> Value {
        let (status, body) = self.bot(method, params.clone()).await;
        assert_eq!(status, 200, "{method} {params}: {body}");
        body["result"].clone()
    }

    /// A Bot API call expected to fail with 400: its description.
    async fn refused(&self, method: &str, params: Value) -> String {
        let (status, body) = self.bot(method, params.clone()).await;
        assert_eq!(status, 400, "{method} {params}: {body}");
        body["description"].as_str().unwrap().to_string()
    }

    async fn link(&self, params: Value) -> String {
        let mut p = json!({"chat_id": CHAT});
        for (k, v) in params.as_object().unwrap() {
            p[k] = v.clone();
        }
        let l = self.ok("createChatInviteLink", p).await;
        l["invite_link"].as_str().unwrap().to_string()
    }

    async fn tap(&self, user_id: i64, link: &str) -> Value {
        let (status, out) = self
            .post(
                "/control/invite_links/tap",
                json!({"user_id": user_id, "invite_link": link}),
            )
            .await;
        assert_eq!(status, 200, "{out}");
        out
    }

    async fn status_of(&self, user_id: i64) -> Value {
        self.ok(
            "getChatMember",
            json!({"chat_id": CHAT, "user_id": user_id}),
        )
        .await
    }

    /// A call on the test environment's path, `/bot<token>/test/<method>`.
    async fn test_env(&self, method: &str, params: Value) -> (u16, Value) {
        let r = self
            .http
            .post(format!("{}/bot{TOKEN}/test/{method}", self.base))
            .json(&params)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    }
}

/// (old status, new status, user id) of each `chat_member` the bot received.
fn transitions(hook: &Hook) -> Vec<(String, String, i64)> {
    hook.of_kind("chat_member")
        .iter()
        .map(|u| {
            let cm = &u["chat_member"];
            (
                cm["old_chat_member"]["status"]
                    .as_str()
                    .unwrap()
                    .to_string(),
                cm["new_chat_member"]["status"]
                    .as_str()
                    .unwrap()
                    .to_string(),
                cm["new_chat_member"]["user"]["id"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn t(old: &str, new: &str, user: i64) -> (String, String, i64) {
    (old.to_string(), new.to_string(), user)
}

/// Acknowledges every update without acting.
fn ack() -> Behavior {
    Box::new(|_| (200, json!({})))
}

async fn webhook(emu: &Emu, url: &str, allowed: Value) {
    emu.ok(
        "setWebhook",
        json!({"url": url, "allowed_updates": allowed}),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invite_links_follow_telegrams_rules() {
    let emu = Emu::start(config(None)).await;
    emu.chat(json!({"id": CHAT, "title": "Insiders"})).await;
    let now = chrono_now();
    for (extra, want) in [
        (json!({"name": "n".repeat(33)}), "name is too long"),
        (json!({"member_limit": 100000}), "between 1 and 99999"),
        (
            json!({"member_limit": 5, "creates_join_request": true}),
            "member_limit can't be specified for links requiring administrator approval",
        ),
        (json!({"expire_date": now - 10}), "EXPIRE_DATE_INVALID"),
        (json!({"chat_id": -1009999}), "Bad Request: chat not found"),
        (json!({"chat_id": ""}), "Bad Request: chat_id is empty"),
    ] {
        let mut p = json!({"chat_id": CHAT});
        for (k, v) in extra.as_object().unwrap() {
            p[k] = v.clone();
        }
        let d = emu.refused("createChatInviteLink", p).await;
        assert!(d.contains(want), "{d} lacks {want}");
    }

    let l = emu
        .ok(
            "createChatInviteLink",
            json!({"chat_id": CHAT.to_string(), "name": "Order 42", "member_limit": 1, "expire_date": now + 3600}),
        )
        .await;
    let link = l["invite_link"].as_str().unwrap().to_string();
    let hash = link.strip_prefix("https://t.me/+").expect("t.me/+ link");
    assert!(
        hash.len() >= 12
            && hash
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    );
    assert_eq!(
        (
            l["creator"]["id"].as_i64(),
            l["creator"]["is_bot"].as_bool()
        ),
        (Some(BOT_ID), Some(true))
    );
    assert_eq!(
        (
            &l["is_primary"],
            &l["is_revoked"],
            &l["creates_join_request"]
        ),
        (&json!(false), &json!(false), &json!(false))
    );
    assert_eq!(
        (
            l["name"].as_str(),
            l["member_limit"].as_i64(),
            l["expire_date"].as_i64()
        ),
        (Some("Order 42"), Some(1), Some(now + 3600))
    );
    // One member at a time through this link.
    assert_eq!(emu.tap(730, &link).await["result"], "joined");
    let full = emu.tap(731, &link).await;
    assert_eq!(
        (full["result"].as_str(), full["reason"].as_str()),
        (Some("failed"), Some("limit_reached"))
    );

    // An edit replaces every setting: what it leaves out is cleared.
    let edited = emu
        .ok(
            "editChatInviteLink",
            json!({"chat_id": CHAT, "invite_link": link, "name": "Renamed"}),
        )
        .await;
    assert_eq!(edited["name"], "Renamed");
    assert!(edited.get("member_limit").is_none() && edited.get("expire_date").is_none());
    assert_eq!(emu.tap(731, &link).await["result"], "joined");

    let revoked = emu
        .ok(
            "revokeChatInviteLink",
            json!({"chat_id": CHAT, "invite_link": link}),
        )
        .await;
    assert_eq!(
        (revoked["invite_link"].as_str(), &revoked["is_revoked"]),
        (Some(link.as_str()), &json!(true))
    );
    let late = emu.tap(732, &link).await;
    assert_eq!(
        (late["reason"].as_str(), late["error"].as_str()),
        (Some("revoked"), Some("INVITE_HASH_EXPIRED"))
    );
    assert!(emu
        .refused(
            "editChatInviteLink",
            json!({"chat_id": CHAT, "invite_link": link, "name": "x"})
        )
        .await
        .contains("revoked"));
    assert!(emu
        .refused(
            "revokeChatInviteLink",
            json!({"chat_id": CHAT, "invite_link": "https://t.me/+unknown"})
        )
        .await
        .contains("not found"));

    let primary = emu
        .ok("exportChatInviteLink", json!({"chat_id": CHAT}))
        .await;
    let info = emu.ok("getChat", json!({"chat_id": CHAT})).await;
    assert_eq!(info["invite_link"], primary);
    assert_eq!(
        (info["type"].as_str(), info["title"].as_str()),
        (Some("channel"), Some("Insiders"))
    );

    // Subscription links: channels only, 30 days (or a minute on /test/), 1-10000 Stars.
    let sub = emu
        .ok(
            "createChatSubscriptionInviteLink",
            json!({"chat_id": CHAT, "name": "Monthly", "subscription_period": 2592000, "subscription_price": 100}),
        )
        .await;
    assert_eq!(
        (
            sub["subscription_period"].as_i64(),
            sub["subscription_price"].as_i64(),
            &sub["creates_join_request"]
        ),
        (Some(2592000), Some(100), &json!(false))
    );
    let sub_params = |period: i64, price: i64| json!({"chat_id": CHAT, "subscription_period": period, "subscription_price": price});
    assert!(emu
        .refused("createChatSubscriptionInviteLink", sub_params(60, 5))
        .await
        .contains("SUBSCRIPTION_PERIOD_INVALID"));
    assert_eq!(
        emu.test_env("createChatSubscriptionInviteLink", sub_params(60, 5))
            .await
            .0,
        200
    );
    assert!(emu
        .refused(
            "createChatSubscriptionInviteLink",
            sub_params(2592000, 10001)
        )
        .await
        .contains("SUBSCRIPTION_PRICE_INVALID"));
    let renamed = emu
        .ok(
            "editChatSubscriptionInviteLink",
            json!({"chat_id": CHAT, "invite_link": sub["invite_link"], "name": "VIP"}),
        )
        .await;
    assert_eq!(
        (
            renamed["name"].as_str(),
            renamed["subscription_price"].as_i64()
        ),
        (Some("VIP"), Some(100))
    );
    assert!(emu
        .refused(
            "editChatInviteLink",
            json!({"chat_id": CHAT, "invite_link": sub["invite_link"], "member_limit": 3})
        )
        .await
        .contains("editChatSubscriptionInviteLink"));
    emu.chat(json!({"id": -1005, "type": "supergroup", "title": "Club"}))
        .await;
    assert!(emu
        .refused(
            "createChatSubscriptionInviteLink",
            json!({"chat_id": -1005, "subscription_period": 2592000, "subscription_price": 5})
        )
        .await
        .contains("only in channels"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rights_are_checked_and_the_owner_and_admins_cannot_be_removed() {
    let emu = Emu::start(config(None)).await;
    emu.chat(json!({"id": CHAT, "title": "Insiders"})).await;
    emu.chat(json!({"id": -1001, "title": "No bans", "bot_rights": {"can_invite_users": true}}))
        .await;
    emu.chat(
        json!({"id": -1002, "title": "No links", "bot_rights": {"can_restrict_members": true}}),
    )
    .await;
    emu.chat(json!({"id": -1003, "title": "Bot left", "bot_status": "left"}))
        .await;
    emu.chat(
        json!({"id": -1004, "type": "supergroup", "title": "Bot member", "bot_status": "member"}),
    )
    .await;
    let (status, body) = emu
        .post(
            "/control/chats",
            json!({"id": -1006, "title": "T", "bot_rights": {"can_fly": true}}),
        )
        .await;
    assert_eq!(status, 400, "{body}");

    let restrict = "Bad Request: not enough rights to restrict/unrestrict chat member";
    assert_eq!(
        emu.refused("banChatMember", json!({"chat_id": -1001, "user_id": 5}))
            .await,
        restrict
    );
    assert_eq!(
        emu.refused("unbanChatMember", json!({"chat_id": -1001, "user_id": 5}))
            .await,
        restrict
    );
    let links = "Bad Request: not enough rights to manage chat invite links";
    assert_eq!(
        emu.refused("createChatInviteLink", json!({"chat_id": -1002}))
            .await,
        links
    );
    assert_eq!(
        emu.refused("createChatInviteLink", json!({"chat_id": -1004}))
            .await,
        links
    );
    assert!(emu
        .refused(
            "approveChatJoinRequest",
            json!({"chat_id": -1002, "user_id": 5})
        )
        .await
        .contains("not enough rights"));
    for method in ["getChat", "createChatInviteLink", "banChatMember"] {
        let d = emu
            .refused(method, json!({"chat_id": -1003, "user_id": 5}))
            .await;
        assert_eq!(d, "Bad Request: chat not found", "{method}");
    }
    let own = emu
        .ok(
            "getChatMember",
            json!({"chat_id": -1004, "user_id": BOT_ID}),
        )
        .await;
    assert_eq!(own["status"], "member");

    // The bot's own membership shows its rights.
    let me = emu.status_of(BOT_ID).await;
    assert_eq!(
        (
            me["status"].as_str(),
            &me["can_invite_users"],
            &me["can_restrict_members"],
            &me["can_promote_members"]
        ),
        (
            Some("administrator"),
            &json!(true),
            &json!(true),
            &json!(false)
        )
    );
    assert_eq!(me["user"]["is_bot"], true);
    assert_eq!(emu.status_of(OWNER).await["status"], "creator");

    let (status, admin) = emu
        .post(
            &format!("/control/chats/{CHAT}/members"),
            json!({"user_id": 600, "status": "administrator", "rights": {"can_post_messages": true}, "custom_title": "Editor"}),
        )
        .await;
    assert_eq!(status, 200, "{admin}");
    let a = emu.status_of(600).await;
    assert_eq!(
        (
            a["status"].as_str(),
            &a["can_post_messages"],
            &a["can_manage_chat"],
            a["custom_title"].as_str()
        ),
        (
            Some("administrator"),
            &json!(true),
            &json!(true),
            Some("Editor")
        )
    );
    assert_eq!(
        emu.refused("banChatMember", json!({"chat_id": CHAT, "user_id": OWNER}))
            .await,
        "Bad Request: can't remove chat owner"
    );
    assert_eq!(
        emu.refused("banChatMember", json!({"chat_id": CHAT, "user_id": 600}))
            .await,
        "Bad Request: user is an administrator of the chat"
    );
    assert_eq!(
        emu.refused(
            "unbanChatMember",
            json!({"chat_id": CHAT, "user_id": OWNER})
        )
        .await,
        "Bad Request: can't remove chat owner"
    );
    assert_eq!(emu.status_of(600).await["status"], "administrator");
    let admins = emu
        .ok("getChatAdministrators", json!({"chat_id": CHAT}))
        .await;
    let mut ids: Vec<i64> = admins
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["user"]["id"].as_i64().unwrap())
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, vec![600, BOT_ID, OWNER]);
    assert!(emu
        .refused("getChatMember", json!({"chat_id": CHAT, "user_id": 987654}))
        .await
        .contains("user not found"));
    assert!(emu
        .refused("banChatMember", json!({"chat_id": CHAT}))
        .await
        .contains("invalid user_id"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_approved_in_the_webhook_reply_becomes_a_member() {
    let (url, hook) = Hook::start(Box::new(|u| match u.get("chat_join_request") {
        Some(r) => (
            200,
            json!({"method": "approveChatJoinRequest", "chat_id": r["chat"]["id"], "user_id": r["from"]["id"]}),
        ),
        None => (200, json!({})),
    }))
    .await;
    let emu = Emu::start(config(None)).await;
    webhook(&emu, &url, json!(["chat_join_request", "chat_member"])).await;
    emu.chat(json!({"id": CHAT, "title": "Insiders"})).await;
    let link = emu
        .link(json!({"creates_join_request": true, "name": "buyer 700"}))
        .await;

    let asked = emu.tap(700, &link).await;
    assert_eq!(
        (asked["result"].as_str(), &asked["query_id"]),
        (Some("requested"), &Value::Null)
    );
    emu.idle().await;

    let req = &hook.of_kind("chat_join_request")[0];
    let r = &req["chat_join_request"];
    assert_eq!(
        (
            r["chat"]["id"].as_i64(),
            r["chat"]["type"].as_str(),
            r["from"]["id"].as_i64(),
            r["user_chat_id"].as_i64()
        ),
        (Some(CHAT), Some("channel"), Some(700), Some(700))
    );
    assert!(r["date"].as_i64().unwrap() >= chrono_now() - 5);
    assert_eq!(r["invite_link"]["invite_link"], link.as_str());
    assert_eq!(r["invite_link"]["pending_join_request_count"], 1);
    assert!(r.get("query_id").is_none(), "only a guard bot gets a query");
    let calls = emu
        .get("/control/calls?method=approveChatJoinRequest")
        .await;
    assert_eq!(
        (calls[0]["via"].as_str(), &calls[0]["response"]["result"]),
        (Some("webhook_response"), &json!(true))
    );

    let joined = &hook.of_kind("chat_member")[0];
    assert!(joined["update_id"].as_i64() > req["update_id"].as_i64());
    let cm = &joined["chat_member"];
    assert_eq!(
        (
            cm["old_chat_member"]["status"].as_str(),
            cm["new_chat_member"]["status"].as_str()
        ),
        (Some("left"), Some("member"))
    );
    assert_eq!(
        (cm["from"]["id"].as_i64(), cm["chat"]["id"].as_i64()),
        (Some(BOT_ID), Some(CHAT))
    );
    assert_eq!(cm["invite_link"]["invite_link"], link.as_str());
    assert_eq!(emu.status_of(700).await["status"], "member");
    assert_eq!(
        emu.refused(
            "approveChatJoinRequest",
            json!({"chat_id": CHAT, "user_id": 700})
        )
        .await,
        "Bad Request: HIDE_REQUESTER_MISSING"
    );
    let view = emu.get(&format!("/control/chats/{CHAT}")).await;
    assert_eq!(view["join_requests"], json!([]));
    let m = view["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["user_id"] == 700)
        .unwrap();
    assert_eq!(m["joined_with"], link.as_str());
    assert_eq!(emu.tap(700, &link).await["result"], "already_member");

    // Leaving is the user's own change.
    let (status, left) = emu
        .post(
            &format!("/control/chats/{CHAT}/leave"),
            json!({"user_id": 700}),
        )
        .await;
    assert_eq!((status, left["was"].as_str()), (200, Some("member")));
    assert_eq!(
        emu.post(
            &format!("/control/chats/{CHAT}/leave"),
            json!({"user_id": 700})
        )
        .await
        .0,
        400
    );
    emu.idle().await;
    let last = hook.of_kind("chat_member").pop().unwrap();
    assert_eq!(last["chat_member"]["from"]["id"], 700);
    assert_eq!(
        transitions(&hook),
        vec![t("left", "member", 700), t("member", "left", 700)]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declined_request_keeps_the_user_out() {
    let emu = Emu::start(config(None)).await;
    emu.chat(json!({"id": CHAT, "title": "Insiders"})).await;
    let link = emu.link(json!({"creates_join_request": true})).await;
    assert_eq!(emu.tap(701, &link).await["result"], "requested");
    let view = emu.get(&format!("/control/chats/{CHAT}")).await;
    assert_eq!(view["join_requests"][0]["user_id"], 701);
    assert_eq!(
        emu.ok(
            "declineChatJoinRequest",
            json!({"chat_id": CHAT, "user_id": 701})
        )
        .await,
        true
    );
    assert_eq!(emu.status_of(701).await["status"], "left");
    for method in ["approveChatJoinRequest", "declineChatJoinRequest"] {
        assert_eq!(
            emu.refused(method, json!({"chat_id": CHAT, "user_id": 701}))
                .await,
            "Bad Request: HIDE_REQUESTER_MISSING"
        );
    }
    // Without a webhook the request waits for getUpdates; nobody's status changed.
    assert_eq!(
        emu.get("/control/updates?kind=chat_join_request").await[0]["status"],
        "pending"
    );
    assert_eq!(
        emu.get("/control/updates?kind=chat_member").await,
        json!([])
    );
    assert_eq!(
        emu.get(&format!("/control/chats/{CHAT}")).await["join_requests"],
        json!([])
    );
}

/// `hex(HMAC_SHA256(HMAC_SHA256("WebAppData", token), check_string))`, computed here.
fn init_data_hash(token: &str, fields: &[(String, String)]) -> String {
    let mut lines: Vec<String> = fields
        .iter()
        .filter(|(k, _)| k != "hash")
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    lines.sort();
    let mut secret = Hmac::<Sha256>::new_from_slice(b"WebAppData").unwrap();
    secret.update(token.as_bytes());
    let mut mac = Hmac::<Sha256>::new_from_slice(&secret.finalize().into_bytes()).unwrap();
    mac.update(lines.join("\n").as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_join_request_query_opens_the_mini_app_then_is_answered() {
    let (url, hook) = Hook::start(Box::new(|u| match u.pointer("/chat_join_request/query_id") {
        Some(q) => (
            200,
            json!({"method": "sendChatJoinRequestWebApp", "chat_join_request_query_id": q, "web_app_url": "http://127.0.0.1:8787/join?item=club"}),
        ),
        None => (200, json!({})),
    }))
    .await;
    let emu = Emu::start(Config {
        signing_seed: Some([5u8; 32]),
        join_query_timeout: Duration::from_millis(300),
        ..config(Some(&url))
    })
    .await;
    emu.chat(json!({"id": CHAT, "title": "Insiders", "guard_bot": true}))
        .await;
    assert_eq!(
        emu.ok("getChat", json!({"chat_id": CHAT})).await["guard_bot"]["id"],
        BOT_ID
    );
    let link = emu.link(json!({"creates_join_request": true})).await;
    let asked = emu.tap(702, &link).await;
    let query = asked["query_id"]
        .as_str()
        .expect("a guard bot's request has a query")
        .to_string();
    emu.idle().await;
    assert_eq!(
        hook.of_kind("chat_join_request")[0]["chat_join_request"]["query_id"],
        query.as_str()
    );

    let launch = emu.get("/control/launch/last?user_id=702").await;
    assert_eq!(
        (
            launch["source"].as_str(),
            launch["chat_id"].as_i64(),
            launch["chat_join_request_query_id"].as_str()
        ),
        (Some("chat_join_request"), Some(CHAT), Some(query.as_str()))
    );
    let launch_url = launch["url"].as_str().unwrap();
    assert!(
        launch_url.starts_with("http://127.0.0.1:8787/join?item=club#tgWebAppData="),
        "{launch_url}"
    );
    let fields = form_pairs(launch["init_data"].as_str().unwrap());
    let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    assert_eq!(
        get("chat_join_request_query_id").as_deref(),
        Some(query.as_str())
    );
    let user: Value = serde_json::from_str(&get("user").unwrap()).unwrap();
    assert_eq!(user["id"], 702);
    assert!(get("signature").is_some());
    assert_eq!(get("hash").unwrap(), init_data_hash(TOKEN, &fields));

    // Showing the Mini App lifts the deadline: the answer may come after it.
    tokio::time::sleep(Duration::from_millis(450)).await;
    let view = emu.get(&format!("/control/chats/{CHAT}")).await;
    assert_eq!(view["queries"][0]["status"], "web_app_sent");
    let answer = json!({"chat_join_request_query_id": query, "result": "approve"});
    assert_eq!(
        emu.ok("answerChatJoinRequestQuery", answer.clone()).await,
        true
    );
    assert_eq!(emu.status_of(702).await["status"], "member");
    assert_eq!(
        emu.refused("answerChatJoinRequestQuery", answer).await,
        TOO_OLD
    );
    let q = &emu.get(&format!("/control/chats/{CHAT}")).await["queries"][0];
    assert_eq!(
        (
            q["status"].as_str(),
            q["result"].as_str(),
            q["web_app_url"].as_str()
        ),
        (
            Some("answered"),
            Some("approve"),
            Some("http://127.0.0.1:8787/join?item=club")
        )
    );
    // chat_member is not among the default allowed_updates: created, never sent.
    emu.idle().await;
    assert_eq!(
        emu.get("/control/updates?kind=chat_member").await[0]["status"],
        "filtered"
    );
    assert!(hook.of_kind("chat_member").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unanswered_query_expires_and_the_request_waits_for_admins() {
    let emu = Emu::start(Config {
        join_query_timeout: Duration::from_millis(150),
        ..config(None)
    })
    .await;
    emu.chat(json!({"id": CHAT, "title": "Insiders", "guard_bot": true}))
        .await;
    let link = emu.link(json!({"creates_join_request": true})).await;
    let q = emu.tap(703, &link).await["query_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(emu
        .refused(
            "answerChatJoinRequestQuery",
            json!({"chat_join_request_query_id": q, "result": "maybe"})
        )
        .await
        .contains("\"approve\", \"decline\" or \"queue\""));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let late = json!({"chat_join_request_query_id": q, "result": "approve"});
    assert_eq!(
        emu.refused("answerChatJoinRequestQuery", late).await,
        TOO_OLD
    );
    let web_app = json!({"chat_join_request_query_id": q, "web_app_url": "https://app.example/"});
    assert_eq!(
        emu.refused("sendChatJoinRequestWebApp", web_app).await,
        TOO_OLD
    );
    let view = emu.get(&format!("/control/chats/{CHAT}")).await;
    assert_eq!(
        (
            view["queries"][0]["status"].as_str(),
            view["join_requests"][0]["user_id"].as_i64()
        ),
        (Some("expired"), Some(703))
    );
    assert_eq!(
        emu.ok(
            "approveChatJoinRequest",
            json!({"chat_id": CHAT, "user_id": 703})
        )
        .await,
        true
    );
    assert_eq!(emu.status_of(703).await["status"], "member");

    // "queue" answers the query but leaves the request to the administrators.
    let q2 = emu.tap(704, &link).await["query_id"]
        .as_str()
        .unwrap()
        .to_string();
    let queue = json!({"chat_join_request_query_id": q2, "result": "queue"});
    assert_eq!(
        emu.ok("answerChatJoinRequestQuery", queue.clone()).await,
        true
    );
    assert_eq!(
        emu.refused("answerChatJoinRequestQuery", queue).await,
        TOO_OLD
    );
    assert_eq!(emu.status_of(704).await["status"], "left");
    assert_eq!(
        emu.ok(
            "declineChatJoinRequest",
            json!({"chat_id": CHAT, "user_id": 704})
        )
        .await,
        true
    );
    let unknown = json!({"chat_join_request_query_id": "123", "result": "decline"});
    assert_eq!(
        emu.refused("answerChatJoinRequestQuery", unknown).await,
        TOO_OLD
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bans_remove_and_unban_with_only_if_banned_spares_members() {
    let (url, hook) = Hook::start(ack()).await;
    let emu = Emu::start(config(None)).await;
    webhook(&emu, &url, json!(["chat_member"])).await;
    emu.chat(json!({"id": CHAT, "title": "Insiders"})).await;
    let link = emu.link(json!({})).await;
    assert_eq!(emu.tap(710, &link).await["result"], "joined");
    assert_eq!(emu.tap(711, &link).await["result"], "joined");

    let until = chrono_now() + 3600;
    let ban =
        json!({"chat_id": CHAT, "user_id": 710, "until_date": until, "revoke_messages": true});
    assert_eq!(emu.ok("banChatMember", ban).await, true);
    let banned = emu.status_of(710).await;
    assert_eq!(
        (banned["status"].as_str(), banned["until_date"].as_i64()),
        (Some("kicked"), Some(until))
    );
    let back = emu.tap(710, &link).await;
    assert_eq!(
        (back["reason"].as_str(), back["error"].as_str()),
        (Some("banned"), Some("USER_BANNED_IN_CHANNEL"))
    );
    assert!(emu
        .refused(
            "banChatMember",
            json!({"chat_id": CHAT, "user_id": 711, "revoke_messages": "often"})
        )
        .await
        .contains("revoke_messages"));

    // Access ended: ban then unban only_if_banned. A member who is not banned stays.
    let only = |user: i64| json!({"chat_id": CHAT, "user_id": user, "only_if_banned": true});
    assert_eq!(emu.ok("unbanChatMember", only(711)).await, true);
    assert_eq!(emu.status_of(711).await["status"], "member");
    assert_eq!(emu.ok("unbanChatMember", only(710)).await, true);
    assert_eq!(emu.status_of(710).await["status"], "left");
    assert_eq!(emu.tap(710, &link).await["result"], "joined");
    // Without only_if_banned an unban removes a member too.
    assert_eq!(
        emu.ok("unbanChatMember", json!({"chat_id": CHAT, "user_id": 711}))
            .await,
        true
    );
    assert_eq!(emu.status_of(711).await["status"], "left");
    // A ban shorter than thirty seconds is forever.
    let short = json!({"chat_id": CHAT, "user_id": 710, "until_date": chrono_now() + 10});
    emu.ok("banChatMember", short).await;
    assert_eq!(emu.status_of(710).await["until_date"], 0);

    emu.idle().await;
    assert_eq!(
        transitions(&hook),
        vec![
            t("left", "member", 710),
            t("left", "member", 711),
            t("member", "kicked", 710),
            t("kicked", "left", 710),
            t("left", "member", 710),
            t("member", "left", 711),
            t("member", "kicked", 710),
        ]
    );
    let kicked = &hook.of_kind("chat_member")[2]["chat_member"];
    assert_eq!(
        (
            kicked["from"]["id"].as_i64(),
            kicked["new_chat_member"]["until_date"].as_i64()
        ),
        (Some(BOT_ID), Some(until))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscription_link_is_paid_to_the_chat_and_runs_out() {
    let (url, hook) = Hook::start(ack()).await;
    let emu = Emu::start(config(None)).await;
    webhook(&emu, &url, json!(["chat_member", "message"])).await;
    emu.chat(json!({"id": CHAT, "title": "Insiders"})).await;
    let (status, sub) = emu
        .test_env(
            "createChatSubscriptionInviteLink",
            json!({"chat_id": CHAT, "subscription_period": 60, "subscription_price": 25}),
        )
        .await;
    assert_eq!(status, 200, "{sub}");
    let link = sub["result"]["invite_link"].as_str().unwrap().to_string();

    let preview = emu
        .get(&format!(
            "/control/invite_links?user_id=720&invite_link={}",
            link.replace('+', "%2B")
        ))
        .await;
    assert_eq!(
        (
            preview["chat"]["title"].as_str(),
            preview["invite_link"]["subscription_price"].as_i64(),
            &preview["usable"]
        ),
        (Some("Insiders"), Some(25), &json!(true))
    );
    let before = chrono_now();
    let joined = emu.tap(720, &link).await;
    assert_eq!(
        (joined["result"].as_str(), joined["paid"]["amount"].as_i64()),
        (Some("joined"), Some(25))
    );
    let until = joined["until_date"].as_i64().unwrap();
    assert!(
        (before + 60..=before + 62).contains(&until),
        "{until} vs {before}"
    );
    let m = emu.status_of(720).await;
    assert_eq!(
        (m["status"].as_str(), m["until_date"].as_i64()),
        (Some("member"), Some(until))
    );
    assert_eq!(emu.tap(720, &link).await["result"], "already_member");

    // The Stars went to the chat: the bot's ledger and its chat with the user stay empty.
    let tx = emu.ok("getStarTransactions", json!({})).await;
    assert_eq!(tx["transactions"], json!([]));
    let revenue = &emu.get(&format!("/control/chats/{CHAT}")).await["revenue"];
    assert_eq!(
        (
            revenue[0]["amount"].as_i64(),
            revenue[0]["user"]["id"].as_i64()
        ),
        (Some(25), Some(720))
    );
    emu.idle().await;
    assert!(hook.of_kind("message").is_empty());
    let cm = &hook.of_kind("chat_member")[0]["chat_member"];
    assert_eq!(cm["new_chat_member"]["until_date"], until);
    assert_eq!(cm["invite_link"]["subscription_price"], 25);

    let (status, clock) = emu.post("/control/clock", json!({"seconds": 61})).await;
    assert_eq!(status, 200, "{clock}");
    assert_eq!(
        clock["ended"],
        json!([{"chat_id": CHAT, "user_id": 720, "was": "member", "now": "left"}])
    );
    assert_eq!(emu.status_of(720).await["status"], "left");
    emu.idle().await;
    assert_eq!(
        transitions(&hook),
        vec![t("left", "member", 720), t("member", "left", 720)]
    );
    let chats = emu.get("/control/users/720/chats").await;
    assert_eq!(
        (chats[0]["chat_id"].as_i64(), chats[0]["status"].as_str()),
        (Some(CHAT), Some("left"))
    );
    assert_eq!(
        emu.post("/control/clock", json!({"seconds": -1})).await.0,
        400
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allowed_updates_decide_which_access_updates_are_sent() {
    let (url, hook) = Hook::start(ack()).await;
    let emu = Emu::start(config(Some(&url))).await;
    emu.chat(json!({"id": CHAT, "title": "Insiders"})).await;
    let plain = emu.link(json!({})).await;
    let asking = emu.link(json!({"creates_join_request": true})).await;
    // Telegram's default: chat_join_request yes, chat_member no.
    emu.tap(740, &plain).await;
    emu.tap(741, &asking).await;
    emu.idle().await;
    assert_eq!(hook.of_kind("chat_join_request").len(), 1);
    assert!(hook.of_kind("chat_member").is_empty());

    webhook(&emu, &url, json!(["chat_member"])).await;
    emu.tap(742, &plain).await;
    emu.tap(743, &asking).await;
    emu.idle().await;
    assert_eq!(transitions(&hook), vec![t("left", "member", 742)]);
    assert_eq!(hook.of_kind("chat_join_request").len(), 1);
    let statuses: Vec<Value> = emu
        .get("/control/updates?kind=chat_join_request")
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["status"].clone())
        .collect();
    assert_eq!(statuses, vec![json!("delivered"), json!("filtered")]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configured_chats_exist_from_the_start_and_after_a_reset() {
    let mut club = ChatSpec::parse_flag("-1009:Club:supergroup,username=club_chat").unwrap();
    club.owner_id = 42;
    let emu = Emu::start(Config {
        chats: vec![
            ChatSpec::parse_flag("-1001234567890:Insiders").unwrap(),
            club,
        ],
        ..config(None)
    })
    .await;
    let info = emu.ok("getChat", json!({"chat_id": CHAT})).await;
    assert_eq!(
        (info["type"].as_str(), info["title"].as_str()),
        (Some("channel"), Some("Insiders"))
    );
    let me = emu.status_of(BOT_ID).await;
    assert_eq!(
        (&me["can_invite_users"], &me["can_restrict_members"]),
        (&json!(true), &json!(true))
    );
    assert_eq!(emu.status_of(OWNER).await["status"], "creator");
    let by_name = emu.ok("getChat", json!({"chat_id": "@club_chat"})).await;
    assert_eq!(
        (by_name["id"].as_i64(), by_name["type"].as_str()),
        (Some(-1009), Some("supergroup"))
    );

    let link = emu.link(json!({})).await;
    emu.tap(750, &link).await;
    assert_eq!(
        emu.ok("getChatMemberCount", json!({"chat_id": CHAT})).await,
        3
    );
    emu.post("/control/reset", json!({})).await;
    assert_eq!(
        emu.ok("getChatMemberCount", json!({"chat_id": CHAT})).await,
        2
    );
    assert_eq!(emu.tap(751, &link).await["reason"], "invalid");
    assert_eq!(
        emu.get(&format!("/control/chats/{CHAT}")).await["title"],
        "Insiders"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_page_has_the_chats_panel() {
    let emu = Emu::start(config(None)).await;
    let page = emu.text("/").await;
    for id in [
        "chats-panel",
        "chat-list",
        "invite-form",
        "invite-input",
        "invite-open",
        "join-result",
    ] {
        assert!(
            page.contains(&format!("id=\"{id}\" data-testid=\"{id}\"")),
            "page lacks #{id}"
        );
    }
    assert!(
        page.contains("/control/invite_links/tap") && page.contains("source: 'chat_join_request'")
    );
    let none = emu
        .http
        .get(format!("{}/control/launch/last?user_id=10001", emu.base))
        .send()
        .await
        .unwrap();
    assert_eq!(none.status(), 404);
    emu.get("/control/launch?user_id=10001").await;
    let first = emu.get("/control/launch/last?user_id=10001").await;
    assert_eq!(first["source"], "menu");
    // Launch numbers keep growing across a reset, so the page never mistakes a new one for old.
    emu.post("/control/reset", json!({})).await;
    emu.get("/control/launch?user_id=10001").await;
    let after = emu.get("/control/launch/last?user_id=10001").await;
    assert!(after["seq"].as_u64() > first["seq"].as_u64(), "{after}");
}
