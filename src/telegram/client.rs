//! A small Bot API client: builds each call's URL and JSON body, sends it through
//! a [`Transport`] (the Worker's fetch, or a fake in tests) and parses Telegram's
//! `{"ok":…}` envelope, keeping `error_code`, `description` and `retry_after`.

use std::fmt;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::json;
use serde_json::value::RawValue;
use url::Url;

use super::types::{BotCommand, InvoiceLinkParams, StarAmount, StarTransactions};
use super::{BotToken, TelegramEnv};

/// Why a request never got an HTTP answer. No free text: transport errors can
/// echo the URL, which holds the bot token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportError {
    Timeout,
    Network,
}

/// Outbound HTTP: the Bot API's JSON POSTs, and GETs (toncenter). Each
/// answers the status and the body.
#[allow(async_fn_in_trait)]
pub trait Transport {
    async fn post_json(&self, url: &str, body: Vec<u8>) -> Result<(u16, Vec<u8>), TransportError>;
    /// A GET with these request headers (an API key, say).
    async fn get(
        &self,
        url: &str,
        headers: &[(&str, &str)],
    ) -> Result<(u16, Vec<u8>), TransportError>;
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BotError {
    /// Telegram answered `ok: false`.
    Api {
        error_code: i64,
        description: String,
        retry_after: Option<u64>,
    },
    Transport(TransportError),
    /// The answer was not the Bot API envelope (a proxy error page, say).
    BadResponse(u16),
}

impl BotError {
    pub fn description(&self) -> Option<&str> {
        match self {
            BotError::Api { description, .. } => Some(description),
            _ => None,
        }
    }
}

impl fmt::Display for BotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BotError::Api {
                error_code,
                description,
                retry_after,
            } => {
                write!(f, "Telegram answered {error_code}: {description}")?;
                if let Some(s) = retry_after {
                    write!(f, " (retry after {s} s)")?;
                }
                Ok(())
            }
            BotError::Transport(TransportError::Timeout) => {
                f.write_str("Telegram did not answer in time")
            }
            BotError::Transport(TransportError::Network) => {
                f.write_str("Telegram could not be reached")
            }
            BotError::BadResponse(status) => {
                write!(f, "Telegram gave an unreadable answer (HTTP {status})")
            }
        }
    }
}

/// The answer's envelope. The result stays unread until the caller names its
/// type, so one envelope parser serves every method.
#[derive(Deserialize)]
struct Envelope {
    ok: bool,
    result: Option<Box<RawValue>>,
    error_code: Option<i64>,
    description: Option<String>,
    parameters: Option<ResponseParameters>,
}

#[derive(Deserialize)]
struct ResponseParameters {
    retry_after: Option<u64>,
}

/// Parses a Bot API answer into the method's result.
pub fn parse_response<T: DeserializeOwned>(status: u16, body: &[u8]) -> Result<T, BotError> {
    read_result(status, &parse_envelope(status, body)?)
}

fn read_result<T: DeserializeOwned>(status: u16, raw: &RawValue) -> Result<T, BotError> {
    serde_json::from_str(raw.get()).map_err(|_| BotError::BadResponse(status))
}

fn parse_envelope(status: u16, body: &[u8]) -> Result<Box<RawValue>, BotError> {
    let env: Envelope = crate::json::from_bytes(body).map_err(|_| BotError::BadResponse(status))?;
    match (env.ok, env.result) {
        (true, Some(result)) => Ok(result),
        (true, None) => Err(BotError::BadResponse(status)),
        (false, _) => Err(BotError::Api {
            error_code: env.error_code.unwrap_or(status as i64),
            description: env.description.unwrap_or_default(),
            retry_after: env.parameters.and_then(|p| p.retry_after),
        }),
    }
}

/// The Bot API for one bot.
pub struct BotApi<'a, T> {
    transport: &'a T,
    /// An http(s) URL (the settings refuse any other).
    base: &'a Url,
    token: &'a BotToken,
    env: TelegramEnv,
}

impl<'a, T: Transport> BotApi<'a, T> {
    pub fn new(transport: &'a T, base: &'a Url, token: &'a BotToken, env: TelegramEnv) -> Self {
        BotApi {
            transport,
            base,
            token,
            env,
        }
    }

