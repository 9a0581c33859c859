//! The in-memory store: the reference behaviour the D1 and KV stores follow,
//! used by native tests. It can be told to fail, to test the failure paths.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};

use super::{Outcome, Owed, Recorded, Store, StoreError};
use crate::shop::export::{self, Filter};
use crate::shop::outbox::{Outgoing, Queued, Settle, LEASE};
use crate::shop::{Order, OrderStatus, Payment};

/// An outbox row.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    pub message: Outgoing,
    /// `pending`, `sent` or `failed`.
    pub status: &'static str,
    pub attempts: u32,
    pub next_attempt_at: u64,
    pub last_error: Option<String>,
}

#[derive(Default)]
pub struct MemoryStore {
    orders: RefCell<BTreeMap<String, Order>>,
    payments: RefCell<BTreeMap<String, Payment>>,
    updates: RefCell<HashMap<i64, u64>>,
    outbox: RefCell<BTreeMap<String, Stored>>,
    /// When set, every call fails (a storage outage).
    pub broken: Cell<bool>,
    /// Calls made: each stands for one round trip of the D1 store.
    pub calls: Cell<usize>,
}

impl MemoryStore {
    /// Queues what is not queued yet and returns it, leased.
    fn queue(&self, messages: &[Outgoing], now: u64) -> Vec<Queued> {
        let mut outbox = self.outbox.borrow_mut();
        let mut leased = Vec::new();
        for m in messages {
            if outbox.contains_key(&m.id) {
                continue;
            }
            outbox.insert(
                m.id.clone(),
                Stored {
                    message: m.clone(),
                    status: "pending",
                    attempts: 1,
                    next_attempt_at: now + LEASE,
                    last_error: None,
                },
            );
            leased.push(Queued {
                message: m.clone(),
                attempts: 1,
            });
        }
        leased
    }

    fn check(&self) -> Result<(), StoreError> {
        self.calls.set(self.calls.get() + 1);
        if self.broken.get() {
            Err(StoreError("the store is down".into()))
        } else {
            Ok(())
        }
    }

    pub fn payment_count(&self) -> usize {
        self.payments.borrow().len()
    }

    pub fn outbox(&self) -> Vec<Stored> {
        self.outbox.borrow().values().cloned().collect()
    }

    pub fn update_count(&self) -> usize {
        self.updates.borrow().len()
    }
}

impl Store for MemoryStore {
    async fn insert_order(&self, order: &Order) -> Result<(), StoreError> {
        self.check()?;
        self.orders
            .borrow_mut()
            .insert(order.id.clone(), order.clone());
        Ok(())
    }

    async fn order(&self, id: &str) -> Result<Option<Order>, StoreError> {
        self.check()?;
        Ok(self.orders.borrow().get(id).cloned())
    }

    async fn orders_for_user(&self, user_id: i64, limit: usize) -> Result<Vec<Order>, StoreError> {
        self.check()?;
        let mut v: Vec<Order> = self
            .orders
            .borrow()
            .values()
            .filter(|o| o.user_id == user_id)
            .cloned()
            .collect();
        v.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        v.truncate(limit);
        Ok(v)
    }

    async fn mark_failed(&self, order_id: &str) -> Result<(), StoreError> {
        self.check()?;
        if let Some(o) = self.orders.borrow_mut().get_mut(order_id) {
            if o.status == OrderStatus::Pending {
                o.status = OrderStatus::Failed;
            }
        }
        Ok(())
    }

    async fn record_payment(
        &self,
        payment: &Payment,
        update_id: i64,
        now: u64,
        owed: Option<Owed<'_>>,
    ) -> Result<Recorded, StoreError> {
        self.check()?;
        self.updates.borrow_mut().entry(update_id).or_insert(now);
        let outcome = {
            let mut payments = self.payments.borrow_mut();
            if payments.contains_key(&payment.telegram_payment_charge_id) {
                Outcome::AlreadyDone
            } else {
                payments.insert(payment.telegram_payment_charge_id.clone(), payment.clone());
                if let Some(o) = self.orders.borrow_mut().get_mut(&payment.order_id) {
                    *o = o.with_payment(payment);
                }
                Outcome::Applied
            }
        };
        let order = self.orders.borrow().get(&payment.order_id).cloned();
        let leased = match owed {
            Some(owed) if owed.holds_for(order.as_ref()) => self.queue(owed.messages, now),
            _ => Vec::new(),
        };
        Ok(Recorded {
            outcome,
            order,
            leased,
        })
    }

