//! The D1 store, the system of record. Each state change is one `batch` (one
//! round trip, one transaction); ids are bound as f64, never as BigInt.

use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement, D1Result};

use super::{Outcome, Store, StoreError};
use crate::shop::export::Filter;
use crate::shop::outbox::{Kind, Outgoing, Queued, Settle, LEASE};
use crate::shop::{Order, OrderStatus, Payment};

pub struct D1Store {
    db: D1Database,
}

impl D1Store {
    pub fn new(db: D1Database) -> Self {
        D1Store { db }
    }

    fn stmt(&self, sql: &str, args: &[JsValue]) -> Result<D1PreparedStatement, StoreError> {
        self.db.prepare(sql).bind(args).map_err(err)
    }
}

fn err(e: impl std::fmt::Display) -> StoreError {
    StoreError(e.to_string())
}

fn int(n: i64) -> JsValue {
    JsValue::from_f64(n as f64)
}

fn text(s: &str) -> JsValue {
    JsValue::from_str(s)
}

fn opt_int(n: Option<i64>) -> JsValue {
    n.map_or(JsValue::NULL, int)
}

fn changes(r: &D1Result) -> usize {
    r.meta().ok().flatten().and_then(|m| m.changes).unwrap_or(0)
}

const ORDER_COLUMNS: &str =
    "id, user_id, product_id, status, currency, amount, created_at, paid_at, \
     telegram_payment_charge_id, subscription_expiration_date, subscription_charge_id, renewal_canceled";

const PAYMENT_COLUMNS: &str = "telegram_payment_charge_id, provider_payment_charge_id, order_id, user_id, currency, \
     amount, paid_at, subscription_expiration_date, is_recurring, is_first_recurring, refunded_at, raw_update";

#[derive(Deserialize)]
struct OrderRow {
    id: String,
    user_id: f64,
    product_id: String,
    status: String,
    currency: String,
    amount: f64,
    created_at: f64,
    paid_at: Option<f64>,
    telegram_payment_charge_id: Option<String>,
    subscription_expiration_date: Option<f64>,
    subscription_charge_id: Option<String>,
    renewal_canceled: f64,
}

impl OrderRow {
    fn into_order(self) -> Result<Order, StoreError> {
        Ok(Order {
            status: OrderStatus::parse(&self.status)
                .ok_or_else(|| err(format!("unknown status {}", self.status)))?,
            id: self.id,
            user_id: self.user_id as i64,
            product_id: self.product_id,
            currency: self.currency,
            amount: self.amount as i64,
            created_at: self.created_at as u64,
            paid_at: self.paid_at.map(|t| t as u64),
            telegram_payment_charge_id: self.telegram_payment_charge_id,
            subscription_expiration_date: self.subscription_expiration_date.map(|t| t as i64),
            subscription_charge_id: self.subscription_charge_id,
            renewal_canceled: self.renewal_canceled != 0.0,
        })
    }
}

#[derive(Deserialize)]
struct PaymentRow {
    telegram_payment_charge_id: String,
    provider_payment_charge_id: String,
    order_id: String,
    user_id: f64,
    currency: String,
    amount: f64,
    paid_at: f64,
    subscription_expiration_date: Option<f64>,
    is_recurring: f64,
    is_first_recurring: f64,
    refunded_at: Option<f64>,
    raw_update: String,
}

impl PaymentRow {
    fn into_payment(self) -> Payment {
        Payment {
            telegram_payment_charge_id: self.telegram_payment_charge_id,
            provider_payment_charge_id: self.provider_payment_charge_id,
            order_id: self.order_id,
            user_id: self.user_id as i64,
            currency: self.currency,
            amount: self.amount as i64,
            paid_at: self.paid_at as u64,
            subscription_expiration_date: self.subscription_expiration_date.map(|t| t as i64),
            is_recurring: self.is_recurring != 0.0,
            is_first_recurring: self.is_first_recurring != 0.0,
            refunded_at: self.refunded_at.map(|t| t as u64),
            raw_update: self.raw_update,
        }
    }
}

