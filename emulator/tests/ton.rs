//! TON over HTTP: toncenter's API v3 as a shop polls it, payments made through the control API
//! and through the TON Connect wallet, and the wallet's proofs checked independently.

mod common;

use std::time::Duration;

use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use base64::Engine;
use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tonlib_core::cell::{ArcCell, BagOfCells, CellBuilder};
use tonlib_core::TonAddress;

use common::{config, Emu};
use tma_pay_emulator::ton::TonConfig;

/// The shop's receiving address, as the worker would configure it.
const SHOP: &str = "UQAaDKAzXkZ_e2bk3RWIl_wJ0HidkHDPbEFeXrFk4x-p-ofH";
const USDT_MASTER: &str = "EQCxE6mUtQJKFnGfaROTKOt1lZbDiiX1kCixRv7Nw2Id_sDs";

async fn start(ton: TonConfig) -> Emu {
    Emu::start(tma_pay_emulator::Config {
        ton,
        ..config(None)
    })
    .await
}

/// Transactions stay pending until a test finalizes them.
fn slow_finality() -> TonConfig {
    TonConfig {
        finality: Duration::from_secs(3600),
        ..TonConfig::default()
    }
}

fn raw(friendly: &str) -> String {
    let a: TonAddress = friendly.parse().unwrap();
    format!("0:{}", hex::encode_upper(a.hash_part.as_slice()))
}

fn cell(b64: &str) -> ArcCell {
    BagOfCells::parse_base64(b64)
        .unwrap()
        .single_root()
        .unwrap()
}

fn comment_b64(text: &str) -> String {
    let mut b = CellBuilder::new();
    b.store_u32(32, 0).unwrap();
    b.store_slice(text.as_bytes()).unwrap();
    let c = b.build().unwrap().to_arc();
    base64::engine::general_purpose::STANDARD.encode(BagOfCells::new(&[c]).serialize(true).unwrap())
}

impl Emu {
    async fn toncenter(&self, query: &str) -> (u16, Value) {
        let r = self
            .http
            .get(format!("{}/toncenter/api/v3/{query}", self.base))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    }

    async fn txs_of(&self, account: &str) -> Vec<Value> {
        let (status, body) = self
            .toncenter(&format!(
                "transactions?account={account}&limit=100&sort=asc"
            ))
            .await;
        assert_eq!(status, 200, "{body}");
        body["transactions"].as_array().unwrap().clone()
    }

    async fn ok_post(&self, path: &str, body: Value) -> Value {
        let (status, v) = self.post(path, body).await;
        assert_eq!(status, 200, "{path}: {v}");
        v
    }

    async fn finalize(&self) {
        self.ok_post("/control/ton/finalize", json!({})).await;
    }
}

