//! A real PostgreSQL for the tests of the shared backend: Debian's `postgresql` (installed by
//! tests/setup.sh), `initdb` into a temporary directory and `pg_ctl start` on a free loopback
//! port, as the `postgres` user when the tests run as root (PostgreSQL refuses to run as root).
//! Tests share one server for the run ([`Postgres::shared`]), each in a database of its own
//! ([`Postgres::database`]); a test that stops its server starts its own ([`Postgres::start`]).
//! Every server started is shut down at process exit. PostgreSQL missing is a failure, never a
//! skip.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

static RUNNING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

extern "C" fn stop_all() {
    if let Ok(dirs) = RUNNING.lock() {
        for dir in dirs.iter() {
            if let Some(pid) = postmaster_pid(dir) {
                // SAFETY: SIGQUIT asks a postmaster this run started for an immediate shutdown.
                unsafe { libc::kill(pid, libc::SIGQUIT) };
            }
        }
    }
}

fn postmaster_pid(data: &Path) -> Option<libc::pid_t> {
    let text = std::fs::read_to_string(data.join("postmaster.pid")).ok()?;
    text.lines().next()?.trim().parse().ok()
}

pub struct Postgres {
    dir: tempfile::TempDir,
    pub port: u16,
    bin: PathBuf,
}

/// The newest PostgreSQL's programs that Debian installed.
fn bin_dir() -> PathBuf {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL is installed (Debian's postgresql, by tests/setup.sh)")
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            let version = path.file_name()?.to_str()?.parse().ok()?;
            path.join("bin/initdb")
                .exists()
                .then(|| (version, path.join("bin")))
        })
        .collect();
    found.sort();
    found
        .pop()
        .expect("an initdb in /usr/lib/postgresql/*/bin (Debian's postgresql)")
        .1
}

