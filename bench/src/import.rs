//! (i) A CSV import of many users through the admin API, as an admin moving a site in does it:
//! one file, checked and written all at once. Reports how long it took and the server's peak
//! resident memory (the kernel's high-water mark, `VmHWM`) before and after.

use std::fmt::Write as _;
use std::net::Ipv4Addr;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::load::{Endpoint, exchange};
use crate::servers::Running;

/// What (i) measured.
pub struct Import {
    pub users: usize,
    pub took: Duration,
    /// Peak resident memory of the server before the import, and at its end.
    pub peak_before_mib: f64,
    pub peak_after_mib: f64,
    pub file_bytes: usize,
}

/// A users file of `users` rows, extensions after the seeded site's, without PINs (hashing
/// 100,000 of them measures argon2, not the import).
pub fn users_csv(users: usize) -> String {
    let mut csv = String::from("extension,first_name,last_name,display_name,email,language\n");
    for i in 0..users {
        let extension = 500_000 + i;
        let _ = writeln!(
            csv,
            "{extension},Vorname{i},Nachname{i},Vorname{i} Nachname{i},user{i}@example.org,de"
        );
    }
    csv
}

fn request(method: &str, path: &str, port: u16, token: &str, body: &[u8]) -> Vec<u8> {
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n"
    );
    if method == "POST" {
        request.push_str(&format!(
            "Content-Type: text/csv\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    request.push_str("\r\n");
    let mut bytes = request.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

fn field<'a>(json: &'a serde_json::Value, name: &str) -> &'a str {
    json.get(name).and_then(|v| v.as_str()).unwrap_or("")
}

/// Imports `users` users into the running `server` (on a site of its own) and waits for the job.
pub async fn measure(
    server: &Running,
    endpoint: &Endpoint,
    data: &Path,
    users: usize,
) -> Result<Import, String> {
    let token = std::fs::read_to_string(data.join("admin.token"))
        .map_err(|e| format!("the admin token: {e}"))?;
    let token = token.trim();
    let file = users_csv(users);
    let peak_before_mib = server.peak_rss_mib();
    let mut stream = endpoint.connect(Ipv4Addr::LOCALHOST).await?;
    let port = endpoint.port;
    let started = Instant::now();
    let post = request("POST", "/api/v1/import/users", port, token, file.as_bytes());
    let answer = exchange(&mut stream, &post).await?;
    if answer.status != 202 {
        return Err(format!(
            "import refused: {} {}",
            answer.status,
            String::from_utf8_lossy(&answer.body)
        ));
    }
    let job: serde_json::Value = serde_json::from_slice(&answer.body).map_err(|e| e.to_string())?;
    let path = format!("/api/v1/imports/{}", field(&job, "id"));
    let job = loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let answer = exchange(&mut stream, &request("GET", &path, port, token, b"")).await?;
        let job: serde_json::Value =
            serde_json::from_slice(&answer.body).map_err(|e| e.to_string())?;
        if field(&job, "state") != "running" {
            break job;
        }
    };
    let took = started.elapsed();
    if field(&job, "state") != "done" || job.get("created") != Some(&users.into()) {
        return Err(format!("the import did not create every user: {job}"));
    }
    Ok(Import {
        users,
        took,
        peak_before_mib,
        peak_after_mib: server.peak_rss_mib(),
        file_bytes: file.len(),
    })
}
