//! The application state shared by both listeners.

use std::sync::Arc;

use crate::clock::Clock;
use crate::config::Config;
use crate::store::Store;
use crate::templates::LiveTemplates;

pub struct App {
    pub config: Config,
    pub store: Store,
    /// Replaced whole on SIGHUP or `POST /api/v1/templates/reload`.
    pub templates: LiveTemplates,
    /// CSV imports running or finished lately, for their progress and report.
    pub imports: crate::ops::csv_io::Imports,
    pub clock: Clock,
    /// Signs the nonces of HTTP Digest challenges.
    pub nonces: crate::digest::Nonces,
    /// Hashes and checks hot-desk PINs off the async runtime, a bounded number at a time.
    pub pins: crate::hotdesk::hashing::Hasher,
    /// Console passwords, on threads of their own: a flood of console logins never takes the
    /// permits hot-desk logins need.
    pub passwords: crate::hotdesk::hashing::Hasher,
    /// Portal passwords, on a thread of their own: guessing at the portal never takes the
    /// permits hot-desk logins or console logins need.
    pub portal_hashes: crate::hotdesk::hashing::Hasher,
    /// Vendor CAs that identify phones by their factory certificates; `None` when none are
    /// configured.
    pub vendor_cas: Option<crate::client_cert::CertificateCheck>,
    /// Keeps refusals anyone can repeat from flooding the audit trail.
    pub audit_repeats: crate::audit::RepeatFilter,
    /// Rendered files, served again while nothing they depend on changed.
    pub render_cache: crate::render_cache::RenderCache,
    /// The server certificates both listeners present, renewed in place by the local CA.
    pub certificates: Arc<crate::tls::ServerCertificates>,
    /// MACs that requests named without proving them, per source, towards its ban.
    pub named_macs: crate::ops::named::NamedMacs,
    /// Sightings on their way to the seen-unregistered list.
    pub sightings: crate::ops::phone::Sightings,
    /// Counters, gauges and histograms for `/metrics`.
    pub metrics: crate::metrics::Metrics,
    /// The last events of each device on this node, in memory.
    pub device_events: crate::device_events::DeviceEvents,
    /// Console logins whose password was right, waiting for their TOTP code.
    pub pending_logins: crate::ops::totp::PendingLogins,
    /// The shared firmware files this node has a checked copy of (a shared database only).
    pub firmware_copies: crate::ops::firmware::LocalCopies,
}

pub type SharedApp = Arc<App>;
