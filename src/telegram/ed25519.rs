//! The Ed25519 check behind a trait, so the curve math comes from the runtime:
//! Workers verify with WebCrypto (`edge/crypto.rs`), which keeps a curve
//! implementation out of the wasm; native builds (tests, benchmarks, fuzzing)
//! use ed25519-dalek through [`Dalek`].

/// Verifies Ed25519 signatures.
#[allow(async_fn_in_trait)]
pub trait Ed25519Verifier {
    /// Whether `signature` is `public_key`'s signature of `message`. Anything
    /// that stops the check (a key that is not a curve point, a runtime error)
    /// is `false`.
    async fn verify_ed25519(
        &self,
        public_key: &[u8; 32],
        message: &[u8],
        signature: &[u8; 64],
    ) -> bool;
}

/// ed25519-dalek's strict check: also refuses small-order keys and
/// non-canonical signatures.
#[cfg(not(target_arch = "wasm32"))]
#[derive(Debug, Clone, Copy, Default)]
pub struct Dalek;

#[cfg(not(target_arch = "wasm32"))]
impl Ed25519Verifier for Dalek {
    async fn verify_ed25519(
        &self,
        public_key: &[u8; 32],
        message: &[u8],
        signature: &[u8; 64],
    ) -> bool {
        use ed25519_dalek::{Signature, VerifyingKey};
        VerifyingKey::from_bytes(public_key).is_ok_and(|key| {
            key.verify_strict(message, &Signature::from_bytes(signature))
                .is_ok()
        })
    }
}
