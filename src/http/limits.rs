//! Abuse limits: which of Cloudflare's Rate Limiting bindings (`[[ratelimits]]`
//! in wrangler.toml) a request counts against, and under which key. The
//! counting is the runtime's ([`Platform::allow`]); what counts where is
//! decided here, in one table ([`of`]):
//!
//! | limit | key | routes |
//! |---|---|---|
//! | [`Limit::Invoices`] | the verified user | `POST /api/invoices` |
//! | [`Limit::Changes`] | the verified user | `POST /api/subscriptions/{id}/cancel`, `…/resume` |
//! | [`Limit::Reads`] | the verified user (the client, for launch data without one) | `POST /api/verify`, `GET /api/orders`, `GET /api/entitlements` |
//! | [`Limit::Public`] | the client's address (`CF-Connecting-IP`) | the page, `GET /api/products`, `POST /api/verify/third-party`, `POST /api/login-widget` |
//!
//! Never limited: the webhook (Telegram is its only caller, and a refused
//! update is only delivered again), the admin routes (behind `ADMIN_TOKEN`: a
//! guess at it is refused before the body is read, and the operator's own
//! scripts should never be turned away), `/healthz`.
//!
//! A user's key exists only once the launch data is verified, so those limits
//! are checked right after that check (a forged request is refused by it, and
//! counts nowhere) and before any storage or Bot API work. An address is
//! counted as it came, an IPv6 one by its /64 (what one subscriber gets).

use std::net::IpAddr;

use super::router::Route;
use super::{auth, Platform, Request};
use crate::config::Settings;
use crate::error::ApiError;
use crate::telegram::init_data::{InitData, WebAppUser};

/// One of the Rate Limiting bindings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Limit {
    /// Creating invoices: a D1 row and a `createInvoiceLink` call each.
    Invoices,
    /// Turning a subscription's renewal off or on: a Bot API call and a write.
    Changes,
    /// What the Mini App reads.
    Reads,
    /// The routes anyone may call, by client address.
    Public,
}

/// What a limit counts requests by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    /// The Telegram user the verified launch data names.
    User,
    /// The client's address.
    Client,
}

impl Limit {
    pub const ALL: [Limit; 4] = [Limit::Invoices, Limit::Changes, Limit::Reads, Limit::Public];

    /// The binding's name in wrangler.toml.
    pub fn binding(self) -> &'static str {
        match self {
            Limit::Invoices => "LIMIT_INVOICES",
            Limit::Changes => "LIMIT_CHANGES",
            Limit::Reads => "LIMIT_READS",
            Limit::Public => "LIMIT_PUBLIC",
        }
    }

    /// The binding's period in seconds (`simple.period` in wrangler.toml, which
    /// a test holds to these): how long a refused client is told to wait.
    pub fn period(self) -> u64 {
        match self {
            Limit::Public => 10,
            _ => 60,
        }
    }

    pub fn by(self) -> By {
        match self {
            Limit::Public => By::Client,
            _ => By::User,
        }
    }
}

/// The limit `route` counts against; `None` for the routes never limited.
pub fn of(route: Route) -> Option<Limit> {
    match route {
        Route::CreateInvoice | Route::TonOrders => Some(Limit::Invoices),
        Route::CancelSubscription
        | Route::ResumeSubscription
        | Route::TonProofPayload
        | Route::TonWallet => Some(Limit::Changes),
        Route::Verify
        | Route::Orders
        | Route::Entitlements
        | Route::TonWalletRead
        | Route::TonCheck => Some(Limit::Reads),
        Route::Page
        | Route::Products
        | Route::VerifyThirdParty
        | Route::LoginWidget
        | Route::TonManifest => Some(Limit::Public),
        Route::Health
        | Route::Webhook
        | Route::AdminRefund
        | Route::AdminSetup
        | Route::AdminReconcile
        | Route::AdminOrders
        | Route::AdminAccess
        | Route::AdminOrder
        | Route::AdminSummary
        | Route::AdminExportLink
        | Route::AdminOrdersCsv
        | Route::TestPanic => None,
    }
}

/// A user's key.
pub fn user_key(user_id: i64) -> String {
    format!("user:{user_id}")
}

