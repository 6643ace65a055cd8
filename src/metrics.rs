//! Prometheus metrics, served at `/metrics` on the admin listener (`admin::metrics`).
//!
//! Every series is created here, up front, for a label set fixed in the code (an outcome, a
//! vendor of `vendors::ALL`, a listener, a refusal reason...): no label carries a MAC, an
//! extension, an address or anything else a request chooses. The handles are kept, so counting
//! on the phone path is an atomic add: no map look-up and no lock. Histograms are
//! [`AtomicHistogram`]s for the same reason (prometheus-client's own takes a lock per
//! observation). What is a state rather than an event (bans in force, cache size) is read when
//! scraped.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use http::StatusCode;
use prometheus_client::encoding::{EncodeLabelSet, EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::access::Denial;
use crate::audit::Kind;
use crate::model::ImportState;
use crate::server::Role;

/// What became of a phone's request, by its status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Served,
    NotModified,
    /// The one refusal (401): not proven to be the device, or no such file for a stranger.
    Refused,
    /// A banned source that did not prove to be a device (429).
    Banned,
    NotFound,
    /// Malformed: a bad path or Host, a method the path does not take, a body too large.
    BadRequest,
    /// The server failed (5xx): phones keep their last config.
    Error,
}

const OUTCOMES: [Outcome; 7] = [
    Outcome::Served,
    Outcome::NotModified,
    Outcome::Refused,
    Outcome::Banned,
    Outcome::NotFound,
    Outcome::BadRequest,
    Outcome::Error,
];

impl Outcome {
    pub fn of(status: StatusCode) -> Outcome {
        match status.as_u16() {
            304 => Outcome::NotModified,
            401 => Outcome::Refused,
            429 => Outcome::Banned,
            404 => Outcome::NotFound,
            s if s < 400 => Outcome::Served,
            s if s < 500 => Outcome::BadRequest,
            _ => Outcome::Error,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Outcome::Served => "served",
            Outcome::NotModified => "not_modified",
            Outcome::Refused => "refused",
            Outcome::Banned => "banned",
            Outcome::NotFound => "not_found",
            Outcome::BadRequest => "bad_request",
            Outcome::Error => "error",
        }
    }
}

const DENIALS: [Denial; 9] = [
    Denial::UnknownDevice,
    Denial::WrongCredentials,
    Denial::NoCredentials,
    Denial::MacMismatch,
    Denial::CertificateMismatch,
    Denial::CertificateRequired,
    Denial::ReplayedDigest,
    Denial::ClaimUserAgent,
    Denial::ClaimNetwork,
];

/// A refusal reason's label: short and fixed.
fn denial_label(denial: Denial) -> &'static str {
    match denial {
        Denial::UnknownDevice => "unknown_device",
        Denial::WrongCredentials => "wrong_credentials",
        Denial::NoCredentials => "no_credentials",
        Denial::MacMismatch => "mac_mismatch",
        Denial::CertificateMismatch => "certificate_mismatch",
        Denial::CertificateRequired => "certificate_required",
        Denial::ReplayedDigest => "replayed_digest",
        Denial::ClaimUserAgent => "claim_user_agent",
        Denial::ClaimNetwork => "claim_network",
    }
}

/// A vendor label: the id of a vendor in `vendors::ALL`, `other` for a vendor deskprov only
/// recognises, `unknown` when the request named none (firmware, hot-desk, no User-Agent).
fn vendor_slot(vendor: Option<&str>) -> usize {
    let all = crate::vendors::ALL;
    match vendor {
        Some(id) => all.iter().position(|v| v.id() == id).unwrap_or(all.len()),
        None => all.len() + 1,
    }
}

fn vendor_labels() -> Vec<&'static str> {
    let mut labels: Vec<&'static str> = crate::vendors::ALL.iter().map(|v| v.id()).collect();
    labels.extend(["other", "unknown"]);
    labels
}

const LISTENERS: [Role; 2] = [Role::Phone, Role::Admin];

