//! BENCHMARKS.md: what was measured, on what machine, against which targets.

use std::fmt::Write;
use std::time::Duration;

use crate::Args;
use crate::load::Stats;
use crate::wrk::WrkResult;

pub struct Startup {
    pub devices: usize,
    pub ready: Duration,
    pub rss_mib: f64,
    pub rss_after_all_mib: f64,
    /// A backup of the large site: how long admin changes wait (its records are read under the
    /// write lock), how long compressing takes after it, and the file's size.
    pub backup_lock: Duration,
    pub backup_encode: Duration,
    pub backup_bytes: usize,
}

/// Results in the order deskprov, nginx for (a) to (c).
pub struct Report {
    settings: String,
    files: usize,
    nginx: String,
    pub keep_alive: Vec<Stats>,
    pub wrk_keep_alive: Vec<WrkResult>,
    pub new_connection: Vec<Stats>,
    pub boot_storm: Vec<Stats>,
    pub during_logins: Option<Stats>,
    pub logins: Option<Stats>,
    pub startup: Option<Startup>,
    pub deskprov_rss_after_load: f64,
    pub oracles: Vec<crate::oracle::Oracle>,
    /// (g) The first fetch of the company phonebook (read every user, render) and its size.
    pub phonebook_first: Option<(Duration, usize)>,
    /// (g) Every phone fetching its phonebook on keep-alive connections, served from the cache.
    pub phonebook: Option<Stats>,
    /// (h) The console's device list of the large site, by kind of page.
    pub console: Option<crate::console::ConsoleList>,
    /// (i) A CSV import of many users.
    pub import: Option<crate::import::Import>,
    /// (j) The site of (a) to (d) on PostgreSQL.
    pub postgres: Option<OnPostgres>,
}

/// (j) deskprov serving the same site from PostgreSQL.
pub struct OnPostgres {
    /// Every phone once, on a node that has just started on the moved site.
    pub first_pass: Stats,
    pub keep_alive: Stats,
    pub boot_storm: Stats,
    /// A sled node on the same site, run just before the PostgreSQL one.
    pub sled_keep_alive: Stats,
    pub sled_boot_storm: Stats,
    pub during_logins: Stats,
    pub logins: Stats,
    /// (f) on the PostgreSQL node: an unknown MAC must not take a round trip that a registered
    /// one, decoded in memory, does not.
    pub oracles: Vec<crate::oracle::Oracle>,
}

/// A row of (f): the medians of unknown and registered MACs, on sled or (in (j)) PostgreSQL.
fn oracle_row(o: &crate::oracle::Oracle, on_postgres: bool) -> Row {
    let ratio = o.ratio();
    let name = match (o.path, on_postgres) {
        ("own file, refused", false) => "(f) refused own file, unknown / registered MAC, median",
        (_, false) => "(f) common file naming a MAC, unknown / registered, median",
        ("own file, refused", true) => {
            "(j) PostgreSQL: (f) refused own file, unknown / registered MAC, median"
        }
        (_, true) => "(j) PostgreSQL: (f) common file naming a MAC, unknown / registered, median",
    };
    Row {
        name,
        deskprov: format!("{:.0} µs / {:.0} µs", o.unknown_us, o.registered_us),
        nginx: "–".into(),
        bare: None,
        ratio,
        target: "within 1.1 either way",
        met: (1.0 / 1.1..=1.1).contains(&ratio),
    }
}

/// The servers of (a) to (c), in the order of their results.
const SERVERS: [&str; 3] = ["deskprov", "nginx", "bare hyper + rustls"];

/// One line of the summary table.
struct Row {
    name: &'static str,
    deskprov: String,
    nginx: String,
    /// The bare hyper + rustls responder's figure and deskprov's ratio to it.
    bare: Option<(String, f64)>,
    ratio: f64,
    target: &'static str,
    met: bool,
}

impl Report {
    pub fn new(args: &Args, files: usize, nginx: String) -> Report {
        Report {
            settings: format!(
                "{} devices ({} hot-desk), {} rounds of (a) to (c) alternating the servers (the \
                 median round is reported), {} s per timed run, {} keep-alive connections, \
                 {} clients opening connections, {} phones booting at once, {} phones logging \
                 in at once",
                args.devices,
                args.hotdesk,
                args.rounds,
                args.seconds,
                args.connections,
                args.workers,
                args.storm_in_flight,
                args.login_workers
            ),
            files,
            nginx,
            keep_alive: Vec::new(),
            wrk_keep_alive: Vec::new(),
            new_connection: Vec::new(),
            boot_storm: Vec::new(),
            during_logins: None,
            logins: None,
            startup: None,
            deskprov_rss_after_load: 0.0,
            oracles: Vec::new(),
            phonebook_first: None,
            phonebook: None,
            console: None,
            import: None,
            postgres: None,
        }
    }

