//! The payment flow: pre-checkout query, the bot's answer, the charge, and what follows it
//! (successful_payment, Star transactions, subscription renewals, refunds).

use std::sync::Arc;
use std::time::Instant;

use serde_json::{json, Value};
use tokio::sync::oneshot;

use crate::ids;
use crate::params::ApiError;
use crate::state::{
    now_unix, Charge, Ctx, Invoice, PendingQuery, PreCheckoutAnswer, State, Subscription, User,
};

/// Why a control call about payments could not be done (not a Bot API error).
#[derive(Debug)]
pub enum PayError {
    UnknownInvoice,
    Refused(String),
}

/// Plays "user taps Pay": sends the pre-checkout query, waits for the bot's answer (from
/// `answerPreCheckoutQuery` or a webhook reply) up to the timeout, then charges.
/// Returns `{status: "paid"|"failed", …}`.
pub async fn pay(ctx: &Arc<Ctx>, slug: &str, user_id: i64) -> Result<Value, PayError> {
    let (tx, rx) = oneshot::channel();
    let timeout = ctx.config.precheckout_timeout;
    let (query_id, invoice, user) = ctx.mutate(|s| {
        let invoice = s
            .invoices
            .get(slug)
            .cloned()
            .ok_or(PayError::UnknownInvoice)?;
        let user = s.user(user_id);
        let query_id = ids::digits(19);
        s.queries.insert(
            query_id.clone(),
            PendingQuery {
                deadline: Instant::now() + timeout,
                answer_tx: Some(tx),
            },
        );
        s.payments_in_flight += 1;
        s.push_update(
            "pre_checkout_query",
            json!({
                "id": query_id,
                "from": user.to_api(),
                "currency": invoice.currency,
                "total_amount": invoice.total_amount,
                "invoice_payload": invoice.payload,
            }),
        );
        Ok((query_id, invoice, user))
    })?;

    let answer = tokio::time::timeout(timeout, rx).await;
    let outcome = ctx.mutate(|s| {
        s.payments_in_flight -= 1;
        // Whatever happened, this query can no longer be answered.
        if let Some(q) = s.queries.get_mut(&query_id) {
            q.answer_tx.take();
        }
        match answer {
            Ok(Ok(PreCheckoutAnswer { ok: true, .. })) => {
                let charge = charge(s, &invoice, &user, None);
                announce_payment(s, &charge, &user, true);
                json!({
                    "status": "paid",
                    "pre_checkout_query_id": query_id,
                    "telegram_payment_charge_id": charge.telegram_payment_charge_id,
                    "provider_payment_charge_id": charge.provider_payment_charge_id,
                    "subscription_expiration_date": charge.subscription.as_ref().map(|x| x.expiration_date),
                })
            }
            Ok(Ok(PreCheckoutAnswer { error_message, .. })) => json!({
                "status": "failed",
                "reason": "declined",
                "pre_checkout_query_id": query_id,
                "error_message": error_message,
            }),
            Err(_) => json!({
                "status": "failed",
                "reason": "timeout",
                "pre_checkout_query_id": query_id,
                "error_message": "The bot didn't respond in time",
            }),
            // The sender went away: the emulator was reset mid-payment.
            Ok(Err(_)) => json!({"status": "failed", "reason": "reset", "pre_checkout_query_id": query_id}),
        }
    });
    Ok(outcome)
}