/// The client's key: its address as Cloudflare saw it (`CF-Connecting-IP`),
/// an IPv6 one by its /64. Without a readable address (the header is always
/// set on Workers) every such request shares one key.
pub fn client_key(req: &Request) -> String {
    let ip = req
        .header("cf-connecting-ip")
        .and_then(|v| v.trim().parse::<IpAddr>().ok());
    match ip {
        Some(IpAddr::V4(v4)) => format!("ip:{v4}"),
        Some(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => format!("ip:{v4}"),
            None => {
                let s = v6.segments();
                format!("ip:{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
        None => "ip:unknown".into(),
    }
}

/// The 429 for a request over `limit`: nothing was done; try again after the
/// binding's period.
pub fn refused(limit: Limit) -> ApiError {
    let secs = limit.period();
    ApiError::new(
        429,
        "rate_limited",
        format!("too many requests; try again in {secs} s"),
    )
    .with_header("retry-after", secs.to_string())
}

/// Counts one request against `limit` under `key`: `Err` (429) when over it.
pub async fn check<P: Platform>(platform: &P, limit: Limit, key: &str) -> Result<(), ApiError> {
    if platform.allow(limit, key).await? {
        Ok(())
    } else {
        Err(refused(limit))
    }
}

/// For a route limited by client address: counts the request (the router
/// calls this before the handler). Other routes pass untouched.
pub async fn client<P: Platform>(
    platform: &P,
    route: Route,
    req: &Request,
) -> Result<(), ApiError> {
    match of(route) {
        Some(limit) if limit.by() == By::Client => check(platform, limit, &client_key(req)).await,
        _ => Ok(()),
    }
}

/// The verified caller of a user-limited `route` and the launch data they
/// came with, once the request is within its limit: [`auth::caller`], then
/// the count.
pub async fn caller<P: Platform>(
    platform: &P,
    settings: &Settings,
    req: &Request,
    route: Route,
) -> Result<(WebAppUser, InitData), ApiError> {
    let (user, data) = auth::caller(platform, settings, req)?;
    if let Some(limit) = of(route) {
        check(platform, limit, &user_key(user.id)).await?;
    }
    Ok((user, data))
}

/// [`caller`], for a route that needs only the user.
pub async fn user<P: Platform>(
    platform: &P,
    settings: &Settings,
    req: &Request,
    route: Route,
) -> Result<WebAppUser, ApiError> {
    Ok(caller(platform, settings, req, route).await?.0)
}

/// The verified launch data for a user-limited `route` (`/api/verify`, which
/// accepts launch data without a user: that counts by client address), once
/// the request is within its limit.
pub async fn launch<P: Platform>(
    platform: &P,
    settings: &Settings,
    req: &Request,
    route: Route,
) -> Result<InitData, ApiError> {
    let data = auth::init_data(platform, settings, req)?;
    if let Some(limit) = of(route) {
        let key = match data.user() {
            Ok(Some(user)) => user_key(user.id),
            _ => client_key(req),
        };
        check(platform, limit, &key).await?;
    }
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(ip: Option<&str>) -> String {
        let headers = ip
            .map(|ip| vec![("cf-connecting-ip".to_string(), ip.to_string())])
            .unwrap_or_default();
        client_key(&Request {
            headers,
            ..Default::default()
        })
    }

    #[test]
    fn clients_are_keyed_by_address_and_ipv6_by_its_64() {
        assert_eq!(from(Some("203.0.113.7")), "ip:203.0.113.7");
        assert_eq!(
            from(Some("2001:db8:aa:bb:1:2:3:4")),
            "ip:2001:db8:aa:bb::/64"
        );
        assert_eq!(
            from(Some("2001:db8:aa:bb:ffff::9")),
            from(Some("2001:db8:aa:bb::1")),
            "one /64, one key"
        );
        assert_ne!(
            from(Some("2001:db8:aa:bc::1")),
            from(Some("2001:db8:aa:bb::1"))
        );
        assert_eq!(from(Some("::ffff:203.0.113.7")), "ip:203.0.113.7");
        assert_eq!(from(None), "ip:unknown");
        assert_eq!(from(Some("not an address")), "ip:unknown");
    }

    #[test]
    fn a_refusal_is_429_with_the_period_as_retry_after() {
        for limit in Limit::ALL {
            let e = refused(limit);
            assert_eq!((e.status, e.code), (429, "rate_limited"));
            assert_eq!(e.headers, [("retry-after", limit.period().to_string())]);
            assert!(e.message.contains(&format!("{} s", limit.period())));
        }
    }

    /// wrangler.toml's `[[ratelimits]]`: each binding once, with the period the
    /// code tells refused clients to wait, and nothing the code does not use.
    #[test]
    fn wrangler_toml_declares_each_limit_with_its_period() {
        let toml = include_str!("../../wrangler.toml");
        let blocks: Vec<&str> = toml.split("[[ratelimits]]").skip(1).collect();
        assert_eq!(
            blocks.len(),
            Limit::ALL.len(),
            "one [[ratelimits]] per Limit"
        );
        let mut ids = Vec::new();
        for limit in Limit::ALL {
            let name = format!("name = \"{}\"", limit.binding());
            let block = blocks
                .iter()
                .find(|b| b.contains(&name))
                .unwrap_or_else(|| panic!("wrangler.toml has no {}", limit.binding()));
            let period = format!("period = {} }}", limit.period());
            assert!(block.contains(&period), "{}: {period}", limit.binding());
            let id = block
                .lines()
                .find_map(|l| l.trim().strip_prefix("namespace_id = "))
                .expect("a namespace_id");
            ids.push(id);
        }
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), Limit::ALL.len(), "namespace ids are distinct");
    }
}
