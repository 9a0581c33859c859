//! Files the browser loads: the injected wallet (`/tonconnect-wallet.js`, for the Mini App),
//! the client page's side of it (`/tonconnect-client.js`) and the wallet's icon
//! (`/tonconnect-wallet.png`).

use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use super::connect::{device_info, APP_NAME, JS_BRIDGE_KEY, WALLET_NAME};
use crate::state::Ctx;

const WALLET_JS: &str = include_str!("wallet.js");
const PAGE_JS: &str = include_str!("page_wallet.js");
const ICON: &[u8] = include_bytes!("wallet.png");

/// The injected wallet with this emulator's settings filled in.
pub fn wallet_js(ctx: &Ctx) -> String {
    WALLET_JS
        .replace("__JS_BRIDGE_KEY__", JS_BRIDGE_KEY)
        .replace("__WALLET_NAME__", WALLET_NAME)
        .replace("__APP_NAME__", APP_NAME)
        .replace("__DEVICE_INFO__", &device_info(&ctx.config.ton).to_string())
}

pub async fn wallet_script(State(ctx): State<Arc<Ctx>>) -> impl IntoResponse {
    (
        [
            (
                header::CONTENT_TYPE,
                "application/javascript; charset=utf-8",
            ),
            // Loaded by the Mini App from another origin.
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
        ],
        wallet_js(&ctx),
    )
}

pub async fn page_script() -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/javascript; charset=utf-8",
        )],
        PAGE_JS,
    )
}

pub async fn icon() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "image/png"),
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
        ],
        ICON,
    )
}