    fn rows(&self) -> Vec<Row> {
        let mut rows = Vec::new();
        const KEEP_ALIVE: &str = "≥ 1.2 nginx and ≥ 0.9 bare";
        let rates: Vec<f64> = self.keep_alive.iter().map(Stats::rate).collect();
        if let Some(row) = rate_row("(a) keep-alive, requests/s", &rates, KEEP_ALIVE, 0.9) {
            rows.push(row);
        }
        let rates: Vec<f64> = self
            .wrk_keep_alive
            .iter()
            .map(|w| w.requests_per_second)
            .collect();
        let name = "(a) keep-alive, wrk as the client, requests/s";
        if let Some(row) = rate_row(name, &rates, KEEP_ALIVE, 0.9) {
            rows.push(row);
        }
        let rates: Vec<f64> = self.new_connection.iter().map(Stats::rate).collect();
        let name = "(b) new TLS connection per request, requests/s";
        if let Some(row) = rate_row(name, &rates, "≥ 1.2 nginx", 0.0) {
            rows.push(row);
        }
        // A time: the ratio is the other server's time over deskprov's.
        let speeds: Vec<f64> = self
            .boot_storm
            .iter()
            .map(|s| 1.0 / s.elapsed.as_secs_f64())
            .collect();
        let name = "(c) boot storm, completion (s)";
        if let Some(mut row) = rate_row(name, &speeds, "≥ 1.2 nginx, 0 errors", 0.0) {
            let seconds = |s: &Stats| format!("{:.2}", s.elapsed.as_secs_f64());
            row.deskprov = seconds(&self.boot_storm[0]);
            row.nginx = seconds(&self.boot_storm[1]);
            if let (Some(bare), Some(s)) = (row.bare.as_mut(), self.boot_storm.get(2)) {
                bare.0 = seconds(s);
            }
            row.met &= self.boot_storm[0].errors == 0;
            rows.push(row);
        }
        if let (Some(busy), Some(idle)) = (&self.during_logins, self.keep_alive.first()) {
            let ratio = busy.percentile_ms(99.0) / idle.percentile_ms(99.0);
            rows.push(Row {
                name: "(d) config p99 during a login storm / idle p99",
                deskprov: format!(
                    "{:.2} ms / {:.2} ms",
                    busy.percentile_ms(99.0),
                    idle.percentile_ms(99.0)
                ),
                nginx: "–".into(),
                bare: None,
                ratio,
                target: "≤ 1.5",
                met: ratio <= 1.5,
            });
        }
        if let Some(s) = &self.startup {
            rows.push(Row {
                name: "(e) start-up until the first phone is served",
                deskprov: format!("{:.0} ms", s.ready.as_secs_f64() * 1000.0),
                nginx: "–".into(),
                bare: None,
                ratio: f64::NAN,
                target: "≤ 1 s",
                met: s.ready <= Duration::from_secs(1),
            });
            rows.push(Row {
                name: "(e) resident memory after start-up",
                deskprov: format!("{:.1} MiB", s.rss_mib),
                nginx: "–".into(),
                bare: None,
                ratio: f64::NAN,
                target: "≤ 150 MiB",
                met: s.rss_mib <= 150.0,
            });
            rows.push(Row {
                name: "(e) resident memory after every device fetched its files once",
                deskprov: format!("{:.1} MiB", s.rss_after_all_mib),
                nginx: "–".into(),
                bare: None,
                ratio: f64::NAN,
                target: "≤ 150 MiB",
                met: s.rss_after_all_mib <= 150.0,
            });
            rows.push(Row {
                name: "(e) backup: admin changes wait while its records are read",
                deskprov: format!("{:.2} s", s.backup_lock.as_secs_f64()),
                nginx: "–".into(),
                bare: None,
                ratio: f64::NAN,
                target: "≤ 2 s",
                met: s.backup_lock <= Duration::from_secs(2),
            });
        }
        rows.extend(self.oracles.iter().map(|o| oracle_row(o, false)));
        if let Some((first, bytes)) = &self.phonebook_first {
            rows.push(Row {
                name: "(g) phonebook of every user, first fetch (read and render)",
                deskprov: format!(
                    "{:.0} ms, {:.0} KiB",
                    first.as_secs_f64() * 1000.0,
                    *bytes as f64 / 1024.0
                ),
                nginx: "–".into(),
                bare: None,
                ratio: f64::NAN,
                target: "≤ 1 s",
                met: *first <= Duration::from_secs(1),
            });
        }
        if let Some(s) = &self.phonebook {
            rows.push(Row {
                name: "(g) phonebook, every phone on keep-alive, requests/s",
                deskprov: format!("{:.0}", s.rate()),
                nginx: "–".into(),
                bare: None,
                ratio: f64::NAN,
                target: "≥ 100 (a 10,000-phone site refreshing hourly needs 3)",
                met: s.rate() >= 100.0,
            });
        }
        if let Some(console) = &self.console {
            for (name, stats) in &console.pages {
                let p95 = stats.percentile_ms(95.0);
                rows.push(Row {
                    name: match *name {
                        "first page" => "(h) console device list, first page, p95",
                        "filtered by model, first page" => {
                            "(h) console device list, filtered by model, p95"
                        }
                        _ => "(h) console device list, a page deep in the list, p95",
                    },
                    deskprov: format!("{p95:.1} ms"),
                    nginx: "–".into(),
                    bare: None,
                    ratio: f64::NAN,
                    target: "< 50 ms",
                    met: p95 < 50.0,
                });
            }
        }
        if let Some(pg) = &self.postgres {
            rows.extend(self.postgres_rows(pg));
        }
        if let Some(i) = &self.import {
            rows.push(Row {
                name: "(i) CSV import of users, peak resident memory",
                deskprov: format!(
                    "{:.1} MiB ({} users, {:.1} MB, in {:.1} s)",
                    i.peak_after_mib,
                    i.users,
                    i.file_bytes as f64 / 1e6,
                    i.took.as_secs_f64()
                ),
                nginx: "–".into(),
                bare: None,
                ratio: f64::NAN,
                target: "≤ 200 MiB",
                met: i.peak_after_mib <= 200.0,
            });
        }
        rows
    }

