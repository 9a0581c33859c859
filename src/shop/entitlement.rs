//! What a buyer owns now, and the rules for turning a subscription's renewal
//! off and on. Pure: the clock is a parameter.
//!
//! - A one-time product is owned while some order for it is `paid` (a refund
//!   makes the order `refunded`, which ends the entitlement).
//! - A subscription is owned while its paid order's `subscription_expiration_date`
//!   (from Telegram's last `successful_payment`) is in the future. Renewals move
//!   that date; cancelling renewal keeps access to the end of the period.

use serde::Serialize;

use super::access::Member;
use super::order::{Order, OrderStatus};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    OneTime,
    Subscription,
    /// Membership bought through a chat's own subscription link: Telegram
    /// bills it, so there is no order.
    TelegramSubscription,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entitlement {
    pub product_id: String,
    pub kind: Kind,
    /// The order that grants it (for subscriptions, the id to cancel or resume).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    /// When it was first paid.
    pub since: u64,
    /// Subscriptions only: access ends then unless renewed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active_until: Option<i64>,
    /// Subscriptions only: whether Telegram will charge the next period.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub renews: Option<bool>,
}

fn is_subscription(o: &Order) -> bool {
    o.subscription_expiration_date.is_some()
}

/// The entitlements that `orders` (one user's) grant at `now`, one per product,
/// sorted by product id.
pub fn owned(orders: &[Order], now: u64) -> Vec<Entitlement> {
    let mut out: Vec<Entitlement> = Vec::new();
    for o in orders.iter().filter(|o| o.status == OrderStatus::Paid) {
        let e = match o.subscription_expiration_date {
            Some(until) if until > now as i64 => Entitlement {
                product_id: o.product_id.clone(),
                kind: Kind::Subscription,
                order_id: Some(o.id.clone()),
                since: o.paid_at.unwrap_or(o.created_at),
                active_until: Some(until),
                renews: Some(!o.renewal_canceled),
            },
            Some(_) => continue, // lapsed
            None => Entitlement {
                product_id: o.product_id.clone(),
                kind: Kind::OneTime,
                order_id: Some(o.id.clone()),
                since: o.paid_at.unwrap_or(o.created_at),
                active_until: None,
                renews: None,
            },
        };
        match out.iter_mut().find(|x| x.product_id == e.product_id) {
            // Two purchases of one product: the longest subscription, the first one-time buy.
            Some(x) if better(&e, x) => *x = e,
            Some(_) => {}
            None => out.push(e),
        }
    }
    out.sort_by(|a, b| a.product_id.cmp(&b.product_id));
    out
}

/// Membership of `product`'s chat bought through Telegram's subscription
/// link, as the member's last `chat_member` update has it, while it lasts.
pub fn telegram_subscription(product_id: &str, member: &Member, now: u64) -> Option<Entitlement> {
    let until = member.until_date.filter(|u| *u > now as i64)?;
    member.is_in().then(|| Entitlement {
        product_id: product_id.to_owned(),
        kind: Kind::TelegramSubscription,
        order_id: None,
        since: member.updated_at,
        active_until: Some(until),
        renews: None,
    })
}

fn better(new: &Entitlement, old: &Entitlement) -> bool {
    match (new.active_until, old.active_until) {
        (Some(n), Some(o)) => n > o,
        (Some(_), None) => true,
        (None, Some(_)) => false,
        (None, None) => new.since < old.since,
    }
}

/// Whether a subscription should renew after this request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Renewal {
    Cancel,
    Resume,
}

/// Why a renewal change is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RenewalRefused {
    /// No such order, or somebody else's (which is as unknown as a missing one).
    NotFound,
    NotASubscription,
    /// Lapsed or refunded.
    NotActive,
}

