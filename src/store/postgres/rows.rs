//! The statements on one row of `records` that every table of the backend is built from; each
//! counted in the round trips.

use std::sync::atomic::Ordering;

use deadpool_postgres::GenericClient;
use serde::de::DeserializeOwned;
use tokio_postgres::types::ToSql;

use super::{Indexed, Shared, Tree, decode};
use crate::store::Result;

pub(super) async fn get_raw(
    client: &impl GenericClient,
    tree: Tree,
    key: &[u8],
    shared: &Shared,
) -> Result<Option<Vec<u8>>> {
    let query = "SELECT value FROM records WHERE tree = $1 AND key = $2";
    read_value(client, query, tree, key, shared).await
}

async fn read_value(
    client: &impl GenericClient,
    query: &str,
    tree: Tree,
    key: &[u8],
    shared: &Shared,
) -> Result<Option<Vec<u8>>> {
    let row = client.query_opt(query, &[&tree.name(), &key]).await?;
    shared.round_trips.fetch_add(1, Ordering::Relaxed);
    Ok(row.map(|row| row.get(0)))
}

pub(super) async fn get<T: DeserializeOwned>(
    client: &impl GenericClient,
    tree: Tree,
    key: &[u8],
    shared: &Shared,
) -> Result<Option<T>> {
    get_raw(client, tree, key, shared)
        .await?
        .map(|bytes| decode(key, &bytes))
        .transpose()
}

/// As [`get_raw`], locking the row until the transaction ends.
pub(super) async fn get_raw_for_update(
    client: &impl GenericClient,
    tree: Tree,
    key: &[u8],
    shared: &Shared,
) -> Result<Option<Vec<u8>>> {
    let query = "SELECT value FROM records WHERE tree = $1 AND key = $2 FOR UPDATE";
    read_value(client, query, tree, key, shared).await
}

pub(super) async fn put_raw(
    client: &impl GenericClient,
    tree: Tree,
    key: &[u8],
    value: &[u8],
    indexed: &Indexed,
    shared: &Shared,
) -> Result<()> {
    let params: [&(dyn ToSql + Sync); 5] =
        [&tree.name(), &key, &value, &indexed.sort, &indexed.tag];
    client
        .execute(
            "INSERT INTO records (tree, key, value, sort, tag) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (tree, key) DO UPDATE SET value = $3, sort = $4, tag = $5",
            &params,
        )
        .await?;
    shared.round_trips.fetch_add(1, Ordering::Relaxed);
    Ok(())
}

pub(super) async fn insert_raw(
    client: &impl GenericClient,
    tree: Tree,
    key: &[u8],
    value: &[u8],
    indexed: &Indexed,
    shared: &Shared,
) -> Result<bool> {
    let params: [&(dyn ToSql + Sync); 5] =
        [&tree.name(), &key, &value, &indexed.sort, &indexed.tag];
    let inserted = client
        .execute(
            "INSERT INTO records (tree, key, value, sort, tag) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT DO NOTHING",
            &params,
        )
        .await?;
    shared.round_trips.fetch_add(1, Ordering::Relaxed);
    Ok(inserted == 1)
}

pub(super) async fn remove_raw(
    client: &impl GenericClient,
    tree: Tree,
    key: &[u8],
    shared: &Shared,
) -> Result<bool> {
    let removed = client
        .execute(
            "DELETE FROM records WHERE tree = $1 AND key = $2",
            &[&tree.name(), &key],
        )
        .await?;
    shared.round_trips.fetch_add(1, Ordering::Relaxed);
    Ok(removed == 1)
}