    /// (j) against the sled figures of the same run: keep-alive and the boot storm at least
    /// 0.9 of sled's, a login's p99 at most twice sled's.
    fn postgres_rows(&self, pg: &OnPostgres) -> Vec<Row> {
        let mut rows = Vec::new();
        let row = |name, deskprov: String, ratio: f64, target, met| Row {
            name,
            deskprov,
            nginx: "–".into(),
            bare: None,
            ratio,
            target,
            met,
        };
        let ratio = pg.keep_alive.rate() / pg.sled_keep_alive.rate();
        rows.push(row(
            "(j) PostgreSQL keep-alive, requests/s (ratio: to sled's, run just before)",
            format!("{:.0}", pg.keep_alive.rate()),
            ratio,
            "≥ 0.9× sled",
            ratio >= 0.9,
        ));
        let ratio = pg.sled_boot_storm.elapsed.as_secs_f64() / pg.boot_storm.elapsed.as_secs_f64();
        rows.push(row(
            "(j) PostgreSQL boot storm, s (ratio: sled's time, run just before, to this)",
            format!("{:.2}", pg.boot_storm.elapsed.as_secs_f64()),
            ratio,
            "≥ 0.9× sled",
            ratio >= 0.9,
        ));
        if let Some(sled) = &self.logins {
            let ratio = pg.logins.percentile_ms(99.0) / sled.percentile_ms(99.0);
            rows.push(row(
                "(j) PostgreSQL login and logout, p99 ms (ratio: to sled's (d))",
                format!("{:.1}", pg.logins.percentile_ms(99.0)),
                ratio,
                "≤ 2× sled",
                ratio <= 2.0,
            ));
        }
        rows.extend(pg.oracles.iter().map(|o| oracle_row(o, true)));
        rows
    }

