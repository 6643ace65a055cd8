//! The server's local control socket: `<data>/control/deskprov.sock`, in a directory only the
//! server's user can enter, for what a person on the server's machine may do without an admin
//! token: today, create one (`deskprov tokens create --local`) when every token was lost or
//! revoked. Whoever can reach the socket could read the database files anyway.
//!
//! One request a connection: a JSON line `{"create_token": "NAME"}`; the answer is a JSON line
//! with the token, or `{"error": "..."}`. A peer of another user is refused.

use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};

use crate::app::App;
use crate::domain::Label;
use crate::ops::{Actor, tokens};

/// Longest request line read.
const MAX_REQUEST: usize = 1024;

pub fn socket_path(data_dir: &Path) -> PathBuf {
    data_dir.join("control").join("deskprov.sock")
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalRequest {
    pub create_token: String,
}

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
pub enum LocalAnswer {
    Created {
        id: String,
        name: String,
        token: String,
    },
    Refused {
        error: String,
    },
}

/// Binds the socket (replacing a stale one) in its private directory.
pub fn bind(data_dir: &Path) -> std::io::Result<UnixListener> {
    let path = socket_path(data_dir);
    let dir = path.parent().expect("the socket is in a directory");
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    match std::fs::remove_file(&path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    UnixListener::bind(&path)
}

/// Answers local requests until the listener is dropped.
pub async fn serve(app: Arc<App>, listener: UnixListener) {
    let dir = socket_path(&app.config.server.data_dir);
    let owner = dir
        .parent()
        .and_then(|d| std::fs::metadata(d).ok())
        .map(|m| m.uid());
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let app = app.clone();
        tokio::spawn(async move {
            if let Err(e) = answer(&app, stream, owner).await {
                tracing::warn!(error = %e, "local control request failed");
            }
        });
    }
}

/// Answers one request; `owner` is the user the socket's directory belongs to.
async fn answer(app: &App, stream: UnixStream, owner: Option<u32>) -> std::io::Result<()> {
    let allowed = stream
        .peer_cred()
        .is_ok_and(|peer| Some(peer.uid()) == owner || peer.uid() == 0);
    let (read, mut write) = stream.into_split();
    let mut line = String::new();
    let mut reader = BufReader::new(read.take(MAX_REQUEST as u64));
    reader.read_line(&mut line).await?;
    let answer = if allowed {
        create_token(app, &line).await
    } else {
        refused("the control socket answers only the server's own user")
    };
    let mut text = serde_json::to_string(&answer).expect("answers serialise");
    text.push('\n');
    write.write_all(text.as_bytes()).await
}

fn refused(error: impl Into<String>) -> LocalAnswer {
    LocalAnswer::Refused {
        error: error.into(),
    }
}

async fn create_token(app: &App, line: &str) -> LocalAnswer {
    let request: LocalRequest = match serde_json::from_str(line) {
        Ok(request) => request,
        Err(e) => return refused(format!("not a request: {e}")),
    };
    let name = match Label::parse_field("name", &request.create_token) {
        Ok(name) => name,
        Err(e) => return refused(e.to_string()),
    };
    match tokens::create(app, &Actor::system("local"), tokens::NewToken::owner(name)).await {
        Ok(created) => LocalAnswer::Created {
            id: tokens::id_of(&created.record).to_string(),
            name: created.record.name,
            token: created.token.expose().to_string(),
        },
        Err(e) => refused(e.to_string()),
    }
}