    /// `<base>/bot<token>[/test]/<method>`.
    pub fn url(&self, method: &str) -> String {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty()
                .push(&format!("bot{}", self.token.expose()));
            if self.env == TelegramEnv::Test {
                path.push("test");
            }
            path.push(method);
        }
        url.into()
    }

    pub async fn call<R: DeserializeOwned>(
        &self,
        method: &str,
        params: &impl Serialize,
    ) -> Result<R, BotError> {
        let body = serde_json::to_vec(params).expect("serializable parameters");
        let (status, raw) = self.call_raw(method, body).await?;
        read_result(status, &raw)
    }

    /// The call itself, the same code for every result type.
    async fn call_raw(
        &self,
        method: &str,
        body: Vec<u8>,
    ) -> Result<(u16, Box<RawValue>), BotError> {
        let (status, body) = self
            .transport
            .post_json(&self.url(method), body)
            .await
            .map_err(BotError::Transport)?;
        let raw = parse_envelope(status, &body).map_err(|e| match e {
            // Whatever answered may quote the URL, and the URL holds the token.
            BotError::Api {
                error_code,
                description,
                retry_after,
            } => BotError::Api {
                error_code,
                description: self.token.redact(&description),
                retry_after,
            },
            e => e,
        })?;
        Ok((status, raw))
    }

    pub async fn create_invoice_link(
        &self,
        params: &InvoiceLinkParams,
    ) -> Result<String, BotError> {
        self.call("createInvoiceLink", params).await
    }

    /// Refunds a Stars payment. `CHARGE_ALREADY_REFUNDED` counts as done.
    pub async fn refund_star_payment(&self, user_id: i64, charge_id: &str) -> Result<(), BotError> {
        let params = json!({ "user_id": user_id, "telegram_payment_charge_id": charge_id });
        match self.call::<bool>("refundStarPayment", &params).await {
            Ok(_) => Ok(()),
            Err(e)
                if e.description()
                    .is_some_and(|d| d.contains("CHARGE_ALREADY_REFUNDED")) =>
            {
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    pub async fn get_star_transactions(
        &self,
        offset: u32,
        limit: u32,
    ) -> Result<StarTransactions, BotError> {
        self.call(
            "getStarTransactions",
            &json!({ "offset": offset, "limit": limit }),
        )
        .await
    }

    /// `getMyStarBalance`: the bot's Stars.
    pub async fn get_my_star_balance(&self) -> Result<StarAmount, BotError> {
        self.call("getMyStarBalance", &json!({})).await
    }

    pub async fn set_webhook(
        &self,
        url: &str,
        secret_token: &str,
        allowed_updates: &[&str],
    ) -> Result<bool, BotError> {
        let params =
            json!({ "url": url, "secret_token": secret_token, "allowed_updates": allowed_updates });
        self.call("setWebhook", &params).await
    }

    /// The command list for users whose language is `language_code` (two
    /// letters), or for everyone else with `None`.
    pub async fn set_my_commands(
        &self,
        commands: &[BotCommand],
        language_code: Option<&str>,
    ) -> Result<bool, BotError> {
        let mut params = json!({ "commands": commands });
        if let Some(code) = language_code {
            params["language_code"] = json!(code);
        }
        self.call("setMyCommands", &params).await
    }

    pub async fn set_menu_web_app(&self, text: &str, url: &str) -> Result<bool, BotError> {
        let button = json!({ "type": "web_app", "text": text, "web_app": { "url": url } });
        self.call("setChatMenuButton", &json!({ "menu_button": button }))
            .await
    }
}

#[cfg(test)]
pub mod fake {
    //! A recording transport that answers from a script, for native tests.
    use super::*;
    use serde_json::Value;
    use std::cell::RefCell;
    use std::collections::VecDeque;

    type Answer = Result<(u16, Vec<u8>), TransportError>;

    #[derive(Default)]
    pub struct FakeTransport {
        pub calls: RefCell<Vec<(String, Value)>>,
        pub answers: RefCell<VecDeque<Answer>>,
        /// Answers for one method, before the general script: a method whose
        /// answer a test sets this way is answered so however calls interleave.
        pub by_method: RefCell<std::collections::HashMap<String, VecDeque<Answer>>>,
    }

    impl FakeTransport {
        /// The next call of `method` gets this answer.
        pub fn on(&self, method: &str, status: u16, body: Value) {
            self.by_method
                .borrow_mut()
                .entry(method.to_owned())
                .or_default()
                .push_back(Ok((status, body.to_string().into_bytes())));
        }
        /// The parameters of every call of `method`, in order.
        pub fn called(&self, method: &str) -> Vec<Value> {
            self.calls
                .borrow()
                .iter()
                .filter(|(u, _)| {
                    u.split('?').next().and_then(|p| p.rsplit('/').next()) == Some(method)
                })
                .map(|(_, v)| v.clone())
                .collect()
        }
        pub fn answer(&self, status: u16, body: Value) {
            self.answers
                .borrow_mut()
                .push_back(Ok((status, body.to_string().into_bytes())));
        }
        pub fn fail(&self, e: TransportError) {
            self.answers.borrow_mut().push_back(Err(e));
        }
        /// The method names called, in order.
        pub fn methods(&self) -> Vec<String> {
            self.calls
                .borrow()
                .iter()
                .map(|(u, _)| u.rsplit('/').next().unwrap().to_owned())
                .collect()
        }
    }

    impl Transport for FakeTransport {
        /// A GET is recorded as a call with its URL and `null` parameters, and
        /// answered like a call of the method named by its path's last segment.
        async fn get(
            &self,
            url: &str,
            _headers: &[(&str, &str)],
        ) -> Result<(u16, Vec<u8>), TransportError> {
            self.calls.borrow_mut().push((url.to_owned(), Value::Null));
            let path = url.split('?').next().unwrap_or_default();
            let method = path.rsplit('/').next().unwrap_or_default();
            let scripted = self
                .by_method
                .borrow_mut()
                .get_mut(method)
                .and_then(VecDeque::pop_front);
            scripted.unwrap_or(Err(TransportError::Network))
        }

        async fn post_json(
            &self,
            url: &str,
            body: Vec<u8>,
        ) -> Result<(u16, Vec<u8>), TransportError> {
            self.calls
                .borrow_mut()
                .push((url.to_owned(), crate::json::from_bytes(&body).unwrap()));
            let method = url.rsplit('/').next().unwrap_or_default();
            let scripted = self
                .by_method
                .borrow_mut()
                .get_mut(method)
                .and_then(VecDeque::pop_front);
            if let Some(answer) = scripted {
                return answer;
            }
            self.answers
                .borrow_mut()
                .pop_front()
                .unwrap_or_else(|| Ok((200, br#"{"ok":true,"result":true}"#.to_vec())))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fake::FakeTransport;
    use super::*;
    use pollster::block_on;

    fn token() -> BotToken {
        BotToken::parse("42:TEST").unwrap()
    }

    #[test]
    fn builds_production_and_test_urls() {
        let t = FakeTransport::default();
        let tok = token();
        let url =
            |base: &str, env| BotApi::new(&t, &Url::parse(base).unwrap(), &tok, env).url("getMe");
        assert_eq!(
            url("https://api.telegram.org", TelegramEnv::Production),
            "https://api.telegram.org/bot42:TEST/getMe"
        );
        assert_eq!(
            url("http://127.0.0.1:8081/", TelegramEnv::Test),
            "http://127.0.0.1:8081/bot42:TEST/test/getMe"
        );
        // A base with a path keeps it, with or without its last `/`.
        for base in ["http://proxy.example/tg", "http://proxy.example/tg/"] {
            assert_eq!(
                url(base, TelegramEnv::Production),
                "http://proxy.example/tg/bot42:TEST/getMe"
            );
        }
    }

    #[test]
    fn parses_results_errors_and_retry_after() {
        assert_eq!(
            parse_response::<String>(200, br#"{"ok":true,"result":"https://t.me/$x"}"#).unwrap(),
            "https://t.me/$x"
        );
        let e = parse_response::<bool>(
            429,
            br#"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 3","parameters":{"retry_after":3}}"#,
        )
        .unwrap_err();
        assert_eq!(
            e,
            BotError::Api {
                error_code: 429,
                description: "Too Many Requests: retry after 3".into(),
                retry_after: Some(3)
            }
        );
        assert_eq!(
            parse_response::<bool>(502, b"<html>bad gateway</html>").unwrap_err(),
            BotError::BadResponse(502)
        );
        assert_eq!(
            parse_response::<bool>(200, br#"{"ok":true}"#).unwrap_err(),
            BotError::BadResponse(200)
        );
    }

    #[test]
    fn already_refunded_counts_as_refunded() {
        let t = FakeTransport::default();
        let tok = token();
        let base = Url::parse("http://x").unwrap();
        let api = BotApi::new(&t, &base, &tok, TelegramEnv::Production);
        t.answer(400, json!({"ok":false,"error_code":400,"description":"Bad Request: CHARGE_ALREADY_REFUNDED"}));
        assert_eq!(block_on(api.refund_star_payment(7, "stx")), Ok(()));
        t.answer(
            400,
            json!({"ok":false,"error_code":400,"description":"Bad Request: CHARGE_NOT_FOUND"}),
        );
        assert!(block_on(api.refund_star_payment(7, "stx")).is_err());
        assert_eq!(
            t.calls.borrow()[0].1,
            json!({"user_id":7,"telegram_payment_charge_id":"stx"})
        );
    }

    #[test]
    fn errors_never_show_the_token() {
        let t = FakeTransport::default();
        let tok = token();
        let base = Url::parse("http://x").unwrap();
        let api = BotApi::new(&t, &base, &tok, TelegramEnv::Production);
        t.fail(TransportError::Network);
        let e = block_on(api.set_my_commands(&[], None)).unwrap_err();
        assert!(!e.to_string().contains("TEST"));
        assert!(!format!("{e:?}").contains("TEST"));
        // Nor when the server's error quotes the request URL.
        t.answer(
            404,
            json!({"ok": false, "error_code": 404, "description": "no route POST /bot42:TEST/setMyCommands"}),
        );
        let e = block_on(api.set_my_commands(&[], None)).unwrap_err();
        assert!(!format!("{e} {e:?}").contains("TEST"), "{e}");
        assert!(e.to_string().contains("/bot42:***/setMyCommands"), "{e}");
    }
}
