//! The records as they are stored: a D1 row (read by column name) and a KV
//! value (JSON) have the same flat shape, so one type serves both stores.
//! Flags are SQL integers (0/1); KV values written before these types held
//! `true`/`false`, which still read.

use serde::{Deserialize, Serialize};

use super::StoreError;
use crate::i18n::Lang;
use crate::shop::access::{AccessLink, Member};
use crate::shop::outbox::{Kind, Outgoing, Queued, Tracked};
use crate::shop::ton::TonWallet;
use crate::shop::{Order, OrderStatus, Payment};

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError(format!("stored {what} {value:?} is not one we write"))
}

/// An order as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderRow {
    pub id: String,
    pub user_id: i64,
    pub product_id: String,
    pub status: String,
    pub currency: String,
    pub amount: i64,
    pub created_at: u64,
    #[serde(default)]
    pub paid_at: Option<u64>,
    #[serde(default)]
    pub telegram_payment_charge_id: Option<String>,
    #[serde(default)]
    pub subscription_expiration_date: Option<i64>,
    #[serde(default)]
    pub subscription_charge_id: Option<String>,
    #[serde(default, with = "flag")]
    pub renewal_canceled: bool,
    #[serde(default)]
    pub join_request_query_id: Option<String>,
    /// The buyer's language code; none on orders from before it was kept.
    #[serde(default)]
    pub language: Option<String>,
    /// The buyer's username; none when they have none or on older orders.
    #[serde(default)]
    pub username: Option<String>,
}

impl From<&Order> for OrderRow {
    fn from(o: &Order) -> OrderRow {
        OrderRow {
            id: o.id.clone(),
            user_id: o.user_id,
            product_id: o.product_id.clone(),
            status: o.status.as_str().to_owned(),
            currency: o.currency.clone(),
            amount: o.amount,
            created_at: o.created_at,
            paid_at: o.paid_at,
            telegram_payment_charge_id: o.telegram_payment_charge_id.clone(),
            subscription_expiration_date: o.subscription_expiration_date,
            subscription_charge_id: o.subscription_charge_id.clone(),
            renewal_canceled: o.renewal_canceled,
            join_request_query_id: o.join_request_query_id.clone(),
            language: Some(o.language.code().to_owned()),
            username: o.username.clone(),
        }
    }
}

impl TryFrom<OrderRow> for Order {
    type Error = StoreError;

    fn try_from(r: OrderRow) -> Result<Order, StoreError> {
        Ok(Order {
            status: OrderStatus::parse(&r.status).ok_or_else(|| corrupt("status", &r.status))?,
            id: r.id,
            user_id: r.user_id,
            product_id: r.product_id,
            currency: r.currency,
            amount: r.amount,
            created_at: r.created_at,
            paid_at: r.paid_at,
            telegram_payment_charge_id: r.telegram_payment_charge_id,
            subscription_expiration_date: r.subscription_expiration_date,
            subscription_charge_id: r.subscription_charge_id,
            renewal_canceled: r.renewal_canceled,
            join_request_query_id: r.join_request_query_id,
            language: Lang::of(r.language.as_deref()),
            username: r.username,
        })
    }
}

/// A payment as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaymentRow {
    pub telegram_payment_charge_id: String,
    pub provider_payment_charge_id: String,
    pub order_id: String,
    pub user_id: i64,
    pub currency: String,
    pub amount: i64,
    pub paid_at: u64,
    #[serde(default)]
    pub subscription_expiration_date: Option<i64>,
    #[serde(default, with = "flag")]
    pub is_recurring: bool,
    #[serde(default, with = "flag")]
    pub is_first_recurring: bool,
    #[serde(default)]
    pub refunded_at: Option<u64>,
    /// The update as received, for audit (left out of listings).
    #[serde(default)]
    pub raw_update: String,
}