    pub fn summary(&self) -> String {
        let mut out = String::new();
        for row in self.rows() {
            let ratio = if row.ratio.is_nan() {
                String::new()
            } else {
                format!(" ratio {:.2}", row.ratio)
            };
            let bare = row
                .bare
                .as_ref()
                .map_or(String::new(), |(b, r)| format!(" bare {b} ratio {r:.2}"));
            let _ = writeln!(
                out,
                "{:<52} deskprov {:<20} nginx {:<10}{ratio}{bare}  target {} {}",
                row.name,
                row.deskprov,
                row.nginx,
                row.target,
                if row.met { "met" } else { "NOT MET" }
            );
        }
        out
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# Benchmarks: deskprov and nginx serving the same files\n"
        );
        let _ = writeln!(
            out,
            "Written by `make bench` (bench/): do not edit by hand. deskprov renders each \
             phone's files on request; nginx serves the same bytes, rendered once by deskprov \
             ({} files), as static files with the same certificate and TLS versions. Both are \
             measured by the same client, `deskprov-bench`, on the same machine, over loopback. \
             Every new connection is a full TLS handshake (no resumption), as for a phone \
             that has just booted. The bare responder (bench/src/bin/bare-responder.rs) is \
             deskprov's own stack with nothing on top: hyper and rustls with deskprov's TLS \
             configuration and certificate, answering every request with one of those files \
             held in memory; it is the ceiling of what deskprov can reach here.\n",
            self.files
        );
        let _ = writeln!(out, "## Machine\n\n{}\n", machine(&self.nginx));
        let _ = writeln!(out, "## Run\n\n{}.\n", self.settings);
        let _ = writeln!(out, "## Results\n");
        let _ = writeln!(
            out,
            "| Measurement | deskprov | nginx | deskprov/nginx | bare hyper + rustls | deskprov/bare | Target | Met |\n|---|---|---|---|---|---|---|---|"
        );
        for row in self.rows() {
            let ratio = if row.ratio.is_nan() {
                "–".to_string()
            } else {
                format!("{:.2}", row.ratio)
            };
            let (bare, bare_ratio) = row
                .bare
                .as_ref()
                .map_or(("–".into(), "–".into()), |(b, r)| {
                    (b.clone(), format!("{r:.2}"))
                });
            let _ = writeln!(
                out,
                "| {} | {} | {} | {ratio} | {bare} | {bare_ratio} | {} | {} |",
                row.name,
                row.deskprov,
                row.nginx,
                row.target,
                if row.met { "yes" } else { "**no**" }
            );
        }
        let _ = writeln!(out, "\n## Latencies\n");
        let _ = writeln!(
            out,
            "| Run | Server | Requests | Errors | Requests/s | p50 ms | p99 ms |\n|---|---|---|---|---|---|---|"
        );
        let runs = [
            ("(a) keep-alive", &self.keep_alive),
            ("(b) new connection", &self.new_connection),
            ("(c) boot storm", &self.boot_storm),
        ];
        for (name, stats) in runs {
            for (server, s) in SERVERS.iter().zip(stats.iter()) {
                latency_row(&mut out, name, server, s);
            }
        }
        for (server, w) in SERVERS.iter().zip(&self.wrk_keep_alive) {
            let _ = writeln!(
                out,
                "| (a) keep-alive, wrk | {server} | – | {} | {:.0} | {:.2} | {:.2} |",
                w.errors, w.requests_per_second, w.p50_ms, w.p99_ms
            );
        }
        if let Some(s) = &self.during_logins {
            latency_row(&mut out, "(d) keep-alive during logins", "deskprov", s);
        }
        if let Some(s) = &self.logins {
            latency_row(&mut out, "(d) login and logout", "deskprov", s);
        }
        if let Some(s) = &self.phonebook {
            latency_row(&mut out, "(g) phonebook, keep-alive", "deskprov", s);
        }
        if let Some(pg) = &self.postgres {
            latency_row(
                &mut out,
                "(j) keep-alive",
                "deskprov on sled",
                &pg.sled_keep_alive,
            );
            latency_row(
                &mut out,
                "(j) boot storm",
                "deskprov on sled",
                &pg.sled_boot_storm,
            );
            latency_row(
                &mut out,
                "(j) first pass (a boot storm) after the move",
                "deskprov on PostgreSQL",
                &pg.first_pass,
            );
            latency_row(
                &mut out,
                "(j) keep-alive",
                "deskprov on PostgreSQL",
                &pg.keep_alive,
            );
            latency_row(
                &mut out,
                "(j) boot storm",
                "deskprov on PostgreSQL",
                &pg.boot_storm,
            );
            let during = &pg.during_logins;
            latency_row(
                &mut out,
                "(j) keep-alive during logins",
                "deskprov on PostgreSQL",
                during,
            );
            latency_row(
                &mut out,
                "(j) login and logout",
                "deskprov on PostgreSQL",
                &pg.logins,
            );
        }
        let _ = writeln!(out, "\n## How to read this\n\n{NOTES}");
        if let Some(s) = &self.startup {
            let _ = writeln!(
                out,
                "\n## Memory\n\n- (e) {} devices and users: {:.1} MiB resident after start-up, \
                 {:.1} MiB after every device fetched its files once. What holds it, each bounded \
                 by configuration (found by lowering one bound at a time; heaptrack on a build \
                 with the system allocator for the import): rendered files \
                 (`limits.render_cache_bytes`, 48 MiB, weighed with their allocations: sized for (a)'s 10,000 phones, whose keep-alive run over every file served a third fewer requests with 32 MiB, at the price of about 25 MiB here), sled's \
                 page cache (`limits.store_cache_bytes`, 16 MiB; sled holds about twice its \
                 setting while it writes), decoded device records (16 MiB), the MACs sources \
                 named (src/ops/named.rs: about 130 bytes a source, at most 100,000 entries; this \
                 storm comes from 100,000 addresses), the event log (5000 devices x 50), the \
                 audit repeat filter (`security.audit_repeat_sources`); the rest is start-up's \
                 (sled's page table of the whole store, templates, TLS). The service unit and \
                 this bench set `MIMALLOC_PURGE_DELAY=0`, so the storm's freed buffers go back \
                 to the system at once, and mimalloc is built without transparent huge pages \
                 (a 2 MiB page is resident as soon as one byte of it is touched: 45 MiB more \
                 here, 40 MiB at the import's peak). heaptrack on a build with the system \
                 allocator, peak heap 176 MB after the storm: rendered files 45 MB, sled's \
                 page cache 41 MB, sled's metrics histograms 21.5 MB (allocated zeroed, mostly \
                 never touched, so not resident), decoded devices 8 MB, sled's values 7.7 MB, \
                 tokio's tasks 6 MB. Start-up's figure is taken when the first phone is \
                 served; within the same second the hot-desk sweeper reads every device once to \
                 index those with sessions, and an idle server of this site then holds about \
                 110 MiB (sled's pages of the devices tree, which the storm reads anyway). \
                 Until 2026-12-07 every sweep (each 30 s) read every device: a counting \
                 allocator showed each adding 30 MiB of live heap and 50 MiB resident, given \
                 back over 40 s, and this storm, about 75 s long, ended at 150 to 163 MiB by how \
                 near the last sweep was; 141 and 145 MiB in two runs since.\n- The 10,000-device site \
                 after (a) to (c): {:.1} MiB.\n- A backup of the {} devices and users: read \
                 under the write lock in {:.2} s, compressed after it in {:.2} s, {:.1} MB.",
                s.devices,
                s.rss_mib,
                s.rss_after_all_mib,
                self.deskprov_rss_after_load,
                s.devices,
                s.backup_lock.as_secs_f64(),
                s.backup_encode.as_secs_f64(),
                s.backup_bytes as f64 / 1e6
            );
        }
        out
    }
}

