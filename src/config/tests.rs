use super::*;

#[test]
fn connection_shares_that_would_shut_everyone_out_are_refused() {
    assert!(Config::default().validate().is_ok());
    let mut config = Config::default();
    config.limits.pre_handshake_percent = 0;
    assert!(config.validate().is_err());
    let mut config = Config::default();
    config.limits.max_phone_connections_per_source = 0;
    assert!(config.validate().is_err());
    let mut config = Config::default();
    config.limits.admin_loopback_reserve = config.limits.max_admin_connections;
    assert!(config.validate().is_err());
}

#[test]
fn claim_networks_are_cidrs_without_host_bits() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("deskprov.toml");
    let with = |networks: &str| {
        std::fs::write(
            &path,
            format!("[provisioning]\nclaim_networks = [{networks}]\n"),
        )
        .unwrap();
        Config::from_file(&path)
    };
    let c = with("\"10.20.0.0/16\", \"2001:db8::/48\"").unwrap();
    assert!(
        c.provisioning.claim_networks[0]
            .contains(&"10.20.3.4".parse::<std::net::IpAddr>().unwrap())
    );
    assert!(with("\"10.20.0.0/33\"").is_err());
    assert!(with("\"office\"").is_err());
    let host_bits = with("\"10.20.0.1/16\"").unwrap_err().to_string();
    assert!(host_bits.contains("10.20.0.0/16"), "{host_bits}");
}

#[test]
fn pin_hashes_take_half_the_cores_by_default_and_at_least_one() {
    let cores = std::thread::available_parallelism().unwrap().get();
    let hashes = HotdeskConfig::default().max_concurrent_hashes;
    assert!(hashes >= 1);
    assert_eq!(hashes, (cores / 2).max(1), "on {cores} cores");
}

#[test]
fn a_public_url_with_credentials_is_refused() {
    assert!(validate_public_url("https://prov.example.com:8443/").is_ok());
    let refused = validate_public_url("https://admin:pw@prov.example.com/").unwrap_err();
    assert!(refused.to_string().contains("credentials"), "{refused}");
}

#[test]
fn file_overrides_defaults_and_typos_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("deskprov.toml");
    std::fs::write(
        &path,
        "[server]\nphone_listen = \"127.0.0.1:9443\"\n[provisioning]\nclaim_window_secs = 60\n",
    )
    .unwrap();
    let c = Config::from_file(&path).unwrap();
    assert_eq!(c.server.phone_listen.port(), 9443);
    assert_eq!(c.server.admin_listen.port(), 8444);
    assert_eq!(c.provisioning.claim_window_secs, 60);

    std::fs::write(&path, "[server]\nphone_lisen = \"127.0.0.1:9443\"\n").unwrap();
    assert!(
        Config::from_file(&path)
            .unwrap_err()
            .to_string()
            .contains("phone_lisen")
    );

    std::fs::write(&path, "[server]\npublic_url = \"https://x/\nfoo\"\n").unwrap();
    assert!(Config::from_file(&path).is_err());
}