    async fn record_refund(&self, charge_id: &str, now: u64) -> Result<Outcome, StoreError> {
        self.check()?;
        let mut payments = self.payments.borrow_mut();
        let Some(p) = payments.get_mut(charge_id) else {
            return Ok(Outcome::AlreadyDone);
        };
        let mut changed = false;
        if p.refunded_at.is_none() {
            p.refunded_at = Some(now);
            changed = true;
        }
        if let Some(o) = self.orders.borrow_mut().get_mut(&p.order_id) {
            if o.status == OrderStatus::Paid {
                o.status = OrderStatus::Refunded;
                changed = true;
            }
        }
        Ok(if changed {
            Outcome::Applied
        } else {
            Outcome::AlreadyDone
        })
    }

    async fn claim_update(&self, update_id: i64, now: u64) -> Result<bool, StoreError> {
        self.check()?;
        let mut u = self.updates.borrow_mut();
        if u.contains_key(&update_id) {
            return Ok(false);
        }
        u.insert(update_id, now);
        Ok(true)
    }

    async fn payments(&self, limit: usize) -> Result<Vec<Payment>, StoreError> {
        self.check()?;
        let mut v: Vec<Payment> = self.payments.borrow().values().cloned().collect();
        v.sort_by_key(|p| std::cmp::Reverse(p.paid_at));
        v.truncate(limit);
        Ok(v)
    }

    async fn expire_pending(&self, created_before: u64) -> Result<usize, StoreError> {
        self.check()?;
        let mut n = 0;
        for o in self.orders.borrow_mut().values_mut() {
            if o.status == OrderStatus::Pending && o.created_at < created_before {
                o.status = OrderStatus::Expired;
                n += 1;
            }
        }
        Ok(n)
    }

    async fn prune_updates(&self, processed_before: u64) -> Result<usize, StoreError> {
        self.check()?;
        let mut u = self.updates.borrow_mut();
        let before = u.len();
        u.retain(|_, at| *at >= processed_before);
        Ok(before - u.len())
    }

    async fn set_renewal_canceled(&self, order_id: &str, canceled: bool) -> Result<(), StoreError> {
        self.check()?;
        if let Some(o) = self.orders.borrow_mut().get_mut(order_id) {
            o.renewal_canceled = canceled;
        }
        Ok(())
    }

    async fn export(&self, filter: &Filter) -> Result<Vec<(Order, Vec<Payment>)>, StoreError> {
        self.check()?;
        let payments: Vec<Payment> = self.payments.borrow().values().cloned().collect();
        Ok(export::select(
            self.orders.borrow().values().cloned(),
            &payments,
            filter,
        ))
    }

    async fn enqueue(&self, messages: &[Outgoing], now: u64) -> Result<Vec<Queued>, StoreError> {
        self.check()?;
        Ok(self.queue(messages, now))
    }

    async fn lease_due(&self, now: u64, limit: usize) -> Result<Vec<Queued>, StoreError> {
        self.check()?;
        let mut out = Vec::new();
        for s in self.outbox.borrow_mut().values_mut() {
            if out.len() == limit {
                break;
            }
            if s.status == "pending" && s.next_attempt_at <= now {
                s.attempts += 1;
                s.next_attempt_at = now + LEASE;
                out.push(Queued {
                    message: s.message.clone(),
                    attempts: s.attempts,
                });
            }
        }
        Ok(out)
    }

    async fn settle(&self, id: &str, result: &Settle, _now: u64) -> Result<(), StoreError> {
        self.check()?;
        if let Some(s) = self.outbox.borrow_mut().get_mut(id) {
            match result {
                Settle::Sent => s.status = "sent",
                Settle::Retry { at, error } => {
                    s.next_attempt_at = *at;
                    s.last_error = Some(error.clone());
                }
                Settle::Failed { error } => {
                    s.status = "failed";
                    s.last_error = Some(error.clone());
                }
            }
        }
        Ok(())
    }
}
