//! A real SMTP server for the mail tests: Debian's aiosmtpd with tests/smtp/handler.py, on a
//! free loopback port. Tests share one for the run ([`Smtp::shared`], each with recipients of
//! its own); a test that stops or kills its server starts its own ([`Smtp::start`]). Every one
//! started is stopped at process exit. Messages land in `dir/<local part>/`, readable by
//! [`Smtp::mails`].

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

static RUNNING: Mutex<Vec<u32>> = Mutex::new(Vec::new());

extern "C" fn stop_all() {
    if let Ok(pids) = RUNNING.lock() {
        for pid in pids.iter() {
            // SAFETY: sends a signal to a child process this run started.
            unsafe { libc::kill(*pid as libc::pid_t, libc::SIGKILL) };
        }
    }
}

pub struct Smtp {
    pub dir: tempfile::TempDir,
    pub port: u16,
    child: Option<Child>,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Smtp {
    /// The run's shared server: never stopped by a test, so no test may `down` it or order a
    /// `die`; each test mails local parts of its own.
    pub fn shared() -> &'static Smtp {
        static SHARED: std::sync::OnceLock<Smtp> = std::sync::OnceLock::new();
        SHARED.get_or_init(Smtp::start)
    }

    pub fn start() -> Smtp {
        static ATEXIT: std::sync::Once = std::sync::Once::new();
        // SAFETY: registers a function without arguments that never unwinds.
        ATEXIT.call_once(|| unsafe {
            libc::atexit(stop_all);
        });
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("control")).unwrap();
        let mut smtp = Smtp {
            dir,
            port: free_port(),
            child: None,
        };
        smtp.up();
        smtp
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Starts the server (again) on its port, and waits until it accepts connections.
    pub fn up(&mut self) {
        let handlers = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/smtp");
        let child = Command::new("/usr/bin/python3")
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{}", self.port))
            .args(["-c", "handler.Handler"])
            .arg(self.dir.path())
            .env("PYTHONPATH", handlers)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("aiosmtpd runs (python3-aiosmtpd, installed by tests/setup.sh)");
        RUNNING.lock().unwrap().push(child.id());
        self.child = Some(child);
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!("aiosmtpd did not listen on port {}", self.port);
    }

    /// Stops the server (as a crash does).
    pub fn down(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Whether the process has exited by itself (the handler's "die").
    pub fn exited(&mut self) -> bool {
        matches!(
            self.child.as_mut().map(|c| c.try_wait()),
            Some(Ok(Some(_))) | None
        )
    }

    /// What the server does for mails to `local`@...: an answer like "451 ...", or "die".
    pub fn order(&self, local: &str, order: &str) {
        std::fs::write(self.dir.path().join("control").join(local), order).unwrap();
    }

    pub fn clear_order(&self, local: &str) {
        let _ = std::fs::remove_file(self.dir.path().join("control").join(local));
    }

    fn box_of(&self, local: &str) -> PathBuf {
        self.dir.path().join(local)
    }

    /// The messages received for `local`@..., in the order they arrived.
    pub fn mails(&self, local: &str) -> Vec<Vec<u8>> {
        let Ok(entries) = std::fs::read_dir(self.box_of(local)) else {
            return Vec::new();
        };
        let mut paths: Vec<PathBuf> = entries
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        paths.sort();
        paths.iter().map(|p| std::fs::read(p).unwrap()).collect()
    }

    /// The receive times (unix seconds) of the messages for `local`@....
    pub fn times(&self, local: &str) -> Vec<f64> {
        std::fs::read_to_string(self.box_of(local).join("times"))
            .unwrap_or_default()
            .lines()
            .map(|l| l.parse().unwrap())
            .collect()
    }

    /// Waits (up to `limit`) until `count` messages for `local` arrived.
    pub async fn wait_for(&self, local: &str, count: usize, limit: Duration) -> Vec<Vec<u8>> {
        let end = tokio::time::Instant::now() + limit;
        loop {
            let mails = self.mails(local);
            if mails.len() >= count || tokio::time::Instant::now() > end {
                return mails;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        self.down();
    }
}