#[derive(Deserialize)]
struct OutboxRow {
    id: String,
    kind: String,
    order_id: Option<String>,
    chat_id: f64,
    method: String,
    params: String,
    attempts: f64,
}

impl OutboxRow {
    fn into_queued(self) -> Result<Queued, StoreError> {
        Ok(Queued {
            message: Outgoing {
                kind: Kind::parse(&self.kind)
                    .ok_or_else(|| err(format!("unknown message kind {}", self.kind)))?,
                id: self.id,
                order_id: self.order_id,
                chat_id: self.chat_id as i64,
                method: self.method,
                params: self.params,
            },
            attempts: self.attempts as u32,
        })
    }
}

fn payments(r: &D1Result) -> Result<Vec<Payment>, StoreError> {
    Ok(r.results::<PaymentRow>()
        .map_err(err)?
        .into_iter()
        .map(PaymentRow::into_payment)
        .collect())
}

fn orders(r: &D1Result) -> Result<Vec<Order>, StoreError> {
    r.results::<OrderRow>()
        .map_err(err)?
        .into_iter()
        .map(OrderRow::into_order)
        .collect()
}

impl Store for D1Store {
    async fn insert_order(&self, o: &Order) -> Result<(), StoreError> {
        let sql = format!("INSERT INTO orders ({ORDER_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, NULL, NULL, NULL, NULL, 0)");
        let args = [
            text(&o.id),
            int(o.user_id),
            text(&o.product_id),
            text(o.status.as_str()),
            text(&o.currency),
            int(o.amount),
            int(o.created_at as i64),
        ];
        self.stmt(&sql, &args)?.run().await.map_err(err)?;
        Ok(())
    }

    async fn order(&self, id: &str) -> Result<Option<Order>, StoreError> {
        let sql = format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id = ?1");
        let r = self.stmt(&sql, &[text(id)])?.all().await.map_err(err)?;
        Ok(orders(&r)?.pop())
    }

