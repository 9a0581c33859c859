//! Links that download the orders CSV without our headers. In a Mini App the
//! file is saved with `Telegram.WebApp.downloadFile({url, file_name})`, and
//! Telegram fetches that URL itself, with no `Authorization`. So an operator
//! asks `POST /api/admin/export-links` for a link to one filter's CSV, valid
//! for [`VALID_FOR`] seconds: the query and its expiry, signed with HMAC-SHA256
//! under a key derived from the bot token for this use alone. Whoever holds
//! the link can download that export until it expires, and nothing else.

use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde_json::json;
use sha2::Sha256;

use super::admin::{csv_response, order_rows};
use super::{auth, Platform, Request, Response};
use crate::config::Settings;
use crate::error::ApiError;
use crate::shop::export;
use crate::shop::summary::date;
use crate::telegram::BotToken;

/// Seconds a link works.
pub const VALID_FOR: u64 = 300;

pub const PATH: &str = "/api/admin/orders.csv";

/// The signing key: HMAC-SHA256 keyed with the bot token over a label of
/// its own, so it is no other key the token derives (launch data's is
/// keyed with "WebAppData").
fn mac(token: &BotToken) -> Hmac<Sha256> {
    let mut k = Hmac::<Sha256>::new_from_slice(token.expose().as_bytes())
        .expect("HMAC takes a key of any length");
    k.update(b"tma-pay export link");
    let key = k.finalize().into_bytes();
    Hmac::<Sha256>::new_from_slice(&key).expect("HMAC takes a key of any length")
}

/// `<query>&expires=<unix>` (or `expires=<unix>` for an empty query): what
/// is signed, exactly as the link carries it.
fn signed_part(query: &str, expires: u64) -> String {
    if query.is_empty() {
        format!("expires={expires}")
    } else {
        format!("{query}&expires={expires}")
    }
}

/// The link's query: the signed part and its signature.
pub fn sign(token: &BotToken, query: &str, expires: u64) -> String {
    let signed = signed_part(query, expires);
    let mut m = mac(token);
    m.update(signed.as_bytes());
    format!("{signed}&sig={}", hex::encode(m.finalize().into_bytes()))
}

/// Checks a link's query at `now`; the filter's query (with `expires`) when
/// it holds. The signature is compared in constant time, and before the
/// expiry is trusted.
pub fn verify<'a>(token: &BotToken, query: &'a str, now: u64) -> Result<&'a str, ApiError> {
    let invalid = || {
        ApiError::new(
            403,
            "invalid_export_link",
            "this export link is not one the shop made",
        )
    };
    let (signed, sig) = query.rsplit_once("&sig=").ok_or_else(invalid)?;
    let sig = hex::decode(sig).map_err(|_| invalid())?;
    let mut m = mac(token);
    m.update(signed.as_bytes());
    m.verify_slice(&sig).map_err(|_| invalid())?;
    let expires: u64 = signed
        .rsplit_once("expires=")
        .and_then(|(before, n)| (before.is_empty() || before.ends_with('&')).then_some(n))
        .and_then(|n| n.parse().ok())
        .ok_or_else(invalid)?;
    if now > expires {
        return Err(ApiError::new(
            403,
            "export_link_expired",
            "this export link has expired: ask for a new one",
        ));
    }
    Ok(signed)
}

#[derive(Deserialize)]
struct NewLink {
    #[serde(default)]
    query: String,
}

/// `POST /api/admin/export-links {"query": "status=paid&currency=XTR&q=…"}`.
pub async fn create<P: Platform>(
    platform: &P,
    settings: &Settings,
    req: &Request,
) -> Result<Response, ApiError> {
    auth::operator(platform, settings, req)?;
    let body: NewLink = req.json()?;
    let query = body.query.trim_start_matches('?');
    let bad = |why: &str| ApiError::bad_request("invalid_query", why.to_owned());
    if query.len() > 1024 {
        return Err(bad("the query is longer than 1024 bytes"));
    }
    if form_urlencoded::parse(query.as_bytes()).any(|(k, _)| k == "expires" || k == "sig") {
        return Err(bad("the query may not hold expires or sig"));
    }
    export::parse_query(query).map_err(|why| bad(&why))?;
    let now = platform.now();
    let expires = now + VALID_FOR;
    let mut url = req.app_url()?;
    url.set_path(PATH);
    url.set_query(Some(&sign(settings.bot_token()?, query, expires)));
    Ok(Response::json(
        201,
        &json!({
            "url": url.as_str(),
            "expires_at": expires,
            "file_name": format!("orders-{}.csv", date(now)),
        }),
    ))
}

/// `GET /api/admin/orders.csv?<query>&expires=<unix>&sig=<hex>`: the CSV of
/// the signed filter, with no other authentication.
pub async fn download<P: Platform>(
    platform: &P,
    settings: &Settings,
    req: &Request,
) -> Result<Response, ApiError> {
    let signed = verify(settings.bot_token()?, &req.query, platform.now())?;
    let (_, filter) =
        export::parse_query(signed).map_err(|why| ApiError::bad_request("invalid_query", why))?;
    let rows = order_rows(platform, settings, &filter, true).await?;
    Ok(csv_response(
        &rows,
        &format!("orders-{}.csv", date(platform.now())),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token() -> BotToken {
        BotToken::parse("42:TEST").unwrap()
    }

    #[test]
    fn a_link_holds_until_it_expires_and_only_as_signed() {
        let t = token();
        let q = sign(&t, "status=paid&q=%40ann", 1000);
        assert!(q.starts_with("status=paid&q=%40ann&expires=1000&sig="));
        assert_eq!(
            verify(&t, &q, 1000),
            Ok("status=paid&q=%40ann&expires=1000")
        );
        assert_eq!(
            verify(&t, &q, 1001).unwrap_err().code,
            "export_link_expired"
        );
        let empty = sign(&t, "", 1000);
        assert_eq!(verify(&t, &empty, 999), Ok("expires=1000"));
        for tampered in [
            q.replace("paid", "refunded"),
            q.replace("1000", "9999"),
            q.replace("status=paid&", ""),
            format!("{q}0"),
            q.replace("&sig=", "&sig=0"),
            format!("status=paid&{q}"),
            "expires=1000".to_string(),
            format!("{}&sig=zz", signed_part("", 1000)),
        ] {
            assert_eq!(
                verify(&t, &tampered, 0).unwrap_err().code,
                "invalid_export_link",
                "{tampered}"
            );
        }
        // Another bot's token signs other links.
        let other = BotToken::parse("43:TEST").unwrap();
        assert!(verify(&other, &q, 0).is_err());
    }
}
