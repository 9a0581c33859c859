//! The Workers KV store (`STORAGE=kv`), over any [`Namespace`] (KV in the
//! worker, [`super::memory::MemoryKv`] natively). KV is eventually consistent
//! and has no transactions: a charge id written in one location may be unseen
//! in another for up to a minute, so two deliveries of one payment racing
//! through different locations could both apply it. The README says so; D1 is
//! the default. Without SQL, this store applies the order rules in Rust
//! ([`Order::with_payment`], and which order a payment's goods are queued for); a native test runs it and
//! the D1 store through the same sequences and requires the same results.
//!
//! Keys: `order:<id>` (the order), `user:<user_id>:<rev_time>:<id>` (an index
//! entry whose metadata is the order, so listing needs one call),
//! `payment:<charge_id>` (the payment; metadata holds it without the raw update),
//! `update:<update_id>` (processed updates, expiring after Telegram's 24 h, so
//! pruning is KV's job), `outbox:<id>` (a message owed; metadata holds its
//! status and next attempt so the due ones are found in one listing),
//! `link:<order_id>` and `userlink:<user_id>:<order_id>` (an access link; the
//! index's metadata holds it), `member:<chat_id>:<user_id>` (an access chat's
//! member), `fact:<key>` (what setup learned), `tonpayload:<payload>` (a
//! proof payload, expiring after a day), `tonwallet:<user_id>` (a proved wallet).
//!
//! Listing-based operations (expiry, export, the outbox scan) read every key
//! under a prefix: fine for a small shop, a reason to use D1 for a large one.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::rows::{AccessLinkRow, MemberRow, OrderRow, OutboxRow, PaymentRow, WalletRow};
use super::{Outcome, Owed, Recorded, Store, StoreError};
use crate::shop::access::{AccessLink, Member};
use crate::shop::export::{self, Exported, Filter};
use crate::shop::outbox::{Outgoing, Queued, Settle, Tracked, LEASE};
use crate::shop::ton::TonWallet;
use crate::shop::{Order, OrderStatus, Payment};

/// A key from a listing, with its metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct ListedKey {
    pub name: String,
    pub metadata: Option<serde_json::Value>,
}

/// One page of a listing: keys in lexicographic order, and the cursor of the
/// next page (`None` on the last).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Page {
    pub keys: Vec<ListedKey>,
    pub cursor: Option<String>,
}

/// What the KV store needs of a key-value namespace.
#[allow(async_fn_in_trait)]
pub trait Namespace {
    async fn get(&self, key: &str) -> Result<Option<String>, StoreError>;
    /// Writes `value` with its `metadata`, expiring after `ttl` seconds when given.
    async fn put(
        &self,
        key: &str,
        value: &str,
        metadata: Option<serde_json::Value>,
        ttl: Option<u64>,
    ) -> Result<(), StoreError>;
    async fn delete(&self, key: &str) -> Result<(), StoreError>;
    /// Up to `limit` keys starting with `prefix`, from `cursor` on.
    async fn list(
        &self,
        prefix: &str,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page, StoreError>;
}

/// An outbox entry's metadata: enough to pick the due ones from a listing.
#[derive(Serialize, Deserialize)]
struct EntryMeta {
    status: String,
    next_attempt_at: u64,
    /// So an order's messages are found from a listing (none on older entries).
    #[serde(default)]
    order_id: Option<String>,
}

/// An outbox entry as versions before [`OutboxRow`] wrote it (the message
/// nested), still read so that an upgrade loses no message owed.
#[derive(Deserialize)]
struct LegacyEntry {
    message: LegacyMessage,
    status: String,
    attempts: u32,
    next_attempt_at: u64,
    #[serde(default)]
    last_error: Option<String>,
}

#[derive(Deserialize)]
struct LegacyMessage {
    id: String,
    kind: String,
    #[serde(default)]
    order_id: Option<String>,
    chat_id: i64,
    method: String,
    params: String,
}

impl From<LegacyEntry> for OutboxRow {
    fn from(e: LegacyEntry) -> OutboxRow {
        OutboxRow {
            id: e.message.id,
            kind: e.message.kind,
            order_id: e.message.order_id,
            chat_id: e.message.chat_id,
            method: e.message.method,
            params: e.message.params,
            status: e.status,
            attempts: e.attempts,
            next_attempt_at: e.next_attempt_at,
            last_error: e.last_error,
            sent_at: None,
        }
    }
}

/// A `ton_proof` payload as kept.
#[derive(Serialize, Deserialize)]
struct Issued {
    user_id: i64,
    created_at: u64,
    #[serde(default)]
    used_at: Option<u64>,
}

/// Proof payloads are kept a day: far longer than any `TON_PROOF_MAX_AGE`.
const PAYLOAD_TTL: u64 = 86_400;

/// Telegram keeps updates 24 h; we remember them a little longer.
const UPDATE_TTL: u64 = 2 * 86_400;
/// Sent messages are remembered for 30 days (their ids keep queueing idempotent).
const SENT_TTL: u64 = 30 * 86_400;

#[derive(Default)]
pub struct KvStore<N> {
    kv: N,
}

fn err(e: impl std::fmt::Display) -> StoreError {
    StoreError(e.to_string())
}

fn json<T: Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(err)
}

