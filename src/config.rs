//! Settings, parsed once per isolate from the Worker's vars and secrets (any
//! setting may be either). Parsing is pure: it takes a lookup function.

use std::fmt;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use url::Url;

pub mod ton;

pub use ton::TonSettings;

use crate::error::ApiError;
use crate::i18n::Lang;
use crate::shop::catalog::Catalog;
use crate::shop::notice::Operators;
use crate::telegram::{BotKeys, BotToken, TelegramEnv};

/// Where orders and transactions live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StorageKind {
    #[default]
    D1,
    Kv,
}

#[derive(Debug, Clone)]
pub struct Settings {
    bot_token: Option<BotToken>,
    /// The HMAC keys `bot_token` stands for, derived with it.
    bot_keys: Option<BotKeys>,
    webhook_secret: Option<Secret>,
    admin_token: Option<Secret>,
    /// Where the Bot API is (`TELEGRAM_API_BASE`), an http(s) URL.
    pub api_base: Url,
    pub telegram_env: TelegramEnv,
    /// Seconds; 0 disables the age check.
    pub init_data_max_age: u64,
    pub payment_provider_token: Option<String>,
    pub storage: StorageKind,
    /// `CATALOG`, or the built-in catalog; a bad one is an error only for the
    /// routes that sell (see [`Settings::catalog`]).
    catalog: Result<Catalog, String>,
    /// Ed25519 key for third-party checks: Telegram's for `telegram_env`, unless
    /// `TELEGRAM_PUBLIC_KEY` overrides it (for a local emulator).
    pub public_key: [u8; 32],
    /// Where the page loads `telegram-web-app.js` from (`TELEGRAM_WEB_APP_JS`).
    pub web_app_js: String,
    /// Operator chats told of sales, refunds, failed deliveries, differences.
    pub admin_chat_ids: Vec<i64>,
    pub admin_language: Lang,
    /// The bot's @username (without @), for `t.me` links to products.
    pub bot_username: Option<String>,
    /// The Mini App's short name from @BotFather, for `t.me/<bot>/<app>` links.
    pub mini_app_name: Option<String>,
    /// Seconds after which an unpaid order expires (scheduled job).
    pub pending_order_ttl: u64,
    /// How many pending orders one user may have (`MAX_PENDING_ORDERS`).
    pub max_pending_orders: usize,
    /// Seconds a lapsed subscription keeps its chat access before the
    /// scheduled job removes the member (`ACCESS_GRACE`).
    pub access_grace: u64,
    /// How long a Bot API call may take (`BOT_API_TIMEOUT_MS`).
    pub bot_api_timeout_ms: u64,
    /// TON Connect and TON/USDT payments.
    pub ton: TonSettings,
}

/// A shared secret (`WEBHOOK_SECRET`, `ADMIN_TOKEN`) with its SHA-256, taken
/// once. A guess is hashed and the digests compared in constant time, so the
/// timing shows neither the secret's bytes nor its length.
#[derive(Clone)]
pub struct Secret {
    value: String,
    digest: [u8; 32],
}

impl Secret {
    pub fn new(value: String) -> Self {
        let digest = Sha256::digest(value.as_bytes()).into();
        Secret { value, digest }
    }

    pub fn matches(&self, given: &str) -> bool {
        Sha256::digest(given.as_bytes()).ct_eq(&self.digest).into()
    }

    /// The secret itself, for handing it to Telegram (`setWebhook`).
    pub fn expose(&self) -> &str {
        &self.value
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// How long a Bot API call may take, in milliseconds, unless `BOT_API_TIMEOUT_MS`
/// shortens it (tests of a slow Telegram do).
pub const BOT_API_TIMEOUT_MS: u64 = 8_000;

/// `BOT_API_TIMEOUT_MS`: 1 to [`BOT_API_TIMEOUT_MS`]; it can only shorten the wait.
fn bot_api_timeout_ms(value: Option<String>) -> Result<u64, ConfigError> {
    match value {
        None => Ok(BOT_API_TIMEOUT_MS),
        Some(v) => v
            .parse()
            .ok()
            .filter(|ms| (1..=BOT_API_TIMEOUT_MS).contains(ms))
            .ok_or_else(|| invalid("BOT_API_TIMEOUT_MS", "expected 1 to 8000 milliseconds")),
    }
}

/// Pending orders one user may have at once, unless `MAX_PENDING_ORDERS` says
/// otherwise: a new invoice past it is refused (see `http::api`).
pub const MAX_PENDING_ORDERS: usize = 10;

/// Telegram's own copy of the Mini App script.
pub const OFFICIAL_WEB_APP_JS: &str = "https://telegram.org/js/telegram-web-app.js";

/// A setting that is missing or malformed, named so the operator can fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub setting: &'static str,
    pub problem: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "setting {} {}", self.setting, self.problem)
    }
}

