//! The D1 store, the system of record: SQL over any [`Database`] (D1 in the
//! worker, SQLite in native tests). Each state change is one batch: one round
//! trip, one transaction.

use super::rows::{AccessLinkRow, MemberRow, OrderRow, OutboxRow, PaymentRow, WalletRow};
use super::sql::{Database, Outcome as _, Statement, Value};
use super::{Outcome, Owed, Recorded, Store, StoreError};
use crate::shop::access::{AccessLink, Member};
use crate::shop::export::{Exported, Filter};
use crate::shop::outbox::{Outgoing, Queued, Settle, Tracked, LEASE};
use crate::shop::ton::TonWallet;
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
     telegram_payment_charge_id, subscription_expiration_date, subscription_charge_id, renewal_canceled, \
     join_request_query_id, language, username";

const OUTBOX_COLUMNS: &str = "id, kind, order_id, chat_id, method, params, status, attempts, \
     next_attempt_at, last_error, sent_at";

const PAYMENT_COLUMNS: &str = "telegram_payment_charge_id, provider_payment_charge_id, order_id, user_id, currency, \
     amount, paid_at, subscription_expiration_date, is_recurring, is_first_recurring, refunded_at, raw_update";

const LINK_COLUMNS: &str =
    "order_id, chat_id, user_id, invite_link, app_url, created_at, revoked_at";

const WALLET_COLUMNS: &str = "user_id, address, friendly, network, public_key, version, linked_at";

const MEMBER_COLUMNS: &str = "chat_id, user_id, status, until_date, updated_at";

fn links(outcome: &impl super::sql::Outcome) -> Result<Vec<AccessLink>, StoreError> {
    Ok(outcome
        .rows::<AccessLinkRow>()?
        .into_iter()
        .map(AccessLink::from)
        .collect())
}

fn members(outcome: &impl super::sql::Outcome) -> Result<Vec<Member>, StoreError> {
    Ok(outcome
        .rows::<MemberRow>()?
        .into_iter()
        .map(Member::from)
        .collect())
}

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

/// A new order's row, inserted only when `condition` (SQL over the order's
/// values ?1–?10 and `values` from ?11 on) holds.
fn insert_order_when(o: &Order, condition: &str, values: Vec<Value>) -> Statement {
    let mut statement = sql!(
        format!(
            "INSERT INTO orders ({ORDER_COLUMNS}) \
             SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, NULL, NULL, NULL, NULL, 0, ?8, ?9, ?10 WHERE {condition}"
        ),
        &o.id,
        o.user_id,
        &o.product_id,
        o.status.as_str(),
        &o.currency,
        o.amount,
        o.created_at,
        o.join_request_query_id.as_ref(),
        o.language.code(),
        o.username.as_ref(),
    );
    statement.params.extend(values);
    statement
}

impl<D: Database> Store for D1Store<D> {
    async fn insert_order(&self, o: &Order) -> Result<(), StoreError> {
        self.one(insert_order_when(o, "1", Vec::new())).await?;
        Ok(())
    }

