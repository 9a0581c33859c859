//! tma-pay: sell inside Telegram from a Cloudflare Worker.
//!
//! The crate is a pure core (everything but `edge`), which knows nothing of the
//! Workers runtime and is tested natively, and a thin `edge` adapter compiled only
//! for wasm32 that turns the runtime's requests, bindings and fetches into the
//! core's types.

pub mod config;
pub mod error;
pub mod http;
pub mod i18n;
pub mod json;
pub mod shop;
pub mod store;
pub mod telegram;
pub mod ton;
pub mod toncenter;

// Runtime code only on wasm32; its pure helpers are tested natively.
#[cfg(any(target_arch = "wasm32", test))]
mod edge;

/// The crate version, reported by `GET /healthz`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
