//! The control API for TON (`/control/ton/…`): the chain (accounts, transactions, finality),
//! payments from outside (honest or not), bounces, each user's wallet. The TON Connect calls the
//! client page forwards from the Mini App's injected wallet are in `ton_wallet`.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tonlib_core::TonAddress;

use super::{bad, CtlResult, Shared};
use crate::state::{now_ms, Ctx};
use crate::ton::cells::{self, friendly, hash_b64, raw};
use crate::ton::chain::OutSpec;
use crate::ton::connect;
use crate::ton::ledger::{BounceRule, Kind, Ledger, Status};
use crate::ton::send::{jetton_transfer_body, Asset, Payment, JETTON_TRANSFER_TON};
use crate::ton::{parse_decimal, render};

pub fn router() -> Router<Arc<Ctx>> {
    Router::new()
        .route("/ton", get(overview))
        .route("/ton/transactions", get(transactions))
        .route("/ton/accounts", post(set_account))
        .route("/ton/accounts/{address}", get(account))
        .route("/ton/jetton_wallets", post(deploy_jetton_wallet))
        .route("/ton/wallets/{user_id}", get(wallet))
        .route("/ton/wallets/{user_id}/fund", post(fund))
        .route("/ton/pay", post(pay))
        .route("/ton/bounce_next", post(bounce_next))
        .route("/ton/finalize", post(finalize))
}

fn address(text: &str) -> Result<TonAddress, super::CtlError> {
    cells::address(text).ok_or_else(|| bad(format!("not a TON address: {text}")))
}

/// An amount in smallest units, given as a string or a number.
fn units(v: &Value) -> Result<u128, super::CtlError> {
    match v {
        Value::String(s) if s.bytes().all(|b| b.is_ascii_digit()) && !s.is_empty() => {
            s.parse().map_err(|_| bad("amount too large"))
        }
        Value::Number(n) if n.as_u64().is_some() => Ok(n.as_u64().unwrap_or(0) as u128),
        _ => Err(bad(
            "amount must be a whole number of smallest units (nanotons, USDT units)",
        )),
    }
}

async fn overview(State(ctx): Shared) -> Json<Value> {
    let mut s = ctx.lock();
    let l = &mut s.ton.ledger;
    let fake = l.fake_usdt_master();
    let testnet = l.config.network.is_testnet();
    let master = |a: &TonAddress| json!({"raw": raw(a), "address": friendly(a, true, testnet)});
    let now = now_ms();
    Json(json!({
        "network": l.config.network.chain_id(),
        "wallet_version": l.config.wallet.interface().trim_start_matches("wallet_"),
        "finality_ms": l.config.finality.as_millis() as u64,
        "api_key_required": ctx.config.ton.api_key.is_some(),
        "toncenter": "/toncenter/api/v3",
        "usdt_master": master(&l.usdt_master()),
        "fake_usdt_master": master(&fake),
        "transactions": l.txs.len(),
        "pending": l.txs.iter().filter(|t| !Ledger::is_final(t, now)).count(),
        "users": l.wallets.keys().collect::<Vec<_>>(),
    }))
}

#[derive(Deserialize)]
struct TxQuery {
    account: Option<String>,
}

/// Every transaction, final or not, newest first, in toncenter's shape.
async fn transactions(State(ctx): Shared, Query(q): Query<TxQuery>) -> CtlResult {
    let account = q.account.as_deref().map(address).transpose()?;
    let s = ctx.lock();
    let l = &s.ton.ledger;
    let now = now_ms();
    let list: Vec<Value> = l
        .txs
        .iter()
        .rev()
        .filter(|t| account.as_ref().is_none_or(|a| &t.account == a))
        .map(|t| render::transaction(t, l, Ledger::is_final(t, now)))
        .collect();
    Ok(Json(json!(list)))
}

fn account_view(l: &Ledger, a: &TonAddress) -> Value {
    let testnet = l.config.network.is_testnet();
    let Some(acc) = l.accounts.get(a) else {
        return json!({"raw": raw(a), "address": friendly(a, false, testnet), "known": false});
    };
    let (kind, extra) = match &acc.kind {
        Kind::Wallet { user_id, .. } => ("wallet", json!({"user_id": user_id})),
        Kind::Plain => ("plain", json!({})),
        Kind::JettonMaster(i) => ("jetton_master", json!({"name": i.name, "symbol": i.symbol})),
        Kind::JettonWallet { master, owner } => (
            "jetton_wallet",
            json!({"master": raw(master), "owner": raw(owner)}),
        ),
    };
    let jetton_wallets: Vec<Value> = l
        .accounts
        .values()
        .filter_map(|j| match &j.kind {
            Kind::JettonWallet { master, owner } if owner == a => Some(json!({
                "address": raw(&j.address), "master": raw(master),
                "balance": j.jettons.to_string(), "status": j.status.name(),
            })),
            _ => None,
        })
        .collect();
    json!({
        "raw": raw(a),
        "address": friendly(a, !matches!(acc.kind, Kind::Wallet { .. } | Kind::Plain), testnet),
        "known": true,
        "kind": kind,
        "details": extra,
        "status": acc.status.name(),
        "balance": acc.balance.to_string(),
        "jettons": acc.jettons.to_string(),
        "seqno": acc.seqno,
        "jetton_wallets": jetton_wallets,
    })
}

