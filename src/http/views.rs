//! The API's JSON: what each route answers, built from the domain records.
//! Field names and shapes are the API's contract (README, API).

use serde::Serialize;

use crate::i18n::Lang;
use crate::shop::catalog::Delivery;
use crate::shop::entitlement::{self, Entitlement};
use crate::shop::ton::TonWallet;
use crate::shop::{Order, Product};

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
    pub delivery: Option<DeliveryView<'a>>,
    /// The chat the order lets its buyer into, while it does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access: Option<&'a AccessView>,
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
            access: None,
        }
    }

    /// The goods, their text in the buyer's `lang`.
    pub fn with_delivery(self, delivery: Option<&'a Delivery>, lang: Lang) -> OrderView<'a> {
        OrderView {
            delivery: delivery.map(|d| DeliveryView {
                text: d.text.as_ref().map(|t| t.get(lang)),
                url: d.url.as_deref(),
                document: d.document.as_deref(),
            }),
            ..self
        }
    }

    pub fn with_access(self, access: Option<&'a AccessView>) -> OrderView<'a> {
        OrderView { access, ..self }
    }
}

/// The goods of a paid order, in the buyer's language.
#[derive(Debug, Serialize)]
pub struct DeliveryView<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document: Option<&'a str>,
}

/// Access to a chat as the buyer's views show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccessView {
    pub chat_id: i64,
    /// The chat's title, once setup has read it.
    pub title: Option<String>,
    /// The buyer's personal link (or the chat's subscription link), once made.
    pub invite_link: Option<String>,
}

/// What the caller owns, with the chat it lets them into.
#[derive(Debug, Serialize)]
pub struct EntitlementView<'a> {
    pub product_id: &'a str,
    pub kind: entitlement::Kind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_id: Option<&'a str>,
    pub since: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active_until: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub renews: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access: Option<&'a AccessView>,
}

impl<'a> EntitlementView<'a> {
    pub fn of(e: &'a Entitlement, access: Option<&'a AccessView>) -> EntitlementView<'a> {
        EntitlementView {
            product_id: &e.product_id,
            kind: e.kind,
            order_id: e.order_id.as_deref(),
            since: e.since,
            active_until: e.active_until,
            renews: e.renews,
            access,
        }
    }
}

/// A product as the catalog shows it, in the caller's language: never its
/// goods (`delivery`).
#[derive(Debug, Serialize)]
pub struct ProductView<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub description: &'a str,
    pub currency: &'a str,
    pub amount: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscription_period: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub photo_url: Option<&'a str>,
    /// Its `t.me` link, when the bot's name is known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// For a product sold through the chat's own subscription link: that
    /// link. Telegram takes the payment; there is no invoice.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub join_link: Option<String>,
}

impl<'a> ProductView<'a> {
    pub fn of(p: &'a Product, link: Option<String>, lang: Lang) -> ProductView<'a> {
        ProductView {
            id: &p.id,
            title: p.title.get(lang),
            description: p.description.get(lang),
            currency: &p.currency,
            amount: p.amount,
            subscription_period: p.subscription_period,
            photo_url: p.photo_url.as_deref(),
            link,
            join_link: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shop::catalog::Delivery;

    #[test]
    fn a_product_never_shows_its_goods() {
        let p = Product {
            delivery: Some(Delivery {
                text: Some("code 42".into()),
                url: Some("https://x/y".into()),
                document: None,
            }),
            ..Product::stars("p1", 5, None)
        };
        let shown = serde_json::to_string(&ProductView::of(&p, None, Lang::EN)).unwrap();
        assert!(
            !shown.contains("delivery") && !shown.contains("code 42"),
            "{shown}"
        );
        assert!(
            !shown.contains("link") && !shown.contains("subscription_period"),
            "{shown}"
        );
    }
}

/// A linked TON wallet as its owner sees it.
#[derive(Debug, Serialize)]
pub struct WalletView<'a> {
    /// Raw form `wc:hex`.
    pub address: &'a str,
    /// User-friendly form (non-bounceable), as wallets show it.
    pub friendly: &'a str,
    /// TON Connect's network id: `-239` (mainnet) or `-3` (testnet).
    pub network: &'a str,
    pub version: &'a str,
    pub linked_at: u64,
}

impl<'a> WalletView<'a> {
    pub fn of(w: &'a TonWallet) -> WalletView<'a> {
        WalletView {
            address: &w.address,
            friendly: &w.friendly,
            network: &w.network,
            version: &w.version,
            linked_at: w.linked_at,
        }
    }
}
