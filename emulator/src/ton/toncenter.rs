//! toncenter's API v3 (the subset a shop confirming payments needs), mounted at
//! `/toncenter`, so `TONCENTER_API_BASE=http://127.0.0.1:8081/toncenter` makes
//! `…/api/v3/transactions` work.
//!
//! Like toncenter's indexer, `/transactions` lists finalized transactions only (each with
//! `"finality": "finalized"`); a transaction not yet final shows in `/pendingTransactions`.
//! Query parameters and refusals follow the indexer: repeated (or comma-separated) addresses
//! in any form, `limit` 1-1000 (default 10), `offset`, `sort` `asc`/`desc` (default `desc`),
//! errors as 422 `{"error": "…"}`. With an API key configured, a call without it (header
//! `X-API-Key` or parameter `api_key`) or with another gets 401.

use std::str::FromStr;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use tonlib_core::TonAddress;

use super::cells::{parse_address, parse_hash, raw};
use super::ledger::{Kind, Ledger, Status, Tx};
use super::render;
use crate::state::{now_ms, Ctx};

const DEFAULT_LIMIT: i64 = 10;
const MAX_LIMIT: i64 = 1000;

pub fn router() -> Router<Arc<Ctx>> {
    Router::new()
        .route("/api/v3/transactions", get(transactions))
        .route("/api/v3/pendingTransactions", get(pending_transactions))
        .route("/api/v3/jetton/wallets", get(jetton_wallets))
        .route("/api/v3/jetton/transfers", get(jetton_transfers))
        .route("/api/v3/jetton/masters", get(jetton_masters))
        .route("/api/v3/addressBook", get(address_book))
        .fallback(not_emulated)
}

/// An error as the indexer answers it: the status and `{"error": "…"}`.
struct ApiErr(u16, String);

impl IntoResponse for ApiErr {
    fn into_response(self) -> Response {
        let code = StatusCode::from_u16(self.0).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (code, Json(json!({"error": self.1}))).into_response()
    }
}

type ApiResult = Result<Json<Value>, ApiErr>;

fn invalid(msg: impl Into<String>) -> ApiErr {
    ApiErr(422, msg.into())
}

/// The query string's pairs, in order (a parameter may repeat).
struct Query(Vec<(String, String)>);

impl Query {
    fn of(uri: &Uri) -> Query {
        let q = uri.query().unwrap_or("");
        Query(form_urlencoded::parse(q.as_bytes()).into_owned().collect())
    }

