//! The claim window against the red team's attacks (../shared/reference/attack-findings.md):
//! a claim is on disk before the config with its secrets goes out (#10), and only a GET that
//! receives the file takes it (#11).

use deskprov::client::Client;
use http::StatusCode;

use crate::helpers::*;

/// Finding #11: `curl -I` inside the window took the claim and the phone was refused.
#[tokio::test]
async fn a_head_request_does_not_take_the_claim() {
    let server = TestServer::start().await;
    server.seed_desk_phone().await;
    let scanner = server
        .phone
        .clone()
        .from_source("127.0.0.67".parse().unwrap());
    let head = scanner
        .send(http::Method::HEAD, "/001565aabbcc.cfg", &[], None)
        .await
        .unwrap();
    assert_eq!(head.status, StatusCode::UNAUTHORIZED);
    let device = server.admin_api().show_device(T46S_MAC).ok().await;
    assert_eq!(device["claimed"], false);
    let phone = server.phone_get("/001565aabbcc.cfg", T46S_UA).await;
    assert_eq!(phone.status, StatusCode::OK);
}

/// Finding #10: a kill -9 right after the 200 lost the claim, and a second party then got the
/// same config.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_survives_a_crash_right_after_the_config_went_out() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut server = BinaryServer::start(d, &[]);
    let (code, _, err) = cli(
        d,
        server.admin_addr,
        &["devices", "add", T46S_MAC, "--model", "T46S"],
    );
    assert_eq!(code, 0, "{err}");
    let phone =
        Client::trusting_file(server.phone_addr, "localhost", &d.join("certs/server.crt")).unwrap();
    let claimed = phone
        .get("/001565aabbcc.cfg", &[("user-agent", T46S_UA)])
        .await
        .unwrap();
    assert_eq!(claimed.status, StatusCode::OK);
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    let again = BinaryServer::start(d, &[]);
    let thief = Client::trusting_file(again.phone_addr, "localhost", &d.join("certs/server.crt"))
        .unwrap()
        .from_source("127.0.0.66".parse().unwrap());
    let stolen = thief.get("/001565aabbcc.cfg", &[]).await.unwrap();
    assert_eq!(
        stolen.status,
        StatusCode::UNAUTHORIZED,
        "the claim was lost in the crash"
    );
}