/// Checks that `user_id` may cancel or resume the subscription `order`. `Ok(true)`
/// when Telegram must be told, `Ok(false)` when it is already so.
pub fn check_renewal_change(
    order: Option<&Order>,
    user_id: i64,
    now: u64,
    change: Renewal,
) -> Result<bool, RenewalRefused> {
    let Some(o) = order.filter(|o| o.user_id == user_id) else {
        return Err(RenewalRefused::NotFound);
    };
    if !is_subscription(o) || o.subscription_charge_id.is_none() {
        return Err(RenewalRefused::NotASubscription);
    }
    let active = o.status == OrderStatus::Paid
        && o.subscription_expiration_date
            .is_some_and(|t| t > now as i64);
    if !active {
        return Err(RenewalRefused::NotActive);
    }
    Ok(o.renewal_canceled != (change == Renewal::Cancel))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shop::catalog::Product;
    use crate::shop::order::Payment;

    const DAY: u64 = 86_400;
    const T0: u64 = 1_750_000_000;

    fn product(id: &str, period: Option<u32>) -> Product {
        Product::stars(id, 10, period)
    }

    fn pay(o: &Order, charge: &str, at: u64, first: bool) -> Order {
        let sub = o.product_id.starts_with("sub");
        o.with_payment(&Payment {
            telegram_payment_charge_id: charge.into(),
            provider_payment_charge_id: String::new(),
            order_id: o.id.clone(),
            user_id: o.user_id,
            currency: "XTR".into(),
            amount: 10,
            paid_at: at,
            subscription_expiration_date: sub.then_some((at + 30 * DAY) as i64),
            is_recurring: sub,
            is_first_recurring: sub && first,
            refunded_at: None,
            raw_update: String::new(),
        })
    }

    fn order(id: &str, product_id: &str) -> Order {
        let period = product_id.starts_with("sub").then_some(2_592_000);
        Order::new(id.into(), 7, &product(product_id, period), T0)
    }

    #[test]
    fn nothing_is_owned_before_payment() {
        assert!(owned(&[order("o1", "pack"), order("o2", "sub")], T0).is_empty());
    }

    #[test]
    fn a_first_payment_grants_and_renewals_extend() {
        let sub = pay(&order("o1", "sub"), "c1", T0, true);
        let e = owned(std::slice::from_ref(&sub), T0 + DAY);
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].kind, Kind::Subscription);
        assert_eq!(e[0].active_until, Some((T0 + 30 * DAY) as i64));
        assert_eq!(e[0].renews, Some(true));
        // Day 31 without a renewal: lapsed.
        assert!(owned(std::slice::from_ref(&sub), T0 + 31 * DAY).is_empty());
        // Renewed on day 30: owned on day 31, until day 60.
        let renewed = pay(&sub, "c2", T0 + 30 * DAY, false);
        let e = owned(&[renewed], T0 + 31 * DAY);
        assert_eq!(e[0].active_until, Some((T0 + 60 * DAY) as i64));
        assert_eq!(e[0].since, T0, "since is the first payment");
    }

    #[test]
    fn a_refund_removes_the_entitlement() {
        let mut pack = pay(&order("o1", "pack"), "c1", T0, true);
        assert_eq!(
            owned(std::slice::from_ref(&pack), T0)[0].kind,
            Kind::OneTime
        );
        pack.status = OrderStatus::Refunded;
        assert!(owned(&[pack], T0).is_empty());
    }

    #[test]
    fn one_entitlement_per_product() {
        let a = pay(&order("a", "pack"), "c1", T0 + 5, true);
        let b = pay(&order("b", "pack"), "c2", T0 + 1, true);
        let e = owned(&[a, b], T0 + 10);
        assert_eq!((e.len(), e[0].order_id.as_deref()), (1, Some("b")));
    }

    #[test]
    fn a_telegram_subscription_member_owns_it_until_the_date() {
        let member = |status: &str, until| Member {
            chat_id: -1_001_000_000_001,
            user_id: 7,
            status: status.into(),
            until_date: until,
            updated_at: T0,
        };
        let e = telegram_subscription("tg", &member("member", Some(T0 as i64 + 100)), T0).unwrap();
        assert_eq!(
            (e.kind, e.order_id, e.active_until),
            (Kind::TelegramSubscription, None, Some(T0 as i64 + 100))
        );
        assert!(telegram_subscription("tg", &member("member", Some(T0 as i64 - 1)), T0).is_none());
        assert!(telegram_subscription("tg", &member("left", Some(T0 as i64 + 100)), T0).is_none());
        assert!(telegram_subscription("tg", &member("member", None), T0).is_none());
    }

    #[test]
    fn cancel_and_resume_follow_the_stored_state() {
        let sub = pay(&order("o1", "sub"), "c1", T0, true);
        let now = T0 + DAY;
        assert_eq!(
            check_renewal_change(Some(&sub), 7, now, Renewal::Cancel),
            Ok(true)
        );
        assert_eq!(
            check_renewal_change(Some(&sub), 7, now, Renewal::Resume),
            Ok(false)
        );
        let mut canceled = sub.clone();
        canceled.renewal_canceled = true;
        assert_eq!(
            check_renewal_change(Some(&canceled), 7, now, Renewal::Resume),
            Ok(true)
        );
        assert_eq!(
            check_renewal_change(Some(&canceled), 7, now, Renewal::Cancel),
            Ok(false)
        );
        assert_eq!(owned(&[canceled], now)[0].renews, Some(false));
    }

    #[test]
    fn renewal_changes_are_refused_with_reasons() {
        let sub = pay(&order("o1", "sub"), "c1", T0, true);
        let why = |o: Option<&Order>, user, now| {
            check_renewal_change(o, user, now, Renewal::Cancel).unwrap_err()
        };
        assert_eq!(why(None, 7, T0), RenewalRefused::NotFound);
        assert_eq!(why(Some(&sub), 8, T0), RenewalRefused::NotFound);
        let pack = pay(&order("o2", "pack"), "c2", T0, true);
        assert_eq!(why(Some(&pack), 7, T0), RenewalRefused::NotASubscription);
        assert_eq!(why(Some(&sub), 7, T0 + 31 * DAY), RenewalRefused::NotActive);
        let mut refunded = sub.clone();
        refunded.status = OrderStatus::Refunded;
        assert_eq!(why(Some(&refunded), 7, T0), RenewalRefused::NotActive);
    }
}