impl From<&Payment> for PaymentRow {
    fn from(p: &Payment) -> PaymentRow {
        PaymentRow {
            telegram_payment_charge_id: p.telegram_payment_charge_id.clone(),
            provider_payment_charge_id: p.provider_payment_charge_id.clone(),
            order_id: p.order_id.clone(),
            user_id: p.user_id,
            currency: p.currency.clone(),
            amount: p.amount,
            paid_at: p.paid_at,
            subscription_expiration_date: p.subscription_expiration_date,
            is_recurring: p.is_recurring,
            is_first_recurring: p.is_first_recurring,
            refunded_at: p.refunded_at,
            raw_update: p.raw_update.clone(),
        }
    }
}

impl From<PaymentRow> for Payment {
    fn from(r: PaymentRow) -> Payment {
        Payment {
            telegram_payment_charge_id: r.telegram_payment_charge_id,
            provider_payment_charge_id: r.provider_payment_charge_id,
            order_id: r.order_id,
            user_id: r.user_id,
            currency: r.currency,
            amount: r.amount,
            paid_at: r.paid_at,
            subscription_expiration_date: r.subscription_expiration_date,
            is_recurring: r.is_recurring,
            is_first_recurring: r.is_first_recurring,
            refunded_at: r.refunded_at,
            raw_update: r.raw_update,
        }
    }
}

/// A message owed, with its sending state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxRow {
    pub id: String,
    pub kind: String,
    #[serde(default)]
    pub order_id: Option<String>,
    pub chat_id: i64,
    pub method: String,
    pub params: String,
    /// `pending`, `sent` or `failed`.
    pub status: String,
    pub attempts: u32,
    pub next_attempt_at: u64,
    #[serde(default)]
    pub last_error: Option<String>,
    #[serde(default)]
    pub sent_at: Option<u64>,
}

impl OutboxRow {
    /// A newly queued message, leased to its first sender until `lease_until`.
    pub fn queued(m: &Outgoing, lease_until: u64) -> OutboxRow {
        OutboxRow {
            id: m.id.clone(),
            kind: m.kind.as_str().to_owned(),
            order_id: m.order_id.clone(),
            chat_id: m.chat_id,
            method: m.method.clone(),
            params: m.params.clone(),
            status: "pending".into(),
            attempts: 1,
            next_attempt_at: lease_until,
            last_error: None,
            sent_at: None,
        }
    }

    pub fn into_tracked(self) -> Result<Tracked, StoreError> {
        let (status, last_error, sent_at) =
            (self.status.clone(), self.last_error.clone(), self.sent_at);
        let queued = self.into_queued()?;
        Ok(Tracked {
            message: queued.message,
            status,
            attempts: queued.attempts,
            last_error,
            sent_at,
        })
    }

    pub fn into_queued(self) -> Result<Queued, StoreError> {
        Ok(Queued {
            message: Outgoing {
                kind: Kind::parse(&self.kind).ok_or_else(|| corrupt("message kind", &self.kind))?,
                id: self.id,
                order_id: self.order_id,
                chat_id: self.chat_id,
                method: self.method,
                params: self.params,
            },
            attempts: self.attempts,
        })
    }
}

/// An access link as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessLinkRow {
    pub order_id: String,
    pub chat_id: i64,
    pub user_id: i64,
    pub invite_link: String,
    pub app_url: String,
    pub created_at: u64,
    #[serde(default)]
    pub revoked_at: Option<u64>,
}

impl From<&AccessLink> for AccessLinkRow {
    fn from(l: &AccessLink) -> AccessLinkRow {
        AccessLinkRow {
            order_id: l.order_id.clone(),
            chat_id: l.chat_id,
            user_id: l.user_id,
            invite_link: l.invite_link.clone(),
            app_url: l.app_url.clone(),
            created_at: l.created_at,
            revoked_at: l.revoked_at,
        }
    }
}

impl From<AccessLinkRow> for AccessLink {
    fn from(r: AccessLinkRow) -> AccessLink {
        AccessLink {
            order_id: r.order_id,
            chat_id: r.chat_id,
            user_id: r.user_id,
            invite_link: r.invite_link,
            app_url: r.app_url,
            created_at: r.created_at,
            revoked_at: r.revoked_at,
        }
    }
}

/// A chat member as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberRow {
    pub chat_id: i64,
    pub user_id: i64,
    pub status: String,
    #[serde(default)]
    pub until_date: Option<i64>,
    pub updated_at: u64,
}

