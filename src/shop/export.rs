//! The operator's export of orders and their transactions: one row per charge
//! (an order without a charge gets one row with the charge columns empty), as
//! JSON or CSV (RFC 4180: a header row, CRLF, quotes where needed).

use serde::Serialize;

use super::access::{self, AccessLink, Member};
use super::catalog::{Catalog, Product};
use super::order::{Order, OrderStatus, Payment};
use super::reconcile::{Settled, Stars};
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
}

/// Which orders to export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    pub status: Option<OrderStatus>,
    /// Orders created at or after this Unix time.
    pub since: Option<u64>,
    pub limit: usize,
    /// `q`: one order, one buyer by id, or buyers by username.
    pub search: Option<Search>,
    /// Orders of this product id.
    pub product: Option<String>,
    /// Orders in this currency (`XTR`, `TON`, `USDT`, a card currency).
    pub currency: Option<String>,
    /// Exactly this order (the operator's order detail).
    pub order_id: Option<String>,
}

impl Default for Filter {
    fn default() -> Filter {
        Filter {
            status: None,
            since: None,
            limit: 1000,
            search: None,
            product: None,
            currency: None,
            order_id: None,
        }
    }
}

/// What `q` looks for: an order whose id is the text, a buyer whose id it is
/// (when it is a number), or a buyer whose username it is, compared without
/// case (usernames are ASCII) and with or without a leading `@`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Search {
    pub text: String,
    pub user_id: Option<i64>,
    /// Lowercase, without `@`; empty when the text cannot be a username.
    pub username: String,
}

impl Search {
    pub fn parse(q: &str) -> Option<Search> {
        let text = q.trim();
        if text.is_empty() || text.len() > 64 {
            return None;
        }
        let name = text.strip_prefix('@').unwrap_or(text);
        let username =
            if !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                name.to_ascii_lowercase()
            } else {
                String::new()
            };
        Some(Search {
            text: text.to_owned(),
            user_id: text.parse().ok(),
            username,
        })
    }

    pub fn matches(&self, o: &Order) -> bool {
        o.id == self.text
            || self.user_id == Some(o.user_id)
            || (!self.username.is_empty()
                && o.username
                    .as_deref()
                    .is_some_and(|u| u.eq_ignore_ascii_case(&self.username)))
    }
}

impl Filter {
    /// Whether the order passes every part of the filter but the limit (the
    /// D1 store asks the same in SQL: see `D1Store::export`).
    pub fn admits(&self, o: &Order) -> bool {
        self.status.is_none_or(|s| o.status == s)
            && self.since.is_none_or(|t| o.created_at >= t)
            && self.search.as_ref().is_none_or(|q| q.matches(o))
            && self.product.as_ref().is_none_or(|p| &o.product_id == p)
            && self.currency.as_ref().is_none_or(|c| &o.currency == c)
            && self.order_id.as_ref().is_none_or(|id| &o.id == id)
    }

    /// Whether a member who pays through a chat's subscription link (no
    /// order, no status) passes: only a search by their id finds them.
    pub fn admits_member(&self, product: &Product, m: &Member) -> bool {
        self.status.is_none()
            && self.order_id.is_none()
            && self.since.is_none_or(|t| m.updated_at >= t)
            && self
                .search
                .as_ref()
                .is_none_or(|q| q.user_id == Some(m.user_id))
            && self.product.as_ref().is_none_or(|p| &product.id == p)
            && self
                .currency
                .as_ref()
                .is_none_or(|c| &product.currency == c)
    }
}

pub const MAX_ROWS: usize = 10_000;

