//! Storage of orders, payments, processed updates and the outbox, behind one
//! trait with two implementations: D1 (the default; SQL over a [`sql::Database`])
//! and Workers KV (over a [`kv::Namespace`]). The bindings themselves live in
//! the edge; natively the D1 store runs on SQLite and the KV store on
//! [`memory::MemoryKv`].
//!
//! Exactly-once rests on two keys: a payment is keyed by its
//! `telegram_payment_charge_id`, and a processed update by its `update_id`.

pub mod d1;
pub mod kv;
pub mod memory;
pub mod rows;
pub mod sql;
#[cfg(test)]
pub mod sqlite;
#[cfg(test)]
mod tests;

use std::fmt;

use crate::shop::access::{AccessLink, Member};
use crate::shop::export::{Exported, Filter};
use crate::shop::outbox::{Outgoing, Queued, Settle, Tracked};
use crate::shop::ton::TonWallet;
use crate::shop::{Order, Payment};

/// A storage failure. The text is for the log only (it never reaches a client).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError(pub String);

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "storage: {}", self.0)
    }
}

/// Messages a payment makes the bot owe, queued by the payment's own write
/// (the same round trip and transaction) if the order, with the payment
/// applied, is the one the invoice named: paid, for this product and buyer.
/// Otherwise nothing is queued and the caller queues what the order it gets
/// back calls for.
#[derive(Debug, Clone, Copy)]
pub struct Owed<'a> {
    pub product_id: &'a str,
    pub user_id: i64,
    pub messages: &'a [Outgoing],
}

/// What [`Store::record_payment`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    pub outcome: Outcome,
    /// The order as it now stands (read in the same round trip).
    pub order: Option<Order>,
    /// When the [`Owed`] condition held: the messages this call queued, leased
    /// to the caller as [`Store::enqueue`] leases them (none when a delivery
    /// before this one queued them). `None` when it did not hold, or no
    /// [`Owed`] was given: the caller queues what the order calls for.
    pub owed: Option<Vec<Queued>>,
}

/// Whether a write did something or had been done before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Applied,
    AlreadyDone,
}

#[allow(async_fn_in_trait)]
pub trait Store {
    async fn insert_order(&self, order: &Order) -> Result<(), StoreError>;
    /// Inserts a new `pending` order unless its user has `max_pending`
    /// pending orders already: then nothing is stored and the answer is
    /// `false`. D1 counts and inserts in one statement.
    async fn insert_pending_order(
        &self,
        order: &Order,
        max_pending: usize,
    ) -> Result<bool, StoreError>;
    async fn order(&self, id: &str) -> Result<Option<Order>, StoreError>;
    /// The user's orders, newest first.
    async fn orders_for_user(&self, user_id: i64, limit: usize) -> Result<Vec<Order>, StoreError>;
    /// `pending` → `failed` (the invoice could not be created).
    async fn mark_failed(&self, order_id: &str) -> Result<(), StoreError>;
    /// Stores the payment and applies it to its order ([`Order::with_payment`]),
    /// all or nothing, and remembers `update_id` (the Telegram update that
    /// reported it, if one did) as processed. A charge id seen
    /// before changes nothing and answers [`Outcome::AlreadyDone`]. `owed` is
    /// queued either way when it holds, so a redelivery repairs a lost queueing.
    async fn record_payment(
        &self,
        payment: &Payment,
        update_id: Option<i64>,
        now: u64,
        owed: Option<Owed<'_>>,
    ) -> Result<Recorded, StoreError>;
    /// Marks the charge refunded and its order `refunded`, once.
    async fn record_refund(&self, charge_id: &str, now: u64) -> Result<Outcome, StoreError>;
    /// Claims an update for processing; `false` when it was processed before.
    async fn claim_update(&self, update_id: i64, now: u64) -> Result<bool, StoreError>;
    /// Stored payments, newest first.
    async fn payments(&self, limit: usize) -> Result<Vec<Payment>, StoreError>;
    /// Payments paid or refunded at or after `since`, newest first.
    async fn payments_since(&self, since: u64, limit: usize) -> Result<Vec<Payment>, StoreError>;
    /// Pending orders created before `created_before` become `expired`; how many.
    async fn expire_pending(&self, created_before: u64) -> Result<usize, StoreError>;
    /// Forgets processed update ids older than `processed_before`; how many.
    async fn prune_updates(&self, processed_before: u64) -> Result<usize, StoreError>;
    /// Stores whether a subscription's renewal is turned off.
    async fn set_renewal_canceled(&self, order_id: &str, canceled: bool) -> Result<(), StoreError>;
    /// Orders matching `filter`, newest first, each with its payments and link.
    async fn export(&self, filter: &Filter) -> Result<Vec<Exported>, StoreError>;
    /// Queues messages; an id already queued is left as it is. Returns the
    /// messages queued now, leased to the caller for its first attempt.
    async fn enqueue(&self, messages: &[Outgoing], now: u64) -> Result<Vec<Queued>, StoreError>;
    /// Leases up to `limit` pending messages whose next attempt is due.
    async fn lease_due(&self, now: u64, limit: usize) -> Result<Vec<Queued>, StoreError>;
    /// Records how an attempt went.
    async fn settle(&self, id: &str, result: &Settle, now: u64) -> Result<(), StoreError>;
    /// Queued messages whose id starts with `prefix`, with their state, newest first.
    async fn queued(&self, prefix: &str, limit: usize) -> Result<Vec<Tracked>, StoreError>;

