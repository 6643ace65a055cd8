//! The sled backend's shared key layers: the `key_layers` tree, keyed by
//! [`SharedKeys::storage_key`], opened when first used.

use async_trait::async_trait;

use super::SledBackend;
use crate::keys::{KeyLayer, SharedKeys};
use crate::store::Result;
use crate::store::backend::{KeyReads, KeyWrites};

const TREE: &str = "key_layers";

#[async_trait]
impl KeyReads for SledBackend {
    async fn shared_keys(&self, layer: &SharedKeys) -> Result<KeyLayer> {
        let tree = self.db.open_tree(TREE)?;
        Ok(self
            .get(&tree, layer.storage_key().as_bytes())?
            .unwrap_or_default())
    }

    async fn all_shared_keys(&self) -> Result<Vec<(String, KeyLayer)>> {
        self.keyed(&self.db.open_tree(TREE)?)
    }
}

#[async_trait]
impl KeyWrites for SledBackend {
    async fn put_shared_keys(&self, layer: &SharedKeys, keys: &KeyLayer) -> Result<()> {
        let tree = self.db.open_tree(TREE)?;
        let key = layer.storage_key();
        if keys.is_empty() {
            tree.remove(key.as_bytes())?;
        } else {
            self.put(&tree, key.as_bytes(), keys)?;
        }
        self.changed_rendered_inputs();
        Ok(())
    }
}
