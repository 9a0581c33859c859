//! Paying in TON and USDT, natively: the manifest, wallet links, the
//! transaction the wallet is asked to send, and settlement from toncenter's
//! answers (scripted on the fake transport, as toncenter v3 documents them).

use pollster::block_on;
use serde_json::{json, Value};

use super::*;
use crate::http::scheduled;
use crate::shop::ton::TonWallet;
use crate::store::Store;
use crate::ton::cell::CellBuilder;
use crate::ton::payload::{self, Body};
use crate::ton::{boc, Address};

const SHOP: &str = "0:83dfd552e63729b472fcbcc8c45ebcc6691702558b68ec7527e1ba403a0f31a8";
const BUYER: &str = "0:2cf55953e92efbeadab7ba725c3f93a0b23f842cbba72d7b8e6f510a70e422e3";
const SHOP_USDT: &str = "0:1111111111111111111111111111111111111111111111111111111111111111";
const BUYER_USDT: &str = "0:2222222222222222222222222222222222222222222222222222222222222222";
const LAMP: i64 = 2_500_000_000;
const CALL: i64 = 15_000_000;

fn shop() -> TestPlatform {
    let mut p = platform();
    p.settings.insert("TON_WALLET", SHOP.into());
    p.settings.insert("ADMIN_CHAT_IDS", "900".into());
    p
}

fn link_wallet(p: &TestPlatform, user: i64) {
    let w = TonWallet {
        user_id: user,
        address: BUYER.into(),
        friendly: "UQ…".into(),
        network: "-239".into(),
        public_key: "ab".repeat(32),
        version: "v4R2".into(),
        linked_at: NOW,
    };
    block_on(p.store.save_wallet(&w)).unwrap();
}

fn order(p: &TestPlatform, user: i64, product: &str) -> (u16, Value) {
    as_user(
        p,
        "POST",
        "/api/ton/orders",
        user,
        &json!({ "product_id": product }).to_string(),
    )
}

/// A transaction of the shop wallet as toncenter v3 lists it.
fn tx(hash: &str, at: u64, source: &str, nanotons: i64, body: &str) -> Value {
    json!({
        "hash": hash, "now": at, "lt": "1", "account": SHOP.to_uppercase(),
        "in_msg": {
            "source": source.to_uppercase(), "destination": SHOP.to_uppercase(),
            "value": nanotons.to_string(), "bounced": false,
            "message_content": { "body": body }
        },
        "description": { "aborted": false }
    })
}

fn transactions(p: &TestPlatform, list: Vec<Value>) {
    p.bot
        .on("transactions", 200, json!({ "transactions": list }));
}

/// A jetton wallet's `transfer_notification` with a comment forward payload.
fn notification(amount: u128, sender: &str, text: &str) -> String {
    let sender = Address::parse(sender).unwrap();
    let mut b = CellBuilder::new();
    b.store_uint(32, payload::OP_TRANSFER_NOTIFICATION.into())
        .and_then(|b| b.store_uint(64, 7))
        .and_then(|b| b.store_coins(amount))
        .and_then(|b| b.store_address(Some(&sender)))
        .and_then(|b| b.store_bit(true))
        .and_then(|b| b.store_ref(payload::comment_cell(text).unwrap()))
        .unwrap();
    boc::to_base64(&b.build().unwrap())
}

fn check(p: &TestPlatform, user: i64, order: &str) -> (u16, Value) {
    as_user(
        p,
        "POST",
        &format!("/api/ton/orders/{order}/check"),
        user,
        "",
    )
}

