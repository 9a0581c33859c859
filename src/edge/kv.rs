//! The `KV` binding as the KV store's [`Namespace`], through `worker::KvStore`.

use worker::KvStore;

use crate::store::kv::{ListedKey, Namespace, Page};
use crate::store::StoreError;

pub struct WorkerKv(pub KvStore);

fn failed(e: impl std::fmt::Display) -> StoreError {
    StoreError(e.to_string())
}

impl Namespace for WorkerKv {
    async fn get(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.0.get(key).text().await.map_err(failed)
    }

    async fn put(
        &self,
        key: &str,
        value: &str,
        metadata: Option<serde_json::Value>,
        ttl: Option<u64>,
    ) -> Result<(), StoreError> {
        let mut put = self.0.put(key, value).map_err(failed)?;
        if let Some(m) = metadata {
            put = put.metadata(m).map_err(failed)?;
        }
        if let Some(t) = ttl {
            put = put.expiration_ttl(t);
        }
        put.execute().await.map_err(failed)
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.0.delete(key).await.map_err(failed)
    }

    async fn list(
        &self,
        prefix: &str,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page, StoreError> {
        let mut list = self.0.list().prefix(prefix.to_owned()).limit(limit as u64);
        if let Some(c) = cursor {
            list = list.cursor(c.to_owned());
        }
        let page = list.execute().await.map_err(failed)?;
        Ok(Page {
            keys: page
                .keys
                .into_iter()
                .map(|k| ListedKey {
                    name: k.name,
                    metadata: k.metadata,
                })
                .collect(),
            cursor: page.cursor.filter(|_| !page.list_complete),
        })
    }
}
