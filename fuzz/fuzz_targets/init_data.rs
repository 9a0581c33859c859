//! Launch data (`initData`): any input is refused or accepted without a panic, and
//! genuine launch data with arbitrary fields (signed here as Telegram signs it, with
//! both the HMAC and the Ed25519 signature) is accepted with every field intact.
#![no_main]

use ed25519_dalek::{Signer, SigningKey};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use tma_pay::telegram::ed25519::Dalek;
use tma_pay::telegram::init_data::{self, verify_hmac, InitData, InitDataError, MAX_INIT_DATA_LEN};
use tma_pay::telegram::{BotKeys, BotToken};
use tma_pay_fuzz::{
    base64url, block_on, check_string, init_data_hash, pieces, url_encode, BOT_ID, NOW,
    SIGNING_SEED, TOKEN,
};

/// The third-party check with ed25519-dalek doing the curve math.
fn verify_signature(raw: &str, public: &[u8; 32]) -> Result<InitData, InitDataError> {
    block_on(init_data::verify_signature(
        raw, BOT_ID, public, NOW, 0, &Dalek,
    ))
}

fuzz_target!(|data: &[u8]| {
    let keys = BotKeys::derive(&BotToken::parse(TOKEN).unwrap());
    let key = SigningKey::from_bytes(&SIGNING_SEED);
    let public = key.verifying_key().to_bytes();
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        let raw = String::from_utf8_lossy(rest);
        let _ = verify_hmac(&raw, &keys, NOW, 86_400);
        let _ = verify_signature(&raw, &public);
        return;
    }

    // Fields from the input (key, value, key, value, …), then signed.
    let mut fields: Vec<(String, String)> = Vec::new();
    for pair in pieces(rest).chunks(2) {
        let k = pair[0].clone();
        if k.is_empty()
            || ["hash", "signature", "auth_date"].contains(&k.as_str())
            || fields.iter().any(|(x, _)| *x == k)
        {
            continue;
        }
        fields.push((k, pair.get(1).cloned().unwrap_or_default()));
    }
    fields.push(("auth_date".into(), NOW.to_string()));
    let message = format!("{BOT_ID}:WebAppData\n{}", check_string(&fields));
    let signature = base64url(&key.sign(message.as_bytes()).to_bytes());
    fields.push(("signature".into(), signature));
    let hash = init_data_hash(&fields);
    let encode = |fields: &[(String, String)], hash: &str| {
        fields
            .iter()
            .map(|(k, v)| format!("{}={}", url_encode(k), url_encode(v)))
            .chain(std::iter::once(format!("hash={hash}")))
            .collect::<Vec<_>>()
            .join("&")
    };
    let raw = encode(&fields, &hash);

    // What must happen: accepted unless it is too long; reading `user` fails
    // exactly when it is not a user object.
    let user_ok = fields
        .iter()
        .find(|(k, _)| k == "user")
        .is_none_or(|(_, v)| {
            serde_json::from_str::<Value>(v)
                .ok()
                .and_then(|j| j.get("id")?.as_i64())
                .is_some()
        });
    let acceptable = raw.len() <= MAX_INIT_DATA_LEN;
    let check = |result: Result<InitData, _>, which: &str| match result {
        Ok(d) => {
            assert!(acceptable, "{which} accepted what it should refuse");
            assert_eq!(d.user().is_ok(), user_ok, "{which}: reading the user");
            for (k, v) in &fields {
                assert_eq!(d.get(k), Some(v.as_str()), "{which}: field {k:?}");
            }
        }
        Err(e) => assert!(!acceptable, "{which} refused genuine launch data: {e:?}"),
    };
    check(verify_hmac(&raw, &keys, NOW, 86_400), "HMAC");
    check(verify_signature(&raw, &public), "Ed25519");

    // Any change to a value breaks both checks.
    if let Some(i) = fields.iter().position(|(k, _)| k != "signature") {
        let mut changed = fields.clone();
        changed[i].1.push('x');
        let tampered = encode(&changed, &hash);
        assert!(verify_hmac(&tampered, &keys, NOW, 86_400).is_err());
        assert!(verify_signature(&tampered, &public).is_err());
    }
});
