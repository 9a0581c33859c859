//! The API's JSON: what each route answers, built from the domain records.
//! Field names and shapes are the API's contract (README, API).

use serde::Serialize;

use crate::shop::catalog::Delivery;
use crate::shop::Order;

/// An order as the API shows it.
#[derive(Debug, Serialize)]
pub struct OrderView<'a> {
    pub id: &'a str,
    pub user_id: i64,
    pub product_id: &'a str,
    pub status: &'static str,
    pub currency: &'a str,
    pub amount: i64,
    pub created_at: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paid_at: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub telegram_payment_charge_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscription_expiration_date: Option<i64>,
    /// The first charge of a subscription: what cancel and resume name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscription_charge_id: Option<&'a str>,
    pub renewal_canceled: bool,
    /// The goods, on the buyer's own paid orders.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery: Option<&'a Delivery>,
}

impl<'a> OrderView<'a> {
    pub fn of(o: &'a Order) -> OrderView<'a> {
        OrderView {
            id: &o.id,
            user_id: o.user_id,
            product_id: &o.product_id,
            status: o.status.as_str(),
            currency: &o.currency,
            amount: o.amount,
            created_at: o.created_at,
            paid_at: o.paid_at,
            telegram_payment_charge_id: o.telegram_payment_charge_id.as_deref(),
            subscription_expiration_date: o.subscription_expiration_date,
            subscription_charge_id: o.subscription_charge_id.as_deref(),
            renewal_canceled: o.renewal_canceled,
            delivery: None,
        }
    }

    pub fn with_delivery(self, delivery: Option<&'a Delivery>) -> OrderView<'a> {
        OrderView { delivery, ..self }
    }
}