/// Parses `format=json|csv&status=<status>&since=<unix seconds|YYYY-MM-DD>&limit=<n>`
/// `&q=<order id|user id|username>&product=<id>&currency=<code>`.
/// Other keys are ignored. `form_urlencoded` decodes leniently (a broken `%`
/// escape stays text, bytes that are not UTF-8 become U+FFFD), which is safe
/// here: every value read is then checked against a closed set of forms, none
/// of which holds `%` or U+FFFD, so a malformed one is refused all the same.
pub fn parse_query(query: &str) -> Result<(Format, Filter), String> {
    let mut format = Format::Json;
    let mut filter = Filter::default();
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        match k.as_ref() {
            "format" => {
                format = match v.as_ref() {
                    "json" | "" => Format::Json,
                    "csv" => Format::Csv,
                    _ => return Err("format must be json or csv".into()),
                }
            }
            "status" if !v.is_empty() => {
                filter.status = Some(
                    OrderStatus::parse(&v)
                        .ok_or("status must be pending, paid, refunded, failed or expired")?,
                )
            }
            "since" if !v.is_empty() => {
                filter.since = Some(
                    parse_since(&v).ok_or("since must be Unix seconds or a date (YYYY-MM-DD)")?,
                )
            }
            "q" if !v.trim().is_empty() => {
                filter.search = Some(Search::parse(&v).ok_or("q must be at most 64 characters")?)
            }
            "product" if !v.is_empty() => {
                if v.len() > 64 || !v.bytes().all(|b| b.is_ascii_graphic()) {
                    return Err("product must be a product id".into());
                }
                filter.product = Some(v.into_owned())
            }
            "currency" if !v.is_empty() => {
                let c = v.to_ascii_uppercase();
                if !(3..=4).contains(&c.len()) || !c.bytes().all(|b| b.is_ascii_uppercase()) {
                    return Err("currency must be a currency code (XTR, TON, USDT, USD…)".into());
                }
                filter.currency = Some(c)
            }
            "limit" => {
                filter.limit = v
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=MAX_ROWS).contains(n))
                    .ok_or(format!("limit must be 1-{MAX_ROWS}"))?
            }
            _ => {}
        }
    }
    Ok((format, filter))
}

