//! The D1 store, the system of record. Each state change is one `batch` (one
//! round trip, one transaction); ids travel as JSON numbers, so D1 sees doubles, never BigInt.

use serde::Deserialize;
use serde_json::Value;

use crate::edge::bindings::{stmt, Outcome as Done, Statement, D1};

use super::{Outcome, Owed, Recorded, Store, StoreError};
use crate::shop::export::Filter;
use crate::shop::outbox::{Kind, Outgoing, Queued, Settle, LEASE};
use crate::shop::{Order, Payment};

pub struct D1Store {
    db: D1,
}

impl D1Store {
    pub fn new(db: D1) -> Self {
        D1Store { db }
    }

    /// The statements in one round trip (a batch when there are several).
    async fn run(&self, statements: Vec<Statement>) -> Result<Vec<Done>, StoreError> {
        self.db.run(statements).await.map_err(StoreError)
    }

    async fn one(&self, statement: Statement) -> Result<Done, StoreError> {
        self.db.one(statement).await.map_err(StoreError)
    }
}

fn err(e: impl std::fmt::Display) -> StoreError {
    StoreError(e.to_string())
}

fn int(n: i64) -> Value {
    n.into()
}

fn text(s: &str) -> Value {
    s.into()
}

fn opt_int(n: Option<i64>) -> Value {
    n.map_or(Value::Null, int)
}

const ORDER_COLUMNS: &str =
    "id, user_id, product_id, status, currency, amount, created_at, paid_at, \
     telegram_payment_charge_id, subscription_expiration_date, subscription_charge_id, renewal_canceled";

const PAYMENT_COLUMNS: &str = "telegram_payment_charge_id, provider_payment_charge_id, order_id, user_id, currency, \
     amount, paid_at, subscription_expiration_date, is_recurring, is_first_recurring, refunded_at, raw_update";

#[derive(Deserialize)]
struct OutboxRow {
    id: String,
    kind: String,
    order_id: Option<String>,
    chat_id: i64,
    method: String,
    params: String,
    attempts: u32,
}

impl OutboxRow {
    fn into_queued(self) -> Result<Queued, StoreError> {
        Ok(Queued {
            message: Outgoing {
                kind: Kind::parse(&self.kind)
                    .ok_or_else(|| err(format!("unknown message kind {}", self.kind)))?,
                id: self.id,
                order_id: self.order_id,
                chat_id: self.chat_id,
                method: self.method,
                params: self.params,
            },
            attempts: self.attempts,
        })
    }
}

// Rows read straight into the records: the columns are named as their fields.
fn payments(r: &Done) -> Result<Vec<Payment>, StoreError> {
    r.rows().map_err(StoreError)
}

fn orders(r: &Done) -> Result<Vec<Order>, StoreError> {
    r.rows().map_err(StoreError)
}

/// Queues `m` unless its id is queued already, and only `when` the condition
/// (SQL using `?9` on, with its values) holds. An inserted row starts leased
/// (attempt 1 in progress) to the caller.
fn queue(m: &Outgoing, now: u64, when: Option<(&str, [Value; 3])>) -> Statement {
    let (condition, values) = when.map_or(("1", None), |(c, v)| (c, Some(v)));
    let mut params = vec![
        text(&m.id),
        text(m.kind.as_str()),
        m.order_id.as_deref().map_or(Value::Null, text),
        int(m.chat_id),
        text(&m.method),
        text(&m.params),
        int((now + LEASE) as i64),
        int(now as i64),
    ];
    params.extend(values.into_iter().flatten());
    // `INSERT … SELECT` needs its WHERE so that SQLite reads ON CONFLICT as the upsert.
    stmt(
        format!(
            "INSERT INTO outbox (id, kind, order_id, chat_id, method, params, status, attempts, next_attempt_at, created_at) \
             SELECT ?1, ?2, ?3, ?4, ?5, ?6, 'pending', 1, ?7, ?8 WHERE {condition} ON CONFLICT (id) DO NOTHING"
        ),
        params,
    )
}

/// The messages whose [`queue`] statement inserted a row.
fn leased(messages: &[Outgoing], results: &[Done]) -> Vec<Queued> {
    messages
        .iter()
        .zip(results)
        .filter(|(_, r)| r.0 == 1)
        .map(|(m, _)| Queued {
            message: m.clone(),
            attempts: 1,
        })
        .collect()
}

