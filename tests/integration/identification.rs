//! Identification against the real User-Agent strings collected in fixtures/user-agents.tsv.

use deskprov::identify::identify;

use crate::helpers::fixtures;

/// The kinds of source the file's header names.
const SOURCES: &[&str] = &["WZ", "FP", "Gigaset", "Snom", "GH", "variant"];

#[test]
fn every_collected_user_agent_is_identified() {
    let table = std::fs::read_to_string(fixtures().join("user-agents.tsv")).unwrap();
    let rows: Vec<&str> = table
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .collect();
    assert!(rows.len() >= 100, "only {} user agents", rows.len());
    for row in rows {
        let fields: Vec<&str> = row.splitn(6, '\t').collect();
        let [vendor, model, firmware, mac, source, user_agent] = fields[..] else {
            panic!("malformed row: {row:?}")
        };
        let kind = source.split_whitespace().next().unwrap_or_default();
        assert!(
            SOURCES.contains(&kind),
            "source of {user_agent}: {source:?}"
        );
        let expected = |s: &str| (s != "-").then(|| s.to_string());
        let id = identify(user_agent.as_bytes(), "");
        assert_eq!(id.vendor(), Some(vendor), "{user_agent}");
        assert_eq!(
            id.model().map(|m| m.to_string()),
            expected(model),
            "model of {user_agent}"
        );
        assert_eq!(
            id.firmware().map(str::to_string),
            expected(firmware),
            "firmware of {user_agent}"
        );
        assert_eq!(
            id.requester_mac().map(|m| m.to_hex()),
            expected(mac),
            "MAC of {user_agent}"
        );
    }
}

#[test]
fn file_names_identify_without_a_user_agent() {
    let cases = [
        ("001565aabbcc.cfg", "yealink"),
        ("0004f2aabbcc.cfg", "polycom"),
        ("0c383eaabbcc.cfg", "fanvil"),
        ("0004f2aabbcc-deskprov.cfg", "polycom"),
        ("8851-3PCC.xml", "cisco"),
        ("cisco-d0ec35aabbcc.xml", "cisco"),
        ("snomD785-000413AABBCC.htm", "snom"),
        ("cfg000b82aabbcc.xml", "grandstream"),
        ("7c2f80aabbcc.xml", "gigaset"),
        ("F0V00X300000.cfg", "fanvil"),
    ];
    for (name, vendor) in cases {
        assert_eq!(identify(b"", name).vendor(), Some(vendor), "{name}");
    }
    // {mac}.cfg of an unknown prefix: several vendors use the name, none can be chosen.
    assert_eq!(identify(b"", "123456aabbcc.cfg").vendor(), None);
}

#[test]
fn readme_lists_every_supported_model() {
    let readme =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
            .unwrap();
    let section = readme
        .split("## Supported phones")
        .nth(1)
        .unwrap()
        .split("\n## ")
        .next()
        .unwrap();
    for row in deskprov::models::all() {
        assert!(
            section.contains(row.model),
            "README does not list {} {}",
            row.vendor,
            row.model
        );
    }
}