fn parse_since(v: &str) -> Option<u64> {
    if let Ok(n) = v.parse::<u64>() {
        return Some(n);
    }
    let mut parts = v.splitn(3, '-');
    let (y, m, d): (i64, u32, u32) = (
        parts.next()?.parse().ok()?,
        parts.next()?.parse().ok()?,
        parts.next()?.parse().ok()?,
    );
    if !(1970..=9999).contains(&y) || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    Some(days_from_civil(y, m, d) as u64 * 86_400)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The export for stores that cannot query (memory, KV): the orders `filter`
/// picks, newest first, each with its payments.
pub fn select(
    orders: impl IntoIterator<Item = Order>,
    payments: &[Payment],
    links: &[AccessLink],
    filter: &Filter,
) -> Vec<Exported> {
    let mut picked: Vec<Order> = orders.into_iter().filter(|o| filter.admits(o)).collect();
    picked.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
    picked.truncate(filter.limit);
    picked
        .into_iter()
        .map(|order| Exported {
            payments: payments
                .iter()
                .filter(|p| p.order_id == order.id)
                .cloned()
                .collect(),
            link: links.iter().find(|l| l.order_id == order.id).cloned(),
            order,
        })
        .collect()
}

/// An order as the export reads it: with its payments, and the personal
/// invite link it got when it grants access to a chat.
#[derive(Debug, Clone, PartialEq)]
pub struct Exported {
    pub order: Order,
    pub payments: Vec<Payment>,
    pub link: Option<AccessLink>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    pub order_id: String,
    pub user_id: i64,
    /// The buyer's username when they ordered, without `@`.
    pub username: Option<String>,
    pub product_id: String,
    pub status: &'static str,
    pub currency: String,
    pub amount: i64,
    pub created_at: u64,
    pub paid_at: Option<u64>,
    pub subscription_expiration_date: Option<i64>,
    pub charge_id: Option<String>,
    pub provider_charge_id: Option<String>,
    pub charge_amount: Option<i64>,
    pub charged_at: Option<u64>,
    pub is_recurring: Option<bool>,
    pub refunded_at: Option<u64>,
    /// The chat the product lets its buyer into.
    pub access_chat_id: Option<i64>,
    /// The buyer's personal invite link, or the chat's subscription link.
    pub invite_link: Option<String>,
    /// When the link was revoked (the member removed).
    pub access_revoked_at: Option<u64>,
    /// From Telegram's record of a Stars charge (see `reconcile::settled`),
    /// when it could be read: the transaction's type, an affiliate's
    /// commission and what the bot kept, in Stars.
    pub transaction_type: Option<String>,
    pub affiliate_commission: Option<Stars>,
    pub net_amount: Option<Stars>,
}

/// Adds what Telegram's record says of each Stars charge to its row.
pub fn settle(rows: &mut [Row], settled: &HashMap<String, Settled>) {
    for r in rows {
        let Some(s) = r.charge_id.as_ref().and_then(|c| settled.get(c)) else {
            continue;
        };
        r.transaction_type = Some(s.transaction_type.clone());
        r.affiliate_commission = Some(s.affiliate_commission);
        r.net_amount = Some(s.net_amount);
    }
}

const HEADER: &[&str] = &[
    "order_id",
    "user_id",
    "product_id",
    "status",
    "currency",
    "amount",
    "created_at",
    "paid_at",
    "subscription_expiration_date",
    "charge_id",
    "provider_charge_id",
    "charge_amount",
    "charged_at",
    "is_recurring",
    "refunded_at",
    "access_chat_id",
    "invite_link",
    "access_revoked_at",
    // Columns added later go last, so a sheet built on the old ones still reads.
    "username",
    "transaction_type",
    "affiliate_commission",
    "net_amount",
];

/// The rows for orders with their payments, in the orders' order; charges
/// oldest first within an order. `catalog` names the chat an order's product
/// grants access to.
pub fn rows(orders: Vec<Exported>, catalog: &Catalog) -> Vec<Row> {
    let mut out = Vec::new();
    for Exported {
        order: o,
        mut payments,
        link,
    } in orders
    {
        payments.sort_by(|a, b| {
            (a.paid_at, &a.telegram_payment_charge_id)
                .cmp(&(b.paid_at, &b.telegram_payment_charge_id))
        });
        let base = Row {
            order_id: o.id.clone(),
            user_id: o.user_id,
            username: o.username.clone(),
            product_id: o.product_id.clone(),
            status: o.status.as_str(),
            currency: o.currency.clone(),
            amount: o.amount,
            created_at: o.created_at,
            paid_at: o.paid_at,
            subscription_expiration_date: o.subscription_expiration_date,
            charge_id: None,
            provider_charge_id: None,
            charge_amount: None,
            charged_at: None,
            is_recurring: None,
            refunded_at: None,
            access_chat_id: access::chat_of(catalog, &o),
            invite_link: link.as_ref().map(|l| l.invite_link.clone()),
            access_revoked_at: link.and_then(|l| l.revoked_at),
            transaction_type: None,
            affiliate_commission: None,
            net_amount: None,
        };
        if payments.is_empty() {
            out.push(base);
            continue;
        }
        for p in payments {
            out.push(Row {
                charge_id: Some(p.telegram_payment_charge_id),
                provider_charge_id: Some(p.provider_payment_charge_id),
                charge_amount: Some(p.amount),
                charged_at: Some(p.paid_at),
                is_recurring: Some(p.is_recurring),
                refunded_at: p.refunded_at,
                ..base.clone()
            });
        }
    }
    out
}

/// Members who joined a chat through its Telegram subscription link, as rows
/// of their own: no order (Telegram bills them), the product, and the date
/// they are paid until. Status `telegram_subscription`.
pub fn member_rows(product: &Product, link: Option<&str>, members: &[Member]) -> Vec<Row> {
    let chat_id = product.access.as_ref().map(|a| a.chat_id);
    members
        .iter()
        .filter(|m| m.is_in() && m.until_date.is_some())
        .map(|m| Row {
            order_id: String::new(),
            user_id: m.user_id,
            username: None,
            product_id: product.id.clone(),
            status: "telegram_subscription",
            currency: product.currency.clone(),
            amount: product.amount,
            created_at: m.updated_at,
            paid_at: None,
            subscription_expiration_date: m.until_date,
            charge_id: None,
            provider_charge_id: None,
            charge_amount: None,
            charged_at: None,
            is_recurring: None,
            refunded_at: None,
            access_chat_id: chat_id,
            invite_link: link.map(str::to_owned),
            access_revoked_at: None,
            transaction_type: None,
            affiliate_commission: None,
            net_amount: None,
        })
        .collect()
}

/// A CSV field, quoted when it holds a comma, quote, CR or LF. A leading
/// `= + - @` is prefixed with `'` so a spreadsheet never runs it as a formula;
/// a negative whole number (the only numbers we export) is left as it is.
fn field(out: &mut String, v: &str) {
    let v = if v.starts_with(['=', '+', '-', '@']) && v.parse::<i64>().is_err() {
        format!("'{v}")
    } else {
        v.to_owned()
    };
    if v.contains([',', '"', '\r', '\n']) {
        out.push('"');
        out.push_str(&v.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(&v);
    }
}

pub fn csv(rows: &[Row]) -> String {
    let opt = |v: Option<String>| v.unwrap_or_default();
    let mut out = HEADER.join(",");
    out.push_str("\r\n");
    for r in rows {
        let cells = [
            r.order_id.clone(),
            r.user_id.to_string(),
            r.product_id.clone(),
            r.status.to_owned(),
            r.currency.clone(),
            r.amount.to_string(),
            r.created_at.to_string(),
            opt(r.paid_at.map(|v| v.to_string())),
            opt(r.subscription_expiration_date.map(|v| v.to_string())),
            opt(r.charge_id.clone()),
            opt(r.provider_charge_id.clone()),
            opt(r.charge_amount.map(|v| v.to_string())),
            opt(r.charged_at.map(|v| v.to_string())),
            opt(r.is_recurring.map(|v| v.to_string())),
            opt(r.refunded_at.map(|v| v.to_string())),
            opt(r.access_chat_id.map(|v| v.to_string())),
            opt(r.invite_link.clone()),
            opt(r.access_revoked_at.map(|v| v.to_string())),
            opt(r.username.clone()),
            opt(r.transaction_type.clone()),
            opt(r.affiliate_commission.map(|v| v.to_string())),
            opt(r.net_amount.map(|v| v.to_string())),
        ];
        for (i, c) in cells.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            field(&mut out, c);
        }
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shop::catalog::Product;

    #[test]
    fn parses_the_query() {
        let (f, q) = parse_query("format=csv&status=paid&since=2025-06-15&limit=5").unwrap();
        assert_eq!(f, Format::Csv);
        assert_eq!(q.status, Some(OrderStatus::Paid));
        assert_eq!(q.since, Some(1_749_945_600));
        assert_eq!(q.limit, 5);
        assert_eq!(
            parse_query("since=1700000000").unwrap().1.since,
            Some(1_700_000_000)
        );
        assert_eq!(parse_query("").unwrap().0, Format::Json);
        for bad in [
            "format=xml",
            "status=lost",
            "since=yesterday",
            "since=2025-13-01",
            "limit=0",
            "limit=99999",
            // Malformed escapes and bytes that are not UTF-8.
            "format=%",
            "format=cs%7",
            "status=%zzpaid",
            "status=pa%FFid",
            "since=1%",
            "since=%C3",
            "limit=5%",
            "limit=%FF5",
        ] {
            assert!(parse_query(bad).is_err(), "{bad}");
        }
        // Escapes decode in keys and values, and `+` is a space.
        let (f, q) = parse_query("for%6Dat=%63sv&status=p%61id&limit=7").unwrap();
        assert_eq!(
            (f, q.status, q.limit),
            (Format::Csv, Some(OrderStatus::Paid), 7)
        );
        assert!(parse_query("status=paid+").is_err());
    }

    #[test]
    fn q_product_and_currency_filter_orders() {
        let (_, f) = parse_query("q=%40Ann_B&product=pack&currency=xtr").unwrap();
        assert_eq!(f.product.as_deref(), Some("pack"));
        assert_eq!(f.currency.as_deref(), Some("XTR"));
        let mut o = order("o1");
        o.product_id = "pack".into();
        o.username = Some("ann_b".into());
        assert!(
            f.admits(&o),
            "a username matches without case and without @"
        );
        o.username = Some("ann".into());
        assert!(!f.admits(&o));
        let by = |q: &str| Filter {
            search: Search::parse(q),
            ..Filter::default()
        };
        assert!(by("7").admits(&o), "a buyer's id");
        assert!(by("o1").admits(&o), "an order id");
        assert!(!by("o").admits(&o), "no partial ids");
        assert!(!by("8").admits(&o));
        assert!(by(" ANN ").admits(&o));
        o.username = None;
        assert!(!by("ann").admits(&o));
        let cur = |c: &str| parse_query(&format!("currency={c}")).unwrap().1;
        assert!(cur("XTR").admits(&o));
        assert!(!cur("TON").admits(&o));
        assert!(!parse_query("product=pack").unwrap().1.admits(&order("o2")));
        for bad in [
            "currency=X",
            "currency=US1",
            "currency=EUROS",
            "product=a%20b",
        ] {
            assert!(parse_query(bad).is_err(), "{bad}");
        }
        assert!(parse_query(&format!("q={}", "a".repeat(65))).is_err());
        assert_eq!(
            parse_query("q=+&product=&currency=").unwrap().1,
            Filter::default()
        );
    }

    #[test]
    fn the_epoch_and_leap_days_are_right() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(
            days_from_civil(2024, 2, 29) + 1,
            days_from_civil(2024, 3, 1)
        );
    }

    fn order(id: &str) -> Order {
        let p = Product::stars("p,1", 5, None);
        Order::new(id.into(), 7, &p, 100)
    }

    fn payment(charge: &str, at: u64) -> Payment {
        Payment {
            telegram_payment_charge_id: charge.into(),
            provider_payment_charge_id: "=HYPERLINK(\"x\")".into(),
            order_id: "o1".into(),
            user_id: 7,
            currency: "XTR".into(),
            amount: 5,
            paid_at: at,
            subscription_expiration_date: None,
            is_recurring: false,
            is_first_recurring: false,
            refunded_at: None,
            raw_update: String::new(),
        }
    }

    #[test]
    fn one_row_per_charge_and_csv_quotes_what_it_must() {
        let exported = |order, payments| Exported {
            order,
            payments,
            link: None,
        };
        let catalog = Catalog { products: vec![] };
        let rows = rows(
            vec![
                exported(order("o1"), vec![payment("c2", 300), payment("c1", 200)]),
                exported(order("o2"), vec![]),
            ],
            &catalog,
        );
        assert_eq!(rows.len(), 3);
        assert_eq!(
            rows[0].charge_id.as_deref(),
            Some("c1"),
            "oldest charge first"
        );
        assert_eq!(rows[2].charge_id, None);
        let text = csv(&rows);
        let lines: Vec<&str> = text.split("\r\n").collect();
        assert_eq!(lines[0], HEADER.join(","));
        assert_eq!(lines.len(), 5, "header, three rows, trailing empty");
        assert!(
            lines[1].starts_with("o1,7,\"p,1\",pending,XTR,5,100,"),
            "{}",
            lines[1]
        );
        assert!(
            lines[1].contains(",\"'=HYPERLINK(\"\"x\"\")\","),
            "{}",
            lines[1]
        );
        assert!(lines[3].ends_with(",,,,,,,,,,,,,"), "{}", lines[3]);
    }

    #[test]
    fn access_shows_its_chat_link_and_members_of_subscription_links() {
        let chat = -1_001_000_000_001;
        let p = Product {
            access: Some(crate::shop::catalog::Access {
                chat_id: chat,
                telegram_subscription: false,
            }),
            ..Product::stars("ins", 5, None)
        };
        let catalog = Catalog {
            products: vec![p.clone()],
        };
        let o = Order::new("o1".into(), 7, &p, 100);
        let link = AccessLink {
            order_id: "o1".into(),
            chat_id: chat,
            user_id: 7,
            invite_link: "https://t.me/+x".into(),
            app_url: "https://shop.example/".into(),
            created_at: 100,
            revoked_at: Some(200),
        };
        let r = &rows(
            vec![Exported {
                order: o,
                payments: vec![],
                link: Some(link),
            }],
            &catalog,
        )[0];
        assert_eq!(
            (
                r.access_chat_id,
                r.invite_link.as_deref(),
                r.access_revoked_at
            ),
            (Some(chat), Some("https://t.me/+x"), Some(200))
        );
        assert!(
            csv(std::slice::from_ref(r)).contains(",-1001000000001,https://t.me/+x,200,,,,\r\n")
        );
        let member = |status: &str, until| Member {
            chat_id: chat,
            user_id: 8,
            status: status.into(),
            until_date: until,
            updated_at: 50,
        };
        let m = member_rows(
            &p,
            Some("https://t.me/+sub"),
            &[
                member("member", Some(900)),
                member("left", Some(900)),
                member("member", None),
            ],
        );
        assert_eq!(m.len(), 1, "members in the chat who paid through the link");
        assert_eq!(
            (
                m[0].status,
                m[0].subscription_expiration_date,
                m[0].order_id.as_str()
            ),
            ("telegram_subscription", Some(900), "")
        );
    }

    #[test]
    fn formulas_are_defused_and_negative_numbers_kept() {
        let field = |v: &str| {
            let mut out = String::new();
            super::field(&mut out, v);
            out
        };
        assert_eq!(field("-1001234567"), "-1001234567");
        assert_eq!(field("-2+3"), "'-2+3");
        assert_eq!(field("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(field("+cmd|' /C calc'!A0"), "'+cmd|' /C calc'!A0");
        assert_eq!(field("a,b"), "\"a,b\"");
    }
}
