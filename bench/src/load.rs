//! The load generator: a small HTTP/1.1 client over rustls that plays phones against either
//! server. It speaks only to loopback addresses, and every run is bounded by a duration or a
//! fixed number of phones, with a time-out on each request.
//!
//! Each new connection is a full TLS handshake: session resumption is off, as for a phone that
//! has just booted.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rustls::ClientConfig;
use rustls::client::Resumption;
use rustls_pki_types::ServerName;
use rustls_pki_types::pem::PemObject;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::seed::{Phone, home_address};

/// Longest a single request may take before it counts as an error.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Largest response accepted: configs are a few kilobytes, the phonebook of a 10,000-user
/// site about a megabyte.
const MAX_RESPONSE: usize = 8 << 20;
/// Latency samples kept per run, so a long run cannot grow memory without bound.
const MAX_SAMPLES: usize = 4_000_000;

/// A server under test: a loopback port and how to reach it over TLS.
#[derive(Clone)]
pub struct Endpoint {
    pub port: u16,
    tls: TlsConnector,
}

impl Endpoint {
    pub fn new(port: u16, ca_pem: &std::path::Path) -> Result<Endpoint, String> {
        let mut roots = rustls::RootCertStore::empty();
        for cert in rustls_pki_types::CertificateDer::pem_file_iter(ca_pem)
            .map_err(|e| format!("{}: {e}", ca_pem.display()))?
        {
            roots
                .add(cert.map_err(|e| e.to_string())?)
                .map_err(|e| e.to_string())?;
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.resumption = Resumption::disabled();
        Ok(Endpoint {
            port,
            tls: TlsConnector::from(Arc::new(config)),
        })
    }

    pub async fn connect(&self, from: Ipv4Addr) -> Result<TlsStream<TcpStream>, String> {
        let socket = TcpSocket::new_v4().map_err(|e| e.to_string())?;
        socket
            .bind(SocketAddr::new(IpAddr::V4(from), 0))
            .map_err(|e| format!("bind {from}: {e}"))?;
        let tcp = socket
            .connect(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), self.port))
            .await
            .map_err(|e| format!("connect: {e}"))?;
        tcp.set_nodelay(true).map_err(|e| e.to_string())?;
        let name = ServerName::try_from("localhost").expect("a valid name");
        self.tls
            .connect(name, tcp)
            .await
            .map_err(|e| format!("TLS: {e}"))
    }
}

/// One request as it goes on the wire.
pub fn request(path: &str, phone: &Phone, close: bool, port: u16) -> Vec<u8> {
    format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: {}\r\nAuthorization: {}\r\n{}\r\n",
        phone.user_agent,
        phone.authorization,
        if close { "Connection: close\r\n" } else { "" }
    )
    .into_bytes()
}

/// A response: status, head (status line and headers) and body.
pub struct Response {
    pub status: u16,
    pub head: String,
    pub body: Vec<u8>,
}

/// Sends one request and reads its response (Content-Length framed, as both servers answer).
pub async fn exchange<S>(stream: &mut S, request: &[u8]) -> Result<Response, String>
where
    S: AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    stream
        .write_all(request)
        .await
        .map_err(|e| format!("write: {e}"))?;
    let mut buffer = Vec::with_capacity(8192);
    let head_end = loop {
        if let Some(at) = find(&buffer, b"\r\n\r\n") {
            break at + 4;
        }
        read_more(stream, &mut buffer).await?;
    };
    let head = std::str::from_utf8(&buffer[..head_end])
        .map_err(|_| "head not UTF-8")?
        .to_string();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or("no status")?;
    let length: usize = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0);
    if length > MAX_RESPONSE {
        return Err(format!("response of {length} bytes"));
    }
    while buffer.len() < head_end + length {
        read_more(stream, &mut buffer).await?;
    }
    Ok(Response {
        status,
        head,
        body: buffer[head_end..head_end + length].to_vec(),
    })
}

