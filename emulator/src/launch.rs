//! Mini App launch data: the signed `initData` string and the URL hash Telegram opens the app with.

use base64::Engine;
use ed25519_dalek::{Signer, SigningKey};
use hmac::{Hmac, Mac};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::{json, Value};
use sha2::Sha256;

use crate::state::User;

/// Bot API version the launch claims; `openInvoice` needs at least 6.1.
pub const WEB_APP_VERSION: &str = "9.1";
pub const PLATFORM: &str = "tdesktop";

/// Like `encodeURIComponent`: everything but `A-Z a-z 0-9 - _ . ! ~ * ' ( )` is escaped.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'!')
    .remove(b'~')
    .remove(b'*')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')');

pub fn encode_component(s: &str) -> String {
    utf8_percent_encode(s, COMPONENT).to_string()
}

/// A light theme in the shape Telegram Desktop sends.
pub fn theme_params() -> Value {
    json!({
        "accent_text_color": "#2481cc",
        "bg_color": "#ffffff",
        "bottom_bar_bg_color": "#ffffff",
        "button_color": "#2481cc",
        "button_text_color": "#ffffff",
        "destructive_text_color": "#ec3942",
        "header_bg_color": "#ffffff",
        "hint_color": "#999999",
        "link_color": "#2481cc",
        "secondary_bg_color": "#f1f1f1",
        "section_bg_color": "#ffffff",
        "section_header_text_color": "#2481cc",
        "section_separator_color": "#e7e7e7",
        "subtitle_text_color": "#999999",
        "text_color": "#000000"
    })
}

/// The `user` field: JSON with `/` escaped as `\/`, exactly as Telegram writes it, so checkers
/// that re-serialize instead of keeping the raw bytes fail here as they would in production.
pub fn user_json(user: &User) -> String {
    let mut v = json!({"id": user.id, "first_name": user.first_name});
    let o = v.as_object_mut().expect("object");
    o.insert(
        "last_name".into(),
        json!(user.last_name.clone().unwrap_or_default()),
    );
    if let Some(s) = &user.username {
        o.insert("username".into(), json!(s));
    }
    if let Some(s) = &user.language_code {
        o.insert("language_code".into(), json!(s));
    }
    if user.is_premium {
        o.insert("is_premium".into(), json!(true));
    }
    o.insert("allows_write_to_pm".into(), json!(true));
    if let Some(s) = &user.photo_url {
        o.insert("photo_url".into(), json!(s));
    }
    // `/` only ever occurs inside JSON strings, so a plain replace is exact.
    serde_json::to_string(&v)
        .expect("serializable")
        .replace('/', "\\/")
}

