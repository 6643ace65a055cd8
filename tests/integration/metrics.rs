//! `/metrics` on the admin listener: the whole output parsed with a strict OpenMetrics parser,
//! counters scraped before and after a scripted phone session, and who may scrape.

use std::collections::BTreeMap;

use http::{Method, StatusCode};
use openmetrics_parser::{MetricNumber, OpenMetricsValue};

use crate::api::Body;
use crate::helpers::*;
use crate::hotdesk::{ALICE_PIN, YEALINK, add_desk, login, site};

/// Every sample of a scrape by `family{label=value,...}` (labels sorted); a histogram gives
/// `family_count{...}`. Panics unless the whole text parses.
fn samples(text: &str) -> BTreeMap<String, f64> {
    let exposition = openmetrics_parser::openmetrics::parse_openmetrics(text)
        .unwrap_or_else(|e| panic!("not valid OpenMetrics: {e:?}\n{text}"));
    let mut samples = BTreeMap::new();
    for (name, family) in &exposition.families {
        for sample in family.iter_samples() {
            let labels = sample.get_labelset().unwrap();
            let mut pairs: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
            pairs.sort();
            let labels = pairs.join(",");
            let number = |n: &MetricNumber| n.as_f64();
            match &sample.value {
                OpenMetricsValue::Counter(c) => {
                    samples.insert(format!("{name}{{{labels}}}"), number(&c.value));
                }
                OpenMetricsValue::Gauge(g) => {
                    samples.insert(format!("{name}{{{labels}}}"), number(g));
                }
                OpenMetricsValue::Histogram(h) => {
                    let count = h.count.expect("a histogram has its count") as f64;
                    samples.insert(format!("{name}_count{{{labels}}}"), count);
                    let inf = h.buckets.iter().find(|b| b.upper_bound == f64::INFINITY);
                    assert_eq!(
                        inf.map(|b| number(&b.count)),
                        Some(count),
                        "{name}: the +Inf bucket holds every observation"
                    );
                }
                other => panic!("{name}: unexpected {other:?}"),
            }
        }
    }
    samples
}

async fn scrape(server: &TestServer) -> (String, BTreeMap<String, f64>) {
    let reply = server.admin_api().metrics().send().await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert!(
        reply.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text"),
        "{:?}",
        reply.headers
    );
    let text = reply.text();
    let parsed = samples(&text);
    (text, parsed)
}

fn delta(before: &BTreeMap<String, f64>, after: &BTreeMap<String, f64>, key: &str) -> f64 {
    let value = |m: &BTreeMap<String, f64>| m.get(key).copied();
    let now = value(after).unwrap_or_else(|| panic!("no sample {key}"));
    now - value(before).unwrap_or(0.0)
}

