//! The Workers KV store (`STORAGE=kv`). KV is eventually consistent and has no
//! transactions: a charge id written in one location may be unseen in another
//! for up to a minute, so two deliveries of one payment racing through different
//! locations could both apply it. The README says so; D1 is the default.
//!
//! Keys: `order:<id>` (the order), `user:<user_id>:<rev_time>:<id>` (an index
//! entry whose metadata is the order, so listing needs one call),
//! `payment:<charge_id>` (the payment; metadata holds it without the raw update),
//! `update:<update_id>` (processed updates, expiring after Telegram's 24 h, so
//! pruning is KV's job), `outbox:<id>` (a message owed; metadata holds its
//! status and next attempt so the due ones are found in one listing).
//!
//! Listing-based operations (expiry, export, the outbox scan) read every key
//! under a prefix: fine for a small shop, a reason to use D1 for a large one.

use serde::{Deserialize, Serialize};

use super::{Outcome, Owed, Recorded, Store, StoreError};
use crate::edge::bindings::Kv;
use crate::shop::export::{self, Filter};
use crate::shop::outbox::{Outgoing, Queued, Settle, LEASE};
use crate::shop::{Order, OrderStatus, Payment};

/// An outbox entry's value.
#[derive(Serialize, Deserialize)]
struct Entry {
    message: Outgoing,
    status: String,
    attempts: u32,
    next_attempt_at: u64,
    #[serde(default)]
    last_error: Option<String>,
}

/// An outbox entry's metadata: enough to pick the due ones from a listing.
#[derive(Serialize, Deserialize)]
struct EntryMeta {
    status: String,
    next_attempt_at: u64,
}

/// Telegram keeps updates 24 h; we remember them a little longer.
const UPDATE_TTL: u64 = 2 * 86_400;
/// Sent messages are remembered for 30 days (their ids keep queueing idempotent).
const SENT_TTL: u64 = 30 * 86_400;

pub struct KvBackend {
    kv: Kv,
}

fn err(e: impl std::fmt::Display) -> StoreError {
    StoreError(e.to_string())
}

fn json<T: Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(err)
}

fn user_key(o: &Order) -> String {
    // Newest first: list order is lexicographic, so invert the time.
    format!(
        "user:{}:{:012}:{}",
        o.user_id,
        999_999_999_999 - o.created_at.min(999_999_999_999),
        o.id
    )
}

impl KvBackend {
    pub fn new(kv: Kv) -> Self {
        KvBackend { kv }
    }

    /// The value at `key` as `T`, if there is one.
    async fn get<T: serde::de::DeserializeOwned>(
        &self,
        key: &str,
    ) -> Result<Option<T>, StoreError> {
        match self.kv.get(key).await.map_err(StoreError)? {
            Some(v) => serde_json::from_str(&v).map(Some).map_err(err),
            None => Ok(None),
        }
    }

    async fn put(
        &self,
        key: &str,
        value: &str,
        metadata: Option<&str>,
        ttl: Option<u64>,
    ) -> Result<(), StoreError> {
        self.kv
            .put(key, value, metadata, ttl)
            .await
            .map_err(StoreError)
    }

    async fn put_order(&self, o: &Order) -> Result<(), StoreError> {
        let json = json(o)?;
        self.put(&format!("order:{}", o.id), &json, None, None)
            .await?;
        self.put(&user_key(o), "", Some(&json), None).await
    }

    async fn payment(&self, charge_id: &str) -> Result<Option<Payment>, StoreError> {
        self.get(&format!("payment:{charge_id}")).await
    }

    /// Every value under `prefix` as listed metadata, following cursors.
    async fn list_metadata<T: serde::de::DeserializeOwned>(
        &self,
        prefix: &str,
    ) -> Result<Vec<(String, T)>, StoreError> {
        let mut out = Vec::new();
        let mut cursor = None;
        loop {
            let page = self
                .kv
                .list(prefix, 1000, cursor.as_deref())
                .await
                .map_err(StoreError)?;
            out.extend(page.keys.into_iter().filter_map(|k| {
                let m = k.metadata()?;
                Some((k.name, m))
            }));
            if page.list_complete || page.cursor.is_none() {
                break;
            }
            cursor = page.cursor;
        }
        Ok(out)
    }

