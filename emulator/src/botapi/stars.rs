//! The Stars methods a bot uses after a payment: `refundStarPayment`, `getStarTransactions`,
//! `getMyStarBalance` and `editUserStarSubscription`. Here their parameters are read; the ledger and the
//! subscriptions they change are kept by `crate::payments`.

use serde_json::{json, Value};

use crate::params::{ApiError, ApiResult, Params};
use crate::payments;
use crate::state::Ctx;

pub(super) fn refund_star_payment(ctx: &Ctx, p: &Params) -> ApiResult {
    let user_id = p
        .int("user_id")?
        .ok_or_else(|| ApiError::bad("invalid user_id specified"))?;
    let charge = p.str_req("telegram_payment_charge_id")?;
    payments::refund(ctx, user_id, &charge).map(|_| json!(true))
}

pub(super) fn get_star_transactions(ctx: &Ctx, p: &Params) -> ApiResult {
    let offset = p.int_clamped("offset", 0, 0, i64::MAX)? as usize;
    let limit = p.int_clamped("limit", 100, 1, 100)? as usize;
    let s = ctx.lock();
    let list: Vec<Value> = s
        .star_transactions
        .iter()
        .skip(offset)
        .take(limit)
        .cloned()
        .collect();
    Ok(json!({"transactions": list}))
}

/// `getMyStarBalance`: a `StarAmount`, the sum of the bot's Star transactions (payments
/// in, refunds out), each its `amount` and `nanostar_amount`. Both parts round toward
/// zero and share the sign, as Telegram's `StarAmount` has them.
pub(super) fn get_my_star_balance(ctx: &Ctx) -> ApiResult {
    let s = ctx.lock();
    let nanostars: i64 = s
        .star_transactions
        .iter()
        .map(|t| {
            let n = payments::nanostars(t);
            if t.get("receiver").is_some() {
                -n
            } else {
                n
            }
        })
        .sum();
    Ok(payments::star_amount(nanostars))
}

pub(super) fn edit_user_star_subscription(ctx: &Ctx, p: &Params) -> ApiResult {
    let user_id = p
        .int("user_id")?
        .ok_or_else(|| ApiError::bad("invalid user_id specified"))?;
    let charge = p.str_req("telegram_payment_charge_id")?;
    let canceled = p
        .bool("is_canceled")?
        .ok_or_else(|| ApiError::missing("is_canceled"))?;
    payments::edit_subscription(ctx, user_id, &charge, canceled).map(|_| json!(true))
}
