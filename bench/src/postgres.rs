//! (j) The same site on PostgreSQL: a server started here (Debian's `postgresql`, installed by
//! install-tools.sh), `initdb` into the scratch directory and `pg_ctl` on a free loopback port,
//! as the `postgres` user when run as root; the seeded sled store copied into it with
//! `deskprov migrate-store`. Stopped when dropped.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub struct Postgres {
    data: PathBuf,
    bin: PathBuf,
    pub url: String,
}

fn bin_dir() -> Result<PathBuf, String> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .map_err(|e| format!("/usr/lib/postgresql: {e} (install postgresql)"))?
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
        .map(|(_, bin)| bin)
        .ok_or_else(|| "no initdb in /usr/lib/postgresql/*/bin".into())
}

/// The postgres user's ids when running as root (PostgreSQL refuses to run as root).
fn runs_as() -> Option<(u32, u32)> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return None;
    }
    let name = std::ffi::CString::new("postgres").ok()?;
    // SAFETY: a NUL-terminated name; the record is read before any other call.
    let entry = unsafe { libc::getpwnam(name.as_ptr()) };
    // SAFETY: checked non-null.
    (!entry.is_null()).then(|| unsafe { ((*entry).pw_uid, (*entry).pw_gid) })
}

fn run(bin: &Path, program: &str, args: &[&str]) -> Result<(), String> {
    let mut command = Command::new(bin.join(program));
    command.args(args).stdin(Stdio::null());
    if let Some((uid, gid)) = runs_as() {
        command.uid(uid).gid(gid);
    }
    let out = command.output().map_err(|e| format!("{program}: {e}"))?;
    match out.status.success() {
        true => Ok(()),
        false => Err(format!(
            "{program}: {}",
            String::from_utf8_lossy(&out.stderr)
        )),
    }
}

impl Postgres {
    pub fn start(work: &Path, port: u16) -> Result<Postgres, String> {
        let bin = bin_dir()?;
        let dir = work.join("postgres");
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        if let Some((uid, gid)) = runs_as() {
            std::os::unix::fs::chown(&dir, Some(uid), Some(gid)).map_err(|e| e.to_string())?;
        }
        let data = dir.join("data");
        let data_arg = data.display().to_string();
        run(
            &bin,
            "initdb",
            &[
                "-A", "trust", "-U", "deskprov", "-E", "UTF8", "-D", &data_arg,
            ],
        )?;
        // Durable as a production server is (fsync on): the figures are what a site would see.
        let options = format!(
            "-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories='' \
             -c max_connections=200 -c shared_buffers=128MB"
        );
        let log = dir.join("server.log").display().to_string();
        run(
            &bin,
            "pg_ctl",
            &[
                "start", "-w", "-s", "-D", &data_arg, "-o", &options, "-l", &log,
            ],
        )?;
        let postgres = Postgres {
            data,
            bin: bin.clone(),
            url: format!("postgres://deskprov@127.0.0.1:{port}/deskprov"),
        };
        let port = port.to_string();
        run(
            &bin,
            "createdb",
            &["-h", "127.0.0.1", "-p", &port, "-U", "deskprov", "deskprov"],
        )?;
        Ok(postgres)
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let data = self.data.display().to_string();
        let _ = run(
            &self.bin,
            "pg_ctl",
            &["stop", "-m", "fast", "-w", "-s", "-D", &data],
        );
    }
}

/// Copies the sled store `db` (no server running on it) into the database.
pub fn migrate_store(deskprov: &Path, db: &Path, url: &str) -> Result<(), String> {
    let out = Command::new(deskprov)
        .args(["migrate-store", "--from"])
        .arg(db)
        .args(["--to", url])
        .output()
        .map_err(|e| format!("migrate-store: {e}"))?;
    match out.status.success() {
        true => Ok(()),
        false => Err(format!(
            "migrate-store: {}",
            String::from_utf8_lossy(&out.stderr)
        )),
    }
}
