//! The self-service portal's admin side and its one-time links: a user's portal password set
//! or generated through the API (never in the audit trail), the policy refusing weak ones, and
//! links issued by `ops::links::issue`: single use, dead after a newer one or a password
//! change, and never usable for another user.

use http::StatusCode;
use serde_json::{Value, json};

use crate::api::{AuditFilter, NewUser};
use crate::helpers::TestServer;
use deskprov::model::LinkPurpose;
use deskprov::ops::{Actor, links};

const GOOD: &str = "a long portal password";

fn token_of(url: &deskprov::domain::Secret) -> String {
    url.expose().rsplit('/').next().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_set_portal_passwords_and_links_are_single_use() {
    let server = TestServer::start().await;
    let api = server.admin_api();
    api.create_user(NewUser::new("4711", "Anna Schmidt").last_name("Schmidt"))
        .ok()
        .await;
    api.create_user(NewUser::new("4712", "Bob Meier"))
        .ok()
        .await;

    // The policy: too short, or containing the extension or a name, changes nothing.
    for bad in ["short", "my-4711-password", "i-am-schmidt-really"] {
        api.set_portal_password("4711", json!({"password": bad}))
            .fails(StatusCode::BAD_REQUEST)
            .await;
    }
    let user = api.show_user("4711").ok().await;
    assert_eq!(user["has_portal_password"], false);

    let generated = api
        .set_portal_password("4711", json!({"generate": true, "require_change": true}))
        .ok()
        .await;
    let password = generated["portal_password"].as_str().unwrap().to_string();
    assert!(password.len() >= 12);
    assert_eq!(generated["has_portal_password"], true);
    assert_eq!(generated["password_change_required"], true);
    let shown_again = api.show_user("4711").ok().await;
    assert!(shown_again.get("portal_password").is_none());
    let trail = api
        .list_audit(AuditFilter::kind("admin_change").subject("4711"))
        .ok()
        .await;
    let text = trail.to_string();
    assert!(text.contains("portal password generated"), "{text}");
    assert!(!text.contains(&password), "the password is in the trail");

    // Links: issued, used once; a newer one kills the older; another user's is theirs only.
    let app = server.running().app.clone();
    let admin = Actor::system("test");
    let ext = deskprov::domain::Extension::parse("4711").unwrap();
    let bob = deskprov::domain::Extension::parse("4712").unwrap();
    let first = links::issue(&app, &admin, &ext, LinkPurpose::Reset)
        .await
        .unwrap();
    assert!(first.url.expose().contains("/me/link/"));
    let second = links::issue(&app, &admin, &ext, LinkPurpose::Reset)
        .await
        .unwrap();
    let older = links::consume(&app, &admin, &token_of(&first.url), GOOD, "")
        .await
        .unwrap();
    assert_eq!(
        older,
        Err(links::LinkRefusal::Invalid),
        "an older link still works"
    );
    // Anna has a PIN? No: the link asks for one and refuses a weak one.
    let weak = links::consume(&app, &admin, &token_of(&second.url), GOOD, "123456")
        .await
        .unwrap();
    assert!(matches!(weak, Err(links::LinkRefusal::Pin(_))), "{weak:?}");
    let used = links::consume(&app, &admin, &token_of(&second.url), GOOD, "739164")
        .await
        .unwrap();
    assert_eq!(used, Ok(ext.clone()));
    let again = links::consume(&app, &admin, &token_of(&second.url), GOOD, "739164")
        .await
        .unwrap();
    assert_eq!(
        again,
        Err(links::LinkRefusal::Invalid),
        "a link works twice"
    );
    let anna: Value = api.show_user("4711").ok().await;
    assert_eq!(anna["has_pin"], true);
    assert_eq!(anna["password_change_required"], false);

    let bobs = links::issue(&app, &admin, &bob, LinkPurpose::Welcome)
        .await
        .unwrap();
    // A token made up for Anna, and Bob's token with Anna's link gone: only Bob's own works.
    let forged = links::consume(&app, &admin, "not-a-token", GOOD, "739164")
        .await
        .unwrap();
    assert_eq!(forged, Err(links::LinkRefusal::Invalid));
    let bob_used = links::consume(
        &app,
        &admin,
        &token_of(&bobs.url),
        "another good password",
        "582931",
    )
    .await
    .unwrap();
    assert_eq!(
        bob_used,
        Ok(bob.clone()),
        "the link sets the password of its own user"
    );
    assert_eq!(
        api.show_user("4711").ok().await["has_portal_password"],
        true
    );

    // A password change by the admin invalidates a link issued before it.
    let before = links::issue(&app, &admin, &ext, LinkPurpose::Reset)
        .await
        .unwrap();
    api.set_portal_password("4711", json!({"password": "yet another password"}))
        .ok()
        .await;
    let stale = links::consume(&app, &admin, &token_of(&before.url), GOOD, "")
        .await
        .unwrap();
    assert_eq!(stale, Err(links::LinkRefusal::Invalid));

    // Expiry: an hour.
    let late = links::issue(&app, &admin, &ext, LinkPurpose::Reset)
        .await
        .unwrap();
    server.clock.advance(links::VALID_SECS);
    let expired = links::consume(&app, &admin, &token_of(&late.url), GOOD, "")
        .await
        .unwrap();
    assert_eq!(expired, Err(links::LinkRefusal::Invalid));
}
