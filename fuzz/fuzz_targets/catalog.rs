//! Catalog parsing: any text is accepted or refused without a panic, and an accepted
//! catalog survives a round trip through JSON unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tma_pay::shop::Catalog;
use tma_pay::telegram::TelegramEnv;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for env in [TelegramEnv::Production, TelegramEnv::Test] {
        if let Ok(catalog) = Catalog::parse(text, env) {
            let again = serde_json::to_string(&catalog.products).unwrap();
            assert_eq!(Catalog::parse(&again, env).as_ref(), Ok(&catalog));
            for p in &catalog.products {
                assert_eq!(catalog.get(&p.id), Some(p));
            }
        }
    }
});
