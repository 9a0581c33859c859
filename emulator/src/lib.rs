//! A local Telegram for tma-pay: the Bot API (the subset the shop uses, validated like
//! Telegram), webhook delivery with retries, the Stars payment flow, channels and supergroups
//! the bot sells access to, and a client page that hosts the Mini App in an iframe with signed
//! launch data; for crypto checkout, an in-memory TON chain behind a subset of toncenter's API
//! v3 and a TON Connect wallet for the user the page plays.
//!
//! Start it in-process with [`serve`] (tests) or run the `tma-emulator` binary.

pub mod botapi;
pub mod chats;
pub mod client_page;
pub mod config;
pub mod control;
pub mod delivery;
pub mod http;
pub mod ids;
pub mod launch;
pub mod params;
pub mod payments;
pub mod state;
pub mod ton;

use std::sync::Arc;

pub use config::Config;
use state::Ctx;

/// Runs the emulator on `listener` until the future is dropped (or the listener fails).
pub async fn serve(config: Config, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    let ctx = Arc::new(Ctx::new(config));
    let delivery = delivery::spawn(ctx.clone());
    let result = axum::serve(listener, http::router(ctx)).await;
    delivery.abort();
    result
}

/// Hex of the Ed25519 public key for `config.signing_seed`, what a verifier of the launch
/// data's `signature` must be given instead of Telegram's.
pub fn public_key_hex(config: &Config) -> Option<String> {
    config.signing_seed.map(|seed| {
        hex::encode(
            ed25519_dalek::SigningKey::from_bytes(&seed)
                .verifying_key()
                .to_bytes(),
        )
    })
}
