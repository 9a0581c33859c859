//! The Telegram Login Widget: the fields it hands to its callback, checked with
//! `secret = SHA256(bot_token)` ([`BotKeys::login_widget`]) and the same
//! data-check-string as launch data.

use hmac::{Hmac, Mac};
use serde::Serialize;
use serde_json::{Map, Value};
use sha2::Sha256;

use super::init_data::InitDataError;
use super::BotKeys;

/// A user verified through the Login Widget.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoginUser {
    pub id: i64,
    pub first_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub photo_url: Option<String>,
    pub auth_date: u64,
}

/// Checks the widget's fields (a JSON object as posted by the page). Errors
/// share the launch-data codes: malformed, invalid hash, expired.
pub fn verify(
    fields: &Map<String, Value>,
    keys: &BotKeys,
    now: u64,
    max_age: u64,
) -> Result<LoginUser, InitDataError> {
    let hash = fields
        .get("hash")
        .and_then(Value::as_str)
        .ok_or(InitDataError::MissingHash)?;
    let mut expected = [0u8; 32];
    // A hash that is not 64 hex digits can never match: invalid, not malformed.
    hex::decode_to_slice(hash, &mut expected).map_err(|_| InitDataError::HashMismatch)?;

    // Every field but `hash` as `key=value`, sorted by key, joined with `\n`;
    // a null is no field.
    let mut signed = Vec::with_capacity(fields.len());
    for (k, v) in fields.iter().filter(|(k, _)| *k != "hash") {
        let value = match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Null => continue,
            _ => return Err(InitDataError::Malformed("a field is not a scalar")),
        };
        signed.push((k.as_str(), value));
    }
    signed.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let lines: Vec<String> = signed.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let mut mac = Hmac::<Sha256>::new_from_slice(&keys.login_widget).expect("HMAC takes any key");
    mac.update(lines.join("\n").as_bytes());
    mac.verify_slice(&expected)
        .map_err(|_| InitDataError::HashMismatch)?;

    let auth_date = match fields.get("auth_date") {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.parse().ok(),
        _ => None,
    }
    .ok_or(InitDataError::Malformed(
        "auth_date is missing or not a number",
    ))?;
    if max_age > 0 && now > auth_date.saturating_add(max_age) {
        return Err(InitDataError::Expired);
    }
    let id = match fields.get("id") {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.parse().ok(),
        _ => None,
    }
    .ok_or(InitDataError::Malformed("id is missing or not a number"))?;
    let text = |k: &str| fields.get(k).and_then(Value::as_str).map(str::to_owned);
    Ok(LoginUser {
        id,
        first_name: text("first_name").unwrap_or_default(),
        last_name: text("last_name"),
        username: text("username"),
        photo_url: text("photo_url"),
        auth_date,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telegram::BotToken;
    use serde_json::json;
    use sha2::Digest;

    const NOW: u64 = 1_700_000_000;

    fn keys() -> BotKeys {
        BotKeys::derive(&BotToken::parse("42:TEST").unwrap())
    }

    /// `hex(HMAC_SHA256(key, message))`.
    fn hmac_hex(key: &[u8], message: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
        mac.update(message.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    fn signed(mut v: Value) -> Map<String, Value> {
        let map = v.as_object().unwrap();
        let dcs: Vec<String> = map
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => format!("{k}={s}"),
                other => format!("{k}={other}"),
            })
            .collect();
        let secret = Sha256::digest(b"42:TEST");
        v["hash"] = json!(hmac_hex(&secret, &dcs.join("\n")));
        v.as_object().unwrap().clone()
    }

    #[test]
    fn accepts_what_the_widget_sends() {
        let fields = signed(json!({
            "id": 99, "first_name": "Ann", "username": "ann", "photo_url": "https://t.me/i/a.jpg", "auth_date": NOW
        }));
        let user = verify(&fields, &keys(), NOW + 5, 86_400).unwrap();
        assert_eq!(user.id, 99);
        assert_eq!(user.username.as_deref(), Some("ann"));
        assert_eq!(user.last_name, None);
    }

    #[test]
    fn refuses_tampering_other_bots_and_old_logins() {
        let fields = signed(json!({"id": 99, "first_name": "Ann", "auth_date": NOW}));
        let mut tampered = fields.clone();
        tampered.insert("id".into(), json!(100));
        assert_eq!(
            verify(&tampered, &keys(), NOW, 0).unwrap_err().code(),
            "invalid_hash"
        );
        let other = BotKeys::derive(&BotToken::parse("43:TEST").unwrap());
        assert_eq!(
            verify(&fields, &other, NOW, 0).unwrap_err().code(),
            "invalid_hash"
        );
        assert_eq!(
            verify(&fields, &keys(), NOW + 61, 60).unwrap_err().code(),
            "expired_init_data"
        );
        let mut no_hash = fields.clone();
        no_hash.remove("hash");
        assert_eq!(
            verify(&no_hash, &keys(), NOW, 0).unwrap_err().code(),
            "malformed_init_data"
        );
        let mut odd = fields;
        odd.insert("hash".into(), json!("ü".repeat(32)));
        assert_eq!(
            verify(&odd, &keys(), NOW, 0).unwrap_err().code(),
            "invalid_hash"
        );
    }

    #[test]
    fn string_ids_and_unknown_fields_are_signed_data_too() {
        // From the fuzzer (fuzz/seeds/login_widget/string-id.json): an id signed as a
        // string of digits, and fields the widget never sends, all inside the hash.
        let fields = signed(json!({
            "id": "0", "au_date": 6339546238u64, "hsa": "an", "phosername": "annn", "us'a": "ann",
            "photo_url": "https:/e/", "auth_date": 2679092479u64, "ha2h": "00"
        }));
        let user = verify(&fields, &keys(), NOW, 86_400).unwrap();
        assert_eq!((user.id, user.auth_date), (0, 2679092479));
        let mut changed = fields.clone();
        changed.insert("hsa".into(), json!("other"));
        assert_eq!(
            verify(&changed, &keys(), NOW, 86_400).unwrap_err().code(),
            "invalid_hash"
        );
    }

    #[test]
    fn the_web_app_key_is_not_the_widget_key() {
        // A hash made with the Mini App secret must not pass the widget check.
        let hash = hmac_hex(&keys().init_data, &format!("auth_date={NOW}\nid=1"));
        let fields = json!({"id": 1, "auth_date": NOW, "hash": hash});
        assert_eq!(
            verify(fields.as_object().unwrap(), &keys(), NOW, 0).unwrap_err(),
            InitDataError::HashMismatch
        );
        // The same lines under the widget's key pass.
        let hash = hmac_hex(&keys().login_widget, &format!("auth_date={NOW}\nid=1"));
        let fields = json!({"id": 1, "auth_date": NOW, "hash": hash});
        assert!(verify(fields.as_object().unwrap(), &keys(), NOW, 0).is_ok());
    }
}
