//! End-to-end: the emulator in-process on an ephemeral port, a tiny webhook server playing the
//! bot, everything over loopback HTTP.

mod common;

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use common::*;
use serde_json::{json, Value};
use tma_pay_emulator::Config;

/// Answers every pre-checkout query in the webhook reply body, the cheapest way.
fn answer_in_reply(ok: bool) -> Behavior {
    Box::new(move |u| match u.get("pre_checkout_query") {
        Some(q) if ok => (
            200,
            json!({"method": "answerPreCheckoutQuery", "pre_checkout_query_id": q["id"], "ok": true}),
        ),
        Some(q) => (
            200,
            json!({"method": "answerPreCheckoutQuery", "pre_checkout_query_id": q["id"], "ok": false, "error_message": "Sold out"}),
        ),
        None => (200, json!({})),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stars_payment_accepted_in_webhook_reply_then_refunded() {
    let (url, hook) = Hook::start(answer_in_reply(true)).await;
    let emu = Emu::start(config(Some(&url))).await;
    let slug = emu.stars_invoice(json!({})).await;

    let (status, paid) = emu.pay(&slug, 555).await;
    assert_eq!(status, 200);
    assert_eq!(paid["status"], "paid", "{paid}");
    let charge = paid["telegram_payment_charge_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(charge.starts_with("stx"));
    emu.idle().await;

    // The pre-checkout query carried the invoice, the user and the secret header.
    let received = hook.received.lock().unwrap().clone();
    let (q, secret) = received
        .iter()
        .find(|(u, _)| u.get("pre_checkout_query").is_some())
        .unwrap();
    assert_eq!(secret.as_deref(), Some("s3cret_-X"));
    let q = &q["pre_checkout_query"];
    assert_eq!(
        (
            q["from"]["id"].as_i64(),
            q["currency"].as_str(),
            q["total_amount"].as_i64(),
            q["invoice_payload"].as_str()
        ),
        (Some(555), Some("XTR"), Some(50), Some("order-7"))
    );
    // The answer came from the webhook reply, not an HTTP call.
    let calls = emu
        .get("/control/calls?method=answerPreCheckoutQuery")
        .await;
    assert_eq!(calls[0]["via"], "webhook_response");
    assert_eq!(calls[0]["response"]["result"], true);

    // Fulfilment message: successful_payment in the user's private chat.
    let msgs = hook.of_kind("message");
    let sp = &msgs[0]["message"]["successful_payment"];
    assert_eq!(sp["telegram_payment_charge_id"], charge.as_str());
    assert_eq!(
        (
            sp["currency"].as_str(),
            sp["total_amount"].as_i64(),
            sp["invoice_payload"].as_str()
        ),
        (Some("XTR"), Some(50), Some("order-7"))
    );
    assert_eq!(sp["provider_payment_charge_id"], "");
    assert!(sp.get("is_recurring").is_none());
    assert_eq!(msgs[0]["message"]["chat"]["id"], 555);
    assert!(msgs[0]["update_id"].as_i64().unwrap() > q_update_id(&hook));

    let (_, tx) = emu.bot("getStarTransactions", json!({"limit": 10})).await;
    let t = &tx["result"]["transactions"][0];
    assert_eq!(
        (t["id"].as_str(), t["amount"].as_i64()),
        (Some(charge.as_str()), Some(50))
    );
    assert_eq!(t["source"]["type"], "user");
    assert_eq!(t["source"]["user"]["id"], 555);

    // Refund: once, then CHARGE_ALREADY_REFUNDED; wrong user or unknown charge: CHARGE_NOT_FOUND.
    let refund = |user: i64, c: &str| json!({"user_id": user, "telegram_payment_charge_id": c});
    assert_eq!(
        emu.bot("refundStarPayment", refund(556, &charge)).await.1["description"],
        "Bad Request: CHARGE_NOT_FOUND"
    );
    assert_eq!(
        emu.bot("refundStarPayment", refund(555, "stxNOPE")).await.1["description"],
        "Bad Request: CHARGE_NOT_FOUND"
    );
    assert_eq!(
        emu.bot("refundStarPayment", refund(555, &charge)).await,
        (200, json!({"ok": true, "result": true}))
    );
    let again = emu.bot("refundStarPayment", refund(555, &charge)).await;
    assert_eq!(
        again,
        (
            400,
            json!({"ok": false, "error_code": 400, "description": "Bad Request: CHARGE_ALREADY_REFUNDED"})
        )
    );
    emu.idle().await;
    let rp = &hook.of_kind("message")[1]["message"]["refunded_payment"];
    assert_eq!(
        (
            rp["telegram_payment_charge_id"].as_str(),
            rp["total_amount"].as_i64()
        ),
        (Some(charge.as_str()), Some(50))
    );
    let (_, tx) = emu.bot("getStarTransactions", json!({})).await;
    let list = tx["result"]["transactions"].as_array().unwrap().clone();
    assert_eq!(list.len(), 2);
    assert_eq!(list[1]["id"], charge.as_str());
    assert_eq!(list[1]["receiver"]["user"]["id"], 555);
    assert!(list[1].get("source").is_none());
    let (_, tx) = emu.bot("getStarTransactions", json!({"offset": 1})).await;
    assert_eq!(tx["result"]["transactions"].as_array().unwrap().len(), 1);
}

fn q_update_id(hook: &Hook) -> i64 {
    hook.of_kind("pre_checkout_query")[0]["update_id"]
        .as_i64()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscription_answered_by_api_call_renews_until_canceled() {
    // This bot answers with a separate answerPreCheckoutQuery call, sent as a form.
    let emu_base: Arc<OnceLock<String>> = Arc::new(OnceLock::new());
    let base = emu_base.clone();
    let behavior: Behavior = Box::new(move |u| {
        if let Some(q) = u.get("pre_checkout_query") {
            let url = format!("{}/bot{TOKEN}/answerPreCheckoutQuery", base.get().unwrap());
            let id = q["id"].as_str().unwrap().to_string();
            tokio::spawn(async move {
                reqwest::Client::new()
                    .post(url)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(format!("pre_checkout_query_id={id}&ok=true"))
                    .send()
                    .await
                    .unwrap();
            });
        }
        (200, json!({}))
    });
    let (url, hook) = Hook::start(behavior).await;
    let emu = Emu::start(config(Some(&url))).await;
    emu_base.set(emu.base.clone()).unwrap();

    // A 60-second period is only for the test environment.
    let (status, body) = emu
        .bot(
            "createInvoiceLink",
            json!({"title": "Club", "description": "Monthly", "payload": "sub-1",
        "currency": "XTR", "prices": [{"label": "Club", "amount": 99}], "subscription_period": 60}),
        )
        .await;
    assert_eq!(
        (status, body["description"].as_str()),
        (400, Some("Bad Request: SUBSCRIPTION_PERIOD_INVALID"))
    );
    let r = emu
        .http
        .post(format!("{}/bot{TOKEN}/test/createInvoiceLink", emu.base))
        .form(&[
            ("title", "Club"),
            ("description", "Monthly"),
            ("payload", "sub-1"),
            ("currency", "XTR"),
            ("prices", r#"[{"label":"Club","amount":99}]"#),
            ("subscription_period", "60"),
            ("provider_token", ""),
        ])
        .send()
        .await
        .unwrap();
    let body: Value = r.json().await.unwrap();
    let slug = body["result"]
        .as_str()
        .unwrap()
        .trim_start_matches("https://t.me/$")
        .to_string();

    let before = chrono_now();
    let (_, paid) = emu.pay(&slug, 77).await;
    assert_eq!(paid["status"], "paid", "{paid}");
    let first = paid["telegram_payment_charge_id"]
        .as_str()
        .unwrap()
        .to_string();
    emu.idle().await;
    assert_eq!(
        emu.get("/control/calls?method=answerPreCheckoutQuery")
            .await[0]["via"],
        "http"
    );
    let sp = hook.of_kind("message")[0]["message"]["successful_payment"].clone();
    assert_eq!(
        (
            sp["is_recurring"].as_bool(),
            sp["is_first_recurring"].as_bool()
        ),
        (Some(true), Some(true))
    );
    let exp1 = sp["subscription_expiration_date"].as_i64().unwrap();
    assert!(
        (before + 60..=before + 62).contains(&exp1),
        "{exp1} vs {before}"
    );

    let (status, renewed) = emu
        .post(
            "/control/subscriptions/renew",
            json!({"telegram_payment_charge_id": first}),
        )
        .await;
    assert_eq!(status, 200, "{renewed}");
    let second = renewed["telegram_payment_charge_id"].as_str().unwrap();
    assert_ne!(second, first);
    emu.idle().await;
    let sp2 = hook.of_kind("message")[1]["message"]["successful_payment"].clone();
    assert_eq!(sp2["telegram_payment_charge_id"], second);
    assert_eq!(sp2["is_recurring"], true);
    assert_ne!(sp2.get("is_first_recurring"), Some(&json!(true)));
    assert_eq!(
        sp2["subscription_expiration_date"].as_i64(),
        Some(exp1 + 60)
    );

    let cancel = json!({"user_id": 77, "telegram_payment_charge_id": first, "is_canceled": true});
    assert_eq!(emu.bot("editUserStarSubscription", cancel).await.0, 200);
    let (status, _) = emu
        .post(
            "/control/subscriptions/renew",
            json!({"telegram_payment_charge_id": first}),
        )
        .await;
    assert_eq!(status, 400);
    let wrong_user =
        json!({"user_id": 78, "telegram_payment_charge_id": first, "is_canceled": false});
    assert_eq!(emu.bot("editUserStarSubscription", wrong_user).await.0, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declined_payment_reports_the_bots_message_and_charges_nothing() {
    let (url, hook) = Hook::start(answer_in_reply(false)).await;
    let emu = Emu::start(config(Some(&url))).await;
    let slug = emu.stars_invoice(json!({})).await;
    let (_, r) = emu.pay(&slug, 9).await;
    assert_eq!(
        (r["status"].as_str(), r["error_message"].as_str()),
        (Some("failed"), Some("Sold out"))
    );
    assert!(r.get("telegram_payment_charge_id").is_none());
    emu.idle().await;
    assert!(hook.of_kind("message").is_empty());
    assert_eq!(emu.get("/control/charges").await, json!([]));
    let (_, tx) = emu.bot("getStarTransactions", json!({})).await;
    assert_eq!(tx["result"]["transactions"], json!([]));
    // Unknown invoices are 404 for the control API.
    assert_eq!(
        emu.post("/control/invoices/nope/pay", json!({})).await.0,
        404
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unanswered_pre_checkout_times_out_and_a_late_answer_is_refused() {
    let (url, hook) = Hook::start(Box::new(|_| (200, json!({})))).await;
    let emu = Emu::start(Config {
        precheckout_timeout: Duration::from_millis(300),
        ..config(Some(&url))
    })
    .await;
    let slug = emu.stars_invoice(json!({})).await;
    let started = std::time::Instant::now();
    let (_, r) = emu.pay(&slug, 9).await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(
        (r["status"].as_str(), r["reason"].as_str()),
        (Some("failed"), Some("timeout"))
    );
    let id = hook.of_kind("pre_checkout_query")[0]["pre_checkout_query"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, body) = emu
        .bot(
            "answerPreCheckoutQuery",
            json!({"pre_checkout_query_id": id, "ok": true}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["description"],
        "Bad Request: query is too old and response timeout expired or query ID is invalid"
    );
    assert!(hook.of_kind("message").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_deliveries_are_retried_in_order_and_can_be_redelivered() {
    // 500 for the first two POSTs, then 2xx.
    let count = Arc::new(Mutex::new(0));
    let c = count.clone();
    let (url, hook) = Hook::start(Box::new(move |_| {
        let mut n = c.lock().unwrap();
        *n += 1;
        if *n <= 2 {
            (500, json!({"error": "db down"}))
        } else {
            (200, json!({}))
        }
    }))
    .await;
    let emu = Emu::start(config(Some(&url))).await;
    let (_, a) = emu
        .post(
            "/control/messages",
            json!({"user_id": 5, "text": "/start promo"}),
        )
        .await;
    let (_, b) = emu
        .post("/control/messages", json!({"user_id": 5, "text": "hello"}))
        .await;
    emu.idle().await;

    let ids: Vec<i64> = hook
        .updates()
        .iter()
        .map(|u| u["update_id"].as_i64().unwrap())
        .collect();
    let (a_id, b_id) = (
        a["update_id"].as_i64().unwrap(),
        b["update_id"].as_i64().unwrap(),
    );
    // The same update three times, and the next one only after it succeeded.
    assert_eq!(ids, vec![a_id, a_id, a_id, b_id]);
    let first = &hook.updates()[0]["message"];
    assert_eq!(
        first["entities"],
        json!([{"offset": 0, "length": 6, "type": "bot_command"}])
    );

    let log = emu.get("/control/updates").await;
    let statuses: Vec<Value> = log[0]["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["http_status"].clone())
        .collect();
    assert_eq!(statuses, vec![json!(500), json!(500), json!(200)]);
    assert_eq!(log[0]["attempts"][0]["retry_in_ms"], 20);
    assert_eq!(log[0]["attempts"][1]["retry_in_ms"], 40);
    assert_eq!(log[0]["status"], "delivered");

    let (_, info) = emu.bot("getWebhookInfo", json!({})).await;
    assert_eq!(info["result"]["url"], url.as_str());
    assert_eq!(info["result"]["pending_update_count"], 0);
    assert!(info["result"]["last_error_message"]
        .as_str()
        .unwrap()
        .contains("500"));
    assert!(info["result"]["last_error_date"].as_i64().unwrap() > 0);

    let (status, again) = emu
        .post("/control/redeliver", json!({"update_id": a_id}))
        .await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["status"], "delivered");
    let ids: Vec<i64> = hook
        .updates()
        .iter()
        .map(|u| u["update_id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![a_id, a_id, a_id, b_id, a_id]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_retry_after_header_and_allowed_updates_are_honoured() {
    let count = Mutex::new(0);
    let (url, hook) = Hook::start(Box::new(move |_| {
        let mut n = count.lock().unwrap();
        *n += 1;
        if *n == 1 {
            (429, json!({"retry_after": 1}))
        } else {
            (200, json!({}))
        }
    }))
    .await;
    let emu = Emu::start(config(None)).await;
    let (status, _) = emu
        .bot(
            "setWebhook",
            json!({"url": url, "allowed_updates": ["pre_checkout_query"]}),
        )
        .await;
    assert_eq!(status, 200);
    emu.post("/control/messages", json!({"text": "filtered out"}))
        .await;
    let slug = emu.stars_invoice(json!({})).await;
    // This bot only acknowledges; the test answers the query itself below.
    let pay = tokio::spawn({
        let http = emu.http.clone();
        let url = format!("{}/control/invoices/{slug}/pay", emu.base);
        async move {
            http.post(url)
                .json(&json!({}))
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let log = emu.get("/control/updates").await;
    assert_eq!(log[0]["status"], "filtered");
    assert_eq!(log[1]["attempts"][0]["http_status"], 429);
    assert_eq!(log[1]["attempts"][0]["retry_in_ms"], 1000);
    assert_eq!(
        log[1]["attempts"].as_array().unwrap().len(),
        1,
        "still waiting out Retry-After"
    );
    let q = &log[1]["update"]["pre_checkout_query"];
    emu.bot(
        "answerPreCheckoutQuery",
        json!({"pre_checkout_query_id": q["id"], "ok": true}),
    )
    .await;
    assert_eq!(pay.await.unwrap()["status"], "paid");
    emu.idle().await;
    let log = emu.get("/control/updates").await;
    let at = |i: usize| log[1]["attempts"][i]["at_ms"].as_i64().unwrap();
    assert!(at(1) - at(0) >= 990, "retried after {} ms", at(1) - at(0));
    assert!(
        hook.updates().iter().all(|u| u.get("message").is_none()),
        "messages are filtered"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn injected_faults_answer_like_telegram_then_clear() {
    let emu = Emu::start(config(None)).await;
    let (status, _) = emu
        .post(
            "/control/faults",
            json!({"method": "sendMessage", "kind": "rate_limit", "retry_after": 7, "times": 1}),
        )
        .await;
    assert_eq!(status, 200);
    let send = json!({"chat_id": 10001, "text": "Your order is ready"});
    let (status, body) = emu.bot("sendMessage", send.clone()).await;
    assert_eq!(
        (status, body),
        (
            429,
            json!({"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 7", "parameters": {"retry_after": 7}})
        )
    );
    assert_eq!(emu.get("/control/sent?chat_id=10001").await, json!([]));
    let (status, body) = emu.bot("sendMessage", send.clone()).await;
    assert_eq!(status, 200);
    assert_eq!(body["result"]["chat"]["id"], 10001);
    assert_eq!(body["result"]["from"]["is_bot"], true);
    let sent = emu.get("/control/sent?chat_id=10001").await;
    assert_eq!(sent.as_array().unwrap().len(), 1);
    assert_eq!(sent[0]["text"], "Your order is ready");

    emu.post(
        "/control/faults",
        json!({"method": "*", "kind": "error", "error_code": 502, "description": "Bad Gateway"}),
    )
    .await;
    assert_eq!(
        emu.bot("getMe", json!({})).await,
        (
            502,
            json!({"ok": false, "error_code": 502, "description": "Bad Gateway"})
        )
    );
    assert_eq!(emu.bot("getMe", json!({})).await.0, 502);
    assert_eq!(
        emu.post(
            "/control/faults",
            json!({"method": "getMe", "kind": "explode"})
        )
        .await
        .0,
        400
    );
    emu.http
        .delete(format!("{}/control/faults", emu.base))
        .send()
        .await
        .unwrap();
    assert_eq!(emu.bot("getMe", json!({})).await.0, 200);
    let calls = emu.get("/control/calls?method=sendMessage").await;
    assert_eq!(calls[0]["fault"], "rate_limit");
    assert!(calls[1].get("fault").is_none());

    // "drop": executed, but the caller sees a broken connection.
    emu.post(
        "/control/faults",
        json!({"method": "sendMessage", "kind": "drop", "times": 1}),
    )
    .await;
    let r = emu
        .http
        .post(format!("{}/bot{TOKEN}/sendMessage", emu.base))
        .json(&send)
        .send()
        .await;
    let broken = match r {
        Err(_) => true,
        Ok(resp) => resp.bytes().await.is_err(),
    };
    assert!(broken);
    assert_eq!(
        emu.get("/control/sent?chat_id=10001")
            .await
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_updates_polls_confirms_and_conflicts_with_a_webhook() {
    let emu = Emu::start(config(None)).await;
    // Long poll: the call waits until a message arrives.
    let poll = tokio::spawn({
        let http = emu.http.clone();
        let url = format!("{}/bot{TOKEN}/getUpdates?timeout=5", emu.base);
        async move {
            http.get(url)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    });
    tokio::time::sleep(Duration::from_millis(150)).await;
    emu.post("/control/messages", json!({"text": "hi"})).await;
    let got = tokio::time::timeout(Duration::from_secs(2), poll)
        .await
        .expect("long poll returned early")
        .unwrap();
    let first = got["result"][0]["update_id"].as_i64().unwrap();
    assert_eq!(got["result"][0]["message"]["text"], "hi");

    emu.post("/control/messages", json!({"text": "second"}))
        .await;
    // Unconfirmed updates come again; an offset confirms the earlier ones.
    let (_, again) = emu.bot("getUpdates", json!({})).await;
    assert_eq!(again["result"].as_array().unwrap().len(), 2);
    let (_, after) = emu.bot("getUpdates", json!({"offset": first + 1})).await;
    assert_eq!(after["result"].as_array().unwrap().len(), 1);
    assert_eq!(after["result"][0]["message"]["text"], "second");
    let (_, none) = emu
        .bot("getUpdates", json!({"offset": first + 2, "timeout": 0}))
        .await;
    assert_eq!(none["result"], json!([]));

    assert_eq!(
        emu.bot("setWebhook", json!({"url": "http://127.0.0.1:9/hook"}))
            .await
            .0,
        200
    );
    let (status, body) = emu.bot("getUpdates", json!({})).await;
    assert_eq!(status, 409);
    assert_eq!(
        body,
        json!({"ok": false, "error_code": 409,
        "description": "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"})
    );
    assert_eq!(emu.bot("deleteWebhook", json!({})).await.0, 200);
    assert_eq!(emu.bot("getUpdates", json!({})).await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_methods_and_launch_data() {
    let seed = [9u8; 32];
    let emu = Emu::start(Config {
        signing_seed: Some(seed),
        ..config(None)
    })
    .await;
    let r = emu
        .http
        .post(format!("{}/bot4242:WRONG/getMe", emu.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"ok": false, "error_code": 401, "description": "Unauthorized"})
    );
    let (status, body) = emu.bot("sendPigeon", json!({})).await;
    assert_eq!(
        (status, body["description"].as_str()),
        (404, Some("Not Found: method not found"))
    );
    let r: Value = emu
        .http
        .get(format!("{}/bot{TOKEN}/test/getMe", emu.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["result"]["id"], 4242);

    // The menu button's web_app URL becomes the launch URL.
    let button = json!({"menu_button": {"type": "web_app", "text": "Shop", "web_app": {"url": "http://127.0.0.1:8787/shop"}}});
    assert_eq!(emu.bot("setChatMenuButton", button).await.0, 200);
    let info = emu.get("/control/info").await;
    let expected_key = tma_pay_emulator::public_key_hex(&Config {
        signing_seed: Some(seed),
        ..Config::default()
    })
    .unwrap();
    assert_eq!(info["public_key"], expected_key.as_str());
    let launch = emu
        .get("/control/launch?user_id=31337&start_param=ref42")
        .await;
    let url = launch["url"].as_str().unwrap();
    assert!(
        url.starts_with("http://127.0.0.1:8787/shop#tgWebAppData="),
        "{url}"
    );
    assert!(url.contains("&tgWebAppVersion=9.1&") && url.ends_with("&tgWebAppStartParam=ref42"));
    let init = launch["init_data"].as_str().unwrap();
    let fields: Vec<(String, String)> = form_pairs(init);
    let names: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
    assert!(names.contains(&"signature") && names.last() == Some(&"hash"));
    let user: Value =
        serde_json::from_str(&fields.iter().find(|(k, _)| k == "user").unwrap().1).unwrap();
    assert_eq!(user["id"], 31337);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_page_and_web_app_script_are_served() {
    let js = std::env::temp_dir().join(format!("tma-emu-test-{}.js", std::process::id()));
    std::fs::write(&js, "window.Telegram = {WebApp: {}};").unwrap();
    let emu = Emu::start(Config {
        web_app_js: Some(js.clone()),
        ..config(None)
    })
    .await;
    let r = emu
        .http
        .get(format!("{}/telegram-web-app.js", emu.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/javascript"));
    assert_eq!(r.text().await.unwrap(), "window.Telegram = {WebApp: {}};");
    let page = emu.text("/").await;
    for id in [
        "app-frame",
        "pay-sheet",
        "pay-button",
        "cancel-button",
        "chat",
        "chat-input",
        "event-log",
        "user-id",
    ] {
        assert!(page.contains(&format!("id=\"{id}\"")), "page lacks #{id}");
    }
    // Without --web-app-js there is nothing to serve.
    let bare = Emu::start(config(None)).await;
    assert_eq!(
        bare.http
            .get(format!("{}/telegram-web-app.js", bare.base))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let _ = std::fs::remove_file(js);
}

#[tokio::test]
async fn documents_are_sent_by_file_id_with_a_caption() {
    let emu = Emu::start(config(None)).await;
    emu.post("/control/users", json!({"id": 77, "first_name": "Dee"}))
        .await;
    let (status, body) = emu
        .bot(
            "sendDocument",
            json!({"chat_id": 77, "document": "BQACAgIAAxkBAAI", "caption": "Your file",
                   "reply_markup": {"inline_keyboard": [[{"text": "Open", "url": "https://example.com/f"}]]}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"]["document"]["file_id"], "BQACAgIAAxkBAAI");
    assert_eq!(body["result"]["caption"], "Your file");
    let sent = emu.get("/control/sent?chat_id=77").await;
    assert_eq!(sent[0]["document"]["file_id"], "BQACAgIAAxkBAAI");
    for (params, want) in [
        (
            json!({"chat_id": 77}),
            "there is no document in the request",
        ),
        (json!({"chat_id": 78, "document": "x"}), "chat not found"),
        (
            json!({"chat_id": 77, "document": "x", "caption": "c".repeat(1025)}),
            "message caption is too long",
        ),
    ] {
        let (status, body) = emu.bot("sendDocument", params).await;
        assert_eq!(status, 400);
        assert!(
            body["description"].as_str().unwrap().contains(want),
            "{body}"
        );
    }
}

#[tokio::test]
async fn command_lists_are_kept_per_language() {
    let emu = Emu::start(config(None)).await;
    let list = |description: &str| json!([{"command": "start", "description": description}]);
    let (status, _) = emu
        .bot("setMyCommands", json!({"commands": list("Open the shop")}))
        .await;
    assert_eq!(status, 200);
    let (status, _) = emu
        .bot(
            "setMyCommands",
            json!({"commands": list("进入商店"), "language_code": "zh"}),
        )
        .await;
    assert_eq!(status, 200);
    let get = |params: Value| {
        let emu = &emu;
        async move { emu.bot("getMyCommands", params).await.1["result"].clone() }
    };
    assert_eq!(get(json!({})).await, list("Open the shop"));
    assert_eq!(get(json!({"language_code": "zh"})).await, list("进入商店"));
    // Exactly the list of that scope and language: none set for `fr`, nor for group chats.
    assert_eq!(get(json!({"language_code": "fr"})).await, json!([]));
    assert_eq!(
        get(json!({"scope": {"type": "all_group_chats"}})).await,
        json!([])
    );
    let (status, body) = emu
        .bot(
            "setMyCommands",
            json!({"commands": list("x"), "language_code": "zh-hans"}),
        )
        .await;
    assert_eq!(
        (status, body["description"].as_str()),
        (400, Some("Bad Request: invalid language code specified"))
    );
    let (status, _) = emu
        .bot("deleteMyCommands", json!({"language_code": "zh"}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(get(json!({"language_code": "zh"})).await, json!([]));
    assert_eq!(get(json!({})).await, list("Open the shop"));
}

/// A referred buyer's payment: the affiliate's commission comes out of it, the bot's
/// transaction carries what reached it, the refund takes both back, and the balance is
/// the sum of the transactions.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_affiliates_commission_comes_out_of_the_payment_and_the_balance() {
    let (url, _hook) = Hook::start(answer_in_reply(true)).await;
    let emu = Emu::start(config(Some(&url))).await;
    let (_, balance) = emu.bot("getMyStarBalance", json!({})).await;
    assert_eq!(balance, json!({"ok": true, "result": {"amount": 0}}));
    let (status, _) = emu
        .post(
            "/control/affiliates",
            json!({"user_id": 555, "affiliate_user_id": 777, "commission_per_mille": 125}),
        )
        .await;
    assert_eq!(status, 200);
    // 55 Stars at 125 per mille: 6.875 to the affiliate, 48.125 to the bot.
    let slug = emu
        .stars_invoice(json!({"prices": [{"label": "x", "amount": 55}]}))
        .await;
    let (_, paid) = emu.pay(&slug, 555).await;
    let charge = paid["telegram_payment_charge_id"]
        .as_str()
        .unwrap()
        .to_string();
    // Another buyer, not referred: the whole amount.
    let slug = emu.stars_invoice(json!({})).await;
    emu.pay(&slug, 556).await;
    emu.idle().await;
    let (_, tx) = emu.bot("getStarTransactions", json!({})).await;
    let t = &tx["result"]["transactions"][0];
    assert_eq!(
        (&t["amount"], &t["nanostar_amount"]),
        (&json!(48), &json!(125_000_000))
    );
    let a = &t["source"]["affiliate"];
    assert_eq!(
        (
            &a["amount"],
            &a["nanostar_amount"],
            &a["commission_per_mille"]
        ),
        (&json!(6), &json!(875_000_000), &json!(125))
    );
    assert_eq!(a["affiliate_user"]["id"], 777);
    let plain = &tx["result"]["transactions"][1];
    assert_eq!(plain["amount"], 50);
    assert!(plain.get("nanostar_amount").is_none() && plain["source"].get("affiliate").is_none());
    let (_, balance) = emu.bot("getMyStarBalance", json!({})).await;
    assert_eq!(
        balance["result"],
        json!({"amount": 98, "nanostar_amount": 125_000_000})
    );

    let refund = json!({"user_id": 555, "telegram_payment_charge_id": charge});
    assert_eq!(emu.bot("refundStarPayment", refund).await.0, 200);
    let (_, tx) = emu.bot("getStarTransactions", json!({})).await;
    let r = &tx["result"]["transactions"][2];
    assert_eq!(
        (&r["amount"], &r["nanostar_amount"]),
        (&json!(48), &json!(125_000_000))
    );
    let a = &r["receiver"]["affiliate"];
    assert_eq!(
        (&a["amount"], &a["nanostar_amount"]),
        (&json!(-6), &json!(-875_000_000))
    );
    let (_, balance) = emu.bot("getMyStarBalance", json!({})).await;
    assert_eq!(balance["result"], json!({"amount": 50}));
    let (status, _) = emu
        .post(
            "/control/affiliates",
            json!({"user_id": 555, "commission_per_mille": 1000}),
        )
        .await;
    assert_eq!(status, 400);
}