fn listener_label(role: Role) -> &'static str {
    match role {
        Role::Phone => "phone",
        Role::Admin => "admin",
    }
}

fn listener_slot(role: Role) -> usize {
    match role {
        Role::Phone => 0,
        Role::Admin => 1,
    }
}

/// Why a TLS handshake did not complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandshakeFailure {
    Error,
    Timeout,
    /// Shed to make room for connections that finished theirs (admission.rs).
    Shed,
}

const HANDSHAKE_FAILURES: [HandshakeFailure; 3] = [
    HandshakeFailure::Error,
    HandshakeFailure::Timeout,
    HandshakeFailure::Shed,
];

fn failure_label(failure: HandshakeFailure) -> &'static str {
    match failure {
        HandshakeFailure::Error => "error",
        HandshakeFailure::Timeout => "timeout",
        HandshakeFailure::Shed => "shed",
    }
}

const IMPORT_ENDS: [ImportState; 4] = [
    ImportState::Done,
    ImportState::Checked,
    ImportState::Failed,
    ImportState::Interrupted,
];

/// Request latency buckets, in seconds: a cached config takes well under a millisecond, a PIN
/// check (argon2) about a tenth of a second.
const LATENCY_BUCKETS: [f64; 14] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

/// Store call buckets, in seconds: a read from sled's cache takes microseconds, a flush
/// milliseconds.
const STORE_BUCKETS: [f64; 12] = [
    0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.01, 0.05, 0.25, 1.0,
];

/// A histogram of durations counted with atomics only: one bucket add, one count add and one
/// sum add (in nanoseconds) per observation. Clones count into the same histogram.
#[derive(Debug, Clone)]
pub struct AtomicHistogram(Arc<HistogramCounts>);

#[derive(Debug)]
struct HistogramCounts {
    bounds: &'static [f64],
    /// Per bucket (not cumulative), the last one above every bound (+Inf).
    buckets: Box<[AtomicU64]>,
    sum_nanos: AtomicU64,
}

impl AtomicHistogram {
    fn new(bounds: &'static [f64]) -> AtomicHistogram {
        AtomicHistogram(Arc::new(HistogramCounts {
            bounds,
            buckets: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            sum_nanos: AtomicU64::new(0),
        }))
    }

    pub fn observe(&self, elapsed: Duration) {
        let counts = &*self.0;
        let seconds = elapsed.as_secs_f64();
        let bucket = counts
            .bounds
            .iter()
            .position(|bound| seconds <= *bound)
            .unwrap_or(counts.bounds.len());
        counts.buckets[bucket].fetch_add(1, Relaxed);
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        counts.sum_nanos.fetch_add(nanos, Relaxed);
    }

    /// Times `call`.
    pub async fn time<T>(&self, call: impl Future<Output = T>) -> T {
        let started = std::time::Instant::now();
        let result = call.await;
        self.observe(started.elapsed());
        result
    }

    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        let counts = &*self.0;
        let buckets: Vec<(f64, u64)> = counts
            .bounds
            .iter()
            .copied()
            .chain([f64::MAX])
            .zip(counts.buckets.iter().map(|b| b.load(Relaxed)))
            .collect();
        // The count is the buckets' sum, so the two agree even while observations go on.
        let count = buckets.iter().map(|(_, n)| n).sum();
        let sum = counts.sum_nanos.load(Relaxed) as f64 / 1e9;
        encoder.encode_histogram::<NoLabelSet>(sum, count, &buckets, None)
    }
}

/// Histograms of one metric, one per value of a label fixed in the code.
#[derive(Debug)]
struct Histograms {
    label: &'static str,
    series: Vec<(&'static str, AtomicHistogram)>,
}

impl EncodeMetric for Histograms {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        for (value, histogram) in &self.series {
            histogram.encode(encoder.encode_family(&[(self.label, *value)])?)?;
        }
        Ok(())
    }

    fn metric_type(&self) -> MetricType {
        MetricType::Histogram
    }
}

