//! The catalog: what is for sale. Operators set it as JSON in the `CATALOG`
//! setting; without it the built-in `catalog.default.json` is used. It is
//! validated on load, so an invalid product never reaches an invoice.

use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::i18n::Lang;
use crate::telegram::TelegramEnv;

/// The only subscription period Telegram accepts on production servers (30 days).
pub const SUBSCRIPTION_PERIOD: u32 = 2_592_000;
/// Telegram's cap on a subscription's price, in Stars.
pub const MAX_SUBSCRIPTION_STARS: i64 = 10_000;

const DEFAULT_CATALOG: &str = include_str!("../../catalog.default.json");

/// A product in the catalog's own JSON format (read from `CATALOG`, and
/// written back unchanged). The API shows it as `http::views::ProductView`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Product {
    pub id: String,
    /// What is sold: Telegram allows only Stars for digital goods and
    /// services; cards and TON only for physical goods and real-world services.
    #[serde(default, skip_serializing_if = "Kind::is_digital")]
    pub kind: Kind,
    pub title: Text,
    pub description: Text,
    pub currency: String,
    /// In the currency's smallest units; whole Stars for `XTR`.
    pub amount: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription_period: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub photo_url: Option<String>,
    /// What the buyer receives after paying. The catalog the API shows never
    /// has it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<Delivery>,
    /// Membership of a private channel or supergroup, for as long as the
    /// order is paid (a one-time product) or the subscription is active.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access: Option<Access>,
}

/// What a product is, for Telegram's rule on what may be sold for what.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Digital goods and services (the default): Telegram Stars only.
    #[default]
    Digital,
    /// Physical goods: Stars, a card provider's currency, TON or USDT.
    Physical,
    /// Real-world services: as physical goods.
    Service,
}

impl Kind {
    pub fn is_digital(&self) -> bool {
        *self == Kind::Digital
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Digital => "digital",
            Kind::Physical => "physical",
            Kind::Service => "service",
        }
    }
}

/// How a product is paid for, from its currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rail {
    /// Telegram Stars (`XTR`), through an invoice.
    Stars,
    /// A card provider's currency (ISO 4217), through an invoice.
    Card,
    /// Toncoin (`TON`, in nanotons) or USDT on TON (`USDT`, 6 decimals),
    /// through TON Connect, confirmed on chain.
    Ton,
}

/// The chat a product lets its buyer into.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Access {
    /// A channel or supergroup (`-100…`).
    pub chat_id: i64,
    /// Sold through Telegram's own subscription invite link instead: Telegram
    /// bills the member every 30 days, the Stars go to the chat's balance, and
    /// Telegram removes a member who stops paying.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub telegram_subscription: bool,
}

/// Goods sent by private message once the payment is stored: a text, a link
/// (shown as a button), a document (a Telegram `file_id` or an https URL), or a
/// mix. With a document, `text` is its caption.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Delivery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<String>,
}

/// A text the operator wrote once (`"Sticker pack"`) or per language
/// (`{"en": "Sticker pack", "zh": "贴纸包"}`, English required). It is
/// written back as it was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Text {
    One(String),
    /// By language code, in the operator's order.
    ByLanguage(Vec<(String, String)>),
}

impl Text {
    /// The text in `lang`, else in English.
    pub fn get(&self, lang: Lang) -> &str {
        match self {
            Text::One(s) => s,
            Text::ByLanguage(texts) => {
                let find = |code: &str| texts.iter().find(|(c, _)| c == code);
                find(lang.code())
                    .or_else(|| find(Lang::EN.code()))
                    .or(texts.first())
                    .map_or("", |(_, t)| t.as_str())
            }
        }
    }