const NOTES: &str = "\
- (a) Each keep-alive connection comes from its own loopback address and fetches the configs of \
  the phones at that address in turn, with their provisioning credentials and User-Agents. wrk \
  repeats (a) as a second client; it connects from one address, so its first pass records a new \
  address for every phone once (a database write each), as a phone moving would.
- (b) Every request opens a TCP connection and a full TLS 1.3 handshake, and closes. deskprov \
  stands at the bare responder here and in (c): the handshake is the cost. rustls on aws-lc-rs \
  instead of ring (an experiment build on 2026-12-07, three rounds each, server and bare responder \
  both switched): (b) 3287 against 3195 requests/s, (c) 6.80 against 6.86 s, within a run's \
  variation, so ring stays (it builds in about half the time). The servers follow the client's \
  order of suites, AES-256-GCM with SHA-384 first from this client, and perf during (b) on this \
  AMD EPYC put SHA-512 in plain code (ring uses its AVX code on Intel only) at 4.2 % of the \
  machine's samples in deskprov's threads, a tenth of their time. An experiment build on \
  2026-12-07 chose AES-128-GCM with SHA-256 by the server's order instead (nginx likewise): \
  SHA-256 then took 0.8 %, but requests/s moved within a run's variation ((b) 3319 and 3497, \
  nginx 2999 and 2940; (c) 1.24 and 1.12 of nginx in two full runs), and overriding the client \
  would give a phone without AES instructions, which lists ChaCha20 first, AES in software, \
  against Mozilla's advice. Not adopted.