/// Records a charge and queues the `successful_payment` message. `renews` is the first charge
/// of the subscription for a renewal.
fn charge(s: &mut State, invoice: &Invoice, user: &User, renews: Option<&str>) -> Charge {
    let now = now_unix();
    let stars = invoice.currency == "XTR";
    let (telegram_id, provider_id) = if stars {
        (ids::stars_charge_id(), String::new())
    } else {
        (ids::card_charge_id(), ids::provider_charge_id())
    };
    let subscription = invoice.subscription_period.map(|period| Subscription {
        period,
        expiration_date: now + period,
        is_canceled: false,
    });
    let c = Charge {
        telegram_payment_charge_id: telegram_id,
        provider_payment_charge_id: provider_id,
        user_id: user.id,
        slug: invoice.slug.clone(),
        currency: invoice.currency.clone(),
        total_amount: invoice.total_amount,
        invoice_payload: invoice.payload.clone(),
        date: now,
        refunded: false,
        subscription,
        renews: renews.map(str::to_string),
    };
    s.charges.push(c.clone());
    if stars {
        let mut source = json!({
            "type": "user",
            "transaction_type": "invoice_payment",
            "user": user.to_api(),
            "invoice_payload": invoice.payload,
        });
        if let Some(period) = invoice.subscription_period {
            source["subscription_period"] = json!(period);
        }
        // A referred buyer's payment: the affiliate's commission comes out of it, and
        // the transaction's amount is what reaches the bot.
        let total = c.total_amount * NANO;
        let mut received = total;
        if let Some(a) = s.affiliates.get(&user.id).cloned() {
            let commission = total / 1000 * a.commission_per_mille;
            received -= commission;
            let mut info = star_amount(commission);
            info["affiliate_user"] = s.user(a.affiliate_user_id).to_api();
            info["commission_per_mille"] = json!(a.commission_per_mille);
            source["affiliate"] = info;
        }
        let mut tx = star_amount(received);
        tx["id"] = json!(c.telegram_payment_charge_id);
        tx["date"] = json!(now);
        tx["source"] = source;
        s.star_transactions.push(tx);
    }
    c
}

/// Queues the user's service message carrying `successful_payment`.
fn announce_payment(s: &mut State, c: &Charge, user: &User, first: bool) {
    let mut sp = json!({
        "currency": c.currency,
        "total_amount": c.total_amount,
        "invoice_payload": c.invoice_payload,
    });
    if let Some(sub) = &c.subscription {
        sp["subscription_expiration_date"] = json!(sub.expiration_date);
        sp["is_recurring"] = json!(true);
        if first {
            sp["is_first_recurring"] = json!(true);
        }
    }
    sp["telegram_payment_charge_id"] = json!(c.telegram_payment_charge_id);
    sp["provider_payment_charge_id"] = json!(c.provider_payment_charge_id);
    let msg = s.add_message(json!({
        "from": user.to_api(),
        "chat": user.chat(),
        "date": c.date,
        "successful_payment": sp,
    }));
    s.push_update("message", msg);
}

/// The charge that started a subscription, given it or any of its renewals.
fn subscription_root(s: &State, charge_id: &str) -> Option<usize> {
    let c = s
        .charges
        .iter()
        .find(|c| c.telegram_payment_charge_id == charge_id)?;
    let root_id = c
        .renews
        .clone()
        .unwrap_or_else(|| c.telegram_payment_charge_id.clone());
    s.charges
        .iter()
        .position(|c| c.telegram_payment_charge_id == root_id && c.subscription.is_some())
}

/// Charges the next period of a subscription, as Telegram does on its own at expiry.
pub fn renew(ctx: &Ctx, charge_id: &str) -> Result<Value, PayError> {
    ctx.mutate(|s| {
        let i = subscription_root(s, charge_id)
            .ok_or_else(|| PayError::Refused("no subscription with this charge id".into()))?;
        let root = s.charges[i].clone();
        let sub = root.subscription.clone().expect("root has a subscription");
        if sub.is_canceled {
            return Err(PayError::Refused("subscription is canceled".into()));
        }
        if root.refunded {
            return Err(PayError::Refused(
                "subscription payment was refunded".into(),
            ));
        }
        let invoice = s
            .invoices
            .get(&root.slug)
            .cloned()
            .ok_or(PayError::UnknownInvoice)?;
        let user = s.user(root.user_id);
        let expiration = sub.expiration_date.max(now_unix()) + sub.period;
        let mut c = charge(s, &invoice, &user, Some(&root.telegram_payment_charge_id));
        c.subscription = Some(Subscription {
            expiration_date: expiration,
            ..sub
        });
        // The renewal's own record shows the new expiry; the root tracks the subscription.
        if let Some(last) = s.charges.last_mut() {
            last.subscription = c.subscription.clone();
        }
        if let Some(r) = s.charges[i].subscription.as_mut() {
            r.expiration_date = expiration;
        }
        announce_payment(s, &c, &user, false);
        Ok(json!({
            "status": "paid",
            "telegram_payment_charge_id": c.telegram_payment_charge_id,
            "subscription_expiration_date": expiration,
        }))
    })
}

