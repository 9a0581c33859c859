//! Selling for TON and USDT: the wallet a buyer proved, the comment that ties
//! a transfer to its order, and which transaction on chain settles an order.
//! Only transactions read from the chain settle anything; what the client
//! says it sent does not.

/// A wallet a user proved with TON Connect's `ton_proof`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TonWallet {
    pub user_id: i64,
    /// Raw form `wc:hex`.
    pub address: String,
    /// User-friendly form (bounceable, url-safe), as shown.
    pub friendly: String,
    /// TON Connect's network id: `-239` (mainnet) or `-3` (testnet).
    pub network: String,
    /// Hex.
    pub public_key: String,
    /// `v3R1`, `v3R2`, `v4R2` or `v5R1`.
    pub version: String,
    pub linked_at: u64,
}

/// The text comment a transfer for `order_id` carries: what ties it to the order.
pub fn comment(order_id: &str) -> String {
    format!("tma-pay:{order_id}")
}
