//! Operator routes (`Authorization: Bearer <ADMIN_TOKEN>`): refunds, one-call
//! bot setup, reconciliation against Telegram's Star transactions, and the
//! export of orders and transactions.

use serde::Deserialize;
use serde_json::json;

use super::api::storage_error;
use super::views::OrderView;
use super::{access, admin_access};
use super::{auth, courier, Platform, Request, Response};
use crate::config::Settings;
use crate::error::ApiError;
use crate::i18n::Lang;
use crate::shop::export::{self, Filter, Format, Row};
use crate::shop::reconcile::{self, Difference};
use crate::shop::{bot, notice, Order, OrderStatus, Payment, Refund};
use crate::store::Store;
use crate::telegram::client::BotError;
use crate::telegram::types::StarTransaction;

fn telegram_error(what: &str, e: BotError) -> ApiError {
    super::faults::telegram_failure(format!("{what} failed: {e}"), &e)
}

#[derive(Deserialize)]
struct RefundRequest {
    order_id: String,
}

/// `POST /api/admin/refunds`: refunds a paid Stars order.
pub async fn refund<P: Platform>(
    platform: &P,
    settings: &Settings,
    req: &Request,
) -> Result<Response, ApiError> {
    auth::operator(platform, settings, req)?;
    let body: RefundRequest = req.json()?;
    let store = platform.store(settings.storage)?;
    let order = store
        .order(&body.order_id)
        .await
        .map_err(storage_error)?
        .ok_or_else(|| ApiError::new(404, "order_not_found", "no order with that id"))?;
    let charge = match order.refund()? {
        Refund::Done => {
            return Ok(Response::json(
                200,
                &json!({ "order": OrderView::of(&order) }),
            ))
        }
        Refund::Charge(charge) => charge,
    };
    let bot = super::bot(platform, settings)?;
    bot.refund_star_payment(order.user_id, charge)
        .await
        .map_err(|e| telegram_error("refundStarPayment", e))?;
    store
        .record_refund(charge, platform.now())
        .await
        .map_err(storage_error)?;
    // Same key as the webhook's `refunded_payment`: the operator hears it once.
    let text = notice::refunded(settings.admin_language, &order.id, charge);
    let notices = settings
        .operators()
        .notices(&format!("refund:{charge}"), &text, Some(&order.id));
    courier::queue_and_send(platform, settings, store, &notices)
        .await
        .map_err(storage_error)?;
    let order = store.order(&order.id).await.map_err(storage_error)?;
    if let Some(o) = &order {
        let app_url = req.app_url()?;
        access::remove_refunded(platform, settings, store, o, app_url.as_str())
            .await
            .map_err(storage_error)?;
    }
    Ok(Response::json(
        200,
        &json!({ "order": order.as_ref().map(OrderView::of) }),
    ))
}

/// `POST /api/admin/setup`: points the bot at this deployment.
pub async fn setup<P: Platform>(
    platform: &P,
    settings: &Settings,
    req: &Request,
) -> Result<Response, ApiError> {
    auth::operator(platform, settings, req)?;
    let bot = super::bot(platform, settings)?;
    let app_url = req.app_url()?;
    let webhook_url = app_url
        .join("/telegram/webhook")
        .expect("an absolute path joins any http(s) URL");
    let allowed = [
        "message",
        "pre_checkout_query",
        "chat_member",
        "chat_join_request",
    ];
    bot.set_webhook(
        webhook_url.as_str(),
        settings.webhook_secret()?.expose(),
        &allowed,
    )
    .await
    .map_err(|e| telegram_error("setWebhook", e))?;
    // The default list (English), then one per other language the shop speaks.
    let mut by_language = serde_json::Map::new();
    for lang in Lang::all() {
        let commands = bot::commands(lang);
        let code = (lang != Lang::EN).then(|| lang.code());
        bot.set_my_commands(&commands, code)
            .await
            .map_err(|e| telegram_error("setMyCommands", e))?;
        if let Some(code) = code {
            by_language.insert(code.into(), json!(commands));
        }
    }
    let menu = Lang::EN.text("bot.menu_button");
    bot.set_menu_web_app(menu, app_url.as_str())
        .await
        .map_err(|e| telegram_error("setChatMenuButton", e))?;
    let (chats, links) = admin_access::setup(platform, settings, &bot).await?;
    Ok(Response::json(
        200,
        &json!({
            "webhook": { "url": webhook_url.as_str(), "allowed_updates": allowed },
            "commands": bot::commands(Lang::EN),
            "commands_by_language": by_language,
            "menu_button": { "type": "web_app", "text": menu, "url": app_url.as_str() },
            "access": chats,
            "subscription_links": links,
        }),
    ))
}

/// How many pages of `getStarTransactions` (100 each) reconciliation reads.
pub const RECONCILE_PAGES: u32 = 20;

/// `GET /api/admin/reconcile`: what Telegram and our store disagree on.
pub async fn reconcile<P: Platform>(
    platform: &P,
    settings: &Settings,
    req: &Request,
) -> Result<Response, ApiError> {
    auth::operator(platform, settings, req)?;
    let telegram = star_transactions(platform, settings).await?;
    let store = platform.store(settings.storage)?;
    let ours = reconciled_payments(store).await?;
    // Each of our Stars charges Telegram lists, with what it brought the bot.
    let settled = reconcile::settlements(&ours, &telegram);
    let payments: Vec<_> = ours
        .iter()
        .filter_map(|p| {
            let s = settled.get(&p.telegram_payment_charge_id)?;
            Some(json!({
                "charge_id": p.telegram_payment_charge_id,
                "order_id": p.order_id,
                "amount": p.amount,
                "transaction_type": s.transaction_type,
                "affiliate_commission": s.affiliate_commission,
                "net_amount": s.net_amount,
            }))
        })
        .collect();
    let mut report = reconciliation(&ours, &telegram);
    report["payments"] = json!(payments);
    Ok(Response::json(200, &report))
}

