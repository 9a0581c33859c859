//! The Mini App's API: health, identity checks, the catalog, invoices, orders.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};
use url::Url;

use super::admin_access;
use super::router::Route;
use super::views::{AccessView, EntitlementView, OrderView, ProductView};
use super::{auth, limits, Platform, Request, Response};
use crate::config::Settings;
use crate::error::ApiError;
use crate::i18n::Lang;
use crate::shop::access;
use crate::shop::catalog::Rail;
use crate::shop::entitlement::{self, Renewal};
use crate::shop::{Catalog, Order, OrderStatus, Payload};
use crate::store::{Store, StoreError};
use crate::telegram::init_data::{self, InitData, WebAppUser};
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

pub fn catalog(settings: &Settings) -> Result<&Catalog, ApiError> {
    settings
        .catalog()
        .map_err(|why| ApiError::new(503, "invalid_catalog", why))
}

/// The launch data as the API shows it: the user with all its fields as
/// Telegram sent them, and the launch context (absent fields are null). The
/// JSON values are passed through as they came (`RawValue`), not rebuilt.
#[derive(Serialize)]
struct Launch<'a> {
    user: Option<&'a RawValue>,
    auth_date: u64,
    query_id: Option<&'a str>,
    chat_type: Option<&'a str>,
    chat_instance: Option<&'a str>,
    start_param: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    receiver: Option<&'a RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    chat: Option<&'a RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    can_send_after: Option<u64>,
    /// Set by the third-party check.
    #[serde(skip_serializing_if = "Option::is_none")]
    valid: Option<bool>,
    /// Set by `POST /api/verify`: whether the user is one of the operators,
    /// so the page knows to show its Operator section. Only a hint: every
    /// operator route checks again.
    #[serde(skip_serializing_if = "Option::is_none")]
    operator: Option<bool>,
}

impl<'a> Launch<'a> {
    fn of(data: &'a InitData) -> Result<Launch<'a>, ApiError> {
        // A user that does not read is refused, as on every other route.
        data.user().map_err(auth::refused)?;
        let raw = |k: &str| data.get(k).and_then(|v| serde_json::from_str(v).ok());
        Ok(Launch {
            user: raw("user"),
            auth_date: data.auth_date(),
            query_id: data.get("query_id"),
            chat_type: data.get("chat_type"),
            chat_instance: data.get("chat_instance"),
            start_param: data.get("start_param"),
            receiver: raw("receiver"),
            chat: raw("chat"),
            can_send_after: data.get("can_send_after").and_then(|s| s.parse().ok()),
            valid: None,
            operator: None,
        })
    }
}

/// `POST /api/verify`: the bot's own check of `Authorization: tma <initData>`.
pub async fn verify<P: Platform>(
    platform: &P,
    settings: &Settings,
    req: &Request,
) -> Result<Response, ApiError> {
    let data = limits::launch(platform, settings, req, Route::Verify).await?;
    let operator = data
        .user()
        .ok()
        .flatten()
        .is_some_and(|u| auth::is_operator(settings, u.id));
    let launch = Launch {
        operator: Some(operator),
        ..Launch::of(&data)?
    };
    Ok(Response::json(200, &launch))
}

#[derive(Deserialize)]
struct ThirdParty {
    init_data: String,
    bot_id: u64,
}

/// `POST /api/verify/third-party`: Telegram's Ed25519 signature, no bot token needed.
pub async fn verify_third_party<P: Platform>(
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
        platform,
    )
    .await
    .map_err(auth::refused)?;
    let launch = Launch {
        valid: Some(true),
        ..Launch::of(&data)?
    };
    Ok(Response::json(200, &launch))
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
        settings.bot_keys()?,
        platform.now(),
        settings.init_data_max_age,
    )
    .map_err(|e| {
        ApiError::unauthorized(e.code(), e.to_string().replace("initData", "login data"))
    })?;
    Ok(Response::json(200, &json!({ "user": user })))
}