    async fn put_entry(&self, e: &Entry) -> Result<(), StoreError> {
        let meta = json(&EntryMeta {
            status: e.status.clone(),
            next_attempt_at: e.next_attempt_at,
        })?;
        // A sent entry is kept a while so a late redelivery still finds it, then
        // KV drops it.
        let ttl = (e.status == "sent").then_some(SENT_TTL);
        self.put(
            &format!("outbox:{}", e.message.id),
            &json(e)?,
            Some(&meta),
            ttl,
        )
        .await
    }

    async fn entry(&self, id: &str) -> Result<Option<Entry>, StoreError> {
        self.get(&format!("outbox:{id}")).await
    }

    async fn put_payment(&self, p: &Payment) -> Result<(), StoreError> {
        let mut summary = p.clone();
        summary.raw_update = String::new();
        self.put(
            &format!("payment:{}", p.telegram_payment_charge_id),
            &json(p)?,
            Some(&json(&summary)?),
            None,
        )
        .await
    }
}

impl Store for KvBackend {
    async fn insert_order(&self, order: &Order) -> Result<(), StoreError> {
        self.put_order(order).await
    }

    async fn order(&self, id: &str) -> Result<Option<Order>, StoreError> {
        self.get(&format!("order:{id}")).await
    }

    async fn orders_for_user(&self, user_id: i64, limit: usize) -> Result<Vec<Order>, StoreError> {
        let page = self
            .kv
            .list(&format!("user:{user_id}:"), limit, None)
            .await
            .map_err(StoreError)?;
        Ok(page.keys.iter().filter_map(|k| k.metadata()).collect())
    }

    async fn mark_failed(&self, order_id: &str) -> Result<(), StoreError> {
        if let Some(mut o) = self.order(order_id).await? {
            if o.status == OrderStatus::Pending {
                o.status = OrderStatus::Failed;
                self.put_order(&o).await?;
            }
        }
        Ok(())
    }

    async fn record_payment(
        &self,
        p: &Payment,
        update_id: i64,
        now: u64,
        owed: Option<Owed<'_>>,
    ) -> Result<Recorded, StoreError> {
        let order = self.order(&p.order_id).await?;
        let (outcome, order) = if self.payment(&p.telegram_payment_charge_id).await?.is_some() {
            (Outcome::AlreadyDone, order)
        } else {
            // The order first, the payment last: the payment's key is what marks the
            // charge done, so a failure in between leaves it to Telegram's retry.
            let order = match order {
                Some(o) => {
                    let paid = o.with_payment(p);
                    self.put_order(&paid).await?;
                    Some(paid)
                }
                None => None,
            };
            self.put_payment(p).await?;
            self.claim_update(update_id, now).await?;
            (Outcome::Applied, order)
        };
        // KV has no transactions: queued after the payment, and again on a
        // redelivery (ids keep it once), so a failure here is repaired by a retry.
        let leased = match owed {
            Some(owed) if owed.holds_for(order.as_ref()) => {
                self.enqueue(owed.messages, now).await?
            }
            _ => Vec::new(),
        };
        Ok(Recorded {
            outcome,
            order,
            leased,
        })
    }

    async fn record_refund(&self, charge_id: &str, now: u64) -> Result<Outcome, StoreError> {
        let Some(mut p) = self.payment(charge_id).await? else {
            return Ok(Outcome::AlreadyDone);
        };
        let mut changed = false;
        if let Some(mut o) = self.order(&p.order_id).await? {
            if o.status == OrderStatus::Paid {
                o.status = OrderStatus::Refunded;
                self.put_order(&o).await?;
                changed = true;
            }
        }
        if p.refunded_at.is_none() {
            p.refunded_at = Some(now);
            self.put_payment(&p).await?;
            changed = true;
        }
        Ok(if changed {
            Outcome::Applied
        } else {
            Outcome::AlreadyDone
        })
    }