/// Our payments reconciliation compares: as many as Telegram's pages hold.
pub async fn reconciled_payments<S: Store>(store: &S) -> Result<Vec<Payment>, ApiError> {
    store
        .payments(100 * RECONCILE_PAGES as usize)
        .await
        .map_err(storage_error)
}

/// Every paid order (up to the export's cap), newest first.
pub async fn paid_orders<S: Store>(store: &S) -> Result<Vec<Order>, ApiError> {
    let paid = Filter {
        status: Some(OrderStatus::Paid),
        limit: export::MAX_ROWS,
        ..Filter::default()
    };
    Ok(store
        .export(&paid)
        .await
        .map_err(storage_error)?
        .into_iter()
        .map(|e| e.order)
        .collect())
}

/// `{checked, in_sync, differences}`: the reconcile route's answer and the
/// summary's part.
pub fn reconciliation(ours: &[Payment], telegram: &[StarTransaction]) -> serde_json::Value {
    let differences = reconcile::differences(ours, telegram);
    json!({
        "checked": ours.len(),
        "in_sync": differences.is_empty(),
        "differences": differences,
    })
}

/// Compares our Stars payments with `getStarTransactions`: each difference.
pub async fn differences<P: Platform>(
    platform: &P,
    settings: &Settings,
) -> Result<Vec<Difference>, ApiError> {
    let telegram = star_transactions(platform, settings).await?;
    let ours = reconciled_payments(platform.store(settings.storage)?).await?;
    Ok(reconcile::differences(&ours, &telegram))
}

/// The bot's Star transactions, oldest first, as far as reconciliation reads.
pub async fn star_transactions<P: Platform>(
    platform: &P,
    settings: &Settings,
) -> Result<Vec<StarTransaction>, ApiError> {
    let bot = super::bot(platform, settings)?;
    let mut telegram = Vec::new();
    for page in 0..RECONCILE_PAGES {
        let batch = bot
            .get_star_transactions(page * 100, 100)
            .await
            .map_err(|e| telegram_error("getStarTransactions", e))?;
        let n = batch.transactions.len();
        telegram.extend(batch.transactions);
        if n < 100 {
            break;
        }
    }
    Ok(telegram)
}

/// `GET /api/admin/orders?format=json|csv&status=&since=&limit=&q=&product=&currency=`:
/// orders and their transactions, one row per charge, newest orders first.
pub async fn orders<P: Platform>(
    platform: &P,
    settings: &Settings,
    req: &Request,
) -> Result<Response, ApiError> {
    auth::operator(platform, settings, req)?;
    let (format, filter) = export::parse_query(&req.query)
        .map_err(|why| ApiError::bad_request("invalid_query", why))?;
    // `net=false`: without Telegram's record of each charge (type, commission,
    // net). The page's list asks so: it reloads as the operator types, and
    // reading the record is up to RECONCILE_PAGES Bot API calls.
    let net =
        !form_urlencoded::parse(req.query.as_bytes()).any(|(k, v)| k == "net" && v == "false");
    let rows = order_rows(platform, settings, &filter, net).await?;
    Ok(match format {
        Format::Json => Response::json(200, &json!({ "count": rows.len(), "rows": rows })),
        Format::Csv => csv_response(&rows, "orders.csv"),
    })
}

/// The rows of the orders `filter` picks, then the members who pay through a
/// subscription link, each Stars charge with what Telegram's record says of
/// it when that record can be read (the export stands without it).
pub async fn order_rows<P: Platform>(
    platform: &P,
    settings: &Settings,
    filter: &Filter,
    net: bool,
) -> Result<Vec<Row>, ApiError> {
    let store = platform.store(settings.storage)?;
    let catalog = super::api::catalog(settings).ok();
    let no_products = crate::shop::Catalog::default();
    let catalog = catalog.unwrap_or(&no_products);
    let exported = store.export(filter).await.map_err(storage_error)?;
    let stars: Vec<Payment> = exported
        .iter()
        .flat_map(|e| &e.payments)
        .filter(|p| p.currency == "XTR")
        .cloned()
        .collect();
    let mut rows = export::rows(exported, catalog);
    if net && !stars.is_empty() {
        if let Ok(telegram) = star_transactions(platform, settings).await {
            export::settle(&mut rows, &reconcile::settlements(&stars, &telegram));
        }
    }
    // Members who pay through a chat's subscription link have no order: they
    // are listed after the orders, unless the filter asks for a status.
    if filter.status.is_none() {
        for p in &catalog.products {
            let Some(a) = p.access.as_ref().filter(|a| a.telegram_subscription) else {
                continue;
            };
            let members = store.members(a.chat_id).await.map_err(storage_error)?;
            let members: Vec<_> = members
                .into_iter()
                .filter(|m| filter.admits_member(p, m))
                .collect();
            let link = admin_access::subscription_link(store, p).await;
            rows.extend(export::member_rows(p, link.as_deref(), &members));
        }
    }
    Ok(rows)
}

/// The rows as a CSV attachment named `file_name`.
pub fn csv_response(rows: &[Row], file_name: &str) -> Response {
    Response {
        status: 200,
        headers: vec![
            ("content-type", "text/csv; charset=utf-8".into()),
            (
                "content-disposition",
                format!("attachment; filename=\"{file_name}\""),
            ),
        ],
        body: export::csv(rows).into_bytes(),
    }
}