fn to_value<T: Serialize>(value: &T) -> Result<serde_json::Value, StoreError> {
    serde_json::to_value(value).map_err(err)
}

fn from_value<T: DeserializeOwned>(value: serde_json::Value) -> Option<T> {
    serde_json::from_value(value).ok()
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

fn listed_orders(listed: Vec<(String, OrderRow)>) -> Vec<Order> {
    listed
        .into_iter()
        .filter_map(|(_, row)| Order::try_from(row).ok())
        .collect()
}

/// Whether the order, with the payment applied, is the one the invoice named.
fn holds_for(owed: &Owed, order: Option<&Order>) -> bool {
    order.is_some_and(|o| {
        o.status == OrderStatus::Paid
            && o.product_id == owed.product_id
            && o.user_id == owed.user_id
    })
}

fn done_if(changed: bool) -> Outcome {
    if changed {
        Outcome::Applied
    } else {
        Outcome::AlreadyDone
    }
}

impl<N: Namespace> KvStore<N> {
    pub fn new(kv: N) -> Self {
        KvStore { kv }
    }

    /// The namespace, for tests that look behind the store.
    pub fn namespace(&self) -> &N {
        &self.kv
    }

    /// The value at `key` as `T`, if there is one.
    async fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, StoreError> {
        match self.kv.get(key).await? {
            Some(v) => serde_json::from_str(&v).map(Some).map_err(err),
            None => Ok(None),
        }
    }

    async fn put_order(&self, o: &Order) -> Result<(), StoreError> {
        let row = OrderRow::from(o);
        self.kv
            .put(&format!("order:{}", o.id), &json(&row)?, None, None)
            .await?;
        self.kv
            .put(&user_key(o), "", Some(to_value(&row)?), None)
            .await
    }

    async fn payment(&self, charge_id: &str) -> Result<Option<Payment>, StoreError> {
        Ok(self
            .get::<PaymentRow>(&format!("payment:{charge_id}"))
            .await?
            .map(Payment::from))
    }

    async fn put_payment(&self, p: &Payment) -> Result<(), StoreError> {
        let row = PaymentRow::from(p);
        let summary = PaymentRow {
            raw_update: String::new(),
            ..row.clone()
        };
        self.kv
            .put(
                &format!("payment:{}", p.telegram_payment_charge_id),
                &json(&row)?,
                Some(to_value(&summary)?),
                None,
            )
            .await
    }

    /// Every key under `prefix` with its metadata read as `T`, following cursors.
    async fn list_metadata<T: DeserializeOwned>(
        &self,
        prefix: &str,
    ) -> Result<Vec<(String, T)>, StoreError> {
        let mut out = Vec::new();
        let mut cursor = None;
        loop {
            let page = self.kv.list(prefix, 1000, cursor.as_deref()).await?;
            out.extend(
                page.keys
                    .into_iter()
                    .filter_map(|k| Some((k.name, from_value(k.metadata?)?))),
            );
            match page.cursor {
                Some(c) => cursor = Some(c),
                None => return Ok(out),
            }
        }
    }

    async fn put_link(&self, link: &AccessLink) -> Result<(), StoreError> {
        let row = AccessLinkRow::from(link);
        let (value, meta) = (json(&row)?, to_value(&row)?);
        self.kv
            .put(
                &format!("link:{}", link.order_id),
                &value,
                Some(meta.clone()),
                None,
            )
            .await?;
        let index = format!("userlink:{}:{}", link.user_id, link.order_id);
        self.kv.put(&index, "", Some(meta), None).await
    }

    async fn entry(&self, id: &str) -> Result<Option<OutboxRow>, StoreError> {
        let Some(text) = self.kv.get(&format!("outbox:{id}")).await? else {
            return Ok(None);
        };
        match serde_json::from_str::<OutboxRow>(&text) {
            Ok(row) => Ok(Some(row)),
            Err(e) => serde_json::from_str::<LegacyEntry>(&text)
                .map(|old| Some(old.into()))
                .map_err(|_| err(e)),
        }
    }

    async fn put_entry(&self, e: &OutboxRow) -> Result<(), StoreError> {
        let meta = EntryMeta {
            status: e.status.clone(),
            next_attempt_at: e.next_attempt_at,
            order_id: e.order_id.clone(),
        };
        // A sent entry is kept a while so a late redelivery still finds it,
        // then KV drops it.
        let ttl = (e.status == "sent").then_some(SENT_TTL);
        self.kv
            .put(
                &format!("outbox:{}", e.id),
                &json(e)?,
                Some(to_value(&meta)?),
                ttl,
            )
            .await
    }
}

impl<N: Namespace> Store for KvStore<N> {
    async fn insert_order(&self, order: &Order) -> Result<(), StoreError> {
        self.put_order(order).await
    }

    async fn insert_pending_order(
        &self,
        order: &Order,
        max_pending: usize,
    ) -> Result<bool, StoreError> {
        // Counted from the user's index, then written: two requests racing
        // can both pass (KV has no transactions), so the cap can be passed by
        // the requests in flight at once, which the rate limit keeps few.
        let pending = listed_orders(
            self.list_metadata(&format!("user:{}:", order.user_id))
                .await?,
        )
        .into_iter()
        .filter(|o| o.status == OrderStatus::Pending)
        .count();
        if pending >= max_pending {
            return Ok(false);
        }
        self.put_order(order).await?;
        Ok(true)
    }

    async fn order(&self, id: &str) -> Result<Option<Order>, StoreError> {
        self.get::<OrderRow>(&format!("order:{id}"))
            .await?
            .map(Order::try_from)
            .transpose()
    }

    async fn orders_for_user(&self, user_id: i64, limit: usize) -> Result<Vec<Order>, StoreError> {
        let page = self
            .kv
            .list(&format!("user:{user_id}:"), limit, None)
            .await?;
        Ok(page
            .keys
            .into_iter()
            .filter_map(|k| from_value::<OrderRow>(k.metadata?))
            .filter_map(|row| Order::try_from(row).ok())
            .collect())
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
        update_id: Option<i64>,
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
            if let Some(id) = update_id {
                self.claim_update(id, now).await?;
            }
            (Outcome::Applied, order)
        };
        // KV has no transactions: queued after the payment, and again on a
        // redelivery (ids keep it once), so a failure here is repaired by a retry.
        let owed = match owed {
            Some(owed) if holds_for(&owed, order.as_ref()) => {
                Some(self.enqueue(owed.messages, now).await?)
            }
            _ => None,
        };
        Ok(Recorded {
            outcome,
            order,
            owed,
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
        Ok(done_if(changed))
    }

    async fn claim_update(&self, update_id: i64, now: u64) -> Result<bool, StoreError> {
        let key = format!("update:{update_id}");
        if self.kv.get(&key).await?.is_some() {
            return Ok(false);
        }
        self.kv
            .put(&key, &now.to_string(), None, Some(UPDATE_TTL))
            .await?;
        Ok(true)
    }

    async fn payments(&self, limit: usize) -> Result<Vec<Payment>, StoreError> {
        let mut out: Vec<Payment> = self
            .list_metadata::<PaymentRow>("payment:")
            .await?
            .into_iter()
            .map(|(_, p)| Payment::from(p))
            .collect();
        out.sort_by_key(|p| std::cmp::Reverse(p.paid_at));
        out.truncate(limit);
        Ok(out)
    }

    async fn payments_since(&self, since: u64, limit: usize) -> Result<Vec<Payment>, StoreError> {
        let mut out: Vec<Payment> = self
            .list_metadata::<PaymentRow>("payment:")
            .await?
            .into_iter()
            .map(|(_, p)| Payment::from(p))
            .filter(|p| p.paid_at >= since || p.refunded_at.is_some_and(|t| t >= since))
            .collect();
        out.sort_by_key(|p| std::cmp::Reverse(p.paid_at));
        out.truncate(limit);
        Ok(out)
    }

    async fn expire_pending(&self, created_before: u64) -> Result<usize, StoreError> {
        let mut n = 0;
        for mut o in listed_orders(self.list_metadata("user:").await?) {
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

    async fn export(&self, filter: &Filter) -> Result<Vec<Exported>, StoreError> {
        let orders = listed_orders(self.list_metadata("user:").await?);
        let payments: Vec<Payment> = self
            .list_metadata::<PaymentRow>("payment:")
            .await?
            .into_iter()
            .map(|(_, p)| Payment::from(p))
            .collect();
        let links: Vec<AccessLink> = self
            .list_metadata::<AccessLinkRow>("link:")
            .await?
            .into_iter()
            .map(|(_, l)| AccessLink::from(l))
            .collect();
        Ok(export::select(orders, &payments, &links, filter))
    }

    async fn enqueue(&self, messages: &[Outgoing], now: u64) -> Result<Vec<Queued>, StoreError> {
        let mut leased = Vec::new();
        for m in messages {
            if self.entry(&m.id).await?.is_some() {
                continue;
            }
            self.put_entry(&OutboxRow::queued(m, now + LEASE)).await?;
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
            out.push(e.into_queued()?);
        }
        Ok(out)
    }

    async fn settle(&self, id: &str, result: &Settle, now: u64) -> Result<(), StoreError> {
        let Some(mut e) = self.entry(id).await? else {
            return Ok(());
        };
        match result {
            Settle::Sent => {
                e.status = "sent".into();
                e.sent_at = Some(now);
            }
            Settle::Retry { at, error } => {
                e.next_attempt_at = *at;
                e.last_error = Some(error.clone());
            }
            Settle::Failed { error } => {
                e.status = "failed".into();
                e.last_error = Some(error.clone());
            }
            Settle::Deferred { at } => {
                if e.status != "pending" {
                    return Ok(());
                }
                e.next_attempt_at = *at;
                e.attempts = e.attempts.saturating_sub(1);
            }
        }
        self.put_entry(&e).await
    }

    async fn queued(&self, prefix: &str, limit: usize) -> Result<Vec<Tracked>, StoreError> {
        let mut out = Vec::new();
        for (key, _) in self
            .list_metadata::<EntryMeta>(&format!("outbox:{prefix}"))
            .await?
        {
            if out.len() == limit {
                break;
            }
            if let Some(e) = self.entry(key.trim_start_matches("outbox:")).await? {
                out.push(e.into_tracked()?);
            }
        }
        Ok(out)
    }

    async fn outbox_for_order(&self, order_id: &str) -> Result<Vec<Tracked>, StoreError> {
        let mut out = Vec::new();
        for (key, meta) in self.list_metadata::<EntryMeta>("outbox:").await? {
            if meta.order_id.as_deref() != Some(order_id) || out.len() == 100 {
                continue;
            }
            if let Some(e) = self.entry(key.trim_start_matches("outbox:")).await? {
                out.push(e.into_tracked()?);
            }
        }
        Ok(out)
    }

    async fn access_link(&self, order_id: &str) -> Result<Option<AccessLink>, StoreError> {
        Ok(self
            .get::<AccessLinkRow>(&format!("link:{order_id}"))
            .await?
            .map(AccessLink::from))
    }

    async fn save_access_link(&self, link: &AccessLink) -> Result<AccessLink, StoreError> {
        if let Some(kept) = self.access_link(&link.order_id).await? {
            return Ok(kept);
        }
        self.put_link(link).await?;
        Ok(link.clone())
    }

    async fn access_links_for_user(&self, user_id: i64) -> Result<Vec<AccessLink>, StoreError> {
        let mut out: Vec<AccessLink> = self
            .list_metadata::<AccessLinkRow>(&format!("userlink:{user_id}:"))
            .await?
            .into_iter()
            .map(|(_, row)| AccessLink::from(row))
            .collect();
        out.sort_by(|a, b| (b.created_at, &b.order_id).cmp(&(a.created_at, &a.order_id)));
        Ok(out)
    }

    async fn revoke_access_link(&self, order_id: &str, now: u64) -> Result<(), StoreError> {
        if let Some(mut link) = self.access_link(order_id).await? {
            if link.revoked_at.is_none() {
                link.revoked_at = Some(now);
                self.put_link(&link).await?;
            }
        }
        Ok(())
    }

    /// Every link not revoked, with its order: KV cannot select by the
    /// order's state, so the caller's rule (`shop::access::ended`) picks.
    async fn ended_access(
        &self,
        _ended_before: u64,
        limit: usize,
    ) -> Result<Vec<(Order, AccessLink)>, StoreError> {
        let mut out = Vec::new();
        for (_, row) in self.list_metadata::<AccessLinkRow>("link:").await? {
            if out.len() == limit {
                break;
            }
            let link = AccessLink::from(row);
            if link.revoked_at.is_some() {
                continue;
            }
            if let Some(order) = self.order(&link.order_id).await? {
                out.push((order, link));
            }
        }
        Ok(out)
    }

    async fn record_member(&self, m: &Member) -> Result<(), StoreError> {
        if let Some(stored) = self.member(m.chat_id, m.user_id).await? {
            if stored.updated_at > m.updated_at {
                return Ok(());
            }
        }
        let row = MemberRow::from(m);
        self.kv
            .put(
                &format!("member:{}:{}", m.chat_id, m.user_id),
                &json(&row)?,
                Some(to_value(&row)?),
                None,
            )
            .await
    }

    async fn member(&self, chat_id: i64, user_id: i64) -> Result<Option<Member>, StoreError> {
        Ok(self
            .get::<MemberRow>(&format!("member:{chat_id}:{user_id}"))
            .await?
            .map(Member::from))
    }

    async fn members(&self, chat_id: i64) -> Result<Vec<Member>, StoreError> {
        let mut out: Vec<Member> = self
            .list_metadata::<MemberRow>(&format!("member:{chat_id}:"))
            .await?
            .into_iter()
            .map(|(_, row)| Member::from(row))
            .collect();
        out.sort_by_key(|m| m.user_id);
        Ok(out)
    }

    async fn fact(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.kv.get(&format!("fact:{key}")).await
    }

    async fn set_fact(&self, key: &str, value: &str, _now: u64) -> Result<(), StoreError> {
        self.kv.put(&format!("fact:{key}"), value, None, None).await
    }

    async fn issue_ton_payload(
        &self,
        payload: &str,
        user_id: i64,
        now: u64,
    ) -> Result<(), StoreError> {
        let issued = Issued {
            user_id,
            created_at: now,
            used_at: None,
        };
        let key = format!("tonpayload:{payload}");
        self.kv
            .put(&key, &json(&issued)?, None, Some(PAYLOAD_TTL))
            .await
    }

    /// KV has no transactions: two proofs racing through different locations
    /// with one payload could both find it unused (D1 consumes it atomically).
    async fn consume_ton_payload(
        &self,
        payload: &str,
        user_id: i64,
        now: u64,
    ) -> Result<Option<u64>, StoreError> {
        let key = format!("tonpayload:{payload}");
        let Some(mut issued) = self.get::<Issued>(&key).await? else {
            return Ok(None);
        };
        if issued.user_id != user_id || issued.used_at.is_some() {
            return Ok(None);
        }
        issued.used_at = Some(now);
        self.kv
            .put(&key, &json(&issued)?, None, Some(PAYLOAD_TTL))
            .await?;
        Ok(Some(issued.created_at))
    }

    async fn prune_ton_payloads(&self, _issued_before: u64) -> Result<usize, StoreError> {
        Ok(0) // `tonpayload:` keys expire by themselves (PAYLOAD_TTL).
    }

    async fn save_wallet(&self, w: &TonWallet) -> Result<(), StoreError> {
        let key = format!("tonwallet:{}", w.user_id);
        self.kv
            .put(&key, &json(&WalletRow::from(w))?, None, None)
            .await
    }

    async fn wallet(&self, user_id: i64) -> Result<Option<TonWallet>, StoreError> {
        Ok(self
            .get::<WalletRow>(&format!("tonwallet:{user_id}"))
            .await?
            .map(TonWallet::from))
    }

    async fn remove_wallet(&self, user_id: i64) -> Result<bool, StoreError> {
        let had = self.wallet(user_id).await?.is_some();
        if had {
            self.kv.delete(&format!("tonwallet:{user_id}")).await?;
        }
        Ok(had)
    }

    async fn pending_ton_orders(
        &self,
        created_after: u64,
        limit: usize,
    ) -> Result<Vec<Order>, StoreError> {
        let mut out: Vec<Order> = listed_orders(self.list_metadata("user:").await?)
            .into_iter()
            .filter(|o| {
                o.status == OrderStatus::Pending
                    && matches!(o.currency.as_str(), "TON" | "USDT")
                    && o.created_at > created_after
            })
            .collect();
        out.sort_by_key(|o| o.created_at);
        out.truncate(limit);
        Ok(out)
    }
}
