//! Paying in TON and USDT through TON Connect: the manifest, linking a wallet
//! with `ton_proof`, the transaction the wallet is asked to sign, and settling
//! orders from the shop wallet's transactions on chain (on request, and by
//! the scheduled job). What the client says it sent settles nothing.

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::api::{catalog, insert_pending, new_order_id, storage_error};
use super::router::Route;
use super::views::{OrderView, WalletView};
use super::{courier, limits, Platform, Request, Response};
use crate::config::Settings;
use crate::error::ApiError;
use crate::i18n::Lang;
use crate::shop::catalog::Rail;
use crate::shop::checkout::format_price;
use crate::shop::order::{Order, OrderStatus};
use crate::shop::outbox::{self, Outgoing};
use crate::shop::payment;
use crate::shop::ton::{self as rules, Incoming, Memo, Settlement, TonWallet};
use crate::shop::{notice, Product};
use crate::store::{Outcome, Owed, Store};
use crate::ton::address::Flags;
use crate::ton::payload::{self, Body, JettonTransfer};
use crate::ton::proof::{self, ProofRequest, ProofRules};
use crate::ton::Address;
use crate::toncenter::{ChainError, Toncenter, Transaction};

/// How long the wallet may take to send the transaction (`validUntil`).
const TRANSACTION_TTL: u64 = 300;
/// Nanotons the buyer's wallet attaches to a USDT transfer for the jetton
/// wallets' fees; what is left comes back to the buyer.
const JETTON_TRANSFER_FEE: u64 = 50_000_000;
/// Forwarded with the jetton transfer so that the shop's wallet is notified.
const FORWARD_NANOTONS: u64 = 1;
/// The shop wallet's transactions read per look on chain.
const TRANSACTIONS_PER_LOOK: usize = 100;
/// Pending TON orders the scheduled job settles per run.
const SWEEP_BATCH: usize = 100;
/// How far back the scheduled job looks for pending TON orders: a wallet
/// sends within `TRANSACTION_TTL`, so an older order is paid only by hand.
const SWEEP_WINDOW: u64 = 86_400;

fn not_configured() -> ApiError {
    ApiError::new(
        503,
        "ton_not_configured",
        "TON payments need the TON_WALLET setting",
    )
}

fn chain_error(e: ChainError) -> ApiError {
    ApiError::new(
        503,
        "ton_unavailable",
        "the TON network could not be read; try again",
    )
    .with_detail(e.to_string())
}

/// The shop's receiving address.
fn shop_wallet(settings: &Settings) -> Result<Address, ApiError> {
    let text = settings.ton.wallet.as_deref().ok_or_else(not_configured)?;
    Address::parse(text).map_err(|_| not_configured())
}

/// `GET /tonconnect-manifest.json`: how wallets name this shop. Its `url`'s
/// host is the domain wallets sign in `ton_proof`.
pub fn manifest(settings: &Settings, req: &Request) -> Result<Response, ApiError> {
    let name = match &settings.ton.shop_name {
        Some(name) => name.clone(),
        None => settings
            .bot_username
            .clone()
            .unwrap_or_else(|| "tma-pay shop".into()),
    };
    let origin = req.origin.trim_end_matches('/');
    let body = json!({
        "url": origin,
        "name": name,
        "iconUrl": format!("{origin}/tonconnect-icon.png"),
    });
    // Wallets fetch it from their own origins.
    Ok(Response::json(200, &body).with_header("access-control-allow-origin", "*"))
}

/// `POST /api/ton/proof-payload`: a payload for the wallet to sign, good for
/// one proof by this user within `TON_PROOF_MAX_AGE`.
pub async fn proof_payload<P: Platform>(
    platform: &P,
    settings: &Settings,
    req: &Request,
) -> Result<Response, ApiError> {
    let user = limits::user(platform, settings, req, Route::TonProofPayload).await?;
    shop_wallet(settings)?;
    let bytes: Vec<u8> = [platform.random(), platform.random()].concat();
    let payload = hex::encode(bytes);
    let now = platform.now();
    let store = platform.store(settings.storage)?;
    store
        .issue_ton_payload(&payload, user.id, now)
        .await
        .map_err(storage_error)?;
    let expires_at = (settings.ton.proof_max_age > 0).then(|| now + settings.ton.proof_max_age);
    Ok(Response::json(
        201,
        &json!({ "payload": payload, "expires_at": expires_at }),
    ))
}

