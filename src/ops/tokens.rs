//! Admin tokens: created on first start and by admins, stored only as SHA-256, revoked by id
//! or name; and the count of wrong tokens per address that slows a guessing script.

use std::io::Write;
use std::net::IpAddr;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use super::write::{Permit, single_writes};
use super::{Actor, OpError, WriteTx};
use crate::app::App;
use crate::audit::{Event, Kind};
use crate::domain::{Label, Secret};
use crate::model::TokenRecord;
use crate::store::{Store, StoreError};

const TOKEN_LEN: usize = 40;
/// Hex digits of the token's SHA-256 that name it in lists and revocations.
pub const ID_LEN: usize = 12;

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("writing the admin token to {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

pub fn sha256_hex(value: &str) -> String {
    ring::digest::digest(&ring::digest::SHA256, value.as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The token's id: the first hex digits of its hash.
pub fn id_of(record: &TokenRecord) -> &str {
    &record.sha256[..ID_LEN]
}

/// Writes `token` to `path`, readable by its owner only.
fn write_token_file(path: &Path, token: &Secret) -> Result<(), TokenError> {
    let write = |source| TokenError::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(write)?;
    file.write_all(format!("{}\n", token.expose()).as_bytes())
        .map_err(write)?;
    file.sync_all().map_err(write)
}

/// On a data directory that has never had one, creates the admin token and writes it to
/// `token_file` (mode 0600). Returns the file's path when a token was created. Runs at start-up,
/// before anything else can write.
pub async fn ensure_admin_token(
    store: &Store,
    token_file: &Path,
    now: i64,
) -> Result<Option<PathBuf>, TokenError> {
    if store.has_tokens().await? {
        return Ok(None);
    }
    let token = Secret::generate(TOKEN_LEN);
    write_token_file(token_file, &token)?;
    let writer = store.single_writes(Permit::new());
    writer
        .insert_token(&TokenRecord {
            name: "initial".into(),
            sha256: sha256_hex(token.expose()),
            created_at: now,
        })
        .await?;
    writer.flush().await?;
    Ok(Some(token_file.to_path_buf()))
}

/// Creates a token in a store no server has open (`deskprov tokens create --local` while the
/// server is stopped), recorded as made by `local`.
pub async fn create_offline(store: &Store, name: &Label, now: i64) -> Result<Created, OpError> {
    let token = Secret::generate(TOKEN_LEN);
    let record = TokenRecord {
        name: name.as_str().to_string(),
        sha256: sha256_hex(token.expose()),
        created_at: now,
    };
    let writer = store.begin(Permit::new()).await;
    if !writer.insert_token(&record).await? {
        return Err(OpError::conflict(format!(
            "a token named {:?} exists; revoke it or choose another name",
            record.name
        )));
    }
    let event = Event::by(
        Kind::AdminChange,
        "local",
        format!("token created (id {})", id_of(&record)),
    )
    .subject(&record.name);
    writer.append_audit(event.to_record(now)).await?;
    writer.flush().await?;
    event.log();
    Ok(Created { record, token })
}

/// A token created: its record and the token itself, which is shown this once.
pub struct Created {
    pub record: TokenRecord,
    pub token: Secret,
}

pub async fn create(app: &App, by: &Actor, name: &Label) -> Result<Created, OpError> {
    let token = Secret::generate(TOKEN_LEN);
    let record = TokenRecord {
        name: name.as_str().to_string(),
        sha256: sha256_hex(token.expose()),
        created_at: app.clock.now(),
    };
    let mut tx = WriteTx::begin(app, by).await;
    if !tx.insert_token(&record).await? {
        return Err(OpError::conflict(format!(
            "a token named {:?} exists; revoke it or choose another name",
            record.name
        )));
    }
    tx.changed(
        &record.name,
        format!("token created (id {})", id_of(&record)),
    );
    tx.commit().await?;
    Ok(Created { record, token })
}

/// Revokes by id or name. The last token cannot go, nobody could then reach the API; nor the
/// one the caller uses, unless `force`.
pub async fn revoke(
    app: &App,
    by: &Actor,
    which: &str,
    force: bool,
) -> Result<TokenRecord, OpError> {
    let mut tx = WriteTx::begin(app, by).await;
    let tokens = tx.tokens().await?;
    let record = tokens
        .iter()
        .find(|t| id_of(t) == which || t.name == which)
        .ok_or_else(|| OpError::not_found(format!("no token with id or name {which:?}")))?
        .clone();
    if tokens.len() == 1 {
        return Err(OpError::conflict(
            "this is the last admin token; create another before revoking it",
        ));
    }
    if record.name == by.name() && !force {
        return Err(OpError::conflict(
            "this is the token this request uses: revoking it locks you out; use another token, or force (?force=true, --force)",
        ));
    }
    tx.remove_token(&record.name).await?;
    tx.changed(
        &record.name,
        format!("token revoked (id {})", id_of(&record)),
    );
    tx.commit().await?;
    Ok(record)
}

const GUARD_PREFIX: &str = "admin:";

/// The guard key of wrong admin tokens from an address.
pub fn guard_key(address: IpAddr) -> String {
    format!("{GUARD_PREFIX}{}", super::bans::source_key(address))
}

/// Sources counting wrong admin tokens, by source key, with their counters.
pub async fn blocks(app: &App) -> Result<Vec<(String, crate::model::GuardRecord)>, StoreError> {
    app.store.guards(GUARD_PREFIX).await
}

/// Forgets the wrong tokens of a source (an address or an IPv6 /64), lifting its block.
pub async fn lift_block(app: &App, by: &Actor, source: &str) -> Result<(), OpError> {
    let mut tx = WriteTx::begin(app, by).await;
    let key = format!("{GUARD_PREFIX}{source}");
    if tx
        .guards(&key)
        .await?
        .iter()
        .all(|(rest, _)| !rest.is_empty())
    {
        return Err(OpError::not_found(format!(
            "no wrong admin tokens are recorded from {source}"
        )));
    }
    tx.remove_guard(&key).await?;
    tx.changed(source, "admin token block lifted");
    tx.commit().await?;
    Ok(())
}

/// Counts a missing or wrong admin token from `address`; past the limit the address is
/// refused for a while.
pub async fn charge_failure(app: &App, address: IpAddr, now: i64) -> Result<(), StoreError> {
    let policy = &app.config.security;
    let window = policy.admin_failure_window_secs as i64;
    let (_, blocked) = single_writes(app)
        .update_guard(&guard_key(address), |g| {
            if now - g.window_start >= window {
                g.failures = 0;
                g.window_start = now;
            }
            g.failures += 1;
            if g.failures < policy.admin_max_failures {
                return false;
            }
            g.failures = 0;
            g.lockouts += 1;
            g.locked_until = now + policy.admin_block_secs as i64;
            true
        })
        .await?;
    super::audit::record(
        app,
        Event::by(
            Kind::AdminAuthFailure,
            "unknown",
            "missing or wrong admin token",
        )
        .source(address),
    )
    .await;
    if blocked {
        super::audit::record(
            app,
            Event::by(
                Kind::AdminBlocked,
                "unknown",
                format!(
                    "{} wrong admin tokens within {} s; address refused for {} s",
                    policy.admin_max_failures,
                    policy.admin_failure_window_secs,
                    policy.admin_block_secs
                ),
            )
            .source(address),
        )
        .await;
    }
    Ok(())
}
