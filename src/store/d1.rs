//! The D1 store, the system of record: SQL over any [`Database`] (D1 in the
//! worker, SQLite in native tests). Each state change is one batch: one round
//! trip, one transaction.

use super::rows::{OrderRow, OutboxRow, PaymentRow};
use super::sql::{Database, Outcome as _, Statement, Value};
use super::{Outcome, Owed, Recorded, Store, StoreError};
use crate::shop::export::Filter;
use crate::shop::outbox::{Outgoing, Queued, Settle, LEASE};
use crate::shop::{Order, Payment};
use crate::sql;

pub struct D1Store<D> {
    db: D,
}

impl<D: Database> D1Store<D> {
    pub fn new(db: D) -> Self {
        D1Store { db }
    }

    /// The database, for tests that look behind the store.
    pub fn database(&self) -> &D {
        &self.db
    }

    async fn one(&self, statement: Statement) -> Result<D::Outcome, StoreError> {
        let mut out = self.db.batch(vec![statement]).await?;
        out.pop()
            .ok_or_else(|| StoreError("the database answered no result".into()))
    }
}

const ORDER_COLUMNS: &str =
    "id, user_id, product_id, status, currency, amount, created_at, paid_at, \
     telegram_payment_charge_id, subscription_expiration_date, subscription_charge_id, renewal_canceled";

const PAYMENT_COLUMNS: &str = "telegram_payment_charge_id, provider_payment_charge_id, order_id, user_id, currency, \
     amount, paid_at, subscription_expiration_date, is_recurring, is_first_recurring, refunded_at, raw_update";

fn orders(outcome: &impl super::sql::Outcome) -> Result<Vec<Order>, StoreError> {
    outcome
        .rows::<OrderRow>()?
        .into_iter()
        .map(Order::try_from)
        .collect()
}

fn payments(outcome: &impl super::sql::Outcome) -> Result<Vec<Payment>, StoreError> {
    Ok(outcome
        .rows::<PaymentRow>()?
        .into_iter()
        .map(Payment::from)
        .collect())
}

/// Whether the order read after a payment is the one its goods are owed for.
#[derive(serde::Deserialize)]
struct Held {
    owed: Option<i64>,
}

/// Queues `m` unless its id is queued already, and only `when` the condition
/// (SQL using `?9` on, with its values) holds. An inserted row starts leased
/// (attempt 1 in progress) to the caller.
fn queue(m: &Outgoing, now: u64, when: Option<(&str, &[Value])>) -> Statement {
    let (condition, values) = when.unwrap_or(("1", &[]));
    let mut statement = sql!(
        // `INSERT … SELECT` needs its WHERE so that SQLite reads ON CONFLICT as the upsert.
        format!(
            "INSERT INTO outbox (id, kind, order_id, chat_id, method, params, status, attempts, next_attempt_at, created_at) \
             SELECT ?1, ?2, ?3, ?4, ?5, ?6, 'pending', 1, ?7, ?8 WHERE {condition} ON CONFLICT (id) DO NOTHING"
        ),
        &m.id,
        m.kind.as_str(),
        m.order_id.as_ref(),
        m.chat_id,
        &m.method,
        &m.params,
        now + LEASE,
        now,
    );
    statement.params.extend_from_slice(values);
    statement
}

/// The messages whose [`queue`] statement inserted a row.
fn leased(messages: &[Outgoing], results: &[impl super::sql::Outcome]) -> Vec<Queued> {
    messages
        .iter()
        .zip(results)
        .filter(|(_, r)| r.changes() == 1)
        .map(|(m, _)| Queued {
            message: m.clone(),
            attempts: 1,
        })
        .collect()
}

fn done_if(changed: bool) -> Outcome {
    if changed {
        Outcome::Applied
    } else {
        Outcome::AlreadyDone
    }
}

impl<D: Database> Store for D1Store<D> {
    async fn insert_order(&self, o: &Order) -> Result<(), StoreError> {
        self.one(sql!(
            format!("INSERT INTO orders ({ORDER_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, NULL, NULL, NULL, NULL, 0)"),
            &o.id,
            o.user_id,
            &o.product_id,
            o.status.as_str(),
            &o.currency,
            o.amount,
            o.created_at,
        ))
        .await?;
        Ok(())
    }

    async fn insert_pending_order(
        &self,
        o: &Order,
        max_pending: usize,
    ) -> Result<bool, StoreError> {
        // One statement, so the count and the insert cannot interleave with
        // another request's (`orders_by_user` finds the user's rows).
        let r = self
            .one(sql!(
                format!(
                    "INSERT INTO orders ({ORDER_COLUMNS}) \
                     SELECT ?1, ?2, ?3, 'pending', ?4, ?5, ?6, NULL, NULL, NULL, NULL, 0 \
                     WHERE (SELECT COUNT(*) FROM orders WHERE user_id = ?2 AND status = 'pending') < ?7"
                ),
                &o.id,
                o.user_id,
                &o.product_id,
                &o.currency,
                o.amount,
                o.created_at,
                max_pending,
            ))
            .await?;
        Ok(r.changes() == 1)
    }

