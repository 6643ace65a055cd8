//! (f) Whether the time of an answer tells a registered MAC from an unknown one (issue 19; the
//! red team's findings #1 and #14). The seen-unregistered list is filled to its cap first, as
//! the attack did; then requests alternate a fresh unknown MAC and a registered one, each source
//! within its ban budget (ten distinct MACs), on one keep-alive connection per source:
//! - the common file with the MAC in the User-Agent (the report's path), each MAC named once
//!   per source;
//! - the MAC's own file without credentials, each registered MAC asked once per source, as a
//!   sweeper asks (the refusal of a registered device is recorded, an unknown one's is not).
//!
//! Reported: the median time of each kind and their ratio, unknown / registered.

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use crate::load::{Endpoint, exchange};
use crate::seed::Phone;

/// The list's default cap (`provisioning.max_unregistered`).
const LIST_CAP: usize = 1000;
/// Distinct MACs a source may name within the window before it is banned.
const BUDGET: usize = 10;

/// Medians of one path, in microseconds.
pub struct Oracle {
    pub path: &'static str,
    pub unknown_us: f64,
    pub registered_us: f64,
    pub samples: usize,
}

impl Oracle {
    pub fn ratio(&self) -> f64 {
        self.unknown_us / self.registered_us
    }
}

fn yealink_ua(mac: &str) -> String {
    format!("Yealink SIP-T54W 96.86.0.100 {mac}")
}

fn get(path: &str, user_agent: &str, port: u16) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: {user_agent}\r\n\r\n")
        .into_bytes()
}

/// A MAC under the Yealink prefix that no seeded phone has (seed.rs numbers from 00:15:65:a0).
fn unknown_mac(group: u8, n: usize) -> String {
    format!("001565{group:02x}{:04x}", n & 0xffff)
}

/// The MAC as a Yealink writes it in its User-Agent.
fn with_colons(mac: &str) -> String {
    let pairs: Vec<&str> = (0..6).map(|i| &mac[2 * i..2 * i + 2]).collect();
    pairs.join(":")
}

/// Fills the seen-unregistered list to its cap from sources each within its budget.
async fn fill_list(endpoint: &Endpoint, common: &str) -> Result<(), String> {
    for source in 0..LIST_CAP / BUDGET {
        let from = Ipv4Addr::new(127, 3, (source / 250) as u8, 1 + (source % 250) as u8);
        let mut stream = endpoint.connect(from).await?;
        for n in 0..BUDGET {
            let mac = unknown_mac(0x10, source * BUDGET + n);
            let request = get(common, &yealink_ua(&with_colons(&mac)), endpoint.port);
            exchange(&mut stream, &request).await?;
        }
    }
    // The list is written off the request path: let its writer catch up.
    tokio::time::sleep(Duration::from_secs(2)).await;
    Ok(())
}

/// Both paths, `sources` sources each (of 127.4.x.y and 127.5.x.y).
pub async fn measure(
    endpoint: &Endpoint,
    phones: &[Phone],
    sources: usize,
) -> Result<Vec<Oracle>, String> {
    let yealinks: Vec<&Phone> = phones
        .iter()
        .filter(|p| p.user_agent.starts_with("Yealink SIP-T54W"))
        .take(BUDGET / 2)
        .collect();
    if yealinks.len() < BUDGET / 2 {
        return Err("the site has too few Yealinks".into());
    }
    let common = yealinks[0].common_path.clone();
    fill_list(endpoint, &common).await?;
    let common_file = sample(endpoint, sources, 4, |source, n| {
        let mac = unknown_mac(0x20 + (source / 4096) as u8, source * BUDGET + n);
        let unknown = yealink_ua(&with_colons(&mac));
        // A different registered MAC each time, as a sweeper names each MAC once.
        let registered = yealinks[n].user_agent.clone();
        (
            get(&common, &unknown, endpoint.port),
            get(&common, &registered, endpoint.port),
        )
    })
    .await?;
    let own_file = sample(endpoint, sources, 5, |source, n| {
        let unknown = format!(
            "/{}.cfg",
            unknown_mac(0x40 + (source / 4096) as u8, source * BUDGET + n)
        );
        let registered = yealinks[n].device_path.clone();
        (
            get(&unknown, "", endpoint.port),
            get(&registered, "", endpoint.port),
        )
    })
    .await?;
    Ok(vec![
        summarise("common file, MAC in the User-Agent", common_file),
        summarise("own file, refused", own_file),
    ])
}

/// Alternating pairs (unknown, registered) from `pairs(source, n)`, `per_source` pairs per
/// source; the times of each kind in microseconds.
async fn sample(
    endpoint: &Endpoint,
    sources: usize,
    per_source: usize,
    pairs: impl Fn(usize, usize) -> (Vec<u8>, Vec<u8>),
) -> Result<(Vec<f64>, Vec<f64>), String> {
    static NEXT_BLOCK: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(4);
    let block = NEXT_BLOCK.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let (mut unknown, mut registered) = (Vec::new(), Vec::new());
    for source in 0..sources {
        let from = Ipv4Addr::new(127, block, (source / 250) as u8, 1 + (source % 250) as u8);
        let mut stream = endpoint.connect(from).await?;
        // Opens the connection; not measured.
        exchange(&mut stream, &get("/y000000000096.cfg", "", endpoint.port)).await?;
        for n in 0..per_source {
            let (first, second) = pairs(source, n);
            for (request, into) in [(first, &mut unknown), (second, &mut registered)] {
                let started = Instant::now();
                exchange(&mut stream, &request).await?;
                into.push(started.elapsed().as_secs_f64() * 1e6);
            }
        }
    }
    Ok((unknown, registered))
}

fn summarise(path: &'static str, (unknown, registered): (Vec<f64>, Vec<f64>)) -> Oracle {
    Oracle {
        path,
        samples: unknown.len(),
        unknown_us: median(unknown),
        registered_us: median(registered),
    }
}

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples.get(samples.len() / 2).copied().unwrap_or(f64::NAN)
}
