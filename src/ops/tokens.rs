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
use crate::domain::{Label, Role, Secret};
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

/// Writes `secret` and a line break to `path`, readable by its owner only, and syncs it: the
/// admin token's file, the first owner password's.
pub(super) fn write_secret_file(path: &Path, secret: &Secret) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(format!("{}\n", secret.expose()).as_bytes())?;
    file.sync_all()
}

fn write_token_file(path: &Path, token: &Secret) -> Result<(), TokenError> {
    write_secret_file(path, token).map_err(|source| TokenError::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// On a data directory that has never had one, creates the admin token and writes it to
/// `token_file` (mode 0600). Returns the file's path when a token was created. Runs at start-up,
/// before anything else can write.
pub async fn ensure_admin_token(
    store: &Store,
    token_file: &Path,
    now: i64,
) -> Result<Option<PathBuf>, TokenError> {
    // Checked under the write lock: nodes starting together on one database make one token.
    let writer = store.begin(Permit::new()).await;
    if writer.has_tokens().await? {
        return Ok(None);
    }
    let token = Secret::generate(TOKEN_LEN);
    write_token_file(token_file, &token)?;
    writer
        .insert_token(&owner_token("initial", &token, now))
        .await?;
    writer.flush().await?;
    Ok(Some(token_file.to_path_buf()))
}

/// An owner token that never expires: the first one, and those made on the server's machine.
fn owner_token(name: &str, token: &Secret, now: i64) -> TokenRecord {
    TokenRecord {
        name: name.to_string(),
        sha256: sha256_hex(token.expose()),
        created_at: now,
        role: Role::Owner,
        reads_secrets: true,
        expires_at: None,
        last_used_at: None,
    }
}

/// Creates an owner token in a store no server has open (`deskprov tokens create --local` while
/// the server is stopped), recorded as made by `local`.
pub async fn create_offline(store: &Store, name: &Label, now: i64) -> Result<Created, OpError> {
    let token = Secret::generate(TOKEN_LEN);
    let record = owner_token(name.as_str(), &token, now);
    let writer = store.begin(Permit::new()).await;
    if !writer.insert_token(&record).await? {
        return Err(name_taken(&record));
    }
    let event = Event::by(Kind::AdminChange, "local", created_detail(&record))
        .actor_kind(crate::model::ActorKind::System)
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

/// A token to create, as an owner asked for it.
pub struct NewToken {
    pub name: Label,
    pub role: Role,
    /// Only for an admin token (an owner's always may, the other roles never).
    pub reads_secrets: bool,
    pub expires_at: Option<i64>,
}

impl NewToken {
    /// An owner token that never expires (the control socket's, on the server's machine).
    pub fn owner(name: Label) -> NewToken {
        NewToken {
            name,
            role: Role::Owner,
            reads_secrets: false,
            expires_at: None,
        }
    }
}

fn name_taken(record: &TokenRecord) -> OpError {
    OpError::conflict(format!(
        "a token named {:?} exists; revoke it or choose another name",
        record.name
    ))
}

fn created_detail(record: &TokenRecord) -> String {
    let mut detail = format!("token created (id {}, role {}", id_of(record), record.role);
    if record.role == Role::Admin && record.reads_secrets {
        detail.push_str(", reads secrets");
    }
    if let Some(at) = record.expires_at {
        detail.push_str(&format!(", expires {}", crate::clock::rfc3339(at)));
    }
    detail.push(')');
    detail
}

pub async fn create(app: &App, by: &Actor, new: NewToken) -> Result<Created, OpError> {
    let now = app.clock.now();
    if new.reads_secrets && new.role != Role::Admin {
        return Err(OpError::invalid(format!(
            "reads_secrets: only for admin tokens (owner tokens always read secrets, {} tokens never)",
            new.role
        )));
    }
    if new.expires_at.is_some_and(|at| at <= now) {
        return Err(OpError::invalid("expires_at: must be in the future"));
    }
    let token = Secret::generate(TOKEN_LEN);
    let record = TokenRecord {
        role: new.role,
        reads_secrets: new.reads_secrets || new.role == Role::Owner,
        expires_at: new.expires_at,
        ..owner_token(new.name.as_str(), &token, now)
    };
    let mut tx = WriteTx::begin(app, by).await;
    if !tx.insert_token(&record).await? {
        return Err(name_taken(&record));
    }
    tx.changed(&record.name, created_detail(&record));
    tx.commit().await?;
    Ok(Created { record, token })
}

/// How stale a token's `last_used_at` may get before a request writes it again.
const LAST_USED_RESOLUTION_SECS: i64 = 60;

/// Notes that `record` authorized a request, at most once a minute per token so the API does
/// not write on every call. Not flushed: losing the last minute of it in a crash is harmless.
pub async fn note_use(app: &App, record: &TokenRecord, now: i64) -> Result<(), StoreError> {
    if record
        .last_used_at
        .is_some_and(|at| now - at < LAST_USED_RESOLUTION_SECS)
    {
        return Ok(());
    }
    single_writes(app).touch_token(&record.name, now).await
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
    let owners = tokens.iter().filter(|t| t.role == Role::Owner).count();
    if record.role == Role::Owner && owners == 1 {
        return Err(OpError::conflict(
            "this is the last owner token; create another owner token before revoking it",
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
