//! The Mini App's API: health, identity checks, the catalog, invoices, orders.

use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{auth, Platform, Request, Response};
use crate::config::Settings;
use crate::error::ApiError;
use crate::shop::{Catalog, Order};
use crate::store::{Store, StoreError};
use crate::telegram::encoding::base64url_encode;
use crate::telegram::init_data::{self, InitData};
use crate::telegram::login_widget;
use crate::telegram::types::{InvoiceLinkParams, LabeledPrice};

pub fn health() -> Response {
    Response::json(200, &json!({ "ok": true, "version": crate::VERSION }))
}

/// Storage failures are logged by the caller's `handle`; the client learns only
/// that it may retry.
pub fn storage_error(e: StoreError) -> ApiError {
    ApiError::new(
        503,
        "storage_unavailable",
        "storage is unavailable; try again",
    )
    .with_detail(e.to_string())
}

pub fn catalog(settings: &Settings) -> Result<Catalog, ApiError> {
    Catalog::load(settings.catalog_json.as_deref(), settings.telegram_env)
        .map_err(|why| ApiError::new(503, "invalid_catalog", why))
}

/// The launch data as the API shows it: the user with all its fields, and the
/// launch context (absent fields are null).
fn launch_json(data: &InitData) -> Value {
    let text = |k: &str| {
        data.get(k)
            .map_or(Value::Null, |v| Value::String(v.to_owned()))
    };
    let object = |k: &str| {
        data.get(k)
            .and_then(|v| serde_json::from_str::<Value>(v).ok())
    };
    let mut v = json!({
        "user": data.user_json().cloned().unwrap_or(Value::Null),
        "auth_date": data.auth_date(),
        "query_id": text("query_id"),
        "chat_type": text("chat_type"),
        "chat_instance": text("chat_instance"),
        "start_param": text("start_param"),
    });
    for k in ["receiver", "chat"] {
        if let Some(o) = object(k) {
            v[k] = o;
        }
    }
    if let Some(n) = data
        .get("can_send_after")
        .and_then(|s| s.parse::<u64>().ok())
    {
        v["can_send_after"] = n.into();
    }
    v
}

/// `POST /api/verify`: the bot's own check of `Authorization: tma <initData>`.
pub fn verify<P: Platform>(
    platform: &P,
    settings: &Settings,
    req: &Request,
) -> Result<Response, ApiError> {
    let data = auth::init_data(platform, settings, req)?;
    Ok(Response::json(200, &launch_json(&data)))
}

#[derive(Deserialize)]
struct ThirdParty {
    init_data: String,
    bot_id: u64,
}

/// `POST /api/verify/third-party`: Telegram's Ed25519 signature, no bot token needed.
pub fn verify_third_party<P: Platform>(
    platform: &P,
    settings: &Settings,
    req: &Request,
) -> Result<Response, ApiError> {
    let body: ThirdParty = req.json()?;
    let data = init_data::verify_signature(
        &body.init_data,
        body.bot_id,
        &settings.public_key,
        platform.now(),
        settings.init_data_max_age,
    )
    .map_err(|e| ApiError::unauthorized(e.code(), e.to_string()))?;
    let mut v = launch_json(&data);
    v["valid"] = true.into();
    Ok(Response::json(200, &v))
}

/// `POST /api/login-widget`: the fields the Login Widget passed to its callback.
pub fn login_widget<P: Platform>(
    platform: &P,
    settings: &Settings,
    req: &Request,
) -> Result<Response, ApiError> {
    let fields: Map<String, Value> = req.json()?;
    let user = login_widget::verify(
        &fields,
        settings.bot_token()?,
        platform.now(),
        settings.init_data_max_age,
    )
    .map_err(|e| {
        ApiError::unauthorized(e.code(), e.to_string().replace("initData", "login data"))
    })?;
    Ok(Response::json(200, &json!({ "user": user })))
}

/// `GET /api/products`.
pub fn products(settings: &Settings) -> Result<Response, ApiError> {
    Ok(Response::json(200, &catalog(settings)?))
}

#[derive(Deserialize)]
struct NewInvoice {
    product_id: String,
}

/// `POST /api/invoices`: a pending order first, then its invoice link. The
/// price comes from the catalog; the client only names the product.
pub async fn create_invoice<P: Platform>(
    platform: &P,
    settings: &Settings,
    req: &Request,
) -> Result<Response, ApiError> {
    let user = auth::user(platform, settings, req)?;
    let body: NewInvoice = req.json()?;
    let catalog = catalog(settings)?;
    let product = catalog
        .get(&body.product_id)
        .ok_or_else(|| ApiError::new(404, "product_not_found", "no product with that id"))?;
    let provider_token = if product.is_stars() {
        String::new()
    } else {
        settings.payment_provider_token.clone().ok_or_else(|| {
            ApiError::new(
                503,
                "payment_provider_not_configured",
                "card payments need the PAYMENT_PROVIDER_TOKEN setting",
            )
        })?
    };
    let bot = super::bot(platform, settings)?;
    let store = platform.store(settings.storage)?;

    let order = Order::new(
        base64url_encode(&platform.random()),
        user.id,
        product,
        platform.now(),
    );
    store.insert_order(&order).await.map_err(storage_error)?;

    let params = InvoiceLinkParams {
        title: product.title.clone(),
        description: product.description.clone(),
        payload: order.id.clone(),
        provider_token,
        currency: product.currency.clone(),
        prices: vec![LabeledPrice {
            label: product.title.clone(),
            amount: product.amount,
        }],
        subscription_period: product.subscription_period,
        photo_url: product.photo_url.clone(),
    };
    match bot.create_invoice_link(&params).await {
        Ok(link) => Ok(Response::json(
            201,
            &json!({ "order_id": order.id, "invoice_link": link }),
        )),
        Err(e) => {
            platform.log(&format!(
                "createInvoiceLink for order {} failed: {e}",
                order.id
            ));
            if let Err(se) = store.mark_failed(&order.id).await {
                platform.log(&format!("order {} stays pending: {se}", order.id));
            }
            Err(super::faults::telegram_failure(
                "Telegram could not create the invoice; please try again",
                &e,
            ))
        }
    }
}

/// `GET /api/orders`: the caller's orders, newest first.
pub async fn orders<P: Platform>(
    platform: &P,
    settings: &Settings,
    req: &Request,
) -> Result<Response, ApiError> {
    let user = auth::user(platform, settings, req)?;
    let store = platform.store(settings.storage)?;
    let orders = store
        .orders_for_user(user.id, 100)
        .await
        .map_err(storage_error)?;
    Ok(Response::json(200, &json!({ "orders": orders })))
}
