//! Mini App launch data (`initData`): parsing and the two checks Telegram defines.
//!
//! A [`InitData`] can only be obtained from [`verify_hmac`] (the bot's own check,
//! with its token) or [`verify_signature`] (the third-party Ed25519 check, with
//! only the bot id), so holding one means the data came from Telegram.

use std::cell::RefCell;
use std::cmp::Ordering;
use std::fmt;

use hmac::{Hmac, Mac};
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::error::Category;
use serde_json::Value;
use sha2::Sha256;
use subtle::{Choice, ConstantTimeEq};

use super::ed25519::Ed25519Verifier;
use super::encoding::{base64url_decode, hex_byte, hex_decode_into};
use super::BotToken;

pub(super) type HmacSha256 = Hmac<Sha256>;

/// Real launch data is a few hundred bytes; anything this large is refused unread.
pub const MAX_INIT_DATA_LEN: usize = 8 * 1024;

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

/// Read straight from the JSON text, without building a `Value` for the whole
/// object (in the wasm that was 2–3 µs of every authenticated request). As
/// with a `Value`, a repeated key counts with its last value, and a field of
/// an unexpected type reads as absent.
impl<'de> Deserialize<'de> for WebAppUser {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(field_identifier, rename_all = "snake_case")]
        enum Field {
            Id,
            FirstName,
            LastName,
            Username,
            LanguageCode,
            IsPremium,
            #[serde(other)]
            Other,
        }

        struct UserVisitor;

        impl<'de> Visitor<'de> for UserVisitor {
            type Value = WebAppUser;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a user object with a numeric id")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<WebAppUser, A::Error> {
                let text = |v: Value| match v {
                    Value::String(s) => Some(s),
                    _ => None,
                };
                let mut id = None;
                let mut user = WebAppUser {
                    id: 0,
                    first_name: String::new(),
                    last_name: None,
                    username: None,
                    language_code: None,
                    is_premium: false,
                };
                while let Some(field) = map.next_key()? {
                    match field {
                        Field::Id => id = map.next_value::<Value>()?.as_i64(),
                        Field::FirstName => {
                            user.first_name = text(map.next_value()?).unwrap_or_default()
                        }
                        Field::LastName => user.last_name = text(map.next_value()?),
                        Field::Username => user.username = text(map.next_value()?),
                        Field::LanguageCode => user.language_code = text(map.next_value()?),
                        Field::IsPremium => {
                            user.is_premium = map.next_value::<Value>()?.as_bool() == Some(true)
                        }
                        Field::Other => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                user.id = id.ok_or_else(|| de::Error::custom("no numeric id"))?;
                Ok(user)
            }
        }

        d.deserialize_map(UserVisitor)
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
        let user = serde_json::from_str(raw).map_err(|e| {
            InitDataError::Malformed(match e.classify() {
                Category::Data => "user has no numeric id",
                _ => "user is not JSON",
            })
        })?;
        Ok(Some(user))
    }

    /// Any decoded field, e.g. `query_id`, `chat_type`, `start_param`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields.get(key)
    }
}

/// One decoded `key=value` pair: where it lies in [`Fields::buf`].
#[derive(Debug, Clone, Copy)]
struct Pair {
    start: usize,
    eq: usize,
    end: usize,
    /// The key's first eight bytes, big-endian: most keys differ in them, so
    /// sorting and lookups compare one integer and rarely the bytes.
    prefix: u64,
}

impl Pair {
    /// The key as bytes: comparing bytes orders keys as `str` does, without
    /// `str` slicing's boundary checks.
    fn key<'a>(&self, buf: &'a [u8]) -> &'a [u8] {
        &buf[self.start..self.eq]
    }

    /// This key against another, in byte order: the prefixes, then the bytes
    /// when those are equal (a zero-padded prefix cannot tell `a` from `a\0`).
    fn cmp_key(&self, buf: &[u8], prefix: u64, key: &[u8]) -> Ordering {
        self.prefix
            .cmp(&prefix)
            .then_with(|| self.key(buf).cmp(key))
    }
}

fn prefix(key: &[u8]) -> u64 {
    let mut word = [0u8; 8];
    let n = key.len().min(8);
    word[..n].copy_from_slice(&key[..n]);
    u64::from_be_bytes(word)
}