/// The store's calls, timed (`store::Store` observes them; registered here).
#[derive(Debug)]
pub struct StoreTimings {
    /// A device read on the phone path (`Reads::device_snapshot`).
    pub device_read: AtomicHistogram,
    /// A single-record compare-and-swap update (devices, users, counters, sources).
    pub update: AtomicHistogram,
    /// Making writes durable.
    pub flush: AtomicHistogram,
}

impl Default for StoreTimings {
    fn default() -> StoreTimings {
        StoreTimings {
            device_read: AtomicHistogram::new(&STORE_BUCKETS),
            update: AtomicHistogram::new(&STORE_BUCKETS),
            flush: AtomicHistogram::new(&STORE_BUCKETS),
        }
    }
}

/// A family's series, registered and kept: the label values are the registry's, the handles
/// ours.
fn series<L, M>(family: &Family<L, M>, labels: impl IntoIterator<Item = L>) -> Vec<M>
where
    L: Clone + std::hash::Hash + Eq + EncodeLabelSet + std::fmt::Debug + Send + Sync + 'static,
    M: Clone + Default + prometheus_client::metrics::TypedMetric + EncodeMetric,
{
    labels
        .into_iter()
        .map(|l| family.get_or_create(&l).clone())
        .collect()
}

type Labels = Vec<(&'static str, &'static str)>;

/// Every metric of the server, and the registry that encodes them.
pub struct Metrics {
    registry: Registry,
    /// By outcome, then vendor slot.
    phone_requests: Vec<Counter>,
    vendors: usize,
    request_duration: [AtomicHistogram; 2],
    tls_handshakes: Vec<Counter>,
    /// By listener, then failure.
    tls_failures: Vec<Counter>,
    open_connections: Vec<Gauge>,
    refusals: Vec<Counter>,
    claims: Counter,
    contested_claims: Counter,
    active_bans: Gauge,
    hotdesk_logins: Counter,
    hotdesk_login_failures: Counter,
    hotdesk_lockouts: Counter,
    hotdesk_sessions: Gauge,
    render_cache_hits: Counter,
    render_cache_misses: Counter,
    render_cache_bytes: Gauge,
    render_cache_entries: Gauge,
    import_jobs_started: Counter,
    import_jobs_ended: Vec<Counter>,
    device_event_log_devices: Gauge,
}