/// `key=value` lines sorted by key, joined with `\n`, leaving out the named keys.
pub fn check_string(fields: &[(String, String)], without: &[&str]) -> String {
    let mut kept: Vec<&(String, String)> = fields
        .iter()
        .filter(|(k, _)| !without.contains(&k.as_str()))
        .collect();
    kept.sort_by(|a, b| a.0.cmp(&b.0));
    kept.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `hex(HMAC_SHA256(HMAC_SHA256("WebAppData", token), check_string))`.
pub fn web_app_hash(bot_token: &str, check: &str) -> String {
    let mut k = Hmac::<Sha256>::new_from_slice(b"WebAppData").expect("any key length");
    k.update(bot_token.as_bytes());
    let secret = k.finalize().into_bytes();
    let mut m = Hmac::<Sha256>::new_from_slice(&secret).expect("any key length");
    m.update(check.as_bytes());
    hex::encode(m.finalize().into_bytes())
}

/// What goes into one launch besides the user.
#[derive(Clone, Debug, Default)]
pub struct LaunchParams {
    pub query_id: String,
    pub chat_instance: String,
    pub auth_date: i64,
    pub start_param: Option<String>,
}

/// Builds the raw initData string (`application/x-www-form-urlencoded`), in Telegram's field
/// order: signature (when a key is given) over the fields without hash/signature, then the
/// HMAC over all fields but hash (signature included).
pub fn init_data(
    bot_token: &str,
    bot_id: i64,
    user: &User,
    p: &LaunchParams,
    key: Option<&SigningKey>,
) -> String {
    let mut fields: Vec<(String, String)> = vec![
        ("query_id".into(), p.query_id.clone()),
        ("user".into(), user_json(user)),
        ("chat_instance".into(), p.chat_instance.clone()),
        ("chat_type".into(), "sender".into()),
    ];
    if let Some(sp) = &p.start_param {
        fields.push(("start_param".into(), sp.clone()));
    }
    fields.push(("auth_date".into(), p.auth_date.to_string()));
    if let Some(key) = key {
        let message = format!(
            "{bot_id}:WebAppData\n{}",
            check_string(&fields, &["hash", "signature"])
        );
        let sig = key.sign(message.as_bytes());
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sig.to_bytes());
        fields.push(("signature".into(), b64));
    }
    let hash = web_app_hash(bot_token, &check_string(&fields, &["hash"]));
    fields.push(("hash".into(), hash));
    fields
        .iter()
        .map(|(k, v)| format!("{k}={}", encode_component(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// `<app_url>#tgWebAppData=…&tgWebAppVersion=…&tgWebAppPlatform=…&tgWebAppThemeParams=…`.
pub fn launch_url(app_url: &str, init_data: &str, start_param: Option<&str>) -> String {
    let base = app_url.split('#').next().unwrap_or(app_url);
    let mut url = format!(
        "{base}#tgWebAppData={}&tgWebAppVersion={WEB_APP_VERSION}&tgWebAppPlatform={PLATFORM}&tgWebAppThemeParams={}",
        encode_component(init_data),
        encode_component(&theme_params().to_string()),
    );
    if let Some(sp) = start_param {
        url.push_str(&format!("&tgWebAppStartParam={}", encode_component(sp)));
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signature, Verifier};

    fn alice() -> User {
        User {
            id: 279058397,
            first_name: "Vladislav + Ünïcode".into(),
            last_name: None,
            username: Some("vdkfrost".into()),
            language_code: Some("ru".into()),
            is_premium: true,
            photo_url: Some("https://t.me/i/userpic/320/x.svg".into()),
        }
    }

    fn params() -> LaunchParams {
        LaunchParams {
            query_id: "AAHdF6IQAAAAAN0XohDhrOrc".into(),
            chat_instance: "-8338914165439093126".into(),
            auth_date: 1_700_000_000,
            start_param: Some("promo 1&2".into()),
        }
    }

    /// Decodes like a checker would: split on `&`, `+` is a space, then `%XX`.
    fn decode(raw: &str) -> Vec<(String, String)> {
        form_urlencoded::parse(raw.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }

    /// Independent check: HMAC recomputed here with the hmac crate directly.
    fn independent_hash(token: &str, fields: &[(String, String)]) -> String {
        let mut lines: Vec<String> = fields
            .iter()
            .filter(|(k, _)| k != "hash")
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        lines.sort();
        let mut secret = Hmac::<Sha256>::new_from_slice(b"WebAppData").unwrap();
        secret.update(token.as_bytes());
        let secret = secret.finalize().into_bytes();
        let mut mac = Hmac::<Sha256>::new_from_slice(&secret).unwrap();
        mac.update(lines.join("\n").as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    #[test]
    fn hash_matches_an_independent_hmac_and_keeps_raw_user_json() {
        let raw = init_data("123456:TEST", 123456, &alice(), &params(), None);
        let fields = decode(&raw);
        let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        assert_eq!(
            get("hash").unwrap(),
            independent_hash("123456:TEST", &fields)
        );
        assert_ne!(
            get("hash").unwrap(),
            independent_hash("123456:OTHER", &fields)
        );
        let user = get("user").unwrap();
        assert!(user.contains(r"https:\/\/t.me\/i\/userpic"), "{user}");
        let parsed: Value = serde_json::from_str(&user).unwrap();
        assert_eq!(parsed["id"], 279058397);
        assert_eq!(parsed["is_premium"], true);
        assert_eq!(parsed["allows_write_to_pm"], true);
        assert_eq!(get("start_param").unwrap(), "promo 1&2");
        assert_eq!(get("auth_date").unwrap(), "1700000000");
        assert!(get("signature").is_none());
        // Spaces are %20 (never '+'), so both decoders agree.
        assert!(!raw.contains('+'));
    }

    #[test]
    fn signature_verifies_and_stays_in_the_hmac_string() {
        let key = SigningKey::from_bytes(&[7u8; 32]);
        let raw = init_data("123456:TEST", 123456, &alice(), &params(), Some(&key));
        let fields = decode(&raw);
        let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        // HMAC covers signature: dropping it from the string must not verify.
        let hash = get("hash").unwrap();
        assert_eq!(hash, independent_hash("123456:TEST", &fields));
        let without: Vec<_> = fields
            .iter()
            .filter(|(k, _)| k != "signature")
            .cloned()
            .collect();
        assert_ne!(hash, independent_hash("123456:TEST", &without));
        // Ed25519 over "<bot_id>:WebAppData\n" + sorted fields without hash and signature.
        let mut lines: Vec<String> = fields
            .iter()
            .filter(|(k, _)| k != "hash" && k != "signature")
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        lines.sort();
        let msg = format!("123456:WebAppData\n{}", lines.join("\n"));
        let sig_bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(get("signature").unwrap())
            .unwrap();
        let sig = Signature::from_slice(&sig_bytes).unwrap();
        let public = key.verifying_key();
        assert!(public.verify(msg.as_bytes(), &sig).is_ok());
        let other_bot = msg.replacen("123456:", "654321:", 1);
        assert!(public.verify(other_bot.as_bytes(), &sig).is_err());
    }

    #[test]
    fn launch_url_carries_encoded_data_version_and_theme() {
        let url = launch_url("http://127.0.0.1:8787/app#old", "a=1&b=2", Some("x"));
        assert!(url.starts_with("http://127.0.0.1:8787/app#tgWebAppData=a%3D1%26b%3D2&"));
        assert!(
            url.contains("&tgWebAppVersion=9.1&tgWebAppPlatform=tdesktop&tgWebAppThemeParams=%7B")
        );
        assert!(url.ends_with("&tgWebAppStartParam=x"));
    }
}
