//! Every log line of the test run, kept for `tests/scan-logs.sh`, which `make test` runs after
//! the tests: none of the secrets the tests used (recorded here as they are used) may appear
//! in any of them.
//!
//! In-process servers log through one subscriber at `deskprov=trace` into
//! `target/tmp/test-logs/integration-<pid>.log`; binary servers' logs are copied beside it.
//! A canary written at start proves the file is really written and searched.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Mutex, Once};

/// Logged once per run: the scan must find it, or the logs were not searched.
pub const CANARY: &str = "deskprov-log-canary-5f1e";

pub fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("test-logs")
}

static INIT: Once = Once::new();
static SECRETS: Mutex<Option<File>> = Mutex::new(None);

/// Installs the run's log subscriber (once).
pub fn init() {
    INIT.call_once(|| {
        std::fs::create_dir_all(dir()).unwrap();
        let pid = std::process::id();
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir().join(format!("integration-{pid}.log")))
            .unwrap();
        let _ = tracing_subscriber::fmt()
            .with_env_filter(deskprov::telemetry::filter("deskprov=trace,info"))
            .with_writer(Mutex::new(log))
            .with_ansi(false)
            .try_init();
        tracing::info!(canary = CANARY, "test run started");
        let secrets = OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir().join(format!("secrets-{pid}.txt")))
            .unwrap();
        *SECRETS.lock().unwrap() = Some(secrets);
    });
}

/// Records a secret a test used. Too short ones would match by chance; ones with characters
/// real secrets do not have are the injection suite's probes, which it also sends as names
/// (that are logged); both are skipped.
pub fn remember_secret(secret: &str) {
    let secret_like = secret
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"._~+/=-".contains(&b));
    if secret.len() < 6 || !secret_like {
        return;
    }
    init();
    if let Some(file) = SECRETS.lock().unwrap().as_mut() {
        writeln!(file, "{secret}").unwrap();
    }
}

/// Records the secret-looking fields of an API request or answer, at any depth: passwords,
/// PINs, tokens.
pub fn remember_secrets_in(value: &serde_json::Value) {
    match value {
        serde_json::Value::Object(fields) => {
            for (name, value) in fields {
                let secret_name = ["password", "pin", "token"]
                    .iter()
                    .any(|s| name.contains(s));
                match value.as_str() {
                    Some(secret) if secret_name => remember_secret(secret),
                    _ => remember_secrets_in(value),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(remember_secrets_in),
        _ => {}
    }
}

/// Records an Authorization header's credentials: the header value and, for Basic, the
/// password inside it.
pub fn remember_authorization(value: &str) {
    let Some((scheme, credentials)) = value.split_once(' ') else {
        return;
    };
    remember_secret(credentials);
    if scheme.eq_ignore_ascii_case("basic") {
        use base64::Engine;
        if let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(credentials)
            && let Some((_, password)) = String::from_utf8_lossy(&decoded).split_once(':')
        {
            remember_secret(password);
        }
    }
}

/// Records a login token carried in a hot-desk path (`/hotdesk/<token>/...`).
pub fn remember_path_token(path: &str) {
    if let Some(rest) = path.split("/hotdesk/").nth(1) {
        remember_secret(rest.split(['/', '?']).next().unwrap_or(""));
    }
}

/// Keeps a binary server's log with the others.
pub fn keep_binary_log(log: &str) {
    init();
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let path = dir().join(format!("binary-{}-{n}.log", std::process::id()));
    std::fs::write(path, log).unwrap();
}

/// The lines this process's in-process servers have logged so far.
pub fn lines() -> Vec<String> {
    let path = dir().join(format!("integration-{}.log", std::process::id()));
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}
