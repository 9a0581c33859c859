//! What the fuzz targets share: a fixed bot, Telegram's signing done independently
//! of the code under test, and a platform that runs the HTTP core in memory.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use tma_pay::config::StorageKind;
use tma_pay::error::ApiError;
use tma_pay::http::Platform;
use tma_pay::store::kv::KvStore;
use tma_pay::store::memory::MemoryKv;
use tma_pay::telegram::client::{Transport, TransportError};
use tma_pay::telegram::ed25519::{Dalek, Ed25519Verifier};

pub const TOKEN: &str = "4242:FUZZ_token";
pub const BOT_ID: u64 = 4242;
pub const WEBHOOK_SECRET: &str = "fuzz_secret";
pub const NOW: u64 = 1_750_000_000;
pub const SIGNING_SEED: [u8; 32] = [7; 32];

/// Splits fuzz input into pieces at 0xFF bytes (never valid UTF-8, so a natural separator).
pub fn pieces(data: &[u8]) -> Vec<String> {
    data.split(|b| *b == 0xFF)
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect()
}

fn hmac(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut m = Hmac::<Sha256>::new_from_slice(key).unwrap();
    m.update(msg);
    m.finalize().into_bytes().into()
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `k=v` lines of `fields` sorted by key, joined with `\n` (Telegram's data-check-string).
pub fn check_string(fields: &[(String, String)]) -> String {
    let mut sorted: Vec<_> = fields.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    sorted
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The launch-data HMAC as Telegram computes it.
pub fn init_data_hash(fields: &[(String, String)]) -> String {
    let secret = hmac(b"WebAppData", TOKEN.as_bytes());
    hex(&hmac(&secret, check_string(fields).as_bytes()))
}

/// The Login Widget HMAC as Telegram computes it (key: SHA-256 of the token).
pub fn login_widget_hash(fields: &[(String, String)]) -> String {
    hex(&hmac(
        &Sha256::digest(TOKEN.as_bytes()),
        check_string(fields).as_bytes(),
    ))
}

/// Unpadded base64url (RFC 4648 §5), as Telegram writes `signature`.
pub fn base64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Percent-encodes everything but unreserved characters (as browsers' URLSearchParams would, roughly).
pub fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Runs a future that never waits on anything outside memory.
pub fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..1000 {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
    panic!("the future never finished: something waited on a timer or the network");
}

/// The HTTP core's platform, in memory: the bot's settings, a fixed clock, a memory
/// store, and a Bot API that accepts everything.
#[derive(Default)]
pub struct FuzzPlatform {
    pub store: KvStore<MemoryKv>,
    counter: std::cell::Cell<u8>,
}

impl Transport for FuzzPlatform {
    async fn get(&self, _: &str, _: &[(&str, &str)]) -> Result<(u16, Vec<u8>), TransportError> {
        Err(TransportError::Network)
    }
    async fn post_json(&self, _: &str, _: Vec<u8>) -> Result<(u16, Vec<u8>), TransportError> {
        Ok((
            200,
            br#"{"ok":true,"result":"https://t.me/$fuzz"}"#.to_vec(),
        ))
    }
}

impl Ed25519Verifier for FuzzPlatform {
    async fn verify_ed25519(&self, key: &[u8; 32], message: &[u8], sig: &[u8; 64]) -> bool {
        Dalek.verify_ed25519(key, message, sig).await
    }
}

impl Platform for FuzzPlatform {
    type Store = KvStore<MemoryKv>;
    fn setting(&self, name: &str) -> Option<String> {
        match name {
            "BOT_TOKEN" => Some(TOKEN.into()),
            "WEBHOOK_SECRET" => Some(WEBHOOK_SECRET.into()),
            _ => None,
        }
    }
    fn now(&self) -> u64 {
        NOW
    }
    fn random(&self) -> [u8; 16] {
        self.counter.set(self.counter.get().wrapping_add(1));
        [self.counter.get(); 16]
    }
    fn store(&self, _: StorageKind) -> Result<&KvStore<MemoryKv>, ApiError> {
        Ok(&self.store)
    }
    async fn asset(&self, _: &str) -> Option<Vec<u8>> {
        None
    }
    fn log(&self, _: &str) {}
}