impl Metrics {
    pub fn new(store: &crate::store::Store) -> Metrics {
        let mut root = Registry::default();
        let registry = root.sub_registry_with_prefix("deskprov");
        let vendors = vendor_labels();

        let family = Family::<Labels, Counter>::default();
        let mut labels = Vec::new();
        for outcome in OUTCOMES {
            for vendor in &vendors {
                labels.push(vec![("outcome", outcome.as_str()), ("vendor", *vendor)]);
            }
        }
        let phone_requests = series(&family, labels);
        registry.register(
            "phone_requests",
            "Requests on the phones' listener, by outcome and by the vendor they were identified as",
            family,
        );

        let request_duration = LISTENERS.map(|_| AtomicHistogram::new(&LATENCY_BUCKETS));
        registry.register(
            "request_duration_seconds",
            "Time from a request's head to its response's head (a streamed body not included), per listener",
            Histograms {
                label: "listener",
                series: LISTENERS
                    .iter()
                    .map(|r| {
                        (
                            listener_label(*r),
                            request_duration[listener_slot(*r)].clone(),
                        )
                    })
                    .collect(),
            },
        );

        let family = Family::<Labels, Counter>::default();
        let tls_handshakes = series(
            &family,
            LISTENERS.map(|r| vec![("listener", listener_label(r))]),
        );
        registry.register(
            "tls_handshakes",
            "TLS handshakes completed, per listener",
            family,
        );
        let family = Family::<Labels, Counter>::default();
        let mut labels = Vec::new();
        for role in LISTENERS {
            for failure in HANDSHAKE_FAILURES {
                labels.push(vec![
                    ("listener", listener_label(role)),
                    ("reason", failure_label(failure)),
                ]);
            }
        }
        let tls_failures = series(&family, labels);
        registry.register(
            "tls_handshake_failures",
            "TLS handshakes that did not complete: failed, timed out, or shed to make room",
            family,
        );
        let family = Family::<Labels, Gauge>::default();
        let open_connections = series(
            &family,
            LISTENERS.map(|r| vec![("listener", listener_label(r))]),
        );
        registry.register(
            "open_connections",
            "Connections open now, per listener",
            family,
        );

        let family = Family::<Labels, Counter>::default();
        let refusals = series(&family, DENIALS.map(|d| vec![("reason", denial_label(d))]));
        registry.register(
            "phone_refusals",
            "Requests for a device's own files refused, by reason",
            family,
        );

        let counter = |registry: &mut Registry, name: &str, help: &str| {
            let counter = Counter::default();
            registry.register(name, help, counter.clone());
            counter
        };
        let gauge = |registry: &mut Registry, name: &str, help: &str| {
            let gauge = Gauge::default();
            registry.register(name, help, gauge.clone());
            gauge
        };
        let claims = counter(
            registry,
            "claims",
            "Devices that took their config in the claim window",
        );
        let contested_claims = counter(
            registry,
            "contested_claims",
            "Claims contested: a phone without credentials asked after the device was claimed from elsewhere",
        );
        let active_bans = gauge(
            registry,
            "active_bans",
            "Sources (an IPv4 address or an IPv6 /64) banned now",
        );
        let hotdesk_logins = counter(registry, "hotdesk_logins", "Hot-desk logins");
        let hotdesk_login_failures = counter(
            registry,
            "hotdesk_login_failures",
            "Hot-desk logins refused for a wrong PIN or an unknown extension",
        );
        let hotdesk_lockouts = counter(
            registry,
            "hotdesk_lockouts",
            "Hot-desk lockouts: an extension at a phone, an extension everywhere, a phone, or the site paused",
        );
        let hotdesk_sessions = gauge(
            registry,
            "hotdesk_sessions",
            "Hot-desk logins in force, as counted by the last expiry sweep and the logins and logouts since",
        );
        let render_cache_hits = counter(
            registry,
            "render_cache_hits",
            "Files served from the render cache",
        );
        let render_cache_misses = counter(
            registry,
            "render_cache_misses",
            "Files rendered because the cache had none still valid",
        );
        let render_cache_bytes = gauge(
            registry,
            "render_cache_bytes",
            "Bytes the render cache holds now (limits.render_cache_bytes bounds it)",
        );
        let render_cache_entries = gauge(
            registry,
            "render_cache_entries",
            "Files the render cache holds now",
        );
        let import_jobs_started = counter(registry, "import_jobs_started", "CSV imports started");
        let family = Family::<Labels, Counter>::default();
        let import_jobs_ended = series(&family, IMPORT_ENDS.map(|s| vec![("state", s.as_str())]));
        registry.register(
            "import_jobs_ended",
            "CSV imports ended: done, checked (a dry run without errors), failed, interrupted (by a restart)",
            family,
        );
        let device_event_log_devices = gauge(
            registry,
            "device_event_log_devices",
            "Devices the per-device event log holds events of (limits.event_log_devices bounds it)",
        );

        let timings = store.timings();
        registry.register(
            "store_operation_duration_seconds",
            "Time of the store's calls: the phone path's device read, single-record updates, flushes",
            Histograms {
                label: "operation",
                series: vec![
                    ("device_read", timings.device_read.clone()),
                    ("update", timings.update.clone()),
                    ("flush", timings.flush.clone()),
                ],
            },
        );

        Metrics {
            registry: root,
            phone_requests,
            vendors: vendors.len(),
            request_duration,
            tls_handshakes,
            tls_failures,
            open_connections,
            refusals,
            claims,
            contested_claims,
            active_bans,
            hotdesk_logins,
            hotdesk_login_failures,
            hotdesk_lockouts,
            hotdesk_sessions,
            render_cache_hits,
            render_cache_misses,
            render_cache_bytes,
            render_cache_entries,
            import_jobs_started,
            import_jobs_ended,
            device_event_log_devices,
        }
    }