fn sent_to(p: &TestPlatform, chat: i64) -> Vec<String> {
    p.bot
        .calls
        .borrow()
        .iter()
        .filter(|(u, v)| u.ends_with("/sendMessage") && v["chat_id"] == chat)
        .map(|(_, v)| v["text"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn the_manifest_names_this_origin_for_any_wallet() {
    let mut p = shop();
    p.settings.insert("SHOP_NAME", "Brass & Co".into());
    let r = block_on(handle(
        &p,
        request("GET", "/tonconnect-manifest.json", &[], ""),
    ));
    assert_eq!(r.status, 200);
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    let v: Value = crate::json::from_bytes(&r.body).unwrap();
    assert_eq!(v["url"], "https://shop.example");
    assert_eq!(v["name"], "Brass & Co");
    assert_eq!(v["iconUrl"], "https://shop.example/tonconnect-icon.png");
}

#[test]
fn ton_products_are_on_sale_only_with_a_shop_wallet() {
    let ids = |p: &TestPlatform| -> Vec<String> {
        let (_, v) = send(p, request("GET", "/api/products", &[], ""));
        v["products"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let without = ids(&platform());
    assert!(!without
        .iter()
        .any(|id| id == "desk_lamp" || id == "consultation"));
    let with = ids(&shop());
    assert!(with.iter().any(|id| id == "desk_lamp") && with.iter().any(|id| id == "consultation"));
    // With what the page needs to start TON Connect.
    let (_, v) = send(&shop(), request("GET", "/api/products", &[], ""));
    assert_eq!(v["ton_connect"]["network"], "-239");
    assert_eq!(
        v["ton_connect"]["manifest_url"],
        "https://shop.example/tonconnect-manifest.json"
    );
    assert_eq!(v["ton_connect"]["wallet_js"], Value::Null);
    let (_, v) = send(&platform(), request("GET", "/api/products", &[], ""));
    assert!(v.get("ton_connect").is_none());
    // And without a wallet an order is refused, not half made.
    let p = platform();
    link_wallet(&p, 5);
    let (status, v) = order(&p, 5, "desk_lamp");
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (503, Some("ton_not_configured"))
    );
}

#[test]
fn each_rail_refuses_the_others_products() {
    let p = shop();
    link_wallet(&p, 5);
    let (status, v) = as_user(
        &p,
        "POST",
        "/api/invoices",
        5,
        r#"{"product_id":"desk_lamp"}"#,
    );
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (409, Some("pay_with_ton"))
    );
    let (status, v) = order(&p, 5, "sticker_pack");
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (409, Some("pay_with_invoice"))
    );
    assert!(block_on(p.store.orders_for_user(5, 10)).unwrap().is_empty());
}

#[test]
fn an_order_needs_a_linked_wallet_on_the_shops_network() {
    let p = shop();
    let (status, v) = order(&p, 5, "desk_lamp");
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (409, Some("wallet_not_linked"))
    );
    let mut p = shop();
    p.settings.insert("TON_NETWORK", "testnet".into());
    link_wallet(&p, 5);
    let (status, v) = order(&p, 5, "desk_lamp");
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (409, Some("wrong_network"))
    );
}

#[test]
fn a_ton_order_asks_for_the_price_to_the_shop_with_its_comment() {
    let p = shop();
    link_wallet(&p, 5);
    let (status, v) = order(&p, 5, "desk_lamp");
    assert_eq!(status, 201, "{v}");
    let id = v["order"]["id"].as_str().unwrap();
    assert_eq!(v["order"]["status"], "pending");
    let t = &v["transaction"];
    assert_eq!(t["validUntil"], NOW + 300);
    assert_eq!(t["network"], "-239");
    assert_eq!(t["from"], BUYER);
    let m = &t["messages"][0];
    let to = m["address"].as_str().unwrap();
    assert!(to.starts_with("EQ"), "sent bounceable, user-friendly: {to}");
    assert_eq!(Address::parse(to).unwrap().to_raw(), SHOP);
    assert_eq!(m["amount"], LAMP.to_string());
    let body = payload::read_body_base64(m["payload"].as_str().unwrap()).unwrap();
    assert_eq!(body, Body::Comment(format!("tma-pay:{id}")));
    assert_eq!(v["comment"], format!("tma-pay:{id}"));
}