impl From<&Member> for MemberRow {
    fn from(m: &Member) -> MemberRow {
        MemberRow {
            chat_id: m.chat_id,
            user_id: m.user_id,
            status: m.status.clone(),
            until_date: m.until_date,
            updated_at: m.updated_at,
        }
    }
}

impl From<MemberRow> for Member {
    fn from(r: MemberRow) -> Member {
        Member {
            chat_id: r.chat_id,
            user_id: r.user_id,
            status: r.status,
            until_date: r.until_date,
            updated_at: r.updated_at,
        }
    }
}

/// A proved TON wallet as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WalletRow {
    pub user_id: i64,
    pub address: String,
    pub friendly: String,
    pub network: String,
    pub public_key: String,
    pub version: String,
    pub linked_at: u64,
}

impl From<&TonWallet> for WalletRow {
    fn from(w: &TonWallet) -> WalletRow {
        WalletRow {
            user_id: w.user_id,
            address: w.address.clone(),
            friendly: w.friendly.clone(),
            network: w.network.clone(),
            public_key: w.public_key.clone(),
            version: w.version.clone(),
            linked_at: w.linked_at,
        }
    }
}

impl From<WalletRow> for TonWallet {
    fn from(r: WalletRow) -> TonWallet {
        TonWallet {
            user_id: r.user_id,
            address: r.address,
            friendly: r.friendly,
            network: r.network,
            public_key: r.public_key,
            version: r.version,
            linked_at: r.linked_at,
        }
    }
}

/// A flag as SQL keeps it (`1`/`0`), read from that or from a JSON boolean.
mod flag {
    use serde::de::{self, Unexpected, Visitor};
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &bool, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u8((*v).into())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
        struct Flag;
        impl Visitor<'_> for Flag {
            type Value = bool;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a boolean, 0 or 1")
            }
            fn visit_bool<E>(self, v: bool) -> Result<bool, E> {
                Ok(v)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<bool, E> {
                match v {
                    0 => Ok(false),
                    1 => Ok(true),
                    _ => Err(E::invalid_value(Unexpected::Unsigned(v), &self)),
                }
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<bool, E> {
                u64::try_from(v)
                    .map_err(|_| E::invalid_value(Unexpected::Signed(v), &self))
                    .and_then(|v| self.visit_u64(v))
            }
            // D1 hands SQL integers to JavaScript as numbers.
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<bool, E> {
                match v {
                    0.0 => Ok(false),
                    1.0 => Ok(true),
                    _ => Err(E::invalid_value(Unexpected::Float(v), &self)),
                }
            }
        }
        d.deserialize_any(Flag)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shop::Product;

    fn order() -> Order {
        Order::new("o".into(), 7, &Product::stars("p", 5, Some(2_592_000)), 100)
    }

    #[test]
    fn rows_round_trip_the_records() {
        let mut o = order();
        o.renewal_canceled = true;
        o.language = Lang::ZH;
        o.username = Some("ann".into());
        o.subscription_expiration_date = Some(9);
        assert_eq!(Order::try_from(OrderRow::from(&o)), Ok(o));
    }

    #[test]
    fn flags_read_as_sql_integers_or_as_booleans() {
        let row = r#"{"id":"o","user_id":1,"product_id":"p","status":"paid","currency":"XTR",
            "amount":5,"created_at":100,"paid_at":null,"renewal_canceled":1}"#;
        let r: OrderRow = serde_json::from_str(row).unwrap();
        assert!(r.renewal_canceled);
        assert_eq!(r.paid_at, None);
        let r: OrderRow = serde_json::from_str(&row.replace(":1}", ":false}")).unwrap();
        assert!(!r.renewal_canceled);
        assert!(serde_json::from_str::<OrderRow>(&row.replace(":1}", ":2}")).is_err());
        assert_eq!(
            serde_json::to_value(&r).unwrap()["renewal_canceled"],
            serde_json::json!(0)
        );
    }

    #[test]
    fn a_status_we_never_write_is_an_error_not_a_guess() {
        let mut r = OrderRow::from(&order());
        r.status = "PAID".into();
        assert!(Order::try_from(r).unwrap_err().0.contains("PAID"));
    }
}