#[tokio::test]
async fn a_ton_payment_shows_in_transactions_only_once_final_with_its_comment() {
    let emu = start(slow_finality()).await;
    let paid = emu
        .ok_post(
            "/control/ton/pay",
            json!({"to": SHOP, "amount": "1500000000", "comment": "order-17"}),
        )
        .await;
    assert_eq!(
        paid["payments"][0]["transactions"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert!(emu.txs_of(SHOP).await.is_empty(), "not final yet");
    let (_, pending) = emu
        .toncenter(&format!("pendingTransactions?account={SHOP}"))
        .await;
    assert_eq!(pending["transactions"][0]["finality"], "confirmed");
    let (status, err) = emu.toncenter("pendingTransactions").await;
    assert_eq!(
        (status, err["error"].as_str()),
        (422, Some("at least 1 account address required"))
    );

    emu.finalize().await;
    let txs = emu.txs_of(SHOP).await;
    assert_eq!(txs.len(), 1);
    let tx = &txs[0];
    assert_eq!(tx["account"], raw(SHOP));
    assert_eq!(tx["finality"], "finalized");
    assert_eq!(tx["emulated"], false);
    assert_eq!(tx["description"]["aborted"], false);
    assert_eq!(tx["description"]["compute_ph"]["success"], true);
    let m = &tx["in_msg"];
    assert_eq!(m["destination"], raw(SHOP));
    assert_eq!(m["value"], "1500000000");
    assert_eq!(m["bounced"], false);
    assert_eq!(m["opcode"], "0x00000000");
    assert_eq!(m["message_content"]["decoded"]["comment"], "order-17");
    let body = cell(m["message_content"]["body"].as_str().unwrap());
    assert_eq!(&body.data()[4..], b"order-17");
    let source = m["source"].as_str().unwrap();
    assert!(source.starts_with("0:") && source[2..].chars().all(|c| !c.is_ascii_lowercase()));
    let (_, all) = emu
        .toncenter(&format!("transactions?account={}", raw(SHOP)))
        .await;
    let book = &all["address_book"][raw(SHOP)];
    assert_eq!(book["user_friendly"], SHOP);
    // The same transaction by hash, and none before its logical time.
    let hash = tx["hash"].as_str().unwrap();
    let by_hash = emu
        .toncenter(&format!("transactions?hash={}", urlencode(hash)))
        .await
        .1;
    assert_eq!(by_hash["transactions"][0]["hash"], hash);
    let lt: u64 = tx["lt"].as_str().unwrap().parse().unwrap();
    let later = emu
        .toncenter(&format!("transactions?account={SHOP}&start_lt={}", lt + 1))
        .await
        .1;
    assert!(later["transactions"].as_array().unwrap().is_empty());
}

fn urlencode(s: &str) -> String {
    s.replace('+', "%2B")
        .replace('/', "%2F")
        .replace('=', "%3D")
}

#[tokio::test]
async fn finality_arrives_by_itself_after_the_configured_delay() {
    let emu = start(TonConfig {
        finality: Duration::from_millis(300),
        ..TonConfig::default()
    })
    .await;
    emu.ok_post(
        "/control/ton/pay",
        json!({"to": SHOP, "amount": 1000, "comment": "a"}),
    )
    .await;
    assert!(emu.txs_of(SHOP).await.is_empty());
    tokio::time::sleep(Duration::from_millis(450)).await;
    assert_eq!(emu.txs_of(SHOP).await.len(), 1);
}

#[tokio::test]
async fn paging_sorting_and_refusals_follow_the_indexer() {
    let emu = start(slow_finality()).await;
    emu.ok_post(
        "/control/ton/pay",
        json!({"to": SHOP, "amount": 5, "comment": "twice", "times": 3}),
    )
    .await;
    emu.finalize().await;
    let (_, desc) = emu
        .toncenter(&format!("transactions?account={SHOP}&limit=2"))
        .await;
    let lts = |v: &Value| -> Vec<u64> {
        v["transactions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["lt"].as_str().unwrap().parse().unwrap())
            .collect()
    };
    let d = lts(&desc);
    assert_eq!(d.len(), 2);
    assert!(d[0] > d[1], "newest first by default");
    let (_, off) = emu
        .toncenter(&format!("transactions?account={SHOP}&limit=2&offset=2"))
        .await;
    assert_eq!(lts(&off).len(), 1);
    assert!(lts(&off)[0] < d[1]);
    for (q, msg) in [
        ("limit=1001", "limit is not allowed: 1001 > 1000"),
        ("sort=sideways", "wrong value for sort parameter"),
        ("account=nonsense", "failed to decode"),
    ] {
        let (status, v) = emu.toncenter(&format!("transactions?{q}")).await;
        assert_eq!(status, 422, "{q}");
        assert!(v["error"].as_str().unwrap().starts_with(msg), "{q}: {v}");
    }
}

#[tokio::test]
async fn a_configured_api_key_is_required() {
    let emu = start(TonConfig {
        api_key: Some("s3cret".into()),
        ..TonConfig::default()
    })
    .await;
    let url = format!("{}/toncenter/api/v3/transactions?account={SHOP}", emu.base);
    let status = |r: reqwest::Response| r.status().as_u16();
    assert_eq!(status(emu.http.get(&url).send().await.unwrap()), 401);
    let wrong = emu
        .http
        .get(&url)
        .header("X-API-Key", "nope")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status().as_u16(), 401);
    assert_eq!(
        wrong.json::<Value>().await.unwrap()["error"],
        "API key does not exist"
    );
    assert_eq!(
        status(
            emu.http
                .get(&url)
                .header("X-API-Key", "s3cret")
                .send()
                .await
                .unwrap()
        ),
        200
    );
    assert_eq!(
        status(
            emu.http
                .get(format!("{url}&api_key=s3cret"))
                .send()
                .await
                .unwrap()
        ),
        200
    );
}

/// The shop's USDT jetton wallet, as `/jetton/wallets` reports it (raw).
async fn jetton_wallet_of(emu: &Emu, owner: &str, master: &str) -> Option<String> {
    let (status, v) = emu
        .toncenter(&format!(
            "jetton/wallets?owner_address={owner}&jetton_address={master}"
        ))
        .await;
    assert_eq!(status, 200, "{v}");
    v["jetton_wallets"][0]["address"]
        .as_str()
        .map(str::to_string)
}

#[tokio::test]
async fn a_usdt_payment_notifies_the_shop_from_its_own_usdt_wallet() {
    let emu = start(slow_finality()).await;
    assert_eq!(
        jetton_wallet_of(&emu, SHOP, USDT_MASTER).await,
        None,
        "not deployed yet"
    );
    emu.ok_post(
        "/control/ton/pay",
        json!({"user_id": 10001, "to": SHOP, "asset": "usdt", "amount": "12500000", "comment": "order-9"}),
    )
    .await;
    emu.finalize().await;
    let shop_usdt = jetton_wallet_of(&emu, SHOP, USDT_MASTER)
        .await
        .expect("deployed by the payment");
    let txs = emu.txs_of(SHOP).await;
    assert_eq!(txs.len(), 1, "the notification");
    let m = &txs[0]["in_msg"];
    assert_eq!(m["source"], shop_usdt);
    assert_eq!(m["opcode"], "0x7362d09c");
    assert_eq!(m["decoded_opcode"], "jetton_notify");
    let body = cell(m["message_content"]["body"].as_str().unwrap());
    let mut p = body.parser();
    assert_eq!(p.load_u32(32).unwrap(), 0x7362d09c);
    p.load_u64(64).unwrap();
    assert_eq!(p.load_coins().unwrap(), 12_500_000u32.into());
    let sender = p.load_address().unwrap();
    let wallet = emu.get("/control/ton/wallets/10001").await;
    assert_eq!(
        format!("0:{}", hex::encode(sender.hash_part.as_slice())),
        wallet["address_raw"]
    );
    let payload = if p.load_bit().unwrap() {
        p.next_reference().unwrap()
    } else {
        unreachable!("a ref")
    };
    assert_eq!(&payload.data()[4..], b"order-9");
    let (_, transfers) = emu
        .toncenter(&format!(
            "jetton/transfers?owner_address={SHOP}&direction=in"
        ))
        .await;
    let t = &transfers["jetton_transfers"][0];
    assert_eq!(
        (t["amount"].as_str(), t["jetton_master"].as_str()),
        (Some("12500000"), Some(raw(USDT_MASTER).as_str()))
    );
    assert_eq!(t["decoded_forward_payload"]["comment"], "order-9");
    assert_eq!(wallet["usdt_balance"], "87500000");
}

#[tokio::test]
async fn a_fake_usdt_notification_comes_from_another_wallet_than_the_shops() {
    let emu = start(slow_finality()).await;
    emu.ok_post(
        "/control/ton/pay",
        json!({"to": SHOP, "asset": "usdt", "amount": 1, "comment": "x"}),
    )
    .await;
    emu.ok_post(
        "/control/ton/pay",
        json!({"to": SHOP, "asset": "fake_usdt", "amount": "99000000", "comment": "order-5"}),
    )
    .await;
    emu.finalize().await;
    let real = jetton_wallet_of(&emu, SHOP, USDT_MASTER).await.unwrap();
    let fake_master = emu.get("/control/ton").await["fake_usdt_master"]["address"]
        .as_str()
        .unwrap()
        .to_string();
    let fake = jetton_wallet_of(&emu, SHOP, &fake_master).await.unwrap();
    let txs = emu.txs_of(SHOP).await;
    let sources: Vec<&str> = txs
        .iter()
        .map(|t| t["in_msg"]["source"].as_str().unwrap())
        .collect();
    assert_eq!(sources, vec![real.as_str(), fake.as_str()]);
    assert_ne!(real, fake);
    let (_, masters) = emu
        .toncenter(&format!("jetton/masters?address={fake_master}"))
        .await;
    assert_eq!(
        masters["jetton_masters"][0]["jetton_content"]["symbol"],
        "USD₮"
    );
}

#[tokio::test]
async fn a_bounced_payment_shows_aborted_at_the_shop_and_bounced_at_the_payer() {
    let emu = start(slow_finality()).await;
    emu.ok_post("/control/ton/bounce_next", json!({"address": SHOP}))
        .await;
    let paid = emu
        .ok_post(
            "/control/ton/pay",
            json!({"user_id": 10001, "to": SHOP, "amount": "2000000000", "comment": "order-1"}),
        )
        .await;
    emu.finalize().await;
    let shop_tx = &emu.txs_of(SHOP).await[0];
    assert_eq!(shop_tx["description"]["aborted"], true);
    assert_eq!(shop_tx["description"]["compute_ph"]["skipped"], true);
    assert_eq!(shop_tx["description"]["bounce"]["type"], "ok");
    assert_eq!(shop_tx["in_msg"]["bounced"], false);
    assert_eq!(shop_tx["out_msgs"][0]["bounced"], true);
    let wallet = emu.get("/control/ton/wallets/10001").await;
    let back = emu.txs_of(wallet["address"].as_str().unwrap()).await;
    assert_eq!(back.len(), 2);
    assert_eq!(back[1]["in_msg"]["bounced"], true);
    assert_eq!(back[1]["in_msg"]["source"], raw(SHOP));
    assert_eq!(
        paid["payments"][0]["transactions"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

/// Serves a TON Connect manifest whose app lives at this server's URL.
async fn manifest_server() -> (String, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let manifest =
        json!({"url": origin, "name": "Test shop", "iconUrl": format!("{origin}/icon.png")});
    let app = Router::new().route(
        "/tonconnect-manifest.json",
        get(move || {
            let m = manifest.clone();
            async move {
                (
                    [
                        (header::CONTENT_TYPE, "application/json"),
                        (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
                    ],
                    m.to_string(),
                )
                    .into_response()
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("{origin}/tonconnect-manifest.json"), origin)
}

/// `ton_proof`'s digest, built here from TON Connect's definition.
fn proof_digest(address: &str, domain: &str, timestamp: u64, payload: &str) -> [u8; 32] {
    let (wc, hash) = address.split_once(':').unwrap();
    let mut m = b"ton-proof-item-v2/".to_vec();
    m.extend(wc.parse::<i32>().unwrap().to_be_bytes());
    m.extend(hex::decode(hash).unwrap());
    m.extend((domain.len() as u32).to_le_bytes());
    m.extend(domain.as_bytes());
    m.extend(timestamp.to_le_bytes());
    m.extend(payload.as_bytes());
    let mut d = b"\xff\xffton-connect".to_vec();
    d.extend(Sha256::digest(&m));
    Sha256::digest(&d).into()
}

#[tokio::test]
async fn connect_gives_the_real_address_and_a_proof_that_verifies() {
    let emu = start(slow_finality()).await;
    let (manifest_url, origin) = manifest_server().await;
    let request = json!({"manifestUrl": manifest_url, "items": [{"name": "ton_addr"}, {"name": "ton_proof", "payload": "nonce-123"}]});
    let ev = emu
        .ok_post(
            "/control/ton/connect",
            json!({"user_id": 10001, "origin": origin, "request": request}),
        )
        .await;
    assert_eq!(ev["event"], "connect", "{ev}");
    assert_eq!(ev["payload"]["device"]["appName"], "tma-emulator-wallet");
    let items = ev["payload"]["items"].as_array().unwrap();
    let addr = &items[0];
    assert_eq!(addr["network"], "-239");
    let address = addr["address"].as_str().unwrap();
    // The state init's hash is the address; the public key sits in its data cell.
    let init = cell(addr["walletStateInit"].as_str().unwrap());
    assert_eq!(
        format!("0:{}", hex::encode(init.cell_hash().as_slice())),
        address
    );
    let code_hash = hex::encode(init.reference(0).unwrap().cell_hash().as_slice());
    assert_eq!(
        code_hash, "feb5ff6820e2ff0d9483e7e0d62c817d846789fb4ae580c878866d959dabd5c0",
        "v4R2"
    );
    let mut data = init.reference(1).unwrap().parser();
    data.skip_bits(64).unwrap();
    let key_bytes = data.load_bytes(32).unwrap();
    assert_eq!(hex::encode(&key_bytes), addr["publicKey"]);
    // The proof: over the manifest url's host, with the app's payload.
    let proof = &items[1]["proof"];
    let domain = origin.trim_start_matches("http://");
    assert_eq!(
        proof["domain"],
        json!({"lengthBytes": domain.len(), "value": domain})
    );
    assert_eq!(proof["payload"], "nonce-123");
    let sig = base64::engine::general_purpose::STANDARD
        .decode(proof["signature"].as_str().unwrap())
        .unwrap();
    let sig = Signature::from_slice(&sig).unwrap();
    let key = VerifyingKey::from_bytes(&key_bytes.try_into().unwrap()).unwrap();
    let ts = proof["timestamp"].as_u64().unwrap();
    assert!(key
        .verify(&proof_digest(address, domain, ts, "nonce-123"), &sig)
        .is_ok());
    assert!(key
        .verify(
            &proof_digest(address, "evil.example", ts, "nonce-123"),
            &sig
        )
        .is_err());
    // Connected: restoring works for this origin only; an unreachable manifest is error 2.
    let restored = emu
        .ok_post(
            "/control/ton/restore",
            json!({"user_id": 10001, "origin": origin}),
        )
        .await;
    assert_eq!(restored["payload"]["items"][0]["address"], address);
    let other = emu
        .ok_post(
            "/control/ton/restore",
            json!({"user_id": 10001, "origin": "http://x"}),
        )
        .await;
    assert_eq!(other["event"], "connect_error");
    let missing =
        json!({"manifestUrl": format!("{origin}/missing.json"), "items": [{"name": "ton_addr"}]});
    let err = emu
        .ok_post(
            "/control/ton/connect",
            json!({"origin": origin, "request": missing}),
        )
        .await;
    assert_eq!(err["payload"]["code"], 2);
}

async fn connected(emu: &Emu) -> String {
    let (manifest_url, origin) = manifest_server().await;
    let request = json!({"manifestUrl": manifest_url, "items": [{"name": "ton_addr"}]});
    let ev = emu
        .ok_post(
            "/control/ton/connect",
            json!({"user_id": 10001, "origin": origin, "request": request}),
        )
        .await;
    assert_eq!(ev["event"], "connect");
    origin
}

fn send_transaction(id: &str, tx: Value) -> Value {
    json!({"method": "sendTransaction", "id": id, "params": [tx.to_string()]})
}

#[tokio::test]
async fn send_transaction_waits_for_the_user_then_lands_on_chain() {
    let emu = start(slow_finality()).await;
    let origin = connected(&emu).await;
    let valid_until = common::chrono_now() + 300;
    let tx = json!({"valid_until": valid_until, "network": "-239", "messages": [
        {"address": SHOP, "amount": "250000000", "payload": comment_b64("order-77")}]});
    let sent = emu
        .ok_post("/control/ton/send", json!({"user_id": 10001, "origin": origin, "request": send_transaction("7", tx.clone())}))
        .await;
    let req = &sent["request"];
    assert_eq!(req["status"], "pending");
    assert_eq!(
        req["summary"]["messages"][0]["payload"]["comment"],
        "order-77"
    );
    assert!(emu
        .get(&format!("/control/ton/transactions?account={SHOP}"))
        .await
        .as_array()
        .unwrap()
        .is_empty());
    let id = req["id"].as_str().unwrap();
    let done = emu
        .ok_post(&format!("/control/ton/requests/{id}/confirm"), json!({}))
        .await;
    assert_eq!(done["status"], "confirmed");
    assert_eq!(done["response"]["id"], "7");
    // The answer is the signed external message to the user's wallet.
    let ext = cell(done["response"]["result"].as_str().unwrap());
    let mut p = ext.parser();
    assert_eq!(p.load_u8(2).unwrap(), 0b10, "ext_in_msg_info");
    p.load_u8(2).unwrap();
    let dest = p.load_address().unwrap();
    let wallet = emu.get("/control/ton/wallets/10001").await;
    assert_eq!(
        format!("0:{}", hex::encode(dest.hash_part.as_slice())),
        wallet["address_raw"]
    );
    emu.finalize().await;
    let txs = emu.txs_of(SHOP).await;
    assert_eq!(
        txs[0]["in_msg"]["message_content"]["decoded"]["comment"],
        "order-77"
    );
    assert_eq!(
        txs[0]["in_msg"]["source"],
        raw(wallet["address"].as_str().unwrap())
    );
    // Rejected: TON Connect's user-rejected error; nothing is sent.
    let sent = emu
        .ok_post(
            "/control/ton/send",
            json!({"user_id": 10001, "origin": origin, "request": send_transaction("8", tx)}),
        )
        .await;
    let id = sent["request"]["id"].as_str().unwrap();
    let done = emu
        .ok_post(&format!("/control/ton/requests/{id}/reject"), json!({}))
        .await;
    assert_eq!(done["response"]["error"]["code"], 300);
    assert_eq!(done["response"]["id"], "8");
    emu.finalize().await;
    assert_eq!(emu.txs_of(SHOP).await.len(), 1);
}

#[tokio::test]
async fn send_transaction_refuses_what_a_wallet_refuses() {
    let emu = start(slow_finality()).await;
    let msg = json!({"address": SHOP, "amount": "1"});
    let not_connected = emu
        .ok_post("/control/ton/send", json!({"origin": "http://nobody", "request": send_transaction("1", json!({"messages": [msg]}))}))
        .await;
    assert_eq!(not_connected["response"]["error"]["code"], 100);
    let origin = connected(&emu).await;
    for (tx, why) in [
        (
            json!({"valid_until": common::chrono_now() - 10, "messages": [msg]}),
            "expired",
        ),
        (json!({"network": "-3", "messages": [msg]}), "network"),
        (json!({"messages": []}), "no messages"),
        (
            json!({"messages": [{"address": SHOP, "amount": 5}]}),
            "amount as a number",
        ),
        (
            json!({"messages": [msg, msg, msg, msg, msg]}),
            "over v4R2's four messages",
        ),
    ] {
        let r = emu
            .ok_post(
                "/control/ton/send",
                json!({"origin": origin, "request": send_transaction("2", tx)}),
            )
            .await;
        assert_eq!(r["response"]["error"]["code"], 1, "{why}: {r}");
    }
    let sign = json!({"method": "signData", "id": "3", "params": []});
    let r = emu
        .ok_post(
            "/control/ton/send",
            json!({"origin": origin, "request": sign}),
        )
        .await;
    assert_eq!(r["response"]["error"]["code"], 400);
}

#[tokio::test]
async fn a_jetton_transfer_sent_through_the_wallet_reaches_the_shop_as_a_notification() {
    let emu = start(slow_finality()).await;
    let origin = connected(&emu).await;
    let wallet = emu.get("/control/ton/wallets/10001").await;
    let own_usdt = wallet["usdt_wallet"].as_str().unwrap();
    let me: TonAddress = wallet["address"].as_str().unwrap().parse().unwrap();
    let shop: TonAddress = SHOP.parse().unwrap();
    let body = tma_pay_emulator::ton::send::jetton_transfer_body(
        42,
        3_000_000,
        &shop,
        &me,
        1,
        Some(tma_pay_emulator::ton::cells::comment_cell("order-3").unwrap()),
    );
    let payload = tma_pay_emulator::ton::cells::boc_b64(&body);
    let tx = json!({"valid_until": common::chrono_now() + 60, "messages": [
        {"address": tma_pay_emulator::ton::cells::friendly(&own_usdt.parse().unwrap(), true, false), "amount": "50000000", "payload": payload}]});
    let sent = emu
        .ok_post(
            "/control/ton/send",
            json!({"origin": origin, "request": send_transaction("9", tx)}),
        )
        .await;
    let p = &sent["request"]["summary"]["messages"][0]["payload"];
    assert_eq!(
        (
            p["kind"].as_str(),
            p["jetton"].as_str(),
            p["own_jetton_wallet"].as_bool()
        ),
        (Some("jetton_transfer"), Some("USD₮"), Some(true))
    );
    let id = sent["request"]["id"].as_str().unwrap();
    emu.ok_post(&format!("/control/ton/requests/{id}/confirm"), json!({}))
        .await;
    emu.finalize().await;
    let shop_usdt = jetton_wallet_of(&emu, SHOP, USDT_MASTER).await.unwrap();
    let txs = emu.txs_of(SHOP).await;
    assert_eq!(txs[0]["in_msg"]["source"], shop_usdt);
    assert_eq!(txs[0]["in_msg"]["opcode"], "0x7362d09c");
    let after = emu.get("/control/ton/wallets/10001").await;
    assert_eq!(after["usdt_balance"], "97000000");
    assert_eq!(after["status"], "active");
}

#[tokio::test]
async fn the_wallet_script_icon_and_page_hooks_are_served() {
    let emu = start(TonConfig::default()).await;
    let js = emu.text("/tonconnect-wallet.js").await;
    assert!(
        js.contains("const KEY = 'tmaEmulatorWallet'"),
        "the bridge key filled in"
    );
    assert!(js.contains("\"maxMessages\":4"), "v4R2's limit filled in");
    assert!(!js.contains("fetch("), "the injected wallet never fetches");
    assert!(!js.contains("__DEVICE_INFO__"));
    let png = emu
        .http
        .get(format!("{}/tonconnect-wallet.png", emu.base))
        .send()
        .await
        .unwrap();
    assert_eq!(png.headers()["content-type"], "image/png");
    assert_eq!(&png.bytes().await.unwrap()[..4], b"\x89PNG");
    let page = emu.text("/").await;
    for id in [
        "ton-confirm-button",
        "ton-reject-button",
        "ton-wallet-address",
        "/tonconnect-client.js",
    ] {
        assert!(page.contains(id), "{id}");
    }
    assert!(emu
        .text("/tonconnect-client.js")
        .await
        .contains("/control/ton/send"));
}

#[tokio::test]
async fn a_v5r1_wallet_on_testnet_proves_and_pays_too() {
    let emu = start(TonConfig {
        wallet: tma_pay_emulator::ton::WalletKind::V5R1,
        network: tma_pay_emulator::ton::Network::Testnet,
        ..slow_finality()
    })
    .await;
    let (manifest_url, origin) = manifest_server().await;
    let request = json!({"manifestUrl": manifest_url, "items": [{"name": "ton_addr"}, {"name": "ton_proof", "payload": "p5"}]});
    let ev = emu
        .ok_post(
            "/control/ton/connect",
            json!({"origin": origin, "request": request}),
        )
        .await;
    let addr = &ev["payload"]["items"][0];
    assert_eq!(addr["network"], "-3");
    let address = addr["address"].as_str().unwrap();
    let init = cell(addr["walletStateInit"].as_str().unwrap());
    assert_eq!(
        format!("0:{}", hex::encode(init.cell_hash().as_slice())),
        address
    );
    let code_hash = hex::encode(init.reference(0).unwrap().cell_hash().as_slice());
    assert_eq!(
        code_hash, "20834b7b72b112147e1b2fb457b84e74d1a30f04f737d4f62a668e9552d2b72f",
        "v5R1"
    );
    // v5R1 keeps the key after is_signature_allowed, seqno and wallet_id.
    let mut data = init.reference(1).unwrap().parser();
    data.skip_bits(65).unwrap();
    let key = VerifyingKey::from_bytes(&data.load_bytes(32).unwrap().try_into().unwrap()).unwrap();
    let proof = &ev["payload"]["items"][1]["proof"];
    let sig = base64::engine::general_purpose::STANDARD
        .decode(proof["signature"].as_str().unwrap())
        .unwrap();
    let domain = proof["domain"]["value"].as_str().unwrap();
    let digest = proof_digest(address, domain, proof["timestamp"].as_u64().unwrap(), "p5");
    assert!(key
        .verify(&digest, &Signature::from_slice(&sig).unwrap())
        .is_ok());
    let wallet = emu.get("/control/ton/wallets/10001").await;
    assert!(
        wallet["address_non_bounceable"]
            .as_str()
            .unwrap()
            .starts_with("0Q"),
        "{wallet}"
    );
    assert_eq!(ev["payload"]["device"]["features"][1]["maxMessages"], 255);
    // Its signed external message lands like v4R2's.
    let tx = json!({"network": "-3", "messages": [{"address": SHOP, "amount": "1000", "payload": comment_b64("v5")}]});
    let sent = emu
        .ok_post(
            "/control/ton/send",
            json!({"origin": origin, "request": send_transaction("1", tx)}),
        )
        .await;
    let id = sent["request"]["id"].as_str().unwrap();
    let done = emu
        .ok_post(&format!("/control/ton/requests/{id}/confirm"), json!({}))
        .await;
    assert!(done["response"]["result"].is_string(), "{done}");
    emu.finalize().await;
    assert_eq!(
        emu.txs_of(SHOP).await[0]["in_msg"]["message_content"]["decoded"]["comment"],
        "v5"
    );
}