#[test]
fn a_usdt_order_asks_the_buyers_jetton_wallet_to_transfer() {
    let p = shop();
    link_wallet(&p, 5);
    p.bot.on(
        "wallets",
        200,
        json!({ "jetton_wallets": [{ "address": BUYER_USDT.to_uppercase(), "owner": BUYER }] }),
    );
    let (status, v) = order(&p, 5, "consultation");
    assert_eq!(status, 201, "{v}");
    let m = &v["transaction"]["messages"][0];
    // To the buyer's own USDT wallet, with TON for its fees.
    let to = Address::parse(m["address"].as_str().unwrap()).unwrap();
    assert_eq!(to.to_raw(), BUYER_USDT);
    assert_eq!(m["amount"], "50000000");
    // A jetton transfer of the price to the shop, the comment forwarded.
    let cell = boc::parse_base64(m["payload"].as_str().unwrap()).unwrap();
    let mut s = cell.parse();
    assert_eq!(
        s.load_uint(32).unwrap(),
        u64::from(payload::OP_JETTON_TRANSFER)
    );
    s.load_uint(64).unwrap();
    assert_eq!(s.load_coins().unwrap(), CALL as u128);
    assert_eq!(s.load_address().unwrap().unwrap().to_raw(), SHOP);
    assert_eq!(s.load_address().unwrap().unwrap().to_raw(), BUYER);
    // toncenter was asked for the buyer's wallet of Tether's USDT.
    let calls = p.bot.calls.borrow();
    let asked = &calls
        .iter()
        .find(|(u, _)| u.contains("/jetton/wallets"))
        .unwrap()
        .0;
    assert!(
        asked.contains(&format!("owner_address={}", BUYER.replace(':', "%3A"))),
        "{asked}"
    );
    assert!(asked.contains("jetton_address=EQCxE6mUtQJKFnGfaROTKOt1lZbDiiX1kCixRv7Nw2Id_sDs"));
}

#[test]
fn a_buyer_without_usdt_is_told_so_and_no_order_is_kept() {
    let p = shop();
    link_wallet(&p, 5);
    p.bot.on("wallets", 200, json!({ "jetton_wallets": [] }));
    let (status, v) = order(&p, 5, "consultation");
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (409, Some("no_usdt_wallet"))
    );
    assert!(block_on(p.store.orders_for_user(5, 10)).unwrap().is_empty());
}

#[test]
fn a_transfer_on_chain_pays_the_order_once_and_delivers() {
    let p = shop();
    link_wallet(&p, 5);
    let (_, v) = order(&p, 5, "desk_lamp");
    let id = v["order"]["id"].as_str().unwrap().to_owned();
    let comment = payload::comment(&format!("tma-pay:{id}")).unwrap();
    // Not yet on chain: still pending.
    transactions(&p, vec![]);
    let (status, v) = check(&p, 5, &id);
    assert_eq!(
        (status, v["order"]["status"].as_str()),
        (200, Some("pending"))
    );
    // The transfer arrives; toncenter lists it from now on.
    for _ in 0..2 {
        transactions(&p, vec![tx("h1", NOW + 20, BUYER, LAMP, &comment)]);
    }
    let (status, v) = check(&p, 5, &id);
    assert_eq!(
        (status, v["order"]["status"].as_str()),
        (200, Some("paid")),
        "{v}"
    );
    assert_eq!(v["order"]["telegram_payment_charge_id"], "h1");
    // The scheduled job finds nothing more to do; the goods went once.
    block_on(scheduled::run(&p));
    let payments = block_on(p.store.payments(10)).unwrap();
    assert_eq!(payments.len(), 1);
    assert_eq!(
        (payments[0].currency.as_str(), payments[0].amount),
        ("TON", LAMP)
    );
    let to_buyer = sent_to(&p, 5);
    assert_eq!(to_buyer.len(), 1, "{to_buyer:?}");
    assert!(to_buyer[0].contains("shipping address"), "{}", to_buyer[0]);
    assert!(sent_to(&p, 900).iter().any(|t| t.contains("New sale")));
    // Another buyer cannot look at it.
    let (status, _) = check(&p, 6, &id);
    assert_eq!(status, 404);
}

