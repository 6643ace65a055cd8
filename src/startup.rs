//! Start-up: certificates, database, templates, admin token, listeners.
//! `deskprov serve` and the integration tests both start the server through [`start`].

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tracing::{info, warn};

use crate::app::App;
use crate::client_cert::CertificateCheck;
use crate::clock::Clock;
use crate::config::{Config, ConfigError};
use crate::ops::accounts::{AccountError, ensure_owner_account};
use crate::ops::tokens::{TokenError, ensure_admin_token};
use crate::store::{Store, StoreError};
use crate::templates::{LiveTemplates, TemplateError};
use crate::tls::{self, TlsError};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("certificate: {0}")]
    Tls(#[from] TlsError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Templates(#[from] TemplateError),
    #[error(transparent)]
    Token(#[from] TokenError),
    #[error(transparent)]
    Account(#[from] AccountError),
    #[error(transparent)]
    SiteFiles(#[from] crate::ops::site_files::SiteFilesError),
    #[error("data directory {path}: {source}")]
    DataDir {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("cannot listen on {address} ({role}): {source}")]
    Bind {
        role: &'static str,
        address: SocketAddr,
        source: std::io::Error,
    },
}

/// A running server.
pub struct Running {
    pub phone_addr: SocketAddr,
    pub admin_addr: SocketAddr,
    pub app: Arc<App>,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl Running {
    /// Stops accepting, lets open requests finish, and returns when all connections closed.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

/// Opens everything the server needs and starts serving in the background.
pub async fn start(config: Config, clock: Clock) -> Result<Running, StartError> {
    config.validate()?;
    crate::firmware::remove_stale_uploads(&config.firmware_dir());
    let certs = tls::ensure_certificate(&config.server.certs_dir, clock.now())?;
    if certs.generated {
        info!(path = %certs.cert.display(), "the local CA issued the server certificate");
    } else if certs.renewed {
        info!(path = %certs.cert.display(), "the local CA issued the server certificate again: the old one was coming due");
    }
    let certificates = Arc::new(tls::ServerCertificates::load(certs)?);
    certificates.renew_if_due(clock.now())?;
    let vendor_cas = CertificateCheck::load(&config.vendor_ca_dir())?;
    if vendor_cas.is_some() {
        info!(dir = %config.vendor_ca_dir().display(), "phones are asked for their factory certificates");
    }
    let tls = tls::server_configs(certificates.clone(), vendor_cas.as_ref())?;
    let templates = LiveTemplates::load(config.server.templates_dir.as_deref())?;
    let data = &config.server.data_dir;
    std::fs::create_dir_all(data).map_err(|source| StartError::DataDir {
        path: data.clone(),
        source,
    })?;
    let store = open_store(&config).await?;
    let own_files = crate::ops::site_files::digest(
        &templates.current(),
        config.server.templates_dir.as_deref(),
        &certificates,
    );
    crate::ops::site_files::check_at_start(&store, &own_files).await?;
    if let Some(path) = ensure_admin_token(&store, &config.token_file(), clock.now()).await? {
        info!(path = %path.display(), "created the admin token; the CLI reads it from this file");
    }
    let password_file = config.owner_password_file();
    if let Some((account, path)) = ensure_owner_account(&store, &password_file, clock.now()).await?
    {
        info!(%account, path = %path.display(), "created an owner account for the console; its first password is in this file and must be changed at the first login");
    }
    if config.hotdesk.global_max_failures.is_some() {
        warn!(
            "hotdesk.global_max_failures is no longer used: the site-wide pause counts throttled phones (hotdesk.global_max_throttled_phones)"
        );
    }
    if store.settings().await?.sip_server.is_none() {
        warn!(
            "no SIP server set yet: phones get accounts they cannot register (deskprov settings set sip_server=HOST)"
        );
    }
    let phone = bind("phone", config.server.phone_listen).await?;
    let admin = bind("admin", config.server.admin_listen).await?;
    let phone_addr = phone.local_addr().expect("bound socket has an address");
    let admin_addr = admin.local_addr().expect("bound socket has an address");
    // Port 0 binds a free port: what is built from the config (one-time links) names the
    // port actually bound.
    let mut config = config;
    config.server.phone_listen = phone_addr;
    config.server.admin_listen = admin_addr;
    let config_hashes = config.hotdesk.max_concurrent_hashes;
    let render_cache = crate::render_cache::RenderCache::new(config.limits.render_cache_bytes);
    let nonces = crate::digest::Nonces::with_key(&store.nonce_key());
    let audit_repeats = crate::audit::RepeatFilter::new(
        config.security.audit_repeat_sources,
        config.security.audit_repeat_keys_per_source,
    );
    let named_macs = crate::ops::named::NamedMacs::new(
        config.security.unproven_mac_grace_secs,
        config.security.refused_mac_window_secs,
    );
    let (sightings, sighting_queue) = crate::ops::phone::Sightings::new(SIGHTING_QUEUE);
    let metrics = crate::metrics::Metrics::new(&store);
    let device_events = crate::device_events::DeviceEvents::new(
        config.limits.events_per_device,
        config.limits.event_log_devices,
        clock.now(),
    );
    let app = Arc::new(App {
        config,
        store,
        templates,
        clock,
        nonces,
        pins: crate::hotdesk::hashing::Hasher::new(config_hashes),
        passwords: crate::hotdesk::hashing::Hasher::new(1),
        portal_hashes: crate::hotdesk::hashing::Hasher::new(1),
        vendor_cas,
        audit_repeats,
        imports: Default::default(),
        render_cache,
        certificates,
        named_macs,
        sightings,
        metrics,
        device_events,
        pending_logins: Default::default(),
        firmware_copies: Default::default(),
    });
    let last_import = crate::ops::import::recover_after_restart(&app).await?;
    app.imports.continue_after(last_import);
    let (stop, stopped) = oneshot::channel::<()>();
    let control =
        crate::local::bind(&app.config.server.data_dir).map_err(|source| StartError::DataDir {
            path: crate::local::socket_path(&app.config.server.data_dir),
            source,
        })?;
    let local = tokio::spawn(crate::local::serve(app.clone(), control));
    let sweeper = crate::hotdesk::spawn_sweeper(app.clone());
    let housekeeping = spawn_housekeeping(app.clone());
    let sighting_writer = tokio::spawn(crate::ops::phone::write_sightings(
        app.clone(),
        sighting_queue,
    ));
    let reloader = spawn_template_reloader(app.clone());
    let mail_sender = crate::ops::mail::spawn_sender(app.clone());
    let task = tokio::spawn(crate::server::run(
        app.clone(),
        tls,
        phone,
        admin,
        async move {
            let _ = stopped.await;
            sweeper.abort();
            local.abort();
            housekeeping.abort();
            sighting_writer.abort();
            reloader.abort();
            mail_sender.iter().for_each(JoinHandle::abort);
        },
    ));
    info!(addr = %phone_addr, "phone listener ready");
    info!(addr = %admin_addr, "admin listener ready");
    Ok(Running {
        phone_addr,
        admin_addr,
        app,
        stop,
        task,
    })
}

/// The configured store: the shared PostgreSQL database when `[database] url` is set, else sled
/// in the data directory.
pub async fn open_store(config: &Config) -> Result<Store, StartError> {
    match config.database_url()? {
        Some(url) => {
            let store = Store::connect(&url).await?;
            info!(database = %url.shown(), "using the shared PostgreSQL database");
            Ok(store)
        }
        None => Ok(Store::open_with_cache(
            &config.db_dir(),
            config.limits.store_cache_bytes,
        )?),
    }
}

/// Forgets quiet request sources and failure counters, keeps the audit trail within its size,
/// and renews the server certificate when the local CA issued it and it comes due.
fn spawn_housekeeping(app: Arc<App>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(HOUSEKEEPING_EVERY);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let now = app.clock.now();
            if let Err(e) = app.certificates.renew_if_due(now) {
                tracing::error!(error = %e, "issuing the server certificate again failed; the current one stays in use");
            }
            // What this node counted in memory, every node for itself.
            if let Err(e) = crate::ops::bans::settle_all_named_macs(&app, now).await {
                tracing::error!(error = %e, "counting unproven MACs failed");
            }
            crate::ops::audit::record_ended_suppressions(&app).await;
            // The rest once per site: on a shared database the node holding the lease.
            if !app.store.runs_housekeeping() {
                continue;
            }
            if let Err(e) = crate::ops::bans::prune(&app, now).await {
                tracing::error!(error = %e, "pruning request sources failed");
            }
            if let Err(e) = crate::ops::guard::prune(&app, now).await {
                tracing::error!(error = %e, "pruning failed-login counters failed");
            }
            if let Err(e) = crate::ops::audit::trim(&app).await {
                tracing::error!(error = %e, "trimming the audit trail failed");
            }
            if let Err(e) = crate::ops::mail::trim(&app).await {
                tracing::error!(error = %e, "trimming the mail outbox failed");
            }
        }
    })
}

/// Reloads the templates on SIGHUP, as daemons do; a broken template keeps the old set in use.
fn spawn_template_reloader(app: Arc<App>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let Ok(mut hangups) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        else {
            warn!("cannot listen for SIGHUP; reload templates through the admin API");
            return;
        };
        while hangups.recv().await.is_some() {
            match app.templates.reload() {
                Ok(templates) => {
                    info!(
                        templates = templates.names().count(),
                        "templates reloaded on SIGHUP"
                    );
                    if let Err(e) = crate::ops::site_files::reloaded(&app).await {
                        tracing::error!(error = %e, "recording the reloaded templates as the site's failed");
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, "template reload failed; the previous templates stay in use")
                }
            }
        }
    })
}