/// A product's `t.me` link: the Mini App's own link when its short name is
/// set (`?startapp=<id>` reaches the page as `start_param`), else the bot's
/// (`?start=buy_<id>`, which the bot answers with the product).
pub fn product_link(settings: &Settings, product_id: &str) -> Option<String> {
    let mut path = vec![settings.bot_username.as_deref()?];
    let (name, value) = match &settings.mini_app_name {
        Some(app) => {
            path.push(app);
            ("startapp", product_id.to_owned())
        }
        None => ("start", format!("buy_{product_id}")),
    };
    let mut link = Url::parse("https://t.me").expect("a valid URL");
    link.path_segments_mut()
        .expect("an https URL has a path")
        .clear()
        .extend(&path);
    link.query_pairs_mut().append_pair(name, &value);
    Some(link.into())
}

/// `GET /api/products`: the catalog without the goods, each product with its
/// share link when the bot's name is known; and, when the shop sells for TON,
/// what the page needs for TON Connect.
pub async fn products<P: Platform>(
    platform: &P,
    settings: &Settings,
    req: &Request,
) -> Result<Response, ApiError> {
    let catalog = catalog(settings)?;
    let lang = catalog_language(platform, settings, req);
    let mut products = Vec::new();
    // TON products are on sale once the shop has a wallet to be paid to.
    let ton = settings.ton.wallet.is_some();
    for p in catalog
        .products
        .iter()
        .filter(|p| ton || p.rail() != Rail::Ton)
    {
        let mut view = ProductView::of(p, product_link(settings, &p.id), lang);
        if p.access.as_ref().is_some_and(|a| a.telegram_subscription) {
            let store = platform.store(settings.storage)?;
            view.join_link = admin_access::subscription_link(store, p).await;
        }
        products.push(view);
    }
    let language = lang.code();
    if !ton {
        return Ok(Response::json(
            200,
            &json!({ "products": products, "language": language }),
        ));
    }
    let connect = json!({
        "network": settings.ton.network.as_str(),
        "manifest_url": format!("{}/tonconnect-manifest.json", req.origin.trim_end_matches('/')),
        "wallet_js": settings.ton.connect_wallet_js,
    });
    Ok(Response::json(
        200,
        &json!({ "products": products, "language": language, "ton_connect": connect }),
    ))
}