    /// The messages queued for an order (goods, access, notices), oldest first.
    async fn outbox_for_order(&self, order_id: &str) -> Result<Vec<Tracked>, StoreError>;

    /// An order's personal invite link, if one was made.
    async fn access_link(&self, order_id: &str) -> Result<Option<AccessLink>, StoreError>;
    /// Keeps `link` unless its order has one; answers the one kept.
    async fn save_access_link(&self, link: &AccessLink) -> Result<AccessLink, StoreError>;
    /// A user's access links, newest first.
    async fn access_links_for_user(&self, user_id: i64) -> Result<Vec<AccessLink>, StoreError>;
    /// Marks an order's link revoked (its member removed).
    async fn revoke_access_link(&self, order_id: &str, now: u64) -> Result<(), StoreError>;
    /// Links not revoked whose order is no longer paid, or is a subscription
    /// that ended before `ended_before`, with their orders: the candidates
    /// for removal (`shop::access::ended` says which are due, and why).
    async fn ended_access(
        &self,
        ended_before: u64,
        limit: usize,
    ) -> Result<Vec<(Order, AccessLink)>, StoreError>;
    /// Records a member's status, unless a later update is stored already.
    async fn record_member(&self, member: &Member) -> Result<(), StoreError>;
    async fn member(&self, chat_id: i64, user_id: i64) -> Result<Option<Member>, StoreError>;
    /// Every member known of a chat (any status).
    async fn members(&self, chat_id: i64) -> Result<Vec<Member>, StoreError>;
    /// What setup learned (a chat's title, a subscription link), by key.
    async fn fact(&self, key: &str) -> Result<Option<String>, StoreError>;
    async fn set_fact(&self, key: &str, value: &str, now: u64) -> Result<(), StoreError>;

    /// Keeps a `ton_proof` payload issued to `user_id`.
    async fn issue_ton_payload(
        &self,
        payload: &str,
        user_id: i64,
        now: u64,
    ) -> Result<(), StoreError>;
    /// Uses up `payload` if it was issued to `user_id` and not used yet, in one
    /// step (a second use finds it used): when it was issued, or `None`.
    async fn consume_ton_payload(
        &self,
        payload: &str,
        user_id: i64,
        now: u64,
    ) -> Result<Option<u64>, StoreError>;
    /// Forgets payloads issued before `issued_before`; how many.
    async fn prune_ton_payloads(&self, issued_before: u64) -> Result<usize, StoreError>;
    /// Links a proved wallet to its user (replacing one linked before).
    async fn save_wallet(&self, wallet: &TonWallet) -> Result<(), StoreError>;
    async fn wallet(&self, user_id: i64) -> Result<Option<TonWallet>, StoreError>;
    /// Unlinks the user's wallet; whether there was one.
    async fn remove_wallet(&self, user_id: i64) -> Result<bool, StoreError>;
    /// Pending orders in TON or USDT made after `created_after`, oldest first:
    /// those the scheduled job looks for on chain.
    async fn pending_ton_orders(
        &self,
        created_after: u64,
        limit: usize,
    ) -> Result<Vec<Order>, StoreError>;
}

/// One of two stores, chosen at run time by the `STORAGE` setting.
pub enum EitherStore<A, B> {
    D1(A),
    Kv(B),
}

macro_rules! either {
    ($self:ident, $s:ident => $call:expr) => {
        match $self {
            EitherStore::D1($s) => $call,
            EitherStore::Kv($s) => $call,
        }
    };
}