impl From<ConfigError> for ApiError {
    fn from(e: ConfigError) -> ApiError {
        // The message names the setting, never its value.
        ApiError::new(503, "not_configured", e.to_string())
    }
}

fn no_bot_token() -> ConfigError {
    ConfigError {
        setting: "BOT_TOKEN",
        problem: "is not set".into(),
    }
}

fn invalid(setting: &'static str, why: impl fmt::Display) -> ConfigError {
    ConfigError {
        setting,
        problem: format!("is malformed: {why}"),
    }
}

impl Settings {
    /// Parses every setting. Malformed values are errors; a missing `BOT_TOKEN`
    /// is only an error when a route needs it (see [`Settings::bot_token`]), so
    /// that `/healthz` and the page keep working on a half-configured deployment.
    pub fn parse(lookup: impl Fn(&str) -> Option<String>) -> Result<Settings, ConfigError> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let bot_token = get("BOT_TOKEN")
            .map(|v| BotToken::parse(&v).map_err(|e| invalid("BOT_TOKEN", e)))
            .transpose()?;
        let webhook_secret = get("WEBHOOK_SECRET")
            .map(|v| {
                let ok = v.len() <= 256
                    && v.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
                if ok {
                    Ok(Secret::new(v))
                } else {
                    Err(invalid(
                        "WEBHOOK_SECRET",
                        "use 1-256 characters of A-Z, a-z, 0-9, _ and -",
                    ))
                }
            })
            .transpose()?;
        let api_base =
            get("TELEGRAM_API_BASE").unwrap_or_else(|| "https://api.telegram.org".into());
        let api_base = Url::parse(&api_base)
            .ok()
            .filter(|url| matches!(url.scheme(), "https" | "http"))
            .ok_or_else(|| invalid("TELEGRAM_API_BASE", "expected an http(s) URL"))?;
        let telegram_env = match get("TELEGRAM_ENV") {
            Some(v) => TelegramEnv::parse(&v).map_err(|e| invalid("TELEGRAM_ENV", e))?,
            None => TelegramEnv::Production,
        };
        let init_data_max_age = match get("INIT_DATA_MAX_AGE") {
            Some(v) => v
                .parse()
                .map_err(|_| invalid("INIT_DATA_MAX_AGE", "expected a whole number of seconds"))?,
            None => 86_400,
        };
        let bot_api_timeout_ms = bot_api_timeout_ms(get("BOT_API_TIMEOUT_MS"))?;
        let storage = match get("STORAGE").as_deref() {
            None | Some("d1") => StorageKind::D1,
            Some("kv") => StorageKind::Kv,
            Some(_) => return Err(invalid("STORAGE", "expected `d1` or `kv`")),
        };
        let public_key = match get("TELEGRAM_PUBLIC_KEY") {
            Some(hex) => {
                let mut key = [0u8; 32];
                hex::decode_to_slice(hex, &mut key)
                    .map_err(|_| invalid("TELEGRAM_PUBLIC_KEY", "expected 64 hex digits"))?;
                key
            }
            None => telegram_env.public_key(),
        };
        let web_app_js = get("TELEGRAM_WEB_APP_JS").unwrap_or_else(|| OFFICIAL_WEB_APP_JS.into());
        if !(web_app_js.starts_with("https://")
            || web_app_js.starts_with("http://")
            || web_app_js.starts_with('/'))
        {
            return Err(invalid(
                "TELEGRAM_WEB_APP_JS",
                "expected an http(s) URL or a path",
            ));
        }
        let admin_chat_ids = match get("ADMIN_CHAT_IDS") {
            Some(v) => v
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| s.parse::<i64>())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|_| invalid("ADMIN_CHAT_IDS", "expected chat ids separated by commas"))?,
            None => Vec::new(),
        };
        let admin_language = match get("ADMIN_LANGUAGE") {
            Some(v) => Lang::parse(&v).ok_or_else(|| {
                invalid(
                    "ADMIN_LANGUAGE",
                    format!("expected one of {}", Lang::codes()),
                )
            })?,
            None => Lang::EN,
        };
        let name = |setting: &'static str| {
            get(setting)
                .map(|v| {
                    let v = v.trim_start_matches('@').to_owned();
                    let ok = (1..=64).contains(&v.len())
                        && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
                    if ok {
                        Ok(v)
                    } else {
                        Err(invalid(setting, "use letters, digits and _"))
                    }
                })
                .transpose()
        };
        let bot_username = name("BOT_USERNAME")?;
        let mini_app_name = name("MINI_APP_NAME")?;
        let pending_order_ttl = match get("PENDING_ORDER_TTL") {
            Some(v) => v
                .parse()
                .ok()
                .filter(|n| *n >= 60)
                .ok_or_else(|| invalid("PENDING_ORDER_TTL", "expected seconds, at least 60"))?,
            None => 86_400,
        };
        let max_pending_orders = match get("MAX_PENDING_ORDERS") {
            Some(v) => v.parse().ok().filter(|n| *n >= 1).ok_or_else(|| {
                invalid("MAX_PENDING_ORDERS", "expected a whole number, at least 1")
            })?,
            None => MAX_PENDING_ORDERS,
        };
        let access_grace = match get("ACCESS_GRACE") {
            Some(v) => v
                .parse()
                .map_err(|_| invalid("ACCESS_GRACE", "expected a whole number of seconds"))?,
            None => 86_400,
        };
        let ton = TonSettings::parse(get)?;
        Ok(Settings {
            bot_keys: bot_token.as_ref().map(BotKeys::derive),
            bot_token,
            webhook_secret,
            admin_token: get("ADMIN_TOKEN").map(Secret::new),
            api_base,
            telegram_env,
            init_data_max_age,
            payment_provider_token: get("PAYMENT_PROVIDER_TOKEN"),
            storage,
            catalog: Catalog::load(get("CATALOG").as_deref(), telegram_env),
            public_key,
            web_app_js,
            admin_chat_ids,
            admin_language,
            bot_username,
            mini_app_name,
            pending_order_ttl,
            max_pending_orders,
            access_grace,
            bot_api_timeout_ms,
            ton,
        })
    }

    pub fn bot_token(&self) -> Result<&BotToken, ConfigError> {
        self.bot_token.as_ref().ok_or_else(no_bot_token)
    }

    /// The keys for the launch-data and Login Widget checks.
    pub fn bot_keys(&self) -> Result<&BotKeys, ConfigError> {
        self.bot_keys.as_ref().ok_or_else(no_bot_token)
    }

    pub fn webhook_secret(&self) -> Result<&Secret, ConfigError> {
        self.webhook_secret.as_ref().ok_or(ConfigError {
            setting: "WEBHOOK_SECRET",
            problem: "is not set".into(),
        })
    }

    /// `None` when the operator set no admin token: admin routes are then closed.
    pub fn admin_token(&self) -> Option<&Secret> {
        self.admin_token.as_ref()
    }

    /// The operator chats and their language, for notices.
    pub fn operators(&self) -> Operators<'_> {
        Operators {
            chats: &self.admin_chat_ids,
            lang: self.admin_language,
        }
    }

    /// The catalog, or why `CATALOG` was refused.
    pub fn catalog(&self) -> Result<&Catalog, &str> {
        self.catalog.as_ref().map_err(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn parse(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::parse(|k| map.get(k).cloned())
    }

    #[test]
    fn secrets_match_only_themselves() {
        let s = Secret::new("abc".into());
        assert!(s.matches("abc"));
        for wrong in ["abd", "abcd", "ab", ""] {
            assert!(!s.matches(wrong), "{wrong}");
        }
        assert_eq!(s.expose(), "abc");
        // Settings may be logged whole; the secret must not be in them.
        assert_eq!(format!("{s:?}"), "Secret(..)");
    }

    #[test]
    fn defaults() {
        let s = parse(&[]).unwrap();
        assert_eq!(s.api_base.as_str(), "https://api.telegram.org/");
        assert_eq!(s.telegram_env, TelegramEnv::Production);
        assert_eq!(s.init_data_max_age, 86_400);
        assert_eq!(s.storage, StorageKind::D1);
        assert_eq!(s.access_grace, 86_400);
        assert_eq!(s.bot_api_timeout_ms, BOT_API_TIMEOUT_MS);
        assert_eq!(s.ton.network, crate::ton::Network::Mainnet);
        assert_eq!(s.ton.proof_max_age, 900);
        assert!(s.ton.proof_domains.is_empty() && s.ton.wallet.is_none());
        assert_eq!(s.ton.toncenter.as_str(), "https://toncenter.com/");
        assert_eq!(s.ton.usdt_master, ton::USDT_MASTER_MAINNET);
        assert_eq!(s.max_pending_orders, MAX_PENDING_ORDERS);
        assert_eq!(s.bot_token().unwrap_err().setting, "BOT_TOKEN");
        assert_eq!(s.bot_keys().unwrap_err().setting, "BOT_TOKEN");
        assert!(s.admin_token().is_none());
    }

    #[test]
    fn reads_every_setting() {
        let s = parse(&[
            ("BOT_TOKEN", "123:abc"),
            ("WEBHOOK_SECRET", "s3cret_-X"),
            ("ADMIN_TOKEN", "admin"),
            ("TELEGRAM_API_BASE", "http://127.0.0.1:8081/"),
            ("TELEGRAM_ENV", "test"),
            ("INIT_DATA_MAX_AGE", "0"),
            ("STORAGE", "kv"),
            ("ADMIN_CHAT_IDS", "42, -100123"),
            ("ADMIN_LANGUAGE", "zh"),
            ("BOT_USERNAME", "@ShopBot"),
            ("MINI_APP_NAME", "shop"),
            ("PENDING_ORDER_TTL", "3600"),
            ("MAX_PENDING_ORDERS", "3"),
            ("ACCESS_GRACE", "0"),
            ("TON_NETWORK", "testnet"),
            (
                "TON_WALLET",
                "0:83dfd552e63729b472fcbcc8c45ebcc6691702558b68ec7527e1ba403a0f31a8",
            ),
            ("TON_PROOF_MAX_AGE", "0"),
            ("TON_PROOF_DOMAINS", "Shop.example, 127.0.0.1:8787"),
            ("TONCENTER_API_KEY", "tc_key"),
            ("BOT_API_TIMEOUT_MS", " 250 "),
        ])
        .unwrap();
        assert_eq!(s.max_pending_orders, 3);
        assert_eq!(s.bot_api_timeout_ms, 250);
        assert_eq!(s.admin_chat_ids, [42, -100123]);
        assert_eq!(s.admin_language, Lang::ZH);
        assert_eq!(s.bot_username.as_deref(), Some("ShopBot"));
        assert_eq!(s.mini_app_name.as_deref(), Some("shop"));
        assert_eq!(s.pending_order_ttl, 3600);
        assert_eq!(s.access_grace, 0);
        assert_eq!(s.ton.network.as_str(), "-3");
        assert_eq!(s.ton.proof_max_age, 0);
        assert!(s
            .ton
            .wallet
            .as_deref()
            .is_some_and(|w| w.starts_with("0:83df")));
        assert_eq!(s.ton.proof_domains, ["shop.example", "127.0.0.1:8787"]);
        assert_eq!(format!("{:?}", s.ton.toncenter_key), "Some(Secret(..))");
        assert_eq!(s.bot_token().unwrap().bot_id(), 123);
        assert_eq!(
            s.bot_keys().unwrap(),
            &BotKeys::derive(&BotToken::parse("123:abc").unwrap())
        );
        // Settings may be logged whole: neither the token nor its keys show.
        let printed = format!("{s:?}");
        assert!(!printed.contains("123:abc") && printed.contains("BotKeys(..)"));
        assert_eq!(s.webhook_secret().unwrap().expose(), "s3cret_-X");
        assert_eq!(s.api_base.as_str(), "http://127.0.0.1:8081/");
        assert_eq!(s.telegram_env, TelegramEnv::Test);
        assert_eq!(s.init_data_max_age, 0);
        assert_eq!(s.storage, StorageKind::Kv);
        assert_eq!(s.public_key, TelegramEnv::Test.public_key());
        let k = parse(&[("TELEGRAM_PUBLIC_KEY", &"ab".repeat(32))]).unwrap();
        assert_eq!(k.public_key, [0xab; 32]);
    }

    #[test]
    fn malformed_settings_are_named_without_their_value() {
        for (name, value) in [
            ("BOT_TOKEN", "not-a-token"),
            ("WEBHOOK_SECRET", "has space"),
            ("TELEGRAM_API_BASE", "ftp://x"),
            ("TELEGRAM_API_BASE", "api.telegram.org"),
            // Hosts are ASCII only (see `idna_adapter` in Cargo.toml).
            (
                "TELEGRAM_API_BASE",
                "https://\u{442}\u{435}\u{441}\u{442}.example",
            ),
            ("TELEGRAM_ENV", "staging"),
            ("INIT_DATA_MAX_AGE", "-5"),
            ("STORAGE", "postgres"),
            ("TELEGRAM_PUBLIC_KEY", "abcd"),
            ("TELEGRAM_WEB_APP_JS", "javascript:alert(1)"),
            ("ADMIN_CHAT_IDS", "42;43"),
            ("ADMIN_LANGUAGE", "klingon"),
            ("BOT_USERNAME", "bad/name"),
            ("PENDING_ORDER_TTL", "5"),
            ("MAX_PENDING_ORDERS", "0"),
            ("MAX_PENDING_ORDERS", "many"),
            ("ACCESS_GRACE", "a day"),
            ("TON_NETWORK", "devnet"),
            ("TON_WALLET", "EQ-not-an-address"),
            ("TON_PROOF_MAX_AGE", "soon"),
            ("TONCENTER_API_BASE", "ftp://toncenter.com"),
            ("TON_CONNECT_WALLET_JS", "javascript:alert(1)"),
            ("BOT_API_TIMEOUT_MS", "9000"),
        ] {
            let e = parse(&[(name, value)]).unwrap_err();
            assert_eq!(e.setting, name);
            let api: ApiError = e.into();
            assert!(api.message.contains(name));
            assert!(!api.message.contains(value), "{} leaks its value", name);
        }
    }
}
