//! A data directory written by an earlier release (fixtures/upgrade/, made by its make.sh
//! with the release before the storage interface) opens with this one and renders every
//! device's file byte for byte as that release rendered it.

use std::path::Path;

use crate::helpers::TestServer;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_data_directory_of_the_release_before_renders_every_file_byte_for_byte() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/upgrade");
    let server =
        TestServer::start_with(|config| copy_dir(&fixture.join("data"), &config.server.data_dir))
            .await;
    let mut compared = 0;
    for entry in std::fs::read_dir(fixture.join("expected")).unwrap() {
        let entry = entry.unwrap();
        let mac = entry.file_name().into_string().unwrap();
        let expected = std::fs::read(entry.path()).unwrap();
        let rendered = server
            .admin_api()
            .render(&mac)
            .query("host=prov.example.com")
            .await;
        assert_eq!(
            rendered.status,
            http::StatusCode::OK,
            "{mac}: {}",
            rendered.text()
        );
        assert!(
            rendered.body.as_ref() == expected.as_slice(),
            "{mac} renders differently after the upgrade:\n{}",
            rendered.text()
        );
        compared += 1;
    }
    assert_eq!(
        compared, 8,
        "every vendor, a DECT base and a hot-desk phone"
    );
    let users = server.admin_api().list_users().ok().await;
    assert_eq!(users.as_array().unwrap().len(), 7);
    // Its token predates roles: it is an owner token, which the render of secrets needed.
    let tokens = server.admin_api().list_tokens().ok().await;
    assert_eq!(tokens[0]["role"], "owner", "{tokens}");
    assert_eq!(tokens[0]["reads_secrets"], true, "{tokens}");
}
