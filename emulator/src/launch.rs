//! Mini App launch data: the signed `initData` string and the URL hash Telegram opens the app with.

use base64::Engine;
use ed25519_dalek::{Signer, SigningKey};
use hmac::{Hmac, Mac};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::{json, Value};
use sha2::Sha256;

use crate::state::{now_ms, Ctx, LaunchRecord, User};

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

/// What goes into one launch besides the user. Which fields a launch carries depends on how
/// the app was opened: the menu button gives `query_id`, `chat_instance` and `chat_type`; a
/// join request's Mini App gives `chat_join_request_query_id`.
#[derive(Clone, Debug, Default)]
pub struct LaunchParams {
    pub query_id: Option<String>,
    pub chat_instance: Option<String>,
    pub chat_type: Option<String>,
    pub chat_join_request_query_id: Option<String>,
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
    let optional = |name: &str, v: &Option<String>| v.clone().map(|v| (name.to_string(), v));
    let mut fields: Vec<(String, String)> = [
        optional("query_id", &p.query_id),
        Some(("user".into(), user_json(user))),
        optional("chat_instance", &p.chat_instance),
        optional("chat_type", &p.chat_type),
        optional("chat_join_request_query_id", &p.chat_join_request_query_id),
        optional("start_param", &p.start_param),
        Some(("auth_date".into(), p.auth_date.to_string())),
    ]
    .into_iter()
    .flatten()
    .collect();
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

/// The key that signs launch data, when the emulator was given a seed.
pub fn signing_key(ctx: &Ctx) -> Option<SigningKey> {
    ctx.config
        .signing_seed
        .map(|seed| SigningKey::from_bytes(&seed))
}

/// Launches the Mini App at `app_url` for `user`: signs the launch data with the bot's token
/// (and the seed's key), builds the URL, and keeps the launch as the user's latest.
pub fn open(
    ctx: &Ctx,
    user: &User,
    app_url: &str,
    source: &str,
    params: &LaunchParams,
    chat_id: Option<i64>,
) -> LaunchRecord {
    let init_data = init_data(
        &ctx.config.bot_token,
        ctx.config.bot_id(),
        user,
        params,
        signing_key(ctx).as_ref(),
    );
    let url = launch_url(app_url, &init_data, params.start_param.as_deref());
    ctx.mutate(|s| {
        s.next_launch_seq += 1;
        let record = LaunchRecord {
            seq: s.next_launch_seq,
            at_ms: now_ms(),
            user_id: user.id,
            source: source.to_string(),
            app_url: app_url.to_string(),
            url,
            init_data,
            chat_join_request_query_id: params.chat_join_request_query_id.clone(),
            chat_id,
        };
        s.launches.push(record.clone());
        record
    })
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
            query_id: Some("AAHdF6IQAAAAAN0XohDhrOrc".into()),
            chat_instance: Some("-8338914165439093126".into()),
            chat_type: Some("sender".into()),
            auth_date: 1_700_000_000,
            start_param: Some("promo 1&2".into()),
            ..LaunchParams::default()
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
