//! The Mini App page (`static/index.html`) with its security headers. The worker
//! serves `/` itself so that it can set a CSP and point the page at the
//! configured `telegram-web-app.js` (a local copy in development).

use super::{Platform, Response};
use crate::config::{Settings, OFFICIAL_WEB_APP_JS};
use crate::error::ApiError;
use crate::i18n::Lang;

/// index.html's list of the languages the shop speaks, as committed (English only);
/// the page reads it to pick the buyer's `static/locales/<code>.json`.
const LANGUAGES_META: &str = r#"<meta name="languages" content="en">"#;

/// The same element, listing every language the worker speaks.
fn languages_meta() -> String {
    let codes: Vec<&str> = Lang::all().map(Lang::code).collect();
    format!(r#"<meta name="languages" content="{}">"#, codes.join(" "))
}

/// The origin part of a script URL, for the CSP (`'self'` for a path).
fn script_origin(url: &str) -> &str {
    match url.find("://") {
        Some(i) => {
            let rest = &url[i + 3..];
            &url[..i + 3 + rest.find('/').unwrap_or(rest.len())]
        }
        None => "'self'",
    }
}

pub fn security_headers(settings: &Settings) -> Vec<(&'static str, String)> {
    let mut script = script_origin(&settings.web_app_js).to_owned();
    let mut img = String::from("'self' https: data:");
    // TON Connect talks to each wallet's bridge (their hosts vary by wallet)
    // and reads the wallet list; only a shop that sells for TON allows it.
    let connect = if settings.ton.wallet.is_some() {
        // Development: the emulator's injected wallet, its script and icon.
        if let Some(dev) = &settings.ton.connect_wallet_js {
            let origin = script_origin(dev);
            script = format!("{script} {origin}");
            img = format!("{img} {origin}");
        }
        "'self' https:"
    } else {
        "'self'"
    };
    vec![
        (
            "content-security-policy",
            format!(
                "default-src 'self'; script-src 'self' {script}; style-src 'self' 'unsafe-inline'; \
                 img-src {img}; connect-src {connect}; object-src 'none'; base-uri 'none'; \
                 form-action 'self'; frame-ancestors *"
            ),
        ),
        ("x-content-type-options", "nosniff".into()),
        ("referrer-policy", "strict-origin-when-cross-origin".into()),
        ("cache-control", "no-cache".into()),
    ]
}

pub async fn index<P: Platform>(platform: &P, settings: &Settings) -> Result<Response, ApiError> {
    let html = platform
        .asset("/")
        .await
        .ok_or_else(|| ApiError::not_found("the page is not deployed"))?;
    let html = String::from_utf8_lossy(&html);
    let html = if settings.web_app_js == OFFICIAL_WEB_APP_JS {
        html.into_owned()
    } else {
        html.replace(OFFICIAL_WEB_APP_JS, &settings.web_app_js)
    };
    let html = html.replacen(LANGUAGES_META, &languages_meta(), 1);
    let mut headers = vec![("content-type", "text/html; charset=utf-8".to_string())];
    headers.extend(security_headers(settings));
    Ok(Response {
        status: 200,
        headers,
        body: html.into_bytes(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_learns_every_language_from_its_meta_element() {
        let html = include_str!("../../static/index.html");
        assert!(
            html.contains(LANGUAGES_META),
            "index.html lacks {LANGUAGES_META}"
        );
        assert_eq!(
            languages_meta(),
            r#"<meta name="languages" content="en zh">"#
        );
    }

    #[test]
    fn csp_allows_only_the_configured_script_origin() {
        let s = Settings::parse(|_| None).unwrap();
        let csp = &security_headers(&s)[0].1;
        assert!(
            csp.contains("script-src 'self' https://telegram.org;"),
            "{csp}"
        );
        let dev = Settings::parse(|k| {
            (k == "TELEGRAM_WEB_APP_JS").then(|| "http://127.0.0.1:8081/telegram-web-app.js".into())
        })
        .unwrap();
        assert!(security_headers(&dev)[0]
            .1
            .contains("script-src 'self' http://127.0.0.1:8081;"));
        assert_eq!(script_origin("/dev/telegram-web-app.js"), "'self'");
    }

    #[test]
    fn csp_opens_connections_only_for_a_shop_that_sells_for_ton() {
        let plain = Settings::parse(|_| None).unwrap();
        assert!(security_headers(&plain)[0]
            .1
            .contains("connect-src 'self';"));
        let ton = Settings::parse(|k| match k {
            "TON_WALLET" => Some(format!("0:{}", "ab".repeat(32))),
            "TON_CONNECT_WALLET_JS" => Some("http://127.0.0.1:8081/tonconnect-wallet.js".into()),
            _ => None,
        })
        .unwrap();
        let csp = &security_headers(&ton)[0].1;
        assert!(csp.contains("connect-src 'self' https:;"), "{csp}");
        assert!(
            csp.contains("script-src 'self' https://telegram.org http://127.0.0.1:8081;"),
            "{csp}"
        );
    }
}
