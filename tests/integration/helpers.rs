//! Starting servers for tests: in-process through `deskprov::startup::start` (with a manual
//! clock), or as the real binary for signals, the CLI and crash tests.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use deskprov::client::{Client, Reply};
use deskprov::clock::Clock;
use deskprov::config::Config;
use deskprov::startup::{self, Running};
use rustls_pki_types::CertificateDer;
use serde_json::json;
use tempfile::TempDir;

use crate::api::{AdminApi, NewDevice, NewUser};

pub const T46S_UA: &str = "Yealink SIP-T46S 66.86.0.15 00:15:65:aa:bb:cc";
pub const T46S_MAC: &str = "001565aabbcc";
pub const W70B_UA: &str = "Yealink W70B 146.87.0.15 80:5e:0c:1d:65:4e";
pub const W70B_MAC: &str = "805e0c1d654e";
/// 2026-01-01T00:00:00Z: the manual clock's start.
pub const START: i64 = 1_767_225_600;

/// The run's test CA: one for every server of the run, so that the run's one browser
/// (browser.rs) can trust it as a browser trusts a site's CA. Generated once a run.
pub struct TestCa {
    params: rcgen::CertificateParams,
    key_pem: String,
    pub der: CertificateDer<'static>,
    pub pem: String,
}

pub fn test_ca() -> &'static TestCa {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};
    static CA: OnceLock<TestCa> = OnceLock::new();
    CA.get_or_init(|| {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "deskprov test CA");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        TestCa {
            params,
            key_pem: key.serialize_pem(),
            der: cert.der().clone(),
            pem: cert.pem(),
        }
    })
}

/// A server certificate for localhost and 127.0.0.1 signed by the run's test CA, written into
/// `certs`; returns the CA.
pub fn write_test_certificates(certs: &Path) -> CertificateDer<'static> {
    use rcgen::{CertificateParams, ExtendedKeyUsagePurpose, Issuer, KeyPair};
    std::fs::create_dir_all(certs).unwrap();
    let ca = test_ca();
    let issuer = Issuer::new(ca.params.clone(), KeyPair::from_pem(&ca.key_pem).unwrap());
    let mut server = CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let server_key = KeyPair::generate().unwrap();
    let server_cert = server.signed_by(&server_key, &issuer).unwrap();
    std::fs::write(certs.join("server.crt"), server_cert.pem()).unwrap();
    std::fs::write(certs.join("server.key"), server_key.serialize_pem()).unwrap();
    ca.der.clone()
}

pub fn test_config(dir: &Path) -> Config {
    let mut config = Config::default();
    config.server.data_dir = dir.join("data");
    config.server.certs_dir = dir.join("certs");
    config.server.phone_listen = "127.0.0.1:0".parse().unwrap();
    config.server.admin_listen = "127.0.0.1:0".parse().unwrap();
    config
}

/// A server running in this process.
pub struct TestServer {
    pub dir: TempDir,
    pub running: Option<Running>,
    pub clock: Clock,
    pub phone: Client,
    pub admin: Client,
    pub ca: CertificateDer<'static>,
    pub token: String,
}

