//! Emulator settings, parsed once from command-line flags with environment fallbacks.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::chats::spec::ChatSpec;
use crate::ton::{self, TonConfig};

/// Everything the emulator needs to run; `serve` takes it by value.
#[derive(Clone, Debug)]
pub struct Config {
    /// The one bot the emulator knows, `<bot_id>:<secret>`.
    pub bot_token: String,
    /// The Mini App URL used for launches until the bot sets a `web_app` menu button.
    pub app_url: String,
    /// Webhook registered at start (and again after `/control/reset`).
    pub webhook_url: Option<String>,
    pub webhook_secret: Option<String>,
    /// File served at `GET /telegram-web-app.js`.
    pub web_app_js: Option<PathBuf>,
    /// Ed25519 seed; when set, launch data carries a `signature` this key made.
    pub signing_seed: Option<[u8; 32]>,
    pub retry_base: Duration,
    pub retry_cap: Duration,
    pub precheckout_timeout: Duration,
    /// How long one webhook POST may take before it counts as failed.
    pub webhook_timeout: Duration,
    /// How long a join request query waits for `sendChatJoinRequestWebApp` or
    /// `answerChatJoinRequestQuery`.
    pub join_query_timeout: Duration,
    /// Channels and supergroups that exist from the start (and again after a reset).
    pub chats: Vec<ChatSpec>,
    /// The TON chain, toncenter's API and the users' TON Connect wallets.
    pub ton: TonConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            bot_token: "123456:TEST".into(),
            app_url: "http://127.0.0.1:8787/".into(),
            webhook_url: None,
            webhook_secret: None,
            web_app_js: None,
            signing_seed: None,
            retry_base: Duration::from_millis(200),
            retry_cap: Duration::from_millis(5000),
            precheckout_timeout: Duration::from_millis(10_000),
            webhook_timeout: Duration::from_secs(60),
            join_query_timeout: Duration::from_millis(10_000),
            chats: Vec::new(),
            ton: TonConfig::default(),
        }
    }
}

impl Config {
    /// The digits before the colon; the Ed25519 message and `getMe` need them.
    pub fn bot_id(&self) -> i64 {
        bot_id_of(&self.bot_token)
    }
}