impl<A: Store, B: Store> Store for EitherStore<A, B> {
    async fn insert_order(&self, order: &Order) -> Result<(), StoreError> {
        either!(self, s => s.insert_order(order).await)
    }
    async fn insert_pending_order(
        &self,
        order: &Order,
        max_pending: usize,
    ) -> Result<bool, StoreError> {
        either!(self, s => s.insert_pending_order(order, max_pending).await)
    }
    async fn order(&self, id: &str) -> Result<Option<Order>, StoreError> {
        either!(self, s => s.order(id).await)
    }
    async fn orders_for_user(&self, user_id: i64, limit: usize) -> Result<Vec<Order>, StoreError> {
        either!(self, s => s.orders_for_user(user_id, limit).await)
    }
    async fn mark_failed(&self, order_id: &str) -> Result<(), StoreError> {
        either!(self, s => s.mark_failed(order_id).await)
    }
    async fn record_payment(
        &self,
        payment: &Payment,
        update_id: Option<i64>,
        now: u64,
        owed: Option<Owed<'_>>,
    ) -> Result<Recorded, StoreError> {
        either!(self, s => s.record_payment(payment, update_id, now, owed).await)
    }
    async fn record_refund(&self, charge_id: &str, now: u64) -> Result<Outcome, StoreError> {
        either!(self, s => s.record_refund(charge_id, now).await)
    }
    async fn claim_update(&self, update_id: i64, now: u64) -> Result<bool, StoreError> {
        either!(self, s => s.claim_update(update_id, now).await)
    }
    async fn payments(&self, limit: usize) -> Result<Vec<Payment>, StoreError> {
        either!(self, s => s.payments(limit).await)
    }
    async fn payments_since(&self, since: u64, limit: usize) -> Result<Vec<Payment>, StoreError> {
        either!(self, s => s.payments_since(since, limit).await)
    }
    async fn expire_pending(&self, created_before: u64) -> Result<usize, StoreError> {
        either!(self, s => s.expire_pending(created_before).await)
    }
    async fn prune_updates(&self, processed_before: u64) -> Result<usize, StoreError> {
        either!(self, s => s.prune_updates(processed_before).await)
    }
    async fn set_renewal_canceled(&self, order_id: &str, canceled: bool) -> Result<(), StoreError> {
        either!(self, s => s.set_renewal_canceled(order_id, canceled).await)
    }
    async fn export(&self, filter: &Filter) -> Result<Vec<Exported>, StoreError> {
        either!(self, s => s.export(filter).await)
    }
    async fn enqueue(&self, messages: &[Outgoing], now: u64) -> Result<Vec<Queued>, StoreError> {
        either!(self, s => s.enqueue(messages, now).await)
    }
    async fn lease_due(&self, now: u64, limit: usize) -> Result<Vec<Queued>, StoreError> {
        either!(self, s => s.lease_due(now, limit).await)
    }
    async fn settle(&self, id: &str, result: &Settle, now: u64) -> Result<(), StoreError> {
        either!(self, s => s.settle(id, result, now).await)
    }
    async fn queued(&self, prefix: &str, limit: usize) -> Result<Vec<Tracked>, StoreError> {
        either!(self, s => s.queued(prefix, limit).await)
    }
    async fn outbox_for_order(&self, order_id: &str) -> Result<Vec<Tracked>, StoreError> {
        either!(self, s => s.outbox_for_order(order_id).await)
    }
    async fn access_link(&self, order_id: &str) -> Result<Option<AccessLink>, StoreError> {
        either!(self, s => s.access_link(order_id).await)
    }
    async fn save_access_link(&self, link: &AccessLink) -> Result<AccessLink, StoreError> {
        either!(self, s => s.save_access_link(link).await)
    }
    async fn access_links_for_user(&self, user_id: i64) -> Result<Vec<AccessLink>, StoreError> {
        either!(self, s => s.access_links_for_user(user_id).await)
    }
    async fn revoke_access_link(&self, order_id: &str, now: u64) -> Result<(), StoreError> {
        either!(self, s => s.revoke_access_link(order_id, now).await)
    }
    async fn ended_access(
        &self,
        ended_before: u64,
        limit: usize,
    ) -> Result<Vec<(Order, AccessLink)>, StoreError> {
        either!(self, s => s.ended_access(ended_before, limit).await)
    }
    async fn record_member(&self, member: &Member) -> Result<(), StoreError> {
        either!(self, s => s.record_member(member).await)
    }
    async fn member(&self, chat_id: i64, user_id: i64) -> Result<Option<Member>, StoreError> {
        either!(self, s => s.member(chat_id, user_id).await)
    }
    async fn members(&self, chat_id: i64) -> Result<Vec<Member>, StoreError> {
        either!(self, s => s.members(chat_id).await)
    }
    async fn fact(&self, key: &str) -> Result<Option<String>, StoreError> {
        either!(self, s => s.fact(key).await)
    }
    async fn set_fact(&self, key: &str, value: &str, now: u64) -> Result<(), StoreError> {
        either!(self, s => s.set_fact(key, value, now).await)
    }
    async fn issue_ton_payload(
        &self,
        payload: &str,
        user_id: i64,
        now: u64,
    ) -> Result<(), StoreError> {
        either!(self, s => s.issue_ton_payload(payload, user_id, now).await)
    }
    async fn consume_ton_payload(
        &self,
        payload: &str,
        user_id: i64,
        now: u64,
    ) -> Result<Option<u64>, StoreError> {
        either!(self, s => s.consume_ton_payload(payload, user_id, now).await)
    }
    async fn prune_ton_payloads(&self, issued_before: u64) -> Result<usize, StoreError> {
        either!(self, s => s.prune_ton_payloads(issued_before).await)
    }
    async fn save_wallet(&self, wallet: &TonWallet) -> Result<(), StoreError> {
        either!(self, s => s.save_wallet(wallet).await)
    }
    async fn wallet(&self, user_id: i64) -> Result<Option<TonWallet>, StoreError> {
        either!(self, s => s.wallet(user_id).await)
    }
    async fn remove_wallet(&self, user_id: i64) -> Result<bool, StoreError> {
        either!(self, s => s.remove_wallet(user_id).await)
    }
    async fn pending_ton_orders(
        &self,
        created_after: u64,
        limit: usize,
    ) -> Result<Vec<Order>, StoreError> {
        either!(self, s => s.pending_ton_orders(created_after, limit).await)
    }
}
