//! The decisions a payment takes: whether to accept a pre-checkout query, and
//! what the buyer is told.

use super::catalog::Catalog;
use super::order::{Order, OrderStatus};
use crate::i18n::Lang;
use crate::telegram::types::PreCheckoutQuery;

/// Why a pre-checkout query is declined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Declined {
    UnknownOrder,
    AnotherBuyer,
    AlreadyPaid,
    NoLongerPayable,
    PriceChanged,
    /// The order could not be read in time.
    Unavailable,
}

impl Declined {
    /// What Telegram shows the buyer, in their `lang`.
    pub fn message(self, lang: Lang) -> &'static str {
        lang.text(match self {
            Declined::UnknownOrder => "precheckout.unknown_order",
            Declined::AnotherBuyer => "precheckout.another_buyer",
            Declined::AlreadyPaid => "precheckout.already_paid",
            Declined::NoLongerPayable => "precheckout.no_longer_payable",
            Declined::PriceChanged => "precheckout.price_changed",
            Declined::Unavailable => "precheckout.unavailable",
        })
    }
}

/// Accept the pre-checkout query only for our own pending order, for the same
/// user, currency and amount.
pub fn decide_pre_checkout(order: Option<&Order>, q: &PreCheckoutQuery) -> Result<(), Declined> {
    let order = order.ok_or(Declined::UnknownOrder)?;
    if order.user_id != q.from.id {
        return Err(Declined::AnotherBuyer);
    }
    match order.status {
        OrderStatus::Pending => {}
        OrderStatus::Paid | OrderStatus::Refunded => return Err(Declined::AlreadyPaid),
        OrderStatus::Failed | OrderStatus::Expired => return Err(Declined::NoLongerPayable),
    }
    if order.currency != q.currency || order.amount != q.total_amount {
        return Err(Declined::PriceChanged);
    }
    Ok(())
}

/// The price as people read it: `⭐ 50`, `12.34 EUR`, `1.5 TON`, `12.50 USDT`.
pub fn format_price(currency: &str, amount: i64) -> String {
    match currency {
        "XTR" => return format!("⭐ {amount}"),
        // Nanotons: up to nine decimals, trailing zeros dropped.
        "TON" => return format!("{} TON", decimal(amount, 9, 0)),
        // USDT on TON has six decimals; cents always shown.
        "USDT" => return format!("{} USDT", decimal(amount, 6, 2)),
        _ => {}
    }
    // Currencies without minor units; the rest use two decimals here.
    const ZERO_DECIMAL: &[&str] = &[
        "JPY", "KRW", "VND", "CLP", "ISK", "UGX", "PYG", "XAF", "XOF",
    ];
    if ZERO_DECIMAL.contains(&currency) {
        format!("{amount} {currency}")
    } else {
        format!("{}.{:02} {currency}", amount / 100, (amount % 100).abs())
    }
}

/// `amount` with `scale` decimals, keeping at least `min` of them.
fn decimal(amount: i64, scale: u32, min: usize) -> String {
    let unit = 10i64.pow(scale);
    let (whole, frac) = (amount / unit, (amount % unit).abs());
    let digits = format!("{frac:0width$}", width = scale as usize);
    let kept = digits.trim_end_matches('0');
    let kept = if kept.len() < min {
        &digits[..min]
    } else {
        kept
    };
    if kept.is_empty() {
        whole.to_string()
    } else {
        format!("{whole}.{kept}")
    }
}

