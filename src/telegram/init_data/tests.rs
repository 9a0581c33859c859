//! Launch data: data signed here as Telegram signs it, every failure's code,
//! the parser against `form_urlencoded`, and the third-party Ed25519 check.

use std::cell::RefCell;

use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::*;
use crate::telegram::ed25519::Dalek;
use crate::telegram::BotToken;

const NOW: u64 = 1_700_000_000;
const USER: &str = r#"{"id":279058397,"first_name":"Vladislav + Tester","last_name":"K","username":"vdkfrost","language_code":"ru","is_premium":true,"allows_write_to_pm":true,"photo_url":"https:\/\/t.me\/i\/userpic\/320\/a.svg"}"#;

fn token() -> BotToken {
    BotToken::parse("7342037359:AAHI25ES9xCOMPWgSXA_fake").unwrap()
}

fn keys() -> BotKeys {
    BotKeys::derive(&token())
}

/// Every byte but URL-unreserved ones escaped (a space as `%20`).
fn form_encode(s: &str) -> String {
    const RESERVED: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    utf8_percent_encode(s, RESERVED).to_string()
}

/// `hex(HMAC_SHA256(key, message))`.
fn hmac_hex(key: &[u8], message: &str) -> String {
    let mut mac = HmacSha256::new_from_slice(key).unwrap();
    mac.update(message.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Signs `pairs` as Telegram does and returns the raw query string.
fn sign(pairs: &[(&str, &str)], token: &BotToken) -> String {
    let mut sorted: Vec<_> = pairs.to_vec();
    sorted.sort();
    let dcs: Vec<String> = sorted.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let hash = hmac_hex(&BotKeys::derive(token).init_data, &dcs.join("\n"));
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
    let data = verify_hmac(&raw, &keys(), NOW + 10, 86_400).unwrap();
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
    assert!(verify_hmac(&raw, &keys(), NOW, 0).is_ok());
    let with_plus = raw.replace("%20", "+");
    assert!(with_plus.contains('+'));
    let data = verify_hmac(&with_plus, &keys(), NOW, 0).unwrap();
    assert_eq!(data.get("user"), Some(USER));
}

#[test]
fn a_hash_off_by_one_bit_anywhere_is_refused() {
    let ad = auth_date();
    let raw = sign(&[("auth_date", &ad), ("user", USER)], &token());
    let at = raw.find("hash=").unwrap() + 5;
    let hash = hex::decode(&raw[at..at + 64]).unwrap();
    assert!(verify_hmac(&raw, &keys(), NOW, 0).is_ok());
    for bit in 0..256 {
        let mut off = hash.clone();
        off[bit / 8] ^= 1 << (bit % 8);
        let tampered = format!("{}{}", &raw[..at], hex::encode(off));
        let err = verify_hmac(&tampered, &keys(), NOW, 0).unwrap_err();
        assert_eq!(err, InitDataError::HashMismatch, "bit {bit}");
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
    let data = verify_hmac(&raw, &keys(), NOW, 0).unwrap();
    assert_eq!(data.get("brand_new_field"), Some("x"));
    let tampered = raw.replace("brand_new_field=x", "brand_new_field=y");
    assert_eq!(
        verify_hmac(&tampered, &keys(), NOW, 0).unwrap_err(),
        InitDataError::HashMismatch
    );
}

#[test]
fn signature_stays_in_the_hmac_string() {
    let ad = auth_date();
    let raw = sign(&[("auth_date", &ad), ("signature", "abc_-")], &token());
    assert!(verify_hmac(&raw, &keys(), NOW, 0).is_ok());
    // A validator that drops `signature` would accept this one; we must not.
    let dropped = format!(
        "auth_date={ad}&signature=abc_-&hash={}",
        hmac_hex(&keys().init_data, &format!("auth_date={ad}"))
    );
    assert_eq!(
        verify_hmac(&dropped, &keys(), NOW, 0).unwrap_err(),
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
        let err = verify_hmac(&raw, &keys(), NOW, 0).unwrap_err();
        assert_eq!(err.code(), code, "{raw:.80}");
    }
}

#[test]
fn the_user_reads_as_its_json_object_would() {
    let ad = auth_date();
    let read = |user: &str| {
        let raw = sign(&[("auth_date", &ad), ("user", user)], &token());
        verify_hmac(&raw, &keys(), NOW, 0).unwrap().user()
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
        let data = verify_hmac(&raw, &keys(), NOW, 0).unwrap();
        assert_eq!(
            data.user().unwrap_err().code(),
            "malformed_init_data",
            "{user}"
        );
    }
    let raw = sign(&[("auth_date", &ad)], &token());
    assert_eq!(verify_hmac(&raw, &keys(), NOW, 0).unwrap().user(), Ok(None));
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
    let data = verify_hmac(&raw, &keys(), NOW, 0).unwrap();
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
            verify_hmac(raw, &keys(), NOW, 0).unwrap_err(),
            InitDataError::Malformed(why),
            "{raw}"
        );
    }
}

/// The parser against an independent reading: where every `%` starts a
/// well-formed escape and every key and value decodes to UTF-8, it reads what
/// `form_urlencoded::parse` reads (sorted, empty keys and repeated keys
/// refused); everything else it refuses. Inputs are built from the bytes
/// that matter.
#[test]
fn the_parser_agrees_with_form_urlencoded_and_refuses_the_rest() {
    fn escapes_well_formed(raw: &str) -> bool {
        let b = raw.as_bytes();
        (0..b.len()).all(|i| {
            b[i] != b'%'
                || (i + 2 < b.len() && b[i + 1].is_ascii_hexdigit() && b[i + 2].is_ascii_hexdigit())
        })
    }
    fn reference(raw: &str) -> Option<Vec<(String, String)>> {
        if !escapes_well_formed(raw) {
            return None;
        }
        let mut pairs: Vec<(String, String)> = form_urlencoded::parse(raw.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        // No input holds U+FFFD, so one in the output stands for bytes that
        // were not UTF-8 (`form_urlencoded` replaces them).
        let refused = |(k, v): &(String, String)| {
            k.is_empty() || k.contains('\u{FFFD}') || v.contains('\u{FFFD}')
        };
        if pairs.iter().any(refused) {
            return None;
        }
        pairs.sort();
        pairs.windows(2).all(|w| w[0].0 != w[1].0).then_some(pairs)
    }
    const ALPHABET: [&str; 21] = [
        "a", "b", "=", "&", "%", "+", "2", "5", "C", "3", "A", "9", "!", "*", "\u{e9}", "\0", "z",
        "F", "%2", "%C3%A9", "%C3",
    ];
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    let (mut accepted, mut refused) = (0, 0);
    for _ in 0..50_000 {
        let len = next(40);
        let raw: String = (0..len).map(|_| ALPHABET[next(ALPHABET.len())]).collect();
        let parsed = Fields::parse(&raw).ok().map(|f| f.0);
        let expected = reference(&raw);
        assert_eq!(parsed, expected, "{raw:?}");
        match expected {
            Some(_) => accepted += 1,
            None => refused += 1,
        }
    }
    // Both sides of the definition were exercised.
    assert!(accepted > 5_000 && refused > 5_000, "{accepted} {refused}");
}

#[test]
fn the_largest_input_is_read_whole() {
    let raw = "a&".repeat(MAX_INIT_DATA_LEN / 2);
    assert_eq!(raw.len(), MAX_INIT_DATA_LEN);
    assert_eq!(
        Fields::parse(&raw).unwrap_err(),
        InitDataError::Malformed("a key appears twice")
    );
    // The most fields the largest input can hold, each one kept.
    let raw: String = (0..MAX_INIT_DATA_LEN / 4)
        .map(|i| format!("{:03x}&", i % 4096))
        .collect::<String>()[..MAX_INIT_DATA_LEN]
        .to_owned();
    let fields = Fields::parse(&raw).unwrap();
    assert_eq!(fields.0.len(), MAX_INIT_DATA_LEN / 4);
    assert_eq!(fields.get("7ff"), Some(""));
    let too_large = format!("{raw}a");
    assert_eq!(
        Fields::parse(&too_large).unwrap_err(),
        InitDataError::Malformed("larger than 8192 bytes")
    );
}

#[test]
fn a_utf8_sequence_cannot_span_two_fields() {
    // Each piece alone is broken UTF-8; joined they would read as "é".
    let err = verify_hmac("a=%C3&%A9=b&hash=00", &keys(), NOW, 0).unwrap_err();
    assert_eq!(err, InitDataError::Malformed("bad percent-encoding"));
    let err = verify_hmac("a=x%C3=&hash=00", &keys(), NOW, 0).unwrap_err();
    assert_eq!(err, InitDataError::Malformed("bad percent-encoding"));
}

#[test]
fn each_tokens_key_verifies_only_its_own_data() {
    let ad = auth_date();
    let other = BotToken::parse("1:other").unwrap();
    let other_keys = BotKeys::derive(&other);
    let raw = sign(&[("auth_date", &ad)], &token());
    let raw_other = sign(&[("auth_date", &ad)], &other);
    assert!(verify_hmac(&raw, &keys(), NOW, 0).is_ok());
    assert!(verify_hmac(&raw_other, &other_keys, NOW, 0).is_ok());
    assert_eq!(
        verify_hmac(&raw, &other_keys, NOW, 0).unwrap_err(),
        InitDataError::HashMismatch
    );
    assert_eq!(
        verify_hmac(&raw_other, &keys(), NOW, 0).unwrap_err(),
        InitDataError::HashMismatch
    );
}

#[test]
fn expiry_boundaries_with_an_injected_clock() {
    let ad = auth_date();
    let raw = sign(&[("auth_date", &ad)], &token());
    assert!(verify_hmac(&raw, &keys(), NOW + 3600, 3600).is_ok());
    assert_eq!(
        verify_hmac(&raw, &keys(), NOW + 3601, 3600).unwrap_err(),
        InitDataError::Expired
    );
    // 0 disables the check; a clock behind Telegram's is not an error.
    assert!(verify_hmac(&raw, &keys(), NOW + 10_000_000, 0).is_ok());
    assert!(verify_hmac(&raw, &keys(), NOW - 60, 3600).is_ok());
    // A bad hash is reported before expiry, so old forged data says "invalid".
    let forged = raw.replace("hash=", "hash=1");
    assert_eq!(
        verify_hmac(&forged, &keys(), NOW + 99_999, 1).unwrap_err(),
        InitDataError::HashMismatch
    );
}

fn ed25519_signed(bot_id: u64, key: &SigningKey, pairs: &[(&str, &str)]) -> String {
    let mut sorted: Vec<_> = pairs.to_vec();
    sorted.sort();
    let body: Vec<String> = sorted.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let msg = format!("{bot_id}:WebAppData\n{}", body.join("\n"));
    let sig = URL_SAFE_NO_PAD.encode(key.sign(msg.as_bytes()).to_bytes());
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
    assert!(verify_hmac(&raw, &keys(), NOW, 86_400).is_ok());

    let invalid =
        |raw: &str, bot: u64, pk: &[u8; 32]| third_party(raw, bot, pk, NOW, 86_400).unwrap_err();
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
            ("signature", &URL_SAFE_NO_PAD.encode(sig)),
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
    let short = raw.replace(
        &URL_SAFE_NO_PAD.encode(sig),
        &URL_SAFE_NO_PAD.encode(&sig[..63]),
    );
    let (result, asked) = check(true, &short);
    assert_eq!(result.unwrap_err(), InitDataError::SignatureInvalid);
    assert!(asked.is_empty());
    // Padded base64url reads as the unpadded form does.
    let padded = raw.replace(
        &URL_SAFE_NO_PAD.encode(sig),
        &form_encode(&URL_SAFE.encode(sig)),
    );
    assert!(padded.contains("%3D%3D"));
    let (result, asked) = check(true, &padded);
    assert!(result.is_ok());
    assert_eq!(asked[0].1, sig);
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