#[test]
fn the_scheduled_job_settles_pending_orders_from_one_read() {
    let p = shop();
    link_wallet(&p, 5);
    link_wallet(&p, 6);
    let (_, a) = order(&p, 5, "desk_lamp");
    let (_, b) = order(&p, 6, "desk_lamp");
    let (a, b) = (
        a["order"]["id"].as_str().unwrap(),
        b["order"]["id"].as_str().unwrap(),
    );
    let pay = |id: &str, hash: &str, n: i64| {
        tx(
            hash,
            NOW + 30,
            BUYER,
            n,
            &payload::comment(&format!("tma-pay:{id}")).unwrap(),
        )
    };
    transactions(&p, vec![pay(a, "ha", LAMP), pay(b, "hb", LAMP / 2)]);
    let report = block_on(scheduled::run(&p));
    assert_eq!(report.ton_paid, 1, "{report:?}");
    assert!(
        !report.errors.iter().any(|e| e.starts_with("ton")),
        "{report:?}"
    );
    assert_eq!(
        p.bot.called("transactions").len(),
        1,
        "one read for every order"
    );
    let status = |id: &str| block_on(p.store.order(id)).unwrap().unwrap().status;
    assert_eq!(status(a), crate::shop::OrderStatus::Paid);
    assert_eq!(status(b), crate::shop::OrderStatus::Pending);
    // The short payer is told what is missing, once however often it is seen.
    transactions(&p, vec![pay(b, "hb", LAMP / 2)]);
    block_on(scheduled::run(&p));
    let told: Vec<String> = sent_to(&p, 6);
    assert_eq!(told.len(), 1, "{told:?}");
    assert!(told[0].contains("1.25 TON of 2.5 TON"), "{}", told[0]);
}

/// The scheduled job has no update of the buyer's at hand: it writes in the
/// language kept with the order, from the launch data it was made with.
#[test]
fn what_the_job_finds_on_chain_is_told_in_the_language_of_the_order() {
    let p = shop();
    link_wallet(&p, 5);
    link_wallet(&p, 6);
    let zh_order = |user: i64| {
        let auth = format!("tma {}", init_data_in(user, "zh-hans", &[]));
        let headers = [
            ("authorization", auth.as_str()),
            ("content-type", "application/json"),
        ];
        let body = json!({ "product_id": "desk_lamp" }).to_string();
        let (s, v) = send(&p, request("POST", "/api/ton/orders", &headers, &body));
        assert_eq!(s, 201, "{v}");
        v["order"]["id"].as_str().unwrap().to_owned()
    };
    let (a, b) = (zh_order(5), zh_order(6));
    let pay = |id: &str, hash: &str, n: i64| {
        let comment = payload::comment(&format!("tma-pay:{id}")).unwrap();
        tx(hash, NOW + 30, BUYER, n, &comment)
    };
    transactions(&p, vec![pay(&a, "ha", LAMP), pay(&b, "hb", LAMP / 2)]);
    assert_eq!(block_on(scheduled::run(&p)).ton_paid, 1);
    let paid = sent_to(&p, 5);
    assert_eq!(
        paid,
        [format!(
            "✅ 付款成功：黄铜台灯，2.5 TON。\n订单号 {a}。谢谢惠顾！\n\n谢谢！请回复你的收货地址，我们会把台灯寄给你。"
        )]
    );
    let short = sent_to(&p, 6);
    assert_eq!(
        short,
        [format!(
            "订单 {b} 目前已收到 1.25 TON，价格为 2.5 TON。请再转 1.25 TON，并附上备注 tma-pay:{b}，即可完成付款。"
        )]
    );
    // The operator keeps ADMIN_LANGUAGE (English by default).
    assert!(sent_to(&p, 900)
        .iter()
        .any(|t| t.contains("New sale: Brass desk lamp")));
}