    async fn orders_for_user(&self, user_id: i64, limit: usize) -> Result<Vec<Order>, StoreError> {
        let sql = format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE user_id = ?1 ORDER BY created_at DESC, id DESC LIMIT ?2"
        );
        let r = self
            .stmt(&sql, &[int(user_id), int(limit as i64)])?
            .all()
            .await
            .map_err(err)?;
        orders(&r)
    }

    async fn mark_failed(&self, order_id: &str) -> Result<(), StoreError> {
        let sql = "UPDATE orders SET status = 'failed' WHERE id = ?1 AND status = 'pending'";
        self.stmt(sql, &[text(order_id)])?
            .run()
            .await
            .map_err(err)?;
        Ok(())
    }

    async fn record_payment(
        &self,
        p: &Payment,
        update_id: i64,
        now: u64,
    ) -> Result<(Outcome, Option<Order>), StoreError> {
        let charge = text(&p.telegram_payment_charge_id);
        let insert = self.stmt(
            "INSERT INTO payments (telegram_payment_charge_id, provider_payment_charge_id, order_id, user_id, currency, \
             amount, paid_at, subscription_expiration_date, is_recurring, is_first_recurring, raw_update) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) ON CONFLICT (telegram_payment_charge_id) DO NOTHING",
            &[
                charge.clone(),
                text(&p.provider_payment_charge_id),
                text(&p.order_id),
                int(p.user_id),
                text(&p.currency),
                int(p.amount),
                int(p.paid_at as i64),
                opt_int(p.subscription_expiration_date),
                int(p.is_recurring as i64),
                int(p.is_first_recurring as i64),
                text(&p.raw_update),
            ],
        )?;
        // Order::with_payment in SQL, applied only by the batch that inserted the
        // charge (`applied = 0`), so a redelivered old charge changes nothing.
        let apply = self.stmt(
            "UPDATE orders SET \
               paid_at = CASE WHEN status = 'paid' THEN paid_at ELSE ?2 END, \
               status = 'paid', \
               telegram_payment_charge_id = CASE WHEN ?4 < subscription_expiration_date \
                 THEN telegram_payment_charge_id ELSE ?3 END, \
               subscription_expiration_date = CASE WHEN ?4 IS NULL THEN subscription_expiration_date \
                 ELSE MAX(COALESCE(subscription_expiration_date, ?4), ?4) END, \
               subscription_charge_id = CASE WHEN ?4 IS NULL THEN subscription_charge_id \
                 WHEN ?5 = 1 THEN ?3 ELSE COALESCE(subscription_charge_id, ?3) END \
             WHERE id = ?1 AND status != 'refunded' \
               AND EXISTS (SELECT 1 FROM payments WHERE telegram_payment_charge_id = ?3 AND applied = 0)",
            &[
                text(&p.order_id),
                int(p.paid_at as i64),
                charge.clone(),
                opt_int(p.subscription_expiration_date),
                int(p.is_first_recurring as i64),
            ],
        )?;
        let mark = self.stmt(
            "UPDATE payments SET applied = 1 WHERE telegram_payment_charge_id = ?1 AND applied = 0",
            &[charge],
        )?;
        let seen = self.stmt(
            "INSERT INTO processed_updates (update_id, processed_at) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            &[int(update_id), int(now as i64)],
        )?;
        let read = self.stmt(
            &format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id = ?1"),
            &[text(&p.order_id)],
        )?;
        let results = self
            .db
            .batch(vec![insert, apply, mark, seen, read])
            .await
            .map_err(err)?;
        let outcome = if changes(&results[0]) == 1 {
            Outcome::Applied
        } else {
            Outcome::AlreadyDone
        };
        let order = orders(results.last().expect("the batch has a read"))?.pop();
        Ok((outcome, order))
    }

    async fn record_refund(&self, charge_id: &str, now: u64) -> Result<Outcome, StoreError> {
        let payment = self.stmt(
            "UPDATE payments SET refunded_at = ?2 WHERE telegram_payment_charge_id = ?1 AND refunded_at IS NULL",
            &[text(charge_id), int(now as i64)],
        )?;
        let order = self.stmt(
            "UPDATE orders SET status = 'refunded' WHERE status = 'paid' \
             AND id = (SELECT order_id FROM payments WHERE telegram_payment_charge_id = ?1)",
            &[text(charge_id)],
        )?;
        let results = self.db.batch(vec![payment, order]).await.map_err(err)?;
        let changed = results.iter().map(changes).sum::<usize>();
        Ok(if changed > 0 {
            Outcome::Applied
        } else {
            Outcome::AlreadyDone
        })
    }

    async fn claim_update(&self, update_id: i64, now: u64) -> Result<bool, StoreError> {
        let r = self
            .stmt(
                "INSERT INTO processed_updates (update_id, processed_at) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                &[int(update_id), int(now as i64)],
            )?
            .run()
            .await
            .map_err(err)?;
        Ok(changes(&r) == 1)
    }

    async fn payments(&self, limit: usize) -> Result<Vec<Payment>, StoreError> {
        let sql = format!("SELECT {PAYMENT_COLUMNS} FROM payments ORDER BY paid_at DESC LIMIT ?1");
        let r = self
            .stmt(&sql, &[int(limit as i64)])?
            .all()
            .await
            .map_err(err)?;
        payments(&r)
    }

    async fn expire_pending(&self, created_before: u64) -> Result<usize, StoreError> {
        let r = self
            .stmt(
                "UPDATE orders SET status = 'expired' WHERE status = 'pending' AND created_at < ?1",
                &[int(created_before as i64)],
            )?
            .run()
            .await
            .map_err(err)?;
        Ok(changes(&r))
    }

    async fn prune_updates(&self, processed_before: u64) -> Result<usize, StoreError> {
        let r = self
            .stmt(
                "DELETE FROM processed_updates WHERE processed_at < ?1",
                &[int(processed_before as i64)],
            )?
            .run()
            .await
            .map_err(err)?;
        Ok(changes(&r))
    }

    async fn set_renewal_canceled(&self, order_id: &str, canceled: bool) -> Result<(), StoreError> {
        self.stmt(
            "UPDATE orders SET renewal_canceled = ?2 WHERE id = ?1",
            &[text(order_id), int(canceled as i64)],
        )?
        .run()
        .await
        .map_err(err)?;
        Ok(())
    }

    async fn export(&self, filter: &Filter) -> Result<Vec<(Order, Vec<Payment>)>, StoreError> {
        // One batch: the orders, then the payments of exactly those orders.
        let selected =
            "SELECT id FROM orders WHERE (?1 IS NULL OR status = ?1) AND created_at >= ?2 \
                        ORDER BY created_at DESC, id DESC LIMIT ?3";
        let args = [
            filter.status.map_or(JsValue::NULL, |s| text(s.as_str())),
            int(filter.since.unwrap_or(0) as i64),
            int(filter.limit as i64),
        ];
        let orders_stmt = self.stmt(
            &format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id IN ({selected}) ORDER BY created_at DESC, id DESC"),
            &args,
        )?;
        let payments_stmt = self.stmt(
            &format!("SELECT {PAYMENT_COLUMNS} FROM payments WHERE order_id IN ({selected})"),
            &args,
        )?;
        let r = self
            .db
            .batch(vec![orders_stmt, payments_stmt])
            .await
            .map_err(err)?;
        let mut by_order: std::collections::HashMap<String, Vec<Payment>> = Default::default();
        for p in payments(&r[1])? {
            by_order.entry(p.order_id.clone()).or_default().push(p);
        }
        Ok(orders(&r[0])?
            .into_iter()
            .map(|o| {
                let p = by_order.remove(&o.id).unwrap_or_default();
                (o, p)
            })
            .collect())
    }

    async fn enqueue(&self, messages: &[Outgoing], now: u64) -> Result<Vec<Queued>, StoreError> {
        if messages.is_empty() {
            return Ok(Vec::new());
        }
        // Inserted rows start leased (attempt 1 in progress) to this caller.
        let stmts = messages
            .iter()
            .map(|m| {
                self.stmt(
                    "INSERT INTO outbox (id, kind, order_id, chat_id, method, params, status, attempts, next_attempt_at, created_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', 1, ?7, ?8) ON CONFLICT (id) DO NOTHING",
                    &[
                        text(&m.id),
                        text(m.kind.as_str()),
                        m.order_id.as_deref().map_or(JsValue::NULL, text),
                        int(m.chat_id),
                        text(&m.method),
                        text(&m.params),
                        int((now + LEASE) as i64),
                        int(now as i64),
                    ],
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        let results = self.db.batch(stmts).await.map_err(err)?;
        Ok(messages
            .iter()
            .zip(&results)
            .filter(|(_, r)| changes(r) == 1)
            .map(|(m, _)| Queued {
                message: m.clone(),
                attempts: 1,
            })
            .collect())
    }

    async fn lease_due(&self, now: u64, limit: usize) -> Result<Vec<Queued>, StoreError> {
        // One statement: the rows it moves past the lease are ours alone.
        let r = self
            .stmt(
                "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?2 \
                 WHERE id IN (SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= ?1 \
                              ORDER BY next_attempt_at LIMIT ?3) \
                 RETURNING id, kind, order_id, chat_id, method, params, attempts",
                &[int(now as i64), int((now + LEASE) as i64), int(limit as i64)],
            )?
            .all()
            .await
            .map_err(err)?;
        r.results::<OutboxRow>()
            .map_err(err)?
            .into_iter()
            .map(OutboxRow::into_queued)
            .collect()
    }

    async fn settle(&self, id: &str, result: &Settle, now: u64) -> Result<(), StoreError> {
        let stmt = match result {
            Settle::Sent => self.stmt(
                "UPDATE outbox SET status = 'sent', sent_at = ?2 WHERE id = ?1",
                &[text(id), int(now as i64)],
            )?,
            Settle::Retry { at, error } => self.stmt(
                "UPDATE outbox SET next_attempt_at = ?2, last_error = ?3 WHERE id = ?1 AND status = 'pending'",
                &[text(id), int(*at as i64), text(error)],
            )?,
            Settle::Failed { error } => self.stmt(
                "UPDATE outbox SET status = 'failed', last_error = ?2 WHERE id = ?1 AND status = 'pending'",
                &[text(id), text(error)],
            )?,
        };
        stmt.run().await.map_err(err)?;
        Ok(())
    }
}
