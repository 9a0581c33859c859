//! Selling for TON and USDT: the wallet a buyer proved, the comment that ties
//! a transfer to its order, and which transaction on chain settles an order.
//! Only transactions read from the chain settle anything; what the client
//! says it sent does not.

use super::checkout::format_price;
use super::order::{Order, Payment};

/// A wallet a user proved with TON Connect's `ton_proof`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TonWallet {
    pub user_id: i64,
    /// Raw form `wc:hex`.
    pub address: String,
    /// User-friendly form (bounceable, url-safe), as shown.
    pub friendly: String,
    /// TON Connect's network id: `-239` (mainnet) or `-3` (testnet).
    pub network: String,
    /// Hex.
    pub public_key: String,
    /// `v3R1`, `v3R2`, `v4R2` or `v5R1`.
    pub version: String,
    pub linked_at: u64,
}

/// The text comment a transfer for `order_id` carries: what ties it to the order.
pub fn comment(order_id: &str) -> String {
    format!("tma-pay:{order_id}")
}

/// What an incoming transaction of the shop's wallet carried, decoded from
/// what toncenter reports. Addresses are raw (`wc:hex`, lower case).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incoming {
    /// The transaction's hash: a TON payment's charge id.
    pub hash: String,
    /// Unix time of the transaction.
    pub at: u64,
    pub source: Option<String>,
    pub nanotons: u128,
    /// Bounced, aborted, or in a block not yet final: settles nothing.
    pub failed: bool,
    pub pending: bool,
    pub memo: Memo,
}

/// An incoming message's body, as far as payments care.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Memo {
    /// A text comment (a plain TON transfer).
    Comment(String),
    /// A jetton wallet's `transfer_notification`: `amount` jetton units sent
    /// by `sender`, with the transfer's forward payload as a comment if it
    /// was one.
    Jetton {
        amount: u128,
        sender: Option<String>,
        comment: Option<String>,
    },
    Other,
}

/// Where an order stands on chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settlement {
    /// Transfers for the order add up to at least its price. `hash` is the
    /// transfer that completed it (the payment's charge id), `received` the
    /// sum, which may exceed the price.
    Paid {
        hash: String,
        received: u128,
        at: u64,
    },
    /// Transfers for the order arrived, but less than its price so far.
    Short {
        received: u128,
    },
    Unpaid,
}

/// How much earlier than the order a transfer may be dated and still count:
/// the chain's clock and the worker's may disagree a little.
pub const CLOCK_SLACK: u64 = 300;

/// Whether `incoming` settle `order`. A transfer counts when it is final,
/// not bounced or aborted, dated after the order, and carries the order's
/// comment: for TON, as a text comment with the value in nanotons; for USDT,
/// as the forward payload of a `transfer_notification` from the shop's own
/// USDT jetton wallet (`usdt_wallet`, raw), since any contract can send a
/// message that looks like one. Partial transfers add up; the one that
/// reached the price settles the order, and all of them count as received.
/// Transfers under 1 % of the price are dust and count for nothing.
pub fn settle(order: &Order, incoming: &[Incoming], usdt_wallet: Option<&str>) -> Settlement {
    let wanted = comment(&order.id);
    let price = u128::try_from(order.amount).unwrap_or(u128::MAX);
    // Dust: once a comment is public on chain, anyone can send it for a fee;
    // a transfer under 1 % of the price is no payment and earns no notice.
    let dust = price / 100;
    let mut counted: Vec<&Incoming> = incoming
        .iter()
        .filter(|t| !t.failed && !t.pending && t.at + CLOCK_SLACK >= order.created_at)
        .collect();
    counted.sort_by_key(|t| t.at);
    counted.dedup_by(|a, b| a.hash == b.hash);
    let mut received = 0u128;
    let mut completed: Option<&Incoming> = None;
    for t in counted {
        let value = match (&t.memo, order.currency.as_str()) {
            (Memo::Comment(c), "TON") if *c == wanted => t.nanotons,
            (
                Memo::Jetton {
                    amount, comment, ..
                },
                "USDT",
            ) if comment.as_deref() == Some(wanted.as_str())
                && usdt_wallet.is_some()
                && t.source.as_deref() == usdt_wallet =>
            {
                *amount
            }
            _ => continue,
        };
        if value < dust {
            continue;
        }
        received = received.saturating_add(value);
        if received >= price && completed.is_none() {
            completed = Some(t);
        }
    }
    // Everything seen counts as received: a second transfer is an overpayment.
    if let Some(t) = completed {
        return Settlement::Paid {
            hash: t.hash.clone(),
            received,
            at: t.at,
        };
    }
    if received > 0 {
        Settlement::Short { received }
    } else {
        Settlement::Unpaid
    }
}