impl TestServer {
    pub async fn start() -> TestServer {
        TestServer::start_with(|_| {}).await
    }

    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        TestServer::start_in(dir, Clock::manual(START), adjust).await
    }

    /// Another node of `other`'s site: a data directory and listeners of its own, `other`'s
    /// clock and admin token, and the shared database that `adjust` names (`[database] url`).
    pub async fn start_beside(other: &TestServer, adjust: impl FnOnce(&mut Config)) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("data")).unwrap();
        std::fs::write(dir.path().join("data/admin.token"), &other.token).unwrap();
        TestServer::start_in(dir, other.clock.clone(), adjust).await
    }

    async fn start_in(dir: TempDir, clock: Clock, adjust: impl FnOnce(&mut Config)) -> TestServer {
        crate::logs::init();
        let ca = write_test_certificates(&dir.path().join("certs"));
        let mut config = test_config(dir.path());
        adjust(&mut config);
        let running = startup::start(config, clock.clone())
            .await
            .expect("server starts");
        let phone =
            Client::new(running.phone_addr, "localhost", std::slice::from_ref(&ca)).unwrap();
        let admin =
            Client::new(running.admin_addr, "localhost", std::slice::from_ref(&ca)).unwrap();
        let token = std::fs::read_to_string(dir.path().join("data/admin.token"))
            .unwrap()
            .trim()
            .to_string();
        crate::logs::remember_secret(&token);
        if let Ok(password) = std::fs::read_to_string(dir.path().join("data/admin.password")) {
            crate::logs::remember_secret(password.trim());
        }
        TestServer {
            dir,
            running: Some(running),
            clock,
            phone,
            admin,
            ca,
            token,
        }
    }

    pub fn running(&self) -> &Running {
        self.running.as_ref().expect("server running")
    }

    pub fn admin_auth(&self) -> String {
        format!("Bearer {}", self.token)
    }

    /// The admin API of this server, called with its initial token.
    pub fn admin_api(&self) -> AdminApi<'_> {
        AdminApi::new(&self.admin, &self.token)
    }

    pub async fn phone_get(&self, path: &str, user_agent: &str) -> Reply {
        crate::logs::remember_path_token(path);
        self.phone
            .get(path, &[("user-agent", user_agent)])
            .await
            .unwrap()
    }

    pub async fn phone_get_with(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        crate::logs::remember_path_token(path);
        for (name, value) in headers {
            if name.eq_ignore_ascii_case("authorization") {
                crate::logs::remember_authorization(value);
            }
        }
        self.phone.get(path, headers).await.unwrap()
    }

    /// The device's provisioning user and password.
    pub async fn credentials(&self, mac: &str) -> (String, String) {
        let c = self.admin_api().credentials(mac).ok().await;
        (
            c["username"].as_str().unwrap().into(),
            c["password"].as_str().unwrap().into(),
        )
    }

    /// Users 1001 (Alice) and 1002 (Bob), a T46S at T46S_MAC with Alice on line 1, and the SIP server.
    pub async fn seed_desk_phone(&self) {
        let api = self.admin_api();
        api.patch_settings(json!({"sip_server": "pbx.example.com", "sip_transport": "tls"}))
            .ok()
            .await;
        let alice = NewUser::new("1001", "Alice Example").sip_password("alice-secret-0001");
        api.create_user(alice).ok().await;
        let bob = NewUser::new("1002", "Bob Example").sip_password("bob-secret-00002");
        api.create_user(bob).ok().await;
        api.create_device(NewDevice::new("00:15:65:AA:BB:CC").model("T46S"))
            .ok()
            .await;
        api.assign(T46S_MAC, 1, "1001").ok().await;
    }

    pub async fn stop(&mut self) {
        if let Some(running) = self.running.take() {
            running.stop().await;
        }
    }

    /// Stops the server and starts it again on the same data directory and clock, with the
    /// test configuration adjusted by `adjust`.
    pub async fn restart_with(&mut self, adjust: impl FnOnce(&mut Config)) {
        self.stop().await;
        let mut config = test_config(self.dir.path());
        adjust(&mut config);
        let running = startup::start(config, self.clock.clone())
            .await
            .expect("server restarts");
        let ca = std::slice::from_ref(&self.ca);
        self.phone = Client::new(running.phone_addr, "localhost", ca).unwrap();
        self.admin = Client::new(running.admin_addr, "localhost", ca).unwrap();
        self.running = Some(running);
    }
}

pub fn basic(user: &str, password: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

/// The real `deskprov serve`, with its log captured.
pub struct BinaryServer {
    pub child: Child,
    pub phone_addr: SocketAddr,
    pub admin_addr: SocketAddr,
    pub log: Arc<Mutex<String>>,
}

/// The first admin token a server wrote into `dir`'s data directory.
pub fn admin_token_in(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("data/admin.token"))
        .unwrap()
        .trim()
        .to_string()
}

pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_deskprov")
}