    fn one(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    /// Every value of a list parameter, repeated or comma-separated.
    fn many(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .flat_map(|(_, v)| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .collect()
    }

    fn addresses(&self, name: &str) -> Result<Vec<TonAddress>, ApiErr> {
        self.many(name)
            .into_iter()
            .enumerate()
            .map(|(i, v)| {
                parse_address(v).map(|(a, _)| a).ok_or_else(|| {
                    invalid(format!(
                        "failed to decode: schema: error converting value for index {i} of \"{name}\""
                    ))
                })
            })
            .collect()
    }

    fn int<T: FromStr>(&self, name: &str) -> Result<Option<T>, ApiErr> {
        self.one(name)
            .map(|v| {
                v.parse().map_err(|_| {
                    invalid(format!(
                        "failed to decode: schema: error converting value for \"{name}\""
                    ))
                })
            })
            .transpose()
    }

    fn flag(&self, name: &str) -> bool {
        matches!(self.one(name), Some("true" | "1"))
    }

    /// `(limit, offset)`: `limit` at least 1, at most 1000, default 10.
    fn page(&self) -> Result<(usize, usize), ApiErr> {
        let limit = self.int::<i64>("limit")?.unwrap_or(DEFAULT_LIMIT).max(1);
        if limit > MAX_LIMIT {
            return Err(invalid(format!(
                "limit is not allowed: {limit} > {MAX_LIMIT}"
            )));
        }
        let offset = self.int::<i64>("offset")?.unwrap_or(0).max(0);
        Ok((limit as usize, offset as usize))
    }

    /// `sort`: true for descending (the default).
    fn descending(&self) -> Result<bool, ApiErr> {
        match self.one("sort").map(str::to_ascii_lowercase).as_deref() {
            None | Some("desc" | "d") => Ok(true),
            Some("asc" | "a") => Ok(false),
            _ => Err(invalid("wrong value for sort parameter")),
        }
    }
}

/// With a key configured, the call must carry it.
fn authorize(ctx: &Ctx, headers: &HeaderMap, q: &Query) -> Result<(), ApiErr> {
    let Some(expected) = &ctx.config.ton.api_key else {
        return Ok(());
    };
    let given = headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .or_else(|| q.one("api_key"));
    match given {
        Some(k) if k == expected => Ok(()),
        Some(_) => Err(ApiErr(401, "API key does not exist".into())),
        None => Err(ApiErr(401, "API key required".into())),
    }
}

fn start(ctx: &Ctx, uri: &Uri, headers: &HeaderMap) -> Result<Query, ApiErr> {
    let q = Query::of(uri);
    authorize(ctx, headers, &q)?;
    Ok(q)
}

/// Filters shared by transactions and jetton transfers: time and logical time bounds.
struct Bounds {
    start_utime: Option<i64>,
    end_utime: Option<i64>,
    start_lt: Option<u64>,
    end_lt: Option<u64>,
}

impl Bounds {
    fn of(q: &Query) -> Result<Bounds, ApiErr> {
        Ok(Bounds {
            start_utime: q.int("start_utime")?,
            end_utime: q.int("end_utime")?,
            start_lt: q.int("start_lt")?,
            end_lt: q.int("end_lt")?,
        })
    }

    fn by_time(&self) -> bool {
        self.start_utime.is_some() || self.end_utime.is_some()
    }

    fn hold(&self, now: i64, lt: u64) -> bool {
        self.start_utime.is_none_or(|t| now >= t)
            && self.end_utime.is_none_or(|t| now <= t)
            && self.start_lt.is_none_or(|l| lt >= l)
            && self.end_lt.is_none_or(|l| lt <= l)
    }
}

/// Sorts by logical time (by time first when a time bound was given) and takes one page.
fn page<'a>(mut txs: Vec<&'a Tx>, q: &Query, by_time: bool) -> Result<Vec<&'a Tx>, ApiErr> {
    let (limit, offset) = q.page()?;
    let desc = q.descending()?;
    txs.sort_by_key(|t| (if by_time { t.now } else { 0 }, t.lt));
    if desc {
        txs.reverse();
    }
    Ok(txs.into_iter().skip(offset).take(limit).collect())
}

fn tx_response(l: &Ledger, txs: &[&Tx], now: i64) -> Value {
    let addresses: Vec<TonAddress> = txs.iter().flat_map(|t| render::tx_addresses(t)).collect();
    json!({
        "transactions": txs.iter().map(|t| render::transaction(t, l, Ledger::is_final(t, now))).collect::<Vec<_>>(),
        "address_book": render::address_book(l, &addresses),
    })
}

async fn transactions(State(ctx): State<Arc<Ctx>>, uri: Uri, headers: HeaderMap) -> ApiResult {
    let q = start(&ctx, &uri, &headers)?;
    let accounts = q.addresses("account")?;
    let excluded = q.addresses("exclude_account")?;
    let hashes: Vec<_> = q.many("hash").into_iter().map(parse_hash).collect();
    if hashes.iter().any(Option::is_none) {
        return Err(invalid(
            "failed to decode: schema: error converting value for \"hash\"",
        ));
    }
    let lt: Option<u64> = q.int("lt")?;
    let mc_seqno: Option<u32> = q.int("mc_seqno")?;
    let bounds = Bounds::of(&q)?;
    let now = now_ms();
    let s = ctx.lock();
    let l = &s.ton.ledger;
    let txs: Vec<&Tx> = l
        .txs
        .iter()
        .filter(|t| Ledger::is_final(t, now))
        .filter(|t| accounts.is_empty() || accounts.contains(&t.account))
        .filter(|t| !excluded.contains(&t.account))
        .filter(|t| hashes.is_empty() || hashes.contains(&Some(t.hash.clone())))
        .filter(|t| lt.is_none_or(|v| t.lt == v) && mc_seqno.is_none_or(|v| t.mc_seqno == v))
        .filter(|t| bounds.hold(t.now, t.lt))
        .collect();
    let txs = page(txs, &q, bounds.by_time())?;
    Ok(Json(tx_response(l, &txs, now)))
}

