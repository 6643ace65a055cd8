//! A session-level advisory lock held on a pooled connection: the write lock that spans the
//! nodes of a site, and the housekeeping lease. Dropping it unlocks the connection before it
//! goes back to the pool; a connection that cannot be unlocked is closed instead, which ends
//! the lock with the session.

use deadpool_postgres::Object;

pub(super) struct Lease {
    client: Option<Object>,
    key: i64,
}

impl Lease {
    pub(super) fn new(client: Object, key: i64) -> Lease {
        Lease {
            client: Some(client),
            key,
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let Some(client) = self.client.take() else {
            return;
        };
        let key = self.key;
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    if client
                        .execute("SELECT pg_advisory_unlock($1)", &[&key])
                        .await
                        .is_err()
                    {
                        drop(Object::take(client));
                    }
                });
            }
            Err(_) => drop(Object::take(client)),
        }
    }
}

/// How often a node that does not hold the housekeeping lease asks for it, and how often the
/// holder checks that its connection (and so its lock) is still alive.
const LEASE_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// Holds the housekeeping lease whenever it can: a session-level advisory lock on a connection
/// of its own. One node of the site holds it; when that node dies its session ends, and the
/// next node to ask gets it.
pub(super) async fn hold_housekeeping(
    url: super::DatabaseUrl,
    shared: std::sync::Arc<super::Shared>,
) {
    use std::sync::atomic::Ordering;
    loop {
        let outcome = hold_while_alive(&url, &shared).await;
        if shared.housekeeper.swap(false, Ordering::SeqCst) {
            tracing::warn!(
                "this node gave up the site's housekeeping: its database connection ended"
            );
        }
        if let Err(e) = outcome {
            tracing::debug!(error = %e, "asking for the housekeeping lease failed");
        }
        tokio::time::sleep(LEASE_EVERY).await;
    }
}

async fn hold_while_alive(
    url: &super::DatabaseUrl,
    shared: &super::Shared,
) -> crate::store::Result<()> {
    use std::sync::atomic::Ordering;
    let (client, connection) = url.config().connect(url.tls()?).await?;
    let driver = tokio::spawn(connection);
    let outcome = async {
        loop {
            let held: bool = client
                .query_one(
                    "SELECT pg_try_advisory_lock($1)",
                    &[&super::schema::HOUSEKEEPING_LOCK],
                )
                .await?
                .get(0);
            if held && !shared.housekeeper.swap(true, Ordering::SeqCst) {
                tracing::info!(
                    "this node does the site's housekeeping (hot-desk sweep, pruning, mail)"
                );
            }
            tokio::time::sleep(LEASE_EVERY).await;
            if held {
                client.simple_query("SELECT 1").await?;
            }
        }
    }
    .await;
    driver.abort();
    outcome
}
