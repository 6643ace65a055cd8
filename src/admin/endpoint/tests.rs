//! The table's own consistency: parameters, names, reachability, decoding.

use super::*;

#[test]
fn each_rows_parameters_are_its_paths_placeholders_in_order() {
    for def in DEFS {
        let placeholders: Vec<&str> = def
            .path
            .split('/')
            .filter_map(|p| p.strip_prefix('{').and_then(|p| p.strip_suffix('}')))
            .collect();
        let declared: Vec<&str> = def.params.iter().map(|(name, _)| *name).collect();
        assert_eq!(placeholders, declared, "{} {}", def.method, def.path);
    }
}

#[test]
fn names_are_unique_and_every_row_is_reachable() {
    for (i, def) in DEFS.iter().enumerate() {
        assert!(
            DEFS[..i].iter().all(|d| d.name != def.name),
            "{} twice",
            def.name
        );
        let path: String = def
            .path
            .split('/')
            .map(|p| match p {
                "{mac}" => "001565aabbcc",
                "{extension}" => "1001",
                "{name}" => "floor-2",
                p if p.starts_with('{') => "1",
                p => p,
            })
            .collect::<Vec<_>>()
            .join("/");
        let path = match def.mount {
            Mount::Api => format!("{API_PREFIX}{path}"),
            Mount::Root => path,
        };
        let endpoint = Endpoint::route(&def.method, &path);
        assert!(
            endpoint.as_ref().is_ok_and(|e| std::ptr::eq(e.def(), def)),
            "{} {path} does not reach its own row",
            def.method
        );
    }
}

#[test]
fn parameters_are_decoded_once_and_typed() {
    assert_eq!(
        Endpoint::parse(&Method::DELETE, "/tokens/ci%2541").unwrap(),
        Endpoint::RevokeToken {
            token: "ci%41".into()
        }
    );
    assert_eq!(
        Endpoint::parse(&Method::GET, "/devices/00%3A15%3A65%3Aaa%3Abb%3Acc").unwrap(),
        Endpoint::ShowDevice {
            mac: Mac::parse("001565aabbcc").unwrap()
        }
    );
    assert!(matches!(
        Endpoint::parse(&Method::GET, "/devices/nonsense"),
        Err(ApiError::BadRequest(_))
    ));
    assert!(matches!(
        Endpoint::parse(&Method::PUT, "/settings"),
        Err(ApiError::MethodNotAllowed(allowed)) if allowed == "GET, HEAD, PATCH"
    ));
    assert_eq!(
        Endpoint::parse(&Method::HEAD, "/settings").unwrap(),
        Endpoint::ShowSettings
    );
}

#[test]
fn root_endpoints_are_not_under_the_api_and_api_ones_not_at_the_root() {
    assert_eq!(
        Endpoint::route(&Method::GET, "/metrics").unwrap(),
        Endpoint::Metrics
    );
    assert!(matches!(
        Endpoint::route(&Method::GET, "/api/v1/metrics"),
        Err(ApiError::NotFound(_))
    ));
    assert!(matches!(
        Endpoint::route(&Method::GET, "/devices"),
        Err(ApiError::NotFound(_))
    ));
}