/// To the buyer, in the order's language: what arrived for `order` so far is
/// short of its price.
pub fn short_notice(order: &Order, received: u128) -> String {
    let received = i64::try_from(received).unwrap_or(i64::MAX);
    let missing = order.amount.saturating_sub(received);
    let price = |amount| format_price(&order.currency, amount);
    let args = [
        ("received", price(received)),
        ("price", price(order.amount)),
        ("order", order.id.clone()),
        ("missing", price(missing)),
        ("comment", comment(&order.id)),
    ];
    let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
    order.language.fill("ton.short", &args)
}

/// The payment a settled order records: the completing transfer's hash is
/// its charge id, what arrived its amount.
pub fn payment(order: &Order, hash: &str, received: u128, at: u64, raw: String) -> Payment {
    Payment {
        telegram_payment_charge_id: hash.to_owned(),
        provider_payment_charge_id: String::new(),
        order_id: order.id.clone(),
        user_id: order.user_id,
        currency: order.currency.clone(),
        amount: i64::try_from(received).unwrap_or(i64::MAX),
        paid_at: at,
        subscription_expiration_date: None,
        is_recurring: false,
        is_first_recurring: false,
        refunded_at: None,
        raw_update: raw,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shop::catalog::Product;

    const USDT_WALLET: &str = "0:aa";

    fn order(currency: &str, amount: i64) -> Order {
        let mut p = Product::stars("lamp", amount, None);
        p.currency = currency.into();
        Order::new("o1".into(), 7, &p, 1_000)
    }

    fn ton(hash: &str, at: u64, nanotons: u128, text: &str) -> Incoming {
        Incoming {
            hash: hash.into(),
            at,
            source: Some("0:bb".into()),
            nanotons,
            failed: false,
            pending: false,
            memo: Memo::Comment(text.into()),
        }
    }

    fn usdt(hash: &str, source: &str, amount: u128, text: &str) -> Incoming {
        Incoming {
            source: Some(source.into()),
            nanotons: 1,
            memo: Memo::Jetton {
                amount,
                sender: Some("0:bb".into()),
                comment: Some(text.into()),
            },
            ..ton(hash, 1_010, 0, "")
        }
    }

    fn paid(hash: &str, received: u128, at: u64) -> Settlement {
        Settlement::Paid {
            hash: hash.into(),
            received,
            at,
        }
    }

    #[test]
    fn a_ton_transfer_with_the_comment_and_the_price_pays() {
        let o = order("TON", 500);
        let t = [ton("h1", 1_010, 500, "tma-pay:o1")];
        assert_eq!(settle(&o, &t, None), paid("h1", 500, 1_010));
    }

    #[test]
    fn transfers_without_the_comment_or_that_failed_count_for_nothing() {
        let o = order("TON", 500);
        let mut bounced = ton("h2", 1_010, 500, "tma-pay:o1");
        bounced.failed = true;
        let mut unfinished = ton("h3", 1_010, 500, "tma-pay:o1");
        unfinished.pending = true;
        let t = [
            ton("h1", 1_010, 500, "tma-pay:o2"),
            bounced,
            unfinished,
            // Before the order (beyond the clock slack): not for it.
            ton("h4", 1_000 - CLOCK_SLACK - 1, 500, "tma-pay:o1"),
            ton("h5", 1_010, 500, "tma-pay:o1 "),
        ];
        assert_eq!(settle(&o, &t, None), Settlement::Unpaid);
    }

    #[test]
    fn partial_transfers_add_up_and_the_completing_one_is_the_charge() {
        let o = order("TON", 500);
        let first = [ton("h1", 1_010, 200, "tma-pay:o1")];
        assert_eq!(
            settle(&o, &first, None),
            Settlement::Short { received: 200 }
        );
        // Listed newest first, as toncenter lists them; the same one twice.
        let both = [
            ton("h2", 1_020, 400, "tma-pay:o1"),
            ton("h1", 1_010, 200, "tma-pay:o1"),
            ton("h1", 1_010, 200, "tma-pay:o1"),
        ];
        assert_eq!(settle(&o, &both, None), paid("h2", 600, 1_020));
        // Paid twice over: the first settles, both are received.
        let twice = [
            ton("h4", 1_040, 500, "tma-pay:o1"),
            ton("h3", 1_030, 500, "tma-pay:o1"),
        ];
        assert_eq!(settle(&o, &twice, None), paid("h3", 1_000, 1_030));
    }

    #[test]
    fn dust_counts_for_nothing() {
        let o = order("TON", 1_000);
        let t = [
            ton("d1", 1_010, 9, "tma-pay:o1"),
            ton("d2", 1_011, 9, "tma-pay:o1"),
        ];
        assert_eq!(settle(&o, &t, None), Settlement::Unpaid);
        let t = [ton("h1", 1_010, 10, "tma-pay:o1")];
        assert_eq!(settle(&o, &t, None), Settlement::Short { received: 10 });
    }

    #[test]
    fn usdt_counts_only_from_the_shops_jetton_wallet() {
        let o = order("USDT", 2_000_000);
        let forged = [usdt("h1", "0:cc", 2_000_000, "tma-pay:o1")];
        assert_eq!(settle(&o, &forged, Some(USDT_WALLET)), Settlement::Unpaid);
        let real = [usdt("h2", USDT_WALLET, 2_000_000, "tma-pay:o1")];
        assert_eq!(settle(&o, &real, None), Settlement::Unpaid);
        assert_eq!(
            settle(&o, &real, Some(USDT_WALLET)),
            paid("h2", 2_000_000, 1_010)
        );
        // A TON comment does not pay a USDT order, nor a jetton a TON order.
        let ton_for_usdt = [ton("h3", 1_010, 2_000_000, "tma-pay:o1")];
        assert_eq!(
            settle(&o, &ton_for_usdt, Some(USDT_WALLET)),
            Settlement::Unpaid
        );
        assert_eq!(
            settle(&order("TON", 5), &real, Some(USDT_WALLET)),
            Settlement::Unpaid
        );
    }

    #[test]
    fn the_buyer_is_told_what_is_missing_in_their_language() {
        let mut o = order("TON", 2_000_000_000);
        let en = short_notice(&o, 500_000_000);
        assert_eq!(
            en,
            "We received 0.5 TON of 2 TON for order o1. Send the remaining 1.5 TON with the comment tma-pay:o1 to complete it."
        );
        o.language = crate::i18n::Lang::ZH;
        assert_eq!(
            short_notice(&o, 500_000_000),
            "订单 o1 目前已收到 0.5 TON，价格为 2 TON。请再转 1.5 TON，并附上备注 tma-pay:o1，即可完成付款。"
        );
    }

    #[test]
    fn the_payment_records_what_arrived() {
        let p = payment(&order("TON", 500), "h1", 600, 1_010, "{}".into());
        assert_eq!(
            (
                p.telegram_payment_charge_id.as_str(),
                p.amount,
                p.currency.as_str(),
                p.user_id
            ),
            ("h1", 600, "TON", 7)
        );
    }
}