- (c) Every phone, from its own address, fetches its vendor's common file and then its own file, \
  each on a new connection. Completion is the time until the last phone has both.
- (d) While (a) runs against deskprov, hot-desk users log in and out at 500 phones: each reads \
  its config for the login URL, logs in with extension and PIN (argon2id), reads the config \
  again and logs out. Logins run at the lowest CPU priority, so under this saturating load they \
  take longer (the login and logout row) while configs keep their latency.
- (i) A site of one device imports a users file (no PINs: hashing them would measure argon2) \
  through `POST /api/v1/import/users` and the job is followed until it is done; memory is the \
  server's peak resident set (`VmHWM`) at the end, which includes start-up's.
- (h) An admin logged in to the console (session cookie) asks for the device list of the \
  100,000-device site of (e) on one keep-alive connection, 300 times each: the first page of 50, \
  a page two thirds into the list by its MAC cursor, and the first page of one model (found by \
  reading past the devices before it in MAC order; a stored record without the model's name in \
  its bytes is passed over undecoded: 63 ms at p95 on 2026-12-07 when each was decoded). Each \
  answer is the whole HTML page.
- (e) From the start of the process until a phone's HTTPS request is answered, on a database of \
  100,000 devices and users; memory is the resident set then.
- (f) The seen-unregistered list is filled to its cap (1,000 MACs from 100 sources), then each \
  source, on one keep-alive connection and within its ban budget, alternates requests naming a \
  fresh unknown MAC and a registered one: the common file with the MAC in the User-Agent (4 pairs \
  a source, each MAC named once), and the MAC's own file without credentials (5 pairs, each registered MAC once, as a \
  sweeper asks). A ratio of medians far from 1 would tell an attacker which MACs are registered.
- (g) The site's company phonebook (every user, sorted; each phone gets its vendor's format): \
  the first fetch reads the users and renders one format; then every phone fetches its own \
  phonebook on the keep-alive connections of (a), served from the render cache until the store \
  changes.
- (j) The site of (a) to (d) is copied into a PostgreSQL started for the run (loopback, fsync \
  on) with `deskprov migrate-store`, and one deskprov node serves it from there: first a boot \
  storm of every phone (the first pass: the node reads each device once, and each phone's \
  sighting is written, as after any move or restart), then (a), (c) and (d), once each. A \
  cached file needs no database round trip, so keep-alive and the boot storm should be close \
  to sled's; a login writes its rows in transactions over the network. Just before, a sled node \
  on the same site runs the same first pass, keep-alive and boot storm, and those are what the \
  ratios compare with: until 2026-12-07 they compared with (a) and (c) minutes earlier, and the \
  same binary's PostgreSQL keep-alive went from 1.10 of sled's to 0.76 between two full runs as \
  the machine slowed ((a) with wrk fell from 43,425 to 33,413 requests/s between the same two \
  runs), the previous commit's binary giving the same 36,700 requests/s as the new one in a run \
  of (j) alone.
- Where deskprov's time goes, counted in instructions by callgrind (repeatable, where this \
  machine's throughput is not: the same binary served 25,000 to 44,000 requests/s with wrk from \
  one run to the next on 2026-12-07), over 20 s of wrk on 2,000 of the phones once each had been \
  served, with `limits.event_log_devices` at 1,000 so that the event log evicts on every request \
  as in (a): the bare responder's connection task runs 24,200 instructions a request, deskprov's \
  42,400 (49,500 on the morning of 2026-12-07, 46,400 before its last cuts that evening). Of \
  those, deskprov's own request path (`provision::route`) is 15,500 (21,900, 18,400): \
  identifying vendor and file 4,700 (the User-Agent tried against each vendor's parser 3,200, \
  3,900 before versions were copied whole and the text checked as UTF-8 a word at a time; the \
  file name 600, 1,100 when every path was percent-decoded and searched three times; the base \
  URL 700), proving the request 3,800 (4,700 when the peer's address was parsed from the \
  record's text three times a request; the credentials 1,400, 1,700 when Basic's user and \
  password were copied out of the decoded text), the event log 700 (1,300 when its eviction \
  hashed the MAC four times; a table that takes the hash from its caller hashes it once), the \
  cached file 600 and its response headers 1,400. hyper and rustls take the other 26,900, 2,700 \
  more than in the bare responder: deskprov's connection arms the head-read timeout for every \
  request (800: hyper allocates a new timer each time) and counts metrics, and hyper moves the \
  phone request's future, 6.3 KB, a few times a request (memcpy, about 1,000; the largest part \
  is the proof's, 4.1 KB, made so by its rare turns, the refusal of a file nobody serves, a \
  contested claim and the claim itself, 2.1 to 2.3 KB each, which boxing would take out of the \
  common path). strace on 2026-12-07: two system calls a request (one recvfrom, one writev), as \
  few as either server makes. In alternating runs of wrk on the same site that evening, the \
  42,400-instruction binary served about 5 % more than the 46,400 one (medians of four runs \
  each, 40,000 against 38,300 requests/s), within this machine's variation, and the full (a) \
  ratios did not move (0.86 and 0.91 of nginx against 0.88 and 0.90). Reaching 0.9 of the bare \
  responder would leave deskprov about 3,000 instructions for everything it does: more than \
  trimming can reach, hence not met. perf on 2026-12-02 put the kernel's loopback TCP at about \
  half of either server's CPU time.
