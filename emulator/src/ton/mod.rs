//! TON for the shop's crypto checkout: an in-memory chain, a subset of toncenter's API v3 over
//! it, and a TON Connect wallet for the Telegram user the client page plays.
//!
//! - this file: the settings ([`TonConfig`]) and amounts;
//! - `cells`: addresses in their forms, comments, bags of cells (through `tonlib-core`);
//! - `wallet`: each user's dev wallet (key from a seed, real v4R2/v5R1 state init and address,
//!   `ton_proof`, the signed external message a wallet sends);
//! - `ledger`: accounts, balances, jetton masters and wallets, transactions, finality;
//! - `chain`: what a message does when it arrives (wallets, jetton wallets, bounces);
//! - `send`: who sends: a user's wallet (signed) or a payer outside, in TON or jettons;
//! - `render`: transactions and messages as toncenter's JSON;
//! - `toncenter`: the HTTP handlers under `/toncenter/api/v3/…`;
//! - `connect`: TON Connect's `connect`, `restoreConnection` and `sendTransaction`, and the
//!   requests waiting for the user's confirmation;
//! - `assets`: the injected wallet script and its icon.
//!
//! Everything lives in the emulator's one state behind its mutex (`State::ton`), so a reset
//! starts the chain over too.

pub mod assets;
pub mod cells;
pub mod chain;
pub mod connect;
pub mod ledger;
pub mod render;
pub mod send;
pub mod toncenter;
pub mod wallet;

#[cfg(test)]
mod tests;

use std::time::Duration;

use sha2::{Digest, Sha256};
use tonlib_core::TonAddress;

/// Mainnet USDT's jetton master, the default for `--usdt-master`.
pub const MAINNET_USDT: &str = "EQCxE6mUtQJKFnGfaROTKOt1lZbDiiX1kCixRv7Nw2Id_sDs";
/// Nanotons in one TON.
pub const TON: u128 = 1_000_000_000;
/// Smallest USDT units in one USDT (six decimals).
pub const USDT: u128 = 1_000_000;

/// Which chain the wallets claim to be on: TON Connect's `network` and the address flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Network {
    Mainnet,
    Testnet,
}

impl Network {
    /// TON Connect's `network` (the chain's global id as a string).
    pub fn chain_id(self) -> &'static str {
        match self {
            Network::Mainnet => "-239",
            Network::Testnet => "-3",
        }
    }

    pub fn is_testnet(self) -> bool {
        self == Network::Testnet
    }

    pub fn parse(s: &str) -> Result<Network, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "mainnet" | "-239" => Ok(Network::Mainnet),
            "testnet" | "-3" => Ok(Network::Testnet),
            other => Err(format!("network must be mainnet or testnet, not {other:?}")),
        }
    }
}

/// The wallet contract the users' dev wallets run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WalletKind {
    V4R2,
    V5R1,
}

impl WalletKind {
    pub fn parse(s: &str) -> Result<WalletKind, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "v4r2" | "v4" => Ok(WalletKind::V4R2),
            "v5r1" | "v5" | "w5" => Ok(WalletKind::V5R1),
            other => Err(format!("wallet must be v4r2 or v5r1, not {other:?}")),
        }
    }

    /// The name toncenter's address book gives such a contract.
    pub fn interface(self) -> &'static str {
        match self {
            WalletKind::V4R2 => "wallet_v4r2",
            WalletKind::V5R1 => "wallet_v5r1",
        }
    }

    /// How many messages one `sendTransaction` may carry (the contract's limit).
    pub fn max_messages(self) -> usize {
        match self {
            WalletKind::V4R2 => 4,
            WalletKind::V5R1 => 255,
        }
    }
}

/// The TON side's settings (flags `--toncenter-api-key`, `--ton-…`, `--usdt-…`).
#[derive(Clone, Debug)]
pub struct TonConfig {
    /// When set, toncenter calls must carry it (`X-API-Key` or `api_key`), else 401.
    pub api_key: Option<String>,
    /// How long a new transaction stays unfinalized (invisible to `/transactions`).
    pub finality: Duration,
    pub network: Network,
    pub usdt_master: TonAddress,
    pub wallet: WalletKind,
    /// Each user's wallet key is derived from this and the user's id.
    pub wallet_seed: [u8; 32],
    /// What a user's wallet holds when first used: nanotons and USDT units.
    pub start_nanotons: u128,
    pub start_usdt: u128,
}

impl Default for TonConfig {
    fn default() -> Self {
        TonConfig {
            api_key: None,
            finality: Duration::from_millis(1000),
            network: Network::Mainnet,
            usdt_master: MAINNET_USDT.parse().expect("valid address"),
            wallet: WalletKind::V4R2,
            wallet_seed: Sha256::digest(b"tma-emulator dev wallets").into(),
            start_nanotons: 10 * TON,
            start_usdt: 100 * USDT,
        }
    }
}

/// The TON side of the emulator's state: the chain and the wallet's sessions with apps.
pub struct TonState {
    pub ledger: ledger::Ledger,
    pub sessions: connect::Sessions,
}

impl TonState {
    pub fn new(config: &TonConfig) -> TonState {
        TonState {
            ledger: ledger::Ledger::new(config),
            sessions: connect::Sessions::default(),
        }
    }
}

impl Default for TonState {
    fn default() -> Self {
        TonState::new(&TonConfig::default())
    }
}

/// Parses a decimal amount (`"1.5"`) into units with `decimals` digits after the point.
pub fn parse_decimal(s: &str, decimals: u32) -> Result<u128, String> {
    let s = s.trim();
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || (!frac.is_empty() && !digits(frac)) || frac.len() > decimals as usize {
        return Err(format!(
            "not an amount with at most {decimals} decimals: {s:?}"
        ));
    }
    let scale = 10u128.pow(decimals);
    let whole: u128 = whole.parse().map_err(|_| format!("too large: {s}"))?;
    let frac_units: u128 = if frac.is_empty() {
        0
    } else {
        frac.parse::<u128>().map_err(|_| format!("bad: {s}"))?
            * 10u128.pow(decimals - frac.len() as u32)
    };
    whole
        .checked_mul(scale)
        .and_then(|w| w.checked_add(frac_units))
        .ok_or(format!("too large: {s}"))
}

/// Formats units with `decimals` digits as a decimal without trailing zeros (`1.5`).
pub fn format_decimal(units: u128, decimals: u32) -> String {
    let scale = 10u128.pow(decimals);
    let frac = units % scale;
    if frac == 0 {
        return (units / scale).to_string();
    }
    let frac = format!("{frac:0width$}", width = decimals as usize);
    format!("{}.{}", units / scale, frac.trim_end_matches('0'))
}