fn bot_id_of(token: &str) -> i64 {
    token
        .split(':')
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8081";

/// (flag, environment variable, help) for every option, so usage text and parsing agree.
pub const OPTIONS: &[(&str, &str, &str)] = &[
    (
        "--listen",
        "TMA_EMULATOR_LISTEN",
        "address to listen on [127.0.0.1:8081]",
    ),
    (
        "--bot-token",
        "TMA_EMULATOR_BOT_TOKEN",
        "the bot's token [123456:TEST]",
    ),
    (
        "--app-url",
        "TMA_EMULATOR_APP_URL",
        "Mini App URL [http://127.0.0.1:8787/]",
    ),
    (
        "--webhook-url",
        "TMA_EMULATOR_WEBHOOK_URL",
        "webhook registered at start",
    ),
    (
        "--webhook-secret",
        "TMA_EMULATOR_WEBHOOK_SECRET",
        "its secret_token",
    ),
    (
        "--web-app-js",
        "TMA_EMULATOR_WEB_APP_JS",
        "file served at /telegram-web-app.js",
    ),
    (
        "--signing-seed",
        "TMA_EMULATOR_SIGNING_SEED",
        "Ed25519 seed, 64 hex digits",
    ),
    (
        "--retry-base-ms",
        "TMA_EMULATOR_RETRY_BASE_MS",
        "first redelivery delay [200]",
    ),
    (
        "--retry-cap-ms",
        "TMA_EMULATOR_RETRY_CAP_MS",
        "longest redelivery delay [5000]",
    ),
    (
        "--precheckout-timeout-ms",
        "TMA_EMULATOR_PRECHECKOUT_TIMEOUT_MS",
        "answer deadline [10000]",
    ),
    (
        "--join-query-timeout-ms",
        "TMA_EMULATOR_JOIN_QUERY_TIMEOUT_MS",
        "join request query deadline [10000]",
    ),
    (
        "--chat",
        "TMA_EMULATOR_CHATS",
        "<id>:<title>[:<options>], repeatable (env: ;-separated)",
    ),
    (
        "--toncenter-api-key",
        "TMA_EMULATOR_TONCENTER_API_KEY",
        "key toncenter calls must carry [none: any call]",
    ),
    (
        "--ton-finality-ms",
        "TMA_EMULATOR_TON_FINALITY_MS",
        "time until a transaction is final [1000]",
    ),
    (
        "--ton-network",
        "TMA_EMULATOR_TON_NETWORK",
        "mainnet or testnet [mainnet]",
    ),
    (
        "--usdt-master",
        "TMA_EMULATOR_USDT_MASTER",
        "USDT's jetton master [mainnet USDT]",
    ),
    (
        "--ton-wallet",
        "TMA_EMULATOR_TON_WALLET",
        "users' wallet contract, v4r2 or v5r1 [v4r2]",
    ),
    (
        "--ton-wallet-seed",
        "TMA_EMULATOR_TON_WALLET_SEED",
        "64 hex digits the users' wallet keys derive from",
    ),
    (
        "--ton-start-balance",
        "TMA_EMULATOR_TON_START_BALANCE",
        "TON in a user's new wallet [10]",
    ),
    (
        "--usdt-start-balance",
        "TMA_EMULATOR_USDT_START_BALANCE",
        "USDT in a user's new wallet [100]",
    ),
];

pub fn usage() -> String {
    let mut s =
        String::from("usage: tma-emulator [options]  (each option also from its env var)\n");
    for (flag, env, help) in OPTIONS {
        s.push_str(&format!("  {flag:<26} {env:<38} {help}\n"));
    }
    s
}

/// Parses flags (`--name value` or `--name=value`); a flag wins over its env var. `--chat`
/// may be given several times (its env var holds several, separated by `;`).
pub fn parse_args(
    args: &[String],
    env: impl Fn(&str) -> Option<String>,
) -> Result<(SocketAddr, Config), String> {
    let mut given: Vec<(&str, String)> = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        if arg == "-h" || arg == "--help" {
            return Err(usage());
        }
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (arg.as_str(), None),
        };
        let Some((flag, _, _)) = OPTIONS.iter().find(|(f, _, _)| *f == name) else {
            return Err(format!("unknown option {arg}\n{}", usage()));
        };
        let value = match inline {
            Some(v) => v,
            None => {
                i += 1;
                args.get(i)
                    .cloned()
                    .ok_or(format!("{flag} needs a value"))?
            }
        };
        given.push((flag, value));
        i += 1;
    }
    let get = |flag: &str| -> Option<String> {
        given
            .iter()
            .rev()
            .find(|(f, _)| *f == flag)
            .map(|(_, v)| v.clone())
            .or_else(|| {
                let (_, var, _) = OPTIONS.iter().find(|(f, _, _)| *f == flag)?;
                env(var).filter(|v| !v.is_empty())
            })
    };
    let ms = |flag: &str, default: Duration| -> Result<Duration, String> {
        match get(flag) {
            None => Ok(default),
            Some(v) => v
                .parse::<u64>()
                .map(Duration::from_millis)
                .map_err(|_| format!("{flag}: not a number of milliseconds: {v}")),
        }
    };
    let defaults = Config::default();
    let listen_text = get("--listen").unwrap_or_else(|| DEFAULT_LISTEN.into());
    let listen: SocketAddr = listen_text
        .parse()
        .map_err(|_| format!("--listen: not an address: {listen_text}"))?;
    let bot_token = get("--bot-token").unwrap_or(defaults.bot_token);
    if !bot_token
        .split_once(':')
        .is_some_and(|(id, _)| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(format!(
            "--bot-token must look like <digits>:<secret>, got {bot_token}"
        ));
    }
    let signing_seed = get("--signing-seed")
        .map(|h| seed("--signing-seed", &h))
        .transpose()?;
    let bot_id = bot_id_of(&bot_token);
    let mut chat_texts: Vec<String> = given
        .iter()
        .filter(|(f, _)| *f == "--chat")
        .map(|(_, v)| v.clone())
        .collect();
    if chat_texts.is_empty() {
        chat_texts = env("TMA_EMULATOR_CHATS")
            .map(|v| v.split(';').map(str::to_string).collect())
            .unwrap_or_default();
    }
    let mut chats: Vec<ChatSpec> = Vec::new();
    for text in chat_texts.iter().filter(|t| !t.trim().is_empty()) {
        let spec = ChatSpec::parse_flag(text)?;
        spec.validate(bot_id)
            .map_err(|e| format!("--chat {text}: {e}"))?;
        if chats.iter().any(|c| c.id == spec.id) {
            return Err(format!("--chat {text}: chat {} is given twice", spec.id));
        }
        chats.push(spec);
    }
    let config = Config {
        bot_token,
        app_url: get("--app-url").unwrap_or(defaults.app_url),
        webhook_url: get("--webhook-url"),
        webhook_secret: get("--webhook-secret"),
        web_app_js: get("--web-app-js").map(PathBuf::from),
        signing_seed,
        retry_base: ms("--retry-base-ms", defaults.retry_base)?,
        retry_cap: ms("--retry-cap-ms", defaults.retry_cap)?,
        precheckout_timeout: ms("--precheckout-timeout-ms", defaults.precheckout_timeout)?,
        webhook_timeout: defaults.webhook_timeout,
        join_query_timeout: ms("--join-query-timeout-ms", defaults.join_query_timeout)?,
        chats,
        ton: ton_config(&get, defaults.ton)?,
    };
    Ok((listen, config))
}