    /// Checks it as the catalog's `field`: English present, every language
    /// one the shop speaks, and `len` (a text's length) within `range`.
    fn validate(
        &self,
        field: &str,
        len: impl Fn(&str) -> usize,
        range: std::ops::RangeInclusive<usize>,
    ) -> Result<(), String> {
        let (min, max) = (range.start(), range.end());
        let texts = match self {
            Text::One(s) => {
                return if range.contains(&len(s)) {
                    Ok(())
                } else {
                    Err(format!("{field} must be {min}-{max} characters"))
                }
            }
            Text::ByLanguage(texts) => texts,
        };
        for (i, (code, text)) in texts.iter().enumerate() {
            if !Lang::all().any(|l| l.code() == code) {
                return Err(format!(
                    "{field} has a text in {code:?}, not a language the shop speaks ({})",
                    Lang::codes()
                ));
            }
            if texts[..i].iter().any(|(c, _)| c == code) {
                return Err(format!("{field} has two texts in {code:?}"));
            }
            if !range.contains(&len(text)) {
                return Err(format!("{field} ({code}) must be {min}-{max} characters"));
            }
        }
        if !texts.iter().any(|(c, _)| c == Lang::EN.code()) {
            return Err(format!("{field} needs an \"en\" text"));
        }
        Ok(())
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Text {
        Text::One(s.to_owned())
    }
}

impl Serialize for Text {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Text::One(text) => s.serialize_str(text),
            Text::ByLanguage(texts) => s.collect_map(texts.iter().map(|(c, t)| (c, t))),
        }
    }
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Text, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string, or an object of strings by language")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text, E> {
                Ok(Text::One(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Text, E> {
                Ok(Text::One(v))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Text, A::Error> {
                let mut texts = Vec::new();
                while let Some(entry) = map.next_entry::<String, String>()? {
                    texts.push(entry);
                }
                Ok(Text::ByLanguage(texts))
            }
        }
        d.deserialize_any(TextVisitor)
    }
}

impl Product {
    pub fn is_stars(&self) -> bool {
        self.currency == "XTR"
    }

    /// How this product is paid for.
    pub fn rail(&self) -> Rail {
        match self.currency.as_str() {
            "XTR" => Rail::Stars,
            "TON" | "USDT" => Rail::Ton,
            _ => Rail::Card,
        }
    }