    /// A phone's request answered with `status`; `vendor` as identified, if it was.
    pub fn phone_request(&self, vendor: Option<&str>, status: StatusCode) {
        let outcome = OUTCOMES
            .iter()
            .position(|o| *o == Outcome::of(status))
            .expect("every outcome is listed");
        self.phone_requests[outcome * self.vendors + vendor_slot(vendor)].inc();
    }

    pub fn request_duration(&self, role: Role, elapsed: Duration) {
        self.request_duration[listener_slot(role)].observe(elapsed);
    }

    pub fn handshake(&self, role: Role, failure: Option<HandshakeFailure>) {
        let listener = listener_slot(role);
        match failure {
            None => self.tls_handshakes[listener].inc(),
            Some(failure) => {
                let index = HANDSHAKE_FAILURES
                    .iter()
                    .position(|f| *f == failure)
                    .expect("every failure is listed");
                self.tls_failures[listener * HANDSHAKE_FAILURES.len() + index].inc()
            }
        };
    }

    /// Counts the connection as open until the guard is dropped.
    pub fn connection_opened(&self, role: Role) -> OpenConnection {
        let gauge = self.open_connections[listener_slot(role)].clone();
        gauge.inc();
        OpenConnection(gauge)
    }

    pub fn refusal(&self, denial: Denial) {
        let index = DENIALS
            .iter()
            .position(|d| *d == denial)
            .expect("every denial is listed");
        self.refusals[index].inc();
    }

    /// An audit event, as it happens (before the repeat filter): the security events counted.
    pub fn audit_event(&self, kind: Kind) {
        match kind {
            Kind::DeviceClaimed => self.claims.inc(),
            Kind::ClaimContested => self.contested_claims.inc(),
            Kind::HotdeskLogin => {
                self.hotdesk_sessions.inc();
                self.hotdesk_logins.inc()
            }
            Kind::HotdeskLogout => {
                self.hotdesk_sessions.dec();
                0
            }
            Kind::LoginFailure => self.hotdesk_login_failures.inc(),
            Kind::LoginLockout => self.hotdesk_lockouts.inc(),
            _ => 0,
        };
    }

    /// The live hot-desk logins the expiry sweep counted.
    pub fn hotdesk_sessions(&self, live: usize) {
        self.hotdesk_sessions.set(live as i64);
    }

    pub fn render_cache_lookup(&self, hit: bool) {
        if hit {
            self.render_cache_hits.inc();
        } else {
            self.render_cache_misses.inc();
        }
    }

    pub fn import_started(&self) {
        self.import_jobs_started.inc();
    }

    pub fn import_ended(&self, state: ImportState) {
        if let Some(index) = IMPORT_ENDS.iter().position(|s| *s == state) {
            self.import_jobs_ended[index].inc();
        }
    }

    /// The exposition: the states read now, then every metric in the OpenMetrics text format
    /// (which Prometheus scrapes, as it does its own older text format).
    pub async fn render(&self, app: &crate::app::App) -> Result<String, crate::store::StoreError> {
        let now = app.clock.now();
        let banned = app
            .store
            .sources()
            .await?
            .iter()
            .filter(|(_, source)| source.banned_until > now)
            .count();
        self.active_bans.set(banned as i64);
        let (entries, bytes) = app.render_cache.usage();
        self.render_cache_entries.set(entries as i64);
        self.render_cache_bytes.set(bytes as i64);
        self.device_event_log_devices
            .set(app.device_events.devices() as i64);
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)
            .expect("writing to a String cannot fail");
        Ok(text)
    }
}

/// Keeps a connection counted as open while it lives.
pub struct OpenConnection(Gauge);

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.dec();
    }
}
