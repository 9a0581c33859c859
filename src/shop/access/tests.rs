use super::*;
use crate::shop::catalog::{Access, Text};
use crate::shop::Payment;

const CHAT: i64 = -1_001_234_567_890;
const T0: u64 = 1_750_000_000;
const DAY: u64 = 86_400;

fn catalog() -> Catalog {
    let access = |telegram_subscription| {
        Some(Access {
            chat_id: CHAT,
            telegram_subscription,
        })
    };
    Catalog {
        products: vec![
            Product {
                title: "Insiders".into(),
                access: access(false),
                ..Product::stars("insiders", 100, None)
            },
            Product {
                access: access(false),
                ..Product::stars("insiders_monthly", 30, Some(2_592_000))
            },
            Product {
                access: access(true),
                ..Product::stars("insiders_tg", 30, Some(2_592_000))
            },
            Product::stars("pack", 5, None),
        ],
    }
}

fn paid(id: &str, product: &str, until: Option<u64>) -> Order {
    let c = catalog();
    let o = Order::new(id.into(), 7, c.get(product).unwrap(), T0);
    o.with_payment(&Payment {
        telegram_payment_charge_id: format!("c_{id}"),
        provider_payment_charge_id: String::new(),
        order_id: id.into(),
        user_id: 7,
        currency: "XTR".into(),
        amount: 5,
        paid_at: T0,
        subscription_expiration_date: until.map(|u| u as i64),
        is_recurring: until.is_some(),
        is_first_recurring: until.is_some(),
        refunded_at: None,
        raw_update: String::new(),
    })
}

#[test]
fn a_paid_order_grants_while_it_lasts() {
    let c = catalog();
    let once = paid("a", "insiders", None);
    let monthly = paid("b", "insiders_monthly", Some(T0 + 30 * DAY));
    assert_eq!(
        granting(&c, std::slice::from_ref(&once), CHAT, T0 + 999 * DAY).map(|o| o.id.as_str()),
        Some("a")
    );
    // The longest wins: a one-time purchase lasts for ever.
    let both = [monthly.clone(), once.clone()];
    assert_eq!(
        granting(&c, &both, CHAT, T0).map(|o| o.id.as_str()),
        Some("a")
    );
    assert_eq!(
        granting(&c, std::slice::from_ref(&monthly), CHAT, T0 + DAY).map(|o| o.id.as_str()),
        Some("b")
    );
    assert_eq!(
        granting(&c, std::slice::from_ref(&monthly), CHAT, T0 + 31 * DAY),
        None,
        "lapsed"
    );
    assert_eq!(
        granting(&c, std::slice::from_ref(&once), -1_001_000_000_000, T0),
        None,
        "another chat"
    );
    let mut refunded = once;
    refunded.status = OrderStatus::Refunded;
    assert_eq!(granting(&c, &[refunded], CHAT, T0), None);
    // Telegram's own subscription link is Telegram's business.
    let tg = paid("c", "insiders_tg", Some(T0 + 30 * DAY));
    assert_eq!(granting(&c, &[tg], CHAT, T0), None);
}

#[test]
fn access_ends_on_a_refund_or_after_the_grace() {
    let once = paid("a", "insiders", None);
    assert_eq!(ended(&once, T0 + 999 * DAY, DAY), None);
    let mut refunded = once;
    refunded.status = OrderStatus::Refunded;
    assert_eq!(ended(&refunded, T0, DAY), Some(Ended::Refunded));
    let monthly = paid("b", "insiders_monthly", Some(T0 + 30 * DAY));
    assert_eq!(
        ended(&monthly, T0 + 30 * DAY + 1, DAY),
        None,
        "within the grace"
    );
    assert_eq!(ended(&monthly, T0 + 31 * DAY + 1, DAY), Some(Ended::Lapsed));
}

