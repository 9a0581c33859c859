//! The operator's summary of the last days: per currency, what was paid and
//! refunded, day by day (UTC), and the subscriptions that renew soon. Pure:
//! the route hands in the stored charges and orders, and what Telegram's
//! record says each Stars charge brought the bot.
//!
//! Amounts are in each currency's smallest unit as stored (Stars, nanotons,
//! USDT micro-units, a card currency's minor units). A charge counts on the
//! day it was paid, a refund on the day it was refunded: `paid_orders` counts
//! charges, so a subscription's renewal is a paid order again.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::order::{Order, OrderStatus, Payment};
use super::reconcile::{Settled, Stars};
use crate::telegram::types::NANOSTARS;

pub const DAY: u64 = 86_400;

/// The windows the summary offers, in days.
pub const WINDOWS: [u32; 2] = [30, 90];

/// The last `days` UTC days, today (to `until`, now) included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub days: u32,
    /// Midnight UTC of the first day.
    pub since: u64,
    pub until: u64,
}

impl Window {
    pub fn ending(now: u64, days: u32) -> Window {
        let first = (now / DAY).saturating_sub(u64::from(days.max(1)) - 1);
        Window {
            days,
            since: first * DAY,
            until: now,
        }
    }

    /// Which day of the window `t` falls on, if it does.
    fn day(&self, t: u64) -> Option<usize> {
        (self.since..=self.until)
            .contains(&t)
            .then(|| ((t - self.since) / DAY) as usize)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Day {
    /// `YYYY-MM-DD`, UTC.
    pub date: String,
    pub gross: i64,
    pub refunded: i64,
    pub orders: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CurrencySummary {
    pub currency: String,
    /// Charges paid in the window.
    pub gross: i64,
    /// Stars only, when Telegram's record could be read: what the charges
    /// paid brought the bot (after affiliate commissions) less what the
    /// refunds took back. Null otherwise.
    pub net: Option<Stars>,
    /// Charges refunded in the window.
    pub refunded: i64,
    pub paid_orders: u32,
    pub refunds: u32,
    /// `refunds / paid_orders`, at most 1; 0 when nothing was paid.
    pub refund_rate: f64,
    /// Every day of the window, oldest first, days without sales included.
    pub per_day: Vec<Day>,
}

/// Each currency with a charge paid or refunded in the window, Stars first,
/// then by code. `settled` (Stars charges by charge id, from Telegram's
/// record) gives the Stars net; a charge Telegram's record did not reach
/// counts in full.
pub fn currencies(
    payments: &[Payment],
    window: &Window,
    settled: Option<&HashMap<String, Settled>>,
) -> Vec<CurrencySummary> {
    let mut by: BTreeMap<&str, (CurrencySummary, i64)> = BTreeMap::new();
    let days: Vec<String> = (0..u64::from(window.days))
        .map(|i| date(window.since + i * DAY))
        .collect();
    for p in payments {
        let paid = window.day(p.paid_at);
        let refunded = p.refunded_at.and_then(|t| window.day(t));
        if paid.is_none() && refunded.is_none() {
            continue;
        }
        let (c, net) = by.entry(&p.currency).or_insert_with(|| {
            let per_day = days
                .iter()
                .map(|d| Day {
                    date: d.clone(),
                    gross: 0,
                    refunded: 0,
                    orders: 0,
                })
                .collect();
            let summary = CurrencySummary {
                currency: p.currency.clone(),
                gross: 0,
                net: None,
                refunded: 0,
                paid_orders: 0,
                refunds: 0,
                refund_rate: 0.0,
                per_day,
            };
            (summary, 0)
        });
        let kept = settled
            .and_then(|s| s.get(&p.telegram_payment_charge_id))
            .map_or(p.amount * NANOSTARS, |s| s.net_amount.0);
        if let Some(i) = paid {
            c.gross += p.amount;
            c.paid_orders += 1;
            c.per_day[i].gross += p.amount;
            c.per_day[i].orders += 1;
            *net += kept;
        }
        if let Some(i) = refunded {
            c.refunded += p.amount;
            c.refunds += 1;
            c.per_day[i].refunded += p.amount;
            *net -= kept;
        }
    }
    let mut out: Vec<CurrencySummary> = by
        .into_values()
        .map(|(mut c, net)| {
            if c.paid_orders > 0 {
                c.refund_rate = (f64::from(c.refunds) / f64::from(c.paid_orders)).min(1.0);
            }
            if c.currency == "XTR" && settled.is_some() {
                c.net = Some(Stars(net));
            }
            c
        })
        .collect();
    out.sort_by_key(|c| (c.currency != "XTR", c.currency.clone()));
    out
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Subscriptions {
    /// Paid subscriptions not yet expired.
    pub active: u32,
    /// Of those, the ones that renew within 30 days (renewal not turned
    /// off), by currency: how many and what they will charge.
    pub renewing_30d: Vec<Renewing>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Renewing {
    pub currency: String,
    pub count: u32,
    pub amount: i64,
}

pub fn subscriptions(orders: &[Order], now: u64) -> Subscriptions {
    let mut active = 0;
    let mut renewing: BTreeMap<&str, (u32, i64)> = BTreeMap::new();
    for o in orders {
        let Some(until) = o.subscription_expiration_date else {
            continue;
        };
        if o.status != OrderStatus::Paid || until <= now as i64 {
            continue;
        }
        active += 1;
        if !o.renewal_canceled && until <= (now + 30 * DAY) as i64 {
            let r = renewing.entry(&o.currency).or_default();
            r.0 += 1;
            r.1 += o.amount;
        }
    }
    Subscriptions {
        active,
        renewing_30d: renewing
            .into_iter()
            .map(|(currency, (count, amount))| Renewing {
                currency: currency.to_owned(),
                count,
                amount,
            })
            .collect(),
    }
}

/// `YYYY-MM-DD` of a Unix time, UTC (Howard Hinnant's `civil_from_days`).
pub fn date(t: u64) -> String {
    let z = (t / DAY) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shop::catalog::Product;

    /// 2026-12-01 00:00:00 UTC.
    const DEC1: u64 = 1_796_083_200;

    fn charge(id: &str, currency: &str, amount: i64, at: u64, refunded: Option<u64>) -> Payment {
        Payment {
            telegram_payment_charge_id: id.into(),
            provider_payment_charge_id: String::new(),
            order_id: format!("o_{id}"),
            user_id: 7,
            currency: currency.into(),
            amount,
            paid_at: at,
            subscription_expiration_date: None,
            is_recurring: false,
            is_first_recurring: false,
            refunded_at: refunded,
            raw_update: String::new(),
        }
    }

    #[test]
    fn dates_are_utc_days() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(DEC1), "2026-12-01");
        assert_eq!(date(DEC1 - 1), "2026-11-30");
        assert_eq!(date(951_782_400), "2000-02-29");
    }

    #[test]
    fn the_window_is_whole_utc_days_ending_today() {
        let now = DEC1 + 10 * 3600;
        let w = Window::ending(now, 30);
        assert_eq!((w.since, w.until), (DEC1 - 29 * DAY, now));
        assert_eq!(w.day(w.since), Some(0));
        assert_eq!(w.day(w.since - 1), None);
        assert_eq!(w.day(DEC1), Some(29));
        assert_eq!(w.day(now + 1), None, "the future is not in it");
    }

    #[test]
    fn every_day_is_listed_and_charges_fall_on_their_days() {
        let now = DEC1 + 3600;
        let w = Window::ending(now, 30);
        let payments = [
            charge("a", "XTR", 50, DEC1 + 60, None),
            charge("b", "XTR", 20, DEC1 - DAY + 5, Some(DEC1 + 120)),
            // Paid before the window, refunded in it.
            charge("c", "XTR", 7, w.since - 1, Some(DEC1 - 3 * DAY)),
            // Before the window altogether.
            charge("d", "XTR", 99, w.since - DAY, None),
            charge("t", "TON", 1_500_000_000, w.since, None),
            charge("e", "EUR", 500, DEC1, Some(DEC1 + 1)),
        ];
        let out = currencies(&payments, &w, None);
        let codes: Vec<&str> = out.iter().map(|c| c.currency.as_str()).collect();
        assert_eq!(codes, ["XTR", "EUR", "TON"], "Stars first, then by code");
        let xtr = &out[0];
        assert_eq!(xtr.per_day.len(), 30);
        assert_eq!(xtr.per_day[0].date, "2026-11-02");
        assert_eq!(xtr.per_day[29].date, "2026-12-01");
        assert_eq!(
            (xtr.gross, xtr.refunded, xtr.paid_orders, xtr.refunds),
            (70, 27, 2, 2)
        );
        assert_eq!(xtr.refund_rate, 1.0);
        assert_eq!(xtr.net, None, "no record from Telegram");
        let today = &xtr.per_day[29];
        assert_eq!((today.gross, today.refunded, today.orders), (50, 20, 1));
        let yesterday = &xtr.per_day[28];
        assert_eq!((yesterday.gross, yesterday.orders), (20, 1));
        assert_eq!(xtr.per_day[26].refunded, 7);
        let zero_days = xtr
            .per_day
            .iter()
            .filter(|d| d.gross == 0 && d.refunded == 0 && d.orders == 0)
            .count();
        assert_eq!(zero_days, 27);
        let ton = &out[2];
        assert_eq!(
            (ton.gross, ton.per_day[0].orders, ton.refund_rate),
            (1_500_000_000, 1, 0.0)
        );
        assert_eq!(out[1].refund_rate, 1.0);
        assert!(currencies(&payments, &Window::ending(DEC1 + 200 * DAY, 30), None).is_empty());
    }

    #[test]
    fn the_stars_net_leaves_out_commissions_and_refunds() {
        let w = Window::ending(DEC1 + 3600, 30);
        let payments = [
            charge("a", "XTR", 55, DEC1, None),
            charge("b", "XTR", 50, DEC1, Some(DEC1 + 60)),
            // Not in Telegram's record (yet): counted in full.
            charge("c", "XTR", 10, DEC1, None),
        ];
        let settled = HashMap::from([
            (
                "a".to_string(),
                Settled {
                    transaction_type: "invoice_payment".into(),
                    affiliate_commission: Stars(6_875_000_000),
                    net_amount: Stars(48_125_000_000),
                },
            ),
            (
                "b".to_string(),
                Settled {
                    transaction_type: "invoice_payment".into(),
                    affiliate_commission: Stars(0),
                    net_amount: Stars(50 * NANOSTARS),
                },
            ),
        ]);
        let xtr = &currencies(&payments, &w, Some(&settled))[0];
        assert_eq!((xtr.gross, xtr.refunded), (115, 50));
        assert_eq!(xtr.net, Some(Stars(58_125_000_000)));
        assert!((xtr.refund_rate - 1.0 / 3.0).abs() < 1e-9);
        assert_eq!(serde_json::to_value(xtr).unwrap()["net"], 58.125);
    }

    #[test]
    fn subscriptions_count_the_active_and_those_renewing_within_30_days() {
        let now = DEC1;
        let sub = |id: &str, currency: &str, until: u64, canceled: bool, status| {
            let mut o = Order::new(id.into(), 7, &Product::stars("s", 100, Some(2_592_000)), 1);
            o.currency = currency.into();
            o.status = status;
            o.subscription_expiration_date = Some(until as i64);
            o.renewal_canceled = canceled;
            o
        };
        let orders = [
            sub("a", "XTR", now + DAY, false, OrderStatus::Paid),
            sub("b", "XTR", now + 29 * DAY, false, OrderStatus::Paid),
            sub("c", "XTR", now + DAY, true, OrderStatus::Paid),
            sub("d", "XTR", now + 40 * DAY, false, OrderStatus::Paid),
            sub("e", "XTR", now - 1, false, OrderStatus::Paid),
            sub("f", "XTR", now + DAY, false, OrderStatus::Refunded),
            Order::new("g".into(), 7, &Product::stars("p", 5, None), 1),
        ];
        let s = subscriptions(&orders, now);
        assert_eq!(s.active, 4);
        assert_eq!(
            s.renewing_30d,
            [Renewing {
                currency: "XTR".into(),
                count: 2,
                amount: 200
            }]
        );
    }
}