/// `refundStarPayment`: only a paid, unrefunded Stars charge of this user.
pub fn refund(ctx: &Ctx, user_id: i64, charge_id: &str) -> Result<(), ApiError> {
    ctx.mutate(|s| {
        let c = s
            .charges
            .iter_mut()
            .find(|c| {
                c.telegram_payment_charge_id == charge_id
                    && c.user_id == user_id
                    && c.currency == "XTR"
            })
            .ok_or_else(|| ApiError::bad("CHARGE_NOT_FOUND"))?;
        if c.refunded {
            return Err(ApiError::bad("CHARGE_ALREADY_REFUNDED"));
        }
        c.refunded = true;
        if let Some(sub) = c.subscription.as_mut() {
            sub.is_canceled = true;
        }
        let c = c.clone();
        let user = s.user(user_id);
        // The refund takes back what the payment brought the bot; an affiliate's
        // commission is taken back from the affiliate (a negative amount).
        let paid = s
            .star_transactions
            .iter()
            .find(|t| t["id"] == json!(c.telegram_payment_charge_id) && t.get("source").is_some())
            .cloned()
            .unwrap_or_default();
        let mut receiver = json!({
            "type": "user",
            "transaction_type": "invoice_payment",
            "user": user.to_api(),
            "invoice_payload": c.invoice_payload,
        });
        if let Some(a) = paid["source"].get("affiliate") {
            let mut info = star_amount(-nanostars(a));
            info["affiliate_user"] = a["affiliate_user"].clone();
            info["commission_per_mille"] = a["commission_per_mille"].clone();
            receiver["affiliate"] = info;
        }
        let received = if paid.is_null() {
            c.total_amount * NANO
        } else {
            nanostars(&paid)
        };
        let mut tx = star_amount(received);
        tx["id"] = json!(c.telegram_payment_charge_id);
        tx["date"] = json!(now_unix());
        tx["receiver"] = receiver;
        s.star_transactions.push(tx);
        let msg = s.add_message(json!({
            "from": user.to_api(),
            "chat": user.chat(),
            "date": now_unix(),
            "refunded_payment": {
                "currency": c.currency,
                "total_amount": c.total_amount,
                "invoice_payload": c.invoice_payload,
                "telegram_payment_charge_id": c.telegram_payment_charge_id,
            },
        }));
        s.push_update("message", msg);
        Ok(())
    })
}

/// `editUserStarSubscription`: cancel or re-enable the next renewal.
pub fn edit_subscription(
    ctx: &Ctx,
    user_id: i64,
    charge_id: &str,
    is_canceled: bool,
) -> Result<(), ApiError> {
    ctx.mutate(|s| {
        let i = subscription_root(s, charge_id)
            .filter(|&i| s.charges[i].user_id == user_id)
            .ok_or_else(|| ApiError::bad("CHARGE_NOT_FOUND"))?;
        if let Some(sub) = s.charges[i].subscription.as_mut() {
            sub.is_canceled = is_canceled;
        }
        Ok(())
    })
}

/// Nanostars in a Star.
pub const NANO: i64 = 1_000_000_000;

/// `amount` and `nanostar_amount` of a `StarAmount`-shaped value, in nanostars.
pub fn nanostars(v: &Value) -> i64 {
    v["amount"].as_i64().unwrap_or(0) * NANO + v["nanostar_amount"].as_i64().unwrap_or(0)
}

/// `{amount, nanostar_amount?}` for `n` nanostars: both round toward zero and share the
/// sign; `nanostar_amount` is left out when zero.
pub fn star_amount(n: i64) -> Value {
    let mut v = json!({ "amount": n / NANO });
    if n % NANO != 0 {
        v["nanostar_amount"] = json!(n % NANO);
    }
    v
}