#[test]
fn overpaying_pays_and_tells_the_operator() {
    let p = shop();
    link_wallet(&p, 5);
    let (_, v) = order(&p, 5, "desk_lamp");
    let id = v["order"]["id"].as_str().unwrap();
    let comment = payload::comment(&format!("tma-pay:{id}")).unwrap();
    transactions(
        &p,
        vec![tx("h1", NOW + 20, BUYER, LAMP + 1_000_000_000, &comment)],
    );
    let (_, v) = check(&p, 5, id);
    assert_eq!(v["order"]["status"], "paid");
    assert_eq!(v["received"], "3500000000");
    let ops = sent_to(&p, 900);
    assert!(
        ops.iter()
            .any(|t| t.contains("3.5 TON") && t.contains("2.5 TON")),
        "{ops:?}"
    );
    // Reconciliation does not call a larger transfer a mismatch.
    assert!(!p.logs.borrow().iter().any(|l| l.contains("does not match")));
}

#[test]
fn usdt_is_paid_only_by_the_shops_own_jetton_wallet() {
    let p = shop();
    link_wallet(&p, 5);
    p.bot.on(
        "wallets",
        200,
        json!({ "jetton_wallets": [{ "address": BUYER_USDT }] }),
    );
    let (_, v) = order(&p, 5, "consultation");
    let id = v["order"]["id"].as_str().unwrap().to_owned();
    let memo = format!("tma-pay:{id}");
    // The shop's USDT wallet, asked once and kept.
    p.bot.on(
        "wallets",
        200,
        json!({ "jetton_wallets": [{ "address": SHOP_USDT }] }),
    );
    // A look-alike notification from another contract pays nothing.
    transactions(
        &p,
        vec![tx(
            "fake",
            NOW + 20,
            BUYER_USDT,
            1,
            &notification(CALL as u128, BUYER, &memo),
        )],
    );
    let (_, v) = check(&p, 5, &id);
    assert_eq!(v["order"]["status"], "pending");
    transactions(
        &p,
        vec![tx(
            "real",
            NOW + 30,
            SHOP_USDT,
            1,
            &notification(CALL as u128, BUYER, &memo),
        )],
    );
    let (_, v) = check(&p, 5, &id);
    assert_eq!(v["order"]["status"], "paid", "{v}");
    assert_eq!(v["order"]["telegram_payment_charge_id"], "real");
    let asked_shop = p
        .bot
        .calls
        .borrow()
        .iter()
        .filter(|(u, _)| u.contains("/jetton/wallets") && u.contains(&SHOP.replace(':', "%3A")))
        .count();
    assert_eq!(asked_shop, 1);
}

#[test]
fn toncenter_down_is_a_retryable_error_that_changes_nothing() {
    let p = shop();
    link_wallet(&p, 5);
    let (_, v) = order(&p, 5, "desk_lamp");
    let id = v["order"]["id"].as_str().unwrap();
    p.bot
        .on("transactions", 429, json!({ "error": "Ratelimit exceed" }));
    let (status, v) = check(&p, 5, id);
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (503, Some("ton_unavailable"))
    );
    assert_eq!(
        block_on(p.store.order(id)).unwrap().unwrap().status,
        crate::shop::OrderStatus::Pending
    );
}

