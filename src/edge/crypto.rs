//! Ed25519 through the runtime's WebCrypto (`crypto.subtle`), so the wasm
//! carries no curve code of its own.

use js_sys::{Array, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use worker::web_sys::{CryptoKey, SubtleCrypto, WorkerGlobalScope};

/// Whether `signature` is `public_key`'s signature of `message`. A key the
/// runtime will not import, or any other failure, is `false`.
pub async fn verify_ed25519(public_key: &[u8; 32], message: &[u8], signature: &[u8; 64]) -> bool {
    verify(public_key, message, signature)
        .await
        .is_ok_and(|valid| valid.as_bool() == Some(true))
}

async fn verify(
    public_key: &[u8; 32],
    message: &[u8],
    signature: &[u8; 64],
) -> Result<JsValue, JsValue> {
    let subtle = subtle()?;
    let usages = Array::of1(&"verify".into());
    let key = Uint8Array::from(public_key.as_slice());
    let import = subtle.import_key_with_str("raw", &key, "Ed25519", false, &usages)?;
    let key: CryptoKey = JsFuture::from(import).await?.unchecked_into();
    // WebCrypto copies both buffers before it returns the promise.
    let verify =
        subtle.verify_with_str_and_u8_array_and_u8_array("Ed25519", &key, signature, message)?;
    JsFuture::from(verify).await
}

fn subtle() -> Result<SubtleCrypto, JsValue> {
    Ok(js_sys::global()
        .unchecked_into::<WorkerGlobalScope>()
        .crypto()?
        .subtle())
}