impl BinaryServer {
    pub fn start(dir: &Path, extra: &[&str]) -> BinaryServer {
        let mut args = vec![
            "serve".to_string(),
            "--data".into(),
            dir.join("data").display().to_string(),
            "--certs".into(),
            dir.join("certs").display().to_string(),
            "--phone-listen".into(),
            "127.0.0.1:0".into(),
            "--admin-listen".into(),
            "127.0.0.1:0".into(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        let mut child = Command::new(binary())
            .args(&args)
            // Everything deskprov logs, but not sled's page-cache internals: their log sequence
            // numbers and offsets are bare numbers that can equal a test's 6-digit PIN, which
            // the log scan would then report as a leak.
            .env("RUST_LOG", "debug,sled=info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                for (marker, role) in [
                    ("phone listener ready", "phone"),
                    ("admin listener ready", "admin"),
                ] {
                    if line.contains(marker)
                        && let Some(addr) = listener_address(&line)
                    {
                        let _ = tx.send((role, addr));
                    }
                }
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        let (mut phone, mut admin) = (None, None);
        let deadline = Instant::now() + Duration::from_secs(30);
        while phone.is_none() || admin.is_none() {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(("phone", a)) => phone = Some(a),
                Ok((_, a)) => admin = Some(a),
                Err(_) => panic!("server did not start; log:\n{}", log.lock().unwrap()),
            }
        }
        BinaryServer {
            child,
            phone_addr: phone.unwrap(),
            admin_addr: admin.unwrap(),
            log,
        }
    }

    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits for the process to exit; its exit code (None if killed by a signal).
    pub fn wait(&mut self, limit: Duration) -> Option<i32> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            assert!(
                Instant::now() < deadline,
                "server did not exit; log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// The address of a "listener ready" line, in the text format (`addr=…`) or JSON (`"addr":"…"`).
fn listener_address(line: &str) -> Option<SocketAddr> {
    if let Some(rest) = line.split("\"addr\":\"").nth(1) {
        return rest.split('"').next()?.parse().ok();
    }
    line.split("addr=").nth(1)?.trim().parse().ok()
}

impl Drop for BinaryServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        crate::logs::keep_binary_log(&self.log());
    }
}

/// The CLI of the binary server in `dir`, with the token of `<dir>/data/admin.token`.
pub fn cli_command(dir: &Path, admin: SocketAddr, args: &[&str]) -> Command {
    let mut command = Command::new(binary());
    command
        .args([
            "--data",
            &dir.join("data").display().to_string(),
            "--certs",
            &dir.join("certs").display().to_string(),
        ])
        .args(["--admin-listen", &admin.to_string()])
        .args(args)
        .env_remove("DESKPROV_TOKEN");
    command
}

/// Runs the CLI against a binary server; (exit code, stdout, stderr).
pub fn cli(dir: &Path, admin: SocketAddr, args: &[&str]) -> (i32, String, String) {
    outcome(cli_command(dir, admin, args).output().unwrap())
}

/// Runs the CLI with `input` as its standard input (a pipe, never a terminal).
pub fn cli_with_input(
    dir: &Path,
    admin: SocketAddr,
    args: &[&str],
    input: &str,
) -> (i32, String, String) {
    let mut child = cli_command(dir, admin, args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    std::io::Write::write_all(&mut stdin, input.as_bytes()).unwrap();
    drop(stdin);
    outcome(child.wait_with_output().unwrap())
}

fn outcome(output: std::process::Output) -> (i32, String, String) {
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// Overrides Yealink's desk template in `dir` with the shipped one plus a `## {marker}` line.
pub fn override_template(dir: &Path, marker: &str) {
    let shipped = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("phone-templates/yealink/desk.cfg.hbs"),
    )
    .unwrap();
    std::fs::create_dir_all(dir.join("yealink")).unwrap();
    std::fs::write(
        dir.join("yealink/desk.cfg.hbs"),
        format!("{shipped}## {marker}\n"),
    )
    .unwrap();
}

/// A request hyper refuses before any handler runs (a head too large, a target too long): the
/// client gets that status, or sees the connection closed or reset while it is still writing.
/// Anything else, and above all a served file, fails.
pub fn refused_by_http(
    result: Result<Reply, deskprov::client::ClientError>,
    status: http::StatusCode,
) {
    match result {
        Ok(reply) => assert_eq!(reply.status, status, "{}", reply.text()),
        Err(deskprov::client::ClientError::Http(e)) => {
            let mut cause: Option<&dyn std::error::Error> = Some(&e);
            let mut reset = false;
            while let Some(c) = cause {
                if let Some(io) = c.downcast_ref::<std::io::Error>() {
                    reset |= matches!(
                        io.kind(),
                        std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::BrokenPipe
                    );
                }
                cause = c.source();
            }
            assert!(
                reset || e.is_incomplete_message() || e.is_closed() || e.is_canceled(),
                "neither {status} nor a closed connection: {e}"
            );
        }
        Err(e) => panic!("neither {status} nor a closed connection: {e}"),
    }
}

/// Raises this process's open-file limit so a thousand connections (two descriptors each,
/// both ends in this process) fit.
pub fn allow_many_files() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct passed.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < 8192 {
            limit.rlim_cur = limit.rlim_max.min(8192);
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

/// Flood tests open hundreds of sockets and keep the machine's two cores busy: one at a time.
pub static FLOODS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub async fn unregistered_macs(api: &AdminApi<'_>) -> Vec<String> {
    let seen = api.list_unregistered().ok().await;
    seen.as_array()
        .unwrap()
        .iter()
        .map(|e| e["mac"].as_str().unwrap().to_string())
        .collect()
}

/// The seen-unregistered list is written off the request path: waits (bounded) for `macs`.
pub async fn wait_until_listed(api: &AdminApi<'_>, macs: &[&str]) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let listed = unregistered_macs(api).await;
        if macs.iter().all(|m| listed.iter().any(|l| l == m)) {
            return;
        }
        assert!(Instant::now() < deadline, "{macs:?} not in {listed:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Sightings and refusals are written off the request path, in batches: waits (bounded) until
/// everything the server was handed so far is written.
pub async fn wait_for_sightings(server: &TestServer) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !server.running().app.sightings.is_idle() {
        assert!(Instant::now() < deadline, "sightings not written");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