/// The decoded pairs, sorted by key (the order both checks sign). All of them
/// live in one buffer as `key=value` lines, so parsing makes two allocations
/// rather than two per field, and the check string is copied out in one pass.
#[derive(Debug, Clone)]
struct Fields {
    buf: String,
    pairs: Vec<Pair>,
}

/// Bytes at or above these are copied without a look, eight at a time: in a
/// key every byte that means something (`% & + =`) is below 0x3E, and in a
/// value, where `=` is data, below 0x2C. The few plain bytes below them (digits
/// in a key, `!` … `*` in a value) take the slow path and are copied too.
const KEY_LIMIT: u64 = 0x3E;
const VALUE_LIMIT: u64 = 0x2C;
const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

impl Fields {
    fn parse(raw: &str) -> Result<Fields, InitDataError> {
        if raw.len() > MAX_INIT_DATA_LEN {
            return Err(InitDataError::Malformed("larger than 8192 bytes"));
        }
        let bad_escape = InitDataError::Malformed("bad percent-encoding");
        let src = raw.as_bytes();
        // One pass into a buffer sized for the worst case (`a&` becomes `a=\n`)
        // plus a word of slack: each step stores eight bytes and keeps those
        // before the first one that needs a look (a SWAR "byte below limit"
        // test), so long plain values (hash, signature) cost a step per word.
        // Written by index: appending (capacity checks, truncation) was 13 %
        // slower on real launch data.
        let mut buf = vec![0u8; src.len() + src.len() / 2 + 10];
        let mut pairs = Vec::with_capacity(8);
        let (mut w, mut start, mut eq) = (0, 0, None);
        let mut i = 0;
        let mut limit = KEY_LIMIT;
        loop {
            let mut word = [0u8; 8];
            match src.get(i..i + 8) {
                Some(s) => word.copy_from_slice(s),
                // Past the end the word is zeros, which are below any limit.
                None => word[..src.len() - i].copy_from_slice(&src[i..]),
            }
            buf[w..w + 8].copy_from_slice(&word);
            let x = u64::from_le_bytes(word);
            // The lowest set high bit marks the first byte below `limit`
            // (borrows can only mark bytes after it).
            let below = x.wrapping_sub(ONES * limit) & !x & HIGHS;
            if below == 0 {
                (i, w) = (i + 8, w + 8);
                continue;
            }
            let plain = (below.trailing_zeros() / 8) as usize;
            (i, w) = (i + plain, w + plain);
            let b = src.get(i).copied();
            match b {
                Some(b'%') => loop {
                    let Some(&[hi, lo]) = src.get(i + 1..i + 3) else {
                        return Err(bad_escape);
                    };
                    let Some(byte) = hex_byte(hi, lo) else {
                        return Err(bad_escape);
                    };
                    buf[w] = byte;
                    i += 2;
                    // Escapes come in runs (`%22%3A%22` in the user JSON).
                    if src.get(i + 1) != Some(&b'%') {
                        break;
                    }
                    (i, w) = (i + 1, w + 1);
                },
                Some(b'+') => buf[w] = b' ',
                Some(b'=') if eq.is_none() => {
                    eq = Some(w);
                    limit = VALUE_LIMIT;
                }
                // A plain byte below the limit, or a later `=`: already stored.
                Some(b) if b != b'&' => {}
                _ => {
                    // `&` or the end. An empty part (`a&&b`, a trailing `&`) is no field.
                    if w > start || eq.is_some() {
                        let eq = *eq.get_or_insert_with(|| {
                            buf[w] = b'=';
                            w += 1;
                            w - 1
                        });
                        if eq == start {
                            return Err(InitDataError::Malformed("empty key"));
                        }
                        pairs.push(Pair {
                            start,
                            eq,
                            end: w,
                            prefix: prefix(&buf[start..eq]),
                        });
                        // A separator that is not part of any key or value: no UTF-8
                        // sequence can run across it, so checking the whole buffer
                        // checks each piece.
                        buf[w] = b'\n';
                        w += 1;
                    }
                    (start, eq, limit) = (w, None, KEY_LIMIT);
                    if b.is_none() {
                        break;
                    }
                    i += 1;
                    continue;
                }
            }
            (i, w) = (i + 1, w + 1);
        }
        buf.truncate(w);
        let buf = String::from_utf8(buf).map_err(|_| bad_escape)?;
        let bytes = buf.as_bytes();
        pairs.sort_unstable_by(|a, b| a.cmp_key(bytes, b.prefix, b.key(bytes)));
        let same = |w: &[Pair]| w[0].cmp_key(bytes, w[1].prefix, w[1].key(bytes)).is_eq();
        if pairs.windows(2).any(same) {
            return Err(InitDataError::Malformed("a key appears twice"));
        }
        Ok(Fields { buf, pairs })
    }