/// The user and group the server runs as: `postgres` when the tests run as root.
fn runs_as() -> Option<(u32, u32)> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return None;
    }
    let name = std::ffi::CString::new("postgres").unwrap();
    // SAFETY: a NUL-terminated name; the record is read at once, before any other call.
    let entry = unsafe { libc::getpwnam(name.as_ptr()) };
    assert!(
        !entry.is_null(),
        "running as root, the tests start PostgreSQL as the user postgres, which Debian's \
         postgresql package creates"
    );
    // SAFETY: checked non-null above.
    let entry = unsafe { &*entry };
    Some((entry.pw_uid, entry.pw_gid))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Postgres {
    /// The run's shared server: never stopped by a test.
    pub fn shared() -> &'static Postgres {
        static SHARED: std::sync::OnceLock<Postgres> = std::sync::OnceLock::new();
        SHARED.get_or_init(Postgres::start)
    }

    /// A server of its own, for a test that stops and starts it.
    pub fn start() -> Postgres {
        let postgres = Postgres::initialised();
        postgres.up();
        postgres
    }

    /// A server of its own that speaks TLS only: a certificate for 127.0.0.1 from the run's
    /// test CA, and `pg_hba.conf` with `hostssl` lines alone, so that a plain connection is
    /// refused and any connection that works is encrypted.
    pub fn start_tls() -> Postgres {
        let postgres = Postgres::initialised();
        let data = postgres.data();
        crate::helpers::write_test_certificates(&data);
        std::fs::write(
            data.join("pg_hba.conf"),
            "hostssl all all 127.0.0.1/32 trust\n",
        )
        .unwrap();
        let mut conf = std::fs::read_to_string(data.join("postgresql.conf")).unwrap();
        conf.push_str("\nssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n");
        std::fs::write(data.join("postgresql.conf"), conf).unwrap();
        use std::os::unix::fs::PermissionsExt;
        for file in ["server.crt", "server.key", "pg_hba.conf", "postgresql.conf"] {
            let path = data.join(file);
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
            if let Some((uid, gid)) = runs_as() {
                std::os::unix::fs::chown(&path, Some(uid), Some(gid)).unwrap();
            }
        }
        postgres.up();
        postgres
    }

    /// A new data directory, `initdb` run, the server not started.
    fn initialised() -> Postgres {
        static ATEXIT: std::sync::Once = std::sync::Once::new();
        // SAFETY: registers a function without arguments that never unwinds.
        ATEXIT.call_once(|| unsafe {
            libc::atexit(stop_all);
        });
        let dir = tempfile::tempdir().unwrap();
        let postgres = Postgres {
            dir,
            port: free_port(),
            bin: bin_dir(),
        };
        if let Some((uid, gid)) = runs_as() {
            std::os::unix::fs::chown(postgres.dir.path(), Some(uid), Some(gid)).unwrap();
        }
        let initdb = postgres
            .command("initdb")
            .args([
                "-A",
                "trust",
                "-U",
                "deskprov",
                "-E",
                "UTF8",
                "--no-sync",
                "-D",
            ])
            .arg(postgres.data())
            .output()
            .expect("initdb runs");
        assert!(
            initdb.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&initdb.stderr)
        );
        RUNNING.lock().unwrap().push(postgres.data());
        postgres
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(self.bin.join(program));
        command.stdin(Stdio::null());
        if let Some((uid, gid)) = runs_as() {
            command.uid(uid).gid(gid);
        }
        command
    }

    /// Starts the server (again) on its port and waits until it accepts connections.
    pub fn up(&self) {
        // fsync off: the tests kill the server, never the machine. synchronous_commit stays
        // on, or a commit acknowledged just before an immediate stop would be lost.
        let options = format!(
            "-c listen_addresses=127.0.0.1 -c port={} -c unix_socket_directories='' \
             -c fsync=off -c full_page_writes=off \
             -c max_connections=300 -c shared_buffers=32MB",
            self.port
        );
        let started = self
            .command("pg_ctl")
            .args(["start", "-w", "-t", "60", "-s", "-D"])
            .arg(self.data())
            .args(["-o", &options, "-l"])
            .arg(self.dir.path().join("server.log"))
            .output()
            .expect("pg_ctl runs");
        assert!(
            started.status.success(),
            "pg_ctl start failed: {}{}",
            String::from_utf8_lossy(&started.stderr),
            std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
        );
    }

    /// Stops the server at once (`immediate`: as a crash would, open sessions cut).
    pub fn down(&self) {
        let stopped = self
            .command("pg_ctl")
            .args(["stop", "-m", "immediate", "-w", "-s", "-D"])
            .arg(self.data())
            .output()
            .expect("pg_ctl runs");
        assert!(
            stopped.status.success(),
            "pg_ctl stop failed: {}",
            String::from_utf8_lossy(&stopped.stderr)
        );
    }

    /// The URL of the server's maintenance database.
    pub fn admin_url(&self) -> String {
        format!("postgres://deskprov@127.0.0.1:{}/postgres", self.port)
    }

    /// A new, empty database on this server; its URL.
    pub async fn database(&self) -> String {
        static NEXT: AtomicU32 = AtomicU32::new(1);
        let name = format!(
            "test_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        let (client, connection) =
            tokio_postgres::connect(&self.admin_url(), tokio_postgres::NoTls)
                .await
                .expect("the test PostgreSQL answers");
        let connection = tokio::spawn(connection);
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        drop(client);
        let _ = connection.await;
        format!("postgres://deskprov@127.0.0.1:{}/{name}", self.port)
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let data = self.data();
        if postmaster_pid(&data).is_some() {
            let _ = self
                .command("pg_ctl")
                .args(["stop", "-m", "immediate", "-w", "-s", "-D"])
                .arg(&data)
                .output();
        }
        RUNNING.lock().unwrap().retain(|d| d != &data);
    }
}

/// A connection to `url` for a test's own statements.
pub async fn client(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("the test PostgreSQL answers");
    tokio::spawn(connection);
    client
}

/// The shared backend on a fresh database of the run's server.
pub async fn backend() -> (deskprov::store::postgres::PgBackend, String) {
    let url = Postgres::shared().database().await;
    let parsed = deskprov::store::postgres::DatabaseUrl::parse(&url, None, None).unwrap();
    let backend = deskprov::store::postgres::PgBackend::connect(&parsed)
        .await
        .expect("the backend connects to the test PostgreSQL");
    (backend, url)
}
