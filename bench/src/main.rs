//! `make bench`: deskprov side by side with nginx serving the same bytes as static files.
//!
//! One run seeds a site of 10,000 phones, renders each phone's files once through deskprov
//! into a directory nginx serves, then measures both servers with the same client (load.rs):
//! (a) keep-alive fetches, (b) a new TLS connection per fetch, (c) a boot storm, (d) a login
//! storm during (a) on deskprov, (e) deskprov's start-up time and memory with 100,000
//! devices and users, (f) whether a request's time tells a registered MAC from an unknown
//! one (oracle.rs), (g) serving the company phonebook of every user to every phone, and (h) the
//! console's device list of the 100,000-device site (console.rs). The results and the machine
//! go to BENCHMARKS.md.
//!
//! This is a benchmark, not a test: it reports, and fails only when a run has errors.

mod console;
mod import;
mod load;
mod oracle;
mod postgres;
mod report;
mod seed;
mod servers;
mod wrk;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;

use crate::load::{Endpoint, Stats};
use crate::report::{Report, Startup};
use crate::seed::Phone;

#[derive(Parser, Debug)]
#[command(about = "deskprov side by side with nginx serving the same rendered files")]
struct Args {
    /// The deskprov binary under test (a release build).
    #[arg(long, default_value = "target/release/deskprov")]
    deskprov: PathBuf,
    /// Scratch directory: databases, certificates, nginx's root and logs.
    #[arg(long, default_value = "target/bench")]
    work: PathBuf,
    /// Where the results go: by default BENCHMARKS.md after a run of every measurement, and
    /// partial.md in the scratch directory after a run of some (`--only`).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Registered devices (and users) of the site served in (a) to (d).
    #[arg(long, default_value_t = 10_000)]
    devices: usize,
    /// Of those, hot-desk phones whose users log in and out in (d).
    #[arg(long, default_value_t = 500)]
    hotdesk: usize,
    /// Devices (and users) for the start-up measurement (e) and the console's list (h).
    #[arg(long, default_value_t = 100_000)]
    startup_devices: usize,
    /// Users in the CSV file imported in (i).
    #[arg(long, default_value_t = 100_000)]
    import_users: usize,
    /// Seconds each timed run lasts.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Keep-alive connections in (a) and (d).
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Clients opening connections in parallel in (b).
    #[arg(long, default_value_t = 32)]
    workers: usize,
    /// Phones booting at once in (c).
    #[arg(long, default_value_t = 1000)]
    storm_in_flight: usize,
    /// Phones logging in and out at once in (d).
    #[arg(long, default_value_t = 8)]
    login_workers: usize,
    /// Sources in (f), each asking within its ban budget.
    #[arg(long, default_value_t = 500)]
    oracle_sources: usize,
    /// Rounds of (a) to (c), alternating the servers; the median round is reported.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Runs only these measurements (for profiling one of them), e.g. `a,d`.
    #[arg(long, value_delimiter = ',', default_value = EVERY_MEASUREMENT)]
    only: Vec<char>,
}

const EVERY_MEASUREMENT: &str = "a,b,c,d,e,f,g,h,i,j";

impl Args {
    /// A partial run leaves the committed report alone unless told otherwise.
    fn out(&self) -> PathBuf {
        let mut measurements = EVERY_MEASUREMENT.split(',').flat_map(str::chars);
        let every = measurements.all(|m| self.only.contains(&m));
        match (&self.out, every) {
            (Some(out), _) => out.clone(),
            (None, true) => PathBuf::from("BENCHMARKS.md"),
            (None, false) => self.work.join("partial.md"),
        }
    }

    fn runs(&self, measurement: char) -> bool {
        self.only.contains(&measurement)
    }
}

fn main() {
    let args = Args::parse();
    raise_open_file_limit();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    if let Err(e) = runtime.block_on(run(&args)) {
        eprintln!("bench: {e}");
        std::process::exit(1);
    }
}

