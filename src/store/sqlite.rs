//! SQLite (`rusqlite`, bundled) as the D1 store's [`Database`] in native
//! tests: D1 is SQLite, so the migrations and every statement of the store
//! run here exactly as written. A batch runs in one transaction, as D1's does.

use std::cell::Cell;

use rusqlite::types::ValueRef;
use rusqlite::Connection;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value as Json};

use super::sql::{Database, Outcome, Statement, Value};
use super::StoreError;

pub struct Sqlite {
    conn: Connection,
    /// When set, every batch fails (a storage outage).
    pub broken: Cell<bool>,
    /// Batches run: each is one D1 round trip.
    pub round_trips: Cell<usize>,
}

/// What one statement did, its rows as JSON objects (column → value).
pub struct Done {
    changes: usize,
    rows: Vec<Map<String, Json>>,
}

impl Outcome for Done {
    fn changes(&self) -> usize {
        self.changes
    }

    fn rows<T: DeserializeOwned>(&self) -> Result<Vec<T>, StoreError> {
        self.rows
            .iter()
            .map(|r| serde_json::from_value(Json::Object(r.clone())))
            .collect::<Result<_, _>>()
            .map_err(|e| StoreError(format!("unexpected row: {e}")))
    }
}

fn failed(e: rusqlite::Error) -> StoreError {
    StoreError(e.to_string())
}

impl Default for Sqlite {
    fn default() -> Self {
        Self::new()
    }
}

impl Sqlite {
    /// An empty database with every migration in `migrations/` applied, in order.
    pub fn new() -> Sqlite {
        let conn = Connection::open_in_memory().expect("SQLite opens in memory");
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations");
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .expect("the migrations folder")
            .map(|e| e.expect("a migration").path())
            .filter(|p| p.extension().is_some_and(|x| x == "sql"))
            .collect();
        files.sort();
        for file in files {
            let sql = std::fs::read_to_string(&file).expect("a readable migration");
            conn.execute_batch(&sql)
                .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        }
        Sqlite {
            conn,
            broken: Cell::new(false),
            round_trips: Cell::new(0),
        }
    }

    /// Rows of any query, for tests that look at what was stored.
    pub fn query(&self, sql: &str) -> Vec<Map<String, Json>> {
        run(&self.conn, sql, &[]).expect("the test's query").rows
    }

    /// The number of rows in `table`.
    pub fn count(&self, table: &str) -> i64 {
        self.query(&format!("SELECT COUNT(*) AS n FROM {table}"))[0]["n"]
            .as_i64()
            .expect("a count")
    }
}

fn run(conn: &Connection, sql: &str, params: &[Value]) -> Result<Done, rusqlite::Error> {
    let mut stmt = conn.prepare(sql)?;
    for (i, v) in params.iter().enumerate() {
        match v {
            Value::Null => stmt.raw_bind_parameter(i + 1, rusqlite::types::Null)?,
            Value::Integer(n) => stmt.raw_bind_parameter(i + 1, n)?,
            Value::Text(s) => stmt.raw_bind_parameter(i + 1, s)?,
        }
    }
    let names: Vec<String> = stmt.column_names().map(String::from).collect();
    let readonly = stmt.readonly();
    let mut rows = Vec::new();
    let mut cursor = stmt.raw_query();
    while let Some(row) = cursor.next()? {
        let mut object = Map::new();
        for (i, name) in names.iter().enumerate() {
            let value = match row.get_ref(i)? {
                ValueRef::Null => Json::Null,
                ValueRef::Integer(n) => n.into(),
                ValueRef::Real(f) => f.into(),
                ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned().into(),
                ValueRef::Blob(_) => return Err(rusqlite::Error::InvalidQuery),
            };
            object.insert(name.clone(), value);
        }
        rows.push(object);
    }
    // `changes()` keeps the last write's count, so a read reports none.
    let changes = if readonly { 0 } else { conn.changes() as usize };
    Ok(Done { changes, rows })
}

impl Database for Sqlite {
    type Outcome = Done;

    async fn batch(&self, statements: Vec<Statement>) -> Result<Vec<Done>, StoreError> {
        self.round_trips.set(self.round_trips.get() + 1);
        if self.broken.get() {
            return Err(StoreError("the store is down".into()));
        }
        let tx = self.conn.unchecked_transaction().map_err(failed)?;
        let results = statements
            .iter()
            .map(|s| run(&tx, &s.sql, &s.params))
            .collect::<Result<Vec<_>, _>>()
            .map_err(failed)?;
        tx.commit().map_err(failed)?;
        Ok(results)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql;
    use pollster::block_on;

    #[test]
    fn a_batch_is_all_or_nothing() {
        let db = Sqlite::new();
        let ok = sql!(
            "INSERT INTO processed_updates (update_id, processed_at) VALUES (?1, ?2)",
            1i64,
            5u64
        );
        let clash = ok.clone();
        assert!(block_on(db.batch(vec![ok.clone(), clash])).is_err());
        assert_eq!(
            db.count("processed_updates"),
            0,
            "the first insert was rolled back"
        );
        let done = block_on(db.batch(vec![ok])).unwrap();
        assert_eq!(done[0].changes(), 1);
        assert_eq!(db.round_trips.get(), 2);
    }

    #[test]
    fn reads_report_rows_and_no_changes() {
        let db = Sqlite::new();
        let write = sql!(
            "INSERT INTO processed_updates (update_id, processed_at) VALUES (?1, ?2)",
            7i64,
            9u64
        );
        let read = sql!(
            "SELECT update_id, processed_at FROM processed_updates WHERE update_id = ?1",
            7i64
        );
        let done = block_on(db.batch(vec![write, read])).unwrap();
        assert_eq!(done[1].changes(), 0);
        #[derive(serde::Deserialize, Debug, PartialEq)]
        struct Row {
            update_id: i64,
            processed_at: u64,
        }
        assert_eq!(
            done[1].rows::<Row>().unwrap(),
            [Row {
                update_id: 7,
                processed_at: 9
            }]
        );
    }
}