/// Sightings waiting for the seen-unregistered list's writer; beyond, they are dropped.
const SIGHTING_QUEUE: usize = 4096;

const HOUSEKEEPING_EVERY: std::time::Duration = std::time::Duration::from_secs(300);

/// Pending connections the kernel holds for us (capped by net.core.somaxconn). Phones arrive
/// together after a power cut; a short queue silently drops their handshakes, and a phone
/// whose handshake was dropped waits for a minute of retransmissions.
const LISTEN_BACKLOG: u32 = 4096;

async fn bind(role: &'static str, address: SocketAddr) -> Result<TcpListener, StartError> {
    let listen = || {
        let socket = match address {
            SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
            SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
        };
        socket.set_reuseaddr(true)?;
        socket.bind(address)?;
        socket.listen(LISTEN_BACKLOG)
    };
    listen().map_err(|source| StartError::Bind {
        role,
        address,
        source,
    })
}

/// SIGTERM and Ctrl-C (SIGINT), caught from the moment this is made: made before the server
/// starts, so a stop sent as soon as the listeners are ready is never the default (a kill).
pub struct ShutdownSignal {
    term: tokio::signal::unix::Signal,
    interrupt: tokio::signal::unix::Signal,
}

impl ShutdownSignal {
    pub fn install() -> ShutdownSignal {
        use tokio::signal::unix::{SignalKind, signal};
        ShutdownSignal {
            term: signal(SignalKind::terminate()).expect("installing the SIGTERM handler"),
            interrupt: signal(SignalKind::interrupt()).expect("installing the SIGINT handler"),
        }
    }

    /// Completes on the first of them.
    pub async fn received(mut self) {
        tokio::select! {
            _ = self.term.recv() => {},
            _ = self.interrupt.recv() => {},
        }
    }
}