async fn run(args: &Args) -> Result<(), String> {
    let _ = std::fs::remove_dir_all(&args.work);
    std::fs::create_dir_all(&args.work).map_err(|e| e.to_string())?;
    let work = args.work.canonicalize().map_err(|e| e.to_string())?;
    let duration = Duration::from_secs(args.seconds);

    step(&format!("seeding {} devices and users", args.devices));
    let site = seed::seed(&work.join("site/db"), args.devices, args.hotdesk).await?;
    let phones = Arc::new(site.phones);
    let probe = phones[phones.len() - 1].clone();
    let (deskprov, _) =
        servers::start_deskprov(&args.deskprov, &work, &work.join("site"), &probe).await?;
    let cert = work.join("certs/server.crt");
    let deskprov_at = Endpoint::new(deskprov.port, &cert)?;

    // Only (a) to (d) compare with nginx and the bare responder: (e) or (f) alone run without.
    let compared = ['a', 'b', 'c', 'd'].iter().any(|m| args.runs(*m));
    let mut others = Vec::new();
    let mut files = 0;
    if compared {
        step("rendering every phone's files once through deskprov for nginx");
        let root = work.join("www");
        files = dump(&deskprov_at, &phones, &root).await?;
        let nginx = servers::start_nginx(&work, &root, &probe).await?;
        let nginx_at = Endpoint::new(nginx.port, &cert)?;
        let one_file = root.join(probe.device_path.trim_start_matches('/'));
        let bare = servers::start_bare(&work, &one_file, &probe).await?;
        let bare_at = Endpoint::new(bare.port, &cert)?;
        others = vec![("nginx", nginx, nginx_at), ("bare", bare, bare_at)];
    }

    let mut report = Report::new(args, files, servers::nginx_version());
    let wrk_script = match wrk::available() {
        true => Some(wrk::prepare(&work, &phones)?),
        false => None,
    };
    // Rounds alternate the servers, so a slow moment of the machine does not fall on one of
    // them only; each measurement reports the median round.
    let mut servers = vec![("deskprov", &deskprov_at)];
    servers.extend(others.iter().map(|(name, _, at)| (*name, at)));
    let mut keep_alive = vec![Vec::new(); servers.len()];
    let mut new_connection = vec![Vec::new(); servers.len()];
    let mut boot_storm = vec![Vec::new(); servers.len()];
    for round in 1..=args.rounds {
        for (i, (name, endpoint)) in servers.iter().enumerate() {
            let of = format!("{name}, round {round} of {}", args.rounds);
            if args.runs('a') || args.runs('d') {
                step(&format!("(a) keep-alive, {of}"));
                let stats =
                    load::keep_alive(endpoint, phones.clone(), args.connections, duration).await;
                keep_alive[i].push(checked(name, stats)?);
            }
            if args.runs('b') {
                step(&format!("(b) new connection per request, {of}"));
                let stats =
                    load::new_connections(endpoint, phones.clone(), args.workers, duration).await;
                new_connection[i].push(checked(name, stats)?);
            }
            if args.runs('c') {
                step(&format!("(c) boot storm of {} phones, {of}", phones.len()));
                let stats = load::boot_storm(endpoint, phones.clone(), args.storm_in_flight).await;
                boot_storm[i].push(checked(name, stats)?);
            }
        }
    }
    let medians = |runs: Vec<Vec<Stats>>, key: fn(&Stats) -> f64| -> Vec<Stats> {
        runs.into_iter().flat_map(|r| median(r, key)).collect()
    };
    report.keep_alive = medians(keep_alive, Stats::rate);
    report.new_connection = medians(new_connection, Stats::rate);
    report.boot_storm = medians(boot_storm, |s| -s.elapsed.as_secs_f64());
    for (name, endpoint) in &servers {
        if let Some(script) = wrk_script.as_ref().filter(|_| args.runs('a')) {
            step(&format!("(a) keep-alive with wrk as the client, {name}"));
            let result = wrk::keep_alive(script, endpoint.port, args.connections, duration)?;
            eprintln!(
                "   {name}: {:.0}/s, p50 {:.2} ms, p99 {:.2} ms, {} errors",
                result.requests_per_second, result.p50_ms, result.p99_ms, result.errors
            );
            if result.errors > 0 {
                return Err(format!("wrk against {name}: {} errors", result.errors));
            }
            report.wrk_keep_alive.push(result);
        }
    }
    report.deskprov_rss_after_load = deskprov.rss_mib();
    drop(servers);
    drop(others);

    if args.runs('g') {
        step(&format!("(g) the phonebook of {} users", phones.len()));
        let probe = &phones[0];
        let at = std::time::Instant::now();
        let body = load::fetch_once(&deskprov_at, probe, &probe.phonebook_path).await?;
        report.phonebook_first = Some((at.elapsed(), body.len()));
        let stats = load::keep_alive_on(
            &deskprov_at,
            phones.clone(),
            args.connections,
            duration,
            |p| &p.phonebook_path,
        )
        .await;
        report.phonebook = Some(checked("phonebook", stats)?);
    }

    if args.runs('f') {
        step("(f) registered and unknown MACs, alternating, from many sources");
        let oracles = oracle::measure(&deskprov_at, &phones, args.oracle_sources).await?;
        for o in &oracles {
            eprintln!(
                "   {}: unknown {:.0} µs, registered {:.0} µs, ratio {:.3} ({} samples each)",
                o.path,
                o.unknown_us,
                o.registered_us,
                o.ratio(),
                o.samples
            );
        }
        report.oracles = oracles;
    }

    if args.runs('d') {
        step("(d) keep-alive on deskprov while hot-desk users log in and out");
        let configs = load::keep_alive(&deskprov_at, phones.clone(), args.connections, duration);
        let logins = load::login_storm(&deskprov_at, phones.clone(), args.login_workers, duration);
        let (configs, logins) = tokio::join!(configs, logins);
        report.during_logins = Some(checked("deskprov during logins", configs)?);
        report.logins = Some(checked("logins", logins)?);
    }
    drop(deskprov);

    if args.runs('j') {
        step("(j) the same site on PostgreSQL (migrate-store, then (a), (c), (d) and (f))");
        report.postgres = Some(on_postgres(args, &work, &phones, &probe).await?);
    }

    if args.runs('e') || args.runs('h') {
        step(&format!(
            "seeding {} devices and users for (e) and (h)",
            args.startup_devices
        ));
        let data = work.join("large");
        let site = seed::seed(&data.join("db"), args.startup_devices, 0).await?;
        if args.runs('e') {
            step("(e) start-up, memory and backup");
            report.startup = Some(startup(args, &work, &data, &site.phones).await?);
        }
        if args.runs('h') {
            step("(h) the console's device list");
            report.console = Some(console_list(args, &work, &data, &site.phones).await?);
        }
    }

    if args.runs('i') {
        step(&format!("(i) a CSV import of {} users", args.import_users));
        report.import = Some(import_users(args, &work).await?);
    }

    let text = report.render();
    let out = args.out();
    std::fs::write(&out, &text).map_err(|e| format!("{}: {e}", out.display()))?;
    println!("\n{}", report.summary());
    println!("written to {}", out.display());
    Ok(())
}

