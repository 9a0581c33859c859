//! Mini App launch data (`initData`): parsing and the two checks Telegram defines.
//!
//! A [`InitData`] can only be obtained from [`verify_hmac`] (the bot's own check,
//! with the key its token stands for) or [`verify_signature`] (the third-party
//! Ed25519 check, with only the bot id), so holding one means the data came from
//! Telegram.
//!
//! The raw string is `application/x-www-form-urlencoded`: split on `&` (empty
//! parts skipped), each part on its first `=` (a key alone has an empty value),
//! then key and value decoded (`+` is a space, then `%XX`). Both checks sign the
//! decoded fields sorted by key as `key=value` lines joined with `\n`.

use std::borrow::Cow;
use std::fmt;

use base64::alphabet;
use base64::engine::{DecodePaddingMode, Engine, GeneralPurpose, GeneralPurposeConfig};
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

use super::ed25519::Ed25519Verifier;
use super::BotKeys;

type HmacSha256 = Hmac<Sha256>;

/// Real launch data is a few hundred bytes; anything this large is refused unread.
pub const MAX_INIT_DATA_LEN: usize = 8 * 1024;

/// base64url as Telegram writes `signature` (unpadded); a padded copy reads too.
const BASE64URL: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Why launch data was refused. `code()` is the stable API error code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InitDataError {
    Malformed(&'static str),
    MissingHash,
    HashMismatch,
    MissingSignature,
    SignatureInvalid,
    Expired,
}

impl InitDataError {
    pub fn code(&self) -> &'static str {
        match self {
            InitDataError::Malformed(_) | InitDataError::MissingHash => "malformed_init_data",
            InitDataError::HashMismatch => "invalid_hash",
            InitDataError::MissingSignature | InitDataError::SignatureInvalid => {
                "invalid_signature"
            }
            InitDataError::Expired => "expired_init_data",
        }
    }
}

impl fmt::Display for InitDataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InitDataError::Malformed(why) => write!(f, "initData is malformed: {why}"),
            InitDataError::MissingHash => f.write_str("initData has no hash"),
            InitDataError::HashMismatch => f.write_str("initData hash does not match"),
            InitDataError::MissingSignature => f.write_str("initData has no signature"),
            InitDataError::SignatureInvalid => f.write_str("initData signature is invalid"),
            InitDataError::Expired => f.write_str("initData has expired"),
        }
    }
}

/// The Telegram user in launch data. Only `id` is required; the rest is read
/// leniently so that a new or oddly typed field never invalidates a real launch.
#[derive(Debug, Clone, PartialEq)]
pub struct WebAppUser {
    pub id: i64,
    pub first_name: String,
    pub last_name: Option<String>,
    pub username: Option<String>,
    pub language_code: Option<String>,
    pub is_premium: bool,
}

impl WebAppUser {
    /// The user in a JSON value: `None` without a numeric (integer) `id`. A
    /// field of another type than expected reads as absent; in an object with a
    /// repeated key the last value counts (as `serde_json` builds the object).
    fn from_json(user: &Value) -> Option<WebAppUser> {
        let text = |k: &str| user.get(k).and_then(Value::as_str).map(str::to_owned);
        Some(WebAppUser {
            id: user.get("id")?.as_i64()?,
            first_name: text("first_name").unwrap_or_default(),
            last_name: text("last_name"),
            username: text("username"),
            language_code: text("language_code"),
            is_premium: user.get("is_premium").and_then(Value::as_bool) == Some(true),
        })
    }
}

/// Verified launch data. The `user` JSON is read when a route asks for it, so
/// the check itself is the decoding and the HMAC.
#[derive(Debug, Clone)]
pub struct InitData {
    fields: Fields,
    auth_date: u64,
}

impl InitData {
    pub fn auth_date(&self) -> u64 {
        self.auth_date
    }

    /// The user. Telegram signed it, so one that does not read is malformed
    /// data. Its object exactly as Telegram sent it is `get("user")`.
    pub fn user(&self) -> Result<Option<WebAppUser>, InitDataError> {
        let Some(raw) = self.get("user") else {
            return Ok(None);
        };
        let json: Value =
            serde_json::from_str(raw).map_err(|_| InitDataError::Malformed("user is not JSON"))?;
        WebAppUser::from_json(&json)
            .map(Some)
            .ok_or(InitDataError::Malformed("user has no numeric id"))
    }

    /// Any decoded field, e.g. `query_id`, `chat_type`, `start_param`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields.get(key)
    }
}

/// The decoded `(key, value)` pairs, sorted by key (the order both checks sign),
/// each key once.
#[derive(Debug, Clone)]
struct Fields(Vec<(String, String)>);