async fn account(State(ctx): Shared, Path(text): Path<String>) -> CtlResult {
    let a = address(&text)?;
    Ok(Json(account_view(&ctx.lock().ton.ledger, &a)))
}

#[derive(Deserialize)]
struct AccountBody {
    address: String,
    status: Option<String>,
    balance: Option<Value>,
}

/// Sets an account's status (`uninit`: bounceable messages to it bounce) or TON balance.
async fn set_account(State(ctx): Shared, Json(b): Json<AccountBody>) -> CtlResult {
    let a = address(&b.address)?;
    let status = match b.status.as_deref() {
        None => None,
        Some("uninit") => Some(Status::Uninit),
        Some("active") => Some(Status::Active),
        Some(other) => return Err(bad(format!("status must be uninit or active, not {other}"))),
    };
    let balance = b.balance.as_ref().map(units).transpose()?;
    let view = ctx.mutate(|s| {
        let l = &mut s.ton.ledger;
        let acc = l.account_mut(&a);
        if let Some(st) = status {
            acc.status = st;
        }
        if let Some(v) = balance {
            acc.balance = v;
        }
        account_view(l, &a)
    });
    Ok(Json(view))
}

#[derive(Deserialize)]
struct JettonWalletBody {
    owner: String,
    /// `usdt` (default), `fake_usdt` or a master's address.
    jetton: Option<String>,
}

fn master_of(l: &mut Ledger, jetton: Option<&str>) -> Result<TonAddress, super::CtlError> {
    match jetton.unwrap_or("usdt") {
        "usdt" => Ok(l.usdt_master()),
        "fake_usdt" => Ok(l.fake_usdt_master()),
        other => address(other),
    }
}

/// Deploys `owner`'s jetton wallet (as a first transfer to it would).
async fn deploy_jetton_wallet(State(ctx): Shared, Json(b): Json<JettonWalletBody>) -> CtlResult {
    let owner = address(&b.owner)?;
    ctx.mutate(|s| {
        let l = &mut s.ton.ledger;
        let master = master_of(l, b.jetton.as_deref())?;
        let jw = l.jetton_wallet(&master, &owner, Status::Active);
        Ok(Json(account_view(l, &jw)))
    })
}

async fn wallet(State(ctx): Shared, Path(user_id): Path<i64>) -> Json<Value> {
    Json(ctx.mutate(|s| connect::wallet_view(&mut s.ton.ledger, user_id)))
}

#[derive(Deserialize)]
struct FundBody {
    /// Decimal TON (`"1.5"`).
    ton: Option<String>,
    /// Decimal USDT (`"10"`).
    usdt: Option<String>,
}

/// Adds TON and USDT to the user's wallet (balances only: no transaction is recorded).
async fn fund(State(ctx): Shared, Path(user_id): Path<i64>, Json(b): Json<FundBody>) -> CtlResult {
    let ton = b
        .ton
        .as_deref()
        .map(|t| parse_decimal(t, 9))
        .transpose()
        .map_err(bad)?;
    let usdt = b
        .usdt
        .as_deref()
        .map(|t| parse_decimal(t, 6))
        .transpose()
        .map_err(bad)?;
    Ok(Json(ctx.mutate(|s| {
        let l = &mut s.ton.ledger;
        let w = l.user_wallet(user_id);
        l.account_mut(w.address()).balance += ton.unwrap_or(0);
        let master = l.usdt_master();
        let jw = l.jetton_wallet(&master, w.address(), Status::Active);
        l.account_mut(&jw).jettons += usdt.unwrap_or(0);
        connect::wallet_view(l, user_id)
    })))
}

#[derive(Deserialize)]
struct PayBody {
    to: String,
    amount: Value,
    asset: Option<String>,
    comment: Option<String>,
    /// The payer: an address outside, or (instead) a user whose dev wallet pays, signed.
    from: Option<String>,
    user_id: Option<i64>,
    /// The same payment this many times (one order's comment paid twice…).
    times: Option<u32>,
    /// Jettons: nanotons forwarded with the notification (default 1).
    forward_ton_amount: Option<Value>,
    /// TON: bounceable (default true).
    bounce: Option<bool>,
    /// Jettons: the comment in the transfer's own cell instead of a reference.
    inline_payload: Option<bool>,
}