/// 32 bytes given as 64 hex digits.
fn seed(flag: &str, h: &str) -> Result<[u8; 32], String> {
    let bytes = hex::decode(h.trim()).map_err(|_| format!("{flag}: not hex"))?;
    <[u8; 32]>::try_from(bytes.as_slice())
        .map_err(|_| format!("{flag}: need exactly 32 bytes (64 hex digits)"))
}

/// The `--ton-…`, `--usdt-…` and `--toncenter-…` options over their defaults.
fn ton_config(
    get: &impl Fn(&str) -> Option<String>,
    mut c: TonConfig,
) -> Result<TonConfig, String> {
    let at = |flag: &'static str| move |e: String| format!("{flag}: {e}");
    if let Some(v) = get("--toncenter-api-key") {
        c.api_key = Some(v);
    }
    if let Some(v) = get("--ton-finality-ms") {
        let ms = v
            .parse()
            .map_err(|_| format!("--ton-finality-ms: not milliseconds: {v}"))?;
        c.finality = Duration::from_millis(ms);
    }
    if let Some(v) = get("--ton-network") {
        c.network = ton::Network::parse(&v).map_err(at("--ton-network"))?;
    }
    if let Some(v) = get("--usdt-master") {
        c.usdt_master =
            ton::cells::address(&v).ok_or(format!("--usdt-master: not a TON address: {v}"))?;
    }
    if let Some(v) = get("--ton-wallet") {
        c.wallet = ton::WalletKind::parse(&v).map_err(at("--ton-wallet"))?;
    }
    if let Some(v) = get("--ton-wallet-seed") {
        c.wallet_seed = seed("--ton-wallet-seed", &v)?;
    }
    if let Some(v) = get("--ton-start-balance") {
        c.start_nanotons = ton::parse_decimal(&v, 9).map_err(at("--ton-start-balance"))?;
    }
    if let Some(v) = get("--usdt-start-balance") {
        c.start_usdt = ton::parse_decimal(&v, 6).map_err(at("--usdt-start-balance"))?;
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn flags_override_env_and_defaults_apply() {
        let env = |k: &str| match k {
            "TMA_EMULATOR_BOT_TOKEN" => Some("42:ENV".to_string()),
            "TMA_EMULATOR_RETRY_BASE_MS" => Some("50".to_string()),
            _ => None,
        };
        let (listen, c) =
            parse_args(&args(&["--bot-token", "7:FLAG", "--retry-cap-ms=900"]), env).unwrap();
        assert_eq!(listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(c.bot_token, "7:FLAG");
        assert_eq!(c.bot_id(), 7);
        assert_eq!(c.retry_base, Duration::from_millis(50));
        assert_eq!(c.retry_cap, Duration::from_millis(900));
        assert_eq!(c.precheckout_timeout, Duration::from_secs(10));
    }

    #[test]
    fn bad_values_are_refused() {
        let none = |_: &str| None;
        assert!(parse_args(&args(&["--bot-token", "nocolon"]), none).is_err());
        assert!(parse_args(&args(&["--signing-seed", "abcd"]), none).is_err());
        assert!(parse_args(&args(&["--listen", "nowhere"]), none).is_err());
        assert!(parse_args(&args(&["--bogus", "1"]), none).is_err());
        assert!(parse_args(&args(&["--retry-base-ms"]), none).is_err());
        let seed = "11".repeat(32);
        let (_, c) = parse_args(&args(&["--signing-seed", &seed]), none).unwrap();
        assert_eq!(c.signing_seed, Some([0x11; 32]));
    }

    #[test]
    fn chats_are_repeatable_and_checked() {
        let none = |_: &str| None;
        let (_, c) = parse_args(
            &args(&[
                "--chat=-1001234567890:Insiders",
                "--chat",
                "-1009:Club:supergroup,guard",
            ]),
            none,
        )
        .unwrap();
        assert_eq!(c.chats.len(), 2);
        assert_eq!(
            (c.chats[0].id, c.chats[0].title.as_str()),
            (-1001234567890, "Insiders")
        );
        assert!(c.chats[1].guard_bot);
        let env = |k: &str| (k == "TMA_EMULATOR_CHATS").then(|| "-1001:A;-1002:B".to_string());
        assert_eq!(parse_args(&[], env).unwrap().1.chats.len(), 2);
        assert!(parse_args(&args(&["--chat", "-42:Small group"]), none)
            .unwrap_err()
            .contains("-100"));
        assert!(
            parse_args(&args(&["--chat=-1001:A", "--chat=-1001:B"]), none)
                .unwrap_err()
                .contains("twice")
        );
        let (_, c) = parse_args(&args(&["--join-query-timeout-ms", "250"]), none).unwrap();
        assert_eq!(c.join_query_timeout, Duration::from_millis(250));
    }

    #[test]
    fn ton_options_have_working_defaults_and_are_checked() {
        let none = |_: &str| None;
        let (_, c) = parse_args(&[], none).unwrap();
        assert_eq!(c.ton.network, ton::Network::Mainnet);
        assert_eq!(c.ton.wallet, ton::WalletKind::V4R2);
        assert_eq!(
            ton::cells::friendly(&c.ton.usdt_master, true, false),
            ton::MAINNET_USDT
        );
        assert!(c.ton.api_key.is_none());
        let env = |k: &str| (k == "TMA_EMULATOR_TON_NETWORK").then(|| "testnet".to_string());
        let (_, c) = parse_args(
            &args(&[
                "--ton-wallet=v5r1",
                "--toncenter-api-key",
                "k1",
                "--ton-finality-ms",
                "0",
                "--ton-start-balance",
                "2.5",
                "--usdt-start-balance=0",
            ]),
            env,
        )
        .unwrap();
        assert_eq!(c.ton.network, ton::Network::Testnet);
        assert_eq!(c.ton.wallet, ton::WalletKind::V5R1);
        assert_eq!(c.ton.api_key.as_deref(), Some("k1"));
        assert_eq!(c.ton.finality, Duration::ZERO);
        assert_eq!(c.ton.start_nanotons, 2_500_000_000);
        assert_eq!(c.ton.start_usdt, 0);
        for bad in [
            ["--ton-network", "moon"],
            ["--ton-wallet", "v9"],
            ["--usdt-master", "nope"],
            ["--ton-wallet-seed", "abcd"],
            ["--ton-start-balance", "1.0000000001"],
        ] {
            assert!(parse_args(&args(&bad), none).is_err(), "{bad:?}");
        }
    }
}
