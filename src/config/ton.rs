//! The TON settings: where the shop is paid, which network, how a wallet
//! proof is checked, and the toncenter API that confirms payments.

use url::Url;

use super::{invalid, ConfigError, Secret};
use crate::ton::{Address, Network};

/// USDT's jetton master on mainnet (Tether's).
pub const USDT_MASTER_MAINNET: &str = "EQCxE6mUtQJKFnGfaROTKOt1lZbDiiX1kCixRv7Nw2Id_sDs";

#[derive(Debug, Clone)]
pub struct TonSettings {
    /// The shop's receiving address (`TON_WALLET`); TON payments are off without it.
    pub wallet: Option<String>,
    /// The network the shop works on (`TON_NETWORK`: mainnet, the default, or testnet).
    pub network: Network,
    /// Seconds a proof payload and a proof's timestamp stay valid; 0 disables
    /// the age checks (tests).
    pub proof_max_age: u64,
    /// Domains a wallet may sign (`TON_PROOF_DOMAINS`); empty: the request's host.
    pub proof_domains: Vec<String>,
    pub toncenter: Url,
    pub toncenter_key: Option<Secret>,
    /// USDT's jetton master (`TON_USDT_MASTER`).
    pub usdt_master: String,
    /// The shop's name in the TON Connect manifest (`SHOP_NAME`).
    pub shop_name: Option<String>,
    /// Development only: a script that injects a wallet into the page (the
    /// emulator's), offered by TON Connect's wallet list.
    pub connect_wallet_js: Option<String>,
}

impl TonSettings {
    pub fn parse(get: impl Fn(&str) -> Option<String>) -> Result<TonSettings, ConfigError> {
        let network = match get("TON_NETWORK").as_deref() {
            None | Some("mainnet") => Network::Mainnet,
            Some("testnet") => Network::Testnet,
            Some(_) => return Err(invalid("TON_NETWORK", "expected mainnet or testnet")),
        };
        let proof_max_age = match get("TON_PROOF_MAX_AGE") {
            Some(v) => v
                .parse()
                .map_err(|_| invalid("TON_PROOF_MAX_AGE", "expected a whole number of seconds"))?,
            None => 900,
        };
        let proof_domains = get("TON_PROOF_DOMAINS")
            .map(|v| {
                v.split(',')
                    .map(|d| d.trim().to_ascii_lowercase())
                    .filter(|d| !d.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        let toncenter = get("TONCENTER_API_BASE").unwrap_or_else(|| "https://toncenter.com".into());
        let toncenter = Url::parse(&toncenter)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
            .ok_or_else(|| invalid("TONCENTER_API_BASE", "expected an http(s) URL"))?;
        let script = get("TON_CONNECT_WALLET_JS");
        if script
            .as_deref()
            .is_some_and(|s| !(s.starts_with("http://") || s.starts_with("https://")))
        {
            return Err(invalid("TON_CONNECT_WALLET_JS", "expected an http(s) URL"));
        }
        let wallet = get("TON_WALLET");
        if wallet
            .as_deref()
            .is_some_and(|w| Address::parse(w).is_err())
        {
            return Err(invalid(
                "TON_WALLET",
                "expected a TON address (EQ…/UQ… or 0:<64 hex digits>)",
            ));
        }
        Ok(TonSettings {
            wallet,
            network,
            proof_max_age,
            proof_domains,
            toncenter,
            toncenter_key: get("TONCENTER_API_KEY").map(Secret::new),
            usdt_master: get("TON_USDT_MASTER").unwrap_or_else(|| USDT_MASTER_MAINNET.into()),
            shop_name: get("SHOP_NAME"),
            connect_wallet_js: script,
        })
    }
}