/// The receipt sent to the buyer once a payment is stored, in their `lang`.
pub fn receipt(
    order: Option<&Order>,
    catalog: &Catalog,
    currency: &str,
    amount: i64,
    renewal: bool,
    lang: Lang,
) -> String {
    let price = format_price(currency, amount);
    let Some(o) = order else {
        let key = if renewal {
            "receipt.renewed_no_order"
        } else {
            "receipt.paid_no_order"
        };
        return lang.fill(key, &[("price", &price)]);
    };
    let title = catalog
        .get(&o.product_id)
        .map_or(lang.text("receipt.your_purchase"), |p| p.title.get(lang));
    let key = if renewal {
        "receipt.renewed"
    } else {
        "receipt.paid"
    };
    lang.fill(
        key,
        &[("title", title), ("price", &price), ("order", &o.id)],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shop::catalog::Product;
    use crate::telegram::types::User;

    fn order(status: OrderStatus) -> Order {
        let p = Product {
            title: "Pack".into(),
            ..Product::stars("p", 50, None)
        };
        let mut o = Order::new("o1".into(), 7, &p, 0);
        o.status = status;
        o
    }

    fn query(user: i64, currency: &str, amount: i64) -> PreCheckoutQuery {
        PreCheckoutQuery {
            id: "q".into(),
            from: User {
                id: user,
                is_bot: false,
                first_name: "A".into(),
                last_name: None,
                username: None,
                language_code: None,
            },
            currency: currency.into(),
            total_amount: amount,
            invoice_payload: "o1".into(),
        }
    }

    #[test]
    fn accepts_only_a_matching_pending_order() {
        let pending = order(OrderStatus::Pending);
        let decide = |o: Option<&Order>, user, currency, amount| {
            decide_pre_checkout(o, &query(user, currency, amount))
        };
        assert_eq!(decide(Some(&pending), 7, "XTR", 50), Ok(()));
        assert_eq!(decide(None, 7, "XTR", 50), Err(Declined::UnknownOrder));
        assert_eq!(
            decide(Some(&pending), 8, "XTR", 50),
            Err(Declined::AnotherBuyer)
        );
        assert_eq!(
            decide(Some(&pending), 7, "XTR", 49),
            Err(Declined::PriceChanged)
        );
        assert_eq!(
            decide(Some(&pending), 7, "USD", 50),
            Err(Declined::PriceChanged)
        );
        for (s, why) in [
            (OrderStatus::Paid, Declined::AlreadyPaid),
            (OrderStatus::Refunded, Declined::AlreadyPaid),
            (OrderStatus::Failed, Declined::NoLongerPayable),
            (OrderStatus::Expired, Declined::NoLongerPayable),
        ] {
            assert_eq!(decide(Some(&order(s)), 7, "XTR", 50), Err(why), "{s:?}");
        }
        assert!(Declined::AnotherBuyer
            .message(Lang::EN)
            .contains("another account"));
    }

    #[test]
    fn prices_read_naturally() {
        assert_eq!(format_price("XTR", 50), "⭐ 50");
        assert_eq!(format_price("EUR", 1234), "12.34 EUR");
        assert_eq!(format_price("USD", 5), "0.05 USD");
        assert_eq!(format_price("JPY", 500), "500 JPY");
        assert_eq!(format_price("TON", 1_500_000_000), "1.5 TON");
        assert_eq!(format_price("TON", 2_000_000_000), "2 TON");
        assert_eq!(format_price("TON", 50_000_000), "0.05 TON");
        assert_eq!(format_price("TON", 1), "0.000000001 TON");
        assert_eq!(format_price("USDT", 12_500_000), "12.50 USDT");
        assert_eq!(format_price("USDT", 1_234_567), "1.234567 USDT");
        assert_eq!(format_price("USDT", 3_000_000), "3.00 USDT");
    }

    #[test]
    fn receipts_name_the_product_and_order() {
        let c = Catalog::load(None, crate::telegram::TelegramEnv::Production).unwrap();
        let mut o = order(OrderStatus::Paid);
        o.product_id = "sticker_pack".into();
        let r = receipt(Some(&o), &c, "XTR", 50, false, Lang::EN);
        assert!(
            r.contains("Sticker pack") && r.contains("⭐ 50") && r.contains("o1"),
            "{r}"
        );
        assert!(receipt(None, &c, "XTR", 50, true, Lang::EN).contains("renewed"));
    }

    #[test]
    fn a_chinese_buyer_reads_the_receipt_and_refusals_in_chinese() {
        let c = Catalog::load(None, crate::telegram::TelegramEnv::Production).unwrap();
        let mut o = order(OrderStatus::Paid);
        o.product_id = "sticker_pack".into();
        let r = receipt(Some(&o), &c, "XTR", 50, false, Lang::ZH);
        assert_eq!(r, "✅ 付款成功：贴纸包，⭐ 50。\n订单号 o1。谢谢惠顾！");
        assert!(receipt(Some(&o), &c, "XTR", 50, true, Lang::ZH).contains("订阅已续费"));
        o.product_id = "gone".into();
        assert!(receipt(Some(&o), &c, "XTR", 50, false, Lang::ZH).contains("你购买的商品"));
        assert_eq!(
            Declined::PriceChanged.message(Lang::ZH),
            "订单价格有变动，请重新下单。"
        );
        for why in [
            Declined::UnknownOrder,
            Declined::AnotherBuyer,
            Declined::AlreadyPaid,
            Declined::NoLongerPayable,
            Declined::PriceChanged,
            Declined::Unavailable,
        ] {
            assert_ne!(why.message(Lang::ZH), why.message(Lang::EN), "{why:?}");
            // Telegram shows at most 255 characters (UTF-16 units).
            assert!(why.message(Lang::ZH).encode_utf16().count() < 256);
        }
    }
}