- (d) The PIN hashing threads run in the idle scheduling class (any waking request thread \
  preempts them) at nice 19, and by default on half the cores (`hotdesk.max_concurrent_hashes`). \
  Single-round runs on 2026-12-07, five each: with two hashing threads on this machine's two \
  cores the p99 ratio was 1.71 to 2.17 (median 2.06), with one 1.33 to 1.80 (median 1.65), at 6 \
  to 9 logins a second either way: an idle-class thread gets only the time the request threads \
  leave, so under this load a second one adds no logins, only a second core whose caches \
  argon2id's 19 MiB per hash evicts. With the PIN check skipped (an experiment build), logins ran \
  at about 470 a second: a login's own requests and writes cost about 60 config requests, about \
  1 % of (a) at 6 a second, so the rest of the gap is the hashing. OWASP's equivalent 7 MiB, t=5 \
  did twice the logins at the same ratio; mimalloc's purge delay (10 ms instead of 0) changed \
  nothing.
- The client shares the two cores with the server it measures, as a load generator on the same \
  host must; both servers are measured under the same conditions. Runs of the same server vary by \
  about ten per cent from one to the next on this machine, hence the rounds.";

/// A rate of deskprov, nginx and (when it ran) the bare responder: met when deskprov reaches
/// 1.2 times nginx and `of_bare` times the bare responder.
fn rate_row(name: &'static str, rates: &[f64], target: &'static str, of_bare: f64) -> Option<Row> {
    let [deskprov, nginx, rest @ ..] = rates else {
        return None;
    };
    let ratio = deskprov / nginx;
    let bare = rest
        .first()
        .map(|bare| (format!("{bare:.0}"), deskprov / bare));
    Some(Row {
        name,
        deskprov: format!("{deskprov:.0}"),
        nginx: format!("{nginx:.0}"),
        met: ratio >= 1.2 && bare.as_ref().is_none_or(|(_, r)| *r >= of_bare),
        bare,
        ratio,
        target,
    })
}

fn latency_row(out: &mut String, name: &str, server: &str, s: &Stats) {
    let _ = writeln!(
        out,
        "| {name} | {server} | {} | {} | {:.0} | {:.2} | {:.2} |",
        s.requests,
        s.errors,
        s.rate(),
        s.percentile_ms(50.0),
        s.percentile_ms(99.0)
    );
}

fn machine(nginx: &str) -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let memory_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0 / 1024.0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!(
        "- CPU: {cpu}, {cores} cores available\n- Memory: {memory_gib:.1} GiB\n- Linux {}\n- {nginx}, \
         {cores} worker processes\n- deskprov: release build, tokio with {cores} worker threads\n\
         - The client shares the machine: it runs on the same cores as the server it measures.",
        kernel.trim()
    )
}