impl Fields {
    fn parse(raw: &str) -> Result<Fields, InitDataError> {
        if raw.len() > MAX_INIT_DATA_LEN {
            return Err(InitDataError::Malformed("larger than 8192 bytes"));
        }
        let mut pairs = Vec::new();
        for part in raw.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = part.split_once('=').unwrap_or((part, ""));
            // A key that is not empty never decodes to an empty one.
            if key.is_empty() {
                return Err(InitDataError::Malformed("empty key"));
            }
            pairs.push((decode(key)?, decode(value)?));
        }
        pairs.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        if pairs.windows(2).any(|w| w[0].0 == w[1].0) {
            return Err(InitDataError::Malformed("a key appears twice"));
        }
        Ok(Fields(pairs))
    }

    fn get(&self, key: &str) -> Option<&str> {
        let i = self.0.binary_search_by(|(k, _)| k.as_str().cmp(key)).ok()?;
        Some(&self.0[i].1)
    }

    /// Appends the `key=value` lines (sorted, `\n`-joined) of every field not in `skip`.
    fn check_string(&self, skip: &[&str], out: &mut String) {
        let signed = self.0.iter().filter(|(k, _)| !skip.contains(&k.as_str()));
        for (n, (key, value)) in signed.enumerate() {
            if n > 0 {
                out.push('\n');
            }
            out.push_str(key);
            out.push('=');
            out.push_str(value);
        }
    }

    /// The age check and the typed view, shared by both verifications.
    fn into_verified(self, now: u64, max_age: u64) -> Result<InitData, InitDataError> {
        let auth_date: u64 = self
            .get("auth_date")
            .ok_or(InitDataError::Malformed("auth_date is missing"))?
            .parse()
            .map_err(|_| InitDataError::Malformed("auth_date is not a number"))?;
        if max_age > 0 && now > auth_date.saturating_add(max_age) {
            return Err(InitDataError::Expired);
        }
        Ok(InitData {
            fields: self,
            auth_date,
        })
    }
}

/// One form-encoded key or value: `+` is a space, then `%XX`.
///
/// Strict on purpose, unlike `form_urlencoded::parse` (which decodes with the
/// same `percent-encoding` crate): that keeps a broken `%` escape as text and
/// replaces bytes that are not UTF-8 with U+FFFD, so two different raw strings
/// could read as the same fields. Telegram sends only well-formed escapes of
/// UTF-8 text, so anything else is refused before it reaches a check.
fn decode(component: &str) -> Result<String, InitDataError> {
    let bad = InitDataError::Malformed("bad percent-encoding");
    let escapes_well_formed = component.split('%').skip(1).all(|after| {
        after
            .as_bytes()
            .get(..2)
            .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit))
    });
    if !escapes_well_formed {
        return Err(bad);
    }
    let spaced = if component.contains('+') {
        Cow::Owned(component.replace('+', " "))
    } else {
        Cow::Borrowed(component)
    };
    let decoded = percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .map_err(|_| bad)?;
    Ok(decoded.into_owned())
}

/// The bot's own check: HMAC-SHA256 with the key the bot token stands for
/// ([`BotKeys::init_data`]), then the age check (`max_age` seconds; 0 disables
/// it). `signature`, when present, stays signed.
pub fn verify_hmac(
    raw: &str,
    keys: &BotKeys,
    now: u64,
    max_age: u64,
) -> Result<InitData, InitDataError> {
    let fields = Fields::parse(raw)?;
    let hash = fields.get("hash").ok_or(InitDataError::MissingHash)?;
    let mut expected = [0u8; 32];
    // A hash that is not 64 hex digits can never match: invalid, not malformed.
    hex::decode_to_slice(hash, &mut expected).map_err(|_| InitDataError::HashMismatch)?;
    let mut check = String::with_capacity(raw.len());
    fields.check_string(&["hash"], &mut check);
    let mut mac = HmacSha256::new_from_slice(&keys.init_data).expect("HMAC takes any key");
    mac.update(check.as_bytes());
    mac.verify_slice(&expected)
        .map_err(|_| InitDataError::HashMismatch)?;
    fields.into_verified(now, max_age)
}

/// The third-party check: Telegram's Ed25519 signature over the data, needing
/// only the bot id and Telegram's public key for the environment. `verifier`
/// does the curve math; everything else is checked here.
pub async fn verify_signature(
    raw: &str,
    bot_id: u64,
    public_key: &[u8; 32],
    now: u64,
    max_age: u64,
    verifier: &impl Ed25519Verifier,
) -> Result<InitData, InitDataError> {
    let fields = Fields::parse(raw)?;
    let sig = fields
        .get("signature")
        .ok_or(InitDataError::MissingSignature)?;
    let sig: [u8; 64] = BASE64URL
        .decode(sig)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or(InitDataError::SignatureInvalid)?;
    let mut message = format!("{bot_id}:WebAppData\n");
    fields.check_string(&["hash", "signature"], &mut message);
    if !verifier
        .verify_ed25519(public_key, message.as_bytes(), &sig)
        .await
    {
        return Err(InitDataError::SignatureInvalid);
    }
    fields.into_verified(now, max_age)
}

#[cfg(test)]
mod tests;
