//! Reading JSON from bytes: one way for the whole crate (`clippy.toml`
//! disallows `serde_json::from_slice`), which names bytes that are not UTF-8
//! and reads through `serde_json::from_str`, so each type's deserializer is
//! built once in the wasm.

use serde::de::{DeserializeOwned, Error};

/// `bytes` checked as UTF-8, then read as JSON.
pub fn from_bytes<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, serde_json::Error> {
    let text =
        std::str::from_utf8(bytes).map_err(|_| serde_json::Error::custom("it is not UTF-8"))?;
    serde_json::from_str(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn reads_json_and_names_bytes_that_are_not_text() {
        assert_eq!(from_bytes::<Value>(br#"{"a":1}"#).unwrap()["a"], 1);
        let e = from_bytes::<Value>(b"\"\xff\"").unwrap_err();
        assert_eq!(e.to_string(), "it is not UTF-8");
        assert!(from_bytes::<Value>(b"{").unwrap_err().is_eof());
    }
}
