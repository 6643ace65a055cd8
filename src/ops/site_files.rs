//! What lives in files but must be alike on every node of a site, or phones would get
//! different bytes from different nodes: the templates (shipped and overrides), the mail
//! texts, the site CA that configs carry and the issuer of the server certificate. A digest of
//! them is kept in a shared database: a node whose digest differs at start refuses to start;
//! a node that reloads its templates makes its set the site's, and the other nodes answer
//! phones 503 until they have the same set (the store's `site_files_match`).

use std::path::Path;

use super::Permit;
use crate::app::App;
use crate::store::{Store, StoreError};
use crate::templates::Templates;
use crate::tls::ServerCertificates;

#[derive(Debug, thiserror::Error)]
pub enum SiteFilesError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "this node's templates, mail texts or site CA differ from those the site's other nodes \
         use (digest {own}, the site's {site}): give every node the same templates_dir and \
         certs directory, or reload the templates on a node to make its set the site's"
    )]
    Differ { own: String, site: String },
}

/// SHA-256 (hex) of the templates, the mail texts under `templates_dir/mail`, the local CA
/// that configs carry and the server certificate's issuer.
pub fn digest(
    templates: &Templates,
    templates_dir: Option<&Path>,
    certificates: &ServerCertificates,
) -> String {
    let mut context = ring::digest::Context::new(&ring::digest::SHA256);
    let mut part = |bytes: &[u8]| {
        context.update(&(bytes.len() as u64).to_be_bytes());
        context.update(bytes);
    };
    part(templates.digest().as_bytes());
    if let Some(dir) = templates_dir {
        for (relative, bytes) in files_under(&dir.join("mail")) {
            part(relative.as_bytes());
            part(&bytes);
        }
    }
    part(
        certificates
            .local_ca_pem()
            .as_deref()
            .unwrap_or("")
            .as_bytes(),
    );
    part(&certificates.main_issuer().unwrap_or_default());
    crate::backup::hex(context.finish().as_ref())
}

/// Every file below `dir` with its path relative to it, in path order; none when it is absent.
fn files_under(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(next) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&next) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                let relative = path.strip_prefix(dir).unwrap_or(&path);
                found.push((relative.to_string_lossy().into_owned(), bytes));
            }
        }
    }
    found.sort();
    found
}

/// At start: the first node of a shared database records its files; a later one must match.
pub async fn check_at_start(store: &Store, own: &str) -> Result<(), SiteFilesError> {
    if !store.is_shared() {
        return Ok(());
    }
    store.note_own_site_files(own);
    let writer = store.begin(Permit::new()).await;
    match writer.site_files().await? {
        None => writer.put_site_files(own).await?,
        Some(site) if site != own => {
            return Err(SiteFilesError::Differ {
                own: own.to_string(),
                site,
            });
        }
        Some(_) => {}
    }
    Ok(())
}

/// After this node reloaded its templates: its set becomes the site's.
pub async fn reloaded(app: &App) -> Result<(), StoreError> {
    if !app.store.is_shared() {
        return Ok(());
    }
    let own = digest(
        &app.templates.current(),
        app.config.server.templates_dir.as_deref(),
        &app.certificates,
    );
    let writer = app.store.single_writes(Permit::new());
    writer.put_site_files(&own).await
}