    async fn claim_update(&self, update_id: i64, now: u64) -> Result<bool, StoreError> {
        let key = format!("update:{update_id}");
        if self.kv.get(&key).await.map_err(StoreError)?.is_some() {
            return Ok(false);
        }
        self.put(&key, &now.to_string(), None, Some(UPDATE_TTL))
            .await?;
        Ok(true)
    }

    async fn payments(&self, limit: usize) -> Result<Vec<Payment>, StoreError> {
        let mut out: Vec<Payment> = self
            .list_metadata::<Payment>("payment:")
            .await?
            .into_iter()
            .map(|(_, p)| p)
            .collect();
        out.sort_by_key(|p| std::cmp::Reverse(p.paid_at));
        out.truncate(limit);
        Ok(out)
    }

    async fn expire_pending(&self, created_before: u64) -> Result<usize, StoreError> {
        let mut n = 0;
        for (_, mut o) in self.list_metadata::<Order>("user:").await? {
            if o.status == OrderStatus::Pending && o.created_at < created_before {
                o.status = OrderStatus::Expired;
                self.put_order(&o).await?;
                n += 1;
            }
        }
        Ok(n)
    }

    async fn prune_updates(&self, _processed_before: u64) -> Result<usize, StoreError> {
        Ok(0) // `update:` keys expire by themselves (UPDATE_TTL).
    }

    async fn set_renewal_canceled(&self, order_id: &str, canceled: bool) -> Result<(), StoreError> {
        if let Some(mut o) = self.order(order_id).await? {
            o.renewal_canceled = canceled;
            self.put_order(&o).await?;
        }
        Ok(())
    }

    async fn export(&self, filter: &Filter) -> Result<Vec<(Order, Vec<Payment>)>, StoreError> {
        let orders = self.list_metadata::<Order>("user:").await?;
        let payments: Vec<Payment> = self
            .list_metadata::<Payment>("payment:")
            .await?
            .into_iter()
            .map(|(_, p)| p)
            .collect();
        Ok(export::select(
            orders.into_iter().map(|(_, o)| o),
            &payments,
            filter,
        ))
    }

    async fn enqueue(&self, messages: &[Outgoing], now: u64) -> Result<Vec<Queued>, StoreError> {
        let mut leased = Vec::new();
        for m in messages {
            if self.entry(&m.id).await?.is_some() {
                continue;
            }
            self.put_entry(&Entry {
                message: m.clone(),
                status: "pending".into(),
                attempts: 1,
                next_attempt_at: now + LEASE,
                last_error: None,
            })
            .await?;
            leased.push(Queued {
                message: m.clone(),
                attempts: 1,
            });
        }
        Ok(leased)
    }

    async fn lease_due(&self, now: u64, limit: usize) -> Result<Vec<Queued>, StoreError> {
        let mut out = Vec::new();
        for (key, meta) in self.list_metadata::<EntryMeta>("outbox:").await? {
            if out.len() == limit {
                break;
            }
            if meta.status != "pending" || meta.next_attempt_at > now {
                continue;
            }
            let id = key.trim_start_matches("outbox:");
            let Some(mut e) = self.entry(id).await? else {
                continue;
            };
            e.attempts += 1;
            e.next_attempt_at = now + LEASE;
            self.put_entry(&e).await?;
            out.push(Queued {
                message: e.message,
                attempts: e.attempts,
            });
        }
        Ok(out)
    }

    async fn settle(&self, id: &str, result: &Settle, _now: u64) -> Result<(), StoreError> {
        let Some(mut e) = self.entry(id).await? else {
            return Ok(());
        };
        match result {
            Settle::Sent => e.status = "sent".into(),
            Settle::Retry { at, error } => {
                e.next_attempt_at = *at;
                e.last_error = Some(error.clone());
            }
            Settle::Failed { error } => {
                e.status = "failed".into();
                e.last_error = Some(error.clone());
            }
        }
        self.put_entry(&e).await
    }
}