impl Store for D1Store {
    async fn insert_order(&self, o: &Order) -> Result<(), StoreError> {
        let sql = format!("INSERT INTO orders ({ORDER_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, NULL, NULL, NULL, NULL, 0)");
        let args = vec![
            text(&o.id),
            int(o.user_id),
            text(&o.product_id),
            text(o.status.as_str()),
            text(&o.currency),
            int(o.amount),
            int(o.created_at as i64),
        ];
        self.one(stmt(sql, args)).await?;
        Ok(())
    }

    async fn order(&self, id: &str) -> Result<Option<Order>, StoreError> {
        let sql = format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id = ?1");
        Ok(orders(&self.one(stmt(sql, vec![text(id)])).await?)?.pop())
    }

    async fn orders_for_user(&self, user_id: i64, limit: usize) -> Result<Vec<Order>, StoreError> {
        let sql = format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE user_id = ?1 ORDER BY created_at DESC, id DESC LIMIT ?2"
        );
        orders(
            &self
                .one(stmt(sql, vec![int(user_id), int(limit as i64)]))
                .await?,
        )
    }

    async fn mark_failed(&self, order_id: &str) -> Result<(), StoreError> {
        let sql = "UPDATE orders SET status = 'failed' WHERE id = ?1 AND status = 'pending'";
        self.one(stmt(sql, vec![text(order_id)])).await?;
        Ok(())
    }

    async fn record_payment(
        &self,
        p: &Payment,
        update_id: i64,
        now: u64,
        owed: Option<Owed<'_>>,
    ) -> Result<Recorded, StoreError> {
        let charge = text(&p.telegram_payment_charge_id);
        let insert = stmt(
            "INSERT INTO payments (telegram_payment_charge_id, provider_payment_charge_id, order_id, user_id, currency, \
             amount, paid_at, subscription_expiration_date, is_recurring, is_first_recurring, raw_update) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) ON CONFLICT (telegram_payment_charge_id) DO NOTHING",
            vec![
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
        );
        // Order::with_payment in SQL, applied only by the batch that inserted the
        // charge (`applied = 0`), so a redelivered old charge changes nothing.
        let apply = stmt(
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
            vec![
                text(&p.order_id),
                int(p.paid_at as i64),
                charge.clone(),
                opt_int(p.subscription_expiration_date),
                int(p.is_first_recurring as i64),
            ],
        );
        let mark = stmt(
            "UPDATE payments SET applied = 1 WHERE telegram_payment_charge_id = ?1 AND applied = 0",
            vec![charge],
        );
        let seen = stmt(
            "INSERT INTO processed_updates (update_id, processed_at) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            vec![int(update_id), int(now as i64)],
        );
        let mut batch = vec![insert, apply, mark, seen];
        // Owed::holds_for in SQL, after the payment is applied.
        let owed = owed.map_or(&[][..], |o| {
            let when = (
                "EXISTS (SELECT 1 FROM orders WHERE id = ?9 AND status = 'paid' AND product_id = ?10 AND user_id = ?11)",
                [text(&p.order_id), text(o.product_id), int(o.user_id)],
            );
            batch.extend(o.messages.iter().map(|m| queue(m, now, Some(when.clone()))));
            o.messages
        });
        batch.push(stmt(
            format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id = ?1"),
            vec![text(&p.order_id)],
        ));
        let results = self.run(batch).await?;
        let outcome = if results[0].0 == 1 {
            Outcome::Applied
        } else {
            Outcome::AlreadyDone
        };
        let order = orders(results.last().expect("the batch has a read"))?.pop();
        Ok(Recorded {
            outcome,
            order,
            leased: leased(owed, &results[4..]),
        })
    }

    async fn record_refund(&self, charge_id: &str, now: u64) -> Result<Outcome, StoreError> {
        let payment = stmt(
            "UPDATE payments SET refunded_at = ?2 WHERE telegram_payment_charge_id = ?1 AND refunded_at IS NULL",
            vec![text(charge_id), int(now as i64)],
        );
        let order = stmt(
            "UPDATE orders SET status = 'refunded' WHERE status = 'paid' \
             AND id = (SELECT order_id FROM payments WHERE telegram_payment_charge_id = ?1)",
            vec![text(charge_id)],
        );
        let results = self.run(vec![payment, order]).await?;
        let changed = results.iter().map(|r| r.0).sum::<usize>();
        Ok(if changed > 0 {
            Outcome::Applied
        } else {
            Outcome::AlreadyDone
        })
    }

    async fn claim_update(&self, update_id: i64, now: u64) -> Result<bool, StoreError> {
        let r = self
            .one(stmt(
                "INSERT INTO processed_updates (update_id, processed_at) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                vec![int(update_id), int(now as i64)],
            ))
            .await?;
        Ok(r.0 == 1)
    }

    async fn payments(&self, limit: usize) -> Result<Vec<Payment>, StoreError> {
        let sql = format!("SELECT {PAYMENT_COLUMNS} FROM payments ORDER BY paid_at DESC LIMIT ?1");
        payments(&self.one(stmt(sql, vec![int(limit as i64)])).await?)
    }

    async fn expire_pending(&self, created_before: u64) -> Result<usize, StoreError> {
        let r = self
            .one(stmt(
                "UPDATE orders SET status = 'expired' WHERE status = 'pending' AND created_at < ?1",
                vec![int(created_before as i64)],
            ))
            .await?;
        Ok(r.0)
    }

    async fn prune_updates(&self, processed_before: u64) -> Result<usize, StoreError> {
        let r = self
            .one(stmt(
                "DELETE FROM processed_updates WHERE processed_at < ?1",
                vec![int(processed_before as i64)],
            ))
            .await?;
        Ok(r.0)
    }

    async fn set_renewal_canceled(&self, order_id: &str, canceled: bool) -> Result<(), StoreError> {
        self.one(stmt(
            "UPDATE orders SET renewal_canceled = ?2 WHERE id = ?1",
            vec![text(order_id), int(canceled as i64)],
        ))
        .await?;
        Ok(())
    }

    async fn export(&self, filter: &Filter) -> Result<Vec<(Order, Vec<Payment>)>, StoreError> {
        // One batch: the orders, then the payments of exactly those orders.
        let selected =
            "SELECT id FROM orders WHERE (?1 IS NULL OR status = ?1) AND created_at >= ?2 \
                        ORDER BY created_at DESC, id DESC LIMIT ?3";
        let args = vec![
            filter.status.map_or(Value::Null, |s| text(s.as_str())),
            int(filter.since.unwrap_or(0) as i64),
            int(filter.limit as i64),
        ];
        let orders_stmt = stmt(
            format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id IN ({selected}) ORDER BY created_at DESC, id DESC"),
            args.clone(),
        );
        let payments_stmt = stmt(
            format!("SELECT {PAYMENT_COLUMNS} FROM payments WHERE order_id IN ({selected})"),
            args,
        );
        let r = self.run(vec![orders_stmt, payments_stmt]).await?;
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
        let stmts = messages.iter().map(|m| queue(m, now, None)).collect();
        let results = self.run(stmts).await?;
        Ok(leased(messages, &results))
    }

    async fn lease_due(&self, now: u64, limit: usize) -> Result<Vec<Queued>, StoreError> {
        // One statement: the rows it moves past the lease are ours alone.
        let r = self
            .one(stmt(
                "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?2 \
                 WHERE id IN (SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= ?1 \
                              ORDER BY next_attempt_at LIMIT ?3) \
                 RETURNING id, kind, order_id, chat_id, method, params, attempts",
                vec![int(now as i64), int((now + LEASE) as i64), int(limit as i64)],
            ))
            .await?;
        r.rows::<OutboxRow>()
            .map_err(StoreError)?
            .into_iter()
            .map(OutboxRow::into_queued)
            .collect()
    }

    async fn settle(&self, id: &str, result: &Settle, now: u64) -> Result<(), StoreError> {
        let statement = match result {
            Settle::Sent => stmt(
                "UPDATE outbox SET status = 'sent', sent_at = ?2 WHERE id = ?1",
                vec![text(id), int(now as i64)],
            ),
            Settle::Retry { at, error } => stmt(
                "UPDATE outbox SET next_attempt_at = ?2, last_error = ?3 WHERE id = ?1 AND status = 'pending'",
                vec![text(id), int(*at as i64), text(error)],
            ),
            Settle::Failed { error } => stmt(
                "UPDATE outbox SET status = 'failed', last_error = ?2 WHERE id = ?1 AND status = 'pending'",
                vec![text(id), text(error)],
            ),
        };
        self.one(statement).await?;
        Ok(())
    }
}
