//! The `DB` binding as the D1 store's [`Database`], through `worker::D1Database`.

use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement, D1Result};

use crate::store::sql::{Database, Outcome, Statement, Value};
use crate::store::StoreError;

pub struct WorkerD1(pub D1Database);

pub struct D1Outcome(D1Result);

fn failed(e: worker::Error) -> StoreError {
    StoreError(e.to_string())
}

impl Outcome for D1Outcome {
    fn changes(&self) -> usize {
        self.0
            .meta()
            .ok()
            .flatten()
            .and_then(|m| m.changes)
            .unwrap_or(0)
    }

    fn rows<T: serde::de::DeserializeOwned>(&self) -> Result<Vec<T>, StoreError> {
        self.0.results().map_err(failed)
    }
}

/// A bound value. D1 takes numbers as JavaScript numbers, never BigInt; every
/// integer we store (ids, amounts, times) is exact as an f64.
fn js(v: &Value) -> JsValue {
    match v {
        Value::Null => JsValue::NULL,
        Value::Integer(n) => JsValue::from_f64(*n as f64),
        Value::Text(s) => JsValue::from_str(s),
    }
}

impl WorkerD1 {
    fn prepare(&self, s: &Statement) -> Result<D1PreparedStatement, StoreError> {
        let params: Vec<JsValue> = s.params.iter().map(js).collect();
        self.0.prepare(&s.sql).bind(&params).map_err(failed)
    }
}

impl Database for WorkerD1 {
    type Outcome = D1Outcome;

    async fn batch(&self, statements: Vec<Statement>) -> Result<Vec<D1Outcome>, StoreError> {
        let mut prepared = statements
            .iter()
            .map(|s| self.prepare(s))
            .collect::<Result<Vec<_>, _>>()?;
        // One statement runs alone: D1's `batch` costs more for the same round trip.
        if prepared.len() == 1 {
            let one = prepared.pop().expect("one statement");
            return Ok(vec![D1Outcome(one.all().await.map_err(failed)?)]);
        }
        let results = self.0.batch(prepared).await.map_err(failed)?;
        Ok(results.into_iter().map(D1Outcome).collect())
    }
}
