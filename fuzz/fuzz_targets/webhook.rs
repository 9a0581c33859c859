//! The webhook, whole: any body with the right secret is decoded as an update and
//! answered 200 or 400 with JSON, never 5xx or a panic; delivered twice, nothing is
//! said twice (a `sendMessage` reply goes out once) and pre-checkout answers agree.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};
use tma_pay::http::{handle, Request};
use tma_pay::shop::{Catalog, Order};
use tma_pay::store::Store;
use tma_pay::telegram::TelegramEnv;
use tma_pay_fuzz::{block_on, FuzzPlatform, NOW, WEBHOOK_SECRET};

fuzz_target!(|data: &[u8]| {
    let platform = FuzzPlatform::default();
    // An order to pay ("o1" for user 7), so payment updates reach every branch.
    let catalog = Catalog::load(None, TelegramEnv::Production).unwrap();
    for (id, product) in [("o1", "sticker_pack"), ("o2", "pro_monthly")] {
        let order = Order::new(id.into(), 7, catalog.get(product).unwrap(), NOW);
        block_on(platform.store.insert_order(&order)).unwrap();
    }
    let request = || Request {
        method: "POST".into(),
        path: "/telegram/webhook".into(),
        query: String::new(),
        origin: "https://shop.example".into(),
        headers: vec![
            (
                "x-telegram-bot-api-secret-token".into(),
                WEBHOOK_SECRET.into(),
            ),
            ("content-type".into(), "application/json".into()),
        ],
        body: data.to_vec(),
    };
    let first = block_on(handle(&platform, request()));
    let body = |r: &tma_pay::http::Response| -> Value {
        serde_json::from_slice(&r.body).expect("every answer is JSON")
    };
    let v1 = body(&first);
    match first.status {
        200 => {}
        400 => {
            assert_eq!(v1["error"]["code"], "invalid_update");
            return;
        }
        413 => return,
        s => panic!("status {s}: {v1}"),
    }
    let second = block_on(handle(&platform, request()));
    assert_eq!(second.status, 200);
    let v2 = body(&second);
    match v1["method"].as_str() {
        Some("sendMessage") => assert_eq!(v2, json!({}), "a reply went out twice"),
        Some("answerPreCheckoutQuery") => assert_eq!(v1, v2),
        _ => {}
    }
});