async fn read_more<S: AsyncRead + Unpin>(
    stream: &mut S,
    buffer: &mut Vec<u8>,
) -> Result<(), String> {
    if buffer.len() > MAX_RESPONSE {
        return Err("response too large".into());
    }
    let mut chunk = [0u8; 16384];
    match stream.read(&mut chunk).await {
        Ok(0) => Err("connection closed mid-response".into()),
        Ok(n) => {
            buffer.extend_from_slice(&chunk[..n]);
            Ok(())
        }
        Err(e) => Err(format!("read: {e}")),
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// One fetch on a fresh connection, as a phone does it; the body on a 200.
pub async fn fetch_once(endpoint: &Endpoint, phone: &Phone, path: &str) -> Result<Vec<u8>, String> {
    let work = async {
        let mut stream = endpoint.connect(home_address(phone.index)).await?;
        let response = exchange(&mut stream, &request(path, phone, true, endpoint.port)).await?;
        if response.status != 200 {
            return Err(format!("{path}: status {}", response.status));
        }
        Ok(response.body)
    };
    tokio::time::timeout(REQUEST_TIMEOUT, work)
        .await
        .map_err(|_| format!("{path}: timed out"))?
}

/// What a run measured.
#[derive(Debug, Default, Clone)]
pub struct Stats {
    pub requests: usize,
    pub errors: usize,
    pub first_error: Option<String>,
    pub elapsed: Duration,
    /// Microseconds per request, sorted.
    pub latencies: Vec<u32>,
}

impl Stats {
    pub fn rate(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }

    pub fn percentile_ms(&self, p: f64) -> f64 {
        if self.latencies.is_empty() {
            return 0.0;
        }
        let rank = ((p / 100.0) * (self.latencies.len() - 1) as f64).round() as usize;
        self.latencies[rank] as f64 / 1000.0
    }

    fn merge(parts: Vec<Stats>, elapsed: Duration) -> Stats {
        let mut all = Stats {
            elapsed,
            ..Stats::default()
        };
        for part in parts {
            all.requests += part.requests;
            all.errors += part.errors;
            all.first_error = all.first_error.or(part.first_error);
            let room = MAX_SAMPLES.saturating_sub(all.latencies.len());
            all.latencies.extend(part.latencies.into_iter().take(room));
        }
        all.latencies.sort_unstable();
        all
    }

    /// Records one request of a sequential run.
    pub fn record_at(&mut self, started: Instant, outcome: Result<(), String>) {
        self.record(started, outcome);
    }

    /// Ends a sequential run that took `elapsed`.
    pub fn finish(&mut self, elapsed: Duration) {
        self.elapsed = elapsed;
        self.latencies.sort_unstable();
    }

    fn record(&mut self, started: Instant, outcome: Result<(), String>) {
        match outcome {
            Ok(()) => {
                self.requests += 1;
                if self.latencies.len() < MAX_SAMPLES {
                    let micros = started.elapsed().as_micros().min(u32::MAX as u128) as u32;
                    self.latencies.push(micros);
                }
            }
            Err(e) => {
                self.errors += 1;
                self.first_error.get_or_insert(e);
            }
        }
    }
}

fn ok_200(response: Result<Response, String>) -> Result<(), String> {
    match response {
        Ok(r) if r.status == 200 && !r.body.is_empty() => Ok(()),
        Ok(r) => Err(format!("status {}", r.status)),
        Err(e) => Err(e),
    }
}

/// (a) Keep-alive: `connections` connections, each from one home address, fetching the device
/// files of the phones at that address in turn, for `duration`.
pub async fn keep_alive(
    endpoint: &Endpoint,
    phones: Arc<Vec<Phone>>,
    connections: usize,
    duration: Duration,
) -> Stats {
    keep_alive_on(endpoint, phones, connections, duration, |p| &p.device_path).await
}

/// Keep-alive as in (a), each phone fetching the file `path` names (its phonebook in (g)).
pub async fn keep_alive_on(
    endpoint: &Endpoint,
    phones: Arc<Vec<Phone>>,
    connections: usize,
    duration: Duration,
    path: fn(&Phone) -> &str,
) -> Stats {
    let deadline = Instant::now() + duration;
    in_parallel(
        connections,
        endpoint,
        &phones,
        move |c, endpoint, phones| async move {
            let mine: Vec<&Phone> = phones
                .iter()
                .filter(|p| p.index % connections == c)
                .collect();
            let requests: Vec<Vec<u8>> = mine
                .iter()
                .map(|p| request(path(p), p, false, endpoint.port))
                .collect();
            let mut stats = Stats::default();
            let mut stream = None;
            let mut next = c;
            while Instant::now() < deadline && !requests.is_empty() {
                let at = Instant::now();
                let outcome = async {
                    if stream.is_none() {
                        stream = Some(endpoint.connect(home_address(c)).await?);
                    }
                    let s = stream.as_mut().expect("connected");
                    let r = tokio::time::timeout(
                        REQUEST_TIMEOUT,
                        exchange(s, &requests[next % requests.len()]),
                    )
                    .await
                    .map_err(|_| "timed out".to_string())?;
                    ok_200(r)
                }
                .await;
                if outcome.is_err() {
                    stream = None;
                }
                stats.record(at, outcome);
                next += 1;
            }
            stats
        },
    )
    .await
}

/// (b) A new TLS connection per request: `workers` in parallel, each fetching random device
/// files from their phones' home addresses, for `duration`.
pub async fn new_connections(
    endpoint: &Endpoint,
    phones: Arc<Vec<Phone>>,
    workers: usize,
    duration: Duration,
) -> Stats {
    let deadline = Instant::now() + duration;
    in_parallel(
        workers,
        endpoint,
        &phones,
        move |w, endpoint, phones| async move {
            let mut stats = Stats::default();
            let mut random = XorShift(0x9e37_79b9_7f4a_7c15 ^ (w as u64 + 1));
            while Instant::now() < deadline {
                let phone = &phones[random.below(phones.len())];
                let at = Instant::now();
                let outcome = fetch_once(&endpoint, phone, &phone.device_path)
                    .await
                    .map(drop);
                stats.record(at, outcome);
            }
            stats
        },
    )
    .await
}

/// (c) A boot storm: every phone fetches its common file, then its own, each on a new
/// connection, at most `in_flight` phones at a time. Completes when all phones have both.
pub async fn boot_storm(endpoint: &Endpoint, phones: Arc<Vec<Phone>>, in_flight: usize) -> Stats {
    let next = Arc::new(AtomicUsize::new(0));
    in_parallel(in_flight, endpoint, &phones, move |_, endpoint, phones| {
        let next = next.clone();
        async move {
            let mut stats = Stats::default();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(phone) = phones.get(i) else { break };
                for path in [&phone.common_path, &phone.device_path] {
                    let at = Instant::now();
                    let outcome = fetch_once(&endpoint, phone, path).await.map(drop);
                    stats.record(at, outcome);
                }
            }
            stats
        }
    })
    .await
}

/// (d) Hot-desk logins: each worker walks its own phones: reads the config for the login
/// URL, logs in with the PIN, reads the config again and logs out. Counts completed logins.
pub async fn login_storm(
    endpoint: &Endpoint,
    phones: Arc<Vec<Phone>>,
    workers: usize,
    duration: Duration,
) -> Stats {
    let deadline = Instant::now() + duration;
    in_parallel(
        workers,
        endpoint,
        &phones,
        move |w, endpoint, phones| async move {
            let mine: Vec<&Phone> = phones
                .iter()
                .filter(|p| p.hotdesk_extension.is_some() && p.index % workers == w)
                .collect();
            let mut stats = Stats::default();
            let mut turn = 0;
            while Instant::now() < deadline && !mine.is_empty() {
                let phone = mine[turn % mine.len()];
                turn += 1;
                let at = Instant::now();
                let outcome =
                    tokio::time::timeout(REQUEST_TIMEOUT * 4, log_in_and_out(&endpoint, phone))
                        .await
                        .unwrap_or_else(|_| Err("login timed out".into()));
                stats.record(at, outcome);
            }
            stats
        },
    )
    .await
}

async fn log_in_and_out(endpoint: &Endpoint, phone: &Phone) -> Result<(), String> {
    let extension = phone.hotdesk_extension.as_deref().ok_or("not hot-desk")?;
    let mut stream = endpoint.connect(home_address(phone.index)).await?;
    let port = endpoint.port;
    let login = hotdesk_url(&mut stream, phone, port, "login").await?;
    let path = format!("{login}?ext={extension}&pin={}", crate::seed::PIN);
    let answer = exchange(&mut stream, &request(&path, phone, false, port)).await?;
    if !String::from_utf8_lossy(&answer.body).contains("Welcome") {
        return Err(format!("login refused: status {}", answer.status));
    }
    let logout = hotdesk_url(&mut stream, phone, port, "logout").await?;
    let answer = exchange(&mut stream, &request(&logout, phone, false, port)).await?;
    if !String::from_utf8_lossy(&answer.body).contains("Logged out") {
        return Err(format!("logout refused: status {}", answer.status));
    }
    Ok(())
}

/// The path of the phone's hot-desk `action` URL, read from its config as the phone does.
async fn hotdesk_url(
    stream: &mut TlsStream<TcpStream>,
    phone: &Phone,
    port: u16,
    action: &str,
) -> Result<String, String> {
    let config = exchange(stream, &request(&phone.device_path, phone, false, port)).await?;
    let text = String::from_utf8_lossy(&config.body);
    let suffix = format!("/{action}");
    text.match_indices("/hotdesk/")
        .map(|(at, _)| {
            let rest = &text[at..];
            let end = rest
                .find(|c: char| c.is_whitespace() || c == '"' || c == '<')
                .unwrap_or(rest.len());
            &rest[..end]
        })
        .find(|url| url.ends_with(&suffix))
        .map(str::to_string)
        .ok_or_else(|| format!("no {action} URL in the config (status {})", config.status))
}

/// Runs `count` workers at once, each given its number and its own handles on the endpoint
/// and the phones, and merges what they measured.
async fn in_parallel<F, Work>(
    count: usize,
    endpoint: &Endpoint,
    phones: &Arc<Vec<Phone>>,
    worker: F,
) -> Stats
where
    F: Fn(usize, Endpoint, Arc<Vec<Phone>>) -> Work,
    Work: Future<Output = Stats> + Send + 'static,
{
    let started = Instant::now();
    let tasks = (0..count)
        .map(|i| tokio::spawn(worker(i, endpoint.clone(), phones.clone())))
        .collect();
    join(tasks, started).await
}

async fn join(tasks: Vec<tokio::task::JoinHandle<Stats>>, started: Instant) -> Stats {
    let mut parts = Vec::new();
    for task in tasks {
        parts.push(task.await.unwrap_or_else(|e| Stats {
            errors: 1,
            first_error: Some(e.to_string()),
            ..Stats::default()
        }));
    }
    Stats::merge(parts, started.elapsed())
}

/// A fixed-seed generator, so both servers get the same sequence of files.
struct XorShift(u64);

impl XorShift {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}