/// (j) The site of (a) to (d) copied into PostgreSQL and served from there by one node:
/// keep-alive (which also fills the render cache, as the dump did on sled), the boot storm, and
/// keep-alive while hot-desk users log in and out, then (f)'s unknown and registered MACs.
/// Keep-alive and the boot storm are compared
/// with a sled node on the same site run just before, as this machine's throughput drifts over
/// the minutes between (a) and (j).
async fn on_postgres(
    args: &Args,
    work: &Path,
    phones: &Arc<Vec<Phone>>,
    probe: &Phone,
) -> Result<report::OnPostgres, String> {
    let database = postgres::Postgres::start(work, servers::free_port()?)?;
    postgres::migrate_store(&args.deskprov, &work.join("site/db"), &database.url)?;
    let site = work.join("site");
    let (server, _) = servers::start_deskprov(&args.deskprov, work, &site, probe).await?;
    let at = Endpoint::new(server.port, &work.join("certs/server.crt"))?;
    let (_, sled_keep_alive, sled_boot_storm) =
        serve_every_phone(args, &at, phones, "sled").await?;
    drop(server);
    let extra = format!("[database]\nurl = {:?}\n", database.url);
    let (server, _) =
        servers::start_deskprov_with(&args.deskprov, work, &site, probe, &extra).await?;
    let at = Endpoint::new(server.port, &work.join("certs/server.crt"))?;
    let (first_pass, keep_alive, boot_storm) =
        serve_every_phone(args, &at, phones, "PostgreSQL").await?;
    let duration = Duration::from_secs(args.seconds);
    let configs = load::keep_alive(&at, phones.clone(), args.connections, duration);
    let logins = load::login_storm(&at, phones.clone(), args.login_workers, duration);
    let (configs, logins) = tokio::join!(configs, logins);
    let during_logins = checked("PostgreSQL during logins", configs)?;
    let logins = checked("PostgreSQL logins", logins)?;
    let oracles = oracle::measure(&at, phones, args.oracle_sources).await?;
    Ok(report::OnPostgres {
        first_pass,
        keep_alive,
        boot_storm,
        sled_keep_alive,
        sled_boot_storm,
        during_logins,
        logins,
        oracles,
    })
}