/// What TON Connect gives the app after a connection with `ton_proof`: the
/// wallet's `account` and `connectItems.tonProof.proof`, as they are.
#[derive(Deserialize)]
struct Link {
    account: Account,
    proof: Proof,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Account {
    address: String,
    /// TON Connect's `account.chain` (the `ton_addr` item calls it `network`).
    #[serde(alias = "network")]
    chain: String,
    public_key: String,
    wallet_state_init: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Proof {
    timestamp: Timestamp,
    domain: Domain,
    signature: String,
    payload: String,
}

/// Wallets send the proof's timestamp as a number or as a decimal string.
#[derive(Deserialize)]
#[serde(untagged)]
enum Timestamp {
    Number(u64),
    Text(String),
}

impl Timestamp {
    fn seconds(&self) -> Option<u64> {
        match self {
            Timestamp::Number(n) => Some(*n),
            Timestamp::Text(t) => t.parse().ok(),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Domain {
    length_bytes: u32,
    value: String,
}

/// `POST /api/ton/wallet`: links the wallet whose `ton_proof` signs a payload
/// this user was given (and has not used), for this shop's domain.
pub async fn link<P: Platform>(
    platform: &P,
    settings: &Settings,
    req: &Request,
) -> Result<Response, ApiError> {
    let user = limits::user(platform, settings, req, Route::TonWallet).await?;
    shop_wallet(settings)?;
    let body: Link = req.json().map_err(|e| {
        ApiError::bad_request(
            "malformed_ton_proof",
            format!("expected TON Connect's account and proof: {}", e.message),
        )
    })?;
    let now = platform.now();
    let store = platform.store(settings.storage)?;
    let issued = store
        .consume_ton_payload(&body.proof.payload, user.id, now)
        .await
        .map_err(storage_error)?
        .ok_or_else(|| {
            ApiError::bad_request(
                "unknown_payload",
                "the proof signs a payload this shop did not give you, or one already used",
            )
        })?;
    let max_age = settings.ton.proof_max_age;
    if max_age > 0 && now.saturating_sub(issued) > max_age {
        return Err(ApiError::bad_request(
            "ton_proof_expired",
            "the payload expired: connect the wallet again",
        ));
    }
    let timestamp = body.proof.timestamp.seconds().ok_or_else(|| {
        ApiError::bad_request(
            "malformed_ton_proof",
            "the proof's timestamp is not a number",
        )
    })?;
    let domains = proof_domains(settings, req);
    let request = ProofRequest {
        address: &body.account.address,
        network: &body.account.chain,
        public_key: &body.account.public_key,
        wallet_state_init: &body.account.wallet_state_init,
        timestamp,
        domain: &body.proof.domain.value,
        domain_len: body.proof.domain.length_bytes,
        signature: &body.proof.signature,
        payload: &body.proof.payload,
    };
    let rules = ProofRules {
        domains: &domains,
        now,
        max_age,
        network: settings.ton.network,
    };
    let verified = proof::verify(&request, &rules, platform)
        .await
        .map_err(|e| {
            let status = if e == proof::ProofError::WrongNetwork {
                409
            } else {
                400
            };
            ApiError::new(status, e.code(), e.to_string())
        })?;
    let testnet = verified.network == crate::ton::Network::Testnet;
    let wallet = TonWallet {
        user_id: user.id,
        address: verified.address.to_raw(),
        // Wallets show their own address non-bounceable.
        friendly: verified.address.to_friendly(
            Flags {
                bounceable: false,
                testnet,
            },
            true,
        ),
        network: verified.network.as_str().into(),
        public_key: hex::encode(verified.public_key),
        version: verified.version.name().into(),
        linked_at: now,
    };
    store.save_wallet(&wallet).await.map_err(storage_error)?;
    // Where the page is, for the buttons of messages the scheduled job sends.
    store
        .set_fact(APP_URL_FACT, &req.origin, now)
        .await
        .map_err(storage_error)?;
    Ok(Response::json(
        200,
        &json!({ "wallet": WalletView::of(&wallet) }),
    ))
}

/// The fact that keeps the page's address for messages sent off a request.
const APP_URL_FACT: &str = "app_url";

/// The hosts a proof may name: `TON_PROOF_DOMAINS`, else this request's host
/// (with and without its port: wallets differ on which they sign).
fn proof_domains(settings: &Settings, req: &Request) -> Vec<String> {
    if !settings.ton.proof_domains.is_empty() {
        return settings.ton.proof_domains.clone();
    }
    let Ok(url) = url::Url::parse(&req.origin) else {
        return Vec::new();
    };
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    let mut domains = vec![host.clone()];
    if let Some(port) = url.port() {
        domains.push(format!("{host}:{port}"));
    }
    domains
}

/// `GET /api/ton/wallet`: the caller's linked wallet, or `null`.
pub async fn wallet<P: Platform>(
    platform: &P,
    settings: &Settings,
    req: &Request,
) -> Result<Response, ApiError> {
    let user = limits::user(platform, settings, req, Route::TonWalletRead).await?;
    let store = platform.store(settings.storage)?;
    let wallet = store.wallet(user.id).await.map_err(storage_error)?;
    Ok(Response::json(
        200,
        &json!({ "wallet": wallet.as_ref().map(WalletView::of) }),
    ))
}

/// `DELETE /api/ton/wallet`: unlinks the caller's wallet.
pub async fn unlink<P: Platform>(
    platform: &P,
    settings: &Settings,
    req: &Request,
) -> Result<Response, ApiError> {
    let user = limits::user(platform, settings, req, Route::TonWallet).await?;
    let store = platform.store(settings.storage)?;
    let removed = store.remove_wallet(user.id).await.map_err(storage_error)?;
    Ok(Response::json(200, &json!({ "unlinked": removed })))
}

#[derive(Deserialize)]
struct NewOrder {
    product_id: String,
}

/// A message of TON Connect's `sendTransaction` request.
#[derive(Debug, Serialize)]
struct TxMessage {
    address: String,
    /// Nanotons, as a decimal string.
    amount: String,
    payload: String,
}

/// TON Connect's `sendTransaction` request, for the page to pass on as it is.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct TxRequest {
    valid_until: u64,
    network: &'static str,
    from: String,
    messages: Vec<TxMessage>,
}

/// `POST /api/ton/orders`: a pending order for a TON or USDT product and the
/// transaction that pays it, from the caller's linked wallet: for TON, the
/// price to the shop wallet with the order's comment; for USDT, a jetton
/// transfer from the buyer's USDT wallet, its forward payload the comment.
pub async fn create_order<P: Platform>(
    platform: &P,
    settings: &Settings,
    req: &Request,
) -> Result<Response, ApiError> {
    let user = limits::user(platform, settings, req, Route::TonOrders).await?;
    let body: NewOrder = req.json()?;
    let product = catalog(settings)?
        .get(&body.product_id)
        .ok_or_else(|| ApiError::new(404, "product_not_found", "no product with that id"))?;
    if product.rail() != Rail::Ton {
        return Err(ApiError::new(
            409,
            "pay_with_invoice",
            "this product is paid through a Telegram invoice: POST /api/invoices",
        ));
    }
    let shop = shop_wallet(settings)?;
    let store = platform.store(settings.storage)?;
    let wallet = store
        .wallet(user.id)
        .await
        .map_err(storage_error)?
        .ok_or_else(|| {
            ApiError::new(
                409,
                "wallet_not_linked",
                "connect a TON wallet first (POST /api/ton/wallet)",
            )
        })?;
    if wallet.network != settings.ton.network.as_str() {
        return Err(ApiError::new(
            409,
            "wrong_network",
            "the linked wallet is on another TON network than the shop",
        ));
    }
    let buyer = Address::parse(&wallet.address)
        .map_err(|_| ApiError::new(500, "internal", "a stored wallet does not read"))?;
    let now = platform.now();
    let order = Order {
        // The buyer's language: what the bot tells them once it is paid.
        language: Lang::of(user.language_code.as_deref()),
        username: user.username.clone(),
        ..Order::new(new_order_id(platform), user.id, product, now)
    };
    let message = transfer(platform, settings, &order, product, &shop, &buyer).await?;
    insert_pending(store, settings, &order).await?;
    let transaction = TxRequest {
        valid_until: now + TRANSACTION_TTL,
        network: settings.ton.network.as_str(),
        from: wallet.address.clone(),
        messages: vec![message],
    };
    Ok(Response::json(
        201,
        &json!({
            "order_id": order.id,
            "order": OrderView::of(&order),
            "comment": rules::comment(&order.id),
            "transaction": transaction,
        }),
    ))
}

/// The one message that pays `order`.
async fn transfer<P: Platform>(
    platform: &P,
    settings: &Settings,
    order: &Order,
    product: &Product,
    shop: &Address,
    buyer: &Address,
) -> Result<TxMessage, ApiError> {
    let comment = rules::comment(&order.id);
    let testnet = settings.ton.network == crate::ton::Network::Testnet;
    let amount = u64::try_from(product.amount).unwrap_or_default();
    if product.currency == "TON" {
        return Ok(TxMessage {
            // User-friendly and bounceable, as TON Connect asks: should the
            // shop's wallet not be deployed, the money goes back to the buyer.
            address: shop.to_friendly(
                Flags {
                    bounceable: true,
                    testnet,
                },
                true,
            ),
            amount: amount.to_string(),
            payload: payload::comment(&comment).map_err(unbuildable)?,
        });
    }
    let chain = toncenter(platform, settings);
    let jetton_wallet = chain
        .jetton_wallet(&buyer.to_raw(), &settings.ton.usdt_master)
        .await
        .map_err(chain_error)?
        .ok_or_else(|| ApiError::new(409, "no_usdt_wallet", "the linked wallet holds no USDT"))?;
    let jetton_wallet =
        Address::parse(&jetton_wallet).map_err(|_| chain_error(ChainError::BadResponse))?;
    let query_id = u64::from_le_bytes(platform.random()[..8].try_into().expect("8 bytes"));
    Ok(TxMessage {
        address: jetton_wallet.to_friendly(
            Flags {
                bounceable: true,
                testnet,
            },
            true,
        ),
        amount: JETTON_TRANSFER_FEE.to_string(),
        payload: payload::jetton_transfer(&JettonTransfer {
            query_id,
            amount,
            destination: shop,
            response_destination: buyer,
            forward_ton_amount: FORWARD_NANOTONS,
            comment: &comment,
        })
        .map_err(unbuildable)?,
    })
}

/// A message body that cannot be built: only a comment far longer than ours.
fn unbuildable(e: crate::ton::Error) -> ApiError {
    ApiError::new(500, "internal", "the transaction could not be built").with_detail(e.to_string())
}

fn toncenter<'a, P: Platform>(platform: &'a P, settings: &'a Settings) -> Toncenter<'a, P> {
    Toncenter::new(
        platform,
        &settings.ton.toncenter,
        settings.ton.toncenter_key.as_ref().map(|k| k.expose()),
    )
}

/// `POST /api/ton/orders/{order_id}/check`: looks on chain for the caller's
/// order, and records it paid when its transfers add up to the price.
pub async fn check<P: Platform>(
    platform: &P,
    settings: &Settings,
    req: &Request,
    order_id: &str,
) -> Result<Response, ApiError> {
    let user = limits::user(platform, settings, req, Route::TonCheck).await?;
    let store = platform.store(settings.storage)?;
    let order = store
        .order(order_id)
        .await
        .map_err(storage_error)?
        .filter(|o| o.user_id == user.id)
        .ok_or_else(|| ApiError::not_found("no such order of yours"))?;
    if !matches!(order.currency.as_str(), "TON" | "USDT") {
        return Err(ApiError::new(
            409,
            "pay_with_invoice",
            "this order is paid through a Telegram invoice",
        ));
    }
    if order.status != OrderStatus::Pending {
        return Ok(checked(&order, &Settlement::Unpaid));
    }
    let shop = shop_wallet(settings)?;
    let usdt = order.currency == "USDT";
    let look = Look::new(platform, settings, store, &shop, order.created_at, usdt).await?;
    let settlement = rules::settle(&order, &look.incoming, look.usdt_wallet.as_deref());
    let order = settled(platform, settings, store, order, &settlement, &req.origin)
        .await
        .map_err(storage_error)?;
    Ok(checked(&order, &settlement))
}

fn checked(order: &Order, settlement: &Settlement) -> Response {
    let received = match settlement {
        Settlement::Paid { received, .. } | Settlement::Short { received } => {
            Some(received.to_string())
        }
        Settlement::Unpaid => None,
    };
    Response::json(
        200,
        &json!({ "order": OrderView::of(order), "received": received }),
    )
}

/// One read of the shop wallet's incoming transfers since a time, decoded.
struct Look {
    incoming: Vec<Incoming>,
    /// The shop's own USDT jetton wallet (raw), when a USDT order needs it
    /// and it exists.
    usdt_wallet: Option<String>,
}

impl Look {
    async fn new<P: Platform>(
        platform: &P,
        settings: &Settings,
        store: &P::Store,
        shop: &Address,
        since: u64,
        usdt: bool,
    ) -> Result<Look, ApiError> {
        let chain = toncenter(platform, settings);
        let since = since.saturating_sub(rules::CLOCK_SLACK);
        let transactions = chain
            .transactions(&shop.to_raw(), since, TRANSACTIONS_PER_LOOK)
            .await
            .map_err(chain_error)?;
        let usdt_wallet = match usdt {
            true => usdt_wallet(platform, settings, store, shop).await?,
            false => None,
        };
        Ok(Look {
            incoming: transactions.iter().filter_map(incoming).collect(),
            usdt_wallet,
        })
    }
}

/// The shop's USDT jetton wallet: asked once, then kept (it never changes).
async fn usdt_wallet<P: Platform>(
    platform: &P,
    settings: &Settings,
    store: &P::Store,
    shop: &Address,
) -> Result<Option<String>, ApiError> {
    let key = format!(
        "ton_usdt_wallet:{}:{}",
        settings.ton.usdt_master,
        shop.to_raw()
    );
    if let Some(known) = store.fact(&key).await.map_err(storage_error)? {
        return Ok(Some(known));
    }
    let found = toncenter(platform, settings)
        .jetton_wallet(&shop.to_raw(), &settings.ton.usdt_master)
        .await
        .map_err(chain_error)?;
    let Some(found) = found.and_then(|a| Address::parse(&a).ok()) else {
        // Not deployed until the first USDT arrives: nothing to settle yet.
        return Ok(None);
    };
    let raw = found.to_raw();
    store
        .set_fact(&key, &raw, platform.now())
        .await
        .map_err(storage_error)?;
    Ok(Some(raw))
}

/// A transaction as the settlement rules read it; `None` without an incoming
/// internal message.
fn incoming(t: &Transaction) -> Option<Incoming> {
    let msg = t.in_msg.as_ref()?;
    let source = msg
        .source
        .as_deref()
        .and_then(|s| Address::parse(s).ok())
        .map(|a| a.to_raw())?;
    let memo = match msg.body().map(payload::read_body_base64) {
        Some(Ok(Body::Comment(text))) => Memo::Comment(text),
        Some(Ok(Body::TransferNotification(n))) => Memo::Jetton {
            amount: n.amount,
            sender: n.sender.map(|a| a.to_raw()),
            comment: n.comment,
        },
        _ => Memo::Other,
    };
    Some(Incoming {
        hash: t.hash.clone(),
        at: t.now,
        source: Some(source),
        nanotons: msg.nanotons().unwrap_or(0),
        failed: msg.bounced || t.description.aborted,
        pending: !t.is_final(),
        memo,
    })
}

/// Acts on where `order` stands on chain: records a payment (once, however
/// many looks find it) and queues what it owes; tells the buyer of a short
/// transfer. The order as it now stands.
async fn settled<P: Platform>(
    platform: &P,
    settings: &Settings,
    store: &P::Store,
    order: Order,
    settlement: &Settlement,
    app_url: &str,
) -> Result<Order, crate::store::StoreError> {
    let now = platform.now();
    match settlement {
        Settlement::Unpaid => Ok(order),
        Settlement::Short { received } => {
            // Once per amount received: each look finds the same transfers.
            let key = format!("ton-short:{}:{received}", order.id);
            let text = rules::short_notice(&order, *received);
            let mut messages = vec![outbox::notice(&key, order.user_id, &text, Some(&order.id))];
            let got = i64::try_from(*received).unwrap_or(i64::MAX);
            let told = notice::underpaid(
                settings.admin_language,
                &order.id,
                &format_price(&order.currency, order.amount),
                &format_price(&order.currency, got),
                order.user_id,
            );
            messages.extend(settings.operators().notices(&key, &told, Some(&order.id)));
            courier::queue_and_send(platform, settings, store, &messages).await?;
            Ok(order)
        }
        Settlement::Paid { hash, received, at } => {
            let raw = json!({ "transaction": hash, "received": received.to_string() }).to_string();
            let paid = rules::payment(&order, hash, *received, *at, raw);
            let catalog = catalog(settings).ok();
            let operators = settings.operators();
            let owes = catalog.and_then(|c| {
                let lang = order.language;
                payment::owed_if_as_named(&operators, c, &paid, &order.product_id, app_url, lang)
            });
            let mut messages: Vec<Outgoing> = Vec::new();
            if let Some(owes) = &owes {
                messages.extend(owes.messages.iter().cloned());
                // No invoice chat shows a receipt: send it when no goods carry it.
                if !owes.goods {
                    let key = format!("receipt:{hash}");
                    messages.push(outbox::notice(
                        &key,
                        order.user_id,
                        &owes.receipt,
                        Some(&order.id),
                    ));
                }
            }
            let price = i64::try_from(*received).unwrap_or(i64::MAX);
            if price > order.amount {
                let text = notice::overpaid(
                    settings.admin_language,
                    &order.id,
                    &format_price(&order.currency, order.amount),
                    &format_price(&order.currency, price),
                    order.user_id,
                );
                messages.extend(operators.notices(
                    &format!("overpaid:{hash}"),
                    &text,
                    Some(&order.id),
                ));
            }
            let owed = owes.as_ref().map(|_| Owed {
                product_id: &order.product_id,
                user_id: order.user_id,
                messages: &messages,
            });
            let recorded = store.record_payment(&paid, None, now, owed).await?;
            if recorded.outcome == Outcome::Applied {
                platform.log(&format!("order {} paid on chain by {hash}", order.id));
            }
            if let Some(leased) = recorded.owed {
                courier::send(platform, settings, store, leased).await;
            }
            Ok(recorded.order.unwrap_or(order))
        }
    }
}

/// The scheduled job's step: settles pending TON and USDT orders of the last
/// day from one read of the shop wallet's transactions. How many it paid.
pub async fn sweep<P: Platform>(
    platform: &P,
    settings: &Settings,
    store: &P::Store,
) -> Result<usize, ApiError> {
    let now = platform.now();
    let max_age = settings.ton.proof_max_age.max(3_600);
    store
        .prune_ton_payloads(now.saturating_sub(max_age))
        .await
        .map_err(storage_error)?;
    let Ok(shop) = shop_wallet(settings) else {
        return Ok(0);
    };
    let pending = store
        .pending_ton_orders(now.saturating_sub(SWEEP_WINDOW), SWEEP_BATCH)
        .await
        .map_err(storage_error)?;
    let Some(oldest) = pending.first() else {
        return Ok(0);
    };
    let usdt = pending.iter().any(|o| o.currency == "USDT");
    let look = Look::new(platform, settings, store, &shop, oldest.created_at, usdt).await?;
    let app_url = store
        .fact(APP_URL_FACT)
        .await
        .map_err(storage_error)?
        .unwrap_or_default();
    let mut paid = 0;
    for order in pending {
        let settlement = rules::settle(&order, &look.incoming, look.usdt_wallet.as_deref());
        let order = settled(platform, settings, store, order, &settlement, &app_url)
            .await
            .map_err(storage_error)?;
        paid += usize::from(order.status == OrderStatus::Paid);
    }
    Ok(paid)
}