/// Transactions executed but not final yet.
async fn pending_transactions(
    State(ctx): State<Arc<Ctx>>,
    uri: Uri,
    headers: HeaderMap,
) -> ApiResult {
    let q = start(&ctx, &uri, &headers)?;
    let accounts = q.addresses("account")?;
    if accounts.is_empty() {
        return Err(invalid("at least 1 account address required"));
    }
    let now = now_ms();
    let s = ctx.lock();
    let l = &s.ton.ledger;
    let txs: Vec<&Tx> = l
        .txs
        .iter()
        .filter(|t| !Ledger::is_final(t, now) && accounts.contains(&t.account))
        .collect();
    Ok(Json(tx_response(l, &txs, now)))
}

async fn jetton_wallets(State(ctx): State<Arc<Ctx>>, uri: Uri, headers: HeaderMap) -> ApiResult {
    let q = start(&ctx, &uri, &headers)?;
    let addresses = q.addresses("address")?;
    let owners = q.addresses("owner_address")?;
    let masters = q.addresses("jetton_address")?;
    if masters.len() > 1 && owners.len() != 1 {
        return Err(invalid(
            "exact one owner_address required for multiple jetton_address",
        ));
    }
    let (limit, offset) = q.page()?;
    let by_balance = q.one("sort").is_some();
    let desc = q.descending()?;
    let nonzero = q.flag("exclude_zero_balance");
    let s = ctx.lock();
    let l = &s.ton.ledger;
    let mut found: Vec<_> = l
        .accounts
        .values()
        .filter(|a| a.status == Status::Active)
        .filter(|a| match &a.kind {
            Kind::JettonWallet { master, owner } => {
                (addresses.is_empty() || addresses.contains(&a.address))
                    && (owners.is_empty() || owners.contains(owner))
                    && (masters.is_empty() || masters.contains(master))
            }
            _ => false,
        })
        .filter(|a| !nonzero || a.jettons > 0)
        .collect();
    found.sort_by_key(|a| (if by_balance { a.jettons } else { 0 }, raw(&a.address)));
    if by_balance && desc {
        found.reverse();
    }
    let page: Vec<_> = found.into_iter().skip(offset).take(limit).collect();
    let mut named = Vec::new();
    let mut jettons = Vec::new();
    for a in &page {
        if let Kind::JettonWallet { master, owner } = &a.kind {
            named.extend([a.address.clone(), owner.clone(), master.clone()]);
            jettons.push(master.clone());
        }
    }
    Ok(Json(json!({
        "jetton_wallets": page.iter().filter_map(|a| render::jetton_wallet(a)).collect::<Vec<_>>(),
        "address_book": render::address_book(l, &named),
        "metadata": render::metadata(l, &jettons),
    })))
}

