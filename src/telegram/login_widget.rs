//! The Telegram Login Widget: the fields it hands to its callback, checked with
//! `secret = SHA256(bot_token)` and the same data-check-string as launch data.

use hmac::Mac;
use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::encoding::hex_decode_into;
use super::init_data::{mac_matches, HmacSha256, InitDataError};
use super::BotToken;

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
    token: &BotToken,
    now: u64,
    max_age: u64,
) -> Result<LoginUser, InitDataError> {
    let hash = fields
        .get("hash")
        .and_then(Value::as_str)
        .ok_or(InitDataError::MissingHash)?;
    let mut expected = [0u8; 32];
    hex_decode_into(hash.as_bytes(), &mut expected).ok_or(InitDataError::HashMismatch)?;

    let secret = Sha256::digest(token.expose().as_bytes());
    let mut mac = HmacSha256::new_from_slice(&secret).expect("HMAC takes any key");
    // serde_json's map is ordered by key, which is the order the check string needs.
    let mut first = true;
    for (k, v) in fields.iter().filter(|(k, _)| *k != "hash") {
        let value = match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Null => continue,
            _ => return Err(InitDataError::Malformed("a field is not a scalar")),
        };
        if !first {
            mac.update(b"\n");
        }
        first = false;
        mac.update(k.as_bytes());
        mac.update(b"=");
        mac.update(value.as_bytes());
    }
    if !mac_matches(mac, &expected) {
        return Err(InitDataError::HashMismatch);
    }

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
    use crate::telegram::encoding::hex_encode;
    use serde_json::json;

    const NOW: u64 = 1_700_000_000;

    fn token() -> BotToken {
        BotToken::parse("42:TEST").unwrap()
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
        let mut mac = HmacSha256::new_from_slice(&secret).unwrap();
        mac.update(dcs.join("\n").as_bytes());
        v["hash"] = json!(hex_encode(&mac.finalize().into_bytes()));
        v.as_object().unwrap().clone()
    }

    #[test]
    fn accepts_what_the_widget_sends() {
        let fields = signed(json!({
            "id": 99, "first_name": "Ann", "username": "ann", "photo_url": "https://t.me/i/a.jpg", "auth_date": NOW
        }));
        let user = verify(&fields, &token(), NOW + 5, 86_400).unwrap();
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
            verify(&tampered, &token(), NOW, 0).unwrap_err().code(),
            "invalid_hash"
        );
        let other = BotToken::parse("43:TEST").unwrap();
        assert_eq!(
            verify(&fields, &other, NOW, 0).unwrap_err().code(),
            "invalid_hash"
        );
        assert_eq!(
            verify(&fields, &token(), NOW + 61, 60).unwrap_err().code(),
            "expired_init_data"
        );
        let mut no_hash = fields.clone();
        no_hash.remove("hash");
        assert_eq!(
            verify(&no_hash, &token(), NOW, 0).unwrap_err().code(),
            "malformed_init_data"
        );
        let mut odd = fields;
        odd.insert("hash".into(), json!("ü".repeat(32)));
        assert_eq!(
            verify(&odd, &token(), NOW, 0).unwrap_err().code(),
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
        let user = verify(&fields, &token(), NOW, 86_400).unwrap();
        assert_eq!((user.id, user.auth_date), (0, 2679092479));
        let mut changed = fields.clone();
        changed.insert("hsa".into(), json!("other"));
        assert_eq!(
            verify(&changed, &token(), NOW, 86_400).unwrap_err().code(),
            "invalid_hash"
        );
    }

    #[test]
    fn the_web_app_key_is_not_the_widget_key() {
        // A hash made with the Mini App secret must not pass the widget check.
        let fields = {
            let mut mac =
                HmacSha256::new_from_slice(&crate::telegram::init_data::hmac_secret(&token()))
                    .unwrap();
            mac.update(format!("auth_date={NOW}\nid=1").as_bytes());
            json!({"id": 1, "auth_date": NOW, "hash": hex_encode(&mac.finalize().into_bytes())})
        };
        assert!(verify(fields.as_object().unwrap(), &token(), NOW, 0).is_err());
    }
}
