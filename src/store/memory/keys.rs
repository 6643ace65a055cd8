//! The in-memory backend's shared key layers.

use async_trait::async_trait;

use super::MemoryBackend;
use crate::keys::{KeyLayer, SharedKeys};
use crate::store::Result;
use crate::store::backend::{KeyReads, KeyWrites};

#[async_trait]
impl KeyReads for MemoryBackend {
    async fn shared_keys(&self, layer: &SharedKeys) -> Result<KeyLayer> {
        Ok(self
            .tables()
            .key_layers
            .get(&layer.storage_key())
            .cloned()
            .unwrap_or_default())
    }

    async fn all_shared_keys(&self) -> Result<Vec<(String, KeyLayer)>> {
        let tables = self.tables();
        Ok(tables
            .key_layers
            .iter()
            .map(|(key, layer)| (key.clone(), layer.clone()))
            .collect())
    }
}

#[async_trait]
impl KeyWrites for MemoryBackend {
    async fn put_shared_keys(&self, layer: &SharedKeys, keys: &KeyLayer) -> Result<()> {
        let key = layer.storage_key();
        let mut tables = self.tables();
        if keys.is_empty() {
            tables.key_layers.remove(&key);
        } else {
            tables.key_layers.insert(key, keys.clone());
        }
        drop(tables);
        self.changed_rendered_inputs();
        Ok(())
    }
}