    async fn order(&self, id: &str) -> Result<Option<Order>, StoreError> {
        let sql = format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id = ?1");
        Ok(orders(&self.one(sql!(sql, id)).await?)?.pop())
    }

    async fn orders_for_user(&self, user_id: i64, limit: usize) -> Result<Vec<Order>, StoreError> {
        let sql = format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE user_id = ?1 ORDER BY created_at DESC, id DESC LIMIT ?2"
        );
        orders(&self.one(sql!(sql, user_id, limit)).await?)
    }

    async fn mark_failed(&self, order_id: &str) -> Result<(), StoreError> {
        self.one(sql!(
            "UPDATE orders SET status = 'failed' WHERE id = ?1 AND status = 'pending'",
            order_id
        ))
        .await?;
        Ok(())
    }

    async fn record_payment(
        &self,
        p: &Payment,
        update_id: i64,
        now: u64,
        owed: Option<Owed<'_>>,
    ) -> Result<Recorded, StoreError> {
        let charge = &p.telegram_payment_charge_id;
        let insert = sql!(
            "INSERT INTO payments (telegram_payment_charge_id, provider_payment_charge_id, order_id, user_id, currency, \
             amount, paid_at, subscription_expiration_date, is_recurring, is_first_recurring, raw_update) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) ON CONFLICT (telegram_payment_charge_id) DO NOTHING",
            charge,
            &p.provider_payment_charge_id,
            &p.order_id,
            p.user_id,
            &p.currency,
            p.amount,
            p.paid_at,
            p.subscription_expiration_date,
            p.is_recurring,
            p.is_first_recurring,
            &p.raw_update,
        );
        // How a payment changes its order (see `shop::order`), applied only by
        // the batch that inserted the charge (`applied = 0`), so a redelivered
        // old charge changes nothing: the first payment makes the order paid;
        // the order points at its latest charge, and an older subscription
        // period never takes that pointer or the end date back; the first
        // charge names the subscription; a refunded order stays refunded.
        let apply = sql!(
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
            &p.order_id,
            p.paid_at,
            charge,
            p.subscription_expiration_date,
            p.is_first_recurring,
        );
        let mark = sql!(
            "UPDATE payments SET applied = 1 WHERE telegram_payment_charge_id = ?1 AND applied = 0",
            charge
        );
        let seen = sql!(
            "INSERT INTO processed_updates (update_id, processed_at) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            update_id,
            now
        );
        let mut batch = vec![insert, apply, mark, seen];
        // What the payment owes is queued only if the order, with the payment
        // applied, is the one the invoice named: paid, this product, this buyer.
        // The final read says whether that held (`owed`: 1, 0, or NULL when
        // nothing is owed).
        let (owed_sql, owed_params, owed_messages) = match owed {
            Some(o) => {
                let values = vec![
                    Value::from(&p.order_id),
                    Value::from(o.product_id),
                    Value::from(o.user_id),
                ];
                let when = "EXISTS (SELECT 1 FROM orders WHERE id = ?9 AND status = 'paid' \
                            AND product_id = ?10 AND user_id = ?11)";
                batch.extend(
                    o.messages
                        .iter()
                        .map(|m| queue(m, now, Some((when, &values)))),
                );
                let held = "(status = 'paid' AND product_id = ?2 AND user_id = ?3)";
                (held, values[1..].to_vec(), o.messages)
            }
            None => ("NULL", Vec::new(), &[][..]),
        };
        let mut read = sql!(
            format!("SELECT {ORDER_COLUMNS}, {owed_sql} AS owed FROM orders WHERE id = ?1"),
            &p.order_id
        );
        read.params.extend(owed_params);
        batch.push(read);
        let results = self.db.batch(batch).await?;
        let last = results.last().expect("the batch ends with a read");
        let held = last
            .rows::<Held>()?
            .first()
            .is_some_and(|h| h.owed == Some(1));
        Ok(Recorded {
            outcome: done_if(results[0].changes() == 1),
            order: orders(last)?.pop(),
            owed: held.then(|| leased(owed_messages, &results[4..])),
        })
    }

    async fn record_refund(&self, charge_id: &str, now: u64) -> Result<Outcome, StoreError> {
        let payment = sql!(
            "UPDATE payments SET refunded_at = ?2 WHERE telegram_payment_charge_id = ?1 AND refunded_at IS NULL",
            charge_id,
            now
        );
        let order = sql!(
            "UPDATE orders SET status = 'refunded' WHERE status = 'paid' \
             AND id = (SELECT order_id FROM payments WHERE telegram_payment_charge_id = ?1)",
            charge_id
        );
        let results = self.db.batch(vec![payment, order]).await?;
        Ok(done_if(results.iter().any(|r| r.changes() > 0)))
    }

    async fn claim_update(&self, update_id: i64, now: u64) -> Result<bool, StoreError> {
        let r = self
            .one(sql!(
                "INSERT INTO processed_updates (update_id, processed_at) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                update_id,
                now
            ))
            .await?;
        Ok(r.changes() == 1)
    }

    async fn payments(&self, limit: usize) -> Result<Vec<Payment>, StoreError> {
        let sql = format!("SELECT {PAYMENT_COLUMNS} FROM payments ORDER BY paid_at DESC LIMIT ?1");
        payments(&self.one(sql!(sql, limit)).await?)
    }

    async fn expire_pending(&self, created_before: u64) -> Result<usize, StoreError> {
        let r = self
            .one(sql!(
                "UPDATE orders SET status = 'expired' WHERE status = 'pending' AND created_at < ?1",
                created_before
            ))
            .await?;
        Ok(r.changes())
    }

    async fn prune_updates(&self, processed_before: u64) -> Result<usize, StoreError> {
        let r = self
            .one(sql!(
                "DELETE FROM processed_updates WHERE processed_at < ?1",
                processed_before
            ))
            .await?;
        Ok(r.changes())
    }

    async fn set_renewal_canceled(&self, order_id: &str, canceled: bool) -> Result<(), StoreError> {
        self.one(sql!(
            "UPDATE orders SET renewal_canceled = ?2 WHERE id = ?1",
            order_id,
            canceled
        ))
        .await?;
        Ok(())
    }

    async fn export(&self, filter: &Filter) -> Result<Vec<(Order, Vec<Payment>)>, StoreError> {
        // One batch: the orders, then the payments of exactly those orders.
        let selected =
            "SELECT id FROM orders WHERE (?1 IS NULL OR status = ?1) AND created_at >= ?2 \
                        ORDER BY created_at DESC, id DESC LIMIT ?3";
        let params = vec![
            Value::from(filter.status.map(|s| s.as_str())),
            Value::from(filter.since.unwrap_or(0)),
            Value::from(filter.limit),
        ];
        let orders_stmt = Statement {
            sql: format!(
                "SELECT {ORDER_COLUMNS} FROM orders WHERE id IN ({selected}) ORDER BY created_at DESC, id DESC"
            ),
            params: params.clone(),
        };
        let payments_stmt = Statement {
            sql: format!("SELECT {PAYMENT_COLUMNS} FROM payments WHERE order_id IN ({selected})"),
            params,
        };
        let r = self.db.batch(vec![orders_stmt, payments_stmt]).await?;
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
        let statements = messages.iter().map(|m| queue(m, now, None)).collect();
        let results = self.db.batch(statements).await?;
        Ok(leased(messages, &results))
    }

    async fn lease_due(&self, now: u64, limit: usize) -> Result<Vec<Queued>, StoreError> {
        // One statement: the rows it moves past the lease are ours alone.
        let r = self
            .one(sql!(
                "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?2 \
                 WHERE id IN (SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= ?1 \
                              ORDER BY next_attempt_at LIMIT ?3) \
                 RETURNING id, kind, order_id, chat_id, method, params, status, attempts, next_attempt_at, last_error",
                now,
                now + LEASE,
                limit
            ))
            .await?;
        r.rows::<OutboxRow>()?
            .into_iter()
            .map(OutboxRow::into_queued)
            .collect()
    }

    async fn settle(&self, id: &str, result: &Settle, now: u64) -> Result<(), StoreError> {
        let statement = match result {
            Settle::Sent => sql!(
                "UPDATE outbox SET status = 'sent', sent_at = ?2 WHERE id = ?1",
                id,
                now
            ),
            Settle::Retry { at, error } => sql!(
                "UPDATE outbox SET next_attempt_at = ?2, last_error = ?3 WHERE id = ?1 AND status = 'pending'",
                id,
                *at,
                error
            ),
            Settle::Failed { error } => sql!(
                "UPDATE outbox SET status = 'failed', last_error = ?2 WHERE id = ?1 AND status = 'pending'",
                id,
                error
            ),
            Settle::Deferred { at } => sql!(
                "UPDATE outbox SET next_attempt_at = ?2, attempts = MAX(attempts - 1, 0) \
                 WHERE id = ?1 AND status = 'pending'",
                id,
                *at
            ),
        };
        self.one(statement).await?;
        Ok(())
    }
}
