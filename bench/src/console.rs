//! (h) The console's device list on the large site: an admin logged in (session cookie) pages
//! through 100,000 devices on one keep-alive connection: the first page, a page deep in the
//! list by its cursor, and a filtered page. Each answer is the full HTML page.

use std::net::Ipv4Addr;
use std::path::Path;
use std::time::Instant;

use deskprov::domain::{Role, Secret, Username};
use deskprov::hotdesk::hashing::Hasher;
use deskprov::model::AccountRecord;
use deskprov::store::Store;

use crate::load::{Endpoint, Stats, exchange};

const USERNAME: &str = "bench-admin";
const PASSWORD: &str = "Bench-Console 2026!";
const SESSION_COOKIE: &str = "__Host-deskprov-console";
const LOGIN_COOKIE: &str = "__Host-deskprov-console-login";
/// Requests of each kind.
pub const REQUESTS: usize = 300;

/// What (h) measured: each kind of list page with its latencies.
pub struct ConsoleList {
    pub pages: Vec<(&'static str, Stats)>,
}

/// Puts an admin account into the site's database (the server stopped).
pub async fn seed_account(db: &Path) -> Result<(), String> {
    let store = Store::open(db).map_err(|e| format!("opening {}: {e}", db.display()))?;
    let hash = Hasher::new(1)
        .hash_secret(Secret::from_trusted(PASSWORD.into()))
        .await
        .map_err(|e| e.to_string())?;
    let account = AccountRecord {
        username: Username::parse(USERNAME).map_err(|e| e.to_string())?,
        password_hash: hash,
        role: Role::Admin,
        reads_secrets: false,
        disabled: false,
        password_change_required: false,
        language: Some("en".into()),
        created_at: 0,
        password_changed_at: 0,
        totp_secret: None,
        totp_pending: None,
        totp_last_step: 0,
        totp_required: false,
    };
    deskprov::ops::restore::put_accounts(&store, &[account])
        .await
        .map_err(|e| e.to_string())
}

fn request(method: &str, path: &str, port: u16, cookie: &str, body: &str) -> Vec<u8> {
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n");
    if !cookie.is_empty() {
        head.push_str(&format!("Cookie: {cookie}\r\n"));
    }
    if method == "POST" {
        head.push_str(&format!(
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    format!("{head}\r\n{body}").into_bytes()
}

/// The value a `Set-Cookie` header of `head` gives `name`.
fn cookie(head: &str, name: &str) -> Option<String> {
    head.lines().find_map(|line| {
        let (header, value) = line.split_once(':')?;
        let value = value.trim().strip_prefix(&format!("{name}="))?;
        header
            .eq_ignore_ascii_case("set-cookie")
            .then(|| value.split(';').next().unwrap_or("").to_string())
    })
}

fn hidden(body: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = body.find(&marker)? + marker.len();
    Some(body[start..start + body[start..].find('"')?].to_string())
}

/// Whether a page shows device rows (an error page or an empty list would measure nothing).
fn lists_devices(body: &[u8]) -> bool {
    String::from_utf8_lossy(body).contains("<td><a href=\"/devices/")
}

/// Logs in as the seeded admin and measures the list pages; `deep` is a MAC far into the list.
pub async fn measure(endpoint: &Endpoint, deep: &str) -> Result<ConsoleList, String> {
    let mut stream = endpoint.connect(Ipv4Addr::LOCALHOST).await?;
    let port = endpoint.port;
    let form = exchange(&mut stream, &request("GET", "/login", port, "", "")).await?;
    let login_cookie = cookie(&form.head, LOGIN_COOKIE).ok_or("no login cookie")?;
    let csrf = hidden(&String::from_utf8_lossy(&form.body), "csrf").ok_or("no csrf")?;
    let body = format!("csrf={csrf}&username={USERNAME}&password=Bench-Console+2026%21");
    let cookie_header = format!("{LOGIN_COOKIE}={login_cookie}");
    let login = request("POST", "/login", port, &cookie_header, &body);
    let answer = exchange(&mut stream, &login).await?;
    let session = cookie(&answer.head, SESSION_COOKIE)
        .ok_or_else(|| format!("login refused: status {}", answer.status))?;
    let session = format!("{SESSION_COOKIE}={session}");
    let deep_path = format!("/devices?after={deep}");
    let kinds: [(&'static str, &str); 3] = [
        ("first page", "/devices"),
        ("a page deep in the list (cursor)", &deep_path),
        ("filtered by model, first page", "/devices?model=T54W"),
    ];
    let mut pages = Vec::new();
    for (name, path) in kinds {
        let mut stats = Stats::default();
        let started = Instant::now();
        for _ in 0..REQUESTS {
            let at = Instant::now();
            let answer = exchange(&mut stream, &request("GET", path, port, &session, "")).await;
            let outcome = match answer {
                Ok(r) if r.status == 200 && lists_devices(&r.body) => Ok(()),
                Ok(r) => Err(format!("{path}: status {}", r.status)),
                Err(e) => Err(e),
            };
            stats.record_at(at, outcome);
        }
        stats.finish(started.elapsed());
        pages.push((name, stats));
    }
    Ok(ConsoleList { pages })
}
