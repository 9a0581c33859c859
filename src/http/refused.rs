//! The shop's refusals as the API answers them: each a status, a stable code
//! and a message fit to show.

use crate::error::ApiError;
use crate::shop::entitlement::RenewalRefused;
use crate::shop::RefundRefused;

impl From<RenewalRefused> for ApiError {
    fn from(r: RenewalRefused) -> ApiError {
        match r {
            RenewalRefused::NotFound => ApiError::new(
                404,
                "subscription_not_found",
                "no subscription with that id",
            ),
            RenewalRefused::NotASubscription => ApiError::new(
                409,
                "not_a_subscription",
                "that order is not a subscription",
            ),
            RenewalRefused::NotActive => ApiError::new(
                409,
                "subscription_not_active",
                "the subscription has ended or was refunded; buy it again",
            ),
        }
    }
}

impl From<RefundRefused> for ApiError {
    fn from(r: RefundRefused) -> ApiError {
        match r {
            RefundRefused::NotPaid(status) => ApiError::new(
                409,
                "order_not_paid",
                format!(
                    "order is {}; only paid orders can be refunded",
                    status.as_str()
                ),
            ),
            RefundRefused::NotStars => ApiError::new(
                409,
                "not_refundable_here",
                "card payments are refunded through the payment provider",
            ),
        }
    }
}
