//! A small client of toncenter's API v3 (`TONCENTER_API_BASE`): the
//! transactions of an account, and a jetton wallet's address. What the shop
//! reads of each answer, and no more; unknown fields are ignored.

use serde::Deserialize;
use url::Url;

use crate::telegram::client::{Transport, TransportError};

/// Why toncenter could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainError {
    Transport(TransportError),
    /// toncenter answered with an error status (429 for its rate limit).
    Status(u16),
    /// The answer was not what the API documents.
    BadResponse,
}

impl std::fmt::Display for ChainError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChainError::Transport(TransportError::Timeout) => {
                f.write_str("toncenter did not answer in time")
            }
            ChainError::Transport(TransportError::Network) => {
                f.write_str("toncenter could not be reached")
            }
            ChainError::Status(s) => write!(f, "toncenter answered HTTP {s}"),
            ChainError::BadResponse => f.write_str("toncenter gave an unreadable answer"),
        }
    }
}

/// `GET /api/v3/transactions`: the account's transactions.
#[derive(Debug, Clone, Deserialize)]
pub struct Transactions {
    pub transactions: Vec<Transaction>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Transaction {
    /// The transaction's hash (base64, as the API gives it).
    pub hash: String,
    /// Unix time.
    pub now: u64,
    /// The account, in the raw form `0:HEX`.
    pub account: String,
    #[serde(default)]
    pub in_msg: Option<Message>,
    #[serde(default)]
    pub description: Description,
    /// Whether the transaction's block is final (`finalized`), when the API
    /// says; a transaction listed without it is in a committed block.
    #[serde(default)]
    pub finality: Option<String>,
}

impl Transaction {
    pub fn is_final(&self) -> bool {
        self.finality.as_deref().is_none_or(|f| f == "finalized")
    }
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct Description {
    #[serde(default)]
    pub aborted: bool,
}

/// An incoming message.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Message {
    /// `None` for an external message.
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub destination: Option<String>,
    /// Nanotons, as a decimal string.
    #[serde(default)]
    pub value: Option<String>,
    #[serde(default)]
    pub bounced: bool,
    #[serde(default)]
    pub message_content: Option<Content>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Content {
    /// The body as a base64 bag of cells.
    #[serde(default)]
    pub body: Option<String>,
}

impl Message {
    /// The value in nanotons.
    pub fn nanotons(&self) -> Option<u128> {
        self.value.as_deref()?.parse().ok()
    }

    pub fn body(&self) -> Option<&str> {
        self.message_content.as_ref()?.body.as_deref()
    }
}

#[derive(Debug, Clone, Deserialize)]
struct JettonWallets {
    jetton_wallets: Vec<JettonWallet>,
}

#[derive(Debug, Clone, Deserialize)]
struct JettonWallet {
    address: String,
}

/// The API for one deployment.
pub struct Toncenter<'a, T> {
    transport: &'a T,
    base: &'a Url,
    key: Option<&'a str>,
}

impl<'a, T: Transport> Toncenter<'a, T> {
    pub fn new(transport: &'a T, base: &'a Url, key: Option<&'a str>) -> Self {
        Toncenter {
            transport,
            base,
            key,
        }
    }

    /// `<base>/api/v3/<path>?<query>`.
    pub fn url(&self, path: &str, query: &[(&str, &str)]) -> Url {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .expect("an http(s) base")
            .pop_if_empty()
            .extend(["api", "v3"])
            .extend(path.split('/'));
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        url
    }

    async fn get<R: for<'de> Deserialize<'de>>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<R, ChainError> {
        let key: Vec<(&str, &str)> = self.key.map(|k| ("x-api-key", k)).into_iter().collect();
        let (status, body) = self
            .transport
            .get(self.url(path, query).as_str(), &key)
            .await
            .map_err(ChainError::Transport)?;
        if !(200..300).contains(&status) {
            return Err(ChainError::Status(status));
        }
        crate::json::from_bytes(&body).map_err(|_| ChainError::BadResponse)
    }

    /// The newest `limit` transactions of `account` since `since` (Unix time).
    pub async fn transactions(
        &self,
        account: &str,
        since: u64,
        limit: usize,
    ) -> Result<Vec<Transaction>, ChainError> {
        let (since, limit) = (since.to_string(), limit.to_string());
        let query = [
            ("account", account),
            ("start_utime", since.as_str()),
            ("limit", limit.as_str()),
            ("sort", "desc"),
        ];
        let answer: Transactions = self.get("transactions", &query).await?;
        Ok(answer.transactions)
    }

    /// The address of `owner`'s wallet of the jetton `master`, if it exists.
    pub async fn jetton_wallet(
        &self,
        owner: &str,
        master: &str,
    ) -> Result<Option<String>, ChainError> {
        let query = [
            ("owner_address", owner),
            ("jetton_address", master),
            ("limit", "1"),
        ];
        let answer: JettonWallets = self.get("jetton/wallets", &query).await?;
        Ok(answer.jetton_wallets.into_iter().next().map(|w| w.address))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telegram::client::fake::FakeTransport;
    use pollster::block_on;
    use serde_json::json;

    fn base() -> Url {
        Url::parse("https://toncenter.com").unwrap()
    }

    #[test]
    fn builds_the_api_urls() {
        let t = FakeTransport::default();
        let b = base();
        let api = Toncenter::new(&t, &b, None);
        assert_eq!(
            api.url("transactions", &[("account", "0:ab"), ("limit", "5")])
                .as_str(),
            "https://toncenter.com/api/v3/transactions?account=0%3Aab&limit=5"
        );
        let local = Url::parse("http://127.0.0.1:8081/toncenter/").unwrap();
        assert_eq!(
            Toncenter::new(&t, &local, None)
                .url("jetton/wallets", &[])
                .as_str(),
            "http://127.0.0.1:8081/toncenter/api/v3/jetton/wallets"
        );
    }

    #[test]
    fn reads_transactions_as_the_api_gives_them() {
        let t = FakeTransport::default();
        let b = base();
        let api = Toncenter::new(&t, &b, Some("k"));
        t.on(
            "transactions",
            200,
            json!({"transactions": [{"hash": "h1", "lt": "5", "now": 100, "account": "0:AB",
                "in_msg": {"source": "0:CD", "destination": "0:AB", "value": "1500000000", "bounced": false,
                    "message_content": {"body": "te6c", "decoded": {"type": "text_comment", "comment": "x"}}},
                "description": {"aborted": false, "compute_ph": {}}}], "address_book": {}}),
        );
        let txs = block_on(api.transactions("0:AB", 90, 10)).unwrap();
        assert_eq!(
            txs[0].in_msg.as_ref().unwrap().nanotons(),
            Some(1_500_000_000)
        );
        assert_eq!(txs[0].in_msg.as_ref().unwrap().body(), Some("te6c"));
        assert!(txs[0].is_final() && !txs[0].description.aborted);
        let (url, _) = t.calls.borrow()[0].clone();
        assert!(
            url.contains("start_utime=90") && url.contains("sort=desc"),
            "{url}"
        );
        t.on("transactions", 429, json!({"error": "rate limit"}));
        assert_eq!(
            block_on(api.transactions("0:AB", 0, 1)),
            Err(ChainError::Status(429))
        );
        t.on("transactions", 200, json!({"nope": 1}));
        assert_eq!(
            block_on(api.transactions("0:AB", 0, 1)),
            Err(ChainError::BadResponse)
        );
    }
}
