//! `/healthz` and `/readyz` on both listeners: no token, no detail, and readiness that follows
//! the store.

use deskprov::client::Client;
use http::{Method, StatusCode};

use crate::helpers::TestServer;

async fn status_of(client: &Client, method: Method, path: &str) -> (StatusCode, String) {
    let reply = client.send(method, path, &[], None).await.unwrap();
    assert_eq!(
        reply
            .headers
            .get("cache-control")
            .map(|v| v.to_str().unwrap()),
        Some("no-store"),
        "{path}"
    );
    (
        reply.status,
        String::from_utf8(reply.body.to_vec()).unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_readiness_answer_without_a_token_on_both_listeners_and_follow_the_store() {
    let server = TestServer::start().await;
    let listeners = [&server.phone, &server.admin];
    for client in listeners {
        for path in ["/healthz", "/readyz"] {
            assert_eq!(
                status_of(client, Method::GET, path).await,
                (StatusCode::OK, "ok\n".to_string())
            );
            assert_eq!(
                status_of(client, Method::HEAD, path).await.0,
                StatusCode::OK
            );
            let (status, _) = status_of(client, Method::POST, path).await;
            assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
        }
    }

    // The store stops answering: not ready, on both listeners, and still alive.
    let store = &server.running().app.store;
    store.fail_probes(true);
    for client in listeners {
        assert_eq!(
            status_of(client, Method::GET, "/readyz").await,
            (StatusCode::SERVICE_UNAVAILABLE, "not ready\n".to_string())
        );
        assert_eq!(
            status_of(client, Method::GET, "/healthz").await.0,
            StatusCode::OK
        );
    }
    store.fail_probes(false);
    for client in listeners {
        assert_eq!(
            status_of(client, Method::GET, "/readyz").await.0,
            StatusCode::OK
        );
    }
}
