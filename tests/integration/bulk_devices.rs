//! Claims reset and hot-desk logouts at many devices in one call: all of the devices or none.

use http::{Method, StatusCode};
use serde_json::json;

use crate::api::{AdminApi, Call, NewDevice};
use crate::helpers::TestServer;

impl<'a> AdminApi<'a> {
    pub fn reset_claims(&self, macs: &[&str]) -> Call<'a> {
        let body = json!({ "macs": macs });
        self.request(Method::POST, "/api/v1/devices/bulk-reset-claim", body)
    }

    pub fn logout_devices(&self, macs: &[&str]) -> Call<'a> {
        let body = json!({ "macs": macs });
        self.request(Method::POST, "/api/v1/devices/bulk-logout", body)
    }
}

const FIRST: &str = "001565000a01";
const SECOND: &str = "001565000a02";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_claims_of_many_devices_are_reset_in_one_call_or_not_at_all() {
    let server = TestServer::start().await;
    let api = server.admin_api();
    for mac in [FIRST, SECOND] {
        api.create_device(NewDevice::new(mac).model("T46S"))
            .ok()
            .await;
    }
    let before = [
        server.credentials(FIRST).await,
        server.credentials(SECOND).await,
    ];

    let refused = api
        .reset_claims(&[FIRST, SECOND, "001565000a99"])
        .send()
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND, "{}", refused.text());
    assert!(
        refused.text().contains("001565000a99"),
        "{}",
        refused.text()
    );
    assert_eq!(
        server.credentials(FIRST).await,
        before[0],
        "nothing changed"
    );
    let empty = api.reset_claims(&[]).send().await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);

    let reset = api.reset_claims(&["0015.6500.0a01", SECOND]).ok().await;
    assert_eq!(reset["reset"], json!([FIRST, SECOND]));
    assert_ne!(server.credentials(FIRST).await.1, before[0].1);
    assert_ne!(server.credentials(SECOND).await.1, before[1].1);

    let nobody = api.logout_devices(&[FIRST, SECOND]).send().await;
    assert_eq!(nobody.status, StatusCode::CONFLICT, "{}", nobody.text());
    assert!(
        nobody.text().contains("nobody is logged in"),
        "{}",
        nobody.text()
    );
}
