//! What the D1 store needs of a database: statements with bound values, run
//! in one round trip (several as one transaction), each answering how many
//! rows it changed and the rows it returned. The edge implements it with
//! Cloudflare D1; native tests with SQLite (`rusqlite`), so every statement of
//! the D1 store runs in `cargo test`.

use serde::de::DeserializeOwned;

use super::StoreError;

/// A value bound to a `?N` parameter. Integers are Telegram ids, amounts and
/// Unix times, all within 2^53: D1 receives them as JavaScript numbers, never
/// as a BigInt (which it refuses).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Null,
    Integer(i64),
    Text(String),
}

impl From<i64> for Value {
    fn from(n: i64) -> Value {
        Value::Integer(n)
    }
}

impl From<u64> for Value {
    fn from(n: u64) -> Value {
        // Unix times and counts: far below i64::MAX.
        Value::Integer(n as i64)
    }
}

impl From<usize> for Value {
    fn from(n: usize) -> Value {
        Value::Integer(n as i64)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Integer(b.into())
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Text(s.to_owned())
    }
}

impl From<&String> for Value {
    fn from(s: &String) -> Value {
        Value::Text(s.clone())
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::Null, Into::into)
    }
}

/// One SQL statement with its parameters (`?1`, `?2`, … in order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub sql: String,
    pub params: Vec<Value>,
}

/// `Statement { sql, params }`, each parameter converted.
#[macro_export]
macro_rules! sql {
    ($sql:expr $(, $param:expr)* $(,)?) => {
        $crate::store::sql::Statement {
            sql: ::std::string::String::from($sql),
            params: vec![$($crate::store::sql::Value::from($param)),*],
        }
    };
}

/// What a statement did.
pub trait Outcome {
    /// Rows inserted, updated or deleted.
    fn changes(&self) -> usize;
    /// The rows it returned, each read into `T` by column name.
    fn rows<T: DeserializeOwned>(&self) -> Result<Vec<T>, StoreError>;
}

/// A SQL database (SQLite's dialect).
#[allow(async_fn_in_trait)]
pub trait Database {
    type Outcome: Outcome;

    /// Runs `statements` in one round trip, in order, as one transaction: all
    /// of them or none. One outcome per statement.
    async fn batch(&self, statements: Vec<Statement>) -> Result<Vec<Self::Outcome>, StoreError>;
}