/// On a node just started: every phone once (the first pass), keep-alive, the boot storm.
async fn serve_every_phone(
    args: &Args,
    at: &Endpoint,
    phones: &Arc<Vec<Phone>>,
    store: &str,
) -> Result<(Stats, Stats, Stats), String> {
    let duration = Duration::from_secs(args.seconds);
    let first_pass = load::boot_storm(at, phones.clone(), args.storm_in_flight).await;
    let first_pass = checked(&format!("{store} first pass"), first_pass)?;
    let keep_alive = load::keep_alive(at, phones.clone(), args.connections, duration).await;
    let keep_alive = checked(&format!("{store} keep-alive"), keep_alive)?;
    let boot_storm = load::boot_storm(at, phones.clone(), args.storm_in_flight).await;
    let boot_storm = checked(&format!("{store} boot storm"), boot_storm)?;
    Ok((first_pass, keep_alive, boot_storm))
}

/// The middle run by `key` (as a one-element list, empty when there were no runs).
fn median(mut runs: Vec<Stats>, key: impl Fn(&Stats) -> f64) -> Vec<Stats> {
    runs.sort_by(|a, b| key(a).total_cmp(&key(b)));
    let middle = runs.len() / 2;
    runs.into_iter().skip(middle).take(1).collect()
}

fn step(what: &str) {
    eprintln!("== {what}");
}

/// A run with errors measured something else than serving: the numbers would mislead.
fn checked(name: &str, stats: Stats) -> Result<Stats, String> {
    eprintln!(
        "   {name}: {} requests in {:.1} s ({:.0}/s), p50 {:.2} ms, p99 {:.2} ms, {} errors",
        stats.requests,
        stats.elapsed.as_secs_f64(),
        stats.rate(),
        stats.percentile_ms(50.0),
        stats.percentile_ms(99.0),
        stats.errors
    );
    if stats.errors > 0 {
        return Err(format!(
            "{name}: {} errors, the first: {}",
            stats.errors,
            stats.first_error.unwrap_or_default()
        ));
    }
    Ok(stats)
}

/// Fetches each phone's common and own file from deskprov and writes them where nginx serves
/// them, so both servers hand out the same bytes. Returns the number of files.
async fn dump(endpoint: &Endpoint, phones: &[Phone], root: &Path) -> Result<usize, String> {
    let mut written = std::collections::BTreeSet::new();
    for phone in phones {
        for path in [&phone.common_path, &phone.device_path] {
            if !written.insert(path.clone()) {
                continue;
            }
            let body = load::fetch_once(endpoint, phone, path).await?;
            std::fs::create_dir_all(root).map_err(|e| e.to_string())?;
            std::fs::write(root.join(path.trim_start_matches('/')), body)
                .map_err(|e| e.to_string())?;
        }
    }
    Ok(written.len())
}

