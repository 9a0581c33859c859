//! What the runtime provides to the core: settings, a clock, randomness,
//! outbound HTTP, Ed25519 verification, static assets, storage, rate limits
//! and a log. The edge implements it for Workers; tests implement it in memory.

use std::rc::Rc;

use crate::config::{ConfigError, Settings, StorageKind};
use crate::error::ApiError;
use crate::http::limits::Limit;
use crate::store::Store;
use crate::telegram::client::Transport;
use crate::telegram::ed25519::Ed25519Verifier;

#[allow(async_fn_in_trait)]
pub trait Platform: Transport + Ed25519Verifier {
    type Store: Store;

    /// A var or a secret, whichever is set.
    fn setting(&self, name: &str) -> Option<String>;
    /// Every setting, parsed. The edge parses them once per isolate (vars and
    /// secrets are fixed for its life); here they are parsed on each call.
    fn settings(&self) -> Result<Rc<Settings>, ConfigError> {
        Settings::parse(|name| self.setting(name)).map(Rc::new)
    }
    /// Unix time in seconds.
    fn now(&self) -> u64;
    /// 16 bytes from a CSPRNG.
    fn random(&self) -> [u8; 16];
    /// The storage backend the settings chose.
    fn store(&self, kind: StorageKind) -> Result<&Self::Store, ApiError>;
    /// A file from `static/`, when it exists.
    async fn asset(&self, path: &str) -> Option<Vec<u8>>;
    /// One log line. Callers never pass secrets.
    fn log(&self, line: &str);
    /// Resolves after `ms` milliseconds, for deadlines ([`super::within`]).
    /// Without a timer it never resolves, so deadlines never fire.
    async fn sleep(&self, ms: u64) {
        let _ = ms;
        std::future::pending::<()>().await
    }
    /// Counts one request against `limit` under `key`: `false` once the key
    /// is over the limit for the binding's period. `Err` (503
    /// `not_configured`) when the binding is missing. A platform without
    /// limits (the fuzzer's) allows everything.
    async fn allow(&self, limit: Limit, key: &str) -> Result<bool, ApiError> {
        let _ = (limit, key);
        Ok(true)
    }
}