/// The language `GET /api/products` answers in: `?lang=<code>` when the
/// request names one; else the language of the user in the launch data
/// (`Authorization: tma <initData>`), once it passed its check; else English.
/// Launch data that fails the check is not refused here: the catalog is
/// public, so it is answered in English.
fn catalog_language<P: Platform>(platform: &P, settings: &Settings, req: &Request) -> Lang {
    let asked = form_urlencoded::parse(req.query.as_bytes())
        .find(|(k, _)| k == "lang")
        .map(|(_, v)| Lang::of(Some(&v)));
    if let Some(lang) = asked {
        return lang;
    }
    if req.header("authorization").is_none() {
        return Lang::EN;
    }
    auth::init_data(platform, settings, req)
        .ok()
        .and_then(|data| data.user().ok().flatten())
        .map_or(Lang::EN, |user| Lang::of(user.language_code.as_deref()))
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
    let (user, launch) = limits::caller(platform, settings, req, Route::CreateInvoice).await?;
    let body: NewInvoice = req.json()?;
    let catalog = catalog(settings)?;
    let product = catalog
        .get(&body.product_id)
        .ok_or_else(|| ApiError::new(404, "product_not_found", "no product with that id"))?;
    if product
        .access
        .as_ref()
        .is_some_and(|a| a.telegram_subscription)
    {
        return Err(ApiError::new(
            409,
            "join_by_link",
            "this product is sold through the chat's subscription link: open its join_link",
        ));
    }
    if product.rail() == Rail::Ton {
        return Err(ApiError::new(
            409,
            "pay_with_ton",
            "this product is paid in TON or USDT: POST /api/ton/orders",
        ));
    }
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

    // The buyer's language: the invoice's, and what the bot tells them later.
    let lang = Lang::of(user.language_code.as_deref());
    let order = Order {
        // The join request query the buyer came from: approved once paid.
        join_request_query_id: launch.get("chat_join_request_query_id").map(str::to_owned),
        language: lang,
        username: user.username.clone(),
        ..Order::new(new_order_id(platform), user.id, product, platform.now())
    };
    // Within the cap, or refused: then nothing is stored and Telegram is not called.
    insert_pending(store, settings, &order).await?;

    let title = product.title.get(lang);
    let params = InvoiceLinkParams {
        title: title.to_owned(),
        description: product.description.get(lang).to_owned(),
        payload: Payload::of(&order),
        provider_token,
        currency: product.currency.clone(),
        prices: vec![LabeledPrice {
            label: title.to_owned(),
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

/// A new order's id: 128 random bits as 22 characters of unpadded base64url.
pub fn new_order_id<P: Platform>(platform: &P) -> String {
    URL_SAFE_NO_PAD.encode(platform.random())
}

/// Stores `order` as pending if its buyer is within `MAX_PENDING_ORDERS`;
/// else nothing is stored and the 409 is the answer.
pub async fn insert_pending<S: Store>(
    store: &S,
    settings: &Settings,
    order: &Order,
) -> Result<(), ApiError> {
    let cap = settings.max_pending_orders;
    match store.insert_pending_order(order, cap).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(too_many_pending(cap)),
        Err(e) => Err(storage_error(e)),
    }
}

/// The 409 for a user who has `cap` pending orders already (`MAX_PENDING_ORDERS`).
pub fn too_many_pending(cap: usize) -> ApiError {
    ApiError::new(
        409,
        "too_many_pending_orders",
        format!("you have {cap} unpaid orders: pay one of them, or try again when they expire"),
    )
}

/// The verified caller and their orders, newest first.
async fn own_orders<P: Platform>(
    platform: &P,
    settings: &Settings,
    req: &Request,
    route: Route,
    limit: usize,
) -> Result<(WebAppUser, Vec<Order>), ApiError> {
    let user = limits::user(platform, settings, req, route).await?;
    let store = platform.store(settings.storage)?;
    let orders = store
        .orders_for_user(user.id, limit)
        .await
        .map_err(storage_error)?;
    Ok((user, orders))
}

/// `GET /api/orders`: the caller's orders, newest first. A paid order shows
/// its goods (`delivery`), so the Mini App can show them again.
pub async fn orders<P: Platform>(
    platform: &P,
    settings: &Settings,
    req: &Request,
) -> Result<Response, ApiError> {
    let (user, orders) = own_orders(platform, settings, req, Route::Orders, 100).await?;
    let (user_id, lang) = (user.id, Lang::of(user.language_code.as_deref()));
    let catalog = catalog(settings).ok();
    let access = match catalog {
        Some(c) => access_granted(platform, settings, c, user_id, &orders).await?,
        None => HashMap::new(),
    };
    let shown: Vec<OrderView> = orders
        .iter()
        .map(|o| {
            let goods = catalog
                .filter(|_| o.status == OrderStatus::Paid)
                .and_then(|c| c.get(&o.product_id)?.delivery.as_ref());
            OrderView::of(o)
                .with_delivery(goods, lang)
                .with_access(access.get(&o.id))
        })
        .collect();
    Ok(Response::json(200, &json!({ "orders": shown })))
}

/// The chat each of `orders` (one user's) lets its buyer into now, by order
/// id: with the buyer's personal link once it was made. Read only when the
/// catalog sells access.
async fn access_granted<P: Platform>(
    platform: &P,
    settings: &Settings,
    catalog: &Catalog,
    user_id: i64,
    orders: &[Order],
) -> Result<HashMap<String, AccessView>, ApiError> {
    let now = platform.now();
    let granting: Vec<(&Order, i64)> = orders
        .iter()
        .filter(|o| access::grants_now(o, now))
        .filter_map(|o| Some((o, access::chat_of(catalog, o)?)))
        .collect();
    if granting.is_empty() {
        return Ok(HashMap::new());
    }
    let store = platform.store(settings.storage)?;
    let links = store
        .access_links_for_user(user_id)
        .await
        .map_err(storage_error)?;
    let mut titles: HashMap<i64, Option<String>> = HashMap::new();
    let mut out = HashMap::new();
    for (order, chat) in granting {
        if let std::collections::hash_map::Entry::Vacant(e) = titles.entry(chat) {
            e.insert(admin_access::chat_title(store, chat).await);
        }
        let link = links
            .iter()
            .find(|l| l.order_id == order.id && l.revoked_at.is_none());
        out.insert(
            order.id.clone(),
            AccessView {
                chat_id: chat,
                title: titles[&chat].clone(),
                invite_link: link.map(|l| l.invite_link.clone()),
            },
        );
    }
    Ok(out)
}

/// How many of a user's orders entitlements are computed from.
const ENTITLEMENT_ORDERS: usize = 1000;

/// `GET /api/entitlements`: what the caller owns now.
pub async fn entitlements<P: Platform>(
    platform: &P,
    settings: &Settings,
    req: &Request,
) -> Result<Response, ApiError> {
    let (user, orders) = own_orders(
        platform,
        settings,
        req,
        Route::Entitlements,
        ENTITLEMENT_ORDERS,
    )
    .await?;
    let user_id = user.id;
    let now = platform.now();
    let mut owned = entitlement::owned(&orders, now);
    let mut access = HashMap::new();
    if let Ok(catalog) = catalog(settings) {
        access = access_granted(platform, settings, catalog, user_id, &orders).await?;
        // Memberships bought through a chat's subscription link, keyed by product.
        for p in &catalog.products {
            let Some(a) = p.access.as_ref().filter(|a| a.telegram_subscription) else {
                continue;
            };
            let store = platform.store(settings.storage)?;
            let member = store
                .member(a.chat_id, user_id)
                .await
                .map_err(storage_error)?;
            if let Some(e) = member.and_then(|m| entitlement::telegram_subscription(&p.id, &m, now))
            {
                let view = AccessView {
                    chat_id: a.chat_id,
                    title: admin_access::chat_title(store, a.chat_id).await,
                    invite_link: admin_access::subscription_link(store, p).await,
                };
                access.insert(p.id.clone(), view);
                owned.push(e);
            }
        }
    }
    let shown: Vec<EntitlementView> = owned
        .iter()
        .map(|e| {
            EntitlementView::of(
                e,
                access.get(e.order_id.as_deref().unwrap_or(&e.product_id)),
            )
        })
        .collect();
    Ok(Response::json(
        200,
        &json!({ "user_id": user_id, "entitlements": shown }),
    ))
}

/// `POST /api/subscriptions/{order_id}/cancel` and `/resume`: turns renewal
/// off or on at Telegram (`editUserStarSubscription`), then stores it.
pub async fn change_renewal<P: Platform>(
    platform: &P,
    settings: &Settings,
    req: &Request,
    order_id: &str,
    change: Renewal,
) -> Result<Response, ApiError> {
    let route = match change {
        Renewal::Cancel => Route::CancelSubscription,
        Renewal::Resume => Route::ResumeSubscription,
    };
    let user = limits::user(platform, settings, req, route).await?;
    let store = platform.store(settings.storage)?;
    let order = store.order(order_id).await.map_err(storage_error)?;
    let now = platform.now();
    let needed = entitlement::check_renewal_change(order.as_ref(), user.id, now, change)?;
    let mut order = order.expect("checked above");
    if needed {
        let canceled = change == Renewal::Cancel;
        let charge = order.subscription_charge_id.clone().expect("checked above");
        let bot = super::bot(platform, settings)?;
        bot.call::<bool>(
            "editUserStarSubscription",
            &json!({ "user_id": user.id, "telegram_payment_charge_id": charge, "is_canceled": canceled }),
        )
        .await
        .map_err(|e| {
            super::faults::telegram_failure(
                "Telegram could not change the subscription; please try again",
                &e,
            )
        })?;
        store
            .set_renewal_canceled(&order.id, canceled)
            .await
            .map_err(storage_error)?;
        order.renewal_canceled = canceled;
    }
    let owned = entitlement::owned(std::slice::from_ref(&order), now);
    Ok(Response::json(
        200,
        &json!({ "subscription": owned.first() }),
    ))
}