#[test]
fn a_proof_payload_is_issued_to_the_caller_and_used_once() {
    let p = shop();
    let (status, v) = as_user(&p, "POST", "/api/ton/proof-payload", 5, "");
    assert_eq!(status, 201, "{v}");
    let payload = v["payload"].as_str().unwrap();
    assert_eq!(payload.len(), 64);
    assert_eq!(v["expires_at"], NOW + 900);
    // Another user's proof of it is refused before any signature is read.
    let link = json!({
        "account": { "address": BUYER, "chain": "-239", "publicKey": "ab".repeat(32),
                     "walletStateInit": "te6cckEBAQEAAgAAAEysuc0=" },
        "proof": { "timestamp": NOW, "domain": { "lengthBytes": 12, "value": "shop.example" },
                   "signature": "AA==", "payload": payload }
    });
    let (status, v) = as_user(&p, "POST", "/api/ton/wallet", 6, &link.to_string());
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (400, Some("unknown_payload"))
    );
    // Its owner's bad proof uses it up: a second try needs a new payload.
    let (status, _) = as_user(&p, "POST", "/api/ton/wallet", 5, &link.to_string());
    assert_eq!(status, 400);
    let (_, v) = as_user(&p, "POST", "/api/ton/wallet", 5, &link.to_string());
    assert_eq!(v["error"]["code"], "unknown_payload");
    // An old payload is expired.
    let (_, v) = as_user(&p, "POST", "/api/ton/proof-payload", 5, "");
    let mut late = link.clone();
    late["proof"]["payload"] = v["payload"].clone();
    p.now.set(NOW + 901);
    let (_, v) = as_user(&p, "POST", "/api/ton/wallet", 5, &late.to_string());
    assert_eq!(v["error"]["code"], "ton_proof_expired");
}

#[test]
fn a_wallet_is_shown_and_unlinked_by_its_owner() {
    let p = shop();
    let (_, v) = as_user(&p, "GET", "/api/ton/wallet", 5, "");
    assert_eq!(v["wallet"], Value::Null);
    link_wallet(&p, 5);
    let (_, v) = as_user(&p, "GET", "/api/ton/wallet", 5, "");
    assert_eq!(v["wallet"]["address"], BUYER);
    let (_, v) = as_user(&p, "DELETE", "/api/ton/wallet", 5, "");
    assert_eq!(v["unlinked"], true);
    let (_, v) = as_user(&p, "GET", "/api/ton/wallet", 5, "");
    assert_eq!(v["wallet"], Value::Null);
}

#[test]
fn a_wallet_proved_with_ton_proof_is_linked_and_pays() {
    use crate::ton::tests::connect_items;
    let p = shop();
    let (_, v) = as_user(&p, "POST", "/api/ton/proof-payload", 5, "");
    let payload = v["payload"].as_str().unwrap().to_owned();
    // Signed for another shop's domain: refused, and the payload is used up.
    let elsewhere = connect_items(3, "evil.example", NOW - 5, &payload);
    let (status, v) = as_user(&p, "POST", "/api/ton/wallet", 5, &elsewhere.to_string());
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (400, Some("domain_mismatch"))
    );
    let (_, v) = as_user(&p, "POST", "/api/ton/proof-payload", 5, "");
    let payload = v["payload"].as_str().unwrap().to_owned();
    let mut items = connect_items(3, "shop.example", NOW - 5, &payload);
    // Some wallets send the timestamp as a string.
    items["proof"]["timestamp"] = json!((NOW - 5).to_string());
    let (status, v) = as_user(&p, "POST", "/api/ton/wallet", 5, &items.to_string());
    assert_eq!(status, 200, "{v}");
    let raw = items["account"]["address"].as_str().unwrap();
    assert_eq!(v["wallet"]["address"], raw);
    assert_eq!(v["wallet"]["version"], "v4R2");
    assert!(
        v["wallet"]["friendly"].as_str().unwrap().starts_with("UQ"),
        "{v}"
    );
    // Replayed, the same proof is refused: its payload was used.
    let (_, v) = as_user(&p, "POST", "/api/ton/wallet", 5, &items.to_string());
    assert_eq!(v["error"]["code"], "unknown_payload");
    // The linked wallet is the one the transaction is sent from.
    let (status, v) = order(&p, 5, "desk_lamp");
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["transaction"]["from"], raw);
}