#[test]
fn each_piece_of_work_is_owed_once_per_order_and_cause() {
    let c = catalog();
    let once = paid("a", "insiders", None);
    let g = grant(
        &once,
        c.get("insiders").unwrap(),
        "https://shop.example/",
        Lang::EN,
    )
    .unwrap();
    assert_eq!(
        (g.id.as_str(), g.method.as_str(), g.kind),
        ("access:a", GRANT, Kind::Access)
    );
    let params: Grant = serde_json::from_str(&g.params).unwrap();
    assert_eq!((params.chat_id, params.user_id), (CHAT, 7));
    assert!(grant(&once, c.get("pack").unwrap(), "https://x/", Lang::EN).is_none());
    assert!(grant(&once, c.get("insiders_tg").unwrap(), "https://x/", Lang::EN).is_none());

    let monthly = paid("b", "insiders_monthly", Some(T0 + 30 * DAY));
    let lapsed = removal(&monthly, CHAT, Ended::Lapsed, "https://x/");
    let renewed = Order {
        subscription_expiration_date: Some((T0 + 60 * DAY) as i64),
        ..monthly.clone()
    };
    assert_ne!(
        lapsed.id,
        removal(&renewed, CHAT, Ended::Lapsed, "https://x/").id,
        "a later lapse is another removal"
    );
    assert_eq!(
        removal(&monthly, CHAT, Ended::Refunded, "https://x/").id,
        "removal:b:refunded"
    );

    assert!(approve_query(&once).is_none());
    let queried = Order {
        join_request_query_id: Some("q1".into()),
        ..once
    };
    let a = approve_query(&queried).unwrap();
    assert_eq!(a.method, "answerChatJoinRequestQuery");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&a.params).unwrap(),
        serde_json::json!({"chat_join_request_query_id": "q1", "result": "approve"})
    );
}

#[test]
fn the_offer_and_the_messages_say_what_and_how() {
    let c = catalog();
    let p = c.get("insiders").unwrap();
    let o = offer(p, 7, "https://shop.example/", 42, Lang::EN);
    assert_eq!(o.id, "offer:42");
    let v: serde_json::Value = serde_json::from_str(&o.params).unwrap();
    assert!(v["text"].as_str().unwrap().contains("Insiders"));
    assert_eq!(
        v["reply_markup"]["inline_keyboard"][0][0]["web_app"]["url"],
        "https://shop.example/?product=insiders"
    );
    let m = granted_message(7, p, "https://t.me/+abc", Lang::EN);
    assert_eq!(
        m.reply_markup.unwrap().inline_keyboard[0][0].url.as_deref(),
        Some("https://t.me/+abc")
    );
    let r = Removal {
        chat_id: CHAT,
        user_id: 7,
        order_id: "a".into(),
        product_id: "insiders".into(),
        ended: Ended::Refunded,
        app_url: "https://shop.example/".into(),
        lang: Lang::EN,
    };
    let m = removed_message(&r, Some(p));
    assert!(m.text.contains("refunded"), "{}", m.text);
    assert!(is_staff("creator") && is_staff("administrator") && !is_staff("member"));
}

#[test]
fn a_chinese_buyer_is_offered_let_in_and_told_of_removal_in_chinese() {
    let mut c = catalog();
    c.products[0].title = Text::ByLanguage(vec![
        ("en".into(), "Insiders".into()),
        ("zh".into(), "内部频道".into()),
    ]);
    let p = c.get("insiders").unwrap();
    let o = offer(p, 7, "https://shop.example/", 42, Lang::ZH);
    let v: serde_json::Value = serde_json::from_str(&o.params).unwrap();
    assert!(
        v["text"]
            .as_str()
            .unwrap()
            .starts_with("该群组仅限会员加入。购买「内部频道」"),
        "{v}"
    );
    assert_eq!(
        v["reply_markup"]["inline_keyboard"][0][0]["text"],
        "购买 · ⭐ 100"
    );

    // The grant carries the buyer's language to the message sent with the link.
    let once = paid("a", "insiders", None);
    let g = grant(&once, p, "https://shop.example/", Lang::ZH).unwrap();
    let params: Grant = serde_json::from_str(&g.params).unwrap();
    assert_eq!(params.lang, Lang::ZH);
    let m = granted_message(7, p, "https://t.me/+abc", params.lang);
    assert!(
        m.text.contains("「内部频道」的入群资格已开通"),
        "{}",
        m.text
    );
    assert_eq!(m.reply_markup.unwrap().inline_keyboard[0][0].text, "加入");
    // A grant queued before languages were kept reads as English.
    let old = r#"{"chat_id":-1,"user_id":7,"order_id":"a","product_id":"insiders","app_url":"https://x/"}"#;
    assert_eq!(serde_json::from_str::<Grant>(old).unwrap().lang, Lang::EN);

    // A removal speaks the order's language.
    let zh_order = Order {
        language: Lang::ZH,
        ..once
    };
    let r = removal(&zh_order, CHAT, Ended::Refunded, "https://shop.example/");
    let r: Removal = serde_json::from_str(&r.params).unwrap();
    let m = removed_message(&r, Some(p));
    assert_eq!(
        m.text,
        "「内部频道」的入群资格已结束：款项已退回。随时可以再次购买。"
    );
    assert_eq!(
        m.reply_markup.unwrap().inline_keyboard[0][0].text,
        "再次购买"
    );
    let m = removed_message(&r, None);
    assert!(
        m.text.starts_with("你的入群资格已结束：款项已退回"),
        "{}",
        m.text
    );
}
