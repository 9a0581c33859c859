//! How handlers meet a slow or failing dependency: a deadline on any future,
//! and the error a failed Bot API call becomes.

use std::future::Future;
use std::task::Poll;

use super::Platform;
use crate::error::ApiError;
use crate::telegram::client::BotError;

/// `fut`'s output, or `None` when it takes longer than `ms` (the future is then
/// dropped). `fut` is polled first, so a ready answer always wins.
pub async fn within<P: Platform, F: Future>(platform: &P, ms: u64, fut: F) -> Option<F::Output> {
    let mut fut = std::pin::pin!(fut);
    let mut timer = std::pin::pin!(platform.sleep(ms));
    std::future::poll_fn(|cx| {
        if let Poll::Ready(v) = fut.as_mut().poll(cx) {
            return Poll::Ready(Some(v));
        }
        timer.as_mut().poll(cx).map(|()| None)
    })
    .await
}

/// A failed Bot API call: 503 with `Retry-After` when Telegram asks us to slow
/// down (429), else 502. `message` is for the client; the cause goes to the log.
pub fn telegram_failure(message: impl Into<String>, e: &BotError) -> ApiError {
    let message = message.into();
    let err = match e {
        BotError::Api {
            error_code: 429,
            retry_after,
            ..
        } => {
            let secs = retry_after.unwrap_or(1);
            ApiError::new(
                503,
                "telegram_rate_limited",
                format!("{message}: Telegram asks to wait {secs} s"),
            )
            .with_header("retry-after", secs.to_string())
        }
        _ => ApiError::new(502, "telegram_error", message),
    };
    err.with_detail(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telegram::client::TransportError;
    use pollster::block_on;

    /// Only the timer matters here; the rest of the platform is never called.
    struct Timer {
        fires: bool,
    }

    impl crate::telegram::client::Transport for Timer {
        async fn post_json(&self, _: &str, _: Vec<u8>) -> Result<(u16, Vec<u8>), TransportError> {
            unreachable!()
        }
        async fn get(&self, _: &str, _: &[(&str, &str)]) -> Result<(u16, Vec<u8>), TransportError> {
            unreachable!()
        }
    }

    impl crate::telegram::ed25519::Ed25519Verifier for Timer {
        async fn verify_ed25519(&self, _: &[u8; 32], _: &[u8], _: &[u8; 64]) -> bool {
            unreachable!()
        }
    }

    impl Platform for Timer {
        type Store = crate::store::kv::KvStore<crate::store::memory::MemoryKv>;
        fn setting(&self, _: &str) -> Option<String> {
            None
        }
        fn now(&self) -> u64 {
            0
        }
        fn random(&self) -> [u8; 16] {
            [0; 16]
        }
        fn store(&self, _: crate::config::StorageKind) -> Result<&Self::Store, ApiError> {
            unreachable!()
        }
        async fn asset(&self, _: &str) -> Option<Vec<u8>> {
            None
        }
        fn log(&self, _: &str) {}
        async fn sleep(&self, _: u64) {
            if !self.fires {
                std::future::pending::<()>().await
            }
        }
    }

    #[test]
    fn a_ready_answer_wins_and_a_stuck_one_times_out() {
        let fired = Timer { fires: true };
        assert_eq!(block_on(within(&fired, 1, async { 7 })), Some(7));
        assert_eq!(
            block_on(within(&fired, 1, std::future::pending::<u8>())),
            None
        );
        let never = Timer { fires: false };
        assert_eq!(block_on(within(&never, 1, async { 7 })), Some(7));
    }

    #[test]
    fn rate_limits_are_503_with_retry_after_and_other_failures_502() {
        let limited = BotError::Api {
            error_code: 429,
            description: "Too Many Requests: retry after 7".into(),
            retry_after: Some(7),
        };
        let e = telegram_failure("createInvoiceLink failed", &limited);
        assert_eq!((e.status, e.code), (503, "telegram_rate_limited"));
        assert_eq!(e.headers, [("retry-after", "7".to_string())]);
        assert!(e.message.contains("7 s"), "{}", e.message);
        for other in [
            BotError::Transport(TransportError::Timeout),
            BotError::Transport(TransportError::Network),
            BotError::BadResponse(500),
            BotError::Api {
                error_code: 400,
                description: "Bad Request".into(),
                retry_after: None,
            },
        ] {
            let e = telegram_failure("x failed", &other);
            assert_eq!((e.status, e.code), (502, "telegram_error"), "{other:?}");
            assert_eq!(e.detail, Some(other.to_string()));
        }
    }
}