/// Pays `to`: TON or USDT (or the fake USD₮), with a comment, from outside or from a user's
/// wallet. Answers each payment's transactions.
async fn pay(State(ctx): Shared, Json(b): Json<PayBody>) -> CtlResult {
    let to = address(&b.to)?;
    let amount = units(&b.amount)?;
    let asset = Asset::parse(b.asset.as_deref().unwrap_or("ton")).map_err(bad)?;
    let forward = b
        .forward_ton_amount
        .as_ref()
        .map(units)
        .transpose()?
        .unwrap_or(1);
    let times = b.times.unwrap_or(1).clamp(1, 20);
    if b.from.is_some() && b.user_id.is_some() {
        return Err(bad("give from or user_id, not both"));
    }
    let from = b.from.as_deref().map(address).transpose()?;
    ctx.mutate(|s| {
        let l = &mut s.ton.ledger;
        let mut payments = Vec::new();
        for _ in 0..times {
            let hashes = match b.user_id {
                Some(user_id) => {
                    let out = user_out(
                        l,
                        user_id,
                        &to,
                        asset,
                        amount,
                        b.comment.as_deref(),
                        forward,
                    )?;
                    let valid_until = (crate::state::now_unix() + 300) as u32;
                    l.send_from_wallet(user_id, vec![out], valid_until)
                        .map_err(bad)?
                        .1
                }
                None => {
                    let payer = from.clone().unwrap_or_else(outside_payer);
                    l.pay_from_outside(&Payment {
                        from: payer,
                        to: to.clone(),
                        asset,
                        amount,
                        comment: b.comment.clone(),
                        forward_ton_amount: forward,
                        bounce: b.bounce.unwrap_or(true),
                        inline_payload: b.inline_payload.unwrap_or(false),
                    })
                }
            };
            payments.push(json!({
                "trace_id": hash_b64(&hashes[0]),
                "transactions": hashes.iter().map(hash_b64).collect::<Vec<_>>(),
            }));
        }
        Ok(Json(json!({"payments": payments})))
    })
}

/// The message a user's wallet sends to pay: TON with a comment, or a jetton transfer to
/// their own jetton wallet.
fn user_out(
    l: &mut Ledger,
    user_id: i64,
    to: &TonAddress,
    asset: Asset,
    amount: u128,
    comment: Option<&str>,
    forward: u128,
) -> Result<OutSpec, super::CtlError> {
    let w = l.user_wallet(user_id);
    let comment = comment
        .map(cells::comment_cell)
        .transpose()
        .map_err(|e| bad(e.to_string()))?;
    Ok(match asset {
        Asset::Ton => OutSpec::new(
            to.clone(),
            amount,
            true,
            comment.unwrap_or_else(crate::ton::ledger::empty),
        ),
        Asset::Usdt | Asset::FakeUsdt => {
            let master = if asset == Asset::Usdt {
                l.usdt_master()
            } else {
                l.fake_usdt_master()
            };
            let own = l.jetton_wallet(&master, w.address(), Status::Uninit);
            let body = jetton_transfer_body(
                crate::state::now_unix() as u64,
                amount,
                to,
                w.address(),
                forward,
                comment,
            );
            OutSpec::new(own, JETTON_TRANSFER_TON + forward, true, body)
        }
    })
}

/// Who pays when the control call names nobody: a stranger's wallet.
fn outside_payer() -> TonAddress {
    let hash: [u8; 32] = Sha256::digest(b"tma-emulator outside payer").into();
    TonAddress::new(0, tonlib_core::TonHash::from(hash))
}

#[derive(Deserialize, Default)]
struct BounceBody {
    address: Option<String>,
    exit_code: Option<i32>,
}

/// The next internal message to `address` (any, without it) fails: with `exit_code`, or as if
/// the account were not deployed. A bounceable one comes back bounced.
async fn bounce_next(State(ctx): Shared, body: Option<Json<BounceBody>>) -> CtlResult {
    let b = body.map(|b| b.0).unwrap_or_default();
    let address = b.address.as_deref().map(address).transpose()?;
    let n = ctx.mutate(|s| {
        let rules = &mut s.ton.ledger.bounce_rules;
        rules.push(BounceRule {
            address,
            exit_code: b.exit_code,
        });
        rules.len()
    });
    Ok(Json(json!({"rules": n})))
}

#[derive(Deserialize, Default)]
struct FinalizeBody {
    /// A transaction's hash or a trace id (base64 or hex); all pending ones without it.
    hash: Option<String>,
}

async fn finalize(State(ctx): Shared, body: Option<Json<FinalizeBody>>) -> CtlResult {
    let hash = match body.and_then(|b| b.0.hash) {
        None => None,
        Some(h) => Some(cells::parse_hash(&h).ok_or_else(|| bad("not a hash"))?),
    };
    let n = ctx.mutate(|s| s.ton.ledger.finalize(hash.as_ref()));
    Ok(Json(json!({"finalized": n})))
}