/// (e) Three cold starts on a database of `startup_devices` devices and users: the time until
/// the first phone is served and the resident memory then.
async fn startup(
    args: &Args,
    work: &Path,
    data: &Path,
    phones: &[Phone],
) -> Result<Startup, String> {
    let probe = phones[phones.len() / 2].clone();
    let mut runs = Vec::new();
    for _ in 0..3 {
        let (server, took) = servers::start_deskprov(&args.deskprov, work, data, &probe).await?;
        let rss = server.rss_mib();
        eprintln!(
            "   ready in {:.0} ms, {rss:.1} MiB resident",
            took.as_secs_f64() * 1000.0
        );
        runs.push((took, rss));
        drop(server);
    }
    runs.sort_by_key(|run| run.0);
    let (took, rss) = runs[runs.len() / 2];
    let fetched = load_all_devices(args, work, data, phones).await?;
    let (backup_lock, backup_encode, backup_bytes) = backup(data).await?;
    Ok(Startup {
        devices: args.startup_devices,
        ready: took,
        rss_mib: rss,
        rss_after_all_mib: fetched,
        backup_lock,
        backup_encode,
        backup_bytes,
    })
}

/// (h) An admin's session on the large site pages through the console's device list.
async fn console_list(
    args: &Args,
    work: &Path,
    data: &Path,
    phones: &[Phone],
) -> Result<console::ConsoleList, String> {
    console::seed_account(&data.join("db")).await?;
    let (server, _) = servers::start_deskprov(&args.deskprov, work, data, &phones[0]).await?;
    let endpoint = Endpoint::new(server.admin, &work.join("certs/server.crt"))?;
    // MACs go by vendor prefix: after this one come the Grandstream and Cisco phones, the
    // last third of the list.
    let list = console::measure(&endpoint, "c074ad000000").await?;
    for (name, stats) in &list.pages {
        checked(name, stats.clone())?;
    }
    Ok(list)
}

/// A backup of the site in `data` (the server stopped): the time its records take to read,
/// which admin changes wait for on a running server, then to compress, and its size.
async fn backup(data: &Path) -> Result<(Duration, Duration, usize), String> {
    let store = deskprov::store::Store::open(&data.join("db")).map_err(|e| e.to_string())?;
    let started = std::time::Instant::now();
    let snapshot = deskprov::backup::collect(store.reads())
        .await
        .map_err(|e| e.to_string())?;
    let read = started.elapsed();
    let started = std::time::Instant::now();
    let file = deskprov::backup::format::encode(&snapshot, 0);
    eprintln!(
        "   backup: read in {read:?}, compressed in {:?}",
        started.elapsed()
    );
    Ok((read, started.elapsed(), file.len()))
}

/// (i) A site of one device imports `import_users` users from one CSV file.
async fn import_users(args: &Args, work: &Path) -> Result<import::Import, String> {
    let data = work.join("import");
    let site = seed::seed(&data.join("db"), 1, 0).await?;
    let (server, _) = servers::start_deskprov(&args.deskprov, work, &data, &site.phones[0]).await?;
    let endpoint = Endpoint::new(server.admin, &work.join("certs/server.crt"))?;
    let import = import::measure(&server, &endpoint, &data, args.import_users).await?;
    eprintln!(
        "   {} users in {:.1} s, peak resident {:.1} MiB (before: {:.1} MiB)",
        import.users,
        import.took.as_secs_f64(),
        import.peak_after_mib,
        import.peak_before_mib
    );
    Ok(import)
}

/// Resident memory after every one of the large site's phones fetched its file once.
async fn load_all_devices(
    args: &Args,
    work: &Path,
    data: &Path,
    phones: &[Phone],
) -> Result<f64, String> {
    let (server, _) = servers::start_deskprov(&args.deskprov, work, data, &phones[0]).await?;
    let endpoint = Endpoint::new(server.port, &work.join("certs/server.crt"))?;
    let stats = load::boot_storm(&endpoint, Arc::new(phones.to_vec()), args.storm_in_flight).await;
    checked("every device once", stats)?;
    Ok(server.rss_mib())
}

fn raise_open_file_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct passed.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 {
            limit.rlim_cur = limit.rlim_max.min(1 << 20);
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}
