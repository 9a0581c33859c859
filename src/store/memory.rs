//! A KV namespace in memory: with [`super::kv::KvStore`] it is the store that
//! native tests and the fuzz targets use without a runtime. Expiry is not
//! modelled (nothing here lives long enough to expire).

use std::cell::RefCell;
use std::collections::BTreeMap;

use super::kv::{ListedKey, Namespace, Page};
use super::StoreError;

#[derive(Debug, Default)]
pub struct MemoryKv {
    entries: RefCell<BTreeMap<String, (String, Option<serde_json::Value>)>>,
}

impl MemoryKv {
    /// The keys under `prefix`, for tests.
    pub fn keys(&self, prefix: &str) -> Vec<String> {
        self.entries
            .borrow()
            .keys()
            .filter(|k| k.starts_with(prefix))
            .cloned()
            .collect()
    }
}

impl Namespace for MemoryKv {
    async fn get(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self.entries.borrow().get(key).map(|(v, _)| v.clone()))
    }

    async fn put(
        &self,
        key: &str,
        value: &str,
        metadata: Option<serde_json::Value>,
        _ttl: Option<u64>,
    ) -> Result<(), StoreError> {
        self.entries
            .borrow_mut()
            .insert(key.to_owned(), (value.to_owned(), metadata));
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.entries.borrow_mut().remove(key);
        Ok(())
    }

    async fn list(
        &self,
        prefix: &str,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page, StoreError> {
        let entries = self.entries.borrow();
        // The cursor is the last key of the previous page.
        let after = cursor.unwrap_or("");
        let mut matching = entries
            .iter()
            .filter(|(k, _)| k.starts_with(prefix) && k.as_str() > after);
        let keys: Vec<ListedKey> = matching
            .by_ref()
            .take(limit)
            .map(|(k, (_, metadata))| ListedKey {
                name: k.clone(),
                metadata: metadata.clone(),
            })
            .collect();
        let more = matching.next().is_some();
        Ok(Page {
            cursor: more.then(|| keys.last().map(|k| k.name.clone())).flatten(),
            keys,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pollster::block_on;

    #[test]
    fn lists_by_prefix_in_pages() {
        let kv = MemoryKv::default();
        for k in ["a:1", "a:2", "a:3", "b:1"] {
            block_on(kv.put(k, "v", Some(serde_json::json!(k)), None)).unwrap();
        }
        let first = block_on(kv.list("a:", 2, None)).unwrap();
        let names: Vec<_> = first.keys.iter().map(|k| k.name.as_str()).collect();
        assert_eq!(names, ["a:1", "a:2"]);
        let rest = block_on(kv.list("a:", 2, first.cursor.as_deref())).unwrap();
        assert_eq!(rest.keys.len(), 1);
        assert_eq!(rest.keys[0].metadata, Some(serde_json::json!("a:3")));
        assert_eq!(rest.cursor, None);
    }
}