#[tokio::test]
async fn a_phone_session_moves_the_counters_it_should() {
    let server = site(|_| {}).await;
    add_desk(&server, YEALINK).await;
    let (_, before) = scrape(&server).await;

    // A served config, the same again as a 304, a refused request, a hot-desk login.
    let (user, password) = server.credentials(YEALINK.mac).await;
    let authorization = basic(&user, &password);
    let headers = [
        ("user-agent", YEALINK.user_agent),
        ("authorization", authorization.as_str()),
    ];
    let served = server.phone_get_with(YEALINK.config, &headers).await;
    assert_eq!(served.status, StatusCode::OK);
    let etag = served.headers["etag"].to_str().unwrap().to_string();
    let revalidate = [headers[0], headers[1], ("if-none-match", etag.as_str())];
    let unchanged = server.phone_get_with(YEALINK.config, &revalidate).await;
    assert_eq!(unchanged.status, StatusCode::NOT_MODIFIED);
    let stranger = "Yealink SIP-T54W 96.86.0.100 00:15:65:00:00:99";
    let refused = server.phone_get("/001565000099.cfg", stranger).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    let screen = login(&server, YEALINK, "1001", ALICE_PIN).await;
    assert!(
        screen.contains("1001") || screen.contains("Alice"),
        "{screen}"
    );

    let (text, after) = scrape(&server).await;
    let requests = |outcome: &str, vendor: &str| {
        let key = format!("deskprov_phone_requests{{outcome={outcome},vendor={vendor}}}");
        delta(&before, &after, &key)
    };
    // The config twice (once more by the login, which fetches the config for its key).
    assert_eq!(requests("served", "yealink"), 2.0);
    assert_eq!(requests("not_modified", "yealink"), 1.0);
    assert_eq!(requests("refused", "yealink"), 1.0);
    assert_eq!(requests("banned", "yealink"), 0.0);
    assert_eq!(requests("error", "yealink"), 0.0);
    // The login's browser requests name no vendor.
    let browser = requests("served", "unknown");
    assert!(browser >= 1.0, "{browser}");
    let phone_requests: f64 = after
        .keys()
        .filter(|k| k.starts_with("deskprov_phone_requests{"))
        .map(|k| delta(&before, &after, k))
        .sum();
    assert_eq!(phone_requests, 4.0 + browser);
    assert_eq!(
        delta(
            &before,
            &after,
            "deskprov_request_duration_seconds_count{listener=phone}"
        ),
        phone_requests,
        "every phone request is timed once"
    );
    assert_eq!(
        delta(
            &before,
            &after,
            "deskprov_phone_refusals{reason=unknown_device}"
        ),
        1.0
    );
    assert_eq!(delta(&before, &after, "deskprov_hotdesk_logins{}"), 1.0);
    assert_eq!(
        delta(&before, &after, "deskprov_hotdesk_login_failures{}"),
        0.0
    );
    assert_eq!(delta(&before, &after, "deskprov_hotdesk_sessions{}"), 1.0);
    assert_eq!(delta(&before, &after, "deskprov_claims{}"), 0.0);
    // The first fetch rendered; the 304 and the login's fetch (for its key) were cache hits.
    assert_eq!(delta(&before, &after, "deskprov_render_cache_hits{}"), 2.0);
    assert_eq!(
        delta(&before, &after, "deskprov_render_cache_misses{}"),
        1.0
    );
    assert!(after["deskprov_render_cache_bytes{}"] > 0.0);
    assert!(
        delta(
            &before,
            &after,
            "deskprov_store_operation_duration_seconds_count{operation=device_read}"
        ) >= 3.0
    );
    assert!(delta(&before, &after, "deskprov_tls_handshakes{listener=phone}") >= 1.0);
    // This scrape's own connection is open.
    assert!(after["deskprov_open_connections{listener=admin}"] >= 1.0);
    assert_eq!(after["deskprov_active_bans{}"], 0.0);

    // No label carries a MAC, an extension or an address.
    for secretish in ["001565", "aabb01", "1001", "127.0.0.1", "Alice"] {
        for key in after.keys() {
            let labels = key.split_once('{').unwrap().1;
            assert!(!labels.contains(secretish), "{key}");
        }
    }
    assert!(!text.contains(&server.token));
}

#[tokio::test]
async fn only_an_admin_token_or_a_scrape_address_may_scrape() {
    let server = TestServer::start().await;
    let api = server.admin_api();
    let anonymous = api.clone().without_authorization();
    let refused = anonymous.metrics().send().await;
    let other = anonymous
        .request(Method::GET, "/api/v1/devices", Body::None)
        .send()
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(refused.body, other.body, "the same 401 as any refused call");
    let wrong = api
        .clone()
        .with_authorization("Bearer not-a-token")
        .metrics()
        .send()
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    // At the root only, and for GET (and HEAD) only.
    let under_api = api
        .request(Method::GET, "/api/v1/metrics", Body::None)
        .send()
        .await;
    assert_eq!(under_api.status, StatusCode::NOT_FOUND);
    let post = api
        .request(Method::POST, "/metrics", Body::None)
        .send()
        .await;
    assert_eq!(post.status, StatusCode::METHOD_NOT_ALLOWED);

    // From a configured scrape address, no token is needed.
    let scraper = TestServer::start_with(|c| {
        c.metrics.allow_networks = vec!["127.0.0.0/8".parse().unwrap()];
    })
    .await;
    let reply = scraper
        .admin_api()
        .without_authorization()
        .metrics()
        .send()
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    samples(&reply.text());
    // It opens nothing else.
    let devices = scraper
        .admin_api()
        .without_authorization()
        .request(Method::GET, "/api/v1/devices", Body::None)
        .send()
        .await;
    assert_eq!(devices.status, StatusCode::UNAUTHORIZED);
    // A scrape address outside the listener's sources does not open it either.
    let elsewhere = TestServer::start_with(|c| {
        c.metrics.allow_networks = vec!["10.0.0.0/8".parse().unwrap()];
    })
    .await;
    let reply = elsewhere
        .admin_api()
        .without_authorization()
        .metrics()
        .send()
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
}

#[test]
fn scrape_networks_are_cidrs_without_host_bits() {
    let mut config = deskprov::config::Config::default();
    config.metrics.allow_networks = vec!["10.0.5.1/24".parse().unwrap()];
    let refused = config.validate().unwrap_err().to_string();
    assert!(refused.contains("metrics.allow_networks"), "{refused}");
}