    async fn insert_pending_order(
        &self,
        o: &Order,
        max_pending: usize,
    ) -> Result<bool, StoreError> {
        // One statement, so the count and the insert cannot interleave with
        // another request's (`orders_by_user` finds the user's rows).
        let under_cap =
            "(SELECT COUNT(*) FROM orders WHERE user_id = ?2 AND status = 'pending') < ?11";
        let r = self
            .one(insert_order_when(
                o,
                under_cap,
                vec![Value::from(max_pending)],
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
        update_id: Option<i64>,
        now: u64,
        owed: Option<Owed<'_>>,
    ) -> Result<Recorded, StoreError> {
        let charge = &p.telegram_payment_charge_id;
        let insert = sql!(
            "INSERT INTO payments (telegram_payment_charge_id, provider_payment_charge_id, order_id, user_id, currency, \
             amount, paid_at, subscription_expiration_date, is_recurring, is_first_recurring, raw_update) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) ON CONFLICT DO NOTHING",
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
            "INSERT INTO processed_updates (update_id, processed_at) SELECT ?1, ?2 \
             WHERE ?1 IS NOT NULL ON CONFLICT DO NOTHING",
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

    async fn payments_since(&self, since: u64, limit: usize) -> Result<Vec<Payment>, StoreError> {
        let sql = format!(
            "SELECT {PAYMENT_COLUMNS} FROM payments WHERE paid_at >= ?1 OR refunded_at >= ?1 \
             ORDER BY paid_at DESC LIMIT ?2"
        );
        payments(&self.one(sql!(sql, since, limit)).await?)
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

    async fn export(&self, filter: &Filter) -> Result<Vec<Exported>, StoreError> {
        // One batch: the orders, then the payments and links of exactly those orders.
        // `Filter::admits` in SQL (usernames are ASCII: `lower` and
        // `to_ascii_lowercase` agree).
        let selected =
            "SELECT id FROM orders WHERE (?1 IS NULL OR status = ?1) AND created_at >= ?2 \
             AND (?4 IS NULL OR id = ?4 OR user_id = ?5 OR (?6 <> '' AND lower(username) = ?6)) \
             AND (?7 IS NULL OR product_id = ?7) AND (?8 IS NULL OR currency = ?8) AND (?9 IS NULL OR id = ?9) \
             ORDER BY created_at DESC, id DESC LIMIT ?3";
        let search = filter.search.as_ref();
        let params = vec![
            Value::from(filter.status.map(|s| s.as_str())),
            Value::from(filter.since.unwrap_or(0)),
            Value::from(filter.limit),
            Value::from(search.map(|q| &q.text)),
            Value::from(search.and_then(|q| q.user_id)),
            Value::from(search.map_or("", |q| q.username.as_str())),
            Value::from(filter.product.as_ref()),
            Value::from(filter.currency.as_ref()),
            Value::from(filter.order_id.as_ref()),
        ];
        let statement = |sql: String| Statement {
            sql,
            params: params.clone(),
        };
        let r = self
            .db
            .batch(vec![
                statement(format!(
                    "SELECT {ORDER_COLUMNS} FROM orders WHERE id IN ({selected}) ORDER BY created_at DESC, id DESC"
                )),
                statement(format!(
                    "SELECT {PAYMENT_COLUMNS} FROM payments WHERE order_id IN ({selected})"
                )),
                statement(format!(
                    "SELECT {LINK_COLUMNS} FROM access_links WHERE order_id IN ({selected})"
                )),
            ])
            .await?;
        let mut by_order: std::collections::HashMap<String, Vec<Payment>> = Default::default();
        for p in payments(&r[1])? {
            by_order.entry(p.order_id.clone()).or_default().push(p);
        }
        let mut links: std::collections::HashMap<String, AccessLink> = links(&r[2])?
            .into_iter()
            .map(|l| (l.order_id.clone(), l))
            .collect();
        Ok(orders(&r[0])?
            .into_iter()
            .map(|order| Exported {
                payments: by_order.remove(&order.id).unwrap_or_default(),
                link: links.remove(&order.id),
                order,
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

    async fn queued(&self, prefix: &str, limit: usize) -> Result<Vec<Tracked>, StoreError> {
        let r = self
            .one(sql!(
                format!("SELECT {OUTBOX_COLUMNS} FROM outbox WHERE substr(id, 1, length(?1)) = ?1 ORDER BY created_at DESC, id DESC LIMIT ?2"),
                prefix,
                limit
            ))
            .await?;
        r.rows::<OutboxRow>()?
            .into_iter()
            .map(OutboxRow::into_tracked)
            .collect()
    }

    async fn outbox_for_order(&self, order_id: &str) -> Result<Vec<Tracked>, StoreError> {
        let sql = format!(
            "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE order_id = ?1 ORDER BY created_at, id LIMIT 100"
        );
        let r = self.one(sql!(sql, order_id)).await?;
        r.rows::<OutboxRow>()?
            .into_iter()
            .map(OutboxRow::into_tracked)
            .collect()
    }

    async fn access_link(&self, order_id: &str) -> Result<Option<AccessLink>, StoreError> {
        let sql = format!("SELECT {LINK_COLUMNS} FROM access_links WHERE order_id = ?1");
        Ok(links(&self.one(sql!(sql, order_id)).await?)?.pop())
    }

    async fn save_access_link(&self, l: &AccessLink) -> Result<AccessLink, StoreError> {
        let insert = sql!(
            format!("INSERT INTO access_links ({LINK_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (order_id) DO NOTHING"),
            &l.order_id,
            l.chat_id,
            l.user_id,
            &l.invite_link,
            &l.app_url,
            l.created_at,
            l.revoked_at,
        );
        let read = sql!(
            format!("SELECT {LINK_COLUMNS} FROM access_links WHERE order_id = ?1"),
            &l.order_id
        );
        let r = self.db.batch(vec![insert, read]).await?;
        links(&r[1])?
            .pop()
            .ok_or_else(|| StoreError("the link just kept is not there".into()))
    }

    async fn access_links_for_user(&self, user_id: i64) -> Result<Vec<AccessLink>, StoreError> {
        let sql = format!(
            "SELECT {LINK_COLUMNS} FROM access_links WHERE user_id = ?1 ORDER BY created_at DESC, order_id DESC"
        );
        links(&self.one(sql!(sql, user_id)).await?)
    }

    async fn revoke_access_link(&self, order_id: &str, now: u64) -> Result<(), StoreError> {
        self.one(sql!(
            "UPDATE access_links SET revoked_at = ?2 WHERE order_id = ?1 AND revoked_at IS NULL",
            order_id,
            now
        ))
        .await?;
        Ok(())
    }

    async fn ended_access(
        &self,
        ended_before: u64,
        limit: usize,
    ) -> Result<Vec<(Order, AccessLink)>, StoreError> {
        let candidates =
            "SELECT l.order_id FROM access_links l JOIN orders o ON o.id = l.order_id \
                          WHERE l.revoked_at IS NULL \
                            AND (o.status != 'paid' OR o.subscription_expiration_date < ?1) \
                          ORDER BY l.created_at LIMIT ?2";
        let statement = |sql: String| sql!(sql, ended_before, limit);
        let r = self
            .db
            .batch(vec![
                statement(format!(
                    "SELECT {ORDER_COLUMNS} FROM orders WHERE id IN ({candidates})"
                )),
                statement(format!(
                    "SELECT {LINK_COLUMNS} FROM access_links WHERE order_id IN ({candidates})"
                )),
            ])
            .await?;
        let mut links: std::collections::HashMap<String, AccessLink> = links(&r[1])?
            .into_iter()
            .map(|l| (l.order_id.clone(), l))
            .collect();
        Ok(orders(&r[0])?
            .into_iter()
            .filter_map(|o| {
                let link = links.remove(&o.id)?;
                Some((o, link))
            })
            .collect())
    }

    async fn record_member(&self, m: &Member) -> Result<(), StoreError> {
        self.one(sql!(
            "INSERT INTO chat_members (chat_id, user_id, status, until_date, updated_at) VALUES (?1, ?2, ?3, ?4, ?5) \
             ON CONFLICT (chat_id, user_id) DO UPDATE SET status = excluded.status, until_date = excluded.until_date, \
             updated_at = excluded.updated_at WHERE excluded.updated_at >= chat_members.updated_at",
            m.chat_id,
            m.user_id,
            &m.status,
            m.until_date,
            m.updated_at
        ))
        .await?;
        Ok(())
    }

    async fn member(&self, chat_id: i64, user_id: i64) -> Result<Option<Member>, StoreError> {
        let r = self
            .one(sql!(
                format!(
                    "SELECT {MEMBER_COLUMNS} FROM chat_members WHERE chat_id = ?1 AND user_id = ?2"
                ),
                chat_id,
                user_id
            ))
            .await?;
        Ok(members(&r)?.pop())
    }

    async fn members(&self, chat_id: i64) -> Result<Vec<Member>, StoreError> {
        let r = self
            .one(sql!(
                format!(
                    "SELECT {MEMBER_COLUMNS} FROM chat_members WHERE chat_id = ?1 ORDER BY user_id"
                ),
                chat_id
            ))
            .await?;
        members(&r)
    }

    async fn fact(&self, key: &str) -> Result<Option<String>, StoreError> {
        #[derive(serde::Deserialize)]
        struct Fact {
            value: String,
        }
        let r = self
            .one(sql!("SELECT value FROM facts WHERE key = ?1", key))
            .await?;
        Ok(r.rows::<Fact>()?.pop().map(|f| f.value))
    }

    async fn set_fact(&self, key: &str, value: &str, now: u64) -> Result<(), StoreError> {
        self.one(sql!(
            "INSERT INTO facts (key, value, updated_at) VALUES (?1, ?2, ?3) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            key,
            value,
            now
        ))
        .await?;
        Ok(())
    }

    async fn issue_ton_payload(
        &self,
        payload: &str,
        user_id: i64,
        now: u64,
    ) -> Result<(), StoreError> {
        self.one(sql!(
            "INSERT INTO ton_proof_payloads (payload, user_id, created_at) VALUES (?1, ?2, ?3)",
            payload,
            user_id,
            now
        ))
        .await?;
        Ok(())
    }

    async fn consume_ton_payload(
        &self,
        payload: &str,
        user_id: i64,
        now: u64,
    ) -> Result<Option<u64>, StoreError> {
        #[derive(serde::Deserialize)]
        struct Issued {
            created_at: u64,
        }
        // One statement: of two proofs racing with one payload, one finds it unused.
        let r = self
            .one(sql!(
                "UPDATE ton_proof_payloads SET used_at = ?3 \
                 WHERE payload = ?1 AND user_id = ?2 AND used_at IS NULL RETURNING created_at",
                payload,
                user_id,
                now
            ))
            .await?;
        Ok(r.rows::<Issued>()?.pop().map(|i| i.created_at))
    }

    async fn prune_ton_payloads(&self, issued_before: u64) -> Result<usize, StoreError> {
        let r = self
            .one(sql!(
                "DELETE FROM ton_proof_payloads WHERE created_at < ?1",
                issued_before
            ))
            .await?;
        Ok(r.changes())
    }

    async fn save_wallet(&self, w: &TonWallet) -> Result<(), StoreError> {
        self.one(sql!(
            format!(
                "INSERT INTO ton_wallets ({WALLET_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
                 ON CONFLICT (user_id) DO UPDATE SET address = excluded.address, friendly = excluded.friendly, \
                 network = excluded.network, public_key = excluded.public_key, version = excluded.version, \
                 linked_at = excluded.linked_at"
            ),
            w.user_id,
            &w.address,
            &w.friendly,
            &w.network,
            &w.public_key,
            &w.version,
            w.linked_at
        ))
        .await?;
        Ok(())
    }

    async fn wallet(&self, user_id: i64) -> Result<Option<TonWallet>, StoreError> {
        let r = self
            .one(sql!(
                format!("SELECT {WALLET_COLUMNS} FROM ton_wallets WHERE user_id = ?1"),
                user_id
            ))
            .await?;
        Ok(r.rows::<WalletRow>()?.pop().map(TonWallet::from))
    }

    async fn remove_wallet(&self, user_id: i64) -> Result<bool, StoreError> {
        let r = self
            .one(sql!("DELETE FROM ton_wallets WHERE user_id = ?1", user_id))
            .await?;
        Ok(r.changes() > 0)
    }

    async fn pending_ton_orders(
        &self,
        created_after: u64,
        limit: usize,
    ) -> Result<Vec<Order>, StoreError> {
        let sql = format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE status = 'pending' AND currency IN ('TON', 'USDT') \
             AND created_at > ?1 ORDER BY created_at LIMIT ?2"
        );
        orders(&self.one(sql!(sql, created_after, limit)).await?)
    }
}
