//! The in-memory store: the reference behaviour the D1 and KV stores follow,
//! used by native tests. It can be told to fail, to test the failure paths.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};

use super::{Outcome, Store, StoreError};
use crate::shop::{Order, OrderStatus, Payment};

#[derive(Default)]
pub struct MemoryStore {
    orders: RefCell<BTreeMap<String, Order>>,
    payments: RefCell<BTreeMap<String, Payment>>,
    updates: RefCell<HashMap<i64, u64>>,
    /// When set, every call fails (a storage outage).
    pub broken: Cell<bool>,
}

impl MemoryStore {
    fn check(&self) -> Result<(), StoreError> {
        if self.broken.get() {
            Err(StoreError("the store is down".into()))
        } else {
            Ok(())
        }
    }

    pub fn payment_count(&self) -> usize {
        self.payments.borrow().len()
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
    ) -> Result<(Outcome, Option<Order>), StoreError> {
        self.check()?;
        self.updates.borrow_mut().entry(update_id).or_insert(now);
        let mut payments = self.payments.borrow_mut();
        let mut orders = self.orders.borrow_mut();
        if payments.contains_key(&payment.telegram_payment_charge_id) {
            return Ok((Outcome::AlreadyDone, orders.get(&payment.order_id).cloned()));
        }
        payments.insert(payment.telegram_payment_charge_id.clone(), payment.clone());
        let order = orders.get_mut(&payment.order_id).map(|o| {
            *o = o.with_payment(payment);
            o.clone()
        });
        Ok((Outcome::Applied, order))
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
}