    /// A Stars product for tests: one-time, or a subscription with `period`.
    #[cfg(test)]
    pub fn stars(id: &str, amount: i64, period: Option<u32>) -> Product {
        Product {
            id: id.into(),
            kind: Kind::Digital,
            title: "T".into(),
            description: "D".into(),
            currency: "XTR".into(),
            amount,
            subscription_period: period,
            photo_url: None,
            delivery: None,
            access: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Catalog {
    pub products: Vec<Product>,
}

impl Catalog {
    /// Parses and validates a JSON array of products. The error names the
    /// product and the rule it breaks.
    pub fn parse(json: &str, env: TelegramEnv) -> Result<Catalog, String> {
        let products: Vec<Product> = serde_json::from_str(json)
            .map_err(|e| format!("CATALOG is not a JSON array of products: {e}"))?;
        if products.is_empty() {
            return Err("CATALOG has no products".into());
        }
        for (i, p) in products.iter().enumerate() {
            validate(p, env).map_err(|why| format!("CATALOG product {:?}: {why}", p.id))?;
            if products[..i].iter().any(|q| q.id == p.id) {
                return Err(format!("CATALOG product id {:?} appears twice", p.id));
            }
        }
        Ok(Catalog { products })
    }

    /// The catalog the operator set, or the built-in one.
    pub fn load(json: Option<&str>, env: TelegramEnv) -> Result<Catalog, String> {
        Catalog::parse(json.unwrap_or(DEFAULT_CATALOG), env)
    }

    pub fn get(&self, id: &str) -> Option<&Product> {
        self.products.iter().find(|p| p.id == id)
    }

    /// The products that let their buyer into `chat_id`.
    pub fn granting(&self, chat_id: i64) -> impl Iterator<Item = &Product> {
        self.products
            .iter()
            .filter(move |p| p.access.as_ref().is_some_and(|a| a.chat_id == chat_id))
    }

    /// Every chat some product sells access to, each once.
    pub fn access_chats(&self) -> Vec<i64> {
        let mut chats: Vec<i64> = self
            .products
            .iter()
            .filter_map(|p| Some(p.access.as_ref()?.chat_id))
            .collect();
        chats.sort_unstable();
        chats.dedup();
        chats
    }
}

fn validate(p: &Product, env: TelegramEnv) -> Result<(), String> {
    // Ids travel in deep links (`start=buy_<id>`, `startapp=<id>`): Telegram
    // allows A-Z a-z 0-9 _ - there, 64 characters at most with the prefix.
    if p.id.is_empty()
        || p.id.len() > 48
        || !p
            .id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err("id must be 1-48 characters of A-Z, a-z, 0-9, _ and -".into());
    }
    let chars = |s: &str| s.chars().count();
    p.title.validate("title", chars, 1..=32)?;
    p.description.validate("description", chars, 1..=255)?;
    let iso = p.currency.len() == 3 && p.currency.bytes().all(|b| b.is_ascii_uppercase());
    if !(iso || p.currency == "USDT") {
        return Err("currency must be XTR, TON, USDT or a three-letter ISO 4217 code".into());
    }
    if p.kind.is_digital() && !p.is_stars() {
        return Err(format!(
            "a digital product is sold in Telegram Stars only (XTR), not {}: Telegram's rule for digital \
             goods and services (core.telegram.org/bots/payments-stars); set kind to physical or service \
             for physical goods and real-world services",
            p.currency
        ));
    }
    if p.amount <= 0 {
        return Err(
            "amount must be a positive whole number of the currency's smallest unit".into(),
        );
    }
    if let Some(period) = p.subscription_period {
        if !p.is_stars() {
            return Err("subscription_period is only possible with XTR".into());
        }
        let allowed = period == SUBSCRIPTION_PERIOD
            || (env == TelegramEnv::Test && (period == 60 || period == 300));
        if !allowed {
            return Err(format!(
                "subscription_period must be {SUBSCRIPTION_PERIOD} (30 days)"
            ));
        }
        if p.amount > MAX_SUBSCRIPTION_STARS {
            return Err(format!(
                "a subscription costs at most {MAX_SUBSCRIPTION_STARS} Stars"
            ));
        }
    }
    if let Some(url) = &p.photo_url {
        if !url.starts_with("https://") || url.len() > 2048 {
            return Err("photo_url must be an https URL".into());
        }
    }
    if let Some(d) = &p.delivery {
        validate_delivery(d)?;
    }
    if let Some(a) = &p.access {
        validate_access(p, a)?;
    }
    if p.rail() == Rail::Ton && p.delivery.as_ref().is_some_and(|d| d.document.is_some()) {
        return Err("a TON or USDT product is physical: its delivery cannot be a document".into());
    }
    Ok(())
}

/// Channel and supergroup ids are `-100` followed by at least ten digits.
const LOWEST_PLAIN_CHAT_ID: i64 = -1_000_000_000_000;

fn validate_access(p: &Product, a: &Access) -> Result<(), String> {
    if !p.kind.is_digital() {
        return Err("access to a chat is digital: kind must be digital".into());
    }
    if a.chat_id > LOWEST_PLAIN_CHAT_ID {
        return Err("access chat_id must be a channel or supergroup id (-100…)".into());
    }
    if a.telegram_subscription && (p.subscription_period.is_none() || !p.is_stars()) {
        return Err(
            "access.telegram_subscription needs a subscription in XTR (subscription_period)".into(),
        );
    }
    Ok(())
}

fn validate_delivery(d: &Delivery) -> Result<(), String> {
    if d.text.is_none() && d.url.is_none() && d.document.is_none() {
        return Err("delivery needs a text, a url or a document".into());
    }
    // Telegram counts message lengths in UTF-16 units: 4096 for a text, 1024
    // for a caption; a receipt line goes before it, hence the margin.
    let max_text = if d.document.is_some() { 900 } else { 3900 };
    if let Some(t) = &d.text {
        t.validate("delivery.text", |s| s.encode_utf16().count(), 1..=max_text)?;
    }
    if let Some(u) = &d.url {
        if !u.starts_with("https://") || u.len() > 2048 {
            return Err("delivery url must be an https URL".into());
        }
    }
    if let Some(doc) = &d.document {
        if doc.trim().is_empty() || doc.len() > 2048 || doc.starts_with("http://") {
            return Err("delivery document must be a file_id or an https URL".into());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: TelegramEnv = TelegramEnv::Production;

    fn product(extra: &str) -> String {
        format!(
            r#"[{{"id":"p1","title":"T","description":"D","currency":"XTR","amount":5{extra}}}]"#
        )
    }

    #[test]
    fn the_default_catalog_speaks_every_language() {
        let c = Catalog::load(None, P).unwrap();
        for p in &c.products {
            let mut texts = vec![&p.title, &p.description];
            texts.extend(p.delivery.as_ref().and_then(|d| d.text.as_ref()));
            for t in texts {
                let Text::ByLanguage(by) = t else {
                    panic!("{}: {t:?} is one text for every language", p.id)
                };
                for lang in Lang::all() {
                    assert!(
                        by.iter().any(|(c, _)| c == lang.code()),
                        "{}: no {}",
                        p.id,
                        lang.code()
                    );
                }
            }
        }
    }

    #[test]
    fn the_default_catalog_sells_stars_once_and_by_subscription() {
        let c = Catalog::load(None, P).unwrap();
        assert!(c
            .products
            .iter()
            .any(|p| p.is_stars() && p.subscription_period.is_none()));
        assert!(c
            .products
            .iter()
            .any(|p| p.is_stars() && p.subscription_period == Some(SUBSCRIPTION_PERIOD)));
    }

    #[test]
    fn accepts_valid_products() {
        let c = Catalog::parse(&product(r#","photo_url":"https://x/y.png""#), P).unwrap();
        assert_eq!(c.get("p1").unwrap().amount, 5);
        assert!(Catalog::parse(&product(r#","subscription_period":2592000"#), P).is_ok());
        assert!(
            Catalog::parse(&product(r#","subscription_period":300"#), TelegramEnv::Test).is_ok()
        );
        let card = r#"[{"id":"eur","kind":"service","title":"T","description":"D","currency":"EUR","amount":199}]"#;
        assert!(Catalog::parse(card, P).is_ok());
        for currency in ["TON", "USDT"] {
            let ton = product(r#","kind":"physical""#).replace("XTR", currency);
            assert_eq!(
                Catalog::parse(&ton, P).unwrap().products[0].rail(),
                Rail::Ton
            );
        }
    }

    #[test]
    fn refuses_each_broken_rule_by_name() {
        let long_title = format!(
            r#"[{{"id":"p1","title":"{}","description":"D","currency":"XTR","amount":5}}]"#,
            "x".repeat(33)
        );
        let cases = [
            ("[]".to_string(), "no products"),
            ("{}".to_string(), "not a JSON array"),
            (product(r#","price":3"#), "not a JSON array"),
            (product("").replace("p1", "p 1"), "id must be"),
            (long_title, "title"),
            (
                product("").replace(r#""description":"D""#, r#""description":"""#),
                "description",
            ),
            (product("").replace("XTR", "usd"), "currency"),
            (product("").replace("XTR", "EUR"), "Telegram Stars only"),
            (product("").replace("XTR", "TON"), "Telegram Stars only"),
            (product("").replace("XTR", "USDT"), "Telegram Stars only"),
            (product(r#","kind":"gadget""#), "not a JSON array"),
            (
                product("").replace(r#""amount":5"#, r#""amount":0"#),
                "amount",
            ),
            (
                product("").replace(r#""amount":5"#, r#""amount":1.5"#),
                "not a JSON array",
            ),
            (
                product(r#","subscription_period":300"#),
                "subscription_period must be",
            ),
            (
                product(r#","kind":"service","subscription_period":2592000"#).replace("XTR", "USD"),
                "only possible with XTR",
            ),
            (
                product(r#","subscription_period":2592000"#)
                    .replace(r#""amount":5"#, r#""amount":10001"#),
                "at most",
            ),
            (product(r#","photo_url":"http://x""#), "photo_url"),
            (
                product(r#","kind":"physical","access":{"chat_id":-1001234567890}"#),
                "access to a chat is digital",
            ),
            (
                product(r#","kind":"physical","delivery":{"document":"BQAC"}"#)
                    .replace("XTR", "TON"),
                "cannot be a document",
            ),
        ];
        for (json, want) in cases {
            let err = Catalog::parse(&json, P).unwrap_err();
            assert!(err.contains(want), "{json} -> {err}");
        }
        for (access, want) in [
            (r#"{"chat_id":-42}"#, "channel or supergroup"),
            (
                r#"{"chat_id":-1001234567890,"telegram_subscription":true}"#,
                "subscription in XTR",
            ),
            (
                r#"{"chat_id":-1001234567890,"extra":1}"#,
                "not a JSON array",
            ),
            (r#"{}"#, "not a JSON array"),
        ] {
            let err = Catalog::parse(&product(&format!(r#","access":{access}"#)), P).unwrap_err();
            assert!(err.contains(want), "{access} -> {err}");
        }
        for (delivery, want) in [
            ("{}", "needs a text"),
            (r#"{"url":"http://x"}"#, "https URL"),
            (r#"{"text":""}"#, "delivery.text must be"),
            (r#"{"document":" "}"#, "file_id"),
            (r#"{"text":"x","secret":1}"#, "not a JSON array"),
        ] {
            let err =
                Catalog::parse(&product(&format!(r#","delivery":{delivery}"#)), P).unwrap_err();
            assert!(err.contains(want), "{delivery} -> {err}");
        }
        let dup = r#"[{"id":"a","title":"T","description":"D","currency":"XTR","amount":1},{"id":"a","title":"T","description":"D","currency":"XTR","amount":2}]"#;
        assert!(Catalog::parse(dup, P).unwrap_err().contains("twice"));
    }

    #[test]
    fn deliveries_are_read() {
        let json =
            product(r#","delivery":{"text":"code 42","url":"https://x/y","document":"BQACAgI"}"#);
        let c = Catalog::parse(&json, P).unwrap();
        assert_eq!(
            c.get("p1")
                .unwrap()
                .delivery
                .as_ref()
                .unwrap()
                .text
                .as_ref()
                .map(|t| t.get(Lang::ZH)),
            Some("code 42")
        );
    }

    #[test]
    fn texts_may_be_given_per_language_and_are_written_back_as_given() {
        let json = r#"[{"id":"p1","title":{"en":"Pack","zh":"贴纸包"},"description":"Stickers",
            "currency":"XTR","amount":5,"delivery":{"text":{"zh":"兑换码 42","en":"code 42"}}}]"#;
        let c = Catalog::parse(json, P).unwrap();
        let p = c.get("p1").unwrap();
        assert_eq!(
            (p.title.get(Lang::EN), p.title.get(Lang::ZH)),
            ("Pack", "贴纸包")
        );
        // A plain string serves every language.
        assert_eq!(p.description.get(Lang::ZH), "Stickers");
        let text = p.delivery.as_ref().unwrap().text.as_ref().unwrap();
        assert_eq!(
            (text.get(Lang::EN), text.get(Lang::ZH)),
            ("code 42", "兑换码 42")
        );
        // Written back as it was read: maps stay maps, in their order; strings stay strings.
        let again = serde_json::to_value(&c.products).unwrap();
        assert_eq!(
            again[0]["title"],
            serde_json::json!({"en": "Pack", "zh": "贴纸包"})
        );
        assert_eq!(again[0]["description"], "Stickers");
        let written = serde_json::to_string(&c.products).unwrap();
        assert!(
            written.contains(r#"{"zh":"兑换码 42","en":"code 42"}"#),
            "{written}"
        );
        assert_eq!(Catalog::parse(&written, P).unwrap(), c);
        // Only English: every language reads it.
        let only_en = product("").replace(r#""title":"T""#, r#""title":{"en":"T"}"#);
        assert_eq!(
            Catalog::parse(&only_en, P).unwrap().products[0]
                .title
                .get(Lang::ZH),
            "T"
        );
    }

    #[test]
    fn a_text_map_without_english_or_with_an_unknown_language_is_refused_by_name() {
        let with = |field: &str, value: &str| {
            let base = product(r#","delivery":{"text":"x"}"#);
            let json = match field {
                "title" => base.replace(r#""title":"T""#, &format!(r#""title":{value}"#)),
                "description" => {
                    base.replace(r#""description":"D""#, &format!(r#""description":{value}"#))
                }
                _ => base.replace(r#""text":"x""#, &format!(r#""text":{value}"#)),
            };
            Catalog::parse(&json, P).unwrap_err()
        };
        for field in ["title", "description", "delivery.text"] {
            let err = with(field, r#"{"zh":"只有中文"}"#);
            assert!(
                err.contains(r#"product "p1""#)
                    && err.contains(&format!(r#"{field} needs an "en" text"#)),
                "{err}"
            );
            let err = with(field, r#"{"en":"x","fr":"y"}"#);
            assert!(
                err.contains(r#"product "p1""#)
                    && err.contains(field)
                    && err.contains(r#""fr""#)
                    && err.contains("en, zh"),
                "{err}"
            );
            let err = with(field, r#"{"en":"x","zh-hans":"y"}"#);
            assert!(err.contains(r#""zh-hans""#), "{err}");
            let err = with(field, r#"{"en":"x","zh":"y","zh":"z"}"#);
            assert!(err.contains("two texts"), "{err}");
            let err = with(field, r#"{}"#);
            assert!(err.contains("needs an"), "{err}");
            let err = with(field, r#"{"en":"x","zh":""}"#);
            assert!(err.contains(&format!("{field} (zh) must be 1-")), "{err}");
            // Not a string nor an object of strings.
            assert!(with(field, "5").contains("not a JSON array"));
            assert!(with(field, r#"{"en":5}"#).contains("not a JSON array"));
        }
        // The length rules hold for each language.
        let long = format!(r#"{{"en":"ok","zh":"{}"}}"#, "星".repeat(33));
        assert!(with("title", &long).contains("title (zh) must be 1-32 characters"));
        let fits = format!(r#"{{"en":"ok","zh":"{}"}}"#, "星".repeat(32));
        assert!(Catalog::parse(
            &product("").replace(r#""title":"T""#, &format!(r#""title":{fits}"#)),
            P
        )
        .is_ok());
    }

    #[test]
    fn several_products_may_grant_one_chat() {
        let json = r#"[
            {"id":"once","title":"T","description":"D","currency":"XTR","amount":5,"access":{"chat_id":-1001}},
            {"id":"monthly","title":"T","description":"D","currency":"XTR","amount":5,
             "subscription_period":2592000,"access":{"chat_id":-1001,"telegram_subscription":true}},
            {"id":"other","title":"T","description":"D","currency":"XTR","amount":5,"access":{"chat_id":-1002}}
        ]"#
        .replace("-1001", "-1001000000001")
        .replace("-1002", "-1001000000002");
        let c = Catalog::parse(&json, P).unwrap();
        let ids: Vec<&str> = c
            .granting(-1_001_000_000_001)
            .map(|p| p.id.as_str())
            .collect();
        assert_eq!(ids, ["once", "monthly"]);
        assert_eq!(c.access_chats(), [-1_001_000_000_002, -1_001_000_000_001]);
        assert!(
            c.get("monthly")
                .unwrap()
                .access
                .as_ref()
                .unwrap()
                .telegram_subscription
        );
    }

    #[test]
    fn titles_count_characters_not_bytes() {
        let json = format!(
            r#"[{{"id":"p","title":"{}","description":"D","currency":"XTR","amount":5}}]"#,
            "星".repeat(32)
        );
        assert!(Catalog::parse(&json, P).is_ok());
    }
}
