//! HTTP, runtime-free: the request and response types, the route table, and one
//! handler module per area. The edge turns the runtime's request into a
//! [`Request`], calls [`handle`], and turns the [`Response`] back.

pub mod access;
pub mod admin;
pub mod admin_access;
pub mod admin_order;
pub mod admin_summary;
pub mod api;
pub mod auth;
pub mod courier;
pub mod export_links;
pub mod faults;
pub mod limits;
pub mod message;
pub mod page;
pub mod platform;
mod refused;
pub mod router;
pub mod scheduled;
pub mod testing;
pub mod ton;
pub mod views;
pub mod webhook;

pub use message::{Request, Response};
pub use platform::Platform;
pub use router::{Route, DEFAULT_BODY_LIMIT};

use crate::config::Settings;
use crate::error::ApiError;
use crate::shop::entitlement::Renewal;

/// Answers one request. Every failure becomes the JSON error shape here, and its
/// internal detail (never a secret) goes to the platform's log.
pub async fn handle<P: Platform>(platform: &P, req: Request) -> Response {
    match dispatch(platform, &req).await {
        Ok(resp) => resp,
        Err(err) => {
            if err.status >= 500 {
                platform.log(&format!("{} {} -> {}", req.method, req.path, err));
            }
            Response::error(&err)
        }
    }
}

/// The Bot API client for this deployment's bot.
pub fn bot<'a, P: Platform>(
    platform: &'a P,
    settings: &'a Settings,
) -> Result<crate::telegram::client::BotApi<'a, P>, ApiError> {
    Ok(crate::telegram::client::BotApi::new(
        platform,
        &settings.api_base,
        settings.bot_token()?,
        settings.telegram_env,
    ))
}

/// The 413 for a body over `limit` bytes.
pub fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        413,
        "payload_too_large",
        format!("the body is larger than {limit} bytes"),
    )
}

async fn dispatch<P: Platform>(platform: &P, req: &Request) -> Result<Response, ApiError> {
    let matched = router::route(&req.method, &req.path)?;
    let route = matched.route;
    if req.body.len() > route.body_limit() {
        return Err(too_large(route.body_limit()));
    }
    if route == Route::Health {
        return Ok(api::health());
    }
    let settings = platform.settings()?;
    limits::client(platform, route, req).await?;
    match route {
        Route::Health => unreachable!("answered above"),
        Route::Page => page::index(platform, &settings).await,
        Route::Verify => api::verify(platform, &settings, req).await,
        Route::VerifyThirdParty => api::verify_third_party(platform, &settings, req).await,
        Route::LoginWidget => api::login_widget(platform, &settings, req),
        Route::Products => api::products(platform, &settings, req).await,
        Route::CreateInvoice => api::create_invoice(platform, &settings, req).await,
        Route::Orders => api::orders(platform, &settings, req).await,
        Route::Entitlements => api::entitlements(platform, &settings, req).await,
        Route::CancelSubscription | Route::ResumeSubscription => {
            let change = if route == Route::CancelSubscription {
                Renewal::Cancel
            } else {
                Renewal::Resume
            };
            let order_id = matched.params.get("order_id");
            api::change_renewal(platform, &settings, req, order_id, change).await
        }
        Route::Webhook => webhook::receive(platform, &settings, req).await,
        Route::AdminRefund => admin::refund(platform, &settings, req).await,
        Route::AdminSetup => admin::setup(platform, &settings, req).await,
        Route::AdminReconcile => admin::reconcile(platform, &settings, req).await,
        Route::AdminOrders => admin::orders(platform, &settings, req).await,
        Route::AdminAccess => admin_access::list(platform, &settings, req).await,
        Route::AdminExportLink => export_links::create(platform, &settings, req).await,
        Route::AdminOrdersCsv => export_links::download(platform, &settings, req).await,
        Route::AdminSummary => admin_summary::summary(platform, &settings, req).await,
        Route::AdminOrder => {
            let order_id = matched.params.get("order_id");
            admin_order::detail(platform, &settings, req, order_id).await
        }
        Route::TonManifest => ton::manifest(&settings, req),
        Route::TonProofPayload => ton::proof_payload(platform, &settings, req).await,
        Route::TonWalletRead => ton::wallet(platform, &settings, req).await,
        Route::TonWallet if req.method == "DELETE" => ton::unlink(platform, &settings, req).await,
        Route::TonWallet => ton::link(platform, &settings, req).await,
        Route::TonOrders => ton::create_order(platform, &settings, req).await,
        Route::TonCheck => {
            ton::check(platform, &settings, req, matched.params.get("order_id")).await
        }
        Route::TestPanic => testing::panic(platform, &settings, req).await,
    }
}

#[cfg(test)]
mod tests;
