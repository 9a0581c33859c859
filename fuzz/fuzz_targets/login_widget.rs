//! The Login Widget check: any JSON object is refused or accepted without a panic, and
//! scalar fields signed as Telegram signs them are never refused for their hash.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use tma_pay::telegram::init_data::InitDataError;
use tma_pay::telegram::login_widget::verify;
use tma_pay::telegram::{BotKeys, BotToken};
use tma_pay_fuzz::{login_widget_hash, NOW, TOKEN};

fuzz_target!(|data: &[u8]| {
    let keys = BotKeys::derive(&BotToken::parse(TOKEN).unwrap());
    let Ok(Value::Object(mut map)) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let _ = verify(&map, &keys, NOW, 86_400);

    map.remove("hash");
    let mut fields = Vec::new();
    for (k, v) in &map {
        let s = match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Null => continue,
            _ => return,
        };
        fields.push((k.clone(), s));
    }
    map.insert("hash".into(), login_widget_hash(&fields).into());
    match verify(&map, &keys, NOW, 86_400) {
        // The id may be signed as a number or as a string of digits.
        Ok(user) => assert_eq!(
            Some(user.id),
            match map.get("id") {
                Some(Value::String(s)) => s.parse().ok(),
                id => id.and_then(Value::as_i64),
            }
        ),
        Err(e) => assert!(
            !matches!(e, InitDataError::HashMismatch | InitDataError::MissingHash),
            "a genuine hash was refused: {e:?}"
        ),
    }
});