    fn get(&self, key: &str) -> Option<&str> {
        let (key, prefix) = (key.as_bytes(), prefix(key.as_bytes()));
        self.pairs
            .binary_search_by(|p| p.cmp_key(self.buf.as_bytes(), prefix, key))
            .ok()
            .map(|i| &self.buf[self.pairs[i].eq + 1..self.pairs[i].end])
    }

    /// Appends the `k=v` lines (sorted, `\n`-joined) of every field not in `skip`.
    fn check_string(&self, skip: &[&str], out: &mut Vec<u8>) {
        let buf = self.buf.as_bytes();
        let signed = |p: &&Pair| !skip.iter().any(|s| s.as_bytes() == p.key(buf));
        for (n, p) in self.pairs.iter().filter(signed).enumerate() {
            if n > 0 {
                out.push(b'\n');
            }
            out.extend_from_slice(&buf[p.start..p.end]);
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

/// `HMAC_SHA256(key = "WebAppData", message = bot_token)`: the key for the bot's own check.
pub fn hmac_secret(token: &BotToken) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(b"WebAppData").expect("HMAC takes any key");
    mac.update(token.expose().as_bytes());
    mac.finalize().into_bytes().into()
}

/// Whether `mac` ends in `expected`, in constant time. A word at a time:
/// `verify_slice` compares byte by byte, each behind an optimisation barrier,
/// about 40 ns natively, a twentieth of the whole launch-data check.
pub(super) fn mac_matches(mac: HmacSha256, expected: &[u8; 32]) -> bool {
    let got: [u8; 32] = mac.finalize().into_bytes().into();
    let word = |s: &[u8; 32], i: usize| {
        u64::from_le_bytes(s[i * 8..i * 8 + 8].try_into().expect("8 bytes"))
    };
    (0..4)
        .fold(Choice::from(1), |eq, i| {
            eq & word(&got, i).ct_eq(&word(expected, i))
        })
        .into()
}

thread_local! {
    /// The last token's secret: a bot has one token, so each isolate derives it once.
    static SECRET: RefCell<Option<(String, [u8; 32])>> = const { RefCell::new(None) };
}

/// [`hmac_secret`], remembered for the last token.
fn cached_secret(token: &BotToken) -> [u8; 32] {
    SECRET.with_borrow_mut(|cache| match cache {
        Some((t, secret)) if t == token.expose() => *secret,
        _ => {
            let secret = hmac_secret(token);
            *cache = Some((token.expose().to_owned(), secret));
            secret
        }
    })
}

/// The bot's own check: HMAC-SHA256 keyed with the bot token, then the age check
/// (`max_age` seconds; 0 disables it). `signature`, when present, stays signed.
pub fn verify_hmac(
    raw: &str,
    token: &BotToken,
    now: u64,
    max_age: u64,
) -> Result<InitData, InitDataError> {
    verify_hmac_with_secret(raw, &cached_secret(token), now, max_age)
}

/// [`verify_hmac`] with the secret already derived (it depends only on the token).
pub fn verify_hmac_with_secret(
    raw: &str,
    secret: &[u8; 32],
    now: u64,
    max_age: u64,
) -> Result<InitData, InitDataError> {
    let fields = Fields::parse(raw)?;
    let hash = fields.get("hash").ok_or(InitDataError::MissingHash)?;
    let mut expected = [0u8; 32];
    // A hash that is not 64 hex digits can never match: invalid, not malformed.
    hex_decode_into(hash.as_bytes(), &mut expected).ok_or(InitDataError::HashMismatch)?;
    let mut dcs = Vec::with_capacity(fields.buf.len());
    fields.check_string(&["hash"], &mut dcs);
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes any key");
    mac.update(&dcs);
    if !mac_matches(mac, &expected) {
        return Err(InitDataError::HashMismatch);
    }
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
    let sig: [u8; 64] = base64url_decode(sig)
        .and_then(|b| b.try_into().ok())
        .ok_or(InitDataError::SignatureInvalid)?;
    let mut message = format!("{bot_id}:WebAppData\n").into_bytes();
    fields.check_string(&["hash", "signature"], &mut message);
    if !verifier.verify_ed25519(public_key, &message, &sig).await {
        return Err(InitDataError::SignatureInvalid);
    }
    fields.into_verified(now, max_age)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telegram::ed25519::Dalek;
    use crate::telegram::encoding::{base64url_encode, form_encode, hex_encode};
    use ed25519_dalek::{Signer, SigningKey, VerifyingKey};

    const NOW: u64 = 1_700_000_000;
    const USER: &str = r#"{"id":279058397,"first_name":"Vladislav + Tester","last_name":"K","username":"vdkfrost","language_code":"ru","is_premium":true,"allows_write_to_pm":true,"photo_url":"https:\/\/t.me\/i\/userpic\/320\/a.svg"}"#;

    fn token() -> BotToken {
        BotToken::parse("7342037359:AAHI25ES9xCOMPWgSXA_fake").unwrap()
    }

    /// Signs `pairs` as Telegram does and returns the raw query string.
    fn sign(pairs: &[(&str, &str)], token: &BotToken) -> String {
        let mut sorted: Vec<_> = pairs.to_vec();
        sorted.sort();
        let dcs: Vec<String> = sorted.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let mut mac = HmacSha256::new_from_slice(&hmac_secret(token)).unwrap();
        mac.update(dcs.join("\n").as_bytes());
        let hash = hex_encode(&mac.finalize().into_bytes());
        let mut parts: Vec<String> = pairs
            .iter()
            .map(|(k, v)| format!("{}={}", form_encode(k), form_encode(v)))
            .collect();
        parts.push(format!("hash={hash}"));
        parts.join("&")
    }

    fn auth_date() -> String {
        NOW.to_string()
    }

    #[test]
    fn accepts_data_it_signed_and_exposes_every_field() {
        let ad = auth_date();
        let raw = sign(
            &[
                ("query_id", "AAHdF6IQ"),
                ("user", USER),
                ("auth_date", &ad),
                ("start_param", "buy_pack"),
            ],
            &token(),
        );
        let data = verify_hmac(&raw, &token(), NOW + 10, 86_400).unwrap();
        let user = data.user().unwrap().unwrap();
        assert_eq!(user.id, 279058397);
        assert_eq!(user.first_name, "Vladislav + Tester");
        assert!(user.is_premium);
        assert_eq!(data.get("user"), Some(USER));
        assert_eq!(data.get("query_id"), Some("AAHdF6IQ"));
        assert_eq!(data.get("start_param"), Some("buy_pack"));
        assert_eq!(data.auth_date(), NOW);
    }

    #[test]
    fn plus_is_a_space_and_user_json_is_kept_byte_exact() {
        // Telegram's clients encode spaces as `+` and keep `\/` escapes: re-serializing
        // the user JSON or leaving `+` undecoded both break the hash.
        let ad = auth_date();
        let raw = sign(&[("user", USER), ("auth_date", &ad)], &token());
        let with_plus = raw.replace("%20", "+");
        assert!(with_plus.contains('+'));
        assert!(verify_hmac(&with_plus, &token(), NOW, 0).is_ok());
    }

    #[test]
    fn a_hash_off_by_one_bit_in_any_word_is_refused() {
        let ad = auth_date();
        let raw = sign(&[("auth_date", &ad), ("user", USER)], &token());
        let at = raw.find("hash=").unwrap() + 5;
        assert!(verify_hmac(&raw, &token(), NOW, 0).is_ok());
        // The first and last hex digit of each 8-byte word of the MAC.
        for digit in [0, 15, 16, 31, 32, 47, 48, 63] {
            let mut bytes = raw.clone().into_bytes();
            bytes[at + digit] = if bytes[at + digit] == b'0' {
                b'1'
            } else {
                b'0'
            };
            let tampered = String::from_utf8(bytes).unwrap();
            let err = verify_hmac(&tampered, &token(), NOW, 0).unwrap_err();
            assert_eq!(err, InitDataError::HashMismatch, "digit {digit}");
        }
    }

    #[test]
    fn unknown_fields_are_accepted_and_signed() {
        let ad = auth_date();
        let raw = sign(
            &[
                ("auth_date", &ad),
                ("brand_new_field", "x"),
                ("chat_type", "sender"),
            ],
            &token(),
        );
        let data = verify_hmac(&raw, &token(), NOW, 0).unwrap();
        assert_eq!(data.get("brand_new_field"), Some("x"));
        let tampered = raw.replace("brand_new_field=x", "brand_new_field=y");
        assert_eq!(
            verify_hmac(&tampered, &token(), NOW, 0).unwrap_err(),
            InitDataError::HashMismatch
        );
    }

    #[test]
    fn signature_stays_in_the_hmac_string() {
        let ad = auth_date();
        let raw = sign(&[("auth_date", &ad), ("signature", "abc_-")], &token());
        assert!(verify_hmac(&raw, &token(), NOW, 0).is_ok());
        // A validator that drops `signature` would accept this one; we must not.
        let dropped = {
            let mut mac = HmacSha256::new_from_slice(&hmac_secret(&token())).unwrap();
            mac.update(format!("auth_date={ad}").as_bytes());
            format!(
                "auth_date={ad}&signature=abc_-&hash={}",
                hex_encode(&mac.finalize().into_bytes())
            )
        };
        assert_eq!(
            verify_hmac(&dropped, &token(), NOW, 0).unwrap_err(),
            InitDataError::HashMismatch
        );
    }

    #[test]
    fn every_failure_has_its_code() {
        let ad = auth_date();
        let good = sign(&[("auth_date", &ad), ("user", USER)], &token());
        let other = BotToken::parse("1:other").unwrap();
        let cases: Vec<(String, &str)> = vec![
            (good.replace("hash=", "nohash="), "malformed_init_data"),
            ("auth_date=1&hash=%zz".into(), "malformed_init_data"),
            (format!("{good}&auth_date=5"), "malformed_init_data"),
            ("a".repeat(MAX_INIT_DATA_LEN + 1), "malformed_init_data"),
            (sign(&[("user", USER)], &token()), "malformed_init_data"),
            (
                sign(&[("auth_date", "soon")], &token()),
                "malformed_init_data",
            ),
            (sign(&[("auth_date", &ad)], &other), "invalid_hash"),
            (good.replace("hash=", "hash=00"), "invalid_hash"),
            (format!("auth_date={ad}&hash=ñññññ"), "invalid_hash"),
            (
                format!("auth_date={ad}&hash={}", "é".repeat(32)),
                "invalid_hash",
            ),
        ];
        for (raw, code) in cases {
            let err = verify_hmac(&raw, &token(), NOW, 0).unwrap_err();
            assert_eq!(err.code(), code, "{raw:.80}");
        }
    }

    #[test]
    fn the_user_reads_as_its_json_object_would() {
        let ad = auth_date();
        let read = |user: &str| {
            let raw = sign(&[("auth_date", &ad), ("user", user)], &token());
            verify_hmac(&raw, &token(), NOW, 0).unwrap().user()
        };
        // Odd types read as absent, the last of a repeated key counts, unknown
        // fields of any shape are skipped, and escaped keys are their text.
        let user = read(
            r#"{"id":5,"first_name":7,"username":"a","username":null,"is_premium":"yes","x":{"y":[1,{"z":2}]},"\u006cast_name":"L"}"#,
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            user,
            WebAppUser {
                id: 5,
                first_name: String::new(),
                last_name: Some("L".into()),
                username: None,
                language_code: None,
                is_premium: false,
            }
        );
        assert_eq!(read(r#"{"id":"5","id":6}"#).unwrap().unwrap().id, 6);
        for (user, why) in [
            (r#"{"id":5,"id":"5"}"#, "user has no numeric id"),
            (r#"{"id":5.0}"#, "user has no numeric id"),
            (r#"[5]"#, "user has no numeric id"),
            (r#"{"id":5"#, "user is not JSON"),
            (r#"{"id":5} x"#, "user is not JSON"),
        ] {
            assert_eq!(read(user), Err(InitDataError::Malformed(why)), "{user}");
        }
    }

    #[test]
    fn a_user_that_does_not_read_is_malformed_when_read() {
        let ad = auth_date();
        for user in ["{\"name\":1}", "{\"id\":\"7\"}", "not json"] {
            let raw = sign(&[("auth_date", &ad), ("user", user)], &token());
            // Signed by Telegram, so the check passes; reading the user does not.
            let data = verify_hmac(&raw, &token(), NOW, 0).unwrap();
            assert_eq!(
                data.user().unwrap_err().code(),
                "malformed_init_data",
                "{user}"
            );
        }
        let raw = sign(&[("auth_date", &ad)], &token());
        assert_eq!(
            verify_hmac(&raw, &token(), NOW, 0).unwrap().user(),
            Ok(None)
        );
    }

    #[test]
    fn parsing_edge_cases_read_as_before() {
        let ad = auth_date();
        // Empty parts are skipped, a key alone has an empty value, `=` in a
        // value and escaped `=` or `&` in a key are data, not structure.
        let pairs = [
            ("auth_date", ad.as_str()),
            ("flag", ""),
            ("eq", "a=b"),
            ("k=&y", "v"),
        ];
        let signed = sign(&pairs, &token());
        let raw = format!("&&{}&", signed.replace("flag=", "flag"));
        assert!(!raw.contains("flag="));
        let data = verify_hmac(&raw, &token(), NOW, 0).unwrap();
        assert_eq!(data.get("flag"), Some(""));
        assert_eq!(data.get("eq"), Some("a=b"));
        assert_eq!(data.get("k=&y"), Some("v"));
        for (raw, why) in [
            ("=v&hash=00", "empty key"),
            ("a=1&=&hash=00", "empty key"),
            ("a=%4&hash=00", "bad percent-encoding"),
            ("a=%", "bad percent-encoding"),
        ] {
            assert_eq!(
                verify_hmac(raw, &token(), NOW, 0).unwrap_err(),
                InitDataError::Malformed(why),
                "{raw}"
            );
        }
    }

    /// The word-at-a-time parser against the plain definition (split on `&`,
    /// then on the first `=`, then form-decode) on inputs built from the bytes
    /// that matter, at every length around the 8-byte steps.
    #[test]
    fn the_parser_reads_as_the_plain_definition() {
        use crate::telegram::encoding::form_decode;
        fn plain(raw: &str) -> Option<Vec<(String, String)>> {
            let mut out = Vec::new();
            for part in raw.split('&').filter(|p| !p.is_empty()) {
                let (k, v) = part.split_once('=').unwrap_or((part, ""));
                if k.is_empty() {
                    return None;
                }
                out.push((form_decode(k)?, form_decode(v)?));
            }
            out.sort();
            out.windows(2).all(|w| w[0].0 != w[1].0).then_some(out)
        }
        const ALPHABET: [&str; 20] = [
            "a", "b", "=", "&", "%", "+", "2", "5", "C", "3", "A", "9", "!", "*", "\u{e9}", "\0",
            "z", "F", "%2", "%C3%A9",
        ];
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        for _ in 0..50_000 {
            let len = next(40);
            let raw: String = (0..len).map(|_| ALPHABET[next(ALPHABET.len())]).collect();
            let parsed = Fields::parse(&raw).ok().map(|f| {
                f.pairs
                    .iter()
                    .map(|p| {
                        let key = String::from_utf8(p.key(f.buf.as_bytes()).to_vec()).unwrap();
                        let value = f.get(&key).unwrap().to_owned();
                        (key, value)
                    })
                    .collect::<Vec<_>>()
            });
            assert_eq!(parsed, plain(&raw), "{raw:?}");
        }
    }

    #[test]
    fn the_largest_growth_fits_the_buffer() {
        // Every two bytes `a&` become three (`a=\n`): the most the output can
        // outgrow the input, at the largest input taken.
        let raw = "a&".repeat(MAX_INIT_DATA_LEN / 2);
        assert_eq!(
            Fields::parse(&raw).unwrap_err(),
            InitDataError::Malformed("a key appears twice")
        );
        let raw: String = (0..MAX_INIT_DATA_LEN / 4)
            .map(|i| format!("{:03x}&", i % 4096))
            .collect::<String>()[..MAX_INIT_DATA_LEN]
            .to_owned();
        assert_eq!(
            Fields::parse(&raw).unwrap().pairs.len(),
            MAX_INIT_DATA_LEN / 4
        );
    }

    #[test]
    fn a_utf8_sequence_cannot_span_two_fields() {
        // Each piece alone is broken UTF-8; joined they would read as "é".
        let err = verify_hmac("a=%C3&%A9=b&hash=00", &token(), NOW, 0).unwrap_err();
        assert_eq!(err, InitDataError::Malformed("bad percent-encoding"));
        let err = verify_hmac("a=x%C3=&hash=00", &token(), NOW, 0).unwrap_err();
        assert_eq!(err, InitDataError::Malformed("bad percent-encoding"));
    }

    #[test]
    fn the_cached_secret_follows_the_token() {
        let ad = auth_date();
        let other = BotToken::parse("1:other").unwrap();
        let raw = sign(&[("auth_date", &ad)], &token());
        let raw_other = sign(&[("auth_date", &ad)], &other);
        for _ in 0..2 {
            assert!(verify_hmac(&raw, &token(), NOW, 0).is_ok());
            assert!(verify_hmac(&raw_other, &other, NOW, 0).is_ok());
            assert!(verify_hmac(&raw, &other, NOW, 0).is_err());
        }
    }

    #[test]
    fn expiry_boundaries_with_an_injected_clock() {
        let ad = auth_date();
        let raw = sign(&[("auth_date", &ad)], &token());
        assert!(verify_hmac(&raw, &token(), NOW + 3600, 3600).is_ok());
        assert_eq!(
            verify_hmac(&raw, &token(), NOW + 3601, 3600).unwrap_err(),
            InitDataError::Expired
        );
        // 0 disables the check; a clock behind Telegram's is not an error.
        assert!(verify_hmac(&raw, &token(), NOW + 10_000_000, 0).is_ok());
        assert!(verify_hmac(&raw, &token(), NOW - 60, 3600).is_ok());
        // A bad hash is reported before expiry, so old forged data says "invalid".
        let forged = raw.replace("hash=", "hash=1");
        assert_eq!(
            verify_hmac(&forged, &token(), NOW + 99_999, 1).unwrap_err(),
            InitDataError::HashMismatch
        );
    }

    fn ed25519_signed(bot_id: u64, key: &SigningKey, pairs: &[(&str, &str)]) -> String {
        let mut sorted: Vec<_> = pairs.to_vec();
        sorted.sort();
        let body: Vec<String> = sorted.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let msg = format!("{bot_id}:WebAppData\n{}", body.join("\n"));
        let sig = base64url_encode(&key.sign(msg.as_bytes()).to_bytes());
        let mut all: Vec<(&str, &str)> = pairs.to_vec();
        all.push(("signature", &sig));
        // The bot's HMAC covers the signature too; a third party ignores `hash`.
        sign(&all, &token())
    }

    /// [`verify_signature`] with ed25519-dalek doing the curve math.
    fn third_party(
        raw: &str,
        bot_id: u64,
        public_key: &[u8; 32],
        now: u64,
        max_age: u64,
    ) -> Result<InitData, InitDataError> {
        pollster::block_on(verify_signature(
            raw, bot_id, public_key, now, max_age, &Dalek,
        ))
    }

    #[test]
    fn ed25519_third_party_check() {
        let key = SigningKey::from_bytes(&[7u8; 32]);
        let public = key.verifying_key().to_bytes();
        let ad = auth_date();
        let raw = ed25519_signed(
            7342037359,
            &key,
            &[("auth_date", &ad), ("user", USER), ("chat_type", "private")],
        );
        let data = third_party(&raw, 7342037359, &public, NOW, 86_400).unwrap();
        assert_eq!(data.user().unwrap().unwrap().id, 279058397);
        // The same raw string passes the bot's own check as well.
        assert!(verify_hmac(&raw, &token(), NOW, 86_400).is_ok());

        let invalid = |raw: &str, bot: u64, pk: &[u8; 32]| {
            third_party(raw, bot, pk, NOW, 86_400).unwrap_err()
        };
        assert_eq!(invalid(&raw, 1, &public), InitDataError::SignatureInvalid);
        let other = SigningKey::from_bytes(&[8u8; 32])
            .verifying_key()
            .to_bytes();
        assert_eq!(
            invalid(&raw, 7342037359, &other),
            InitDataError::SignatureInvalid
        );
        let tampered = raw.replace("chat_type=private", "chat_type=group");
        assert_eq!(
            invalid(&tampered, 7342037359, &public),
            InitDataError::SignatureInvalid
        );
        let unsigned = sign(&[("auth_date", &ad)], &token());
        assert_eq!(
            invalid(&unsigned, 7342037359, &public),
            InitDataError::MissingSignature
        );
        let garbage = format!("auth_date={ad}&signature=%C3%B1%C3%B1&hash=x");
        assert_eq!(
            invalid(&garbage, 7342037359, &public),
            InitDataError::SignatureInvalid
        );
        assert_eq!(
            third_party(&raw, 7342037359, &public, NOW + 86_401, 86_400).unwrap_err(),
            InitDataError::Expired
        );
    }

    /// Answers with `answer` and keeps what it was asked.
    struct Recording {
        answer: bool,
        asked: RefCell<Vec<(Vec<u8>, [u8; 64])>>,
    }

    impl Ed25519Verifier for Recording {
        async fn verify_ed25519(&self, _: &[u8; 32], message: &[u8], sig: &[u8; 64]) -> bool {
            self.asked.borrow_mut().push((message.to_vec(), *sig));
            self.answer
        }
    }

    #[test]
    fn the_verifier_gets_telegrams_message_and_has_the_last_word() {
        let ad = auth_date();
        let sig = [9u8; 64];
        let raw = sign(
            &[
                ("auth_date", &ad),
                ("chat_type", "sender"),
                ("signature", &base64url_encode(&sig)),
            ],
            &token(),
        );
        let check = |answer: bool, raw: &str| {
            let verifier = Recording {
                answer,
                asked: RefCell::new(Vec::new()),
            };
            let result = pollster::block_on(verify_signature(raw, 42, &[1; 32], NOW, 0, &verifier));
            (result, verifier.asked.into_inner())
        };
        let (result, asked) = check(true, &raw);
        assert!(result.is_ok());
        let message = format!("42:WebAppData\nauth_date={ad}\nchat_type=sender");
        assert_eq!(asked, vec![(message.into_bytes(), sig)]);
        let (result, _) = check(false, &raw);
        assert_eq!(result.unwrap_err(), InitDataError::SignatureInvalid);
        // A signature that is not 64 bytes never reaches the verifier.
        let short = raw.replace(&base64url_encode(&sig), &base64url_encode(&sig[..63]));
        let (result, asked) = check(true, &short);
        assert_eq!(result.unwrap_err(), InitDataError::SignatureInvalid);
        assert!(asked.is_empty());
    }

    #[test]
    fn a_public_key_off_the_curve_verifies_nothing() {
        let key = SigningKey::from_bytes(&[7u8; 32]);
        let ad = auth_date();
        let raw = ed25519_signed(7342037359, &key, &[("auth_date", &ad)]);
        // Not the encoding of any curve point (y = 2 has no x).
        let mut off = [0u8; 32];
        off[0] = 2;
        assert!(VerifyingKey::from_bytes(&off).is_err());
        assert_eq!(
            third_party(&raw, 7342037359, &off, NOW, 0).unwrap_err(),
            InitDataError::SignatureInvalid
        );
    }

    #[test]
    fn telegram_public_keys_are_valid_points() {
        use crate::telegram::TelegramEnv;
        for env in [TelegramEnv::Production, TelegramEnv::Test] {
            assert!(VerifyingKey::from_bytes(&env.public_key()).is_ok());
        }
    }
}
