//! D1 and KV, spoken to in JSON strings. Each call crosses into JS once with its
//! statements (or key and options) as one string and comes back with one string,
//! which `serde_json` reads into our row types. Reading results through
//! `JsValue`s field by field instead (as `worker::d1` does with
//! `serde_wasm_bindgen`) costs a crossing per field and some 30 KB of wasm.
//!
//! Numbers travel as JSON numbers, so Telegram ids reach D1 as doubles, never as
//! BigInt (which D1 rejects).

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsValue;

use super::task;

#[wasm_bindgen(inline_js = r#"
const message = (e) => String((e && e.message) || e);
// [[sql, args], ...] → [[changes, rows], ...]. One statement runs alone, more
// run as one batch (one round trip, one transaction).
export async function d1(db, json) {
  try {
    const list = JSON.parse(json).map(([sql, args]) => db.prepare(sql).bind(...args));
    const results = list.length === 1 ? [await list[0].all()] : await db.batch(list);
    return JSON.stringify(results.map((r) => [(r.meta && r.meta.changes) || 0, r.results || []]));
  } catch (e) {
    throw message(e);
  }
}
export async function kvGet(ns, key) {
  try { return await ns.get(key, "text"); } catch (e) { throw message(e); }
}
export async function kvPut(ns, key, value, options) {
  try { await ns.put(key, value, JSON.parse(options)); } catch (e) { throw message(e); }
}
export async function kvList(ns, options) {
  try { return JSON.stringify(await ns.list(JSON.parse(options))); } catch (e) { throw message(e); }
}
"#)]
extern "C" {
    fn d1(db: &JsValue, json: &str) -> js_sys::Promise;
    #[wasm_bindgen(js_name = kvGet)]
    fn kv_get(ns: &JsValue, key: &str) -> js_sys::Promise;
    #[wasm_bindgen(js_name = kvPut)]
    fn kv_put(ns: &JsValue, key: &str, value: &str, options: &str) -> js_sys::Promise;
    #[wasm_bindgen(js_name = kvList)]
    fn kv_list(ns: &JsValue, options: &str) -> js_sys::Promise;
}

/// What a call into the runtime failed with, as text for the log.
pub type JsError = String;

async fn settle(promise: js_sys::Promise) -> Result<JsValue, JsError> {
    task::wait(promise)
        .await
        .map_err(|e| e.as_string().unwrap_or_else(|| "unknown error".into()))
}

fn malformed(e: serde_json::Error) -> JsError {
    format!("unexpected result: {e}")
}

/// One SQL statement with its parameters (`?1`, `?2`, … in order).
pub struct Statement(String, Vec<Value>);

pub fn stmt(sql: impl Into<String>, args: Vec<Value>) -> Statement {
    Statement(sql.into(), args)
}

/// What one statement did: the rows changed and the rows returned (unread).
#[derive(Deserialize)]
pub struct Outcome(pub usize, Box<RawValue>);

impl Outcome {
    pub fn rows<T: DeserializeOwned>(&self) -> Result<Vec<T>, JsError> {
        serde_json::from_str(self.1.get()).map_err(malformed)
    }
}

/// The `DB` binding.
pub struct D1(pub JsValue);

impl D1 {
    /// Runs the statements in one round trip: one alone, or several as a batch
    /// (a transaction). One [`Outcome`] per statement, in order.
    pub async fn run(&self, statements: Vec<Statement>) -> Result<Vec<Outcome>, JsError> {
        let json: Vec<(String, Vec<Value>)> = statements.into_iter().map(|s| (s.0, s.1)).collect();
        let json = serde_json::to_string(&json).map_err(malformed)?;
        let out = settle(d1(&self.0, &json)).await?;
        serde_json::from_str(&out.as_string().unwrap_or_default()).map_err(malformed)
    }

    /// One statement's outcome.
    pub async fn one(&self, statement: Statement) -> Result<Outcome, JsError> {
        let mut out = self.run(vec![statement]).await?;
        out.pop().ok_or_else(|| "no result".into())
    }
}

/// A key from a listing, its metadata unread.
#[derive(Deserialize)]
pub struct Key {
    pub name: String,
    #[serde(default)]
    pub metadata: Option<Box<RawValue>>,
}

impl Key {
    /// The metadata as `T`, or `None` when there is none or it is not a `T`.
    pub fn metadata<T: DeserializeOwned>(&self) -> Option<T> {
        serde_json::from_str(self.metadata.as_ref()?.get()).ok()
    }
}

/// One page of a listing.
#[derive(Deserialize)]
pub struct Page {
    pub keys: Vec<Key>,
    pub list_complete: bool,
    #[serde(default)]
    pub cursor: Option<String>,
}

/// The `KV` binding.
pub struct Kv(pub JsValue);

impl Kv {
    pub async fn get(&self, key: &str) -> Result<Option<String>, JsError> {
        Ok(settle(kv_get(&self.0, key)).await?.as_string())
    }

    /// Writes `value`, with `metadata` (a JSON text) and an expiry in seconds
    /// when given.
    pub async fn put(
        &self,
        key: &str,
        value: &str,
        metadata: Option<&str>,
        ttl: Option<u64>,
    ) -> Result<(), JsError> {
        let mut options = String::from("{");
        if let Some(m) = metadata {
            options.push_str("\"metadata\":");
            options.push_str(m);
        }
        if let Some(t) = ttl {
            if metadata.is_some() {
                options.push(',');
            }
            options.push_str(&format!("\"expirationTtl\":{t}"));
        }
        options.push('}');
        settle(kv_put(&self.0, key, value, &options)).await?;
        Ok(())
    }

    pub async fn list(
        &self,
        prefix: &str,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page, JsError> {
        let mut options = serde_json::Map::new();
        options.insert("prefix".into(), prefix.into());
        options.insert("limit".into(), limit.into());
        if let Some(c) = cursor {
            options.insert("cursor".into(), c.into());
        }
        let out = settle(kv_list(&self.0, &Value::Object(options).to_string())).await?;
        serde_json::from_str(&out.as_string().unwrap_or_default()).map_err(malformed)
    }
}