async fn jetton_transfers(State(ctx): State<Arc<Ctx>>, uri: Uri, headers: HeaderMap) -> ApiResult {
    let q = start(&ctx, &uri, &headers)?;
    let owners = q.addresses("owner_address")?;
    let wallets = q.addresses("jetton_wallet")?;
    let master = q.addresses("jetton_master")?;
    let direction = match q.one("direction") {
        None | Some("both") => None,
        Some(d @ ("in" | "out")) => Some(d.to_string()),
        Some(_) => return Err(invalid("direction should be one of: in, out")),
    };
    let bounds = Bounds::of(&q)?;
    let now = now_ms();
    let s = ctx.lock();
    let l = &s.ton.ledger;
    let txs: Vec<&Tx> = l
        .txs
        .iter()
        .filter(|t| Ledger::is_final(t, now) && !t.aborted && bounds.hold(t.now, t.lt))
        .filter(|t| {
            let Some(j) = &t.jetton_transfer else {
                return false;
            };
            let owner_ok = owners.is_empty()
                || match direction.as_deref() {
                    Some("in") => owners.contains(&j.destination),
                    Some(_) => owners.contains(&j.source),
                    None => owners.contains(&j.source) || owners.contains(&j.destination),
                };
            owner_ok
                && (wallets.is_empty() || wallets.contains(&j.source_wallet))
                && (master.is_empty() || master.contains(&j.master))
        })
        .collect();
    let txs = page(txs, &q, bounds.by_time())?;
    let mut named = Vec::new();
    let mut masters = Vec::new();
    let transfers: Vec<Value> = txs
        .iter()
        .filter_map(|t| {
            let j = t.jetton_transfer.as_ref()?;
            named.extend([
                j.source.clone(),
                j.destination.clone(),
                j.source_wallet.clone(),
            ]);
            masters.push(j.master.clone());
            Some(render::jetton_transfer(t, j))
        })
        .collect();
    Ok(Json(json!({
        "jetton_transfers": transfers,
        "address_book": render::address_book(l, &named),
        "metadata": render::metadata(l, &masters),
    })))
}

async fn jetton_masters(State(ctx): State<Arc<Ctx>>, uri: Uri, headers: HeaderMap) -> ApiResult {
    let q = start(&ctx, &uri, &headers)?;
    let wanted = q.addresses("address")?;
    let (limit, offset) = q.page()?;
    let s = ctx.lock();
    let l = &s.ton.ledger;
    let mut masters: Vec<_> = l
        .accounts
        .values()
        .filter(|a| matches!(a.kind, Kind::JettonMaster(_)))
        .filter(|a| wanted.is_empty() || wanted.contains(&a.address))
        .collect();
    masters.sort_by_key(|a| raw(&a.address));
    let page: Vec<_> = masters.into_iter().skip(offset).take(limit).collect();
    let list: Vec<Value> = page
        .iter()
        .filter_map(|a| match &a.kind {
            Kind::JettonMaster(info) => Some(json!({
                "address": raw(&a.address),
                "total_supply": "0",
                "mintable": true,
                "admin_address": null,
                "jetton_content": {"name": info.name, "symbol": info.symbol, "decimals": info.decimals.to_string()},
                "jetton_wallet_code_hash": super::ledger::JETTON_WALLET_CODE_HASH,
                "code_hash": null,
                "data_hash": null,
                "last_transaction_lt": "0",
            })),
            _ => None,
        })
        .collect();
    let addresses: Vec<TonAddress> = page.iter().map(|a| a.address.clone()).collect();
    Ok(Json(json!({
        "jetton_masters": list,
        "address_book": render::address_book(l, &addresses),
        "metadata": render::metadata(l, &addresses),
    })))
}

/// `{<address as given>: {user_friendly, domain, interfaces}}`.
async fn address_book(State(ctx): State<Arc<Ctx>>, uri: Uri, headers: HeaderMap) -> ApiResult {
    let q = start(&ctx, &uri, &headers)?;
    let given = q.many("address");
    if given.is_empty() {
        return Err(invalid("at least 1 address required"));
    }
    let s = ctx.lock();
    let mut out = serde_json::Map::new();
    for text in given {
        if let Some((a, _)) = parse_address(text) {
            let book = render::address_book(&s.ton.ledger, std::slice::from_ref(&a));
            out.insert(text.to_string(), book[raw(&a)].clone());
        }
    }
    Ok(Json(Value::Object(out)))
}

async fn not_emulated(uri: Uri) -> ApiErr {
    ApiErr(
        404,
        format!("{} is not emulated (see the emulator's README)", uri.path()),
    )
}
