//! The audit trail cannot be silenced or flushed out: a flood of repeatable refusals from many
//! sources neither hides later refusals from other sources (in the trail and the log) nor
//! pushes one-off security records (a claim) out when the trail is trimmed.

use std::net::IpAddr;

use http::StatusCode;

use crate::api::{AdminApi, AuditFilter, NewDevice};
use crate::helpers::*;

/// The repeat filter's sources in the test; the report flooded 10,050 sources past 10,000.
const FILTER_SOURCES: usize = 1000;
const FLOOD_SOURCES: usize = FILTER_SOURCES * 10_050 / 10_000;
const UNKNOWN_LOGIN: &str = "/hotdesk/notalogintoken0000000000000000/login";

fn flood_source(i: usize) -> IpAddr {
    IpAddr::from([127, 1, (i / 250) as u8, (i % 250 + 1) as u8])
}

fn elsewhere(n: u8) -> IpAddr {
    IpAddr::from([127, 0, 9, n])
}

/// The records of `kind` from `source`.
async fn records_from(api: &AdminApi<'_>, kind: &str, source: IpAddr) -> Vec<serde_json::Value> {
    let records = api.list_audit(AuditFilter::kind(kind)).ok().await;
    records
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["source"] == source.to_string())
        .cloned()
        .collect()
}

/// Whether this run's log has a line about `kind` from `source`.
fn logged(kind: &str, source: IpAddr) -> bool {
    crate::logs::lines()
        .iter()
        .any(|line| line.contains(kind) && line.contains(&format!("source=\"{source}\"")))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_refusals_from_many_sources_neither_silences_nor_flushes_the_trail() {
    let server = TestServer::start_with(|config| {
        config.security.audit_repeat_sources = FILTER_SOURCES;
        config.security.audit_repeat_keys_per_source = 2;
        config.security.audit_max_records = 1000;
    })
    .await;
    server.seed_desk_phone().await;
    let claim = server.phone_get("/001565aabbcc.cfg", T46S_UA).await;
    assert_eq!(claim.status, StatusCode::OK);
    let api = server.admin_api();
    let claims = api
        .list_audit(AuditFilter::kind("device_claimed"))
        .ok()
        .await;
    assert_eq!(claims.as_array().unwrap().len(), 1);
    let registered = ["001565000001", "001565000002", "001565000003"];
    for mac in registered {
        api.create_device(NewDevice::new(mac).model("T46S"))
            .ok()
            .await;
    }
    server.clock.advance(2 * 3600);

    for i in 0..FLOOD_SOURCES {
        let attacker = server.phone.clone().from_source(flood_source(i));
        let reply = attacker
            .get(UNKNOWN_LOGIN, &[("user-agent", T46S_UA)])
            .await;
        assert_eq!(reply.unwrap().status, StatusCode::OK, "flood request {i}");
    }

    // Each refusal from another source after the flood leaves its record and its log line.
    let admin_elsewhere = server.admin.clone().from_source(elsewhere(1));
    let guesser = AdminApi::new(&admin_elsewhere, "wrong-admin-token-25");
    assert_eq!(
        guesser.list_devices().await.status,
        StatusCode::UNAUTHORIZED
    );
    let config_elsewhere = server.phone.clone().from_source(elsewhere(2));
    let refused = config_elsewhere
        .get("/001565000001.cfg", &[("user-agent", T46S_UA)])
        .await
        .unwrap();
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    let login_elsewhere = server.phone.clone().from_source(elsewhere(3));
    let reply = login_elsewhere
        .get(UNKNOWN_LOGIN, &[("user-agent", T46S_UA)])
        .await;
    assert_eq!(reply.unwrap().status, StatusCode::OK);
    wait_for_sightings(&server).await;
    for (kind, source) in [
        ("admin_auth_failure", elsewhere(1)),
        ("config_refused", elsewhere(2)),
        ("unknown_login_token", elsewhere(3)),
    ] {
        let records = records_from(&api, kind, source).await;
        assert_eq!(records.len(), 1, "{kind} from {source}: {records:?}");
        assert!(logged(kind, source), "no log line for {kind} from {source}");
    }

    // One source's distinct refusals beyond its bound are counted, and the count recorded.
    let sweeper = server.phone.clone().from_source(elsewhere(4));
    for mac in registered {
        let path = format!("/{mac}.cfg");
        let reply = sweeper.get(&path, &[("user-agent", T46S_UA)]).await;
        assert_eq!(reply.unwrap().status, StatusCode::UNAUTHORIZED);
    }
    wait_for_sightings(&server).await;
    assert_eq!(
        records_from(&api, "config_refused", elsewhere(4))
            .await
            .len(),
        2
    );
    server.clock.advance(301);
    deskprov::ops::audit::record_ended_suppressions(&server.running().app).await;
    let summaries = api
        .list_audit(AuditFilter::kind("events_suppressed").subject("127.0.9.4"))
        .ok()
        .await;
    assert_eq!(summaries.as_array().unwrap().len(), 1, "{summaries}");
    assert!(
        summaries[0]["detail"]
            .as_str()
            .unwrap()
            .starts_with("1 events suppressed")
    );

    // The trail, now past its bound, is trimmed: the flood goes, the claim stays.
    let removed = deskprov::ops::audit::trim(&server.running().app)
        .await
        .unwrap();
    assert!(removed > 0);
    let claims = api
        .list_audit(AuditFilter::kind("device_claimed"))
        .ok()
        .await;
    assert_eq!(
        claims.as_array().unwrap().len(),
        1,
        "the claim was trimmed away"
    );

    // Phones and admins are still served.
    let (user, password) = server.credentials(T46S_MAC).await;
    let own = server
        .phone_get_with(
            "/001565aabbcc.cfg",
            &[
                ("user-agent", T46S_UA),
                ("authorization", &basic(&user, &password)),
            ],
        )
        .await;
    assert_eq!(own.status, StatusCode::OK);
    assert_eq!(api.list_devices().await.status, StatusCode::OK);
}
