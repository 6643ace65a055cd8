//! Starting and stopping the two servers under test: deskprov from its release binary, and
//! nginx serving the files deskprov rendered, with the same certificate and TLS versions.

use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::load::{self, Endpoint};
use crate::seed::Phone;

/// A child process killed when dropped, so a failed run leaves no server behind.
pub struct Running {
    pub child: Child,
    pub port: u16,
    /// deskprov's admin listener (the API and the console); 0 for nginx.
    pub admin: u16,
}

impl Drop for Running {
    /// SIGTERM first: nginx's master stops its workers only when asked, not when killed.
    fn drop(&mut self) {
        // SAFETY: kill only sends a signal to our own child.
        unsafe {
            libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM);
        }
        for _ in 0..100 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Running {
    /// Resident memory now, from /proc.
    pub fn rss_mib(&self) -> f64 {
        proc_status_kib(self.child.id(), "VmRSS:") as f64 / 1024.0
    }

    /// The most memory it has held resident since it started (the kernel's high-water mark).
    pub fn peak_rss_mib(&self) -> f64 {
        proc_status_kib(self.child.id(), "VmHWM:") as f64 / 1024.0
    }
}

fn proc_status_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// A loopback port free right now.
pub fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(listener.local_addr().map_err(|e| e.to_string())?.port())
}

/// Starts deskprov on `data` and waits until it serves `probe`'s common file; returns the
/// server and how long start-up took.
pub async fn start_deskprov(
    binary: &Path,
    work: &Path,
    data: &Path,
    probe: &Phone,
) -> Result<(Running, Duration), String> {
    start_deskprov_with(binary, work, data, probe, "").await
}

/// As [`start_deskprov`], with `extra` appended to its configuration file (TOML tables).
pub async fn start_deskprov_with(
    binary: &Path,
    work: &Path,
    data: &Path,
    probe: &Phone,
    extra: &str,
) -> Result<(Running, Duration), String> {
    let port = free_port()?;
    let admin = free_port()?;
    let config = work.join(format!("deskprov-{port}.toml"));
    let text = format!(
        "[server]\ndata_dir = {data:?}\ncerts_dir = {certs:?}\nphone_listen = \"127.0.0.1:{port}\"\n\
         admin_listen = \"127.0.0.1:{admin}\"\nlog = \"info\"\n{extra}",
        data = data.display().to_string(),
        certs = work.join("certs").display().to_string(),
    );
    std::fs::write(&config, text).map_err(|e| e.to_string())?;
    let log = std::fs::File::create(work.join(format!("deskprov-{port}.log")))
        .map_err(|e| e.to_string())?;
    let started = Instant::now();
    let child = Command::new(binary)
        // As packaging/deskprov.service runs it (freed pages purged at once, no huge pages).
        .env("MIMALLOC_PURGE_DELAY", "0")
        .env("MIMALLOC_ALLOW_THP", "0")
        .arg("--config")
        .arg(&config)
        .arg("serve")
        .stdout(Stdio::from(log.try_clone().map_err(|e| e.to_string())?))
        .stderr(Stdio::from(log))
        .spawn()
        .map_err(|e| format!("starting {}: {e}", binary.display()))?;
    let running = Running { child, port, admin };
    let ready = wait_until_serving(&running, work, probe).await?;
    Ok((running, ready.duration_since(started)))
}

async fn wait_until_serving(
    running: &Running,
    work: &Path,
    probe: &Phone,
) -> Result<Instant, String> {
    let cert = work.join("certs").join("server.crt");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if Instant::now() > deadline {
            return Err("server did not start within 60 s".into());
        }
        if cert.exists()
            && let Ok(endpoint) = Endpoint::new(running.port, &cert)
            && load::fetch_once(&endpoint, probe, &probe.common_path)
                .await
                .is_ok()
        {
            return Ok(Instant::now());
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// The bare hyper + rustls responder (src/bin/bare-responder.rs, built beside this binary)
/// serving `file` for every request, with deskprov's certificate and TLS configuration.
pub async fn start_bare(work: &Path, file: &Path, probe: &Phone) -> Result<Running, String> {
    let port = free_port()?;
    let binary = std::env::current_exe()
        .map_err(|e| e.to_string())?
        .with_file_name("bare-responder");
    let child = Command::new(&binary)
        .arg(work.join("certs"))
        .arg(port.to_string())
        .arg(file)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("starting {}: {e}", binary.display()))?;
    let running = Running {
        child,
        port,
        admin: 0,
    };
    wait_until_serving(&running, work, probe).await?;
    Ok(running)
}

/// nginx with one worker per core, the same certificate and TLS versions as deskprov, serving
/// `root`.
pub async fn start_nginx(work: &Path, root: &Path, probe: &Phone) -> Result<Running, String> {
    let port = free_port()?;
    let prefix = work.join("nginx");
    std::fs::create_dir_all(prefix.join("logs")).map_err(|e| e.to_string())?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let certs = work.join("certs");
    let user = if unsafe { libc::geteuid() } == 0 {
        "user root;\n"
    } else {
        ""
    };
    let config = format!(
        r#"{user}worker_processes {cores};
worker_rlimit_nofile 65536;
pid {prefix}/nginx.pid;
error_log {prefix}/logs/error.log warn;
events {{ worker_connections 16384; }}
http {{
    access_log off;
    types {{ text/plain cfg; application/xml xml; text/html htm; }}
    default_type application/octet-stream;
    keepalive_timeout 300s;
    keepalive_requests 1000000;
    server {{
        listen 127.0.0.1:{port} ssl backlog=4096;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        # deskprov's versions and suites (Mozilla intermediate), no resumption for a fresh phone.
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305;
        ssl_session_tickets off;
        root {root};
    }}
}}
"#,
        prefix = prefix.display(),
        cert = certs.join("server.crt").display(),
        key = certs.join("server.key").display(),
        root = root.display(),
    );
    let path = prefix.join("nginx.conf");
    std::fs::File::create(&path)
        .and_then(|mut f| f.write_all(config.as_bytes()))
        .map_err(|e| e.to_string())?;
    let child = Command::new(nginx_binary())
        .arg("-p")
        .arg(&prefix)
        .arg("-c")
        .arg(&path)
        .arg("-g")
        .arg("daemon off;")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("starting nginx: {e}"))?;
    let running = Running {
        child,
        port,
        admin: 0,
    };
    wait_until_serving(&running, work, probe).await?;
    Ok(running)
}

pub fn nginx_binary() -> PathBuf {
    ["/usr/sbin/nginx", "/usr/local/sbin/nginx"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from("nginx"))
}

pub fn nginx_version() -> String {
    Command::new(nginx_binary())
        .arg("-v")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stderr).trim().to_string())
        .unwrap_or_else(|_| "nginx (version unknown)".into())
}
